/*
 * Before a virtual-clock run: does the target follow client time?
 */
#include "engine_internal.h"

#include "hresult.h"

#include <stdio.h>

static void on_clock_check_done(struct net_client *client, const struct client_session_result *res,
                                void *arg)
{
    struct contact *c = arg;
    struct engine *e = c->engine;
    double latency_s = engine_wall_now(e) - c->intended_wall_s;
    engine_record_event(e, c, res, latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0);
    e->probe = *res;
    e->probe_done = true;
    net_client_free(client);
    c->client = NULL;
    c->next_free = e->free_slots;
    e->free_slots = c;
    e->in_flight--;
    event_base_loopbreak(e->base);
}

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
    uint8_t w_req[16];
    pcg32_fill(&e->rng, w_req, sizeof w_req);
    e->in_flight++;
    struct net_client_params params = e->params[m->population];
    params.addrs = &e->hosts->hosts[0].addrs;
    c->client = net_client_start(e->base, &params, &c->request, w_req, on_clock_check_done, c);
    if (!c->client) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    event_base_dispatch(e->base);
    if (!e->probe_done)
        return 0; /* interrupted meanwhile */
    if (e->probe.outcome == KMS_OUTCOME_HOST_ERROR && e->probe.hresult == HR_INVALID_TIMESTAMP) {
        out->target_checks_time = true;
        snprintf(err, err_len,
                 "the target checks client time: it refused a request dated 5 hours ago with "
                 "0xC004F06C, so it compares client times with its own clock and would refuse "
                 "the virtual clock's simulated days too. Run a real-clock scenario instead "
                 "(scenarios/real-host-smoke.ini, new-host-acceptance.ini or real-host-soak.ini), "
                 "or give --target-clock client if the host follows client time");
        return -1;
    }
    if (!kms_outcome_has_count(e->probe.outcome))
        snprintf(out->notice, sizeof out->notice,
                 "could not tell whether the target follows client time (the check request "
                 "ended %s%s%.80s); running on the virtual clock as the scenario says",
                 kms_outcome_name(e->probe.outcome), e->probe.err.detail[0] ? ": " : "",
                 e->probe.err.detail);
    return 0;
}
