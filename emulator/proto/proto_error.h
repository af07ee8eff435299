/* Errors of the pure protocol codec: a code that names what failed plus a detail line. */
#ifndef KMSLOAD_PROTO_ERROR_H
#define KMSLOAD_PROTO_ERROR_H

#include <stddef.h>

enum proto_code {
    PROTO_OK = 0,
    PROTO_E_ARGUMENT,    /* caller passed an impossible value (e.g. buffer too small) */
    PROTO_E_TRUNCATED,   /* fewer bytes than the structure needs */
    PROTO_E_OVERSIZED,   /* more bytes than the structure allows */
    PROTO_E_RPC_HEADER,  /* RPC version, data representation, auth or fragment flags wrong */
    PROTO_E_RPC_PTYPE,   /* unexpected PDU type */
    PROTO_E_RPC_CALL_ID, /* reply does not echo the call_id */
    PROTO_E_RPC_CONTEXT, /* context negotiation failed or reply on the wrong context */
    PROTO_E_RPC_STUB,    /* NDR stub malformed (sizes, conformance, referent) */
    PROTO_E_VERSION,     /* KMS protocol version not 4.0, 5.0 or 6.0, or inner != outer */
    PROTO_E_DECRYPT,     /* CBC length or PKCS#7 padding invalid */
    PROTO_E_EPID,        /* ePID length or termination invalid */
    PROTO_E_SIZE,        /* KMS message size inconsistent with its content */
    PROTO_E_MAC,         /* V4 MAC mismatch */
    PROTO_E_HASH,        /* V5/V6 SHA-256 of the random value mismatch */
    PROTO_E_XORED_IVS,   /* V6 XoredIVs != decrypted request IV */
    PROTO_E_HMAC,        /* V6 HMAC mismatch */
    PROTO_E_IV_MISMATCH, /* V5 response IV differs from the request IV */
    PROTO_E_CMID,        /* response CMID does not echo the request */
    PROTO_E_TIMESTAMP,   /* response ClientTime does not echo the request */
    PROTO_E_FIELD,       /* a field holds a value that cannot be encoded */
    PROTO_E__COUNT
};

struct proto_err {
    enum proto_code code;
    char detail[160];
};

/* Short stable identifier, e.g. "hmac-mismatch" (used in CSV/JSON output). */
const char *proto_code_name(enum proto_code code);

/* Records code and a printf-style detail in err (which may be NULL); returns -(int)code. */
int proto_fail(struct proto_err *err, enum proto_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
