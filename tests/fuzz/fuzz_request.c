/*
 * libFuzzer target: the reference host's side. The input is a client → host stream (seeds:
 * tests/fuzz/corpus/fuzz_request: each vector connection's c2s PDUs concatenated, and raw KMS
 * request payloads).
 *
 * 1. The host: two kms_host instances made once with the built-in catalogue — the default
 *    configuration on a fixed clock (the vectors' capture time, so their requests pass the time
 *    check), and a variant (client-following clock, strict V4 MAC, no NDR64, no BTFN). Per input
 *    a fresh host_session on each; the input framed into PDUs (rpc_frame_length) and fed through
 *    host_session_feed until it asks to close. Oracle: every RESPONSE the host sends decodes on
 *    the client side (rpc_reply_decode) and, when it carries a KMS response, passes
 *    kms_response_decode + kms_response_verify against the request it answers.
 * 2. The decoders directly on the raw input: rpc_bind_decode (and encode → decode stability),
 *    rpc_request_decode + rpc_request_payload for both syntaxes, kms_request_decode (and
 *    decode → encode reproducing the input).
 *
 * Host state (client caches, counters, RNG) persists across inputs, as on a long-running host.
 */
#include "catalog.h"
#include "fuzz_common.h"
#include "host.h"
#include "host_session.h"

#define N_HOSTS 2

static struct catalog catalog;
static struct kms_host *hosts[N_HOSTS];
static uint64_t capture_time;

static uint64_t fixed_clock(void *arg)
{
    (void)arg;
    return capture_time;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (catalog_parse(&catalog, catalog_builtin_ini, "built-in", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_request: %s\n", err);
        abort();
    }
    struct fuzz_fixed_request fixed[FUZZ_N_FIXED];
    fuzz_fixed_requests(fixed);
    capture_time = fixed[2].req.client_time;

    struct host_config cfg[N_HOSTS];
    host_config_default(&cfg[0], &catalog);
    cfg[0].clock = fixed_clock;
    host_config_default(&cfg[1], &catalog);
    cfg[1].clock_mode = HOST_CLOCK_CLIENT;
    cfg[1].strict_v4_mac = true;
    cfg[1].rpc.ndr64 = false;
    cfg[1].rpc.btfn = false;
    cfg[1].seed = 2;
    for (size_t h = 0; h < N_HOSTS; h++) {
        hosts[h] = calloc(1, sizeof *hosts[h]);
        FUZZ_ASSERT(hosts[h] != NULL);
        if (host_init(hosts[h], &cfg[h], err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_request: host_init: %s\n", err);
            abort();
        }
    }
    return 0;
}

/* The host answered a REQUEST: the client side must accept what it sent. */
static void check_answer(const struct host_session *s, const uint8_t *pdu, size_t len,
                         const uint8_t *out, size_t out_len, const struct host_request_record *rec)
{
    struct rpc_request req;
    struct proto_err err;
    FUZZ_ASSERT(rpc_request_decode(pdu, len, &req, &err) == 0);
    if (out[2] == RPC_FAULT)
        return; /* unknown context or opnum */
    FUZZ_ASSERT(out[2] == RPC_RESPONSE);
    enum rpc_ndr ndr;
    if (s->ndr32_context >= 0 && req.context_id == s->ndr32_context)
        ndr = RPC_NDR32;
    else
        ndr = RPC_NDR64;
    struct rpc_reply reply;
    FUZZ_ASSERT(rpc_reply_decode(out, out_len, ndr, req.call_id, req.context_id, &reply, &err) ==
                0);
    FUZZ_ASSERT(!reply.is_fault);
    if (rec->hresult != 0) {
        FUZZ_ASSERT(reply.kms == NULL && reply.status == rec->hresult);
        return;
    }
    FUZZ_ASSERT(reply.kms != NULL);
    const uint8_t *kms;
    size_t kms_len;
    struct kms_request kreq;
    struct kms_request_frame frame;
    FUZZ_ASSERT(rpc_request_payload(&req, ndr, &kms, &kms_len, &err) == 0);
    FUZZ_ASSERT(kms_request_decode(kms, kms_len, &kreq, &frame, &err) == 0);
    struct kms_response resp;
    struct kms_checks checks;
    if (kms_response_decode(reply.kms, reply.kms_len, &resp, &checks, &err) != 0 ||
        kms_response_verify(&resp, &kreq, frame.w_req, &checks, &err) != 0) {
        fprintf(stderr, "fuzz_request: the host's response fails client checks: %s\n", err.detail);
        abort();
    }
    FUZZ_ASSERT(resp.count == rec->count);
}

static void run_host(struct kms_host *host, const uint8_t *data, size_t size)
{
    static uint8_t out[RPC_MAX_PDU];
    struct host_session s;
    host_session_init(&s, 1688);
    size_t off = 0, n;
    while ((n = fuzz_next_pdu(data, size, off)) > 0) {
        uint8_t *pdu = fuzz_copy(data + off, n);
        off += n;
        struct host_request_record rec;
        struct proto_err err = {0};
        bool is_request = false;
        size_t out_len = 0;
        enum host_action act =
            host_session_feed(host, &s, pdu, n, out, sizeof out, &out_len, &rec, &is_request, &err);
        if (act == HOST_ACTION_SEND) {
            FUZZ_ASSERT(out_len >= RPC_HEADER_LEN && out_len <= sizeof out);
            FUZZ_ASSERT(rpc_frame_length(out, out_len, &err) == (int)out_len);
            if (is_request)
                check_answer(&s, pdu, n, out, out_len, &rec);
        }
        free(pdu);
        if (act != HOST_ACTION_SEND)
            break;
    }
}

static void direct_bind(const uint8_t *data, size_t size)
{
    struct rpc_bind bind, again;
    struct proto_err err;
    if (rpc_bind_decode(data, size, &bind, &err) != 0)
        return;
    uint8_t buf[RPC_MAX_PDU];
    size_t len;
    FUZZ_ASSERT(rpc_bind_encode(&bind, buf, sizeof buf, &len, &err) == 0);
    uint8_t *copy = fuzz_copy(buf, len);
    FUZZ_ASSERT(rpc_bind_decode(copy, len, &again, &err) == 0);
    free(copy);
    FUZZ_ASSERT(again.ptype == bind.ptype && again.flags == bind.flags);
    FUZZ_ASSERT(again.call_id == bind.call_id && again.assoc_group == bind.assoc_group);
    FUZZ_ASSERT(again.n_items == bind.n_items);
    for (unsigned i = 0; i < bind.n_items; i++) {
        const struct rpc_context_item *a = &bind.items[i], *b = &again.items[i];
        FUZZ_ASSERT(a->context_id == b->context_id && a->if_major == b->if_major &&
                    a->if_minor == b->if_minor && a->transfer_version == b->transfer_version);
        FUZZ_ASSERT(guid_equal(&a->abstract_syntax, &b->abstract_syntax));
        FUZZ_ASSERT(guid_equal(&a->transfer_syntax, &b->transfer_syntax));
    }
    /* The host's negotiation answers every item and grants only what was offered. */
    struct rpc_bind_ack ack;
    memset(&ack, 0, sizeof ack);
    rpc_bind_negotiate(&bind, (struct rpc_host_caps){.ndr64 = true, .btfn = true}, &ack);
    FUZZ_ASSERT(ack.n_results == bind.n_items);
}

static void direct_kms_request(const uint8_t *data, size_t size)
{
    struct kms_request req;
    struct kms_request_frame frame;
    struct proto_err err;
    if (kms_request_decode(data, size, &req, &frame, &err) != 0)
        return;
    uint8_t out[KMS_REQUEST_MAX];
    size_t len;
    FUZZ_ASSERT(kms_request_encode(&req, frame.w_req, out, sizeof out, &len, &err) == 0);
    FUZZ_ASSERT(len <= size);
    if (req.major == 4) {
        FUZZ_ASSERT(len == KMS_V4_REQUEST_LEN);
        /* The MAC is recomputed: it matches the input's only when that one was right. */
        FUZZ_ASSERT(memcmp(out, data, KMS_REQUEST_BASE_LEN) == 0);
        FUZZ_ASSERT((memcmp(out + KMS_REQUEST_BASE_LEN, data + KMS_REQUEST_BASE_LEN, 16) == 0) ==
                    frame.v4_mac_ok);
    } else {
        FUZZ_ASSERT(len == KMS_V5_REQUEST_LEN && memcmp(out, data, len) == 0);
    }
}

static void direct_request(const uint8_t *data, size_t size)
{
    struct rpc_request req;
    struct proto_err err;
    if (rpc_request_decode(data, size, &req, &err) != 0)
        return;
    FUZZ_ASSERT(fuzz_inside(req.stub, req.stub_len, data, size));
    const enum rpc_ndr ndrs[2] = {RPC_NDR32, RPC_NDR64};
    for (int i = 0; i < 2; i++) {
        const uint8_t *kms;
        size_t kms_len;
        if (rpc_request_payload(&req, ndrs[i], &kms, &kms_len, &err) != 0)
            continue;
        FUZZ_ASSERT(fuzz_inside(kms, kms_len, req.stub, req.stub_len));
        uint8_t *copy = fuzz_copy(kms, kms_len);
        direct_kms_request(copy, kms_len);
        free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t h = 0; h < N_HOSTS; h++)
        run_host(hosts[h], data, size);

    uint8_t *whole = fuzz_copy(data, size);
    direct_bind(whole, size);
    direct_request(whole, size);
    direct_kms_request(whole, size);
    free(whole);
    return 0;
}
