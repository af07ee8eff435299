#include "model.h"

#include <stdio.h>
#include <string.h>

int model_init(struct model *m, const struct catalog *cat)
{
    memset(m, 0, sizeof *m);
    if (cat->n_apps > MODEL_MAX_APPS)
        return -1;
    m->n_apps = cat->n_apps;
    for (size_t i = 0; i < cat->n_apps; i++) {
        client_cache_init(&m->apps[i].cache, 0);
        m->apps[i].threshold = cat->apps[i].threshold;
        /* Room for many more than the count: evicting an unsure CMID would lose track of it. */
        client_cache_init(&m->apps[i].unsure, CLIENT_CACHE_MAX_CAPACITY);
    }
    return 0;
}

static unsigned max_u(unsigned a, unsigned b)
{
    return a > b ? a : b;
}

void model_expect_n_policy(struct model *m, size_t app, unsigned n_policy)
{
    if (app < m->n_apps)
        m->apps[app].elsewhere_n_policy = max_u(m->apps[app].elsewhere_n_policy, n_policy);
}

static void flying_add(struct model_app *a, unsigned n_policy)
{
    for (unsigned i = 0; i < a->n_flying; i++)
        if (a->flying[i].n_policy == n_policy) {
            a->flying[i].requests++;
            return;
        }
    if (a->n_flying == MODEL_FLYING_MAX) {
        a->flying_overflow = true;
        return;
    }
    a->flying[a->n_flying].n_policy = n_policy;
    a->flying[a->n_flying++].requests = 1;
}

static void flying_remove(struct model_app *a, unsigned n_policy)
{
    for (unsigned i = 0; i < a->n_flying; i++)
        if (a->flying[i].n_policy == n_policy) {
            if (--a->flying[i].requests == 0)
                a->flying[i] = a->flying[--a->n_flying];
            return;
        }
}

/* The largest capacity the host may have now: every N_Policy it may have seen. */
static unsigned possible_capacity(const struct model *m, const struct model_app *a)
{
    unsigned n = max_u(a->cache.max_n_policy, a->elsewhere_n_policy);
    if (m->baseline || a->started) /* the host's own machines came before the run */
        n = max_u(n, a->threshold);
    if (a->flying_overflow)
        n = CLIENT_CACHE_MAX_CAPACITY / 2;
    for (unsigned i = 0; i < a->n_flying; i++)
        n = max_u(n, a->flying[i].n_policy);
    return client_cache_capacity_for(n);
}

void model_start(struct model *m, size_t app, unsigned count, uint64_t seen_at)
{
    if (app >= m->n_apps)
        return;
    struct model_app *a = &m->apps[app];
    a->started = true;
    a->start_count = count;
    a->start_until = seen_at + CLIENT_CACHE_RETENTION;
}

/* Judged on top of what the reconnaissance found: lo as if only its own CMID is still counted
 * (none after 30 days), hi as if every machine counted then still is; at most the capacity. */
static void shift_by_start(const struct model_app *a, uint64_t now, unsigned cap, unsigned *lo,
                           unsigned *hi)
{
    unsigned lo_off = a->start_count > 0 && now < a->start_until ? 1 : 0;
    unsigned long shifted_lo = (unsigned long)*lo + lo_off,
                  shifted_hi = (unsigned long)*hi + a->start_count;
    if (shifted_hi > cap)
        shifted_hi = cap;
    if (shifted_lo > shifted_hi)
        shifted_lo = shifted_hi;
    *lo = (unsigned)shifted_lo;
    *hi = (unsigned)shifted_hi;
}

void model_sent(struct model *m, size_t app, unsigned n_policy, struct model_ticket *ticket)
{
    struct model_app *a = &m->apps[app];
    ticket->app = app;
    ticket->inserts_at_send = a->inserts;
    ticket->n_policy = n_policy;
    /* Every answered request was processed before this one: the host had seen their N_Policy. */
    ticket->cap_floor = client_cache_capacity_for(max_u(a->seen_n_policy, n_policy));
    a->in_flight++;
    flying_add(a, n_policy);
}

void model_failed(struct model *m, const struct model_ticket *ticket)
{
    struct model_app *a = &m->apps[ticket->app];
    if (a->in_flight)
        a->in_flight--;
    flying_remove(a, ticket->n_policy);
}

void model_lost(struct model *m, const struct model_ticket *ticket, const struct guid *cmid,
                unsigned n_policy, uint64_t client_time)
{
    struct model_app *a = &m->apps[ticket->app];
    model_failed(m, ticket);
    client_cache_touch(&a->unsure, cmid, n_policy, client_time);
    /* It may have reached the host: keep room for what the host may now hold. */
    if (n_policy > a->cache.max_n_policy)
        a->cache.max_n_policy = n_policy;
}

/* An answered CMID is no longer unsure: the host has it, as of a time no earlier. */
static void unsure_settle(struct client_cache *unsure, const struct guid *cmid, uint64_t now)
{
    const struct client_cache_entry *e = client_cache_find(unsure, cmid);
    if (!e || e->last_seen > now)
        return;
    size_t i = (size_t)(e - unsure->entries);
    unsure->entries[i] = unsure->entries[--unsure->n];
}

/* Unsure CMIDs the model does not count, at most limit (limit when the table is full: some may
 * have been evicted). */
static unsigned unsure_extra(struct model_app *a, uint64_t now, unsigned limit)
{
    client_cache_expire(&a->unsure, now);
    if (a->unsure.n >= client_cache_capacity(&a->unsure))
        return limit;
    unsigned extra = 0;
    for (size_t i = 0; i < a->unsure.n && extra < limit; i++)
        if (!client_cache_find(&a->cache, &a->unsure.entries[i].cmid))
            extra++;
    return extra;
}

void model_answered(struct model *m, const struct model_ticket *ticket, const struct guid *cmid,
                    unsigned n_policy, uint64_t client_time, unsigned count,
                    struct model_verdict *verdict)
{
    struct model_app *a = &m->apps[ticket->app];
    unsigned cap = possible_capacity(m, a); /* this request's N_Policy still counted in flight */
    if (a->in_flight)
        a->in_flight--;
    flying_remove(a, ticket->n_policy);
    a->seen_n_policy = max_u(a->seen_n_policy, n_policy);
    client_cache_expire(&a->cache, client_time);
    bool is_new = client_cache_find(&a->cache, cmid) == NULL;
    if (is_new) {
        /* CMIDs the model evicts while the host may have had more room (a request with a larger
         * N_Policy in flight or lost) may still be in the host's cache: they become unsure. */
        unsigned own_cap = client_cache_capacity_for(max_u(a->cache.max_n_policy, n_policy));
        while (cap > own_cap && a->cache.n >= own_cap && a->cache.n > 0) {
            size_t oldest = 0;
            for (size_t i = 1; i < a->cache.n; i++)
                if (a->cache.entries[i].last_seen < a->cache.entries[oldest].last_seen)
                    oldest = i;
            struct client_cache_entry e = a->cache.entries[oldest];
            a->cache.entries[oldest] = a->cache.entries[--a->cache.n];
            client_cache_touch(&a->unsure, &e.cmid, 0, e.last_seen);
        }
    }
    unsigned value = client_cache_touch(&a->cache, cmid, n_policy, client_time);
    if (is_new)
        a->inserts++;
    unsure_settle(&a->unsure, cmid, client_time);
    cap = max_u(cap, client_cache_capacity(&a->cache));
    unsigned extra = a->unsure.n ? unsure_extra(a, client_time, cap) : 0;
    /* New CMIDs the model applied since this request left, other than its own: the host may have
     * processed those after it. Requests still in flight: the host may have processed those
     * before it, and so may every CMID whose answer was lost. */
    uint64_t others_since = a->inserts - ticket->inserts_at_send - (is_new ? 1 : 0);
    unsigned lo = others_since >= value ? 1 : value - (unsigned)others_since;
    /* A host whose capacity was smaller when it got this request had evicted down to it. */
    if (lo > ticket->cap_floor)
        lo = ticket->cap_floor;
    unsigned hi = value + a->in_flight + extra;
    if (hi > cap)
        hi = cap;
    if (lo > hi)
        lo = hi;
    if (m->partial)
        hi = cap;
    if (a->started && !m->partial) {
        shift_by_start(a, client_time, cap, &lo, &hi);
    } else if (m->baseline) {
        if (!a->calibrated) {
            a->calibrated = true;
            a->offset = (int)count - (int)value;
        }
        long shifted_lo = (long)lo + a->offset, shifted_hi = (long)hi + a->offset;
        if (shifted_hi > (long)cap)
            shifted_hi = cap;
        if (shifted_lo > shifted_hi)
            shifted_lo = shifted_hi;
        lo = shifted_lo < 1 ? 1 : (unsigned)shifted_lo;
        hi = shifted_hi < 1 ? 1 : (unsigned)shifted_hi;
    }
    verdict->expected_lo = lo;
    verdict->expected_hi = hi;
    verdict->agrees = count >= lo && count <= hi;
    if (verdict->agrees)
        snprintf(verdict->reason, sizeof verdict->reason, "expected %u..%u", lo, hi);
    else if (a->started && !m->partial)
        snprintf(verdict->reason, sizeof verdict->reason,
                 "host returned %u, expected %u..%u: %u CMIDs of this run on top of the %u "
                 "machines the host counted at the reconnaissance (capacity %u)",
                 count, lo, hi, value, a->start_count, cap);
    else if (m->baseline)
        snprintf(verdict->reason, sizeof verdict->reason,
                 "host returned %u, expected %u..%u: %u CMIDs of this run on top of the %d "
                 "machines the host counted at the start (capacity %u)",
                 count, lo, hi, value, a->offset, cap);
    else
        snprintf(verdict->reason, sizeof verdict->reason,
                 "host returned %u, a genuine host returns %u..%u here: %u distinct CMIDs in 30 "
                 "days (capacity %u, %u lost answers), this CMID %s",
                 count, lo, hi, value, cap, extra, is_new ? "new" : "already counted");
}
