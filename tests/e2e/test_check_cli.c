/*
 * `kmsload check` as Nagios/Icinga run it: the exit status (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN) and the one status line with performance data, for a healthy host (filled past its
 * activation thresholds by 25 probes with random CMIDs), a host below them, a host whose key
 * covers nothing the check asks (and one injecting faults), a dead port, a name that does not
 * resolve and bad usage. Every child is bounded and killed by the fini.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct support_scratch cc;

static void cc_init(void)
{
    support_scratch_init(&cc, "checkcli");
}

static void cc_fini(void)
{
    support_scratch_fini(&cc);
}

TestSuite(check_cli, .init = cc_init, .fini = cc_fini, .timeout = 90);

/* Runs `kmsload check ARGS...`; its status, stdout in *out (the plugin's line). */
static int cc_check(char **out, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(&cc, 20000, 0, first, ap);
    va_end(ap);
    free(r.err);
    *out = r.out;
    return r.status;
}

/* n clients of product with fresh CMIDs. */
static void cc_fill(const struct support_host *h, const char *product, int n)
{
    for (int i = 0; i < n; i++) {
        struct support_result r = support_runl(&cc, 10000, 0, "probe", h->target, "-p", product,
                                               "--cmid", "random", NULL);
        cr_assert(r.status == 0 || r.status == 1, "probe %d: %s%s", i, r.out, r.err);
        support_result_free(&r);
    }
}

Test(check_cli, healthy_host_is_ok)
{
    struct support_host h;
    support_host_start(&cc, &h, NULL);
    cc_fill(&h, "win10-pro", 30);
    cc_fill(&h, "office2016-proplus", 6);
    char *out;
    int status = cc_check(&out, "check", h.target, "--cmid-seed", "check", NULL);
    cr_expect_eq(status, 0, "%s", out);
    char want[256];
    snprintf(want, sizeof want, "KMS OK - %s: windows count 31, office2013 count 7 | ", h.target);
    cr_expect(strncmp(out, want, strlen(want)) == 0, "%s", out);
    cr_expect(strstr(out, "| windows_count=31;25:;;0 windows_time=") != NULL, "%s", out);
    cr_expect(strstr(out, " office2013_count=7;5:;;0 office2013_time=") != NULL, "%s", out);
    cr_expect_eq(strchr(out, '\n') - out + 1, (long)strlen(out), "one line: %s", out);
    free(out);
    /* A critical range the count falls in: CRITICAL, whatever the warning says. */
    status = cc_check(&out, "check", h.target, "--cmid-seed", "check", "-c", "windows=40:", NULL);
    cr_expect_eq(status, 2, "%s", out);
    cr_expect(strstr(out, "KMS CRITICAL - ") == out, "%s", out);
    cr_expect(strstr(out, "windows count 31 (critical)") != NULL, "%s", out);
    cr_expect(strstr(out, "windows_count=31;25:;windows=40:") == NULL, "%s", out);
    cr_expect(strstr(out, "windows_count=31;25:;40:;0") != NULL, "%s", out);
    free(out);
}

Test(check_cli, below_threshold_host_is_warning)
{
    struct support_host h;
    support_host_start(&cc, &h, NULL);
    char *out;
    int status = cc_check(&out, "check", h.target, "--cmid-seed", "check", NULL);
    cr_expect_eq(status, 1, "%s", out);
    cr_expect(strstr(out, "KMS WARNING - ") == out, "%s", out);
    cr_expect(strstr(out, "windows count 1 below the activation threshold (warning)") != NULL, "%s",
              out);
    free(out);
    /* Thresholds of one's own: below 1 is critical, nothing warns. */
    status =
        cc_check(&out, "check", h.target, "--cmid-seed", "check", "-w", "0:", "-c", "1:", NULL);
    cr_expect_eq(status, 0, "%s", out);
    free(out);
    status =
        cc_check(&out, "check", h.target, "--cmid-seed", "check", "-w", "0:", "-c", "@0:1", NULL);
    cr_expect_eq(status, 2, "%s", out);
    free(out);
}

Test(check_cli, refusing_host_is_critical)
{
    struct support_host h;
    /* An Office key only: the Windows request gets 0xC004F042. */
    support_host_start(&cc, &h, (const char *const[]){"--host-key", "office2016", NULL});
    char *out;
    int status = cc_check(&out, "check", h.target, "--products", "win10-pro", NULL);
    cr_expect_eq(status, 2, "%s", out);
    cr_expect(strstr(out, "KMS CRITICAL - ") == out, "%s", out);
    cr_expect(strstr(out, "windows refused with 0xC004F042") != NULL, "%s", out);
    cr_expect(strstr(out, "| windows_count=U;25:;;0") != NULL, "%s", out);
    free(out);
    /* A host that garbles every answer: no KMS answer, CRITICAL. */
    struct support_host g;
    support_host_start(&cc, &g, (const char *const[]){"--fault", "garble=1", NULL});
    status = cc_check(&out, "check", g.target, "--timeout", "3s", NULL);
    cr_expect_eq(status, 2, "%s", out);
    cr_expect(strstr(out, "windows no answer: ") != NULL, "%s", out);
    free(out);
}

Test(check_cli, dead_port_is_critical_and_bad_names_unknown)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%u", ntohs(sa.sin_port));
    char *out;
    int status = cc_check(&out, "check", "-H", target, "--timeout", "2s", NULL);
    cr_expect_eq(status, 2, "%s", out);
    cr_expect(strstr(out, "windows no answer: connect-refused") != NULL, "%s", out);
    free(out);

    status = cc_check(&out, "check", "kms.invalid", NULL);
    cr_expect_eq(status, 3, "%s", out);
    cr_expect(strstr(out, "KMS UNKNOWN - kms.invalid:1688: cannot resolve") == out, "%s", out);
    free(out);
    /* Usage errors are UNKNOWN too (3, not kmsload's usual 2), with the line on stdout. */
    const char *bad[][3] = {{"check", NULL, NULL},
                            {"check", target, "--warning=x"},
                            {"check", target, "--products=nosuch"},
                            {"check", target, "--bogus"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        status = cc_check(&out, bad[i][0], bad[i][1], bad[i][2], NULL);
        cr_expect_eq(status, 3, "%s %s: %s", bad[i][1], bad[i][2], out);
        cr_expect(strncmp(out, "KMS UNKNOWN - ", 14) == 0, "%s", out);
        free(out);
    }
}

Test(check_cli, default_products_follow_what_the_host_covers)
{
    struct support_host h;
    /* Office LTSC 2021's key refuses Office 2016 here: the check moves on to what it covers. */
    support_host_start(&cc, &h, (const char *const[]){"--host-key", "ws2019,office2021", NULL});
    cc_fill(&h, "office2021-proplus", 6);
    char *out;
    int status =
        cc_check(&out, "check", h.target, "--cmid-seed", "check", "-w", "windows=1:", NULL);
    cr_expect_eq(status, 0, "%s", out);
    cr_expect(strstr(out, "office2013 (office2021-proplus) count 7, ") == NULL, "%s", out);
    cr_expect(strstr(out, ", office2013 (office2021-proplus) count 7 | ") != NULL, "%s", out);
    free(out);
    /* A fixed product list is asked as given. */
    status = cc_check(&out, "check", h.target, "--products", "office2016-proplus", NULL);
    cr_expect_eq(status, 2, "%s", out);
    cr_expect(strstr(out, "office2013 refused with 0xC004F042") != NULL, "%s", out);
    free(out);
}
