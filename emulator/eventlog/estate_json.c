#include "estate_json.h"

#include "atomic_file.h"
#include "errmsg.h"
#include "hresult.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (86400ULL * FILETIME_PER_SECOND)
#define EXAMPLES 5

static const char *const outcome_keys[ESTATE_OUTCOMES] = {"activated", "below_threshold",
                                                          "refused"};
static const char *const license_keys[7] = {"unlicensed",    "licensed",   "initial_grace",
                                            "oot_grace",     "nongenuine", "notification",
                                            "extended_grace"};

void estate_time_text(uint64_t ft, char *out, size_t cap)
{
    char t[24];
    filetime_format(ft, t); /* "YYYY-MM-DD HH:MM:SS" */
    t[10] = 'T';
    snprintf(out, cap, "%sZ", t);
}

static json_t *time_json(uint64_t ft)
{
    if (!ft)
        return json_null();
    char t[32];
    estate_time_text(ft, t, sizeof t);
    return json_string(t);
}

static json_t *day_json(uint64_t ft)
{
    char t[32];
    estate_time_text(ft, t, sizeof t);
    t[10] = '\0';
    return json_string(t);
}

static const char *app_key(const struct estate *f, int app)
{
    return app >= 0 ? f->cat->apps[app].key : "unknown";
}

static json_t *product_ref(const struct estate *f, int product)
{
    const struct estate_product *p = &f->products[product];
    char g[GUID_TEXT_LEN + 1], name[160];
    guid_format(&p->sku, g);
    estate_product_name(f, p, name, sizeof name);
    return json_pack("{s:s, s:s?, s:s}", "sku", g, "key",
                     p->sku_index >= 0 ? f->cat->skus[p->sku_index].key : NULL, "name", name);
}

static json_t *machine_ref(const struct estate_view *v, const struct estate_machine *m)
{
    char cmid[64];
    name_hash_cmid(v->names, &m->cmid, cmid, sizeof cmid);
    json_t *names = json_array();
    for (unsigned k = 0; k < 3 && k < m->n_names; k++) {
        char shown[300];
        name_hash_fqdn(v->names, m->shown_name[k], shown, sizeof shown);
        json_array_append_new(names, json_string(shown));
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:I}", "cmid", cmid, "application",
                          app_key(v->fleet, m->app), "product", product_ref(v->fleet, m->product),
                          "names", names, "requests", (json_int_t)m->requests);
    return o;
}

/* One CMID from several FQDNs that keep alternating (a renamed machine switches once). */
static bool is_duplicate(const struct estate_machine *m)
{
    return m->n_names >= 2 && m->name_switches >= m->n_names;
}

static json_t *finding_duplicates(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    uint64_t cmids = 0, names = 0;
    json_t *examples = json_array();
    for (size_t i = 0; i < f->n_machines; i++) {
        const struct estate_machine *m = &f->machines[i];
        if (!is_duplicate(m))
            continue;
        cmids++;
        names += m->n_names;
        if (json_array_size(examples) < EXAMPLES) {
            json_t *e = machine_ref(v, m);
            json_object_set_new(e, "name_count", json_integer(m->n_names));
            json_array_append_new(examples, e);
        }
    }
    if (!cmids) {
        json_decref(examples);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:s, s:o}", "kind", "duplicate-cmid", "cmids",
                     (json_int_t)cmids, "names", (json_int_t)names, "why",
                     "one CMID answered from several machine names: images not generalized "
                     "with sysprep /generalize; the host counts them once, so the count stalls "
                     "(KB929829: run slmgr /rearm or sysprep on the clones)",
                     "examples", examples);
}

static json_t *finding_below(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    json_t *items = json_array();
    for (size_t a = 0; a < f->cat->n_apps; a++) {
        const struct estate_app *app = &f->apps[a];
        /* The N_Policy values this application's machines need, and how many need each. */
        unsigned needs[8] = {0}, needing[8] = {0}, n_needs = 0;
        uint64_t joined_recently = 0;
        for (size_t i = 0; i < f->n_machines; i++) {
            const struct estate_machine *m = &f->machines[i];
            if (m->app != (int)a)
                continue;
            if (m->first + 30 * DAY > f->last)
                joined_recently++;
            unsigned k = 0;
            while (k < n_needs && needs[k] != m->n_policy)
                k++;
            if (k == n_needs && n_needs < 8)
                needs[n_needs++] = m->n_policy;
            if (k < n_needs)
                needing[k]++;
        }
        for (unsigned k = 0; k < n_needs; k++) {
            if (app->max_count >= needs[k])
                continue;
            unsigned final_count =
                app->n_days_filled ? app->days[app->n_days_filled - 1].count_end : 0;
            uint64_t span = f->last - f->first;
            double window_days = span < 30 * DAY ? (double)span / (double)DAY : 30.0;
            double rate = window_days >= 1.0 ? (double)joined_recently / window_days : 0.0;
            json_t *when = json_null();
            if (rate > 0) {
                double days = (double)(needs[k] - final_count) / rate;
                uint64_t at = f->last + (uint64_t)((days + 0.999) * (double)DAY);
                at -= at % DAY;
                json_decref(when);
                when = day_json(at);
            }
            json_array_append_new(
                items, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:o}", "application",
                                 f->cat->apps[a].key, "needs", needs[k], "max_count",
                                 app->max_count, "final_count", final_count, "machines_needing",
                                 needing[k], "missing", needs[k] - final_count,
                                 "new_machines_per_day", rate, "would_reach_at", when));
        }
    }
    if (json_array_size(items) == 0) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:s, s:o}", "kind", "below-threshold", "count",
                     (json_int_t)json_array_size(items), "why",
                     "the host's count for this application never reached what its clients "
                     "need: they stay in grace and retry every 2 hours (would_reach_at: at the "
                     "rate new machines joined over the last 30 days)",
                     "applications", items);
}

static json_t *finding_near_expiry(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    uint64_t horizon = f->last + ESTATE_NEAR_EXPIRY_DAYS * DAY;
    uint64_t machines = 0, lapsed = 0;
    json_t *by_product = json_object(), *examples = json_array();
    for (size_t i = 0; i < f->n_machines; i++) {
        const struct estate_machine *m = &f->machines[i];
        uint64_t lapse = estate_machine_lapse(m);
        if (!lapse || lapse > horizon)
            continue;
        machines++;
        lapsed += lapse <= f->last;
        char name[160];
        estate_product_name(f, &f->products[m->product], name, sizeof name);
        json_t *n = json_object_get(by_product, name);
        json_object_set_new(by_product, name, json_integer(n ? json_integer_value(n) + 1 : 1));
        if (json_array_size(examples) < EXAMPLES) {
            json_t *e = machine_ref(v, m);
            json_object_set_new(e, "lapses_at", time_json(lapse));
            json_object_set_new(e, "license_status",
                                json_string(license_keys[m->license_status % 7]));
            json_array_append_new(examples, e);
        }
    }
    if (!machines) {
        json_decref(by_product);
        json_decref(examples);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:s, s:o, s:o}", "kind", "near-expiry", "machines",
                     (json_int_t)machines, "lapsed", (json_int_t)lapsed, "why",
                     "activation (or grace) runs out within 30 days of the log's end if nothing "
                     "changes: last activated 150+ days ago, or never activated with little "
                     "grace left",
                     "by_product", by_product, "examples", examples);
}

static json_t *finding_errors(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    if (f->n_errors == 0)
        return NULL;
    json_t *items = json_array();
    uint64_t requests = 0;
    for (size_t i = 0; i < f->n_errors; i++) {
        const struct estate_error *e = &f->errors[i];
        char code[16];
        snprintf(code, sizeof code, "0x%08X", e->hresult);
        requests += e->requests;
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s?, s:o, s:I, s:I, s:o, s:o}", "hresult", code, "name",
                      hresult_name(e->hresult), "meaning", hresult_meaning(e->hresult), "advice",
                      status_advice(e->hresult), "product", product_ref(f, e->product), "requests",
                      (json_int_t)e->requests, "machines", (json_int_t)e->machines, "first",
                      time_json(e->first), "last", time_json(e->last)));
    }
    return json_pack("{s:s, s:I, s:o}", "kind", "error", "requests", (json_int_t)requests,
                     "by_product", items);
}

static json_t *finding_not_covered(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    if (!v->keys)
        return NULL;
    json_t *items = json_array(), *unknown = json_array();
    uint64_t machines = 0;
    for (size_t i = 0; i < f->n_products; i++) {
        const struct estate_product *p = &f->products[i];
        if (p->kms < 0) {
            json_array_append_new(unknown, product_ref(f, (int)i));
            continue;
        }
        if (host_keys_cover(f->cat, v->keys, (size_t)p->kms))
            continue;
        machines += p->machines;
        const struct catalog_csvlk *k = host_keys_answering(f->cat, NULL, (size_t)p->kms);
        json_t *o = product_ref(f, (int)i);
        json_object_set_new(o, "group", json_string(f->cat->kms[p->kms].name));
        json_object_set_new(o, "machines", json_integer((json_int_t)p->machines));
        json_object_set_new(o, "requests", json_integer((json_int_t)p->requests));
        json_object_set_new(o, "install", k ? json_string(k->key) : json_null());
        json_array_append_new(items, o);
    }
    if (json_array_size(items) == 0 && json_array_size(unknown) == 0) {
        json_decref(items);
        json_decref(unknown);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:s, s:o, s:o}", "kind", "not-covered", "machines",
                     (json_int_t)machines, "why",
                     "the given host keys would refuse these products (0xC004F042); install: the "
                     "newest key that covers them",
                     "products", items, "unknown_skus", unknown);
}

json_t *estate_findings_json(const struct estate_view *v)
{
    json_t *arr = json_array();
    json_t *found[] = {finding_duplicates(v), finding_below(v), finding_near_expiry(v),
                       finding_errors(v), finding_not_covered(v)};
    for (size_t i = 0; i < sizeof found / sizeof *found; i++)
        if (found[i])
            json_array_append_new(arr, found[i]);
    return arr;
}

static json_t *applications_json(const struct estate *f)
{
    json_t *arr = json_array();
    for (size_t a = 0; a < f->cat->n_apps; a++) {
        const struct estate_app *app = &f->apps[a];
        if (app->requests == 0)
            continue;
        json_t *daily = json_array();
        for (size_t d = 0; d < app->n_days_filled; d++)
            json_array_append_new(
                daily, json_pack("{s:o, s:i, s:i}", "day", day_json(f->day0 + d * DAY), "count_max",
                                 app->days[d].count_max, "count_end", app->days[d].count_end));
        json_t *o = json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:o, s:o, s:o, s:i, s:i, s:o}", "key",
            f->cat->apps[a].key, "name", f->cat->apps[a].name, "machines",
            (json_int_t)app->machines, "requests", (json_int_t)app->requests, "activated",
            (json_int_t)app->outcomes[ESTATE_ACTIVATED], "below_threshold",
            (json_int_t)app->outcomes[ESTATE_BELOW], "refused",
            (json_int_t)app->outcomes[ESTATE_REFUSED], "max_count", app->max_count, "max_count_at",
            time_json(app->max_count_at), "reached_5_at", time_json(app->reached_at[0]),
            "reached_25_at", time_json(app->reached_at[1]), "final_count",
            app->n_days_filled ? app->days[app->n_days_filled - 1].count_end : 0, "capacity",
            client_cache_capacity(&app->cache), "daily", daily);
        if (app->logged_counts) {
            json_object_set_new(o, "logged_counts", json_integer((json_int_t)app->logged_counts));
            json_object_set_new(o, "logged_count_mismatches",
                                json_integer((json_int_t)app->logged_count_mismatches));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *products_json(const struct estate *f)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < f->n_products; i++) {
        const struct estate_product *p = &f->products[i];
        json_t *o = product_ref(f, (int)i);
        json_t *lic = json_object();
        for (int k = 0; k < 7; k++)
            if (p->license[k])
                json_object_set_new(lic, license_keys[k], json_integer((json_int_t)p->license[k]));
        json_object_set_new(o, "application", json_string(app_key(f, p->app)));
        json_object_set_new(o, "machines", json_integer((json_int_t)p->machines));
        json_object_set_new(
            o, "vm_share",
            json_real(p->machines ? (double)p->vm_machines / (double)p->machines : 0.0));
        json_object_set_new(o, "license_states", lic);
        json_object_set_new(o, "requests", json_integer((json_int_t)p->requests));
        json_object_set_new(o, "refused", json_integer((json_int_t)p->refused));
        json_object_set_new(o, "renewal_minutes", json_integer(estate_interval_median(p->renewal)));
        json_object_set_new(o, "retry_minutes", json_integer(estate_interval_median(p->retry)));
        json_object_set_new(o, "first_seen", time_json(p->first));
        json_object_set_new(o, "last_seen", time_json(p->last));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *estate_json(const struct estate_view *v)
{
    const struct estate *f = v->fleet;
    json_t *inputs = json_array();
    for (size_t i = 0; i < v->n_inputs; i++) {
        const struct estate_input *in = &v->inputs[i];
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "file", in->path, "format",
                              event_format_name(in->stats.format), "records",
                              (json_int_t)in->stats.records, "events", (json_int_t)in->stats.events,
                              "other_event_ids", (json_int_t)in->stats.other_ids, "undecoded",
                              (json_int_t)in->stats.undecoded, "bad", (json_int_t)in->stats.bad);
        if (in->rc != 0)
            json_object_set_new(o, "stopped", json_string(in->message));
        json_array_append_new(inputs, o);
    }
    json_t *days = json_array();
    for (size_t d = 0; d < f->n_days; d++) {
        json_t *o = json_pack("{s:o}", "day", day_json(f->day0 + d * DAY));
        for (int k = 0; k < ESTATE_OUTCOMES; k++)
            json_object_set_new(o, outcome_keys[k],
                                json_integer((json_int_t)f->days[d].outcomes[k]));
        json_array_append_new(days, o);
    }
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
                     "generator", "kmsload fleet", "inputs", inputs, "names",
                     v->names->keep ? "kept" : "hashed (HMAC-SHA-256)", "from", time_json(f->first),
                     "to", time_json(f->last), "requests", (json_int_t)f->requests, "out_of_order",
                     (json_int_t)f->out_of_order, "machines", (json_int_t)f->distinct_cmids,
                     "activation_clients", (json_int_t)f->n_machines, "applications",
                     applications_json(f), "products", products_json(f), "days", days, "findings",
                     estate_findings_json(v));
}

int estate_json_write(const char *path, json_t *doc, char *err, size_t err_len)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (!text)
        return errmsg_set(err, err_len, "%s: out of memory", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: written with its length */
    int rc = atomic_file_write(path, text, len + 1, 0644, err, err_len);
    free(text);
    return rc;
}
