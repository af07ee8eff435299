#include "engine.h"

#include "fleet.h"
#include "hresult.h"
#include "model.h"
#include "netclient.h"
#include "pcg32.h"
#include "progress.h"

#include "value_parse.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MINUTE_US 60000000LL
#define VALIDITY_US (180LL * 86400LL * 1000000LL) /* a KMS activation lasts 180 days */
#define DEFAULT_ACTIVATION_MIN 120
#define DEFAULT_RENEWAL_MIN 10080
/* After a stop (signal, target not answering, wall-clock limit), answers still in flight are
 * waited for this long, then abandoned: a stalled host must not hold the run for its timeouts. */
#define STOP_GRACE_S 1.0
/* How often the supervisor looks at signals and the wall clock. */
#define SUPERVISOR_PERIOD_NS 100000000L
/* The client-clock check's request time: more than the 4 hours a genuine host tolerates. */
#define CLOCK_CHECK_PAST_FT (5ULL * 3600ULL * 10000000ULL)

struct contact {
    struct engine *engine;
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

/*
 * What the worker threads share. Each thread runs its own event loop over its own part of the
 * fleet; the model (one per KMS host: each counts on its own), the records and the request
 * numbering are shared under one lock, and in virtual time every thread meets the others at each
 * tick.
 */
struct engine_shared {
    pthread_mutex_t lock;
    pthread_cond_t tick_cond;
    struct model *model; /* one per host */
    size_t n_models;
    struct host_set single; /* the one --target, when the config has no host set */
    const struct run_event_sink *sink;
    struct engine_outcome *out;
    struct engine *engines;
    unsigned n_threads;
    uint64_t seq;
    uint64_t requests, failures;        /* for the progress line */
    int64_t host_count[MODEL_MAX_APPS]; /* the count the host last returned; -1: none yet */
    unsigned waiting;                   /* tick barrier: threads arrived */
    uint64_t generation;
    int64_t round_min, agreed;
    unsigned active; /* threads still in their loop: the tick barrier waits for these */
    bool stop;       /* interrupted or stopping early: every thread winds down */
    bool abort;      /* stop now: answers still in flight are not waited for */
    bool finished;   /* every loop is over: the supervisor ends */
    double stop_at_s;
    /* Fail fast: contacts in a row that got no answer, and when the first of them was sent. */
    uint64_t consecutive_failures;
    double streak_start_s;
    double max_wall_s;
    const struct scenario *sc;
    bool handle_signals;
    pthread_t supervisor;
    pthread_cond_t supervisor_cond; /* wakes the supervisor when the loops are over */
    struct timespec started;
    uint64_t epoch_ft;
};

struct engine {
    struct engine_shared *shared;
    const struct host_set *hosts;
    int pinned[SCENARIO_MAX_POPULATIONS]; /* a population's fixed host (/skms), HOST_NONE: none */
    unsigned index;
    pthread_t thread;
    char setup_err[256];
    const struct engine_config *cfg;
    const struct scenario *sc;
    struct event_base *base;
    struct fleet fleet;
    struct model *model; /* one per host: model[host] */
    struct run_tally *tally;
    unsigned concurrency; /* this thread's share of the scenario's */
    struct net_client_params params[SCENARIO_MAX_POPULATIONS];
    unsigned activation_min[SCENARIO_MAX_POPULATIONS]; /* last intervals the host sent */
    unsigned renewal_min[SCENARIO_MAX_POPULATIONS];
    struct contact *slots;
    struct contact *free_slots;
    struct net_client **idle; /* reuse_connections: bound connections ready for a request */
    size_t n_idle;
    unsigned in_flight;
    uint32_t *pending; /* machines due, waiting for a free slot */
    size_t pending_head, pending_tail;
    int64_t batch_us;  /* virtual clock: the tick being worked on */
    uint64_t epoch_ft; /* FILETIME of simulated time 0 */
    struct timespec started;
    struct pcg32 rng; /* request IVs */
    int64_t sim_us;   /* simulated time this thread reached */
    size_t next_day;  /* several hosts: the next day whose host use is sampled */
    bool stopping;    /* no new contacts (end of run or signal) */
    struct event *kick, *tick_timer, *housekeeping, *rate_timer;
    double send_interval_s; /* max_rate: this thread's interval between requests; 0: no cap */
    double next_send_s;
    bool probe_done; /* the client-clock check got its answer */
    struct client_session_result probe;
    double last_progress_s;
    uint64_t last_progress_requests;
};

static double shared_wall_now(const struct engine_shared *sh)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const struct timespec *t0 = &sh->started;
    return (double)(ts.tv_sec - t0->tv_sec) + (ts.tv_nsec - t0->tv_nsec) / 1e9;
}

static double wall_now(const struct engine *e)
{
    return shared_wall_now(e->shared);
}

/* Marks the run as stopping (the first reason wins). Call with the lock held. Returns true when
 * this call stopped it: the caller then wakes the loops (outside the lock). */
static bool stop_locked(struct engine_shared *sh, enum engine_stop why, const char *reason)
{
    if (sh->stop)
        return false;
    sh->stop = true;
    sh->stop_at_s = shared_wall_now(sh);
    sh->out->interrupted = true;
    sh->out->stop = why;
    snprintf(sh->out->interrupt_reason, sizeof sh->out->interrupt_reason, "%s", reason);
    return true;
}

/* Wakes every loop to notice the stop; abort: breaks them now, leaving answers in flight. */
static void wake_all(struct engine_shared *sh, bool abort)
{
    for (unsigned i = 0; i < sh->n_threads; i++) {
        if (abort)
            event_base_loopbreak(sh->engines[i].base);
        else
            event_active(sh->engines[i].kick, EV_TIMEOUT, 0);
    }
}

static uint64_t real_filetime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

static bool virtual_clock(const struct engine *e)
{
    return e->sc->clock == SCENARIO_CLOCK_VIRTUAL;
}

/* Simulated time now: the current tick (virtual) or the wall time since the start (real). */
static int64_t sim_now(const struct engine *e)
{
    return virtual_clock(e) ? e->batch_us : (int64_t)(wall_now(e) * 1e6);
}

static void build_request(struct engine *e, const struct machine *m, int64_t sim_us,
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
    req->client_time = virtual_clock(e) ? e->epoch_ft + (uint64_t)sim_us * 10 : real_filetime();
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
    build_request(e, m, sim_us, &c->request);
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

static void fill_slots(struct engine *e)
{
    while (e->free_slots && e->pending_head < e->pending_tail) {
        double slot_s = 0;
        if (e->send_interval_s > 0) {
            /* max_rate: one request per interval; the rest wait for the rate timer. */
            double now = wall_now(e);
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
        double intended = virtual_clock(e) ? wall_now(e) : (double)m->next_us / 1e6;
        if (!virtual_clock(e) && slot_s > intended)
            intended = slot_s;
        start_contact(e, i, virtual_clock(e) ? e->batch_us : sim_now(e), intended);
    }
    if (e->pending_head == e->pending_tail)
        e->pending_head = e->pending_tail = 0;
}

/* Moves every machine due at or before t into the pending queue. */
static void collect_due(struct engine *e, int64_t t)
{
    long i;
    while ((i = fleet_pop_due(&e->fleet, t)) >= 0) {
        struct machine *m = &e->fleet.machines[i];
        if (m->leave_us <= m->next_us) {
            m->state = MACHINE_LEFT;
            continue;
        }
        e->pending[e->pending_tail++] = (uint32_t)i;
    }
}

static void finish_run(struct engine *e)
{
    event_base_loopbreak(e->base);
}

/*
 * Virtual time: every thread reports its earliest due contact and waits for the others; all
 * continue at the earliest of them, so the host never sees simulated time go backwards between
 * threads. Returns that time (SCENARIO_NEVER when the run is over or interrupted).
 */
static int64_t tick_barrier(struct engine *e, int64_t my_due)
{
    struct engine_shared *sh = e->shared;
    pthread_mutex_lock(&sh->lock);
    if (my_due < sh->round_min)
        sh->round_min = my_due;
    int64_t agreed;
    if (sh->abort) {
        agreed = SCENARIO_NEVER;
    } else if (++sh->waiting >= sh->active) {
        sh->agreed = sh->stop ? SCENARIO_NEVER : sh->round_min;
        sh->round_min = SCENARIO_NEVER;
        sh->waiting = 0;
        sh->generation++;
        pthread_cond_broadcast(&sh->tick_cond);
        agreed = sh->agreed;
    } else {
        /* An abort (second signal, stop grace over) releases every waiter: a thread whose loop
         * was broken never arrives, and nobody may wait for it. */
        uint64_t generation = sh->generation;
        while (generation == sh->generation && !sh->abort)
            pthread_cond_wait(&sh->tick_cond, &sh->lock);
        agreed = generation == sh->generation ? SCENARIO_NEVER : sh->agreed;
    }
    pthread_mutex_unlock(&sh->lock);
    return agreed;
}

/* Several hosts: at each simulated day boundary up to t, which host each machine caches. */
static void sample_days(struct engine *e, int64_t t)
{
    const int64_t day_us = 86400LL * 1000000LL;
    if (e->hosts->n < 2)
        return;
    while ((int64_t)e->next_day * day_us <= t && e->next_day < TALLY_MAX_DAYS) {
        unsigned machines[TALLY_MAX_HOSTS] = {0}, no_host = 0;
        for (size_t i = 0; i < e->fleet.n; i++) {
            const struct machine *m = &e->fleet.machines[i];
            if (m->state == MACHINE_WAITING || m->state == MACHINE_LEFT)
                continue;
            if (m->host >= 0 && m->host < TALLY_MAX_HOSTS)
                machines[m->host]++;
            else
                no_host++;
        }
        run_tally_day(e->tally, e->next_day, (int64_t)e->next_day * day_us, machines, no_host);
        e->next_day++;
    }
}

/* A thread whose loop ended leaves the barrier, so the others never wait for it. */
static void barrier_leave(struct engine_shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    if (sh->active > 0)
        sh->active--;
    if (sh->waiting > 0 && sh->waiting >= sh->active) {
        sh->agreed = SCENARIO_NEVER;
        sh->round_min = SCENARIO_NEVER;
        sh->waiting = 0;
        sh->generation++;
        pthread_cond_broadcast(&sh->tick_cond);
    }
    pthread_mutex_unlock(&sh->lock);
}

/* Virtual clock: when a tick's contacts are all answered, move to the next tick. */
static void advance_virtual(struct engine *e)
{
    if (e->in_flight > 0 || e->pending_head < e->pending_tail)
        return;
    int64_t due = e->stopping ? SCENARIO_NEVER : fleet_next_due(&e->fleet);
    due = tick_barrier(e, due);
    if (due == SCENARIO_NEVER || due > e->sc->duration_us) {
        if (due != SCENARIO_NEVER || !e->stopping) {
            e->sim_us = e->sc->duration_us;
            sample_days(e, e->sc->duration_us);
        }
        finish_run(e);
        return;
    }
    int64_t tick = e->sc->tick_us > 0 ? e->sc->tick_us : 1;
    int64_t t = (due + tick - 1) / tick * tick;
    if (t > e->sc->duration_us)
        t = e->sc->duration_us;
    sample_days(e, t - 1); /* the days that began before this tick's contacts */
    e->batch_us = t;
    e->sim_us = t;
    collect_due(e, t);
    fill_slots(e);
    if (e->in_flight == 0)
        event_active(e->kick, EV_TIMEOUT, 0); /* nothing of ours was due: on to the next tick */
}

/* Real clock: start what is due now and sleep until the next contact. */
static void advance_real(struct engine *e)
{
    if (e->shared->stop && !e->stopping) {
        e->stopping = true;
        e->pending_head = e->pending_tail = 0;
    }
    if (e->stopping) {
        if (e->in_flight == 0)
            finish_run(e);
        return;
    }
    int64_t now = sim_now(e);
    if (now >= e->sc->duration_us) {
        e->stopping = true;
        e->sim_us = e->sc->duration_us;
        e->pending_head = e->pending_tail = 0;
        if (e->in_flight == 0)
            finish_run(e);
        return;
    }
    e->sim_us = now;
    collect_due(e, now);
    fill_slots(e);
    int64_t due = fleet_next_due(&e->fleet);
    if (due == SCENARIO_NEVER && e->in_flight == 0 && e->pending_head == e->pending_tail) {
        e->sim_us = now;
        finish_run(e);
        return;
    }
    int64_t wake = due == SCENARIO_NEVER || due > e->sc->duration_us ? e->sc->duration_us : due;
    int64_t delay = wake - now;
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)(delay / 1000000), (suseconds_t)(delay % 1000000)};
    evtimer_add(e->tick_timer, &tv);
}

static void advance(struct engine *e)
{
    if (virtual_clock(e) && e->shared->stop && !e->stopping) {
        e->stopping = true;
        e->pending_head = e->pending_tail = 0;
    }
    if (virtual_clock(e))
        advance_virtual(e);
    else
        advance_real(e);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    advance(arg);
}

/* max_rate: the next request's slot has come. */
static void on_rate_timer(evutil_socket_t fd, short what, void *arg)
{
    struct engine *e = arg;
    (void)fd, (void)what;
    fill_slots(e);
    if (e->in_flight == 0 && e->pending_head == e->pending_tail) {
        if (virtual_clock(e))
            event_active(e->kick, EV_TIMEOUT, 0);
        else if (e->stopping)
            finish_run(e);
    }
}

/* A machine went unactivated from unactivated_since_us until t: keep the longest. */
static void unactivated_stretch(struct engine *e, const struct machine *m, int64_t t, bool open)
{
    int64_t stretch = t - m->unactivated_since_us;
    struct run_tally *tally = e->tally;
    if (stretch > tally->max_unactivated_us) {
        tally->max_unactivated_us = stretch;
        tally->max_unactivated_machine = m->id;
        tally->max_unactivated_open = open;
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
            unactivated_stretch(e, m, sim_us, false);
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

/* Contacts that got nothing back from the host (fail fast counts these). */
static bool no_answer(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_REFUSED || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

/* Fail fast: with the lock held, after a contact; returns true when it stopped the run. */
static bool check_no_answer_locked(struct engine *e, const struct contact *c,
                                   const struct client_session_result *res, double now)
{
    struct engine_shared *sh = e->shared;
    const struct scenario *sc = e->sc;
    if (!no_answer(res->outcome)) {
        sh->consecutive_failures = 0;
        return false;
    }
    /* Several hosts: an attempt the contact fails over from is not the target going silent
     * (the next host decides); only a contact that no host answered counts. */
    if (c->pos + 1 < c->n_order)
        return false;
    if (sh->consecutive_failures++ == 0)
        sh->streak_start_s = c->intended_wall_s < now ? c->intended_wall_s : now;
    double span = now - sh->streak_start_s;
    bool by_count = sc->stop_after_failures && sh->consecutive_failures >= sc->stop_after_failures;
    bool by_time = sc->stop_after_silence_us > 0 && sh->consecutive_failures >= 2 &&
                   span * 1e6 >= (double)sc->stop_after_silence_us;
    if (sh->stop || (!by_count && !by_time))
        return false;
    char reason[sizeof sh->out->interrupt_reason];
    snprintf(reason, sizeof reason,
             "target stopped answering: %llu contacts in a row got no answer over %.0f s (last: "
             "%s%s%.80s)",
             (unsigned long long)sh->consecutive_failures, span, kms_outcome_name(res->outcome),
             res->err.detail[0] ? ", " : "", res->err.detail);
    return stop_locked(sh, ENGINE_STOP_NO_ANSWER, reason);
}

/* Failures after which the host may still have counted the request: its answer was lost. */
static bool answer_lost(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_PROTOCOL_ERROR || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

static void record_event(struct engine *e, struct contact *c,
                         const struct client_session_result *res, uint64_t latency_us)
{
    const struct machine *m = &e->fleet.machines[c->machine];
    const struct fleet_population *fp = &e->fleet.pops[m->population];
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.wall_s = wall_now(e);
    ev.sim_us = c->sim_us;
    ev.client_time = c->request.client_time;
    ev.machine = m->id;
    ev.cmid = m->cmid;
    ev.app = (int)fp->app_index;
    ev.app_key = fp->app->key;
    ev.product_key = fp->sku->key;
    ev.population = fp->spec->name;
    ev.population_index = m->population;
    ev.protocol = c->request.major;
    ev.ndr = res->ndr;
    ev.n_policy = c->request.n_policy;
    ev.outcome = res->outcome;
    ev.hresult = res->hresult;
    ev.count = -1;
    ev.latency_us = latency_us;
    ev.host_index = c->host;
    ev.host = c->host >= 0 ? e->hosts->hosts[c->host].name : "";
    struct model *model = c->host >= 0 ? &e->model[c->host] : NULL;
    struct engine_shared *sh = e->shared;
    pthread_mutex_lock(&sh->lock);
    ev.seq = ++sh->seq;
    if (kms_outcome_has_count(res->outcome)) {
        struct model_verdict v;
        ev.count = res->response.count;
        if (fp->app_index < MODEL_MAX_APPS)
            sh->host_count[fp->app_index] = res->response.count;
        model_answered(model, &c->ticket, &m->cmid, c->request.n_policy, c->request.client_time,
                       res->response.count, &v);
        ev.model_checked = true;
        ev.expected_lo = v.expected_lo;
        ev.expected_hi = v.expected_hi;
        ev.model_agrees = v.agrees;
        snprintf(ev.model_reason, sizeof ev.model_reason, "%s", v.reason);
        snprintf(ev.epid, sizeof ev.epid, "%.71s", res->response.epid);
        if (res->response.major >= 6) {
            memcpy(ev.hwid, res->response.hwid, 8);
            ev.has_hwid = true;
        }
    } else if (model) {
        if (answer_lost(res->outcome))
            model_lost(model, &c->ticket, &m->cmid, c->request.n_policy, c->request.client_time);
        else
            model_failed(model, &c->ticket);
        snprintf(ev.detail, sizeof ev.detail, "%s", res->err.detail);
    } else {
        snprintf(ev.detail, sizeof ev.detail, "%s", res->err.detail);
    }
    if (res->outcome != KMS_OUTCOME_REFUSED && res->outcome != KMS_OUTCOME_TIMEOUT)
        sh->out->answered++;
    sh->requests++;
    if (!kms_outcome_has_count(res->outcome))
        sh->failures++;
    if (sh->sink && sh->sink->event)
        sh->sink->event(sh->sink->ctx, &ev);
    bool stopped = check_no_answer_locked(e, c, res, ev.wall_s);
    pthread_mutex_unlock(&sh->lock);
    run_tally_add(e->tally, &ev);
    if (stopped)
        wake_all(sh, false);
}

static void on_contact_done(struct net_client *client, const struct client_session_result *res,
                            void *arg)
{
    struct contact *c = arg;
    struct engine *e = c->engine;
    double now = wall_now(e);
    double latency_s = now - c->intended_wall_s;
    record_event(e, c, res, latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0);
    struct machine *m = &e->fleet.machines[c->machine];
    if (no_answer(res->outcome) && c->pos + 1 < c->n_order && !e->stopping && !e->shared->stop) {
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
    fill_slots(e);
    if (virtual_clock(e)) {
        if (e->in_flight == 0 && e->pending_head == e->pending_tail)
            event_active(e->kick, EV_TIMEOUT, 0);
    } else if (e->stopping && e->in_flight == 0) {
        finish_run(e);
    }
}

static void print_progress(struct engine *e, bool final)
{
    struct engine_shared *sh = e->shared;
    struct progress_snapshot snap = {.wall_s = wall_now(e),
                                     .virtual_clock = virtual_clock(e),
                                     .duration_us = e->sc->duration_us};
    pthread_mutex_lock(&sh->lock);
    snap.requests = sh->requests;
    snap.failures = sh->failures;
    snap.sim_us = e->sim_us;
    for (size_t a = 0; a < sh->model->n_apps && a < PROGRESS_MAX_APPS; a++) {
        snap.app_key[a] = e->cfg->catalog->apps[a].key;
        snap.host_count[a] = sh->host_count[a];
        snap.n_apps = a + 1;
    }
    pthread_mutex_unlock(&sh->lock);
    snap.rate = snap.wall_s > e->last_progress_s
                    ? (double)(snap.requests - e->last_progress_requests) /
                          (snap.wall_s - e->last_progress_s)
                    : 0;
    char line[400];
    progress_format(&snap, line, sizeof line);
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    e->last_progress_s = snap.wall_s;
    e->last_progress_requests = snap.requests;
}

static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct engine *e = arg;
    (void)fd, (void)what;
    if (e->shared->sink && e->shared->sink->flush) {
        pthread_mutex_lock(&e->shared->lock);
        e->shared->sink->flush(e->shared->sink->ctx);
        pthread_mutex_unlock(&e->shared->lock);
    }
    if (e->cfg->progress)
        print_progress(e, false);
}

/*
 * The supervisor: takes SIGINT/SIGTERM (blocked in every thread, so no loop has to be free to
 * see them), enforces the wall-clock limit and the grace after a stop. A first signal stops the
 * run and waits up to STOP_GRACE_S for answers in flight; a second one, or the grace running out,
 * breaks every loop and releases the tick barrier at once.
 */
static void *supervisor_thread(void *arg)
{
    struct engine_shared *sh = arg;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    for (;;) {
        int sig = -1;
        struct timespec period = {0, SUPERVISOR_PERIOD_NS};
        if (sh->handle_signals) {
            sig = sigtimedwait(&signals, NULL, &period);
        } else {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += SUPERVISOR_PERIOD_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_mutex_lock(&sh->lock);
            if (!sh->finished)
                pthread_cond_timedwait(&sh->supervisor_cond, &sh->lock, &until);
            pthread_mutex_unlock(&sh->lock);
        }
        double now = shared_wall_now(sh);
        bool wake = false, abort = false;
        pthread_mutex_lock(&sh->lock);
        if (sh->finished) {
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        const char *say = NULL;
        if (sig == SIGINT || sig == SIGTERM) {
            if (stop_locked(sh, ENGINE_STOP_SIGNAL, sig == SIGINT ? "SIGINT" : "SIGTERM")) {
                wake = true;
                say = "stopping… (answers in flight get up to 1 s; again to stop at once)";
            } else {
                abort = true;
                say = "stopping now";
            }
        }
        if (!sh->stop && now >= sh->max_wall_s) {
            char reason[sizeof sh->out->interrupt_reason], limit[32];
            value_format_duration((int64_t)(sh->max_wall_s * 1e6), limit, sizeof limit);
            snprintf(reason, sizeof reason,
                     "wall-clock limit of %s reached (max_wall; the target answered too slowly "
                     "for the scenario)",
                     limit);
            wake = stop_locked(sh, ENGINE_STOP_WALL_LIMIT, reason);
        }
        if (sh->stop && now - sh->stop_at_s >= STOP_GRACE_S)
            abort = true;
        if (abort && !sh->abort) {
            sh->abort = true;
            pthread_cond_broadcast(&sh->tick_cond);
        } else {
            abort = false;
        }
        pthread_mutex_unlock(&sh->lock);
        if (say) /* at once: the records are written after the loops have ended */
            fprintf(stderr, "%skmsload: %s %s\n", sh->engines[0].cfg->progress ? "\r\033[K" : "",
                    sig == SIGINT ? "SIGINT:" : "SIGTERM:", say);
        if (abort || wake)
            wake_all(sh, abort);
    }
    return NULL;
}

static void engine_free(struct engine *e)
{
    if (e->slots)
        for (unsigned i = 0; i < e->concurrency; i++)
            if (e->slots[i].client)
                net_client_free(e->slots[i].client);
    for (size_t i = 0; i < e->n_idle; i++)
        net_client_free(e->idle[i]); /* before the base they live on */
    struct event *events[] = {e->kick, e->tick_timer, e->housekeeping, e->rate_timer};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    if (e->base)
        event_base_free(e->base);
    free(e->idle);
    free(e->slots);
    free(e->pending);
    fleet_free(&e->fleet);
}

/* Builds one thread's part of the fleet, its slots and its event loop. */
static int engine_setup(struct engine *e, struct engine_shared *sh, unsigned index,
                        const struct engine_config *cfg, struct run_tally *tally)
{
    const struct scenario *sc = cfg->scenario;
    unsigned threads = sh->n_threads;
    e->shared = sh;
    e->index = index;
    e->cfg = cfg;
    e->sc = sc;
    e->tally = tally;
    e->model = sh->model;
    e->hosts = cfg->hosts ? cfg->hosts : &sh->single;
    for (size_t p = 0; p < SCENARIO_MAX_POPULATIONS; p++) {
        e->pinned[p] = HOST_NONE;
        if (p < sc->n_pops && sc->pops[p].kms_host[0]) {
            e->pinned[p] = host_set_find(e->hosts, sc->pops[p].kms_host);
            if (e->pinned[p] == HOST_NONE) {
                snprintf(e->setup_err, sizeof e->setup_err,
                         "population %s: kms_host \"%s\" is not one of the run's hosts",
                         sc->pops[p].name, sc->pops[p].kms_host);
                return -1;
            }
        }
    }
    e->concurrency = (sc->concurrency + threads - 1) / threads;
    /* Threads split a shard the way shards split a fleet: disjoint, and the same machines
     * whatever the thread count. */
    if (fleet_build(&e->fleet, sc, cfg->catalog, cfg->shard_index + cfg->shard_count * index,
                    cfg->shard_count * threads, e->setup_err, sizeof e->setup_err))
        return -1;
    e->slots = calloc(e->concurrency, sizeof *e->slots);
    e->idle = calloc(e->concurrency, sizeof *e->idle);
    e->pending = calloc(e->fleet.n ? e->fleet.n : 1, sizeof *e->pending);
    e->base = net_event_base_new();
    if (!e->slots || !e->idle || !e->pending || !e->base) {
        snprintf(e->setup_err, sizeof e->setup_err, "out of memory");
        return -1;
    }
    for (unsigned i = e->concurrency; i-- > 0;) {
        e->slots[i].next_free = e->free_slots;
        e->free_slots = &e->slots[i];
    }
    for (size_t p = 0; p < e->fleet.n_pops; p++) {
        struct net_client_params *np = &e->params[p];
        np->addrs = cfg->target;
        np->timeout.tv_sec = (time_t)(sc->timeout_us / 1000000);
        np->timeout.tv_usec = (suseconds_t)(sc->timeout_us % 1000000);
        client_session_options_default(&np->options);
        np->abortive_close = true;
        np->options.offer_ndr64 = sc->pops[p].ndr64;
        np->options.alter_context = sc->pops[p].alter_context;
        e->activation_min[p] = DEFAULT_ACTIVATION_MIN;
        e->renewal_min[p] = DEFAULT_RENEWAL_MIN;
        tally->pops[p].machines = e->fleet.pops[p].machines;
    }
    pcg32_seed(&e->rng, sc->seed, 0x49565321ULL + cfg->shard_index * 1024 + index);
    e->epoch_ft = sh->epoch_ft;
    e->kick = event_new(e->base, -1, 0, on_kick, e);
    e->tick_timer = evtimer_new(e->base, on_kick, e);
    e->rate_timer = evtimer_new(e->base, on_rate_timer, e);
    if (sc->max_rate > 0)
        e->send_interval_s = (double)threads / sc->max_rate;
    if (!e->kick || !e->tick_timer || !e->rate_timer) {
        snprintf(e->setup_err, sizeof e->setup_err, "out of memory");
        return -1;
    }
    if (index == 0) {
        /* The first thread flushes the records and prints progress. */
        e->housekeeping = event_new(e->base, -1, EV_PERSIST, on_housekeeping, e);
        struct timeval every = {0, 500000};
        if (!e->housekeeping || event_add(e->housekeeping, &every)) {
            snprintf(e->setup_err, sizeof e->setup_err, "out of memory");
            return -1;
        }
    }
    return 0;
}

static void *engine_thread(void *arg)
{
    struct engine *e = arg;
    event_active(e->kick, EV_TIMEOUT, 0);
    event_base_dispatch(e->base);
    barrier_leave(e->shared);
    return NULL;
}

static void on_clock_check_done(struct net_client *client, const struct client_session_result *res,
                                void *arg)
{
    struct contact *c = arg;
    struct engine *e = c->engine;
    double latency_s = wall_now(e) - c->intended_wall_s;
    record_event(e, c, res, latency_s > 0 ? (uint64_t)(latency_s * 1e6) : 0);
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
static int check_client_clock(struct engine *e, char *err, size_t err_len)
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
    c->intended_wall_s = wall_now(e);
    build_request(e, m, 0, &c->request);
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

int engine_run(const struct engine_config *cfg, struct run_tally *tally,
               const struct run_event_sink *sink, struct engine_outcome *out, char *err,
               size_t err_len)
{
    const struct scenario *sc = cfg->scenario;
    unsigned threads = cfg->threads ? cfg->threads : 1;
    memset(out, 0, sizeof *out);
    /* Loops are woken across threads (signals, the tick barrier's stop). */
    evthread_use_pthreads();
    struct engine_shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.tick_cond, NULL);
    pthread_cond_init(&sh.supervisor_cond, NULL);
    sh.n_threads = threads;
    sh.active = threads;
    sh.sc = sc;
    sh.handle_signals = cfg->handle_signals;
    sh.max_wall_s = (double)scenario_max_wall(sc) / 1e6;
    sh.sink = sink;
    sh.out = out;
    sh.round_min = SCENARIO_NEVER;
    sh.epoch_ft = real_filetime();
    for (size_t a = 0; a < MODEL_MAX_APPS; a++)
        sh.host_count[a] = -1;
    if (cfg->hosts) {
        sh.n_models = cfg->hosts->n;
    } else {
        /* One host: the --target or the embedded host. */
        sh.n_models = 1;
        snprintf(sh.single.hosts[0].name, sizeof sh.single.hosts[0].name, "target");
        if (cfg->target)
            sh.single.hosts[0].addrs = *cfg->target;
        sh.single.hosts[0].published_until_us = INT64_MAX;
        sh.single.hosts[0].up_until_us = INT64_MAX;
        sh.single.n = 1;
        sh.single.caching = true;
    }
    sh.model = sh.n_models ? calloc(sh.n_models, sizeof *sh.model) : NULL;
    sh.engines = calloc(threads, sizeof *sh.engines);
    struct run_tally **tallies = calloc(threads, sizeof *tallies);
    int rc = -1;
    bool models_ok = sh.model != NULL && sh.n_models <= HOST_SET_MAX;
    for (size_t h = 0; models_ok && h < sh.n_models; h++) {
        models_ok = model_init(&sh.model[h], cfg->catalog) == 0;
        if (models_ok) {
            /* live_host has no fixed offset. A shard sees only its own machines; a live host
             * also counts real machines that come (and CMIDs of earlier runs still counted):
             * both are judged from below. */
            sh.model[h].baseline = sc->baseline && !sc->live_host;
            sh.model[h].partial = cfg->shard_count > 1 || sc->live_host;
        }
    }
    if (!models_ok || !sh.engines || !tallies) {
        snprintf(err, err_len, "out of memory, no host, or too many applications in the catalogue");
        goto out;
    }
    tallies[0] = tally;
    for (unsigned t = 1; t < threads; t++) {
        tallies[t] = malloc(sizeof *tallies[t]);
        if (!tallies[t]) {
            snprintf(err, err_len, "out of memory");
            goto out;
        }
        run_tally_init(tallies[t], sc->n_pops);
    }
    /* Every host of the set in the tally (summary.json lists them with their schedule). */
    for (size_t h = 0; cfg->hosts && h < cfg->hosts->n; h++) {
        const struct host_entry *he = &cfg->hosts->hosts[h];
        for (unsigned t = 0; t < threads; t++)
            run_tally_name_host(tallies[t], h, he->name, he->published_from_us,
                                he->published_until_us == INT64_MAX ? -1 : he->published_until_us,
                                he->up_from_us,
                                he->up_until_us == INT64_MAX ? -1 : he->up_until_us);
    }
    for (unsigned t = 0; t < threads; t++)
        if (engine_setup(&sh.engines[t], &sh, t, cfg, tallies[t])) {
            snprintf(err, err_len, "%s", sh.engines[t].setup_err);
            goto out;
        }
    if (sh.model->partial) /* other shards' machines of every population lift the capacity too */
        for (size_t p = 0; p < sh.engines[0].fleet.n_pops; p++) {
            const struct fleet_population *fp = &sh.engines[0].fleet.pops[p];
            unsigned n = fp->n_policy;
            if (cfg->cap_n_policy && n > fp->kms->n_policy)
                n = fp->kms->n_policy;
            for (size_t h = 0; h < sh.n_models; h++)
                model_expect_n_policy(&sh.model[h], fp->app_index, n);
        }
    clock_gettime(CLOCK_MONOTONIC, &sh.started);
    /* Signals are taken by the supervisor: blocked here, so the threads started below inherit
     * the mask (the caller blocks them before starting any other thread, see engine.h). */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (cfg->handle_signals)
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
    if (pthread_create(&sh.supervisor, NULL, supervisor_thread, &sh) != 0) {
        snprintf(err, err_len, "cannot start the supervisor thread");
        goto out;
    }
    unsigned started = 1;
    bool stopped_already = false;
    if (cfg->check_client_clock && check_client_clock(&sh.engines[0], err, err_len) != 0) {
        started = 0;
        goto stop_supervisor;
    }
    pthread_mutex_lock(&sh.lock);
    stopped_already = sh.abort;
    pthread_mutex_unlock(&sh.lock);
    if (!stopped_already) {
        for (unsigned t = 1; t < threads; t++, started++)
            if (pthread_create(&sh.engines[t].thread, NULL, engine_thread, &sh.engines[t]) != 0)
                break;
        if (started < threads) {
            /* The barrier counts only the threads running: stop those. */
            pthread_mutex_lock(&sh.lock);
            sh.stop = true;
            sh.active = started;
            sh.n_threads = started;
            pthread_mutex_unlock(&sh.lock);
        }
        engine_thread(&sh.engines[0]);
        for (unsigned t = 1; t < started; t++)
            pthread_join(sh.engines[t].thread, NULL);
    }
stop_supervisor:
    pthread_mutex_lock(&sh.lock);
    sh.finished = true;
    pthread_cond_signal(&sh.supervisor_cond);
    pthread_mutex_unlock(&sh.lock);
    /* A supervisor in sigtimedwait wakes at the next signal: send it one (it sees finished). */
    if (cfg->handle_signals)
        pthread_kill(sh.supervisor, SIGTERM);
    pthread_join(sh.supervisor, NULL);
    if (started == 0)
        goto out;
    if (!stopped_already && started < threads) {
        snprintf(err, err_len, "cannot start %u engine threads", threads);
        goto out;
    }
    out->wall_seconds = wall_now(&sh.engines[0]);
    for (unsigned t = 0; t < threads; t++) {
        struct engine *e = &sh.engines[t];
        if (e->sim_us > out->sim_us)
            out->sim_us = e->sim_us;
        for (size_t i = 0; i < e->fleet.n; i++) {
            const struct machine *m = &e->fleet.machines[i];
            if (m->state == MACHINE_ACTIVATED)
                tallies[t]->pops[m->population].activated_machines++;
            if (m->activated_us >= 0)
                tallies[t]->pops[m->population].ever_activated_machines++;
            if (m->unactivated_since_us >= 0 && m->state != MACHINE_WAITING) {
                /* Still unactivated at the end of the run, or when it left. */
                int64_t end = m->leave_us < e->sim_us ? m->leave_us : e->sim_us;
                if (end > m->unactivated_since_us)
                    unactivated_stretch(e, m, end, m->state != MACHINE_LEFT);
            }
        }
        if (t > 0)
            run_tally_merge(tally, tallies[t]);
    }
    /* Interrupted on the virtual clock: the time reached is the last request's. (A thread that
     * was waiting at the tick barrier when the stop came does not know the run was cut short.) */
    if (out->interrupted && sc->clock == SCENARIO_CLOCK_VIRTUAL)
        out->sim_us = tally->requests ? tally->last_sim_us : 0;
    if (cfg->progress) {
        sh.engines[0].sim_us = out->sim_us;
        print_progress(&sh.engines[0], true);
    }
    rc = 0;
out:
    for (unsigned t = 0; sh.engines && t < threads; t++)
        engine_free(&sh.engines[t]);
    for (unsigned t = 1; tallies && t < threads; t++)
        free(tallies[t]);
    free(tallies);
    free(sh.engines);
    free(sh.model);
    pthread_cond_destroy(&sh.tick_cond);
    pthread_cond_destroy(&sh.supervisor_cond);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}
