/*
 * The reference host on real loopback sockets (127.0.0.1 and ::1, port 0): an in-process
 * host_server and kmsload's own net_client on one event base, plus raw sockets for what the
 * client cannot do (pipelining, silence, garbage, many connections). Every wait is bounded.
 */
#include "catalog.h"
#include "client_session.h"
#include "host.h"
#include "host_faults.h"
#include "host_server.h"
#include "hresult.h"
#include "net.h"
#include "netclient.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HN_GUARD_SECONDS 10 /* no single wait in this file may take longer */
#define HN_MAX_CALLS 32

struct hn_env {
    struct catalog cat;
    struct host_config hcfg;
    struct host_server_config scfg;
    struct kms_host *host;
    struct event_base *base;
    struct host_server *srv;
    struct net_addrs target; /* the first listener */
    struct pcg32 rng;
    unsigned next_cmid;
};

static void hn_init(struct hn_env *env)
{
    char err[512] = "";
    memset(env, 0, sizeof *env);
    signal(SIGPIPE, SIG_IGN); /* writes to sockets the peer reset must not kill the test */
    cr_assert_eq(catalog_parse(&env->cat, catalog_builtin_ini, "built-in", err, sizeof err), 0,
                 "%s", err);
    host_config_default(&env->hcfg, &env->cat);
    host_server_config_default(&env->scfg);
    cr_assert_eq(net_resolve("127.0.0.1", 0, true, &env->scfg.listen, err, sizeof err), 0, "%s",
                 err);
    pcg32_seed(&env->rng, 0xbeef, 3);
    env->next_cmid = 1;
}

static void hn_start(struct hn_env *env)
{
    char err[512] = "";
    env->host = malloc(sizeof *env->host);
    cr_assert_not_null(env->host);
    cr_assert_eq(host_init(env->host, &env->hcfg, err, sizeof err), 0, "%s", err);
    env->base = event_base_new();
    cr_assert_not_null(env->base);
    env->srv = host_server_start(env->base, env->host, &env->scfg, err, sizeof err);
    cr_assert_not_null(env->srv, "host_server_start: %s", err);
    cr_assert_geq(host_server_listener_count(env->srv), 1);
    cr_assert_neq(host_server_port(env->srv), 0, "port 0 must become a real port");
    const struct sockaddr *sa = host_server_listener_addr(env->srv, 0);
    memset(&env->target, 0, sizeof env->target);
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memcpy(&env->target.addr[0], sa, len);
    env->target.len[0] = len;
    env->target.n = 1;
}

static void hn_stop(struct hn_env *env)
{
    if (env->srv)
        host_server_stop(env->srv);
    if (env->base)
        event_base_free(env->base);
    free(env->host);
    catalog_free(&env->cat);
    memset(env, 0, sizeof *env);
}

static uint64_t hn_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A request as a client of the SKU sends it now. */
static struct kms_request hn_req(struct hn_env *env, const char *sku_key, unsigned cmid)
{
    const struct catalog_sku *sku = catalog_find_sku(&env->cat, sku_key);
    cr_assert_not_null(sku, "no SKU %s", sku_key);
    const struct catalog_kms *kms = &env->cat.kms[sku->kms];
    struct kms_request req;
    memset(&req, 0, sizeof req);
    req.major = (uint16_t)kms->protocol;
    req.license_status = KMS_LICENSE_OOB_GRACE;
    req.binding_expiration = 43200;
    req.app_id = env->cat.apps[kms->app].id;
    req.kms_id = kms->id;
    req.sku_id = sku->id;
    req.cmid.b[0] = 0x4e;
    req.cmid.b[7] = 0x40;
    req.cmid.b[8] = 0x80;
    req.cmid.b[14] = (uint8_t)(cmid >> 8);
    req.cmid.b[15] = (uint8_t)cmid;
    req.n_policy = kms->n_policy;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    req.client_time = filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec);
    cr_assert_eq(kms_request_set_workstation(&req, "hn-ws.example.test"), 0);
    return req;
}

/* ---- running net_client exchanges on the shared base ---- */

struct hn_call {
    struct kms_request req;
    struct client_session_options opt;
    struct timeval timeout;
    struct net_client *client;
    struct client_session_result res;
    uint64_t elapsed_us;
    bool done;
    char peer[NET_ADDR_TEXT];
};

struct hn_batch {
    struct event_base *base;
    unsigned pending;
};

struct hn_call_ctx {
    struct hn_batch *batch;
    struct hn_call *call;
};

static void hn_done(struct net_client *client, const struct client_session_result *res, void *arg)
{
    struct hn_call_ctx *ctx = arg;
    ctx->call->res = *res;
    ctx->call->elapsed_us = net_client_elapsed_us(client);
    snprintf(ctx->call->peer, sizeof ctx->call->peer, "%s", net_client_peer(client));
    cr_assert_not(ctx->call->done, "done callback fired twice");
    ctx->call->done = true;
    if (--ctx->batch->pending == 0)
        event_base_loopbreak(ctx->batch->base);
}

static void hn_on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    *(bool *)arg = true;
}

static void hn_call_init(struct hn_call *call, const struct kms_request *req)
{
    memset(call, 0, sizeof *call);
    call->req = *req;
    client_session_options_default(&call->opt);
    call->timeout.tv_sec = 5;
}

/* Starts every call at once, runs the base until all have finished (bounded), frees clients. */
static void hn_run(struct hn_env *env, struct hn_call *calls, size_t n)
{
    struct hn_batch batch = {env->base, (unsigned)n};
    struct hn_call_ctx ctx[HN_MAX_CALLS];
    cr_assert_leq(n, HN_MAX_CALLS);
    for (size_t i = 0; i < n; i++) {
        ctx[i].batch = &batch;
        ctx[i].call = &calls[i];
        struct net_client_params p = {
            .addrs = &env->target, .timeout = calls[i].timeout, .options = calls[i].opt};
        uint8_t w_req[16];
        pcg32_fill(&env->rng, w_req, sizeof w_req);
        calls[i].client = net_client_start(env->base, &p, &calls[i].req, w_req, hn_done, &ctx[i]);
        cr_assert_not_null(calls[i].client);
    }
    bool expired = false;
    struct event *guard = evtimer_new(env->base, hn_on_guard, &expired);
    struct timeval tv = {HN_GUARD_SECONDS, 0};
    evtimer_add(guard, &tv);
    uint64_t start = hn_mono_us();
    while (batch.pending > 0 && !expired &&
           hn_mono_us() - start < (uint64_t)HN_GUARD_SECONDS * 1000000u)
        event_base_loop(env->base, EVLOOP_ONCE);
    event_free(guard);
    for (size_t i = 0; i < n; i++) {
        net_client_free(calls[i].client);
        calls[i].client = NULL;
    }
    cr_assert_eq(batch.pending, 0, "%u client(s) did not finish within %d s", batch.pending,
                 HN_GUARD_SECONDS);
}

static struct client_session_result hn_one(struct hn_env *env, const struct kms_request *req,
                                           const struct client_session_options *opt)
{
    struct hn_call call;
    hn_call_init(&call, req);
    if (opt)
        call.opt = *opt;
    hn_run(env, &call, 1);
    return call.res;
}

static unsigned hn_count(struct hn_env *env, const char *sku, unsigned cmid)
{
    struct kms_request req = hn_req(env, sku, cmid);
    struct client_session_result r = hn_one(env, &req, NULL);
    cr_assert(kms_outcome_has_count(r.outcome), "%s CMID %u: %s (%s)", sku, cmid,
              kms_outcome_name(r.outcome), r.err.detail);
    return r.response.count;
}

/* Runs the base without blocking until pred holds or timeout_ms passes; returns pred's value. */
static bool hn_pump(struct hn_env *env, bool (*pred)(struct hn_env *, void *), void *arg,
                    unsigned timeout_ms)
{
    uint64_t end = hn_mono_us() + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        event_base_loop(env->base, EVLOOP_NONBLOCK);
        if (pred(env, arg))
            return true;
        if (hn_mono_us() >= end)
            return false;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

static bool hn_open_is(struct hn_env *env, void *arg)
{
    return host_server_open_connections(env->srv) == *(unsigned *)arg;
}

static bool hn_wait_open(struct hn_env *env, unsigned n, unsigned timeout_ms)
{
    return hn_pump(env, hn_open_is, &n, timeout_ms);
}

/* ---- raw sockets ---- */

static int hn_raw_connect(struct hn_env *env)
{
    const struct sockaddr *sa = (const struct sockaddr *)&env->target.addr[0];
    int fd = socket(sa->sa_family, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, sa, env->target.len[0]), 0, "connect: %s", strerror(errno));
    cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

static void hn_raw_send(int fd, const void *data, size_t len)
{
    cr_assert_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len, "send: %s", strerror(errno));
}

struct hn_reader {
    int fd;
    uint8_t buf[4 * RPC_MAX_PDU];
    size_t have;
    bool eof;
};

static bool hn_reader_poll(struct hn_env *env, void *arg)
{
    (void)env;
    struct hn_reader *r = arg;
    for (;;) {
        ssize_t got = recv(r->fd, r->buf + r->have, sizeof r->buf - r->have, MSG_DONTWAIT);
        if (got > 0) {
            r->have += (size_t)got;
            continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            r->eof = true;
        break;
    }
    if (r->eof)
        return true;
    if (r->have < RPC_HEADER_LEN)
        return false;
    size_t frag = (size_t)r->buf[8] | (size_t)r->buf[9] << 8;
    return r->have >= frag;
}

/* Reads one whole PDU into out; returns its length, 0 on EOF/reset before a whole PDU, and fails
 * the test on timeout. */
static size_t hn_raw_read_pdu(struct hn_env *env, struct hn_reader *r, uint8_t *out, size_t cap)
{
    cr_assert(hn_pump(env, hn_reader_poll, r, HN_GUARD_SECONDS * 1000), "no answer in time");
    if (r->have < RPC_HEADER_LEN)
        return 0;
    size_t frag = (size_t)r->buf[8] | (size_t)r->buf[9] << 8;
    if (r->have < frag)
        return 0;
    cr_assert_leq(frag, cap);
    memcpy(out, r->buf, frag);
    memmove(r->buf, r->buf + frag, r->have - frag);
    r->have -= frag;
    return frag;
}

static bool hn_eof_poll(struct hn_env *env, void *arg)
{
    struct hn_reader *r = arg;
    hn_reader_poll(env, r);
    return r->eof;
}

/* True when the host closed the raw connection within timeout_ms. */
static bool hn_raw_closed(struct hn_env *env, int fd, unsigned timeout_ms)
{
    struct hn_reader r;
    r.fd = fd;
    r.have = 0;
    r.eof = false;
    return hn_pump(env, hn_eof_poll, &r, timeout_ms);
}

/* ---- counting over TCP ---- */

Test(host_net, counts_one_two_three_over_tcp, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    cr_expect_eq(hn_count(&env, "win10-pro", 1), 1);
    cr_expect_eq(hn_count(&env, "win10-pro", 2), 2);
    cr_expect_eq(hn_count(&env, "ws2019-dc", 3), 3, "servers share the Windows counter");
    cr_expect_eq(hn_count(&env, "win10-pro", 1), 3, "repeat does not count");
    cr_expect_eq(hn_count(&env, "office2019-proplus", 1), 1, "Office counts apart");
    struct kms_request req = hn_req(&env, "win10-pro", 4);
    req.n_policy = 1;
    struct client_session_result r = hn_one(&env, &req, NULL);
    cr_expect_eq(r.outcome, KMS_OUTCOME_ACTIVATED, "%s", kms_outcome_name(r.outcome));
    cr_expect_eq(r.response.count, 4);
    req = hn_req(&env, "win10-pro", 5);
    r = hn_one(&env, &req, NULL);
    cr_expect_eq(r.outcome, KMS_OUTCOME_BELOW_THRESHOLD);
    cr_expect_eq(r.hresult, HR_NOT_ENOUGH_COUNT);
    cr_expect_eq(env.host->stats.connections, 7);
    cr_expect(hn_wait_open(&env, 0, 2000), "connections are closed after the clients leave");
    hn_stop(&env);
}

Test(host_net, concurrent_clients_get_distinct_counts, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    enum { N = 20 };
    struct hn_call calls[N];
    for (unsigned i = 0; i < N; i++) {
        struct kms_request req = hn_req(&env, i % 2 ? "win10-pro" : "ws2022-dc", 100 + i);
        hn_call_init(&calls[i], &req);
    }
    hn_run(&env, calls, N);
    bool seen[N + 1] = {false};
    for (unsigned i = 0; i < N; i++) {
        cr_assert(kms_outcome_has_count(calls[i].res.outcome), "call %u: %s", i,
                  calls[i].res.err.detail);
        unsigned c = calls[i].res.response.count;
        cr_assert(c >= 1 && c <= N, "count %u", c);
        cr_expect_not(seen[c], "count %u given twice", c);
        seen[c] = true;
    }
    cr_expect_eq(host_app_count(env.host, 0), N);
    hn_stop(&env);
}

/* ---- protocol versions, NDR64 and ALTER_CONTEXT ---- */

/* Every edition in the catalogue gets a full answer from the default host, in the protocol and
 * with the N_Policy its clients use (issue 11: no catalogue SKU is refused). */
Test(host_net, every_catalogue_sku_is_answered, .timeout = 60)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    size_t answered = 0;
    for (size_t i = 0; i < env.cat.n_skus; i++) {
        const struct catalog_sku *sku = &env.cat.skus[i];
        struct kms_request req = hn_req(&env, sku->key, (unsigned)i + 1);
        struct client_session_result r = hn_one(&env, &req, NULL);
        cr_expect(kms_outcome_has_count(r.outcome), "%s (%s, V%u): %s 0x%08X %s", sku->key,
                  sku->name, req.major, kms_outcome_name(r.outcome), r.hresult, r.err.detail);
        answered += kms_outcome_has_count(r.outcome);
    }
    cr_expect_eq(answered, env.cat.n_skus);
    cr_expect_gt(env.cat.n_skus, 150, "the catalogue lists every volume edition since Vista");
    hn_stop(&env);
}

static void hn_matrix(bool host_ndr64)
{
    struct hn_env env;
    hn_init(&env);
    env.hcfg.rpc.ndr64 = host_ndr64;
    hn_start(&env);
    unsigned expected_count = 0;
    for (unsigned major = 4; major <= 6; major++) {
        for (int mode = 0; mode < 3; mode++) {
            /* 0: Windows defaults; 1: ALTER_CONTEXT dance; 2: client offers NDR32 only. */
            struct client_session_options opt;
            client_session_options_default(&opt);
            opt.alter_context = mode == 1;
            opt.offer_ndr64 = mode != 2;
            opt.offer_btfn = mode != 2;
            struct kms_request req = hn_req(&env, "win10-pro", major * 10 + (unsigned)mode);
            req.major = (uint16_t)major;
            struct client_session_result r = hn_one(&env, &req, &opt);
            cr_assert_eq(r.outcome, KMS_OUTCOME_BELOW_THRESHOLD,
                         "V%u mode %d host ndr64 %d: %s (%s)", major, mode, host_ndr64,
                         kms_outcome_name(r.outcome), r.err.detail);
            cr_expect_eq(r.response.major, major);
            cr_expect_eq(r.response.count, ++expected_count);
            enum rpc_ndr want = host_ndr64 && mode == 0 ? RPC_NDR64 : RPC_NDR32;
            cr_expect_eq(r.ndr, want, "V%u mode %d host ndr64 %d: request went over NDR%s", major,
                         mode, host_ndr64, r.ndr == RPC_NDR64 ? "64" : "32");
            unsigned needed = KMS_CHECK_EPID | KMS_CHECK_VERSION | KMS_CHECK_CMID | KMS_CHECK_TIME |
                              KMS_CHECK_SIZE;
            needed |= major == 4 ? KMS_CHECK_MAC4 : KMS_CHECK_DECRYPT | KMS_CHECK_HASH;
            if (major == 5)
                needed |= KMS_CHECK_IV_ECHO;
            if (major == 6)
                needed |= KMS_CHECK_HMAC | KMS_CHECK_XORED_IVS | KMS_CHECK_IV_FRESH;
            cr_expect_eq(r.checks.passed & needed, needed, "V%u checks passed 0x%x", major,
                         r.checks.passed);
            cr_expect_eq(r.checks.warned, 0, "V%u warnings 0x%x", major, r.checks.warned);
        }
    }
    hn_stop(&env);
}

Test(host_net, v4_v5_v6_with_ndr64_on, .timeout = 20)
{
    hn_matrix(true);
}

Test(host_net, v4_v5_v6_with_ndr64_off, .timeout = 20)
{
    hn_matrix(false);
}

/* ---- several requests on one connection ---- */

Test(host_net, pipelined_bind_and_requests_on_one_connection, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    /* BIND [NDR32] (context 0) and three REQUESTs in one write, before any answer. */
    uint8_t wire[4 * RPC_MAX_PDU];
    size_t wire_len = 0, len = 0;
    struct proto_err err = {0};
    struct rpc_bind bind;
    memset(&bind, 0, sizeof bind);
    bind.ptype = RPC_BIND;
    bind.flags = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
    bind.call_id = 2;
    bind.max_xmit_frag = bind.max_recv_frag = 5840;
    bind.n_items = 1;
    rpc_context_item_init(&bind.items[0], 0, RPC_SYNTAX_NDR32, 0);
    cr_assert_eq(rpc_bind_encode(&bind, wire, sizeof wire, &len, &err), 0, "%s", err.detail);
    wire_len += len;
    const unsigned cmids[3] = {1, 2, 1};
    const char *skus[3] = {"win10-pro", "win7-pro", "win8-pro"}; /* V6, V4, V5 */
    struct kms_request reqs[3];
    uint8_t w_req[3][16];
    for (unsigned i = 0; i < 3; i++) {
        reqs[i] = hn_req(&env, skus[i], cmids[i]);
        pcg32_fill(&env.rng, w_req[i], 16);
        uint8_t payload[KMS_REQUEST_MAX];
        size_t plen;
        cr_assert_eq(kms_request_encode(&reqs[i], w_req[i], payload, sizeof payload, &plen, &err),
                     0);
        cr_assert_eq(rpc_request_encode(2 + i, 0, RPC_NDR32, payload, plen, wire + wire_len,
                                        sizeof wire - wire_len, &len, &err),
                     0, "%s", err.detail);
        wire_len += len;
    }
    int fd = hn_raw_connect(&env);
    hn_raw_send(fd, wire, wire_len);
    static struct hn_reader r;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    uint8_t pdu[RPC_MAX_PDU];
    size_t n = hn_raw_read_pdu(&env, &r, pdu, sizeof pdu);
    cr_assert_gt(n, 0, "no BIND_ACK");
    struct rpc_bind_ack ack;
    cr_assert_eq(rpc_bind_ack_decode(pdu, n, &ack, &err), 0, "%s", err.detail);
    cr_assert_eq(ack.n_results, 1);
    cr_expect_eq(ack.results[0].result, RPC_ACCEPTANCE);
    char port[8];
    snprintf(port, sizeof port, "%u", host_server_port(env.srv));
    cr_expect_str_eq(ack.sec_addr, port, "sec_addr is the listening port");
    const unsigned want_count[3] = {1, 2, 2};
    for (unsigned i = 0; i < 3; i++) {
        n = hn_raw_read_pdu(&env, &r, pdu, sizeof pdu);
        cr_assert_gt(n, 0, "no RESPONSE %u", i);
        struct rpc_reply reply;
        cr_assert_eq(rpc_reply_decode(pdu, n, RPC_NDR32, 2 + i, 0, &reply, &err), 0, "reply %u: %s",
                     i, err.detail);
        cr_assert_not_null(reply.kms, "reply %u is an error 0x%08x", i, reply.status);
        struct kms_response resp;
        struct kms_checks checks = {0};
        cr_assert_eq(kms_response_decode(reply.kms, reply.kms_len, &resp, &checks, &err), 0, "%s",
                     err.detail);
        cr_assert_eq(kms_response_verify(&resp, &reqs[i], w_req[i], &checks, &err), 0, "%s",
                     err.detail);
        cr_expect_eq(resp.major, reqs[i].major);
        cr_expect_eq(resp.count, want_count[i], "request %u: count %u", i, resp.count);
    }
    cr_expect_eq(host_server_open_connections(env.srv), 1, "the connection stays open");
    close(fd);
    cr_expect(hn_wait_open(&env, 0, 2000));
    hn_stop(&env);
}

Test(host_net, exchange_state_machine_reuses_one_connection, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    struct client_session_options opt;
    client_session_options_default(&opt);
    opt.alter_context = true; /* NDR32 first, NDR64 afterwards */
    struct client_session ex;
    struct kms_request req = hn_req(&env, "win10-pro", 1);
    uint8_t w[16] = {1}, out[RPC_MAX_PDU], pdu[RPC_MAX_PDU];
    size_t len = 0;
    struct proto_err err = {0};
    cr_assert_eq(client_session_begin(&ex, &opt, &req, w, out, sizeof out, &len, &err), 0);
    int fd = hn_raw_connect(&env);
    static struct hn_reader r;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    const unsigned cmids[4] = {1, 2, 1, 3};
    for (unsigned k = 0; k < 4; k++) {
        if (k > 0) {
            req = hn_req(&env, k == 3 ? "ws2016-std" : "win10-pro", cmids[k]);
            w[0] = (uint8_t)(k + 1);
            cr_assert_eq(client_session_next_request(&ex, &req, w, out, sizeof out, &len, &err), 0,
                         "%s", err.detail);
        }
        enum client_session_step step = CLIENT_SESSION_SEND;
        for (int round = 0; round < 4 && step == CLIENT_SESSION_SEND; round++) {
            hn_raw_send(fd, out, len);
            size_t n = hn_raw_read_pdu(&env, &r, pdu, sizeof pdu);
            cr_assert_gt(n, 0, "host closed during request %u", k);
            step = client_session_receive(&ex, pdu, n, out, sizeof out, &len);
        }
        cr_assert_eq(step, CLIENT_SESSION_DONE);
        cr_assert_eq(ex.result.outcome, KMS_OUTCOME_BELOW_THRESHOLD, "request %u: %s", k,
                     ex.result.err.detail);
        const unsigned want[4] = {1, 2, 2, 3};
        cr_expect_eq(ex.result.response.count, want[k], "request %u", k);
        cr_expect_eq(ex.result.call_id, 2 + k);
        cr_expect_eq(ex.result.ndr, k == 0 ? RPC_NDR32 : RPC_NDR64);
    }
    cr_expect_eq(env.host->stats.connections, 1, "one connection for four requests");
    close(fd);
    hn_stop(&env);
}

/* ---- IPv6 ---- */

static bool hn_ipv6_loopback_usable(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

Test(host_net, ipv6_loopback_listener, .timeout = 20)
{
    if (!hn_ipv6_loopback_usable())
        cr_skip("::1 is not available here");
    struct hn_env env;
    hn_init(&env);
    char err[256] = "";
    struct net_addrs v4 = env.scfg.listen, v6;
    cr_assert_eq(net_resolve("::1", 0, true, &v6, err, sizeof err), 0, "%s", err);
    /* Listen on ::1 first and 127.0.0.1 second: one host, two listeners. */
    env.scfg.listen = v6;
    env.scfg.listen.addr[env.scfg.listen.n] = v4.addr[0];
    env.scfg.listen.len[env.scfg.listen.n++] = v4.len[0];
    hn_start(&env);
    cr_assert_eq(host_server_listener_count(env.srv), 2);
    cr_assert_eq(host_server_listener_addr(env.srv, 0)->sa_family, AF_INET6);
    cr_assert_eq(host_server_listener_addr(env.srv, 1)->sa_family, AF_INET);
    struct kms_request req = hn_req(&env, "win10-pro", 1);
    struct hn_call call;
    hn_call_init(&call, &req);
    hn_run(&env, &call, 1);
    cr_assert(kms_outcome_has_count(call.res.outcome), "%s", call.res.err.detail);
    cr_expect_eq(call.res.response.count, 1);
    char want_peer[NET_ADDR_TEXT];
    snprintf(want_peer, sizeof want_peer, "[::1]:%u", host_server_port(env.srv));
    cr_expect_str_eq(call.peer, want_peer);
    /* The IPv4 listener feeds the same host. */
    const struct sockaddr *sa4 = host_server_listener_addr(env.srv, 1);
    memcpy(&env.target.addr[0], sa4, sizeof(struct sockaddr_in));
    env.target.len[0] = sizeof(struct sockaddr_in);
    cr_expect_eq(hn_count(&env, "win10-pro", 2), 2);
    hn_stop(&env);
}

/* ---- connection management ---- */

Test(host_net, idle_timeout_closes_a_silent_connection, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    env.scfg.idle_timeout.tv_sec = 0;
    env.scfg.idle_timeout.tv_usec = 200000;
    hn_start(&env);
    int fd = hn_raw_connect(&env);
    uint64_t t0 = hn_mono_us();
    cr_assert(hn_wait_open(&env, 1, 2000), "connection not accepted");
    cr_assert(hn_wait_open(&env, 0, 3000), "silent connection still open after 3 s");
    uint64_t waited = hn_mono_us() - t0;
    cr_expect_geq(waited, 150000, "closed after %llu us, before the idle timeout",
                  (unsigned long long)waited);
    cr_expect(hn_raw_closed(&env, fd, 1000), "client sees the close");
    close(fd);
    /* A connection that keeps talking is not idle: BIND every 100 ms for 500 ms. */
    fd = hn_raw_connect(&env);
    static struct hn_reader r;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    struct rpc_bind bind;
    memset(&bind, 0, sizeof bind);
    bind.ptype = RPC_BIND;
    bind.flags = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
    bind.max_xmit_frag = bind.max_recv_frag = 5840;
    bind.n_items = 1;
    rpc_context_item_init(&bind.items[0], 0, RPC_SYNTAX_NDR32, 0);
    uint8_t out[RPC_MAX_PDU], pdu[RPC_MAX_PDU];
    size_t len;
    struct proto_err err;
    for (unsigned i = 0; i < 5; i++) {
        bind.call_id = 2 + i;
        cr_assert_eq(rpc_bind_encode(&bind, out, sizeof out, &len, &err), 0);
        hn_raw_send(fd, out, len);
        cr_assert_gt(hn_raw_read_pdu(&env, &r, pdu, sizeof pdu), 0, "closed at round %u", i);
        struct timespec ms = {0, 100000000};
        nanosleep(&ms, NULL);
    }
    cr_expect_eq(host_server_open_connections(env.srv), 1);
    cr_expect(hn_wait_open(&env, 0, 3000), "then it goes idle and is closed");
    close(fd);
    hn_stop(&env);
}

static bool hn_connections_seen(struct hn_env *env, void *arg)
{
    return env->host->stats.connections >= *(unsigned *)arg;
}

Test(host_net, when_full_the_longest_silent_connection_makes_room, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    env.scfg.max_connections = 2;
    hn_start(&env);
    int fds[3];
    for (unsigned i = 0; i < 3; i++) {
        fds[i] = hn_raw_connect(&env);
        unsigned want = i + 1;
        cr_assert(hn_pump(&env, hn_connections_seen, &want, 2000), "connection %u not accepted", i);
    }
    cr_expect_eq(host_server_open_connections(env.srv), 2);
    cr_expect_eq(env.host->stats.connections_rejected, 1);
    cr_expect(hn_raw_closed(&env, fds[0], 1000), "the first (silent the longest) is closed");
    cr_expect_not(hn_raw_closed(&env, fds[1], 100), "the second stays open");
    cr_expect_not(hn_raw_closed(&env, fds[2], 100), "the third is admitted");
    /* Activity counts: the second sends a byte, so the third is now the silent one... */
    hn_raw_send(fds[1], "\x05", 1);
    cr_expect_not(hn_raw_closed(&env, fds[1], 100));
    /* ...and a client arriving while both slots are taken is served, in its place. */
    cr_expect_eq(hn_count(&env, "win10-pro", 1), 1);
    cr_expect_eq(env.host->stats.connections_rejected, 2);
    cr_expect(hn_raw_closed(&env, fds[2], 1000), "the third made room");
    cr_expect_not(hn_raw_closed(&env, fds[1], 100), "the one that spoke stays");
    for (unsigned i = 0; i < 3; i++)
        close(fds[i]);
    cr_expect(hn_wait_open(&env, 0, 2000));
    hn_stop(&env);
}

/* ---- slow clients (slowloris) ---- */

/* The first bytes of a BIND, sent one at a time: never a whole PDU within the deadline. */
static const uint8_t hn_slow_bytes[] = {0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00,
                                        0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};

/* True when the host closed fd (EOF or reset), without blocking. */
static bool hn_raw_gone(int fd)
{
    char buf[64];
    ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

Test(host_net, a_pdu_trickled_byte_by_byte_meets_its_deadline, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    env.scfg.pdu_timeout.tv_sec = 0;
    env.scfg.pdu_timeout.tv_usec = 300000; /* the idle timeout stays 30 s */
    hn_start(&env);
    int fd = hn_raw_connect(&env);
    cr_assert(hn_wait_open(&env, 1, 2000));
    bool closed = false;
    size_t sent = 0;
    uint64_t t0 = hn_mono_us();
    /* A byte every 50 ms: never idle, never whole. Bounded: 3 s at most. */
    while (!closed && sent < sizeof hn_slow_bytes && hn_mono_us() - t0 < 3000000) {
        if (send(fd, hn_slow_bytes + sent, 1, MSG_NOSIGNAL) == 1)
            sent++;
        unsigned none = 0;
        hn_pump(&env, hn_open_is, &none, 50);
        closed = hn_raw_gone(fd);
    }
    cr_expect(closed, "a PDU trickled over %zu bytes still holds its connection", sent);
    cr_expect_lt(sent, sizeof hn_slow_bytes, "closed only when the bytes ran out");
    cr_expect_eq(env.host->stats.pdu_timeouts, 1);
    cr_expect_eq(host_server_open_connections(env.srv), 0);
    close(fd);
    /* A whole PDU in one piece is unaffected: the host still answers. */
    cr_expect_eq(hn_count(&env, "win10-pro", 1), 1);
    hn_stop(&env);
}

/* Slow clients in a loop (reconnecting whenever closed) hold more than every slot; probes
 * between them are answered all the same. */
Test(host_net, slowloris_cannot_lock_out_probes, .timeout = 30)
{
    enum { SLOTS = 12, ATTACKERS = 16, PROBES = 4 };
    struct hn_env env;
    hn_init(&env);
    env.scfg.max_connections = SLOTS;
    env.scfg.pdu_timeout.tv_sec = 0;
    env.scfg.pdu_timeout.tv_usec = 400000;
    hn_start(&env);
    int fds[ATTACKERS];
    size_t sent[ATTACKERS];
    unsigned reconnects = 0, answered = 0, full_rounds = 0;
    for (unsigned i = 0; i < ATTACKERS; i++) {
        fds[i] = hn_raw_connect(&env);
        sent[i] = 0;
    }
    for (unsigned round = 0; round < 4 * PROBES; round++) {
        /* Every attacker sends its next byte, or comes back when it was closed. */
        for (unsigned i = 0; i < ATTACKERS; i++) {
            if (hn_raw_gone(fds[i]) || sent[i] == sizeof hn_slow_bytes ||
                send(fds[i], hn_slow_bytes + sent[i], 1, MSG_NOSIGNAL) != 1) {
                close(fds[i]);
                fds[i] = hn_raw_connect(&env);
                sent[i] = 0;
                reconnects++;
                continue;
            }
            sent[i]++;
        }
        unsigned never = ~0u;
        hn_pump(&env, hn_open_is, &never, 100); /* 100 ms of host time per round */
        unsigned open_now = host_server_open_connections(env.srv);
        full_rounds += open_now == SLOTS;
        if (round % 4 == 3) {
            struct kms_request req = hn_req(&env, "win10-pro", 100 + round);
            struct client_session_result r = hn_one(&env, &req, NULL);
            answered += kms_outcome_has_count(r.outcome);
        }
    }
    cr_expect_gt(full_rounds, 0, "the attack never filled the host");
    cr_expect_eq(answered, PROBES, "%u of %d probes answered during the attack", answered, PROBES);
    cr_expect_gt(env.host->stats.pdu_timeouts + env.host->stats.connections_rejected, 0);
    cr_expect_gt(reconnects, 0, "the attackers were closed and came back");
    for (unsigned i = 0; i < ATTACKERS; i++)
        close(fds[i]);
    hn_stop(&env);
}

/* ---- out of file descriptors ---- */

struct hn_fd_child_report {
    uint64_t accept_pauses, rejected;
    double cpu_seconds, wall_seconds;
};

static void hn_fd_child_warn(const char *message, void *arg)
{
    FILE *f = arg;
    fprintf(f, "%s\n", message);
    fflush(f);
}

static void hn_fd_child_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

static double hn_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The forked host: an open-file limit only `headroom` above what it holds at start, no cap
 * from --max-connections; runs until the parent closes `stop_fd` (10 s at most). */
static void hn_fd_child(int port_fd, int stop_fd, int report_fd, FILE *warn_log, unsigned headroom)
{
    struct hn_env env;
    hn_init(&env);
    env.scfg.max_connections = 10000;
    env.scfg.warn = hn_fd_child_warn;
    env.scfg.warn_arg = warn_log;
    hn_start(&env);
    unsigned open_fds = 0;
    for (int fd = 0; fd < 4096; fd++)
        open_fds += fcntl(fd, F_GETFD) != -1;
    struct rlimit rl = {open_fds + headroom, open_fds + headroom};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        _exit(3);
    uint16_t port = host_server_port(env.srv);
    if (write(port_fd, &port, sizeof port) != (ssize_t)sizeof port)
        _exit(4);
    struct event *stop = event_new(env.base, stop_fd, EV_READ, hn_fd_child_stop, env.base);
    struct timeval guard = {10, 0};
    event_add(stop, &guard);
    double cpu0 = hn_cpu_seconds();
    uint64_t t0 = hn_mono_us();
    event_base_dispatch(env.base);
    struct hn_fd_child_report rep = {env.host->stats.accept_pauses,
                                     env.host->stats.connections_rejected, hn_cpu_seconds() - cpu0,
                                     (double)(hn_mono_us() - t0) / 1e6};
    event_free(stop);
    _exit(write(report_fd, &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 5);
}

/* More idle clients than the host has descriptors: it pauses accepting instead of spinning,
 * says so a bounded number of times, and makes room for probes by closing the idlest. */
Test(host_net, out_of_descriptors_the_host_backs_off_and_keeps_answering, .timeout = 30)
{
    enum { IDLE = 80, HEADROOM = 24, PROBES = 3 };
    int port_pipe[2], stop_pipe[2], report_pipe[2];
    cr_assert_eq(pipe(port_pipe), 0);
    cr_assert_eq(pipe(stop_pipe), 0);
    cr_assert_eq(pipe(report_pipe), 0);
    char warn_path[] = "/tmp/kmsload-hn-warn-XXXXXX";
    int warn_fd = mkstemp(warn_path);
    cr_assert_geq(warn_fd, 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(port_pipe[0]);
        close(stop_pipe[1]);
        close(report_pipe[0]);
        hn_fd_child(port_pipe[1], stop_pipe[0], report_pipe[1], fdopen(warn_fd, "w"), HEADROOM);
    }
    close(port_pipe[1]);
    close(stop_pipe[0]);
    close(report_pipe[1]);
    close(warn_fd);
    uint16_t port = 0;
    cr_assert_eq(read(port_pipe[0], &port, sizeof port), (ssize_t)sizeof port,
                 "the forked host did not start");

    struct hn_env env;
    hn_init(&env);
    env.base = event_base_new();
    struct sockaddr_in *sin = (struct sockaddr_in *)&env.target.addr[0];
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    env.target.len[0] = sizeof *sin;
    env.target.n = 1;
    int idle[IDLE];
    for (unsigned i = 0; i < IDLE; i++)
        idle[i] = hn_raw_connect(&env);
    struct timespec settle = {1, 0}; /* the host takes them in, runs out, pauses, goes on */
    nanosleep(&settle, NULL);
    unsigned answered = 0;
    for (unsigned i = 0; i < PROBES; i++) {
        struct kms_request req = hn_req(&env, "win10-pro", 1 + i);
        struct client_session_result r = hn_one(&env, &req, NULL);
        answered += kms_outcome_has_count(r.outcome);
    }
    close(stop_pipe[1]);
    struct hn_fd_child_report rep;
    memset(&rep, 0, sizeof rep);
    ssize_t got = read(report_pipe[0], &rep, sizeof rep);
    int status = 0;
    waitpid(pid, &status, 0);
    for (unsigned i = 0; i < IDLE; i++)
        close(idle[i]);
    char *warnings = support_slurp(warn_path, NULL);
    unlink(warn_path);
    cr_assert_not_null(warnings);
    size_t lines = 0;
    for (const char *p = warnings; *p; p++)
        lines += *p == '\n';
    cr_log_info("out of descriptors: %u/%d probes answered, %llu accept pauses, %llu closed to "
                "make room, %.3f s CPU in %.2f s, %zu warning line(s)",
                answered, PROBES, (unsigned long long)rep.accept_pauses,
                (unsigned long long)rep.rejected, rep.cpu_seconds, rep.wall_seconds, lines);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "forked host status %d", status);
    cr_assert_eq(got, (ssize_t)sizeof rep);
    cr_expect_eq(answered, PROBES, "%u of %d probes answered", answered, PROBES);
    cr_expect_geq(rep.accept_pauses, 1, "the limit was never reached: the test proves nothing");
    cr_expect(lines >= 1 && lines <= 2, "%zu warning lines:\n%s", lines, warnings);
    cr_expect(strstr(warnings, "Too many open files") != NULL, "%s", warnings);
    cr_expect(strstr(warnings, "ulimit -n") != NULL, "%s", warnings);
    free(warnings);
    event_base_free(env.base);
    catalog_free(&env.cat);
}

/* ---- fault injection ---- */

/* A BIND over a raw connection still gets its BIND_ACK (faults apply to requests only). */
static void hn_expect_bind_served(struct hn_env *env)
{
    int fd = hn_raw_connect(env);
    struct rpc_bind bind;
    memset(&bind, 0, sizeof bind);
    bind.ptype = RPC_BIND;
    bind.flags = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
    bind.call_id = 9;
    bind.max_xmit_frag = bind.max_recv_frag = 5840;
    bind.n_items = 1;
    rpc_context_item_init(&bind.items[0], 0, RPC_SYNTAX_NDR32, 0);
    uint8_t out[RPC_MAX_PDU], pdu[RPC_MAX_PDU];
    size_t len;
    struct proto_err err = {0};
    cr_assert_eq(rpc_bind_encode(&bind, out, sizeof out, &len, &err), 0);
    hn_raw_send(fd, out, len);
    static struct hn_reader r;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    size_t n = hn_raw_read_pdu(env, &r, pdu, sizeof pdu);
    cr_expect_gt(n, 0, "host no longer answers a BIND");
    if (n > 0) {
        struct rpc_bind_ack ack;
        cr_expect_eq(rpc_bind_ack_decode(pdu, n, &ack, &err), 0, "%s", err.detail);
        cr_expect_eq(ack.call_id, 9);
    }
    close(fd);
}

static void hn_fault_case(const char *spec, const enum kms_outcome *allowed, size_t n_allowed,
                          unsigned client_timeout_ms)
{
    struct hn_env env;
    hn_init(&env);
    char err[256] = "";
    cr_assert_eq(host_faults_parse(spec, &env.scfg.faults, err, sizeof err), 0, "%s", err);
    env.scfg.idle_timeout.tv_sec = 2; /* leftovers of broken exchanges go away */
    hn_start(&env);
    for (unsigned round = 0; round < 2; round++) {
        struct kms_request req = hn_req(&env, "win10-pro", 1 + round);
        req.major = (uint16_t)(round == 0 ? 6 : 4);
        struct hn_call call;
        hn_call_init(&call, &req);
        call.timeout.tv_sec = client_timeout_ms / 1000;
        call.timeout.tv_usec = (suseconds_t)(client_timeout_ms % 1000) * 1000;
        hn_run(&env, &call, 1);
        bool ok = false;
        for (size_t i = 0; i < n_allowed; i++)
            ok = ok || call.res.outcome == allowed[i];
        cr_expect(ok, "fault %s, V%u: outcome %s (%s)", spec, req.major,
                  kms_outcome_name(call.res.outcome), call.res.err.detail);
        cr_expect_eq(env.host->stats.requests, round + 1, "the host handled the request");
        cr_expect_eq(host_app_count(env.host, 0), round + 1, "and counted it");
    }
    hn_expect_bind_served(&env);
    cr_expect(hn_wait_open(&env, 0, 1500),
              "fault %s: %u connection(s) left open after the "
              "clients went away",
              spec, host_server_open_connections(env.srv));
    hn_stop(&env);
}

Test(host_net, fault_drop_closes, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_CLOSED};
    hn_fault_case("drop=1", ok, 1, 3000);
}

Test(host_net, fault_reset_resets, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_RESET, KMS_OUTCOME_CLOSED};
    hn_fault_case("reset=1", ok, 2, 3000);
}

Test(host_net, fault_garble_is_a_protocol_error, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_PROTOCOL_ERROR};
    hn_fault_case("garble=1", ok, 1, 3000);
}

Test(host_net, fault_truncate_closes_mid_answer, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_CLOSED, KMS_OUTCOME_PROTOCOL_ERROR};
    hn_fault_case("truncate=1", ok, 2, 3000);
}

Test(host_net, fault_stall_times_out, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_TIMEOUT};
    hn_fault_case("stall=1", ok, 1, 300);
}

Test(host_net, fault_wrong_call_id_is_a_protocol_error, .timeout = 20)
{
    const enum kms_outcome ok[] = {KMS_OUTCOME_PROTOCOL_ERROR};
    hn_fault_case("wrong-call-id=1", ok, 1, 3000);
}

Test(host_net, fault_latency_delays_a_good_answer, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    char err[256] = "";
    cr_assert_eq(host_faults_parse("latency=100ms", &env.scfg.faults, err, sizeof err), 0, "%s",
                 err);
    hn_start(&env);
    struct kms_request req = hn_req(&env, "win10-pro", 1);
    struct hn_call call;
    hn_call_init(&call, &req);
    hn_run(&env, &call, 1);
    cr_expect_eq(call.res.outcome, KMS_OUTCOME_BELOW_THRESHOLD, "%s", call.res.err.detail);
    cr_expect_eq(call.res.response.count, 1);
    cr_expect_geq(call.elapsed_us, 100000, "answered after %llu us",
                  (unsigned long long)call.elapsed_us);
    cr_expect_lt(call.elapsed_us, 3000000);
    /* Pipelined requests each wait their turn and all arrive. */
    struct hn_call calls[3];
    for (unsigned i = 0; i < 3; i++) {
        req = hn_req(&env, "win10-pro", 2 + i);
        hn_call_init(&calls[i], &req);
    }
    hn_run(&env, calls, 3);
    for (unsigned i = 0; i < 3; i++) {
        cr_expect_eq(calls[i].res.outcome, KMS_OUTCOME_BELOW_THRESHOLD);
        cr_expect_geq(calls[i].elapsed_us, 100000);
    }
    hn_stop(&env);
}

Test(host_net, host_keeps_serving_between_faults, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    char err[256] = "";
    cr_assert_eq(host_faults_parse("drop=0.2,reset=0.2,garble=0.1,wrong-call-id=0.1,"
                                   "truncate=0.1,latency=5ms@0.5",
                                   &env.scfg.faults, err, sizeof err),
                 0, "%s", err);
    hn_start(&env);
    unsigned good = 0, bad = 0;
    for (unsigned i = 0; i < 24; i++) {
        struct kms_request req = hn_req(&env, "win10-pro", 1 + i);
        req.major = (uint16_t)(4 + i % 3);
        struct client_session_result r = hn_one(&env, &req, NULL);
        if (kms_outcome_has_count(r.outcome)) {
            good++;
            /* Every earlier request was counted, answered or not. */
            cr_expect_eq(r.response.count, i + 1, "request %u", i);
        } else {
            bad++;
            cr_expect(r.outcome == KMS_OUTCOME_CLOSED || r.outcome == KMS_OUTCOME_RESET ||
                          r.outcome == KMS_OUTCOME_PROTOCOL_ERROR,
                      "request %u: %s", i, kms_outcome_name(r.outcome));
        }
    }
    cr_expect_geq(good, 3, "%u good answers", good);
    cr_expect_geq(bad, 3, "%u faulted answers", bad);
    cr_expect(hn_wait_open(&env, 0, 2000));
    hn_stop(&env);
}

Test(host_net, garbage_clients_do_not_disturb_the_host, .timeout = 20)
{
    struct hn_env env;
    hn_init(&env);
    hn_start(&env);
    /* Not RPC at all. */
    int http = hn_raw_connect(&env);
    const char get[] = "GET / HTTP/1.1\r\nHost: kms\r\n\r\n";
    hn_raw_send(http, get, sizeof get - 1);
    /* RPC header announcing an oversized PDU. */
    int huge = hn_raw_connect(&env);
    uint8_t hdr[16] = {5, 0, RPC_BIND, 3, 0x10, 0, 0, 0, 0xff, 0xff, 0, 0, 2, 0, 0, 0};
    hn_raw_send(huge, hdr, sizeof hdr);
    /* A whole PDU of a type hosts do not accept. */
    int resp = hn_raw_connect(&env);
    uint8_t response[24] = {5, 0, RPC_RESPONSE, 3, 0x10, 0, 0, 0, 24, 0, 0, 0, 2, 0, 0, 0};
    hn_raw_send(resp, response, sizeof response);
    /* Random bytes after a valid BIND header. */
    int junk = hn_raw_connect(&env);
    uint8_t noise[200] = {5, 0, RPC_BIND, 3, 0x10, 0, 0, 0, 200, 0, 0, 0, 2, 0, 0, 0};
    pcg32_fill(&env.rng, noise + 16, sizeof noise - 16);
    noise[24] = 200; /* far more context items than fit */
    hn_raw_send(junk, noise, sizeof noise);
    /* Half a PDU, then silence (stays open until the idle timeout). */
    int half = hn_raw_connect(&env);
    hn_raw_send(half, hdr, 8);
    cr_expect(hn_raw_closed(&env, http, 2000), "HTTP request: closed");
    cr_expect(hn_raw_closed(&env, huge, 2000), "oversized frag_length: closed");
    cr_expect(hn_raw_closed(&env, resp, 2000), "RESPONSE PDU: closed");
    cr_expect(hn_raw_closed(&env, junk, 2000), "garbage BIND: closed");
    cr_expect_not(hn_raw_closed(&env, half, 50), "half a PDU: waits for the rest");
    /* Meanwhile normal clients are served. */
    cr_expect_eq(hn_count(&env, "win10-pro", 1), 1);
    cr_expect_eq(hn_count(&env, "office2010-proplus", 1), 1);
    cr_expect(hn_wait_open(&env, 1, 2000), "only the half PDU is left, %u open",
              host_server_open_connections(env.srv));
    cr_expect_eq(env.host->stats.requests, 2, "garbage was never taken for a request");
    close(http);
    close(huge);
    close(resp);
    close(junk);
    close(half);
    cr_expect(hn_wait_open(&env, 0, 2000));
    hn_stop(&env);
}

/* ---- --fault specifications ---- */

Test(host_net, fault_spec_parses)
{
    struct host_faults f;
    char err[256] = "";
    cr_assert_eq(host_faults_parse("latency=50ms@0.2,drop=0.01,reset=0.02,garble=0.03,"
                                   "truncate=0.04,stall=0.05,wrong-call-id=0.06",
                                   &f, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(f.latency_us, 50000);
    cr_expect_float_eq(f.latency_probability, 0.2, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_DROP], 0.01, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_RESET], 0.02, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_GARBLE], 0.03, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_TRUNCATE], 0.04, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_STALL], 0.05, 1e-12);
    cr_expect_float_eq(f.probability[HOST_FAULT_WRONG_CALL_ID], 0.06, 1e-12);
    cr_assert_eq(host_faults_parse("latency=2s", &f, err, sizeof err), 0, "%s", err);
    cr_expect_eq(f.latency_us, 2000000);
    cr_expect_float_eq(f.latency_probability, 1.0, 1e-12, "no @P: every request");
    cr_expect_float_eq(f.probability[HOST_FAULT_DROP], 0.0, 1e-12, "parse starts from zero");
    cr_assert_eq(host_faults_parse("drop=0.5,reset=0.5", &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(host_faults_parse("", &f, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < HOST_FAULT__COUNT; i++)
        cr_expect_float_eq(f.probability[i], 0.0, 1e-12);
    cr_expect_str_eq(host_fault_name(HOST_FAULT_WRONG_CALL_ID), "wrong-call-id");
    cr_expect_str_eq(host_fault_name(HOST_FAULT_STALL), "stall");
    cr_expect_str_eq(host_fault_name(HOST_FAULT_NONE), "none");
    cr_expect_str_eq(host_fault_name((enum host_fault)99), "unknown");
}

Test(host_net, fault_spec_errors_name_the_bad_item)
{
    struct {
        const char *spec;
        const char *needles[3];
    } bad[] = {
        {"drop", {"drop", "NAME=VALUE", NULL}},
        {"explode=0.1", {"explode", "unknown fault", NULL}},
        {"drop=1.5", {"drop", "1.5", "0..1"}},
        {"reset=-0.1", {"reset", "-0.1", NULL}},
        {"garble=abc", {"garble", "abc", NULL}},
        {"stall=", {"stall", NULL, NULL}},
        {"drop=0.6,reset=0.6", {"add up", "more than 1", NULL}},
        {"latency=fast", {"latency", NULL, NULL}},
        {"latency=50ms@2", {"latency", "2", "0..1"}},
        {"latency=50ms@x", {"latency", "x", NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct host_faults f;
        char err[256] = "";
        cr_expect_eq(host_faults_parse(bad[i].spec, &f, err, sizeof err), -1, "\"%s\" accepted",
                     bad[i].spec);
        cr_expect(strncmp(err, "--fault", 7) == 0, "\"%s\": message \"%s\" names --fault",
                  bad[i].spec, err);
        for (int k = 0; k < 3 && bad[i].needles[k]; k++)
            cr_expect(strstr(err, bad[i].needles[k]) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
                      bad[i].spec, err, bad[i].needles[k]);
    }
    char long_spec[600];
    memset(long_spec, 'a', sizeof long_spec - 1);
    long_spec[sizeof long_spec - 1] = '\0';
    struct host_faults f;
    char err[256] = "";
    cr_expect_eq(host_faults_parse(long_spec, &f, err, sizeof err), -1);
    cr_expect(strstr(err, "longer") != NULL, "%s", err);
}

Test(host_net, fault_draw_follows_probabilities)
{
    struct host_faults f;
    char err[256] = "";
    struct pcg32 rng;
    pcg32_seed(&rng, 7, 7);
    cr_assert_eq(host_faults_parse("", &f, err, sizeof err), 0);
    for (int i = 0; i < 100; i++) {
        cr_expect_eq(host_faults_draw(&f, &rng), HOST_FAULT_NONE);
        cr_expect_eq(host_faults_latency(&f, &rng), 0);
    }
    for (int kind = HOST_FAULT_DROP; kind < HOST_FAULT__COUNT; kind++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s=1", host_fault_name((enum host_fault)kind));
        cr_assert_eq(host_faults_parse(spec, &f, err, sizeof err), 0, "%s", err);
        for (int i = 0; i < 50; i++)
            cr_expect_eq(host_faults_draw(&f, &rng), kind, "%s", spec);
    }
    cr_assert_eq(host_faults_parse("drop=0.25,stall=0.25,latency=10ms@0.5", &f, err, sizeof err),
                 0);
    unsigned drops = 0, stalls = 0, none = 0, delayed = 0;
    for (int i = 0; i < 4000; i++) {
        enum host_fault d = host_faults_draw(&f, &rng);
        drops += d == HOST_FAULT_DROP;
        stalls += d == HOST_FAULT_STALL;
        none += d == HOST_FAULT_NONE;
        int64_t l = host_faults_latency(&f, &rng);
        cr_assert(l == 0 || l == 10000);
        delayed += l != 0;
    }
    cr_expect(drops > 850 && drops < 1150, "drops %u of 4000", drops);
    cr_expect(stalls > 850 && stalls < 1150, "stalls %u of 4000", stalls);
    cr_expect(none > 1850 && none < 2150, "none %u of 4000", none);
    cr_expect(delayed > 1850 && delayed < 2150, "delayed %u of 4000", delayed);
}
