/*
 * `kmsload watch --json`: stdout is JSON lines only (one object per probe per round, as log
 * shippers read them), the start-up lines go to stderr, and each object carries what the probe
 * showed: a healthy host's count, a dead port's outcome and reason.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static struct support_scratch wj;

static void wj_init(void)
{
    support_scratch_init(&wj, "watchjson");
}

static void wj_fini(void)
{
    support_scratch_fini(&wj);
}

TestSuite(watch_json, .init = wj_init, .fini = wj_fini, .timeout = 60);

/* Every line of text parsed as a JSON object (the test fails on one that is not). */
static size_t wj_lines(char *text, json_t **objs, size_t cap)
{
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        cr_assert(o && json_is_object(o), "not a JSON object: %s (%s)", line, e.text);
        cr_assert_lt(n, cap);
        objs[n++] = o;
    }
    return n;
}

Test(watch_json, one_object_per_probe_per_round)
{
    struct support_host h;
    support_host_start(&wj, &h, NULL);
    struct support_result r = support_runl(&wj, 20000, 0, "watch", h.target, "--json", "--count",
                                           "2", "--interval", "1s", "--cmid-seed", "json", NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.err, "kmsload watch: ") != NULL, "start-up lines on stderr: %s", r.err);
    json_t *o[8];
    size_t n = wj_lines(r.out, o, 8);
    cr_assert_eq(n, 4, "2 rounds x 2 applications");
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(json_string_value(json_object_get(o[i], "type")), "probe");
        cr_expect_str_eq(json_string_value(json_object_get(o[i], "host")), h.target);
        cr_expect_str_eq(json_string_value(json_object_get(o[i], "outcome")), "below-threshold");
        cr_expect(json_is_true(json_object_get(o[i], "success")));
        cr_expect_eq(json_integer_value(json_object_get(o[i], "count")), 1);
        cr_expect_str_eq(json_string_value(json_object_get(o[i], "hresult")), "0xC004F038");
        cr_expect_str_eq(json_string_value(json_object_get(o[i], "host_build")), "17763");
        cr_expect(json_is_real(json_object_get(o[i], "duration_seconds")));
        cr_expect(json_is_null(json_object_get(o[i], "detail")));
        cr_expect_eq(strlen(json_string_value(json_object_get(o[i], "time"))), 24);
    }
    cr_expect_str_eq(json_string_value(json_object_get(o[0], "application")), "windows");
    cr_expect_eq(json_integer_value(json_object_get(o[0], "required")), 25);
    cr_expect_str_eq(json_string_value(json_object_get(o[1], "application")), "office2013");
    for (size_t i = 0; i < n; i++)
        json_decref(o[i]);
    support_result_free(&r);
}

Test(watch_json, a_dead_port_says_why)
{
    struct support_result r = support_runl(&wj, 20000, 0, "watch", "127.0.0.1:1", "--json",
                                           "--count", "1", "--products", "win10-pro", NULL);
    cr_assert_eq(r.status, 3, "no host reached: exit 3, as probe");
    json_t *o[4];
    size_t n = wj_lines(r.out, o, 4);
    cr_assert_eq(n, 1, "%s", r.out);
    cr_expect_str_eq(json_string_value(json_object_get(o[0], "outcome")), "connect-refused");
    cr_expect(json_is_false(json_object_get(o[0], "success")));
    cr_expect(json_is_null(json_object_get(o[0], "count")));
    cr_expect(json_is_null(json_object_get(o[0], "hresult")));
    cr_expect(strstr(json_string_value(json_object_get(o[0], "detail")), "Connection refused"));
    json_decref(o[0]);
    support_result_free(&r);
}

Test(watch_json, several_targets_each_under_its_own_host)
{
    struct support_host full, office;
    support_host_start(&wj, &full, NULL);
    support_host_start(&wj, &office, (const char *const[]){"--host-key", "office2016", NULL});
    struct support_result r =
        support_runl(&wj, 20000, 0, "watch", full.target, office.target, "--json", "--count", "1",
                     "--cmid-seed", "several", NULL);
    cr_assert_eq(r.status, 1, "the office-only host refuses Windows: %s", r.err);
    cr_expect(strstr(r.err, full.target) && strstr(r.err, office.target), "%s", r.err);
    json_t *o[8];
    size_t n = wj_lines(r.out, o, 8);
    cr_assert_eq(n, 4, "2 hosts x 2 applications");
    unsigned full_counts = 0, office_counts = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        const char *host = json_string_value(json_object_get(o[i], "host"));
        const char *hr = json_string_value(json_object_get(o[i], "hresult"));
        bool ok = json_is_true(json_object_get(o[i], "success"));
        if (strcmp(host, full.target) == 0)
            full_counts += ok;
        else if (strcmp(host, office.target) == 0 && ok)
            office_counts++;
        else if (strcmp(host, office.target) == 0 && hr && strcmp(hr, "0xC004F042") == 0)
            refused++;
        json_decref(o[i]);
    }
    cr_expect_eq(full_counts, 2);
    cr_expect_eq(office_counts, 1);
    cr_expect_eq(refused, 1);
    support_result_free(&r);

    r = support_runl(&wj, 10000, 0, "watch", full.target, full.target, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "given twice") != NULL, "%s", r.err);
    support_result_free(&r);
    r = support_runl(&wj, 10000, 0, "watch", full.target, "dns:example.test", NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "a dns: target is watched alone") != NULL, "%s", r.err);
    support_result_free(&r);
}

/* The product a JSON line says host asked for application. */
static const char *wj_product(json_t **o, size_t n, const char *host, const char *app)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_string_value(json_object_get(o[i], "host")), host) == 0 &&
            strcmp(json_string_value(json_object_get(o[i], "application")), app) == 0)
            return json_string_value(json_object_get(o[i], "product"));
    return "";
}

Test(watch_json, default_products_from_what_each_host_covers)
{
    /* A Windows Server 2019 + Office LTSC 2021 host, and one with an Office 2024 key only. */
    struct support_host mixed, office;
    support_host_start(&wj, &mixed, (const char *const[]){"--host-key", "ws2019,office2021", NULL});
    support_host_start(&wj, &office, (const char *const[]){"--host-key", "office2024", NULL});
    struct support_result r =
        support_runl(&wj, 20000, 0, "watch", mixed.target, office.target, "--json", "--count", "2",
                     "--interval", "1s", "--cmid-seed", "auto", NULL);
    cr_assert_eq(r.status, 1, "the Office-only host has no Windows key: %s", r.err);
    json_t *o[16];
    size_t n = wj_lines(r.out, o, 16);
    cr_assert_eq(n, 8, "2 rounds x 2 hosts x 2 applications: one line per probe");
    cr_expect_str_eq(wj_product(o, n, mixed.target, "windows"), "win10-pro");
    cr_expect_str_eq(wj_product(o, n, mixed.target, "office2013"), "office2021-proplus");
    cr_expect_str_eq(wj_product(o, n, office.target, "office2013"), "office2024-proplus");
    /* Nothing covers Windows there: the refusal of the default product, not of the last one
     * tried. */
    cr_expect_str_eq(wj_product(o, n, office.target, "windows"), "win10-pro");
    for (size_t i = 0; i < n; i++) {
        const char *host = json_string_value(json_object_get(o[i], "host"));
        const char *app = json_string_value(json_object_get(o[i], "application"));
        bool covered = strcmp(host, mixed.target) == 0 || strcmp(app, "office2013") == 0;
        cr_expect_eq(json_is_true(json_object_get(o[i], "success")), covered, "%s %s", host, app);
        /* The candidates share the watcher's CMID: one client per application, every round. */
        if (covered)
            cr_expect_eq(json_integer_value(json_object_get(o[i], "count")), 1, "%s %s", host, app);
        cr_expect(
            strcmp(json_string_value(json_object_get(o[i], "product")), "office2010-proplus") != 0);
        json_decref(o[i]);
    }
    support_result_free(&r);
}
