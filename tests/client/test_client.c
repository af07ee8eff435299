/*
 * The client library (emulator/client): requests built from the catalogue, one exchange, a batch
 * and an interrupted exchange against the reference host (`kmsload host` on a free loopback
 * port), and dns: lookups against dnsmasq. Every wait is bounded.
 */
#include "catalog.h"
#include "client_dns.h"
#include "client_exchange.h"
#include "client_random.h"
#include "client_request.h"
#include "dns_fixture.h"
#include "epid.h"
#include "hresult.h"
#include "probe_cmid.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct catalog ct_cat;
static struct support_scratch ct;

static void ct_init(void)
{
    char err[512] = "";
    support_scratch_init(&ct, "client");
    cr_assert_eq(catalog_parse(&ct_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
}

static void ct_fini(void)
{
    support_scratch_fini(&ct);
    catalog_free(&ct_cat);
}

TestSuite(client, .init = ct_init, .fini = ct_fini, .timeout = 60);

/* ---- the reference host: `kmsload host` on a free loopback port (tests/support.h) ---- */

struct ct_host {
    struct support_host fx;
    uint16_t port;
};

static void ct_host_start(struct ct_host *h)
{
    memset(h, 0, sizeof *h);
    support_host_start(&ct, &h->fx, NULL);
    h->port = h->fx.port;
}

static void ct_host_stop(struct ct_host *h)
{
    support_host_stop(&ct, &h->fx);
}

/* A request for product with this machine's stable CMID (or the given one). */
static struct kms_request ct_request(const char *product, const char *cmid)
{
    struct client_request_spec s;
    struct kms_request req;
    const char *name;
    char err[256] = "";
    client_request_spec_default(&s);
    s.product = product;
    s.cmid = cmid;
    s.workstation = "kmsload-client-test";
    cr_assert_eq(client_request_build(&ct_cat, &s, &req, &name, err, sizeof err), 0, "%s", err);
    return req;
}

/* ---- requests ---- */

Test(client, request_for_an_edition_takes_its_group)
{
    struct kms_request req = ct_request("win10-pro", NULL);
    const struct catalog_sku *sku = catalog_find_sku(&ct_cat, "win10-pro");
    const struct catalog_kms *kms = &ct_cat.kms[sku->kms];
    cr_expect_eq(memcmp(&req.sku_id, &sku->id, sizeof req.sku_id), 0);
    cr_expect_eq(memcmp(&req.kms_id, &kms->id, sizeof req.kms_id), 0);
    cr_expect_eq(memcmp(&req.app_id, &ct_cat.apps[kms->app].id, sizeof req.app_id), 0);
    cr_expect_eq(req.n_policy, kms->n_policy);
    cr_expect_eq(req.major, kms->protocol);
    cr_expect_eq(req.license_status, 2, "initial grace");
    cr_expect_eq(req.binding_expiration, 43200);
    struct guid stable;
    probe_cmid_stable(&stable);
    cr_expect_eq(memcmp(&req.cmid, &stable, sizeof stable), 0, "stable by default");
}

Test(client, request_for_a_group_takes_its_first_edition)
{
    const struct catalog_sku *sku;
    const struct catalog_kms *kms;
    cr_assert_eq(client_product_find(&ct_cat, "office2010", &sku, &kms), 0);
    cr_assert_not_null(sku);
    cr_expect_eq(&ct_cat.kms[sku->kms], kms);
    size_t first = 0;
    while (&ct_cat.kms[ct_cat.skus[first].kms] != kms)
        first++;
    cr_expect_eq(sku, &ct_cat.skus[first]);
    cr_expect_eq(client_product_find(&ct_cat, "no-such-product", &sku, &kms), -1);
}

Test(client, overrides_and_client_fields)
{
    struct client_request_spec s;
    struct kms_request req;
    const char *name;
    char err[256] = "";
    client_request_spec_default(&s);
    s.product = "win10-pro";
    s.kms = "office2010"; /* a catalogue name */
    s.sku = "12345678-1234-1234-1234-123456789abc";
    s.protocol = 4;
    s.n_policy = 7;
    s.cmid = "11111111-2222-3333-4444-555555555555";
    s.license_status = 5;
    s.vm = true;
    s.clock_skew_us = -3600LL * 1000000;
    cr_assert_eq(client_request_build(&ct_cat, &s, &req, &name, err, sizeof err), 0, "%s", err);
    struct kms_request now = ct_request("win10-pro", "random");
    const struct catalog_kms *o2010 = catalog_find_kms(&ct_cat, "office2010");
    cr_expect_eq(memcmp(&req.kms_id, &o2010->id, sizeof req.kms_id), 0);
    char g[GUID_TEXT_LEN + 1];
    guid_format(&req.sku_id, g);
    cr_expect_str_eq(g, "12345678-1234-1234-1234-123456789abc");
    guid_format(&req.cmid, g);
    cr_expect_str_eq(g, "11111111-2222-3333-4444-555555555555");
    cr_expect_eq(req.major, 4);
    cr_expect_eq(req.n_policy, 7);
    cr_expect_eq(req.license_status, 5);
    cr_expect_eq(req.vm_info, 1);
    /* An hour back, give or take the time between the two builds (FILETIME: 100 ns units). */
    int64_t diff = (int64_t)(now.client_time - req.client_time) - 36000000000LL;
    cr_expect(diff >= 0 && diff < 50000000, "skewed by an hour: %lld", (long long)diff);
}

Test(client, bad_fields_are_named)
{
    static const struct {
        const char *field, *value, *message;
    } cases[] = {
        {"product", "no-such", "unknown product \"no-such\" (see --list-products)"},
        {"app", "nope", "--app \"nope\": not a GUID nor a catalogue name"},
        {"cmid", "sometimes", "--cmid \"sometimes\": expected stable, random or a GUID"},
        {"cmid_prev", "x", "--cmid-prev \"x\" is not a GUID"},
        {"workstation", "0123456789012345678901234567890123456789012345678901234567890123",
         "--workstation \"0123456789012345678901234567890123456789012345678901234567890123\": "
         "must be UTF-8 text of at most 63 characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct client_request_spec s;
        struct kms_request req;
        const char *name;
        char err[256] = "";
        client_request_spec_default(&s);
        s.product = "win10-pro";
        const char **field = strcmp(cases[i].field, "product") == 0     ? &s.product
                             : strcmp(cases[i].field, "app") == 0       ? &s.app
                             : strcmp(cases[i].field, "cmid") == 0      ? &s.cmid
                             : strcmp(cases[i].field, "cmid_prev") == 0 ? &s.cmid_prev
                                                                        : &s.workstation;
        *field = cases[i].value;
        cr_expect_eq(client_request_build(&ct_cat, &s, &req, &name, err, sizeof err), -1);
        cr_expect_str_eq(err, cases[i].message);
    }
}

Test(client, random_cmids_and_bytes_differ)
{
    struct kms_request a = ct_request("win10-pro", "random"), b = ct_request("win10-pro", "random");
    cr_expect_neq(memcmp(&a.cmid, &b.cmid, sizeof a.cmid), 0);
    cr_expect_eq(a.cmid.b[7] >> 4, 4, "version 4");
    uint8_t x[16], y[16];
    client_random_bytes(x, sizeof x);
    client_random_bytes(y, sizeof y);
    cr_expect_neq(memcmp(x, y, sizeof x), 0);
}

Test(client, seeded_cmids)
{
    struct guid a, b, c;
    probe_cmid_from_seed("seed", &a);
    probe_cmid_from_seed("seed", &b);
    cr_assert_eq(memcmp(a.b, b.b, 16), 0, "same seed: same CMID");
    probe_cmid_from_seed("seed2", &c);
    cr_assert_neq(memcmp(a.b, c.b, 16), 0, "another seed: another CMID");
    cr_assert_eq(a.b[7] >> 4, 4, "version 4");
    cr_assert_eq(a.b[8] >> 6, 2, "RFC 4122 variant");
}

/* ---- exchanges ---- */

Test(client, one_exchange_activates_and_decodes)
{
    struct ct_host h;
    ct_host_start(&h);
    struct kms_request req = ct_request("win10-pro", "random");
    struct net_client_params p;
    struct client_outcome out;
    char err[256] = "", peer[64];
    client_params(&p, NULL, 5000000);
    cr_assert_eq(client_exchange("127.0.0.1", h.port, &p, &req, &out, err, sizeof err), 0, "%s",
                 err);
    ct_host_stop(&h);
    cr_expect(out.started);
    cr_expect(kms_outcome_has_count(out.result.outcome), "%s: %s",
              kms_outcome_name(out.result.outcome), out.result.err.detail);
    cr_expect_eq(out.result.response.count, 1, "the first machine the host sees");
    cr_expect_gt(epid_build(out.result.response.epid), 6000, "%s", out.result.response.epid);
    snprintf(peer, sizeof peer, "127.0.0.1:%u", h.port);
    cr_expect_str_eq(out.peer, peer);
    cr_expect_gt(out.elapsed_us, 0);
}

/* A loopback port nothing listens on. */
static uint16_t ct_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Issue 19 item 9: a refused connection and a name that does not resolve are different outcomes
 * (connect-refused, dns-error), named the same way on every page. */
Test(client, refused_and_unresolvable_are_told_apart)
{
    struct kms_request req = ct_request("win10-pro", NULL);
    struct net_client_params p;
    struct client_outcome out;
    char err[256] = "";
    client_params(&p, NULL, 2000000);
    cr_assert_eq(client_exchange("127.0.0.1", ct_closed_port(), &p, &req, &out, err, sizeof err),
                 0);
    cr_expect_eq(out.result.outcome, KMS_OUTCOME_REFUSED, "%s",
                 kms_outcome_name(out.result.outcome));
    cr_expect_str_eq(kms_outcome_name(out.result.outcome), "connect-refused");
    cr_assert_eq(client_exchange("no-such-host.invalid", 1688, &p, &req, &out, err, sizeof err), 0);
    cr_expect_eq(out.result.outcome, KMS_OUTCOME_DNS_ERROR, "%s",
                 kms_outcome_name(out.result.outcome));
    cr_expect_str_eq(kms_outcome_name(out.result.outcome), "dns-error");
    cr_expect_not(out.started);
    cr_expect_neq(out.result.err.detail[0], '\0', "the resolver's reason");
}

Test(client, batch_runs_every_exchange_at_once)
{
    struct ct_host h;
    ct_host_start(&h);
    struct net_addrs host, closed, none = {.n = 0};
    char err[256] = "";
    cr_assert_eq(net_resolve("127.0.0.1", h.port, false, &host, err, sizeof err), 0, "%s", err);
    cr_assert_eq(net_resolve("127.0.0.1", ct_closed_port(), false, &closed, err, sizeof err), 0);
    struct kms_request win = ct_request("win10-pro", "random");
    struct kms_request office = ct_request("office2016-proplus", "random");
    struct client_batch_item items[] = {
        {.addrs = &host, .req = &win},
        {.addrs = &none, .req = &win},
        {.addrs = &host, .req = &office},
        {.addrs = &closed, .req = &win},
    };
    struct net_client_params p;
    client_params(&p, NULL, 5000000);
    cr_assert_eq(client_exchange_batch(items, 4, &p, err, sizeof err), 0, "%s", err);
    ct_host_stop(&h);
    cr_expect(items[0].out.started && kms_outcome_has_count(items[0].out.result.outcome));
    cr_expect_not(items[1].out.started, "no address: skipped");
    cr_expect(items[2].out.started && kms_outcome_has_count(items[2].out.result.outcome));
    cr_expect_eq(items[0].out.result.response.count, 1);
    cr_expect_eq(items[2].out.result.response.count, 1, "Office counts apart from Windows");
    cr_expect(items[3].out.started);
    cr_expect_eq(items[3].out.result.outcome, KMS_OUTCOME_REFUSED);
}

static void ct_break(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

Test(client, a_broken_loop_interrupts_the_exchange)
{
    /* A host that accepts (the kernel's backlog) but never answers; the loop is broken first. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    struct net_addrs silent = {.n = 1};
    memcpy(&silent.addr[0], &a, sizeof a);
    silent.len[0] = sizeof a;
    struct event_base *base = event_base_new();
    struct timeval soon = {0, 100000};
    event_base_once(base, -1, EV_TIMEOUT, ct_break, base, &soon);
    struct kms_request req = ct_request("win10-pro", NULL);
    struct net_client_params p;
    struct client_outcome out;
    char err[256] = "";
    client_params(&p, &silent, 5000000);
    uint64_t t0 = support_now_ms();
    cr_expect_eq(client_exchange_on(base, &p, &req, &out, err, sizeof err), CLIENT_INTERRUPTED);
    cr_expect_lt(support_now_ms() - t0, 4000, "broken, not timed out");
    /* The loop is usable again: a second exchange runs to its (short) timeout. */
    client_params(&p, &silent, 200000);
    cr_expect_eq(client_exchange_on(base, &p, &req, &out, err, sizeof err), 0);
    cr_expect_eq(out.result.outcome, KMS_OUTCOME_TIMEOUT, "%s",
                 kms_outcome_name(out.result.outcome));
    event_base_free(base);
    close(fd);
}

static void ct_count_done(const struct client_outcome *out, void *arg)
{
    (void)out;
    ++*(int *)arg;
}

Test(client, a_cancelled_call_never_reports)
{
    struct ct_host h;
    ct_host_start(&h);
    struct net_addrs host;
    char err[256] = "";
    cr_assert_eq(net_resolve("127.0.0.1", h.port, false, &host, err, sizeof err), 0, "%s", err);
    struct event_base *base = event_base_new();
    struct net_client_params p;
    client_params(&p, &host, 5000000);
    struct kms_request req = ct_request("win10-pro", "random");
    int done = 0;
    struct client_call *kept = client_call_start(base, &p, &req, ct_count_done, &done);
    struct client_call *dropped = client_call_start(base, &p, &req, ct_count_done, &done);
    cr_assert_not_null(kept);
    cr_assert_not_null(dropped);
    client_call_cancel(dropped);
    event_base_dispatch(base); /* ends when the kept call has reported: nothing else is pending */
    event_base_free(base);
    ct_host_stop(&h);
    cr_expect_eq(done, 1);
}

/* ---- dns: targets ---- */

Test(client, dns_lookup_in_preference_order)
{
    struct dns_fixture dns;
    const char *records[] = {"--srv-host=_vlmcs._tcp.example.test,b.example.test,1688,10,50",
                             "--srv-host=_vlmcs._tcp.example.test,a.example.test,1689,0,10",
                             "--srv-host=_vlmcs._tcp.example.test,c.example.test,1690,0,90",
                             "--host-record=a.example.test,127.0.0.1",
                             "--host-record=c.example.test,127.0.0.1",
                             NULL};
    dns_fixture_start(&dns, &ct, "example.test", records);
    struct dns_srv_query q = {
        .domain = "example.test", .dns_server = dns.server, .timeout_us = 5000000};
    enum dns_srv_status st;
    char err[256] = "";
    struct dns_srv_set *set = client_dns_lookup(&q, &st, err, sizeof err);
    cr_assert_not_null(set);
    cr_assert_eq(st, DNS_SRV_OK, "%s", err);
    cr_assert_eq(set->n, 3);
    cr_expect_str_eq(set->rec[0].target, "c.example.test", "priority 0, the larger weight");
    cr_expect_str_eq(set->rec[1].target, "a.example.test");
    cr_expect_str_eq(set->rec[2].target, "b.example.test", "priority 10 last");
    cr_expect_eq(set->rec[2].addrs.n, 0, "b has no address record");
    free(set);
    q.domain = "missing.example.test";
    set = client_dns_lookup(&q, &st, err, sizeof err);
    cr_assert_not_null(set);
    cr_expect_neq(st, DNS_SRV_OK);
    cr_expect_str_eq(set->name, "_vlmcs._tcp.missing.example.test");
    free(set);
    dns_fixture_stop(&dns, &ct);
    char name[64];
    client_host_name("::1", 1688, name, sizeof name);
    cr_expect_str_eq(name, "[::1]:1688");
    client_host_name("kms.example.test", 1688, name, sizeof name);
    cr_expect_str_eq(name, "kms.example.test:1688");
}
