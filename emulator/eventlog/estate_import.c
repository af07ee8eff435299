#include "estate_import.h"

#include "errmsg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (86400ULL * FILETIME_PER_SECOND)
#define MINUTE (60ULL * FILETIME_PER_SECOND)

int estate_init(struct estate *f, const struct catalog *cat, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    f->cat = cat;
    f->apps = calloc(cat->n_apps ? cat->n_apps : 1, sizeof *f->apps);
    f->n_slots = 1024;
    f->slots = calloc(f->n_slots, sizeof *f->slots);
    if (!f->apps || !f->slots) {
        estate_free(f);
        return errmsg_set(err, err_len, "out of memory");
    }
    for (size_t i = 0; i < cat->n_apps; i++)
        client_cache_init(&f->apps[i].cache, 0); /* a genuine host's cache: 2 x N_Policy */
    return 0;
}

void estate_free(struct estate *f)
{
    for (size_t i = 0; i < f->n_machines; i++) {
        free(f->machines[i].names);
        for (int k = 0; k < 3; k++)
            free(f->machines[i].shown_name[k]);
    }
    free(f->machines);
    free(f->slots);
    for (size_t i = 0; i < f->n_products; i++) {
        free(f->products[i].renewal);
        free(f->products[i].retry);
    }
    free(f->products);
    if (f->apps)
        for (size_t i = 0; i < f->cat->n_apps; i++)
            free(f->apps[i].days);
    free(f->apps);
    free(f->errors);
    free(f->days);
    memset(f, 0, sizeof *f);
}

static uint64_t machine_hash(int app, const struct guid *cmid)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(app + 7);
    for (int i = 0; i < 16; i++)
        h = (h ^ cmid->b[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static uint64_t name_fingerprint(const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 1099511628211ULL;
    return h;
}

static int grow_slots(struct estate *f)
{
    size_t n = f->n_slots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < f->n_machines; i++) {
        const struct estate_machine *m = &f->machines[i];
        size_t s = machine_hash(m->app, &m->cmid) & (n - 1);
        while (slots[s])
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(f->slots);
    f->slots = slots;
    f->n_slots = n;
    return 0;
}

static struct estate_machine *machine_for(struct estate *f, int app, const struct guid *cmid,
                                          bool *fresh)
{
    size_t s = machine_hash(app, cmid) & (f->n_slots - 1);
    while (f->slots[s]) {
        struct estate_machine *m = &f->machines[f->slots[s] - 1];
        if (m->app == app && guid_equal(&m->cmid, cmid)) {
            *fresh = false;
            return m;
        }
        s = (s + 1) & (f->n_slots - 1);
    }
    if (f->n_machines >= UINT32_MAX - 1)
        return NULL;
    if (f->n_machines == f->cap_machines) {
        size_t cap = f->cap_machines ? f->cap_machines * 2 : 256;
        struct estate_machine *m = realloc(f->machines, cap * sizeof *m);
        if (!m)
            return NULL;
        f->machines = m;
        f->cap_machines = cap;
    }
    struct estate_machine *m = &f->machines[f->n_machines];
    memset(m, 0, sizeof *m);
    m->cmid = *cmid;
    m->app = app;
    f->slots[s] = (uint32_t)++f->n_machines;
    if (f->n_machines * 2 > f->n_slots && grow_slots(f) != 0) {
        f->n_machines--;
        return NULL;
    }
    *fresh = true;
    return m;
}

static int product_for(struct estate *f, const struct guid *sku, int app_hint)
{
    for (size_t i = 0; i < f->n_products; i++)
        if (guid_equal(&f->products[i].sku, sku))
            return (int)i;
    struct estate_product *p = realloc(f->products, (f->n_products + 1) * sizeof *p);
    if (!p)
        return -1;
    f->products = p;
    p = &f->products[f->n_products];
    memset(p, 0, sizeof *p);
    p->sku = *sku;
    p->sku_index = p->kms = p->app = -1;
    const struct catalog_sku *s = catalog_sku_by_id(f->cat, sku);
    if (s) {
        p->sku_index = (int)(s - f->cat->skus);
        p->kms = (int)s->kms;
        p->app = (int)f->cat->kms[s->kms].app;
    } else
        p->app = app_hint;
    p->renewal = calloc(1, sizeof *p->renewal);
    p->retry = calloc(1, sizeof *p->retry);
    if (!p->renewal || !p->retry) {
        free(p->renewal);
        free(p->retry);
        return -1;
    }
    return (int)f->n_products++;
}

static void interval_add(struct estate_interval_hist *h, uint64_t ft)
{
    uint64_t minutes = ft / MINUTE;
    size_t bin = minutes < 1440 ? (size_t)minutes : 1440 + (size_t)((minutes - 1440) / 60);
    if (bin >= ESTATE_INTERVAL_BINS)
        bin = ESTATE_INTERVAL_BINS - 1;
    h->bins[bin]++;
    h->n++;
}

unsigned estate_interval_median(const struct estate_interval_hist *h)
{
    if (!h || h->n == 0)
        return 0;
    uint64_t seen = 0, half = (h->n + 1) / 2;
    for (size_t i = 0; i < ESTATE_INTERVAL_BINS; i++) {
        seen += h->bins[i];
        if (seen >= half)
            return i < 1440 ? (unsigned)i : (unsigned)(1440 + (i - 1440) * 60);
    }
    return 0;
}

/* Days up to the one holding t exist; the application series are filled up to the day before. */
static int day_of(struct estate *f, uint64_t t, size_t *index)
{
    size_t d = (size_t)((t - f->day0) / DAY);
    if (d >= f->cap_days) {
        size_t cap = f->cap_days ? f->cap_days : 64;
        while (cap <= d)
            cap *= 2;
        struct estate_day *days = realloc(f->days, cap * sizeof *days);
        if (!days)
            return -1;
        memset(days + f->cap_days, 0, (cap - f->cap_days) * sizeof *days);
        f->days = days;
        for (size_t a = 0; a < f->cat->n_apps; a++) {
            struct estate_app_day *ad = realloc(f->apps[a].days, cap * sizeof *ad);
            if (!ad)
                return -1;
            memset(ad + f->cap_days, 0, (cap - f->cap_days) * sizeof *ad);
            f->apps[a].days = ad;
        }
        f->cap_days = cap;
    }
    /* The days that ended before t: what each counter still held at their end. */
    for (size_t a = 0; a < f->cat->n_apps; a++) {
        struct estate_app *app = &f->apps[a];
        while (app->n_days_filled < d) {
            size_t k = app->n_days_filled++;
            unsigned held = client_cache_count(&app->cache, f->day0 + (k + 1) * DAY - 1);
            app->days[k].count_end = held;
            if (held > app->days[k].count_max)
                app->days[k].count_max = held;
        }
    }
    if (d + 1 > f->n_days)
        f->n_days = d + 1;
    *index = d;
    return 0;
}

static int error_add(struct estate *f, int product, uint32_t hresult, uint64_t t,
                     struct estate_machine *m)
{
    struct estate_error *e = NULL;
    for (size_t i = 0; i < f->n_errors && !e; i++)
        if (f->errors[i].product == product && f->errors[i].hresult == hresult)
            e = &f->errors[i];
    if (!e) {
        struct estate_error *n = realloc(f->errors, (f->n_errors + 1) * sizeof *n);
        if (!n)
            return -1;
        f->errors = n;
        e = &f->errors[f->n_errors++];
        memset(e, 0, sizeof *e);
        e->product = product;
        e->hresult = hresult;
        e->first = t;
    }
    e->requests++;
    e->last = t;
    bool known = false;
    for (unsigned i = 0; i < m->n_errors; i++)
        known |= m->errors[i] == hresult;
    if (!known) {
        e->machines++;
        if (m->n_errors < ESTATE_MACHINE_ERRORS)
            m->errors[m->n_errors++] = hresult;
    }
    return 0;
}

static int name_add(struct estate_machine *m, const char *fqdn)
{
    uint64_t fp = name_fingerprint(fqdn);
    if (m->requests > 0 && fp != m->last_name)
        m->name_switches++;
    m->last_name = fp;
    for (unsigned i = 0; i < m->n_names; i++)
        if (m->names[i] == fp)
            return 0;
    if (m->n_names == m->names_cap) {
        unsigned cap = m->names_cap ? m->names_cap * 2 : 1;
        uint64_t *n = realloc(m->names, cap * sizeof *n);
        if (!n)
            return -1;
        m->names = n;
        m->names_cap = cap;
    }
    if (m->n_names < 3 && !(m->shown_name[m->n_names] = strdup(fqdn)))
        return -1;
    m->names[m->n_names++] = fp;
    return 0;
}

int estate_add(struct estate *f, const struct kms_event *ev, char *err, size_t err_len)
{
    if (f->requests == 0) {
        f->day0 = ev->time - ev->time % DAY;
        f->first = f->last = ev->time;
    }
    if (ev->time + ESTATE_ORDER_SLACK < f->last) {
        f->out_of_order++;
        char a[24], b[24];
        filetime_format(ev->time, a);
        filetime_format(f->last, b);
        errmsg_set(err, err_len,
                   "logged at %s, before an event already read (%s): the log must be read oldest "
                   "first (Get-WinEvent -Oldest, or give the files in time order)",
                   a, b);
        return 1;
    }
    uint64_t t = ev->time > f->last ? ev->time : f->last; /* small disorder: no going back */
    f->last = t;
    f->requests++;
    size_t day;
    if (day_of(f, t, &day) != 0)
        return errmsg_set(err, err_len, "out of memory");
    int app = ev->app;
    const struct catalog_sku *sku = catalog_sku_by_id(f->cat, &ev->sku);
    if (app < 0 && sku)
        app = (int)f->cat->kms[sku->kms].app;
    if (app >= (int)f->cat->n_apps)
        app = -1;
    int product = product_for(f, &ev->sku, app);
    bool fresh;
    struct estate_machine *m = product < 0 ? NULL : machine_for(f, app, &ev->cmid, &fresh);
    if (!m)
        return errmsg_set(err, err_len, "out of memory");
    struct estate_product *p = &f->products[product];
    /* What the host answered: the count its cache gave (the event does not log it). */
    enum estate_outcome outcome = ESTATE_REFUSED;
    if (ev->hresult == 0) {
        unsigned count = 0;
        if (app >= 0) {
            struct estate_app *a = &f->apps[app];
            count = client_cache_touch(&a->cache, &ev->cmid, ev->n_policy, t);
            if (count > a->max_count) {
                a->max_count = count;
                a->max_count_at = t;
            }
            if (count > a->days[day].count_max)
                a->days[day].count_max = count;
            static const unsigned marks[2] = {5, 25};
            for (int k = 0; k < 2; k++)
                if (!a->reached_at[k] && count >= marks[k])
                    a->reached_at[k] = t;
            if (ev->count >= 0) {
                a->logged_counts++;
                a->logged_count_mismatches += (unsigned long)ev->count != count;
            }
        } else if (ev->count >= 0)
            count = (unsigned)ev->count; /* an application the catalogue lacks: as logged */
        outcome =
            count >= ev->n_policy && (app >= 0 || ev->count >= 0) ? ESTATE_ACTIVATED : ESTATE_BELOW;
    }
    if (app >= 0) {
        f->apps[app].requests++;
        f->apps[app].outcomes[outcome]++;
        if (ev->n_policy > f->apps[app].max_n_policy)
            f->apps[app].max_n_policy = ev->n_policy;
    }
    f->days[day].outcomes[outcome]++;
    p->requests++;
    if (!p->first)
        p->first = t;
    p->last = t;
    if (!fresh) /* the interval follows from what the previous answer was */
        interval_add(m->last_outcome == ESTATE_ACTIVATED ? p->renewal : p->retry, t - m->last);
    if (fresh) {
        m->first = t;
        m->first_status = ev->license_status;
    }
    if (name_add(m, ev->fqdn) != 0)
        return errmsg_set(err, err_len, "out of memory");
    m->last = t;
    m->requests++;
    m->outcomes[outcome]++;
    m->last_outcome = outcome;
    m->product = product;
    m->license_status = ev->license_status;
    m->vm = ev->vm;
    m->n_policy = ev->n_policy;
    m->minutes_to_expiration = ev->minutes_to_expiration;
    m->last_hresult = ev->hresult;
    if (outcome == ESTATE_ACTIVATED)
        m->last_activated = t;
    if (outcome == ESTATE_REFUSED) {
        p->refused++;
        if (error_add(f, product, ev->hresult, t, m) != 0)
            return errmsg_set(err, err_len, "out of memory");
    }
    return 0;
}

uint64_t estate_machine_lapse(const struct estate_machine *m)
{
    if (m->last_activated)
        return m->last_activated + ESTATE_VALIDITY_DAYS * DAY;
    if (m->minutes_to_expiration == 0) /* unlicensed or notification: lapsed; else unlimited */
        return m->license_status == 0 || m->license_status == 5 ? m->last : 0;
    return m->last + (uint64_t)m->minutes_to_expiration * MINUTE;
}

static int cmp_guid(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct guid));
}

int estate_finish(struct estate *f, char *err, size_t err_len)
{
    if (f->finished)
        return 0;
    f->finished = true;
    if (f->requests > 0) {
        size_t day;
        /* Fill every day of the log; the last one ends at the last event. */
        if (day_of(f, f->last, &day) != 0)
            return errmsg_set(err, err_len, "out of memory");
        for (size_t a = 0; a < f->cat->n_apps; a++) {
            struct estate_app *app = &f->apps[a];
            unsigned held = client_cache_count(&app->cache, f->last);
            app->days[day].count_end = held;
            if (held > app->days[day].count_max)
                app->days[day].count_max = held;
            app->n_days_filled = day + 1;
        }
    }
    struct guid *cmids = malloc((f->n_machines ? f->n_machines : 1) * sizeof *cmids);
    if (!cmids)
        return errmsg_set(err, err_len, "out of memory");
    for (size_t i = 0; i < f->n_machines; i++) {
        const struct estate_machine *m = &f->machines[i];
        cmids[i] = m->cmid;
        struct estate_product *p = &f->products[m->product];
        p->machines++;
        p->vm_machines += m->vm != 0;
        p->license[m->license_status < 7 ? m->license_status : 0]++;
        if (m->app >= 0) {
            struct estate_app *a = &f->apps[m->app];
            a->machines++;
            a->needs_seen[m->n_policy > 5]++;
        }
    }
    qsort(cmids, f->n_machines, sizeof *cmids, cmp_guid);
    f->distinct_cmids = 0;
    for (size_t i = 0; i < f->n_machines; i++)
        f->distinct_cmids += i == 0 || !guid_equal(&cmids[i], &cmids[i - 1]);
    free(cmids);
    return 0;
}

void estate_product_name(const struct estate *f, const struct estate_product *p, char *out,
                         size_t cap)
{
    if (p->sku_index >= 0) {
        snprintf(out, cap, "%s", f->cat->skus[p->sku_index].name);
        return;
    }
    char g[GUID_TEXT_LEN + 1];
    guid_format(&p->sku, g);
    snprintf(out, cap, "unknown SKU %s", g);
}
