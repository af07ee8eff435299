/* One request of a run as the engine recorded it: the unit of events.csv and of every tally. */
#ifndef KMSLOAD_RUN_EVENT_H
#define KMSLOAD_RUN_EVENT_H

#include "kms_outcome.h"
#include "rpc.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stdint.h>

struct run_event {
    uint64_t seq;         /* 1, 2, 3... in completion order */
    double wall_s;        /* seconds from the start of the run (wall clock) */
    int64_t sim_us;       /* simulated time from the start of the run */
    uint64_t client_time; /* FILETIME sent as ClientTime */
    uint32_t machine;     /* global machine index */
    struct guid cmid;
    int app;                 /* catalogue application index, -1 if unknown */
    const char *app_key;     /* "windows", "office2013", ... */
    const char *product_key; /* catalogue SKU key */
    const char *population;  /* scenario population name */
    const char *host;        /* the KMS host asked (engine's host set name), "" when none */
    int host_index;          /* its index in the run's host set, -1 when none */
    int population_index;
    unsigned protocol; /* KMS major version sent */
    enum rpc_ndr ndr;
    unsigned n_policy;
    enum kms_outcome outcome;
    uint32_t hresult; /* host HRESULT, 0xC004F038 below threshold, fault status */
    int64_t count;    /* returned count, -1 when the host gave none */
    /* The model's expectation: the count a genuine host could have returned. */
    bool model_checked; /* false when the model could not judge (no count) */
    unsigned expected_lo, expected_hi;
    bool model_agrees;
    char model_reason[160]; /* why it disagrees (or what it expected) */
    uint64_t latency_us;    /* from the intended send time to the answer */
    char epid[72];
    uint8_t hwid[8];
    bool has_hwid;
    char detail[160]; /* error detail for failures */
    /* The host did not answer and the same contact went on to the next host of the machine's
     * order (failover, spec §1): not a failed contact, the next attempt decides. */
    bool failover;
};

/* Where the engine hands each finished request (cmd/run connects it to the run directory), so
 * the load layer never touches files. flush is called twice a second, sent as each request
 * starts (for an in-flight figure); all may be NULL. */
struct run_event_sink {
    void (*event)(void *ctx, const struct run_event *ev);
    void (*flush)(void *ctx);
    void (*sent)(void *ctx);
    void *ctx;
};

#endif
