/* rate_text: a request rate as people read it, never "0/s" for a slow real-clock run. */
#include <criterion/criterion.h>

#include "rate_text.h"

Test(rate_text, many_requests_per_second_are_whole_numbers)
{
    char buf[32];
    cr_assert_str_eq(rate_text(11200, 1.0, buf, sizeof buf), "11200/s");
    cr_assert_str_eq(rate_text(133, 0.05, buf, sizeof buf), "2660/s");
    cr_assert_str_eq(rate_text(45, 10.0, buf, sizeof buf), "4.5/s");
}

Test(rate_text, a_slow_run_says_per_minute_or_hour_not_zero_per_second)
{
    char buf[32];
    /* real-host-smoke: a few requests in a minute of wall time */
    cr_assert_str_eq(rate_text(3, 60.0, buf, sizeof buf), "3.0/min");
    cr_assert_str_eq(rate_text(8, 10.0, buf, sizeof buf), "48.0/min");
    cr_assert_str_eq(rate_text(2, 3600.0, buf, sizeof buf), "2.0/h");
}

Test(rate_text, no_time_is_no_rate)
{
    char buf[32];
    cr_assert_str_eq(rate_text(5, 0.0, buf, sizeof buf), "-");
    cr_assert_str_eq(rate_text(0, 10.0, buf, sizeof buf), "0/s");
}
