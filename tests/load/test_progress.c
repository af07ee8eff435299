/* progress: the live progress line, golden outputs for the virtual and the real clock. */
#include "progress.h"

#include <criterion/criterion.h>
#include <string.h>

static void expect_line(const struct progress_snapshot *s, const char *golden)
{
    char line[400];
    size_t n = progress_format(s, line, sizeof line);
    cr_assert_eq(n, strlen(line));
    cr_assert_str_eq(line, golden);
}

Test(progress, virtual_clock_days_with_eta_and_the_hosts_counts)
{
    struct progress_snapshot s = {.wall_s = 2.0,
                                  .virtual_clock = true,
                                  .sim_us = 15LL * 86400 * 1000000,
                                  .duration_us = 60LL * 86400 * 1000000,
                                  .requests = 1500,
                                  .failures = 1,
                                  .rate = 749.6,
                                  .n_apps = 3,
                                  .app_key = {"windows", "office2010", "office2013"},
                                  .host_count = {30, -1, 10}};
    /* a quarter done in 2 s: 6 s to go; office2010 has not answered yet */
    expect_line(&s, " 25%  sim day 15.0 of 60  ETA 6s  1500 requests  750/s  1 error  "
                    "host counts: windows 30, office2013 10");
}

Test(progress, a_two_hour_virtual_run_reads_in_hours_not_day_0_08)
{
    struct progress_snapshot s = {.wall_s = 30.0,
                                  .virtual_clock = true,
                                  .sim_us = 3600LL * 1000000 * 3 / 2,
                                  .duration_us = 7200LL * 1000000,
                                  .requests = 1,
                                  .rate = 0,
                                  .n_apps = 1,
                                  .app_key = {"windows"},
                                  .host_count = {1}};
    expect_line(&s, " 75%  sim 1.5 h of 2 h  ETA 10s  1 request  0/s  0 errors  host counts: "
                    "windows 1");
}

Test(progress, real_clock_counts_down_its_duration)
{
    struct progress_snapshot s = {.wall_s = 125.0,
                                  .virtual_clock = false,
                                  .sim_us = 125LL * 1000000,
                                  .duration_us = 3600LL * 1000000,
                                  .requests = 250,
                                  .rate = 2,
                                  .n_apps = 1,
                                  .app_key = {"windows"},
                                  .host_count = {-1}};
    /* no answer with a count yet: no host counts at all */
    expect_line(&s, "  3%  2m05s of 1h00m  ETA 57m55s  250 requests  2/s  0 errors");
}

Test(progress, before_anything_happened_the_eta_is_unknown)
{
    struct progress_snapshot s = {.virtual_clock = true, .duration_us = 10LL * 86400 * 1000000};
    expect_line(&s, "  0%  sim day 0.0 of 10  ETA --  0 requests  0/s  0 errors");
}

Test(progress, durations_read_at_a_glance)
{
    char b[32];
    progress_format_eta(0.4, b, sizeof b);
    cr_assert_str_eq(b, "0s");
    progress_format_eta(59.6, b, sizeof b);
    cr_assert_str_eq(b, "1m00s");
    progress_format_eta(3725, b, sizeof b);
    cr_assert_str_eq(b, "1h02m");
    progress_format_eta(2 * 86400 + 3 * 3600, b, sizeof b);
    cr_assert_str_eq(b, "2d03h");
    progress_format_eta(-1, b, sizeof b);
    cr_assert_str_eq(b, "--");
}

Test(progress, a_short_buffer_is_truncated_not_overrun)
{
    struct progress_snapshot s = {.virtual_clock = true, .duration_us = 1000000};
    char line[8];
    memset(line, 'x', sizeof line);
    size_t n = progress_format(&s, line, sizeof line);
    cr_assert_leq(n, sizeof line - 1);
    cr_assert_eq(line[sizeof line - 1], '\0');
}
