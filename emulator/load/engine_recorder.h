/*
 * The recorder: where every request of a run is written down. It owns the model of each host
 * (one per host: each counts on its own), hands each finished request to the sink and to the
 * thread's tally, numbers the requests, keeps the counts the progress line shows, and stops the
 * run (through run control) when the target stops answering (fail fast). Shared by the threads
 * under its own lock; each thread brings its own tally, merged after the threads end.
 */
#ifndef KMSLOAD_ENGINE_RECORDER_H
#define KMSLOAD_ENGINE_RECORDER_H

#include "engine_control.h"
#include "fleet.h"
#include "model.h"
#include "netclient.h"
#include "recon.h"
#include "run_event.h"
#include "run_tally.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct recorder_config {
    const struct catalog *catalog;
    size_t n_hosts; /* one model each */
    bool baseline;  /* models judge from a calibrated offset (model.h) */
    bool partial;   /* models judge from below: other shards or real machines count too */
    /* The one host's counts before the run (NULL: none): its model starts from them. */
    const struct recon *recon;
    /* Fail fast: stop after this many contacts in a row got no answer (0: never), or after this
     * long without one (0: never). */
    unsigned stop_after_failures;
    int64_t stop_after_silence_us;
    const struct run_event_sink *sink; /* may be NULL */
    struct engine_control *control;
};

struct recorder;

/* NULL with a message when out of memory or the catalogue does not fit the model. */
struct recorder *recorder_new(const struct recorder_config *cfg, char *err, size_t err_len);
void recorder_free(struct recorder *r);

/* Machines outside the run's models (other shards) may send n_policy for app: every host's
 * capacity may follow it. */
void recorder_expect_n_policy(struct recorder *r, size_t app, unsigned n_policy);

/* A request leaves for host: the model remembers it in ticket; to_sink: the sink hears it was
 * sent (false for a request refused before it left, or the client-clock check). */
void recorder_sent(struct recorder *r, int host, size_t app, unsigned n_policy,
                   struct model_ticket *ticket, bool to_sink);

/* One attempt of a contact as it ended. */
struct record_attempt {
    const struct machine *machine;
    const struct fleet_population *pop;
    const struct kms_request *request;
    struct model_ticket *ticket;
    int64_t sim_us;
    int host; /* the host asked, HOST_NONE when none could be chosen */
    const char *host_name;
    double intended_wall_s; /* when it was due */
    uint64_t latency_us;
    bool more_hosts; /* the contact's order has hosts after this one: not the target going silent */
    bool failover;   /* the contact goes on to the next host (events.csv failover) */
};

/* The attempt's answer to the model, the sink and tally; fail fast. */
void recorder_answer(struct recorder *r, struct run_tally *tally, const struct record_attempt *a,
                     const struct client_session_result *res);

/* The sink's buffered records out (twice a second). */
void recorder_flush(struct recorder *r);

/* What the progress line shows. */
struct recorder_counts {
    uint64_t requests, failures;
    size_t n_apps;
    int64_t host_count[MODEL_MAX_APPS]; /* the count the host last returned; -1: none yet */
};
void recorder_counts(struct recorder *r, struct recorder_counts *c);

/* Requests the host answered at the KMS or RPC level. */
uint64_t recorder_answered(struct recorder *r);

#endif
