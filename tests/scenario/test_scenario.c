/* Scenario files: every key, defaults, overrides, arrivals, and error messages naming file:line. */
#include "scenario.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define US_S 1000000LL
#define US_MIN (60 * US_S)
#define US_H (3600 * US_S)
#define US_D (86400 * US_S)

static const char scenario_test_minimal[] = "[population clients]\n"
                                            "product = win10-pro\n"
                                            "machines = 30\n";

/* A file that gives every key of every section (line numbers matter to the error tests). */
static const char scenario_test_full[] = "; every key\n"                                   /* 1 */
                                         "[scenario]\n"                                    /* 2 */
                                         "name = full\n"                                   /* 3 */
                                         "description = Every key, for the parser tests\n" /* 4 */
                                         "clock = real\n"                                  /* 5 */
                                         "duration = 3d\n"                                 /* 6 */
                                         "tick = 5m\n"                                     /* 7 */
                                         "seed = 18446744073709551615\n"                   /* 8 */
                                         "concurrency = 1000\n"                            /* 9 */
                                         "timeout = 250ms\n"                               /* 10 */
                                         "reuse_connections = on\n"                        /* 11 */
                                         "threads = 4\n"                                   /* 12 */
                                         "\n"                                              /* 13 */
                                         "[host]\n"                                        /* 14 */
                                         "activation_interval = 1h\n"                      /* 15 */
                                         "renewal_interval = 1d\n"                         /* 16 */
                                         "products = win10,ws2019 ; a comment\n"           /* 17 */
                                         "faults = drop=0.01,latency=5ms@0.1\n"            /* 18 */
                                         "ndr64 = off\n"                                   /* 19 */
                                         "\n"                                              /* 20 */
                                         "[population clients]\n"                          /* 21 */
                                         "product = win10-pro\n"                           /* 22 */
                                         "machines = 30\n"                                 /* 23 */
                                         "protocol = 5\n"                                  /* 24 */
                                         "n_policy = 50\n"                                 /* 25 */
                                         "ndr64 = off\n"                                   /* 26 */
                                         "alter_context = on\n"                            /* 27 */
                                         "vm = 0.25\n"                                     /* 28 */
                                         "license_status = 1\n"                            /* 29 */
                                         "cloned = 10%\n"                                  /* 30 */
                                         "join_at = 1h\n"                                  /* 31 */
                                         "join_over = 2h30m\n"                             /* 32 */
                                         "leave = 0.5\n"                                   /* 33 */
                                         "leave_at = 2d\n"                                 /* 34 */
                                         "leave_over = 12h\n"                              /* 35 */
                                         "\n"                                              /* 36 */
                                         "[population vdi]\n"                              /* 37 */
                                         "product = Windows 10/11 Enterprise\n"            /* 38 */
                                         "machines = 5000\n"                               /* 39 */
                                         "arrivals = 5m:0-20/s, 10m:20/s\n"                /* 40 */
                                         "\n"                                              /* 41 */
                                         "[expect]\n"                                      /* 42 */
                                         "model_mismatches = 2\n"                          /* 43 */
                                         "first_activation.clients = 25\n"                 /* 44 */
                                         "max_count.windows = 50\n"                        /* 45 */
                                         "final_count.office2013 = 10\n"                   /* 46 */
                                         "activated.vdi = 4000\n"                          /* 47 */
                                         "error_rate = 0.001\n"                            /* 48 */
                                         "unexpected_hresults = 0\n"                       /* 49 */
                                         "allowed_hresults = 0xC004F042, 0xc004f038\n"     /* 50 */
                                         "latency_p50 = 2ms\n"                             /* 51 */
                                         "latency_p90 = 5ms\n"                             /* 52 */
                                         "latency_p99 = 20ms\n"                            /* 53 */
                                         "latency_p999 = 100ms\n"                          /* 54 */
                                         "latency_max = 1s\n"                              /* 55 */
                                         "requests = 1000\n";                              /* 56 */

static int scenario_test_parse_with(struct scenario *sc, const char *text,
                                    const char *const *overrides, size_t n, char *err,
                                    size_t err_len)
{
    err[0] = '\0';
    return scenario_parse(sc, text, "test.ini", overrides, n, err, err_len);
}

/* Parses text that must be refused; returns the message (static storage). */
static const char *scenario_test_error_with(const char *text, const char *const *overrides,
                                            size_t n)
{
    static char err[1024];
    static struct scenario sc;
    int rc = scenario_test_parse_with(&sc, text, overrides, n, err, sizeof err);
    cr_assert_eq(rc, -1, "parsed although it should not have:\n%s", text);
    cr_expect_eq(sc.n_pops, 0, "a refused scenario is left empty");
    cr_expect_neq(err[0], '\0');
    return err;
}

static const char *scenario_test_error(const char *text)
{
    return scenario_test_error_with(text, NULL, 0);
}

/* The minimal file with extra text appended (extra starts at line 4). */
static const char *scenario_test_error_after_minimal(const char *extra)
{
    static char text[4096];
    snprintf(text, sizeof text, "%s%s", scenario_test_minimal, extra);
    return scenario_test_error(text);
}

#define scenario_expect_has(err, part)                                                             \
    cr_expect(strstr((err), (part)) != NULL, "message \"%s\" lacks \"%s\"", (err), (part))

static const struct scenario_expectation *
scenario_test_find(const struct scenario *sc, enum expect_kind kind, const char *subject)
{
    for (size_t i = 0; i < sc->n_expects; i++) {
        if (sc->expects[i].kind == kind && strcmp(sc->expects[i].subject, subject) == 0)
            return &sc->expects[i];
    }
    return NULL;
}

Test(scenario, every_key_parses)
{
    static struct scenario sc;
    char err[1024];
    cr_assert_eq(scenario_test_parse_with(&sc, scenario_test_full, NULL, 0, err, sizeof err), 0,
                 "%s", err);
    cr_expect_str_eq(sc.path, "test.ini");
    cr_expect_str_eq(sc.name, "full");
    cr_expect_str_eq(sc.description, "Every key, for the parser tests");
    cr_expect_eq(sc.clock, SCENARIO_CLOCK_REAL);
    cr_expect_eq(sc.duration_us, 3 * US_D);
    cr_expect_eq(sc.tick_us, 5 * US_MIN);
    cr_expect_eq(sc.seed, UINT64_MAX);
    cr_expect_eq(sc.concurrency, 1000);
    cr_expect_eq(sc.timeout_us, 250000);
    cr_expect(sc.reuse_connections);
    cr_expect_eq(sc.threads, 4);

    cr_expect_eq(sc.host_activation_interval, 60);
    cr_expect_eq(sc.host_renewal_interval, 1440);
    cr_expect_str_eq(sc.host_products, "win10,ws2019");
    cr_expect_str_eq(sc.host_faults, "drop=0.01,latency=5ms@0.1");
    cr_expect_not(sc.host_ndr64);

    cr_assert_eq(sc.n_pops, 2);
    const struct scenario_population *p = &sc.pops[0];
    cr_expect_str_eq(p->name, "clients");
    cr_expect_str_eq(p->product, "win10-pro");
    cr_expect_eq(p->machines, 30);
    cr_expect_eq(p->protocol, 5);
    cr_expect_eq(p->n_policy, 50);
    cr_expect_not(p->ndr64);
    cr_expect(p->alter_context);
    cr_expect_float_eq(p->vm_share, 0.25, 1e-12);
    cr_expect_eq(p->license_status, 1);
    cr_expect_float_eq(p->cloned_share, 0.10, 1e-12);
    cr_expect_eq(p->join_at_us, US_H);
    cr_expect_eq(p->join_over_us, 2 * US_H + 30 * US_MIN);
    cr_expect_float_eq(p->leave_share, 0.5, 1e-12);
    cr_expect_eq(p->leave_at_us, 2 * US_D);
    cr_expect_eq(p->leave_over_us, 12 * US_H);
    cr_expect_not(p->open);
    cr_expect_eq(p->n_stages, 0);
    cr_expect_eq(p->line, 21);

    p = &sc.pops[1];
    cr_expect_str_eq(p->name, "vdi");
    cr_expect_str_eq(p->product, "Windows 10/11 Enterprise");
    cr_expect_eq(p->machines, 5000);
    cr_expect(p->open);
    cr_assert_eq(p->n_stages, 2);
    cr_expect_eq(p->stages[0].duration_us, 5 * US_MIN);
    cr_expect_float_eq(p->stages[0].rate_from, 0.0, 1e-12);
    cr_expect_float_eq(p->stages[0].rate_to, 20.0, 1e-12);
    cr_expect_eq(p->stages[1].duration_us, 10 * US_MIN);
    cr_expect_float_eq(p->stages[1].rate_from, 20.0, 1e-12);
    cr_expect_float_eq(p->stages[1].rate_to, 20.0, 1e-12);
    /* Defaults of the keys this population leaves out. */
    cr_expect(p->ndr64);
    cr_expect_eq(p->license_status, 2);
    cr_expect_eq(p->leave_at_us, SCENARIO_NEVER);
    cr_expect_float_eq(p->leave_share, 0.0, 1e-12);

    /* Thirteen expectations (allowed_hresults is a list, not an expectation), no default added. */
    cr_expect_eq(sc.n_expects, 13);
    const struct scenario_expectation *e = scenario_test_find(&sc, EXPECT_MODEL_MISMATCHES, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 2.0, 1e-12);
    cr_expect_eq(e->line, 43);
    cr_expect_str_eq(e->text, "model_mismatches = 2");
    e = scenario_test_find(&sc, EXPECT_FIRST_ACTIVATION, "clients");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 25.0, 1e-12);
    cr_expect_eq(e->line, 44);
    cr_expect_str_eq(e->text, "first_activation.clients = 25");
    e = scenario_test_find(&sc, EXPECT_MAX_COUNT, "windows");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 50.0, 1e-12);
    e = scenario_test_find(&sc, EXPECT_FINAL_COUNT, "office2013");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 10.0, 1e-12);
    e = scenario_test_find(&sc, EXPECT_ACTIVATED, "vdi");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 4000.0, 1e-12);
    e = scenario_test_find(&sc, EXPECT_ERROR_RATE, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 0.001, 1e-12);
    e = scenario_test_find(&sc, EXPECT_UNEXPECTED_HRESULTS, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 0.0, 1e-12);
    static const struct {
        const char *subject;
        double us;
    } latencies[] = {{"p50", 2e3}, {"p90", 5e3}, {"p99", 20e3}, {"p999", 100e3}, {"max", 1e6}};
    for (size_t i = 0; i < 5; i++) {
        e = scenario_test_find(&sc, EXPECT_LATENCY, latencies[i].subject);
        cr_assert_not_null(e, "latency %s", latencies[i].subject);
        cr_expect_float_eq(e->value, latencies[i].us, 1e-6);
    }
    e = scenario_test_find(&sc, EXPECT_MIN_REQUESTS, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 1000.0, 1e-12);
    cr_assert_eq(sc.n_allowed_hresults, 2);
    cr_expect_eq(sc.allowed_hresults[0], 0xC004F042u);
    cr_expect_eq(sc.allowed_hresults[1], 0xC004F038u);
}

Test(scenario, defaults)
{
    static struct scenario sc;
    char err[1024];
    int rc =
        scenario_parse(&sc, scenario_test_minimal, "dir/threshold.ini", NULL, 0, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_str_eq(sc.name, "threshold"); /* the file's base name */
    cr_expect_str_eq(sc.description, "");
    cr_expect_eq(sc.clock, SCENARIO_CLOCK_VIRTUAL);
    cr_expect_eq(sc.duration_us, 30 * US_D);
    cr_expect_eq(sc.tick_us, US_MIN);
    cr_expect_eq(sc.seed, 1);
    cr_expect_eq(sc.concurrency, 256);
    cr_expect_eq(sc.timeout_us, 5 * US_S);
    cr_expect_not(sc.reuse_connections);
    cr_expect_eq(sc.threads, 0);
    cr_expect_eq(sc.host_activation_interval, 120);
    cr_expect_eq(sc.host_renewal_interval, 10080);
    cr_expect_str_eq(sc.host_products, "");
    cr_expect_str_eq(sc.host_faults, "");
    cr_expect(sc.host_ndr64);

    cr_assert_eq(sc.n_pops, 1);
    const struct scenario_population *p = &sc.pops[0];
    cr_expect_eq(p->protocol, 0);
    cr_expect_eq(p->n_policy, 0);
    cr_expect(p->ndr64);
    cr_expect_not(p->alter_context);
    cr_expect_float_eq(p->vm_share, 0.0, 1e-12);
    cr_expect_eq(p->license_status, 2);
    cr_expect_float_eq(p->cloned_share, 0.0, 1e-12);
    cr_expect_eq(p->join_at_us, 0);
    cr_expect_eq(p->join_over_us, 0);
    cr_expect_float_eq(p->leave_share, 0.0, 1e-12);
    cr_expect_eq(p->leave_at_us, SCENARIO_NEVER);
    cr_expect_not(p->open);
    cr_expect_eq(p->line, 1);

    /* No silent pass: model_mismatches, unexpected_hresults and unanswered = 0 are implied. */
    cr_assert_eq(sc.n_expects, 3);
    cr_expect_eq(sc.expects[0].kind, EXPECT_MODEL_MISMATCHES);
    cr_expect_float_eq(sc.expects[0].value, 0.0, 1e-12);
    cr_expect_eq(sc.expects[0].line, 0);
    cr_expect_str_eq(sc.expects[0].text, "model_mismatches = 0 (default)");
    cr_expect_eq(sc.expects[1].kind, EXPECT_UNEXPECTED_HRESULTS);
    cr_expect_str_eq(sc.expects[1].text, "unexpected_hresults = 0 (default)");
    cr_expect_eq(sc.expects[2].kind, EXPECT_UNANSWERED);
    cr_expect_str_eq(sc.expects[2].text, "unanswered = 0 (default)");
    cr_expect_eq(sc.n_allowed_hresults, 0);
}

Test(scenario, sections_in_any_order_and_forward_references)
{
    static struct scenario sc;
    char err[1024];
    const char *text = "[expect]\nfirst_activation.late = 5\nactivated.late = 3\n"
                       "[host]\nrenewal_interval = 30d\n"
                       "[population late]\nmachines = 10\nproduct = ws2019-dc\n"
                       "[scenario]\nduration = 2d\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.n_expects, 5);
    cr_expect_eq(sc.host_renewal_interval, 43200);
    cr_expect_eq(sc.duration_us, 2 * US_D);
}

Test(scenario, comments_bom_crlf_and_switch_spellings)
{
    static struct scenario sc;
    char err[1024];
    const char *text = "\xEF\xBB\xBF; comment\r\n# another\r\n[scenario] ; trailing comment\r\n"
                       "reuse_connections = yes\r\n[host]\r\nndr64 = false\r\n"
                       "[population  a-b_C9]\r\nproduct=win10-pro\r\nmachines:7\r\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect(sc.reuse_connections);
    cr_expect_not(sc.host_ndr64);
    cr_expect_str_eq(sc.pops[0].name, "a-b_C9");
    cr_expect_eq(sc.pops[0].machines, 7);
}

Test(scenario, join_beyond_duration_is_allowed)
{
    static struct scenario sc;
    char err[1024];
    const char *text = "[scenario]\nduration = 1d\n"
                       "[population c]\nproduct = win10-pro\nmachines = 10\njoin_at = 20h\n"
                       "join_over = 10h\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.pops[0].join_at_us + sc.pops[0].join_over_us, 30 * US_H);
}

Test(scenario, leave_defaults)
{
    static struct scenario sc;
    char err[1024];
    /* leave_at alone: the whole population leaves. */
    const char *text = "[population c]\nproduct = win10-pro\nmachines = 10\nleave_at = 10d\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_float_eq(sc.pops[0].leave_share, 1.0, 1e-12);
    cr_expect_eq(sc.pops[0].leave_at_us, 10 * US_D);
    /* A share of 0: nobody leaves, whatever leave_at says. */
    text = "[population c]\nproduct = win10-pro\nmachines = 10\nleave = 0\nleave_at = 10d\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.pops[0].leave_at_us, SCENARIO_NEVER);
    /* A share without a time is an error at the share's line. */
    const char *msg = scenario_test_error_after_minimal("leave = 0.5\n");
    scenario_expect_has(msg, "test.ini:4: [population clients] leave: needs leave_at");
}

Test(scenario, arrivals_ramp_and_constant_stages)
{
    static struct scenario sc;
    char err[1024];
    /* machines = 0: as many as the stages bring, 0..20/s for 5 min then 20/s for 10 min. */
    const char *text = "[population storm]\nproduct = win10-ent\nmachines = 0\n"
                       "arrivals = 5m:0-20/s, 10m:20/s\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    const struct scenario_population *p = &sc.pops[0];
    cr_expect(p->open);
    cr_expect_eq(p->n_stages, 2);
    cr_expect_eq(p->machines, 3000 + 12000);

    /* Per-minute and per-hour rates, spaces, decimals, a pause and one stage. */
    text = "[population storm]\nproduct = win10-ent\nmachines = 100\n"
           "arrivals = 90s : 0 - 600/m ,1h:7.2/h,  1m:0/s,2h:1.5-0.5/s\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    p = &sc.pops[0];
    cr_assert_eq(p->n_stages, 4);
    cr_expect_eq(p->machines, 100);
    cr_expect_eq(p->stages[0].duration_us, 90 * US_S);
    cr_expect_float_eq(p->stages[0].rate_from, 0.0, 1e-12);
    cr_expect_float_eq(p->stages[0].rate_to, 10.0, 1e-12);
    cr_expect_eq(p->stages[1].duration_us, US_H);
    cr_expect_float_eq(p->stages[1].rate_from, 0.002, 1e-12);
    cr_expect_float_eq(p->stages[1].rate_to, 0.002, 1e-12);
    cr_expect_float_eq(p->stages[2].rate_to, 0.0, 1e-12);
    cr_expect_float_eq(p->stages[3].rate_from, 1.5, 1e-12);
    cr_expect_float_eq(p->stages[3].rate_to, 0.5, 1e-12);

    text = "[population storm]\nproduct = win10-ent\nmachines = 0\narrivals = 15m:0-11.12/s\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.pops[0].machines, 5004); /* 900 s × 5.56/s */

    char many[512] = "";
    for (int i = 0; i < SCENARIO_MAX_STAGES; i++)
        strcat(many, i ? ",1m:1/s" : "1m:1/s");
    char buf[1024];
    snprintf(buf, sizeof buf, "[population s]\nproduct = win10-ent\nmachines = 0\narrivals = %s\n",
             many);
    cr_assert_eq(scenario_test_parse_with(&sc, buf, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.pops[0].n_stages, SCENARIO_MAX_STAGES);
    cr_expect_eq(sc.pops[0].machines, 16 * 60);
}

Test(scenario, arrivals_bad_stage_syntax)
{
    static const struct {
        const char *value;
        const char *part;
    } cases[] = {
        {"5m:20", "stage 1 \"5m:20\": expected DURATION:RATE/s"},
        {"5m:20/s, 10m", "stage 2 \"10m\": expected DURATION:RATE/s"},
        {"5m-20/s", "stage 1 \"5m-20/s\""},
        {"x:20/s", "stage 1 \"x:20/s\": the stage length must be a duration"},
        {"0s:20/s", "stage 1 \"0s:20/s\": the stage length must be a duration above 0"},
        {"5m:20/d", "stage 1 \"5m:20/d\": expected DURATION:RATE/s"},
        {"5m:-20/s", "stage 1"},
        {"5m:1e3/s", "stage 1"},
        {"5m:20-/s", "stage 1"},
        {"5m:20/s,", "stage 2 \"\""},
        {"5m:2000000/s", "at most 1000000 arrivals per second"},
        {"1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s,"
         "1m:1/s,1m:1/s,1m:1/s,1m:1/s,1m:1/s",
         "more than 16 stages"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "[population storm]\nproduct = win10-ent\nmachines = 10\narrivals = %s\n",
                 cases[i].value);
        const char *err = scenario_test_error(text);
        scenario_expect_has(err, "test.ini:4: [population storm] arrivals:");
        scenario_expect_has(err, cases[i].part);
    }
    /* Stages that bring nobody while machines = 0. */
    const char *err = scenario_test_error(
        "[population storm]\nproduct = win10-ent\nmachines = 0\narrivals = 10m:0/s\n");
    scenario_expect_has(err, "test.ini:4: [population storm] arrivals: with machines = 0");
    /* More than 10,000,000 arrivals while machines = 0. */
    err = scenario_test_error(
        "[population storm]\nproduct = win10-ent\nmachines = 0\narrivals = 3d:100/s\n");
    scenario_expect_has(err, "test.ini:4: [population storm] arrivals:");
    scenario_expect_has(err, "25920000");
}

Test(scenario, overrides)
{
    static struct scenario sc;
    char err[1024];
    const char *text = "[scenario]\nduration = 3d\n"
                       "[population clients]\nproduct = win10-pro\nmachines = 30\n"
                       "[population servers]\nproduct = ws2019-dc\nmachines = 5\n"
                       "[expect]\nfirst_activation.clients = 25\n";
    const char *overrides[] = {
        "duration=7d",
        " seed = 42 ",
        "scenario.clock=real",
        "host.renewal_interval=1d",
        "host.products=win10",
        "population clients.machines=100",
        "population  servers.arrivals=1m:0-10/s",
        "population servers.machines=3",
        "expect.first_activation.clients=26",
        "expect.max_count.windows=50",
        "expect.latency_p99=20ms",
        "expect.allowed_hresults=0xC004F042",
        "duration=8d", /* later overrides win */
    };
    size_t n = sizeof overrides / sizeof overrides[0];
    cr_assert_eq(scenario_test_parse_with(&sc, text, overrides, n, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.duration_us, 8 * US_D);
    cr_expect_eq(sc.seed, 42);
    cr_expect_eq(sc.clock, SCENARIO_CLOCK_REAL);
    cr_expect_eq(sc.host_renewal_interval, 1440);
    cr_expect_str_eq(sc.host_products, "win10");
    cr_expect_eq(sc.pops[0].machines, 100);
    cr_expect(sc.pops[1].open);
    cr_expect_eq(sc.pops[1].n_stages, 1);
    cr_expect_eq(sc.pops[1].machines, 3);
    const struct scenario_expectation *e =
        scenario_test_find(&sc, EXPECT_FIRST_ACTIVATION, "clients");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 26.0, 1e-12);
    cr_expect_eq(e->line, 0);
    cr_expect_str_eq(e->text, "first_activation.clients = 26 (--set)");
    e = scenario_test_find(&sc, EXPECT_MAX_COUNT, "windows");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 50.0, 1e-12);
    e = scenario_test_find(&sc, EXPECT_LATENCY, "p99");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 20000.0, 1e-9);
    cr_expect_eq(sc.n_allowed_hresults, 1);
    /* first_activation, max_count, latency_p99 and the implied model_mismatches,
     * unexpected_hresults and unanswered. */
    cr_expect_eq(sc.n_expects, 6);
    cr_expect_not_null(scenario_test_find(&sc, EXPECT_MODEL_MISMATCHES, ""));

    /* An explicit model_mismatches by --set replaces the implied one. */
    const char *mm[] = {"expect.model_mismatches=3"};
    cr_assert_eq(scenario_test_parse_with(&sc, text, mm, 1, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.n_expects, 4);
    e = scenario_test_find(&sc, EXPECT_MODEL_MISMATCHES, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 3.0, 1e-12);

    /* An override may supply a key the file lacks. */
    const char *machines[] = {"population clients.machines=10"};
    cr_assert_eq(scenario_test_parse_with(&sc, "[population clients]\nproduct = win10-pro\n",
                                          machines, 1, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(sc.pops[0].machines, 10);
}

Test(scenario, override_errors)
{
    const char *one[1];
    one[0] = "population nosuch.machines=100";
    const char *err = scenario_test_error_with(scenario_test_minimal, one, 1);
    cr_expect_str_eq(err, "--set: [population nosuch] machines: there is no population "
                          "\"nosuch\" in this scenario (it has: clients) (got \"100\")");

    one[0] = "host.renewal_interval=1x";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [host] renewal_interval: expected whole minutes");
    scenario_expect_has(err, "(got \"1x\")");

    one[0] = "population clients.machines=abc";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [population clients] machines: expected a number");

    one[0] = "hots.renewal_interval=1d";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [scenario] hots.renewal_interval: unknown key");
    scenario_expect_has(err, "other sections are named");

    one[0] = "duration";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: \"duration\": expected key=value");

    one[0] = "expect.first_activation.nosuch=25";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [expect] first_activation.nosuch: there is no "
                             "[population nosuch] section");

    one[0] = "expect.colour=blue";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [expect] colour: unknown key");

    one[0] = "population clients=5";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: \"population clients=5\": expected \"population NAME.key");

    one[0] = "duration=0";
    err = scenario_test_error_with(scenario_test_minimal, one, 1);
    scenario_expect_has(err, "--set: [scenario] duration: expected a duration above 0");
}

Test(scenario, error_messages_name_file_line_and_key)
{
    static const struct {
        unsigned line;
        const char *replacement; /* replaces that line of scenario_test_full */
        const char *part;
    } cases[] = {
        {3, "colour = blue", "test.ini:3: [scenario] colour: unknown key"},
        {5, "clock = sundial",
         "test.ini:5: [scenario] clock: expected virtual or real (got "
         "\"sundial\")"},
        {6, "duration = 0", "test.ini:6: [scenario] duration: expected a duration above 0"},
        {6, "duration = 0s", "test.ini:6: [scenario] duration:"},
        {6, "duration = -1d", "test.ini:6: [scenario] duration:"},
        {6, "duration = 3650d1s", "test.ini:6: [scenario] duration:"},
        {7, "tick = 0", "test.ini:7: [scenario] tick: expected a duration 1ms..1d"},
        {8, "seed = 18446744073709551616", "test.ini:8: [scenario] seed:"},
        {8, "seed = -1", "test.ini:8: [scenario] seed:"},
        {9, "concurrency = 0",
         "test.ini:9: [scenario] concurrency: expected a number 1..100000 "
         "(got \"0\")"},
        {9, "concurrency = 100001", "test.ini:9: [scenario] concurrency:"},
        {10, "timeout = 5 s", "test.ini:10: [scenario] timeout:"},
        {11, "reuse_connections = maybe",
         "test.ini:11: [scenario] reuse_connections: expected "
         "on or off"},
        {12, "threads = 65", "test.ini:12: [scenario] threads: expected a number 0..64"},
        {12, "seed = 5",
         "test.ini:12: [scenario] seed: given twice in this section (first at "
         "line 8) (got \"5\")"},
        {15, "activation_interval = 10m",
         "test.ini:15: [host] activation_interval: expected "
         "whole minutes 15m..30d"},
        {15, "activation_interval = 90s", "test.ini:15: [host] activation_interval:"},
        {15, "activation_interval = 120", "test.ini:15: [host] activation_interval:"},
        {16, "renewal_interval = 30d1m", "test.ini:16: [host] renewal_interval:"},
        {18, "faults = explode=0.5", "test.ini:18: [host] faults:"},
        {19, "ndr64 = 2", "test.ini:19: [host] ndr64:"},
        {19, "products = a", "test.ini:19: [host] products: given twice"},
        {22, "product = ", "test.ini:22: [population clients] product: expected 1..95 printable"},
        /* The range said is the range accepted: 0 only with arrivals, never -5. */
        {23, "machines = 10000001",
         "test.ini:23: [population clients] machines: expected a number 1..10000000 (0 only "
         "with arrivals: as many as the stages bring) (got \"10000001\")"},
        {23, "machines = -5",
         "test.ini:23: [population clients] machines: expected a number 1..10000000 (0 only "
         "with arrivals: as many as the stages bring) (got \"-5\")"},
        {23, "machines = 0",
         "test.ini:23: [population clients] machines: expected a number 1..10000000 (0 only "
         "with arrivals: as many as the stages bring) (got \"0\")"},
        {24, "protocol = 7", "test.ini:24: [population clients] protocol: expected a number 4..6"},
        {24, "protocol = 3", "test.ini:24: [population clients] protocol:"},
        {25, "n_policy = 1001", "test.ini:25: [population clients] n_policy:"},
        {26, "ndr64 = of", "test.ini:26: [population clients] ndr64:"},
        {27, "alter_context = 2", "test.ini:27: [population clients] alter_context:"},
        {28, "vm = 1.5", "test.ini:28: [population clients] vm: expected a share 0..1"},
        {28, "vm = -0.1", "test.ini:28: [population clients] vm:"},
        {28, "vm = 101%", "test.ini:28: [population clients] vm:"},
        {29, "license_status = 7",
         "test.ini:29: [population clients] license_status: expected a "
         "number 0..6"},
        {30, "cloned = nan", "test.ini:30: [population clients] cloned:"},
        {31, "join_at = soon", "test.ini:31: [population clients] join_at:"},
        {32, "join_over = -1h", "test.ini:32: [population clients] join_over:"},
        {33, "leave = 2", "test.ini:33: [population clients] leave:"},
        {34, "leave_at = x", "test.ini:34: [population clients] leave_at:"},
        {35, "leave_over = 1y", "test.ini:35: [population clients] leave_over:"},
        {35, "machines = 3",
         "test.ini:35: [population clients] machines: given twice in this "
         "section (first at line 23)"},
        {37, "[population clients]",
         "test.ini:37: [population clients]: a population of this "
         "name is already defined at line 21"},
        {37, "[population a.b]", "test.ini:37: [population a.b]: expected [population NAME]"},
        {37, "[population]", "test.ini:37: [population]: expected [population NAME]"},
        {37, "[populations x]", "test.ini:37: [populations x]: unknown section"},
        {37, "[hosts]", "test.ini:37: [hosts]: unknown section"},
        {37, "[host]", "test.ini:37: [host]: section given twice (first at line 14)"},
        {40, "arrivals = soon", "test.ini:40: [population vdi] arrivals: stage 1 \"soon\""},
        {43, "model_mismatches = -1", "test.ini:43: [expect] model_mismatches: expected a number"},
        {44, "first_activation.nosuch = 25",
         "test.ini:44: [expect] first_activation.nosuch: "
         "there is no [population nosuch] section"},
        {44, "first_activation = 25",
         "test.ini:44: [expect] first_activation: needs the "
         "population"},
        {44, "first_activation.a.b = 25",
         "test.ini:44: [expect] first_activation.a.b: \"a.b\" "
         "cannot be a population name"},
        {45, "max_count.Windows = 50",
         "test.ini:45: [expect] max_count.Windows: \"Windows\" "
         "cannot be an application key"},
        {45, "max_count.windows = lots",
         "test.ini:45: [expect] max_count.windows: expected a "
         "number 0..1000000 (got \"lots\")"},
        {46, "final_count. = 10", "test.ini:46: [expect] final_count.:"},
        {47, "activated.nosuch = 1",
         "test.ini:47: [expect] activated.nosuch: there is no "
         "[population nosuch]"},
        {48, "error_rate = 1.5", "test.ini:48: [expect] error_rate: expected a share 0..1"},
        {49, "unexpected_hresults = some", "test.ini:49: [expect] unexpected_hresults:"},
        {50, "allowed_hresults = C004F042",
         "test.ini:50: [expect] allowed_hresults: expected a "
         "comma-separated list"},
        {50, "allowed_hresults = 0xC004F042,", "test.ini:50: [expect] allowed_hresults:"},
        {50, "allowed_hresults = 0x1C004F042", "test.ini:50: [expect] allowed_hresults:"},
        {51, "latency_p50 = fast", "test.ini:51: [expect] latency_p50: expected a duration"},
        {51, "latency_p50 = 0", "test.ini:51: [expect] latency_p50:"},
        {52, "latency_p95 = 5ms", "test.ini:52: [expect] latency_p95: unknown key"},
        {53, "latency_p90 = 5ms",
         "test.ini:53: [expect] latency_p90: given twice in this "
         "section (first at line 52)"},
        {56, "requests = many", "test.ini:56: [expect] requests:"},
        {56, "model_mismatches = 1", "test.ini:56: [expect] model_mismatches: given twice"},
        {2, "  [scenario]", "test.ini:2: line is indented"},
        {3, "name", "test.ini:3: expected \"key = value\", \"[section]\" or a ';' comment"},
        {2, "[scenario", "test.ini:2: section header lacks its closing ']'"},
        {2, "[scenario] x", "test.ini:2: unexpected text after the section header"},
        {1, "name = early", "test.ini:1: name: key outside any section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[8192];
        size_t used = 0;
        unsigned line = 1;
        for (const char *p = scenario_test_full; *p; line++) {
            const char *nl = strchr(p, '\n');
            size_t len = (size_t)(nl - p);
            const char *src = line == cases[i].line ? cases[i].replacement : p;
            size_t src_len = line == cases[i].line ? strlen(cases[i].replacement) : len;
            memcpy(text + used, src, src_len);
            used += src_len;
            text[used++] = '\n';
            p = nl + 1;
        }
        text[used] = '\0';
        const char *err = scenario_test_error(text);
        scenario_expect_has(err, cases[i].part);
    }
}

Test(scenario, whole_file_errors)
{
    const char *err = scenario_test_error("[scenario]\nduration = 1d\n");
    cr_expect_str_eq(err, "test.ini: no [population NAME] section: a scenario needs at least one "
                          "population");
    err = scenario_test_error("");
    scenario_expect_has(err, "test.ini: no [population NAME] section");

    err = scenario_test_error("[scenario]\n[population c]\nmachines = 5\n");
    cr_expect_str_eq(err, "test.ini:2: [population c]: missing key \"product\"");
    err = scenario_test_error("[population c]\nproduct = win10-pro\n[scenario]\n");
    cr_expect_str_eq(err, "test.ini:1: [population c]: missing key \"machines\"");

    char text[4096] = "";
    for (int i = 0; i <= SCENARIO_MAX_POPULATIONS; i++) {
        char section[96];
        snprintf(section, sizeof section, "[population p%d]\nproduct = win10-pro\nmachines = 1\n",
                 i);
        strcat(text, section);
    }
    err = scenario_test_error(text);
    cr_expect_str_eq(err, "test.ini:49: [population p16]: more than 16 populations");

    /* Exactly 16 populations is fine. */
    text[strlen(text) - strlen("[population p16]\nproduct = win10-pro\nmachines = 1\n")] = '\0';
    static struct scenario sc;
    char msg[1024];
    cr_expect_eq(scenario_test_parse_with(&sc, text, NULL, 0, msg, sizeof msg), 0, "%s", msg);
    cr_expect_eq(sc.n_pops, SCENARIO_MAX_POPULATIONS);

    /* 32 expectations without model_mismatches leave no room for the implied one. */
    char many[8192] = "[population c]\nproduct = win10-pro\nmachines = 1\n[expect]\n";
    for (int i = 0; i < SCENARIO_MAX_EXPECTATIONS; i++) {
        char line[64];
        snprintf(line, sizeof line, "max_count.app%d = 5\n", i);
        strcat(many, line);
    }
    err = scenario_test_error(many);
    scenario_expect_has(err, "test.ini:4: [expect]: 32 expectations leave no room");
    strcat(many, "max_count.one-more = 5\n");
    err = scenario_test_error(many);
    scenario_expect_has(err, "test.ini:37: [expect] max_count.one-more: more than 32");

    char long_line[300];
    memset(long_line, 'x', sizeof long_line - 2);
    memcpy(long_line, "name = ", 7);
    long_line[sizeof long_line - 2] = '\n';
    long_line[sizeof long_line - 1] = '\0';
    char with_long[1024];
    snprintf(with_long, sizeof with_long, "[scenario]\n%s", long_line);
    err = scenario_test_error(with_long);
    scenario_expect_has(err, "test.ini:2: line is longer than");
}

/* Writes text to a new temporary file and returns its path (caller unlinks and frees). */
static char *scenario_test_write_file(const char *text)
{
    char *path = strdup("/tmp/kmsload-scenario-test-XXXXXX");
    cr_assert_not_null(path);
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(scenario, load_from_file)
{
    static struct scenario sc;
    char err[1024] = "";
    char *path = scenario_test_write_file(scenario_test_minimal);
    const char *set[] = {"population clients.machines=31"};
    cr_assert_eq(scenario_load(&sc, path, set, 1, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(sc.path, path);
    cr_expect_eq(sc.pops[0].machines, 31);
    unlink(path);
    free(path);

    path = scenario_test_write_file("[population clients]\nproduct = win10-pro\nmachines = x\n");
    cr_expect_eq(scenario_load(&sc, path, NULL, 0, err, sizeof err), -1);
    char expected[256];
    snprintf(expected, sizeof expected, "%s:3: [population clients] machines:", path);
    scenario_expect_has(err, expected);
    unlink(path);
    free(path);

    cr_expect_eq(scenario_load(&sc, "/nonexistent/kmsload/x.ini", NULL, 0, err, sizeof err), -1);
    scenario_expect_has(err, "/nonexistent/kmsload/x.ini: cannot read the scenario");
    scenario_expect_has(err, strerror(ENOENT));
}

/* The shipped scenarios parse (tests/load/test_scenario_products.c checks that they name
 * products and applications the catalogue knows). */
Test(scenario, shipped_scenarios_are_valid)
{
    char err[1024] = "";
    static const char *const files[] = {"smoke.ini", "threshold-climb.ini"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/scenarios/%s", KMSLOAD_SOURCE_DIR, files[f]);
        static struct scenario sc;
        cr_assert_eq(scenario_load(&sc, path, NULL, 0, err, sizeof err), 0, "%s", err);
    }

    static struct scenario sc;
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/threshold-climb.ini", KMSLOAD_SOURCE_DIR);
    cr_assert_eq(scenario_load(&sc, path, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.clock, SCENARIO_CLOCK_VIRTUAL);
    cr_expect_eq(sc.duration_us, 3 * US_D);
    cr_assert_eq(sc.n_pops, 1);
    cr_expect_eq(sc.pops[0].machines, 30);
    cr_expect_eq(sc.pops[0].join_over_us, US_H);
    const struct scenario_expectation *e =
        scenario_test_find(&sc, EXPECT_FIRST_ACTIVATION, sc.pops[0].name);
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 25.0, 1e-12);
    e = scenario_test_find(&sc, EXPECT_MAX_COUNT, "windows");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 30.0, 1e-12);
    cr_expect_not_null(scenario_test_find(&sc, EXPECT_ERROR_RATE, ""));
    e = scenario_test_find(&sc, EXPECT_MODEL_MISMATCHES, "");
    cr_assert_not_null(e);
    cr_expect_neq(e->line, 0, "given explicitly");
}

/* The name is the results directory out/NAME: it may not climb out of out/ or hide itself. */
Test(scenario, names_stay_inside_the_results_directory)
{
    static const char *const bad[] = {"../../x", "..",   ".",    ".hidden",
                                      "a/b",     "/etc", "a\\b", "a\tb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[scenario]\nname = %s\n%s", bad[i], scenario_test_minimal);
        const char *err = scenario_test_error(text);
        scenario_expect_has(err, "test.ini:2: [scenario] name: ");
        if (!strchr(bad[i], '\t'))
            scenario_expect_has(err, "results directory out/NAME");
        else
            scenario_expect_has(err, "(got \"a\\x09b\")");
        cr_expect(strchr(err, '\t') == NULL, "the message echoes a control character: %s", err);
        /* The same through --set. */
        char set[64];
        snprintf(set, sizeof set, "name=%s", bad[i]);
        const char *one[] = {set};
        err = scenario_test_error_with(scenario_test_minimal, one, 1);
        scenario_expect_has(err, "--set: [scenario] name: ");
    }
    /* A default name taken from a file called "..ini" would be "..". */
    static struct scenario sc;
    char err[1024] = "";
    cr_expect_eq(scenario_parse(&sc, scenario_test_minimal, "/tmp/..ini", NULL, 0, err, sizeof err),
                 -1);
    scenario_expect_has(err, "/tmp/..ini: [scenario] name: starts with '.'");
    scenario_expect_has(err, "set name = ...");
    /* Ordinary names, dots and spaces inside included, still parse. */
    static const char *const good[] = {"smoke", "boot-storm_2", "v1.2 run", "a..b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[scenario]\nname = %s\n%s", good[i], scenario_test_minimal);
        cr_expect_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s: %s",
                     good[i], err);
        cr_expect_str_eq(sc.name, good[i]);
    }
}

/* The keys for runs against real hosts (issue 12): defaults, values, refusals. */
Test(scenario, real_host_keys)
{
    static struct scenario sc;
    char err[1024];
    cr_assert_eq(scenario_test_parse_with(&sc, scenario_test_minimal, NULL, 0, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(sc.target_clock, SCENARIO_TARGET_CLOCK_DETECT);
    cr_expect_eq(sc.stop_after_failures, 20);
    cr_expect_eq(sc.stop_after_silence_us, 30 * US_S);
    cr_expect_eq(sc.max_rate, 0.0);
    cr_expect_not(sc.live_host);
    cr_expect_eq(scenario_max_wall(&sc), 3600 * US_S, "virtual clock: 1 h by default");
    static const char *const sets[] = {
        "target_clock=real", "stop_after_failures=0", "stop_after_silence=0", "max_wall=90s",
        "max_rate=2.5",      "live_host=on",          "clock=real",           "duration=10m"};
    cr_assert_eq(scenario_test_parse_with(&sc, scenario_test_minimal, sets, 8, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(sc.target_clock, SCENARIO_TARGET_CLOCK_REAL);
    cr_expect_eq(sc.stop_after_failures, 0);
    cr_expect_eq(sc.stop_after_silence_us, 0);
    cr_expect_eq(sc.max_rate, 2.5);
    cr_expect(sc.live_host);
    cr_expect_eq(scenario_max_wall(&sc), 90 * US_S);
    sc.max_wall_us = 0;
    cr_expect_eq(scenario_max_wall(&sc), 15 * US_MIN, "real clock: the duration + 5 minutes");

    scenario_expect_has(scenario_test_error_after_minimal("[scenario]\ntarget_clock = maybe\n"),
                        "expected detect, client");
    scenario_expect_has(scenario_test_error_after_minimal("[scenario]\nmax_rate = fast\n"),
                        "requests per second");
    scenario_expect_has(scenario_test_error_after_minimal("[scenario]\nmax_rate = -1\n"),
                        "max_rate");
    scenario_expect_has(scenario_test_error_after_minimal("[scenario]\nmax_wall = 0\n"),
                        "1s..3650d");
}

Test(scenario, host_key_and_coverage_keys)
{
    struct scenario sc;
    char err[512] = "";
    static const char text[] = "[scenario]\ncoverage = on\n[host]\nhost_key = ws2019,office2021\n"
                               "[population p]\nproduct = win10-pro\nmachines = 1\n";
    cr_assert_eq(scenario_parse(&sc, text, "t.ini", NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect(sc.coverage);
    cr_expect_str_eq(sc.host_key, "ws2019,office2021");
    static const char off[] = "[population p]\nproduct = win10-pro\nmachines = 1\n";
    cr_assert_eq(scenario_parse(&sc, off, "t.ini", NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_not(sc.coverage);
    cr_expect_str_eq(sc.host_key, "");
}

/* No silent pass (issue 19 item 3): unexpected_hresults and unanswered are implied; a stated
 * error_rate replaces the implied unanswered, a stated unexpected_hresults its default. */
Test(scenario, no_silent_pass_defaults)
{
    static struct scenario sc;
    char err[1024];
    const char *text = "[population p]\nproduct = win10-pro\nmachines = 1\n"
                       "[expect]\nerror_rate = 0.01\nunexpected_hresults = 2\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(sc.n_expects, 3);
    cr_expect_null(scenario_test_find(&sc, EXPECT_UNANSWERED, ""));
    const struct scenario_expectation *e = scenario_test_find(&sc, EXPECT_UNEXPECTED_HRESULTS, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 2.0, 1e-12);
    const char *text2 = "[population p]\nproduct = win10-pro\nmachines = 1\n"
                        "[expect]\nunanswered = 3\n";
    cr_assert_eq(scenario_test_parse_with(&sc, text2, NULL, 0, err, sizeof err), 0, "%s", err);
    e = scenario_test_find(&sc, EXPECT_UNANSWERED, "");
    cr_assert_not_null(e);
    cr_expect_float_eq(e->value, 3.0, 1e-12);
    cr_expect_eq(sc.n_expects, 3);
}
