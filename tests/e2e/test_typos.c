/* A mistyped command: `kmsload rnu` names the command meant, exit 2, nothing run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int run_kmsload(const char *args, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", KMSLOAD_BINARY, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(typos, a_mistyped_command_names_the_one_meant)
{
    char out[1024];
    cr_assert_eq(run_kmsload("rnu smoke", out, sizeof out), 2);
    cr_assert_str_eq(out, "kmsload: unknown command \"rnu\" (did you mean \"run\"?)\n"
                          "Try 'kmsload --help'.\n");
    cr_assert_eq(run_kmsload("frobnicate", out, sizeof out), 2);
    cr_assert_str_eq(out, "kmsload: unknown command \"frobnicate\"\nTry 'kmsload --help'.\n");
}

Test(typos, a_mistyped_flag_names_the_one_meant)
{
    char out[1024];
    cr_assert_eq(run_kmsload("probe --prodcut win10-pro 127.0.0.1", out, sizeof out), 2);
    cr_assert(strstr(out, "kmsload probe: unknown option \"--prodcut\" (did you mean --product?)"),
              "%s", out);
}
