/*
 * `kmsload watch dns:DOMAIN` against a real DNS server: dnsmasq on a loopback port publishing two
 * `kmsload host` instances as _vlmcs._tcp.example.test; watch probes both, labels each answer with
 * its host, and says so when DNS has no records. Every child is bounded and killed by the fini.
 */
#include "dns_fixture.h"
#include "support.h"
#include "watch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct support_scratch wd;

static void wd_init(void)
{
    support_scratch_init(&wd, "watchdns");
}

static void wd_fini(void)
{
    support_scratch_fini(&wd);
}

TestSuite(watch_dns, .init = wd_init, .fini = wd_fini, .timeout = 60);

/* Runs kmsload to completion (bounded); returns its exit status, stdout in *out. */
static int wd_run(char **out, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(&wd, 30000, 0, first, ap);
    va_end(ap);
    free(r.err);
    *out = r.out;
    return r.status;
}

static unsigned wd_count(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(watch_dns, watches_every_published_host)
{
    struct support_host h1, h2;
    support_host_start(&wd, &h1, NULL);
    /* h2's key covers Windows 10/11 only: Office is refused there. */
    support_host_start(&wd, &h2, (const char *const[]){"--products", "win10", NULL});
    char srv1[128], srv2[128];
    snprintf(srv1, sizeof srv1, "--srv-host=_vlmcs._tcp.example.test,h1.example.test,%u,0,60",
             h1.port);
    snprintf(srv2, sizeof srv2, "--srv-host=_vlmcs._tcp.example.test,h2.example.test,%u,0,20",
             h2.port);
    const char *records[] = {srv1, srv2, "--host-record=h1.example.test,127.0.0.1",
                             "--host-record=h2.example.test,127.0.0.1", NULL};
    struct dns_fixture dns;
    dns_fixture_start(&dns, &wd, "example.test", records);

    char *out;
    int status = wd_run(&out, "watch", "dns:example.test", "--dns-server", dns.server, "--interval",
                        "1s", "--count", "2", "--cmid-seed", "dns-test", NULL);
    cr_assert_eq(status, 1, "h2 refuses Office: a probe without a count: %s", out);
    char want[128];
    cr_expect_eq(wd_count(out, "dns:example.test: 2 hosts published"), 1, "%s", out);
    snprintf(want, sizeof want, "h1.example.test:%u windows: count 1 (below", h1.port);
    cr_expect_eq(wd_count(out, want), 1, "%s", out);
    snprintf(want, sizeof want, "h1.example.test:%u office2013: count 1 (below", h1.port);
    cr_expect_eq(wd_count(out, want), 1, "%s", out);
    snprintf(want, sizeof want, "h2.example.test:%u windows: count 1 (below", h2.port);
    cr_expect_eq(wd_count(out, want), 1, "%s", out);
    snprintf(want, sizeof want, "h2.example.test:%u office2013: refused with 0xC004F042", h2.port);
    cr_expect_eq(wd_count(out, want), 1, "%s", out);
    cr_expect_eq(wd_count(out, ": count 2"), 0, "two rounds, one count per host: %s", out);
    free(out);

    /* A domain without records: said once per change, and the watcher keeps running. */
    status = wd_run(&out, "watch", "dns:missing.example.test", "--dns-server", dns.server,
                    "--interval", "1s", "--count", "2", "--timeout", "2s", NULL);
    cr_assert_eq(status, 3, "no lookup succeeded: unreachable, as in discover: %s", out);
    cr_expect_eq(wd_count(out, "dns:missing.example.test: lookup failed: "), 1, "%s", out);
    free(out);
}

Test(watch_dns, options)
{
    struct watch_options o;
    char err[512];
    char *ok[] = {"watch",
                  "dns:corp.example",
                  "--dns-server",
                  "127.0.0.1:5353",
                  "-i",
                  "10m",
                  "-c",
                  "3",
                  "-m",
                  "9466",
                  NULL};
    cr_assert_eq(watch_options_parse(10, ok, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.dns_domain, "corp.example");
    cr_expect_eq(o.interval_us, 600000000);
    cr_expect_eq(o.max_rounds, 3);
    cr_expect_str_eq(o.metrics, "9466");
    char *defaults[] = {"watch", "kms.corp.example", NULL};
    cr_assert_eq(watch_options_parse(2, defaults, &o, err, sizeof err), 0, "%s", err);
    cr_expect_null(o.dns_domain);
    cr_expect_eq(o.interval_us, 300000000, "5 minutes by default");
    cr_expect_eq(o.max_rounds, 0);
    char *bad_dns[] = {"watch", "dns:", NULL};
    cr_expect_eq(watch_options_parse(2, bad_dns, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "dns:DOMAIN") != NULL, "%s", err);
    /* A HOST name is looked up there too. */
    char *server_for_name[] = {"watch", "kms.corp.example", "--dns-server", "127.0.0.1", NULL};
    cr_expect_eq(watch_options_parse(4, server_for_name, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.dns_server, "127.0.0.1");
    char *bad_server[] = {"watch", "kms.corp.example", "--dns-server", "dns.corp.example", NULL};
    cr_expect_eq(watch_options_parse(4, bad_server, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "expected an IP address") != NULL, "%s", err);
    /* -t is the target, as in every subcommand; a duration after it is the old --timeout. */
    char *t_target[] = {"watch", "-t", "kms.corp.example:1700", "--timeout", "3s", NULL};
    cr_assert_eq(watch_options_parse(5, t_target, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.target, "kms.corp.example:1700");
    cr_expect_eq(o.timeout_us, 3000000);
    cr_expect_null(o.deprecated);
    char *t_timeout[] = {"watch", "-t", "20s", "kms.corp.example", NULL};
    cr_assert_eq(watch_options_parse(4, t_timeout, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.target, "kms.corp.example");
    cr_expect_eq(o.timeout_us, 20000000);
    cr_expect_not_null(o.deprecated, "-t DURATION says it is deprecated");
    char *t_twice[] = {"watch", "-t", "a.example", "b.example", NULL};
    cr_expect_eq(watch_options_parse(4, t_twice, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "given twice") != NULL, "%s", err);
    char *bad_metrics[] = {"watch", "h", "--metrics", "a:b:c", NULL};
    cr_expect_eq(watch_options_parse(4, bad_metrics, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "--metrics") != NULL, "%s", err);
}
