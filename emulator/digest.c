#include "digest.h"

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
