/* The man pages (build/man, written from the --help texts and scenarios/README.md): every page
 * renders with `man -l` without warnings, and every flag of every command's --help is in that
 * command's page. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#ifndef KMSLOAD_BUILD_DIR
#error "KMSLOAD_BUILD_DIR must name the build tree"
#endif

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kmsload-man-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    support_remove_tree(dir);
}

/* Runs cmd with stdout into dir/NAME; returns the exit status. stderr goes to dir/NAME.err. */
static int run_to(const char *name, const char *cmd)
{
    char line[2048];
    snprintf(line, sizeof line, "(%s) >'%s/%s' 2>'%s/%s.err'", cmd, dir, name, dir, name);
    int status = system(line);
    cr_assert(WIFEXITED(status), "%s", line);
    return WEXITSTATUS(status);
}

static char *read_out(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "%s", path);
    return text;
}

/* The page rendered as plain text, wide enough that no flag is broken across lines. */
static char *render(const char *page)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "MANWIDTH=200 LC_ALL=C.UTF-8 man -l '%s/man/%s'", KMSLOAD_BUILD_DIR,
             page);
    int rc = run_to("page.txt", cmd);
    char *err = read_out("page.txt.err");
    cr_assert_eq(rc, 0, "man -l %s: exit %d: %s", page, rc, err);
    cr_assert_eq(err[0], '\0', "man -l %s warns: %s", page, err);
    free(err);
    return read_out("page.txt");
}

/* The commands `kmsload --help` lists under "Commands:", one per line in out. */
static size_t commands(char names[][32], size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' --help", KMSLOAD_BINARY);
    cr_assert_eq(run_to("main.txt", cmd), 0);
    char *help = read_out("main.txt");
    const char *p = strstr(help, "\nCommands:\n");
    cr_assert_not_null(p, "%s", help);
    p += strlen("\nCommands:\n");
    size_t n = 0;
    while (*p && *p != '\n' && n < cap) {
        if (p[0] == ' ' && p[1] == ' ' && islower((unsigned char)p[2])) {
            size_t len = strcspn(p + 2, " \n");
            snprintf(names[n++], sizeof names[0], "%.*s", (int)len, p + 2);
        }
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    free(help);
    return n;
}

/* Each flag in help ("--name" anywhere, "-x" opening an option line) that is not in page. */
static void check_flags(const char *command, const char *help, const char *page)
{
    size_t checked = 0;
    for (const char *p = help; (p = strstr(p, "--")) != NULL; p += 2) {
        if (!islower((unsigned char)p[2]) || (p > help && isalnum((unsigned char)p[-1])))
            continue;
        size_t len = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", (int)len, p);
        cr_expect(strstr(page, flag), "kmsload %s: %s is in --help, not in the man page", command,
                  flag);
        checked++;
    }
    for (const char *line = help; line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        const char *q = line + strspn(line, " ");
        if (q - line >= 2 && q[0] == '-' && isalpha((unsigned char)q[1]) && q[2] == ',') {
            char flag[4] = {'-', q[1], ',', '\0'};
            cr_expect(strstr(page, flag), "kmsload %s: %s is in --help, not in the man page",
                      command, flag);
            checked++;
        }
    }
    cr_assert_gt(checked, 0, "kmsload %s --help lists no flag", command);
}

TestSuite(man, .init = setup, .fini = teardown, .timeout = 60);

Test(man, every_flag_of_every_command_is_in_its_man_page)
{
    char names[32][32];
    size_t n = commands(names, 32);
    cr_assert_geq(n, 8, "only %zu commands in kmsload --help", n);
    char *main_page = render("kmsload.1");
    for (size_t i = 0; i < n; i++) {
        char see[64];
        snprintf(see, sizeof see, "kmsload-%s(1)", names[i]);
        cr_expect(strstr(main_page, see), "kmsload(1) does not refer to %s", see);

        char cmd[512], page_name[64];
        snprintf(cmd, sizeof cmd, "'%s' %s --help", KMSLOAD_BINARY, names[i]);
        cr_assert_eq(run_to("help.txt", cmd), 0, "%s", cmd);
        char *help = read_out("help.txt");
        snprintf(page_name, sizeof page_name, "kmsload-%s.1", names[i]);
        char *page = render(page_name);
        if (strstr(help, "--"))
            check_flags(names[i], help, page);
        free(page);
        free(help);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' --help", KMSLOAD_BINARY);
    cr_assert_eq(run_to("help.txt", cmd), 0);
    char *help = read_out("help.txt");
    check_flags("(main)", help, main_page);
    free(help);
    free(main_page);
}

/* kmsload-scenario(5): the format's sections and keys from scenarios/README.md. */
Test(man, the_scenario_page_renders_the_file_format)
{
    char *page = render("kmsload-scenario.5");
    const char *want[] = {"KMSLOAD-SCENARIO(5)", "[population NAME]",        "first_activation.POP",
                          "renewal_interval",    "arrivals = 15m:0-11.12/s", "max_wall"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(page, want[i]), "kmsload-scenario(5) lacks \"%s\"", want[i]);
    free(page);
}
