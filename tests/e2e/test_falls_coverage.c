/* summary.json falls_below and index.html's falls and coverage tables, on real runs. */
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch fc;

static void fc_init(void)
{
    support_scratch_init(&fc, "falls");
}

static void fc_fini(void)
{
    support_scratch_fini(&fc);
}

TestSuite(falls_below, .init = fc_init, .fini = fc_fini);
TestSuite(coverage_report, .init = fc_init, .fini = fc_fini);

/* Runs scenario (under scenarios/) into DIR/run; DIR is the scratch directory. */
static void fc_run(const char *scenario, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", fc.dir);
    char path[600], out[600];
    snprintf(path, sizeof path, "%s/scenarios/%s", KMSLOAD_SOURCE_DIR, scenario);
    snprintf(out, sizeof out, "%s/run", dir);
    const char *args[] = {"run", path, "--out", out, "-q", NULL};
    struct support_result r = support_run(&fc, 100000, 0, args);
    cr_assert_eq(r.status, 0, "kmsload run %s: status %d: %s", scenario, r.status, r.err);
    support_result_free(&r);
}

static json_t *fc_summary(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/run/summary.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", path, jerr.text);
    return root;
}

static char *fc_index(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/run/index.html", dir);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "%s: %s", path, strerror(errno));
    return text;
}

Test(falls_below, expiry_30d_windows_falls_below_25_in_its_sixth_week, .timeout = 120)
{
    char dir[64];
    fc_run("expiry-30d.ini", dir, sizeof dir);
    json_t *root = fc_summary(dir);
    const json_t *falls = json_object_get(root, "falls_below");
    cr_assert(json_is_array(falls), "no falls_below array");
    bool windows = false, office = false;
    double prev = -1;
    size_t i;
    const json_t *f;
    json_array_foreach((json_t *)falls, i, f)
    {
        const char *app = json_string_value(json_object_get(f, "application"));
        double th = json_number_value(json_object_get(f, "threshold"));
        double count = json_number_value(json_object_get(f, "count"));
        double sim = json_number_value(json_object_get(f, "sim_s"));
        cr_assert_not_null(app);
        cr_assert_lt(count, th, "a fall below %.0f returned %.0f", th, count);
        cr_assert(json_integer_value(json_object_get(f, "request")) > 0);
        cr_assert_geq(sim, prev, "falls out of time order");
        prev = sim;
        if (strcmp(app, "windows") == 0 && th == 25) {
            cr_assert(!windows, "Windows fell below 25 twice");
            windows = true;
            double day = sim / 86400.0;
            cr_assert(day >= 40 && day <= 46, "Windows fell below 25 on day %.3f", day);
            cr_assert_eq(count, 24, "the count one step below: %.0f", count);
        }
        if (strcmp(app, "office2013") == 0 && th == 5)
            office = true;
    }
    cr_assert(windows, "no Windows fall below 25");
    cr_assert(office, "no Office fall below 5");
    json_decref(root);

    char *html = fc_index(dir);
    cr_assert(strstr(html, "<caption>Falls below a threshold</caption>"));
    cr_assert(strstr(html, "<tr><td>windows</td><td class=\"num\">25</td><td class=\"num\">24"
                           "</td>"),
              "no Windows row in the falls table");
    free(html);
}

Test(falls_below, threshold_climb_never_falls, .timeout = 120)
{
    char dir[64];
    fc_run("threshold-climb.ini", dir, sizeof dir);
    json_t *root = fc_summary(dir);
    const json_t *falls = json_object_get(root, "falls_below");
    cr_assert(json_is_array(falls), "no falls_below array");
    cr_assert_eq(json_array_size(falls), 0, "a climb that never falls has %zu falls",
                 json_array_size(falls));
    json_decref(root);
    char *html = fc_index(dir);
    cr_assert(strstr(html, "no count fell below a threshold it had reached"));
    free(html);
}

Test(coverage_report, host_key_coverage_index_has_a_row_per_group, .timeout = 120)
{
    char dir[64];
    fc_run("host-key-coverage.ini", dir, sizeof dir);
    char *html = fc_index(dir);
    cr_assert(strstr(html, "<table class=\"grid coverage\">"), "no coverage table");
    cr_assert_null(strstr(html, "<pre class=\"coverage\">"), "coverage still as text");
    /* Server 2025 is refused by this Server 2019 host: a row with its HRESULT, and advice */
    cr_assert(strstr(html, "<tr class=\"fail\"><td>Windows Server 2025</td><td>refused</td><td>"
                           "</td><td><code>0xC004F042</code>"),
              "no refused row for Windows Server 2025");
    cr_assert(strstr(html, "<tr class=\"pass\"><td>Windows Server 2019</td><td>activated</td>"),
              "no activated row for Windows Server 2019");
    cr_assert(strstr(html, "<li>Windows Server 2025 clients: install a Windows Server 2025 CSVLK"),
              "no advice item for Windows Server 2025");
    cr_assert_null(strstr(html, "<script"), "index.html has a script");
    free(html);
    char path[600];
    snprintf(path, sizeof path, "%s/run/coverage.json", dir);
    json_error_t jerr;
    json_t *cov = json_load_file(path, 0, &jerr);
    cr_assert_not_null(cov, "%s: %s", path, jerr.text);
    cr_assert_str_eq(json_string_value(json_object_get(cov, "host_os")), "Windows Server 2019");
    json_decref(cov);
}
