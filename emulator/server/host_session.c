#include "host_session.h"

#include "bytes.h"
#include "hresult.h"

#include <stdio.h>
#include <string.h>

void host_session_init(struct host_session *s, uint16_t local_port)
{
    memset(s, 0, sizeof *s);
    s->ndr32_context = -1;
    s->ndr64_context = -1;
    snprintf(s->sec_addr, sizeof s->sec_addr, "%u", local_port);
}

static enum host_action on_bind(struct kms_host *host, struct host_session *s, const uint8_t *pdu,
                                size_t len, uint8_t *out, size_t cap, size_t *out_len,
                                struct proto_err *err)
{
    struct rpc_bind bind;
    if (rpc_bind_decode(pdu, len, &bind, err))
        return HOST_ACTION_CLOSE; /* vlmcsd closes rather than send BIND_NAK */
    struct rpc_bind_ack ack;
    memset(&ack, 0, sizeof ack);
    ack.ptype = bind.ptype == RPC_BIND ? RPC_BIND_ACK : RPC_ALTER_CONTEXT_RESP;
    /* BIND_ACK echoes the BIND's flags, CONC_MPX included, as Windows hosts do; vlmcsd answers
     * ALTER_CONTEXT with plain FIRST|LAST (spec §2.3, the captured vectors). */
    ack.flags = bind.ptype == RPC_BIND ? bind.flags : RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
    ack.call_id = bind.call_id;
    ack.max_xmit_frag = bind.max_xmit_frag;
    ack.max_recv_frag = bind.max_recv_frag;
    if (s->assoc_group == 0)
        s->assoc_group = pcg32_next(&host->rng) | 1u; /* non-zero, per connection */
    ack.assoc_group = s->assoc_group;
    if (bind.ptype == RPC_BIND)
        snprintf(ack.sec_addr, sizeof ack.sec_addr, "%s", s->sec_addr);
    rpc_bind_negotiate(&bind, host->cfg.rpc, &ack);
    for (unsigned i = 0; i < ack.n_results; i++) {
        if (ack.results[i].result != RPC_ACCEPTANCE)
            continue;
        if (rpc_syntax_classify(&bind.items[i], NULL) == RPC_SYNTAX_NDR32)
            s->ndr32_context = bind.items[i].context_id;
        else
            s->ndr64_context = bind.items[i].context_id;
    }
    if (rpc_bind_ack_encode(&ack, out, cap, out_len, err))
        return HOST_ACTION_CLOSE;
    return HOST_ACTION_SEND;
}

static enum host_action send_fault(struct kms_host *host, uint32_t call_id, uint32_t status,
                                   uint8_t *out, size_t cap, size_t *out_len, struct proto_err *err)
{
    host->stats.faults++;
    if (rpc_fault_encode(call_id, status, out, cap, out_len, err))
        return HOST_ACTION_CLOSE;
    return HOST_ACTION_SEND;
}

static enum host_action on_request(struct kms_host *host, struct host_session *s,
                                   const uint8_t *pdu, size_t len, uint8_t *out, size_t cap,
                                   size_t *out_len, struct host_request_record *rec,
                                   struct proto_err *err)
{
    struct rpc_request req;
    if (rpc_request_decode(pdu, len, &req, err))
        return HOST_ACTION_CLOSE;
    enum rpc_ndr ndr;
    if (s->ndr32_context >= 0 && req.context_id == s->ndr32_context)
        ndr = RPC_NDR32;
    else if (s->ndr64_context >= 0 && req.context_id == s->ndr64_context)
        ndr = RPC_NDR64;
    else
        return send_fault(host, req.call_id, RPC_FAULT_UNKNOWN_IF, out, cap, out_len, err);
    if (req.opnum != 0)
        return send_fault(host, req.call_id, RPC_FAULT_OP_RANGE, out, cap, out_len, err);

    const uint8_t *kms;
    size_t kms_len;
    uint8_t answer[KMS_RESPONSE_MAX];
    size_t answer_len = 0;
    uint32_t hr;
    if (rpc_request_payload(&req, ndr, &kms, &kms_len, err) != 0) {
        host->stats.requests++;
        host->stats.errors++;
        memset(rec, 0, sizeof *rec);
        rec->app = -1;
        rec->host_time = host_now(host);
        rec->hresult = hr = HR_INVALID_DATA;
    } else {
        hr = host_handle_payload(host, kms, kms_len, answer, sizeof answer, &answer_len, rec);
    }
    // cppcheck-suppress legacyUninitvar ; answer is read only when hr is 0 (it was written)
    if (rpc_response_encode(req.call_id, req.context_id, ndr, hr ? NULL : answer, answer_len, hr,
                            out, cap, out_len, err))
        return HOST_ACTION_CLOSE;
    return HOST_ACTION_SEND;
}

enum host_action host_session_feed(struct kms_host *host, struct host_session *s,
                                   const uint8_t *pdu, size_t len, uint8_t *out, size_t cap,
                                   size_t *out_len, struct host_request_record *rec,
                                   bool *is_request, struct proto_err *err)
{
    struct host_request_record local;
    if (!rec)
        rec = &local;
    memset(rec, 0, sizeof *rec); /* faults answer requests without a decoded record */
    rec->app = -1;
    *is_request = false;
    if (len < RPC_HEADER_LEN) {
        proto_fail(err, PROTO_E_TRUNCATED, "PDU of %zu bytes", len);
        return HOST_ACTION_CLOSE;
    }
    switch (pdu[2]) {
    case RPC_BIND:
    case RPC_ALTER_CONTEXT:
        return on_bind(host, s, pdu, len, out, cap, out_len, err);
    case RPC_REQUEST:
        *is_request = true;
        return on_request(host, s, pdu, len, out, cap, out_len, rec, err);
    default:
        proto_fail(err, PROTO_E_RPC_PTYPE, "a host does not accept PDU type %u", pdu[2]);
        return HOST_ACTION_CLOSE;
    }
}
