/*
 * The /metrics endpoint: libevent's evhttp serving the Prometheus text that a render callback
 * builds at each scrape. GET and HEAD only, small header limits and a timeout, loopback unless
 * an address is given. Runs on the caller's event base (host, watch: one thread) or on a thread
 * of its own (run: the engine's loops are busy; the callback then snapshots under its own lock).
 */
#ifndef KMSLOAD_METRICS_HTTP_H
#define KMSLOAD_METRICS_HTTP_H

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

/* Listens on spec and serves on base. Returns NULL with a message (address in use, bad spec). */
struct metrics_http *metrics_http_start(struct event_base *base, const char *spec,
                                        metrics_render_fn render, void *arg, char *err,
                                        size_t err_len);
/* The same on a thread and event loop of its own. */
struct metrics_http *metrics_http_start_thread(const char *spec, metrics_render_fn render,
                                               void *arg, char *err, size_t err_len);
/* "http://127.0.0.1:9464/metrics" with the bound port. */
const char *metrics_http_url(const struct metrics_http *m);
uint16_t metrics_http_port(const struct metrics_http *m);
/* Stops serving (joins the thread if there is one) and frees everything. NULL is fine. */
void metrics_http_stop(struct metrics_http *m);

#endif
