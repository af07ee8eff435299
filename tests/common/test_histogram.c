/* The latency histogram against exact percentiles of the same samples. */
#include "histogram.h"
#include "pcg32.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

Test(histogram, percentiles_within_one_percent_of_exact)
{
    enum { N = 200000 };
    static uint64_t samples[N];
    static struct histogram h;
    struct pcg32 rng;
    pcg32_seed(&rng, 99, 3);
    histogram_init(&h);
    for (size_t i = 0; i < N; i++) {
        /* Log-uniform over 1 us .. 10 s: exercises every bucket region. */
        double v = exp(pcg32_unit(&rng) * log(1e7));
        samples[i] = (uint64_t)v;
        histogram_record(&h, samples[i]);
    }
    qsort(samples, N, sizeof samples[0], cmp_u64);
    const double qs[] = {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double exact = (double)exact_quantile(samples, N, qs[i]);
        double approx = (double)histogram_quantile(&h, qs[i]);
        cr_assert_leq(fabs(approx - exact), exact * 0.01 + 0.5, "q=%g: exact %.0f, histogram %.0f",
                      qs[i], exact, approx);
    }
    cr_assert_eq(histogram_quantile(&h, 1.0), samples[N - 1]);
    cr_assert_eq(histogram_quantile(&h, 0.0), samples[0]);
    cr_assert_eq(h.count, N);
}

Test(histogram, small_values_are_exact_and_buckets_tile)
{
    struct histogram h;
    histogram_init(&h);
    for (uint64_t v = 1; v <= 100; v++)
        histogram_record(&h, v);
    cr_assert_eq(histogram_quantile(&h, 0.5), 50);
    cr_assert_eq(histogram_quantile(&h, 0.99), 99);
    cr_assert_float_eq(histogram_mean(&h), 50.5, 1e-9);
    /* Consecutive buckets cover consecutive ranges with no gap or overlap. */
    uint64_t prev_hi = 0;
    for (size_t b = 1; b < HISTOGRAM_BUCKETS; b++) {
        uint64_t lo, hi;
        histogram_bucket_range(b, &lo, &hi);
        cr_assert_eq(lo, prev_hi + 1, "bucket %zu starts at %llu", b, (unsigned long long)lo);
        cr_assert_eq(histogram_bucket_of(lo), b);
        cr_assert_eq(histogram_bucket_of(hi), b);
        prev_hi = hi;
    }
}

Test(histogram, merge_equals_recording_everything)
{
    static struct histogram a, b, all;
    histogram_init(&a);
    histogram_init(&b);
    histogram_init(&all);
    for (uint64_t v = 1; v < 50000; v += 7) {
        histogram_record(v % 2 ? &a : &b, v);
        histogram_record(&all, v);
    }
    histogram_merge(&a, &b);
    cr_assert_eq(a.count, all.count);
    cr_assert_eq(a.min, all.min);
    cr_assert_eq(a.max, all.max);
    cr_assert_arr_eq(a.buckets, all.buckets, sizeof a.buckets);
    struct histogram empty;
    histogram_init(&empty);
    cr_assert_eq(histogram_quantile(&empty, 0.5), 0);
}
