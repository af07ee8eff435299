#include "srv_order.h"

#include <stdbool.h>

/* Picks the next record of one priority group among the not yet taken ones (RFC 2782 §"Usage
 * rules": zero-weight records first, running sums, the first whose sum reaches a uniform draw in
 * [0, total]). */
static size_t draw_one(const struct srv_choice *recs, const size_t *group, size_t n_group,
                       const bool *taken, struct pcg32 *rng)
{
    uint32_t total = 0;
    size_t left = 0;
    for (size_t i = 0; i < n_group; i++)
        if (!taken[i]) {
            total += recs[group[i]].weight;
            left++;
        }
    if (total == 0) {
        uint32_t k = pcg32_bounded(rng, (uint32_t)left);
        for (size_t i = 0; i < n_group; i++)
            if (!taken[i] && k-- == 0)
                return i;
    }
    uint32_t r = pcg32_bounded(rng, total + 1);
    uint32_t sum = 0;
    /* Zero-weight records come first in the running order, so r == 0 may select one of them. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n_group; i++) {
            if (taken[i] || (recs[group[i]].weight == 0) != (pass == 0))
                continue;
            sum += recs[group[i]].weight;
            if (sum >= r)
                return i;
        }
    for (size_t i = 0; i < n_group; i++) /* not reached: sum ends at total >= r */
        if (!taken[i])
            return i;
    return 0;
}

size_t srv_order(const struct srv_choice *recs, size_t n, struct pcg32 *rng, size_t *order)
{
    size_t out = 0;
    bool done[SRV_ORDER_MAX] = {false};
    if (n > SRV_ORDER_MAX)
        n = SRV_ORDER_MAX;
    for (;;) {
        /* The lowest priority not yet ordered. */
        long lowest = -1;
        for (size_t i = 0; i < n; i++)
            if (!done[i] && !recs[i].excluded && (lowest < 0 || recs[i].priority < lowest))
                lowest = recs[i].priority;
        if (lowest < 0)
            return out;
        size_t group[SRV_ORDER_MAX], n_group = 0;
        for (size_t i = 0; i < n; i++)
            if (!done[i] && !recs[i].excluded && recs[i].priority == lowest)
                group[n_group++] = i;
        bool taken[SRV_ORDER_MAX] = {false};
        for (size_t k = 0; k < n_group; k++) {
            size_t g = draw_one(recs, group, n_group, taken, rng);
            taken[g] = true;
            done[group[g]] = true;
            order[out++] = group[g];
        }
    }
}

long srv_pick(const struct srv_choice *recs, size_t n, struct pcg32 *rng)
{
    /* Only the first draw matters, but drawing it exactly as srv_order does keeps the two in
     * step for the same stream. */
    long lowest = -1;
    if (n > SRV_ORDER_MAX)
        n = SRV_ORDER_MAX;
    for (size_t i = 0; i < n; i++)
        if (!recs[i].excluded && (lowest < 0 || recs[i].priority < lowest))
            lowest = recs[i].priority;
    if (lowest < 0)
        return -1;
    size_t group[SRV_ORDER_MAX], n_group = 0;
    for (size_t i = 0; i < n; i++)
        if (!recs[i].excluded && recs[i].priority == lowest)
            group[n_group++] = i;
    bool taken[SRV_ORDER_MAX] = {false};
    // cppcheck-suppress uninitvar ; the first n_group entries are set, lowest exists
    return (long)group[draw_one(recs, group, n_group, taken, rng)];
}
