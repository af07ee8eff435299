/*
 * The engine's private parts, shared by its files: engine.c (setup, threads, teardown),
 * engine_contact.c (one contact: request, attempts, failover, next contact), engine_record.c
 * (its answer to the model, the sink and the tally; fail fast), engine_clock.c (virtual-clock
 * ticks and the tick barrier, real-clock wake-ups), engine_supervisor.c (signals, wall-clock
 * limit, stop grace), engine_progress.c (the progress line) and engine_clock_check.c (does the
 * target follow client time). Not for use outside the engine.
 */
#ifndef KMSLOAD_ENGINE_INTERNAL_H
#define KMSLOAD_ENGINE_INTERNAL_H

#include "engine.h"

#include "fleet.h"
#include "model.h"
#include "netclient.h"
#include "pcg32.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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
    double last_progress_s;
    uint64_t last_progress_requests;
};

/* engine.c: clocks */
double engine_shared_wall_now(const struct engine_shared *sh); /* seconds since the start */
double engine_wall_now(const struct engine *e);
uint64_t engine_real_filetime(void);
bool engine_virtual_clock(const struct engine *e);
/* Simulated time now: the current tick (virtual) or the wall time since the start (real). */
int64_t engine_sim_now(const struct engine *e);

/* engine_contact.c */
void engine_build_request(struct engine *e, const struct machine *m, int64_t sim_us,
                          struct kms_request *req);
/* Starts contacts for pending machines while slots are free (and max_rate allows). */
void engine_fill_slots(struct engine *e);
void engine_on_rate_timer(evutil_socket_t fd, short what, void *arg);

/* engine_record.c */
/* Returns true when the contact fails over to the next host of its order. */
bool engine_record_event(struct engine *e, struct contact *c,
                         const struct client_session_result *res, uint64_t latency_us);
/* Contacts that got nothing back from the host (fail fast counts these). */
bool engine_no_answer(enum kms_outcome outcome);
/* A machine went unactivated from unactivated_since_us until t: keep the longest. */
void engine_unactivated_stretch(struct engine *e, const struct machine *m, int64_t t, bool open);

/* engine_clock.c */
void engine_finish_run(struct engine *e);
/* A thread whose loop ended leaves the barrier, so the others never wait for it. */
void engine_barrier_leave(struct engine_shared *sh);
void engine_on_kick(evutil_socket_t fd, short what, void *arg);

/* engine_supervisor.c */
/* Marks the run as stopping (the first reason wins). Call with the lock held. Returns true when
 * this call stopped it: the caller then wakes the loops (outside the lock). */
bool engine_stop_locked(struct engine_shared *sh, enum engine_stop why, const char *reason);
/* Wakes every loop to notice the stop; abort: breaks them now, leaving answers in flight. */
void engine_wake_all(struct engine_shared *sh, bool abort);
void *engine_supervisor_thread(void *arg);

/* engine_progress.c */
void engine_print_progress(struct engine *e, bool final);
/* Every half second on the first thread: flushes the records, prints progress. */
void engine_on_housekeeping(evutil_socket_t fd, short what, void *arg);

/* engine_clock_check.c */
/* 0: go on (see out->notice); -1 with err when the target checks client time. */
int engine_check_client_clock(struct engine *e, char *err, size_t err_len);

#endif
