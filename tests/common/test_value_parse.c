/* Command-line value parsing: durations, switches, numbers. */
#include "value_parse.h"

#include <criterion/criterion.h>
#include <string.h>

Test(value_parse, durations)
{
    int64_t us;
    char err[160];
    cr_assert_eq(value_parse_duration("90", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, 90000000);
    cr_assert_eq(value_parse_duration("250ms", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, 250000);
    cr_assert_eq(value_parse_duration("3h59m", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, (3 * 3600 + 59 * 60) * 1000000LL);
    cr_assert_eq(value_parse_duration("-4h01m", true, &us, err, sizeof err), 0);
    cr_assert_eq(us, -(4 * 3600 + 60) * 1000000LL);
    cr_assert_eq(value_parse_duration("+1d12h", true, &us, err, sizeof err), 0);
    cr_assert_eq(us, 36 * 3600 * 1000000LL);
}

Test(value_parse, bad_durations_name_the_problem)
{
    int64_t us;
    char err[160];
    cr_assert_eq(value_parse_duration("-4h", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "sign"), "%s", err);
    cr_assert_eq(value_parse_duration("4x", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "unknown unit"), "%s", err);
    cr_assert_eq(value_parse_duration("h", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "not a duration"), "%s", err);
    cr_assert_eq(value_parse_duration("99999999999999999d", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "too large"), "%s", err);
}

Test(value_parse, switches_and_numbers)
{
    bool v = false;
    unsigned long n;
    cr_assert_eq(value_parse_switch("on", &v), 0);
    cr_assert(v);
    cr_assert_eq(value_parse_switch("OFF", &v), 0);
    cr_assert_not(v);
    cr_assert_eq(value_parse_switch("maybe", &v), -1);
    cr_assert_eq(value_parse_uint("6", 4, 6, &n), 0);
    cr_assert_eq(n, 6);
    cr_assert_eq(value_parse_uint("7", 4, 6, &n), -1);
    cr_assert_eq(value_parse_uint("-1", 0, 6, &n), -1);
    cr_assert_eq(value_parse_uint("5x", 0, 6, &n), -1);
}

Test(value_parse, duration_formatting)
{
    char out[32];
    value_format_duration(120000, out, sizeof out);
    cr_assert_str_eq(out, "120 ms");
    value_format_duration((4 * 3600 + 60) * 1000000LL, out, sizeof out);
    cr_assert_str_eq(out, "4h01m00s");
    value_format_duration(-(7 * 86400) * 1000000LL, out, sizeof out);
    cr_assert_str_eq(out, "-7d00h00m");
}
