#include "client_session.h"

#include "hresult.h"

#include <stdio.h>
#include <string.h>

#define KMS_MAX_FRAG 5840 /* what Windows and vlmcs offer */

void client_session_options_default(struct client_session_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->offer_ndr64 = true;
    opt->offer_btfn = true;
    opt->alter_context = false;
    opt->conc_mpx = true;
    opt->first_call_id = 2;
}

static void bind_init(struct rpc_bind *bind, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
    memset(bind, 0, sizeof *bind);
    bind->ptype = ptype;
    bind->flags = flags;
    bind->call_id = call_id;
    bind->max_xmit_frag = KMS_MAX_FRAG;
    bind->max_recv_frag = KMS_MAX_FRAG;
}

static void add_item(struct rpc_bind *bind, enum rpc_syntax syntax)
{
    uint16_t id = bind->n_items;
    rpc_context_item_init(&bind->items[bind->n_items++], id, syntax,
                          RPC_BTFN_SEC_CONTEXT_MULTIPLEX | RPC_BTFN_KEEP_ON_ORPHAN);
}

static void fail_protocol(struct client_session *ex, const struct proto_err *err)
{
    ex->state = CLIENT_SESSION_FAILED;
    ex->result.outcome = KMS_OUTCOME_PROTOCOL_ERROR;
    ex->result.err = *err;
}

void client_session_fail(struct client_session *ex, enum kms_outcome outcome, const char *detail)
{
    ex->state = CLIENT_SESSION_FAILED;
    ex->result.outcome = outcome;
    ex->result.err.code = PROTO_OK;
    snprintf(ex->result.err.detail, sizeof ex->result.err.detail, "%s", detail);
}

static int encode_payload(struct client_session *ex, const struct kms_request *req,
                          const uint8_t w_req[16], struct proto_err *err)
{
    ex->request = *req;
    memcpy(ex->w_req, w_req, 16);
    return kms_request_encode(req, w_req, ex->payload, sizeof ex->payload, &ex->payload_len, err);
}

int client_session_begin(struct client_session *ex, const struct client_session_options *opt,
                         const struct kms_request *req, const uint8_t w_req[16], uint8_t *out,
                         size_t cap, size_t *len, struct proto_err *err)
{
    memset(ex, 0, sizeof *ex);
    ex->opt = *opt;
    ex->call_id = opt->first_call_id;
    rpc_negotiated_init(&ex->neg);
    int rc = encode_payload(ex, req, w_req, err);
    if (rc)
        return rc;
    uint8_t flags = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG | (opt->conc_mpx ? RPC_PFC_CONC_MPX : 0);
    bind_init(&ex->sent_bind, RPC_BIND, flags, ex->call_id);
    add_item(&ex->sent_bind, RPC_SYNTAX_NDR32);
    if (opt->offer_ndr64)
        add_item(&ex->sent_bind, RPC_SYNTAX_NDR64);
    if (opt->offer_btfn)
        add_item(&ex->sent_bind, RPC_SYNTAX_BTFN);
    ex->state = CLIENT_SESSION_BIND_SENT;
    return rpc_bind_encode(&ex->sent_bind, out, cap, len, err);
}

/* Chooses the syntax for the next request and encodes it. */
static int send_request(struct client_session *ex, uint8_t *out, size_t cap, size_t *len,
                        struct proto_err *err)
{
    bool use_ndr32 = ex->neg.ndr32_context >= 0;
    /* Windows-faithful: NDR32 for the first request after ALTER_CONTEXT, NDR64 afterwards. */
    if (use_ndr32 && ex->opt.alter_context && ex->used_ndr32_once && ex->neg.ndr64_context >= 0)
        use_ndr32 = false;
    enum rpc_ndr ndr = use_ndr32 ? RPC_NDR32 : RPC_NDR64;
    uint16_t ctx = (uint16_t)(use_ndr32 ? ex->neg.ndr32_context : ex->neg.ndr64_context);
    if (use_ndr32)
        ex->used_ndr32_once = true;
    ex->result.ndr = ndr;
    ex->result.context_id = ctx;
    ex->result.call_id = ex->call_id;
    ex->state = CLIENT_SESSION_REQUEST_SENT;
    return rpc_request_encode(ex->call_id, ctx, ndr, ex->payload, ex->payload_len, out, cap, len,
                              err);
}

static enum client_session_step on_bind_answer(struct client_session *ex, const uint8_t *pdu,
                                               size_t len, uint8_t *out, size_t cap,
                                               size_t *out_len)
{
    struct rpc_bind_ack ack;
    struct proto_err err = {0};
    if (rpc_bind_ack_decode(pdu, len, &ack, &err) ||
        rpc_bind_ack_check(&ex->sent_bind, &ack, &ex->neg, &err)) {
        fail_protocol(ex, &err);
        return CLIENT_SESSION_DONE;
    }
    if (ex->state == CLIENT_SESSION_BIND_SENT && ex->neg.ndr32_context < 0 &&
        ex->opt.alter_context) {
        /* Only NDR64 granted: ask for NDR32 as context 0, as Windows and vlmcs do. */
        bind_init(&ex->sent_bind, RPC_ALTER_CONTEXT, ex->sent_bind.flags, ex->call_id);
        add_item(&ex->sent_bind, RPC_SYNTAX_NDR32);
        ex->state = CLIENT_SESSION_ALTER_SENT;
        if (rpc_bind_encode(&ex->sent_bind, out, cap, out_len, &err)) {
            fail_protocol(ex, &err);
            return CLIENT_SESSION_DONE;
        }
        return CLIENT_SESSION_SEND;
    }
    if (send_request(ex, out, cap, out_len, &err)) {
        fail_protocol(ex, &err);
        return CLIENT_SESSION_DONE;
    }
    return CLIENT_SESSION_SEND;
}

static enum client_session_step on_reply(struct client_session *ex, const uint8_t *pdu, size_t len)
{
    struct client_session_result *res = &ex->result;
    struct rpc_reply reply;
    struct proto_err err = {0};
    if (rpc_reply_decode(pdu, len, res->ndr, res->call_id, res->context_id, &reply, &err)) {
        fail_protocol(ex, &err);
        return CLIENT_SESSION_DONE;
    }
    if (reply.is_fault) {
        ex->state = CLIENT_SESSION_FAILED; /* a host that faults has given up on this association */
        res->outcome = KMS_OUTCOME_RPC_FAULT;
        res->hresult = reply.status;
        snprintf(res->err.detail, sizeof res->err.detail, "RPC fault 0x%08x (%s)", reply.status,
                 rpc_fault_name(reply.status));
        return CLIENT_SESSION_DONE;
    }
    ex->call_id++;
    if (!reply.kms) {
        ex->state = CLIENT_SESSION_IDLE;
        res->outcome = KMS_OUTCOME_HOST_ERROR;
        res->hresult = reply.status;
        snprintf(res->err.detail, sizeof res->err.detail, "host returned 0x%08x (%s)", reply.status,
                 hresult_name(reply.status));
        return CLIENT_SESSION_DONE;
    }
    if (kms_response_decode(reply.kms, reply.kms_len, &res->response, &res->checks, &err) ||
        kms_response_verify(&res->response, &ex->request, ex->w_req, &res->checks, &err)) {
        fail_protocol(ex, &err);
        return CLIENT_SESSION_DONE;
    }
    ex->state = CLIENT_SESSION_IDLE;
    if (res->response.count >= ex->request.n_policy) {
        res->outcome = KMS_OUTCOME_ACTIVATED;
        res->hresult = 0;
    } else {
        res->outcome = KMS_OUTCOME_BELOW_THRESHOLD;
        res->hresult = HR_NOT_ENOUGH_COUNT;
    }
    return CLIENT_SESSION_DONE;
}

enum client_session_step client_session_receive(struct client_session *ex, const uint8_t *pdu,
                                                size_t len, uint8_t *out, size_t cap,
                                                size_t *out_len)
{
    switch (ex->state) {
    case CLIENT_SESSION_BIND_SENT:
    case CLIENT_SESSION_ALTER_SENT:
        return on_bind_answer(ex, pdu, len, out, cap, out_len);
    case CLIENT_SESSION_REQUEST_SENT:
        return on_reply(ex, pdu, len);
    case CLIENT_SESSION_IDLE:
    case CLIENT_SESSION_FAILED:
        break;
    }
    struct proto_err err;
    proto_fail(&err, PROTO_E_RPC_PTYPE, "host sent a PDU while no call was outstanding");
    fail_protocol(ex, &err);
    return CLIENT_SESSION_DONE;
}

int client_session_next_request(struct client_session *ex, const struct kms_request *req,
                                const uint8_t w_req[16], uint8_t *out, size_t cap, size_t *len,
                                struct proto_err *err)
{
    if (ex->state != CLIENT_SESSION_IDLE)
        return proto_fail(err, PROTO_E_ARGUMENT, "connection is not ready for another request");
    memset(&ex->result, 0, sizeof ex->result);
    int rc = encode_payload(ex, req, w_req, err);
    if (rc)
        return rc;
    return send_request(ex, out, cap, len, err);
}
