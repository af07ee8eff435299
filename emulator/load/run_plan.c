#include "run_plan.h"

#include "client_cache.h"
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_US 60000000LL

int run_plan_compute(const struct scenario *sc, const struct catalog *cat, unsigned shard_index,
                     unsigned shard_count, struct run_plan *plan, char *err, size_t err_len)
{
    memset(plan, 0, sizeof *plan);
    plan->concurrency = sc->concurrency;
    struct fleet f;
    if (fleet_build(&f, sc, cat, shard_index, shard_count, err, err_len))
        return -1;
    size_t n_apps = cat->n_apps < RUN_PLAN_MAX_APPS ? cat->n_apps : RUN_PLAN_MAX_APPS;
    struct client_cache *caches = calloc(n_apps ? n_apps : 1, sizeof *caches);
    if (!caches) {
        fleet_free(&f);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t a = 0; a < n_apps; a++) {
        client_cache_init(&caches[a], cat->apps[a].threshold);
        plan->apps[a].key = cat->apps[a].key;
    }
    plan->n_apps = n_apps;
    plan->machines = f.n;
    int64_t activation = (int64_t)sc->host_activation_interval * MINUTE_US;
    int64_t renewal = (int64_t)sc->host_renewal_interval * MINUTE_US;
    int64_t second = -1;
    uint64_t in_second = 0, peak = 0;
    long i;
    while ((i = fleet_pop_due(&f, sc->duration_us)) >= 0) {
        struct machine *m = &f.machines[i];
        if (m->leave_us <= m->next_us)
            continue;
        if (plan->requests == RUN_PLAN_MAX_STEPS) {
            plan->requests_more = true;
            break;
        }
        int64_t t = m->next_us;
        const struct fleet_population *fp = &f.pops[m->population];
        plan->requests++;
        if (t / 1000000 != second) {
            second = t / 1000000;
            in_second = 0;
        }
        if (++in_second > peak)
            peak = in_second;
        if (m->state == MACHINE_WAITING) {
            m->state = MACHINE_GRACE;
            if (!(m->flags & MACHINE_CLONE) && fp->app_index < n_apps)
                plan->apps[fp->app_index].cmids++;
        }
        unsigned count = 0;
        if (fp->app_index < n_apps)
            count = client_cache_touch(&caches[fp->app_index], &m->cmid, fp->n_policy,
                                       (uint64_t)t * 10);
        int64_t next = t + (count >= fp->n_policy ? renewal : activation);
        if (next < m->leave_us && next <= sc->duration_us)
            fleet_schedule(&f, (size_t)i, next);
    }
    for (size_t a = 0; a < n_apps; a++)
        plan->cmids += plan->apps[a].cmids;
    if (sc->clock == SCENARIO_CLOCK_REAL)
        plan->peak_rate = (double)peak;
    if (sc->max_rate > 0 && (plan->peak_rate == 0 || plan->peak_rate > sc->max_rate))
        plan->peak_rate = sc->max_rate;
    free(caches);
    fleet_free(&f);
    return 0;
}
