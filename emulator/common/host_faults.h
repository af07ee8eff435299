/* Fault injection for the reference host: how it misbehaves, and how often, when asked to. */
#ifndef KMSLOAD_HOST_FAULTS_H
#define KMSLOAD_HOST_FAULTS_H

#include "pcg32.h"

#include <stddef.h>
#include <stdint.h>

enum host_fault {
    HOST_FAULT_NONE,
    HOST_FAULT_DROP,          /* close the connection instead of answering */
    HOST_FAULT_RESET,         /* TCP reset instead of answering */
    HOST_FAULT_GARBLE,        /* flip bytes of the answer */
    HOST_FAULT_TRUNCATE,      /* send half of the answer, then close */
    HOST_FAULT_STALL,         /* never answer */
    HOST_FAULT_WRONG_CALL_ID, /* answer with another call_id */
    HOST_FAULT__COUNT
};

struct host_faults {
    double probability[HOST_FAULT__COUNT]; /* per request, for each fault but NONE */
    double latency_probability;            /* chance of added latency (independent) */
    int64_t latency_us;
};

/*
 * Parses "latency=50ms@0.2,drop=0.01,reset=0.01,garble=0.01,truncate=0.01,stall=0.01,
 * wrong-call-id=0.01" (latency=DUR applies to every request when no @P is given).
 * Returns 0 or -1 with a message naming the bad item.
 */
int host_faults_parse(const char *spec, struct host_faults *faults, char *err, size_t err_len);
/* Draws the fault for one request (at most one of the exclusive faults). */
enum host_fault host_faults_draw(const struct host_faults *faults, struct pcg32 *rng);
/* Added latency for one request in microseconds (0 most of the time). */
int64_t host_faults_latency(const struct host_faults *faults, struct pcg32 *rng);
const char *host_fault_name(enum host_fault fault);

#endif
