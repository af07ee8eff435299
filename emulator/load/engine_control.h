/*
 * Run control: whether the run goes on. One stop (the first reason wins: a signal, the target
 * going silent, the wall-clock limit), the abort after it (answers in flight no longer waited
 * for), the tick barrier that keeps the threads' virtual clocks together, and the supervisor
 * thread that takes SIGINT/SIGTERM and watches the wall clock. It knows the engine's threads
 * only as event loops to wake.
 */
#ifndef KMSLOAD_ENGINE_CONTROL_H
#define KMSLOAD_ENGINE_CONTROL_H

#include "run_outcome.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* After a stop, answers still in flight are waited for this long, then abandoned: a stalled
 * host must not hold the run for its timeouts. */
#define STOP_GRACE_S 1.0

struct control_config {
    unsigned loops;      /* event loops (one per thread) */
    double max_wall_s;   /* the wall-clock limit */
    bool handle_signals; /* take SIGINT/SIGTERM (engine_config.handle_signals) */
    bool progress_line;  /* a progress line is on stderr: a message clears it first */
};

struct engine_control;

/* NULL when out of memory. */
struct engine_control *control_new(const struct control_config *cfg);
void control_free(struct engine_control *ctl);

/* Loop i: its base (broken at an abort) and the event that wakes it to notice a stop. */
void control_add_loop(struct engine_control *ctl, unsigned i, struct event_base *base,
                      struct event *wake);

/* Starts the wall clock and the supervisor (signals blocked first when it takes them, so
 * threads started afterwards inherit the mask). Returns 0, or -1 with a message. */
int control_start(struct engine_control *ctl, char *err, size_t err_len);
/* Every loop is over: ends the supervisor. */
void control_finish(struct engine_control *ctl);
/* Only the first n loops run (threads could not be started): the run stops and the barrier
 * counts those. */
void control_shrink(struct engine_control *ctl, unsigned n);

/* Seconds since control_start. */
double control_wall_now(const struct engine_control *ctl);

/* Stops the run (the first reason wins) and wakes the loops; false when it was stopped already. */
bool control_stop(struct engine_control *ctl, enum engine_stop why, const char *reason);
bool control_stopped(const struct engine_control *ctl);
/* Stopped at once: nobody waits for answers in flight or at the barrier. */
bool control_aborted(struct engine_control *ctl);

/*
 * Virtual time: every loop reports its earliest due contact and waits for the others; all go on
 * at the earliest of them, so the host never sees simulated time go backwards between threads.
 * Returns that time (SCENARIO_NEVER when the run is over, stopped or aborted).
 */
int64_t control_barrier(struct engine_control *ctl, int64_t my_due);
/*
 * Determinism (issue 19 item 6): within a virtual tick the loops send in turn, loop 0 first,
 * each once the previous one's contacts are all answered, so the host sees the same order of
 * requests (and gives the same counts) with any number of threads. wait_turn returns at once
 * after an abort.
 */
void control_wait_turn(struct engine_control *ctl, unsigned loop);
void control_pass_turn(struct engine_control *ctl, unsigned loop);
/* A loop that ended leaves the barrier, so the others never wait for it. */
void control_leave(struct engine_control *ctl);

/* How the run ended: interrupted, why, and the reason. */
void control_outcome(const struct engine_control *ctl, struct engine_outcome *out);

#endif
