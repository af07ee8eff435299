#include "kms_outcome.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[KMS_OUTCOME__COUNT] = {
    [KMS_OUTCOME_ACTIVATED] = "activated",
    [KMS_OUTCOME_BELOW_THRESHOLD] = "below-threshold",
    [KMS_OUTCOME_HOST_ERROR] = "host-error",
    [KMS_OUTCOME_RPC_FAULT] = "rpc-fault",
    [KMS_OUTCOME_PROTOCOL_ERROR] = "protocol-error",
    [KMS_OUTCOME_REFUSED] = "connect-refused",
    [KMS_OUTCOME_TIMEOUT] = "timeout",
    [KMS_OUTCOME_RESET] = "reset",
    [KMS_OUTCOME_CLOSED] = "closed",
    [KMS_OUTCOME_DNS_ERROR] = "dns-error",
    [KMS_OUTCOME_UNREACHABLE] = "unreachable",
    [KMS_OUTCOME_LOCAL_ERROR] = "local-error",
};

const char *kms_outcome_name(enum kms_outcome outcome)
{
    return (unsigned)outcome < KMS_OUTCOME__COUNT ? names[outcome] : "unknown";
}

bool kms_outcome_parse(const char *name, enum kms_outcome *out)
{
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (strcmp(name, names[o]) == 0) {
            *out = (enum kms_outcome)o;
            return true;
        }
    if (strcmp(name, "refused") == 0) { /* events.csv of earlier versions */
        *out = KMS_OUTCOME_REFUSED;
        return true;
    }
    return false;
}

bool kms_outcome_has_count(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_ACTIVATED || outcome == KMS_OUTCOME_BELOW_THRESHOLD;
}

bool kms_outcome_not_connected(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_REFUSED || outcome == KMS_OUTCOME_DNS_ERROR ||
           outcome == KMS_OUTCOME_UNREACHABLE || outcome == KMS_OUTCOME_LOCAL_ERROR;
}

bool kms_outcome_no_answer(enum kms_outcome outcome)
{
    return kms_outcome_not_connected(outcome) || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

enum kms_outcome kms_outcome_of_connect_errno(int e)
{
    switch (e) {
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
        return KMS_OUTCOME_UNREACHABLE;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
    case EADDRNOTAVAIL:
        return KMS_OUTCOME_LOCAL_ERROR;
    case ETIMEDOUT:
        return KMS_OUTCOME_TIMEOUT;
    default:
        return KMS_OUTCOME_REFUSED;
    }
}

uint32_t kms_outcome_client_status(enum kms_outcome outcome, uint32_t hresult)
{
    if (outcome == KMS_OUTCOME_ACTIVATED)
        return 0;
    if (outcome == KMS_OUTCOME_BELOW_THRESHOLD)
        return 0xC004F038u;
    return hresult;
}

void kms_outcome_hresult_label(enum kms_outcome outcome, uint32_t hresult, char *out, size_t cap)
{
    if (kms_outcome_has_count(outcome) || outcome == KMS_OUTCOME_HOST_ERROR ||
        outcome == KMS_OUTCOME_RPC_FAULT)
        snprintf(out, cap, "0x%08X", (unsigned)kms_outcome_client_status(outcome, hresult));
    else
        snprintf(out, cap, "none");
}
