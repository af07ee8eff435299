/*
 * The live progress line of a run: how far (simulated or wall time done of the total, a
 * percentage and an ETA), how fast, and the counts the host itself last returned per application
 * (not the model's). Pure formatting of a snapshot the engine takes under its lock.
 */
#ifndef KMSLOAD_PROGRESS_H
#define KMSLOAD_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_MAX_APPS 8

struct progress_snapshot {
    double wall_s; /* wall time since the start */
    bool virtual_clock;
    int64_t sim_us, duration_us; /* time reached and the scenario's length */
    uint64_t requests, failures;
    double rate; /* requests per wall second since the previous line */
    size_t n_apps;
    const char *app_key[PROGRESS_MAX_APPS];
    int64_t host_count[PROGRESS_MAX_APPS]; /* last count the host returned; -1: none yet */
};

/*
 * One line without the carriage return, e.g.
 *   "42%  sim day 25.3 of 60  ETA 1s  2493 requests  7597/s  0 errors  host counts: windows 30"
 * Returns the length written (truncated to cap - 1).
 */
size_t progress_format(const struct progress_snapshot *s, char *buf, size_t cap);

/* A wall-clock duration as a person reads it: "45s", "3m05s", "1h02m", "2d03h". */
void progress_format_eta(double seconds, char *buf, size_t cap);

#endif
