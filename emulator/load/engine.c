/*
 * The engine: runs a scenario's fleet against the KMS hosts on worker threads, each with its own
 * event loop over its part of the fleet. This file sets the run up, starts and joins the
 * threads, and gathers the results; the other parts are listed in engine_internal.h.
 */
#include "engine_internal.h"

#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double engine_shared_wall_now(const struct engine_shared *sh)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const struct timespec *t0 = &sh->started;
    return (double)(ts.tv_sec - t0->tv_sec) + (ts.tv_nsec - t0->tv_nsec) / 1e9;
}

double engine_wall_now(const struct engine *e)
{
    return engine_shared_wall_now(e->shared);
}

uint64_t engine_real_filetime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

bool engine_virtual_clock(const struct engine *e)
{
    return e->sc->clock == SCENARIO_CLOCK_VIRTUAL;
}

/* Simulated time now: the current tick (virtual) or the wall time since the start (real). */
int64_t engine_sim_now(const struct engine *e)
{
    return engine_virtual_clock(e) ? e->batch_us : (int64_t)(engine_wall_now(e) * 1e6);
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
    e->kick = event_new(e->base, -1, 0, engine_on_kick, e);
    e->tick_timer = evtimer_new(e->base, engine_on_kick, e);
    e->rate_timer = evtimer_new(e->base, engine_on_rate_timer, e);
    if (sc->max_rate > 0)
        e->send_interval_s = (double)threads / sc->max_rate;
    if (!e->kick || !e->tick_timer || !e->rate_timer) {
        snprintf(e->setup_err, sizeof e->setup_err, "out of memory");
        return -1;
    }
    if (index == 0) {
        /* The first thread flushes the records and prints progress. */
        e->housekeeping = event_new(e->base, -1, EV_PERSIST, engine_on_housekeeping, e);
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
    engine_barrier_leave(e->shared);
    return NULL;
}

/* The shared state before any thread: one host (the --target or the embedded host) unless the
 * config has a host set. */
static void shared_init(struct engine_shared *sh, const struct engine_config *cfg,
                        const struct run_event_sink *sink, struct engine_outcome *out,
                        unsigned threads)
{
    const struct scenario *sc = cfg->scenario;
    memset(sh, 0, sizeof *sh);
    pthread_mutex_init(&sh->lock, NULL);
    pthread_cond_init(&sh->tick_cond, NULL);
    pthread_cond_init(&sh->supervisor_cond, NULL);
    sh->n_threads = threads;
    sh->active = threads;
    sh->sc = sc;
    sh->handle_signals = cfg->handle_signals;
    sh->max_wall_s = (double)scenario_max_wall(sc) / 1e6;
    sh->sink = sink;
    sh->out = out;
    sh->round_min = SCENARIO_NEVER;
    sh->epoch_ft = engine_real_filetime();
    for (size_t a = 0; a < MODEL_MAX_APPS; a++)
        sh->host_count[a] = -1;
    if (cfg->hosts) {
        sh->n_models = cfg->hosts->n;
        return;
    }
    sh->n_models = 1;
    snprintf(sh->single.hosts[0].name, sizeof sh->single.hosts[0].name, "target");
    if (cfg->target)
        sh->single.hosts[0].addrs = *cfg->target;
    sh->single.hosts[0].published_until_us = INT64_MAX;
    sh->single.hosts[0].up_until_us = INT64_MAX;
    sh->single.n = 1;
    sh->single.caching = true;
}

/* One model per host; false when out of memory or the catalogue does not fit. */
static bool models_init(struct engine_shared *sh, const struct engine_config *cfg)
{
    const struct scenario *sc = cfg->scenario;
    bool models_ok = sh->model != NULL && sh->n_models <= HOST_SET_MAX;
    for (size_t h = 0; models_ok && h < sh->n_models; h++) {
        models_ok = model_init(&sh->model[h], cfg->catalog) == 0;
        if (models_ok) {
            /* live_host has no fixed offset. A shard sees only its own machines; a live host
             * also counts real machines that come (and CMIDs of earlier runs still counted):
             * both are judged from below. */
            sh->model[h].baseline = sc->baseline && !sc->live_host;
            sh->model[h].partial = cfg->shard_count > 1 || sc->live_host;
        }
    }
    return models_ok;
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

/* Every thread's fleet, slots and loop; then what the model must allow for other shards. */
static int engines_setup(struct engine_shared *sh, const struct engine_config *cfg,
                         struct run_tally **tallies, char *err, size_t err_len)
{
    for (unsigned t = 0; t < sh->n_threads; t++)
        if (engine_setup(&sh->engines[t], sh, t, cfg, tallies[t])) {
            snprintf(err, err_len, "%s", sh->engines[t].setup_err);
            return -1;
        }
    if (sh->model->partial) /* other shards' machines of every population lift the capacity too */
        for (size_t p = 0; p < sh->engines[0].fleet.n_pops; p++) {
            const struct fleet_population *fp = &sh->engines[0].fleet.pops[p];
            unsigned n = fp->n_policy;
            if (cfg->cap_n_policy && n > fp->kms->n_policy)
                n = fp->kms->n_policy;
            for (size_t h = 0; h < sh->n_models; h++)
                model_expect_n_policy(&sh->model[h], fp->app_index, n);
        }
    return 0;
}

/* Runs the loops: thread 0 here, the others on their own threads. *started: the threads that
 * ran. Returns true when the run was stopped before any loop began. */
static bool run_loops(struct engine_shared *sh, unsigned threads, unsigned *started)
{
    pthread_mutex_lock(&sh->lock);
    bool stopped_already = sh->abort;
    pthread_mutex_unlock(&sh->lock);
    if (stopped_already)
        return true;
    for (unsigned t = 1; t < threads; t++, (*started)++)
        if (pthread_create(&sh->engines[t].thread, NULL, engine_thread, &sh->engines[t]) != 0)
            break;
    if (*started < threads) {
        /* The barrier counts only the threads running: stop those. */
        pthread_mutex_lock(&sh->lock);
        sh->stop = true;
        sh->active = *started;
        sh->n_threads = *started;
        pthread_mutex_unlock(&sh->lock);
    }
    engine_thread(&sh->engines[0]);
    for (unsigned t = 1; t < *started; t++)
        pthread_join(sh->engines[t].thread, NULL);
    return false;
}

static void supervisor_stop(struct engine_shared *sh, const struct engine_config *cfg)
{
    pthread_mutex_lock(&sh->lock);
    sh->finished = true;
    pthread_cond_signal(&sh->supervisor_cond);
    pthread_mutex_unlock(&sh->lock);
    /* A supervisor in sigtimedwait wakes at the next signal: send it one (it sees finished). */
    if (cfg->handle_signals)
        pthread_kill(sh->supervisor, SIGTERM);
    pthread_join(sh->supervisor, NULL);
}

/* The supervisor, the client-clock check, the loops; 0 when every thread ran to its end. */
static int run_threads(struct engine_shared *sh, const struct engine_config *cfg, char *err,
                       size_t err_len)
{
    unsigned threads = sh->n_threads;
    clock_gettime(CLOCK_MONOTONIC, &sh->started);
    /* Signals are taken by the supervisor: blocked here, so the threads started below inherit
     * the mask (the caller blocks them before starting any other thread, see engine.h). */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (cfg->handle_signals)
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
    if (pthread_create(&sh->supervisor, NULL, engine_supervisor_thread, sh) != 0) {
        snprintf(err, err_len, "cannot start the supervisor thread");
        return -1;
    }
    unsigned started = 1;
    bool stopped_already = false;
    if (cfg->check_client_clock && engine_check_client_clock(&sh->engines[0], err, err_len) != 0)
        started = 0;
    else
        stopped_already = run_loops(sh, threads, &started);
    supervisor_stop(sh, cfg);
    if (started == 0)
        return -1;
    if (!stopped_already && started < threads) {
        snprintf(err, err_len, "cannot start %u engine threads", threads);
        return -1;
    }
    return 0;
}

/* The machines' end states into the tallies, merged into the caller's; the time reached. */
static void gather_results(struct engine_shared *sh, const struct engine_config *cfg,
                           struct run_tally *tally, struct run_tally **tallies, unsigned threads)
{
    struct engine_outcome *out = sh->out;
    out->wall_seconds = engine_wall_now(&sh->engines[0]);
    for (unsigned t = 0; t < threads; t++) {
        struct engine *e = &sh->engines[t];
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
                    engine_unactivated_stretch(e, m, end, m->state != MACHINE_LEFT);
            }
        }
        if (t > 0)
            run_tally_merge(tally, tallies[t]);
    }
    /* Interrupted on the virtual clock: the time reached is the last request's. (A thread that
     * was waiting at the tick barrier when the stop came does not know the run was cut short.) */
    if (out->interrupted && cfg->scenario->clock == SCENARIO_CLOCK_VIRTUAL)
        out->sim_us = tally->requests ? tally->last_sim_us : 0;
    if (cfg->progress) {
        sh->engines[0].sim_us = out->sim_us;
        engine_print_progress(&sh->engines[0], true);
    }
}

int engine_run(const struct engine_config *cfg, struct run_tally *tally,
               const struct run_event_sink *sink, struct engine_outcome *out, char *err,
               size_t err_len)
{
    unsigned threads = cfg->threads ? cfg->threads : 1;
    memset(out, 0, sizeof *out);
    /* Loops are woken across threads (signals, the tick barrier's stop). */
    evthread_use_pthreads();
    struct engine_shared sh;
    shared_init(&sh, cfg, sink, out, threads);
    sh.model = sh.n_models ? calloc(sh.n_models, sizeof *sh.model) : NULL;
    sh.engines = calloc(threads, sizeof *sh.engines);
    struct run_tally **tallies = calloc(threads, sizeof *tallies);
    int rc = -1;
    if (!models_init(&sh, cfg) || !sh.engines || !tallies)
        snprintf(err, err_len, "out of memory, no host, or too many applications in the catalogue");
    else if (tallies_init(tallies, threads, tally, cfg, err, err_len) == 0 &&
             engines_setup(&sh, cfg, tallies, err, err_len) == 0 &&
             run_threads(&sh, cfg, err, err_len) == 0) {
        gather_results(&sh, cfg, tally, tallies, threads);
        rc = 0;
    }
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
