/* `kmsload report` and `kmsload merge` options parsed in-process. */
#include "merge_main.h"
#include "report_main.h"

#include <criterion/criterion.h>
#include <string.h>

Test(report_options, run_dir_and_quiet)
{
    struct report_options o;
    char err[512] = "";
    char *argv[] = {"report", "-q", "out/x", NULL};
    cr_assert_eq(report_options_parse(3, argv, &o, err, sizeof err), 0, "%s", err);
    cr_expect(o.quiet);
    cr_expect_str_eq(o.run_dir, "out/x");
    char *none[] = {"report", NULL};
    cr_expect_eq(report_options_parse(1, none, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "RUN_DIR"), "%s", err);
    char *two[] = {"report", "a", "b", NULL};
    cr_expect_eq(report_options_parse(3, two, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "\"b\""), "%s", err);
    char *bogus[] = {"report", "--bogus", "a", NULL};
    cr_expect_eq(report_options_parse(3, bogus, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "--bogus"), "%s", err);
}

Test(merge_options, out_dir_runs_and_flags)
{
    struct merge_command_options o;
    char err[512] = "";
    char *argv[] = {"merge", "--scenario", "s.ini",  "--set", "duration=1d", "--summary-md",
                    "-",     "-q",         "merged", "r0",    "r1",          NULL};
    cr_assert_eq(merge_options_parse(11, argv, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.merge.scenario_path, "s.ini");
    cr_assert_eq(o.merge.n_overrides, 1);
    cr_expect_str_eq(o.merge.overrides[0], "duration=1d");
    cr_expect_str_eq(o.merge.summary_md, "-");
    cr_expect(o.quiet);
    cr_expect_str_eq(o.merge.out_dir, "merged");
    cr_assert_eq(o.merge.n_runs, 2);
    cr_expect_str_eq(o.merge.run_dirs[1], "r1");
}

Test(merge_options, usage_errors)
{
    struct merge_command_options o;
    char err[512];
    char *none[] = {"merge", NULL};
    cr_expect_eq(merge_options_parse(1, none, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "OUT_DIR"), "%s", err);
    char *one[] = {"merge", "merged", NULL};
    cr_expect_eq(merge_options_parse(2, one, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "RUN_DIRs"), "%s", err);
    char *set[] = {"merge", "--set", "duration", "m", "r", NULL};
    cr_expect_eq(merge_options_parse(5, set, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "KEY=VALUE"), "%s", err);
    char *missing[] = {"merge", "m", "r", "--scenario", NULL};
    cr_expect_eq(merge_options_parse(4, missing, &o, err, sizeof err), -1);
    cr_expect_not_null(strstr(err, "needs a value"), "%s", err);
}
