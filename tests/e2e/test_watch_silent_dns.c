/*
 * `kmsload watch dns:DOMAIN` (or a HOST name) when the DNS server never answers (a loopback UDP
 * socket that reads nothing): the lookup runs on watch's loop, so /metrics is still answered at
 * once, SIGTERM or SIGINT stops watch at once (the lookup cancelled), and a lookup past --timeout
 * fails the round with a line while the watcher goes on. The bounds below are against a hang (a
 * blocked loop answers after the lookup's whole timeout, 60 s here), not speed checks.
 */
#include "dns_fixture.h"
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a scrape or a stop may take while DNS is silent (the bounds). */
#define SCRAPE_BOUND_MS 1000
#define STOP_BOUND_MS 2000

static struct support_scratch sd;

static void sd_init(void)
{
    support_scratch_init(&sd, "silentdns");
}

static void sd_fini(void)
{
    support_scratch_fini(&sd);
}

TestSuite(watch_silent_dns, .init = sd_init, .fini = sd_fini, .timeout = 60);

/* The time one GET /metrics takes to be answered whole, or UINT64_MAX past bound_ms (the status
 * in *status, the body in body). */
static uint64_t timed_scrape(unsigned port, unsigned bound_ms, int *status, char *body, size_t cap)
{
    uint64_t start = support_now_ms(), end = start + bound_ms;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
    const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    size_t len = 0;
    for (;;) {
        uint64_t now = support_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= end || poll(&p, 1, (int)(end - now)) <= 0) {
            close(fd);
            return UINT64_MAX;
        }
        ssize_t got = recv(fd, body + len, cap - len - 1, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len + 1 == cap)
            break;
    }
    close(fd);
    body[len] = '\0';
    *status = 0;
    sscanf(body, "HTTP/1.%*d %d", status);
    return support_now_ms() - start;
}

/* Starts kmsload with args, its stdout on a pipe (*out_fd), stderr in a file (err_path). */
static pid_t sd_start(const char *const *args, int *out_fd, char *err_path, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    support_scratch_path(&sd, "stderr", err_path, cap);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(err_fd, 0);
    pid_t pid = support_spawn(&sd.children, KMSLOAD_BINARY, args, fds[1], err_fd);
    close(fds[1]);
    close(err_fd);
    *out_fd = fds[0];
    return pid;
}

/*
 * Runs `kmsload watch TARGET --dns-server SILENT --timeout 60s --metrics 0`: four scrapes while
 * the first round's lookup is under way (it would last 60 s), each answered within the bound and
 * holding want, then sig stops watch within the bound, cleanly.
 */
static void answered_while_silent(const char *target, const char *want, int sig,
                                  const char *sig_name)
{
    char spec[64], err_path[256], line[512];
    int dns_fd = dns_fixture_silent(spec, sizeof spec);
    const char *args[] = {"watch",     target, "--dns-server", spec, "--metrics",   "0",
                          "--timeout", "60s",  "--interval",   "1s", "--cmid-seed", "silent-dns",
                          NULL};
    int out;
    pid_t pid = sd_start(args, &out, err_path, sizeof err_path);
    const char prefix[] = "kmsload watch: metrics on http://127.0.0.1:";
    unsigned port = 0;
    while (!port && support_read_line(out, line, sizeof line, 5000))
        if (strncmp(line, prefix, sizeof prefix - 1) == 0)
            port = (unsigned)atoi(line + sizeof prefix - 1);
    cr_assert_neq(port, 0, "no metrics address printed (last line: \"%s\")", line);
    /* Over more than one round interval: a round does not start while its lookup runs. */
    uint64_t slowest = 0;
    for (int i = 0; i < 4; i++) {
        usleep(300000);
        char body[1 << 16];
        int status = 0;
        uint64_t took = timed_scrape(port, SCRAPE_BOUND_MS, &status, body, sizeof body);
        cr_assert_neq(took, UINT64_MAX, "scrape %d: no answer within %d ms while DNS is silent", i,
                      SCRAPE_BOUND_MS);
        cr_expect_eq(status, 200, "%.200s", body);
        cr_expect(strstr(body, want) != NULL, "want \"%s\" in: %s", want, body);
        slowest = took > slowest ? took : slowest;
    }
    cr_log_info("%s: 4 scrapes while DNS is silent, the slowest in %llu ms", target,
                (unsigned long long)slowest);
    uint64_t start = support_now_ms();
    kill(pid, sig);
    int status = 0;
    cr_assert_eq(support_wait(&sd.children, pid, STOP_BOUND_MS, &status), 0,
                 "%s: watch still running after %d ms (a lookup blocking the loop)", sig_name,
                 STOP_BOUND_MS);
    uint64_t took = support_now_ms() - start;
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s is a clean stop (status 0x%x)",
              sig_name, status);
    char *err = support_slurp(err_path, NULL);
    char said[64];
    snprintf(said, sizeof said, "%s, stopping", sig_name);
    cr_expect(err && strstr(err, said), "stderr: %s", err ? err : "");
    cr_log_info("%s: %s honoured in %llu ms", target, sig_name, (unsigned long long)took);
    free(err);
    close(out);
    close(dns_fd);
}

Test(watch_silent_dns, scrapes_and_sigterm_answered_while_dns_is_silent)
{
    answered_while_silent("dns:example.test",
                          "kmsload_watch_dns_lookup_success{domain=\"example.test\"} 0\n", SIGTERM,
                          "SIGTERM");
}

Test(watch_silent_dns, host_name_looked_up_on_the_loop_too)
{
    /* A HOST name asks --dns-server as well; the page is served, SIGINT stops at once. */
    answered_while_silent("kms.example.test:1688", "kmsload_build_info{", SIGINT, "SIGINT");
}

Test(watch_silent_dns, lookup_past_the_timeout_fails_the_round)
{
    char spec[64];
    int dns_fd = dns_fixture_silent(spec, sizeof spec);
    uint64_t start = support_now_ms();
    struct support_result r =
        support_runl(&sd, 20000, 0, "watch", "dns:example.test", "--dns-server", spec, "--timeout",
                     "1s", "--interval", "1s", "--count", "2", NULL);
    uint64_t took = support_now_ms() - start;
    cr_expect_eq(r.status, 3, "no lookup succeeded: no host reached, 3 as in discover: %s", r.out);
    char want[160];
    snprintf(want, sizeof want,
             "dns:example.test: lookup failed: _vlmcs._tcp.example.test: no answer from %s within "
             "1000 ms",
             spec);
    cr_expect(strstr(r.out, want) != NULL, "want \"%s\" in: %s", want, r.out);
    cr_expect(strstr(r.err, "2 dns: lookups failed") != NULL, "%s", r.err);
    cr_expect_lt(took, 10000, "two rounds of a 1 s lookup took %llu ms", (unsigned long long)took);
    support_result_free(&r);
    close(dns_fd);
}
