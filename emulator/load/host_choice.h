/*
 * Several KMS hosts in one run, and how each machine chooses among them the way a Windows client
 * does (spec §1): the published SRV records ordered by priority, then weight at random (RFC 2782);
 * host caching on by default (a machine keeps the host it last activated with and runs discovery
 * again only when that host fails); an optional fixed host per population (`slmgr /skms`); and
 * failover to the next host in the order when one does not answer.
 *
 * The host set comes from DNS (`--target dns:DOMAIN`) or from a scenario's [host NAME] sections,
 * whose records may be published and withdrawn at given simulated times (a DNS timeline).
 */
#ifndef KMSLOAD_HOST_CHOICE_H
#define KMSLOAD_HOST_CHOICE_H

#include "dns_srv.h"
#include "net.h"
#include "pcg32.h"
#include "scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HOST_SET_MAX 8
#define HOST_NONE (-1)

struct host_entry {
    char name[NET_HOST_MAX]; /* SRV target, or the scenario's host name */
    struct net_addrs addrs;  /* with the port */
    uint16_t priority, weight;
    /* The record is in DNS during [published_from_us, published_until_us) of simulated time;
     * 0 and INT64_MAX for a record that is always there. */
    int64_t published_from_us, published_until_us;
    /* The host answers during [up_from_us, up_until_us) of simulated time (a scenario's
     * start_at / stop_at); 0 and INT64_MAX for a host that is always up. */
    int64_t up_from_us, up_until_us;
};

struct host_set {
    struct host_entry hosts[HOST_SET_MAX];
    size_t n;
    bool caching;   /* host caching (Windows' default: on; `slmgr /ckhc` turns it off) */
    bool discovery; /* the hosts came from SRV records (false: one --target or embedded host) */
    bool single;    /* host_set_single: one --target or the embedded host */
};

/* The one host of a run without a host set (--target or the embedded host): always published,
 * always up, cached, named by its first address ("127.0.0.1:1688"). */
void host_set_single(struct host_set *set, const struct net_addrs *addrs);

/*
 * The SRV records of a DNS answer as the run's host set (spec §1): in the answer's order, at most
 * HOST_SET_MAX, each named by its target (with the port when one target is published on several
 * ports), always published and up. desc: "dns:DOMAIN (TARGET:PORT PRIORITY/WEIGHT, ...)".
 * Returns false when an address is not on loopback.
 */
bool host_set_from_srv(struct host_set *set, const struct dns_srv_set *srv, const char *domain,
                       bool caching, char *desc, size_t desc_cap);

/* --target dns:DOMAIN: asks DNS (q) and makes the answer the host set as host_set_from_srv
 * does, clearing *loopback when an address is not on loopback; records without an address and
 * those left out are warned about on msg. Returns 0, or -1 with a message (no answer). */
int host_set_discover(struct host_set *hs, const struct dns_srv_query *q, bool caching, char *desc,
                      size_t desc_cap, bool *loopback, FILE *msg, char *err, size_t err_len);

/* A scenario's [host NAME] section as an entry (its name, priority and weight, and its DNS and
 * up timelines); the addresses are the caller's. */
void host_entry_from_scenario(struct host_entry *h, const struct scenario_kms_host *kh);

/* Is host i's record published at simulated time t? */
bool host_published(const struct host_set *set, size_t i, int64_t t);

/* The host set's index of name, or HOST_NONE. */
int host_set_find(const struct host_set *set, const char *name);

/*
 * The hosts one contact of a machine tries, first choice first; returns how many.
 * pinned >= 0: that host alone (no discovery, no failover). Otherwise the records published at
 * sim_us in RFC 2782 order, after the cached host (cached >= 0, caching on) which is tried first
 * even when its record is gone: a client keeps a host that answers. rng decides among equals.
 */
size_t host_choice_order(const struct host_set *set, int64_t sim_us, int cached, int pinned,
                         struct pcg32 *rng, size_t *order);

/* The stream deciding one machine's choice at one contact: reproducible from the seed whatever
 * the number of threads or shards. */
void host_choice_stream(struct pcg32 *rng, uint64_t seed, uint32_t machine, int64_t sim_us);

#endif
