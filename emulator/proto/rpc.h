/*
 * DCE/RPC connection-oriented PDUs as KMS uses them (spec §2): BIND, ALTER_CONTEXT, BIND_ACK,
 * ALTER_CONTEXT_RESP, REQUEST, RESPONSE, FAULT, with NDR32 and NDR64 stubs of RequestActivation
 * and bind-time feature negotiation. Pure: buffers in, structs out.
 */
#ifndef KMSLOAD_RPC_H
#define KMSLOAD_RPC_H

#include "proto_error.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rpc_ptype {
    RPC_REQUEST = 0,
    RPC_RESPONSE = 2,
    RPC_FAULT = 3,
    RPC_BIND = 11,
    RPC_BIND_ACK = 12,
    RPC_BIND_NAK = 13,
    RPC_ALTER_CONTEXT = 14,
    RPC_ALTER_CONTEXT_RESP = 15,
};

#define RPC_PFC_FIRST_FRAG 0x01
#define RPC_PFC_LAST_FRAG 0x02
#define RPC_PFC_CONC_MPX 0x10
#define RPC_PFC_DID_NOT_EXECUTE 0x20

#define RPC_HEADER_LEN 16
#define RPC_MAX_PDU 5840 /* the max fragment Windows negotiates; KMS PDUs are far smaller */
#define RPC_MAX_CONTEXTS 8
#define RPC_SEC_ADDR_MAX 32

#define RPC_BTFN_SEC_CONTEXT_MULTIPLEX 0x0001
#define RPC_BTFN_KEEP_ON_ORPHAN 0x0002

extern const struct guid rpc_kms_interface; /* 51c82175-844e-4750-b0d8-ec255555bc06 v1.0 */
extern const struct guid rpc_syntax_ndr32;  /* version 2 */
extern const struct guid rpc_syntax_ndr64;  /* version 1 */

enum rpc_syntax { RPC_SYNTAX_OTHER, RPC_SYNTAX_NDR32, RPC_SYNTAX_NDR64, RPC_SYNTAX_BTFN };
enum rpc_ndr { RPC_NDR32, RPC_NDR64 };

struct rpc_header {
    uint8_t ptype;
    uint8_t flags;
    uint16_t frag_length;
    uint32_t call_id;
};

/*
 * Stream framing: given the first avail bytes of a stream, returns the length of the PDU at its
 * start (its frag_length), 0 if fewer than 16 bytes are available, or a negative proto_code when
 * the header cannot start a KMS PDU (wrong version, frag_length < 16 or > RPC_MAX_PDU).
 */
int rpc_frame_length(const uint8_t *buf, size_t avail, struct proto_err *err);

/* Checks the common header (version 5.0, drep, auth_length 0, frag_length == len, FIRST|LAST). */
int rpc_header_decode(const uint8_t *buf, size_t len, struct rpc_header *hdr,
                      struct proto_err *err);

/* ---- BIND / ALTER_CONTEXT ---- */

struct rpc_context_item {
    uint16_t context_id;
    struct guid abstract_syntax;
    uint16_t if_major, if_minor;
    struct guid transfer_syntax;
    uint32_t transfer_version;
};

struct rpc_bind {
    uint8_t ptype; /* RPC_BIND or RPC_ALTER_CONTEXT */
    uint8_t flags;
    uint32_t call_id;
    uint16_t max_xmit_frag, max_recv_frag;
    uint32_t assoc_group;
    uint8_t n_items;
    struct rpc_context_item items[RPC_MAX_CONTEXTS];
};

/* Fills item as the KMS interface with the given transfer syntax (btfn_features for BTFN). */
void rpc_context_item_init(struct rpc_context_item *item, uint16_t context_id,
                           enum rpc_syntax syntax, uint16_t btfn_features);
/* Classifies a transfer syntax (BTFN by its first 8 bytes; features out of bytes 8-9). */
enum rpc_syntax rpc_syntax_classify(const struct rpc_context_item *item, uint16_t *btfn_features);

int rpc_bind_encode(const struct rpc_bind *bind, uint8_t *out, size_t cap, size_t *len,
                    struct proto_err *err);
int rpc_bind_decode(const uint8_t *buf, size_t len, struct rpc_bind *bind, struct proto_err *err);

/* ---- BIND_ACK / ALTER_CONTEXT_RESP ---- */

enum rpc_result {
    RPC_ACCEPTANCE = 0,
    RPC_USER_REJECTION = 1,
    RPC_PROVIDER_REJECTION = 2,
    RPC_NEGOTIATE_ACK = 3
};
enum rpc_reason { RPC_REASON_NONE = 0, RPC_REASON_ABSTRACT = 1, RPC_REASON_TRANSFER = 2 };

struct rpc_bind_result {
    uint16_t result;
    uint16_t reason; /* for RPC_NEGOTIATE_ACK: the accepted BTFN feature mask */
    struct guid transfer_syntax;
    uint32_t transfer_version;
};

struct rpc_bind_ack {
    uint8_t ptype; /* RPC_BIND_ACK or RPC_ALTER_CONTEXT_RESP */
    uint8_t flags;
    uint32_t call_id;
    uint16_t max_xmit_frag, max_recv_frag;
    uint32_t assoc_group;
    char sec_addr[RPC_SEC_ADDR_MAX]; /* "1688"; empty = none (L = 0) */
    uint8_t n_results;
    struct rpc_bind_result results[RPC_MAX_CONTEXTS];
};

int rpc_bind_ack_encode(const struct rpc_bind_ack *ack, uint8_t *out, size_t cap, size_t *len,
                        struct proto_err *err);
int rpc_bind_ack_decode(const uint8_t *buf, size_t len, struct rpc_bind_ack *ack,
                        struct proto_err *err);

/* Host side (§2.4): fills ack->results for bind's items per the negotiation rules. */
struct rpc_host_caps {
    bool ndr64;
    bool btfn;
};
void rpc_bind_negotiate(const struct rpc_bind *bind, struct rpc_host_caps caps,
                        struct rpc_bind_ack *ack);

/* Client side (§2.4): what a BIND_ACK granted. Context ids are -1 when not granted. */
struct rpc_negotiated {
    int ndr32_context;
    int ndr64_context;
    bool btfn_acked;
    uint16_t btfn_features;
    bool conc_mpx_differs; /* warning: ACK flags' CONC_MPX differs from the BIND's */
};
/* Checks ack against what was sent; merges grants into neg (call with neg zeroed → -1 first). */
int rpc_bind_ack_check(const struct rpc_bind *sent, const struct rpc_bind_ack *ack,
                       struct rpc_negotiated *neg, struct proto_err *err);
void rpc_negotiated_init(struct rpc_negotiated *neg);

/* ---- REQUEST (opnum 0, RequestActivation) ---- */

struct rpc_request {
    uint8_t flags;
    uint32_t call_id;
    uint32_t alloc_hint;
    uint16_t context_id;
    uint16_t opnum;
    const uint8_t *stub; /* points into the decoded buffer */
    size_t stub_len;
};

int rpc_request_encode(uint32_t call_id, uint16_t context_id, enum rpc_ndr ndr, const uint8_t *kms,
                       size_t kms_len, uint8_t *out, size_t cap, size_t *len,
                       struct proto_err *err);
int rpc_request_decode(const uint8_t *buf, size_t len, struct rpc_request *req,
                       struct proto_err *err);
/* Extracts the KMS request bytes from the stub per ndr (§2.8 host parsing). */
int rpc_request_payload(const struct rpc_request *req, enum rpc_ndr ndr, const uint8_t **kms,
                        size_t *kms_len, struct proto_err *err);

/* ---- RESPONSE / FAULT ---- */

/* kms == NULL encodes the error stub carrying hresult; otherwise a success stub (hresult 0). */
int rpc_response_encode(uint32_t call_id, uint16_t context_id, enum rpc_ndr ndr, const uint8_t *kms,
                        size_t kms_len, uint32_t hresult, uint8_t *out, size_t cap, size_t *len,
                        struct proto_err *err);
int rpc_fault_encode(uint32_t call_id, uint32_t status, uint8_t *out, size_t cap, size_t *len,
                     struct proto_err *err);

struct rpc_reply {
    bool is_fault;
    uint32_t call_id;
    uint16_t context_id;
    uint32_t alloc_hint;
    uint32_t status;    /* fault: NCA status; response: RPC return value (HRESULT) */
    const uint8_t *kms; /* NULL for an error stub or a fault */
    size_t kms_len;
    bool alloc_hint_differs; /* warning only */
};

/*
 * Decodes a RESPONSE or FAULT answering the call (call_id, context_id) sent with ndr, applying the
 * client checks of §2.8 in order. A FAULT is accepted whatever its call_id (vlmcsd always sends 2).
 */
int rpc_reply_decode(const uint8_t *buf, size_t len, enum rpc_ndr ndr, uint32_t call_id,
                     uint16_t context_id, struct rpc_reply *reply, struct proto_err *err);

#endif
