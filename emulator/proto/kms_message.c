#include "kms_message.h"

#include "bytes.h"
#include "cipher.h"
#include "digest.h"

#include <string.h>

/* V6 time-slot constants (§4.1). */
#define V6_SLOT_DIVISOR 0x00000022816889BDULL
#define V6_SLOT_MULTIPLIER 0x000000208CBAB5EDULL
#define V6_SLOT_ADDEND 0x3156CD5AC628477AULL

#define RESPONSE_BASE_FIXED 44 /* response base without the ePID */

static const struct cipher_key *cipher_for_major(uint16_t major)
{
    return major == 5 ? &cipher_key_v5 : &cipher_key_v6;
}

static bool version_supported(uint16_t major, uint16_t minor)
{
    return minor == 0 && major >= 4 && major <= 6;
}

int kms_request_set_workstation(struct kms_request *req, const char *utf8)
{
    int units = utf16le_from_utf8(utf8, req->workstation, sizeof req->workstation);
    return units < 0 || units > KMS_WORKSTATION_MAX_CHARS ? -1 : 0;
}

void kms_request_workstation(const struct kms_request *req, char *out, size_t cap)
{
    if (utf16le_to_utf8(req->workstation, KMS_WORKSTATION_BYTES / 2, out, cap) < 0 && cap)
        out[0] = '\0';
}

const char *kms_license_status_name(uint32_t status)
{
    static const char *const names[] = {"unlicensed",    "licensed",          "OOB grace",
                                        "OOT grace",     "non-genuine grace", "notification",
                                        "extended grace"};
    return status < sizeof names / sizeof names[0] ? names[status] : "unknown";
}

/* ---- request ---- */

static void request_base_put(const struct kms_request *req, uint8_t *b)
{
    le16_put(b + 0, req->minor);
    le16_put(b + 2, req->major);
    le32_put(b + 4, req->vm_info);
    le32_put(b + 8, req->license_status);
    le32_put(b + 12, req->binding_expiration);
    memcpy(b + 16, req->app_id.b, 16);
    memcpy(b + 32, req->sku_id.b, 16);
    memcpy(b + 48, req->kms_id.b, 16);
    memcpy(b + 64, req->cmid.b, 16);
    le32_put(b + 80, req->n_policy);
    le64_put(b + 84, req->client_time);
    memcpy(b + 92, req->cmid_prev.b, 16);
    memcpy(b + 108, req->workstation, KMS_WORKSTATION_BYTES);
}

static void request_base_get(const uint8_t *b, struct kms_request *req)
{
    req->minor = le16_get(b + 0);
    req->major = le16_get(b + 2);
    req->vm_info = le32_get(b + 4);
    req->license_status = le32_get(b + 8);
    req->binding_expiration = le32_get(b + 12);
    memcpy(req->app_id.b, b + 16, 16);
    memcpy(req->sku_id.b, b + 32, 16);
    memcpy(req->kms_id.b, b + 48, 16);
    memcpy(req->cmid.b, b + 64, 16);
    req->n_policy = le32_get(b + 80);
    req->client_time = le64_get(b + 84);
    memcpy(req->cmid_prev.b, b + 92, 16);
    memcpy(req->workstation, b + 108, KMS_WORKSTATION_BYTES);
}

int kms_request_encode(const struct kms_request *req, const uint8_t w_req[16], uint8_t *out,
                       size_t cap, size_t *len, struct proto_err *err)
{
    if (req->major < 5) {
        if (cap < KMS_V4_REQUEST_LEN)
            return proto_fail(err, PROTO_E_ARGUMENT, "V4 request needs 252 bytes, buffer %zu", cap);
        request_base_put(req, out);
        kms_mac4(out, KMS_REQUEST_BASE_LEN, out + KMS_REQUEST_BASE_LEN);
        *len = KMS_V4_REQUEST_LEN;
        return 0;
    }
    if (cap < KMS_V5_REQUEST_LEN)
        return proto_fail(err, PROTO_E_ARGUMENT, "V5/V6 request needs 260 bytes, buffer %zu", cap);
    le16_put(out, req->minor);
    le16_put(out + 2, req->major);
    memcpy(out + 4, w_req, 16);
    uint8_t *body = out + 20;
    request_base_put(req, body);
    memset(body + KMS_REQUEST_BASE_LEN, 4, 4); /* PKCS#7: 236 → 240 */
    cipher_cbc_encrypt(cipher_for_major(req->major), w_req, body, 240, body);
    *len = KMS_V5_REQUEST_LEN;
    return 0;
}

/* PKCS#7: returns the pad length (1..16) or 0 when invalid. */
static size_t pkcs7_pad_len(const uint8_t *plain, size_t len)
{
    if (len == 0)
        return 0;
    size_t pad = plain[len - 1];
    if (pad < 1 || pad > 16 || pad > len)
        return 0;
    for (size_t i = len - pad; i < len; i++)
        if (plain[i] != pad)
            return 0;
    return pad;
}

int kms_request_decode(const uint8_t *buf, size_t len, struct kms_request *req,
                       struct kms_request_frame *frame, struct proto_err *err)
{
    memset(frame, 0, sizeof *frame);
    if (len < 4)
        return proto_fail(err, PROTO_E_TRUNCATED, "KMS request of %zu bytes", len);
    uint16_t minor = le16_get(buf), major = le16_get(buf + 2);
    if (!version_supported(major, minor))
        return proto_fail(err, PROTO_E_VERSION, "KMS protocol version %u.%u is not supported",
                          major, minor);
    if (major == 4) {
        if (len < KMS_V4_REQUEST_LEN)
            return proto_fail(err, PROTO_E_TRUNCATED, "V4 request of %zu bytes, needs 252", len);
        request_base_get(buf, req);
        uint8_t mac[16];
        kms_mac4(buf, KMS_REQUEST_BASE_LEN, mac);
        frame->v4_mac_ok = memcmp(mac, buf + KMS_REQUEST_BASE_LEN, 16) == 0;
        return 0;
    }
    if (len < KMS_V5_REQUEST_LEN)
        return proto_fail(err, PROTO_E_TRUNCATED, "V%u request of %zu bytes, needs 260", major,
                          len);
    uint8_t plain[240];
    memcpy(frame->w_req, buf + 4, 16);
    cipher_cbc_decrypt(cipher_for_major(major), frame->w_req, buf + 20, sizeof plain, plain);
    if (pkcs7_pad_len(plain, sizeof plain) != 4)
        return proto_fail(err, PROTO_E_DECRYPT, "V%u request padding is not 04 04 04 04", major);
    request_base_get(plain, req);
    if (req->major != major || req->minor != minor)
        return proto_fail(err, PROTO_E_VERSION, "inner version %u.%u differs from outer %u.%u",
                          req->major, req->minor, major, minor);
    return 0;
}

/* ---- response ---- */

void kms_v6_hmac_key(uint64_t client_time, int k, uint8_t key[16])
{
    uint64_t slot = (client_time / V6_SLOT_DIVISOR) * V6_SLOT_MULTIPLIER + V6_SLOT_ADDEND;
    slot += (uint64_t)(int64_t)k * V6_SLOT_DIVISOR;
    uint8_t le[8], digest[32];
    le64_put(le, slot);
    digest_sha256(le, sizeof le, digest);
    memcpy(key, digest + 16, 16);
}

/* HMAC field (§7.3) over DRIV ‖ T6[0 : 116+P]. */
static void v6_hmac(uint64_t client_time, int k, const uint8_t driv[16], const uint8_t *t6,
                    size_t covered, uint8_t out[16])
{
    uint8_t key[16], input[16 + 116 + KMS_EPID_MAX_BYTES], mac[32];
    kms_v6_hmac_key(client_time, k, key);
    memcpy(input, driv, 16);
    memcpy(input + 16, t6, covered);
    digest_hmac_sha256(key, sizeof key, input, 16 + covered, mac);
    memcpy(out, mac + 16, 16);
}

static size_t response_base_put(const struct kms_response *resp, uint8_t *b, struct proto_err *err)
{
    uint8_t epid[KMS_EPID_MAX_BYTES];
    int units = utf16le_from_utf8(resp->epid, epid, sizeof epid);
    if (units < 0) { /* an empty ePID (PIDSize 2) is valid on the wire, so it encodes too */
        proto_fail(err, PROTO_E_FIELD, "ePID \"%s\" is not UTF-8 or over 63 characters",
                   resp->epid);
        return 0;
    }
    size_t p = 2 * (size_t)units + 2;
    le16_put(b, resp->minor);
    le16_put(b + 2, resp->major);
    le32_put(b + 4, (uint32_t)p);
    memcpy(b + 8, epid, p);
    memcpy(b + 8 + p, resp->cmid.b, 16);
    le64_put(b + 24 + p, resp->client_time);
    le32_put(b + 32 + p, resp->count);
    le32_put(b + 36 + p, resp->activation_interval);
    le32_put(b + 40 + p, resp->renewal_interval);
    return RESPONSE_BASE_FIXED + p;
}

static void xor16(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 16; i++)
        out[i] = a[i] ^ b[i];
}

int kms_response_encode(const struct kms_response *resp, const uint8_t w_req[16],
                        const struct kms_response_random *rnd, uint8_t *out, size_t cap,
                        size_t *len, struct proto_err *err)
{
    uint8_t plain[KMS_RESPONSE_MAX];
    if (!version_supported(resp->major, resp->minor))
        return proto_fail(err, PROTO_E_VERSION, "cannot encode a V%u.%u response", resp->major,
                          resp->minor);
    size_t base = response_base_put(resp, plain, err);
    if (base == 0)
        return -(int)PROTO_E_FIELD;

    if (resp->major == 4) {
        size_t total = base + 16;
        if (cap < total)
            return proto_fail(err, PROTO_E_ARGUMENT, "V4 response needs %zu bytes", total);
        memcpy(out, plain, base);
        kms_mac4(out, base, out + base);
        *len = total;
        return 0;
    }

    const struct cipher_key *key = cipher_for_major(resp->major);
    uint8_t div[16];
    cipher_decrypt_block(key, w_req, div);
    size_t t = base;
    xor16(plain + t, rnd->r, div); /* RandomXoredIVs */
    t += 16;
    digest_sha256(rnd->r, 16, plain + t);
    t += 32;
    const uint8_t *iv = w_req; /* V5 echoes the request IV */
    if (resp->major == 6) {
        memcpy(plain + t, resp->hwid, 8);
        t += 8;
        memcpy(plain + t, div, 16); /* XoredIVs */
        t += 16;
        uint8_t driv[16];
        cipher_decrypt_block(key, rnd->w_resp, driv);
        v6_hmac(resp->client_time, 0, driv, plain, t, plain + t);
        t += 16;
        iv = rnd->w_resp;
    }
    size_t pad = 16 - t % 16;
    size_t total = 20 + t + pad;
    if (cap < total)
        return proto_fail(err, PROTO_E_ARGUMENT, "V%u response needs %zu bytes", resp->major,
                          total);
    memset(plain + t, (int)pad, pad);
    le16_put(out, resp->minor);
    le16_put(out + 2, resp->major);
    memcpy(out + 4, iv, 16);
    cipher_cbc_encrypt(key, iv, plain, t + pad, out + 20);
    *len = total;
    return 0;
}

const char *kms_check_name(enum kms_check check)
{
    switch (check) {
    case KMS_CHECK_DECRYPT:
        return "decryption";
    case KMS_CHECK_EPID:
        return "ePID length";
    case KMS_CHECK_VERSION:
        return "versions";
    case KMS_CHECK_CMID:
        return "CMID echo";
    case KMS_CHECK_TIME:
        return "time stamp echo";
    case KMS_CHECK_HASH:
        return "hash";
    case KMS_CHECK_XORED_IVS:
        return "XoredIVs";
    case KMS_CHECK_HMAC:
        return "HMAC";
    case KMS_CHECK_MAC4:
        return "V4 MAC";
    case KMS_CHECK_IV_ECHO:
        return "IV echo (V5)";
    case KMS_CHECK_SIZE:
        return "size";
    case KMS_CHECK_IV_FRESH:
        return "fresh response IV (V6)";
    }
    return "unknown";
}

/* Parses the response base from plain (avail bytes); returns its length or a negative code. */
static int response_base_get(const uint8_t *plain, size_t avail, struct kms_response *resp,
                             struct proto_err *err)
{
    if (avail < RESPONSE_BASE_FIXED + 2)
        return proto_fail(err, PROTO_E_TRUNCATED, "response of %zu bytes is shorter than its base",
                          avail);
    resp->minor = le16_get(plain);
    resp->major = le16_get(plain + 2);
    uint32_t p = le32_get(plain + 4);
    resp->pid_size = p;
    if (p > KMS_EPID_MAX_BYTES || p % 2 != 0 || p < 2)
        return proto_fail(err, PROTO_E_EPID, "PIDSize %u (must be even, 2..128)", p);
    if (avail < RESPONSE_BASE_FIXED + (size_t)p)
        return proto_fail(err, PROTO_E_TRUNCATED, "PIDSize %u runs past a %zu-byte response", p,
                          avail);
    size_t units = p / 2;
    for (size_t i = 0; i + 1 < units; i++)
        if (le16_get(plain + 8 + 2 * i) == 0)
            return proto_fail(err, PROTO_E_EPID, "ePID has a NUL at character %zu of %zu", i,
                              units - 1);
    if (le16_get(plain + 8 + p - 2) != 0)
        return proto_fail(err, PROTO_E_EPID, "ePID is not NUL-terminated");
    utf16le_to_utf8(plain + 8, units, resp->epid, sizeof resp->epid);
    memcpy(resp->cmid.b, plain + 8 + p, 16);
    resp->client_time = le64_get(plain + 24 + p);
    resp->count = le32_get(plain + 32 + p);
    resp->activation_interval = le32_get(plain + 36 + p);
    resp->renewal_interval = le32_get(plain + 40 + p);
    return (int)(RESPONSE_BASE_FIXED + p);
}

int kms_response_decode(const uint8_t *buf, size_t len, struct kms_response *resp,
                        struct kms_checks *checks, struct proto_err *err)
{
    memset(resp, 0, sizeof *resp);
    memset(checks, 0, sizeof *checks);
    resp->wire_len = len;
    if (len < 4)
        return proto_fail(err, PROTO_E_TRUNCATED, "KMS response of %zu bytes", len);
    if (len > KMS_RESPONSE_MAX)
        return proto_fail(err, PROTO_E_OVERSIZED, "KMS response of %zu bytes, at most %d", len,
                          KMS_RESPONSE_MAX);
    uint16_t minor = le16_get(buf), major = le16_get(buf + 2);
    if (!version_supported(major, minor))
        return proto_fail(err, PROTO_E_VERSION, "response version %u.%u is not supported", major,
                          minor);

    if (major == 4) {
        int base = response_base_get(buf, len, resp, err);
        if (base < 0)
            return base;
        checks->passed |= KMS_CHECK_EPID;
        if (len != (size_t)base + 16)
            return proto_fail(err, PROTO_E_SIZE, "V4 response of %zu bytes, PIDSize %u implies %d",
                              len, resp->pid_size, base + 16);
        checks->passed |= KMS_CHECK_SIZE;
        memcpy(resp->mac, buf + base, 16);
        uint8_t mac[16];
        kms_mac4(buf, (size_t)base, mac);
        if (memcmp(mac, resp->mac, 16) != 0)
            return proto_fail(err, PROTO_E_MAC, "V4 response MAC does not match its content");
        checks->passed |= KMS_CHECK_MAC4;
        return 0;
    }

    if (len < 20 + 16 || (len - 20) % 16 != 0)
        return proto_fail(err, PROTO_E_DECRYPT,
                          "V%u response of %zu bytes: ciphertext is not a positive multiple of 16",
                          major, len);
    const struct cipher_key *key = cipher_for_major(major);
    uint8_t plain[KMS_RESPONSE_MAX];
    size_t clen = len - 20;
    memcpy(resp->w_resp, buf + 4, 16);
    cipher_cbc_decrypt(key, resp->w_resp, buf + 20, clen, plain);
    size_t pad = pkcs7_pad_len(plain, clen);
    if (pad == 0)
        return proto_fail(err, PROTO_E_DECRYPT, "V%u response padding is invalid", major);
    checks->passed |= KMS_CHECK_DECRYPT;
    size_t plain_len = clen - pad;

    int base = response_base_get(plain, plain_len, resp, err);
    if (base < 0)
        return base;
    checks->passed |= KMS_CHECK_EPID;
    if (resp->major != major || resp->minor != minor)
        return proto_fail(err, PROTO_E_VERSION, "inner version %u.%u differs from outer %u.%u",
                          resp->major, resp->minor, major, minor);
    size_t trailer = major == 5 ? 48 : 88;
    if (plain_len != (size_t)base + trailer)
        return proto_fail(err, PROTO_E_SIZE, "V%u response plaintext of %zu bytes, expected %zu",
                          major, plain_len, (size_t)base + trailer);
    const uint8_t *t = plain + base;
    memcpy(resp->random_xored_ivs, t, 16);
    memcpy(resp->hash, t + 16, 32);
    size_t expected_len = 20 + 16 * ((plain_len + 1 + 15) / 16);
    if (len == expected_len)
        checks->passed |= KMS_CHECK_SIZE;
    else if (major == 5)
        return proto_fail(err, PROTO_E_SIZE, "V5 response of %zu bytes, expected %zu", len,
                          expected_len);
    else
        checks->warned |= KMS_CHECK_SIZE;
    if (major == 5)
        return 0;

    memcpy(resp->hwid, t + 48, 8);
    memcpy(resp->xored_ivs, t + 56, 16);
    memcpy(resp->hmac, t + 72, 16);
    uint8_t driv[16], mac[16];
    cipher_decrypt_block(key, resp->w_resp, driv);
    /* The key derives from the echoed client time; vlmcs also accepts the adjacent slots. */
    static const int slots[3] = {0, -1, 1};
    for (int i = 0; i < 3; i++) {
        v6_hmac(resp->client_time, slots[i], driv, plain, (size_t)base + 72, mac);
        if (memcmp(mac, resp->hmac, 16) == 0) {
            resp->hmac_slot = slots[i];
            checks->passed |= KMS_CHECK_HMAC;
            return 0;
        }
    }
    return proto_fail(err, PROTO_E_HMAC, "V6 response HMAC does not match its content");
}

int kms_response_verify(const struct kms_response *resp, const struct kms_request *req,
                        const uint8_t w_req[16], struct kms_checks *checks, struct proto_err *err)
{
    if (resp->major != req->major || resp->minor != req->minor)
        return proto_fail(err, PROTO_E_VERSION, "response version %u.%u, request %u.%u",
                          resp->major, resp->minor, req->major, req->minor);
    checks->passed |= KMS_CHECK_VERSION;
    if (!guid_equal(&resp->cmid, &req->cmid))
        return proto_fail(err, PROTO_E_CMID, "response CMID differs from the request's");
    checks->passed |= KMS_CHECK_CMID;
    if (resp->client_time != req->client_time)
        return proto_fail(err, PROTO_E_TIMESTAMP, "response ClientTime differs from the request's");
    checks->passed |= KMS_CHECK_TIME;
    if (resp->major == 4)
        return 0;

    if (resp->major == 5) {
        if (memcmp(resp->w_resp, w_req, 16) != 0)
            return proto_fail(err, PROTO_E_IV_MISMATCH,
                              "V5 response IV differs from the request IV");
        checks->passed |= KMS_CHECK_IV_ECHO;
    }
    uint8_t div[16], r[16], hash[32];
    cipher_decrypt_block(cipher_for_major(resp->major), w_req, div);
    xor16(r, resp->random_xored_ivs, div);
    digest_sha256(r, sizeof r, hash);
    if (memcmp(hash, resp->hash, 32) != 0)
        return proto_fail(err, PROTO_E_HASH, "SHA-256(RandomXoredIVs xor DIV) differs from Hash");
    checks->passed |= KMS_CHECK_HASH;
    if (resp->major == 6) {
        if (memcmp(resp->xored_ivs, div, 16) != 0)
            return proto_fail(err, PROTO_E_XORED_IVS,
                              "XoredIVs differs from the decrypted request IV");
        checks->passed |= KMS_CHECK_XORED_IVS;
        if (memcmp(resp->w_resp, w_req, 16) != 0)
            checks->passed |= KMS_CHECK_IV_FRESH;
        else
            checks->warned |= KMS_CHECK_IV_FRESH;
    }
    return 0;
}
