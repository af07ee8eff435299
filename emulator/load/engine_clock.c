/*
 * Moving the run through time: virtual-clock ticks that every thread agrees on (the tick
 * barrier), and real-clock wake-ups.
 */
#include "engine_internal.h"

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

void engine_finish_run(struct engine *e)
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
void engine_barrier_leave(struct engine_shared *sh)
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
        engine_finish_run(e);
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
    engine_fill_slots(e);
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
            engine_finish_run(e);
        return;
    }
    int64_t now = engine_sim_now(e);
    if (now >= e->sc->duration_us) {
        e->stopping = true;
        e->sim_us = e->sc->duration_us;
        e->pending_head = e->pending_tail = 0;
        if (e->in_flight == 0)
            engine_finish_run(e);
        return;
    }
    e->sim_us = now;
    collect_due(e, now);
    engine_fill_slots(e);
    int64_t due = fleet_next_due(&e->fleet);
    if (due == SCENARIO_NEVER && e->in_flight == 0 && e->pending_head == e->pending_tail) {
        e->sim_us = now;
        engine_finish_run(e);
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
    if (engine_virtual_clock(e) && e->shared->stop && !e->stopping) {
        e->stopping = true;
        e->pending_head = e->pending_tail = 0;
    }
    if (engine_virtual_clock(e))
        advance_virtual(e);
    else
        advance_real(e);
}

void engine_on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    advance(arg);
}
