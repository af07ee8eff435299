#include "client_cache.h"

#include <string.h>

void client_cache_init(struct client_cache *cache, unsigned min_capacity)
{
    memset(cache, 0, sizeof *cache);
    cache->min_capacity =
        min_capacity > CLIENT_CACHE_MAX_CAPACITY ? CLIENT_CACHE_MAX_CAPACITY : min_capacity;
}

unsigned client_cache_capacity_for(unsigned max_n_policy)
{
    /* The requester itself is always counted, even with N_Policy 0. */
    unsigned cap =
        2 * (max_n_policy > CLIENT_CACHE_MAX_CAPACITY ? CLIENT_CACHE_MAX_CAPACITY : max_n_policy);
    if (cap < 1)
        cap = 1;
    return cap > CLIENT_CACHE_MAX_CAPACITY ? CLIENT_CACHE_MAX_CAPACITY : cap;
}

unsigned client_cache_capacity(const struct client_cache *cache)
{
    unsigned cap = client_cache_capacity_for(cache->max_n_policy);
    return cap < cache->min_capacity ? cache->min_capacity : cap;
}

void client_cache_expire(struct client_cache *cache, uint64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < cache->n; i++) {
        const struct client_cache_entry *e = &cache->entries[i];
        /* Entries from the future (a clock that went back) are kept: they are recent. */
        if (now >= e->last_seen && now - e->last_seen >= CLIENT_CACHE_RETENTION)
            continue;
        cache->entries[kept++] = *e;
    }
    cache->n = kept;
}

const struct client_cache_entry *client_cache_find(const struct client_cache *cache,
                                                   const struct guid *cmid)
{
    for (size_t i = 0; i < cache->n; i++)
        if (guid_equal(&cache->entries[i].cmid, cmid))
            return &cache->entries[i];
    return NULL;
}

unsigned client_cache_touch(struct client_cache *cache, const struct guid *cmid, unsigned n_policy,
                            uint64_t now)
{
    client_cache_expire(cache, now);
    if (n_policy > cache->max_n_policy)
        cache->max_n_policy = n_policy;
    struct client_cache_entry *found = (struct client_cache_entry *)client_cache_find(cache, cmid);
    if (found) {
        if (now > found->last_seen)
            found->last_seen = now;
        return (unsigned)cache->n;
    }
    unsigned cap = client_cache_capacity(cache);
    while (cache->n >= cap && cache->n > 0) {
        /* Full: the least recently seen CMID makes room. */
        size_t oldest = 0;
        for (size_t i = 1; i < cache->n; i++)
            if (cache->entries[i].last_seen < cache->entries[oldest].last_seen)
                oldest = i;
        cache->entries[oldest] = cache->entries[--cache->n];
    }
    cache->entries[cache->n].cmid = *cmid;
    cache->entries[cache->n].last_seen = now;
    cache->n++;
    return (unsigned)cache->n;
}

unsigned client_cache_count(struct client_cache *cache, uint64_t now)
{
    client_cache_expire(cache, now);
    return (unsigned)cache->n;
}
