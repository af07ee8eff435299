#include "model.h"

#include <stdio.h>
#include <string.h>

int model_init(struct model *m, const struct catalog *cat)
{
    memset(m, 0, sizeof *m);
    if (cat->n_apps > MODEL_MAX_APPS)
        return -1;
    m->n_apps = cat->n_apps;
    for (size_t i = 0; i < cat->n_apps; i++)
        client_cache_init(&m->apps[i].cache, cat->apps[i].threshold);
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
    unsigned cap = client_cache_capacity(&a->cache);
    /* New CMIDs the model applied since this request left, other than its own: the host may have
     * processed those after it. Requests still in flight: the host may have processed those
     * before it. */
    uint64_t others_since = a->inserts - ticket->inserts_at_send - (is_new ? 1 : 0);
    unsigned lo = others_since >= value ? 1 : value - (unsigned)others_since;
    unsigned hi = value + a->in_flight;
    if (hi > cap)
        hi = cap;
    if (lo > hi)
        lo = hi;
    verdict->expected_lo = lo;
    verdict->expected_hi = hi;
    verdict->agrees = count >= lo && count <= hi;
    if (verdict->agrees)
        snprintf(verdict->reason, sizeof verdict->reason, "expected %u..%u", lo, hi);
    else
        snprintf(verdict->reason, sizeof verdict->reason,
                 "host returned %u, a genuine host returns %u..%u here: %u distinct CMIDs seen in "
                 "the last 30 days (capacity %u), this CMID %s",
                 count, lo, hi, value, cap, is_new ? "new" : "already counted");
}
