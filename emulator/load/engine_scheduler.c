/*
 * Moving one thread through time: the queue of due machines, virtual ticks and real-clock
 * wake-ups, max_rate, and each machine's next contact.
 */
#include "engine_scheduler.h"

#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_ACTIVATION_MIN 120
#define DEFAULT_RENEWAL_MIN 10080

struct scheduler {
    struct scheduler_config cfg;
    struct contact_pool *contacts;
    bool virtual_clock;
    unsigned activation_min[SCENARIO_MAX_POPULATIONS]; /* last intervals the host sent */
    unsigned renewal_min[SCENARIO_MAX_POPULATIONS];
    uint32_t *pending; /* machines due, waiting for a free slot */
    size_t pending_head, pending_tail;
    int64_t batch_us; /* virtual clock: the tick being worked on */
    int64_t sim_us;   /* simulated time reached */
    size_t next_day;  /* several hosts: the next day whose host use is sampled */
    bool stopping;    /* no new contacts (end of run or stop) */
    struct event *kick, *tick_timer, *rate_timer;
    double next_send_s; /* max_rate: the next request's slot */
};

static void on_kick(evutil_socket_t fd, short what, void *arg);
static void on_rate_timer(evutil_socket_t fd, short what, void *arg);
static void on_answered(void *ctx, size_t machine, int64_t sim_us,
                        const struct client_session_result *res);
static void on_slot_free(void *ctx);

struct scheduler *scheduler_new(const struct scheduler_config *cfg,
                                const struct contact_config *contacts, char *err, size_t err_len)
{
    struct scheduler *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->virtual_clock = cfg->scenario->clock == SCENARIO_CLOCK_VIRTUAL;
    struct contact_config cc = *contacts;
    cc.hooks = (struct contact_hooks){on_answered, on_slot_free, s};
    s->contacts = contact_pool_new(&cc, err, err_len);
    if (!s->contacts) {
        free(s);
        return NULL;
    }
    for (size_t p = 0; p < SCENARIO_MAX_POPULATIONS; p++) {
        s->activation_min[p] = DEFAULT_ACTIVATION_MIN;
        s->renewal_min[p] = DEFAULT_RENEWAL_MIN;
    }
    s->pending = calloc(cfg->fleet->n ? cfg->fleet->n : 1, sizeof *s->pending);
    s->kick = event_new(cfg->base, -1, 0, on_kick, s);
    s->tick_timer = evtimer_new(cfg->base, on_kick, s);
    s->rate_timer = evtimer_new(cfg->base, on_rate_timer, s);
    if (!s->pending || !s->kick || !s->tick_timer || !s->rate_timer) {
        snprintf(err, err_len, "out of memory");
        scheduler_free(s);
        return NULL;
    }
    return s;
}

void scheduler_free(struct scheduler *s)
{
    if (!s)
        return;
    contact_pool_free(s->contacts);
    struct event *events[] = {s->kick, s->tick_timer, s->rate_timer};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    free(s->pending);
    free(s);
}

struct contact_pool *scheduler_contacts(struct scheduler *s)
{
    return s->contacts;
}

struct event *scheduler_waker(struct scheduler *s)
{
    return s->kick;
}

void scheduler_start(struct scheduler *s)
{
    event_active(s->kick, EV_TIMEOUT, 0);
}

int64_t scheduler_reached(const struct scheduler *s)
{
    return s->sim_us;
}

static double wall_now(const struct scheduler *s)
{
    return control_wall_now(s->cfg.control);
}

/* Simulated time now: the current tick (virtual) or the wall time since the start (real). */
static int64_t sim_now(const struct scheduler *s)
{
    return s->virtual_clock ? s->batch_us : (int64_t)(wall_now(s) * 1e6);
}

static bool queue_empty(const struct scheduler *s)
{
    return s->pending_head == s->pending_tail;
}

static void finish_loop(struct scheduler *s)
{
    event_base_loopbreak(s->cfg.base);
}

/* No new contacts from here on: the run ends or was stopped. */
static void stop_new_contacts(struct scheduler *s)
{
    s->stopping = true;
    s->pending_head = s->pending_tail = 0;
    contact_wind_down(s->contacts);
}

/* A machine went unactivated from unactivated_since_us until t: keep the longest. */
static void unactivated_stretch(struct scheduler *s, const struct machine *m, int64_t t, bool open)
{
    int64_t stretch = t - m->unactivated_since_us;
    struct run_tally *tally = s->cfg.tally;
    if (stretch > tally->max_unactivated_us) {
        tally->max_unactivated_us = stretch;
        tally->max_unactivated_machine = m->id;
        tally->max_unactivated_open = open;
    }
}

/* Moves every machine due at or before t into the pending queue. */
static void collect_due(struct scheduler *s, int64_t t)
{
    long i;
    while ((i = fleet_pop_due(s->cfg.fleet, t)) >= 0) {
        struct machine *m = &s->cfg.fleet->machines[i];
        if (m->leave_us <= m->next_us) {
            m->state = MACHINE_LEFT;
            continue;
        }
        s->pending[s->pending_tail++] = (uint32_t)i;
    }
}

/* max_rate: true when the next request may go now (*slot_s: its slot); else arms the rate
 * timer. */
static bool rate_allows(struct scheduler *s, double *slot_s)
{
    double interval = s->cfg.send_interval_s;
    *slot_s = 0;
    if (interval <= 0)
        return true;
    double now = wall_now(s);
    if (now < s->next_send_s) {
        if (!evtimer_pending(s->rate_timer, NULL)) {
            double wait = s->next_send_s - now;
            struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6)};
            evtimer_add(s->rate_timer, &tv);
        }
        return false;
    }
    *slot_s = s->next_send_s;
    s->next_send_s = (s->next_send_s > now - interval ? s->next_send_s : now) + interval;
    return true;
}

/* Starts contacts for pending machines while slots are free (and max_rate allows). */
static void fill_slots(struct scheduler *s)
{
    while (contact_slot_free(s->contacts) && !queue_empty(s)) {
        double slot_s;
        if (!rate_allows(s, &slot_s))
            break;
        uint32_t i = s->pending[s->pending_head++];
        struct machine *m = &s->cfg.fleet->machines[i];
        /* Latency counts from when the request was due, or from its slot under max_rate (a cap
         * the user chose is not the host's slowness). */
        double intended = s->virtual_clock ? wall_now(s) : (double)m->next_us / 1e6;
        if (!s->virtual_clock && slot_s > intended)
            intended = slot_s;
        int64_t sim_us = s->virtual_clock ? s->batch_us : sim_now(s);
        if (m->state == MACHINE_WAITING) {
            m->state = MACHINE_GRACE;
            m->unactivated_since_us = sim_us;
        }
        contact_start(s->contacts, i, sim_us, intended);
    }
    if (queue_empty(s))
        s->pending_head = s->pending_tail = 0;
}

/* Several hosts: at each simulated day boundary up to t, which host each machine caches. */
static void sample_days(struct scheduler *s, int64_t t)
{
    const int64_t day_us = 86400LL * 1000000LL;
    const struct fleet *f = s->cfg.fleet;
    if (s->cfg.n_hosts < 2)
        return;
    while ((int64_t)s->next_day * day_us <= t && s->next_day < TALLY_MAX_DAYS) {
        unsigned machines[TALLY_MAX_HOSTS] = {0}, no_host = 0;
        for (size_t i = 0; i < f->n; i++) {
            const struct machine *m = &f->machines[i];
            if (m->state == MACHINE_WAITING || m->state == MACHINE_LEFT)
                continue;
            if (m->host >= 0 && m->host < TALLY_MAX_HOSTS)
                machines[m->host]++;
            else
                no_host++;
        }
        run_tally_day(s->cfg.tally, s->next_day, (int64_t)s->next_day * day_us, machines, no_host);
        s->next_day++;
    }
}

/* Virtual clock: when a tick's contacts are all answered, move to the next tick. */
static void advance_virtual(struct scheduler *s)
{
    const struct scenario *sc = s->cfg.scenario;
    if (contact_in_flight(s->contacts) > 0 || !queue_empty(s))
        return;
    int64_t due = s->stopping ? SCENARIO_NEVER : fleet_next_due(s->cfg.fleet);
    /* This loop's tick is done: the next loop may send its own (the same order every run). */
    control_pass_turn(s->cfg.control, s->cfg.loop);
    due = control_barrier(s->cfg.control, due);
    if (due == SCENARIO_NEVER || due > sc->duration_us) {
        if (due != SCENARIO_NEVER || !s->stopping) {
            s->sim_us = sc->duration_us;
            sample_days(s, sc->duration_us);
        }
        finish_loop(s);
        return;
    }
    int64_t tick = sc->tick_us > 0 ? sc->tick_us : 1;
    int64_t t = (due + tick - 1) / tick * tick;
    if (t > sc->duration_us)
        t = sc->duration_us;
    sample_days(s, t - 1); /* the days that began before this tick's contacts */
    s->batch_us = t;
    s->sim_us = t;
    control_wait_turn(s->cfg.control, s->cfg.loop);
    collect_due(s, t);
    fill_slots(s);
    if (contact_in_flight(s->contacts) == 0)
        event_active(s->kick, EV_TIMEOUT, 0); /* nothing of ours was due: on to the next tick */
}

/* Real clock: start what is due now and sleep until the next contact. */
static void advance_real(struct scheduler *s)
{
    const struct scenario *sc = s->cfg.scenario;
    if (control_stopped(s->cfg.control) && !s->stopping)
        stop_new_contacts(s);
    if (s->stopping) {
        if (contact_in_flight(s->contacts) == 0)
            finish_loop(s);
        return;
    }
    int64_t now = sim_now(s);
    if (now >= sc->duration_us) {
        stop_new_contacts(s);
        s->sim_us = sc->duration_us;
        if (contact_in_flight(s->contacts) == 0)
            finish_loop(s);
        return;
    }
    s->sim_us = now;
    collect_due(s, now);
    fill_slots(s);
    int64_t due = fleet_next_due(s->cfg.fleet);
    if (due == SCENARIO_NEVER && contact_in_flight(s->contacts) == 0 && queue_empty(s)) {
        s->sim_us = now;
        finish_loop(s);
        return;
    }
    int64_t wake = due == SCENARIO_NEVER || due > sc->duration_us ? sc->duration_us : due;
    int64_t delay = wake - now;
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)(delay / 1000000), (suseconds_t)(delay % 1000000)};
    evtimer_add(s->tick_timer, &tv);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct scheduler *s = arg;
    (void)fd, (void)what;
    if (s->virtual_clock) {
        if (control_stopped(s->cfg.control) && !s->stopping)
            stop_new_contacts(s);
        advance_virtual(s);
    } else {
        advance_real(s);
    }
}

/* Nothing in flight or queued: on to the next tick (virtual), or the end once stopping. */
static void after_contacts(struct scheduler *s)
{
    if (s->virtual_clock) {
        if (contact_in_flight(s->contacts) == 0 && queue_empty(s))
            event_active(s->kick, EV_TIMEOUT, 0);
    } else if (s->stopping && contact_in_flight(s->contacts) == 0) {
        finish_loop(s);
    }
}

/* max_rate: the next request's slot has come. */
static void on_rate_timer(evutil_socket_t fd, short what, void *arg)
{
    struct scheduler *s = arg;
    (void)fd, (void)what;
    fill_slots(s);
    if (queue_empty(s))
        after_contacts(s);
}

/* What the machine does after its answer: clients follow the intervals the host sent (§11),
 * renew once activated, fall back to grace when the activation ran out, and leave. */
static void on_answered(void *ctx, size_t index, int64_t sim_us,
                        const struct client_session_result *res)
{
    struct scheduler *s = ctx;
    struct machine *m = &s->cfg.fleet->machines[index];
    unsigned pop = m->population;
    if (kms_outcome_has_count(res->outcome)) {
        if (res->response.activation_interval)
            s->activation_min[pop] = res->response.activation_interval;
        if (res->response.renewal_interval)
            s->renewal_min[pop] = res->response.renewal_interval;
    }
    int64_t next;
    if (res->outcome == KMS_OUTCOME_ACTIVATED) {
        m->state = MACHINE_ACTIVATED;
        m->activated_us = sim_us;
        if (m->unactivated_since_us >= 0) {
            unactivated_stretch(s, m, sim_us, false);
            m->unactivated_since_us = -1;
        }
        next = sim_us + (int64_t)s->renewal_min[pop] * MINUTE_US;
    } else {
        if (m->state == MACHINE_ACTIVATED && sim_us - m->activated_us >= VALIDITY_US) {
            m->state = MACHINE_GRACE; /* validity ran out without a renewal */
            m->unactivated_since_us = m->activated_us + VALIDITY_US;
        }
        next = sim_us + (int64_t)s->activation_min[pop] * MINUTE_US;
    }
    if (next >= m->leave_us) {
        m->state = MACHINE_LEFT;
        return;
    }
    if (next <= s->cfg.scenario->duration_us && !s->stopping)
        fleet_schedule(s->cfg.fleet, index, next);
}

static void on_slot_free(void *ctx)
{
    struct scheduler *s = ctx;
    fill_slots(s);
    after_contacts(s);
}

void scheduler_tally_end(struct scheduler *s)
{
    const struct fleet *f = s->cfg.fleet;
    struct run_tally *tally = s->cfg.tally;
    for (size_t i = 0; i < f->n; i++) {
        const struct machine *m = &f->machines[i];
        if (m->state == MACHINE_ACTIVATED)
            tally->pops[m->population].activated_machines++;
        if (m->activated_us >= 0)
            tally->pops[m->population].ever_activated_machines++;
        if (m->unactivated_since_us >= 0 && m->state != MACHINE_WAITING) {
            /* Still unactivated at the end of the run, or when it left. */
            int64_t end = m->leave_us < s->sim_us ? m->leave_us : s->sim_us;
            if (end > m->unactivated_since_us)
                unactivated_stretch(s, m, end, m->state != MACHINE_LEFT);
        }
    }
}
