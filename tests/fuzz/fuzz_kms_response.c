/*
 * libFuzzer target: the KMS response payload alone (the bytes a RESPONSE stub carries; seeds:
 * tests/fuzz/corpus/fuzz_kms_response). kms_response_decode, then kms_response_verify against
 * the golden vectors' V4, V5 and V6 requests and their W_req.
 *
 * Oracle: a response that decodes (V4) or decodes and verifies (V5/V6, so its R is known:
 * R = RandomXoredIVs xor D_K(W_req)) must be re-encoded byte for byte by the host encoder,
 * when its ePID is non-empty ASCII (other text may not survive UTF-16 → UTF-8 → UTF-16) and its
 * length is the canonical one.
 */
#include "cipher.h"
#include "fuzz_common.h"

static struct fuzz_fixed_request fixed[FUZZ_N_FIXED];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_fixed_requests(fixed);
    return 0;
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static void check_reencode(const uint8_t *data, size_t size, const struct kms_response *resp,
                           const struct kms_checks *checks, const uint8_t w_req[16])
{
    if (!resp->epid[0] || !ascii(resp->epid) || !(checks->passed & KMS_CHECK_SIZE))
        return; /* the encoder refuses an empty ePID (PIDSize 2), which decoding accepts */
    if (resp->major == 6 && resp->hmac_slot != 0)
        return; /* the encoder keys its HMAC with slot 0 only */
    struct kms_response_random rnd;
    memset(&rnd, 0, sizeof rnd);
    if (resp->major >= 5) {
        uint8_t div[16];
        cipher_decrypt_block(resp->major == 5 ? &cipher_key_v5 : &cipher_key_v6, w_req, div);
        for (int i = 0; i < 16; i++)
            rnd.r[i] = resp->random_xored_ivs[i] ^ div[i];
        memcpy(rnd.w_resp, resp->w_resp, 16);
    }
    uint8_t out[KMS_RESPONSE_MAX];
    size_t len;
    struct proto_err err;
    FUZZ_ASSERT(kms_response_encode(resp, w_req, &rnd, out, sizeof out, &len, &err) == 0);
    FUZZ_ASSERT(len == size);
    FUZZ_ASSERT(memcmp(out, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kms_response resp;
    struct kms_checks checks;
    struct proto_err err;
    int rc = kms_response_decode(data, size, &resp, &checks, &err);
    FUZZ_ASSERT(rc <= 0);
    FUZZ_ASSERT(strnlen(resp.epid, sizeof resp.epid) < sizeof resp.epid);
    FUZZ_ASSERT(resp.wire_len == size);
    if (rc == 0) {
        FUZZ_ASSERT(size <= KMS_RESPONSE_MAX);
        FUZZ_ASSERT(resp.pid_size >= 2 && resp.pid_size <= KMS_EPID_MAX_BYTES);
        FUZZ_ASSERT(resp.major >= 4 && resp.major <= 6 && resp.minor == 0);
        if (resp.major == 4)
            check_reencode(data, size, &resp, &checks, fixed[0].w_req);
    }
    /* Verify even after a failed decode: the struct is always fully initialised. */
    for (size_t i = 0; i < FUZZ_N_FIXED; i++) {
        struct kms_checks c = checks;
        int vrc = kms_response_verify(&resp, &fixed[i].req, fixed[i].w_req, &c, &err);
        FUZZ_ASSERT(vrc <= 0);
        if (rc == 0 && vrc == 0 && resp.major >= 5)
            check_reencode(data, size, &resp, &c, fixed[i].w_req);
    }
    return 0;
}
