/*
 * The engine: runs a scenario's fleet against the KMS hosts on worker threads, each with its own
 * event loop, scheduler and contacts over its part of the fleet; run control and the recorder
 * are shared. This file sets the run up, starts and joins the threads, and merges each thread's
 * tally into the caller's once they have ended.
 */
#include "engine.h"

#include "engine_clock_check.h"
#include "engine_control.h"
#include "engine_progress.h"
#include "engine_recorder.h"
#include "engine_scheduler.h"
#include "fleet.h"

#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One worker thread: its machines, its loop and what runs on it, its tally. */
struct worker {
    unsigned index;
    pthread_t thread;
    struct event_base *base;
    struct fleet fleet;
    struct scheduler *scheduler;
    struct run_tally *tally; /* the first worker's is the caller's */
    struct engine_control *control;
};

/* What one run holds. */
struct run {
    const struct engine_config *cfg;
    struct engine_control *control;
    struct recorder *recorder;
    struct worker *workers;
    unsigned n_workers;
    struct host_set single; /* the one --target, when the config has no host set */
    const struct host_set *hosts;
    uint64_t epoch_ft; /* FILETIME of simulated time 0 */
    struct progress_meter progress;
    struct event *housekeeping; /* on the first worker's loop */
};

static uint64_t real_filetime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

/* Twice a second on the first worker: the records flushed, the progress line. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd, (void)what;
    recorder_flush(r->recorder);
    if (r->cfg->progress)
        progress_meter_print(&r->progress, scheduler_reached(r->workers[0].scheduler), false);
}

/* One worker's part of the fleet, its loop, scheduler and contacts. */
static int worker_setup(struct run *r, struct worker *w, unsigned index, struct run_tally *tally,
                        char *err, size_t err_len)
{
    const struct engine_config *cfg = r->cfg;
    const struct scenario *sc = cfg->scenario;
    unsigned threads = r->n_workers;
    w->index = index;
    w->tally = tally;
    w->control = r->control;
    /* Threads split a shard the way shards split a fleet: disjoint, and the same machines
     * whatever the thread count. */
    if (fleet_build(&w->fleet, sc, cfg->catalog, cfg->shard_index + cfg->shard_count * index,
                    cfg->shard_count * threads, err, err_len))
        return -1;
    for (size_t p = 0; p < w->fleet.n_pops; p++)
        tally->pops[p].machines = w->fleet.pops[p].machines;
    w->base = net_event_base_new();
    if (!w->base) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    struct contact_config cc = {
        .base = w->base,
        .fleet = &w->fleet,
        .scenario = sc,
        .hosts = r->hosts,
        .target = cfg->target,
        .slots = (sc->concurrency + threads - 1) / threads,
        .cap_n_policy = cfg->cap_n_policy,
        .virtual_clock = sc->clock == SCENARIO_CLOCK_VIRTUAL,
        .epoch_ft = r->epoch_ft,
        .rng_stream = 0x49565321ULL + cfg->shard_index * 1024 + index,
        .recorder = r->recorder,
        .tally = tally,
        .control = r->control,
    };
    struct scheduler_config scfg = {
        .base = w->base,
        .fleet = &w->fleet,
        .scenario = sc,
        .control = r->control,
        .tally = tally,
        .n_hosts = r->hosts->n,
        .loop = index,
        .send_interval_s = sc->max_rate > 0 ? (double)threads / sc->max_rate : 0,
    };
    w->scheduler = scheduler_new(&scfg, &cc, err, err_len);
    if (!w->scheduler)
        return -1;
    control_add_loop(r->control, index, w->base, scheduler_waker(w->scheduler));
    return 0;
}

static void worker_free(struct worker *w)
{
    scheduler_free(w->scheduler); /* its connections and events before their base */
    if (w->base)
        event_base_free(w->base);
    fleet_free(&w->fleet);
}

/* Every worker; then what the models must allow for other shards' machines. */
static int workers_setup(struct run *r, struct run_tally **tallies, bool partial, char *err,
                         size_t err_len)
{
    for (unsigned t = 0; t < r->n_workers; t++)
        if (worker_setup(r, &r->workers[t], t, tallies[t], err, err_len))
            return -1;
    if (partial) /* other shards' machines of every population lift the capacity too */
        for (size_t p = 0; p < r->workers[0].fleet.n_pops; p++) {
            const struct fleet_population *fp = &r->workers[0].fleet.pops[p];
            unsigned n = fp->n_policy;
            if (r->cfg->cap_n_policy && n > fp->kms->n_policy)
                n = fp->kms->n_policy;
            recorder_expect_n_policy(r->recorder, fp->app_index, n);
        }
    /* The first worker flushes the records and prints progress. */
    struct worker *first = &r->workers[0];
    r->housekeeping = event_new(first->base, -1, EV_PERSIST, on_housekeeping, r);
    struct timeval every = {0, 500000};
    if (!r->housekeeping || event_add(r->housekeeping, &every)) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

/* A tally per thread (the first is the caller's), each naming every host of the set. */
static int tallies_init(struct run_tally **tallies, unsigned threads, struct run_tally *tally,
                        const struct engine_config *cfg, char *err, size_t err_len)
{
    tallies[0] = tally;
    for (unsigned t = 1; t < threads; t++) {
        tallies[t] = malloc(sizeof *tallies[t]);
        if (!tallies[t]) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        run_tally_init(tallies[t], cfg->scenario->n_pops);
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
    return 0;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    scheduler_start(w->scheduler);
    event_base_dispatch(w->base);
    control_leave(w->control);
    return NULL;
}

/* Runs the loops: the first worker here, the others on their own threads. *started: the
 * threads that ran. Returns true when the run was stopped before any loop began. */
static bool run_loops(struct run *r, unsigned *started)
{
    if (control_aborted(r->control))
        return true;
    for (unsigned t = 1; t < r->n_workers; t++, (*started)++)
        if (pthread_create(&r->workers[t].thread, NULL, worker_thread, &r->workers[t]) != 0)
            break;
    if (*started < r->n_workers)
        control_shrink(r->control, *started); /* the barrier counts only the threads running */
    worker_thread(&r->workers[0]);
    for (unsigned t = 1; t < *started; t++)
        pthread_join(r->workers[t].thread, NULL);
    return false;
}

/* The supervisor, the client-clock check, the loops; 0 when every thread ran to its end. */
static int run_threads(struct run *r, struct engine_outcome *out, char *err, size_t err_len)
{
    if (control_start(r->control, err, err_len))
        return -1;
    struct worker *first = &r->workers[0];
    unsigned started = 1;
    bool stopped_already = false;
    if (r->cfg->check_client_clock &&
        clock_check_run(scheduler_contacts(first->scheduler), &first->fleet, r->epoch_ft, out, err,
                        err_len) != 0)
        started = 0;
    else
        stopped_already = run_loops(r, &started);
    control_finish(r->control);
    if (started == 0)
        return -1;
    if (!stopped_already && started < r->n_workers) {
        snprintf(err, err_len, "cannot start %u engine threads", r->n_workers);
        return -1;
    }
    return 0;
}

/* The machines' end states into the tallies, merged into the caller's; how the run ended. */
static void gather_results(struct run *r, struct run_tally *tally, struct engine_outcome *out)
{
    control_outcome(r->control, out);
    out->answered = recorder_answered(r->recorder);
    out->wall_seconds = control_wall_now(r->control);
    for (unsigned t = 0; t < r->n_workers; t++) {
        struct worker *w = &r->workers[t];
        int64_t reached = scheduler_reached(w->scheduler);
        if (reached > out->sim_us)
            out->sim_us = reached;
        scheduler_tally_end(w->scheduler);
        if (t > 0)
            run_tally_merge(tally, w->tally);
    }
    /* Interrupted on the virtual clock: the time reached is the last request's. (A thread that
     * was waiting at the tick barrier when the stop came does not know the run was cut short.) */
    if (out->interrupted && r->cfg->scenario->clock == SCENARIO_CLOCK_VIRTUAL)
        out->sim_us = tally->requests ? tally->last_sim_us : 0;
    if (r->cfg->progress)
        progress_meter_print(&r->progress, out->sim_us, true);
}

/* Run control, the recorder and the progress line for cfg. */
static int run_init(struct run *r, const struct engine_config *cfg,
                    const struct run_event_sink *sink, unsigned threads, char *err, size_t err_len)
{
    const struct scenario *sc = cfg->scenario;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->n_workers = threads;
    r->epoch_ft = real_filetime();
    host_set_single(&r->single, cfg->target);
    r->hosts = cfg->hosts ? cfg->hosts : &r->single;
    struct control_config ctl = {
        .loops = threads,
        .max_wall_s = (double)scenario_max_wall(sc) / 1e6,
        .handle_signals = cfg->handle_signals,
        .progress_line = cfg->progress,
    };
    r->control = control_new(&ctl);
    r->workers = calloc(threads, sizeof *r->workers);
    if (!r->control || !r->workers) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* live_host has no fixed offset. A shard sees only its own machines; a live host also
     * counts real machines that come (and CMIDs of earlier runs still counted): both are
     * judged from below. */
    struct recorder_config rc = {
        .catalog = cfg->catalog,
        .n_hosts = cfg->hosts ? cfg->hosts->n : 1,
        .baseline = sc->baseline && !sc->live_host,
        .partial = cfg->shard_count > 1 || sc->live_host,
        .recon = cfg->hosts ? NULL : cfg->recon,
        .stop_after_failures = sc->stop_after_failures,
        .stop_after_silence_us = sc->stop_after_silence_us,
        .sink = sink,
        .control = r->control,
    };
    r->recorder = recorder_new(&rc, err, err_len);
    if (!r->recorder)
        return -1;
    r->progress = (struct progress_meter){.recorder = r->recorder,
                                          .control = r->control,
                                          .catalog = cfg->catalog,
                                          .virtual_clock = sc->clock == SCENARIO_CLOCK_VIRTUAL,
                                          .duration_us = sc->duration_us};
    return 0;
}

static void run_free(struct run *r)
{
    if (r->housekeeping)
        event_free(r->housekeeping);
    for (unsigned t = 0; r->workers && t < r->n_workers; t++)
        worker_free(&r->workers[t]);
    free(r->workers);
    recorder_free(r->recorder);
    control_free(r->control);
}

int engine_run(const struct engine_config *cfg, struct run_tally *tally,
               const struct run_event_sink *sink, struct engine_outcome *out, char *err,
               size_t err_len)
{
    unsigned threads = cfg->threads ? cfg->threads : 1;
    memset(out, 0, sizeof *out);
    /* Loops are woken across threads (signals, the tick barrier's stop). */
    evthread_use_pthreads();
    struct run r;
    struct run_tally **tallies = calloc(threads, sizeof *tallies);
    int rc = -1;
    if (!tallies)
        snprintf(err, err_len, "out of memory");
    else if (run_init(&r, cfg, sink, threads, err, err_len) == 0 &&
             tallies_init(tallies, threads, tally, cfg, err, err_len) == 0 &&
             workers_setup(&r, tallies, cfg->shard_count > 1 || cfg->scenario->live_host, err,
                           err_len) == 0) {
        if (run_threads(&r, out, err, err_len) == 0) {
            gather_results(&r, tally, out);
            rc = 0;
        } else {
            /* Refused before the loops (the clock check): the files of the run still count
             * every machine of the fleet, not only the first thread's. */
            for (unsigned t = 1; t < threads; t++)
                run_tally_merge(tally, tallies[t]);
        }
    }
    if (tallies)
        run_free(&r);
    for (unsigned t = 1; tallies && t < threads; t++)
        free(tallies[t]);
    free(tallies);
    return rc;
}
