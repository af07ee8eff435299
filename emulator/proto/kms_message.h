/*
 * KMS requests and responses, protocol V4, V5 and V6 (spec §3, §5-§7): encode, decode and verify.
 * Pure functions; the random values a sender needs (IVs, the host's R) are passed in.
 */
#ifndef KMSLOAD_KMS_MESSAGE_H
#define KMSLOAD_KMS_MESSAGE_H

#include "proto_error.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMS_REQUEST_BASE_LEN 236
#define KMS_V4_REQUEST_LEN 252
#define KMS_V5_REQUEST_LEN 260 /* also V6 */
#define KMS_WORKSTATION_BYTES 128
#define KMS_WORKSTATION_MAX_CHARS 63
#define KMS_EPID_MAX_BYTES 128 /* PIDSize limit, NUL included */
#define KMS_RESPONSE_MAX 292   /* V6 with the largest ePID: 20 + 16 * 17 */
#define KMS_REQUEST_MAX 260

enum kms_license_status {
    KMS_LICENSE_UNLICENSED = 0,
    KMS_LICENSE_LICENSED = 1,
    KMS_LICENSE_OOB_GRACE = 2,
    KMS_LICENSE_OOT_GRACE = 3,
    KMS_LICENSE_NON_GENUINE_GRACE = 4,
    KMS_LICENSE_NOTIFICATION = 5,
    KMS_LICENSE_EXTENDED_GRACE = 6,
};

/* The request base (§3.2), decoded. */
struct kms_request {
    uint16_t major, minor;
    uint32_t vm_info;
    uint32_t license_status;
    uint32_t binding_expiration; /* minutes */
    struct guid app_id, sku_id, kms_id, cmid, cmid_prev;
    uint32_t n_policy;
    uint64_t client_time; /* FILETIME */
    /* UTF-16LE as on the wire, all 128 bytes (a decoded peer request may carry garbage after the
     * NUL; re-encoding keeps it so captures round-trip byte for byte). */
    uint8_t workstation[KMS_WORKSTATION_BYTES];
};

/* Sets the workstation name from UTF-8, zero-filled. -1 if invalid or over 63 characters. */
int kms_request_set_workstation(struct kms_request *req, const char *utf8);
/* The workstation name up to its NUL, as UTF-8. */
void kms_request_workstation(const struct kms_request *req, char *out, size_t cap);
/* Text for a license status value ("OOB grace"), "unknown" outside 0..6. */
const char *kms_license_status_name(uint32_t status);

/*
 * Encodes the KMS request payload. Framing follows req->major: below 5 the V4 layout (MAC), 5 the
 * V5 cipher, 6 and above the V6 cipher (so a client can send unsupported versions for testing).
 * w_req is the 16-byte random IV (unused for V4). Output is 252 or 260 bytes.
 */
int kms_request_encode(const struct kms_request *req, const uint8_t w_req[16], uint8_t *out,
                       size_t cap, size_t *len, struct proto_err *err);

/* What a host learns besides the base when it decodes a request. */
struct kms_request_frame {
    uint8_t w_req[16]; /* V5/V6: the request IV */
    bool v4_mac_ok;    /* V4: MAC matches (a host checks it only in strict mode) */
};

/* Host side: decodes and decrypts a request. Unsupported versions give PROTO_E_VERSION. */
int kms_request_decode(const uint8_t *buf, size_t len, struct kms_request *req,
                       struct kms_request_frame *frame, struct proto_err *err);

/* The response (§3.3 base plus the V5/V6 integrity fields), decoded or to encode. */
struct kms_response {
    uint16_t major, minor;
    char epid[KMS_EPID_MAX_BYTES * 3 / 2 + 1]; /* UTF-8 */
    struct guid cmid;
    uint64_t client_time;
    uint32_t count;
    uint32_t activation_interval; /* minutes */
    uint32_t renewal_interval;    /* minutes */
    uint8_t hwid[8];              /* V6 */
    /* Filled by decoding (computed when encoding). */
    uint32_t pid_size;
    uint8_t w_resp[16];
    uint8_t random_xored_ivs[16];
    uint8_t hash[32];
    uint8_t xored_ivs[16];
    uint8_t hmac[16];
    uint8_t mac[16];
    size_t wire_len;
    int hmac_slot; /* V6: time slot offset k (-1, 0, +1) under which the HMAC matched */
};

/* Random inputs of a host response: R (V5/V6) and the response IV (V6; V5 reuses W_req). */
struct kms_response_random {
    uint8_t r[16];
    uint8_t w_resp[16];
};

/* Host side: builds the response payload for a request whose IV was w_req (NULL for V4). */
int kms_response_encode(const struct kms_response *resp, const uint8_t w_req[16],
                        const struct kms_response_random *rnd, uint8_t *out, size_t cap,
                        size_t *len, struct proto_err *err);

/* Client checks (§5.3, §6.4, §7.5) as bits, for reporting which passed. */
enum kms_check {
    KMS_CHECK_DECRYPT = 1u << 0,
    KMS_CHECK_EPID = 1u << 1,
    KMS_CHECK_VERSION = 1u << 2,
    KMS_CHECK_CMID = 1u << 3,
    KMS_CHECK_TIME = 1u << 4,
    KMS_CHECK_HASH = 1u << 5,
    KMS_CHECK_XORED_IVS = 1u << 6,
    KMS_CHECK_HMAC = 1u << 7,
    KMS_CHECK_MAC4 = 1u << 8,
    KMS_CHECK_IV_ECHO = 1u << 9,   /* V5: W_resp == W_req */
    KMS_CHECK_SIZE = 1u << 10,     /* warning only for V6 */
    KMS_CHECK_IV_FRESH = 1u << 11, /* V6: W_resp != W_req, warning only */
};

struct kms_checks {
    unsigned passed;
    unsigned warned; /* warning-only checks that did not pass */
};

const char *kms_check_name(enum kms_check check);

/*
 * Client side, step 1: decodes a response and checks what it proves by itself (decryption and
 * padding, sizes, ePID, V4 MAC, V6 HMAC). Returns 0 or the first failure.
 */
int kms_response_decode(const uint8_t *buf, size_t len, struct kms_response *resp,
                        struct kms_checks *checks, struct proto_err *err);
/*
 * Client side, step 2: checks the response against the request it answers (versions, CMID and
 * time echo, V5/V6 hash, V6 XoredIVs, V5 IV echo). w_req is the request IV (ignored for V4).
 */
int kms_response_verify(const struct kms_response *resp, const struct kms_request *req,
                        const uint8_t w_req[16], struct kms_checks *checks, struct proto_err *err);

/* V6 HMAC key for a ClientTime and slot offset k (§7.3): SHA-256(LE64(S + k*C1))[16:32]. */
void kms_v6_hmac_key(uint64_t client_time, int k, uint8_t key[16]);

#endif
