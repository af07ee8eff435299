/*
 * What a run adds up to: counts by outcome and HRESULT, per-application count timelines and
 * maxima, per-population threshold crossings, latency, model disagreements. Pure aggregation of
 * run_event rows; the engine feeds it, expectations and records read it. Mergeable (threads,
 * shards).
 */
#ifndef KMSLOAD_RUN_TALLY_H
#define KMSLOAD_RUN_TALLY_H

#include "histogram.h"
#include "run_event.h"
#include "scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TALLY_MAX_APPS 8
#define TALLY_MAX_HRESULTS 32
#define TALLY_TIMELINE_MAX 4096 /* points per application; thinned by halving when full */

struct tally_point {
    int64_t sim_us;
    double wall_s;
    unsigned count; /* returned count */
    unsigned expected_lo, expected_hi;
};

struct tally_app {
    bool seen;
    char key[32];
    uint64_t requests;
    unsigned max_count;
    unsigned last_count;
    int64_t last_sim_us;
    struct tally_point timeline[TALLY_TIMELINE_MAX];
    size_t n_timeline;
    unsigned timeline_stride; /* keep every stride-th change (grows when thinned) */
    uint64_t timeline_skipped;
};

struct tally_population {
    uint64_t requests;
    uint64_t activated_responses;
    bool crossed; /* a machine of this population activated */
    uint64_t first_activation_seq;
    int64_t first_activation_sim_us;
    double first_activation_wall_s;
    unsigned first_activation_count;
    uint32_t first_activation_machine;
    unsigned activated_machines; /* still activated at the end (machine states, by the engine) */
    unsigned ever_activated_machines; /* activated at least once during the run (ditto) */
    unsigned machines;
};

struct tally_hresult {
    uint32_t code;
    uint64_t n;
};

struct run_tally {
    uint64_t requests;
    uint64_t outcomes[KMS_OUTCOME__COUNT];
    struct tally_hresult hresults[TALLY_MAX_HRESULTS]; /* host HRESULTs and RPC fault statuses */
    size_t n_hresults;
    struct tally_app apps[TALLY_MAX_APPS];
    struct tally_population pops[SCENARIO_MAX_POPULATIONS];
    size_t n_pops;
    struct histogram latency;
    uint64_t model_checked;
    uint64_t model_mismatches;
    bool has_first_mismatch;
    struct run_event first_mismatch;
    double first_wall_s, last_wall_s;
    int64_t last_sim_us;
};

void run_tally_init(struct run_tally *t, size_t n_pops);
void run_tally_add(struct run_tally *t, const struct run_event *ev);
void run_tally_merge(struct run_tally *into, const struct run_tally *from);
/* Failed contacts: everything but activated and below-threshold answers. */
uint64_t run_tally_failures(const struct run_tally *t);

#endif
