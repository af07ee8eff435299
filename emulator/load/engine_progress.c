/*
 * The progress line on stderr, and the first thread's housekeeping that prints it.
 */
#include "engine_internal.h"

#include "progress.h"

#include <stdio.h>

void engine_print_progress(struct engine *e, bool final)
{
    struct engine_shared *sh = e->shared;
    struct progress_snapshot snap = {.wall_s = engine_wall_now(e),
                                     .virtual_clock = engine_virtual_clock(e),
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

void engine_on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct engine *e = arg;
    (void)fd, (void)what;
    if (e->shared->sink && e->shared->sink->flush) {
        pthread_mutex_lock(&e->shared->lock);
        e->shared->sink->flush(e->shared->sink->ctx);
        pthread_mutex_unlock(&e->shared->lock);
    }
    if (e->cfg->progress)
        engine_print_progress(e, false);
}
