/*
 * End-to-end runs of the load engine against the embedded reference host, on the virtual clock
 * with small fleets (each test takes well under a second or two): in-process through engine_run,
 * with events.csv and summary.json read back, and through the real program (fork/exec) for exit
 * statuses, signals and files. Every child and the embedded host are stopped by the suite's fini
 * even when an assertion fails.
 */
#include "catalog.h"
#include "embedded_host.h"
#include "engine.h"
#include "events_csv.h"
#include "expect.h"
#include "fleet.h"
#include "run_dir.h"
#include "run_main.h"
#include "run_tally.h"
#include "scenario.h"

#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif
#ifndef KMSLOAD_SOURCE_DIR
#error "KMSLOAD_SOURCE_DIR must name the source tree"
#endif

#define RT_DAY_US (86400LL * 1000000LL)
#define RT_RETENTION_US (30 * RT_DAY_US)
#define RT_RUN_TIMEOUT_MS 10000
#define RT_EVENTS_COLUMNS 26

/* ---- suite state: temporary directory, children, embedded host ---- */

static struct support_scratch rt;
static struct embedded_host rt_host;
static bool rt_host_started;

static void rt_init(void)
{
    rt_host_started = false;
    support_scratch_init(&rt, "run");
}

static void rt_fini(void)
{
    if (rt_host_started) {
        embedded_host_stop(&rt_host);
        rt_host_started = false;
    }
    support_scratch_fini(&rt);
}

TestSuite(run, .init = rt_init, .fini = rt_fini, .timeout = 30);

static uint64_t rt_now_ms(void)
{
    return support_now_ms();
}

/* A fresh path in the suite's directory: DIR/what.N */
static void rt_path(char *out, size_t cap, const char *what)
{
    support_scratch_path(&rt, what, out, cap);
}

static char *rt_slurp(const char *path, size_t *len)
{
    return support_slurp(path, len);
}

/* ---- events.csv ---- */

struct rt_event {
    uint64_t seq;
    int64_t sim_us;
    uint32_t machine;
    char cmid[40];
    char population[64];
    char app[32];
    char outcome[24];
    long count; /* -1: none */
    long expected_lo, expected_hi;
    char model[12]; /* agree, DISAGREE or - */
    char detail[160];
};

struct rt_events {
    struct rt_event *ev;
    size_t n;
};

/* Reads DIR/events.csv with the run directory's reader, asserting that every record is complete
 * and valid and that seq counts 1, 2, 3... */
static void rt_events_load(struct rt_events *out, const char *dir)
{
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    struct events_csv_reader *r = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(events_csv_columns(), RT_EVENTS_COLUMNS);
    static struct events_row row;
    size_t cap = 256;
    out->n = 0;
    out->ev = calloc(cap, sizeof *out->ev);
    cr_assert_not_null(out->ev);
    int got;
    while ((got = events_csv_next(r, &row, err, sizeof err)) > 0) {
        if (out->n == cap) {
            cap *= 2;
            out->ev = realloc(out->ev, cap * sizeof *out->ev);
            cr_assert_not_null(out->ev);
        }
        const struct run_event *v = &row.ev;
        struct rt_event *e = &out->ev[out->n++];
        memset(e, 0, sizeof *e);
        e->seq = v->seq;
        e->sim_us = v->sim_us;
        e->machine = v->machine;
        guid_format(&v->cmid, e->cmid);
        snprintf(e->population, sizeof e->population, "%s", row.population);
        snprintf(e->app, sizeof e->app, "%s", row.app);
        snprintf(e->outcome, sizeof e->outcome, "%s", kms_outcome_name(v->outcome));
        e->count = (long)v->count;
        e->expected_lo = v->model_checked ? (long)v->expected_lo : -1;
        e->expected_hi = v->model_checked ? (long)v->expected_hi : -1;
        snprintf(e->model, sizeof e->model, "%s",
                 !v->model_checked ? "-"
                 : v->model_agrees ? "agree"
                                   : "DISAGREE");
        snprintf(e->detail, sizeof e->detail, "%s", v->detail);
        cr_assert_eq(e->seq, out->n, "events.csv row %zu has seq %llu", out->n,
                     (unsigned long long)e->seq);
    }
    cr_assert_eq(got, 0, "%s", err);
    cr_assert_not(events_csv_cut_short(r), "%s: incomplete last line", path);
    events_csv_close(r);
}

static void rt_events_free(struct rt_events *ev)
{
    free(ev->ev);
    ev->ev = NULL;
    ev->n = 0;
}

/* Distinct CMIDs, in order of first sight. */
struct rt_set {
    char cmid[256][40];
    int64_t last_us[256];
    size_t n;
};

/* Index of cmid in the set, added when new. */
static size_t rt_set_add(struct rt_set *s, const char *cmid)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->cmid[i], cmid) == 0)
            return i;
    cr_assert_lt(s->n, sizeof s->cmid / sizeof s->cmid[0]);
    snprintf(s->cmid[s->n], sizeof s->cmid[0], "%s", cmid);
    s->last_us[s->n] = -1;
    return s->n++;
}

/* ---- in-process runs: engine_run against the embedded host ---- */

struct rt_run {
    struct scenario *sc;
    struct catalog cat;
    struct run_tally *tally;
    struct engine_outcome out;
    struct expect_result results[SCENARIO_MAX_EXPECTATIONS];
    size_t failed;
    char dir[256];
    struct rt_events events;
    json_t *summary;
};

/* Runs scenario text (overrides: NULL-terminated "key=value" list, may be NULL) to its end. */
static void rt_run_text(struct rt_run *r, const char *text, const char *const *overrides)
{
    memset(r, 0, sizeof *r);
    char err[1024];
    size_t n_over = 0;
    while (overrides && overrides[n_over])
        n_over++;
    r->sc = calloc(1, sizeof *r->sc);
    r->tally = calloc(1, sizeof *r->tally);
    cr_assert(r->sc && r->tally);
    cr_assert_eq(scenario_parse(r->sc, text, "test.ini", overrides, n_over, err, sizeof err), 0,
                 "scenario: %s", err);
    cr_assert_eq(catalog_parse(&r->cat, catalog_builtin_ini, "built-in", err, sizeof err), 0,
                 "catalogue: %s", err);
    struct net_addrs target;
    rt_host_started = true;
    cr_assert_eq(embedded_host_start(&rt_host, r->sc, &r->cat, &target, err, sizeof err), 0,
                 "embedded host: %s", err);
    rt_path(r->dir, sizeof r->dir, "out");
    struct run_dir rec;
    cr_assert_eq(run_dir_open(&rec, r->dir, err, sizeof err), 0, "records: %s", err);
    struct run_event_sink sink = run_dir_sink(&rec);
    run_tally_init(r->tally, r->sc->n_pops);
    struct engine_config cfg = {
        .scenario = r->sc,
        .catalog = &r->cat,
        .target = &target,
        .shard_index = 0,
        .shard_count = 1,
        .threads = r->sc->threads,
    };
    cr_assert_eq(engine_run(&cfg, r->tally, &sink, &r->out, err, sizeof err), 0, "engine: %s", err);
    embedded_host_stop(&rt_host);
    rt_host_started = false;
    r->failed = expect_evaluate(r->sc, r->tally, r->results);
    struct run_info info = {
        .scenario = r->sc,
        .target = "embedded reference host",
        .embedded_host = true,
        .seed = r->sc->seed,
        .shard_index = 0,
        .shard_count = 1,
        .started_at = "2024-01-01T00:00:00Z",
        .wall_seconds = r->out.wall_seconds,
        .sim_us = r->out.sim_us,
        .interrupted = r->out.interrupted,
        .interrupt_reason = r->out.interrupt_reason,
        .kmsload_version = "test",
    };
    cr_assert_eq(
        run_dir_finish(&rec, &info, r->tally, r->results, r->sc->n_expects, err, sizeof err), 0,
        "records: %s", err);
    cr_assert_not(r->out.interrupted);
    cr_assert_lt(r->out.wall_seconds, 10.0, "the run took %.1f s", r->out.wall_seconds);
    rt_events_load(&r->events, r->dir);
    cr_assert_eq(r->events.n, r->tally->requests, "events.csv has %zu rows, the tally %llu",
                 r->events.n, (unsigned long long)r->tally->requests);
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    json_error_t jerr;
    r->summary = json_load_file(path, 0, &jerr);
    cr_assert_not_null(r->summary, "summary.json: %s (line %d)", jerr.text, jerr.line);
}

static void rt_run_free(struct rt_run *r)
{
    rt_events_free(&r->events);
    json_decref(r->summary);
    catalog_free(&r->cat);
    free(r->tally);
    free(r->sc);
}

static size_t rt_pop_index(const struct rt_run *r, const char *name)
{
    for (size_t p = 0; p < r->sc->n_pops; p++)
        if (strcmp(r->sc->pops[p].name, name) == 0)
            return p;
    cr_assert_fail("no population %s", name);
    return 0;
}

static const struct tally_app *rt_app(const struct rt_run *r, const char *key)
{
    for (size_t a = 0; a < TALLY_MAX_APPS; a++)
        if (r->tally->apps[a].seen && strcmp(r->tally->apps[a].key, key) == 0)
            return &r->tally->apps[a];
    cr_assert_fail("the run never saw application %s", key);
    return NULL;
}

static void rt_assert_all_expectations_pass(const struct rt_run *r)
{
    for (size_t i = 0; i < r->sc->n_expects; i++)
        cr_expect(r->results[i].passed, "expectation %s failed: %s",
                  r->results[i].expectation->text, r->results[i].observed);
    cr_assert_eq(r->failed, 0);
}

static const struct expect_result *rt_result(const struct rt_run *r, const char *text)
{
    for (size_t i = 0; i < r->sc->n_expects; i++)
        if (strcmp(r->results[i].expectation->text, text) == 0)
            return &r->results[i];
    cr_assert_fail("no expectation \"%s\"", text);
    return NULL;
}

/* Every answer with a count agrees with the model, in events.csv and in the tally. */
static void rt_assert_model_agrees(const struct rt_run *r)
{
    for (size_t i = 0; i < r->events.n; i++) {
        const struct rt_event *e = &r->events.ev[i];
        if (e->count >= 0)
            cr_assert_str_eq(e->model, "agree", "request %llu (count %ld, expected %ld..%ld)",
                             (unsigned long long)e->seq, e->count, e->expected_lo, e->expected_hi);
    }
    cr_assert_eq(r->tally->model_mismatches, 0);
}

/*
 * Checks, request by request (the scenarios run one request at a time), that the count of every
 * answer for application app is the number of distinct CMIDs of that application seen in the
 * last 30 days, capped at cap: what a genuine host returns. Returns the distinct CMIDs.
 */
static void rt_assert_counts_are_distinct_cmids(const struct rt_run *r, const char *app,
                                                unsigned cap, struct rt_set *seen)
{
    memset(seen, 0, sizeof *seen);
    for (size_t i = 0; i < r->events.n; i++) {
        const struct rt_event *e = &r->events.ev[i];
        if (strcmp(e->app, app) != 0)
            continue;
        cr_assert_geq(e->count, 0, "request %llu: %s (%s)", (unsigned long long)e->seq, e->outcome,
                      e->detail);
        size_t k = rt_set_add(seen, e->cmid);
        seen->last_us[k] = e->sim_us;
        unsigned live = 0;
        for (size_t j = 0; j < seen->n; j++)
            if (e->sim_us - seen->last_us[j] < RT_RETENTION_US)
                live++;
        unsigned want = live < cap ? live : cap;
        cr_assert_eq(e->count, (long)want,
                     "request %llu (machine %u, day %.4f): count %ld, %u distinct %s CMIDs live",
                     (unsigned long long)e->seq, e->machine, (double)e->sim_us / RT_DAY_US,
                     e->count, live, app);
    }
}

/* ---- 1. the threshold ---- */

static const char rt_clients_30[] = "[scenario]\n"
                                    "duration = 1d\n"
                                    "concurrency = 1\n"
                                    "[population clients]\n"
                                    "product = win10-pro\n"
                                    "machines = 30\n"
                                    "join_over = 1h\n"
                                    "[expect]\n"
                                    "first_activation.clients = 25\n"
                                    "max_count.windows = 30\n"
                                    "activated.clients = 30\n"
                                    "error_rate = 0\n";

/*
 * Everything before a population's first activation is a below-threshold answer, and the first
 * activation carries exactly `threshold`, as the threshold-th distinct CMID of the application.
 */
static void rt_assert_threshold(const struct rt_run *r, const char *pop, const char *app,
                                long threshold)
{
    size_t p = rt_pop_index(r, pop);
    const struct tally_population *tp = &r->tally->pops[p];
    cr_assert(tp->crossed, "population %s never activated", pop);
    cr_assert_eq(tp->first_activation_count, threshold);
    struct rt_set seen;
    memset(&seen, 0, sizeof seen);
    bool crossed = false;
    for (size_t i = 0; i < r->events.n; i++) {
        const struct rt_event *e = &r->events.ev[i];
        if (strcmp(e->app, app) != 0)
            continue;
        rt_set_add(&seen, e->cmid);
        bool mine = strcmp(e->population, pop) == 0;
        bool activated = strcmp(e->outcome, "activated") == 0;
        if (mine && activated)
            cr_assert_geq(e->count, threshold, "request %llu activated with count %ld",
                          (unsigned long long)e->seq, e->count);
        if (crossed || !mine)
            continue;
        if (activated) {
            crossed = true;
            cr_assert_eq(e->seq, tp->first_activation_seq);
            cr_assert_eq(e->count, threshold);
            cr_assert_eq(seen.n, (size_t)threshold, "first activation at the %zu-th distinct CMID",
                         seen.n);
        } else {
            cr_assert_str_eq(e->outcome, "below-threshold", "request %llu: %s",
                             (unsigned long long)e->seq, e->outcome);
            cr_assert_lt(e->count, threshold);
        }
    }
    cr_assert(crossed);
}

Test(run, windows_clients_cross_the_threshold_at_exactly_25)
{
    struct rt_run r;
    rt_run_text(&r, rt_clients_30, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "clients", "windows", 25);
    rt_assert_model_agrees(&r);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    cr_assert_eq(seen.n, 30);
    /* The 24 machines below the threshold retried (2 h later) and activated: 54 requests. */
    cr_assert_eq(r.tally->outcomes[KMS_OUTCOME_BELOW_THRESHOLD], 24);
    cr_assert_eq(r.tally->outcomes[KMS_OUTCOME_ACTIVATED], 30);
    cr_assert_eq(r.tally->pops[0].activated_machines, 30);
    /* summary.json says the same. */
    json_t *fa = json_object_get(
        json_object_get(json_object_get(r.summary, "populations"), "clients"), "first_activation");
    cr_assert_eq(json_integer_value(json_object_get(fa, "count")), 25);
    rt_run_free(&r);
}

Test(run, reused_connections_count_the_same)
{
    static const char *const reuse[] = {"reuse_connections=on", NULL};
    struct rt_run r;
    rt_run_text(&r, rt_clients_30, reuse);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "clients", "windows", 25);
    rt_assert_model_agrees(&r);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    cr_assert_eq(seen.n, 30);
    cr_assert_eq(r.tally->requests, 54);
    rt_run_free(&r);
}

Test(run, several_threads_count_the_same)
{
    /* Three event loops share one model and meet at every tick of virtual time. */
    static const char *const threads[] = {"threads=3", "concurrency=6", NULL};
    struct rt_run r;
    rt_run_text(&r, rt_clients_30, threads);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "clients", "windows", 25);
    rt_assert_model_agrees(&r);
    cr_assert_eq(r.tally->requests, 54);
    cr_assert_eq(r.tally->pops[0].machines, 30, "the threads' parts add up to the fleet");
    cr_assert_eq(r.tally->pops[0].activated_machines, 30);
    rt_run_free(&r);
}

Test(run, servers_cross_the_threshold_at_exactly_5)
{
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "concurrency = 1\n"
                               "[population servers]\n"
                               "product = ws2019-dc\n"
                               "machines = 8\n"
                               "join_over = 1h\n"
                               "[expect]\n"
                               "first_activation.servers = 5\n"
                               "max_count.windows = 8\n"
                               "activated.servers = 8\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "servers", "windows", 5);
    rt_assert_model_agrees(&r);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    cr_assert_eq(seen.n, 8);
    cr_assert_eq(r.tally->outcomes[KMS_OUTCOME_BELOW_THRESHOLD], 4);
    rt_run_free(&r);
}

Test(run, office_crosses_at_5_and_counts_apart_from_windows)
{
    /* 10 Windows clients and 8 Office machines interleaved: the Office machines do not raise the
     * Windows count (the clients never reach 25) and the Windows machines do not raise Office's. */
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "concurrency = 1\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 10\n"
                               "join_over = 1h\n"
                               "[population office]\n"
                               "product = office2021-proplus\n"
                               "machines = 8\n"
                               "join_at = 1m\n"
                               "join_over = 1h\n"
                               "[expect]\n"
                               "first_activation.office = 5\n"
                               "max_count.windows = 10\n"
                               "max_count.office2013 = 8\n"
                               "activated.office = 8\n"
                               "error_rate = 0\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "office", "office2013", 5);
    rt_assert_model_agrees(&r);
    struct rt_set win, office;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &win);
    rt_assert_counts_are_distinct_cmids(&r, "office2013", 10, &office);
    cr_assert_eq(win.n, 10);
    cr_assert_eq(office.n, 8);
    cr_assert_eq(rt_app(&r, "windows")->max_count, 10);
    cr_assert_eq(rt_app(&r, "office2013")->max_count, 8);
    /* The Windows clients saw 18 machines in all but only their 10: none activated. */
    size_t clients = rt_pop_index(&r, "clients");
    cr_assert_not(r.tally->pops[clients].crossed);
    cr_assert_eq(r.tally->pops[clients].activated_machines, 0);
    for (size_t i = 0; i < r.events.n; i++)
        if (strcmp(r.events.ev[i].population, "clients") == 0)
            cr_assert_str_eq(r.events.ev[i].outcome, "below-threshold");
    rt_run_free(&r);
}

/* ---- 2. the caps ---- */

Test(run, windows_count_caps_at_50)
{
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "concurrency = 1\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 70\n"
                               "join_over = 2h\n"
                               "[expect]\n"
                               "first_activation.clients = 25\n"
                               "max_count.windows = 50\n"
                               "final_count.windows = 50\n"
                               "activated.clients = 70\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_model_agrees(&r);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    cr_assert_eq(seen.n, 70);
    const struct tally_app *win = rt_app(&r, "windows");
    cr_assert_eq(win->max_count, 50);
    cr_assert_eq(win->last_count, 50);
    for (size_t i = 0; i < r.events.n; i++) {
        cr_assert_leq(r.events.ev[i].count, 50);
        cr_assert_leq(r.events.ev[i].expected_hi, 50);
    }
    /* The expectation has teeth: one below the cap fails. */
    for (size_t i = 0; i < r.sc->n_expects; i++)
        if (r.sc->expects[i].kind == EXPECT_MAX_COUNT)
            r.sc->expects[i].value = 49;
    cr_assert_geq(expect_evaluate(r.sc, r.tally, r.results), 1);
    cr_assert_not(rt_result(&r, "max_count.windows = 50")->passed);
    rt_run_free(&r);
}

Test(run, office_count_caps_at_10)
{
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "concurrency = 1\n"
                               "[population office]\n"
                               "product = office2021-proplus\n"
                               "machines = 15\n"
                               "join_over = 1h\n"
                               "[expect]\n"
                               "first_activation.office = 5\n"
                               "max_count.office2013 = 10\n"
                               "final_count.office2013 = 10\n"
                               "activated.office = 15\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_threshold(&r, "office", "office2013", 5);
    rt_assert_model_agrees(&r);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "office2013", 10, &seen);
    cr_assert_eq(seen.n, 15);
    cr_assert_eq(rt_app(&r, "office2013")->max_count, 10);
    rt_run_free(&r);
}

/* ---- 3. cloned images ---- */

Test(run, cloned_machines_do_not_raise_the_count)
{
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "concurrency = 1\n"
                               "seed = 3\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 48\n"
                               "cloned = 0.5\n"
                               "join_over = 2h\n"
                               "[expect]\n"
                               "error_rate = 0\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_model_agrees(&r);
    /* Every machine asked, but the host counts CMIDs. */
    bool asked[48] = {false};
    for (size_t i = 0; i < r.events.n; i++) {
        cr_assert_lt(r.events.ev[i].machine, 48);
        asked[r.events.ev[i].machine] = true;
    }
    for (size_t m = 0; m < 48; m++)
        cr_assert(asked[m], "machine %zu never asked", m);
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    size_t distinct = seen.n;
    cr_assert_lt(distinct, 40, "only %zu of 48 machines are clones", 48 - distinct);
    /* The fleet's own CMIDs agree: as many distinct ones as the host saw. */
    struct rt_set fleet;
    memset(&fleet, 0, sizeof fleet);
    for (uint32_t id = 0; id < 48; id++) {
        char text_cmid[GUID_TEXT_LEN + 1];
        struct guid g = fleet_cmid(r.sc, r.sc->seed, id);
        guid_format(&g, text_cmid);
        rt_set_add(&fleet, text_cmid);
    }
    cr_assert_eq(fleet.n, distinct);
    const struct tally_app *win = rt_app(&r, "windows");
    cr_assert_eq(win->max_count, (unsigned)distinct);
    cr_assert_eq(win->last_count, (unsigned)distinct);
    /* The threshold is crossed at the 25th distinct CMID, however many machines asked before
     * (seed 3: 26 distinct CMIDs among 48 machines, 43 machines asked before the first
     * activation). */
    cr_assert_geq(distinct, 25);
    rt_assert_threshold(&r, "clients", "windows", 25);
    bool before[48] = {false};
    size_t asked_before = 0;
    for (size_t i = 0; i < r.events.n && r.events.ev[i].seq < r.tally->pops[0].first_activation_seq;
         i++)
        if (!before[r.events.ev[i].machine]) {
            before[r.events.ev[i].machine] = true;
            asked_before++;
        }
    cr_assert_gt(asked_before, 25, "%zu machines asked before the first activation", asked_before);
    cr_assert_eq(r.tally->pops[0].activated_machines, 48);
    rt_run_free(&r);
}

/* ---- 4. expiry ---- */

Test(run, a_fleet_that_stops_renewing_expires_after_30_days)
{
    /* 30 clients renewing daily; half stop at day 10. Their CMIDs leave the count 30 days after
     * their last contact (around day 39), the stayers' count then falls below the threshold. */
    static const char text[] = "[scenario]\n"
                               "duration = 50d\n"
                               "concurrency = 1\n"
                               "[host]\n"
                               "renewal_interval = 1d\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 30\n"
                               "join_over = 1h\n"
                               "leave = 0.5\n"
                               "leave_at = 10d\n"
                               "[expect]\n"
                               "first_activation.clients = 25\n"
                               "max_count.windows = 30\n"
                               "error_rate = 0\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    rt_assert_all_expectations_pass(&r);
    rt_assert_model_agrees(&r);
    cr_assert_eq(r.out.sim_us, 50 * RT_DAY_US);

    /* Leavers: machines with no contact after day 10. */
    int64_t last[30];
    for (size_t m = 0; m < 30; m++)
        last[m] = -1;
    for (size_t i = 0; i < r.events.n; i++)
        last[r.events.ev[i].machine] = r.events.ev[i].sim_us;
    size_t leavers = 0, stayers = 0;
    int64_t first_leaver_last = INT64_MAX, last_leaver_last = 0;
    for (size_t m = 0; m < 30; m++) {
        cr_assert_geq(last[m], 0, "machine %zu never asked", m);
        if (last[m] < 10 * RT_DAY_US) {
            leavers++;
            cr_assert_gt(last[m], 9 * RT_DAY_US, "a leaver renews daily until day 10");
            if (last[m] < first_leaver_last)
                first_leaver_last = last[m];
            if (last[m] > last_leaver_last)
                last_leaver_last = last[m];
        } else {
            stayers++;
            cr_assert_gt(last[m], 49 * RT_DAY_US);
        }
    }
    cr_assert(leavers > 0 && stayers > 0 && stayers < 25, "%zu leavers, %zu stayers", leavers,
              stayers);

    /* Request by request: the count is the CMIDs seen in the last 30 days. */
    struct rt_set seen;
    rt_assert_counts_are_distinct_cmids(&r, "windows", 50, &seen);
    cr_assert_eq(seen.n, 30);

    /* The drop: the last contact before the first leaver's 30 days is up still carries 30; the
     * first one at or after it no longer counts that leaver; and once every leaver's 30 days are
     * up, the count is the stayers. */
    int64_t expiry = first_leaver_last + RT_RETENTION_US;
    const struct rt_event *before = NULL, *after = NULL;
    for (size_t i = 0; i < r.events.n; i++) {
        const struct rt_event *e = &r.events.ev[i];
        if (e->sim_us < expiry)
            before = e;
        else if (!after)
            after = e;
        if (e->sim_us >= last_leaver_last + RT_RETENTION_US)
            cr_assert_eq(e->count, (long)stayers, "day %.4f: count %ld, %zu stayers",
                         (double)e->sim_us / RT_DAY_US, e->count, stayers);
        else if (e->sim_us > 1 * RT_DAY_US && e->sim_us < expiry)
            cr_assert_eq(e->count, 30, "day %.4f: count %ld before any expiry",
                         (double)e->sim_us / RT_DAY_US, e->count);
    }
    cr_assert(before && after);
    cr_assert_eq(before->count, 30);
    cr_assert_lt(after->count, 30, "day %.4f: the first leaver expired at day %.4f",
                 (double)after->sim_us / RT_DAY_US, (double)expiry / RT_DAY_US);
    /* A stayer asks within the hour (the fleet joined over one hour and renews daily). */
    cr_assert_lt(after->sim_us - expiry, 3600LL * 1000000LL);

    /* The tally's and summary.json's timelines: 30 until the expiry, the stayers at the end. */
    const struct tally_app *win = rt_app(&r, "windows");
    cr_assert_eq(win->last_count, stayers);
    bool dropped = false;
    for (size_t i = 0; i < win->n_timeline; i++) {
        const struct tally_point *pt = &win->timeline[i];
        cr_assert(pt->count >= pt->expected_lo && pt->count <= pt->expected_hi);
        if (pt->count < 30 && pt->sim_us > RT_DAY_US) {
            cr_assert_geq(pt->sim_us, expiry);
            dropped = true;
        }
    }
    cr_assert(dropped);
    json_t *app = json_object_get(json_object_get(r.summary, "applications"), "windows");
    cr_assert_eq(json_integer_value(json_object_get(app, "final_count")), (json_int_t)stayers);
    json_t *timeline = json_object_get(app, "timeline");
    size_t n_points = json_array_size(timeline);
    cr_assert_gt(n_points, 30);
    json_t *lastp = json_array_get(timeline, n_points - 1);
    cr_assert_eq(json_integer_value(json_object_get(lastp, "count")), (json_int_t)stayers);
    cr_assert_geq(json_real_value(json_object_get(lastp, "sim_s")), 39.0 * 86400);
    /* The stayers stay activated (their 180 days are not up) but can no longer renew. */
    cr_assert_eq(r.tally->pops[0].activated_machines, stayers);
    rt_run_free(&r);
}

/* ---- 6. faults, in-process ---- */

Test(run, injected_faults_are_classified_not_fatal)
{
    static const char text[] = "[scenario]\n"
                               "duration = 3d\n"
                               "seed = 5\n"
                               "[host]\n"
                               "faults = drop=0.2,garble=0.2\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 40\n"
                               "join_over = 1h\n"
                               "[expect]\n"
                               "error_rate = 0.01\n"
                               "model_mismatches = 0\n";
    struct rt_run r;
    rt_run_text(&r, text, NULL);
    cr_assert_eq(r.out.sim_us, 3 * RT_DAY_US, "the run stopped early");
    cr_assert_gt(r.tally->outcomes[KMS_OUTCOME_CLOSED], 0);
    cr_assert_gt(r.tally->outcomes[KMS_OUTCOME_PROTOCOL_ERROR], 0);
    cr_assert_gt(r.tally->outcomes[KMS_OUTCOME_ACTIVATED], 0);
    uint64_t sum = 0;
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        sum += r.tally->outcomes[o];
    cr_assert_eq(sum, r.tally->requests);
    for (size_t i = 0; i < r.events.n; i++) {
        const struct rt_event *e = &r.events.ev[i];
        if (strcmp(e->outcome, "closed") == 0 || strcmp(e->outcome, "protocol-error") == 0) {
            cr_assert_eq(e->count, -1);
            cr_assert_str_eq(e->model, "-");
            cr_assert_neq(e->detail[0], '\0', "request %llu: %s without a detail",
                          (unsigned long long)e->seq, e->outcome);
        } else {
            cr_assert(strcmp(e->outcome, "activated") == 0 ||
                          strcmp(e->outcome, "below-threshold") == 0,
                      "request %llu: unexpected outcome %s (%s)", (unsigned long long)e->seq,
                      e->outcome, e->detail);
        }
    }
    /* The error rate fails; the host still counted right, lost answers included. */
    cr_assert_eq(r.failed, 1);
    cr_assert_not(rt_result(&r, "error_rate = 0.01")->passed);
    const struct expect_result *model = rt_result(&r, "model_mismatches = 0");
    cr_assert(model->passed, "%s", model->observed);
    /* Every machine still activated in the end: the fleet retried through the faults. */
    cr_assert_eq(r.tally->pops[0].activated_machines, 40);
    rt_run_free(&r);
}

/* ---- the real program ---- */

/* Runs `kmsload ARGS...` (NULL-terminated) to its end, bounded in time. */
static struct support_result rt_kmsload(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result p = support_runv(&rt, RT_RUN_TIMEOUT_MS, 0, first, ap);
    va_end(ap);
    cr_assert_neq(p.status, -1, "kmsload died of a signal; stderr: %s", p.err);
    return p;
}

static json_t *rt_summary(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t jerr;
    json_t *s = json_load_file(path, 0, &jerr);
    cr_assert_not_null(s, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return s;
}

static char *rt_junit(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    char *text = rt_slurp(path, NULL);
    cr_assert_not_null(text, "no %s", path);
    cr_assert(strncmp(text, "<?xml", 5) == 0);
    cr_assert_not_null(strstr(text, "</testsuites>"), "junit.xml is not complete");
    return text;
}

/* The <testcase> element whose name starts with name (up to its end), or NULL. */
static char *rt_testcase(char *junit, const char *name, char *out, size_t cap)
{
    char needle[256];
    snprintf(needle, sizeof needle, "name=\"%s", name);
    char *start = strstr(junit, needle);
    if (!start)
        return NULL;
    char *end = strstr(start, "</testcase>");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, start, n);
    out[n] = '\0';
    return out;
}

static uint64_t rt_json_outcome(json_t *summary, const char *name)
{
    return (uint64_t)json_integer_value(
        json_object_get(json_object_get(summary, "outcomes"), name));
}

static const char rt_climb[] = KMSLOAD_SOURCE_DIR "/scenarios/threshold-climb.ini";

/* ---- 5. interrupted runs ---- */

static void rt_interrupt(int sig, const char *sig_name)
{
    static const char text[] = "[scenario]\n"
                               "name = long-real\n"
                               "clock = real\n"
                               "duration = 1h\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 4\n"
                               "join_over = 1h\n"
                               "[expect]\n"
                               "error_rate = 0\n";
    char scenario[128], out[128];
    rt_path(scenario, sizeof scenario, "long-real.ini");
    rt_path(out, sizeof out, "interrupted");
    support_write_file(scenario, text);
    const char *args[] = {"run", scenario, "--out", out, NULL};
    struct support_child run;
    support_start(&rt, &run, args, 0);
    /* Wait until the first machine's request is in events.csv (flushed every half second). */
    char events[256];
    snprintf(events, sizeof events, "%s/events.csv", out);
    uint64_t end = rt_now_ms() + 5000;
    for (;;) {
        char *text_now = rt_slurp(events, NULL);
        size_t lines = 0;
        for (const char *c = text_now; c && *c; c++)
            lines += *c == '\n';
        free(text_now);
        if (lines >= 2)
            break;
        cr_assert_lt(rt_now_ms(), end, "no request recorded after 5 s");
        struct timespec ms = {0, 50000000};
        nanosleep(&ms, NULL);
    }
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
    uint64_t signalled = rt_now_ms();
    cr_assert_eq(kill(run.pid, sig), 0);
    int status = support_finish(&rt, &run, 5000);
    char *err = rt_slurp(run.err, NULL);
    cr_assert_eq(status, RUN_EXIT_FAILED, "exit status %d after %s; stderr: %s", status, sig_name,
                 err);
    free(err);
    cr_assert_lt(rt_now_ms() - signalled, 3000, "the run took too long to stop");

    /* events.csv: the header and complete lines. */
    struct rt_events ev;
    rt_events_load(&ev, out);
    cr_assert_geq(ev.n, 1);
    cr_assert_str_eq(ev.ev[0].outcome, "below-threshold");
    /* summary.json parses and says the run was interrupted, and why. */
    json_t *summary = rt_summary(out);
    cr_assert(json_is_true(json_object_get(summary, "interrupted")));
    cr_assert_str_eq(json_string_value(json_object_get(summary, "interrupt_reason")), sig_name);
    cr_assert_eq(json_integer_value(json_object_get(summary, "requests")), (json_int_t)ev.n);
    cr_assert_lt(json_real_value(json_object_get(summary, "simulated_seconds")), 600.0);
    /* junit.xml: a failing "run completed" case. */
    char *junit = rt_junit(out);
    char tc[1024];
    cr_assert_not_null(rt_testcase(junit, "run completed", tc, sizeof tc), "%s", junit);
    cr_assert_not_null(strstr(tc, "<failure"), "%s", tc);
    cr_assert_not_null(strstr(tc, sig_name), "%s", tc);
    /* Nothing half-written is left behind. */
    DIR *d = opendir(out);
    cr_assert_not_null(d);
    struct dirent *de;
    size_t files = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
            continue;
        files++;
        cr_assert_null(strstr(de->d_name, ".tmp"), "left behind: %s", de->d_name);
        cr_assert(strcmp(de->d_name, "events.csv") == 0 ||
                      strcmp(de->d_name, "summary.json") == 0 ||
                      strcmp(de->d_name, "junit.xml") == 0 ||
                      strcmp(de->d_name, "index.html") == 0 || strcmp(de->d_name, "charts") == 0,
                  "unexpected file %s", de->d_name);
    }
    closedir(d);
    cr_assert_eq(files, 5, "the three records, then the report: index.html and charts/");
    free(junit);
    json_decref(summary);
    rt_events_free(&ev);
}

Test(run, sigint_leaves_valid_files_marked_interrupted)
{
    rt_interrupt(SIGINT, "SIGINT");
}

Test(run, sigterm_leaves_valid_files_marked_interrupted)
{
    rt_interrupt(SIGTERM, "SIGTERM");
}

/* ---- 6. faults, through the program ---- */

Test(run, program_with_host_faults_finishes_and_fails_the_error_rate)
{
    char out[128];
    rt_path(out, sizeof out, "faults");
    struct support_result p = rt_kmsload("run", rt_climb, "--out", out, "--quiet", "--set",
                                         "host.faults=drop=0.2,garble=0.2", "--set",
                                         "population clients.machines=40", NULL);
    cr_assert_eq(p.status, RUN_EXIT_FAILED, "stderr: %s", p.err);
    json_t *s = rt_summary(out);
    cr_assert(json_is_false(json_object_get(s, "interrupted")));
    cr_assert_gt(rt_json_outcome(s, "closed"), 0);
    cr_assert_gt(rt_json_outcome(s, "protocol-error"), 0);
    cr_assert_gt(rt_json_outcome(s, "activated"), 0);
    cr_assert_eq(json_real_value(json_object_get(s, "simulated_seconds")), 3 * 86400.0);
    char *junit = rt_junit(out);
    char tc[2048];
    cr_assert_not_null(rt_testcase(junit, "error_rate \u2264 0", tc, sizeof tc), "%s", junit);
    cr_assert_not_null(strstr(tc, "<failure message=\"error rate"), "%s", tc);
    /* The threshold and the model still hold: the faults lost answers, not counts. */
    cr_assert_not_null(rt_testcase(junit, "model_mismatches \u2264 0", tc, sizeof tc));
    cr_assert_null(strstr(tc, "<failure"), "%s", tc);
    free(junit);
    json_decref(s);
    support_result_free(&p);
}

/* ---- 7. exit statuses ---- */

Test(run, exit_0_when_every_expectation_holds)
{
    char out[128];
    rt_path(out, sizeof out, "pass");
    struct support_result p = rt_kmsload("run", rt_climb, "--out", out, NULL);
    cr_assert_eq(p.status, RUN_EXIT_PASSED, "stdout: %s\nstderr: %s", p.out, p.err);
    cr_assert_not_null(strstr(p.out, "[PASS] first_activation.clients = 25"), "%s", p.out);
    json_t *s = rt_summary(out);
    cr_assert(json_is_true(json_object_get(s, "passed")));
    json_decref(s);
    support_result_free(&p);
}

Test(run, exit_1_when_an_expectation_fails)
{
    char out[128];
    rt_path(out, sizeof out, "fail");
    struct support_result p = rt_kmsload("run", rt_climb, "--out", out, "--quiet", "--set",
                                         "expect.first_activation.clients=24", NULL);
    cr_assert_eq(p.status, RUN_EXIT_FAILED, "stderr: %s", p.err);
    char *junit = rt_junit(out);
    char tc[2048];
    cr_assert_not_null(rt_testcase(junit, "first_activation.clients = 24", tc, sizeof tc), "%s",
                       junit);
    cr_assert_not_null(strstr(tc, "<failure"), "%s", tc);
    cr_assert_not_null(strstr(tc, "count 25"), "%s", tc);
    cr_assert_not_null(rt_testcase(junit, "max_count.windows \u2264 30", tc, sizeof tc));
    cr_assert_null(strstr(tc, "<failure"), "%s", tc);
    free(junit);
    json_t *s = rt_summary(out);
    cr_assert(json_is_false(json_object_get(s, "passed")));
    json_decref(s);
    support_result_free(&p);
}

Test(run, exit_2_for_a_bad_scenario_naming_file_line_and_key)
{
    static const char text[] = "[scenario]\n"
                               "duration = 1d\n"
                               "\n"
                               "[population clients]\n"
                               "product = win10-pro\n"
                               "machines = 3\n"
                               "colour = blue\n";
    char scenario[128], out[128];
    rt_path(scenario, sizeof scenario, "bad.ini");
    rt_path(out, sizeof out, "bad");
    support_write_file(scenario, text);
    struct support_result p = rt_kmsload("run", scenario, "--out", out, NULL);
    cr_assert_eq(p.status, RUN_EXIT_USAGE);
    char where[200];
    snprintf(where, sizeof where, "%s:7:", scenario);
    cr_assert_not_null(strstr(p.err, where), "%s", p.err);
    cr_assert_not_null(strstr(p.err, "colour"), "%s", p.err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "a bad scenario must not create the output directory");
    support_result_free(&p);

    /* A bad override is named too. */
    p = rt_kmsload("run", rt_climb, "--out", out, "--set", "expect.no_such_thing=1", NULL);
    cr_assert_eq(p.status, RUN_EXIT_USAGE);
    cr_assert_not_null(strstr(p.err, "--set"), "%s", p.err);
    cr_assert_not_null(strstr(p.err, "no_such_thing"), "%s", p.err);
    support_result_free(&p);
}

Test(run, exit_2_for_bad_flags)
{
    static const char *const bad[][4] = {
        {"--bogus", NULL},        {"--shard", "2/2", NULL},    {"--shard", "1", NULL},
        {"--seed", "many", NULL}, {"--set", "duration", NULL}, {"--set", "duration=-1d", NULL},
        {"--target", "", NULL},
    };
    char out[128];
    rt_path(out, sizeof out, "flags");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a1 = bad[i][0], *a2 = bad[i][1];
        struct support_result p = rt_kmsload("run", rt_climb, "--out", out, a1, a2, NULL);
        cr_assert_eq(p.status, RUN_EXIT_USAGE, "%s %s: status %d", a1, a2 ? a2 : "", p.status);
        cr_assert_neq(p.err[0], '\0', "%s: no message", a1);
        support_result_free(&p);
    }
    struct support_result p = rt_kmsload("run", NULL);
    cr_assert_eq(p.status, RUN_EXIT_USAGE);
    cr_assert_not_null(strstr(p.err, "SCENARIO"), "%s", p.err);
    support_result_free(&p);
    p = rt_kmsload("run", KMSLOAD_SOURCE_DIR "/scenarios/no-such-scenario.ini", NULL);
    cr_assert_eq(p.status, RUN_EXIT_USAGE);
    support_result_free(&p);
}

Test(run, exit_3_when_the_target_is_unreachable)
{
    char out[128];
    rt_path(out, sizeof out, "unreachable");
    uint64_t start = rt_now_ms();
    struct support_result p = rt_kmsload("run", rt_climb, "--out", out, "--quiet", "--target",
                                         "127.0.0.1:1", "--set", "timeout=200ms", NULL);
    cr_assert_eq(p.status, RUN_EXIT_UNREACHABLE, "stderr: %s", p.err);
    cr_assert_lt(rt_now_ms() - start, 5000);
    json_t *s = rt_summary(out);
    cr_assert_gt(rt_json_outcome(s, "connect-refused"), 0);
    cr_assert_eq(rt_json_outcome(s, "activated") + rt_json_outcome(s, "below-threshold"), 0);
    json_decref(s);
    support_result_free(&p);
}

/* ---- 8. reproducibility and shards ---- */

static int rt_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The CMID column of DIR/events.csv, sorted, as one string (one CMID a line). */
static char *rt_sorted_cmids(const char *dir, size_t *n_rows)
{
    struct rt_events ev;
    rt_events_load(&ev, dir);
    char **col = calloc(ev.n ? ev.n : 1, sizeof *col);
    cr_assert_not_null(col);
    for (size_t i = 0; i < ev.n; i++)
        col[i] = ev.ev[i].cmid;
    qsort(col, ev.n, sizeof *col, rt_strcmp);
    char *joined = calloc(ev.n * 40 + 1, 1);
    cr_assert_not_null(joined);
    size_t len = 0;
    for (size_t i = 0; i < ev.n; i++)
        len += (size_t)sprintf(joined + len, "%s\n", col[i]);
    *n_rows = ev.n;
    free(col);
    rt_events_free(&ev);
    return joined;
}

static void rt_run_seed(const char *out, const char *seed)
{
    struct support_result p =
        rt_kmsload("run", rt_climb, "--out", out, "--quiet", "--seed", seed, NULL);
    cr_assert_eq(p.status, RUN_EXIT_PASSED, "seed %s: stderr: %s", seed, p.err);
    support_result_free(&p);
}

Test(run, the_same_seed_gives_the_same_cmids)
{
    char a[128], b[128], c[128];
    rt_path(a, sizeof a, "seed7a");
    rt_path(b, sizeof b, "seed7b");
    rt_path(c, sizeof c, "seed8");
    rt_run_seed(a, "7");
    rt_run_seed(b, "7");
    rt_run_seed(c, "8");
    size_t na, nb, nc;
    char *ca = rt_sorted_cmids(a, &na), *cb = rt_sorted_cmids(b, &nb),
         *cc = rt_sorted_cmids(c, &nc);
    cr_assert_eq(na, 54);
    cr_assert_eq(na, nb);
    cr_assert_str_eq(ca, cb);
    cr_assert_str_neq(ca, cc);
    /* A different seed gives a different fleet, not a permutation of the same one. */
    struct rt_events ea, ec;
    rt_events_load(&ea, a);
    rt_events_load(&ec, c);
    for (size_t i = 0; i < ea.n; i++)
        for (size_t j = 0; j < ec.n; j++)
            cr_assert_str_neq(ea.ev[i].cmid, ec.ev[j].cmid);
    rt_events_free(&ea);
    rt_events_free(&ec);
    free(ca);
    free(cb);
    free(cc);
}

Test(run, shards_are_disjoint_and_make_up_the_whole_fleet)
{
    char whole[128], s0[128], s1[128];
    rt_path(whole, sizeof whole, "whole");
    rt_path(s0, sizeof s0, "shard0");
    rt_path(s1, sizeof s1, "shard1");
    const char *dirs[] = {s0, s1};
    const char *shards[] = {"0/2", "1/2"};
    struct support_result p = rt_kmsload("run", rt_climb, "--out", whole, "--quiet", NULL);
    cr_assert_eq(p.status, RUN_EXIT_PASSED, "%s", p.err);
    support_result_free(&p);
    /* CMID of each machine in the whole run. */
    char cmid_of[30][40];
    memset(cmid_of, 0, sizeof cmid_of);
    struct rt_events ev;
    rt_events_load(&ev, whole);
    for (size_t i = 0; i < ev.n; i++) {
        cr_assert_lt(ev.ev[i].machine, 30);
        snprintf(cmid_of[ev.ev[i].machine], sizeof cmid_of[0], "%s", ev.ev[i].cmid);
    }
    rt_events_free(&ev);

    int owner[30];
    for (size_t m = 0; m < 30; m++)
        owner[m] = -1;
    for (int k = 0; k < 2; k++) {
        /* 15 machines are below the clients' threshold: the first-activation expectation fails. */
        p = rt_kmsload("run", rt_climb, "--out", dirs[k], "--quiet", "--shard", shards[k], NULL);
        cr_assert_eq(p.status, RUN_EXIT_FAILED, "shard %s: %s", shards[k], p.err);
        support_result_free(&p);
        json_t *s = rt_summary(dirs[k]);
        json_t *shard = json_object_get(s, "shard");
        cr_assert_eq(json_integer_value(json_object_get(shard, "index")), k);
        cr_assert_eq(json_integer_value(json_object_get(shard, "count")), 2);
        json_decref(s);
        rt_events_load(&ev, dirs[k]);
        cr_assert_gt(ev.n, 0);
        for (size_t i = 0; i < ev.n; i++) {
            uint32_t m = ev.ev[i].machine;
            cr_assert_lt(m, 30);
            cr_assert(owner[m] == -1 || owner[m] == k, "machine %u is in both shards", m);
            owner[m] = k;
            cr_assert_str_eq(ev.ev[i].cmid, cmid_of[m], "machine %u has another CMID in shard %s",
                             m, shards[k]);
        }
        rt_events_free(&ev);
    }
    for (size_t m = 0; m < 30; m++)
        cr_assert_neq(owner[m], -1, "machine %zu is in no shard", m);
}
