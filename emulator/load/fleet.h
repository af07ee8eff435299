/*
 * The simulated machines of a run: who they are (CMIDs from PCG32 streams, so a seed reproduces
 * the fleet and a shard K/N takes every N-th machine), when they join and leave, what they do
 * next, and a queue of their next contacts in simulated time.
 */
#ifndef KMSLOAD_FLEET_H
#define KMSLOAD_FLEET_H

#include "catalog.h"
#include "scenario.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum machine_state {
    MACHINE_WAITING,   /* not joined yet */
    MACHINE_GRACE,     /* joined, not activated: retries every activation interval */
    MACHINE_ACTIVATED, /* renews every renewal interval */
    MACHINE_LEFT,      /* gone: no more contacts */
};

#define MACHINE_VM 0x01
#define MACHINE_CLONE 0x02

struct machine {
    struct guid cmid;
    int64_t next_us;      /* next contact, simulated µs from the start; SCENARIO_NEVER */
    int64_t leave_us;     /* when it leaves; SCENARIO_NEVER */
    int64_t activated_us; /* last successful activation or renewal; -1 never */
    /* Joined and not activated since this time (first contact, or when an activation ran out);
     * -1 while activated or not joined: for the longest time a machine went unactivated. */
    int64_t unactivated_since_us;
    uint32_t id;        /* global machine index (the same in every shard) */
    uint32_t heap_slot; /* position in the contact queue, UINT32_MAX if not queued */
    uint16_t population;
    uint8_t state;
    uint8_t flags;
    int8_t host; /* the KMS host it caches (host_choice.h), -1 none */
};

/* Per-population facts the engine needs for each request, resolved from the catalogue. */
struct fleet_population {
    const struct scenario_population *spec;
    const struct catalog_sku *sku;
    const struct catalog_kms *kms;
    const struct catalog_app *app;
    size_t app_index;
    unsigned protocol;
    unsigned n_policy;
    uint32_t first_id; /* global ids [first_id, first_id + spec->machines) */
    uint32_t machines; /* in this shard */
};

struct fleet {
    struct machine *machines;
    size_t n;
    struct fleet_population pops[SCENARIO_MAX_POPULATIONS];
    size_t n_pops;
    uint32_t *heap; /* machine indices ordered by next_us */
    size_t heap_n;
};

/*
 * Builds this shard's machines (shard_index in [0, shard_count)) and queues every first contact.
 * Returns 0, or -1 with a message (unknown product, too many machines...).
 */
int fleet_build(struct fleet *f, const struct scenario *sc, const struct catalog *cat,
                unsigned shard_index, unsigned shard_count, char *err, size_t err_len);
void fleet_free(struct fleet *f);

/* The CMID of global machine id under seed (clones resolve to their source's CMID). */
struct guid fleet_cmid(const struct scenario *sc, uint64_t seed, uint32_t id);

/* Earliest queued contact time, SCENARIO_NEVER when the queue is empty. */
int64_t fleet_next_due(const struct fleet *f);
/* Removes and returns the machine whose contact is due at or before t, or -1. */
long fleet_pop_due(struct fleet *f, int64_t t);
/* (Re)queues machine i for a contact at when (SCENARIO_NEVER: unqueue). */
void fleet_schedule(struct fleet *f, size_t i, int64_t when);

#endif
