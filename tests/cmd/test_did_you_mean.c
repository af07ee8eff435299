/* "Did you mean": a mistyped command or long option is answered with the closest real one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "host_main.h"
#include "probe.h"
#include "report_main.h"
#include "run_main.h"
#include "usage.h"

static const char *const commands[] = {"probe",    "run",   "host",      "report", "coverage",
                                       "discover", "merge", "scenarios", "fleet",  "watch"};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

Test(did_you_mean, a_slip_of_one_or_two_letters_finds_the_word)
{
    cr_assert_str_eq(usage_nearest("rnu", commands, N_COMMANDS), "run"); /* swapped letters */
    cr_assert_str_eq(usage_nearest("ru", commands, N_COMMANDS), "run");  /* one missing */
    cr_assert_str_eq(usage_nearest("porbe", commands, N_COMMANDS), "probe");
    cr_assert_str_eq(usage_nearest("scenario", commands, N_COMMANDS), "scenarios");
    cr_assert_str_eq(usage_nearest("covreage", commands, N_COMMANDS), "coverage");
    cr_assert_str_eq(usage_nearest("dsicovr", commands, N_COMMANDS), "discover"); /* two */
}

Test(did_you_mean, another_word_is_not_a_slip)
{
    cr_assert_null(usage_nearest("xyz", commands, N_COMMANDS));
    cr_assert_null(usage_nearest("ping", commands, N_COMMANDS));
    cr_assert_null(usage_nearest("rxyz", commands, N_COMMANDS));
    cr_assert_null(usage_nearest("", commands, N_COMMANDS));
}

Test(did_you_mean, probe_suggests_the_long_option)
{
    struct probe_options o;
    char err[256] = "";
    char *argv[] = {"probe", "--prodcut", "win10-pro", "127.0.0.1", NULL};
    cr_assert_neq(probe_options_parse(4, argv, &o, err, sizeof err), 0);
    cr_assert_str_eq(err, "unknown option \"--prodcut\" (did you mean --product?)");

    char *argv2[] = {"probe", "--prodcut=win10-pro", "127.0.0.1", NULL};
    cr_assert_neq(probe_options_parse(3, argv2, &o, err, sizeof err), 0);
    cr_assert_str_eq(err, "unknown option \"--prodcut=win10-pro\" (did you mean --product?)");

    char *argv3[] = {"probe", "--frobnicate", "127.0.0.1", NULL};
    cr_assert_neq(probe_options_parse(3, argv3, &o, err, sizeof err), 0);
    cr_assert_str_eq(err, "unknown option \"--frobnicate\"");
}

Test(did_you_mean, run_host_and_report_suggest_too)
{
    struct run_options ro;
    char err[256] = "";
    char *argv[] = {"run", "smoke", "--dryrun", NULL};
    cr_assert_neq(run_options_parse(3, argv, &ro, err, sizeof err), 0);
    cr_assert(strstr(err, "(did you mean --dry-run?)"), "%s", err);

    struct host_options ho;
    char *argv2[] = {"host", "--lisen", "127.0.0.1:0", NULL};
    cr_assert_neq(host_options_parse(3, argv2, &ho, err, sizeof err), 0);
    cr_assert(strstr(err, "(did you mean --listen?)"), "%s", err);

    struct report_options rep;
    char *argv3[] = {"report", "--quite", "dir", NULL};
    cr_assert_neq(report_options_parse(3, argv3, &rep, err, sizeof err), 0);
    cr_assert(strstr(err, "(did you mean --quiet?)"), "%s", err);
}
