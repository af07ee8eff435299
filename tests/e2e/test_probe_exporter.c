/*
 * `kmsload watch --metrics PORT` without a target: the /probe multi-target exporter. Two
 * `kmsload host` on loopback (one with every key, one with an Office key only) and a dead port
 * are probed through /probe?target=...&module=...; bad requests get 400 naming the problem; the
 * probes in flight are bounded (503 beyond); a modules file adds modules. Every child is bounded
 * and killed by the fini.
 */
#include "dns_fixture.h"
#include "support.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct support_scratch pe;

static void pe_init(void)
{
    support_scratch_init(&pe, "probeexp");
}

static void pe_fini(void)
{
    support_scratch_fini(&pe);
}

TestSuite(probe_exporter, .init = pe_init, .fini = pe_fini, .timeout = 60);

/* `kmsload watch --metrics 127.0.0.1:0 EXTRA...`: its metrics port. */
static unsigned pe_exporter(struct support_child *c, const char *const *extra)
{
    const char *args[16] = {"watch", "--metrics", "127.0.0.1:0"};
    size_t n = 3;
    for (; extra && *extra && n < 15; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    support_start(&pe, c, args, 0);
    for (int i = 0; i < 100; i++) {
        char *out = support_slurp(c->out, NULL);
        const char *at = out ? strstr(out, "metrics on http://127.0.0.1:") : NULL;
        if (at) {
            unsigned port = (unsigned)atoi(at + strlen("metrics on http://127.0.0.1:"));
            cr_assert(strstr(at, "/probe?target=") != NULL, "%s", out);
            free(out);
            return port;
        }
        free(out);
        usleep(50000);
    }
    cr_assert_fail("the exporter never said where it listens");
    return 0;
}

static char *pe_get(unsigned port, const char *path, int *status)
{
    return support_http(port, "GET", path, 10000, status, NULL, 0);
}

static void pe_expect(const char *body, const char *want)
{
    cr_expect(strstr(body, want) != NULL, "no \"%s\" in:\n%s", want, body);
}

/* A loopback port nothing listens on. */
static unsigned pe_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

Test(probe_exporter, probes_each_target_on_demand)
{
    struct support_host full, office;
    support_host_start(&pe, &full, NULL);
    support_host_start(&pe, &office, (const char *const[]){"--host-key", "office2016", NULL});
    struct support_child w;
    unsigned port = pe_exporter(&w, (const char *const[]){"--cmid-seed", "exporter", NULL});
    char path[256];
    int status;

    snprintf(path, sizeof path, "/probe?target=%s", full.target);
    char *body = pe_get(port, path, &status);
    cr_assert_eq(status, 200, "%s", body);
    pe_expect(body, "\nkmsload_probe_success 1\n");
    pe_expect(body, "kmsload_probe_clients{application=\"windows\",product=\"win10-pro\"} 1\n");
    pe_expect(body, "kmsload_probe_clients{application=\"office2013\","
                    "product=\"office2016-proplus\"} 1\n");
    cr_expect(strstr(body, "office2010") == NULL, "never Office 2010 by default: %s", body);
    pe_expect(body, "outcome=\"below-threshold\",hresult=\"0xC004F038\"");
    free(body);
    /* The same machine's CMID every time: a second probe leaves the count at 1. */
    body = pe_get(port, path, &status);
    pe_expect(body, "kmsload_probe_clients{application=\"windows\",product=\"win10-pro\"} 1\n");
    free(body);

    /* A host whose key does not cover the module's product: no success, its HRESULT. */
    snprintf(path, sizeof path, "/probe?target=%s&module=windows", office.target);
    body = pe_get(port, path, &status);
    cr_assert_eq(status, 200, "%s", body);
    pe_expect(body, "\nkmsload_probe_success 0\n");
    pe_expect(body, "kmsload_probe_hresult{application=\"windows\",product=\"win10-pro\"} "
                    "3221549122\n");
    pe_expect(body, "outcome=\"host-error\",hresult=\"0xC004F042\"");
    cr_expect(strstr(body, "kmsload_probe_clients{") == NULL, "no count without one: %s", body);
    free(body);
    snprintf(path, sizeof path, "/probe?target=%s&module=office", office.target);
    body = pe_get(port, path, &status);
    pe_expect(body, "\nkmsload_probe_success 1\n");
    free(body);

    /* A dead port: answered (the scrape works), the probe failed. */
    snprintf(path, sizeof path, "/probe?target=127.0.0.1:%u", pe_dead_port());
    body = pe_get(port, path, &status);
    cr_assert_eq(status, 200, "%s", body);
    pe_expect(body, "\nkmsload_probe_success 0\n");
    pe_expect(body, "kmsload_probe_answered{application=\"windows\",product=\"win10-pro\"} 0\n");
    pe_expect(body, "outcome=\"connect-refused\"");
    free(body);

    /* Bad requests: 400 with the reason; /metrics is not served without a target. */
    body = pe_get(port, "/probe", &status);
    cr_expect_eq(status, 400);
    pe_expect(body, "no target given");
    free(body);
    body = pe_get(port, "/probe?target=host:99999", &status);
    cr_expect_eq(status, 400);
    pe_expect(body, "kmsload: target: ");
    free(body);
    body = pe_get(port, "/probe?target=dns:example.test", &status);
    cr_expect_eq(status, 400);
    pe_expect(body, "dns:");
    free(body);
    snprintf(path, sizeof path, "/probe?target=%s&module=nope", full.target);
    body = pe_get(port, path, &status);
    cr_expect_eq(status, 400);
    pe_expect(body, "unknown module \"nope\" (modules: default, windows, office, servers)");
    free(body);
    body = pe_get(port, "/metrics", &status);
    cr_expect_eq(status, 404);
    free(body);

    kill(w.pid, SIGTERM);
    cr_expect_eq(support_finish(&pe, &w, 10000), 0, "SIGTERM is a clean stop");
}

Test(probe_exporter, modules_file_and_the_bound_on_probes_in_flight)
{
    /* A host that answers after 1.5 s: the first probe holds the only slot. */
    struct support_host slow;
    support_host_start(&pe, &slow, (const char *const[]){"--fault", "latency=1500ms@1", NULL});
    char modules[128];
    support_scratch_path(&pe, "modules.ini", modules, sizeof modules);
    support_write_file(modules, "; servers and Office 2021\n[srv-office]\n"
                                "products = ws2022-std, office2021-proplus\n");
    struct support_child w;
    unsigned port = pe_exporter(&w, (const char *const[]){"--modules", modules, "--max-probes", "1",
                                                          "--cmid-seed", "exporter", NULL});
    char path[256];
    snprintf(path, sizeof path, "/probe?target=%s&module=srv-office", slow.target);
    pid_t first = fork();
    cr_assert_geq(first, 0);
    if (first == 0) {
        int st;
        char *b = support_http(port, "GET", path, 10000, &st, NULL, 0);
        _exit(st == 200 && strstr(b, "kmsload_probe_clients{application=\"windows\","
                                     "product=\"ws2022-std\"} 1\n")
                  ? 0
                  : 1);
    }
    usleep(500000); /* the first request is in flight */
    int status;
    char *body = pe_get(port, path, &status);
    cr_expect_eq(status, 503, "%s", body);
    pe_expect(body, "1 probes in flight already");
    free(body);
    int st = 0;
    cr_assert_eq(support_wait(&pe.children, first, 10000, &st), 0);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the first probe's answer");

    kill(w.pid, SIGTERM);
    cr_expect_eq(support_finish(&pe, &w, 10000), 0);
}

Test(probe_exporter, refuses_a_bad_modules_file)
{
    char modules[128];
    support_scratch_path(&pe, "bad.ini", modules, sizeof modules);
    support_write_file(modules, "[mine]\nproducts = win10-pro,nosuch\n");
    struct support_result r = support_runl(&pe, 10000, 0, "watch", "--metrics", "127.0.0.1:0",
                                           "--modules", modules, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, ":2: \"nosuch\" is not a catalogue edition") != NULL, "%s", r.err);
    support_result_free(&r);
    support_write_file(modules, "[empty]\n");
    r = support_runl(&pe, 10000, 0, "watch", "--metrics", "127.0.0.1:0", "--modules", modules,
                     NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, ":1: module [empty] has no \"products = LIST\"") != NULL, "%s", r.err);
    support_result_free(&r);
    r = support_runl(&pe, 10000, 0, "watch", NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--metrics [ADDR:]PORT alone") != NULL, "%s", r.err);
    support_result_free(&r);
}

Test(probe_exporter, names_resolve_on_the_loop)
{
    struct support_host h;
    support_host_start(&pe, &h, NULL);
    /* A name dnsmasq knows: resolved (c-ares, on watch's loop) and probed. */
    const char *records[] = {"--host-record=kms.example.test,127.0.0.1", NULL};
    struct dns_fixture dns;
    dns_fixture_start(&dns, &pe, "example.test", records);
    struct support_child w;
    unsigned port = pe_exporter(
        &w, (const char *const[]){"--dns-server", dns.server, "--cmid-seed", "exporter", NULL});
    char path[256];
    int status;
    snprintf(path, sizeof path, "/probe?target=kms.example.test:%u", h.port);
    char *body = pe_get(port, path, &status);
    cr_assert_eq(status, 200, "%s", body);
    pe_expect(body, "\nkmsload_probe_success 1\n");
    pe_expect(body, "\nkmsload_probe_dns_lookup_success 1\n");
    free(body);
    body = pe_get(port, "/probe?target=nosuch.example.test", &status);
    cr_assert_eq(status, 200, "%s", body);
    pe_expect(body, "\nkmsload_probe_success 0\n");
    pe_expect(body, "\nkmsload_probe_dns_lookup_success 0\n");
    free(body);
    kill(w.pid, SIGTERM);
    cr_expect_eq(support_finish(&pe, &w, 10000), 0);
}

Test(probe_exporter, a_silent_dns_server_holds_only_its_own_probe)
{
    struct support_host h;
    support_host_start(&pe, &h, NULL);
    char silent[32];
    int fd = dns_fixture_silent(silent, sizeof silent);
    struct support_child w;
    unsigned port =
        pe_exporter(&w, (const char *const[]){"--dns-server", silent, "--timeout", "3s", NULL});
    pid_t stuck = fork();
    cr_assert_geq(stuck, 0);
    if (stuck == 0) {
        int st;
        char *b = support_http(port, "GET", "/probe?target=kms.silent.test", 10000, &st, NULL, 0);
        _exit(st == 200 && strstr(b, "\nkmsload_probe_dns_lookup_success 0\n") ? 0 : 1);
    }
    usleep(300000); /* the lookup is waiting for the silent server */
    /* Another scrape meanwhile: answered at once, not after the lookup's 3 s. */
    char path[128];
    snprintf(path, sizeof path, "/probe?target=%s", h.target);
    uint64_t t0 = support_now_ms();
    int status;
    char *body = pe_get(port, path, &status);
    uint64_t took = support_now_ms() - t0;
    cr_expect_eq(status, 200);
    pe_expect(body, "\nkmsload_probe_success 1\n");
    cr_expect_lt(took, 1000, "a scrape took %lu ms while another waited for DNS",
                 (unsigned long)took);
    free(body);
    int st = 0;
    cr_assert_eq(support_wait(&pe.children, stuck, 10000, &st), 0);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the stuck probe ends at its timeout");
    /* SIGTERM with a lookup pending: a prompt, clean stop. */
    stuck = fork();
    cr_assert_geq(stuck, 0);
    if (stuck == 0) {
        int s2;
        support_http(port, "GET", "/probe?target=kms.silent.test", 10000, &s2, NULL, 0);
        _exit(0);
    }
    usleep(300000);
    t0 = support_now_ms();
    kill(w.pid, SIGTERM);
    cr_expect_eq(support_finish(&pe, &w, 10000), 0);
    cr_expect_lt(support_now_ms() - t0, 2000, "SIGTERM honoured within 2 s");
    kill(stuck, SIGKILL);
    support_wait(&pe.children, stuck, 5000, &st);
    close(fd);
}
