/*
 * SHA-256 and HMAC-SHA256 through libcrypto.
 *
 * Why the low-level API: a V6 exchange computes two SHA-256 and one HMAC on each side, and with
 * OpenSSL 3 every EVP entry point (EVP_Digest, HMAC(), EVP_Q_mac, SHA256(), and even an
 * EVP_MD_CTX with EVP_sha256()) fetches the provider implementation by name (locks, a hash table
 * lookup, refcounts) and allocates and frees a context on each call. Measured with OpenSSL 3.0 on
 * x86-64: SHA-256 of 8 bytes ~700 ns through any EVP path vs ~80 ns here; HMAC-SHA256 of 204
 * bytes ~2.7 us with HMAC(), ~1.6 us as two EVP_MD_CTX digests, ~0.4 us here. That was about
 * 40% of kmsload-bench's V6 request+verify figure. Fetching the EVP_MD once would need a cached
 * pointer, i.e. a mutable global, which the codec does not have.
 *
 * SHA256_Init/Update/Final work on a SHA256_CTX on our stack: no fetch, no allocation, no lock,
 * and they still use libcrypto's assembler (SHA-NI/AVX2) block function. OpenSSL 3.0 deprecates
 * them (they are not removed). This file alone asks for the OpenSSL 1.1.1 API level, under which
 * the declarations carry no deprecation attribute; nothing else in the project uses the
 * deprecated API. If libcrypto was configured without the deprecated API
 * (OPENSSL_NO_DEPRECATED_3_0), the EVP one-shot functions are used instead: slower, same results.
 */
#define OPENSSL_API_COMPAT 10101

#include "digest.h"

#include <openssl/opensslconf.h>

#include <string.h>

#ifndef OPENSSL_NO_DEPRECATED_3_0

#include <openssl/sha.h>

#define SHA256_BLOCK 64

void digest_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
}

/* RFC 2104 over SHA-256. Keys and messages here are public protocol values: no cleansing. */
void digest_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                        uint8_t out[32])
{
    uint8_t k[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK], inner[32];
    if (key_len > SHA256_BLOCK)
        digest_sha256(key, key_len, k);
    else if (key_len > 0)
        memcpy(k, key, key_len);

    SHA256_CTX ctx;
    for (size_t i = 0; i < SHA256_BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, pad, sizeof pad);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(inner, &ctx);

    for (size_t i = 0; i < SHA256_BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, pad, sizeof pad);
    SHA256_Update(&ctx, inner, sizeof inner);
    SHA256_Final(out, &ctx);
}

#else /* libcrypto without the deprecated API */

#include <openssl/evp.h>
#include <openssl/hmac.h>

void digest_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned int out_len = 32;
    EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL);
}

void digest_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                        uint8_t out[32])
{
    unsigned int out_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

#endif
