/* report: charts data, index.html and `kmsload report`, on real runs and on made-up run dirs. */
#include "report.h"
#include "run_dir.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

#define RP_REPORTS KMSLOAD_SOURCE_DIR "/reports"
#define RP_CMID "00000000-0000-0000-0000-000000000001"

static const char rp_header[] =
    "seq,wall_s,sim_s,client_time,machine,cmid,population,application,product,protocol,ndr,"
    "n_policy,outcome,hresult,hresult_name,count,expected_lo,expected_hi,model,latency_us,epid,"
    "hwid,detail\n";

static struct support_scratch rp;

static void rp_init(void)
{
    support_scratch_init(&rp, "report");
}

static void rp_fini(void)
{
    support_scratch_fini(&rp);
}

TestSuite(report, .init = rp_init, .fini = rp_fini);

/* The test's own directory (the scratch, fresh for each test). */
static void rp_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", rp.dir);
}

static char *rp_read(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void rp_write(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static bool rp_exists(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
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

Test(report, threshold_climb_run_draws_the_crossing, .timeout = 120)
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
    char *count = rp_read(out, "charts/count.dat");
    cr_assert_not_null(count);
    cr_assert(strstr(count, "\"windows\""), "%s", count);
    cr_assert(rp_some_row(count, 2, 25) || rp_some_row(count, 2, 26), "no count near 25");
    cr_assert(rp_some_row(count, 2, 30));
    free(count);
    /* every change is in the close-up data: 1, 2, ... 24, then 25 */
    char *detail = rp_read(out, "charts/count_detail.dat");
    cr_assert_not_null(detail);
    for (int c = 1; c <= 25; c++)
        cr_assert(rp_some_row(detail, 2, c), "count %d missing from count_detail.dat", c);
    free(detail);
    char *cross = rp_read(out, "charts/crossings.dat");
    cr_assert_not_null(cross);
    cr_assert(strstr(cross, "clients: 1st activation, request 25, count 25"), "%s", cross);
    cr_assert(rp_some_row(cross, 2, 25));
    free(cross);
    /* outcomes: below threshold then activated; nothing else */
    char *oc = rp_read(out, "charts/outcomes.dat");
    cr_assert_not_null(oc);
    cr_assert(strstr(oc, "\"activated\""));
    cr_assert(strstr(oc, "\"below threshold (0xC004F038)\""));
    cr_assert_null(strstr(oc, "network error"));
    free(oc);

    char *index = rp_read(out, "index.html");
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
            cr_assert(rp_exists(out, name), "%s", name);
            snprintf(name, sizeof name, "charts/%s.svg", charts[i]);
            cr_assert(rp_exists(out, name), "%s", name);
        }
    } else {
        cr_log_warn("gnuplot not installed: charts not checked");
    }
    free(index);

    /* The same run marked interrupted: `kmsload report` re-renders it so. */
    char *summary = rp_read(out, "summary.json");
    cr_assert_not_null(summary);
    char *flag = strstr(summary, "\"interrupted\": false");
    cr_assert_not_null(flag);
    memcpy(flag, "\"interrupted\": true ", 20);
    char *reason = strstr(summary, "\"interrupt_reason\": null");
    cr_assert_not_null(reason);
    memcpy(reason, "\"interrupt_reason\": 0   ", 24);
    rp_write(out, "summary.json", summary);
    free(summary);
    const char *rargs[] = {"report", out, NULL};
    status = rp_status(rargs, NULL);
    cr_assert_eq(status, 0);
    index = rp_read(out, "index.html");
    cr_assert(strstr(index, "INTERRUPTED"));
    free(index);
    cr_assert_not(rp_exists(out, "index.html.tmp"));
}

/* A made-up virtual-clock run: 3 machines contact the host on day 0, one renews on days 20 and
 * 40; the two others leave the host's window on day 30, the third on day 70 (after the end). */
static void rp_expiry_run(const char *dir)
{
    char ev[4096];
    snprintf(
        ev, sizeof ev,
        "%s"
        "1,0.001,0.000000,,0,00000000-0000-0000-0000-000000000001,pc,office2013,o,6,ndr64,5,"
        "below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,1,1,1,agree,100,,,\n"
        "2,0.002,60.000000,,1,00000000-0000-0000-0000-000000000002,pc,office2013,o,6,ndr64,5,"
        "below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,2,2,2,agree,100,,,\n"
        "3,0.003,120.000000,,2,00000000-0000-0000-0000-000000000003,pc,office2013,o,6,ndr64,5,"
        "below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,3,3,3,agree,100,,,\n"
        "4,0.004,1728000.000000,,2,00000000-0000-0000-0000-000000000003,pc,office2013,o,6,ndr64,5,"
        "below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,3,3,3,agree,100,,,\n"
        "5,0.005,3456000.000000,,2,00000000-0000-0000-0000-000000000003,pc,office2013,o,6,ndr64,5,"
        "below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,1,1,1,agree,100,,,\n"
        "6,0.006,3456000.000000,,3,00000000-0000-0000-0000-000000000004,pc,office2013,o,6,ndr64,5,"
        "host-error,0xC004F042,SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH,,,,-,100,,,\n"
        "7,0.007,3456000.000000,,3,00000000-0000-0000-0000-000000000004,pc,office2013,o,6,ndr64,5,"
        "timeout,,,,,,-,100,,,\"timed out, after 5 s\"\n",
        rp_header);
    rp_write(dir, "events.csv", ev);
    rp_write(dir, "summary.json",
             "{\"scenario\": {\"name\": \"made-up\", \"description\": \"a <b>made-up</b> run\"},"
             " \"target\": \"nowhere\", \"clock\": \"virtual\", \"interrupted\": false,"
             " \"simulated_seconds\": 5184000, \"wall_seconds\": 0.01, \"requests\": 7,"
             " \"expectations\": [{\"expectation\": \"max_count.office2013 = 3\", \"line\": 9,"
             " \"passed\": false, \"observed\": \"highest count 3\"}], \"passed\": false}\n");
}

Test(report, expiry_series_follows_last_contact_plus_30_days, .timeout = 60)
{
    char dir[64], err[1024] = "";
    rp_tmpdir(dir, sizeof dir);
    rp_expiry_run(dir);
    setenv("KMSLOAD_REPORTS", RP_REPORTS, 1);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_OK, "%s", err);
    char *ex = rp_read(dir, "charts/expiry.dat");
    cr_assert_not_null(ex);
    /* t (days), count, machines in the window, expiries: 3 machines until day 30, then 1 */
    double machines_before = -1, machines_after = -1, expiries = 0;
    const char *p = strchr(ex, '\n') + 1;
    while (*p) {
        double t, count, alive, exp;
        char c1[32];
        if (sscanf(p, "%lf %31s %lf %lf", &t, c1, &alive, &exp) == 4) {
            (void)count;
            if (t > 29 && t < 29.9)
                machines_before = alive;
            if (t > 31 && t < 39)
                machines_after = alive;
            expiries += exp;
        }
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    cr_assert_eq(machines_before, 3, "machines in the window before day 30: %g", machines_before);
    cr_assert_eq(machines_after, 1, "after day 30: %g", machines_after);
    cr_assert_eq(expiries, 2, "two machines expire within the 60 days, got %g", expiries);
    free(ex);
    char *oc = rp_read(dir, "charts/outcomes.dat");
    cr_assert(strstr(oc, "host error 0xC004F042 SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH"), "%s",
              oc);
    cr_assert(strstr(oc, "network error"));
    free(oc);
    char *index = rp_read(dir, "index.html");
    cr_assert(strstr(index, "FAILED"));
    cr_assert(strstr(index, "a &lt;b&gt;made-up&lt;/b&gt; run"), "text is escaped");
    cr_assert(strstr(index, "max_count.office2013 = 3"));
    free(index);
}

Test(report, partial_run_without_summary_is_reported_as_unfinished, .timeout = 60)
{
    char dir[64], err[1024] = "";
    rp_tmpdir(dir, sizeof dir);
    rp_expiry_run(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    unlink(path);
    /* a last line cut short, as when the run is killed while writing */
    snprintf(path, sizeof path, "%s/events.csv", dir);
    FILE *f = fopen(path, "a");
    fputs("8,0.008,3456001.0,,4,0000", f);
    fclose(f);
    setenv("KMSLOAD_REPORTS", RP_REPORTS, 1);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_OK, "%s", err);
    char *index = rp_read(dir, "index.html");
    cr_assert_not_null(index);
    cr_assert(strstr(index, "INTERRUPTED"));
    cr_assert(strstr(index, "no summary.json"));
    cr_assert(strstr(index, "cut short"));
    cr_assert(strstr(index, "0xC004F042"), "HRESULT table made from the events");
    free(index);
}

Test(report, malformed_events_name_the_file_and_line)
{
    char dir[64], err[1024] = "";
    rp_tmpdir(dir, sizeof dir);
    setenv("KMSLOAD_REPORTS", RP_REPORTS, 1);
    char ev[2048];
    snprintf(ev, sizeof ev,
             "%s1,0.001,0.0,,0,%s,pc,windows,w,6,ndr64,25,activated,0x00000000,S_OK,25,25,25,"
             "agree,100,,,\n2,0.002,zero,,0,%s,pc,windows,w,6,ndr64,25,activated,0x00000000,S_OK,"
             "25,25,25,agree,100,,,\n",
             rp_header, RP_CMID, RP_CMID);
    rp_write(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:3: column sim_s: \"zero\""), "%s", err);

    snprintf(ev, sizeof ev, "%s1,0.001,0.0,\"unterminated\n", rp_header);
    rp_write(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_OK,
                 "an open quote at the end is a cut"
                 " line: %s",
                 err);

    snprintf(ev, sizeof ev, "%s1,2,3\n", rp_header);
    rp_write(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:2: 3 fields where the header has 23"), "%s", err);

    rp_write(dir, "events.csv", "seq,wall_s,sim_s,client_time\n");
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:1: missing column \"machine\""), "%s", err);

    rp_write(dir, "events.csv", rp_header);
    rp_write(dir, "summary.json", "{ not json");
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "summary.json:1:"), "%s", err);
}

Test(report, missing_or_invalid_run_dir_exits_2, .timeout = 60)
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

Test(report, without_gnuplot_the_run_succeeds_and_says_how_to_get_charts, .timeout = 120)
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
    char *index = rp_read(out, "index.html");
    cr_assert_not_null(index);
    cr_assert_null(strstr(index, "<svg"));
    cr_assert(strstr(index, "gnuplot was not found"));
    cr_assert(strstr(index, "first_activation.servers = 6"));
    free(index);
    cr_assert(rp_exists(out, "charts/count.dat"));
    cr_assert(rp_exists(out, "charts/expiry.dat"));
    cr_assert(rp_exists(out, "charts/outcomes.dat"));
    cr_assert(rp_exists(out, "charts/latency.dat"));

    /* --no-report: nothing of the report */
    char out2[128];
    snprintf(out2, sizeof out2, "%s/bare", dir);
    const char *args2[] = {
        "run", KMSLOAD_SOURCE_DIR "/scenarios/smoke.ini", "--out", out2, "--no-report", "-q", NULL};
    cr_assert_eq(rp_status(args2, NULL), 0);
    cr_assert(rp_exists(out2, "summary.json"));
    cr_assert_not(rp_exists(out2, "index.html"));
    cr_assert_not(rp_exists(out2, "charts"));
}

/* Issue 10 item 8: a reused --out holding files of two runs makes no report. */
Test(report, files_of_different_runs_are_refused, .timeout = 60)
{
    char dir[64], err[1024] = "";
    rp_tmpdir(dir, sizeof dir);
    setenv("KMSLOAD_REPORTS", RP_REPORTS, 1);
    struct scenario *sc = calloc(1, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "first");
    struct run_tally *t = calloc(1, sizeof *t);
    run_tally_init(t, 0);
    struct run_info info = {.scenario = sc, .target = "t", .kmsload_version = "0"};
    struct run_event ev = {.seq = 1,
                           .app_key = "windows",
                           .population = "p",
                           .count = 3,
                           .outcome = KMS_OUTCOME_BELOW_THRESHOLD,
                           .hresult = 0xC004F038};
    /* The first run finishes; the second is killed after its first row. */
    struct run_dir r;
    cr_assert_eq(run_dir_open(&r, dir, err, sizeof err), 0, "%s", err);
    cr_assert_eq(run_dir_event(&r, &ev), 0);
    cr_assert_eq(run_dir_finish(&r, &info, t, NULL, 0, err, sizeof err), 0, "%s", err);
    char first[600], path[700], moved[700];
    snprintf(first, sizeof first, "%s/summary.json", dir);
    cr_assert_eq(run_dir_open(&r, dir, err, sizeof err), 0, "%s", err);
    cr_assert_eq(run_dir_event(&r, &ev), 0);
    run_dir_flush(&r);
    /* Put the first run's summary back, as a reused directory held it before runs had ids. */
    snprintf(moved, sizeof moved, "%s/summary.json", r.previous);
    snprintf(path, sizeof path, "%s", first);
    cr_assert_eq(rename(moved, path), 0);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "different runs"), "%s", err);
    cr_assert_not(rp_exists(dir, "index.html"), "no report over another run's verdict");
    run_dir_finish(&r, &info, t, NULL, 0, err, sizeof err);
    free(t);
    free(sc);
}
