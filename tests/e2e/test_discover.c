/*
 * `kmsload discover` against a real DNS server: dnsmasq on a loopback port publishing
 * _vlmcs._tcp.example.test SRV records for two `kmsload host` instances. Checks the listing,
 * a host that is down, a stale record, no record, DNS not answering and usage errors; and the
 * weighted first choice among the records dnsmasq serves. Every child is bounded and killed by
 * the suite's fini.
 */
#include "dns_fixture.h"
#include "dns_srv.h"
#include "srv_order.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct support_scratch dc;

static void dc_init(void)
{
    support_scratch_init(&dc, "discover");
}

static void dc_fini(void)
{
    support_scratch_fini(&dc);
}

TestSuite(discover, .init = dc_init, .fini = dc_fini, .timeout = 60);

/* Runs kmsload to completion (bounded: the test fails if it hangs). */
static struct support_result dc_run(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(&dc, 20000, 0, first, ap);
    va_end(ap);
    return r;
}

/* Two hosts, h1 (weight 60) and h2 (weight 20), and the DNS server publishing both. */
struct dc_zone {
    struct support_host h1, h2;
    struct dns_fixture dns;
};

static void dc_zone_start(struct dc_zone *z, const char *const *more_records)
{
    support_host_start(&dc, &z->h1, NULL);
    support_host_start(&dc, &z->h2, (const char *const[]){"--products", "win10", NULL});
    char srv1[128], srv2[128];
    snprintf(srv1, sizeof srv1, "--srv-host=_vlmcs._tcp.example.test,h1.example.test,%u,0,60",
             z->h1.port);
    snprintf(srv2, sizeof srv2, "--srv-host=_vlmcs._tcp.example.test,h2.example.test,%u,0,20",
             z->h2.port);
    const char *records[16] = {srv1, srv2, "--host-record=h1.example.test,127.0.0.1",
                               "--host-record=h2.example.test,127.0.0.1"};
    size_t n = 4;
    for (size_t i = 0; more_records && more_records[i] && n < 15; i++)
        records[n++] = more_records[i];
    records[n] = NULL;
    dns_fixture_start(&z->dns, &dc, "example.test", records);
}

static json_t *dc_json(const struct support_result *r)
{
    json_error_t jerr;
    json_t *root = json_loads(r->out, 0, &jerr);
    cr_assert_not_null(root, "no JSON (%s): %s / %s", jerr.text, r->out, r->err);
    return root;
}

/* The host object for target in the JSON listing. */
static json_t *dc_host(json_t *root, const char *target)
{
    json_t *hosts = json_object_get(root, "hosts"), *h;
    size_t i;
    json_array_foreach(hosts, i, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "target")), target) == 0)
            return h;
    }
    cr_assert_fail("no host %s in the listing", target);
    return NULL;
}

Test(discover, lists_both_published_hosts_with_their_answers)
{
    struct dc_zone z;
    dc_zone_start(&z, NULL);
    struct support_result r =
        dc_run("discover", "example.test", "--dns-server", z.dns.server, "--json", NULL);
    cr_assert_eq(r.status, 0, "exit %d: %s / %s", r.status, r.out, r.err);
    json_t *root = dc_json(&r);
    cr_assert_str_eq(json_string_value(json_object_get(root, "name")), "_vlmcs._tcp.example.test");
    cr_assert_eq(json_array_size(json_object_get(root, "hosts")), 2);
    cr_assert_eq(json_array_size(json_object_get(root, "warnings")), 0);
    const struct support_host *hf[2] = {&z.h1, &z.h2};
    const char *names[2] = {"h1.example.test", "h2.example.test"};
    const int weights[2] = {60, 20};
    for (int i = 0; i < 2; i++) {
        json_t *h = dc_host(root, names[i]);
        cr_assert_eq(json_integer_value(json_object_get(h, "port")), hf[i]->port);
        cr_assert_eq(json_integer_value(json_object_get(h, "weight")), weights[i]);
        cr_assert_eq(json_integer_value(json_object_get(h, "priority")), 0);
        cr_assert(json_is_true(json_object_get(h, "answers")));
        cr_assert_eq(json_integer_value(json_object_get(h, "count")), 1,
                     "a fresh host counts the probe");
        char addr[40];
        snprintf(addr, sizeof addr, "127.0.0.1:%u", hf[i]->port);
        cr_assert_str_eq(json_string_value(json_object_get(h, "address")), addr);
        const char *epid = json_string_value(json_object_get(h, "epid"));
        cr_assert(epid && strlen(epid) > 40, "ePID of %s", names[i]);
        cr_assert_gt(json_integer_value(json_object_get(h, "host_build")), 6000);
    }
    json_decref(root);
    support_result_free(&r);

    /* The stable probe CMID: a second run refreshes the same entry instead of adding one. */
    r = dc_run("discover", "example.test", "--dns-server", z.dns.server, "--json", NULL);
    cr_assert_eq(r.status, 0);
    root = dc_json(&r);
    cr_assert_eq(json_integer_value(json_object_get(dc_host(root, "h1.example.test"), "count")), 1);
    json_decref(root);
    support_result_free(&r);

    /* The text form names both hosts and their ports. */
    r = dc_run("discover", "example.test", "--dns-server", z.dns.server, NULL);
    cr_assert_eq(r.status, 0);
    char port1[16];
    snprintf(port1, sizeof port1, "%u", z.h1.port);
    cr_assert(strstr(r.out, "h1.example.test") && strstr(r.out, "h2.example.test") &&
                  strstr(r.out, port1),
              "%s", r.out);
    support_result_free(&r);
}

Test(discover, flags_a_published_host_that_is_down)
{
    struct dc_zone z;
    dc_zone_start(&z, NULL);
    support_host_stop(&dc, &z.h2);
    struct support_result r =
        dc_run("discover", "example.test", "--dns-server", z.dns.server, "--json", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.out);
    json_t *root = dc_json(&r);
    json_t *h2 = dc_host(root, "h2.example.test");
    cr_assert(json_is_false(json_object_get(h2, "answers")));
    cr_assert_str_eq(json_string_value(json_object_get(h2, "outcome")), "connect-refused");
    cr_assert(strstr(json_string_value(json_object_get(h2, "warning")), "does not answer"));
    cr_assert(json_is_true(json_object_get(dc_host(root, "h1.example.test"), "answers")));
    cr_assert_eq(json_array_size(json_object_get(root, "warnings")), 1);
    json_decref(root);
    support_result_free(&r);
    r = dc_run("discover", "example.test", "--dns-server", z.dns.server, NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, "1 warning") && strstr(r.out, "h2.example.test"), "%s", r.out);
    support_result_free(&r);
}

Test(discover, flags_a_stale_record_and_a_refused_product)
{
    struct dc_zone z;
    /* A third record whose target has no address: a decommissioned host left in DNS. */
    dc_zone_start(&z, (const char *const[]){
                          "--srv-host=_vlmcs._tcp.example.test,old.example.test,1688,1,0", NULL});
    /* h2's host key covers Windows 10 only: a Server 2022 probe is refused there. */
    struct support_result r = dc_run("discover", "example.test", "--dns-server", z.dns.server,
                                     "--product", "ws2022-std", "--json", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s / %s", r.status, r.out, r.err);
    json_t *root = dc_json(&r);
    cr_assert_eq(json_array_size(json_object_get(root, "hosts")), 3);
    json_t *old = dc_host(root, "old.example.test");
    cr_assert_eq(json_array_size(json_object_get(old, "addresses")), 0);
    cr_assert(strstr(json_string_value(json_object_get(old, "warning")), "stale record"));
    json_t *h2 = dc_host(root, "h2.example.test");
    cr_assert(json_is_true(json_object_get(h2, "answers")));
    cr_assert_str_eq(json_string_value(json_object_get(h2, "hresult")), "0xC004F042");
    cr_assert(json_is_null(json_object_get(dc_host(root, "h1.example.test"), "warning")));
    cr_assert_eq(json_array_size(json_object_get(root, "warnings")), 2);
    json_decref(root);
    support_result_free(&r);
}

Test(discover, no_record_or_no_dns_answer_exits_3)
{
    struct dc_zone z;
    dc_zone_start(&z, NULL);
    struct support_result r =
        dc_run("discover", "other.example.test", "--dns-server", z.dns.server, NULL);
    cr_assert_eq(r.status, 3, "exit %d: %s / %s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, "no SRV record"), "%s", r.err);
    support_result_free(&r);
    dns_fixture_stop(&z.dns, &dc);
    /* Nobody listens there any more: DNS does not answer. */
    char server[40];
    snprintf(server, sizeof server, "127.0.0.1:%u", z.dns.port);
    r = dc_run("discover", "example.test", "--dns-server", server, "--timeout", "500ms", "--json",
               NULL);
    cr_assert_eq(r.status, 3, "exit %d: %s / %s", r.status, r.out, r.err);
    json_t *root = dc_json(&r);
    cr_assert_eq(json_array_size(json_object_get(root, "hosts")), 0);
    cr_assert_eq(json_array_size(json_object_get(root, "warnings")), 1);
    json_decref(root);
    support_result_free(&r);
}

Test(discover, usage_errors_exit_2)
{
    const char *cases[][4] = {
        {"discover", NULL},
        {"discover", "example.test", "--dns-server", "dns.example.test"},
        {"discover", "example.test", "--dns-server", "127.0.0.1:99999"},
        {"discover", "example.test", "--product", "no-such-product"},
        {"discover", "example.test", "--bogus", NULL},
        {"discover", "a.test", "b.test", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct support_result r = dc_run(cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
        cr_assert_eq(r.status, 2, "case %zu: exit %d: %s", i, r.status, r.err);
        cr_assert(strstr(r.err, "kmsload discover:"), "case %zu: %s", i, r.err);
        support_result_free(&r);
    }
}

Test(discover, weighted_first_choice_over_the_served_records)
{
    struct dc_zone z;
    dc_zone_start(&z, NULL);
    struct dns_srv_set set;
    char err[256];
    struct dns_srv_query q = {.domain = "example.test", .dns_server = z.dns.server};
    cr_assert_eq(dns_srv_lookup(&q, &set, err, sizeof err), DNS_SRV_OK, "%s", err);
    cr_assert_eq(set.n, 2);
    struct srv_choice choice[2];
    size_t h1 = 0;
    for (size_t i = 0; i < 2; i++) {
        choice[i] = (struct srv_choice){set.rec[i].priority, set.rec[i].weight, 0};
        cr_assert_eq(set.rec[i].addrs.n, 1, "%s has its A record", set.rec[i].target);
        if (strcmp(set.rec[i].target, "h1.example.test") == 0)
            h1 = i;
    }
    /* 10,000 first choices: h1 (weight 60 of 80) expected 61/81 of them when it is listed first
     * (RFC 2782 draws in [0, 80]) and 60/81 otherwise; binomial bound at 5 sd. */
    const unsigned draws = 10000;
    unsigned got = 0;
    struct pcg32 rng;
    pcg32_seed(&rng, 13, 1);
    for (unsigned k = 0; k < draws; k++)
        got += (size_t)srv_pick(choice, 2, &rng) == h1;
    double p = (h1 == 0 ? 61.0 : 60.0) / 81.0, mean = draws * p, sd = 0;
    for (sd = 1; sd * sd < draws * p * (1 - p); sd += 0.01)
        ;
    cr_assert(got > mean - 5 * sd && got < mean + 5 * sd,
              "h1 first %u of %u (expected %.0f ± %.0f)", got, draws, mean, 5 * sd);
}

Test(discover, coverage_of_each_answering_host)
{
    struct dc_zone z;
    dc_zone_start(&z, NULL);
    support_host_stop(&dc, &z.h1);
    struct support_result r = dc_run("discover", "example.test", "--dns-server", z.dns.server,
                                     "--coverage", "--json", NULL);
    cr_assert_eq(r.status, 1, "h1 is down: exit %d: %s / %s", r.status, r.out, r.err);
    json_t *root = dc_json(&r);
    cr_assert_null(json_object_get(dc_host(root, "h1.example.test"), "coverage"),
                   "no coverage for a host that does not answer");
    json_t *cv = json_object_get(dc_host(root, "h2.example.test"), "coverage");
    cr_assert(json_is_object(cv));
    /* h2 covers the win10 group only (--products win10). */
    json_t *activated = json_object_get(cv, "activated"), *refused = json_object_get(cv, "refused");
    cr_assert_eq(json_array_size(activated), 1);
    cr_assert_str_eq(json_string_value(json_array_get(activated, 0)), "win10");
    bool ws2022 = false;
    size_t i;
    json_t *g;
    json_array_foreach(refused, i, g) ws2022 |= strcmp(json_string_value(g), "ws2022") == 0;
    cr_assert(ws2022, "ws2022 is among the refused groups");
    json_decref(root);
    support_result_free(&r);
    r = dc_run("discover", "example.test", "--dns-server", z.dns.server, "--coverage", NULL);
    cr_assert(strstr(r.out, "h2.example.test") && strstr(r.out, "coverage:") &&
                  strstr(r.out, "refuses"),
              "%s", r.out);
    support_result_free(&r);
}

/* The same genuine/finding verdict as kmsload coverage, per host (issue 19 item 4): a host that
 * activates everything needs two Windows host keys at once; ws2022 + office2021 is genuine. */
Test(discover, coverage_says_which_host_a_genuine_one_could_be)
{
    struct dc_zone z;
    support_host_start(&dc, &z.h1, NULL); /* every key: what no genuine host holds */
    support_host_start(&dc, &z.h2, (const char *const[]){"--host-key", "ws2022,office2021", NULL});
    char srv1[128], srv2[128];
    snprintf(srv1, sizeof srv1, "--srv-host=_vlmcs._tcp.example.test,h1.example.test,%u,0,60",
             z.h1.port);
    snprintf(srv2, sizeof srv2, "--srv-host=_vlmcs._tcp.example.test,h2.example.test,%u,0,20",
             z.h2.port);
    dns_fixture_start(&z.dns, &dc, "example.test",
                      (const char *const[]){srv1, srv2, "--host-record=h1.example.test,127.0.0.1",
                                            "--host-record=h2.example.test,127.0.0.1", NULL});
    struct support_result r = dc_run("discover", "example.test", "--dns-server", z.dns.server,
                                     "--coverage", "--json", NULL);
    json_t *root = dc_json(&r);
    json_t *all = json_object_get(dc_host(root, "h1.example.test"), "coverage");
    json_t *real = json_object_get(dc_host(root, "h2.example.test"), "coverage");
    cr_assert(json_is_false(json_object_get(all, "genuine")), "%s", r.out);
    bool exclusive = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(all, "findings"), i, f)
    {
        exclusive |= strcmp(json_string_value(json_object_get(f, "kind")), "exclusive-keys") == 0 &&
                     strstr(json_string_value(json_object_get(f, "reason")), "Windows 10 China");
    }
    cr_assert(exclusive, "two Windows host keys at once: %s", r.out);
    cr_assert(json_is_true(json_object_get(real, "genuine")), "%s", r.out);
    cr_assert_eq(json_array_size(json_object_get(real, "findings")), 0);
    json_decref(root);
    support_result_free(&r);
    r = dc_run("discover", "example.test", "--dns-server", z.dns.server, "--coverage", NULL);
    cr_assert(strstr(r.out, "genuine: no, not what a genuine host answers"), "%s", r.out);
    cr_assert(strstr(r.out, "genuine: yes"), "%s", r.out);
    cr_assert(strstr(r.out, "need 2 Windows host keys"), "%s", r.out);
    support_result_free(&r);
}
