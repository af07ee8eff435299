/*
 * Tampered captures: every single-bit flip and every truncation of real V4/V5/V6 KMS responses,
 * RESPONSE PDUs and BIND_ACK/ALTER_CONTEXT_RESP PDUs must be rejected with a named protocol
 * error (never a crash, never a silent success), and the error must be the one the damaged field
 * calls for. Messages re-sealed with a valid V6 HMAC reach the checks behind it (hash, XoredIVs).
 *
 * Buffers are heap copies of exactly the tested length so AddressSanitizer sees any over-read.
 */
#include "bytes.h"
#include "cipher.h"
#include "digest.h"
#include "kms_message.h"
#include "proto_error.h"
#include "rpc.h"
#include "vector_file.h"
#include "wintypes.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_TEST_DIR
#error "KMSLOAD_TEST_DIR must name the tests directory"
#endif
#define VECTOR_DIR KMSLOAD_TEST_DIR "/vectors"

#define C(code) (1u << PROTO_E_##code)

/* ---- one captured exchange ---- */

struct client_session {
    struct vector_file vf;
    const struct vf_pdu *bind, *bind_ack, *alter, *alter_resp, *req_pdu, *resp_pdu;
    uint32_t call_id;
    uint16_t context_id;
    enum rpc_ndr ndr;
    struct kms_request req;
    struct kms_request_frame frame;
    uint8_t kms_req[KMS_REQUEST_MAX];
    size_t kms_req_len;
    uint8_t kms[KMS_RESPONSE_MAX]; /* the KMS response */
    size_t kms_len;
    size_t kms_offset; /* of the KMS response in the RESPONSE PDU */
    struct kms_response resp;
};

/* Loads the nth (1-based) request/response pair of stream 1 of vector name. */
static void exchange_load(struct client_session *x, const char *name, unsigned nth)
{
    char err[300];
    memset(x, 0, sizeof *x);
    cr_assert_eq(vector_load(VECTOR_DIR, name, &x->vf, err, sizeof err), 0, "%s: %s", name, err);
    const struct vf_stream *s = &x->vf.streams[0];
    struct rpc_negotiated neg;
    struct rpc_bind sent;
    struct proto_err e = {0};
    rpc_negotiated_init(&neg);
    unsigned seen = 0;
    for (size_t i = 0; i < s->n_pdus && !x->resp_pdu; i++) {
        const struct vf_pdu *p = &s->pdus[i];
        uint8_t ptype = p->data[2];
        if (ptype == RPC_BIND || ptype == RPC_ALTER_CONTEXT) {
            cr_assert_eq(rpc_bind_decode(p->data, p->len, &sent, &e), 0, "%s: %s", name, e.detail);
            *(ptype == RPC_BIND ? &x->bind : &x->alter) = p;
        } else if (ptype == RPC_BIND_ACK || ptype == RPC_ALTER_CONTEXT_RESP) {
            struct rpc_bind_ack ack;
            cr_assert_eq(rpc_bind_ack_decode(p->data, p->len, &ack, &e), 0, "%s: %s", name,
                         e.detail);
            cr_assert_eq(rpc_bind_ack_check(&sent, &ack, &neg, &e), 0, "%s: %s", name, e.detail);
            *(ptype == RPC_BIND_ACK ? &x->bind_ack : &x->alter_resp) = p;
        } else if (ptype == RPC_REQUEST && ++seen == nth) {
            x->req_pdu = p;
            x->resp_pdu = &s->pdus[i + 1];
        }
    }
    cr_assert(x->req_pdu && x->resp_pdu, "%s has no request %u", name, nth);

    struct rpc_request rr;
    const uint8_t *kms;
    cr_assert_eq(rpc_request_decode(x->req_pdu->data, x->req_pdu->len, &rr, &e), 0, "%s: %s", name,
                 e.detail);
    x->call_id = rr.call_id;
    x->context_id = rr.context_id;
    x->ndr = (int)rr.context_id == neg.ndr64_context ? RPC_NDR64 : RPC_NDR32;
    cr_assert_eq(rpc_request_payload(&rr, x->ndr, &kms, &x->kms_req_len, &e), 0, "%s: %s", name,
                 e.detail);
    memcpy(x->kms_req, kms, x->kms_req_len);
    cr_assert_eq(kms_request_decode(kms, x->kms_req_len, &x->req, &x->frame, &e), 0, "%s: %s", name,
                 e.detail);

    struct rpc_reply reply;
    cr_assert_eq(rpc_reply_decode(x->resp_pdu->data, x->resp_pdu->len, x->ndr, x->call_id,
                                  x->context_id, &reply, &e),
                 0, "%s: %s", name, e.detail);
    cr_assert(reply.kms != NULL && reply.kms_len <= sizeof x->kms, "%s: no KMS response", name);
    memcpy(x->kms, reply.kms, reply.kms_len);
    x->kms_len = reply.kms_len;
    x->kms_offset = (size_t)(reply.kms - x->resp_pdu->data);

    struct kms_checks checks;
    cr_assert_eq(kms_response_decode(x->kms, x->kms_len, &x->resp, &checks, &e), 0, "%s: %s", name,
                 e.detail);
    cr_assert_eq(kms_response_verify(&x->resp, &x->req, x->frame.w_req, &checks, &e), 0, "%s: %s",
                 name, e.detail);
}

/* NULL when (rc, e) describe a proper codec failure, else what is wrong with them. */
static const char *bad_failure(int rc, const struct proto_err *e)
{
    if (rc >= 0)
        return "no error";
    if (-rc >= PROTO_E__COUNT)
        return "return value is not a proto_code";
    if (e->code != (enum proto_code) - rc)
        return "err.code differs from the return value";
    if (e->code == PROTO_E_ARGUMENT)
        return "PROTO_E_ARGUMENT for wire data";
    if (e->detail[0] == '\0')
        return "no detail text";
    if (strcmp(proto_code_name(e->code), "unknown") == 0)
        return "code without a name";
    return NULL;
}

static void err_reset(struct proto_err *e)
{
    e->code = PROTO_OK;
    e->detail[0] = '\0';
}

/* Client decode + verify of a KMS response against the exchange's request. */
static int kms_outcome(const struct client_session *x, const uint8_t *buf, size_t len,
                       struct kms_response *resp, struct proto_err *e)
{
    struct kms_checks checks;
    err_reset(e);
    int rc = kms_response_decode(buf, len, resp, &checks, e);
    if (rc == 0)
        rc = kms_response_verify(resp, &x->req, x->frame.w_req, &checks, e);
    return rc;
}

/* True when a and b decode to the same response apart from the ePID text. */
static bool only_epid_differs(const struct kms_response *a, const struct kms_response *b)
{
    return strcmp(a->epid, b->epid) != 0 && a->pid_size == b->pid_size && a->major == b->major &&
           a->minor == b->minor && guid_equal(&a->cmid, &b->cmid) &&
           a->client_time == b->client_time && a->count == b->count &&
           a->activation_interval == b->activation_interval &&
           a->renewal_interval == b->renewal_interval &&
           memcmp(a->random_xored_ivs, b->random_xored_ivs, 16) == 0 &&
           memcmp(a->hash, b->hash, 32) == 0 && memcmp(a->w_resp, b->w_resp, 16) == 0;
}

static bool same_response(const struct kms_response *a, const struct kms_response *b)
{
    return strcmp(a->epid, b->epid) == 0 && a->pid_size == b->pid_size && a->major == b->major &&
           a->minor == b->minor && guid_equal(&a->cmid, &b->cmid) &&
           a->client_time == b->client_time && a->count == b->count &&
           a->activation_interval == b->activation_interval &&
           a->renewal_interval == b->renewal_interval && memcmp(a->hwid, b->hwid, 8) == 0 &&
           memcmp(a->hash, b->hash, 32) == 0 && memcmp(a->hmac, b->hmac, 16) == 0 &&
           memcmp(a->mac, b->mac, 16) == 0;
}

static void codes_text(unsigned mask, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int c = 1; c < PROTO_E__COUNT; c++)
        if (mask & (1u << c))
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "|" : "",
                                  proto_code_name((enum proto_code)c));
    if (!mask)
        snprintf(out, cap, "any named error");
}

/* ---- KMS response: every bit ---- */

struct kms_region {
    size_t from, to; /* byte offsets in the KMS response */
    unsigned codes;  /* allowed failures; 0 = any named error */
    bool epid_only;  /* V5: may go undetected if only the ePID text changes (see below) */
    const char *what;
};

static const struct kms_region *region_at(const struct kms_region *r, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++)
        if (off >= r[i].from && off < r[i].to)
            return &r[i];
    return NULL;
}

static void flip_every_kms_bit(const struct client_session *x, const struct kms_region *regions,
                               size_t n_regions)
{
    const char *name = x->vf.name;
    size_t len = x->kms_len;
    uint8_t *buf = malloc(len);
    cr_assert(buf != NULL);
    for (size_t i = 0; i < len; i++) {
        const struct kms_region *rg = region_at(regions, n_regions, i);
        if (!rg)
            cr_assert_fail("%s: byte %zu of the KMS response has no expectation", name, i);
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, x->kms, len);
            buf[i] ^= (uint8_t)(1u << bit);
            struct kms_response resp;
            struct proto_err e;
            int rc = kms_outcome(x, buf, len, &resp, &e);
            if (rc == 0) {
                if (!rg->epid_only)
                    cr_assert_fail("%s: flipping bit %d of KMS byte %zu (%s) goes undetected", name,
                                   bit, i, rg->what);
                if (!only_epid_differs(&x->resp, &resp))
                    cr_assert_fail("%s: undetected flip of bit %d of KMS byte %zu (%s) changes "
                                   "more than the ePID text",
                                   name, bit, i, rg->what);
                continue;
            }
            const char *bad = bad_failure(rc, &e);
            if (bad)
                cr_assert_fail("%s: bit %d of KMS byte %zu (%s): %s (rc %d)", name, bit, i,
                               rg->what, bad, rc);
            if (rg->codes && !(rg->codes & (1u << e.code))) {
                char want[200];
                codes_text(rg->codes, want, sizeof want);
                cr_assert_fail("%s: bit %d of KMS byte %zu (%s): %s (%s), expected %s", name, bit,
                               i, rg->what, proto_code_name(e.code), e.detail, want);
            }
        }
    }
    free(buf);
}

Test(tamper, v4_response_every_bit)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    size_t p = x.resp.pid_size, base = 44 + p;
    cr_assert_eq(x.kms_len, base + 16);
    const struct kms_region regions[] = {
        {0, 4, C(VERSION) | C(DECRYPT), false, "version (4 → 5/6 is V5/V6 framing)"},
        {4, 8, C(EPID), false, "PIDSize"},
        {8, 6 + p, C(MAC), false, "ePID characters"},
        {6 + p, 8 + p, C(EPID), false, "ePID terminating NUL"},
        {8 + p, base, C(MAC), false, "CMID, ClientTime, count, intervals"},
        {base, base + 16, C(MAC), false, "V4 MAC"},
    };
    flip_every_kms_bit(&x, regions, sizeof regions / sizeof regions[0]);
    vector_free(&x.vf);
}

/*
 * V5 authenticates nothing but the CMID/ClientTime echo and the R/Hash pair (spec §6.4): a flip in
 * ciphertext blocks 1-5 garbles ePID characters only, which no V5 check can see. Those flips may
 * pass, but then nothing other than the ePID text may have changed.
 */
Test(tamper, v5_response_every_bit)
{
    struct client_session x;
    exchange_load(&x, "v5", 1);
    cr_assert_eq(x.resp.pid_size, 100);
    cr_assert_eq(x.kms_len, 228); /* T5 = 192 bytes = 12 blocks, then a whole pad block */
    /* Wire: version 0-3, W_resp 4-19, ciphertext block k at 20 + 16k (plaintext 16k..16k+15). */
    const struct kms_region regions[] = {
        {0, 4, 0, false, "outer version"},
        {4, 8, C(VERSION), false, "W_resp → inner version"},
        {8, 12, C(EPID), false, "W_resp → PIDSize"},
        {12, 20, C(IV_MISMATCH), false, "W_resp → ePID, caught by the V5 IV echo"},
        {20, 36, C(EPID) | C(VERSION), false, "block 0: version, PIDSize"},
        {36, 116, C(EPID) | C(CMID), true, "blocks 1-5: ePID characters"},
        {116, 132, C(EPID) | C(CMID), false, "block 6: ePID end, NUL, CMID start"},
        {132, 148, C(CMID), false, "block 7: CMID"},
        {148, 164, C(TIMESTAMP), false, "block 8: ClientTime end, count, intervals"},
        {164, 196, C(HASH), false, "blocks 9-10: RandomXoredIVs, Hash"},
        {196, 212, C(DECRYPT), false, "block 11: Hash end (flips a pad bit)"},
        {212, 228, C(DECRYPT) | C(SIZE), false, "block 12: padding"},
    };
    flip_every_kms_bit(&x, regions, sizeof regions / sizeof regions[0]);
    vector_free(&x.vf);
}

Test(tamper, v6_response_every_bit)
{
    struct client_session x;
    exchange_load(&x, "v6", 1);
    cr_assert_eq(x.resp.pid_size, 100);
    cr_assert_eq(x.kms_len, 260); /* T6 = 232 bytes; block 14 = HMAC end + 8 pad bytes */
    const struct kms_region regions[] = {
        {0, 4, 0, false, "outer version"},
        {4, 8, C(VERSION), false, "W_resp → inner version"},
        {8, 12, C(EPID), false, "W_resp → PIDSize"},
        {12, 20, C(HMAC), false, "W_resp → ePID and DRIV"},
        {20, 36, C(EPID) | C(VERSION), false, "block 0: version, PIDSize"},
        {36, 116, C(HMAC) | C(EPID), false, "blocks 1-5: ePID characters"},
        {116, 132, C(EPID) | C(HMAC), false, "block 6: ePID end, NUL, CMID start"},
        {132, 236, C(HMAC), false, "blocks 7-13: CMID … XoredIVs, HMAC"},
        {236, 244, C(DECRYPT), false, "block 13, second half: flips a pad bit"},
        {244, 260, C(DECRYPT) | C(SIZE), false, "last block: HMAC end and padding"},
    };
    flip_every_kms_bit(&x, regions, sizeof regions / sizeof regions[0]);
    vector_free(&x.vf);
}

/* ---- KMS response: truncation and extension ---- */

static void truncate_and_extend(const char *name, unsigned allowed_truncated,
                                unsigned allowed_extended)
{
    struct client_session x;
    exchange_load(&x, name, 1);
    char want[200];
    for (size_t n = 0; n < x.kms_len; n++) {
        uint8_t *buf = malloc(n ? n : 1);
        cr_assert(buf != NULL);
        memcpy(buf, x.kms, n);
        struct kms_response resp;
        struct proto_err e;
        int rc = kms_outcome(&x, buf, n, &resp, &e);
        const char *bad = bad_failure(rc, &e);
        if (bad)
            cr_assert_fail("%s: KMS response truncated to %zu of %zu bytes: %s", name, n, x.kms_len,
                           bad);
        codes_text(allowed_truncated, want, sizeof want);
        cr_assert(allowed_truncated & (1u << e.code),
                  "%s: truncated to %zu bytes: %s (%s), expected %s", name, n,
                  proto_code_name(e.code), e.detail, want);
        free(buf);
    }
    for (size_t extra = 1; extra <= KMS_RESPONSE_MAX + 1 - x.kms_len; extra++) {
        for (int fill = 0; fill < 2; fill++) {
            size_t n = x.kms_len + extra;
            uint8_t *buf = malloc(n);
            cr_assert(buf != NULL);
            memcpy(buf, x.kms, x.kms_len);
            memset(buf + x.kms_len, fill ? 0xff : 0x00, extra);
            struct kms_response resp;
            struct proto_err e;
            int rc = kms_outcome(&x, buf, n, &resp, &e);
            const char *bad = bad_failure(rc, &e);
            if (bad)
                cr_assert_fail("%s: KMS response with %zu extra %02x bytes: %s", name, extra,
                               fill ? 0xff : 0, bad);
            unsigned allowed = allowed_extended | (n > KMS_RESPONSE_MAX ? C(OVERSIZED) : 0);
            codes_text(allowed, want, sizeof want);
            cr_assert(allowed & (1u << e.code), "%s: %zu extra bytes: %s (%s), expected %s", name,
                      extra, proto_code_name(e.code), e.detail, want);
            free(buf);
        }
    }
    vector_free(&x.vf);
}

Test(tamper, v4_response_truncated_and_extended)
{
    truncate_and_extend("v4", C(TRUNCATED) | C(SIZE), C(SIZE));
}

Test(tamper, v5_response_truncated_and_extended)
{
    truncate_and_extend("v5", C(TRUNCATED) | C(DECRYPT) | C(SIZE) | C(EPID), C(DECRYPT) | C(SIZE));
}

Test(tamper, v6_response_truncated_and_extended)
{
    truncate_and_extend("v6", C(TRUNCATED) | C(DECRYPT) | C(SIZE) | C(EPID), C(DECRYPT) | C(SIZE));
}

/* ---- KMS response vs. the request it answers (kms_response_verify) ---- */

static int verify_code(const struct client_session *x, const struct kms_request *req,
                       const uint8_t w_req[16])
{
    struct kms_checks checks = {0};
    struct proto_err e;
    err_reset(&e);
    int rc = kms_response_verify(&x->resp, req, w_req, &checks, &e);
    cr_assert(rc == 0 || bad_failure(rc, &e) == NULL, "%s: %s", x->vf.name, bad_failure(rc, &e));
    return rc;
}

Test(tamper, verify_against_mismatching_request)
{
    static const char *const names[] = {"v4", "v5", "v6"};
    for (size_t v = 0; v < 3; v++) {
        struct client_session x;
        exchange_load(&x, names[v], 1);
        struct kms_request req = x.req;
        uint8_t w_req[16];
        memcpy(w_req, x.frame.w_req, 16);
        cr_assert_eq(verify_code(&x, &req, w_req), 0, "%s: the real request", names[v]);

        req.cmid.b[15] ^= 0x01;
        cr_assert_eq(verify_code(&x, &req, w_req), -(int)PROTO_E_CMID, "%s: other CMID", names[v]);
        req = x.req;
        req.client_time += 1;
        cr_assert_eq(verify_code(&x, &req, w_req), -(int)PROTO_E_TIMESTAMP, "%s: other ClientTime",
                     names[v]);
        req = x.req;
        req.major = req.major == 6 ? 5 : 6;
        cr_assert_eq(verify_code(&x, &req, w_req), -(int)PROTO_E_VERSION, "%s: other version",
                     names[v]);
        req = x.req;
        req.minor = 1;
        cr_assert_eq(verify_code(&x, &req, w_req), -(int)PROTO_E_VERSION, "%s: minor version",
                     names[v]);
        req = x.req;
        /* The request IV: V5 checks the echo first, V6 sees a different DIV in the hash. */
        w_req[0] ^= 0x80;
        int want = x.resp.major == 4   ? 0
                   : x.resp.major == 5 ? -(int)PROTO_E_IV_MISMATCH
                                       : -(int)PROTO_E_HASH;
        cr_assert_eq(verify_code(&x, &req, w_req), want, "%s: other request IV", names[v]);
        /* Fields that are not echoed do not matter. */
        req.n_policy += 100;
        req.workstation[0] ^= 1;
        memcpy(w_req, x.frame.w_req, 16);
        cr_assert_eq(verify_code(&x, &req, w_req), 0, "%s: unechoed fields changed", names[v]);
        vector_free(&x.vf);
    }
}

/* ---- re-sealed V4/V5/V6 messages: integrity intact, content wrong ---- */

/* V6: decrypts the response into plain (returns its padded length). */
static size_t v6_open(const struct client_session *x, uint8_t *plain)
{
    size_t clen = x->kms_len - 20;
    cipher_cbc_decrypt(&cipher_key_v6, x->kms + 4, x->kms + 20, clen, plain);
    return clen;
}

/*
 * V6: recomputes the HMAC of plain (time slot offset k) and encrypts it under w_resp into out.
 * The key is derived here from §7.3 directly (S = (FT div C1) * C2 + C3 + k * C1, mod 2^64;
 * Kh = SHA-256(LE64(S))[16:32]), independently of kms_v6_hmac_key.
 */
static void v6_seal(const struct client_session *x, uint8_t *plain, size_t plain_len,
                    const uint8_t w_resp[16], int k, uint8_t *out)
{
    size_t p = x->resp.pid_size, covered = 116 + p;
    uint8_t key[16], driv[16], mac[32], input[16 + 116 + KMS_EPID_MAX_BYTES], s_le[8];
    uint64_t ft = le64_get(plain + 24 + p);
    uint64_t slot = (ft / 0x00000022816889BDULL) * 0x000000208CBAB5EDULL + 0x3156CD5AC628477AULL +
                    (uint64_t)(int64_t)k * 0x00000022816889BDULL;
    le64_put(s_le, slot);
    digest_sha256(s_le, sizeof s_le, mac);
    memcpy(key, mac + 16, 16);
    cipher_decrypt_block(&cipher_key_v6, w_resp, driv);
    memcpy(input, driv, 16);
    memcpy(input + 16, plain, covered);
    digest_hmac_sha256(key, sizeof key, input, 16 + covered, mac);
    memcpy(plain + covered, mac + 16, 16);
    memcpy(out, x->kms, 4);
    memcpy(out + 4, w_resp, 16);
    cipher_cbc_encrypt(&cipher_key_v6, w_resp, plain, plain_len, out + 20);
}

static int decode_code(const uint8_t *buf, size_t len, struct kms_response *resp,
                       struct kms_checks *checks)
{
    struct proto_err e;
    err_reset(&e);
    int rc = kms_response_decode(buf, len, resp, checks, &e);
    cr_assert(rc == 0 || bad_failure(rc, &e) == NULL, "decode: %s", bad_failure(rc, &e));
    return rc;
}

Test(tamper, v6_resealed_responses)
{
    struct client_session x;
    exchange_load(&x, "v6", 1);
    size_t p = x.resp.pid_size;
    uint8_t plain[KMS_RESPONSE_MAX], out[KMS_RESPONSE_MAX];
    struct kms_response resp;
    struct kms_checks checks;
    size_t plain_len = v6_open(&x, plain);

    /* Re-sealing the untouched plaintext reproduces the capture (the helper is sound). */
    v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
    cr_assert_arr_eq(out, x.kms, x.kms_len, "re-sealed V6 response differs from the capture");

    /* HMAC under the neighbouring time slots is accepted (vlmcs does), two slots away is not. */
    for (int k = -2; k <= 2; k++) {
        v6_open(&x, plain);
        v6_seal(&x, plain, plain_len, x.resp.w_resp, k, out);
        int rc = decode_code(out, x.kms_len, &resp, &checks);
        if (k >= -1 && k <= 1) {
            cr_assert_eq(rc, 0, "HMAC in slot %d rejected", k);
            cr_assert_eq(resp.hmac_slot, k, "HMAC slot %d reported as %d", k, resp.hmac_slot);
        } else {
            cr_assert_eq(rc, -(int)PROTO_E_HMAC, "HMAC in slot %d: rc %d", k, rc);
        }
    }

    /* XoredIVs wrong, HMAC valid: decode passes, verify names XoredIVs. */
    v6_open(&x, plain);
    plain[100 + p] ^= 0x01;
    v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), 0);
    struct proto_err e;
    err_reset(&e);
    cr_assert_eq(kms_response_verify(&resp, &x.req, x.frame.w_req, &checks, &e),
                 -(int)PROTO_E_XORED_IVS, "XoredIVs: %s", e.detail);

    /* Hash wrong, HMAC valid → hash mismatch; RandomXoredIVs wrong → hash mismatch too. */
    for (size_t off = 44 + p; off < 92 + p; off += 47) {
        v6_open(&x, plain);
        plain[off] ^= 0x40;
        v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
        cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), 0);
        err_reset(&e);
        cr_assert_eq(kms_response_verify(&resp, &x.req, x.frame.w_req, &checks, &e),
                     -(int)PROTO_E_HASH, "byte %zu: %s", off, e.detail);
    }

    /* Count changed, HMAC valid: integrity holds, so the response is consistent (count is data). */
    v6_open(&x, plain);
    le32_put(plain + 32 + p, 1000);
    v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), 0);
    cr_assert_eq(resp.count, 1000);

    /* W_resp == W_req (V5 rules on a V6 response): valid, but flagged as a warning. */
    v6_open(&x, plain);
    v6_seal(&x, plain, plain_len, x.frame.w_req, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), 0);
    err_reset(&e);
    cr_assert_eq(kms_response_verify(&resp, &x.req, x.frame.w_req, &checks, &e), 0, "%s", e.detail);
    cr_assert(checks.warned & KMS_CHECK_IV_FRESH, "reused IV not flagged");
    cr_assert(!(checks.passed & KMS_CHECK_IV_FRESH));

    /* ePID with an embedded NUL, or without its terminator, HMAC valid → ePID error. */
    v6_open(&x, plain);
    plain[8 + 10] = 0;
    plain[8 + 11] = 0;
    v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), -(int)PROTO_E_EPID);
    v6_open(&x, plain);
    plain[8 + p - 2] = '7';
    v6_seal(&x, plain, plain_len, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), -(int)PROTO_E_EPID);

    /* A valid PKCS#7 pad of the wrong length: the plaintext size no longer matches PIDSize. */
    v6_open(&x, plain);
    uint8_t longer[KMS_RESPONSE_MAX];
    memcpy(longer, plain, plain_len);
    memset(longer + 132 + p, 0x18, 24); /* 8 more pad bytes: a 24-byte pad over a new block */
    v6_seal(&x, longer, plain_len + 16, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len + 16, &resp, &checks), -(int)PROTO_E_DECRYPT,
                 "a pad of 24 bytes is not PKCS#7");
    memset(longer + 132 + p, 0x10, 24);
    v6_seal(&x, longer, plain_len + 16, x.resp.w_resp, 0, out);
    cr_assert_eq(decode_code(out, x.kms_len + 16, &resp, &checks), -(int)PROTO_E_SIZE,
                 "8 stray bytes before a valid pad");
    vector_free(&x.vf);
}

Test(tamper, v5_resealed_responses)
{
    struct client_session x;
    exchange_load(&x, "v5", 1);
    uint8_t plain[KMS_RESPONSE_MAX], out[KMS_RESPONSE_MAX], w[16];
    size_t clen = x.kms_len - 20;
    cipher_cbc_decrypt(&cipher_key_v5, x.kms + 4, x.kms + 20, clen, plain);
    /* Same plaintext under a fresh IV: decodes, but the V5 IV echo fails. */
    memcpy(w, x.frame.w_req, 16);
    w[7] ^= 0x20;
    memcpy(out, x.kms, 4);
    memcpy(out + 4, w, 16);
    cipher_cbc_encrypt(&cipher_key_v5, w, plain, clen, out + 20);
    struct kms_response resp;
    struct kms_checks checks;
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), 0);
    struct proto_err e;
    err_reset(&e);
    cr_assert_eq(kms_response_verify(&resp, &x.req, x.frame.w_req, &checks, &e),
                 -(int)PROTO_E_IV_MISMATCH, "%s", e.detail);
    /* Encrypted with the V6 cipher instead of K5: padding breaks. */
    memcpy(out + 4, x.kms + 4, 16);
    cipher_cbc_encrypt(&cipher_key_v6, x.kms + 4, plain, clen, out + 20);
    cr_assert_eq(decode_code(out, x.kms_len, &resp, &checks), -(int)PROTO_E_DECRYPT);
    vector_free(&x.vf);
}

Test(tamper, v4_remaced_responses)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    size_t p = x.resp.pid_size, base = 44 + p;
    uint8_t buf[KMS_RESPONSE_MAX];
    struct kms_response resp;
    struct kms_checks checks;
    /* Embedded NUL / missing terminator / odd or oversized PIDSize, with a valid MAC. */
    memcpy(buf, x.kms, x.kms_len);
    buf[8 + 4] = buf[8 + 5] = 0;
    kms_mac4(buf, base, buf + base);
    cr_assert_eq(decode_code(buf, x.kms_len, &resp, &checks), -(int)PROTO_E_EPID);
    memcpy(buf, x.kms, x.kms_len);
    buf[6 + p] = '1';
    kms_mac4(buf, base, buf + base);
    cr_assert_eq(decode_code(buf, x.kms_len, &resp, &checks), -(int)PROTO_E_EPID);
    for (uint32_t bad = 99; bad <= 130; bad += 31) {
        memcpy(buf, x.kms, x.kms_len);
        le32_put(buf + 4, bad);
        kms_mac4(buf, base, buf + base);
        cr_assert_eq(decode_code(buf, x.kms_len, &resp, &checks), -(int)PROTO_E_EPID, "PIDSize %u",
                     bad);
    }
    /* Count changed with a valid MAC: consistent (the MAC is all V4 has). */
    memcpy(buf, x.kms, x.kms_len);
    le32_put(buf + 32 + p, 7);
    kms_mac4(buf, base, buf + base);
    cr_assert_eq(decode_code(buf, x.kms_len, &resp, &checks), 0);
    cr_assert_eq(resp.count, 7);
    vector_free(&x.vf);
}

/* ---- RESPONSE PDU: every bit ---- */

enum pdu_expect {
    PDU_RPC_ERROR, /* rpc_reply_decode fails with one of codes */
    PDU_NOT_OK,    /* any failure: RPC error, FAULT, HRESULT or KMS error */
    PDU_TOLERATED, /* may succeed (then with the same response), else any failure */
    PDU_WARNING,   /* must succeed with alloc_hint_differs */
    PDU_HRESULT,   /* the return value: decoded as a failed call with that HRESULT */
    PDU_KMS,       /* KMS bytes: the RPC layer passes, the KMS region table decides */
};

struct pdu_region {
    size_t from, to;
    enum pdu_expect expect;
    unsigned codes;
    const char *what;
};

static void flip_every_pdu_bit(const struct client_session *x, const struct kms_region *kms_regions,
                               size_t n_kms_regions)
{
    const char *name = x->vf.name;
    const uint8_t *orig = x->resp_pdu->data;
    size_t len = x->resp_pdu->len, m = x->kms_len, ko = x->kms_offset;
    bool ndr64 = x->ndr == RPC_NDR64;
    /* Stub: responseSize, [pad], referent, conformance, KMS bytes, NDR pad, return value. */
    const struct pdu_region table[] = {
        {0, 2, PDU_RPC_ERROR, C(RPC_HEADER), "RPC version"},
        {2, 3, PDU_NOT_OK, 0, "PTYPE"},
        {3, 4, PDU_TOLERATED, 0, "pfc_flags"},
        {4, 12, PDU_RPC_ERROR, C(RPC_HEADER), "drep, frag_length, auth_length"},
        {12, 16, PDU_RPC_ERROR, C(RPC_CALL_ID), "call_id"},
        {16, 20, PDU_WARNING, 0, "alloc_hint"},
        {20, 22, PDU_RPC_ERROR, C(RPC_CONTEXT), "p_cont_id"},
        {22, 23, PDU_RPC_ERROR, C(RPC_STUB), "cancel_count"},
        {23, 24, PDU_TOLERATED, 0, "reserved"},
        {24, 28, PDU_RPC_ERROR, C(RPC_STUB) | C(TRUNCATED), "responseSize"},
        {28, ndr64 ? 32 : 28, PDU_TOLERATED, 0, "NDR64 alignment pad"},
        {ndr64 ? 32 : 28, ndr64 ? 40 : 32, PDU_TOLERATED, 0, "referent id"},
        {ndr64 ? 40 : 32, ko, PDU_RPC_ERROR, C(RPC_STUB), "conformance"},
        {ko, ko + m, PDU_KMS, 0, "KMS response"},
        {ko + m, len - 4, PDU_TOLERATED, 0, "NDR pad"},
        {len - 4, len, PDU_HRESULT, 0, "return value"},
    };
    uint8_t *buf = malloc(len);
    cr_assert(buf != NULL);
    for (size_t i = 0; i < len; i++) {
        const struct pdu_region *rg = NULL;
        for (size_t r = 0; r < sizeof table / sizeof table[0]; r++)
            if (i >= table[r].from && i < table[r].to)
                rg = &table[r];
        cr_assert(rg != NULL, "%s: PDU byte %zu has no expectation", name, i);
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, orig, len);
            buf[i] ^= (uint8_t)(1u << bit);
            struct rpc_reply reply;
            struct proto_err e;
            err_reset(&e);
            int rc = rpc_reply_decode(buf, len, x->ndr, x->call_id, x->context_id, &reply, &e);
            /* The outcome, in increasing order of success. */
            const char *bad = rc ? bad_failure(rc, &e) : NULL;
            if (bad)
                cr_assert_fail("%s: bit %d of PDU byte %zu (%s): %s", name, bit, i, rg->what, bad);
            bool rpc_ok = rc == 0 && !reply.is_fault && reply.status == 0 && reply.kms != NULL;
            int kms_rc = -1;
            struct kms_response resp;
            struct proto_err ke;
            if (rpc_ok) {
                cr_assert(reply.kms_len == m && reply.kms == buf + ko,
                          "%s: bit %d of PDU byte %zu (%s): KMS data moved", name, bit, i,
                          rg->what);
                kms_rc = kms_outcome(x, reply.kms, reply.kms_len, &resp, &ke);
                if (kms_rc && (bad = bad_failure(kms_rc, &ke)))
                    cr_assert_fail("%s: bit %d of PDU byte %zu (%s): %s", name, bit, i, rg->what,
                                   bad);
            }
            bool ok = rpc_ok && kms_rc == 0;
            char want[200];
            switch (rg->expect) {
            case PDU_RPC_ERROR:
                codes_text(rg->codes, want, sizeof want);
                cr_assert(rc != 0 && (rg->codes & (1u << e.code)),
                          "%s: bit %d of PDU byte %zu (%s): rc %d (%s), expected %s", name, bit, i,
                          rg->what, rc, proto_code_name(e.code), want);
                break;
            case PDU_NOT_OK:
                cr_assert(!ok, "%s: bit %d of PDU byte %zu (%s) goes undetected", name, bit, i,
                          rg->what);
                break;
            case PDU_TOLERATED:
                if (ok)
                    cr_assert(same_response(&resp, &x->resp) && !memcmp(reply.kms, x->kms, m),
                              "%s: bit %d of PDU byte %zu (%s): accepted with other content", name,
                              bit, i, rg->what);
                break;
            case PDU_WARNING:
                cr_assert(ok && reply.alloc_hint_differs,
                          "%s: bit %d of PDU byte %zu (%s): ok %d, warning %d", name, bit, i,
                          rg->what, ok, rc == 0 && reply.alloc_hint_differs);
                break;
            case PDU_HRESULT:
                cr_assert(rc == 0 && !reply.is_fault && reply.kms == NULL &&
                              reply.status == le32_get(buf + len - 4),
                          "%s: bit %d of PDU byte %zu (%s): rc %d status 0x%08x", name, bit, i,
                          rg->what, rc, rc == 0 ? reply.status : 0);
                break;
            case PDU_KMS: {
                cr_assert(rpc_ok, "%s: bit %d of PDU byte %zu (%s): the RPC layer failed: %s", name,
                          bit, i, rg->what, e.detail);
                const struct kms_region *kr = region_at(kms_regions, n_kms_regions, i - ko);
                cr_assert(kr != NULL);
                if (ok)
                    cr_assert(kr->epid_only && only_epid_differs(&x->resp, &resp),
                              "%s: bit %d of PDU byte %zu (KMS %s) goes undetected", name, bit, i,
                              kr->what);
                else if (kr->codes)
                    cr_assert(kr->codes & (1u << ke.code),
                              "%s: bit %d of PDU byte %zu (KMS %s): %s", name, bit, i, kr->what,
                              proto_code_name(ke.code));
                break;
            }
            }
        }
    }
    free(buf);
}

/* The KMS parts of the PDU tests only need "detected" (the exact codes are tested above). */
static const struct kms_region any_kms_failure[] = {{0, KMS_RESPONSE_MAX, 0, false, "any"}};

Test(tamper, response_pdu_every_bit_v4_ndr32)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    cr_assert_eq(x.ndr, RPC_NDR32);
    flip_every_pdu_bit(&x, any_kms_failure, 1);
    vector_free(&x.vf);
}

Test(tamper, response_pdu_every_bit_v5_ndr32)
{
    struct client_session x;
    exchange_load(&x, "v5", 1);
    const struct kms_region v5[] = {{0, 36, 0, false, "version, W_resp, block 0"},
                                    {36, 116, 0, true, "ePID blocks"},
                                    {116, 228, 0, false, "the rest"}};
    flip_every_pdu_bit(&x, v5, 3);
    vector_free(&x.vf);
}

Test(tamper, response_pdu_every_bit_v6_ndr64)
{
    struct client_session x;
    exchange_load(&x, "v6_ndr64", 2);
    cr_assert_eq(x.ndr, RPC_NDR64);
    cr_assert_eq(x.context_id, 1);
    flip_every_pdu_bit(&x, any_kms_failure, 1);
    vector_free(&x.vf);
}

Test(tamper, response_pdu_every_bit_v4_pad2_both_syntaxes)
{
    for (unsigned nth = 1; nth <= 2; nth++) {
        struct client_session x;
        exchange_load(&x, "v4_pad2", nth);
        cr_assert_eq(x.ndr, nth == 1 ? RPC_NDR32 : RPC_NDR64);
        cr_assert_eq(x.kms_len, 162);
        flip_every_pdu_bit(&x, any_kms_failure, 1);
        vector_free(&x.vf);
    }
}

/* ---- RESPONSE PDU: truncation ---- */

static void truncate_response_pdu(const char *name, unsigned nth)
{
    struct client_session x;
    exchange_load(&x, name, nth);
    size_t len = x.resp_pdu->len, prefix = x.ndr == RPC_NDR64 ? 24 : 12;
    for (size_t n = 0; n < len; n++) {
        for (int consistent = 0; consistent < 2; consistent++) {
            uint8_t *buf = malloc(n ? n : 1);
            cr_assert(buf != NULL);
            memcpy(buf, x.resp_pdu->data, n);
            if (consistent && n >= 10)
                le16_put(buf + 8, (uint16_t)n);
            struct rpc_reply reply;
            struct proto_err e;
            err_reset(&e);
            int rc = rpc_reply_decode(buf, n, x.ndr, x.call_id, x.context_id, &reply, &e);
            if (!consistent || n < 10) {
                /* frag_length still says len: a header error (or too short for a header). */
                enum proto_code want = n < RPC_HEADER_LEN ? PROTO_E_TRUNCATED : PROTO_E_RPC_HEADER;
                cr_assert(rc == -(int)want && bad_failure(rc, &e) == NULL,
                          "%s: RESPONSE cut to %zu bytes: rc %d (%s)", name, n, rc, e.detail);
            } else if (n >= 24 + prefix + x.kms_len + 4) {
                /* Only the NDR pad is gone: the return value is still the last 4 bytes, which
                 * is how a vlmcsd-style stub (pad after the return value) reads too. */
                cr_assert(rc == 0 && reply.status == 0 && reply.kms_len == x.kms_len &&
                              !memcmp(reply.kms, x.kms, x.kms_len) && reply.alloc_hint_differs,
                          "%s: RESPONSE without %zu pad bytes: rc %d (%s)", name, len - n, rc,
                          e.detail);
            } else {
                bool failed = rc != 0 || reply.is_fault || reply.status != 0 || !reply.kms;
                cr_assert(failed, "%s: RESPONSE consistently cut to %zu bytes is accepted", name,
                          n);
                if (rc)
                    cr_assert(bad_failure(rc, &e) == NULL, "%s: cut to %zu: %s", name, n,
                              bad_failure(rc, &e));
            }
            free(buf);
        }
    }
    vector_free(&x.vf);
}

Test(tamper, response_pdu_fragment_flags)
{
    struct client_session x;
    exchange_load(&x, "v6", 1);
    size_t len = x.resp_pdu->len;
    uint8_t *buf = malloc(len);
    cr_assert(buf != NULL);
    for (int bit = 0; bit < 2; bit++) {
        memcpy(buf, x.resp_pdu->data, len);
        buf[3] ^= (uint8_t)(1u << bit);
        struct rpc_reply reply;
        struct proto_err e;
        err_reset(&e);
        cr_assert_eq(rpc_reply_decode(buf, len, x.ndr, x.call_id, x.context_id, &reply, &e),
                     -(int)PROTO_E_RPC_HEADER, "%s without %s: %s", x.vf.name,
                     bit ? "LAST_FRAG" : "FIRST_FRAG", e.detail);
    }
    free(buf);
    vector_free(&x.vf);
}

Test(tamper, response_pdu_truncated)
{
    truncate_response_pdu("v4", 1);
    truncate_response_pdu("v5", 1);
    truncate_response_pdu("v6", 1);
    truncate_response_pdu("v6_ndr64", 2);
    truncate_response_pdu("v4_pad2", 1);
    truncate_response_pdu("v4_pad2", 2);
}

/* ---- RESPONSE PDU: bytes after the response ---- */

/* Appends extra bytes (frag_length and alloc_hint rewritten to match) to a RESPONSE PDU. */
static int extended_reply(const struct vf_pdu *pdu, enum rpc_ndr ndr, uint32_t call_id,
                          uint16_t ctx, size_t extra, uint8_t fill, struct rpc_reply *reply,
                          struct proto_err *e)
{
    size_t len = pdu->len + extra;
    uint8_t *buf = malloc(len);
    cr_assert(buf != NULL);
    memcpy(buf, pdu->data, pdu->len);
    memset(buf + pdu->len, fill, extra);
    le16_put(buf + 8, (uint16_t)len);
    le32_put(buf + 16, (uint32_t)(len - 24));
    err_reset(e);
    int rc = rpc_reply_decode(buf, len, ndr, call_id, ctx, reply, e);
    free(buf);
    return rc;
}

/* A valid response followed by junk: a stub error (protocol error), never the junk's last four
 * bytes read as the host's HRESULT. Every vector, both syntaxes, 1..64 extra bytes. */
Test(tamper, response_pdu_with_trailing_bytes)
{
    static const struct {
        const char *name;
        unsigned nth;
    } cases[] = {{"v4", 1}, {"v5", 1}, {"v6", 1}, {"v6_ndr64", 2}, {"v4_pad2", 1}, {"v4_pad2", 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct client_session x;
        exchange_load(&x, cases[c].name, cases[c].nth);
        for (size_t extra = 1; extra <= 64; extra++) {
            for (int fill = 0; fill < 2; fill++) {
                struct rpc_reply reply;
                struct proto_err e;
                int rc = extended_reply(x.resp_pdu, x.ndr, x.call_id, x.context_id, extra,
                                        fill ? 0x41 : 0x00, &reply, &e);
                cr_assert(rc == -(int)PROTO_E_RPC_STUB,
                          "%s #%u + %zu bytes of 0x%02x: rc %d status 0x%08x (%s)", cases[c].name,
                          cases[c].nth, extra, fill ? 0x41 : 0, rc, rc == 0 ? reply.status : 0,
                          e.detail);
            }
        }
        vector_free(&x.vf);
    }
    /* Error stubs: the HRESULT stays where it is, extra bytes are a stub error too. */
    struct vector_file vf;
    char err[300];
    cr_assert_eq(vector_load(VECTOR_DIR, "err_bad_version_ndr64", &vf, err, sizeof err), 0, "%s",
                 err);
    for (unsigned nth = 1; nth <= 2; nth++) {
        const struct vf_pdu *pdu = &vf.streams[0].pdus[nth == 1 ? 5 : 7];
        for (size_t extra = 1; extra <= 16; extra++) {
            struct rpc_reply reply;
            struct proto_err e;
            int rc = extended_reply(pdu, nth == 1 ? RPC_NDR32 : RPC_NDR64, nth + 1,
                                    (uint16_t)(nth - 1), extra, 0x41, &reply, &e);
            cr_assert(rc == -(int)PROTO_E_RPC_STUB, "error stub + %zu bytes: rc %d (%s)", extra, rc,
                      e.detail);
        }
    }
    vector_free(&vf);
}

Test(tamper, error_response_pdu_truncated_and_flipped)
{
    /* Stream 1 of err_bad_version_ndr64: an NDR32 error stub (call 2) then an NDR64 one (call 3).
     */
    for (unsigned nth = 1; nth <= 2; nth++) {
        struct vector_file vf;
        char err[300];
        cr_assert_eq(vector_load(VECTOR_DIR, "err_bad_version_ndr64", &vf, err, sizeof err), 0,
                     "%s", err);
        const struct vf_pdu *pdu = &vf.streams[0].pdus[nth == 1 ? 5 : 7];
        enum rpc_ndr ndr = nth == 1 ? RPC_NDR32 : RPC_NDR64;
        uint32_t call_id = nth + 1;
        uint16_t ctx = (uint16_t)(nth - 1);
        size_t len = pdu->len;
        for (size_t n = RPC_HEADER_LEN; n < len; n++) {
            uint8_t *buf = malloc(n);
            cr_assert(buf != NULL);
            memcpy(buf, pdu->data, n);
            le16_put(buf + 8, (uint16_t)n);
            struct rpc_reply reply;
            struct proto_err e;
            err_reset(&e);
            int rc = rpc_reply_decode(buf, n, ndr, call_id, ctx, &reply, &e);
            cr_assert(rc == -(int)PROTO_E_TRUNCATED, "error stub cut to %zu: rc %d (%s)", n, rc,
                      e.detail);
            free(buf);
        }
        /* Any flip of the HRESULT is a different HRESULT; zeroing it is a stub error. */
        uint8_t *buf = malloc(len);
        cr_assert(buf != NULL);
        for (size_t i = len - 4; i < len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(buf, pdu->data, len);
                buf[i] ^= (uint8_t)(1u << bit);
                struct rpc_reply reply;
                struct proto_err e;
                err_reset(&e);
                int rc = rpc_reply_decode(buf, len, ndr, call_id, ctx, &reply, &e);
                cr_assert(rc == 0 && reply.kms == NULL && reply.status == le32_get(buf + len - 4) &&
                              reply.status != 0x8007000Du,
                          "flipped HRESULT: rc %d status 0x%08x", rc, reply.status);
            }
        }
        /* A NULL referent with a zero return value is not a success. */
        memcpy(buf, pdu->data, len);
        le32_put(buf + len - 4, 0);
        struct rpc_reply reply;
        struct proto_err e;
        err_reset(&e);
        cr_assert_eq(rpc_reply_decode(buf, len, ndr, call_id, ctx, &reply, &e),
                     -(int)PROTO_E_RPC_STUB, "NULL referent, HRESULT 0: %s", e.detail);
        free(buf);
        vector_free(&vf);
    }
}

/* ---- BIND_ACK / ALTER_CONTEXT_RESP ---- */

enum ack_expect {
    ACK_FAIL,      /* decode or check fails with one of codes (0 = any named error) */
    ACK_TOLERATED, /* may pass, but the negotiated contexts must not change */
};

struct ack_region {
    size_t from, to;
    enum ack_expect expect;
    unsigned codes;
    const char *what;
};

static int ack_outcome(const struct rpc_bind *sent, const uint8_t *buf, size_t len,
                       struct rpc_negotiated *neg, struct proto_err *e)
{
    struct rpc_bind_ack ack;
    err_reset(e);
    rpc_negotiated_init(neg);
    int rc = rpc_bind_ack_decode(buf, len, &ack, e);
    if (rc == 0)
        rc = rpc_bind_ack_check(sent, &ack, neg, e);
    return rc;
}

static void garble_ack(const char *name, const struct rpc_bind *sent, const struct vf_pdu *pdu,
                       const struct ack_region *regions, size_t n_regions, int want_ndr32,
                       int want_ndr64)
{
    size_t len = pdu->len;
    uint8_t *buf = malloc(len);
    cr_assert(buf != NULL);
    struct rpc_negotiated neg;
    struct proto_err e;
    cr_assert_eq(ack_outcome(sent, pdu->data, len, &neg, &e), 0, "%s: original: %s", name,
                 e.detail);
    cr_assert(neg.ndr32_context == want_ndr32 && neg.ndr64_context == want_ndr64,
              "%s: original grants %d/%d", name, neg.ndr32_context, neg.ndr64_context);
    for (size_t i = 0; i < len; i++) {
        const struct ack_region *rg = NULL;
        for (size_t r = 0; r < n_regions; r++)
            if (i >= regions[r].from && i < regions[r].to)
                rg = &regions[r];
        cr_assert(rg != NULL, "%s: byte %zu has no expectation", name, i);
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, pdu->data, len);
            buf[i] ^= (uint8_t)(1u << bit);
            int rc = ack_outcome(sent, buf, len, &neg, &e);
            if (rc) {
                const char *bad = bad_failure(rc, &e);
                if (bad)
                    cr_assert_fail("%s: bit %d of byte %zu (%s): %s", name, bit, i, rg->what, bad);
            }
            if (rg->expect == ACK_FAIL) {
                char want[200];
                codes_text(rg->codes, want, sizeof want);
                cr_assert(rc != 0 && (!rg->codes || (rg->codes & (1u << e.code))),
                          "%s: bit %d of byte %zu (%s): rc %d (%s), expected %s", name, bit, i,
                          rg->what, rc, proto_code_name(e.code), want);
            } else if (rc == 0) {
                cr_assert(neg.ndr32_context == want_ndr32 && neg.ndr64_context == want_ndr64,
                          "%s: bit %d of byte %zu (%s) changes the grants to %d/%d", name, bit, i,
                          rg->what, neg.ndr32_context, neg.ndr64_context);
            }
        }
    }
    /* Truncation at every length, raw and with frag_length rewritten to match. */
    for (size_t n = 0; n < len; n++) {
        for (int consistent = 0; consistent < 2; consistent++) {
            uint8_t *cut = malloc(n ? n : 1);
            cr_assert(cut != NULL);
            memcpy(cut, pdu->data, n);
            if (consistent && n >= 10)
                le16_put(cut + 8, (uint16_t)n);
            int rc = ack_outcome(sent, cut, n, &neg, &e);
            enum proto_code want = n < RPC_HEADER_LEN || (consistent && n >= 10)
                                       ? PROTO_E_TRUNCATED
                                       : PROTO_E_RPC_HEADER;
            cr_assert(rc == -(int)want && bad_failure(rc, &e) == NULL,
                      "%s: cut to %zu bytes (%s frag_length): rc %d (%s), expected %s", name, n,
                      consistent ? "matching" : "original", rc, e.detail, proto_code_name(want));
            free(cut);
        }
    }
    free(buf);
}

Test(tamper, bind_ack_every_bit_and_length)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    struct rpc_bind bind;
    struct proto_err e;
    cr_assert_eq(rpc_bind_decode(x.bind->data, x.bind->len, &bind, &e), 0);
    cr_assert_eq(x.bind_ack->len, 108);
    cr_assert_eq(le16_get(x.bind_ack->data + 24), 6); /* "11688\0", results at 32 */
    /* Results at 36 + 24i: [0] NDR32 rejected 2/2, [1] NDR64 accepted, [2] BTFN 3/3. */
    const struct ack_region regions[] = {
        {0, 2, ACK_FAIL, C(RPC_HEADER), "RPC version"},
        {2, 3, ACK_FAIL, C(RPC_PTYPE) | C(RPC_CONTEXT), "PTYPE (13 = BIND_NAK)"},
        {3, 4, ACK_TOLERATED, 0, "pfc_flags (FIRST/LAST checked below)"},
        {4, 12, ACK_FAIL, C(RPC_HEADER), "drep, frag_length, auth_length"},
        {12, 16, ACK_FAIL, C(RPC_CALL_ID), "call_id"},
        {16, 24, ACK_TOLERATED, 0, "max frags, assoc_group"},
        {24, 26, ACK_FAIL, 0, "sec_addr length"},
        {26, 31, ACK_TOLERATED, 0, "sec_addr text"},
        {31, 32, ACK_FAIL, C(RPC_STUB), "sec_addr NUL"},
        {32, 33, ACK_FAIL, C(RPC_CONTEXT) | C(OVERSIZED) | C(TRUNCATED), "n_results"},
        {33, 36, ACK_TOLERATED, 0, "reserved"},
        {36, 38, ACK_FAIL, C(RPC_CONTEXT), "NDR32 result"},
        {38, 60, ACK_TOLERATED, 0, "NDR32 (rejected) reason, syntax"},
        {60, 62, ACK_FAIL, C(RPC_CONTEXT), "NDR64 result"},
        {62, 64, ACK_TOLERATED, 0, "NDR64 reason"},
        {64, 84, ACK_FAIL, C(RPC_CONTEXT), "NDR64 accepted syntax and version"},
        {84, 108, ACK_TOLERATED, 0, "BTFN result, features, syntax"},
    };
    garble_ack("v4 BIND_ACK", &bind, x.bind_ack, regions, sizeof regions / sizeof regions[0], -1,
               1);
    /* FIRST_FRAG / LAST_FRAG specifically. */
    uint8_t buf[108];
    struct rpc_negotiated neg;
    for (int bit = 0; bit < 2; bit++) {
        memcpy(buf, x.bind_ack->data, sizeof buf);
        buf[3] ^= (uint8_t)(1u << bit);
        cr_assert_eq(ack_outcome(&bind, buf, sizeof buf, &neg, &e), -(int)PROTO_E_RPC_HEADER);
    }
    /* BTFN downgraded to "not supported" (3 → 2) is fine; the grant is then not recorded. */
    memcpy(buf, x.bind_ack->data, sizeof buf);
    buf[84] = 2;
    cr_assert_eq(ack_outcome(&bind, buf, sizeof buf, &neg, &e), 0, "%s", e.detail);
    cr_assert(!neg.btfn_acked);
    vector_free(&x.vf);
}

Test(tamper, alter_context_resp_every_bit_and_length)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    struct rpc_bind alter;
    struct proto_err e;
    cr_assert_eq(rpc_bind_decode(x.alter->data, x.alter->len, &alter, &e), 0);
    cr_assert_eq(x.alter_resp->len, 56);
    cr_assert_eq(le16_get(x.alter_resp->data + 24), 0); /* no sec_addr, stale pad, results at 28 */
    const struct ack_region regions[] = {
        {0, 2, ACK_FAIL, C(RPC_HEADER), "RPC version"},
        {2, 3, ACK_FAIL, C(RPC_PTYPE) | C(RPC_CONTEXT), "PTYPE"},
        {3, 4, ACK_TOLERATED, 0, "pfc_flags"},
        {4, 12, ACK_FAIL, C(RPC_HEADER), "drep, frag_length, auth_length"},
        {12, 16, ACK_FAIL, C(RPC_CALL_ID), "call_id"},
        {16, 24, ACK_TOLERATED, 0, "max frags, assoc_group"},
        {24, 26, ACK_FAIL, 0, "sec_addr length"},
        {26, 28, ACK_TOLERATED, 0, "stale pad"},
        {28, 29, ACK_FAIL, C(RPC_CONTEXT) | C(OVERSIZED) | C(TRUNCATED), "n_results"},
        {29, 32, ACK_TOLERATED, 0, "reserved"},
        {32, 34, ACK_FAIL, C(RPC_CONTEXT), "NDR32 result"},
        {34, 36, ACK_TOLERATED, 0, "NDR32 reason"},
        {36, 56, ACK_FAIL, C(RPC_CONTEXT), "NDR32 accepted syntax and version"},
    };
    garble_ack("v4 ALTER_CONTEXT_RESP", &alter, x.alter_resp, regions,
               sizeof regions / sizeof regions[0], 0, -1);
    vector_free(&x.vf);
}

/* ---- requests (host side) ---- */

Test(tamper, request_truncated_every_length)
{
    static const char *const names[] = {"v4", "v5", "v6"};
    for (size_t v = 0; v < 3; v++) {
        struct client_session x;
        exchange_load(&x, names[v], 1);
        for (size_t n = 0; n < x.kms_req_len; n++) {
            uint8_t *buf = malloc(n ? n : 1);
            cr_assert(buf != NULL);
            memcpy(buf, x.kms_req, n);
            struct kms_request req;
            struct kms_request_frame frame;
            struct proto_err e;
            err_reset(&e);
            int rc = kms_request_decode(buf, n, &req, &frame, &e);
            cr_assert(rc == -(int)PROTO_E_TRUNCATED && bad_failure(rc, &e) == NULL,
                      "%s: request cut to %zu bytes: rc %d (%s)", names[v], n, rc, e.detail);
            free(buf);
        }
        /* The RPC stub cut short (its sizes still claiming the whole request). */
        size_t prefix = x.ndr == RPC_NDR64 ? 16 : 8;
        struct rpc_request rr;
        struct proto_err e;
        cr_assert_eq(rpc_request_decode(x.req_pdu->data, x.req_pdu->len, &rr, &e), 0);
        for (size_t n = 0; n < rr.stub_len; n++) {
            struct rpc_request cut = rr;
            const uint8_t *kms;
            size_t kms_len;
            cut.stub_len = n;
            err_reset(&e);
            int rc = rpc_request_payload(&cut, x.ndr, &kms, &kms_len, &e);
            cr_assert(rc == -(int)PROTO_E_TRUNCATED,
                      "%s: stub cut to %zu of %zu (prefix %zu): rc %d (%s)", names[v], n,
                      rr.stub_len, prefix, rc, e.detail);
        }
        vector_free(&x.vf);
    }
}

/* V4 requests carry a MAC: a host in strict mode sees every flipped bit. */
Test(tamper, v4_request_every_bit)
{
    struct client_session x;
    exchange_load(&x, "v4", 1);
    uint8_t buf[KMS_V4_REQUEST_LEN];
    for (size_t i = 0; i < sizeof buf; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, x.kms_req, sizeof buf);
            buf[i] ^= (uint8_t)(1u << bit);
            struct kms_request req;
            struct kms_request_frame frame;
            struct proto_err e;
            err_reset(&e);
            int rc = kms_request_decode(buf, sizeof buf, &req, &frame, &e);
            if (rc != 0) {
                cr_assert(i < 4 && bad_failure(rc, &e) == NULL, "byte %zu bit %d: rc %d (%s)", i,
                          bit, rc, e.detail);
            } else {
                cr_assert(!frame.v4_mac_ok, "V4 request byte %zu bit %d: MAC still verifies", i,
                          bit);
            }
        }
    }
    vector_free(&x.vf);
}

/* V5/V6 requests: a flipped bit in the last ciphertext block breaks the 04 04 04 04 padding. */
Test(tamper, v5_v6_request_padding)
{
    static const char *const names[] = {"v5", "v6"};
    for (size_t v = 0; v < 2; v++) {
        struct client_session x;
        exchange_load(&x, names[v], 1);
        uint8_t buf[KMS_V5_REQUEST_LEN];
        for (size_t i = KMS_V5_REQUEST_LEN - 16; i < KMS_V5_REQUEST_LEN; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(buf, x.kms_req, sizeof buf);
                buf[i] ^= (uint8_t)(1u << bit);
                struct kms_request req;
                struct kms_request_frame frame;
                struct proto_err e;
                err_reset(&e);
                int rc = kms_request_decode(buf, sizeof buf, &req, &frame, &e);
                cr_assert(rc == -(int)PROTO_E_DECRYPT, "%s: byte %zu bit %d: rc %d (%s)", names[v],
                          i, bit, rc, e.detail);
            }
        }
        /* Outer/inner version disagreement: outer 5 ↔ 6 swaps the cipher, so padding fails. */
        memcpy(buf, x.kms_req, sizeof buf);
        buf[2] = x.req.major == 5 ? 6 : 5;
        struct kms_request req;
        struct kms_request_frame frame;
        struct proto_err e;
        err_reset(&e);
        cr_assert_eq(kms_request_decode(buf, sizeof buf, &req, &frame, &e), -(int)PROTO_E_DECRYPT,
                     "%s: %s", names[v], e.detail);
        vector_free(&x.vf);
    }
}
