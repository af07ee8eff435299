/*
 * The monitoring pages: /metrics with the Prometheus text that a render callback builds at each
 * scrape, and /probe for watch's multi-target exporter, served by the bounded http_server
 * (whatever a client sends, memory, connections and descriptors stay bounded). Loopback unless
 * an address is given. Runs on the caller's event base (host, watch: one thread) or on a thread
 * of its own (run: the engine's loops are busy; the callback then snapshots under its own lock).
 */
#ifndef KMSLOAD_METRICS_HTTP_H
#define KMSLOAD_METRICS_HTTP_H

#include "http_server.h"
#include "metrics_text.h"
#include "net.h"

#include <event2/event.h>

#define METRICS_DEFAULT_ADDRESS "127.0.0.1"

/* Appends the exposition text to out (the server sends 500 when out->failed ends up set). */
typedef void (*metrics_render_fn)(struct metrics_text *out, void *arg);

struct metrics_http;

/*
 * Parses "[ADDR:]PORT": "9464", ":9464", "0.0.0.0:9464", "[::1]:9464", "localhost:9464"
 * (ADDR defaults to 127.0.0.1; port 0 picks a free port). Returns 0 with host and port, or -1
 * with a message naming the problem.
 */
int metrics_http_parse_listen(const char *spec, char *host, size_t host_cap, uint16_t *port,
                              char *err, size_t err_len);

struct metrics_http_options {
    const char *listen;       /* "[ADDR:]PORT" */
    metrics_render_fn render; /* GET /metrics; NULL: no /metrics page */
    void *render_arg;
    http_handler_fn probe; /* GET /probe (answered now or later); NULL: no /probe page */
    void *probe_arg;
    http_warn_fn warn; /* accept() failures, at most once per 10 s; NULL: counted only */
    void *warn_arg;
};

/* Listens and serves on base, or on a thread of its own when base is NULL. NULL with a message
 * (address in use, bad spec). */
struct metrics_http *metrics_http_open(struct event_base *base,
                                       const struct metrics_http_options *o, char *err,
                                       size_t err_len);

/* Listens on spec and serves /metrics on base. Returns NULL with a message (address in use, bad
 * spec). */
struct metrics_http *metrics_http_start(struct event_base *base, const char *spec,
                                        metrics_render_fn render, void *arg, char *err,
                                        size_t err_len);
/* The same on a thread and event loop of its own. */
struct metrics_http *metrics_http_start_thread(const char *spec, metrics_render_fn render,
                                               void *arg, char *err, size_t err_len);
/* "http://127.0.0.1:9464/metrics" with the bound port. */
const char *metrics_http_url(const struct metrics_http *m);
uint16_t metrics_http_port(const struct metrics_http *m);
/* Listening on an address other machines can reach (no authentication: worth a warning). */
bool metrics_http_is_public(const struct metrics_http *m);
/* The server's counters; only from the loop's own thread (not with a thread of its own). */
void metrics_http_get_stats(const struct metrics_http *m, struct http_server_stats *out);
/* Stops serving (joins the thread if there is one) and frees everything. NULL is fine. */
void metrics_http_stop(struct metrics_http *m);

#endif
