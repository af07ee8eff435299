/*
 * One contact of a machine with the KMS hosts: its request, the attempt on each host of its
 * order (failover), the slot it holds and the connection it leaves behind.
 */
#include "engine_contact.h"

#include "client_exchange.h"
#include "pcg32.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct contact {
    struct contact_pool *pool;
    size_t machine;
    int64_t sim_us;         /* simulated time of the contact */
    double intended_wall_s; /* when it was due (latency is measured from here) */
    struct model_ticket ticket;
    struct kms_request request;
    /* The hosts this contact tries in turn (failover) and where it is in that order. */
    size_t order[HOST_SET_MAX];
    size_t n_order, pos;
    int host; /* the host of the attempt in flight, HOST_NONE when none could be chosen */
    struct net_client *client;
    struct contact *next_free;
};

struct contact_pool {
    struct contact_config cfg;
    int pinned[SCENARIO_MAX_POPULATIONS]; /* a population's fixed host (/skms), HOST_NONE: none */
    struct net_client_params params[SCENARIO_MAX_POPULATIONS];
    struct contact *slots;
    struct contact *free_slots;
    struct net_client **idle; /* reuse_connections: bound connections ready for a request */
    size_t n_idle;
    unsigned in_flight;
    struct pcg32 rng; /* request IVs */
    bool winding_down;
};

/* Each population's fixed host, by its kms_host name; -1 with a message when it is unknown. */
static int pin_hosts(struct contact_pool *cp, char *err, size_t err_len)
{
    const struct scenario *sc = cp->cfg.scenario;
    for (size_t p = 0; p < SCENARIO_MAX_POPULATIONS; p++) {
        cp->pinned[p] = HOST_NONE;
        if (p < sc->n_pops && sc->pops[p].kms_host[0]) {
            cp->pinned[p] = host_set_find(cp->cfg.hosts, sc->pops[p].kms_host);
            if (cp->pinned[p] == HOST_NONE) {
                snprintf(err, err_len,
                         "population %s: kms_host \"%s\" is not one of the run's hosts",
                         sc->pops[p].name, sc->pops[p].kms_host);
                return -1;
            }
        }
    }
    return 0;
}

/* Each population's connection settings. */
static void set_params(struct contact_pool *cp)
{
    const struct scenario *sc = cp->cfg.scenario;
    for (size_t p = 0; p < cp->cfg.fleet->n_pops; p++) {
        struct net_client_params *np = &cp->params[p];
        np->addrs = cp->cfg.target;
        np->timeout.tv_sec = (time_t)(sc->timeout_us / 1000000);
        np->timeout.tv_usec = (suseconds_t)(sc->timeout_us % 1000000);
        client_session_options_default(&np->options);
        np->abortive_close = true;
        np->options.offer_ndr64 = sc->pops[p].ndr64;
        np->options.alter_context = sc->pops[p].alter_context;
    }
}

struct contact_pool *contact_pool_new(const struct contact_config *cfg, char *err, size_t err_len)
{
    struct contact_pool *cp = calloc(1, sizeof *cp);
    if (cp) {
        cp->cfg = *cfg;
        cp->slots = calloc(cfg->slots ? cfg->slots : 1, sizeof *cp->slots);
        cp->idle = calloc(cfg->slots ? cfg->slots : 1, sizeof *cp->idle);
    }
    if (!cp || !cp->slots || !cp->idle) {
        snprintf(err, err_len, "out of memory");
        contact_pool_free(cp);
        return NULL;
    }
    if (pin_hosts(cp, err, err_len)) {
        contact_pool_free(cp);
        return NULL;
    }
    for (unsigned i = cfg->slots; i-- > 0;) {
        cp->slots[i].pool = cp;
        cp->slots[i].next_free = cp->free_slots;
        cp->free_slots = &cp->slots[i];
    }
    set_params(cp);
    pcg32_seed(&cp->rng, cfg->scenario->seed, cfg->rng_stream);
    return cp;
}

void contact_pool_free(struct contact_pool *cp)
{
    if (!cp)
        return;
    if (cp->slots)
        for (unsigned i = 0; i < cp->cfg.slots; i++)
            if (cp->slots[i].client)
                net_client_free(cp->slots[i].client);
    for (size_t i = 0; i < cp->n_idle; i++)
        net_client_free(cp->idle[i]);
    free(cp->idle);
    free(cp->slots);
    free(cp);
}

bool contact_slot_free(const struct contact_pool *cp)
{
    return cp->free_slots != NULL;
}

unsigned contact_in_flight(const struct contact_pool *cp)
{
    return cp->in_flight;
}

void contact_wind_down(struct contact_pool *cp)
{
    cp->winding_down = true;
}

static uint64_t real_filetime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

static void build_request(const struct contact_pool *cp, const struct machine *m, int64_t sim_us,
                          struct kms_request *req)
{
    const struct fleet_population *fp = &cp->cfg.fleet->pops[m->population];
    const struct scenario_population *sp = fp->spec;
    memset(req, 0, sizeof *req);
    req->major = (uint16_t)fp->protocol;
    req->app_id = fp->app->id;
    req->kms_id = fp->kms->id;
    req->sku_id = fp->sku->id;
    req->cmid = m->cmid;
    req->n_policy = fp->n_policy;
    if (cp->cfg.cap_n_policy && req->n_policy > fp->kms->n_policy)
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
        cp->cfg.virtual_clock ? cp->cfg.epoch_ft + (uint64_t)sim_us * 10 : real_filetime();
    req->client_time += (uint64_t)(sp->clock_skew_us * 10); /* a machine whose clock is off */
    char name[64];
    /* A DNS-style name a person can map back to the machine; at most 63 characters. */
    snprintf(name, sizeof name, "%.32s-%06u.kmsload.test", sp->name, m->id);
    if (kms_request_set_workstation(req, name) != 0)
        kms_request_set_workstation(req, "kmsload.test");
}

/* Takes a free slot for machine. */
static struct contact *take_slot(struct contact_pool *cp, size_t machine, int64_t sim_us,
                                 double intended_wall_s)
{
    struct contact *c = cp->free_slots;
    cp->free_slots = c->next_free;
    c->machine = machine;
    c->sim_us = sim_us;
    c->intended_wall_s = intended_wall_s;
    c->client = NULL;
    cp->in_flight++;
    return c;
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

/* The connection settings of machine's population, to host. */
static struct net_client_params host_params(const struct contact_pool *cp, size_t machine, int host)
{
    struct net_client_params params = cp->params[cp->cfg.fleet->machines[machine].population];
    params.addrs = &cp->cfg.hosts->hosts[host].addrs;
    return params;
}

/* A connection for the contact's request to its host: a pooled one, else a new one. */
static struct net_client *connect_attempt(struct contact_pool *cp, struct contact *c,
                                          const uint8_t *w_req)
{
    struct net_client *client = NULL;
    /* Pooled connections are shared by every population: they only differ in what the bind
     * offered, which the pool's first users decided. One host only: a pooled connection is
     * bound to its host. */
    while (cp->cfg.scenario->reuse_connections && cp->cfg.hosts->n == 1 && !client &&
           cp->n_idle > 0) {
        struct net_client *idle = cp->idle[--cp->n_idle];
        if (net_client_send_next(idle, &c->request, w_req, on_contact_done, c) == 0)
            client = idle;
        else
            net_client_free(idle);
    }
    if (!client) {
        struct net_client_params params =
            cp->params[cp->cfg.fleet->machines[c->machine].population];
        params.addrs = &cp->cfg.hosts->hosts[c->host].addrs;
        client = net_client_start(cp->cfg.base, &params, &c->request, w_req, on_contact_done, c);
    }
    return client;
}

/* Sends the contact's request to the host at its position in the order. */
static void send_attempt(struct contact_pool *cp, struct contact *c)
{
    const struct machine *m = &cp->cfg.fleet->machines[c->machine];
    size_t app = cp->cfg.fleet->pops[m->population].app_index;
    c->host = (int)c->order[c->pos];
    const struct host_entry *he = &cp->cfg.hosts->hosts[c->host];
    c->client = NULL;
    if (c->sim_us < he->up_from_us || c->sim_us >= he->up_until_us) {
        /* A scenario host before its start_at or after its stop_at: in virtual time the
         * embedded host cannot be switched off for some machines only, so the attempt is
         * refused here, as a connection to a host that is off would be. */
        recorder_sent(cp->cfg.recorder, c->host, app, c->request.n_policy, &c->ticket, false);
        fail_attempt(c, KMS_OUTCOME_REFUSED,
                     c->sim_us < he->up_from_us ? "host not started yet (scenario start_at)"
                                                : "host switched off (scenario stop_at)");
        return;
    }
    recorder_sent(cp->cfg.recorder, c->host, app, c->request.n_policy, &c->ticket, true);
    uint8_t w_req[16];
    pcg32_fill(&cp->rng, w_req, sizeof w_req);
    c->client = connect_attempt(cp, c, w_req);
    if (!c->client)
        fail_attempt(c, KMS_OUTCOME_LOCAL_ERROR, "out of memory");
}

void contact_start(struct contact_pool *cp, size_t machine, int64_t sim_us, double intended_wall_s)
{
    struct contact *c = take_slot(cp, machine, sim_us, intended_wall_s);
    const struct machine *m = &cp->cfg.fleet->machines[machine];
    build_request(cp, m, sim_us, &c->request);
    struct pcg32 choice;
    host_choice_stream(&choice, cp->cfg.scenario->seed, m->id, sim_us);
    c->n_order = host_choice_order(cp->cfg.hosts, sim_us, m->host, cp->pinned[m->population],
                                   &choice, c->order);
    c->pos = 0;
    c->host = HOST_NONE;
    if (c->n_order == 0) {
        /* Discovery found nothing: no record published and no cached host. A Windows client
         * logs 0xC004F074 (no KMS host could be contacted) and retries later. */
        fail_attempt(c, KMS_OUTCOME_DNS_ERROR, "no KMS host published in DNS (_vlmcs._tcp)");
        return;
    }
    send_attempt(cp, c);
}

/* The attempt's answer to the recorder. */
static void record_attempt(struct contact_pool *cp, struct contact *c,
                           const struct client_session_result *res, bool failover)
{
    const struct machine *m = &cp->cfg.fleet->machines[c->machine];
    double latency_s = control_wall_now(cp->cfg.control) - c->intended_wall_s;
    struct record_attempt a = {
        .machine = m,
        .pop = &cp->cfg.fleet->pops[m->population],
        .request = &c->request,
        .ticket = &c->ticket,
        .sim_us = c->sim_us,
        .host = c->host,
        .host_name = c->host >= 0 ? cp->cfg.hosts->hosts[c->host].name : "",
        .intended_wall_s = c->intended_wall_s,
        .latency_us = latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0,
        .more_hosts = c->pos + 1 < c->n_order,
        .failover = failover,
    };
    recorder_answer(cp->cfg.recorder, cp->cfg.tally, &a, res);
}

/* The contact's connection after its answer: kept for the next request, or closed. */
static void release_connection(struct contact_pool *cp, struct net_client *client,
                               enum kms_outcome outcome)
{
    bool reusable = outcome == KMS_OUTCOME_ACTIVATED || outcome == KMS_OUTCOME_BELOW_THRESHOLD ||
                    outcome == KMS_OUTCOME_HOST_ERROR;
    if (client && cp->cfg.scenario->reuse_connections && reusable && cp->n_idle < cp->cfg.slots)
        cp->idle[cp->n_idle++] = client;
    else
        net_client_free(client);
}

static void on_contact_done(struct net_client *client, const struct client_session_result *res,
                            void *arg)
{
    struct contact *c = arg;
    struct contact_pool *cp = c->pool;
    /* Decided once, so the record and the contact agree: the host did not answer and the
     * contact goes on to the next host of its order (spec §1). */
    bool failover = kms_outcome_no_answer(res->outcome) && c->pos + 1 < c->n_order &&
                    !cp->winding_down && !control_stopped(cp->cfg.control);
    record_attempt(cp, c, res, failover);
    struct machine *m = &cp->cfg.fleet->machines[c->machine];
    if (failover) {
        /* Failover (spec §1): the host did not answer; drop it from the cache and try the next
         * host of the order within the same contact. */
        if (m->host == c->host)
            m->host = HOST_NONE;
        net_client_free(client);
        c->pos++;
        send_attempt(cp, c);
        return;
    }
    if (res->outcome == KMS_OUTCOME_ACTIVATED && cp->cfg.hosts->caching)
        m->host = (int8_t)c->host; /* host caching: stay with the host that activated us */
    else if (!kms_outcome_has_count(res->outcome))
        m->host = HOST_NONE; /* the cached host failed: discover again at the next contact */
    const struct contact_hooks *hooks = &cp->cfg.hooks;
    hooks->answered(hooks->ctx, c->machine, c->sim_us, res);
    release_connection(cp, client, res->outcome);
    c->client = NULL;
    c->next_free = cp->free_slots;
    cp->free_slots = c;
    cp->in_flight--;
    hooks->slot_free(hooks->ctx);
}

int contact_exchange_dated(struct contact_pool *cp, size_t machine, uint64_t client_time,
                           struct client_session_result *res, char *err, size_t err_len)
{
    struct contact c = {.pool = cp, .machine = machine, .n_order = 1};
    const struct machine *m = &cp->cfg.fleet->machines[machine];
    c.intended_wall_s = control_wall_now(cp->cfg.control);
    build_request(cp, m, 0, &c.request);
    c.request.client_time = client_time;
    /* Several hosts: the first one asks for all (they are set up alike, or the run says so). */
    c.host = 0;
    recorder_sent(cp->cfg.recorder, 0, cp->cfg.fleet->pops[m->population].app_index,
                  c.request.n_policy, &c.ticket, false);
    struct net_client_params params = host_params(cp, machine, 0);
    struct client_outcome out;
    cp->in_flight++;
    int rc = client_exchange_on(cp->cfg.base, &params, &c.request, &out, err, err_len);
    cp->in_flight--;
    if (rc == 0) {
        record_attempt(cp, &c, &out.result, false);
        *res = out.result;
    }
    return rc;
}
