/* `kmsload run` options parsed in-process: every bad flag refused with a message naming it. */
#include "run_main.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define ARGV(...) ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(v) ((int)(sizeof(v) / sizeof(v)[0]) - 1)

static int parse(int argc, char **argv, struct run_options *o, char *err)
{
    err[0] = '\0';
    return run_options_parse(argc, argv, o, err, 512);
}

Test(run_options, defaults_and_every_flag)
{
    struct run_options o;
    char err[512];
    char **a = ARGV("s.ini");
    cr_assert_eq(parse(ARGC(ARGV("s.ini")), a, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.scenario_path, "s.ini");
    cr_expect_null(o.target);
    cr_expect_null(o.out_dir);
    cr_expect(o.report);
    cr_expect_eq(o.shard_count, 1);
    cr_expect_not(o.seed_given);

    char **b = ARGV("--target", "127.0.0.1:1688", "-o", "d", "--seed", "7", "--shard", "1/3",
                    "--threads", "0", "--set", "duration=1d", "--set", "timeout=1s", "-q",
                    "--no-report", "--summary-md", "-", "s.ini");
    int n = ARGC(ARGV("--target", "127.0.0.1:1688", "-o", "d", "--seed", "7", "--shard", "1/3",
                      "--threads", "0", "--set", "duration=1d", "--set", "timeout=1s", "-q",
                      "--no-report", "--summary-md", "-", "s.ini"));
    cr_assert_eq(parse(n, b, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.target, "127.0.0.1:1688");
    cr_expect_str_eq(o.out_dir, "d");
    cr_expect(o.seed_given);
    cr_expect_eq(o.seed, 7);
    cr_expect_eq(o.shard_index, 1);
    cr_expect_eq(o.shard_count, 3);
    cr_expect(o.threads_given);
    cr_expect_eq(o.threads, 0);
    cr_assert_eq(o.n_sets, 2);
    cr_expect_str_eq(o.sets[1], "timeout=1s");
    cr_expect(o.quiet);
    cr_expect_not(o.report);
    cr_expect_str_eq(o.summary_md, "-");
    cr_expect_str_eq(o.scenario_path, "s.ini");
}

Test(run_options, help_stops_parsing)
{
    struct run_options o;
    char err[512];
    char **a = ARGV("--help", "--bogus");
    cr_assert_eq(parse(ARGC(ARGV("--help", "--bogus")), a, &o, err), 0);
    cr_expect(o.help);
}

Test(run_options, bad_flags_are_refused_naming_the_problem)
{
    static const struct {
        const char *a1, *a2, *needle;
    } bad[] = {
        {"--bogus", NULL, "--bogus"},     {"--shard", "2/2", "2/2"},
        {"--shard", "1", "K/N"},          {"--shard", "x/2", "K/N"},
        {"--seed", "many", "--seed"},     {"--set", "duration", "KEY=VALUE"},
        {"--target", "", "--target"},     {"--target", "[::1", "]"},
        {"--threads", "65", "--threads"}, {"--out", NULL, "needs a value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_options o;
        char err[512];
        char *argv[] = {"run", "s.ini", (char *)bad[i].a1, (char *)bad[i].a2, NULL};
        int argc = bad[i].a2 ? 4 : 3;
        cr_expect_eq(parse(argc, argv, &o, err), -1, "%s %s accepted", bad[i].a1,
                     bad[i].a2 ? bad[i].a2 : "");
        cr_expect_not_null(strstr(err, bad[i].needle), "%s: \"%s\" lacks \"%s\"", bad[i].a1, err,
                           bad[i].needle);
    }
}

Test(run_options, scenario_missing_or_doubled)
{
    struct run_options o;
    char err[512];
    char *none[] = {"run", "-q", NULL};
    cr_expect_eq(parse(2, none, &o, err), -1);
    cr_expect_not_null(strstr(err, "SCENARIO"), "%s", err);
    char *two[] = {"run", "a.ini", "b.ini", NULL};
    cr_expect_eq(parse(3, two, &o, err), -1);
    cr_expect_not_null(strstr(err, "b.ini"), "%s", err);
}

Test(run_options, at_most_64_sets)
{
    char *argv[2 + 2 * (RUN_MAX_SETS + 1) + 1];
    int n = 0;
    argv[n++] = "run";
    for (int i = 0; i <= RUN_MAX_SETS; i++) {
        argv[n++] = "--set";
        argv[n++] = "duration=1d";
    }
    argv[n++] = "s.ini";
    argv[n] = NULL;
    struct run_options o;
    char err[512];
    cr_expect_eq(parse(n, argv, &o, err), -1);
    cr_expect_not_null(strstr(err, "at most"), "%s", err);
}

Test(run_options, shard_auto_reads_job_completion_index)
{
    struct run_options o;
    char err[512];
    char *argv[] = {"run", "--shard", "auto/4", "s.ini", NULL};
    unsetenv("JOB_COMPLETION_INDEX");
    cr_expect_eq(parse(4, argv, &o, err), -1);
    cr_expect_not_null(strstr(err, "JOB_COMPLETION_INDEX is not set"), "%s", err);
    setenv("JOB_COMPLETION_INDEX", "4", 1);
    cr_expect_eq(parse(4, argv, &o, err), -1);
    cr_expect_not_null(strstr(err, "out of range"), "%s", err);
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    cr_assert_eq(parse(4, argv, &o, err), 0, "%s", err);
    cr_expect_eq(o.shard_index, 3);
    cr_expect_eq(o.shard_count, 4);
    unsetenv("JOB_COMPLETION_INDEX");
}
