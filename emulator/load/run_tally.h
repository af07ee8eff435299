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

/* A count crossing an activation threshold (25 or 5) in one answer: down (a fall) or up. Each
 * stream's first answer is kept too (first: the side it starts on, not a crossing), so that a
 * merge knows which side another thread's answers were on before its first crossing. */
struct tally_crossing {
    int64_t sim_us;
    uint64_t seq; /* the request that answered it */
    double wall_s;
    unsigned threshold;
    unsigned count; /* the count that answer returned */
    bool down;      /* below the threshold from this answer on */
    bool first;
};

#define TALLY_THRESHOLDS 2     /* 5 and 25 (tally_thresholds) */
#define TALLY_MAX_CROSSINGS 64 /* per application; later ones are counted, not kept */

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
    /* Every answer whose count is on the other side of a threshold than this application's
     * previous answer (in simulated time): exact for one stream; merged by interleaving. */
    struct tally_crossing crossings[TALLY_MAX_CROSSINGS];
    size_t n_crossings;
    uint64_t crossings_dropped;
};

/* The thresholds crossings are found for: 5 (servers, Office) and 25 (Windows clients). */
extern const unsigned tally_thresholds[TALLY_THRESHOLDS];

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

#define TALLY_MAX_HOSTS 8   /* = HOST_SET_MAX */
#define TALLY_MAX_DAYS 1024 /* daily samples of which host machines use */

/* One application's counts as one KMS host returned them. */
struct tally_host_app {
    bool seen;
    char key[32];
    unsigned max_count, last_count;
    int64_t last_sim_us;
    int64_t reached_us[2]; /* first answer with count >= 5 and >= 25; -1 never */
};

/* One KMS host of the run (several with --target dns:DOMAIN or a scenario's [host] sections). */
struct tally_host {
    bool seen;
    char name[256];
    uint64_t requests;
    uint64_t outcomes[KMS_OUTCOME__COUNT];
    uint64_t refused_product; /* 0xC004F042: the host key does not cover the product */
    uint64_t failed_over;     /* attempts it did not answer, answered by the next host tried */
    uint64_t model_checked, model_mismatches;
    struct tally_host_app apps[TALLY_MAX_APPS]; /* by catalogue application index */
    /* Its record's and its own schedule (simulated µs; -1 none): a scenario's DNS timeline. */
    int64_t publish_at_us, withdraw_at_us, start_at_us, stop_at_us;
    /* Down since: the first failure (no answer at all) after the host's last answer, in
     * simulated µs and wall seconds; down_since_us -1 when its last attempt was answered (or it
     * never failed). last_answer_us -1: never answered. */
    int64_t last_answer_us, down_since_us;
    double last_answer_wall_s, down_since_wall_s;
};

/* What a host did, derived from its counters (the console line, summary.json, summary.md). */
struct tally_host_figures {
    uint64_t answered;            /* a KMS answer of any kind: a count, an HRESULT, an RPC fault */
    uint64_t connection_failures; /* no answer at all: DNS, refused, unreachable, timeout... */
    uint64_t key_refusals;        /* 0xC004F042: its host key does not cover the product */
    uint64_t failovers;           /* attempts after which the contact went on to the next host */
};
void tally_host_figures(const struct tally_host *h, struct tally_host_figures *out);
/* One line about host h: "h1:1688 58 requests, 40 answered, 18 connection failures
 * (connect-refused 18), 0 key refusals, 0 disagreements, down since 0h00m12s; windows last 2 max
 * 2" (no newline). */
void tally_host_line(const struct tally_host *h, bool virtual_clock, char *out, size_t cap);

/* At the start of a simulated day: the machines (joined, not left) caching each host. */
struct tally_host_day {
    int64_t sim_us;
    unsigned machines[TALLY_MAX_HOSTS];
    unsigned no_host; /* none cached: never activated yet, or discovering again */
};

struct tally_hresult {
    uint32_t code;
    uint64_t n;
};

struct run_tally {
    uint64_t requests; /* attempts: a contact that fails over is one per host it tried */
    uint64_t outcomes[KMS_OUTCOME__COUNT];
    uint64_t failed_over; /* attempts not answered after which the contact tried the next host */
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
    struct tally_host hosts[TALLY_MAX_HOSTS];
    size_t n_hosts; /* host indices seen: [0, n_hosts) */
    struct tally_host_day days[TALLY_MAX_DAYS];
    size_t n_days;
    /* The longest a joined machine went without being activated (from its first contact, or
     * from when its activation ran out, to its activation or to the end of the run); filled by
     * the engine. */
    int64_t max_unactivated_us;
    uint32_t max_unactivated_machine;
    bool max_unactivated_open; /* that machine was still unactivated at the end */
};

void run_tally_init(struct run_tally *t, size_t n_pops);
void run_tally_add(struct run_tally *t, const struct run_event *ev);
void run_tally_merge(struct run_tally *into, const struct run_tally *from);
/* Adds machine counts (machines[TALLY_MAX_HOSTS] per cached host, and those with none) to day
 * d's sample: the engine's threads each add their own machines. */
void run_tally_day(struct run_tally *t, size_t day, int64_t sim_us, const unsigned *machines,
                   unsigned no_host);
/* Names host i of the run's host set before any request, with its schedule (-1: none), so that
 * summary.json lists every host, also one nobody reached. */
void run_tally_name_host(struct run_tally *t, size_t i, const char *name, int64_t publish_at_us,
                         int64_t withdraw_at_us, int64_t start_at_us, int64_t stop_at_us);
/* Contacts: attempts less those that failed over to the next host (one per machine's try). */
uint64_t run_tally_contacts(const struct run_tally *t);
/* Failed contacts: everything but activated and below-threshold answers. */
uint64_t run_tally_failures(const struct run_tally *t);
/* Contacts no host answered at all: refused, timed out, reset, closed or broken answers, not
 * counting attempts the contact failed over from (the next host answered or failed). */
uint64_t run_tally_unanswered(const struct run_tally *t);

#endif
