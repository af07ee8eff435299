/*
 * PCG32 (O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms
 * for Random Number Generation", XSH-RR 64/32): every random choice in kmsload comes from a
 * stream seeded explicitly, so a seed reproduces a fleet, its CMIDs and its request stream.
 */
#ifndef KMSLOAD_PCG32_H
#define KMSLOAD_PCG32_H

#include <stddef.h>
#include <stdint.h>

struct pcg32 {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
};

/* pcg32_srandom_r of the reference implementation: initstate and stream (initseq). */
void pcg32_seed(struct pcg32 *rng, uint64_t initstate, uint64_t initseq);
uint32_t pcg32_next(struct pcg32 *rng);
/* Uniform in [0, bound) without modulo bias; bound 0 gives 0. */
uint32_t pcg32_bounded(struct pcg32 *rng, uint32_t bound);
/* Uniform double in [0, 1). */
double pcg32_unit(struct pcg32 *rng);
void pcg32_fill(struct pcg32 *rng, uint8_t *out, size_t len);

#endif
