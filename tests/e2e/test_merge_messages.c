/* `kmsload merge` says what a person must know: each failed expectation by name, shards against
 * their own embedded hosts, shards against different targets; and it draws the report. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch mm;

static void setup(void)
{
    support_scratch_init(&mm, "mergemsg");
}

static void teardown(void)
{
    support_scratch_fini(&mm);
}

static int sh(const char *line)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s >'%s/stdout.txt' 2>'%s/stderr.txt'", mm.dir, line,
             mm.dir, mm.dir);
    int status = system(cmd);
    cr_assert(WIFEXITED(status), "%s", cmd);
    return WEXITSTATUS(status);
}

static char *slurp(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", mm.dir, name);
    return support_slurp(path, NULL);
}

TestSuite(merge_messages, .init = setup, .fini = teardown, .timeout = 90);

Test(merge_messages, failed_expectations_are_named_and_the_report_is_drawn)
{
    char line[1024];
    for (int k = 0; k < 2; k++) {
        snprintf(line, sizeof line,
                 "'%s' run '%s/scenarios/threshold-climb.ini' --shard %d/2 --out w%d -q "
                 "--no-report",
                 KMSLOAD_BINARY, KMSLOAD_SOURCE_DIR, k, k);
        cr_assert_eq(sh(line), 1, "each shard alone fails first_activation (15 of 30 machines)");
    }
    snprintf(line, sizeof line, "'%s' merge merged w0 w1", KMSLOAD_BINARY);
    cr_assert_eq(sh(line), 1);
    char *err = slurp("stderr.txt");
    cr_assert_not_null(err);
    /* Two embedded hosts of 15 machines each: the whole fleet's first activation fails. */
    cr_assert(strstr(err, "4 of 5 expectations met"), "%s", err);
    cr_assert(strstr(err, "kmsload merge: [FAIL] first_activation.clients = 25 — no machine of "
                          "clients activated"),
              "%s", err);
    cr_assert(strstr(err, "kmsload merge: note: each shard ran against its own embedded reference "
                          "host"),
              "%s", err);
    cr_assert_null(strstr(err, "different targets"), "%s", err);
    free(err);
    char *index = slurp("merged/index.html");
    cr_assert_not_null(index, "merge draws index.html like a single run");
    cr_assert(strstr(index, "id=\"chart-count\"") || strstr(index, "gnuplot"), "charts or hint");
    free(index);

    /* The same shards as if they had loaded two different real hosts. */
    for (int k = 0; k < 2; k++) {
        snprintf(line, sizeof line,
                 "sed -i 's/\"embedded_host\": true/\"embedded_host\": false/; "
                 "s/\"target\": \"[^\"]*\"/\"target\": \"kms%d.example.test:1688\"/' "
                 "w%d/summary.json",
                 k, k);
        cr_assert_eq(sh(line), 0);
    }
    snprintf(line, sizeof line, "'%s' merge merged2 w0 w1 --no-report", KMSLOAD_BINARY);
    sh(line);
    err = slurp("stderr.txt");
    cr_assert_not_null(err);
    cr_assert(strstr(err, "kmsload merge: warning: the shards ran against different targets: "
                          "shard 0 kms0.example.test:1688, shard 1 kms1.example.test:1688; their "
                          "counts are not one host's"),
              "%s", err);
    free(err);
    cr_assert_null(slurp("merged2/index.html"), "--no-report");
}
