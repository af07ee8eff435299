/*
 * The scheduler: one thread's clock. It keeps the thread's machines in time (virtual ticks
 * agreed with the other threads at run control's barrier, or real-clock wake-ups), queues the
 * machines that are due, lets them out at max_rate into free contact slots, and decides when a
 * machine comes back after its answer (the intervals the host sent, activation and its expiry,
 * leaving). It owns the thread's contacts.
 */
#ifndef KMSLOAD_ENGINE_SCHEDULER_H
#define KMSLOAD_ENGINE_SCHEDULER_H

#include "engine_contact.h"

#include <event2/event.h>

struct scheduler_config {
    struct event_base *base;
    struct fleet *fleet;
    const struct scenario *scenario;
    struct engine_control *control;
    struct run_tally *tally; /* this thread's */
    size_t n_hosts;          /* several: which host the machines cache is sampled each day */
    unsigned loop;           /* its index among the loops: its turn within a virtual tick */
    double send_interval_s;  /* max_rate: this thread's interval between requests; 0: no cap */
};

struct scheduler;

/* contacts: the thread's contact settings (its hooks are the scheduler's). NULL with a message. */
struct scheduler *scheduler_new(const struct scheduler_config *cfg,
                                const struct contact_config *contacts, char *err, size_t err_len);
/* Frees its contacts and events: call before their event base is freed. */
void scheduler_free(struct scheduler *s);

struct contact_pool *scheduler_contacts(struct scheduler *s);
/* The event that wakes the loop to notice a stop (run control). */
struct event *scheduler_waker(struct scheduler *s);
/* Makes the first move when the loop starts. */
void scheduler_start(struct scheduler *s);

/* The simulated time this thread reached. */
int64_t scheduler_reached(const struct scheduler *s);
/* The machines' end states into the thread's tally (activated, ever activated, the longest
 * stretch without activation). */
void scheduler_tally_end(struct scheduler *s);

#endif
