/*
 * The addresses of a host name (A and AAAA, /etc/hosts first), looked up with c-ares on a
 * libevent loop (dns_channel.h): started, answered through a callback or cancelled, so a slow or
 * silent DNS server never stalls the loop. IP literals are answered without asking anyone.
 */
#ifndef KMSLOAD_DNS_ADDR_H
#define KMSLOAD_DNS_ADDR_H

#include "net.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct dns_addr_query {
    const char *host;       /* a name or an IP literal (without brackets) */
    uint16_t port;          /* put in every address */
    const char *dns_server; /* "ADDR", "ADDR:PORT", "[V6]:PORT"; NULL: the system's resolvers */
    int64_t timeout_us;     /* for the whole lookup; 0: 5 s */
};

/* The end of a lookup: 0 with addrs (at least one), or -1 with err saying why there are none.
 * addrs and err live until the callback returns. */
typedef void (*dns_addr_done_fn)(int status, const struct net_addrs *addrs, const char *err,
                                 void *arg);

struct dns_addr_pending;

/* Starts the lookup on base; done is called from the loop, once, within q->timeout_us, after
 * which the lookup is over (do not cancel it). NULL with a message when it cannot start (bad
 * server, out of memory): done is then never called. */
struct dns_addr_pending *dns_addr_start(struct event_base *base, const struct dns_addr_query *q,
                                        dns_addr_done_fn done, void *arg, char *err,
                                        size_t err_len);
/* Stops a lookup that has not called done yet (done is never called). NULL: no-op. */
void dns_addr_cancel(struct dns_addr_pending *p);

#endif
