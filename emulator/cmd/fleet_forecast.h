/*
 * `kmsload fleet ... --migrate-to KEYS`: writes DIR/migration.ini (the imported fleet between the
 * old host and a new one with KEYS, on a DNS timeline) and runs it in virtual time with the
 * embedded hosts (kmsload run), then answers in words: the day the new host reaches each
 * threshold, the machines the new keys refuse, the earliest day the old host can be switched off
 * with no machine left unactivated (a search over further runs), and the longest wait.
 */
#ifndef KMSLOAD_FLEET_FORECAST_H
#define KMSLOAD_FLEET_FORECAST_H

#include "estate_import.h"

#include <stdbool.h>
#include <stdint.h>

struct fleet_forecast_options {
    const char *new_keys;
    const char *old_keys; /* NULL: inferred from the log */
    int64_t publish_at_s, withdraw_old_at_s, switch_off_old_at_s;
    int64_t srv_ttl_s, replication_delay_s;
    bool quiet;
};

/* Returns 0, or -1 with a message (on stderr already). */
int fleet_forecast(const struct estate *e, const char *origin, const char *out_dir,
                   const struct fleet_forecast_options *o);

#endif
