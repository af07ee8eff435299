/* HRESULTs and RPC fault statuses seen in KMS (spec §8), decoded to names and one-line meanings. */
#ifndef KMSLOAD_HRESULT_H
#define KMSLOAD_HRESULT_H

#include <stdint.h>

/* Codes a host sends in the RPC return value. */
#define HR_INVALID_DATA 0x8007000Du      /* unsupported protocol version / undecodable request */
#define HR_KMS_ID_MISMATCH 0xC004F042u   /* host will not activate this product */
#define HR_INVALID_TIMESTAMP 0xC004F06Cu /* client time more than 4 h from host time */
#define HR_OVERCHARGED 0xC004D104u       /* host client list overcharged */
#define HR_HOST_NOT_ACTIVATED 0xC004F041u
#define HR_SERVICE_NOT_ENABLED 0xC004F039u
/* Client-side outcomes (never on the wire). */
#define HR_NOT_ENOUGH_COUNT 0xC004F038u
#define HR_SERVICE_UNAVAILABLE 0xC004F074u
#define HR_VM_NOT_SUPPORTED 0xC004F06Bu

/* RPC (NCA) fault statuses. */
#define RPC_FAULT_UNKNOWN_IF 0x1c010003u
#define RPC_FAULT_PROTO_ERROR 0x1c01000bu
#define RPC_FAULT_OP_RANGE 0x1c010002u

struct status_info {
    uint32_t code;
    const char *name;    /* symbolic name, e.g. "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH" */
    const char *meaning; /* one line for a person */
    const char *advice;  /* what an administrator can do about it, one line; NULL when nothing */
};

/* NULL when the code is not in the table. */
const struct status_info *hresult_lookup(uint32_t code);
const struct status_info *rpc_fault_lookup(uint32_t status);
/* Never NULL: "unknown HRESULT" / "unknown RPC status" for codes outside the tables. */
const char *hresult_name(uint32_t code);
const char *hresult_meaning(uint32_t code);
const char *rpc_fault_name(uint32_t status);
const char *rpc_fault_meaning(uint32_t status);
/* What to do about a code of either table (the one advice table that probe, coverage, watch and
 * fleet print); NULL for codes outside the tables or with nothing to advise. */
const char *status_advice(uint32_t code);
/* Name of a code that may be either (tallies keep host HRESULTs and RPC fault statuses
 * together); "unknown status" outside both tables. */
const char *status_name(uint32_t code);

#endif
