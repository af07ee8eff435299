#include "host_runtime.h"

#include "fd_limit.h"
#include "host_state.h"

#include <signal.h>
#include <stdio.h>
#include <time.h>

void host_runtime_print_status(FILE *f, struct host_runtime *rt)
{
    struct kms_host *h = rt->host;
    const struct catalog *cat = h->cfg.catalog;
    char t[24];
    filetime_format(host_now(h), t);
    fprintf(f,
            "host status at %s UTC (%s clock): %u open connections, %llu accepted, "
            "%llu closed to make room, %llu past the PDU deadline, %llu accept pauses\n",
            t, h->cfg.clock_mode == HOST_CLOCK_CLIENT ? "client" : "real",
            host_server_open_connections(rt->server), (unsigned long long)h->stats.connections,
            (unsigned long long)h->stats.connections_rejected,
            (unsigned long long)h->stats.pdu_timeouts, (unsigned long long)h->stats.accept_pauses);
    fprintf(f, "  requests %llu: answered %llu, refused with an HRESULT %llu, RPC faults %llu\n",
            (unsigned long long)h->stats.requests, (unsigned long long)h->stats.answered,
            (unsigned long long)h->stats.errors, (unsigned long long)h->stats.faults);
    if (h->stats.clock_refused)
        fprintf(f, "  refused for moving the client clock too far: %llu\n",
                (unsigned long long)h->stats.clock_refused);
    for (size_t i = 0; i < cat->n_apps; i++) {
        const struct host_app_stats *a = &h->stats.apps[i];
        fprintf(f,
                "  %-12s current count %3u (capacity %u)  requests %llu, activated %llu, "
                "below threshold %llu, refused %llu\n",
                cat->apps[i].key, host_app_count(h, i), client_cache_capacity(&h->caches[i]),
                (unsigned long long)a->requests, (unsigned long long)a->activated,
                (unsigned long long)a->below, (unsigned long long)a->refused);
    }
    fflush(f);
}

/*
 * Every decided request: the metrics, the --log row, and for a request refused for moving the
 * client clock too far, a line on stderr (at most one per 10 s, with a count), since a wild clock
 * is worth knowing of.
 */
void host_runtime_on_request(const struct host_request_record *rec, const char *peer, void *arg)
{
    struct host_runtime *rt = arg;
    if (rt->metrics)
        host_metrics_request(rt->metrics, rec);
    if (rt->log)
        host_log_request(rec, peer, rt->log);
    if (!rec->clock_refused)
        return;
    rt->clock_refusals_since++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (rt->clock_warned_us && now - rt->clock_warned_us < 10000000u)
        return;
    char sent[24], clock[24];
    filetime_format(rec->request.client_time, sent);
    filetime_format(rt->host->client_clock, clock);
    fprintf(stderr,
            "kmsload host: refused with 0xC004F06C a request from %s dated %s: the client clock "
            "(%s) moves at most %.4g days per request and %.0f days past the system clock "
            "(%u refused since the last message)\n",
            peer, sent, rt->host->client_clock ? clock : "unset",
            (double)rt->host->cfg.max_clock_step / (86400.0 * FILETIME_PER_SECOND),
            (double)rt->host->cfg.max_clock_ahead / (86400.0 * FILETIME_PER_SECOND),
            rt->clock_refusals_since);
    rt->clock_warned_us = now;
    rt->clock_refusals_since = 0;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct host_runtime *rt = arg;
    (void)what;
    fprintf(stderr, "kmsload host: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(rt->base);
}

/* Saves the counts when they changed. Returns 0 (saved or nothing to save) or -1 (said why). */
int host_runtime_save_state(struct host_runtime *rt)
{
    char err[512];
    if (!rt->state_path || rt->host->stats.requests == rt->saved_requests)
        return 0;
    if (host_state_save(rt->host, rt->state_path, err, sizeof err) == 0) {
        rt->saved_requests = rt->host->stats.requests;
        if (rt->metrics)
            rt->metrics->state_saves++;
        return 0;
    }
    fprintf(stderr, "kmsload host: %s\n", err);
    if (rt->metrics)
        rt->metrics->state_save_failures++;
    return -1;
}

/* Every few seconds: persist counters that changed and push the log to disk. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct host_runtime *rt = arg;
    (void)fd, (void)what;
    host_runtime_save_state(rt);
    char err[700];
    if (rt->log && host_log_flush(rt->log, err, sizeof err) != 0)
        fprintf(stderr, "kmsload host: %s\n", err);
}

static void on_status_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    host_runtime_print_status(stderr, arg);
}

void host_runtime_print_banner(FILE *f, const struct host_runtime *rt,
                               const struct host_coverage *coverage, bool host_keys)
{
    const struct catalog *cat = rt->host->cfg.catalog;
    for (size_t i = 0; i < host_server_listener_count(rt->server); i++) {
        char text[NET_ADDR_TEXT];
        net_addr_format(host_server_listener_addr(rt->server, i), text, sizeof text);
        fprintf(f, "kmsload host: listening on %s\n", text);
    }
    if (host_keys) {
        const struct catalog_hostos *os =
            catalog_hostos_for_build(cat, rt->host->cfg.host_build, NULL);
        fprintf(f, "kmsload host: build %u (%s)\n", rt->host->cfg.host_build,
                os ? os->name : "unknown OS");
        for (size_t i = 0; i < coverage->keys.n; i++)
            fprintf(f, "kmsload host: host key %s ePID %s\n",
                    cat->csvlks[coverage->keys.key[i]].key,
                    rt->host->key_epid[coverage->keys.key[i]]);
    } else {
        for (size_t i = 0; i < cat->n_apps; i++)
            fprintf(f, "kmsload host: %s ePID %s\n", cat->apps[i].key, rt->host->epid[i]);
    }
}

int host_runtime_dispatch(struct host_runtime *rt)
{
    struct event *ev_int = evsignal_new(rt->base, SIGINT, on_stop_signal, rt);
    struct event *ev_term = evsignal_new(rt->base, SIGTERM, on_stop_signal, rt);
    struct event *ev_usr1 = evsignal_new(rt->base, SIGUSR1, on_status_signal, rt);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_usr1, NULL);
    struct event *housekeeping = event_new(rt->base, -1, EV_PERSIST, on_housekeeping, rt);
    struct timeval every = {5, 0};
    event_add(housekeeping, &every);
    event_base_dispatch(rt->base);
    host_runtime_print_status(stderr, rt);
    int status = 0;
    if (host_runtime_save_state(rt) != 0) {
        fprintf(stderr,
                "kmsload host: the final save of --state %s failed: the counts since the "
                "last save are lost\n",
                rt->state_path);
        status = -1;
    }
    event_free(housekeeping);
    event_free(ev_int);
    event_free(ev_term);
    event_free(ev_usr1);
    return status;
}

/* Descriptors the host needs besides its connections: stdio, listeners, event loop, files, and
 * the one a connection holds while it is accepted before another makes room for it. */
#define HOST_RESERVED_FDS 32

/* Each connection holds a descriptor: raise the open-file limit like `run` does, and admit fewer
 * connections (saying so) when the system will not allow enough. */
void host_fit_open_files(struct host_server_config *scfg)
{
    unsigned long want = (unsigned long)scfg->max_connections + HOST_RESERVED_FDS;
    unsigned long hard, got = fd_limit_raise(want, &hard);
    if (got >= want)
        return;
    unsigned long fit = got > HOST_RESERVED_FDS + 1 ? got - HOST_RESERVED_FDS : 1;
    fprintf(stderr,
            "kmsload host: open-file limit is %lu (hard limit %lu): --max-connections lowered "
            "from %u to %lu; raise the limit (ulimit -n) for more\n",
            got, hard, scfg->max_connections, fit);
    scfg->max_connections = (unsigned)fit;
}
