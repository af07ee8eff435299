/* `kmsload run` and `kmsload report` drawing reports: charts data and index.html of a real run,
 * a run without gnuplot, run directories that are missing or not runs. */
#include "support.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

#define RP_REPORTS KMSLOAD_SOURCE_DIR "/reports"

static struct support_scratch rp;

static void rp_init(void)
{
    support_scratch_init(&rp, "report-cli");
}

static void rp_fini(void)
{
    support_scratch_fini(&rp);
}

TestSuite(report_cli, .init = rp_init, .fini = rp_fini);

/* The test's own directory (the scratch, fresh for each test). */
static void rp_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", rp.dir);
}

static size_t rp_occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static bool rp_have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Runs kmsload with args (NULL-terminated) with the source tree's reports/ and, when path_env is
 * given, that PATH; returns its exit status and output. */
static struct support_result rp_kmsload(const char *const *args, const char *path_env)
{
    char path[600];
    snprintf(path, sizeof path, "PATH=%s", path_env ? path_env : "");
    const char *env[] = {"KMSLOAD_REPORTS=" RP_REPORTS, path_env ? path : NULL, NULL};
    rp.env = env;
    struct support_result r = support_run(&rp, 120000, 0, args);
    rp.env = NULL;
    return r;
}

/* rp_kmsload's exit status alone. */
static int rp_status(const char *const *args, const char *path_env)
{
    struct support_result r = rp_kmsload(args, path_env);
    support_result_free(&r);
    return r.status;
}

/* The value of column col (1-based, whitespace-separated) on each data line of text, checked
 * by pred; returns whether some line matched. */
static bool rp_some_row(const char *text, int col, double want)
{
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[2048];
        if (len < sizeof line && *p != '#' && *p != 't') {
            memcpy(line, p, len);
            line[len] = '\0';
            char *save = NULL, *tok = strtok_r(line, " ", &save);
            for (int c = 1; tok && c < col; c++)
                tok = strtok_r(NULL, " ", &save);
            if (tok && strcmp(tok, "NaN") != 0 && strtod(tok, NULL) == want)
                return true;
        }
        p = eol ? eol + 1 : NULL;
    }
    return false;
}

Test(report_cli, threshold_climb_run_draws_the_crossing, .timeout = 120)
{
    char dir[64], out[128];
    rp_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/run", dir);
    const char *args[] = {
        "run", KMSLOAD_SOURCE_DIR "/scenarios/threshold-climb.ini", "--out", out, "-q", NULL};
    struct support_result run = rp_kmsload(args, NULL);
    int status = run.status;
    cr_assert_eq(status, 0, "kmsload run: %d, stderr: %s", status, run.err);
    support_result_free(&run);

    /* count.dat: t, windows count, band low, band high; the count climbs through 25 to 30 */
    char *count = support_slurp_in(out, "charts/count.dat");
    cr_assert_not_null(count);
    cr_assert(strstr(count, "\"windows\""), "%s", count);
    cr_assert(rp_some_row(count, 2, 25) || rp_some_row(count, 2, 26), "no count near 25");
    cr_assert(rp_some_row(count, 2, 30));
    free(count);
    /* every change is in the close-up data: 1, 2, ... 24, then 25 */
    char *detail = support_slurp_in(out, "charts/count_detail.dat");
    cr_assert_not_null(detail);
    for (int c = 1; c <= 25; c++)
        cr_assert(rp_some_row(detail, 2, c), "count %d missing from count_detail.dat", c);
    free(detail);
    char *cross = support_slurp_in(out, "charts/crossings.dat");
    cr_assert_not_null(cross);
    cr_assert(strstr(cross, "clients: 1st activation, request 25, count 25"), "%s", cross);
    cr_assert(rp_some_row(cross, 2, 25));
    free(cross);
    /* outcomes: below threshold then activated; nothing else */
    char *oc = support_slurp_in(out, "charts/outcomes.dat");
    cr_assert_not_null(oc);
    cr_assert(strstr(oc, "\"activated\""));
    cr_assert(strstr(oc, "\"below threshold (0xC004F038)\""));
    cr_assert_null(strstr(oc, "network error"));
    free(oc);

    char *index = support_slurp_in(out, "index.html");
    cr_assert_not_null(index, "no index.html");
    cr_assert(strstr(index, "first_activation.clients = 25"));
    cr_assert(strstr(index, "PASSED"));
    cr_assert(strstr(index, ">PASS<"));
    cr_assert(strstr(index, "threshold-climb"));
    cr_assert(strstr(index, "embedded reference host"));
    cr_assert(strstr(index, "at count 25, request 25"), "threshold crossings table");
    cr_assert_null(strstr(index, "<script"), "no scripts in the report");
    if (rp_have_gnuplot()) {
        cr_assert_eq(rp_occurrences(index, "<svg"), 4, "one inline SVG per chart");
        const char *charts[] = {"count", "expiry", "outcomes", "latency"};
        for (size_t i = 0; i < 4; i++) {
            char name[64], id[64];
            snprintf(id, sizeof id, "id=\"chart-%s\"", charts[i]);
            cr_assert(strstr(index, id), "%s", id);
            snprintf(name, sizeof name, "charts/%s.png", charts[i]);
            cr_assert(support_exists_in(out, name), "%s", name);
            snprintf(name, sizeof name, "charts/%s.svg", charts[i]);
            cr_assert(support_exists_in(out, name), "%s", name);
        }
    } else {
        cr_log_warn("gnuplot not installed: charts not checked");
    }
    free(index);

    /* The same run marked interrupted: `kmsload report` re-renders it so. */
    char *summary = support_slurp_in(out, "summary.json");
    cr_assert_not_null(summary);
    char *flag = strstr(summary, "\"interrupted\": false");
    cr_assert_not_null(flag);
    memcpy(flag, "\"interrupted\": true ", 20);
    char *reason = strstr(summary, "\"interrupt_reason\": null");
    cr_assert_not_null(reason);
    memcpy(reason, "\"interrupt_reason\": 0   ", 24);
    support_write_in(out, "summary.json", summary);
    free(summary);
    const char *rargs[] = {"report", out, NULL};
    status = rp_status(rargs, NULL);
    cr_assert_eq(status, 0);
    index = support_slurp_in(out, "index.html");
    cr_assert(strstr(index, "INTERRUPTED"));
    free(index);
    cr_assert_not(support_exists_in(out, "index.html.tmp"));
}

Test(report_cli, missing_or_invalid_run_dir_exits_2, .timeout = 60)
{
    char dir[64];
    rp_tmpdir(dir, sizeof dir);
    const char *args[] = {"report", "/nonexistent/kmsload-run", NULL};
    struct support_result r = rp_kmsload(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "no such run directory"), "%s", r.err);
    support_result_free(&r);
    const char *args2[] = {"report", dir, NULL}; /* a directory, but no events.csv */
    r = rp_kmsload(args2, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "not a run directory (no events.csv)"), "%s", r.err);
    support_result_free(&r);
    const char *args3[] = {"report", NULL};
    cr_assert_eq(rp_status(args3, NULL), 2);
}

Test(report_cli, without_gnuplot_the_run_succeeds_and_says_how_to_get_charts, .timeout = 120)
{
    char dir[64], out[128];
    rp_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/run", dir);
    const char *args[] = {"run", KMSLOAD_SOURCE_DIR "/scenarios/smoke.ini", "--out", out, "-q",
                          NULL};
    struct support_result r = rp_kmsload(args, "/nonexistent");
    cr_assert_eq(r.status, 0);
    cr_assert_eq(rp_occurrences(r.err, "apt-get install gnuplot-nox"), 1, "%s", r.err);
    support_result_free(&r);
    char *index = support_slurp_in(out, "index.html");
    cr_assert_not_null(index);
    cr_assert_null(strstr(index, "<svg"));
    cr_assert(strstr(index, "gnuplot was not found"));
    cr_assert(strstr(index, "first_activation.servers = 6"));
    free(index);
    cr_assert(support_exists_in(out, "charts/count.dat"));
    cr_assert(support_exists_in(out, "charts/expiry.dat"));
    cr_assert(support_exists_in(out, "charts/outcomes.dat"));
    cr_assert(support_exists_in(out, "charts/latency.dat"));

    /* --no-report: nothing of the report */
    char out2[128];
    snprintf(out2, sizeof out2, "%s/bare", dir);
    const char *args2[] = {
        "run", KMSLOAD_SOURCE_DIR "/scenarios/smoke.ini", "--out", out2, "--no-report", "-q", NULL};
    cr_assert_eq(rp_status(args2, NULL), 0);
    cr_assert(support_exists_in(out2, "summary.json"));
    cr_assert_not(support_exists_in(out2, "index.html"));
    cr_assert_not(support_exists_in(out2, "charts"));
}
