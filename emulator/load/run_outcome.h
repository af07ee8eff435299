/* How a run as a whole ended (interrupted or not, time reached): read by the run directory, the
 * Markdown summary and merge without needing the engine. */
#ifndef KMSLOAD_RUN_OUTCOME_H
#define KMSLOAD_RUN_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

struct engine_outcome {
    bool interrupted;
    char interrupt_reason[64];
    double wall_seconds;
    int64_t sim_us;    /* simulated time reached */
    uint64_t answered; /* requests the host answered at the KMS or RPC level */
};

#endif
