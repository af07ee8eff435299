/* DCE/RPC PDUs: round trips, the host negotiation rules, client checks and malformed input. */
#include "bytes.h"
#include "rpc.h"

#include <criterion/criterion.h>
#include <string.h>

static struct rpc_bind windows_bind(uint32_t call_id)
{
    struct rpc_bind b;
    memset(&b, 0, sizeof b);
    b.ptype = RPC_BIND;
    b.flags = 0x13;
    b.call_id = call_id;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    rpc_context_item_init(&b.items[0], 0, RPC_SYNTAX_NDR32, 0);
    rpc_context_item_init(&b.items[1], 1, RPC_SYNTAX_NDR64, 0);
    rpc_context_item_init(&b.items[2], 2, RPC_SYNTAX_BTFN, 3);
    b.n_items = 3;
    return b;
}

Test(rpc, bind_round_trip_is_160_bytes)
{
    struct rpc_bind b = windows_bind(2), back;
    uint8_t buf[512];
    size_t len;
    cr_assert_eq(rpc_bind_encode(&b, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 160);
    cr_assert_eq(le16_get(buf + 8), 160);
    cr_assert_eq(rpc_frame_length(buf, len, NULL), 160);
    cr_assert_eq(rpc_bind_decode(buf, len, &back, NULL), 0);
    cr_assert_eq(back.n_items, 3);
    cr_assert_eq(back.call_id, 2);
    cr_assert_eq(rpc_syntax_classify(&back.items[1], NULL), RPC_SYNTAX_NDR64);
    uint16_t features = 0;
    cr_assert_eq(rpc_syntax_classify(&back.items[2], &features), RPC_SYNTAX_BTFN);
    cr_assert_eq(features, 3);
}

static void negotiate(bool ndr64, bool btfn, struct rpc_bind_ack *ack)
{
    struct rpc_bind b = windows_bind(2);
    memset(ack, 0, sizeof *ack);
    rpc_bind_negotiate(&b, (struct rpc_host_caps){.ndr64 = ndr64, .btfn = btfn}, ack);
}

Test(rpc, host_rejects_ndr32_when_ndr64_is_offered_and_supported)
{
    struct rpc_bind_ack ack;
    negotiate(true, true, &ack);
    cr_assert_eq(ack.n_results, 3);
    cr_assert_eq(ack.results[0].result, RPC_PROVIDER_REJECTION);
    cr_assert_eq(ack.results[0].reason, RPC_REASON_TRANSFER);
    cr_assert_eq(ack.results[1].result, RPC_ACCEPTANCE);
    cr_assert(guid_equal(&ack.results[1].transfer_syntax, &rpc_syntax_ndr64));
    cr_assert_eq(ack.results[1].transfer_version, 1);
    cr_assert_eq(ack.results[2].result, RPC_NEGOTIATE_ACK);
    cr_assert_eq(ack.results[2].reason, 3);
}

Test(rpc, host_without_ndr64_or_btfn)
{
    struct rpc_bind_ack ack;
    negotiate(false, false, &ack);
    cr_assert_eq(ack.results[0].result, RPC_ACCEPTANCE);
    cr_assert_eq(ack.results[0].transfer_version, 2);
    cr_assert_eq(ack.results[1].result, RPC_PROVIDER_REJECTION);
    cr_assert_eq(ack.results[2].result, RPC_PROVIDER_REJECTION);
}

Test(rpc, host_rejects_foreign_interfaces)
{
    struct rpc_bind b = windows_bind(2);
    struct rpc_bind_ack ack = {0};
    b.items[1].abstract_syntax.b[0] ^= 1;
    rpc_bind_negotiate(&b, (struct rpc_host_caps){.ndr64 = true, .btfn = true}, &ack);
    cr_assert_eq(ack.results[1].result, RPC_PROVIDER_REJECTION);
    cr_assert_eq(ack.results[1].reason, RPC_REASON_ABSTRACT);
    /* With the NDR64 item unusable, NDR32 is still rejected: NDR64 was offered. */
    cr_assert_eq(ack.results[0].result, RPC_PROVIDER_REJECTION);
}

Test(rpc, bind_ack_round_trip_and_client_check)
{
    struct rpc_bind sent = windows_bind(7);
    struct rpc_bind_ack ack, back;
    negotiate(true, true, &ack);
    ack.ptype = RPC_BIND_ACK;
    ack.flags = 0x13;
    ack.call_id = 7;
    ack.assoc_group = 0x1234;
    strcpy(ack.sec_addr, "11688");
    uint8_t buf[512];
    size_t len;
    cr_assert_eq(rpc_bind_ack_encode(&ack, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 108); /* as in the vectors: L = 6, results at 32 */
    cr_assert_eq(buf[32], 3);
    cr_assert_eq(rpc_bind_ack_decode(buf, len, &back, NULL), 0);
    cr_assert_str_eq(back.sec_addr, "11688");
    struct rpc_negotiated neg;
    rpc_negotiated_init(&neg);
    cr_assert_eq(rpc_bind_ack_check(&sent, &back, &neg, NULL), 0);
    cr_assert_eq(neg.ndr32_context, -1);
    cr_assert_eq(neg.ndr64_context, 1);
    cr_assert(neg.btfn_acked);
    cr_assert_eq(neg.btfn_features, 3);

    /* A sec_addr of "1688\0" (L = 5) needs 3 pad bytes: results start at 32 as well. */
    strcpy(ack.sec_addr, "1688");
    cr_assert_eq(rpc_bind_ack_encode(&ack, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(buf[32], 3);
    /* No sec_addr: results at 28. */
    ack.sec_addr[0] = '\0';
    cr_assert_eq(rpc_bind_ack_encode(&ack, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(buf[28], 3);
    cr_assert_eq(rpc_bind_ack_decode(buf, len, &back, NULL), 0);
}

Test(rpc, client_check_catches_bad_acks)
{
    struct rpc_bind sent = windows_bind(2);
    struct rpc_bind_ack ack;
    struct rpc_negotiated neg;
    struct proto_err err;
    negotiate(true, true, &ack);
    ack.ptype = RPC_BIND_ACK;
    ack.call_id = 3;
    rpc_negotiated_init(&neg);
    cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &err), -(int)PROTO_E_RPC_CALL_ID);

    ack.call_id = 2;
    ack.n_results = 2;
    cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &err), -(int)PROTO_E_RPC_CONTEXT);

    ack.n_results = 3;
    ack.results[1].transfer_syntax = rpc_syntax_ndr32; /* accepted a syntax not offered there */
    cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &err), -(int)PROTO_E_RPC_CONTEXT);

    negotiate(true, true, &ack);
    ack.ptype = RPC_BIND_ACK;
    ack.call_id = 2;
    ack.results[1].result = RPC_PROVIDER_REJECTION;
    rpc_negotiated_init(&neg);
    cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &err), -(int)PROTO_E_RPC_CONTEXT);
    cr_assert(strstr(err.detail, "neither NDR32 nor NDR64"), "%s", err.detail);

    negotiate(true, true, &ack);
    ack.ptype = RPC_ALTER_CONTEXT_RESP;
    ack.call_id = 2;
    cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &err), -(int)PROTO_E_RPC_PTYPE);
}

static const uint8_t kms_payload[260] = {0, 0, 6, 0, 0xaa, 0xbb};

Test(rpc, request_stubs_ndr32_and_ndr64)
{
    uint8_t buf[512];
    size_t len;
    struct rpc_request req;
    const uint8_t *kms;
    size_t kms_len;
    cr_assert_eq(rpc_request_encode(5, 0, RPC_NDR32, kms_payload, 260, buf, sizeof buf, &len, NULL),
                 0);
    cr_assert_eq(len, 292);
    cr_assert_eq(le32_get(buf + 16), 268, "alloc_hint = N + 8");
    cr_assert_eq(rpc_request_decode(buf, len, &req, NULL), 0);
    cr_assert_eq(req.call_id, 5);
    cr_assert_eq(rpc_request_payload(&req, RPC_NDR32, &kms, &kms_len, NULL), 0);
    cr_assert_eq(kms_len, 260);
    cr_assert_arr_eq(kms, kms_payload, 260);

    cr_assert_eq(rpc_request_encode(6, 1, RPC_NDR64, kms_payload, 260, buf, sizeof buf, &len, NULL),
                 0);
    cr_assert_eq(len, 300);
    cr_assert_eq(le32_get(buf + 16), 276, "alloc_hint = N + 16");
    cr_assert_eq(rpc_request_decode(buf, len, &req, NULL), 0);
    cr_assert_eq(rpc_request_payload(&req, RPC_NDR64, &kms, &kms_len, NULL), 0);
    cr_assert_arr_eq(kms, kms_payload, 260);
    /* Read with the wrong syntax, the conformance does not match. */
    cr_assert_lt(rpc_request_payload(&req, RPC_NDR32, &kms, &kms_len, NULL), 0);
}

Test(rpc, response_stubs_and_padding)
{
    uint8_t buf[512], kms[162];
    size_t len;
    struct rpc_reply reply;
    memset(kms, 0x42, sizeof kms);
    /* 162 bytes: two NDR pad bytes before the return value. */
    cr_assert_eq(rpc_response_encode(2, 0, RPC_NDR32, kms, 162, 0, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 24 + 12 + 162 + 2 + 4);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 0, &reply, NULL), 0);
    cr_assert_not(reply.is_fault);
    cr_assert_eq(reply.kms_len, 162);
    cr_assert_arr_eq(reply.kms, kms, 162);
    cr_assert_not(reply.alloc_hint_differs);

    cr_assert_eq(rpc_response_encode(3, 1, RPC_NDR64, kms, 160, 0, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 24 + 24 + 160 + 4);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR64, 3, 1, &reply, NULL), 0);
    cr_assert_eq(reply.kms_len, 160);

    /* Error stubs: 12 bytes (NDR32), 20 bytes (NDR64), HRESULT last. */
    cr_assert_eq(
        rpc_response_encode(4, 0, RPC_NDR32, NULL, 0, 0x8007000D, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 36);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 4, 0, &reply, NULL), 0);
    cr_assert_null(reply.kms);
    cr_assert_eq(reply.status, 0x8007000D);
    cr_assert_eq(
        rpc_response_encode(4, 1, RPC_NDR64, NULL, 0, 0xC004F042, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 44);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR64, 4, 1, &reply, NULL), 0);
    cr_assert_eq(reply.status, 0xC004F042);
}

Test(rpc, reply_checks)
{
    uint8_t buf[512], kms[160] = {0};
    size_t len;
    struct rpc_reply reply;
    struct proto_err err;
    rpc_response_encode(2, 0, RPC_NDR32, kms, 160, 0, buf, sizeof buf, &len, NULL);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 3, 0, &reply, &err),
                 -(int)PROTO_E_RPC_CALL_ID);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 1, &reply, &err),
                 -(int)PROTO_E_RPC_CONTEXT);
    buf[22] = 1; /* cancel_count */
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 0, &reply, &err), -(int)PROTO_E_RPC_STUB);
    buf[22] = 0;
    le32_put(buf + 24 + 8, 161); /* conformance != responseSize */
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 0, &reply, &err), -(int)PROTO_E_RPC_STUB);
    le32_put(buf + 24, 4000); /* responseSize beyond the stub */
    le32_put(buf + 24 + 8, 4000);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 0, &reply, &err),
                 -(int)PROTO_E_TRUNCATED);
    buf[3] = 0x01; /* FIRST_FRAG only */
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 2, 0, &reply, &err),
                 -(int)PROTO_E_RPC_HEADER);
    cr_assert(strstr(err.detail, "fragmented"), "%s", err.detail);
}

Test(rpc, fault_is_accepted_whatever_its_call_id)
{
    uint8_t buf[64];
    size_t len;
    struct rpc_reply reply;
    cr_assert_eq(rpc_fault_encode(2, 0x1c010003, buf, sizeof buf, &len, NULL), 0);
    cr_assert_eq(len, 32);
    cr_assert_eq(buf[3], 0x23);
    cr_assert_eq(rpc_reply_decode(buf, len, RPC_NDR32, 9, 0, &reply, NULL), 0);
    cr_assert(reply.is_fault);
    cr_assert_eq(reply.status, 0x1c010003);
}

Test(rpc, framing_rejects_what_cannot_be_kms)
{
    uint8_t hdr[16] = {5, 0, 2, 3, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    struct proto_err err;
    cr_assert_eq(rpc_frame_length(hdr, 15, &err), 0, "needs a whole header");
    le16_put(hdr + 8, 10);
    cr_assert_lt(rpc_frame_length(hdr, 16, &err), 0);
    le16_put(hdr + 8, 60000);
    cr_assert_eq(rpc_frame_length(hdr, 16, &err), -(int)PROTO_E_OVERSIZED);
    le16_put(hdr + 8, 300);
    hdr[0] = 4;
    cr_assert_eq(rpc_frame_length(hdr, 16, &err), -(int)PROTO_E_RPC_HEADER);
}

Test(rpc, encoders_refuse_small_buffers)
{
    struct rpc_bind b = windows_bind(2);
    uint8_t buf[100];
    size_t len;
    struct proto_err err;
    cr_assert_eq(rpc_bind_encode(&b, buf, sizeof buf, &len, &err), -(int)PROTO_E_ARGUMENT);
    cr_assert_eq(rpc_request_encode(2, 0, RPC_NDR32, kms_payload, 260, buf, sizeof buf, &len, &err),
                 -(int)PROTO_E_ARGUMENT);
}

Test(rpc, bind_decode_limits)
{
    struct rpc_bind b = windows_bind(2), back;
    uint8_t buf[512];
    size_t len;
    rpc_bind_encode(&b, buf, sizeof buf, &len, NULL);
    buf[24] = 200; /* n_context_elem far beyond what the PDU holds */
    cr_assert_eq(rpc_bind_decode(buf, len, &back, NULL), -(int)PROTO_E_OVERSIZED);
    buf[24] = 4;
    cr_assert_eq(rpc_bind_decode(buf, len, &back, NULL), -(int)PROTO_E_TRUNCATED);
    buf[24] = 3;
    buf[28 + 2] = 2; /* two transfer syntaxes in item 0 */
    cr_assert_eq(rpc_bind_decode(buf, len, &back, NULL), -(int)PROTO_E_RPC_CONTEXT);
}
