/*
 * One client conversation with a KMS host as a pure state machine: BIND → (ALTER_CONTEXT) →
 * REQUEST → RESPONSE, then optionally more REQUESTs on the same connection. It produces the bytes
 * to send and consumes whole PDUs received; the network layer only moves bytes. Shared by
 * `kmsload probe` and the load engine.
 */
#ifndef KMSLOAD_EXCHANGE_H
#define KMSLOAD_EXCHANGE_H

#include "kms_message.h"
#include "rpc.h"

#include <stdbool.h>
#include <stdint.h>

/* How one activation attempt ended, as the engine and probe classify it. */
enum kms_outcome {
    KMS_OUTCOME_ACTIVATED,       /* valid response, count >= N_Policy */
    KMS_OUTCOME_BELOW_THRESHOLD, /* valid response, count < N_Policy (client logs 0xC004F038) */
    KMS_OUTCOME_HOST_ERROR,      /* host answered with an HRESULT */
    KMS_OUTCOME_RPC_FAULT,       /* host answered with an RPC FAULT */
    KMS_OUTCOME_PROTOCOL_ERROR,  /* the host's bytes broke the protocol or failed verification */
    KMS_OUTCOME_REFUSED,         /* TCP connect failed (refused, unreachable, no address) */
    KMS_OUTCOME_TIMEOUT,         /* no complete answer in time */
    KMS_OUTCOME_RESET,           /* connection reset by the host */
    KMS_OUTCOME_CLOSED,          /* connection closed by the host before the answer */
    KMS_OUTCOME__COUNT
};

/* Stable identifier for files ("activated", "below-threshold", "host-error", ...). */
const char *kms_outcome_name(enum kms_outcome outcome);
/* True for outcomes where the host answered at the KMS level (a count is known). */
bool kms_outcome_has_count(enum kms_outcome outcome);

struct exchange_options {
    bool offer_ndr64;   /* offer NDR64 beside NDR32, as Windows 8+ does */
    bool offer_btfn;    /* offer bind-time feature negotiation (features 0x0003) */
    bool alter_context; /* Windows-faithful: if only NDR64 is granted, ALTER_CONTEXT to NDR32 */
    bool conc_mpx;      /* set CONC_MPX on the BIND as Windows does */
    uint32_t first_call_id;
};

/* Windows defaults: NDR32+NDR64+BTFN offered, CONC_MPX, call_id 2, no ALTER_CONTEXT dance. */
void exchange_options_default(struct exchange_options *opt);

struct exchange_result {
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

enum exchange_state {
    EXCHANGE_BIND_SENT,
    EXCHANGE_ALTER_SENT,
    EXCHANGE_REQUEST_SENT,
    EXCHANGE_IDLE,
    EXCHANGE_FAILED
};

struct exchange {
    struct exchange_options opt;
    enum exchange_state state;
    struct rpc_bind sent_bind; /* the BIND or ALTER_CONTEXT awaiting its answer */
    struct rpc_negotiated neg;
    uint32_t call_id;     /* call_id of the next PDU */
    bool used_ndr32_once; /* Windows-faithful mode: NDR32 first, NDR64 afterwards */
    struct kms_request request;
    uint8_t w_req[16];
    uint8_t payload[KMS_REQUEST_MAX];
    size_t payload_len;
    struct exchange_result result;
};

/* Outcome of feeding a PDU in. */
enum exchange_step {
    EXCHANGE_SEND = 1, /* out holds the next PDU to send */
    EXCHANGE_DONE = 2, /* ex->result is final for this request */
};

/* Starts a conversation: writes the BIND PDU into out. Returns 0 or a negative proto code. */
int exchange_begin(struct exchange *ex, const struct exchange_options *opt,
                   const struct kms_request *req, const uint8_t w_req[16], uint8_t *out, size_t cap,
                   size_t *len, struct proto_err *err);

/* Feeds one whole PDU from the host. Returns EXCHANGE_SEND or EXCHANGE_DONE (never fails:
 * protocol errors end the exchange with KMS_OUTCOME_PROTOCOL_ERROR in ex->result). */
enum exchange_step exchange_receive(struct exchange *ex, const uint8_t *pdu, size_t len,
                                    uint8_t *out, size_t cap, size_t *out_len);

/* After EXCHANGE_DONE with the connection still usable (state IDLE): writes the next REQUEST. */
int exchange_next_request(struct exchange *ex, const struct kms_request *req,
                          const uint8_t w_req[16], uint8_t *out, size_t cap, size_t *len,
                          struct proto_err *err);

/* Ends the exchange from outside (network failure). */
void exchange_fail(struct exchange *ex, enum kms_outcome outcome, const char *detail);

#endif
