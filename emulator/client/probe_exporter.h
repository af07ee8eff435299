/*
 * The Prometheus multi-target exporter of `kmsload watch` (the pattern of blackbox_exporter and
 * snmp_exporter): GET /probe?target=HOST[:PORT]&module=NAME asks the host once per application
 * of the module, on the caller's event loop, and answers with what the host said
 * (kmsload_probe_success, the duration, count, HRESULT, ePID per application) when the last
 * answer is in. A bad request is a 400 naming the problem; probes in flight at once are bounded
 * (503 beyond); a client that goes away cancels its probe.
 */
#ifndef KMSLOAD_PROBE_EXPORTER_H
#define KMSLOAD_PROBE_EXPORTER_H

#include "http_server.h"
#include "metrics_text.h"
#include "probe_set.h"
#include "watch_metrics.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#define PROBE_EXPORTER_DEFAULT_IN_FLIGHT 16

struct probe_exporter_options {
    const struct probe_modules *modules; /* kept by reference: must outlive the exporter */
    int64_t timeout_us;                  /* per request */
    unsigned max_in_flight;              /* /probe requests answered at once; 0: the default */
    const char *dns_server;              /* for the targets' names; NULL: the system's */
};

struct probe_exporter;

/* NULL when out of memory. */
struct probe_exporter *probe_exporter_new(struct event_base *base,
                                          const struct probe_exporter_options *o);
/* The http_handler_fn for /probe (arg: the exporter). */
void probe_exporter_handle(struct http_request *req, void *arg);
/* Cancels the probes in flight (their requests are abandoned by the server's stop) and frees.
 * NULL is fine. */
void probe_exporter_free(struct probe_exporter *e);

/* The page of one probe: success (every application got a count), total duration, whether the
 * name resolved, then per application (apps[i]: the results of the module's applications). */
void probe_exporter_render(struct metrics_text *out, const struct watch_app_state *apps, size_t n,
                           double duration_s, bool resolved);

#endif
