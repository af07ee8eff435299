/* Fresh random bytes for what a client sends once: random CMIDs and request IVs. Its own file so
 * the CMID policy (probe_cmid) and the request builder (client_request) both use it without calling
 * each other. */
#ifndef KMSLOAD_CLIENT_RANDOM_H
#define KMSLOAD_CLIENT_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* libcrypto's generator; a time-seeded mix in the rare case it fails. */
void client_random_bytes(uint8_t *out, size_t len);

#endif
