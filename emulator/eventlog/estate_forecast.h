/*
 * `kmsload fleet ... --migrate-to KEYS`: writes DIR/migration.ini (the imported fleet between the
 * old host and a new one with KEYS, on a DNS timeline) and has it run in virtual time with the
 * embedded hosts (through the caller's run function: kmsload run lives above this library), then
 * answers in words from the runs' summary.json: the day the new host reaches each
 * threshold, the machines the new keys refuse, the earliest day the old host can be switched off
 * with no machine left unactivated (a search over further runs), and the longest wait.
 */
#ifndef KMSLOAD_ESTATE_FORECAST_H
#define KMSLOAD_ESTATE_FORECAST_H

#include "estate_import.h"

#include <stdbool.h>
#include <stdint.h>

/* Runs the scenario file ini into run_dir (`kmsload run INI --out RUN_DIR --quiet --yes`, with
 * --no-report unless report). Returns 0 when the run finished, passed or failed (its
 * summary.json written), -1 otherwise (stderr says why). */
typedef int (*estate_forecast_run_fn)(const char *ini, const char *run_dir, bool report, void *arg);

struct estate_forecast_options {
    const char *new_keys;
    const char *old_keys; /* NULL: inferred from the log */
    int64_t publish_at_s, withdraw_old_at_s, switch_off_old_at_s;
    int64_t srv_ttl_s, replication_delay_s;
    bool quiet;
    estate_forecast_run_fn run;
    void *run_arg;
};

/* Returns 0, or -1 with a message (on stderr already). */
int estate_forecast(const struct estate *e, const char *origin, const char *out_dir,
                    const struct estate_forecast_options *o);

#endif
