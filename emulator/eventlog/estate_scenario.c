#include "estate_scenario.h"

#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (86400ULL * FILETIME_PER_SECOND)
#define MINUTE (60ULL * FILETIME_PER_SECOND)

struct text {
    char *s;
    size_t len, cap;
    int failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap : 4096) * 2 + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

static unsigned bounded_minutes(unsigned m, unsigned fallback)
{
    if (m == 0)
        return fallback;
    return m < 15 ? 15 : m > 43200 ? 43200 : m;
}

/* Median over every product's samples together (bins are the same on each). */
static unsigned pooled_median(const struct estate *e, int renewal)
{
    struct estate_interval_hist *all = calloc(1, sizeof *all);
    if (!all)
        return 0;
    for (size_t i = 0; i < e->n_products; i++) {
        const struct estate_interval_hist *h =
            renewal ? e->products[i].renewal : e->products[i].retry;
        for (size_t b = 0; b < ESTATE_INTERVAL_BINS; b++)
            all->bins[b] += h->bins[b];
        all->n += h->n;
    }
    unsigned m = estate_interval_median(all);
    free(all);
    return m;
}

unsigned estate_activation_minutes(const struct estate *e)
{
    return bounded_minutes(pooled_median(e, 0), 120);
}

unsigned estate_renewal_minutes(const struct estate *e)
{
    return bounded_minutes(pooled_median(e, 1), 10080);
}

void estate_infer_keys(const struct estate *e, char *out, size_t cap)
{
    const struct catalog *cat = e->cat;
    size_t n = cat->n_kms;
    char *answered = calloc(n ? n : 1, 1), *refused = calloc(n ? n : 1, 1);
    char *chosen = calloc(cat->n_csvlks ? cat->n_csvlks : 1, 1);
    out[0] = '\0';
    if (!answered || !refused || !chosen)
        goto done;
    for (size_t i = 0; i < e->n_products; i++) {
        const struct estate_product *p = &e->products[i];
        if (p->kms < 0)
            continue;
        if (p->requests > p->refused)
            answered[p->kms] = 1;
        for (size_t k = 0; k < e->n_errors; k++)
            if (e->errors[k].product == (int)i && e->errors[k].hresult == 0xC004F042u)
                refused[p->kms] = 1;
    }
    for (size_t g = 0; g < n; g++) {
        if (!answered[g])
            continue;
        int covered = 0;
        for (size_t c = 0; c < cat->n_csvlks && !covered; c++)
            covered = chosen[c] && catalog_csvlk_activates(&cat->csvlks[c], g);
        if (covered)
            continue;
        /* The key covering g that covers the fewest groups the log shows refused; the newest
         * (catalogue order) among equals. */
        int best = -1;
        size_t best_score = (size_t)-1;
        for (size_t c = 0; c < cat->n_csvlks; c++) {
            const struct catalog_csvlk *k = &cat->csvlks[c];
            if (!k->n_activates || !catalog_csvlk_activates(k, g))
                continue;
            size_t score = 0;
            for (size_t r = 0; r < n; r++)
                score += refused[r] && catalog_csvlk_activates(k, r);
            if (score < best_score) {
                best_score = score;
                best = (int)c;
            }
        }
        if (best >= 0)
            chosen[best] = 1;
    }
    size_t len = 0;
    for (size_t c = 0; c < cat->n_csvlks; c++)
        if (chosen[c]) {
            int w = snprintf(out + len, cap - len, "%s%s", len ? "," : "", cat->csvlks[c].key);
            if (w < 0 || (size_t)w >= cap - len)
                break;
            len += (size_t)w;
        }
done:
    free(answered);
    free(refused);
    free(chosen);
}

/* One population: machines of one product that started in one licence state. */
struct pop {
    int product;
    unsigned status;
    uint64_t machines, names, vm;
    uint64_t first_join, last_join;
    uint64_t leavers, first_leave, last_leave;
};

static int cmp_pop(const void *a, const void *b)
{
    const struct pop *x = a, *y = b;
    return x->names < y->names ? 1 : x->names > y->names ? -1 : x->product - y->product;
}

static void duration(struct text *t, const char *key, uint64_t ft)
{
    uint64_t m = ft / MINUTE;
    if (m % 1440 == 0)
        add(t, "%s = %llud\n", key, (unsigned long long)(m / 1440));
    else
        add(t, "%s = %llum\n", key, (unsigned long long)m);
}

static void seconds(struct text *t, const char *key, int64_t s)
{
    duration(t, key, (uint64_t)s * FILETIME_PER_SECOND);
}

int estate_scenario_text(const struct estate *e, const char *origin,
                         const struct estate_migration *mig, char **out, char *err, size_t err_len)
{
    const struct catalog *cat = e->cat;
    unsigned renewal = estate_renewal_minutes(e), activation = estate_activation_minutes(e);
    /* Machines that stopped asking: no request in the last two renewal intervals and a day. */
    uint64_t gone_after = 2ULL * renewal * MINUTE + DAY;
    struct pop *pops = calloc(e->n_products * 7 + 1, sizeof *pops);
    if (!pops)
        return errmsg_set(err, err_len, "out of memory");
    size_t n_pops = 0;
    for (size_t i = 0; i < e->n_machines; i++) {
        const struct estate_machine *m = &e->machines[i];
        if (e->products[m->product].sku_index < 0)
            continue;
        unsigned status = m->first_status < 7 ? m->first_status : 2;
        struct pop *p = NULL;
        for (size_t k = 0; k < n_pops && !p; k++)
            if (pops[k].product == m->product && pops[k].status == status)
                p = &pops[k];
        if (!p) {
            p = &pops[n_pops++];
            p->product = m->product;
            p->status = status;
            p->first_join = UINT64_MAX;
            p->first_leave = UINT64_MAX;
        }
        p->machines++;
        p->names += m->n_names; /* clones are machines of their own, sharing the CMID */
        p->vm += m->vm ? m->n_names : 0;
        if (m->first < p->first_join)
            p->first_join = m->first;
        if (m->first > p->last_join)
            p->last_join = m->first;
        if (m->last + gone_after < e->last) {
            p->leavers += m->n_names;
            if (m->last < p->first_leave)
                p->first_leave = m->last;
            if (m->last > p->last_leave)
                p->last_leave = m->last;
        }
    }
    qsort(pops, n_pops, sizeof *pops, cmp_pop);
    struct text t = {0};
    char from[24], to[24];
    filetime_format(e->first, from);
    filetime_format(e->last, to);
    uint64_t span = e->last - e->first;
    add(&t, "; %s: written by kmsload fleet from %s (%s .. %s UTC, %llu requests, %llu machines)\n",
        mig ? "migration.ini" : "fleet.ini", origin, from, to, (unsigned long long)e->requests,
        (unsigned long long)e->distinct_cmids);
    add(&t, "; One population per product and the licence state its machines first showed: their "
            "machines\n; (a cloned CMID counts once per machine name), VM share, clones, when "
            "they joined and left.\n");
    if (mig)
        add(&t,
            ";\n; The migration: the old host (keys %s) and the new one (keys %s), both embedded "
            "and\n; published in the run's DNS. The scenario format has no SRV TTL or "
            "replication delay: a DNS\n; change reaches the last client after the replication "
            "delay (%llds) plus the record's TTL\n; (%llds), so each record is published and "
            "withdrawn that much later than the change.\n",
            mig->old_keys, mig->new_keys, (long long)mig->replication_delay_s,
            (long long)mig->srv_ttl_s);
    add(&t, "\n[scenario]\nname = %s\n", mig ? "fleet-migration" : "fleet-replay");
    add(&t, "description = %s imported from an event 12290 log (%llu machines)\n",
        mig ? "migration of the fleet" : "the fleet", (unsigned long long)e->distinct_cmids);
    add(&t, "clock = virtual\n");
    if (mig)
        seconds(&t, "duration", mig->duration_s);
    else {
        uint64_t days = (span + DAY - 1) / DAY;
        add(&t, "duration = %llud\n",
            (unsigned long long)(days < 1      ? 1
                                 : days > 3650 ? 3650
                                               : days));
    }
    add(&t, "seed = 1\n");
    if (!mig)
        add(&t, "\n[host]\nactivation_interval = %um\nrenewal_interval = %um\n", activation,
            renewal);
    else {
        int64_t delay = mig->replication_delay_s + mig->srv_ttl_s;
        add(&t, "\n[host old]\nhost_key = %s\nactivation_interval = %um\nrenewal_interval = %um\n",
            mig->old_keys, activation, renewal);
        if (mig->withdraw_old_at_s >= 0)
            seconds(&t, "withdraw_at", mig->withdraw_old_at_s + delay);
        seconds(&t, "stop_at", mig->switch_off_old_at_s);
        add(&t, "\n[host new]\nhost_key = %s\nactivation_interval = %um\nrenewal_interval = %um\n",
            mig->new_keys, activation, renewal);
        seconds(&t, "publish_at", mig->publish_at_s + delay);
    }
    static const char *const status_names[7] = {"unlicensed", "licensed",     "grace",   "ootgrace",
                                                "nongenuine", "notification", "extended"};
    for (size_t k = 0; k < n_pops; k++) {
        const struct pop *p = &pops[k];
        const struct catalog_sku *sku = &cat->skus[e->products[p->product].sku_index];
        if (k >= ESTATE_SCENARIO_POPULATIONS) {
            add(&t, "; not replayed (the format holds %d populations): %s, %llu machines\n",
                ESTATE_SCENARIO_POPULATIONS, sku->key, (unsigned long long)p->names);
            continue;
        }
        /* The migration starts from the fleet as it is now: the machines that left are not in
         * it, the others are on the old host within the first day. */
        uint64_t machines = mig ? p->names - p->leavers : p->names;
        if (machines == 0)
            continue;
        add(&t, "\n[population %s-%s]\nproduct = %s\nmachines = %llu\n", sku->key,
            status_names[p->status], sku->key, (unsigned long long)machines);
        if (p->vm)
            add(&t, "vm = %.4f\n", (double)p->vm / (double)p->names);
        if (p->status != 2)
            add(&t, "license_status = %u\n", p->status);
        if (p->names > p->machines)
            add(&t, "cloned = %.4f\n", (double)(p->names - p->machines) / (double)p->names);
        if (mig) {
            add(&t, "join_over = 1d\n");
            continue;
        }
        duration(&t, "join_at", p->first_join - e->first);
        if (p->last_join > p->first_join)
            duration(&t, "join_over", p->last_join - p->first_join + MINUTE);
        if (p->leavers) {
            add(&t, "leave = %.4f\n", (double)p->leavers / (double)p->names);
            duration(&t, "leave_at", p->first_leave - e->first + MINUTE);
            if (p->last_leave > p->first_leave)
                duration(&t, "leave_over", p->last_leave - p->first_leave + MINUTE);
        }
    }
    for (size_t i = 0; i < e->n_products; i++)
        if (e->products[i].sku_index < 0) {
            char g[GUID_TEXT_LEN + 1];
            guid_format(&e->products[i].sku, g);
            add(&t, "; not replayed: unknown SKU %s (%llu machines), not in the catalogue\n", g,
                (unsigned long long)e->products[i].machines);
        }
    if (mig)
        add(&t, "\n[expect]\n; a forecast, not a test: the default model check only\n"
                "model_mismatches = 0\n");
    free(pops);
    if (t.failed || n_pops == 0) {
        free(t.s);
        return errmsg_set(err, err_len,
                          t.failed ? "out of memory"
                                   : "no product of the log is in the catalogue: nothing to "
                                     "replay");
    }
    *out = t.s;
    return 0;
}
