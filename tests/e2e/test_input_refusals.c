/*
 * Inputs the program must refuse rather than pass on: a scenario on standard input holding a NUL
 * byte (refused like the same file given by path, never run on the text before the NUL), and a
 * coverage run where no product group got a KMS answer (exit 3, as probe says, not 0).
 */
#include "support.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct support_scratch ir;

static void ir_init(void)
{
    support_scratch_init(&ir, "refusals");
}

static void ir_fini(void)
{
    support_scratch_fini(&ir);
}

TestSuite(input_refusals, .init = ir_init, .fini = ir_fini, .timeout = 60);

/* `kmsload run - ARGS` with stdin from a file of len bytes; exit status and stderr. */
static int ir_run_stdin(const char *text, size_t len, const char *out_dir, char **err)
{
    char in_path[128], err_path[128];
    support_scratch_path(&ir, "stdin", in_path, sizeof in_path);
    support_scratch_path(&ir, "stderr", err_path, sizeof err_path);
    FILE *f = fopen(in_path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int in = open(in_path, O_RDONLY), e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null_fd = open("/dev/null", O_WRONLY);
        if (in < 0 || e < 0 || null_fd < 0)
            _exit(127);
        dup2(in, 0);
        dup2(null_fd, 1);
        dup2(e, 2);
        execl(KMSLOAD_BINARY, KMSLOAD_BINARY, "run", "-", "--out", out_dir, "--no-report", "-q",
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    uint64_t end = support_now_ms() + 30000;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (support_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("run - did not end in 30 s");
        }
        usleep(20000);
    }
    *err = support_slurp(err_path, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(input_refusals, a_scenario_on_stdin_with_a_nul_byte_is_refused_like_a_file)
{
    /* Before the NUL a complete scenario that passes; after it a population that must not be
     * silently dropped. */
    static const char text[] = "[scenario]\nname = nul\nclock = virtual\nduration = 1d\n"
                               "[population a]\nproduct = win10-pro\nmachines = 3\n"
                               "\0[population b]\nproduct = win10-ent\nmachines = 3\n";
    char out[128], *err;
    support_scratch_path(&ir, "out", out, sizeof out);
    int rc = ir_run_stdin(text, sizeof text - 1, out, &err);
    cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
    cr_expect(strstr(err, "stdin: contains NUL bytes") != NULL, "%s", err);
    free(err);
    /* The same scenario without the NUL runs (so the refusal is the NUL's). */
    char clean[sizeof text];
    memcpy(clean, text, sizeof text);
    clean[strchr(text, '\0') - text] = '\n';
    support_scratch_path(&ir, "out", out, sizeof out);
    rc = ir_run_stdin(clean, sizeof clean - 1, out, &err);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
    free(err);
}

Test(input_refusals, coverage_exits_3_when_no_group_got_a_kms_answer)
{
    const char *faults[] = {"reset=1", "garble=1", "truncate=1"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        struct support_host h;
        support_host_start(&ir, &h, (const char *const[]){"--fault", faults[i], NULL});
        struct support_result r =
            support_runl(&ir, 60000, 0, "coverage", h.target, "--timeout", "1s", NULL);
        cr_expect_eq(r.status, 3, "--fault %s: exit %d\n%s\n%s", faults[i], r.status, r.out, r.err);
        cr_expect(strstr(r.err, "no product group got a KMS answer") != NULL, "%s", r.err);
        support_result_free(&r);
        support_host_stop(&ir, &h);
    }
    /* A healthy host: exit 0. */
    struct support_host h;
    support_host_start(&ir, &h, NULL);
    struct support_result r = support_runl(&ir, 60000, 0, "coverage", h.target, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    support_result_free(&r);
    support_host_stop(&ir, &h);
}
