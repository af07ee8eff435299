/* report: charts data and index.html from made-up run directories, through report_write. */
#include "report.h"
#include "run_dir.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    support_write_in(dir, "events.csv", ev);
    support_write_in(
        dir, "summary.json",
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
    char *ex = support_slurp_in(dir, "charts/expiry.dat");
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
    char *oc = support_slurp_in(dir, "charts/outcomes.dat");
    cr_assert(strstr(oc, "host error 0xC004F042 SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH"), "%s",
              oc);
    cr_assert(strstr(oc, "network error"));
    free(oc);
    char *index = support_slurp_in(dir, "index.html");
    cr_assert(strstr(index, "FAILED"));
    cr_assert(strstr(index, "a &lt;b&gt;made-up&lt;/b&gt; run"), "text is escaped");
    cr_assert(strstr(index, "max_count.office2013 = 3"));
    free(index);
}

/* A live-host run (real-host-smoke): the model accepts any Windows count from the run's own
 * machines up to the cap of 50, so its band would shade the whole count chart; the Office
 * counts are exact. The Windows band is left out (and its key says why), the Office one kept. */
Test(report, count_chart_leaves_out_a_band_that_spans_up_to_the_cap, .timeout = 60)
{
    char dir[64], err[1024] = "", ev[4096];
    rp_tmpdir(dir, sizeof dir);
    snprintf(ev, sizeof ev,
             "%s"
             "1,0.001,0.000000,,0,00000000-0000-0000-0000-000000000001,clients,windows,w,6,ndr64,"
             "25,below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,1,1,50,agree,100,,,\n"
             "2,0.002,60.000000,,1,00000000-0000-0000-0000-000000000002,servers,windows,s,6,ndr64,"
             "5,below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,2,2,50,agree,100,,,\n"
             "3,0.003,90.000000,,2,00000000-0000-0000-0000-000000000003,office,office2013,o,6,"
             "ndr64,5,below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,1,1,1,agree,100,,,\n"
             "4,0.004,120.000000,,0,00000000-0000-0000-0000-000000000001,clients,windows,w,6,"
             "ndr64,25,below-threshold,0xC004F038,SL_E_VL_NOT_ENOUGH_COUNT,2,2,50,agree,100,,,\n",
             rp_header);
    support_write_in(dir, "events.csv", ev);
    setenv("KMSLOAD_REPORTS", RP_REPORTS, 1);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_OK, "%s", err);
    char *cd = support_slurp_in(dir, "charts/count.dat");
    cr_assert_not_null(cd);
    cr_assert(strstr(cd, "windows: no band (live host"), "the key says why: %s", cd);
    cr_assert(strstr(cd, "office2013: model-expected range"), "%s", cd);
    /* t, windows count, band low, band high, office count, band low, band high */
    size_t rows = 0, office_bands = 0;
    const char *p = strchr(cd, '\n') + 1;
    while (*p) {
        char t[32], w[32], wlo[32], whi[32], o[32], olo[32], ohi[32];
        cr_assert_eq(sscanf(p, "%31s %31s %31s %31s %31s %31s %31s", t, w, wlo, whi, o, olo, ohi),
                     7, "row %zu: %.80s", rows, p);
        cr_assert_str_eq(wlo, "NaN", "no Windows band: row %zu: %.80s", rows, p);
        cr_assert_str_eq(whi, "NaN", "no Windows band: row %zu: %.80s", rows, p);
        if (strcmp(olo, "NaN") != 0) {
            cr_assert_float_eq(atof(olo), 0.6, 1e-9, "%.80s", p);
            cr_assert_float_eq(atof(ohi), 1.4, 1e-9, "%.80s", p);
            office_bands++;
        }
        rows++;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    cr_assert_gt(rows, 2);
    cr_assert_gt(office_bands, 0, "the exact Office band is kept");
    free(cd);
    char *detail = support_slurp_in(dir, "charts/count_detail.dat");
    cr_assert_not_null(detail);
    cr_assert(strstr(detail, " 1 NaN NaN\n"), "no Windows band in the close-up: %s", detail);
    cr_assert(strstr(detail, " 1 0.6 1.4\n"), "the Office band in the close-up: %s", detail);
    free(detail);
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
    char *index = support_slurp_in(dir, "index.html");
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
    support_write_in(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:3: column sim_s: \"zero\""), "%s", err);

    snprintf(ev, sizeof ev, "%s1,0.001,0.0,\"unterminated\n", rp_header);
    support_write_in(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_OK,
                 "an open quote at the end is a cut"
                 " line: %s",
                 err);

    snprintf(ev, sizeof ev, "%s1,2,3\n", rp_header);
    support_write_in(dir, "events.csv", ev);
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:2: 3 fields where the header has 23"), "%s", err);

    support_write_in(dir, "events.csv", "seq,wall_s,sim_s,client_time\n");
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "events.csv:1: missing column \"machine\""), "%s", err);

    support_write_in(dir, "events.csv", rp_header);
    support_write_in(dir, "summary.json", "{ not json");
    cr_assert_eq(report_write(dir, err, sizeof err), REPORT_BAD_INPUT);
    cr_assert(strstr(err, "summary.json:1:"), "%s", err);
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
    cr_assert_not(support_exists_in(dir, "index.html"), "no report over another run's verdict");
    run_dir_finish(&r, &info, t, NULL, 0, err, sizeof err);
    free(t);
    free(sc);
}
