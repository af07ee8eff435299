/*
 * A c-ares channel driven by a libevent loop: one event per socket c-ares opens (its socket-state
 * callback), a timer for its retries (ares_timeout), a deadline for the whole lookup, and a
 * "step" the owner is called back on from the loop, never from inside c-ares. A lookup owns one
 * channel; the loop it runs on keeps serving everything else (metrics scrapes, signals) while a
 * DNS server is slow or silent, and freeing the channel cancels whatever is still asked.
 */
#ifndef KMSLOAD_DNS_CHANNEL_H
#define KMSLOAD_DNS_CHANNEL_H

#include "net.h"

#include <ares.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_channel;

/* Called from the loop after dns_channel_kick, or once when the deadline passes (timed_out). */
typedef void (*dns_channel_step_fn)(void *arg, bool timed_out);

struct dns_channel_options {
    const char *dns_server; /* "ADDR", "ADDR:PORT", "[V6]:PORT"; NULL: the system's resolvers */
    int64_t timeout_us;     /* the deadline, from now; the tries are spread within it */
    bool hosts_file;        /* /etc/hosts before DNS (host names); false: DNS only (SRV data) */
};

/* A channel on base, asking o->dns_server; 0 (set *out), or -1 with a message. */
int dns_channel_new(struct event_base *base, const struct dns_channel_options *o,
                    dns_channel_step_fn step, void *arg, struct dns_channel **out, char *err,
                    size_t err_len);
/* The c-ares channel, for ares_query / ares_getaddrinfo. Arm the timer after asking. */
ares_channel dns_channel_ares(struct dns_channel *c);
/* Starts c-ares' retry timer for the queries just made. */
void dns_channel_arm(struct dns_channel *c);
/* Has step called from the loop (from a c-ares callback: an answer is complete). */
void dns_channel_kick(struct dns_channel *c);
/* Destroys the c-ares channel (its callbacks get ARES_EDESTRUCTION) and every event. NULL: no-op.
 * Not from inside a c-ares callback. */
void dns_channel_free(struct dns_channel *c);

/* Checks a DNS server given as ADDR, ADDR:PORT or [V6]:PORT. 0, or -1 with a message. */
int dns_channel_check_server(const char *spec, char *err, size_t err_len);

/* The A/AAAA addresses of an answer, with port, appended to out (up to NET_MAX_ADDRS). */
void dns_channel_addrs(const struct ares_addrinfo *res, uint16_t port, struct net_addrs *out);

#endif
