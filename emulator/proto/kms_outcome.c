#include "kms_outcome.h"

const char *kms_outcome_name(enum kms_outcome outcome)
{
    static const char *const names[KMS_OUTCOME__COUNT] = {
        [KMS_OUTCOME_ACTIVATED] = "activated",
        [KMS_OUTCOME_BELOW_THRESHOLD] = "below-threshold",
        [KMS_OUTCOME_HOST_ERROR] = "host-error",
        [KMS_OUTCOME_RPC_FAULT] = "rpc-fault",
        [KMS_OUTCOME_PROTOCOL_ERROR] = "protocol-error",
        [KMS_OUTCOME_REFUSED] = "refused",
        [KMS_OUTCOME_TIMEOUT] = "timeout",
        [KMS_OUTCOME_RESET] = "reset",
        [KMS_OUTCOME_CLOSED] = "closed",
    };
    return (unsigned)outcome < KMS_OUTCOME__COUNT ? names[outcome] : "unknown";
}

bool kms_outcome_has_count(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_ACTIVATED || outcome == KMS_OUTCOME_BELOW_THRESHOLD;
}

bool kms_outcome_no_answer(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_REFUSED || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}
