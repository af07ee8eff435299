/*
 * Host keys (spec §12.5): the CSVLKs a KMS host has installed decide which product groups it
 * activates, and the host's OS decides which keys it can install (some only after an update).
 * Pure lookups over the catalogue's [csvlk:] and [hostos:] data.
 */
#ifndef KMSLOAD_HOST_KEYS_H
#define KMSLOAD_HOST_KEYS_H

#include "catalog.h"

#include <stdbool.h>
#include <stddef.h>

#define HOST_KEYS_MAX 32

/* A set of installed host keys: indices into catalog.csvlks. */
struct host_keys {
    size_t key[HOST_KEYS_MAX];
    size_t n;
};

/* "ws2012r2,office2016" → keys. Every item must be a host key (a [csvlk:] section that
 * activates something). Returns 0, or -1 with a message naming the item. */
int host_keys_parse(const struct catalog *cat, const char *list, struct host_keys *keys, char *err,
                    size_t err_len);
/* Whether one of the keys activates product group kms (index into cat->kms). */
bool host_keys_cover(const struct catalog *cat, const struct host_keys *keys, size_t kms);
/* The key that answers product group kms: the first in catalogue order (newest first) of keys
 * (or of every host key when keys is NULL) that activates it; NULL when none does. */
const struct catalog_csvlk *host_keys_answering(const struct catalog *cat,
                                                const struct host_keys *keys, size_t kms);
/* How key c can be installed on host OS os (index into cat->hostos): NULL when it cannot. */
const struct catalog_hosting *host_keys_hosting(const struct catalog_csvlk *c, size_t os);
/*
 * The host OS build for these keys. *build == 0: choose the newest OS that can carry every key
 * (before build 9200 when !ndr64: a host without NDR64 shows a pre-NDR64 build, spec §9.1);
 * otherwise check that the OS of *build can carry them. Returns 0, or -1 with a message.
 */
int host_keys_build(const struct catalog *cat, const struct host_keys *keys, bool ndr64,
                    unsigned *build, char *err, size_t err_len);

#endif
