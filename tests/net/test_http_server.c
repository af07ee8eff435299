/*
 * The bounded HTTP server in-process over loopback: pipelined requests answered in order one at a
 * time, a head that grows past its limit or trickles past its deadline refused, the connection cap
 * making room for a scraper, query parsing, and accept() out of descriptors (in a forked child
 * with a low open-file limit): paused, reported once, and still answering.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct served {
    struct event_base *base;
    struct http_server *srv;
    struct event *stop;
    pthread_t thread;
    uint16_t port;
    unsigned warnings;
    unsigned handled;
};

static void handler(struct http_request *req, void *arg)
{
    struct served *s = arg;
    char body[4200];
    int n = snprintf(body, sizeof body, "#%u %s ?%s\n", ++s->handled, http_request_path(req),
                     http_request_query(req));
    http_reply(req, 200, "text/plain", NULL, body, (size_t)n);
}

static void count_warning(const char *message, void *arg)
{
    struct served *s = arg;
    (void)message;
    s->warnings++;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

static void *loop(void *arg)
{
    struct served *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

static void serve(struct served *s, const struct http_server_config *cfg)
{
    evthread_use_pthreads();
    memset(s, 0, sizeof *s);
    s->base = event_base_new();
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char err[256];
    struct http_server_config c = *cfg;
    c.warn = count_warning;
    c.warn_arg = s;
    s->srv = http_server_start(s->base, (struct sockaddr *)&sa, sizeof sa, &c, handler, s, err,
                               sizeof err);
    cr_assert_not_null(s->srv, "%s", err);
    s->port = ntohs(((const struct sockaddr_in *)http_server_addr(s->srv))->sin_port);
    s->stop = event_new(s->base, -1, 0, on_stop, s->base);
    cr_assert_eq(pthread_create(&s->thread, NULL, loop, s), 0);
}

static void unserve(struct served *s)
{
    event_active(s->stop, EV_TIMEOUT, 0);
    pthread_join(s->thread, NULL);
    event_free(s->stop);
    http_server_stop(s->srv);
    event_base_free(s->base);
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
    return fd;
}

/* Reads until the peer closes or timeout_ms of silence; returns the length read. */
static size_t read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    return len;
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

TestSuite(http_server, .timeout = 60);

Test(http_server, pipelined_requests_are_answered_in_order_one_at_a_time)
{
    signal(SIGPIPE, SIG_IGN);
    struct http_server_config cfg;
    http_server_config_default(&cfg);
    cfg.max_requests = 5;
    struct served s;
    serve(&s, &cfg);
    int fd = connect_to(s.port);
    const char *req = "GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n"
                      "GET /d HTTP/1.1\r\n\r\nGET /e HTTP/1.1\r\n\r\nGET /f HTTP/1.1\r\n\r\n";
    cr_assert_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    static char buf[65536];
    read_all(fd, buf, sizeof buf, 3000);
    close(fd);
    char *a = strstr(buf, "#1 /a ?x=1"), *b = strstr(buf, "#2 /b ?"), *d = strstr(buf, "#4 /d");
    cr_expect(a && b && d && a < b && b < d, "answers out of order or missing: %s", buf);
    cr_expect_null(strstr(buf, "#3 /c"), "a HEAD answer has no body: %s", buf);
    cr_expect_eq(count(buf, "HTTP/1.1 200 OK"), 5, "five answers, then the cap closes: %s", buf);
    cr_expect_null(strstr(buf, "/f"), "the sixth request is past the cap: %s", buf);
    cr_expect(strstr(buf, "Connection: close") != NULL, "%s", buf);
    unserve(&s);
}

Test(http_server, a_client_that_never_reads_does_not_make_the_server_buffer)
{
    signal(SIGPIPE, SIG_IGN);
    struct http_server_config cfg;
    http_server_config_default(&cfg);
    cfg.max_requests = 1000000;
    struct served s;
    serve(&s, &cfg);
    int fd = connect_to(s.port);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    static char many[32 * 1024];
    const char *one = "GET /x HTTP/1.1\r\n\r\n";
    for (size_t off = 0; off + strlen(one) <= sizeof many; off += strlen(one))
        memcpy(many + off, one, strlen(one));
    size_t sent = 0;
    uint64_t end = now_ms() + 1500;
    while (now_ms() < end) {
        ssize_t n = send(fd, many, sizeof many - sizeof many % strlen(one), 0);
        if (n > 0)
            sent += (size_t)n;
        else
            usleep(10000);
    }
    /* The server stops reading while an answer waits: the kernel's buffers fill and sending
     * blocks, instead of gigabytes of requests and answers piling up in the process. */
    cr_expect_lt(sent, 16u << 20, "%zu bytes of requests accepted without reading answers", sent);
    close(fd);
    unserve(&s);
}

Test(http_server, heads_too_large_or_too_slow_are_refused)
{
    signal(SIGPIPE, SIG_IGN);
    struct http_server_config cfg;
    http_server_config_default(&cfg);
    cfg.max_head = 1024;
    cfg.head_timeout.tv_sec = 1;
    struct served s;
    serve(&s, &cfg);
    static char buf[8192];

    int fd = connect_to(s.port);
    char big[2048];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    send(fd, big, sizeof big, 0);
    read_all(fd, buf, sizeof buf, 2000);
    close(fd);
    cr_expect(strncmp(buf, "HTTP/1.1 431 ", 13) == 0, "%s", buf);

    /* One byte every 300 ms keeps the connection busy but not the deadline from the first. */
    fd = connect_to(s.port);
    uint64_t start = now_ms();
    const char *slow = "GET /slow HTTP/1.1\r\nX: yyyyyyyyyyyyyyy";
    bool closed = false;
    for (size_t i = 0; slow[i] && now_ms() - start < 4000; i++) {
        if (send(fd, slow + i, 1, MSG_NOSIGNAL) != 1) {
            closed = true;
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 300) > 0 && recv(fd, buf, sizeof buf, 0) <= 0) {
            closed = true;
            break;
        }
    }
    uint64_t took = now_ms() - start;
    close(fd);
    cr_expect(closed, "a trickling head was never cut off");
    cr_expect_lt(took, 2500, "cut off after %llu ms, the deadline is 1 s from the first byte",
                 (unsigned long long)took);

    const char *bad[] = {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
                         "GET /x HTTP/2.0\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                         "GET /x HTTP/1.1\r\nno colon\r\n\r\n",
                         "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"};
    const char *want[] = {"HTTP/1.1 405 ", "HTTP/1.1 505 ", "HTTP/1.1 400 ", "HTTP/1.1 400 ",
                          "HTTP/1.1 413 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = connect_to(s.port);
        send(fd, bad[i], strlen(bad[i]), 0);
        read_all(fd, buf, sizeof buf, 2000);
        close(fd);
        cr_expect(strncmp(buf, want[i], strlen(want[i])) == 0, "\"%s\" answered %s", bad[i], buf);
        cr_expect(strstr(buf, "Connection: close") != NULL, "%s", buf);
    }
    unserve(&s);
}

Test(http_server, the_connection_cap_makes_room_for_a_scraper)
{
    signal(SIGPIPE, SIG_IGN);
    struct http_server_config cfg;
    http_server_config_default(&cfg);
    cfg.max_connections = 8;
    struct served s;
    serve(&s, &cfg);
    int idle[40];
    for (size_t i = 0; i < 40; i++) {
        idle[i] = connect_to(s.port);
        send(idle[i], "G", 1, 0);
    }
    usleep(200000);
    int fd = connect_to(s.port);
    const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
    send(fd, req, strlen(req), 0);
    static char buf[8192];
    read_all(fd, buf, sizeof buf, 3000);
    close(fd);
    cr_expect(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "the scraper was locked out: %s", buf);
    for (size_t i = 0; i < 40; i++)
        close(idle[i]);
    unserve(&s);
}

Test(http_server, query_values)
{
    char v[32];
    cr_expect_eq(http_query_get("target=a.b%3A1688&module=office", "target", v, sizeof v), 1);
    cr_expect_str_eq(v, "a.b:1688");
    cr_expect_eq(http_query_get("target=a&module=of+fice", "module", v, sizeof v), 1);
    cr_expect_str_eq(v, "of fice");
    cr_expect_eq(http_query_get("targetx=a", "target", v, sizeof v), 0);
    cr_expect_eq(http_query_get("", "target", v, sizeof v), 0);
    cr_expect_eq(http_query_get("target=%4", "target", v, sizeof v), -1, "truncated escape");
    cr_expect_eq(http_query_get("target=%00", "target", v, sizeof v), -1, "NUL");
    cr_expect_eq(http_query_get("target=%zz", "target", v, sizeof v), -1);
    cr_expect_eq(http_query_get("t=0123456789012345678901234567890123", "t", v, sizeof v), -1);
}

/*
 * Out of descriptors: in a child limited to 48, every descriptor but a few taken, 300 clients
 * connecting and trickling. The child counts warnings and reports them with its stats through a
 * pipe; a scraper's request is answered all along.
 */
Test(http_server, out_of_descriptors_pauses_reports_once_and_keeps_answering)
{
    signal(SIGPIPE, SIG_IGN);
    int report[2], ready[2];
    cr_assert_eq(pipe(report), 0);
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(report[0]);
        close(ready[0]);
        struct rlimit rl = {48, 48};
        setrlimit(RLIMIT_NOFILE, &rl);
        struct http_server_config cfg;
        http_server_config_default(&cfg);
        struct served s;
        memset(&s, 0, sizeof s);
        s.base = event_base_new();
        struct sockaddr_in sa = {.sin_family = AF_INET};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        char err[256];
        cfg.warn = count_warning;
        cfg.warn_arg = &s;
        s.srv = http_server_start(s.base, (struct sockaddr *)&sa, sizeof sa, &cfg, handler, &s, err,
                                  sizeof err);
        if (!s.srv)
            _exit(3);
        uint16_t port = ntohs(((const struct sockaddr_in *)http_server_addr(s.srv))->sin_port);
        /* Leave 4 descriptors free: the cap (48 / 4 = 12) is more than fits. */
        int spare[64], n = 0;
        while (n < 64 && (spare[n] = dup(0)) >= 0)
            n++;
        for (int i = 0; i < 4 && n > 0; i++)
            close(spare[--n]);
        if (write(ready[1], &port, sizeof port) != sizeof port)
            _exit(3);
        struct timeval run = {4, 0};
        event_base_loopexit(s.base, &run);
        event_base_dispatch(s.base);
        struct http_server_stats st;
        http_server_get_stats(s.srv, &st);
        char line[256];
        int len =
            snprintf(line, sizeof line, "%u %llu %llu %u\n", s.warnings,
                     (unsigned long long)st.accept_pauses, (unsigned long long)st.requests, st.cap);
        if (write(report[1], line, (size_t)len) != len)
            _exit(3);
        _exit(0);
    }
    close(report[1]);
    close(ready[1]);
    uint16_t port = 0;
    struct pollfd p = {ready[0], POLLIN, 0};
    cr_assert_gt(poll(&p, 1, 5000), 0);
    cr_assert_eq(read(ready[0], &port, sizeof port), (ssize_t)sizeof port);
    int fds[300];
    for (size_t i = 0; i < 300; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connect(fds[i], (struct sockaddr *)&sa, sizeof sa);
    }
    static char buf[8192];
    unsigned answered = 0;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < 300; i++)
            send(fds[i], "G", 1, MSG_NOSIGNAL);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
            send(fd, req, strlen(req), MSG_NOSIGNAL);
            read_all(fd, buf, sizeof buf, 1500);
            if (strncmp(buf, "HTTP/1.1 200 ", 13) == 0)
                answered++;
        }
        close(fd);
        usleep(300000);
    }
    char line[256] = "";
    p.fd = report[0];
    cr_assert_gt(poll(&p, 1, 10000), 0, "the child did not report");
    ssize_t got = read(report[0], line, sizeof line - 1);
    line[got > 0 ? got : 0] = '\0';
    int status;
    waitpid(pid, &status, 0);
    for (size_t i = 0; i < 300; i++)
        close(fds[i]);
    unsigned warnings = 0, cap = 0;
    unsigned long long pauses = 0, requests = 0;
    cr_assert_eq(sscanf(line, "%u %llu %llu %u", &warnings, &pauses, &requests, &cap), 4,
                 "child said \"%s\"", line);
    cr_expect_gt(pauses, 0, "accept() never ran out of descriptors: the test proves nothing");
    cr_expect_eq(warnings, 1, "%u messages in 4 s, at most one per 10 s", warnings);
    cr_expect_geq(answered, 2, "%u of 3 scrapes answered while out of descriptors", answered);
}
