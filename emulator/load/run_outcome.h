/* How a run as a whole ended (interrupted or not, time reached): read by the run directory, the
 * Markdown summary and merge without needing the engine. */
#ifndef KMSLOAD_RUN_OUTCOME_H
#define KMSLOAD_RUN_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

/* Why a run ended before its end: a signal, or it stopped itself (exit status 3). */
enum engine_stop {
    ENGINE_STOP_NONE,
    ENGINE_STOP_SIGNAL,     /* SIGINT or SIGTERM */
    ENGINE_STOP_NO_ANSWER,  /* the target stopped answering (stop_after_failures/_silence) */
    ENGINE_STOP_WALL_LIMIT, /* the wall-clock limit (max_wall) was reached */
};

struct engine_outcome {
    bool interrupted; /* ended before its end, for any reason of enum engine_stop */
    enum engine_stop stop;
    char interrupt_reason[200]; /* "SIGINT", "SIGTERM", or the one-line reason it stopped */
    double wall_seconds;
    int64_t sim_us;    /* simulated time reached */
    uint64_t answered; /* requests the host answered at the KMS or RPC level */
    /* The client-clock check (engine_config.check_client_clock): the target refused a time more
     * than 4 h in the past, so it checks client times and the run did not start. */
    bool target_checks_time;
    char notice[256]; /* something the user should read (the clock check was inconclusive) */
};

#endif
