#include "dns_addr.h"

#include "dns_channel.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_addr_pending {
    struct dns_channel *ch;
    dns_addr_done_fn done;
    void *arg;
    int64_t timeout_us;
    uint16_t port;
    bool answered;
    struct net_addrs addrs;
    char host[NET_HOST_MAX];
    char err[NET_HOST_MAX + 160];
};

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct dns_addr_pending *p = arg;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return; /* cancelled: p is being freed */
    p->answered = true;
    if (status == ARES_SUCCESS)
        dns_channel_addrs(res, p->port, &p->addrs);
    if (status != ARES_SUCCESS)
        snprintf(p->err, sizeof p->err, "cannot resolve \"%s\": %s", p->host,
                 ares_strerror(status));
    else if (p->addrs.n == 0)
        snprintf(p->err, sizeof p->err, "\"%s\" has no TCP address", p->host);
    if (res)
        ares_freeaddrinfo(res);
    dns_channel_kick(p->ch);
}

static void on_step(void *arg, bool timed_out)
{
    struct dns_addr_pending *p = arg;
    if (!p->answered && !timed_out)
        return;
    if (!p->answered)
        snprintf(p->err, sizeof p->err, "cannot resolve \"%s\": no answer within %lld ms", p->host,
                 (long long)(p->timeout_us / 1000));
    dns_channel_free(p->ch); /* before done: what is still asked ends here, unseen */
    p->ch = NULL;
    p->done(p->addrs.n ? 0 : -1, &p->addrs, p->err, p->arg);
    free(p);
}

struct dns_addr_pending *dns_addr_start(struct event_base *base, const struct dns_addr_query *q,
                                        dns_addr_done_fn done, void *arg, char *err, size_t err_len)
{
    if (!q->host || !q->host[0] || strlen(q->host) >= NET_HOST_MAX) {
        snprintf(err, err_len, "host name \"%s\": empty or too long", q->host ? q->host : "");
        return NULL;
    }
    struct dns_addr_pending *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    p->done = done;
    p->arg = arg;
    p->port = q->port;
    p->timeout_us = q->timeout_us > 0 ? q->timeout_us : 5000000;
    snprintf(p->host, sizeof p->host, "%s", q->host);
    struct dns_channel_options co = {
        .dns_server = q->dns_server, .timeout_us = p->timeout_us, .hosts_file = true};
    if (dns_channel_new(base, &co, on_step, p, &p->ch, err, err_len)) {
        free(p);
        return NULL;
    }
    /* An IP literal needs no one: c-ares 1.18 with servers of its own sends "127.0.0.1" to them
     * as a name (a silent server then holds the answer until the deadline). Answered from the
     * loop all the same. */
    unsigned char raw[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, p->host, raw) == 1 || inet_pton(AF_INET6, p->host, raw) == 1) {
        char why[160];
        if (net_resolve(p->host, p->port, false, &p->addrs, why, sizeof why))
            snprintf(p->err, sizeof p->err, "%s", why);
        p->answered = true;
        dns_channel_kick(p->ch);
        return p;
    }
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(dns_channel_ares(p->ch), p->host, NULL, &hints, on_addrinfo, p);
    dns_channel_arm(p->ch);
    return p;
}

void dns_addr_cancel(struct dns_addr_pending *p)
{
    if (!p)
        return;
    dns_channel_free(p->ch);
    free(p);
}
