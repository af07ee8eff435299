/*
 * Run control: the stop, the abort, the tick barrier and the supervisor thread.
 */
#include "engine_control.h"

#include "scenario.h"
#include "value_parse.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* How often the supervisor looks at signals and the wall clock. */
#define SUPERVISOR_PERIOD_NS 100000000L

struct loop {
    struct event_base *base;
    struct event *wake;
};

struct engine_control {
    struct control_config cfg;
    pthread_mutex_t lock;
    struct timespec started;
    struct loop *loops;
    unsigned n_loops;
    /* The stop: read without the lock by the loops (a contact's failover), written under it. */
    atomic_bool stop;
    bool abort;    /* stop now: answers in flight are not waited for */
    bool finished; /* every loop is over: the supervisor ends */
    double stop_at_s;
    enum engine_stop why;
    char reason[sizeof((struct engine_outcome *)0)->interrupt_reason];
    /* The tick barrier. */
    pthread_cond_t tick_cond;
    unsigned waiting; /* loops arrived */
    unsigned active;  /* loops still running: the barrier waits for these */
    uint64_t generation;
    int64_t round_min, agreed;
    unsigned turn; /* the loop whose turn it is to send within the tick */
    /* The supervisor. */
    pthread_t supervisor;
    bool supervisor_started;
    pthread_cond_t supervisor_cond; /* wakes it when the loops are over */
};

struct engine_control *control_new(const struct control_config *cfg)
{
    struct engine_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return NULL;
    ctl->loops = calloc(cfg->loops ? cfg->loops : 1, sizeof *ctl->loops);
    if (!ctl->loops) {
        free(ctl);
        return NULL;
    }
    ctl->cfg = *cfg;
    ctl->n_loops = cfg->loops;
    ctl->active = cfg->loops;
    ctl->round_min = SCENARIO_NEVER;
    atomic_init(&ctl->stop, false);
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_cond_init(&ctl->tick_cond, NULL);
    pthread_cond_init(&ctl->supervisor_cond, NULL);
    return ctl;
}

void control_free(struct engine_control *ctl)
{
    if (!ctl)
        return;
    pthread_cond_destroy(&ctl->tick_cond);
    pthread_cond_destroy(&ctl->supervisor_cond);
    pthread_mutex_destroy(&ctl->lock);
    free(ctl->loops);
    free(ctl);
}

void control_add_loop(struct engine_control *ctl, unsigned i, struct event_base *base,
                      struct event *wake)
{
    if (i < ctl->cfg.loops)
        ctl->loops[i] = (struct loop){base, wake};
}

double control_wall_now(const struct engine_control *ctl)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const struct timespec *t0 = &ctl->started;
    return (double)(ts.tv_sec - t0->tv_sec) + (ts.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Wakes every loop to notice the stop; abort: breaks them now, leaving answers in flight. */
static void wake_all(struct engine_control *ctl, bool abort)
{
    for (unsigned i = 0; i < ctl->n_loops; i++) {
        if (abort)
            event_base_loopbreak(ctl->loops[i].base);
        else
            event_active(ctl->loops[i].wake, EV_TIMEOUT, 0);
    }
}

/* With the lock held; true when this call stopped the run. */
static bool stop_locked(struct engine_control *ctl, enum engine_stop why, const char *reason)
{
    if (atomic_load(&ctl->stop))
        return false;
    atomic_store(&ctl->stop, true);
    ctl->stop_at_s = control_wall_now(ctl);
    ctl->why = why;
    snprintf(ctl->reason, sizeof ctl->reason, "%s", reason);
    return true;
}

bool control_stop(struct engine_control *ctl, enum engine_stop why, const char *reason)
{
    pthread_mutex_lock(&ctl->lock);
    bool stopped = stop_locked(ctl, why, reason);
    pthread_mutex_unlock(&ctl->lock);
    if (stopped)
        wake_all(ctl, false);
    return stopped;
}

bool control_stopped(const struct engine_control *ctl)
{
    return atomic_load_explicit(&ctl->stop, memory_order_relaxed);
}

bool control_aborted(struct engine_control *ctl)
{
    pthread_mutex_lock(&ctl->lock);
    bool abort = ctl->abort;
    pthread_mutex_unlock(&ctl->lock);
    return abort;
}

void control_shrink(struct engine_control *ctl, unsigned n)
{
    pthread_mutex_lock(&ctl->lock);
    atomic_store(&ctl->stop, true);
    ctl->active = n;
    ctl->n_loops = n;
    pthread_mutex_unlock(&ctl->lock);
}

/* With the lock held: the round is over, everyone goes on at agreed. */
static void release_round(struct engine_control *ctl, int64_t agreed)
{
    ctl->agreed = agreed;
    ctl->round_min = SCENARIO_NEVER;
    ctl->waiting = 0;
    ctl->turn = 0;
    ctl->generation++;
    pthread_cond_broadcast(&ctl->tick_cond);
}

int64_t control_barrier(struct engine_control *ctl, int64_t my_due)
{
    pthread_mutex_lock(&ctl->lock);
    if (my_due < ctl->round_min)
        ctl->round_min = my_due;
    int64_t agreed;
    if (ctl->abort) {
        agreed = SCENARIO_NEVER;
    } else if (++ctl->waiting >= ctl->active) {
        release_round(ctl, atomic_load(&ctl->stop) ? SCENARIO_NEVER : ctl->round_min);
        agreed = ctl->agreed;
    } else {
        /* An abort (second signal, stop grace over) releases every waiter: a loop that was
         * broken never arrives, and nobody may wait for it. */
        uint64_t generation = ctl->generation;
        while (generation == ctl->generation && !ctl->abort)
            pthread_cond_wait(&ctl->tick_cond, &ctl->lock);
        agreed = generation == ctl->generation ? SCENARIO_NEVER : ctl->agreed;
    }
    pthread_mutex_unlock(&ctl->lock);
    return agreed;
}

void control_wait_turn(struct engine_control *ctl, unsigned loop)
{
    pthread_mutex_lock(&ctl->lock);
    while (ctl->turn < loop && !ctl->abort)
        pthread_cond_wait(&ctl->tick_cond, &ctl->lock);
    pthread_mutex_unlock(&ctl->lock);
}

void control_pass_turn(struct engine_control *ctl, unsigned loop)
{
    pthread_mutex_lock(&ctl->lock);
    if (ctl->turn == loop) {
        ctl->turn = loop + 1;
        pthread_cond_broadcast(&ctl->tick_cond);
    }
    pthread_mutex_unlock(&ctl->lock);
}

void control_leave(struct engine_control *ctl)
{
    pthread_mutex_lock(&ctl->lock);
    if (ctl->active > 0)
        ctl->active--;
    if (ctl->waiting > 0 && ctl->waiting >= ctl->active)
        release_round(ctl, SCENARIO_NEVER);
    pthread_mutex_unlock(&ctl->lock);
}

void control_outcome(const struct engine_control *ctl, struct engine_outcome *out)
{
    out->interrupted = atomic_load(&ctl->stop) && ctl->why != ENGINE_STOP_NONE;
    out->stop = ctl->why;
    snprintf(out->interrupt_reason, sizeof out->interrupt_reason, "%s", ctl->reason);
}

/* Waits one supervisor period: for a signal when it takes them (returns it), else on its
 * condition (the loops being over). */
static int supervisor_wait(struct engine_control *ctl)
{
    struct timespec period = {0, SUPERVISOR_PERIOD_NS};
    if (ctl->cfg.handle_signals) {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        return sigtimedwait(&signals, NULL, &period);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += SUPERVISOR_PERIOD_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctl->lock);
    if (!ctl->finished)
        pthread_cond_timedwait(&ctl->supervisor_cond, &ctl->lock, &until);
    pthread_mutex_unlock(&ctl->lock);
    return -1;
}

/* With the lock held: the wall-clock limit; true when it stopped the run. */
static bool check_wall_limit_locked(struct engine_control *ctl, double now)
{
    if (atomic_load(&ctl->stop) || now < ctl->cfg.max_wall_s)
        return false;
    char reason[sizeof ctl->reason], limit[32];
    value_format_duration((int64_t)(ctl->cfg.max_wall_s * 1e6), limit, sizeof limit);
    snprintf(reason, sizeof reason,
             "wall-clock limit of %s reached (max_wall; the target answered too slowly "
             "for the scenario)",
             limit);
    return stop_locked(ctl, ENGINE_STOP_WALL_LIMIT, reason);
}

/*
 * The supervisor: takes SIGINT/SIGTERM (blocked in every thread, so no loop has to be free to
 * see them), enforces the wall-clock limit and the grace after a stop. A first signal stops the
 * run and waits up to STOP_GRACE_S for answers in flight; a second one, or the grace running out,
 * breaks every loop and releases the tick barrier at once.
 */
static void *supervisor_thread(void *arg)
{
    struct engine_control *ctl = arg;
    for (;;) {
        int sig = supervisor_wait(ctl);
        double now = control_wall_now(ctl);
        bool wake = false, abort = false;
        pthread_mutex_lock(&ctl->lock);
        if (ctl->finished) {
            pthread_mutex_unlock(&ctl->lock);
            break;
        }
        const char *say = NULL;
        if (sig == SIGINT || sig == SIGTERM) {
            if (stop_locked(ctl, ENGINE_STOP_SIGNAL, sig == SIGINT ? "SIGINT" : "SIGTERM")) {
                wake = true;
                say = "stopping… (answers in flight get up to 1 s; again to stop at once)";
            } else {
                abort = true;
                say = "stopping now";
            }
        }
        if (check_wall_limit_locked(ctl, now))
            wake = true;
        if (atomic_load(&ctl->stop) && now - ctl->stop_at_s >= STOP_GRACE_S)
            abort = true;
        if (abort && !ctl->abort) {
            ctl->abort = true;
            pthread_cond_broadcast(&ctl->tick_cond);
        } else {
            abort = false;
        }
        pthread_mutex_unlock(&ctl->lock);
        if (say) /* at once: the records are written after the loops have ended */
            fprintf(stderr, "%skmsload: %s %s\n", ctl->cfg.progress_line ? "\r\033[K" : "",
                    sig == SIGINT ? "SIGINT:" : "SIGTERM:", say);
        if (abort || wake)
            wake_all(ctl, abort);
    }
    return NULL;
}

int control_start(struct engine_control *ctl, char *err, size_t err_len)
{
    clock_gettime(CLOCK_MONOTONIC, &ctl->started);
    if (ctl->cfg.handle_signals) {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
    }
    if (pthread_create(&ctl->supervisor, NULL, supervisor_thread, ctl) != 0) {
        snprintf(err, err_len, "cannot start the supervisor thread");
        return -1;
    }
    ctl->supervisor_started = true;
    return 0;
}

void control_finish(struct engine_control *ctl)
{
    if (!ctl->supervisor_started)
        return;
    pthread_mutex_lock(&ctl->lock);
    ctl->finished = true;
    pthread_cond_signal(&ctl->supervisor_cond);
    pthread_mutex_unlock(&ctl->lock);
    /* A supervisor in sigtimedwait wakes at the next signal: send it one (it sees finished). */
    if (ctl->cfg.handle_signals)
        pthread_kill(ctl->supervisor, SIGTERM);
    pthread_join(ctl->supervisor, NULL);
    ctl->supervisor_started = false;
}
