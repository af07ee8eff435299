/*
 * The /metrics server in-process: listen specs, a page served from its own thread, the answer to
 * a render that fails, and stops that come right after starts (the stop must never be lost).
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Test(metrics_http, listen_specs)
{
    char host[NET_HOST_MAX], err[256];
    uint16_t port;
    cr_assert_eq(metrics_http_parse_listen("9464", host, sizeof host, &port, err, sizeof err), 0);
    cr_expect_str_eq(host, "127.0.0.1", "loopback unless told otherwise");
    cr_expect_eq(port, 9464);
    cr_assert_eq(metrics_http_parse_listen(":0", host, sizeof host, &port, err, sizeof err), 0);
    cr_expect_str_eq(host, "127.0.0.1");
    cr_expect_eq(port, 0, "port 0: a free port");
    cr_assert_eq(
        metrics_http_parse_listen("0.0.0.0:9100", host, sizeof host, &port, err, sizeof err), 0);
    cr_expect_str_eq(host, "0.0.0.0");
    cr_assert_eq(metrics_http_parse_listen("[::1]:9100", host, sizeof host, &port, err, sizeof err),
                 0, "%s", err);
    cr_expect_str_eq(host, "::1");
    cr_expect_eq(port, 9100);
    const char *bad[] = {"",    "abc",  "99999", "host:",     "host:port",
                         "::1", "[::1", "a:b:c", "1.2.3.4:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_expect_eq(metrics_http_parse_listen(bad[i], host, sizeof host, &port, err, sizeof err),
                     -1, "\"%s\" accepted", bad[i]);
        cr_expect_neq(err[0], '\0', "no message for \"%s\"", bad[i]);
    }
}

struct page {
    pthread_mutex_t lock;
    unsigned renders;
    bool fail;
};

static void render(struct metrics_text *out, void *arg)
{
    struct page *p = arg;
    pthread_mutex_lock(&p->lock);
    unsigned n = ++p->renders;
    bool fail = p->fail;
    pthread_mutex_unlock(&p->lock);
    metrics_text_family(out, "test_renders_total", METRICS_COUNTER, "Pages rendered.");
    metrics_text_sample(out, fail ? "bad name" : "test_renders_total", NULL, 0, n);
}

/* GET path over HTTP/1.0; returns the whole answer (malloc'd). */
static char *get(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[128];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    cr_assert_eq(send(fd, req, (size_t)n, 0), n);
    char *buf = calloc(1, 65536);
    size_t len = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_gt(poll(&p, 1, 5000), 0, "no answer in 5 s");
        ssize_t got = recv(fd, buf + len, 65535 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    return buf;
}

Test(metrics_http, serves_from_its_own_thread_and_reports_render_failures)
{
    struct page page = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[256];
    struct metrics_http *m =
        metrics_http_start_thread("127.0.0.1:0", render, &page, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    uint16_t port = metrics_http_port(m);
    cr_assert_neq(port, 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
    cr_expect_str_eq(metrics_http_url(m), url);
    for (unsigned i = 1; i <= 3; i++) {
        char *answer = get(port, "/metrics");
        char want[64];
        snprintf(want, sizeof want, "\r\n\r\n# HELP test_renders_total");
        cr_expect(strncmp(answer, "HTTP/1.0 200", 12) == 0 ||
                      strncmp(answer, "HTTP/1.1 200", 12) == 0,
                  "%s", answer);
        cr_expect(strstr(answer, want) != NULL, "%s", answer);
        snprintf(want, sizeof want, "test_renders_total %u\n", i);
        cr_expect(strstr(answer, want) != NULL, "render %u: %s", i, answer);
        cr_expect(strstr(answer,
                         "# TYPE kmsload_build_info gauge\nkmsload_build_info{version=\"") != NULL,
                  "every page says which kmsload serves it: %s", answer);
        free(answer);
    }
    pthread_mutex_lock(&page.lock);
    page.fail = true;
    pthread_mutex_unlock(&page.lock);
    char *answer = get(port, "/metrics");
    cr_expect(strstr(answer, " 500 ") != NULL, "a page that cannot render is a 500: %s", answer);
    cr_expect(strstr(answer, "invalid metric name") != NULL, "%s", answer);
    free(answer);
    metrics_http_stop(m);
}

Test(metrics_http, a_stop_right_after_the_start_is_never_lost)
{
    struct page page = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[256];
    for (int i = 0; i < 50; i++) {
        struct metrics_http *m =
            metrics_http_start_thread("127.0.0.1:0", render, &page, err, sizeof err);
        cr_assert_not_null(m, "%s", err);
        metrics_http_stop(m); /* returns: the suite's timeout would catch a hang */
    }
}

Test(metrics_http, an_address_in_use_is_a_message)
{
    struct page page = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[256], spec[32];
    struct metrics_http *a =
        metrics_http_start_thread("127.0.0.1:0", render, &page, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    snprintf(spec, sizeof spec, "127.0.0.1:%u", metrics_http_port(a));
    struct metrics_http *b = metrics_http_start_thread(spec, render, &page, err, sizeof err);
    cr_expect_null(b);
    cr_expect(strstr(err, "cannot listen") != NULL, "%s", err);
    metrics_http_stop(b);
    metrics_http_stop(a);
}

TestSuite(metrics_http, .timeout = 30);
