/*
 * RFC 2782 host order for SRV records: ascending priority, and within one priority a weighted
 * random draw without replacement. Pure: the random choices come from the caller's PCG32 stream,
 * so a seed reproduces every machine's choice.
 */
#ifndef KMSLOAD_SRV_ORDER_H
#define KMSLOAD_SRV_ORDER_H

#include "pcg32.h"

#include <stddef.h>
#include <stdint.h>

#define SRV_ORDER_MAX 32

struct srv_choice {
    uint16_t priority;
    uint16_t weight;
    /* Left out of the draw (a host that did not answer, a record withdrawn). */
    unsigned char excluded;
};

/*
 * Writes the indices of the eligible records into order, first choice first; returns how many
 * (0 when none is eligible). n is at most SRV_ORDER_MAX. Among records of one priority, record i
 * comes next with probability weight_i / sum of weights; when every weight of the group is 0 the
 * choice is uniform (a Windows client picks at random among hosts published as "0 0").
 */
size_t srv_order(const struct srv_choice *recs, size_t n, struct pcg32 *rng, size_t *order);

/* The first choice alone (what srv_order would put first), or -1 when none is eligible. */
long srv_pick(const struct srv_choice *recs, size_t n, struct pcg32 *rng);

#endif
