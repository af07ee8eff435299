/*
 * What a run will cost the target before anything is sent: requests, distinct synthetic CMIDs
 * per application (each stays in a host's count for 30 days after its last request), the peak
 * rate and the concurrency. Computed by playing the fleet's schedule against a genuine host that
 * counts nobody else (the most requests a run makes: a host that already counts machines lets
 * them activate sooner and retry less).
 */
#ifndef KMSLOAD_RUN_PLAN_H
#define KMSLOAD_RUN_PLAN_H

#include "catalog.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdint.h>

#define RUN_PLAN_MAX_APPS 8
/* Contacts played at most; beyond this the plan says "more than". */
#define RUN_PLAN_MAX_STEPS 20000000ULL

struct run_plan_app {
    const char *key; /* catalogue application key */
    uint64_t cmids;  /* distinct synthetic CMIDs sent */
};

struct run_plan {
    uint64_t machines;
    uint64_t requests;
    bool requests_more; /* the play stopped at RUN_PLAN_MAX_STEPS */
    struct run_plan_app apps[RUN_PLAN_MAX_APPS];
    size_t n_apps;
    uint64_t cmids; /* all applications */
    /* Real clock: the most contacts due in one second (capped by max_rate). Virtual clock: 0
     * (as fast as the host answers) unless max_rate caps it. */
    double peak_rate;
    unsigned concurrency;
};

/* Returns 0, or -1 with a message (the fleet could not be built). */
int run_plan_compute(const struct scenario *sc, const struct catalog *cat, unsigned shard_index,
                     unsigned shard_count, struct run_plan *plan, char *err, size_t err_len);

#endif
