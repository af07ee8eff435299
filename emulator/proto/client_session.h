/*
 * One client conversation with a KMS host as a pure state machine: BIND → (ALTER_CONTEXT) →
 * REQUEST → RESPONSE, then optionally more REQUESTs on the same connection. It produces the bytes
 * to send and consumes whole PDUs received; the network layer only moves bytes. Shared by
 * `kmsload probe` and the load engine.
 */
#ifndef KMSLOAD_CLIENT_SESSION_H
#define KMSLOAD_CLIENT_SESSION_H

#include "kms_message.h"
#include "kms_outcome.h"
#include "rpc.h"

#include <stdbool.h>
#include <stdint.h>

struct client_session_options {
    bool offer_ndr64;   /* offer NDR64 beside NDR32, as Windows 8+ does */
    bool offer_btfn;    /* offer bind-time feature negotiation (features 0x0003) */
    bool alter_context; /* Windows-faithful: if only NDR64 is granted, ALTER_CONTEXT to NDR32 */
    bool conc_mpx;      /* set CONC_MPX on the BIND as Windows does */
    uint32_t first_call_id;
};

/* Windows defaults: NDR32+NDR64+BTFN offered, CONC_MPX, call_id 2, no ALTER_CONTEXT dance. */
void client_session_options_default(struct client_session_options *opt);

struct client_session_result {
    enum kms_outcome outcome;
    uint32_t hresult;             /* HOST_ERROR: the HRESULT; BELOW_THRESHOLD: 0xC004F038;
                                     RPC_FAULT: the NCA status */
    struct kms_response response; /* ACTIVATED / BELOW_THRESHOLD */
    struct kms_checks checks;
    struct proto_err err; /* PROTOCOL_ERROR: what failed */
    enum rpc_ndr ndr;     /* syntax the request travelled in */
    uint16_t context_id;
    uint32_t call_id;
};

enum client_session_state {
    CLIENT_SESSION_BIND_SENT,
    CLIENT_SESSION_ALTER_SENT,
    CLIENT_SESSION_REQUEST_SENT,
    CLIENT_SESSION_IDLE,
    CLIENT_SESSION_FAILED
};

struct client_session {
    struct client_session_options opt;
    enum client_session_state state;
    struct rpc_bind sent_bind; /* the BIND or ALTER_CONTEXT awaiting its answer */
    struct rpc_negotiated neg;
    uint32_t call_id;     /* call_id of the next PDU */
    bool used_ndr32_once; /* Windows-faithful mode: NDR32 first, NDR64 afterwards */
    struct kms_request request;
    uint8_t w_req[16];
    uint8_t payload[KMS_REQUEST_MAX];
    size_t payload_len;
    struct client_session_result result;
};

/* Outcome of feeding a PDU in. */
enum client_session_step {
    CLIENT_SESSION_SEND = 1, /* out holds the next PDU to send */
    CLIENT_SESSION_DONE = 2, /* ex->result is final for this request */
};

/* Starts a conversation: writes the BIND PDU into out. Returns 0 or a negative proto code. */
int client_session_begin(struct client_session *ex, const struct client_session_options *opt,
                         const struct kms_request *req, const uint8_t w_req[16], uint8_t *out,
                         size_t cap, size_t *len, struct proto_err *err);

/* Feeds one whole PDU from the host. Returns CLIENT_SESSION_SEND or CLIENT_SESSION_DONE (never
 * fails: protocol errors end the exchange with KMS_OUTCOME_PROTOCOL_ERROR in ex->result). */
enum client_session_step client_session_receive(struct client_session *ex, const uint8_t *pdu,
                                                size_t len, uint8_t *out, size_t cap,
                                                size_t *out_len);

/* After CLIENT_SESSION_DONE with the connection still usable (state IDLE): writes the next REQUEST.
 */
int client_session_next_request(struct client_session *ex, const struct kms_request *req,
                                const uint8_t w_req[16], uint8_t *out, size_t cap, size_t *len,
                                struct proto_err *err);

/* Ends the exchange from outside (network failure). */
void client_session_fail(struct client_session *ex, enum kms_outcome outcome, const char *detail);

#endif
