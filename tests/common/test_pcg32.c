/* PCG32 against the reference implementation's published demo output (seed 42, stream 54). */
#include "pcg32.h"

#include <criterion/criterion.h>

Test(pcg32, reference_demo_sequence)
{
    /* pcg32-demo: pcg32_srandom_r(&rng, 42u, 54u), first six outputs. */
    static const uint32_t expected[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                         0x83d2f293, 0xbfa4784b, 0xcbed606e};
    struct pcg32 rng;
    pcg32_seed(&rng, 42, 54);
    cr_assert_eq(rng.inc, 109u);
    cr_assert_eq(rng.state, 1753877967969059832ULL);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(pcg32_next(&rng), expected[i], "output %d", i);
}

Test(pcg32, streams_differ_and_repeat)
{
    struct pcg32 a, b, c;
    pcg32_seed(&a, 7, 1);
    pcg32_seed(&b, 7, 2);
    pcg32_seed(&c, 7, 1);
    int same_ab = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = pcg32_next(&a), y = pcg32_next(&b), z = pcg32_next(&c);
        same_ab += x == y;
        cr_assert_eq(x, z, "same seed and stream must repeat (step %d)", i);
    }
    cr_assert_lt(same_ab, 3, "different streams should not coincide");
}

Test(pcg32, bounded_stays_in_range_and_covers_it)
{
    struct pcg32 rng;
    pcg32_seed(&rng, 1, 1);
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint32_t v = pcg32_bounded(&rng, 7);
        cr_assert_lt(v, 7u);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        cr_assert(seen[i] > 800 && seen[i] < 1200, "value %d drawn %d times of 7000", i, seen[i]);
    cr_assert_eq(pcg32_bounded(&rng, 0), 0u);
    double u = pcg32_unit(&rng);
    cr_assert(u >= 0.0 && u < 1.0);
}
