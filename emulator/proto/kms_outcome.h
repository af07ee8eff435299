/* How one activation attempt ended: the outcome classes shared by the client session, the probe,
 * the engine, the reference host and every file and metrics page of a run (the one label
 * vocabulary: console, events.csv, summary.json, junit.xml and every /metrics page use these
 * names and this HRESULT format). */
#ifndef KMSLOAD_KMS_OUTCOME_H
#define KMSLOAD_KMS_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How one activation attempt ended, as the engine and probe classify it. Files name them with
 * kms_outcome_name; the enumerators' order is not stored anywhere. */
enum kms_outcome {
    KMS_OUTCOME_ACTIVATED,       /* valid response, count >= N_Policy */
    KMS_OUTCOME_BELOW_THRESHOLD, /* valid response, count < N_Policy (client logs 0xC004F038) */
    KMS_OUTCOME_HOST_ERROR,      /* host answered with an HRESULT (0xC004F042 a key refusal) */
    KMS_OUTCOME_RPC_FAULT,       /* host answered with an RPC FAULT */
    KMS_OUTCOME_PROTOCOL_ERROR,  /* the host's bytes broke the protocol or failed verification */
    KMS_OUTCOME_REFUSED,         /* the TCP connection was refused (ECONNREFUSED, host off) */
    KMS_OUTCOME_TIMEOUT,         /* no complete answer in time */
    KMS_OUTCOME_RESET,           /* connection reset by the host */
    KMS_OUTCOME_CLOSED,          /* connection closed by the host before the answer */
    KMS_OUTCOME_DNS_ERROR,       /* the name did not resolve, or DNS published no host */
    KMS_OUTCOME_UNREACHABLE,     /* no route to the host (ENETUNREACH, EHOSTUNREACH) */
    KMS_OUTCOME_LOCAL_ERROR,     /* this machine could not try (EMFILE, ENFILE, out of memory) */
    KMS_OUTCOME__COUNT
};

/* Stable identifier for files and labels ("activated", "below-threshold", "host-error",
 * "connect-refused", "dns-error", ...). */
const char *kms_outcome_name(enum kms_outcome outcome);
/* The outcome a name stands for (also "refused", the name of connect-refused in files of
 * earlier versions); false when the name is unknown. */
bool kms_outcome_parse(const char *name, enum kms_outcome *out);
/* True for outcomes where the host answered at the KMS level (a count is known). */
bool kms_outcome_has_count(enum kms_outcome outcome);
/* True for outcomes where nothing came back from the host (refused, timeout, reset, closed,
 * DNS, unreachable, local errors). */
bool kms_outcome_no_answer(enum kms_outcome outcome);
/* True for outcomes where no connection was made at all (connect-refused, dns-error,
 * unreachable, local-error): the host never saw the request. */
bool kms_outcome_not_connected(enum kms_outcome outcome);
/* The outcome of a connect() that failed with errno e: connect-refused, unreachable,
 * local-error (EMFILE, ENFILE, ENOBUFS, ENOMEM) or timeout. */
enum kms_outcome kms_outcome_of_connect_errno(int e);

/* The HRESULT label of an attempt, the same on every page: "0x%08X" of the status a Windows
 * client would log (0x00000000 activated, 0xC004F038 below threshold, the host's HRESULT or RPC
 * fault status), "none" when the host gave no KMS answer. */
void kms_outcome_hresult_label(enum kms_outcome outcome, uint32_t hresult, char *out, size_t cap);
/* The status a client logs for a KMS answer: 0 when activated, 0xC004F038 below threshold. */
uint32_t kms_outcome_client_status(enum kms_outcome outcome, uint32_t hresult);

#endif
