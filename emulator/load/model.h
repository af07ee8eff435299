/*
 * The engine's model of a genuine KMS host (spec §10): the same per-application client caches
 * the reference host uses, fed with the requests the host answered, plus the bookkeeping that
 * turns concurrency into an honest range. With several requests in flight the host may process
 * them in any order, so the model accepts any count a genuine host could have returned:
 * from "every request answered after this one was sent was processed after it" to "every request
 * still in flight was processed before it".
 */
#ifndef KMSLOAD_MODEL_H
#define KMSLOAD_MODEL_H

#include "catalog.h"
#include "client_cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_APPS 8
#define MODEL_FLYING_MAX 16

struct model_app {
    struct client_cache cache;
    /* CMIDs whose latest request may have reached the host but got no answer (connection closed
     * or reset, timeout, broken answer): the host may or may not have counted them. Full (2000)
     * means "too many to tell": the model then accepts any count up to the capacity. */
    struct client_cache unsure;
    uint64_t inserts;   /* CMIDs that were new to the cache when answered */
    unsigned in_flight; /* requests sent, not answered yet */
    /* The host's capacity is 2 x the largest N_Policy it has seen (spec §10), and which requests
     * it has seen is only partly known: answered ones certainly, lost and in-flight ones maybe. */
    unsigned seen_n_policy;      /* largest N_Policy of an answered request */
    unsigned elsewhere_n_policy; /* largest N_Policy machines outside this model may send */
    unsigned threshold;          /* the application's default threshold (baseline mode) */
    struct {
        unsigned n_policy, requests;
    } flying[MODEL_FLYING_MAX]; /* N_Policy values of the requests in flight */
    unsigned n_flying;
    bool flying_overflow; /* more distinct values than fit: assume up to the largest accepted */
    bool calibrated;      /* baseline mode: the first answer set the offset */
    int offset;           /* baseline mode: machines the host counted that the run did not send */
    /* Started from a reconnaissance (model_start): the host counted start_count machines before
     * the run, one of them the reconnaissance's own CMID, counted until start_until. When the
     * others expire is unknown, so a count is judged between "only that CMID is left" and "all
     * of them are". */
    bool started;
    unsigned start_count;
    uint64_t start_until; /* FILETIME: the reconnaissance CMID leaves the host's count */
};

struct model {
    size_t n_apps;
    /* Against a host that already serves real machines, absolute counts are unknowable: the
     * first answer per application calibrates an offset and later answers are judged on the
     * change the run's own machines make. */
    bool baseline;
    /* A shard of a run sees only its own machines while the host also counts the other shards':
     * a count is then judged only from below (this shard's distinct CMIDs) and by the capacity. */
    bool partial;
    struct model_app apps[MODEL_MAX_APPS];
};

/* What the model remembers about one request between sending and the answer. */
struct model_ticket {
    size_t app;
    uint64_t inserts_at_send;
    unsigned n_policy;
    unsigned cap_floor; /* the host's capacity was at least this when it got the request */
};

struct model_verdict {
    unsigned expected_lo, expected_hi;
    bool agrees;
    char reason[160];
};

/* Allocate the model (it is large); apps come from the catalogue's thresholds. */
int model_init(struct model *m, const struct catalog *cat);
void model_sent(struct model *m, size_t app, unsigned n_policy, struct model_ticket *ticket);
/* Machines outside this model (other shards of the run) may send n_policy for app: the host's
 * capacity may follow it. */
void model_expect_n_policy(struct model *m, size_t app, unsigned n_policy);
/* The host counted `count` machines of app before the run, the reconnaissance's CMID (seen at
 * FILETIME seen_at) among them: later counts are judged on top of them (baseline, exactly). */
void model_start(struct model *m, size_t app, unsigned count, uint64_t seen_at);
/* The host answered with a count: update the model and judge the count. */
void model_answered(struct model *m, const struct model_ticket *ticket, const struct guid *cmid,
                    unsigned n_policy, uint64_t client_time, unsigned count,
                    struct model_verdict *verdict);
/* The host answered without a count (HRESULT, fault) or not at all: no change to its caches. */
void model_failed(struct model *m, const struct model_ticket *ticket);
/*
 * The request may have reached the host but its answer was lost (closed, reset, timeout, broken
 * answer): a genuine host may have counted cmid at client_time, so later counts may be higher by
 * the CMIDs in that state, until they expire or are answered again.
 */
void model_lost(struct model *m, const struct model_ticket *ticket, const struct guid *cmid,
                unsigned n_policy, uint64_t client_time);

#endif
