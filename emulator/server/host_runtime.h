/*
 * The reference host running on its own (`kmsload host`), around the server loop: the status
 * lines (at SIGUSR1 and at the end), every decided request passed to the metrics and the --log
 * and a refused client-clock step reported on stderr, --state saved every 5 s when the counts
 * changed and at the end, SIGINT/SIGTERM to stop, and the open-file limit fitted to
 * --max-connections. Messages go to stderr as "kmsload host: ...".
 */
#ifndef KMSLOAD_HOST_RUNTIME_H
#define KMSLOAD_HOST_RUNTIME_H

#include "host.h"
#include "host_log.h"
#include "host_metrics.h"
#include "host_server.h"
#include "host_settings.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct host_runtime {
    /* set by the caller */
    struct event_base *base;
    struct kms_host *host;
    struct host_server *server;
    const char *state_path;
    uint64_t saved_requests; /* host requests count at the last state save */
    struct host_log *log;
    uint64_t clock_warned_us;      /* when the last clock refusal was reported; 0: never */
    unsigned clock_refusals_since; /* refusals since that report */
    struct host_metrics *metrics;  /* --metrics: what /metrics shows */
};

/* The connections, the requests and each application's count. */
void host_runtime_print_status(FILE *f, struct host_runtime *rt);
/* The listeners, and the ePIDs the host answers with (per host key with host_keys). */
void host_runtime_print_banner(FILE *f, const struct host_runtime *rt,
                               const struct host_coverage *coverage, bool host_keys);
/* host_server_config.log: arg is the host_runtime. */
void host_runtime_on_request(const struct host_request_record *rec, const char *peer, void *arg);
/* Saves the counts when they changed. Returns 0 (saved or nothing to save) or -1 (said why). */
int host_runtime_save_state(struct host_runtime *rt);
/* Serves until SIGINT/SIGTERM, then prints the status and saves the state. Returns 0, or -1
 * when the final save failed (said). */
int host_runtime_dispatch(struct host_runtime *rt);
/* Raises the open-file limit for scfg->max_connections, or lowers that (saying so) when the
 * system will not allow enough. */
void host_fit_open_files(struct host_server_config *scfg);

#endif
