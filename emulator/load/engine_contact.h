/*
 * Contacts: one thread's conversations of machines with the KMS hosts. A contact builds the
 * machine's request, tries the hosts of its order in turn (failover, host caching) and ends with
 * the answer recorded; a fixed number of slots bounds the contacts in flight, and with
 * reuse_connections an idle pool keeps bound connections for the next requests. What the
 * machine does next is not decided here: the hooks tell the thread's scheduler.
 */
#ifndef KMSLOAD_ENGINE_CONTACT_H
#define KMSLOAD_ENGINE_CONTACT_H

#include "engine_control.h"
#include "engine_recorder.h"
#include "fleet.h"
#include "host_choice.h"
#include "net.h"
#include "netclient.h"
#include "run_tally.h"
#include "scenario.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINUTE_US 60000000LL
#define VALIDITY_US (180LL * 86400LL * 1000000LL) /* a KMS activation lasts 180 days */

/* Where a contact's end is told (the scheduler), in this order. */
struct contact_hooks {
    /* The contact's last answer (after any failover), before its connection is released. */
    void (*answered)(void *ctx, size_t machine, int64_t sim_us,
                     const struct client_session_result *res);
    /* Its slot is free again. */
    void (*slot_free)(void *ctx);
    void *ctx;
};

struct contact_config {
    struct event_base *base;
    struct fleet *fleet;
    const struct scenario *scenario;
    const struct host_set *hosts;
    const struct net_addrs *target;
    unsigned slots;      /* contacts in flight at most */
    bool cap_n_policy;   /* N_Policy never above the product's documented value */
    bool virtual_clock;  /* client time: epoch_ft + simulated time; else the real time */
    uint64_t epoch_ft;   /* FILETIME of simulated time 0 */
    uint64_t rng_stream; /* request IVs */
    struct recorder *recorder;
    struct run_tally *tally; /* this thread's */
    struct engine_control *control;
    struct contact_hooks hooks;
};

struct contact_pool;

/* NULL with a message (out of memory, a population's kms_host not among the hosts). */
struct contact_pool *contact_pool_new(const struct contact_config *cfg, char *err, size_t err_len);
/* Frees the connections too: call before their event base is freed. */
void contact_pool_free(struct contact_pool *cp);

bool contact_slot_free(const struct contact_pool *cp);
unsigned contact_in_flight(const struct contact_pool *cp);

/* Starts machine's contact at simulated time sim_us, due at intended_wall_s (latency counts
 * from there). Needs a free slot. */
void contact_start(struct contact_pool *cp, size_t machine, int64_t sim_us, double intended_wall_s);

/* The run is ending: no more failover to the next host. */
void contact_wind_down(struct contact_pool *cp);

/* One request of machine dated client_time, to the first host only, on the pool's loop until it
 * ends (the client library's one exchange), recorded like any other. Returns 0 with res,
 * CLIENT_INTERRUPTED when a stop broke the loop first, or -1 with a message. */
int contact_exchange_dated(struct contact_pool *cp, size_t machine, uint64_t client_time,
                           struct client_session_result *res, char *err, size_t err_len);

#endif
