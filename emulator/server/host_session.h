/*
 * One connection's RPC conversation on the host side, as a pure state machine: BIND and
 * ALTER_CONTEXT negotiation (§2.4), then REQUESTs answered through host_handle_payload.
 */
#ifndef KMSLOAD_HOST_SESSION_H
#define KMSLOAD_HOST_SESSION_H

#include "host.h"

struct host_session {
    int ndr32_context; /* accepted context ids, -1 if none */
    int ndr64_context;
    uint32_t assoc_group;
    char sec_addr[8]; /* the listening port as text, sent in BIND_ACK */
};

enum host_action {
    HOST_ACTION_SEND,  /* out holds the answer */
    HOST_ACTION_CLOSE, /* the peer broke the protocol: close the connection */
};

void host_session_init(struct host_session *s, uint16_t local_port);

/*
 * Feeds one whole PDU. rec (optional) is filled for REQUESTs (rec->hresult, count...);
 * *is_request tells whether the PDU was a KMS request. err names the problem on CLOSE.
 */
enum host_action host_session_feed(struct kms_host *host, struct host_session *s,
                                   const uint8_t *pdu, size_t len, uint8_t *out, size_t cap,
                                   size_t *out_len, struct host_request_record *rec,
                                   bool *is_request, struct proto_err *err);

#endif
