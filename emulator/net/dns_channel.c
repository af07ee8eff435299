#include "dns_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One socket c-ares asked to be watched. */
struct dns_socket {
    ares_socket_t fd;
    struct event *ev;
    struct dns_socket *next;
};

struct dns_channel {
    struct event_base *base;
    ares_channel ares;
    bool have_ares;
    struct dns_socket *sockets;
    struct event *retry;    /* c-ares' own timeouts and retries */
    struct event *deadline; /* the whole lookup */
    struct event *step;     /* the owner's turn, from the loop */
    dns_channel_step_fn on_step;
    void *arg;
};

int dns_channel_check_server(const char *spec, char *err, size_t err_len)
{
    char host[NET_HOST_MAX];
    uint16_t port;
    struct in6_addr a6;
    struct in_addr a4;
    if (net_parse_target(spec, 53, host, sizeof host, &port, err, err_len))
        return -1;
    if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1) {
        snprintf(err, err_len,
                 "DNS server \"%s\": expected an IP address (ADDR, ADDR:PORT or [V6]:PORT)", spec);
        return -1;
    }
    return 0;
}

/* "ADDR:PORT" / "[V6]:PORT" in the form ares_set_servers_ports_csv takes. */
static int server_csv(const char *spec, char *out, size_t cap, char *err, size_t err_len)
{
    char host[NET_HOST_MAX];
    uint16_t port;
    if (dns_channel_check_server(spec, err, err_len) ||
        net_parse_target(spec, 53, host, sizeof host, &port, err, err_len))
        return -1;
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%u", host, port);
    else
        snprintf(out, cap, "%s:%u", host, port);
    return 0;
}

/* c-ares' next timeout on the retry timer; none when nothing is outstanding. */
static void rearm(struct dns_channel *c)
{
    struct timeval tv;
    if (ares_timeout(c->ares, NULL, &tv))
        event_add(c->retry, &tv);
    else
        event_del(c->retry);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct dns_channel *c = arg;
    /* May close this socket (and free its event) from inside: nothing of it is touched after. */
    ares_process_fd(c->ares, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    rearm(c);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct dns_channel *c = arg;
    (void)fd, (void)what;
    ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(c);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
    struct dns_channel *c = arg;
    (void)fd, (void)what;
    c->on_step(c->arg, false);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct dns_channel *c = arg;
    (void)fd, (void)what;
    c->on_step(c->arg, true);
}

/* c-ares opens, changes or closes a socket: the event follows (closed: read 0, write 0). */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_channel *c = data;
    struct dns_socket **pp = &c->sockets;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    struct dns_socket *s = *pp;
    if (!readable && !writable) {
        if (s) {
            *pp = s->next;
            if (s->ev)
                event_free(s->ev);
            free(s);
        }
        return;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return; /* out of memory: the query times out instead */
        s->fd = fd;
        s->next = c->sockets;
        c->sockets = s;
    } else if (s->ev) {
        event_free(s->ev);
    }
    short what = (short)(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    s->ev = event_new(c->base, fd, what, on_socket, c);
    if (s->ev)
        event_add(s->ev, NULL);
}

int dns_channel_new(struct event_base *base, const struct dns_channel_options *o,
                    dns_channel_step_fn step, void *arg, struct dns_channel **out, char *err,
                    size_t err_len)
{
    char csv[NET_HOST_MAX + 16];
    if (o->dns_server && server_csv(o->dns_server, csv, sizeof csv, err, err_len))
        return -1;
    struct dns_channel *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    c->base = base;
    c->on_step = step;
    c->arg = arg;
    c->retry = evtimer_new(base, on_retry, c);
    c->deadline = evtimer_new(base, on_deadline, c);
    c->step = event_new(base, -1, 0, on_step, c);
    if (!c->retry || !c->deadline || !c->step) {
        snprintf(err, err_len, "out of memory");
        dns_channel_free(c);
        return -1;
    }
    int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
        dns_channel_free(c);
        return -1;
    }
    int64_t timeout_us = o->timeout_us > 0 ? o->timeout_us : 5000000;
    struct ares_options opts;
    memset(&opts, 0, sizeof opts);
    /* No search list: the name asked is exactly the name given. */
    opts.lookups = (char *)(o->hosts_file ? "fb" : "b");
    opts.flags = ARES_FLAG_NOSEARCH;
    /* Up to three tries within the deadline. */
    opts.timeout = (int)(timeout_us / 3000 > 0 ? timeout_us / 3000 : 1);
    opts.tries = 3;
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = c;
    rc = ares_init_options(&c->ares, &opts,
                           ARES_OPT_LOOKUPS | ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                               ARES_OPT_SOCK_STATE_CB);
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
        ares_library_cleanup();
        dns_channel_free(c);
        return -1;
    }
    c->have_ares = true;
    if (o->dns_server && (rc = ares_set_servers_ports_csv(c->ares, csv)) != ARES_SUCCESS) {
        snprintf(err, err_len, "DNS server \"%s\": %s", o->dns_server, ares_strerror(rc));
        dns_channel_free(c);
        return -1;
    }
    struct timeval tv = {(time_t)(timeout_us / 1000000), (suseconds_t)(timeout_us % 1000000)};
    event_add(c->deadline, &tv);
    *out = c;
    return 0;
}

ares_channel dns_channel_ares(struct dns_channel *c)
{
    return c->ares;
}

void dns_channel_arm(struct dns_channel *c)
{
    rearm(c);
}

void dns_channel_kick(struct dns_channel *c)
{
    event_active(c->step, EV_TIMEOUT, 1);
}

void dns_channel_free(struct dns_channel *c)
{
    if (!c)
        return;
    if (c->have_ares) {
        /* Cancels what is still asked (callbacks see ARES_EDESTRUCTION) and closes its sockets,
         * which frees their events through on_sock_state. */
        ares_destroy(c->ares);
        ares_library_cleanup();
    }
    while (c->sockets) {
        struct dns_socket *s = c->sockets;
        c->sockets = s->next;
        if (s->ev)
            event_free(s->ev);
        free(s);
    }
    if (c->retry)
        event_free(c->retry);
    if (c->deadline)
        event_free(c->deadline);
    if (c->step)
        event_free(c->step);
    free(c);
}

void dns_channel_addrs(const struct ares_addrinfo *res, uint16_t port, struct net_addrs *out)
{
    for (const struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && out->n < NET_MAX_ADDRS;
         n = n->ai_next) {
        if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
            (size_t)n->ai_addrlen > sizeof out->addr[0])
            continue;
        memcpy(&out->addr[out->n], n->ai_addr, n->ai_addrlen);
        out->len[out->n] = (socklen_t)n->ai_addrlen;
        if (n->ai_family == AF_INET)
            ((struct sockaddr_in *)&out->addr[out->n])->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)&out->addr[out->n])->sin6_port = htons(port);
        out->n++;
    }
}
