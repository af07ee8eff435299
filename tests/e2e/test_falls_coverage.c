/* summary.json falls_below and index.html's falls and coverage tables, on real runs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

/* Runs scenario (under scenarios/) into a fresh directory; returns the run directory. */
static void fc_run(const char *scenario, char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/kmsload-falls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' run '%s/scenarios/%s' --out '%s/run' -q >'%s/out' 2>'%s/err' </dev/null",
             KMSLOAD_BINARY, KMSLOAD_SOURCE_DIR, scenario, dir, dir, dir);
    int status = system(cmd);
    cr_assert_eq(status, 0, "kmsload run %s: status %d (see %s/err)", scenario, status, dir);
}

static void fc_rm(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
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
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_not_null(mem);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(f);
    fclose(mem);
    return buf;
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
    fc_rm(dir);
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
    fc_rm(dir);
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
    fc_rm(dir);
}
