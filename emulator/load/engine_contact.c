/*
 * One contact of a machine with the KMS hosts: its request, the attempt on each host of its
 * order (failover), and when the machine comes back.
 */
#include "engine_internal.h"

#include "host_choice.h"

#include <stdio.h>
#include <string.h>

void engine_build_request(struct engine *e, const struct machine *m, int64_t sim_us,
                          struct kms_request *req)
{
    const struct fleet_population *fp = &e->fleet.pops[m->population];
    const struct scenario_population *sp = fp->spec;
    memset(req, 0, sizeof *req);
    req->major = (uint16_t)fp->protocol;
    req->app_id = fp->app->id;
    req->kms_id = fp->kms->id;
    req->sku_id = fp->sku->id;
    req->cmid = m->cmid;
    req->n_policy = fp->n_policy;
    if (e->cfg->cap_n_policy && req->n_policy > fp->kms->n_policy)
        req->n_policy = fp->kms->n_policy;
    req->vm_info = (m->flags & MACHINE_VM) ? 1 : 0;
    /* What Windows reports: licensed with the remaining validity once activated, else its grace
     * state with the grace left (30 days from joining). */
    if (m->state == MACHINE_ACTIVATED && m->activated_us >= 0) {
        req->license_status = 1;
        int64_t left = m->activated_us + VALIDITY_US - sim_us;
        req->binding_expiration = left > 0 ? (uint32_t)(left / MINUTE_US) : 0;
    } else {
        req->license_status = sp->license_status;
        req->binding_expiration = 43200;
    }
    req->client_time =
        engine_virtual_clock(e) ? e->epoch_ft + (uint64_t)sim_us * 10 : engine_real_filetime();
    req->client_time += (uint64_t)(sp->clock_skew_us * 10); /* a machine whose clock is off */
    char name[64];
    /* A DNS-style name a person can map back to the machine; at most 63 characters. */
    snprintf(name, sizeof name, "%.32s-%06u.kmsload.test", sp->name, m->id);
    if (kms_request_set_workstation(req, name) != 0)
        kms_request_set_workstation(req, "kmsload.test");
}

static void on_contact_done(struct net_client *client, const struct client_session_result *res,
                            void *arg);

static void fail_attempt(struct contact *c, enum kms_outcome outcome, const char *detail)
{
    struct client_session_result res;
    memset(&res, 0, sizeof res);
    res.outcome = outcome;
    snprintf(res.err.detail, sizeof res.err.detail, "%s", detail);
    on_contact_done(NULL, &res, c);
}

/* Sends the contact's request to the host at its position in the order. */
static void send_attempt(struct engine *e, struct contact *c)
{
    struct machine *m = &e->fleet.machines[c->machine];
    c->host = (int)c->order[c->pos];
    const struct host_entry *he = &e->hosts->hosts[c->host];
    if (c->sim_us < he->up_from_us || c->sim_us >= he->up_until_us) {
        /* A scenario host before its start_at or after its stop_at: in virtual time the
         * embedded host cannot be switched off for some machines only, so the attempt is
         * refused here, as a connection to a host that is off would be. */
        pthread_mutex_lock(&e->shared->lock);
        model_sent(&e->model[c->host], e->fleet.pops[m->population].app_index, c->request.n_policy,
                   &c->ticket);
        pthread_mutex_unlock(&e->shared->lock);
        c->client = NULL;
        fail_attempt(c, KMS_OUTCOME_REFUSED,
                     c->sim_us < he->up_from_us ? "host not started yet (scenario start_at)"
                                                : "host switched off (scenario stop_at)");
        return;
    }
    pthread_mutex_lock(&e->shared->lock);
    model_sent(&e->model[c->host], e->fleet.pops[m->population].app_index, c->request.n_policy,
               &c->ticket);
    if (e->shared->sink && e->shared->sink->sent)
        e->shared->sink->sent(e->shared->sink->ctx);
    pthread_mutex_unlock(&e->shared->lock);
    uint8_t w_req[16];
    pcg32_fill(&e->rng, w_req, sizeof w_req);
    c->client = NULL;
    /* Pooled connections are shared by every population: they only differ in what the bind
     * offered, which the pool's first users decided. One host only: a pooled connection is
     * bound to its host. */
    while (e->sc->reuse_connections && e->hosts->n == 1 && !c->client && e->n_idle > 0) {
        struct net_client *idle = e->idle[--e->n_idle];
        if (net_client_send_next(idle, &c->request, w_req, on_contact_done, c) == 0)
            c->client = idle;
        else
            net_client_free(idle);
    }
    if (!c->client) {
        struct net_client_params params = e->params[m->population];
        params.addrs = &e->hosts->hosts[c->host].addrs;
        c->client = net_client_start(e->base, &params, &c->request, w_req, on_contact_done, c);
    }
    if (!c->client)
        fail_attempt(c, KMS_OUTCOME_REFUSED, "out of memory");
}

static void start_contact(struct engine *e, size_t machine_index, int64_t sim_us,
                          double intended_wall_s)
{
    struct contact *c = e->free_slots;
    e->free_slots = c->next_free;
    struct machine *m = &e->fleet.machines[machine_index];
    c->engine = e;
    c->machine = machine_index;
    c->sim_us = sim_us;
    c->intended_wall_s = intended_wall_s;
    if (m->state == MACHINE_WAITING) {
        m->state = MACHINE_GRACE;
        m->unactivated_since_us = sim_us;
    }
    engine_build_request(e, m, sim_us, &c->request);
    e->in_flight++;
    c->client = NULL;
    struct pcg32 choice;
    host_choice_stream(&choice, e->sc->seed, m->id, sim_us);
    c->n_order =
        host_choice_order(e->hosts, sim_us, m->host, e->pinned[m->population], &choice, c->order);
    c->pos = 0;
    c->host = HOST_NONE;
    if (c->n_order == 0) {
        /* Discovery found nothing: no record published and no cached host. A Windows client
         * logs 0xC004F074 (no KMS host could be contacted) and retries later. */
        fail_attempt(c, KMS_OUTCOME_REFUSED, "no KMS host published in DNS (_vlmcs._tcp)");
        return;
    }
    send_attempt(e, c);
}

void engine_fill_slots(struct engine *e)
{
    while (e->free_slots && e->pending_head < e->pending_tail) {
        double slot_s = 0;
        if (e->send_interval_s > 0) {
            /* max_rate: one request per interval; the rest wait for the rate timer. */
            double now = engine_wall_now(e);
            if (now < e->next_send_s) {
                if (!evtimer_pending(e->rate_timer, NULL)) {
                    double wait = e->next_send_s - now;
                    struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6)};
                    evtimer_add(e->rate_timer, &tv);
                }
                break;
            }
            slot_s = e->next_send_s;
            e->next_send_s = (e->next_send_s > now - e->send_interval_s ? e->next_send_s : now) +
                             e->send_interval_s;
        }
        uint32_t i = e->pending[e->pending_head++];
        const struct machine *m = &e->fleet.machines[i];
        /* Latency counts from when the request was due, or from its slot under max_rate (a cap
         * the user chose is not the host's slowness). */
        double intended = engine_virtual_clock(e) ? engine_wall_now(e) : (double)m->next_us / 1e6;
        if (!engine_virtual_clock(e) && slot_s > intended)
            intended = slot_s;
        start_contact(e, i, engine_virtual_clock(e) ? e->batch_us : engine_sim_now(e), intended);
    }
    if (e->pending_head == e->pending_tail)
        e->pending_head = e->pending_tail = 0;
}

/* max_rate: the next request's slot has come. */
void engine_on_rate_timer(evutil_socket_t fd, short what, void *arg)
{
    struct engine *e = arg;
    (void)fd, (void)what;
    engine_fill_slots(e);
    if (e->in_flight == 0 && e->pending_head == e->pending_tail) {
        if (engine_virtual_clock(e))
            event_active(e->kick, EV_TIMEOUT, 0);
        else if (e->stopping)
            engine_finish_run(e);
    }
}

static void schedule_next_contact(struct engine *e, struct machine *m, size_t index,
                                  const struct client_session_result *res, int64_t sim_us)
{
    unsigned pop = m->population;
    if (kms_outcome_has_count(res->outcome)) {
        /* Clients follow the intervals the host actually sent (§11). */
        if (res->response.activation_interval)
            e->activation_min[pop] = res->response.activation_interval;
        if (res->response.renewal_interval)
            e->renewal_min[pop] = res->response.renewal_interval;
    }
    int64_t next;
    if (res->outcome == KMS_OUTCOME_ACTIVATED) {
        m->state = MACHINE_ACTIVATED;
        m->activated_us = sim_us;
        if (m->unactivated_since_us >= 0) {
            engine_unactivated_stretch(e, m, sim_us, false);
            m->unactivated_since_us = -1;
        }
        next = sim_us + (int64_t)e->renewal_min[pop] * MINUTE_US;
    } else {
        if (m->state == MACHINE_ACTIVATED && sim_us - m->activated_us >= VALIDITY_US) {
            m->state = MACHINE_GRACE; /* validity ran out without a renewal */
            m->unactivated_since_us = m->activated_us + VALIDITY_US;
        }
        next = sim_us + (int64_t)e->activation_min[pop] * MINUTE_US;
    }
    if (next >= m->leave_us) {
        m->state = MACHINE_LEFT;
        return;
    }
    if (next <= e->sc->duration_us && !e->stopping)
        fleet_schedule(&e->fleet, index, next);
}

static void on_contact_done(struct net_client *client, const struct client_session_result *res,
                            void *arg)
{
    struct contact *c = arg;
    struct engine *e = c->engine;
    double now = engine_wall_now(e);
    double latency_s = now - c->intended_wall_s;
    bool failover = engine_record_event(e, c, res, latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0);
    struct machine *m = &e->fleet.machines[c->machine];
    if (failover) {
        /* Failover (spec §1): the host did not answer; drop it from the cache and try the next
         * host of the order within the same contact. */
        if (m->host == c->host)
            m->host = HOST_NONE;
        net_client_free(client);
        c->pos++;
        send_attempt(e, c);
        return;
    }
    if (res->outcome == KMS_OUTCOME_ACTIVATED && e->hosts->caching)
        m->host = (int8_t)c->host; /* host caching: stay with the host that activated us */
    else if (!kms_outcome_has_count(res->outcome))
        m->host = HOST_NONE; /* the cached host failed: discover again at the next contact */
    schedule_next_contact(e, m, c->machine, res, c->sim_us);
    bool reusable = res->outcome == KMS_OUTCOME_ACTIVATED ||
                    res->outcome == KMS_OUTCOME_BELOW_THRESHOLD ||
                    res->outcome == KMS_OUTCOME_HOST_ERROR;
    if (client && e->sc->reuse_connections && reusable && e->n_idle < e->concurrency)
        e->idle[e->n_idle++] = client;
    else
        net_client_free(client);
    c->client = NULL;
    c->next_free = e->free_slots;
    e->free_slots = c;
    e->in_flight--;
    engine_fill_slots(e);
    if (engine_virtual_clock(e)) {
        if (e->in_flight == 0 && e->pending_head == e->pending_tail)
            event_active(e->kick, EV_TIMEOUT, 0);
    } else if (e->stopping && e->in_flight == 0) {
        engine_finish_run(e);
    }
}
