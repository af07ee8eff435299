/* How one activation attempt ended: the outcome classes shared by the client session, the probe,
 * the engine and every file of a run. */
#ifndef KMSLOAD_KMS_OUTCOME_H
#define KMSLOAD_KMS_OUTCOME_H

#include <stdbool.h>

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
/* True for outcomes where nothing came back from the host (refused, timeout, reset, closed). */
bool kms_outcome_no_answer(enum kms_outcome outcome);

#endif
