/*
 * The supervisor thread: SIGINT/SIGTERM, the wall-clock limit and the grace after a stop.
 */
#include "engine_internal.h"

#include "value_parse.h"

#include <signal.h>
#include <stdio.h>

/* Marks the run as stopping (the first reason wins). Call with the lock held. Returns true when
 * this call stopped it: the caller then wakes the loops (outside the lock). */
bool engine_stop_locked(struct engine_shared *sh, enum engine_stop why, const char *reason)
{
    if (sh->stop)
        return false;
    sh->stop = true;
    sh->stop_at_s = engine_shared_wall_now(sh);
    sh->out->interrupted = true;
    sh->out->stop = why;
    snprintf(sh->out->interrupt_reason, sizeof sh->out->interrupt_reason, "%s", reason);
    return true;
}

/* Wakes every loop to notice the stop; abort: breaks them now, leaving answers in flight. */
void engine_wake_all(struct engine_shared *sh, bool abort)
{
    for (unsigned i = 0; i < sh->n_threads; i++) {
        if (abort)
            event_base_loopbreak(sh->engines[i].base);
        else
            event_active(sh->engines[i].kick, EV_TIMEOUT, 0);
    }
}

/*
 * The supervisor: takes SIGINT/SIGTERM (blocked in every thread, so no loop has to be free to
 * see them), enforces the wall-clock limit and the grace after a stop. A first signal stops the
 * run and waits up to STOP_GRACE_S for answers in flight; a second one, or the grace running out,
 * breaks every loop and releases the tick barrier at once.
 */
void *engine_supervisor_thread(void *arg)
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
        double now = engine_shared_wall_now(sh);
        bool wake = false, abort = false;
        pthread_mutex_lock(&sh->lock);
        if (sh->finished) {
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        const char *say = NULL;
        if (sig == SIGINT || sig == SIGTERM) {
            if (engine_stop_locked(sh, ENGINE_STOP_SIGNAL, sig == SIGINT ? "SIGINT" : "SIGTERM")) {
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
            wake = engine_stop_locked(sh, ENGINE_STOP_WALL_LIMIT, reason);
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
            engine_wake_all(sh, abort);
    }
    return NULL;
}
