/* charts: what the gnuplot scripts of reports/ draw for real runs, read back from the SVG text:
 * falls below a threshold marked with their day, threshold lines on the expiry chart, whole
 * machines on the machine axes, close-up labels in the close-up's unit, rates a person reads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch ch;

static void setup(void)
{
    support_scratch_init(&ch, "charts");
}

static void teardown(void)
{
    support_scratch_fini(&ch);
}

static int have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Runs a shipped scenario into DIR/run and returns DIR (a fresh directory in the scratch). */
static void run_scenario(char *dir, size_t cap, const char *scenario)
{
    support_scratch_path(&ch, "case", dir, cap);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
    char out[256];
    snprintf(out, sizeof out, "%s/run", dir);
    const char *args[] = {"run", scenario, "--out", out, "-q", NULL};
    struct support_result r = support_run(&ch, 60000, SUPPORT_ERR_TO_OUT, args);
    cr_assert(r.status == 0, "kmsload run %s: status %d: %s", scenario, r.status, r.out);
    support_result_free(&r);
}

static char *chart(const char *dir, const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/run/charts/%s", dir, name);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "%s missing", path);
    return text;
}

/* An SVG tick or label text exactly (gnuplot's default tick format has a leading space). */
static int has_text(const char *svg, const char *text)
{
    char needle[200];
    snprintf(needle, sizeof needle, "<text>%s</text>", text);
    return strstr(svg, needle) != NULL;
}

TestSuite(charts, .init = setup, .fini = teardown, .timeout = 90);

Test(charts, expiry_marks_the_falls_below_threshold_and_keeps_machines_whole)
{
    if (!have_gnuplot())
        cr_skip_test("gnuplot not installed");
    char dir[128];
    run_scenario(dir, sizeof dir, KMSLOAD_SOURCE_DIR "/scenarios/expiry-30d.ini");

    /* The point of the scenario: Windows under 25 near day 43, Office under 5 near day 44,
     * marked in both the count chart and the expiry chart. */
    const char *names[] = {"count.svg", "expiry.svg"};
    for (size_t i = 0; i < 2; i++) {
        char *svg = chart(dir, names[i]);
        cr_assert(strstr(svg, "windows count below 25, day 43."), "%s: no fall below 25", names[i]);
        cr_assert(strstr(svg, "office2013 count below 5, day 4"), "%s: no fall below 5", names[i]);
        cr_assert_null(strstr(svg, "windows count below 5,"), "%s: windows never fell below 5",
                       names[i]);
        cr_assert(has_text(svg, "count fell below a threshold"), "%s: key entry", names[i]);
        cr_assert(has_text(svg, "threshold 25: Windows clients"), "%s: threshold line", names[i]);
        cr_assert(has_text(svg, "threshold 5: servers, Office"), "%s: threshold line", names[i]);
        free(svg);
    }

    /* Machines expiring per day (at most 4 here): whole ticks, never 0.5 or 2.5. */
    char *expiry = chart(dir, "expiry.svg");
    cr_assert(has_text(expiry, "1") && has_text(expiry, "3"), "integer ticks");
    cr_assert(!strstr(expiry, "0.5</text>") && !strstr(expiry, "2.5</text>"),
              "half machines on an axis");
    /* Per a unit people read (summed per simulated day), not per the data's bucket ("per
     * 1.14 h"). */
    cr_assert(strstr(expiry, "machines leaving the 30-day window per day"),
              "right axis says per how long");
    cr_assert_null(strstr(expiry, " h</text>"), "right axis per an odd number of hours");
    free(expiry);

    /* The close-up is in hours: its labels say "at 48 min", not "day 0.03". */
    char *count = chart(dir, "count.svg");
    cr_assert(strstr(count, "clients: 1st activation, request 33, count 25, at 48 min"),
              "close-up label in the close-up's unit");
    free(count);

    /* Rates: 0.6-day bins, so per simulated hour; plain numbers. */
    const char *rates[] = {"outcomes.svg", "latency.svg"};
    for (size_t i = 0; i < 2; i++) {
        char *svg = chart(dir, rates[i]);
        cr_assert(has_text(svg, "requests per simulated hour"), "%s: rate unit", rates[i]);
        cr_assert_null(strstr(svg, "e+0"), "%s: a number in exponent form", rates[i]);
        free(svg);
    }
    support_remove_tree(dir);
}

Test(charts, a_climb_has_no_fall_and_rates_per_simulated_minute)
{
    if (!have_gnuplot())
        cr_skip_test("gnuplot not installed");
    char dir[128];
    run_scenario(dir, sizeof dir, KMSLOAD_SOURCE_DIR "/scenarios/threshold-climb.ini");
    char *count = chart(dir, "count.svg");
    cr_assert_null(strstr(count, "count fell below a threshold"), "no fall, no key entry");
    cr_assert_null(strstr(count, " count below "), "no fall label");
    free(count);
    /* 3 days in 100 bins of 43 minutes: a bar shows at most the requests it holds. */
    char *latency = chart(dir, "latency.svg");
    cr_assert(has_text(latency, "requests per simulated minute"), "rate unit");
    free(latency);
    support_remove_tree(dir);
}

Test(charts, a_short_real_clock_run_shows_requests_per_bar_not_an_inflated_rate)
{
    if (!have_gnuplot())
        cr_skip_test("gnuplot not installed");
    char dir[128];
    /* 3 s of real time, 25 requests: bins of 31 ms; "160 per second" would be the old reading. */
    run_scenario(dir, sizeof dir, KMSLOAD_SOURCE_DIR "/scenarios/clock-skew.ini");
    char *outcomes = chart(dir, "outcomes.svg");
    cr_assert(strstr(outcomes, "<text>requests in each bar ("), "requests per bar, no rate");
    cr_assert(!has_text(outcomes, " 160") && !has_text(outcomes, " 100"),
              "a rate above the 25 requests of the run");
    free(outcomes);
    support_remove_tree(dir);
}
