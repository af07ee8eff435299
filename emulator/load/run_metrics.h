/*
 * What `kmsload run --metrics` exports while a run goes on: requests by outcome and HRESULT, a
 * latency histogram, requests in flight, the counts each application returned, model checks and
 * disagreements, and the current state of every expectation. A run_event_sink in front of the
 * records' sink: the engine calls it under its lock from any worker thread, the /metrics thread
 * renders under this collector's own lock, so neither waits for the other's work.
 */
#ifndef KMSLOAD_RUN_METRICS_H
#define KMSLOAD_RUN_METRICS_H

#include "catalog.h"
#include "expect.h"
#include "metrics_text.h"
#include "run_event.h"
#include "run_tally.h"
#include "scenario.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define RUN_METRICS_MAX_SERIES 64 /* (outcome, HRESULT) pairs; more share hresult="other" */

struct run_metrics_series {
    enum kms_outcome outcome;
    uint32_t hresult;
    bool other_hresult;
    uint64_t n;
};

struct run_metrics {
    pthread_mutex_t lock;
    const struct scenario *sc;
    struct run_event_sink next; /* the records' sink, called after the collector */
    struct run_tally *tally;    /* this collector's own: counts, model, expectations */
    struct expect_result *results;
    struct run_metrics_series series[RUN_METRICS_MAX_SERIES];
    size_t n_series;
    struct metrics_histogram latency;
    uint64_t started; /* requests sent; in flight = started - finished */
    double start_time;
    bool finished; /* the engine returned */
};

/* next: where events go on to (may have NULL members). Returns 0 or -1 (out of memory). */
int run_metrics_init(struct run_metrics *m, const struct scenario *sc,
                     const struct run_event_sink *next);
void run_metrics_free(struct run_metrics *m);
/* The sink to give the engine. */
struct run_event_sink run_metrics_sink(struct run_metrics *m);
/* The run is over (the page then says so until the server stops). */
void run_metrics_finish(struct run_metrics *m);
/* metrics_http render callback (arg: struct run_metrics). */
void run_metrics_render(struct metrics_text *out, void *arg);

#endif
