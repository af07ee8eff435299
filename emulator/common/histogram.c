#include "histogram.h"

#include <string.h>

#define SUB_COUNT (1u << HISTOGRAM_SUB_BITS)

void histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof *h);
}

static unsigned highest_bit(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

size_t histogram_bucket_of(uint64_t value)
{
    if (value < SUB_COUNT)
        return (size_t)value; /* exact region */
    unsigned e = highest_bit(value);
    if (e > HISTOGRAM_MAX_EXPONENT)
        return HISTOGRAM_BUCKETS - 1;
    /* Region r = e - SUB_BITS + 1 holds [2^e, 2^(e+1)) in SUB_COUNT steps of 2^(e - SUB_BITS). */
    size_t region = e - HISTOGRAM_SUB_BITS + 1;
    size_t sub = (size_t)((value >> (e - HISTOGRAM_SUB_BITS)) & (SUB_COUNT - 1));
    return region * SUB_COUNT + sub;
}

void histogram_bucket_range(size_t bucket, uint64_t *lo, uint64_t *hi)
{
    size_t region = bucket / SUB_COUNT, sub = bucket % SUB_COUNT;
    if (region == 0) {
        *lo = *hi = sub;
        return;
    }
    unsigned e = (unsigned)region + HISTOGRAM_SUB_BITS - 1;
    uint64_t step = 1ULL << (e - HISTOGRAM_SUB_BITS);
    *lo = (1ULL << e) + sub * step;
    *hi = *lo + step - 1;
}

void histogram_record(struct histogram *h, uint64_t value)
{
    if (h->count == 0 || value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->count++;
    h->sum += (double)value;
    h->buckets[histogram_bucket_of(value)]++;
}

void histogram_merge(struct histogram *into, const struct histogram *from)
{
    if (from->count == 0)
        return;
    if (into->count == 0 || from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->count += from->count;
    into->sum += from->sum;
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* The rank of the value at q (nearest-rank definition), 1-based. */
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999999);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            histogram_bucket_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            if (mid < h->min)
                mid = h->min;
            if (mid > h->max)
                mid = h->max;
            return mid;
        }
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
