/*
 * What the metrics cost: CPU time per recorded request in the run and host collectors, and per
 * rendered /metrics page. CPU time of this process (not wall time), so a busy machine does not
 * inflate the figures.
 *
 *   build-release/kmsload-bench-metrics
 */
#include "catalog.h"
#include "host_metrics.h"
#include "run_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_collector(void)
{
    static struct scenario sc;
    snprintf(sc.name, sizeof sc.name, "bench");
    sc.n_pops = 1;
    sc.n_expects = 4;
    for (size_t i = 0; i < sc.n_expects; i++) {
        sc.expects[i].kind = EXPECT_MODEL_MISMATCHES;
        snprintf(sc.expects[i].text, sizeof sc.expects[i].text, "model_mismatches = %zu", i);
    }
    struct run_metrics m;
    if (run_metrics_init(&m, &sc, NULL)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    struct run_event_sink sink = run_metrics_sink(&m);
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.app_key = "windows";
    ev.population = "clients";
    enum { N = 2000000 };
    double t0 = cpu_s();
    for (unsigned i = 0; i < N; i++) {
        ev.outcome = i % 10 ? KMS_OUTCOME_BELOW_THRESHOLD : KMS_OUTCOME_HOST_ERROR;
        ev.hresult = i % 10 ? 0xC004F038 : 0xC004F042;
        ev.count = i % 10 ? (int64_t)(i % 50) : -1;
        ev.model_checked = ev.count >= 0;
        ev.model_agrees = true;
        ev.latency_us = 500 + i % 5000;
        ev.sim_us = (int64_t)i * 1000;
        sink.sent(sink.ctx);
        sink.event(sink.ctx, &ev);
    }
    double t1 = cpu_s();
    enum { PAGES = 2000 };
    size_t bytes = 0;
    for (unsigned i = 0; i < PAGES; i++) {
        struct metrics_text mt;
        metrics_text_init(&mt);
        run_metrics_render(&mt, &m);
        bytes = mt.len;
        metrics_text_free(&mt);
    }
    double t2 = cpu_s();
    printf("run collector: %.0f ns CPU per request (sent + event, lock included); "
           "page of %zu bytes rendered in %.1f us CPU\n",
           (t1 - t0) / N * 1e9, bytes, (t2 - t1) / PAGES * 1e6);
    run_metrics_free(&m);
}

static void host_collector(void)
{
    struct catalog cat;
    char err[256];
    if (catalog_load(&cat, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct host_config cfg;
    host_config_default(&cfg, &cat);
    struct kms_host *host = malloc(sizeof *host);
    struct host_metrics *m = malloc(sizeof *m);
    if (!host || !m || host_init(host, &cfg, err, sizeof err)) {
        fprintf(stderr, "cannot start a host: %s\n", err);
        exit(1);
    }
    host_metrics_init(m, host);
    struct host_request_record rec;
    memset(&rec, 0, sizeof rec);
    rec.decoded = true;
    enum { N = 2000000 };
    double t0 = cpu_s();
    for (unsigned i = 0; i < N; i++) {
        /* Every product group of the catalogue, answered or refused: a realistic series table. */
        const struct catalog_kms *k = &cat.kms[i % cat.n_kms];
        rec.request.kms_id = k->id;
        rec.request.n_policy = k->n_policy;
        rec.app = (int)k->app;
        rec.hresult = k->retail ? 0xC004F042 : 0;
        rec.count = i % 60;
        host_metrics_request(m, &rec);
        host_metrics_answered(HOST_FAULT_NONE, false, 150 + i % 300, m);
    }
    double t1 = cpu_s();
    enum { PAGES = 2000 };
    size_t bytes = 0;
    for (unsigned i = 0; i < PAGES; i++) {
        struct metrics_text mt;
        metrics_text_init(&mt);
        host_metrics_render(&mt, m);
        bytes = mt.len;
        metrics_text_free(&mt);
    }
    double t2 = cpu_s();
    printf("host collector: %.0f ns CPU per request (%zu series); page of %zu bytes rendered in "
           "%.1f us CPU\n",
           (t1 - t0) / N * 1e9, m->n_series, bytes, (t2 - t1) / PAGES * 1e6);
    free(m);
    free(host);
    catalog_free(&cat);
}

int main(void)
{
    run_collector();
    host_collector();
    return 0;
}
