/*
 * Before a virtual-clock run: does the target follow client time?
 */
#include "engine_internal.h"

#include "client_exchange.h"
#include "hresult.h"

#include <stdio.h>

/*
 * Does the target follow client time? One request of the run's first machine (its CMID is sent
 * anyway) carrying a time more than 4 hours in the past: a host that checks client time refuses
 * it with 0xC004F06C; a host that follows client time answers, and a past time never moves its
 * clock forward. The request is one of the run's: recorded, and known to the model.
 * Returns 0 (go on: it follows client time, or the answer did not tell; see out->notice), or -1
 * when the target checks client time.
 */
int engine_check_client_clock(struct engine *e, char *err, size_t err_len)
{
    struct engine_outcome *out = e->shared->out;
    if (e->fleet.heap_n == 0 || !e->free_slots) {
        snprintf(out->notice, sizeof out->notice,
                 "could not check whether the target follows client time (no machine to ask)");
        return 0;
    }
    struct contact *c = e->free_slots;
    e->free_slots = c->next_free;
    size_t index = e->fleet.heap[0];
    struct machine *m = &e->fleet.machines[index];
    c->engine = e;
    c->machine = index;
    c->sim_us = 0;
    c->intended_wall_s = engine_wall_now(e);
    engine_build_request(e, m, 0, &c->request);
    c->request.client_time = e->epoch_ft - CLOCK_CHECK_PAST_FT;
    /* Several hosts: the first one asks for all (they are set up alike, or the run says so). */
    c->host = 0;
    c->order[0] = 0;
    c->n_order = 1;
    c->pos = 0;
    pthread_mutex_lock(&e->shared->lock);
    model_sent(&e->model[0], e->fleet.pops[m->population].app_index, c->request.n_policy,
               &c->ticket);
    pthread_mutex_unlock(&e->shared->lock);
    e->in_flight++;
    struct net_client_params params = e->params[m->population];
    params.addrs = &e->hosts->hosts[0].addrs;
    struct client_outcome probe;
    int rc = client_exchange_on(e->base, &params, &c->request, &probe, err, err_len);
    e->in_flight--;
    if (rc == 0) {
        double latency_s = engine_wall_now(e) - c->intended_wall_s;
        engine_record_event(e, c, &probe.result, latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0);
    }
    c->next_free = e->free_slots;
    e->free_slots = c;
    if (rc)
        return rc < 0 ? -1 : 0; /* out of memory, or interrupted meanwhile */
    if (probe.result.outcome == KMS_OUTCOME_HOST_ERROR &&
        probe.result.hresult == HR_INVALID_TIMESTAMP) {
        out->target_checks_time = true;
        snprintf(err, err_len,
                 "the target checks client time: it refused a request dated 5 hours ago with "
                 "0xC004F06C, so it compares client times with its own clock and would refuse "
                 "the virtual clock's simulated days too. Run a real-clock scenario instead "
                 "(scenarios/real-host-smoke.ini, new-host-acceptance.ini or real-host-soak.ini), "
                 "or give --target-clock client if the host follows client time");
        return -1;
    }
    if (!kms_outcome_has_count(probe.result.outcome))
        snprintf(out->notice, sizeof out->notice,
                 "could not tell whether the target follows client time (the check request "
                 "ended %s%s%.80s); running on the virtual clock as the scenario says",
                 kms_outcome_name(probe.result.outcome), probe.result.err.detail[0] ? ": " : "",
                 probe.result.err.detail);
    return 0;
}
