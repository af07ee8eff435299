#include "host_choice.h"

#include "client_dns.h"
#include "srv_order.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

bool host_published(const struct host_set *set, size_t i, int64_t t)
{
    const struct host_entry *h = &set->hosts[i];
    return t >= h->published_from_us && t < h->published_until_us;
}

int host_set_find(const struct host_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->hosts[i].name, name) == 0)
            return (int)i;
    return HOST_NONE;
}

size_t host_choice_order(const struct host_set *set, int64_t sim_us, int cached, int pinned,
                         struct pcg32 *rng, size_t *order)
{
    if (pinned >= 0 && (size_t)pinned < set->n) {
        order[0] = (size_t)pinned;
        return 1;
    }
    size_t n = 0;
    if (!set->discovery) {
        /* One configured host: nothing to choose. */
        for (size_t i = 0; i < set->n; i++)
            order[n++] = i;
        return n;
    }
    bool use_cache = set->caching && cached >= 0 && (size_t)cached < set->n;
    if (use_cache)
        order[n++] = (size_t)cached;
    struct srv_choice recs[HOST_SET_MAX];
    for (size_t i = 0; i < set->n; i++) {
        recs[i].priority = set->hosts[i].priority;
        recs[i].weight = set->hosts[i].weight;
        recs[i].excluded = !host_published(set, i, sim_us) || (use_cache && (int)i == cached);
    }
    size_t drawn[SRV_ORDER_MAX];
    size_t k = srv_order(recs, set->n, rng, drawn);
    for (size_t i = 0; i < k; i++)
        order[n++] = drawn[i];
    return n;
}

void host_choice_stream(struct pcg32 *rng, uint64_t seed, uint32_t machine, int64_t sim_us)
{
    pcg32_seed(rng, seed ^ ((uint64_t)sim_us * 0x9E3779B97F4A7C15ULL),
               0x484F535400000000ULL | machine);
}

void host_set_single(struct host_set *set, const struct net_addrs *addrs)
{
    memset(set, 0, sizeof *set);
    /* Named by the address contacted (the first one tried), as every page labels a host. */
    snprintf(set->hosts[0].name, sizeof set->hosts[0].name, "target");
    if (addrs) {
        set->hosts[0].addrs = *addrs;
        if (addrs->n > 0)
            net_addr_format((const struct sockaddr *)&addrs->addr[0], set->hosts[0].name,
                            sizeof set->hosts[0].name);
    }
    set->hosts[0].published_until_us = INT64_MAX;
    set->hosts[0].up_until_us = INT64_MAX;
    set->n = 1;
    set->caching = true;
    set->single = true;
}

/* One SRV record as an entry, named by its target (with the port when that target is published
 * on several ports). */
static void entry_from_srv(struct host_entry *h, const struct dns_srv_set *srv, size_t i)
{
    const struct dns_srv_record *r = &srv->rec[i];
    bool repeated = false;
    for (size_t k = 0; k < srv->n; k++)
        repeated |= k != i && strcmp(srv->rec[k].target, r->target) == 0;
    if (repeated)
        snprintf(h->name, sizeof h->name, "%.240s:%u", r->target, r->port);
    else
        snprintf(h->name, sizeof h->name, "%s", r->target);
    h->addrs = r->addrs;
    h->priority = r->priority;
    h->weight = r->weight;
    h->published_from_us = 0;
    h->published_until_us = INT64_MAX;
    h->up_until_us = INT64_MAX;
}

bool host_set_from_srv(struct host_set *set, const struct dns_srv_set *srv, const char *domain,
                       bool caching, char *desc, size_t desc_cap)
{
    memset(set, 0, sizeof *set);
    set->discovery = true;
    set->caching = caching;
    bool loopback = true;
    int n = snprintf(desc, desc_cap, "dns:%s", domain);
    for (size_t i = 0; i < srv->n && set->n < HOST_SET_MAX; i++) {
        const struct dns_srv_record *r = &srv->rec[i];
        entry_from_srv(&set->hosts[set->n++], srv, i);
        for (size_t a = 0; a < r->addrs.n; a++)
            if (!net_addr_is_loopback((const struct sockaddr *)&r->addrs.addr[a]))
                loopback = false;
        if (n > 0 && (size_t)n < desc_cap)
            n += snprintf(desc + n, desc_cap - (size_t)n, "%s%s:%u %u/%u", i ? ", " : " (",
                          r->target, r->port, r->priority, r->weight);
    }
    if (n > 0 && (size_t)n < desc_cap)
        snprintf(desc + n, desc_cap - (size_t)n, ")");
    return loopback;
}

void host_entry_from_scenario(struct host_entry *h, const struct scenario_kms_host *kh)
{
    snprintf(h->name, sizeof h->name, "%s", kh->name);
    h->priority = (uint16_t)kh->priority;
    h->weight = (uint16_t)kh->weight;
    h->published_from_us = kh->publish_at_us;
    h->published_until_us = kh->withdraw_at_us == SCENARIO_NEVER ? INT64_MAX : kh->withdraw_at_us;
    h->up_from_us = kh->start_at_us;
    h->up_until_us = kh->stop_at_us == SCENARIO_NEVER ? INT64_MAX : kh->stop_at_us;
}

/* The records a DNS answer holds beyond the host set, and those without an address: said on msg
 * (the run goes on with the rest). */
static void warn_srv(const struct host_set *hs, const struct dns_srv_set *set, FILE *msg)
{
    for (size_t i = 0; i < set->n && i < HOST_SET_MAX; i++)
        if (set->rec[i].addrs.n == 0)
            fprintf(msg, "kmsload run: warning: %s (published in %s) has no address: %s\n",
                    set->rec[i].target, set->name, set->rec[i].addr_err);
    if (set->total <= hs->n)
        return;
    /* The records come ranked (priority, then weight): those left out are the least preferred,
     * whatever order the DNS server listed them in. */
    uint16_t lo = set->total > set->n ? set->left_out_priority_min : UINT16_MAX, hi = 0;
    for (size_t i = hs->n; i < set->n; i++) {
        lo = set->rec[i].priority < lo ? set->rec[i].priority : lo;
        hi = set->rec[i].priority > hi ? set->rec[i].priority : hi;
    }
    if (set->total > set->n && set->left_out_priority_max > hi)
        hi = set->left_out_priority_max;
    fprintf(msg,
            "kmsload run: warning: %s has %zu records; the %zu most preferred are used, %zu "
            "left out (priority %u..%u)\n",
            set->name, set->total, hs->n, set->total - hs->n, lo, hi);
}

int host_set_discover(struct host_set *hs, const struct dns_srv_query *q, bool caching, char *desc,
                      size_t desc_cap, bool *loopback, FILE *msg, char *err, size_t err_len)
{
    enum dns_srv_status st;
    struct dns_srv_set *set = client_dns_lookup(q, &st, err, err_len);
    if (st != DNS_SRV_OK) {
        free(set);
        return -1;
    }
    if (!host_set_from_srv(hs, set, q->domain, caching, desc, desc_cap))
        *loopback = false;
    warn_srv(hs, set, msg);
    free(set);
    return 0;
}
