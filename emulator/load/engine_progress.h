/*
 * The engine's live progress line on stderr: the recorder's counts, the time reached, the rate
 * since the previous line (progress.h formats it).
 */
#ifndef KMSLOAD_ENGINE_PROGRESS_H
#define KMSLOAD_ENGINE_PROGRESS_H

#include "catalog.h"
#include "engine_control.h"
#include "engine_recorder.h"

#include <stdbool.h>
#include <stdint.h>

struct progress_meter {
    struct recorder *recorder;
    const struct engine_control *control;
    const struct catalog *catalog;
    bool virtual_clock;
    int64_t duration_us;
    double last_s; /* the previous line */
    uint64_t last_requests;
};

/* Prints the line for simulated time sim_us; final: ends it with a newline. */
void progress_meter_print(struct progress_meter *pm, int64_t sim_us, bool final);

#endif
