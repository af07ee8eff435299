/* The shipped scenarios from the command line: `kmsload scenarios`, `run --list`, a scenario by
 * name from any directory, from standard input, and populations without a file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_main.h"
#include "support.h"

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch sn;

static void setup(void)
{
    support_scratch_init(&sn, "scenarios");
}

static void teardown(void)
{
    support_scratch_fini(&sn);
}

/* Runs a shell command line in sn.dir (cd'ed there: not the source tree), its stdout and stderr in
 * sn.dir/stdout.txt and sn.dir/stderr.txt; returns the exit status. */
static int sh(const char *fmt, const char *arg)
{
    char line[2048], cmd[2400];
    snprintf(line, sizeof line, fmt, arg);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s >'%s/stdout.txt' 2>'%s/stderr.txt'", sn.dir, line,
             sn.dir, sn.dir);
    int status = system(cmd);
    cr_assert(WIFEXITED(status), "%s", cmd);
    return WEXITSTATUS(status);
}

static char *slurp(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", sn.dir, name);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "%s", path);
    return text;
}

/* A line "  NAME   PURPOSE" of the list (the column's width follows the longest name). */
static int listed(const char *out, const char *name, const char *purpose)
{
    char head[128];
    snprintf(head, sizeof head, "\n  %s ", name);
    const char *p = strstr(out, head);
    if (!p)
        return 0;
    p += strlen(head);
    while (*p == ' ')
        p++;
    return strncmp(p, purpose, strlen(purpose)) == 0 && p[strlen(purpose)] == '\n';
}

TestSuite(scenarios, .init = setup, .fini = teardown, .timeout = 60);

Test(scenarios, the_list_names_each_shipped_scenario_with_its_purpose)
{
    cr_assert_eq(sh("'%s' scenarios", KMSLOAD_BINARY), 0);
    char *out = slurp("stdout.txt");
    cr_assert(strstr(out, "run one with 'kmsload run NAME'"), "%s", out);
    /* The first sentence of each file's comment, without "; NAME:". */
    cr_assert(listed(out, "smoke", "a tiny, fast scenario for CI and the Docker image."), "%s",
              out);
    /* Real-clock scenarios (safe for a production host) are marked; virtual-clock ones not. */
    cr_assert(listed(out, "real-host-smoke",
                     "does a KMS host that already serves real machines answer, correctly and "
                     "fast? [real clock]"),
              "%s", out);
    cr_assert(strstr(out, "the Docker image.\n"), "smoke (virtual clock) is marked: %s", out);
    cr_assert(listed(out, "expiry-30d",
                     "the 30-day window -- machines that stop contacting the host drop out of its "
                     "count."),
              "%s", out);
    /* A sentence broken over two comment lines is read whole. */
    cr_assert(strstr(out, "share a CMID, and the count stalls."), "%s", out);
    free(out);
    cr_assert_eq(sh("'%s' run --list", KMSLOAD_BINARY), 0);
    char *list = slurp("stdout.txt");
    cr_assert(listed(list, "threshold-climb",
                     "a KMS host's Windows client threshold, crossed one machine at a time."),
              "%s", list);
    free(list);
}

Test(scenarios, a_shipped_scenario_runs_by_name_from_any_directory)
{
    cr_assert_eq(sh("'%s' run smoke --out by-name -q --no-report", KMSLOAD_BINARY), 0);
    char *summary = slurp("by-name/summary.json");
    cr_assert(strstr(summary, "\"name\": \"smoke\""), "%s", summary);
    free(summary);
    /* An unknown name says what SCENARIO may be. */
    cr_assert_eq(sh("'%s' run no-such-scenario -q", KMSLOAD_BINARY), 2);
    char *err = slurp("stderr.txt");
    cr_assert(strstr(err, "no-such-scenario: cannot read the scenario"), "%s", err);
    cr_assert(strstr(err, "nor is it a shipped scenario: 'kmsload scenarios' lists them"), "%s",
              err);
    free(err);
}

Test(scenarios, a_scenario_from_standard_input)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' run - --out from-stdin -q --no-report < '%s/scenarios/smoke.ini'",
             KMSLOAD_BINARY, KMSLOAD_SOURCE_DIR);
    cr_assert_eq(sh("%s", cmd), 0);
    char *summary = slurp("from-stdin/summary.json");
    cr_assert(strstr(summary, "\"name\": \"smoke\""), "%s", summary);
    free(summary);
    /* A broken one is named as stdin, with its line. */
    cr_assert_eq(sh("printf '[scenario]\\nduration = soon\\n' | '%s' run - -q", KMSLOAD_BINARY), 2);
    char *err = slurp("stderr.txt");
    cr_assert(strstr(err, "kmsload run: stdin:2: [scenario] duration:"), "%s", err);
    free(err);
}

Test(scenarios, populations_from_the_command_line_without_a_file)
{
    cr_assert_eq(sh("'%s' run --population clients:win10-pro:26 --population "
                    "office:office2021-proplus:5 --set duration=1d --out cli -q --no-report",
                    KMSLOAD_BINARY),
                 0);
    char *summary = slurp("cli/summary.json");
    cr_assert(strstr(summary, "\"name\": \"cli\""), "%s", summary);
    cr_assert(strstr(summary, "\"clients\""), "%s", summary);
    cr_assert(strstr(summary, "\"office\""), "%s", summary);
    free(summary);
    /* An unknown product is named by the scenario parser. */
    cr_assert_eq(sh("'%s' run --population a:nonsense:3 -q --no-report", KMSLOAD_BINARY), 2);
    char *err = slurp("stderr.txt");
    cr_assert(strstr(err, "[population a] product:"), "%s", err);
    free(err);
}

Test(scenarios, population_flags_are_checked_when_parsed)
{
    static const struct {
        const char *spec, *message;
    } bad[] = {
        {"clients", "--population \"clients\": expected NAME:PRODUCT:MACHINES, e.g. "
                    "clients:win10-pro:30"},
        {"a:b:0", "--population \"a:b:0\": expected NAME:PRODUCT:MACHINES with MACHINES "
                  "1..10000000"},
        {"a]:b:1", "--population \"a]:b:1\": names and products are letters, digits, '-', '_' "
                   "and '.'"},
        {"a:b:1:2", "--population \"a:b:1:2\": expected NAME:PRODUCT:MACHINES, e.g. "
                    "clients:win10-pro:30"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_options o;
        char err[512] = "";
        char *argv[] = {"run", "--population", (char *)bad[i].spec, NULL};
        cr_expect_eq(run_options_parse(3, argv, &o, err, sizeof err), -1, "%s", bad[i].spec);
        cr_expect_str_eq(err, bad[i].message);
    }
    struct run_options o;
    char err[512] = "";
    char *none[] = {"run", NULL};
    cr_expect_eq(run_options_parse(1, none, &o, err, sizeof err), -1);
    cr_expect_str_eq(err, "missing the SCENARIO: a file, a shipped scenario's name ('kmsload "
                          "scenarios' lists them), - for standard input, or --population "
                          "NAME:PRODUCT:MACHINES");
}

Test(scenarios, messages_read_right_one_machine_operators_and_io_failures)
{
    char line[512];
    snprintf(line, sizeof line,
             "'%s' run --population solo:win10-pro:1 --set duration=1d --out one --no-report",
             KMSLOAD_BINARY);
    cr_assert_eq(sh("%s", line), 0);
    char *out = slurp("stdout.txt");
    cr_assert(strstr(out, "  population solo         1 machine, 0 activated\n"), "%s", out);
    cr_assert(strstr(out, "  [PASS] model_mismatches \xE2\x89\xA4 0 (default) \xE2\x80\x94 no "
                          "disagreement with the model in "),
              "%s", out);
    free(out);
    /* Results that cannot be written: exit 4, not 1 (a failed expectation) nor 2. */
    cr_assert_eq(
        sh("touch a-file && '%s' run smoke --out a-file/run -q --no-report", KMSLOAD_BINARY), 4);
    char *err = slurp("stderr.txt");
    cr_assert(strstr(err, "kmsload run: cannot create output directory a-file: a file of that "
                          "name exists and is not a directory"),
              "%s", err);
    free(err);
}
