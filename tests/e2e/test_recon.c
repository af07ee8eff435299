/*
 * Issue 19 items 2 and 7, end to end against `kmsload host` on loopback: a run learns the host
 * before judging it (the counts it already holds become the model's start, expectations written
 * for a fresh host are shifted or set aside, everything is in summary.json, junit.xml and the
 * Markdown summary), and the files of a run the clock check refused say what the console said.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

#define SCENARIOS KMSLOAD_SOURCE_DIR "/scenarios/"

static struct support_scratch rc;

static void rc_init(void)
{
    support_scratch_init(&rc, "recon");
}

static void rc_fini(void)
{
    support_scratch_fini(&rc);
}

TestSuite(recon, .init = rc_init, .fini = rc_fini, .timeout = 120);

static json_t *rc_json(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "%s: %s", path, e.text);
    return j;
}

static json_int_t rc_int(json_t *o, const char *path)
{
    /* "a.b.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = o;
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
        v = json_object_get(v, tok);
    cr_assert(json_is_integer(v), "%s is not an integer", path);
    return json_integer_value(v);
}

/* Whether an array of strings has one containing needle. */
static bool rc_any(json_t *array, const char *needle)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strstr(json_string_value(v), needle))
            return true;
    }
    return false;
}

static struct support_result rc_threshold_climb(const char *target, const char *out,
                                                const char *extra_set)
{
    const char *args[] = {"run",
                          SCENARIOS "threshold-climb.ini",
                          "--target",
                          target,
                          "--out",
                          out,
                          "--no-report",
                          "--summary-md",
                          "-",
                          "--set",
                          extra_set ? extra_set : "seed=1",
                          NULL};
    return support_run(&rc, 60000, SUPPORT_ERR_TO_OUT, args);
}

Test(recon, a_host_that_already_counts_machines_is_judged_on_top_of_them)
{
    struct support_host h;
    support_host_start(&rc, &h, (const char *const[]){"--clock", "client", NULL});
    /* As the README suggests: coverage first. It leaves kmsload's CMID per application. */
    struct support_result r =
        support_runl(&rc, 30000, SUPPORT_ERR_TO_OUT, "coverage", "--target", h.target, NULL);
    cr_assert_eq(r.status, 0, "%s", r.out);
    support_result_free(&r);

    /* Without the reconnaissance, the old false FAIL: the model assumes a fresh host. */
    char out[128];
    support_scratch_path(&rc, "blind", out, sizeof out);
    r = rc_threshold_climb(h.target, out, "reconnaissance=off");
    cr_expect_eq(r.status, 1, "%s", r.out);
    cr_expect(strstr(r.out, "disagree"), "%s", r.out);
    support_result_free(&r);

    /* The host now counts 30 run machines + kmsload's CMID: the same scenario passes, saying so. */
    support_scratch_path(&rc, "second", out, sizeof out);
    r = rc_threshold_climb(h.target, out, NULL);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "the host already counted 31 Windows machines (reconnaissance, CMID"),
              "%s", r.out);
    cr_expect(strstr(r.out, "not applicable: first_activation.clients = 25"), "%s", r.out);
    cr_expect(strstr(r.out, "### Reconnaissance"), "the Markdown summary: %s", r.out);
    cr_expect(strstr(r.out, "the host already counted 31 machines (CMID"), "%s", r.out);
    cr_expect_null(strstr(r.out, "[FAIL]"), "%s", r.out);
    support_result_free(&r);
    json_t *s = rc_json(out, "summary.json");
    json_t *rec = json_object_get(s, "reconnaissance");
    cr_assert(json_is_true(json_object_get(rec, "done")));
    cr_expect_eq(rc_int(rec, "counts.windows.count"), 31);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(rec, "counts"), "windows"), "cmid")),
                     "39ba4a5f-b7ed-4015-bb51-a0894d7762fa", "derived from the AppID: stable");
    cr_expect_eq(rc_int(rec, "build"), 17763);
    cr_expect(rc_any(json_object_get(rec, "key_groups"), "win10"));
    cr_expect(strstr(json_string_value(json_object_get(rec, "clock")), "follows client time"));
    cr_expect(rc_any(json_object_get(rec, "expectations_adjusted"), "max_count.windows"));
    cr_expect_eq(rc_int(s, "model.mismatches"), 0);
    cr_expect_gt(rc_int(s, "model.checked"), 0);
    json_decref(s);
    char *junit = support_slurp_in(out, "junit.xml");
    cr_expect(strstr(junit, "name=\"reconnaissance\" value=\"windows 31 counted before the run"),
              "%s", junit);
    free(junit);

    /* Once more: the reconnaissance CMID is counted once ever, not once per run. */
    support_scratch_path(&rc, "third", out, sizeof out);
    r = rc_threshold_climb(h.target, out, "expect.max_count.windows=50");
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "the host already counted 31 Windows machines"), "%s", r.out);
    /* A maximum already at the cache's size stays, and says why (not "shifted 50 to 50"). */
    cr_expect(strstr(r.out, "kept: max_count.windows = 50 (--set): the host already counted 31 "
                            "Windows machines, but its cache holds no more than 50"),
              "%s", r.out);
    cr_expect_null(strstr(r.out, "to 50: the host"), "%s", r.out);
    support_result_free(&r);

    /* Another seed: 30 new machines on top of 31, the host's cache holds 50. */
    support_scratch_path(&rc, "other-seed", out, sizeof out);
    r = rc_threshold_climb(h.target, out, "seed=9");
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "max_count.windows ≤ 50"), "%s", r.out);
    support_result_free(&r);
    s = rc_json(out, "summary.json");
    cr_expect_eq(rc_int(s, "applications.windows.max_count"), 50);
    cr_expect_eq(rc_int(s, "model.mismatches"), 0);
    json_decref(s);
    support_host_stop(&rc, &h);
}

Test(recon, a_fresh_host_counts_only_the_reconnaissance_cmid)
{
    struct support_host h;
    support_host_start(&rc, &h, (const char *const[]){"--clock", "client", NULL});
    char out[128];
    support_scratch_path(&rc, "fresh", out, sizeof out);
    struct support_result r = rc_threshold_climb(h.target, out, NULL);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "the host already counted 1 Windows machine (reconnaissance"), "%s",
              r.out);
    /* The 25th distinct machine on the host is the run's 24th: the threshold is still 25. */
    cr_expect(strstr(r.out, "[PASS] first_activation.clients = 25"), "%s", r.out);
    cr_expect(strstr(r.out, "[PASS] max_count.windows ≤ 31 (30 + 1"), "%s", r.out);
    support_result_free(&r);
    support_host_stop(&rc, &h);
}

/* Item 7: the files of a run the clock check refused carry what the console said. */
Test(recon, the_files_of_a_refused_run_agree_with_the_console)
{
    struct support_host h;
    support_host_start(&rc, &h, (const char *const[]){"--clock", "real", NULL});
    char out[128];
    support_scratch_path(&rc, "refused", out, sizeof out);
    const char *args[] = {
        "run", SCENARIOS "smoke.ini", "--target", h.target, "--threads", "2", "--out",
        out,   "--summary-md",        "-",        NULL};
    struct support_result r = support_run(&rc, 30000, 0, args);
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(strstr(r.err, "real-host-smoke.ini"), "%s", r.err);
    cr_expect(strstr(r.out, "**What to do:** the target checks client time"), "%s", r.out);
    cr_expect(strstr(r.out, "NOT RUN"), "%s", r.out);
    support_result_free(&r);
    json_t *s = rc_json(out, "summary.json");
    cr_expect_str_eq(json_string_value(json_object_get(s, "target")), h.target);
    cr_expect_eq(rc_int(s, "seed"), 1);
    cr_expect_eq(rc_int(s, "populations.clients.machines"), 5);
    cr_expect_eq(rc_int(s, "populations.servers.machines"), 2);
    cr_expect_eq(rc_int(s, "populations.office.machines"), 6);
    const char *advice = json_string_value(json_object_get(s, "advice"));
    cr_assert_not_null(advice);
    cr_expect(strstr(advice, "0xC004F06C") && strstr(advice, "--target-clock client"), "%s",
              advice);
    cr_expect(
        strstr(json_string_value(json_object_get(json_object_get(s, "reconnaissance"), "clock")),
               "checks client time"));
    json_decref(s);
    char *junit = support_slurp_in(out, "junit.xml");
    char want[96];
    snprintf(want, sizeof want, "<property name=\"target\" value=\"%s\"/>", h.target);
    cr_expect(strstr(junit, want), "%s", junit);
    cr_expect(strstr(junit, "<property name=\"seed\" value=\"1\"/>"), "%s", junit);
    cr_expect(strstr(junit, "real-host-smoke.ini"), "the advice: %s", junit);
    cr_expect(strstr(junit, "no expectation was evaluated"), "%s", junit);
    free(junit);
    char *page = support_slurp_in(out, "index.html");
    cr_expect(strstr(page, "What to do:"), "index.html");
    cr_expect(strstr(page, h.target), "index.html names the target");
    free(page);
    support_host_stop(&rc, &h);
}
