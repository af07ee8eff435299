/*
 * The rounds of `kmsload watch`: every interval one request per application to each watched host
 * (one HOST[:PORT], or those a dns: target publishes, looked up again each round), with this
 * machine's probe CMID; a line printed when an answer changes, the answers kept for /metrics
 * (watch_metrics.h). The caller owns the loop, its timer and signals.
 */
#ifndef KMSLOAD_WATCH_ROUNDS_H
#define KMSLOAD_WATCH_ROUNDS_H

#include "catalog.h"
#include "client_exchange.h"
#include "dns_addr.h"
#include "dns_srv.h"
#include "net.h"
#include "probe_set.h"
#include "watch_metrics.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What to watch, how often: the command line of `kmsload watch`, checked but not acted on. */
struct watch_options {
    bool help;
    const char *target; /* HOST[:PORT] or dns:DOMAIN as given; NULL: /probe alone */
    const char *targets[WATCH_MAX_HOSTS]; /* every HOST[:PORT] given (target is the first) */
    size_t n_targets;
    const char *dns_domain;   /* dns:DOMAIN: DOMAIN (points into target); NULL otherwise */
    const char *dns_server;   /* --dns-server; NULL: the system's resolvers */
    const char *metrics;      /* --metrics [ADDR:]PORT (checked); NULL: none */
    int64_t interval_us;      /* --interval (default 5 min) */
    int64_t timeout_us;       /* --timeout, per request and for DNS (default 10 s) */
    unsigned long max_rounds; /* --count; 0: until stopped */
    const char *products;     /* --products LIST (checked against the catalogue at execution);
                                 NULL: from what each host covers */
    const char *cmid_seed;    /* --cmid-seed; NULL: /etc/machine-id */
    const char *catalog_file;
    const char *modules_file; /* --modules: /probe modules beyond the built-in ones */
    unsigned long max_probes; /* --max-probes: /probe requests at once; 0: the default */
    bool json;                /* --json: a JSON line per probe per round (watch_json.h) */
    const char *deprecated;   /* the note for an old spelling used (-t DURATION); NULL: none */
};

struct watch;
struct watch_names;

/* One application's probe of one host. */
struct watch_probe {
    struct watch *w;
    struct watch_target *target;
    struct watch_app_state *state;
    struct client_call *call; /* in flight, or NULL */
    unsigned rank;            /* automatic products: the candidate asked (0: the default) */
    bool settled;             /* automatic products: the candidate is chosen for good */
    char last_line[400];      /* what was printed last */
    char last_key[400];       /* what a change is judged on: the line, less a failure's detail */
};

/* One watched host: where it is and its probes (parallel to the metrics' host states). */
struct watch_target {
    struct watch *w;
    char host[NET_HOST_MAX]; /* a HOST[:PORT] target, looked up each round */
    uint16_t port;
    struct dns_addr_pending *lookup; /* this round's, until it ends */
    struct watch_host_state *state;
    struct net_addrs addrs;
    bool resolved;
    char resolve_err[448];
    struct watch_probe probes[WATCH_MAX_APPS];
};

/* A watcher: what it asks, of which hosts, and what they last said. */
struct watch {
    const struct watch_options *opt;
    struct event_base *base;
    struct net_client_params params; /* addrs set per probe */
    struct kms_request requests[WATCH_MAX_APPS];
    struct guid cmid; /* this machine's probe CMID (or --cmid-seed's) */
    const struct watch_names *names;
    bool auto_products; /* no --products: each host's products from what it covers */
    struct watch_metrics metrics;
    struct watch_target targets[WATCH_MAX_HOSTS];
    char dns_line[400]; /* the last DNS problem printed */
    /* The round's lookup on the loop (dns: SRV records, or HOST's addresses), NULL when none:
     * the loop keeps serving /metrics and signals while a DNS server is slow or silent. */
    struct dns_srv_pending *srv_lookup;
    unsigned addr_lookups; /* HOST targets' lookups not ended yet */
    unsigned in_flight;
    unsigned long rounds;
    /* Over every round: probes ended, those without a count (refused, no answer), and dns:
     * lookups that failed; --count's exit status. */
    unsigned long probes_done, probes_failed, dns_failures;
    unsigned long probes_unreached; /* no answer at all: DNS, connection, timeout (exit 3) */
    struct event *timer;
};

/* Names kept for the whole run: the application keys and products of the first host's states
 * point here (the catalogue is freed once the requests are built). */
struct watch_names {
    struct probe_set set;
    /* Without --products: the next candidates per application, tried in order while the host
     * answers 0xC004F042 (its keys do not cover the product). */
    struct probe_set alts[PROBE_SET_CANDIDATE_RANKS];
    size_t n_alts;
};

/* Starts a round (unless the last one still waits for answers or its lookup): the target is
 * looked up again on the loop (a dns: target's SRV records, a HOST's addresses), then every
 * application of every listed host is asked. Breaks the loop (loopexit) after opt->max_rounds
 * rounds. */
void watch_start_round(struct watch *w);
/* The requests (one per application of o->products, with this machine's probe CMID or
 * --cmid-seed's) and the hosts watched; names keeps the product names. 0, or -1 with a message
 * naming the bad product. */
int watch_setup(struct watch *w, const struct watch_options *o, const struct catalog *cat,
                struct watch_names *names, char *err, size_t err_len);
/* Rounds on w->base every opt->interval_us, the first at once, until the loop is broken (a
 * signal) or opt->max_rounds. 0, or -1 with a message (out of memory). */
int watch_run(struct watch *w, char *err, size_t err_len);
/* Drops the lookup and the requests still in flight (shutting down). */
void watch_cancel_probes(struct watch *w);

/* The exit status of `watch --count N` after its rounds, as probe's: 0 every probe got a count;
 * 3 no host was reached at all (every probe got no answer: a name that does not resolve, a
 * refused connection, a timeout; or no dns: lookup succeeded); 1 otherwise when a probe got no
 * count. why says what happened when not 0. */
int watch_count_status(const struct watch *w, char *why, size_t cap);

#endif
