/*
 * The progress line on stderr.
 */
#include "engine_progress.h"

#include "progress.h"

#include <stdio.h>

void progress_meter_print(struct progress_meter *pm, int64_t sim_us, bool final)
{
    struct progress_snapshot snap = {.wall_s = control_wall_now(pm->control),
                                     .virtual_clock = pm->virtual_clock,
                                     .duration_us = pm->duration_us,
                                     .sim_us = sim_us};
    struct recorder_counts counts;
    recorder_counts(pm->recorder, &counts);
    snap.requests = counts.requests;
    snap.failures = counts.failures;
    for (size_t a = 0; a < counts.n_apps && a < PROGRESS_MAX_APPS; a++) {
        snap.app_key[a] = pm->catalog->apps[a].key;
        snap.host_count[a] = counts.host_count[a];
        snap.n_apps = a + 1;
    }
    snap.rate = snap.wall_s > pm->last_s
                    ? (double)(snap.requests - pm->last_requests) / (snap.wall_s - pm->last_s)
                    : 0;
    char line[400];
    progress_format(&snap, line, sizeof line);
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    pm->last_s = snap.wall_s;
    pm->last_requests = snap.requests;
}
