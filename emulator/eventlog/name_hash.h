/*
 * Privacy by default: FQDNs and CMIDs in the outputs of `kmsload fleet` are replaced by stable
 * keyed hashes (HMAC-SHA-256, libcrypto), so that reports can be attached to tickets. The key is
 * random per import unless given (--hash-key): the same key gives the same pseudonyms across
 * imports, and nobody without it can test a guessed name.
 */
#ifndef KMSLOAD_NAME_HASH_H
#define KMSLOAD_NAME_HASH_H

#include "wintypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAME_HASH_KEY_MAX 64
#define NAME_HASH_TEXT 24 /* "host-" or "cmid-" + 16 hex digits + NUL */

struct name_hash {
    bool keep; /* --keep-names: outputs show the real names */
    unsigned char key[NAME_HASH_KEY_MAX];
    size_t key_len;
};

/* key_text NULL: a random 32-byte key. Otherwise the key is the text itself (any passphrase).
 * Returns 0, or -1 with a message. */
int name_hash_init(struct name_hash *h, bool keep, const char *key_text, char *err, size_t err_len);
/* The FQDN as shown: itself (keep) or "host-" + 16 hex digits of HMAC(key, lower-case name). */
void name_hash_fqdn(const struct name_hash *h, const char *fqdn, char *out, size_t cap);
/* The CMID as shown: its GUID text (keep) or "cmid-" + 16 hex digits of HMAC(key, GUID text). */
void name_hash_cmid(const struct name_hash *h, const struct guid *cmid, char *out, size_t cap);

#endif
