#include "proto_error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const proto_code_names[PROTO_E__COUNT] = {
    [PROTO_OK] = "ok",
    [PROTO_E_ARGUMENT] = "bad-argument",
    [PROTO_E_TRUNCATED] = "truncated",
    [PROTO_E_OVERSIZED] = "oversized",
    [PROTO_E_RPC_HEADER] = "rpc-header",
    [PROTO_E_RPC_PTYPE] = "rpc-ptype",
    [PROTO_E_RPC_CALL_ID] = "rpc-call-id",
    [PROTO_E_RPC_CONTEXT] = "rpc-context",
    [PROTO_E_RPC_STUB] = "rpc-stub",
    [PROTO_E_VERSION] = "kms-version",
    [PROTO_E_DECRYPT] = "decryption",
    [PROTO_E_EPID] = "epid",
    [PROTO_E_SIZE] = "kms-size",
    [PROTO_E_MAC] = "v4-mac-mismatch",
    [PROTO_E_HASH] = "hash-mismatch",
    [PROTO_E_XORED_IVS] = "xored-ivs-mismatch",
    [PROTO_E_HMAC] = "hmac-mismatch",
    [PROTO_E_IV_MISMATCH] = "v5-iv-mismatch",
    [PROTO_E_CMID] = "cmid-mismatch",
    [PROTO_E_TIMESTAMP] = "timestamp-mismatch",
    [PROTO_E_FIELD] = "bad-field",
};

const char *proto_code_name(enum proto_code code)
{
    if ((unsigned)code >= PROTO_E__COUNT)
        return "unknown";
    return proto_code_names[code];
}

int proto_fail(struct proto_err *err, enum proto_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
    }
    return -(int)code;
}
