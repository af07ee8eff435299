/*
 * The reference host's decisions without sockets (spec §8-§10): requests are built with the
 * client codec, fed to host_handle_payload / host_session_feed with an injected clock, and the
 * answers are decoded and verified as a client would. The captured third-party requests in
 * tests/vectors are replayed through a host session and must be answered as vlmcsd answered.
 */
#include "catalog.h"
#include "client_session.h"
#include "host.h"
#include "host_session.h"
#include "hresult.h"
#include "kms_message.h"
#include "pcg32.h"
#include "rpc.h"
#include "vector_file.h"

#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_TEST_DIR
#error "KMSLOAD_TEST_DIR must name the tests directory"
#endif

#define TH_SECOND FILETIME_PER_SECOND
#define TH_MINUTE (60ULL * TH_SECOND)
#define TH_HOUR (3600ULL * TH_SECOND)
#define TH_DAY (86400ULL * TH_SECOND)
#define TH_T0 (134080000000000000ULL) /* 2025-11-25 roughly; any fixed FILETIME works */

/* ---- fixture: catalogue, host with an injected clock, request builder ---- */

struct th_env {
    struct catalog cat;
    struct host_config cfg;
    struct kms_host *host;
    uint64_t now; /* what the injected clock returns */
    struct pcg32 rng;
};

static uint64_t th_clock(void *arg)
{
    return *(const uint64_t *)arg;
}

static void th_setup(struct th_env *env)
{
    char err[512] = "";
    memset(env, 0, sizeof *env);
    cr_assert_eq(catalog_parse(&env->cat, catalog_builtin_ini, "built-in", err, sizeof err), 0,
                 "%s", err);
    host_config_default(&env->cfg, &env->cat);
    env->now = TH_T0;
    env->cfg.clock = th_clock;
    env->cfg.clock_arg = &env->now;
    pcg32_seed(&env->rng, 0x5eed, 77);
}

static void th_start(struct th_env *env)
{
    char err[256] = "";
    env->host = malloc(sizeof *env->host);
    cr_assert_not_null(env->host);
    cr_assert_eq(host_init(env->host, &env->cfg, err, sizeof err), 0, "host_init: %s", err);
}

static void th_teardown(struct th_env *env)
{
    free(env->host);
    env->host = NULL;
    catalog_free(&env->cat);
}

static struct guid th_cmid(unsigned i)
{
    struct guid g;
    memset(&g, 0, sizeof g);
    g.b[0] = 0x11;
    g.b[1] = 0x22;
    g.b[7] = 0x40;
    g.b[8] = 0x80;
    g.b[12] = (uint8_t)(i >> 24);
    g.b[13] = (uint8_t)(i >> 16);
    g.b[14] = (uint8_t)(i >> 8);
    g.b[15] = (uint8_t)i;
    return g;
}

/* A request as a client of the SKU sends it (protocol and N_Policy from the catalogue). */
static struct kms_request th_req(const struct th_env *env, const char *sku_key, unsigned cmid,
                                 uint64_t client_time)
{
    const struct catalog_sku *sku = catalog_find_sku(&env->cat, sku_key);
    cr_assert_not_null(sku, "no SKU %s in the catalogue", sku_key);
    const struct catalog_kms *kms = &env->cat.kms[sku->kms];
    struct kms_request req;
    memset(&req, 0, sizeof req);
    req.major = (uint16_t)kms->protocol;
    req.minor = 0;
    req.license_status = KMS_LICENSE_OOB_GRACE;
    req.binding_expiration = 43200;
    req.app_id = env->cat.apps[kms->app].id;
    req.kms_id = kms->id;
    req.sku_id = sku->id;
    req.cmid = th_cmid(cmid);
    req.n_policy = kms->n_policy;
    req.client_time = client_time;
    char ws[32];
    snprintf(ws, sizeof ws, "th-ws%04u.example.test", cmid);
    cr_assert_eq(kms_request_set_workstation(&req, ws), 0);
    return req;
}

static size_t th_app(const struct th_env *env, const char *key)
{
    const struct catalog_app *app = catalog_find_app(&env->cat, key);
    cr_assert_not_null(app, "no app %s", key);
    return (size_t)(app - env->cat.apps);
}

/* Encodes req (random W_req), lets the host answer, and decodes + verifies a full response.
 * Returns the HRESULT (0: resp holds the verified response). */
static uint32_t th_ask_raw(struct th_env *env, const struct kms_request *req,
                           const uint8_t *payload, size_t len, const uint8_t w_req[16],
                           struct kms_response *resp, struct host_request_record *rec)
{
    uint8_t out[KMS_RESPONSE_MAX];
    size_t out_len = 0;
    struct host_request_record local;
    if (!rec)
        rec = &local;
    uint32_t hr = host_handle_payload(env->host, payload, len, out, sizeof out, &out_len, rec);
    cr_assert_eq(rec->hresult, hr, "record hresult 0x%08x, returned 0x%08x", rec->hresult, hr);
    if (hr)
        return hr;
    struct kms_response tmp;
    if (!resp)
        resp = &tmp;
    struct kms_checks checks = {0};
    struct proto_err err = {0};
    cr_assert_eq(kms_response_decode(out, out_len, resp, &checks, &err), 0,
                 "response does not decode: %s", err.detail);
    cr_assert_eq(kms_response_verify(resp, req, w_req, &checks, &err), 0,
                 "response does not verify: %s", err.detail);
    cr_assert_eq(resp->count, rec->count);
    return 0;
}

static uint32_t th_ask(struct th_env *env, const struct kms_request *req, struct kms_response *resp,
                       uint8_t w_req_out[16])
{
    uint8_t w_req[16], payload[KMS_REQUEST_MAX];
    size_t len = 0;
    struct proto_err err = {0};
    pcg32_fill(&env->rng, w_req, sizeof w_req);
    if (w_req_out)
        memcpy(w_req_out, w_req, 16);
    cr_assert_eq(kms_request_encode(req, w_req, payload, sizeof payload, &len, &err), 0,
                 "kms_request_encode: %s", err.detail);
    return th_ask_raw(env, req, payload, len, w_req, resp, NULL);
}

/* The count a full response carries; fails the test on an HRESULT. */
static unsigned th_count(struct th_env *env, const char *sku, unsigned cmid, uint64_t t)
{
    struct kms_request req = th_req(env, sku, cmid, t);
    struct kms_response resp;
    uint32_t hr = th_ask(env, &req, &resp, NULL);
    cr_assert_eq(hr, 0, "%s CMID %u refused with 0x%08x", sku, cmid, hr);
    return resp.count;
}

/* ---- counting ---- */

Test(host, counts_unique_cmids_and_repeats_do_not_count)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(th_count(&env, "win10-pro", i, TH_T0), i + 1, "new CMID %u", i);
    cr_expect_eq(th_count(&env, "win10-pro", 0, TH_T0), 5, "repeat of CMID 0");
    cr_expect_eq(th_count(&env, "win10-pro", 3, TH_T0), 5, "repeat of CMID 3");
    cr_expect_eq(th_count(&env, "win10-pro", 5, TH_T0), 6);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 6);
    cr_expect_eq(env.host->stats.requests, 8);
    cr_expect_eq(env.host->stats.answered, 8);
    cr_expect_eq(env.host->stats.errors, 0);
    size_t win = th_app(&env, "windows");
    cr_expect_eq(env.host->stats.apps[win].requests, 8);
    cr_expect_eq(env.host->stats.apps[win].below, 8, "all below N_Policy 25");
    th_teardown(&env);
}

Test(host, windows_clients_and_servers_share_a_counter_office_counts_apart)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct kms_request req = th_req(&env, "ws2019-dc", 100, TH_T0);
    cr_assert_eq(req.n_policy, 5, "server SKUs send N_Policy 5");
    cr_expect_eq(th_count(&env, "win10-pro", 1, TH_T0), 1);
    cr_expect_eq(th_count(&env, "ws2019-dc", 2, TH_T0), 2, "server shares the Windows counter");
    cr_expect_eq(th_count(&env, "win7-pro", 3, TH_T0), 3, "V4 Windows 7 shares it too");
    cr_expect_eq(th_count(&env, "office2019-proplus", 1, TH_T0), 1, "Office 2013+ counts apart");
    cr_expect_eq(th_count(&env, "office2013-proplus", 2, TH_T0), 2, "2013 and 2019 share");
    cr_expect_eq(th_count(&env, "office2021-std", 1, TH_T0), 2, "same CMID, same Office counter");
    cr_expect_eq(th_count(&env, "office2010-proplus", 1, TH_T0), 1, "Office 2010 counts apart");
    cr_expect_eq(th_count(&env, "office2010-proplus", 9, TH_T0), 2);
    cr_expect_eq(th_count(&env, "ws2022-std", 4, TH_T0), 4);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 4);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "office2013")), 2);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "office2010")), 2);
    th_teardown(&env);
}

Test(host, five_servers_activate_while_clients_still_wait)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    for (unsigned i = 0; i < 4; i++)
        th_count(&env, "ws2019-std", i, TH_T0);
    struct kms_request srv = th_req(&env, "ws2019-std", 4, TH_T0);
    struct kms_response resp;
    cr_assert_eq(th_ask(&env, &srv, &resp, NULL), 0);
    cr_expect_eq(resp.count, 5);
    cr_expect_geq(resp.count, srv.n_policy, "the fifth server reaches its threshold");
    struct kms_request cli = th_req(&env, "win10-ent", 5, TH_T0);
    cr_assert_eq(th_ask(&env, &cli, &resp, NULL), 0);
    cr_expect_eq(resp.count, 6);
    cr_expect_lt(resp.count, cli.n_policy, "a Windows client still needs 25");
    size_t win = th_app(&env, "windows");
    cr_expect_eq(env.host->stats.apps[win].activated, 1);
    cr_expect_eq(env.host->stats.apps[win].below, 5);
    th_teardown(&env);
}

/* Fills an application's cache, refreshes the first CMID and checks which one is evicted. */
static void th_check_cap(const char *sku, const char *app, unsigned cap)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    for (unsigned i = 0; i < cap; i++) {
        env.now = TH_T0 + i * TH_SECOND;
        cr_assert_eq(th_count(&env, sku, i, env.now), i + 1);
    }
    env.now = TH_T0 + cap * TH_SECOND;
    cr_expect_eq(th_count(&env, sku, 0, env.now), cap, "refresh of CMID 0");
    for (unsigned i = 0; i < 3; i++) {
        env.now += TH_SECOND;
        cr_expect_eq(th_count(&env, sku, 1000 + i, env.now), cap, "new CMID at the cap");
    }
    const struct client_cache *cache = &env.host->caches[th_app(&env, app)];
    cr_expect_eq(client_cache_capacity(cache), cap);
    struct guid g = th_cmid(0);
    cr_expect_not_null(client_cache_find(cache, &g), "refreshed CMID 0 kept");
    for (unsigned i = 1; i <= 3; i++) {
        g = th_cmid(i);
        cr_expect_null(client_cache_find(cache, &g), "CMID %u (least recently seen) evicted", i);
    }
    for (unsigned i = 4; i < cap; i++) {
        g = th_cmid(i);
        cr_expect_not_null(client_cache_find(cache, &g), "CMID %u kept", i);
    }
    /* An evicted CMID is new again. */
    env.now += TH_SECOND;
    cr_expect_eq(th_count(&env, sku, 1, env.now), cap);
    g = th_cmid(4);
    cr_expect_null(client_cache_find(cache, &g), "CMID 4 is next in line");
    th_teardown(&env);
}

Test(host, windows_cache_caps_at_50_evicting_least_recently_seen)
{
    th_check_cap("win10-pro", "windows", 50);
}

Test(host, office_cache_caps_at_10_evicting_least_recently_seen)
{
    th_check_cap("office2019-proplus", "office2013", 10);
}

Test(host, office2010_cache_caps_at_10)
{
    th_check_cap("office2010-proplus", "office2010", 10);
}

Test(host, servers_only_cap_at_10_until_a_windows_client_arrives)
{
    /* Spec §10: 14 servers count 1..10, 10, 10, 10; the first Windows client gets 11. */
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    for (unsigned i = 0; i < 14; i++)
        cr_expect_eq(th_count(&env, "ws2022-dc", i, TH_T0 + i * TH_SECOND), i < 10 ? i + 1 : 10,
                     "server %u", i + 1);
    size_t win = th_app(&env, "windows");
    cr_expect_eq(client_cache_capacity(&env.host->caches[win]), 10);
    cr_expect_eq(th_count(&env, "win10-pro", 100, TH_T0 + 20 * TH_SECOND), 11);
    cr_expect_eq(client_cache_capacity(&env.host->caches[win]), 50);
    for (unsigned i = 0; i < 45; i++)
        th_count(&env, "ws2022-dc", 200 + i, TH_T0 + (30 + i) * TH_SECOND);
    cr_expect_eq(host_app_count(env.host, win), 50, "servers fill the lifted cap and stop there");
    th_teardown(&env);
}

Test(host, large_n_policy_grows_the_cache)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    size_t win = th_app(&env, "windows");
    for (unsigned i = 0; i < 50; i++)
        th_count(&env, "win10-pro", i, TH_T0);
    struct kms_request req = th_req(&env, "win10-pro", 50, TH_T0);
    req.n_policy = 40;
    struct kms_response resp;
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect_eq(resp.count, 51, "N_Policy 40 lets the cache hold 80");
    cr_expect_eq(client_cache_capacity(&env.host->caches[win]), 80);
    for (unsigned i = 51; i < 90; i++)
        th_count(&env, "win10-pro", i, TH_T0);
    cr_expect_eq(host_app_count(env.host, win), 80);
    req = th_req(&env, "win10-pro", 500, TH_T0);
    req.n_policy = 1000;
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0, "N_Policy 1000 is the largest accepted");
    cr_expect_eq(client_cache_capacity(&env.host->caches[win]), 2000);
    th_teardown(&env);
}

/* ---- 30-day retention, client-driven clock ---- */

Test(host, cmid_expires_30_days_after_its_last_request_client_clock)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.clock_mode = HOST_CLOCK_CLIENT;
    env.now = 0; /* the injected clock must not matter in client mode */
    th_start(&env);
    for (unsigned i = 0; i < 10; i++)
        cr_assert_eq(th_count(&env, "win10-pro", i, TH_T0), i + 1);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(th_count(&env, "win10-pro", i, TH_T0 + 20 * TH_DAY), 10, "renewal %u", i);
    cr_expect_eq(th_count(&env, "win10-pro", 100, TH_T0 + 30 * TH_DAY + TH_SECOND), 6,
                 "5 renewed machines + the new one");
    cr_expect_eq(host_now(env.host), TH_T0 + 30 * TH_DAY + TH_SECOND);
    /* The renewed ones go 30 days after day 20. */
    cr_expect_eq(th_count(&env, "win10-pro", 101, TH_T0 + 50 * TH_DAY - 1), 7);
    cr_expect_eq(th_count(&env, "win10-pro", 102, TH_T0 + 50 * TH_DAY), 3);
    th_teardown(&env);
}

Test(host, cmid_expiry_boundary_is_exact)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.clock_mode = HOST_CLOCK_CLIENT;
    th_start(&env);
    for (unsigned i = 0; i < 10; i++)
        th_count(&env, "win10-pro", i, TH_T0);
    for (unsigned i = 0; i < 5; i++)
        th_count(&env, "win10-pro", i, TH_T0 + 20 * TH_DAY);
    cr_expect_eq(th_count(&env, "win10-pro", 100, TH_T0 + 30 * TH_DAY - 1), 11,
                 "one tick before 30 days nobody has expired");
    cr_expect_eq(th_count(&env, "win10-pro", 101, TH_T0 + 30 * TH_DAY), 7,
                 "at exactly 30 days the 5 machines not renewed are gone");
    th_teardown(&env);
}

Test(host, client_clock_is_monotonic_and_skips_the_time_check)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.clock_mode = HOST_CLOCK_CLIENT;
    th_start(&env);
    cr_expect_eq(th_count(&env, "win10-pro", 1, TH_T0 + 10 * TH_DAY), 1);
    /* A client 10 days behind is accepted (no ±4 h check) and does not turn the clock back. */
    cr_expect_eq(th_count(&env, "win10-pro", 2, TH_T0), 2);
    cr_expect_eq(host_now(env.host), TH_T0 + 10 * TH_DAY);
    /* The old client was recorded at host time, so it lives 30 days from day 10. */
    cr_expect_eq(th_count(&env, "win10-pro", 3, TH_T0 + 40 * TH_DAY - 1), 3);
    cr_expect_eq(th_count(&env, "win10-pro", 4, TH_T0 + 40 * TH_DAY), 2, "CMIDs 1 and 2 expired");
    th_teardown(&env);
}

/* One wild client clock (probe --clock-skew +10000d) cannot wipe the counts: a step beyond the
 * bound is refused with 0xC004F06C, as a genuine host refuses a time outside its window, and the
 * clock stays where it was. */
Test(host, client_clock_moves_by_bounded_steps)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.clock_mode = HOST_CLOCK_CLIENT;
    env.cfg.max_clock_step = 8 * TH_DAY;
    env.cfg.max_clock_ahead = 20 * TH_DAY;
    th_start(&env); /* the injected real clock stays at TH_T0 */
    for (unsigned i = 0; i < 10; i++)
        cr_assert_eq(th_count(&env, "win10-pro", i, TH_T0), i + 1);
    struct kms_request req = th_req(&env, "win10-pro", 50, TH_T0 + 10000 * TH_DAY);
    struct host_request_record rec;
    uint8_t w_req[16] = {1}, payload[KMS_REQUEST_MAX];
    size_t len = 0;
    cr_assert_eq(kms_request_encode(&req, w_req, payload, sizeof payload, &len, NULL), 0);
    cr_expect_eq(th_ask_raw(&env, &req, payload, len, w_req, NULL, &rec), HR_INVALID_TIMESTAMP);
    cr_expect(rec.clock_refused);
    cr_expect_eq(rec.app, (int)th_app(&env, "windows"), "the refusal names the application");
    cr_expect_eq(host_now(env.host), TH_T0, "the clock did not move");
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 10, "no CMID aged out");
    cr_expect_eq(env.host->stats.clock_refused, 1);
    /* Steps within the bound go on, from the later of the client and the real clock... */
    cr_expect_eq(th_count(&env, "win10-pro", 0, TH_T0 + 8 * TH_DAY), 10);
    cr_expect_eq(th_count(&env, "win10-pro", 1, TH_T0 + 16 * TH_DAY), 10);
    cr_expect_eq(host_now(env.host), TH_T0 + 16 * TH_DAY);
    /* ...but never past max_clock_ahead of the real clock, whatever the steps. */
    req = th_req(&env, "win10-pro", 2, TH_T0 + 21 * TH_DAY);
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_INVALID_TIMESTAMP);
    cr_expect_eq(host_now(env.host), TH_T0 + 16 * TH_DAY);
    /* The real clock moving on carries the window with it; past times never move the clock. */
    env.now = TH_T0 + 40 * TH_DAY;
    cr_expect_eq(th_count(&env, "win10-pro", 3, TH_T0 + 47 * TH_DAY), 1, "30 days on: alone");
    cr_expect_eq(th_count(&env, "win10-pro", 4, TH_T0), 2);
    cr_expect_eq(host_now(env.host), TH_T0 + 47 * TH_DAY);
    th_teardown(&env);
}

Test(host, expiry_with_injected_real_clock)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    th_count(&env, "office2019-proplus", 1, env.now);
    th_count(&env, "office2019-proplus", 2, env.now);
    env.now += 29 * TH_DAY;
    cr_expect_eq(th_count(&env, "office2019-proplus", 2, env.now), 2);
    env.now = TH_T0 + 30 * TH_DAY;
    cr_expect_eq(host_app_count(env.host, th_app(&env, "office2013")), 1);
    cr_expect_eq(th_count(&env, "office2019-proplus", 3, env.now), 2);
    th_teardown(&env);
}

/* ---- time check (real clock) ---- */

Test(host, client_time_within_4_hours_is_accepted_beyond_refused)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct {
        int64_t offset;
        uint32_t hr;
    } cases[] = {
        {0, 0},
        {(int64_t)(3 * TH_HOUR + 59 * TH_MINUTE), 0},
        {-(int64_t)(3 * TH_HOUR + 59 * TH_MINUTE), 0},
        {(int64_t)(4 * TH_HOUR), 0},
        {-(int64_t)(4 * TH_HOUR), 0},
        {(int64_t)(4 * TH_HOUR + 1), HR_INVALID_TIMESTAMP},
        {-(int64_t)(4 * TH_HOUR + 1), HR_INVALID_TIMESTAMP},
        {(int64_t)(4 * TH_HOUR + 1 * TH_MINUTE), HR_INVALID_TIMESTAMP},
        {-(int64_t)(4 * TH_HOUR + 1 * TH_MINUTE), HR_INVALID_TIMESTAMP},
        {(int64_t)(400 * TH_DAY), HR_INVALID_TIMESTAMP},
    };
    unsigned answered = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kms_request req =
            th_req(&env, "win10-pro", 10 + i, (uint64_t)((int64_t)TH_T0 + cases[i].offset));
        struct kms_response resp;
        uint32_t hr = th_ask(&env, &req, &resp, NULL);
        cr_expect_eq(hr, cases[i].hr, "offset %lld ticks: 0x%08x, expected 0x%08x",
                     (long long)cases[i].offset, hr, cases[i].hr);
        if (hr == 0)
            cr_expect_eq(resp.count, ++answered, "refused requests must not count");
    }
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), answered);
    cr_expect_eq(env.host->stats.errors, 5);
    cr_expect_eq(env.host->stats.apps[th_app(&env, "windows")].refused, 5);
    /* The host clock moves: a request 5 h ahead becomes fine once the host is 2 h ahead. */
    struct kms_request req = th_req(&env, "win10-pro", 99, TH_T0 + 5 * TH_HOUR);
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_INVALID_TIMESTAMP);
    env.now = TH_T0 + 2 * TH_HOUR;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), 0);
    th_teardown(&env);
}

/* ---- refusals ---- */

static struct guid th_kms_id(const struct th_env *env, const char *key)
{
    const struct catalog_kms *k = catalog_find_kms(&env->cat, key);
    cr_assert_not_null(k, "no KMS group %s", key);
    return k->id;
}

Test(host, products_outside_the_host_key_are_refused)
{
    struct th_env env;
    th_setup(&env);
    /* A key covering Windows up to Server 2019 and Office 2019, not Server 2022. */
    struct guid covered[] = {th_kms_id(&env, "win10"), th_kms_id(&env, "ws2019"),
                             th_kms_id(&env, "ws2016"), th_kms_id(&env, "office2019")};
    env.cfg.covered_kms = covered;
    env.cfg.n_covered_kms = sizeof covered / sizeof covered[0];
    th_start(&env);
    struct kms_request req = th_req(&env, "ws2022-dc", 1, TH_T0);
    struct host_request_record rec;
    uint8_t w[16] = {1}, payload[KMS_REQUEST_MAX];
    size_t len;
    struct proto_err err;
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
    cr_expect_eq(th_ask_raw(&env, &req, payload, len, w, NULL, &rec), HR_KMS_ID_MISMATCH);
    cr_expect(rec.decoded);
    cr_expect_eq(rec.app, (int)th_app(&env, "windows"));
    req = th_req(&env, "ws2025-std", 2, TH_T0);
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    req = th_req(&env, "office2021-proplus", 3, TH_T0);
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    cr_expect_eq(th_count(&env, "ws2019-dc", 4, TH_T0), 1, "refusals did not count");
    cr_expect_eq(th_count(&env, "win10-pro", 5, TH_T0), 2);
    cr_expect_eq(th_count(&env, "office2019-std", 6, TH_T0), 1);
    th_teardown(&env);
}

Test(host, default_host_refuses_retail_accepts_every_volume_group)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    unsigned refused = 0, accepted = 0;
    for (size_t i = 0; i < env.cat.n_kms; i++) {
        const struct catalog_kms *k = &env.cat.kms[i];
        struct kms_request req = th_req(&env, "win10-pro", 200 + (unsigned)i, TH_T0);
        req.kms_id = k->id;
        req.app_id = env.cat.apps[k->app].id;
        req.major = (uint16_t)k->protocol;
        uint32_t hr = th_ask(&env, &req, NULL, NULL);
        if (k->retail) {
            cr_expect_eq(hr, HR_KMS_ID_MISMATCH, "retail %s must be refused", k->key);
            refused++;
        } else {
            cr_expect_eq(hr, 0, "volume group %s refused with 0x%08x", k->key, hr);
            accepted++;
        }
    }
    cr_expect_geq(refused, 1, "the catalogue has a retail group (win10-retail)");
    cr_expect_geq(accepted, 20);
    struct kms_request req = th_req(&env, "win10-pro", 999, TH_T0);
    req.kms_id = th_kms_id(&env, "win10-retail");
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    th_teardown(&env);
}

Test(host, unknown_kms_id_and_wrong_app_id_are_refused)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    cr_assert_eq(guid_parse("01234567-89ab-4cde-8f01-23456789abcd", &req.kms_id), 0);
    struct host_request_record rec;
    uint8_t w[16] = {7}, payload[KMS_REQUEST_MAX];
    size_t len;
    struct proto_err err;
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
    cr_expect_eq(th_ask_raw(&env, &req, payload, len, w, NULL, &rec), HR_KMS_ID_MISMATCH);
    cr_expect_eq(rec.app, -1, "an unknown KMS ID names no application");
    /* Windows 10 KMS ID sent with Office's AppID, and Office 2019's with Windows' AppID. */
    req = th_req(&env, "win10-pro", 2, TH_T0);
    req.app_id = env.cat.apps[th_app(&env, "office2013")].id;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    req = th_req(&env, "office2019-proplus", 3, TH_T0);
    req.app_id = env.cat.apps[th_app(&env, "windows")].id;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    req = th_req(&env, "office2019-proplus", 4, TH_T0);
    req.app_id = env.cat.apps[th_app(&env, "office2010")].id;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 0);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "office2013")), 0);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "office2010")), 0);
    cr_expect_eq(env.host->stats.errors, 4);
    th_teardown(&env);
}

Test(host, bad_versions_are_invalid_data)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct {
        uint16_t major, minor;
    } bad[] = {{7, 0}, {3, 0}, {6, 1}, {5, 1}, {4, 1}, {0, 0}, {65535, 0}};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct kms_request req = th_req(&env, "win10-pro", i, TH_T0);
        req.major = bad[i].major;
        req.minor = bad[i].minor;
        struct host_request_record rec;
        uint8_t w[16], payload[KMS_REQUEST_MAX];
        size_t len;
        struct proto_err err;
        pcg32_fill(&env.rng, w, 16);
        cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0,
                     "encode %u.%u: %s", bad[i].major, bad[i].minor, err.detail);
        cr_expect_eq(len, bad[i].major < 5 ? KMS_V4_REQUEST_LEN : KMS_V5_REQUEST_LEN);
        cr_expect_eq(th_ask_raw(&env, &req, payload, len, w, NULL, &rec), HR_INVALID_DATA,
                     "version %u.%u", bad[i].major, bad[i].minor);
        cr_expect_not(rec.decoded);
        /* A known major with a minor other than 0 is refused as vlmcsd does, and said to be
         * vlmcsd's convention; an unknown major is invalid data by any rule. */
        bool minor_rule = bad[i].minor != 0 && bad[i].major >= 4 && bad[i].major <= 6;
        /* Compared as text: a string literal need not have one address across files. */
        if (minor_rule)
            cr_expect(rec.convention && strcmp(rec.convention, HOST_CONVENTION_MINOR) == 0,
                      "version %u.%u: convention %s", bad[i].major, bad[i].minor,
                      rec.convention ? rec.convention : "(none)");
        else
            cr_expect_null(rec.convention, "version %u.%u", bad[i].major, bad[i].minor);
    }
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 0);
    /* Truncated and empty payloads too. */
    uint8_t payload[KMS_REQUEST_MAX], w[16] = {0};
    size_t len;
    struct proto_err err;
    struct kms_request req = th_req(&env, "win10-pro", 50, TH_T0);
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
    cr_expect_eq(th_ask_raw(&env, &req, payload, len - 1, w, NULL, NULL), HR_INVALID_DATA);
    cr_expect_eq(th_ask_raw(&env, &req, payload, 3, w, NULL, NULL), HR_INVALID_DATA);
    cr_expect_eq(th_ask_raw(&env, &req, payload, 0, w, NULL, NULL), HR_INVALID_DATA);
    th_teardown(&env);
}

Test(host, n_policy_above_1000_is_invalid_data)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    req.n_policy = 1001;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_INVALID_DATA);
    /* vlmcsd's rule, labelled so in the host's log (no Microsoft source). */
    uint8_t w[16] = {0}, payload[KMS_REQUEST_MAX];
    size_t len;
    struct proto_err perr;
    struct host_request_record rec;
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &perr), 0);
    cr_expect_eq(th_ask_raw(&env, &req, payload, len, w, NULL, &rec), HR_INVALID_DATA);
    cr_expect(rec.convention && strcmp(rec.convention, HOST_CONVENTION_N_POLICY) == 0);
    req.n_policy = 0xffffffffu;
    cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_INVALID_DATA);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 0);
    cr_expect_eq(client_cache_capacity(&env.host->caches[th_app(&env, "windows")]), 1,
                 "a refused N_Policy must not grow the cache");
    req.n_policy = 1000;
    struct kms_response resp;
    cr_expect_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect_eq(resp.count, 1);
    req.n_policy = 0;
    req.cmid = th_cmid(2);
    cr_expect_eq(th_ask(&env, &req, &resp, NULL), 0, "N_Policy 0 is fine");
    th_teardown(&env);
}

Test(host, v4_mac_is_checked_only_in_strict_mode)
{
    for (int strict = 0; strict <= 1; strict++) {
        struct th_env env;
        th_setup(&env);
        env.cfg.strict_v4_mac = strict;
        th_start(&env);
        struct kms_request req = th_req(&env, "win7-pro", 1, TH_T0);
        cr_assert_eq(req.major, 4);
        uint8_t w[16] = {0}, payload[KMS_REQUEST_MAX];
        size_t len;
        struct proto_err err;
        cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
        cr_assert_eq(len, KMS_V4_REQUEST_LEN);
        struct kms_response resp;
        cr_expect_eq(th_ask_raw(&env, &req, payload, len, w, &resp, NULL), 0,
                     "a correct MAC is always accepted (strict=%d)", strict);
        payload[KMS_V4_REQUEST_LEN - 1] ^= 0x01; /* last byte of the MAC; the base is intact */
        uint32_t hr = th_ask_raw(&env, &req, payload, len, w, &resp, NULL);
        if (strict) {
            cr_expect_eq(hr, HR_INVALID_DATA, "strict host refuses a broken MAC");
        } else {
            cr_expect_eq(hr, 0, "lax host ignores the MAC, as vlmcsd does");
            cr_expect_eq(resp.count, 1, "same CMID: a repeat");
        }
        payload[KMS_V4_REQUEST_LEN - 1] ^= 0x01;
        payload[KMS_REQUEST_BASE_LEN] ^= 0x80; /* first byte of the MAC */
        hr = th_ask_raw(&env, &req, payload, len, w, &resp, NULL);
        cr_expect_eq(hr, strict ? HR_INVALID_DATA : 0, "strict=%d", strict);
        cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 1);
        cr_expect_eq(env.host->stats.errors, strict ? 2u : 0u);
        th_teardown(&env);
    }
}

/* ---- what a full response carries ---- */

Test(host, v4_v5_v6_are_answered_with_the_configured_intervals)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.activation_interval = 45;
    env.cfg.renewal_interval = 2880;
    th_start(&env);
    const char *skus[] = {"win7-pro", "win8-pro", "win10-pro"};
    for (unsigned major = 4; major <= 6; major++) {
        /* Each SKU at its own protocol, and win10-pro forced to every protocol. */
        for (int forced = 0; forced <= 1; forced++) {
            struct kms_request req =
                th_req(&env, forced ? "win10-pro" : skus[major - 4], major * 10 + forced, TH_T0);
            if (!forced)
                cr_assert_eq(req.major, major, "%s speaks V%u", skus[major - 4], major);
            req.major = (uint16_t)major;
            struct kms_response resp;
            cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0, "V%u", major);
            cr_expect_eq(resp.major, major);
            cr_expect_eq(resp.minor, 0);
            cr_expect_eq(resp.activation_interval, 45);
            cr_expect_eq(resp.renewal_interval, 2880);
            cr_expect(guid_equal(&resp.cmid, &req.cmid));
            cr_expect_eq(resp.client_time, req.client_time);
        }
    }
    th_teardown(&env);
}

Test(host, intervals_outside_15m_30d_are_rejected_at_init)
{
    struct th_env env;
    th_setup(&env);
    char err[256] = "";
    struct kms_host *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    env.cfg.activation_interval = 14;
    cr_expect_eq(host_init(h, &env.cfg, err, sizeof err), -1);
    cr_expect(strstr(err, "interval") != NULL, "message: %s", err);
    env.cfg.activation_interval = 120;
    env.cfg.renewal_interval = 43201;
    cr_expect_eq(host_init(h, &env.cfg, err, sizeof err), -1);
    env.cfg.renewal_interval = 43200;
    cr_expect_eq(host_init(h, &env.cfg, err, sizeof err), 0, "%s", err);
    free(h);
    th_teardown(&env);
}

static bool th_epid_matches(const char *epid, const char *pattern)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, epid, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

Test(host, epid_and_hwid_are_constant_per_application)
{
    struct th_env env;
    th_setup(&env);
    static const uint8_t hwid[8] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    memcpy(env.cfg.hwid, hwid, 8);
    th_start(&env);
    struct kms_response resp;
    char win_epid[sizeof resp.epid] = "", office_epid[sizeof resp.epid] = "";
    /* Every group the usual key (Windows Server 2019) activates answers with its ePID. */
    const char *win_skus[] = {"win10-pro", "ws2019-dc", "ws2016-std", "win7-pro", "win8-pro"};
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 5; i++) {
            struct kms_request req = th_req(&env, win_skus[i], round * 10 + i, TH_T0);
            cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
            if (!win_epid[0])
                strcpy(win_epid, resp.epid);
            cr_expect_str_eq(resp.epid, win_epid, "Windows ePID changed for %s", win_skus[i]);
            if (resp.major == 6)
                cr_expect_arr_eq(resp.hwid, hwid, 8, "HwId as configured");
        }
        struct kms_request req = th_req(&env, "office2019-proplus", round, TH_T0);
        cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
        if (!office_epid[0])
            strcpy(office_epid, resp.epid);
        cr_expect_str_eq(resp.epid, office_epid);
        cr_expect_arr_eq(resp.hwid, hwid, 8);
    }
    cr_expect_str_neq(win_epid, office_epid, "Windows and Office keys differ");
    /* Default build 17763 → platform 03612; Server 2019 CSVLK group 206, key 551000000..570999999;
     * volume channel 03; LCID 1033; date DDDYYYY. */
    cr_expect(th_epid_matches(win_epid,
                              "^03612-00206-5[5-7][0-9]-[0-9]{6}-03-1033-17763\\.0000-"
                              "(00[1-9]|0[1-9][0-9]|[1-2][0-9][0-9]|3[0-6][0-9])20[0-9]{2}$"),
              "Windows ePID %s", win_epid);
    cr_expect(th_epid_matches(office_epid, "^03612-00206-[0-9]{3}-[0-9]{6}-03-1033-17763\\.0000-"
                                           "[0-9]{7}$"),
              "Office ePID %s", office_epid);
    struct kms_request req = th_req(&env, "office2010-proplus", 1, TH_T0);
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect(th_epid_matches(resp.epid, "^03612-00096-(199|2[01][0-9])-[0-9]{6}-03-1033-17763\\."
                                         "0000-[0-9]{7}$"),
              "Office 2010 ePID %s", resp.epid);
    th_teardown(&env);
}

Test(host, epid_follows_build_and_lcid)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.host_build = 9600;
    env.cfg.lcid = 10249;
    th_start(&env);
    struct kms_response resp;
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect(th_epid_matches(resp.epid, "^06401-00206-[0-9]{3}-[0-9]{6}-03-10249-9600\\.0000-"
                                         "[0-9]{7}$"),
              "ePID %s", resp.epid);
    char text[64];
    host_epid_format(text, sizeof text, 7601, 96, 215326455UL, 10249, 174, 2020);
    cr_expect_str_eq(text, "55041-00096-215-326455-03-10249-7601.0000-1742020");
    host_epid_format(text, sizeof text, 9200, 206, 565823180UL, 1033, 2, 2026);
    cr_expect_str_eq(text, "05426-00206-565-823180-03-1033-9200.0000-0022026");
    th_teardown(&env);
}

Test(host, enterprise_g_is_answered_with_the_china_government_key)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct kms_response resp;
    struct kms_request req = th_req(&env, "win10-ent-g", 1, TH_T0);
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect(th_epid_matches(resp.epid, "^03612-03858-[0-9]{3}-[0-9]{6}-03-1033-17763\\."),
              "Enterprise G ePID %s", resp.epid);
    th_teardown(&env);
}

Test(host, host_keys_cover_exactly_what_they_activate)
{
    struct th_env env;
    th_setup(&env);
    struct host_keys keys;
    char err[256];
    cr_assert_eq(host_keys_parse(&env.cat, "ws2012r2,office2016", &keys, err, sizeof err), 0, "%s",
                 err);
    env.cfg.host_keys = &keys;
    th_start(&env);
    cr_expect_eq(env.host->cfg.host_build, 9600, "the newest OS that carries both keys");
    struct kms_response resp;
    static const char *const covered[] = {"ws2012r2-std",      "win81-pro",    "ws2012-dc",
                                          "win7-ent",          "ws2008r2-ent", "vista-business",
                                          "office2016-proplus"};
    for (size_t i = 0; i < sizeof covered / sizeof covered[0]; i++) {
        struct kms_request req = th_req(&env, covered[i], (unsigned)i, TH_T0);
        cr_expect_eq(th_ask(&env, &req, &resp, NULL), 0, "%s", covered[i]);
    }
    struct kms_request req = th_req(&env, "ws2012r2-std", 100, TH_T0);
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect(th_epid_matches(resp.epid, "^06401-00206-(2[7-9][0-9]|30[0-9]|310)-[0-9]{6}-03-1033-"
                                         "9600\\.0000-"),
              "Server 2012 R2 CSVLK ePID %s", resp.epid);
    static const char *const refused[] = {"ws2016-std",        "win10-pro",   "ws2022-std",
                                          "ws2025-dc",         "win10-ent-g", "office2019-proplus",
                                          "office2013-proplus"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        req = th_req(&env, refused[i], 200 + (unsigned)i, TH_T0);
        cr_expect_eq(th_ask(&env, &req, NULL, NULL), HR_KMS_ID_MISMATCH, "%s", refused[i]);
    }
    th_teardown(&env);
}

Test(host, no_ndr64_means_a_build_before_9200)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.rpc.ndr64 = false;
    th_start(&env);
    cr_expect_eq(env.host->cfg.host_build, 7601);
    struct kms_response resp;
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    cr_assert_eq(th_ask(&env, &req, &resp, NULL), 0);
    cr_expect(th_epid_matches(resp.epid, "^55041-.*-7601\\.0000-"), "ePID %s", resp.epid);
    /* A build with NDR64 in its ePID is refused outright. */
    struct kms_host *h = malloc(sizeof *h);
    char err[256] = "";
    env.cfg.host_build = 17763;
    cr_expect_eq(host_init(h, &env.cfg, err, sizeof err), -1);
    cr_expect(strstr(err, "NDR64"), "%s", err);
    free(h);
    th_teardown(&env);
}

Test(host, v6_response_iv_is_fresh_v5_echoes_it)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    for (unsigned i = 0; i < 20; i++) {
        struct kms_response resp;
        uint8_t w[16];
        struct kms_request req = th_req(&env, "win10-pro", i, TH_T0);
        req.major = 6;
        cr_assert_eq(th_ask(&env, &req, &resp, w), 0);
        cr_expect_arr_neq(resp.w_resp, w, 16, "V6 W_resp must differ from W_req");
        req.major = 5;
        cr_assert_eq(th_ask(&env, &req, &resp, w), 0);
        cr_expect_arr_eq(resp.w_resp, w, 16, "V5 W_resp must echo W_req");
    }
    /* Two V6 answers to the same request bytes differ (fresh R and W_resp). */
    struct kms_request req = th_req(&env, "win10-pro", 500, TH_T0);
    uint8_t w[16] = {9}, payload[KMS_REQUEST_MAX], out1[KMS_RESPONSE_MAX], out2[KMS_RESPONSE_MAX];
    size_t len, l1, l2;
    struct proto_err err;
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
    cr_assert_eq(host_handle_payload(env.host, payload, len, out1, sizeof out1, &l1, NULL), 0);
    cr_assert_eq(host_handle_payload(env.host, payload, len, out2, sizeof out2, &l2, NULL), 0);
    cr_expect_eq(l1, l2);
    cr_expect_neq(memcmp(out1, out2, l1), 0);
    th_teardown(&env);
}

/* ---- host_session: RPC over the host ---- */

static enum host_action th_feed(struct th_env *env, struct host_session *s, const uint8_t *pdu,
                                size_t len, uint8_t *out, size_t *out_len, bool *is_request,
                                struct host_request_record *rec)
{
    struct proto_err err = {0};
    bool local_is_request;
    return host_session_feed(env->host, s, pdu, len, out, RPC_MAX_PDU, out_len, rec,
                             is_request ? is_request : &local_is_request, &err);
}

/* BIND with [NDR32, NDR64, BTFN] and the host's answer. */
static void th_bind(struct th_env *env, struct host_session *s, struct rpc_bind_ack *ack)
{
    struct client_session ex;
    struct client_session_options opt;
    client_session_options_default(&opt);
    struct kms_request req = th_req(env, "win10-pro", 1, TH_T0);
    uint8_t bind[RPC_MAX_PDU], out[RPC_MAX_PDU], w[16] = {0};
    size_t len, out_len = 0;
    struct proto_err err = {0};
    cr_assert_eq(client_session_begin(&ex, &opt, &req, w, bind, sizeof bind, &len, &err), 0);
    bool is_request = true;
    cr_assert_eq(th_feed(env, s, bind, len, out, &out_len, &is_request, NULL), HOST_ACTION_SEND);
    cr_expect_not(is_request);
    cr_assert_eq(rpc_bind_ack_decode(out, out_len, ack, &err), 0, "%s", err.detail);
    cr_expect_eq(ack->ptype, RPC_BIND_ACK);
    cr_expect_eq(ack->call_id, 2);
    cr_expect_str_eq(ack->sec_addr, "1688");
    cr_expect_neq(ack->assoc_group, 0);
    cr_assert_eq(ack->n_results, 3);
}

Test(host, bind_negotiation_with_ndr64_on)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct host_session s;
    host_session_init(&s, 1688);
    struct rpc_bind_ack ack;
    th_bind(&env, &s, &ack);
    cr_expect_eq(ack.results[0].result, RPC_PROVIDER_REJECTION, "NDR32 refused next to NDR64");
    cr_expect_eq(ack.results[0].reason, RPC_REASON_TRANSFER);
    cr_expect_eq(ack.results[1].result, RPC_ACCEPTANCE);
    cr_expect_eq(ack.results[1].reason, 0);
    cr_expect(guid_equal(&ack.results[1].transfer_syntax, &rpc_syntax_ndr64));
    cr_expect_eq(ack.results[1].transfer_version, 1);
    cr_expect_eq(ack.results[2].result, RPC_NEGOTIATE_ACK);
    cr_expect_eq(ack.results[2].reason, 3, "BTFN features 0x0003 acknowledged");
    cr_expect_eq(s.ndr64_context, 1);
    cr_expect_eq(s.ndr32_context, -1);
    th_teardown(&env);
}

Test(host, bind_negotiation_with_ndr64_off)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.rpc.ndr64 = false;
    th_start(&env);
    struct host_session s;
    host_session_init(&s, 1688);
    struct rpc_bind_ack ack;
    th_bind(&env, &s, &ack);
    cr_expect_eq(ack.results[0].result, RPC_ACCEPTANCE);
    cr_expect_eq(ack.results[0].reason, 0);
    cr_expect(guid_equal(&ack.results[0].transfer_syntax, &rpc_syntax_ndr32));
    cr_expect_eq(ack.results[0].transfer_version, 2);
    cr_expect_eq(ack.results[1].result, RPC_PROVIDER_REJECTION);
    cr_expect_eq(ack.results[1].reason, RPC_REASON_TRANSFER);
    cr_expect_eq(ack.results[2].result, RPC_NEGOTIATE_ACK);
    cr_expect_eq(ack.results[2].reason, 3);
    cr_expect_eq(s.ndr32_context, 0);
    cr_expect_eq(s.ndr64_context, -1);
    th_teardown(&env);
}

Test(host, bind_without_btfn_support_rejects_the_btfn_item)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.rpc.btfn = false;
    th_start(&env);
    struct host_session s;
    host_session_init(&s, 1688);
    struct rpc_bind_ack ack;
    th_bind(&env, &s, &ack);
    cr_expect_eq(ack.results[2].result, RPC_PROVIDER_REJECTION);
    cr_expect_eq(ack.results[2].reason, RPC_REASON_TRANSFER);
    cr_expect_eq(ack.results[1].result, RPC_ACCEPTANCE);
    th_teardown(&env);
}

static void th_expect_fault(const uint8_t *out, size_t out_len, uint32_t call_id, uint32_t status)
{
    struct rpc_reply reply;
    struct proto_err err = {0};
    cr_assert_eq(out[2], RPC_FAULT, "PDU type %u, expected FAULT", out[2]);
    cr_assert_eq(rpc_reply_decode(out, out_len, RPC_NDR32, call_id, 0, &reply, &err), 0, "%s",
                 err.detail);
    cr_expect(reply.is_fault);
    cr_expect_eq(reply.call_id, call_id);
    cr_expect_eq(reply.status, status, "fault status 0x%08x, expected 0x%08x", reply.status,
                 status);
}

Test(host, request_on_an_unbound_context_gets_a_fault)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct host_session s;
    host_session_init(&s, 1688);
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    uint8_t w[16] = {0}, payload[KMS_REQUEST_MAX], pdu[RPC_MAX_PDU], out[RPC_MAX_PDU];
    size_t len, pdu_len, out_len = 0;
    struct proto_err err;
    cr_assert_eq(kms_request_encode(&req, w, payload, sizeof payload, &len, &err), 0);
    cr_assert_eq(rpc_request_encode(2, 0, RPC_NDR32, payload, len, pdu, sizeof pdu, &pdu_len, &err),
                 0);
    bool is_request = false;
    cr_assert_eq(th_feed(&env, &s, pdu, pdu_len, out, &out_len, &is_request, NULL),
                 HOST_ACTION_SEND);
    cr_expect(is_request);
    th_expect_fault(out, out_len, 2, RPC_FAULT_UNKNOWN_IF);
    /* After a BIND granting NDR64 as context 1, context 0 and 5 are still unknown. */
    struct rpc_bind_ack ack;
    th_bind(&env, &s, &ack);
    cr_assert_eq(rpc_request_encode(3, 5, RPC_NDR64, payload, len, pdu, sizeof pdu, &pdu_len, &err),
                 0);
    cr_assert_eq(th_feed(&env, &s, pdu, pdu_len, out, &out_len, NULL, NULL), HOST_ACTION_SEND);
    th_expect_fault(out, out_len, 3, RPC_FAULT_UNKNOWN_IF);
    cr_assert_eq(rpc_request_encode(4, 0, RPC_NDR32, payload, len, pdu, sizeof pdu, &pdu_len, &err),
                 0);
    cr_assert_eq(th_feed(&env, &s, pdu, pdu_len, out, &out_len, NULL, NULL), HOST_ACTION_SEND);
    th_expect_fault(out, out_len, 4, RPC_FAULT_UNKNOWN_IF);
    /* A wrong opnum on the bound context is out of range. */
    cr_assert_eq(rpc_request_encode(5, 1, RPC_NDR64, payload, len, pdu, sizeof pdu, &pdu_len, &err),
                 0);
    pdu[22] = 1; /* opnum */
    cr_assert_eq(th_feed(&env, &s, pdu, pdu_len, out, &out_len, NULL, NULL), HOST_ACTION_SEND);
    th_expect_fault(out, out_len, 5, RPC_FAULT_OP_RANGE);
    cr_expect_eq(env.host->stats.faults, 4);
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 0, "faults do not count");
    th_teardown(&env);
}

Test(host, garbage_pdus_close_the_connection)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct host_session s;
    host_session_init(&s, 1688);
    uint8_t out[RPC_MAX_PDU];
    size_t out_len;
    /* Well-formed headers of PDU types a host never accepts. */
    const uint8_t ptypes[] = {
        RPC_RESPONSE, RPC_FAULT, RPC_BIND_ACK, RPC_BIND_NAK, RPC_ALTER_CONTEXT_RESP, 1,
        16,           19,        99,           255};
    for (unsigned i = 0; i < sizeof ptypes; i++) {
        uint8_t pdu[32] = {5, 0, ptypes[i], 3, 0x10, 0, 0, 0, 32, 0, 0, 0, 2, 0, 0, 0};
        cr_expect_eq(th_feed(&env, &s, pdu, sizeof pdu, out, &out_len, NULL, NULL),
                     HOST_ACTION_CLOSE, "PDU type %u", ptypes[i]);
    }
    /* Too short, and a BIND / REQUEST whose body is nonsense. */
    uint8_t shortpdu[10] = {5, 0, RPC_BIND, 3};
    cr_expect_eq(th_feed(&env, &s, shortpdu, sizeof shortpdu, out, &out_len, NULL, NULL),
                 HOST_ACTION_CLOSE);
    uint8_t bind[20] = {5, 0, RPC_BIND, 3, 0x10, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 0xff};
    cr_expect_eq(th_feed(&env, &s, bind, sizeof bind, out, &out_len, NULL, NULL),
                 HOST_ACTION_CLOSE);
    uint8_t request[18] = {5, 0, RPC_REQUEST, 3, 0x10, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0};
    cr_expect_eq(th_feed(&env, &s, request, sizeof request, out, &out_len, NULL, NULL),
                 HOST_ACTION_CLOSE);
    /* Random bytes never crash the session. */
    struct pcg32 rng;
    pcg32_seed(&rng, 42, 42);
    for (unsigned i = 0; i < 2000; i++) {
        uint8_t junk[300];
        size_t n = 16 + pcg32_bounded(&rng, sizeof junk - 16);
        pcg32_fill(&rng, junk, n);
        if (i % 2) {
            junk[0] = 5;
            junk[1] = 0;
            junk[2] = (uint8_t)(i % 4 == 1 ? RPC_BIND : RPC_REQUEST);
        }
        bool is_request;
        (void)th_feed(&env, &s, junk, n, out, &out_len, &is_request, NULL);
    }
    cr_expect_eq(host_app_count(env.host, th_app(&env, "windows")), 0);
    th_teardown(&env);
}

/* Runs a whole client exchange (exchange.h) against a host session; returns the result. */
static struct client_session_result th_converse(struct th_env *env, struct host_session *s,
                                                struct client_session *ex,
                                                const struct client_session_options *opt,
                                                const struct kms_request *req, bool first)
{
    uint8_t pdu[RPC_MAX_PDU], out[RPC_MAX_PDU], w[16];
    size_t len = 0, out_len = 0;
    struct proto_err err = {0};
    pcg32_fill(&env->rng, w, sizeof w);
    if (first)
        cr_assert_eq(client_session_begin(ex, opt, req, w, pdu, sizeof pdu, &len, &err), 0, "%s",
                     err.detail);
    else
        cr_assert_eq(client_session_next_request(ex, req, w, pdu, sizeof pdu, &len, &err), 0, "%s",
                     err.detail);
    for (int round = 0; round < 5; round++) {
        cr_assert_eq(th_feed(env, s, pdu, len, out, &out_len, NULL, NULL), HOST_ACTION_SEND);
        if (client_session_receive(ex, out, out_len, pdu, sizeof pdu, &len) == CLIENT_SESSION_DONE)
            return ex->result;
    }
    cr_assert_fail("exchange did not finish");
    return ex->result;
}

Test(host, several_requests_on_one_session)
{
    struct th_env env;
    th_setup(&env);
    th_start(&env);
    struct client_session_options opt;
    client_session_options_default(&opt);
    opt.alter_context = true; /* NDR32 first, NDR64 afterwards, as Windows does */
    struct host_session s;
    host_session_init(&s, 1688);
    struct client_session ex;
    struct kms_request req = th_req(&env, "win10-pro", 1, TH_T0);
    struct client_session_result r = th_converse(&env, &s, &ex, &opt, &req, true);
    cr_assert_eq(r.outcome, KMS_OUTCOME_BELOW_THRESHOLD, "%s", r.err.detail);
    cr_expect_eq(r.response.count, 1);
    cr_expect_eq(r.ndr, RPC_NDR32);
    cr_expect_eq(r.call_id, 2);
    req = th_req(&env, "ws2019-dc", 2, TH_T0);
    r = th_converse(&env, &s, &ex, &opt, &req, false);
    cr_assert_eq(r.outcome, KMS_OUTCOME_BELOW_THRESHOLD, "%s", r.err.detail);
    cr_expect_eq(r.response.count, 2);
    cr_expect_eq(r.ndr, RPC_NDR64, "second request over NDR64");
    cr_expect_eq(r.call_id, 3);
    req = th_req(&env, "win10-pro", 1, TH_T0);
    r = th_converse(&env, &s, &ex, &opt, &req, false);
    cr_expect_eq(r.response.count, 2, "repeat on the same connection");
    cr_expect_eq(r.call_id, 4);
    req = th_req(&env, "win10-pro", 3, TH_T0);
    req.major = 7;
    r = th_converse(&env, &s, &ex, &opt, &req, false);
    cr_expect_eq(r.outcome, KMS_OUTCOME_HOST_ERROR);
    cr_expect_eq(r.hresult, HR_INVALID_DATA);
    req = th_req(&env, "office2010-proplus", 3, TH_T0);
    r = th_converse(&env, &s, &ex, &opt, &req, false);
    cr_expect_eq(r.outcome, KMS_OUTCOME_BELOW_THRESHOLD, "session usable after an HRESULT");
    cr_expect_eq(r.response.count, 1);
    th_teardown(&env);
}

/* ---- captured third-party requests replayed through a session ---- */

struct th_vector {
    const char *name;
    bool host_ndr64;
    unsigned ndr32, ndr64; /* requests expected over each syntax */
};

static const struct th_vector th_vectors[] = {
    {"v4", true, 1, 0},
    {"v5", true, 1, 0},
    {"v6", true, 1, 0},
    {"v4_ndr64", true, 1, 1},
    {"v5_ndr64", true, 1, 1},
    {"v6_ndr64", true, 1, 1},
    {"v4_pad2", true, 1, 1},
    {"v6_ndr32_only_bind", true, 1, 0},
    {"v6_host_ndr64_off", false, 2, 0},
    {"counting", true, 6, 0},
    {"err_bad_version", true, 1, 0},
    {"err_bad_version_3", true, 1, 0},
    {"err_bad_version_ndr64", true, 1, 1},
    {"err_unknown_kmsid", true, 1, 0},
    {"err_npolicy_too_large", true, 1, 0},
};

struct th_replay_totals {
    unsigned answered_by_major[7];
    unsigned answered_by_ndr[2];
    unsigned errors;
};

static void th_compare_acks(const char *name, int line, const uint8_t *ours, size_t ours_len,
                            const struct vf_pdu *theirs)
{
    struct rpc_bind_ack a, b;
    struct proto_err err = {0};
    cr_assert_eq(rpc_bind_ack_decode(ours, ours_len, &a, &err), 0, "%s line %d: %s", name, line,
                 err.detail);
    cr_assert_eq(rpc_bind_ack_decode(theirs->data, theirs->len, &b, &err), 0,
                 "%s line %d capture: %s", name, theirs->line, err.detail);
    cr_expect_eq(a.ptype, b.ptype, "%s line %d", name, line);
    cr_expect_eq(a.call_id, b.call_id, "%s line %d", name, line);
    cr_expect_eq(a.flags, b.flags, "%s line %d: flags 0x%02x, vlmcsd 0x%02x", name, line, a.flags,
                 b.flags);
    cr_expect_str_eq(a.sec_addr, b.sec_addr, "%s line %d", name, line);
    cr_assert_eq(a.n_results, b.n_results, "%s line %d", name, line);
    for (unsigned i = 0; i < a.n_results; i++) {
        cr_expect_eq(a.results[i].result, b.results[i].result, "%s line %d item %u", name, line, i);
        cr_expect_eq(a.results[i].reason, b.results[i].reason, "%s line %d item %u", name, line, i);
        if (a.results[i].result == RPC_ACCEPTANCE)
            cr_expect(guid_equal(&a.results[i].transfer_syntax, &b.results[i].transfer_syntax));
    }
}

static void th_replay(const struct th_vector *v, struct th_replay_totals *tot)
{
    struct th_env env;
    th_setup(&env);
    env.cfg.clock_mode = HOST_CLOCK_CLIENT; /* the capture's time is accepted whenever we run */
    env.cfg.rpc.ndr64 = v->host_ndr64;
    env.cfg.strict_v4_mac = true; /* a third-party client's V4 MACs must be right */
    th_start(&env);
    struct vector_file vf;
    char err[512] = "";
    int rc = vector_load(KMSLOAD_TEST_DIR "/vectors", v->name, &vf, err, sizeof err);
    cr_assert_eq(rc, 0, "cannot load vector %s: %s", v->name, err);
    unsigned n32 = 0, n64 = 0;
    for (size_t si = 0; si < vf.n_streams; si++) {
        const struct vf_stream *st = &vf.streams[si];
        struct host_session s;
        host_session_init(&s, 11688);
        for (size_t pi = 0; pi < st->n_pdus; pi++) {
            const struct vf_pdu *p = &st->pdus[pi];
            if (!p->c2s)
                continue;
            cr_assert(pi + 1 < st->n_pdus && !st->pdus[pi + 1].c2s,
                      "%s line %d: no captured answer follows", v->name, p->line);
            const struct vf_pdu *theirs = &st->pdus[pi + 1];
            uint8_t out[RPC_MAX_PDU];
            size_t out_len = 0;
            bool is_request = false;
            struct host_request_record rec;
            enum host_action act =
                th_feed(&env, &s, p->data, p->len, out, &out_len, &is_request, &rec);
            cr_assert_eq(act, HOST_ACTION_SEND, "%s line %d: host closed", v->name, p->line);
            cr_expect_eq(out[2], theirs->data[2],
                         "%s line %d: answered with PDU type %u, vlmcsd %u", v->name, p->line,
                         out[2], theirs->data[2]);
            if (!is_request) {
                th_compare_acks(v->name, p->line, out, out_len, theirs);
                continue;
            }
            /* Decode the request as the host saw it, then the answer as the client would. */
            struct rpc_request rr;
            struct proto_err perr = {0};
            cr_assert_eq(rpc_request_decode(p->data, p->len, &rr, &perr), 0, "%s", perr.detail);
            enum rpc_ndr ndr = rr.context_id == s.ndr32_context ? RPC_NDR32 : RPC_NDR64;
            cr_assert(rr.context_id == s.ndr32_context || rr.context_id == s.ndr64_context,
                      "%s line %d: request on context %u the host did not grant", v->name, p->line,
                      rr.context_id);
            const uint8_t *kms;
            size_t kms_len;
            cr_assert_eq(rpc_request_payload(&rr, ndr, &kms, &kms_len, &perr), 0, "%s",
                         perr.detail);
            struct kms_request kreq;
            struct kms_request_frame frame;
            bool decodable = kms_request_decode(kms, kms_len, &kreq, &frame, &perr) == 0;
            struct rpc_reply ours, cap;
            cr_assert_eq(
                rpc_reply_decode(out, out_len, ndr, rr.call_id, rr.context_id, &ours, &perr), 0,
                "%s line %d: our reply: %s", v->name, p->line, perr.detail);
            cr_assert_eq(rpc_reply_decode(theirs->data, theirs->len, ndr, rr.call_id, rr.context_id,
                                          &cap, &perr),
                         0, "%s line %d: captured reply: %s", v->name, p->line, perr.detail);
            cr_assert_not(ours.is_fault, "%s line %d: fault 0x%08x", v->name, p->line, ours.status);
            cr_expect_eq(ours.status, cap.status, "%s line %d: HRESULT 0x%08x, vlmcsd 0x%08x",
                         v->name, p->line, ours.status, cap.status);
            cr_expect_eq(ours.kms == NULL, cap.kms == NULL, "%s line %d", v->name, p->line);
            if (ndr == RPC_NDR32)
                n32++;
            else
                n64++;
            if (!ours.kms) {
                tot->errors++;
                continue;
            }
            cr_assert(decodable, "%s line %d: answered an undecodable request", v->name, p->line);
            struct kms_response resp, capresp;
            struct kms_checks checks = {0};
            cr_assert_eq(kms_response_decode(ours.kms, ours.kms_len, &resp, &checks, &perr), 0,
                         "%s line %d: %s", v->name, p->line, perr.detail);
            cr_assert_eq(kms_response_verify(&resp, &kreq, frame.w_req, &checks, &perr), 0,
                         "%s line %d: %s", v->name, p->line, perr.detail);
            cr_expect_eq(resp.major, kreq.major);
            cr_expect_eq(resp.count, rec.count);
            cr_assert_eq(kms_response_decode(cap.kms, cap.kms_len, &capresp, &checks, &perr), 0);
            if (strcmp(v->name, "counting") == 0)
                cr_expect_eq(resp.count, capresp.count,
                             "counting stream %d: count %u, vlmcsd -E1 sent %u", st->number,
                             resp.count, capresp.count);
            tot->answered_by_major[kreq.major]++;
            tot->answered_by_ndr[ndr]++;
        }
    }
    cr_expect_eq(n32, v->ndr32, "%s: %u NDR32 requests, expected %u", v->name, n32, v->ndr32);
    cr_expect_eq(n64, v->ndr64, "%s: %u NDR64 requests, expected %u", v->name, n64, v->ndr64);
    vector_free(&vf);
    th_teardown(&env);
}

Test(host, captured_third_party_requests_are_answered)
{
    struct th_replay_totals tot;
    memset(&tot, 0, sizeof tot);
    for (size_t i = 0; i < sizeof th_vectors / sizeof th_vectors[0]; i++)
        th_replay(&th_vectors[i], &tot);
    cr_expect_geq(tot.answered_by_major[4], 3, "V4 answered");
    cr_expect_geq(tot.answered_by_major[5], 2, "V5 answered");
    cr_expect_geq(tot.answered_by_major[6], 8, "V6 answered");
    cr_expect_geq(tot.answered_by_ndr[RPC_NDR32], 10, "NDR32 answered");
    cr_expect_geq(tot.answered_by_ndr[RPC_NDR64], 4, "NDR64 answered");
    cr_expect_eq(tot.errors, 6, "the err_* vectors' requests get HRESULTs");
}
