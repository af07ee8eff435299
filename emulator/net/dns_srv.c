#include "dns_srv.h"

#include "dns_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_CLASS_IN 1
#define DNS_TYPE_SRV 33

struct dns_srv_pending;

/* One kept record's A/AAAA lookup. */
struct addr_answer {
    struct dns_srv_pending *p;
    struct dns_srv_record *rec;
    bool done;
};

struct dns_srv_pending {
    struct dns_channel *ch;
    dns_srv_done_fn done;
    void *arg;
    char server_text[64]; /* who is asked, for messages */
    int64_t timeout_us;
    bool srv_done, addrs_asked;
    int srv_status;
    char srv_err[160];
    size_t addrs_left;
    struct addr_answer answers[DNS_SRV_MAX];
    struct dns_srv_set set;
};

int dns_srv_check_server(const char *spec, char *err, size_t err_len)
{
    return dns_channel_check_server(spec, err, err_len);
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
    struct dns_srv_pending *a = arg;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return; /* cancelled: a is being freed */
    a->srv_done = true;
    a->srv_status = status;
    dns_channel_kick(a->ch);
    if (status != ARES_SUCCESS) {
        snprintf(a->srv_err, sizeof a->srv_err, "%s", ares_strerror(status));
        return;
    }
    struct ares_srv_reply *reply = NULL;
    int rc = ares_parse_srv_reply(abuf, alen, &reply);
    if (rc != ARES_SUCCESS) {
        a->srv_status = rc;
        snprintf(a->srv_err, sizeof a->srv_err, "the SRV answer does not parse: %s",
                 ares_strerror(rc));
        return;
    }
    size_t total = 0;
    for (struct ares_srv_reply *r = reply; r; r = r->next)
        total++;
    struct dns_srv_record *all = total ? calloc(total, sizeof *all) : NULL;
    if (total && !all) {
        ares_free_data(reply);
        a->srv_status = ARES_ENOMEM;
        snprintf(a->srv_err, sizeof a->srv_err, "out of memory for %zu SRV records", total);
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
    a->set.total = total;
    a->set.n = total < DNS_SRV_MAX ? total : DNS_SRV_MAX;
    memcpy(a->set.rec, all, a->set.n * sizeof *all);
    for (size_t i = a->set.n; i < total; i++) {
        if (i == a->set.n || all[i].priority < a->set.left_out_priority_min)
            a->set.left_out_priority_min = all[i].priority;
        if (i == a->set.n || all[i].priority > a->set.left_out_priority_max)
            a->set.left_out_priority_max = all[i].priority;
    }
    free(all);
    ares_free_data(reply);
    if (a->set.n == 0) {
        a->srv_status = ARES_ENODATA;
        snprintf(a->srv_err, sizeof a->srv_err, "no SRV record");
    }
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct addr_answer *a = arg;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return; /* cancelled, or given up at the deadline: the record already says so */
    a->done = true;
    if (status != ARES_SUCCESS) {
        snprintf(a->rec->addr_err, sizeof a->rec->addr_err, "%s", ares_strerror(status));
    } else {
        dns_channel_addrs(res, a->rec->port, &a->rec->addrs);
        if (a->rec->addrs.n == 0)
            snprintf(a->rec->addr_err, sizeof a->rec->addr_err, "no A or AAAA record");
    }
    if (res)
        ares_freeaddrinfo(res);
    if (--a->p->addrs_left == 0)
        dns_channel_kick(a->p->ch);
}

/* The end: the owner is told, then the lookup freed (nothing of p is touched after done). */
static void finish(struct dns_srv_pending *p, enum dns_srv_status status, const char *err)
{
    dns_channel_free(p->ch); /* before done: what is still asked ends here, unseen */
    p->ch = NULL;
    p->done(status, &p->set, err, p->arg);
    free(p);
}

/* The addresses of every kept record, each asked at once. */
static void ask_addresses(struct dns_srv_pending *p)
{
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NOSORT;
    p->addrs_asked = true;
    p->addrs_left = p->set.n;
    for (size_t i = 0; i < p->set.n; i++)
        p->answers[i] = (struct addr_answer){.p = p, .rec = &p->set.rec[i]};
    /* An answer may come back at once (inside ares_getaddrinfo): addrs_left is set first. */
    for (size_t i = 0; i < p->set.n; i++)
        ares_getaddrinfo(dns_channel_ares(p->ch), p->set.rec[i].target, NULL, &hints, on_addrinfo,
                         &p->answers[i]);
    dns_channel_arm(p->ch);
}

static void on_step(void *arg, bool timed_out)
{
    struct dns_srv_pending *p = arg;
    char err[640];
    if (!p->srv_done || p->srv_status == ARES_ETIMEOUT) {
        /* Nothing within the deadline, or c-ares' tries (spread within it) all went unanswered:
         * the same thing, said the same way. */
        if (!p->srv_done && !timed_out)
            return;
        snprintf(err, sizeof err, "%s: no answer from %s within %lld ms", p->set.name,
                 p->server_text, (long long)(p->timeout_us / 1000));
        finish(p, DNS_SRV_FAILED, err);
        return;
    }
    if (p->srv_status != ARES_SUCCESS) {
        bool none = p->srv_status == ARES_ENOTFOUND || p->srv_status == ARES_ENODATA;
        if (none)
            snprintf(err, sizeof err, "%s: no SRV record: no KMS host is published there",
                     p->set.name);
        else
            snprintf(err, sizeof err, "%s: no usable answer from %s (%s)", p->set.name,
                     p->server_text, p->srv_err);
        p->set.n = p->set.total = 0;
        finish(p, none ? DNS_SRV_NONE : DNS_SRV_FAILED, err);
        return;
    }
    if (!p->addrs_asked) {
        ask_addresses(p);
        if (p->addrs_left > 0 && !timed_out)
            return;
    }
    if (p->addrs_left > 0 && !timed_out)
        return;
    for (size_t i = 0; i < p->set.n; i++)
        if (!p->answers[i].done)
            snprintf(p->set.rec[i].addr_err, sizeof p->set.rec[i].addr_err,
                     "no A/AAAA answer in time");
    finish(p, DNS_SRV_OK, "");
}

/* The name asked, "_vlmcs._tcp.DOMAIN" without a trailing dot. 0, or -1 with a message. */
static int srv_name(const char *domain, struct dns_srv_set *set, char *err, size_t err_len)
{
    if (!domain || !domain[0] || strlen(domain) >= NET_HOST_MAX) {
        snprintf(err, err_len, "DNS domain \"%s\": empty or too long", domain ? domain : "");
        return -1;
    }
    size_t dlen = strlen(domain);
    snprintf(set->name, sizeof set->name, "%s.%.*s", DNS_SRV_SERVICE,
             (int)(domain[dlen - 1] == '.' ? dlen - 1 : dlen), domain);
    return 0;
}

struct dns_srv_pending *dns_srv_start(struct event_base *base, const struct dns_srv_query *q,
                                      dns_srv_done_fn done, void *arg, char *err, size_t err_len)
{
    struct dns_srv_pending *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    p->done = done;
    p->arg = arg;
    p->timeout_us = q->timeout_us > 0 ? q->timeout_us : 5000000;
    snprintf(p->server_text, sizeof p->server_text, "%s",
             q->dns_server ? q->dns_server : "the system's DNS servers");
    struct dns_channel_options co = {
        .dns_server = q->dns_server, .timeout_us = p->timeout_us, .hosts_file = false};
    if (srv_name(q->domain, &p->set, err, err_len) ||
        dns_channel_new(base, &co, on_step, p, &p->ch, err, err_len)) {
        free(p);
        return NULL;
    }
    ares_query(dns_channel_ares(p->ch), p->set.name, DNS_CLASS_IN, DNS_TYPE_SRV, on_srv, p);
    dns_channel_arm(p->ch);
    return p;
}

void dns_srv_cancel(struct dns_srv_pending *p)
{
    if (!p)
        return;
    dns_channel_free(p->ch);
    free(p);
}

/* The one-shot lookup's result, copied out of the callback. */
struct oneshot {
    struct dns_srv_set *out;
    enum dns_srv_status status;
    char *err;
    size_t err_len;
};

static void oneshot_done(enum dns_srv_status status, const struct dns_srv_set *set, const char *err,
                         void *arg)
{
    struct oneshot *o = arg;
    *o->out = *set;
    o->status = status;
    snprintf(o->err, o->err_len, "%s", err);
}

enum dns_srv_status dns_srv_lookup(const struct dns_srv_query *q, struct dns_srv_set *out,
                                   char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (srv_name(q->domain, out, err, err_len))
        return DNS_SRV_FAILED;
    struct event_base *base = event_base_new();
    if (!base) {
        snprintf(err, err_len, "cannot create an event loop");
        return DNS_SRV_FAILED;
    }
    struct oneshot o = {.out = out, .status = DNS_SRV_FAILED, .err = err, .err_len = err_len};
    if (dns_srv_start(base, q, oneshot_done, &o, err, err_len))
        event_base_dispatch(base); /* returns once the lookup is over: nothing else is on it */
    event_base_free(base);
    return o.status;
}
