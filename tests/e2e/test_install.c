/* kmsload installed with `cmake --install` under a prefix: run from any directory, it finds its
 * scenarios, products.ini and report files beside itself (PREFIX/share/kmsload), also after the
 * tree is moved. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#if !defined(KMSLOAD_BUILD_DIR) || !defined(KMSLOAD_CMAKE_COMMAND)
#error "KMSLOAD_BUILD_DIR and KMSLOAD_CMAKE_COMMAND must name the build tree and cmake"
#endif

static char dir[64];
static char prefix[128];

/* Runs a shell command line from / (not the source or build tree) without the environment
 * variables that name data files, stdout and stderr in dir/stdout.txt and dir/stderr.txt;
 * returns the exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char line[2048], cmd[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "cd / && unset KMSLOAD_REPORTS KMSLOAD_PRODUCTS && (%s) >'%s/stdout.txt' "
             "2>'%s/stderr.txt'",
             line, dir, dir);
    int status = system(cmd);
    cr_assert(WIFEXITED(status), "%s", cmd);
    return WEXITSTATUS(status);
}

static char *slurp(const char *path)
{
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "%s", path);
    return text;
}

static char *out_text(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return slurp(path);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kmsload-install-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    snprintf(prefix, sizeof prefix, "%s/prefix", dir);
    int rc =
        sh("'%s' --install '%s' --prefix '%s'", KMSLOAD_CMAKE_COMMAND, KMSLOAD_BUILD_DIR, prefix);
    cr_assert_eq(rc, 0, "cmake --install: %s", out_text("stderr.txt"));
}

static void teardown(void)
{
    support_remove_tree(dir);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 120);

Test(install, the_installed_program_runs_smoke_from_the_root_directory)
{
    int rc = sh("'%s/bin/kmsload' run smoke --out '%s/smoke' -q", prefix, dir);
    cr_assert_eq(rc, 0, "kmsload run smoke: exit %d: %s", rc, out_text("stderr.txt"));
    char path[256];
    snprintf(path, sizeof path, "%s/smoke/summary.json", dir);
    char *summary = slurp(path);
    char want[256];
    snprintf(want, sizeof want, "%s/share/kmsload/scenarios/smoke.ini", prefix);
    cr_assert(strstr(summary, want), "the run used another smoke.ini than %s", want);
    free(summary);
    snprintf(path, sizeof path, "%s/smoke/index.html", dir);
    char *html = slurp(path);
    cr_assert(strstr(html, "<svg"), "index.html has no chart");
    free(html);

    cr_assert_eq(sh("'%s/bin/kmsload' scenarios", prefix), 0);
    char *list = out_text("stdout.txt");
    snprintf(want, sizeof want, "(%s/share/kmsload/scenarios)", prefix);
    cr_assert(strstr(list, want), "not listing %s:\n%s", want, list);
    free(list);
}

/* What it finds is the installed copy, not the source tree's: a scenario, a change to the report
 * template and a broken products.ini that exist only under the prefix are all seen. */
Test(install, the_installed_program_reads_the_data_under_its_own_prefix)
{
    cr_assert_eq(sh("sed 's/^name = smoke$/name = only-installed/' '%s/share/kmsload/scenarios/"
                    "smoke.ini' >'%s/share/kmsload/scenarios/only-installed.ini' && "
                    "sed -i 's|</body>|<!-- installed template --></body>|' "
                    "'%s/share/kmsload/reports/report.html'",
                    prefix, prefix, prefix),
                 0);
    int rc = sh("'%s/bin/kmsload' run only-installed --out '%s/oi' -q", prefix, dir);
    cr_assert_eq(rc, 0, "kmsload run only-installed: exit %d: %s", rc, out_text("stderr.txt"));
    char path[256];
    snprintf(path, sizeof path, "%s/oi/index.html", dir);
    char *html = slurp(path);
    cr_assert(strstr(html, "<!-- installed template -->"), "index.html not from the prefix");
    free(html);

    cr_assert_eq(sh("echo '[broken' >>'%s/share/kmsload/products.ini'", prefix), 0);
    rc = sh("'%s/bin/kmsload' probe --list-products", prefix);
    cr_assert_neq(rc, 0, "%s", out_text("stdout.txt"));
    char *err = out_text("stderr.txt");
    char want[256];
    snprintf(want, sizeof want, "%s/share/kmsload/products.ini", prefix);
    cr_assert(strstr(err, want), "the message does not name %s: %s", want, err);
    free(err);
}

Test(install, a_moved_install_tree_still_finds_its_data)
{
    char moved[160];
    snprintf(moved, sizeof moved, "%s/moved", dir);
    cr_assert_eq(sh("mv '%s' '%s'", prefix, moved), 0);
    cr_assert_eq(sh("'%s/bin/kmsload' scenarios", moved), 0);
    char *list = out_text("stdout.txt");
    char want[256];
    snprintf(want, sizeof want, "(%s/share/kmsload/scenarios)", moved);
    cr_assert(strstr(list, want), "not listing %s:\n%s", want, list);
    free(list);
}

/* The man pages and the bash completion are installed where man and bash-completion look. */
Test(install, man_pages_and_completion_are_installed)
{
    int rc = sh("MANPATH='%s/share/man' MANWIDTH=100 man kmsload-run | grep -q -- --target && "
                "MANPATH='%s/share/man' man 5 kmsload-scenario | grep -q population && "
                "MANPATH='%s/share/man' man kmsload | grep -q kmsload-watch",
                prefix, prefix, prefix);
    cr_assert_eq(rc, 0, "man under %s/share/man: %s", prefix, out_text("stderr.txt"));
    char path[256];
    snprintf(path, sizeof path, "%s/share/bash-completion/completions/kmsload", prefix);
    cr_assert_eq(access(path, R_OK), 0, "%s: %s", path, strerror(errno));
}
