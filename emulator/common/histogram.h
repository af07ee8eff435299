/*
 * Latency histogram, log-linear like HdrHistogram: values (microseconds) below 2^SUB_BITS are
 * exact; above, each power of two is split into 2^SUB_BITS linear buckets, so any recorded value
 * is reported within 1/2^SUB_BITS (< 1 %) of itself. Fixed size, mergeable across threads.
 */
#ifndef KMSLOAD_HISTOGRAM_H
#define KMSLOAD_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_SUB_BITS 7      /* 128 buckets per power of two: ≤ 0.79 % relative error */
#define HISTOGRAM_MAX_EXPONENT 40 /* values up to 2^40 us (12.7 days); larger ones are clamped */
#define HISTOGRAM_BUCKETS ((HISTOGRAM_MAX_EXPONENT - HISTOGRAM_SUB_BITS + 2) << HISTOGRAM_SUB_BITS)

struct histogram {
    uint64_t count;
    uint64_t min, max;
    double sum;
    uint64_t buckets[HISTOGRAM_BUCKETS];
};

void histogram_init(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t value);
void histogram_merge(struct histogram *into, const struct histogram *from);
/* Value at quantile q in [0, 1] (the bucket's midpoint, clamped to [min, max]); 0 when empty. */
uint64_t histogram_quantile(const struct histogram *h, double q);
double histogram_mean(const struct histogram *h);

/* Bucket index of a value and the range [lo, hi] a bucket covers (exposed for tests). */
size_t histogram_bucket_of(uint64_t value);
void histogram_bucket_range(size_t bucket, uint64_t *lo, uint64_t *hi);

#endif
