#include "metrics_http.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct metrics_http {
    struct event_base *base;
    bool own_base; /* started with a thread of its own */
    pthread_t thread;
    struct event *stop; /* own thread: activated from the stopping thread */
    struct evhttp *http;
    metrics_render_fn render;
    void *arg;
    uint16_t port;
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

/* Anything but GET and HEAD gets 405 with the methods that work (libevent would say 501). */
static bool method_allowed(struct evhttp_request *req)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
        return true;
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();
    evhttp_add_header(headers, "Allow", "GET, HEAD");
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    if (body)
        evbuffer_add_printf(body, "only GET and HEAD\n");
    evhttp_send_reply(req, 405, "Method Not Allowed", body); /* send_error drops headers */
    if (body)
        evbuffer_free(body);
    return false;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    struct metrics_http *m = arg;
    if (!method_allowed(req))
        return;
    /* libevent sends a body to HTTP/1.0 HEAD requests: leave it out here. */
    bool head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
    struct metrics_text text;
    metrics_text_init(&text);
    m->render(&text, m->arg);
    struct evbuffer *body = evbuffer_new();
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    if (!body) {
        metrics_text_free(&text);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    if (text.failed) {
        evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
        evbuffer_add_printf(body, "kmsload: cannot render the metrics: %s\n", text.error);
        evhttp_send_reply(req, HTTP_INTERNAL, "Internal Server Error", body);
    } else {
        evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
        if (!head)
            evbuffer_add(body, text.buf ? text.buf : "", text.len);
        evhttp_send_reply(req, HTTP_OK, "OK", body);
    }
    evbuffer_free(body);
    metrics_text_free(&text);
}

/* Anything but /metrics: a pointer to it for a person with a browser. */
static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (!method_allowed(req))
        return;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (path && strcmp(path, "/") == 0) {
        evbuffer_add_printf(body, "kmsload: the metrics are at /metrics\n");
        evhttp_send_reply(req, HTTP_OK, "OK", body);
    } else {
        evbuffer_add_printf(body, "not found; the metrics are at /metrics\n");
        evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", body);
    }
    evbuffer_free(body);
}

static struct metrics_http *start_on(struct event_base *base, bool own_base, const char *spec,
                                     metrics_render_fn render, void *arg, char *err, size_t err_len)
{
    char host[NET_HOST_MAX];
    uint16_t port;
    if (metrics_http_parse_listen(spec, host, sizeof host, &port, err, err_len))
        return NULL;
    struct metrics_http *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    m->base = base;
    m->own_base = own_base;
    m->render = render;
    m->arg = arg;
    m->http = evhttp_new(base);
    if (!m->http) {
        snprintf(err, err_len, "cannot create the HTTP server");
        free(m);
        return NULL;
    }
    /* A scrape is a small GET: no request bodies, small headers, no slow client held long. */
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(m->http, 8192);
    evhttp_set_max_body_size(m->http, 0);
    evhttp_set_timeout(m->http, 10);
    evhttp_set_cb(m->http, "/metrics", on_metrics, m);
    evhttp_set_gencb(m->http, on_other, m);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(m->http, host, port);
    if (!bound) {
        snprintf(err, err_len,
                 "metrics: cannot listen on %s port %u (in use, or not an address "
                 "of this machine)",
                 host, port);
        evhttp_free(m->http);
        free(m);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[NET_ADDR_TEXT] = "";
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len) == 0) {
        net_addr_format((struct sockaddr *)&ss, text, sizeof text);
        m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(m->url, sizeof m->url, "http://%s/metrics", text);
    return m;
}

struct metrics_http *metrics_http_start(struct event_base *base, const char *spec,
                                        metrics_render_fn render, void *arg, char *err,
                                        size_t err_len)
{
    return start_on(base, false, spec, render, arg, err, err_len);
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

struct metrics_http *metrics_http_start_thread(const char *spec, metrics_render_fn render,
                                               void *arg, char *err, size_t err_len)
{
    /* Stopping this loop from another thread needs libevent's locking. */
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    if (!base) {
        snprintf(err, err_len, "cannot create an event loop");
        return NULL;
    }
    struct metrics_http *m = start_on(base, true, spec, render, arg, err, err_len);
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
        evhttp_free(m->http);
        event_base_free(base);
        free(m);
        return NULL;
    }
    return m;
}

const char *metrics_http_url(const struct metrics_http *m)
{
    return m->url;
}

uint16_t metrics_http_port(const struct metrics_http *m)
{
    return m->port;
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
    evhttp_free(m->http);
    if (m->own_base)
        event_base_free(m->base);
    free(m);
}
