#include "metrics_http.h"

#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef KMSLOAD_VERSION
#define KMSLOAD_VERSION "unknown"
#endif

struct metrics_http {
    struct event_base *base;
    bool own_base; /* started with a thread of its own */
    pthread_t thread;
    struct event *stop; /* own thread: activated from the stopping thread */
    struct http_server *http;
    struct metrics_http_options opt;
    uint16_t port;
    bool public; /* listening beyond loopback */
    char url[NET_HOST_MAX + 32];
};

int metrics_http_parse_listen(const char *spec, char *host, size_t host_cap, uint16_t *port,
                              char *err, size_t err_len)
{
    const char *port_text = spec;
    char addr[NET_HOST_MAX + 8];
    /* A bare port or ":PORT": the loopback address. */
    if (spec[0] == ':')
        port_text = spec + 1;
    bool bare = *port_text != '\0' && strspn(port_text, "0123456789") == strlen(port_text);
    if (bare) {
        snprintf(addr, sizeof addr, "%s", METRICS_DEFAULT_ADDRESS);
    } else {
        uint16_t unused;
        const char *colon = strrchr(spec, ':');
        bool ipv6_literal_without_port = spec[0] != '[' && colon && strchr(spec, ':') != colon;
        if (!colon || ipv6_literal_without_port || (spec[0] == '[' && colon < strchr(spec, ']'))) {
            snprintf(err, err_len, "\"%s\": expected [ADDR:]PORT, e.g. 9464 or 127.0.0.1:9464",
                     spec);
            return -1;
        }
        port_text = colon + 1;
        /* net_parse_target refuses port 0, which asks for a free port here: parse the host only. */
        char hostpart[NET_HOST_MAX + 8];
        if ((size_t)(colon - spec) >= sizeof hostpart) {
            snprintf(err, err_len, "\"%s\": address too long", spec);
            return -1;
        }
        memcpy(hostpart, spec, (size_t)(colon - spec));
        hostpart[colon - spec] = '\0';
        if (net_parse_target(hostpart, 1, addr, sizeof addr, &unused, err, err_len))
            return -1;
    }
    char *end;
    unsigned long v = strtoul(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || v > 65535 ||
        strspn(port_text, "0123456789") != strlen(port_text)) {
        snprintf(err, err_len, "\"%s\": port \"%s\" is not a number 0..65535", spec, port_text);
        return -1;
    }
    if (strlen(addr) >= host_cap) {
        snprintf(err, err_len, "\"%s\": address too long", spec);
        return -1;
    }
    snprintf(host, host_cap, "%s", addr);
    *port = (uint16_t)v;
    return 0;
}

static void reply_text(struct http_request *req, int status, const char *text)
{
    http_reply(req, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

/* Which kmsload serves the page, on every page (host, run, watch): a dashboard or an alert can
 * tell versions apart across an estate. */
static void build_info(struct metrics_text *text)
{
    const struct metrics_label version = {"version", KMSLOAD_VERSION};
    metrics_text_family(text, "kmsload_build_info", METRICS_GAUGE,
                        "The kmsload version serving this page (always 1).");
    metrics_text_sample(text, "kmsload_build_info", &version, 1, 1);
}

static void serve_metrics(struct metrics_http *m, struct http_request *req)
{
    struct metrics_text text;
    metrics_text_init(&text);
    m->opt.render(&text, m->opt.render_arg);
    build_info(&text);
    if (text.failed) {
        char msg[320];
        snprintf(msg, sizeof msg, "kmsload: cannot render the metrics: %s\n", text.error);
        reply_text(req, 500, msg);
    } else {
        http_reply(req, 200, METRICS_CONTENT_TYPE, NULL, text.buf ? text.buf : "", text.len);
    }
    metrics_text_free(&text);
}

/* The pages: /metrics, /probe (watch), and a pointer to them for a person with a browser. */
static void on_request(struct http_request *req, void *arg)
{
    struct metrics_http *m = arg;
    const char *path = http_request_path(req);
    if (m->opt.render && strcmp(path, "/metrics") == 0) {
        serve_metrics(m, req);
        return;
    }
    if (m->opt.probe && strcmp(path, "/probe") == 0) {
        m->opt.probe(req, m->opt.probe_arg);
        return;
    }
    const char *where = m->opt.render && m->opt.probe ? "at /metrics and /probe?target=HOST"
                        : m->opt.render               ? "at /metrics"
                                                      : "at /probe?target=HOST";
    char msg[128];
    if (strcmp(path, "/") == 0) {
        snprintf(msg, sizeof msg, "kmsload: the metrics are %s\n", where);
        reply_text(req, 200, msg);
    } else {
        snprintf(msg, sizeof msg, "not found; the metrics are %s\n", where);
        reply_text(req, 404, msg);
    }
}

static struct metrics_http *start_on(struct event_base *base, bool own_base,
                                     const struct metrics_http_options *o, char *err,
                                     size_t err_len)
{
    char host[NET_HOST_MAX];
    uint16_t port;
    struct net_addrs addrs;
    if (metrics_http_parse_listen(o->listen, host, sizeof host, &port, err, err_len))
        return NULL;
    if (net_resolve(host, port, true, &addrs, err, err_len))
        return NULL;
    struct metrics_http *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    m->base = base;
    m->own_base = own_base;
    m->opt = *o;
    struct http_server_config cfg;
    http_server_config_default(&cfg);
    cfg.warn = o->warn;
    cfg.warn_arg = o->warn_arg;
    char why[256];
    m->http = http_server_start(base, (const struct sockaddr *)&addrs.addr[0], addrs.len[0], &cfg,
                                on_request, m, why, sizeof why);
    if (!m->http) {
        snprintf(err, err_len, "metrics: %s (in use, or not an address of this machine)", why);
        free(m);
        return NULL;
    }
    const struct sockaddr *bound = http_server_addr(m->http);
    char text[NET_ADDR_TEXT] = "";
    net_addr_format(bound, text, sizeof text);
    m->port = ntohs(bound->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)bound)->sin6_port
                                                 : ((const struct sockaddr_in *)bound)->sin_port);
    m->public = !net_addr_is_loopback(bound);
    snprintf(m->url, sizeof m->url, "http://%s%s", text, o->render ? "/metrics" : "/probe");
    return m;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct metrics_http *m = arg;
    (void)fd, (void)what;
    event_base_loopbreak(m->base);
}

static void *serve(void *arg)
{
    struct metrics_http *m = arg;
    event_base_dispatch(m->base);
    return NULL;
}

/* On a thread and event loop of its own. */
static struct metrics_http *start_thread(const struct metrics_http_options *o, char *err,
                                         size_t err_len)
{
    /* Stopping this loop from another thread needs libevent's locking. */
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    if (!base) {
        snprintf(err, err_len, "cannot create an event loop");
        return NULL;
    }
    struct metrics_http *m = start_on(base, true, o, err, err_len);
    if (!m) {
        event_base_free(base);
        return NULL;
    }
    /* An activated event survives until the loop runs, unlike a loopbreak issued before it
     * started, so a stop right after the start cannot be lost. */
    m->stop = event_new(base, -1, 0, on_stop, m);
    if (!m->stop || pthread_create(&m->thread, NULL, serve, m) != 0) {
        snprintf(err, err_len, "cannot start the metrics thread");
        if (m->stop)
            event_free(m->stop);
        http_server_stop(m->http);
        event_base_free(base);
        free(m);
        return NULL;
    }
    return m;
}

struct metrics_http *metrics_http_open(struct event_base *base,
                                       const struct metrics_http_options *o, char *err,
                                       size_t err_len)
{
    return base ? start_on(base, false, o, err, err_len) : start_thread(o, err, err_len);
}

struct metrics_http *metrics_http_start(struct event_base *base, const char *spec,
                                        metrics_render_fn render, void *arg, char *err,
                                        size_t err_len)
{
    struct metrics_http_options o = {.listen = spec, .render = render, .render_arg = arg};
    return metrics_http_open(base, &o, err, err_len);
}

struct metrics_http *metrics_http_start_thread(const char *spec, metrics_render_fn render,
                                               void *arg, char *err, size_t err_len)
{
    struct metrics_http_options o = {.listen = spec, .render = render, .render_arg = arg};
    return metrics_http_open(NULL, &o, err, err_len);
}

const char *metrics_http_url(const struct metrics_http *m)
{
    return m->url;
}

uint16_t metrics_http_port(const struct metrics_http *m)
{
    return m->port;
}

bool metrics_http_is_public(const struct metrics_http *m)
{
    return m->public;
}

void metrics_http_get_stats(const struct metrics_http *m, struct http_server_stats *out)
{
    http_server_get_stats(m->http, out);
}

void metrics_http_stop(struct metrics_http *m)
{
    if (!m)
        return;
    if (m->own_base) {
        event_active(m->stop, EV_TIMEOUT, 0);
        pthread_join(m->thread, NULL);
        event_free(m->stop);
    }
    http_server_stop(m->http);
    if (m->own_base)
        event_base_free(m->base);
    free(m);
}
