/* run_metrics: the live figures of a run as /metrics shows them, fed the way the engine feeds. */
#include "run_metrics.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct downstream {
    unsigned events, flushes, sent;
};

static void ds_event(void *ctx, const struct run_event *ev)
{
    (void)ev;
    ((struct downstream *)ctx)->events++;
}

static void ds_flush(void *ctx)
{
    ((struct downstream *)ctx)->flushes++;
}

static void ds_sent(void *ctx)
{
    ((struct downstream *)ctx)->sent++;
}

static struct run_event event(enum kms_outcome outcome, uint32_t hresult, int64_t count,
                              uint64_t latency_us)
{
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.app = 0;
    ev.app_key = "windows";
    ev.population = "clients";
    ev.outcome = outcome;
    ev.hresult = hresult;
    ev.count = count;
    ev.n_policy = 25;
    ev.latency_us = latency_us;
    ev.model_checked = count >= 0;
    ev.model_agrees = count != 99;
    ev.expected_lo = 0;
    ev.expected_hi = 50;
    ev.host_index = -1;
    ev.host = "";
    return ev;
}

static char *render(struct run_metrics *m)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    run_metrics_render(&mt, m);
    cr_assert_not(mt.failed, "%s", mt.error);
    return mt.buf;
}

Test(run_metrics, counts_outcomes_in_flight_and_expectations_and_passes_events_on)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    cr_assert_not_null(sc);
    snprintf(sc->name, sizeof sc->name, "soak");
    sc->n_pops = 1;
    snprintf(sc->pops[0].name, sizeof sc->pops[0].name, "clients");
    sc->n_expects = 1;
    sc->expects[0].kind = EXPECT_MODEL_MISMATCHES;
    sc->expects[0].value = 0;
    snprintf(sc->expects[0].text, sizeof sc->expects[0].text, "model_mismatches = 0");
    struct downstream ds = {0};
    struct run_event_sink next = {ds_event, ds_flush, ds_sent, &ds};
    struct run_metrics m;
    cr_assert_eq(run_metrics_init(&m, sc, &next), 0);
    struct run_event_sink sink = run_metrics_sink(&m);
    for (int i = 0; i < 5; i++)
        sink.sent(sink.ctx);
    struct run_event evs[] = {
        event(KMS_OUTCOME_BELOW_THRESHOLD, 0xC004F038, 3, 2000),
        event(KMS_OUTCOME_BELOW_THRESHOLD, 0xC004F038, 4, 3000),
        event(KMS_OUTCOME_HOST_ERROR, 0xC004F042, -1, 100),
        event(KMS_OUTCOME_TIMEOUT, 0, -1, 5000000),
    };
    for (size_t i = 0; i < 4; i++)
        sink.event(sink.ctx, &evs[i]);
    sink.flush(sink.ctx);
    cr_expect_eq(ds.events, 4, "every event reaches the records");
    cr_expect_eq(ds.flushes, 1);
    cr_expect_eq(ds.sent, 5);

    char *page = render(&m);
    cr_expect(strstr(page, "kmsload_run_info{scenario=\"soak\",clock=\"virtual\"} 1\n"), "%s",
              page);
    cr_expect(strstr(page, "kmsload_run_requests_total{outcome=\"below-threshold\","
                           "hresult=\"0xC004F038\"} 2\n"),
              "%s", page);
    cr_expect(strstr(page, "{outcome=\"host-error\",hresult=\"0xC004F042\"} 1\n"), "%s", page);
    cr_expect(strstr(page, "{outcome=\"timeout\",hresult=\"none\"} 1\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_requests_in_flight 1\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_clients{application=\"windows\"} 4\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_request_duration_seconds_bucket{le=\"0.0025\"} 2\n"), "%s",
              page);
    cr_expect(strstr(page, "kmsload_run_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"), "%s",
              page);
    cr_expect(strstr(page, "kmsload_run_model_disagreements_total 0\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_expectation_passing{expectation=\"model_mismatches \u2264 "
                           "0\"} 1\n"),
              "%s", page);
    cr_expect(strstr(page, "kmsload_run_finished 0\n"), "%s", page);
    cr_expect_null(strstr(page, "kmsload_run_host_"), "one target: no per-host families");
    free(page);

    /* Several hosts (dns: targets): counts and outcomes per host as well. */
    struct run_event h2 = event(KMS_OUTCOME_BELOW_THRESHOLD, 0xC004F038, 7, 1000);
    h2.host_index = 1;
    h2.host = "kms2.example.test:1688";
    h2.app = 2;
    h2.app_key = "office2013";
    sink.event(sink.ctx, &h2);
    page = render(&m);
    cr_expect(strstr(page, "kmsload_run_host_requests_total{host=\"kms2.example.test:1688\","
                           "outcome=\"below-threshold\"} 1\n"),
              "%s", page);
    cr_expect(strstr(page, "kmsload_run_host_clients{host=\"kms2.example.test:1688\","
                           "application=\"office2013\"} 7\n"),
              "%s", page);
    free(page);

    /* A disagreement turns the expectation to 0 at the next scrape; the end of the run shows. */
    struct run_event bad = event(KMS_OUTCOME_ACTIVATED, 0, 99, 1000);
    sink.event(sink.ctx, &bad);
    run_metrics_finish(&m);
    page = render(&m);
    cr_expect(strstr(page, "kmsload_run_model_disagreements_total 1\n"), "%s", page);
    cr_expect(strstr(page, "{expectation=\"model_mismatches \u2264 0\"} 0\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_requests_in_flight 0\n"), "%s", page);
    cr_expect(strstr(page, "kmsload_run_finished 1\n"), "%s", page);
    free(page);
    run_metrics_free(&m);
    free(sc);
}

Test(run_metrics, hresult_series_are_bounded)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    cr_assert_not_null(sc);
    snprintf(sc->name, sizeof sc->name, "garbage");
    struct run_metrics m;
    cr_assert_eq(run_metrics_init(&m, sc, NULL), 0);
    struct run_event_sink sink = run_metrics_sink(&m);
    /* A host answering 100 different HRESULTs: 63 series of their own, the rest in "other". */
    for (uint32_t i = 0; i < 100; i++) {
        struct run_event ev = event(KMS_OUTCOME_HOST_ERROR, 0xC0040000u + i, -1, 1000);
        sink.event(sink.ctx, &ev);
    }
    char *page = render(&m);
    cr_expect(strstr(page, "{outcome=\"host-error\",hresult=\"0xC004003E\"} 1\n"), "%s", page);
    cr_expect_null(strstr(page, "hresult=\"0xC004003F\""), "%s", page);
    cr_expect(strstr(page, "{outcome=\"host-error\",hresult=\"other\"} 37\n"), "%s", page);
    free(page);
    run_metrics_free(&m);
    free(sc);
}
