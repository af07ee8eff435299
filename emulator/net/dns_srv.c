#include "dns_srv.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DNS_CLASS_IN 1
#define DNS_TYPE_SRV 33

struct srv_answer {
    int status;
    bool done;
    struct dns_srv_set *set;
    char err[160];
};

struct addr_answer {
    struct dns_srv_record *rec;
    bool done;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int dns_srv_check_server(const char *spec, char *err, size_t err_len)
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
    if (dns_srv_check_server(spec, err, err_len) ||
        net_parse_target(spec, 53, host, sizeof host, &port, err, err_len))
        return -1;
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%u", host, port);
    else
        snprintf(out, cap, "%s:%u", host, port);
    return 0;
}

int dns_srv_compare(const struct dns_srv_record *a, const struct dns_srv_record *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    int c = strcmp(a->target, b->target);
    if (c)
        return c;
    return (a->port > b->port) - (a->port < b->port);
}

static int by_preference(const void *a, const void *b)
{
    return dns_srv_compare(a, b);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct srv_answer *a = arg;
    (void)timeouts;
    a->done = true;
    a->status = status;
    if (status != ARES_SUCCESS) {
        snprintf(a->err, sizeof a->err, "%s", ares_strerror(status));
        return;
    }
    struct ares_srv_reply *reply = NULL;
    int rc = ares_parse_srv_reply(abuf, alen, &reply);
    if (rc != ARES_SUCCESS) {
        a->status = rc;
        snprintf(a->err, sizeof a->err, "the SRV answer does not parse: %s", ares_strerror(rc));
        return;
    }
    size_t total = 0;
    for (struct ares_srv_reply *r = reply; r; r = r->next)
        total++;
    struct dns_srv_record *all = total ? calloc(total, sizeof *all) : NULL;
    if (total && !all) {
        ares_free_data(reply);
        a->status = ARES_ENOMEM;
        snprintf(a->err, sizeof a->err, "out of memory for %zu SRV records", total);
        return;
    }
    size_t k = 0;
    for (struct ares_srv_reply *r = reply; r; r = r->next, k++) {
        struct dns_srv_record *rec = &all[k];
        rec->priority = r->priority;
        rec->weight = r->weight;
        rec->port = r->port;
        snprintf(rec->target, sizeof rec->target, "%s", r->host);
        size_t len = strlen(rec->target);
        if (len > 0 && rec->target[len - 1] == '.')
            rec->target[len - 1] = '\0';
    }
    /* Ranked before the cut: the answer's order (rotated by many servers) decides nothing. */
    qsort(all, total, sizeof *all, by_preference);
    a->set->total = total;
    a->set->n = total < DNS_SRV_MAX ? total : DNS_SRV_MAX;
    memcpy(a->set->rec, all, a->set->n * sizeof *all);
    for (size_t i = a->set->n; i < total; i++) {
        if (i == a->set->n || all[i].priority < a->set->left_out_priority_min)
            a->set->left_out_priority_min = all[i].priority;
        if (i == a->set->n || all[i].priority > a->set->left_out_priority_max)
            a->set->left_out_priority_max = all[i].priority;
    }
    free(all);
    ares_free_data(reply);
    if (a->set->n == 0) {
        a->status = ARES_ENODATA;
        snprintf(a->err, sizeof a->err, "no SRV record");
    }
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct addr_answer *a = arg;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return; /* gave up on it at the deadline: the record already says so */
    a->done = true;
    if (status != ARES_SUCCESS) {
        snprintf(a->rec->addr_err, sizeof a->rec->addr_err, "%s", ares_strerror(status));
        return;
    }
    struct net_addrs *addrs = &a->rec->addrs;
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && addrs->n < NET_MAX_ADDRS;
         n = n->ai_next) {
        if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
            (size_t)n->ai_addrlen > sizeof addrs->addr[0])
            continue;
        memcpy(&addrs->addr[addrs->n], n->ai_addr, n->ai_addrlen);
        addrs->len[addrs->n] = (socklen_t)n->ai_addrlen;
        if (n->ai_family == AF_INET)
            ((struct sockaddr_in *)&addrs->addr[addrs->n])->sin_port = htons(a->rec->port);
        else
            ((struct sockaddr_in6 *)&addrs->addr[addrs->n])->sin6_port = htons(a->rec->port);
        addrs->n++;
    }
    if (addrs->n == 0)
        snprintf(a->rec->addr_err, sizeof a->rec->addr_err, "no A or AAAA record");
    if (res)
        ares_freeaddrinfo(res);
}

/* Runs c-ares until every query is done or the deadline passes. Returns false on the deadline. */
static bool drive(ares_channel ch, int64_t deadline_us)
{
    for (;;) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        nfds_t n = 0;
        /* The same bits ARES_GETSOCK_READABLE/WRITABLE test, read unsigned: those macros shift a
         * signed 1 by up to 31 places, undefined behaviour that UBSan stops on. */
        unsigned ubits = (unsigned)bits;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = 0;
            if ((ubits >> i) & 1u)
                ev |= POLLIN;
            if ((ubits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
                ev |= POLLOUT;
            if (!ev)
                continue;
            pfd[n].fd = socks[i];
            pfd[n].events = ev;
            pfd[n].revents = 0;
            n++;
        }
        if (n == 0)
            return true; /* nothing outstanding */
        int64_t left = deadline_us - now_us();
        if (left <= 0)
            return false;
        struct timeval max = {(time_t)(left / 1000000), (suseconds_t)(left % 1000000)}, tv;
        struct timeval *t = ares_timeout(ch, &max, &tv);
        int ms = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        int rc = poll(pfd, n, ms);
        if (rc < 0)
            continue; /* EINTR: look again */
        for (nfds_t i = 0; i < n; i++) {
            ares_socket_t r =
                (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
            if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
                ares_process_fd(ch, r, w);
        }
        if (rc == 0)
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts and retries */
    }
}

enum dns_srv_status dns_srv_lookup(const struct dns_srv_query *q, struct dns_srv_set *out,
                                   char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!q->domain || !q->domain[0] || strlen(q->domain) >= NET_HOST_MAX) {
        snprintf(err, err_len, "DNS domain \"%s\": empty or too long", q->domain ? q->domain : "");
        return DNS_SRV_FAILED;
    }
    const char *domain = q->domain;
    size_t dlen = strlen(domain);
    snprintf(out->name, sizeof out->name, "%s.%.*s", DNS_SRV_SERVICE,
             (int)(domain[dlen - 1] == '.' ? dlen - 1 : dlen), domain);
    char csv[NET_HOST_MAX + 16];
    if (q->dns_server && server_csv(q->dns_server, csv, sizeof csv, err, err_len))
        return DNS_SRV_FAILED;

    int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
        return DNS_SRV_FAILED;
    }
    int64_t timeout_us = q->timeout_us > 0 ? q->timeout_us : 5000000;
    int64_t deadline = now_us() + timeout_us;
    struct ares_options opts;
    memset(&opts, 0, sizeof opts);
    /* DNS only (no /etc/hosts), no search list: the name asked is exactly _vlmcs._tcp.DOMAIN. */
    opts.lookups = (char *)"b";
    opts.flags = ARES_FLAG_NOSEARCH;
    /* Up to three tries within the deadline. */
    opts.timeout = (int)(timeout_us / 3000 > 0 ? timeout_us / 3000 : 1);
    opts.tries = 3;
    ares_channel ch;
    rc = ares_init_options(&ch, &opts,
                           ARES_OPT_LOOKUPS | ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
        ares_library_cleanup();
        return DNS_SRV_FAILED;
    }
    enum dns_srv_status status = DNS_SRV_OK;
    if (q->dns_server && (rc = ares_set_servers_ports_csv(ch, csv)) != ARES_SUCCESS) {
        snprintf(err, err_len, "DNS server \"%s\": %s", q->dns_server, ares_strerror(rc));
        status = DNS_SRV_FAILED;
        goto done;
    }
    struct srv_answer srv = {.set = out};
    ares_query(ch, out->name, DNS_CLASS_IN, DNS_TYPE_SRV, on_srv, &srv);
    if (!drive(ch, deadline) || !srv.done) {
        snprintf(err, err_len, "%s: no answer from %s within %lld ms", out->name,
                 q->dns_server ? q->dns_server : "the system's DNS servers",
                 (long long)(timeout_us / 1000));
        status = DNS_SRV_FAILED;
        goto done;
    }
    if (srv.status != ARES_SUCCESS) {
        bool none = srv.status == ARES_ENOTFOUND || srv.status == ARES_ENODATA;
        if (none)
            snprintf(err, err_len, "%s: no SRV record: no KMS host is published there", out->name);
        else
            snprintf(err, err_len, "%s: no usable answer from %s (%s)", out->name,
                     q->dns_server ? q->dns_server : "the system's DNS servers", srv.err);
        out->n = out->total = 0;
        status = none ? DNS_SRV_NONE : DNS_SRV_FAILED;
        goto done;
    }
    struct addr_answer answers[DNS_SRV_MAX];
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NOSORT;
    for (size_t i = 0; i < out->n; i++) {
        answers[i].rec = &out->rec[i];
        answers[i].done = false;
        ares_getaddrinfo(ch, out->rec[i].target, NULL, &hints, on_addrinfo, &answers[i]);
    }
    drive(ch, deadline);
    for (size_t i = 0; i < out->n; i++)
        if (!answers[i].done)
            snprintf(out->rec[i].addr_err, sizeof out->rec[i].addr_err, "no A/AAAA answer in time");
done:
    ares_destroy(ch); /* cancels what is still outstanding: callbacks run before it returns */
    ares_library_cleanup();
    return status;
}
