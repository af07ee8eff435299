/*
 * DNS lookups on the event loop (dns_srv_start, dns_addr_start): answers from a real DNS server
 * (dnsmasq on loopback) reach the callback; against a silent server (a loopback UDP socket that
 * never answers) the loop keeps running its other events, a cancel ends the lookup at once
 * without a callback, and an uncancelled lookup ends with a failure at its deadline.
 */
#include "dns_addr.h"
#include "dns_fixture.h"
#include "dns_srv.h"
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct support_scratch da;

static void da_init(void)
{
    support_scratch_init(&da, "dnsasync");
}

static void da_fini(void)
{
    support_scratch_fini(&da);
}

TestSuite(dns_async, .init = da_init, .fini = da_fini, .timeout = 60);

/* What a test's callbacks saw. */
struct seen {
    struct event_base *base;
    int calls;
    enum dns_srv_status srv_status;
    size_t n;
    char first_target[NET_HOST_MAX];
    int addr_status;
    struct net_addrs addrs;
    char err[512];
    uint64_t done_ms;
    unsigned ticks; /* a 20 ms timer beside the lookup */
    struct dns_srv_pending *srv;
    struct dns_addr_pending *addr;
};

static void on_srv(enum dns_srv_status status, const struct dns_srv_set *set, const char *err,
                   void *arg)
{
    struct seen *s = arg;
    s->calls++;
    s->srv_status = status;
    s->n = set->n;
    if (set->n)
        snprintf(s->first_target, sizeof s->first_target, "%s", set->rec[0].target);
    s->addrs = set->n ? set->rec[0].addrs : (struct net_addrs){0};
    snprintf(s->err, sizeof s->err, "%s", err);
    s->done_ms = support_now_ms();
    s->srv = NULL;
    event_base_loopexit(s->base, NULL);
}

static void on_addr(int status, const struct net_addrs *addrs, const char *err, void *arg)
{
    struct seen *s = arg;
    s->calls++;
    s->addr_status = status;
    s->addrs = *addrs;
    snprintf(s->err, sizeof s->err, "%s", err);
    s->done_ms = support_now_ms();
    s->addr = NULL;
    event_base_loopexit(s->base, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct seen *s = arg;
    (void)fd, (void)what;
    s->ticks++;
}

/* Cancels whichever lookup is still running, then stops the loop. */
static void on_cancel(evutil_socket_t fd, short what, void *arg)
{
    struct seen *s = arg;
    (void)fd, (void)what;
    dns_srv_cancel(s->srv);
    dns_addr_cancel(s->addr);
    s->srv = NULL;
    s->addr = NULL;
    event_base_loopexit(s->base, NULL);
}

/* Runs base until a lookup ends, or until stop_ms (then cancels), with a 20 ms ticker beside it. */
static void run_loop(struct seen *s, unsigned stop_ms)
{
    struct event *tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
    struct event *stop = evtimer_new(s->base, on_cancel, s);
    struct timeval every = {0, 20000};
    struct timeval at = {stop_ms / 1000, (stop_ms % 1000) * 1000};
    event_add(tick, &every);
    event_add(stop, &at);
    event_base_dispatch(s->base);
    event_free(tick);
    event_free(stop);
}

/* A loop with an SRV lookup of example.test asking a silent server (its socket in *fd). */
static void start_silent_srv(struct seen *s, struct dns_srv_query *q, char *spec, size_t cap,
                             int *fd)
{
    *fd = dns_fixture_silent(spec, cap);
    s->base = event_base_new();
    q->domain = "example.test";
    q->dns_server = spec;
    char err[256];
    s->srv = dns_srv_start(s->base, q, on_srv, s, err, sizeof err);
    cr_assert_not_null(s->srv, "%s", err);
}

Test(dns_async, srv_and_addresses_answered)
{
    const char *records[] = {"--srv-host=_vlmcs._tcp.example.test,kms1.example.test,1700,0,10",
                             "--host-record=kms1.example.test,127.0.0.9", NULL};
    struct dns_fixture dns;
    dns_fixture_start(&dns, &da, "example.test", records);
    struct seen s = {.base = event_base_new()};
    char err[256];
    struct dns_srv_query q = {
        .domain = "example.test", .dns_server = dns.server, .timeout_us = 5000000};
    s.srv = dns_srv_start(s.base, &q, on_srv, &s, err, sizeof err);
    cr_assert_not_null(s.srv, "%s", err);
    cr_expect_eq(s.calls, 0, "the answer comes from the loop, not inside the start");
    run_loop(&s, 5000);
    cr_assert_eq(s.calls, 1, "%s", s.err);
    cr_expect_eq(s.srv_status, DNS_SRV_OK, "%s", s.err);
    cr_expect_eq(s.n, 1);
    cr_expect_str_eq(s.first_target, "kms1.example.test");
    cr_assert_eq(s.addrs.n, 1);
    char text[NET_ADDR_TEXT];
    net_addr_format((const struct sockaddr *)&s.addrs.addr[0], text, sizeof text);
    cr_expect_str_eq(text, "127.0.0.9:1700");

    /* The same server's A record by name, then a name it does not have. */
    struct seen a = {.base = s.base};
    struct dns_addr_query aq = {
        .host = "kms1.example.test", .port = 1688, .dns_server = dns.server, .timeout_us = 5000000};
    a.addr = dns_addr_start(a.base, &aq, on_addr, &a, err, sizeof err);
    cr_assert_not_null(a.addr, "%s", err);
    run_loop(&a, 5000);
    cr_assert_eq(a.calls, 1);
    cr_assert_eq(a.addr_status, 0, "%s", a.err);
    net_addr_format((const struct sockaddr *)&a.addrs.addr[0], text, sizeof text);
    cr_expect_str_eq(text, "127.0.0.9:1688");

    struct seen m = {.base = s.base};
    aq.host = "missing.example.test";
    m.addr = dns_addr_start(m.base, &aq, on_addr, &m, err, sizeof err);
    cr_assert_not_null(m.addr, "%s", err);
    run_loop(&m, 5000);
    cr_assert_eq(m.calls, 1);
    cr_expect_eq(m.addr_status, -1);
    cr_expect(strstr(m.err, "missing.example.test") != NULL, "%s", m.err);

    struct seen none = {.base = s.base};
    q.domain = "nothing.example.test";
    none.srv = dns_srv_start(none.base, &q, on_srv, &none, err, sizeof err);
    cr_assert_not_null(none.srv, "%s", err);
    run_loop(&none, 5000);
    cr_assert_eq(none.calls, 1);
    cr_expect_eq(none.srv_status, DNS_SRV_NONE, "%s", none.err);
    event_base_free(s.base);
}

Test(dns_async, ip_literal_needs_no_server)
{
    char spec[64];
    int fd = dns_fixture_silent(spec, sizeof spec);
    struct seen s = {.base = event_base_new()};
    char err[256];
    struct dns_addr_query q = {.host = "::1", .port = 1688, .dns_server = spec};
    s.addr = dns_addr_start(s.base, &q, on_addr, &s, err, sizeof err);
    cr_assert_not_null(s.addr, "%s", err);
    cr_expect_eq(s.calls, 0, "the answer comes from the loop, not inside the start");
    uint64_t start = support_now_ms();
    run_loop(&s, 3000);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.addr_status, 0, "%s", s.err);
    cr_expect_lt(s.done_ms - start, 1000, "nobody is asked about a literal");
    char text[NET_ADDR_TEXT];
    net_addr_format((const struct sockaddr *)&s.addrs.addr[0], text, sizeof text);
    cr_expect_str_eq(text, "[::1]:1688");
    event_base_free(s.base);
    close(fd);
}

Test(dns_async, silent_server_cancelled_while_the_loop_runs)
{
    char spec[64], err[256];
    int fd;
    struct seen s = {0};
    struct dns_srv_query q = {.timeout_us = 30000000};
    start_silent_srv(&s, &q, spec, sizeof spec, &fd);
    struct dns_addr_query aq = {
        .host = "kms.example.test", .port = 1688, .dns_server = spec, .timeout_us = 30000000};
    s.addr = dns_addr_start(s.base, &aq, on_addr, &s, err, sizeof err);
    cr_assert_not_null(s.addr, "%s", err);
    uint64_t start = support_now_ms();
    run_loop(&s, 500); /* cancels both at 500 ms */
    uint64_t took = support_now_ms() - start;
    cr_expect_eq(s.calls, 0, "a cancelled lookup does not call back");
    /* Bounds against a blocked loop (it would tick 0 times and return after 30 s). */
    cr_expect_geq(s.ticks, 5, "the loop ran its other events during the lookup: %u ticks", s.ticks);
    cr_expect_lt(took, 3000, "cancelled at 500 ms, the loop ended after %llu ms",
                 (unsigned long long)took);
    event_base_free(s.base);
    close(fd);
}

Test(dns_async, silent_server_fails_at_the_deadline)
{
    char spec[64], err[256];
    int fd;
    struct seen s = {0};
    struct dns_srv_query q = {.timeout_us = 600000};
    uint64_t start = support_now_ms();
    start_silent_srv(&s, &q, spec, sizeof spec, &fd);
    run_loop(&s, 10000);
    cr_assert_eq(s.calls, 1);
    cr_expect_eq(s.srv_status, DNS_SRV_FAILED);
    cr_expect(strstr(s.err, "_vlmcs._tcp.example.test") && strstr(s.err, spec), "%s", s.err);
    uint64_t took = s.done_ms - start;
    cr_expect(took >= 500 && took < 5000, "a 600 ms deadline ended after %llu ms",
              (unsigned long long)took);

    /* The one-shot lookup is the same lookup on a loop of its own. */
    struct dns_srv_set set;
    start = support_now_ms();
    cr_expect_eq(dns_srv_lookup(&q, &set, err, sizeof err), DNS_SRV_FAILED);
    took = support_now_ms() - start;
    cr_expect(strstr(err, "no answer") || strstr(err, "no usable answer"), "%s", err);
    cr_expect_str_eq(set.name, "_vlmcs._tcp.example.test");
    cr_expect(took >= 500 && took < 5000, "a 600 ms deadline ended after %llu ms",
              (unsigned long long)took);
    event_base_free(s.base);
    close(fd);
}

Test(dns_async, refused_before_asking)
{
    struct event_base *base = event_base_new();
    struct seen s = {.base = base};
    char err[256];
    struct dns_srv_query q = {.domain = "example.test", .dns_server = "dns.example"};
    cr_expect_null(dns_srv_start(base, &q, on_srv, &s, err, sizeof err));
    cr_expect(strstr(err, "expected an IP address") != NULL, "%s", err);
    q = (struct dns_srv_query){.domain = ""};
    cr_expect_null(dns_srv_start(base, &q, on_srv, &s, err, sizeof err));
    cr_expect(strstr(err, "empty") != NULL, "%s", err);
    struct dns_addr_query aq = {.host = ""};
    cr_expect_null(dns_addr_start(base, &aq, on_addr, &s, err, sizeof err));
    cr_expect_eq(s.calls, 0);
    event_base_free(base);
}
