#include "pcg32.h"

#define PCG32_MULTIPLIER 6364136223846793005ULL

void pcg32_seed(struct pcg32 *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0;
    rng->inc = (initseq << 1u) | 1u;
    pcg32_next(rng);
    rng->state += initstate;
    pcg32_next(rng);
}

uint32_t pcg32_next(struct pcg32 *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG32_MULTIPLIER + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t pcg32_bounded(struct pcg32 *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the low values that would make the modulo uneven (the reference's approach). */
    uint32_t threshold = (-bound) % bound; // cppcheck-suppress oppositeExpression
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

double pcg32_unit(struct pcg32 *rng)
{
    uint64_t hi = pcg32_next(rng), lo = pcg32_next(rng);
    return (double)((hi << 21) ^ lo) / 9007199254740992.0; /* 53 random bits / 2^53 */
}

void pcg32_fill(struct pcg32 *rng, uint8_t *out, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t r = pcg32_next(rng);
        for (int b = 0; b < 4 && i < len; b++, i++)
            out[i] = (uint8_t)(r >> (8 * b));
    }
}
