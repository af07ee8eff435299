#include "host_choice.h"

#include "srv_order.h"

#include <string.h>

bool host_published(const struct host_set *set, size_t i, int64_t t)
{
    const struct host_entry *h = &set->hosts[i];
    return t >= h->published_from_us && t < h->published_until_us;
}

int host_set_find(const struct host_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->hosts[i].name, name) == 0)
            return (int)i;
    return HOST_NONE;
}

size_t host_choice_order(const struct host_set *set, int64_t sim_us, int cached, int pinned,
                         struct pcg32 *rng, size_t *order)
{
    if (pinned >= 0 && (size_t)pinned < set->n) {
        order[0] = (size_t)pinned;
        return 1;
    }
    size_t n = 0;
    if (!set->discovery) {
        /* One configured host: nothing to choose. */
        for (size_t i = 0; i < set->n; i++)
            order[n++] = i;
        return n;
    }
    bool use_cache = set->caching && cached >= 0 && (size_t)cached < set->n;
    if (use_cache)
        order[n++] = (size_t)cached;
    struct srv_choice recs[HOST_SET_MAX];
    for (size_t i = 0; i < set->n; i++) {
        recs[i].priority = set->hosts[i].priority;
        recs[i].weight = set->hosts[i].weight;
        recs[i].excluded = !host_published(set, i, sim_us) || (use_cache && (int)i == cached);
    }
    size_t drawn[SRV_ORDER_MAX];
    size_t k = srv_order(recs, set->n, rng, drawn);
    for (size_t i = 0; i < k; i++)
        order[n++] = drawn[i];
    return n;
}

void host_choice_stream(struct pcg32 *rng, uint64_t seed, uint32_t machine, int64_t sim_us)
{
    pcg32_seed(rng, seed ^ ((uint64_t)sim_us * 0x9E3779B97F4A7C15ULL),
               0x484F535400000000ULL | machine);
}
