/*
 * KMS host discovery: the `_vlmcs._tcp.DOMAIN` SRV records (spec §1) and the A/AAAA addresses of
 * each record's target, asked with c-ares of the system's resolver or of a given DNS server.
 *
 * The lookup runs on a libevent loop (dns_channel.h): started, answered through a callback, or
 * cancelled, while the loop keeps serving everything else; a slow or silent DNS server stalls
 * nothing. The one-shot dns_srv_lookup runs the same lookup on a loop of its own.
 */
#ifndef KMSLOAD_DNS_SRV_H
#define KMSLOAD_DNS_SRV_H

#include "net.h"

#include <event2/event.h>

#include <stdint.h>

#define DNS_SRV_MAX 16
#define DNS_SRV_SERVICE "_vlmcs._tcp"

struct dns_srv_record {
    uint16_t priority, weight, port;
    char target[NET_HOST_MAX]; /* host name as published, without the trailing dot */
    struct net_addrs addrs;    /* its A and AAAA addresses with the record's port; n 0: none */
    char addr_err[128];        /* why there are none (NXDOMAIN, timeout, ...) */
};

struct dns_srv_set {
    char name[NET_HOST_MAX + 16];           /* the name asked: "_vlmcs._tcp.example.test" */
    struct dns_srv_record rec[DNS_SRV_MAX]; /* the most preferred, in order of preference */
    size_t n;
    size_t total; /* records in the answer: n, plus those left out beyond DNS_SRV_MAX */
    /* The priorities of the records left out (meaningful when total > n). */
    uint16_t left_out_priority_min, left_out_priority_max;
};

/*
 * Records in order of preference, as a client ranks them before any is left out: ascending
 * priority, then the larger weight, then target and port, so the same records rank the same
 * whatever order a DNS server rotates them into. Returns <0, 0, >0 like strcmp.
 */
int dns_srv_compare(const struct dns_srv_record *a, const struct dns_srv_record *b);

enum dns_srv_status {
    DNS_SRV_OK = 0,     /* at least one record (some may have no address) */
    DNS_SRV_NONE = 1,   /* the name or its SRV records do not exist */
    DNS_SRV_FAILED = 2, /* no answer: timeout, server failure, refused, bad --dns-server */
};

struct dns_srv_query {
    const char *domain;     /* "example.test": _vlmcs._tcp. is prepended */
    const char *dns_server; /* "ADDR", "ADDR:PORT" or "[V6]:PORT"; NULL: the system's resolvers */
    int64_t timeout_us;     /* for the whole discovery; 0: 5 s */
};

/* Checks a --dns-server value without asking anything. Returns 0, or -1 with a message. */
int dns_srv_check_server(const char *spec, char *err, size_t err_len);

/*
 * The end of a lookup: status, the set (the name asked always; the records on DNS_SRV_OK) and,
 * on NONE and FAILED, what happened. set and err live until the callback returns.
 */
typedef void (*dns_srv_done_fn)(enum dns_srv_status status, const struct dns_srv_set *set,
                                const char *err, void *arg);

struct dns_srv_pending;

/*
 * Starts the lookup dns_srv_lookup describes on base; done is called from the loop, once, within
 * q->timeout_us, after which the lookup is over (do not cancel it). Returns NULL with a message
 * when it cannot start (bad domain or server, out of memory): done is then never called.
 */
struct dns_srv_pending *dns_srv_start(struct event_base *base, const struct dns_srv_query *q,
                                      dns_srv_done_fn done, void *arg, char *err, size_t err_len);
/* Stops a lookup that has not called done yet (done is never called). NULL: no-op. */
void dns_srv_cancel(struct dns_srv_pending *p);

/*
 * Asks for the SRV records, then the addresses of the ones kept. Every record of the answer is
 * ranked (dns_srv_compare) before the DNS_SRV_MAX most preferred are kept, and total says how
 * many there were: a long answer never hides the preferred hosts behind backups listed first.
 * Choosing among the kept records at random by weight is srv_order's job. On DNS_SRV_NONE and
 * DNS_SRV_FAILED err says what happened. One-shot: blocks the caller up to q->timeout_us.
 */
enum dns_srv_status dns_srv_lookup(const struct dns_srv_query *q, struct dns_srv_set *out,
                                   char *err, size_t err_len);

#endif
