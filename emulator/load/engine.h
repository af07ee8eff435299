/*
 * The load engine: drives a fleet against a target on a libevent loop, in simulated (virtual)
 * or real time, checks every answer against the model and hands each request to the tally and
 * the records.
 */
#ifndef KMSLOAD_ENGINE_H
#define KMSLOAD_ENGINE_H

#include "catalog.h"
#include "host_choice.h"
#include "net.h"
#include "recon.h"
#include "run_event.h"
#include "run_outcome.h"
#include "run_tally.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdint.h>

struct engine_config {
    const struct scenario *scenario;
    const struct catalog *catalog;
    const struct net_addrs *target; /* the one host, when hosts is NULL */
    const struct host_set *hosts;   /* several hosts (DNS or the scenario's); NULL: target */
    unsigned shard_index, shard_count;
    bool progress;     /* live progress line on stderr */
    bool cap_n_policy; /* not loopback: N_Policy never above the product's documented value */
    unsigned threads;  /* worker threads, each with its own event loop (0 or 1: one) */
    /* SIGINT/SIGTERM stop the run (a second one at once). The engine blocks both and takes them
     * with sigtimedwait; the caller blocks them before starting any other thread (an embedded
     * host), and they stay blocked after engine_run so the files can be written in peace. */
    bool handle_signals;
    /* Virtual clock (beyond 3 simulated hours) against a target that may check client time: ask
     * it first (one request of the run dated 5 h ago) and refuse to run when it does
     * (out->target_checks_time). */
    bool check_client_clock;
    /* What the reconnaissance found on the one target (NULL: none): the model starts there. */
    const struct recon *recon;
};

/*
 * Runs the scenario to its end, or until a signal, the target stops answering
 * (stop_after_failures/stop_after_silence) or the wall-clock limit (out->stop says which). tally
 * must be initialised for the scenario's populations; sink (optional) receives every request.
 * Returns 0, or -1 with a message when the run could not start.
 */
int engine_run(const struct engine_config *cfg, struct run_tally *tally,
               const struct run_event_sink *sink, struct engine_outcome *out, char *err,
               size_t err_len);

#endif
