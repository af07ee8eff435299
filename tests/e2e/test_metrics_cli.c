/*
 * The real program's /metrics endpoints over loopback: `kmsload host --metrics` counts the probes
 * it answers, `kmsload watch` probes with stable CMIDs (a host counts each application once, across
 * rounds and restarts) and serves what it saw. Children are bounded in time and killed by the
 * suite's fini; the HTTP client here only sends a GET and splits the answer at the blank line.
 */
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MC_TIMEOUT_MS 15000

static struct support_scratch mc;

static void mc_init(void)
{
    support_scratch_init(&mc, "metrics");
}

static void mc_fini(void)
{
    support_scratch_fini(&mc);
}

TestSuite(metrics_cli, .init = mc_init, .fini = mc_fini, .timeout = 60);

/* A child whose stdout is a pipe we read lines from. */
struct mc_child {
    pid_t pid;
    int out;
};

static struct mc_child mc_start(const char *first, ...)
{
    const char *args[32];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    char err_path[128];
    support_scratch_path(&mc, "err", err_path, sizeof err_path);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(err_fd, 0);
    struct mc_child c = {support_spawn(&mc.children, KMSLOAD_BINARY, args, fds[1], err_fd), fds[0]};
    close(fds[1]);
    close(err_fd);
    return c;
}

/* Reads lines until one starts with prefix; returns what follows it. */
static void mc_expect_line(int fd, const char *prefix, char *rest, size_t cap)
{
    char line[1024];
    while (support_read_line(fd, line, sizeof line, 5000))
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            snprintf(rest, cap, "%s", line + strlen(prefix));
            return;
        }
    cr_assert_fail("no line starting with \"%s\" (last: \"%s\")", prefix, line);
}

/* Stops a child with sig and returns its exit status. */
static int mc_stop(struct mc_child *c, int sig)
{
    kill(c->pid, sig);
    int status = 0;
    cr_assert_eq(support_wait(&mc.children, c->pid, MC_TIMEOUT_MS, &status), 0,
                 "the child did not stop within the time limit");
    close(c->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs to completion; returns the exit status and stdout (malloc'd). */
static int mc_run(char **out, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(&mc, MC_TIMEOUT_MS, 0, first, ap);
    va_end(ap);
    free(r.err);
    *out = r.out;
    return r.status;
}

struct mc_http {
    int status;
    char headers[2048];
    char *body;
};

static struct mc_http mc_request(unsigned port, const char *method, const char *path)
{
    struct mc_http r = {0};
    r.body = support_http(port, method, path, 5000, &r.status, r.headers, sizeof r.headers);
    return r;
}

static unsigned mc_port_of_url(const char *url)
{
    const char *colon = strrchr(url, ':');
    cr_assert_not_null(colon, "url %s", url);
    unsigned port = (unsigned)atoi(colon + 1);
    cr_assert_neq(port, 0, "url %s", url);
    return port;
}

struct mc_host {
    struct mc_child child;
    char target[256];
    unsigned metrics_port;
};

static void mc_host_start(struct mc_host *h)
{
    h->child = mc_start("host", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", NULL);
    char rest[256];
    mc_expect_line(h->child.out, "kmsload host: listening on ", rest, sizeof rest);
    snprintf(h->target, sizeof h->target, "%s", rest);
    mc_expect_line(h->child.out, "kmsload host: metrics on ", rest, sizeof rest);
    cr_assert(strncmp(rest, "http://127.0.0.1:", 17) == 0, "loopback by default: %s", rest);
    h->metrics_port = mc_port_of_url(rest);
}

Test(metrics_cli, host_counts_the_requests_it_answers)
{
    struct mc_host h;
    mc_host_start(&h);
    for (int i = 0; i < 3; i++) {
        char *out;
        cr_assert_eq(mc_run(&out, "probe", h.target, NULL), 1, "below threshold: %s", out);
        free(out);
    }
    char *out;
    mc_run(&out, "probe", "--kms", "11111111-2222-3333-4444-555555555555", h.target, NULL);
    free(out);
    struct mc_http r = mc_request(h.metrics_port, "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.headers, "text/plain; version=0.0.4") != NULL, "%s", r.headers);
    cr_expect(strstr(r.body, "kmsload_host_requests_total{application=\"windows\","
                             "product_group=\"win10\",outcome=\"below-threshold\","
                             "hresult=\"0xC004F038\"} 3\n") != NULL,
              "%s", r.body);
    cr_expect(strstr(r.body, "outcome=\"host-error\",hresult=\"0xC004F042\"} 1\n") != NULL, "%s",
              r.body);
    /* probe sends this machine's stable CMID: three requests, one client. */
    cr_expect(strstr(r.body, "kmsload_host_clients{application=\"windows\"} 1\n") != NULL, "%s",
              r.body);
    cr_expect(strstr(r.body, "kmsload_host_request_duration_seconds_count 4\n") != NULL, "%s",
              r.body);
    cr_expect(strstr(r.body, "# TYPE kmsload_host_open_connections gauge\n") != NULL);
    free(r.body);

    r = mc_request(h.metrics_port, "GET", "/elsewhere");
    cr_expect_eq(r.status, 404);
    free(r.body);
    r = mc_request(h.metrics_port, "POST", "/metrics");
    cr_expect_eq(r.status, 405, "only GET and HEAD");
    cr_expect(strstr(r.headers, "Allow: GET, HEAD") != NULL, "%s", r.headers);
    free(r.body);
    r = mc_request(h.metrics_port, "HEAD", "/metrics");
    cr_expect_eq(r.status, 200);
    cr_expect_str_empty(r.body, "HEAD has no body");
    free(r.body);
    cr_assert_eq(mc_stop(&h.child, SIGINT), 0);
}

/* Lines of out about application app. */
static unsigned mc_count_lines(const char *out, const char *needle)
{
    unsigned n = 0;
    for (const char *p = out; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(metrics_cli, watch_counts_once_per_application_across_rounds_and_restarts)
{
    struct mc_host h;
    mc_host_start(&h);
    char *out;
    /* Three rounds: one line per application (the first answer), never a second count. The
     * applications share the CMID: each application's cache counts it once. */
    cr_assert_eq(mc_run(&out, "watch", h.target, "--interval", "1s", "--count", "3", "--cmid-seed",
                        "test-seed", NULL),
                 0, "%s", out);
    cr_expect_eq(mc_count_lines(out, " windows: count 1 (below threshold"), 1, "%s", out);
    /* Never the retired Office 2010 by default (its count alert would fire at once). */
    cr_expect_eq(mc_count_lines(out, " office2010: "), 0, "%s", out);
    cr_expect_eq(mc_count_lines(out, " office2013: count 1 (below threshold"), 1, "%s", out);
    cr_expect_eq(mc_count_lines(out, ": count 2"), 0, "%s", out);
    free(out);
    /* A restart with the same seed: the same CMIDs, still 1. */
    cr_assert_eq(mc_run(&out, "watch", h.target, "--count", "1", "--cmid-seed", "test-seed", NULL),
                 0);
    cr_expect_eq(mc_count_lines(out, " windows: count 1 (below"), 1, "%s", out);
    free(out);
    /* Another seed is another machine: now the host counts 2. */
    cr_assert_eq(mc_run(&out, "watch", h.target, "--count", "1", "--cmid-seed", "other", NULL), 0);
    cr_expect_eq(mc_count_lines(out, " windows: count 2 (below"), 1, "%s", out);
    free(out);
    cr_assert_eq(mc_stop(&h.child, SIGINT), 0);
}

Test(metrics_cli, watch_serves_the_hosts_answers)
{
    struct mc_host h;
    mc_host_start(&h);
    struct mc_child w = mc_start("watch", h.target, "--interval", "1h", "--metrics", "0",
                                 "--cmid-seed", "serve", NULL);
    char rest[512];
    mc_expect_line(w.out, "kmsload watch: metrics on ", rest, sizeof rest);
    unsigned port = mc_port_of_url(rest);
    char epid[128];
    mc_expect_line(w.out, "", rest, sizeof rest); /* the first round's lines */
    mc_expect_line(w.out, "", rest, sizeof rest);
    struct mc_http r = mc_request(port, "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    char want[512];
    snprintf(want, sizeof want, "kmsload_watch_up{host=\"%s\",application=\"windows\"} 1\n",
             h.target);
    cr_expect(strstr(r.body, want) != NULL, "%s", r.body);
    snprintf(want, sizeof want, "kmsload_watch_clients{host=\"%s\",application=\"office2013\"} 1\n",
             h.target);
    cr_expect(strstr(r.body, want) != NULL, "%s", r.body);
    snprintf(want, sizeof want,
             "kmsload_watch_clients_required{host=\"%s\",application=\"windows\"} 25\n", h.target);
    cr_expect(strstr(r.body, want) != NULL, "%s", r.body);
    /* The ePID the host announced at start is the one watch labels its answers with. */
    const char *info = strstr(r.body, "kmsload_watch_answer_info{");
    cr_assert_not_null(info, "%s", r.body);
    cr_assert_eq(sscanf(strstr(info, "epid=\""), "epid=\"%127[^\"]", epid), 1);
    cr_expect(strstr(info, "host_build=\"17763\"") != NULL, "%s", info);
    cr_expect(strstr(info, "hresult=\"0xC004F038\"") != NULL, "%s", info);
    free(r.body);
    cr_assert_eq(mc_stop(&w, SIGTERM), 0, "SIGTERM is a clean stop");
    cr_assert_eq(mc_stop(&h.child, SIGINT), 0);
}

Test(metrics_cli, watch_reports_a_host_that_does_not_answer)
{
    /* A port nothing listens on: bind one, learn it, close it. */
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
    /* --count: every probe failed, so the exit status says so (cron, CI). */
    cr_assert_eq(mc_run(&out, "watch", target, "--count", "1", "--timeout", "2s", NULL), 3,
                 "no probe reached the host: unreachable, as in probe: %s", out);
    cr_expect_eq(mc_count_lines(out, ": not answering: connect-refused"), 2, "%s", out);
    free(out);
}

Test(metrics_cli, watch_exports_no_stale_count_for_a_host_that_went_down)
{
    struct mc_host h;
    mc_host_start(&h);
    struct mc_child w = mc_start("watch", h.target, "--interval", "1s", "--timeout", "1s",
                                 "--metrics", "0", "--cmid-seed", "stale", NULL);
    char rest[512];
    mc_expect_line(w.out, "kmsload watch: metrics on ", rest, sizeof rest);
    unsigned port = mc_port_of_url(rest);
    mc_expect_line(w.out, "", rest, sizeof rest); /* the first round's answers */
    struct mc_http r = mc_request(port, "GET", "/metrics");
    char want[512];
    snprintf(want, sizeof want, "kmsload_watch_clients{host=\"%s\",application=\"windows\"} 1\n",
             h.target);
    cr_expect(strstr(r.body, want) != NULL, "%s", r.body);
    free(r.body);
    cr_assert_eq(mc_stop(&h.child, SIGINT), 0);
    /* The next rounds find nobody: up 0, no count, the last success kept. */
    snprintf(want, sizeof want, "kmsload_watch_up{host=\"%s\",application=\"windows\"} 0\n",
             h.target);
    bool down = false;
    for (int i = 0; i < 40 && !down; i++) {
        usleep(250000);
        r = mc_request(port, "GET", "/metrics");
        down = strstr(r.body, want) != NULL;
        if (!down)
            free(r.body);
    }
    cr_assert(down, "the host never showed down");
    cr_expect_null(strstr(r.body, "kmsload_watch_clients{"), "a stale count: %s", r.body);
    cr_expect(strstr(r.body, "kmsload_watch_last_success_timestamp_seconds{") != NULL, "%s",
              r.body);
    free(r.body);
    cr_assert_eq(mc_stop(&w, SIGTERM), 0);
}

/* A "host" answering every connection with different random bytes, in a child for 15 s. */
static unsigned mc_garbage_host(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        alarm(15);
        srand((unsigned)getpid());
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                continue;
            char in[512], junk[200];
            struct pollfd p = {c, POLLIN, 0};
            if (poll(&p, 1, 2000) > 0 && recv(c, in, sizeof in, 0) > 0) {
                for (size_t i = 0; i < sizeof junk; i++)
                    junk[i] = (char)(rand() & 0xff);
                junk[0] = 5, junk[2] = 12; /* an RPC version and BIND_ACK type, then garbage */
                send(c, junk, sizeof junk, MSG_NOSIGNAL);
            }
            close(c);
        }
    }
    close(fd);
    for (size_t i = 0; i < SUPPORT_MAX_CHILDREN; i++)
        if (!mc.children.pid[i]) {
            mc.children.pid[i] = pid;
            break;
        }
    return ntohs(sa.sin_port);
}

Test(metrics_cli, watch_prints_a_broken_host_once_not_every_round)
{
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%u", mc_garbage_host());
    char *out;
    mc_run(&out, "watch", target, "--interval", "1s", "--count", "3", "--timeout", "2s",
           "--products", "win10-pro", NULL);
    cr_expect_eq(mc_count_lines(out, " windows: "), 1,
                 "random bytes each round are not a change: %s", out);
    free(out);
}

Test(metrics_cli, watch_count_exits_1_when_a_probe_got_no_count)
{
    /* The host covers Windows 10 only: the default office probes are refused. */
    struct mc_child h = mc_start("host", "--listen", "127.0.0.1:0", "--products", "win10", NULL);
    char target[256];
    mc_expect_line(h.out, "kmsload host: listening on ", target, sizeof target);
    char *out;
    cr_expect_eq(mc_run(&out, "watch", target, "--count", "1", "--products", "win10-pro", NULL), 0,
                 "every probe got a count: %s", out);
    free(out);
    cr_expect_eq(mc_run(&out, "watch", target, "--count", "1", NULL), 1,
                 "office refused must not pass: %s", out);
    free(out);
    cr_assert_eq(mc_stop(&h, SIGINT), 0);
}

Test(metrics_cli, bad_usage_is_refused_with_a_message)
{
    const char *const cases[][6] = {
        {"watch", NULL},
        {"watch", "127.0.0.1", "--interval", "0", NULL},
        {"watch", "127.0.0.1", "--metrics", "host:port", NULL},
        {"watch", "127.0.0.1", "--products", "no-such-product", NULL},
        {"watch", "127.0.0.1", "--products", "win10-pro,ws2022", NULL},
        {"host", "--metrics", "99999", NULL},
        {"run", "scenarios/smoke.ini", "--metrics", "[::1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        const char *const *a = cases[i];
        int status = mc_run(&out, a[0], a[1], a[2], a[3], a[4], NULL);
        cr_expect_eq(status, 2, "case %zu (%s %s): status %d", i, a[0], a[1] ? a[1] : "", status);
        free(out);
    }
}
