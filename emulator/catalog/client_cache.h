/*
 * One application's client machine ID cache, counted as a genuine KMS host counts (spec §10):
 * unique CMIDs, refreshed on every request, dropped 30 days after their last request, at most
 * 2 x the largest N_Policy seen most recently seen (10 while only servers or Office clients have
 * asked, 50 once a Windows client has; the capacity never shrinks). Used by the reference host
 * (what a host does) and by the load engine's model (what a host should do), so both apply the same
 * rules.
 */
#ifndef KMSLOAD_CLIENT_CACHE_H
#define KMSLOAD_CLIENT_CACHE_H

#include "wintypes.h"

#include <stddef.h>
#include <stdint.h>

#define CLIENT_CACHE_RETENTION (30ULL * 86400ULL * FILETIME_PER_SECOND) /* 30 days, FILETIME */
#define CLIENT_CACHE_MAX_CAPACITY 2000 /* 2 x the largest N_Policy a host accepts (1000) */

struct client_cache_entry {
    struct guid cmid;
    uint64_t last_seen; /* FILETIME of the latest request */
};

struct client_cache {
    unsigned min_capacity; /* 0 for a host's cache; bookkeeping tables may ask for more */
    unsigned max_n_policy; /* largest N_Policy seen: sets the capacity (host state) */
    size_t n;
    struct client_cache_entry entries[CLIENT_CACHE_MAX_CAPACITY];
};

/* An empty cache; min_capacity is 0 for a genuine host's cache (its size follows N_Policy). */
void client_cache_init(struct client_cache *cache, unsigned min_capacity);
/* The capacity a genuine host has after seeing max_n_policy: 2 x it (at least 1, at most
 * CLIENT_CACHE_MAX_CAPACITY). */
unsigned client_cache_capacity_for(unsigned max_n_policy);
/* max(min_capacity, 2 x largest N_Policy seen), bounded by CLIENT_CACHE_MAX_CAPACITY. */
unsigned client_cache_capacity(const struct client_cache *cache);
/* Drops entries whose last request is 30 days or more before now. */
void client_cache_expire(struct client_cache *cache, uint64_t now);
/*
 * Records a request at time now: expires old entries, refreshes or inserts cmid (evicting the
 * least recently seen when full) and returns the count the host reports, the caller included.
 */
unsigned client_cache_touch(struct client_cache *cache, const struct guid *cmid, unsigned n_policy,
                            uint64_t now);
/* Count at time now without recording anything. */
unsigned client_cache_count(struct client_cache *cache, uint64_t now);
/* The entry of cmid, or NULL. */
const struct client_cache_entry *client_cache_find(const struct client_cache *cache,
                                                   const struct guid *cmid);

#endif
