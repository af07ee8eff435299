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
        client_cache_init(&m->apps[i].cache, cat->apps[i].threshold);
        /* Room for many more than the count: evicting an unsure CMID would lose track of it. */
        client_cache_init(&m->apps[i].unsure, CLIENT_CACHE_MAX_CAPACITY / 2);
    }
    return 0;
}

void model_sent(struct model *m, size_t app, struct model_ticket *ticket)
{
    ticket->app = app;
    ticket->inserts_at_send = m->apps[app].inserts;
    m->apps[app].in_flight++;
}

void model_failed(struct model *m, const struct model_ticket *ticket)
{
    struct model_app *a = &m->apps[ticket->app];
    if (a->in_flight)
        a->in_flight--;
}

void model_lost(struct model *m, const struct model_ticket *ticket, const struct guid *cmid,
                unsigned n_policy, uint64_t client_time)
{
    struct model_app *a = &m->apps[ticket->app];
    model_failed(m, ticket);
    client_cache_touch(&a->unsure, cmid, n_policy, client_time);
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
    if (a->in_flight)
        a->in_flight--;
    client_cache_expire(&a->cache, client_time);
    bool is_new = client_cache_find(&a->cache, cmid) == NULL;
    unsigned value = client_cache_touch(&a->cache, cmid, n_policy, client_time);
    if (is_new)
        a->inserts++;
    unsure_settle(&a->unsure, cmid, client_time);
    unsigned cap = client_cache_capacity(&a->cache);
    unsigned extra = a->unsure.n ? unsure_extra(a, client_time, cap) : 0;
    /* New CMIDs the model applied since this request left, other than its own: the host may have
     * processed those after it. Requests still in flight: the host may have processed those
     * before it, and so may every CMID whose answer was lost. */
    uint64_t others_since = a->inserts - ticket->inserts_at_send - (is_new ? 1 : 0);
    unsigned lo = others_since >= value ? 1 : value - (unsigned)others_since;
    unsigned hi = value + a->in_flight + extra;
    if (hi > cap)
        hi = cap;
    if (lo > hi)
        lo = hi;
    if (m->partial)
        hi = cap;
    if (m->baseline) {
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
