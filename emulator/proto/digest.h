/* SHA-256 and HMAC-SHA256 through libcrypto, in one place so the codec has one dependency on it. */
#ifndef KMSLOAD_DIGEST_H
#define KMSLOAD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

void digest_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
void digest_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                        uint8_t out[32]);

#endif
