/*
 * libFuzzer target: what a client does with the host's bytes. The input is a RESPONSE/FAULT PDU
 * or a host → client stream of PDUs (seeds: tests/fuzz/corpus/fuzz_response_pdu).
 *
 * 1. rpc_reply_decode of the whole input for NDR32 (call_id 2, context 0) and NDR64 (call_id 3,
 *    context 1, as in the vectors' second requests); KMS bytes found are decoded with
 *    kms_response_decode and verified against the vectors' V4, V5 and V6 requests.
 * 2. The client state machine: client_session_begin (once, at start-up; each input resumes from a
 * copy) with each of those requests under three option sets (Windows-faithful with ALTER_CONTEXT,
 * which the vectors follow; kmsload's default; minimal NDR32-only BIND), then the input framed into
 * PDUs with rpc_frame_length and fed through client_session_receive, with
 * client_session_next_request after each completed request.
 */
#include "client_session.h"
#include "fuzz_common.h"

#define N_OPTIONS 3

static struct fuzz_fixed_request fixed[FUZZ_N_FIXED];
static struct client_session_options options[N_OPTIONS];
/* The state right after client_session_begin for each (options, request): begin is deterministic
 * and struct client_session holds no pointers, so each input starts from a copy (begin encrypts the
 * request, which would otherwise dominate the time per input). */
static struct client_session begun[N_OPTIONS][FUZZ_N_FIXED];

static void check_sent(const struct client_session *ex, const uint8_t *out, size_t out_len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_fixed_requests(fixed);
    client_session_options_default(&options[0]);
    options[0].alter_context = true; /* vlmcs and Windows: what the vectors show */
    client_session_options_default(&options[1]);
    client_session_options_default(&options[2]);
    options[2].offer_ndr64 = false;
    options[2].offer_btfn = false;
    options[2].conc_mpx = false;
    for (size_t o = 0; o < N_OPTIONS; o++) {
        for (size_t r = 0; r < FUZZ_N_FIXED; r++) {
            static uint8_t out[RPC_MAX_PDU];
            size_t out_len;
            struct proto_err err;
            FUZZ_ASSERT(client_session_begin(&begun[o][r], &options[o], &fixed[r].req,
                                             fixed[r].w_req, out, sizeof out, &out_len, &err) == 0);
            check_sent(&begun[o][r], out, out_len);
        }
    }
    return 0;
}

static void decode_kms(const uint8_t *kms, size_t len)
{
    struct kms_response resp;
    struct kms_checks checks;
    struct proto_err err;
    int rc = kms_response_decode(kms, len, &resp, &checks, &err);
    FUZZ_ASSERT(rc <= 0);
    FUZZ_ASSERT(strnlen(resp.epid, sizeof resp.epid) < sizeof resp.epid);
    if (rc != 0)
        return;
    for (size_t i = 0; i < FUZZ_N_FIXED; i++) {
        struct kms_checks c = checks;
        kms_response_verify(&resp, &fixed[i].req, fixed[i].w_req, &c, &err);
    }
}

static void decode_reply(const uint8_t *pdu, size_t len, enum rpc_ndr ndr, uint32_t call_id,
                         uint16_t context_id)
{
    struct rpc_reply reply;
    struct proto_err err;
    if (rpc_reply_decode(pdu, len, ndr, call_id, context_id, &reply, &err) != 0)
        return;
    if (reply.is_fault) {
        FUZZ_ASSERT(reply.kms == NULL);
        return;
    }
    FUZZ_ASSERT(reply.call_id == call_id && reply.context_id == context_id);
    if (!reply.kms) {
        FUZZ_ASSERT(reply.status != 0); /* an error stub carries an HRESULT */
        return;
    }
    FUZZ_ASSERT(reply.status == 0);
    FUZZ_ASSERT(fuzz_inside(reply.kms, reply.kms_len, pdu, len));
    uint8_t *kms = fuzz_copy(reply.kms, reply.kms_len);
    decode_kms(kms, reply.kms_len);
    free(kms);
}

static void check_sent(const struct client_session *ex, const uint8_t *out, size_t out_len)
{
    struct proto_err err;
    FUZZ_ASSERT(out_len >= RPC_HEADER_LEN && out_len <= RPC_MAX_PDU);
    FUZZ_ASSERT(rpc_frame_length(out, out_len, &err) == (int)out_len);
    if (ex->state == CLIENT_SESSION_REQUEST_SENT) {
        struct rpc_request req;
        const uint8_t *kms;
        size_t kms_len;
        FUZZ_ASSERT(rpc_request_decode(out, out_len, &req, &err) == 0);
        FUZZ_ASSERT(req.call_id == ex->result.call_id && req.context_id == ex->result.context_id);
        FUZZ_ASSERT(rpc_request_payload(&req, ex->result.ndr, &kms, &kms_len, &err) == 0);
        FUZZ_ASSERT(kms_len == ex->payload_len && memcmp(kms, ex->payload, kms_len) == 0);
    } else {
        struct rpc_bind bind;
        FUZZ_ASSERT(rpc_bind_decode(out, out_len, &bind, &err) == 0);
    }
}

static void check_done(const struct client_session *ex)
{
    const struct client_session_result *res = &ex->result;
    FUZZ_ASSERT(res->outcome < KMS_OUTCOME__COUNT);
    if (kms_outcome_has_count(res->outcome)) {
        unsigned need = KMS_CHECK_VERSION | KMS_CHECK_CMID | KMS_CHECK_TIME | KMS_CHECK_EPID;
        if (ex->request.major >= 5)
            need |= KMS_CHECK_DECRYPT | KMS_CHECK_HASH;
        if (ex->request.major == 4)
            need |= KMS_CHECK_MAC4;
        if (ex->request.major >= 6)
            need |= KMS_CHECK_HMAC | KMS_CHECK_XORED_IVS;
        FUZZ_ASSERT((res->checks.passed & need) == need);
        FUZZ_ASSERT(guid_equal(&res->response.cmid, &ex->request.cmid));
        FUZZ_ASSERT(res->response.client_time == ex->request.client_time);
        FUZZ_ASSERT(ex->state == CLIENT_SESSION_IDLE);
    }
}

static void run_exchange(const uint8_t *data, size_t size, const struct client_session *start,
                         const struct fuzz_fixed_request *fr)
{
    static uint8_t out[RPC_MAX_PDU];
    struct client_session ex = *start;
    struct proto_err err;
    size_t out_len;

    size_t off = 0, n;
    while ((n = fuzz_next_pdu(data, size, off)) > 0) {
        uint8_t *pdu = fuzz_copy(data + off, n);
        off += n;
        out_len = 0;
        enum client_session_step step =
            client_session_receive(&ex, pdu, n, out, sizeof out, &out_len);
        free(pdu);
        if (step == CLIENT_SESSION_SEND) {
            check_sent(&ex, out, out_len);
            continue;
        }
        FUZZ_ASSERT(step == CLIENT_SESSION_DONE);
        check_done(&ex);
        if (ex.state != CLIENT_SESSION_IDLE)
            break;
        /* The connection is still usable: the same request again, as `-n 2` does. */
        FUZZ_ASSERT(client_session_next_request(&ex, &fr->req, fr->w_req, out, sizeof out, &out_len,
                                                &err) == 0);
        check_sent(&ex, out, out_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *whole = fuzz_copy(data, size);
    decode_reply(whole, size, RPC_NDR32, 2, 0);
    decode_reply(whole, size, RPC_NDR64, 3, 1);
    free(whole);

    for (size_t o = 0; o < N_OPTIONS; o++)
        for (size_t r = 0; r < FUZZ_N_FIXED; r++)
            run_exchange(data, size, &begun[o][r], &fixed[r]);
    return 0;
}
