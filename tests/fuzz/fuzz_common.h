/*
 * Shared pieces of the libFuzzer harnesses: the fixed requests (decoded from the golden vectors'
 * payloads in fuzz_vectors.h), stream framing as the network layer does it, and an oracle helper.
 * Header-only (static inline) because each harness is a single translation unit.
 */
#ifndef KMSLOAD_FUZZ_COMMON_H
#define KMSLOAD_FUZZ_COMMON_H

#include "fuzz_vectors.h"
#include "kms_message.h"
#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A harness invariant broke: report and abort, which libFuzzer records as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A request the harnesses verify responses against: the vectors' V4, V5 and V6 requests. */
struct fuzz_fixed_request {
    struct kms_request req;
    uint8_t w_req[16]; /* zero for V4 */
};

#define FUZZ_N_FIXED 3

static inline void fuzz_fixed_requests(struct fuzz_fixed_request out[FUZZ_N_FIXED])
{
    static const struct {
        const uint8_t *bytes;
        size_t len;
    } src[FUZZ_N_FIXED] = {
        {fuzz_v4_request, sizeof fuzz_v4_request},
        {fuzz_v5_request, sizeof fuzz_v5_request},
        {fuzz_v6_request, sizeof fuzz_v6_request},
    };
    for (size_t i = 0; i < FUZZ_N_FIXED; i++) {
        struct kms_request_frame frame;
        struct proto_err err;
        memset(&out[i], 0, sizeof out[i]);
        if (kms_request_decode(src[i].bytes, src[i].len, &out[i].req, &frame, &err) != 0) {
            fprintf(stderr, "fuzz: fixed request %zu does not decode: %s\n", i, err.detail);
            abort();
        }
        memcpy(out[i].w_req, frame.w_req, 16);
    }
}

/*
 * Frames a byte stream as the network layer does: returns the length of the whole PDU at
 * data[*off], or 0 when none is left (too few bytes, a header that cannot start a PDU, or a
 * frag_length running past the end: the network layer would wait or close).
 */
static inline size_t fuzz_next_pdu(const uint8_t *data, size_t size, size_t off)
{
    if (off >= size)
        return 0;
    int n = rpc_frame_length(data + off, size - off, NULL);
    if (n <= 0 || (size_t)n > size - off)
        return 0;
    return (size_t)n;
}

/* An exact-size heap copy, so that AddressSanitizer sees any read past the PDU's end. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    FUZZ_ASSERT(p != NULL);
    if (len)
        memcpy(p, data, len);
    return p;
}

/* True when [p, p + len) lies inside [base, base + size). */
static inline bool fuzz_inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
    return p >= base && p <= base + size && len <= (size_t)(base + size - p);
}

#endif
