/* summary.json (see summary_json.h). */
#include "summary_json.h"

#include "hresult.h"
#include "markup.h"
#include "wintypes.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A JSON string of s (at most max bytes); bytes that are not UTF-8 become '?'. */
static json_t *jstr(const char *s, size_t max)
{
    size_t n = (s ? strnlen(s, max) : 0);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = markup_utf8_seq(u + i, n - i);
        if (k == 0) {
            copy[o++] = '?';
            i++;
            continue;
        }
        memcpy(copy + o, u + i, k);
        o += k;
        i += k;
    }
    copy[o] = '\0';
    json_t *j = json_stringn(copy, o);
    free(copy);
    return j;
}

static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jint(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static const char *pop_name(const struct run_info *info, size_t i, char *buf, size_t cap)
{
    const struct scenario *sc = info->scenario;
    if (sc && i < sc->n_pops && sc->pops[i].name[0])
        return sc->pops[i].name;
    snprintf(buf, cap, "population %zu", i + 1);
    return buf;
}

static int cmp_hresult(const void *a, const void *b)
{
    const struct tally_hresult *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->code < y->code ? -1 : x->code > y->code;
}

static json_t *expected_value(unsigned lo, unsigned hi, bool lower)
{
    if (lo > hi) /* the model could not judge this point */
        return json_null();
    return json_integer(lower ? lo : hi);
}

static json_t *summary_applications(const struct run_tally *t)
{
    json_t *apps = json_object();
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        const struct tally_app *a = &t->apps[i];
        if (!a->seen)
            continue;
        bool has_count = a->n_timeline > 0 || a->timeline_skipped > 0;
        json_t *ja = json_object();
        json_object_set_new(ja, "requests", jint(a->requests));
        json_object_set_new(ja, "max_count", has_count ? json_integer(a->max_count) : json_null());
        json_object_set_new(ja, "final_count",
                            has_count ? json_integer(a->last_count) : json_null());
        json_t *tl = json_array();
        for (size_t k = 0; k < a->n_timeline; k++) {
            const struct tally_point *p = &a->timeline[k];
            json_t *jp = json_object();
            json_object_set_new(jp, "sim_s", jreal((double)p->sim_us / 1e6));
            json_object_set_new(jp, "wall_s", jreal(p->wall_s));
            json_object_set_new(jp, "count", json_integer(p->count));
            json_object_set_new(jp, "expected_lo",
                                expected_value(p->expected_lo, p->expected_hi, true));
            json_object_set_new(jp, "expected_hi",
                                expected_value(p->expected_lo, p->expected_hi, false));
            json_array_append_new(tl, jp);
        }
        json_object_set_new(ja, "timeline", tl);
        json_object_set_new(ja, "timeline_points_skipped", jint(a->timeline_skipped));
        json_object_set_new(apps, a->key, ja);
    }
    return apps;
}

/* Every answer whose count fell below a threshold (25 or 5) the application's previous answer
 * was at or above, in simulated-time order across applications. */
static json_t *summary_falls(const struct run_tally *t)
{
    const struct tally_crossing *falls[TALLY_MAX_APPS * TALLY_MAX_CROSSINGS];
    const char *keys[TALLY_MAX_APPS * TALLY_MAX_CROSSINGS];
    size_t n = 0;
    for (size_t i = 0; i < TALLY_MAX_APPS; i++)
        for (size_t c = 0; t->apps[i].seen && c < t->apps[i].n_crossings; c++)
            if (t->apps[i].crossings[c].down && !t->apps[i].crossings[c].first) {
                /* insertion by (sim time, request): a few dozen at most */
                const struct tally_crossing *x = &t->apps[i].crossings[c];
                size_t at = n;
                while (at > 0 &&
                       (falls[at - 1]->sim_us > x->sim_us ||
                        (falls[at - 1]->sim_us == x->sim_us && falls[at - 1]->seq > x->seq))) {
                    falls[at] = falls[at - 1];
                    keys[at] = keys[at - 1];
                    at--;
                }
                falls[at] = x;
                keys[at] = t->apps[i].key;
                n++;
            }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *jf = json_object();
        json_object_set_new(jf, "application", jstr(keys[i], 32));
        json_object_set_new(jf, "threshold", json_integer(falls[i]->threshold));
        json_object_set_new(jf, "count", json_integer(falls[i]->count));
        json_object_set_new(jf, "sim_s", jreal((double)falls[i]->sim_us / 1e6));
        json_object_set_new(jf, "wall_s", jreal(falls[i]->wall_s));
        json_object_set_new(jf, "request", jint(falls[i]->seq));
        json_array_append_new(arr, jf);
    }
    return arr;
}

static json_t *summary_populations(const struct run_info *info, const struct run_tally *t)
{
    json_t *pops = json_object();
    for (size_t i = 0; i < t->n_pops; i++) {
        const struct tally_population *p = &t->pops[i];
        char buf[32];
        json_t *jp = json_object();
        json_object_set_new(jp, "machines", json_integer(p->machines));
        json_object_set_new(jp, "requests", jint(p->requests));
        json_object_set_new(jp, "activated_responses", jint(p->activated_responses));
        json_object_set_new(jp, "activated_machines", json_integer(p->activated_machines));
        json_object_set_new(jp, "ever_activated_machines",
                            json_integer(p->ever_activated_machines > p->activated_machines
                                             ? p->ever_activated_machines
                                             : p->activated_machines));
        json_t *fa = json_null();
        if (p->crossed) {
            fa = json_object();
            json_object_set_new(fa, "request", jint(p->first_activation_seq));
            json_object_set_new(fa, "sim_s", jreal((double)p->first_activation_sim_us / 1e6));
            json_object_set_new(fa, "wall_s", jreal(p->first_activation_wall_s));
            json_object_set_new(fa, "count", json_integer(p->first_activation_count));
            json_object_set_new(fa, "machine", json_integer(p->first_activation_machine));
        }
        json_object_set_new(jp, "first_activation", fa);
        json_object_set_new(pops, pop_name(info, i, buf, sizeof buf), jp);
    }
    return pops;
}

/* Several KMS hosts in one run: each host's outcomes, counts and model verdicts, and which host
 * the machines used day by day. NULL for a run against one --target or the embedded host (a
 * host the engine never named from a host set: publish_at_us -1). */
static json_t *summary_hosts(const struct run_tally *t)
{
    if (t->n_hosts == 0 || (t->n_hosts == 1 && t->n_days == 0 && t->hosts[0].publish_at_us < 0))
        return NULL;
    json_t *hosts = json_array();
    for (size_t i = 0; i < t->n_hosts; i++) {
        const struct tally_host *h = &t->hosts[i];
        json_t *jh = json_object(), *outcomes = json_object(), *apps = json_object();
        json_object_set_new(jh, "name", jstr(h->name, sizeof h->name));
        json_object_set_new(jh, "requests", jint(h->requests));
        for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
            if (h->outcomes[o])
                json_object_set_new(outcomes, kms_outcome_name((enum kms_outcome)o),
                                    jint(h->outcomes[o]));
        json_object_set_new(jh, "outcomes", outcomes);
        struct tally_host_figures fg;
        tally_host_figures(h, &fg);
        json_object_set_new(jh, "answered", jint(fg.answered));
        json_object_set_new(jh, "connection_failures", jint(fg.connection_failures));
        json_object_set_new(jh, "key_refusals", jint(fg.key_refusals));
        json_object_set_new(jh, "failovers", jint(fg.failovers));
        /* The first failure of the last unbroken run of failures: null while it answers. */
        json_object_set_new(jh, "down_since_sim_s",
                            h->down_since_us >= 0 ? jreal((double)h->down_since_us / 1e6)
                                                  : json_null());
        json_object_set_new(jh, "down_since_wall_s",
                            h->down_since_us >= 0 ? jreal(h->down_since_wall_s) : json_null());
        json_object_set_new(jh, "refused_product", jint(h->refused_product));
        json_object_set_new(jh, "model_checked", jint(h->model_checked));
        json_object_set_new(jh, "model_mismatches", jint(h->model_mismatches));
        for (size_t k = 0; k < TALLY_MAX_APPS; k++) {
            const struct tally_host_app *a = &h->apps[k];
            if (!a->seen)
                continue;
            json_t *ja = json_object();
            json_object_set_new(ja, "max_count", json_integer(a->max_count));
            json_object_set_new(ja, "final_count", json_integer(a->last_count));
            json_object_set_new(ja, "reached_5_sim_s",
                                a->reached_us[0] >= 0 ? jreal((double)a->reached_us[0] / 1e6)
                                                      : json_null());
            json_object_set_new(ja, "reached_25_sim_s",
                                a->reached_us[1] >= 0 ? jreal((double)a->reached_us[1] / 1e6)
                                                      : json_null());
            json_object_set_new(apps, a->key, ja);
        }
        json_object_set_new(jh, "applications", apps);
        const int64_t when[4] = {h->publish_at_us, h->withdraw_at_us, h->start_at_us,
                                 h->stop_at_us};
        static const char *const keys[4] = {"publish_at_s", "withdraw_at_s", "start_at_s",
                                            "stop_at_s"};
        for (int k = 0; k < 4; k++)
            json_object_set_new(jh, keys[k],
                                when[k] >= 0 ? jreal((double)when[k] / 1e6) : json_null());
        json_array_append_new(hosts, jh);
    }
    return hosts;
}

static json_t *summary_host_days(const struct run_tally *t)
{
    json_t *days = json_array();
    for (size_t d = 0; d < t->n_days; d++) {
        json_t *jd = json_object(), *machines = json_object();
        json_object_set_new(jd, "day", json_integer((json_int_t)d));
        for (size_t i = 0; i < t->n_hosts && i < TALLY_MAX_HOSTS; i++)
            json_object_set_new(machines, t->hosts[i].name[0] ? t->hosts[i].name : "?",
                                json_integer(t->days[d].machines[i]));
        json_object_set_new(jd, "machines", machines);
        json_object_set_new(jd, "no_host", json_integer(t->days[d].no_host));
        json_array_append_new(days, jd);
    }
    return days;
}

static json_t *summary_model(const struct run_tally *t)
{
    json_t *jm = json_object();
    json_object_set_new(jm, "checked", jint(t->model_checked));
    json_object_set_new(jm, "mismatches", jint(t->model_mismatches));
    json_t *fm = json_null();
    if (t->has_first_mismatch) {
        const struct run_event *m = &t->first_mismatch;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&m->cmid, cmid);
        fm = json_object();
        json_object_set_new(fm, "request", jint(m->seq));
        json_object_set_new(fm, "sim_s", jreal((double)m->sim_us / 1e6));
        json_object_set_new(fm, "machine", json_integer(m->machine));
        json_object_set_new(fm, "cmid", json_string(cmid));
        json_object_set_new(fm, "population", jstr(m->population, 256));
        json_object_set_new(fm, "application", jstr(m->app_key, 256));
        json_object_set_new(fm, "count", m->count >= 0 ? json_integer(m->count) : json_null());
        json_object_set_new(fm, "expected_lo", json_integer(m->expected_lo));
        json_object_set_new(fm, "expected_hi", json_integer(m->expected_hi));
        json_object_set_new(fm, "reason", jstr(m->model_reason, sizeof m->model_reason));
    }
    json_object_set_new(jm, "first_mismatch", fm);
    return jm;
}

static json_t *summary_latency(const struct histogram *h)
{
    json_t *jl = json_object();
    json_object_set_new(jl, "count", jint(h->count));
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
    if (h->count == 0) {
        const char *names[] = {"min", "mean", "p50", "p90", "p99", "p999", "max"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            json_object_set_new(jl, names[i], json_null());
        return jl;
    }
    json_object_set_new(jl, "min", jint(h->min));
    json_object_set_new(jl, "mean", jreal(histogram_mean(h)));
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        json_object_set_new(jl, qs[i].name, jint(histogram_quantile(h, qs[i].q)));
    json_object_set_new(jl, "max", jint(h->max));
    return jl;
}

/* HRESULTs and RPC fault statuses, most frequent first; codes beyond the table's room last. */
static json_t *summary_hresults(const struct run_tally *t)
{
    struct tally_hresult sorted[TALLY_MAX_HRESULTS];
    size_t nh = t->n_hresults < TALLY_MAX_HRESULTS ? t->n_hresults : TALLY_MAX_HRESULTS;
    memcpy(sorted, t->hresults, nh * sizeof sorted[0]);
    qsort(sorted, nh, sizeof sorted[0], cmp_hresult);
    json_t *hr = json_array();
    uint64_t tabled = 0;
    for (size_t i = 0; i < nh; i++) {
        char code[16];
        snprintf(code, sizeof code, "0x%08" PRIX32, sorted[i].code);
        json_t *jh = json_object();
        json_object_set_new(jh, "code", json_string(code));
        json_object_set_new(jh, "name", json_string(status_name(sorted[i].code)));
        json_object_set_new(jh, "n", jint(sorted[i].n));
        json_array_append_new(hr, jh);
        tabled += sorted[i].n;
    }
    uint64_t all = t->outcomes[KMS_OUTCOME_HOST_ERROR] + t->outcomes[KMS_OUTCOME_RPC_FAULT];
    if (all > tabled) { /* codes beyond the table's room */
        json_t *jh = json_object();
        json_object_set_new(jh, "code", json_null());
        json_object_set_new(jh, "name", json_string("other codes"));
        json_object_set_new(jh, "n", jint(all - tabled));
        json_array_append_new(hr, jh);
    }
    return hr;
}

/* Each expectation with its result. */
static json_t *summary_expectations(const struct expect_result *results, size_t n_results)
{
    json_t *ex = json_array();
    for (size_t i = 0; i < n_results; i++) {
        const struct expect_result *r = &results[i];
        const struct scenario_expectation *e = r->expectation;
        json_t *je = json_object();
        json_object_set_new(je, "expectation", jstr(e ? e->text : "", sizeof e->text));
        json_object_set_new(je, "rule", jstr(r->rule, sizeof r->rule));
        json_object_set_new(je, "line", json_integer(e ? e->line : 0));
        json_object_set_new(je, "passed", json_boolean(r->passed));
        json_object_set_new(je, "observed", jstr(r->observed, sizeof r->observed));
        json_array_append_new(ex, je);
    }
    return ex;
}

bool summary_json_passed(const struct run_info *info, const struct expect_result *results,
                         size_t n_results)
{
    if (info->interrupted || info->write_error)
        return false;
    for (size_t i = 0; i < n_results; i++)
        if (!results[i].passed)
            return false;
    return true;
}

/* What the run learned of its target before judging it (recon.h); null: nothing was asked. */
static json_t *summary_recon(const struct recon *r)
{
    if (!r)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "done", json_boolean(r->done));
    if (!r->done) {
        json_object_set_new(o, "skipped", jstr(r->skipped, sizeof r->skipped));
        return o;
    }
    json_object_set_new(o, "requests", json_integer(r->requests));
    json_object_set_new(o, "clock", jstr(r->clock, sizeof r->clock));
    json_t *apps = json_object();
    for (size_t a = 0; a < r->n_apps; a++) {
        const struct recon_app *ra = &r->apps[a];
        if (!ra->used && !ra->counted)
            continue;
        json_t *j = json_object();
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&ra->cmid, cmid);
        json_object_set_new(j, "count", ra->counted ? json_integer(ra->count) : json_null());
        json_object_set_new(j, "cmid", json_string(cmid));
        json_object_set_new(j, "used", json_boolean(ra->used));
        json_object_set_new(apps, ra->key, j);
    }
    json_object_set_new(o, "counts", apps);
    json_object_set_new(o, "build", r->build ? json_integer(r->build) : json_null());
    json_object_set_new(o, "host_os", jstr(r->host_os, sizeof r->host_os));
    json_object_set_new(o, "host_keys", jstr(r->host_keys, sizeof r->host_keys));
    json_t *groups = json_array();
    for (const char *p = r->key_groups; *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(groups, json_stringn(p, n));
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    json_object_set_new(o, "key_groups", groups);
    json_object_set_new(o, "genuine", json_boolean(r->genuine));
    json_t *notes = json_array();
    for (size_t i = 0; i < r->n_notes; i++)
        json_array_append_new(notes, jstr(r->notes[i], sizeof r->notes[i]));
    json_object_set_new(o, "expectations_adjusted", notes);
    return o;
}

json_t *summary_json_build(const struct run_info *info, const struct run_tally *t,
                           const struct expect_result *results, size_t n_results)
{
    const struct scenario *sc = info->scenario;
    json_t *root = json_object();
    if (!root)
        return NULL;
    json_object_set_new(root, "kmsload",
                        jstr(info->kmsload_version ? info->kmsload_version : "unknown", 64));
    json_t *js = json_object();
    json_object_set_new(js, "name", jstr(sc ? sc->name : "", SCENARIO_NAME_MAX));
    json_object_set_new(js, "path", jstr(sc ? sc->path : "", sizeof sc->path));
    json_object_set_new(js, "description", jstr(sc ? sc->description : "", SCENARIO_TEXT_MAX));
    json_object_set_new(root, "scenario", js);
    json_object_set_new(root, "target", jstr(info->target ? info->target : "", 512));
    json_object_set_new(root, "embedded_host", json_boolean(info->embedded_host));
    json_object_set_new(
        root, "clock", json_string(sc && sc->clock == SCENARIO_CLOCK_VIRTUAL ? "virtual" : "real"));
    json_object_set_new(root, "seed", jint(info->seed));
    json_t *shard = json_object();
    json_object_set_new(shard, "index", json_integer(info->shard_index));
    json_object_set_new(shard, "count", json_integer(info->shard_count ? info->shard_count : 1));
    json_object_set_new(root, "shard", shard);
    json_object_set_new(root, "started_at",
                        info->started_at ? jstr(info->started_at, 64) : json_null());
    json_object_set_new(root, "run_id", info->run_id ? jstr(info->run_id, 64) : json_null());
    json_object_set_new(root, "interrupted", json_boolean(info->interrupted));
    json_object_set_new(
        root, "interrupt_reason",
        info->interrupted
            ? jstr(info->interrupt_reason ? info->interrupt_reason : "interrupted", 256)
            : json_null());
    json_object_set_new(root, "advice", info->advice ? jstr(info->advice, 1024) : json_null());
    json_object_set_new(root, "reconnaissance", summary_recon(info->recon));
    json_object_set_new(root, "wall_seconds", jreal(info->wall_seconds));
    json_object_set_new(root, "simulated_seconds", jreal((double)info->sim_us / 1e6));
    json_object_set_new(root, "requests", jint(t->requests));
    json_object_set_new(
        root, "throughput",
        jreal(info->wall_seconds > 0 ? (double)t->requests / info->wall_seconds : 0.0));

    json_t *outcomes = json_object();
    for (size_t i = 0; i < KMS_OUTCOME__COUNT; i++)
        json_object_set_new(outcomes, kms_outcome_name((enum kms_outcome)i), jint(t->outcomes[i]));
    json_object_set_new(root, "outcomes", outcomes);

    json_object_set_new(root, "hresults", summary_hresults(t));
    json_object_set_new(root, "latency_us", summary_latency(&t->latency));
    json_object_set_new(root, "applications", summary_applications(t));
    json_object_set_new(root, "populations", summary_populations(info, t));
    json_object_set_new(root, "falls_below", summary_falls(t));
    json_object_set_new(root, "model", summary_model(t));
    json_t *hosts = summary_hosts(t);
    if (hosts) {
        json_object_set_new(root, "hosts", hosts);
        json_object_set_new(root, "host_days", summary_host_days(t));
    }
    json_t *mu = json_object();
    json_object_set_new(mu, "sim_s", jreal((double)t->max_unactivated_us / 1e6));
    json_object_set_new(mu, "machine", json_integer(t->max_unactivated_machine));
    json_object_set_new(mu, "still_unactivated", json_boolean(t->max_unactivated_open));
    json_object_set_new(root, "max_unactivated", mu);

    json_object_set_new(root, "expectations", summary_expectations(results, n_results));
    if (info->write_error)
        json_object_set_new(root, "write_error", jstr(info->write_error, 1024));
    json_object_set_new(root, "passed",
                        json_boolean(summary_json_passed(info, results, n_results)));
    return root;
}

json_t *summary_json_load(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (st.st_size > (off_t)SUMMARY_JSON_MAX) {
        snprintf(err, err_len, "%s: larger than %u MiB: not a kmsload run summary", path,
                 SUMMARY_JSON_MAX >> 20);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, err_len, "%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, err_len, "%s:1: not a JSON object", path);
        json_decref(root);
        return NULL;
    }
    return root;
}
