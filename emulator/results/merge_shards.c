/* merge: the shard runs' summaries, the checks that they are the shards of one run, the scenario
 * the merged expectations are evaluated against (see merge.h). */
#include "merge_shards.h"

#include "scenario_locate.h"
#include "summary_json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void merge_copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *merge_jstring(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int merge_juint(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

double merge_jreal(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Reads and checks RUN/summary.json: the fields the merge relies on must be there. */
int merge_load_summary(struct shard_run *s, char *err, size_t err_len)
{
    if ((size_t)snprintf(s->summary_path, sizeof s->summary_path, "%s/summary.json", s->dir) >=
            sizeof s->summary_path ||
        (size_t)snprintf(s->events_path, sizeof s->events_path, "%s/events.csv", s->dir) >=
            sizeof s->events_path) {
        merge_set_err(err, err_len, "%s: directory name too long", s->dir);
        return -1;
    }
    if (access(s->summary_path, R_OK) != 0) {
        merge_set_err(err, err_len, "cannot read %s: %s (is %s a kmsload run directory?)",
                      s->summary_path, strerror(errno), s->dir);
        return -1;
    }
    s->summary = summary_json_load(s->summary_path, err, err_len);
    if (!s->summary)
        return -1;
    const char *what = NULL;
    json_t *sc = json_object_get(s->summary, "scenario");
    json_t *shard = json_object_get(s->summary, "shard");
    uint64_t index = 0, count = 0;
    if (!json_is_object(s->summary))
        what = "a JSON object";
    else if (!json_is_object(sc) || !(s->name = merge_jstring(sc, "name")))
        what = "\"scenario\": {\"name\": ...}";
    else if (merge_juint(s->summary, "seed", &s->seed))
        what = "an integer \"seed\"";
    else if (!json_is_object(shard) || merge_juint(shard, "index", &index) ||
             merge_juint(shard, "count", &count) || count == 0 || index >= count || count > 65536)
        what = "\"shard\": {\"index\": K, \"count\": N} with K < N";
    else if (merge_juint(s->summary, "requests", &s->requests))
        what = "an integer \"requests\"";
    else if (!json_is_object(s->pops = json_object_get(s->summary, "populations")))
        what = "a \"populations\" object";
    else if (!json_is_array(s->expects = json_object_get(s->summary, "expectations")))
        what = "an \"expectations\" array";
    if (what) {
        merge_set_err(err, err_len, "%s: not a kmsload run summary: it has no %s", s->summary_path,
                      what);
        return -1;
    }
    s->path = merge_jstring(sc, "path");
    s->run_id = merge_jstring(s->summary, "run_id");
    s->description = merge_jstring(sc, "description");
    s->index = (unsigned)index;
    s->count = (unsigned)count;
    return 0;
}

/* ---- checks across runs ---- */

static bool same_string(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_population_names(json_t *a, json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    void *ia = json_object_iter(a), *ib = json_object_iter(b);
    for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib))
        if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0)
            return false;
    return true;
}

static bool same_expectations(json_t *a, json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!same_string(merge_jstring(json_array_get(a, i), "expectation"),
                         merge_jstring(json_array_get(b, i), "expectation")))
            return false;
    return true;
}

/* The runs describe one run: same scenario, seed, split, populations and expectations. */
static int check_same_run(const struct shard_run *a, const struct shard_run *b, char *err,
                          size_t err_len)
{
    if (!same_string(a->name, b->name))
        return merge_set_err(
            err, err_len,
            "refusing to merge runs of different scenarios: %s ran \"%s\", %s ran \"%s\"", a->dir,
            a->name, b->dir, b->name);
    if (a->seed != b->seed)
        return merge_set_err(err, err_len,
                             "refusing to merge runs with different seeds: %s has seed %" PRIu64
                             ", %s has seed %" PRIu64 " (their fleets are not parts of one fleet)",
                             a->dir, a->seed, b->dir, b->seed);
    if (a->count != b->count)
        return merge_set_err(err, err_len,
                             "refusing to merge overlapping shards: %s is shard %u/%u, %s is shard "
                             "%u/%u (the fleet was split in different ways)",
                             a->dir, a->index, a->count, b->dir, b->index, b->count);
    if (!same_population_names(a->pops, b->pops))
        return merge_set_err(err, err_len,
                             "refusing to merge: %s and %s have different populations (was the "
                             "scenario file of \"%s\" changed between them?)",
                             a->dir, b->dir, a->name);
    if (!same_expectations(a->expects, b->expects))
        return merge_set_err(err, err_len,
                             "refusing to merge: %s and %s checked different expectations "
                             "(different --set overrides or scenario files?)",
                             a->dir, b->dir);
    return 0;
}

/* The message for shards missing from by_index (count shards, n given). */
static int missing_shards(const struct shard_run **by_index, unsigned count, size_t n, char *err,
                          size_t err_len)
{
    char missing[128] = "", have[512] = "";
    size_t ml = 0, hl = 0, shown = 0;
    for (unsigned k = 0; k < count; k++) {
        if (by_index[k] && hl < sizeof have)
            hl += (size_t)snprintf(have + hl, sizeof have - hl, "%s%u from %s", hl ? ", " : "", k,
                                   by_index[k]->dir);
        else if (!by_index[k] && ml < sizeof missing && shown++ < 8)
            ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%s%u", ml ? ", " : "", k);
    }
    return merge_set_err(err, err_len,
                         "refusing to merge an incomplete run: shard%s %s%s of %u missing "
                         "(given: %s); merge needs every shard 0..%u exactly once",
                         count - n > 1 ? "s" : "", missing, count - n > 8 ? ", ..." : "", count,
                         have, count - 1);
}

int merge_check_runs(struct shard_run *runs, size_t n, char *err, size_t err_len)
{
    for (size_t i = 1; i < n; i++)
        if (check_same_run(&runs[0], &runs[i], err, err_len))
            return -1;
    unsigned count = runs[0].count;
    const struct shard_run **by_index = calloc(count, sizeof *by_index);
    if (!by_index)
        return merge_set_err(err, err_len, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct shard_run *r = &runs[i];
        if (by_index[r->index])
            rc = merge_set_err(
                err, err_len,
                "refusing to merge overlapping shards: %s and %s are both shard %u/%u%s",
                by_index[r->index]->dir, r->dir, r->index, count,
                strcmp(by_index[r->index]->dir, r->dir) == 0 ? " (the same directory twice)" : "");
        by_index[r->index] = r;
    }
    if (rc == 0 && n < count)
        rc = missing_shards(by_index, count, n, err, err_len);
    free(by_index);
    return rc;
}

/* ---- the scenario the expectations are evaluated against ---- */

/* Fills sc from a summary when the scenario file is not available. */
void merge_scenario_from_summary(struct scenario *sc, const struct shard_run *s)
{
    memset(sc, 0, sizeof *sc);
    merge_copy_text(sc->name, sizeof sc->name, s->name);
    merge_copy_text(sc->path, sizeof sc->path, s->path ? s->path : "");
    merge_copy_text(sc->description, sizeof sc->description, s->description ? s->description : "");
    sc->seed = s->seed;
    const char *key;
    json_t *v;
    json_object_foreach(s->pops, key, v)
    {
        if (sc->n_pops == SCENARIO_MAX_POPULATIONS)
            break;
        merge_copy_text(sc->pops[sc->n_pops++].name, sizeof sc->pops[0].name, key);
    }
    size_t i;
    json_array_foreach(s->expects, i, v)
    {
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS)
            break;
        struct scenario_expectation *e = &sc->expects[sc->n_expects++];
        const char *text = merge_jstring(v, "expectation");
        merge_copy_text(e->text, sizeof e->text, text ? text : "");
        uint64_t line = 0;
        merge_juint(v, "line", &line);
        e->line = (unsigned)line;
    }
}

/* Why sc (loaded from a file) does not describe the runs, or NULL when it does. */
static const char *scenario_mismatch(const struct scenario *sc, const struct shard_run *s)
{
    if (strcmp(sc->name, s->name) != 0)
        return "it names another scenario";
    if (sc->n_pops != json_object_size(s->pops))
        return "its populations differ from the runs'";
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(s->pops, key, v)
    {
        if (strcmp(sc->pops[i++].name, key) != 0)
            return "its populations differ from the runs'";
    }
    if (sc->n_expects != json_array_size(s->expects))
        return "its expectations differ from the runs' (--set overrides not repeated?)";
    json_array_foreach(s->expects, i, v)
    {
        const char *text = merge_jstring(v, "expectation");
        if (!text || strcmp(text, sc->expects[i].text) != 0)
            return "its expectations differ from the runs' (--set overrides not repeated?)";
    }
    return NULL;
}

/*
 * Loads the scenario the runs name (or opt->scenario_path) for re-evaluation. Returns true when
 * it describes the runs; false with the reason in why (sc then comes from the summary).
 */
bool merge_scenario(struct scenario *sc, const struct merge_options *opt, const struct shard_run *s,
                    char *why, size_t why_len)
{
    const char *path = opt->scenario_path ? opt->scenario_path : s->path;
    char installed[PATH_MAX];
    if (!path || !*path) {
        merge_set_err(why, why_len, "the runs' summary.json names no scenario file");
        return false;
    }
    if (!opt->scenario_path)
        path = scenario_locate(path, installed, sizeof installed);
    char err[1024];
    if (scenario_load(sc, path, opt->overrides, opt->n_overrides, err, sizeof err)) {
        merge_set_err(why, why_len, "the scenario file could not be used: %s", err);
        return false;
    }
    const char *mismatch = scenario_mismatch(sc, s);
    if (mismatch) {
        merge_set_err(why, why_len, "the scenario file %s no longer describes the runs: %s", path,
                      mismatch);
        return false;
    }
    sc->seed = s->seed;
    merge_set_err(why, why_len, "re-evaluated on the merged events against %s", path);
    return true;
}

/* Each expectation's result: passed when every shard passed it; observed names the shards. */
void merge_combine_expectations(const struct scenario *sc, struct shard_run *runs, size_t n,
                                struct expect_result *results)
{
    for (size_t i = 0; i < sc->n_expects; i++) {
        struct expect_result *r = &results[i];
        r->expectation = &sc->expects[i];
        expect_rule(r->expectation, r->rule, sizeof r->rule);
        r->passed = true;
        bool all_same = true;
        const char *first = NULL;
        for (size_t k = 0; k < n; k++) {
            json_t *e = json_array_get(runs[k].expects, i);
            const char *obs = merge_jstring(e, "observed");
            if (!json_is_true(json_object_get(e, "passed")))
                r->passed = false;
            if (!first)
                first = obs ? obs : "";
            else if (!same_string(first, obs))
                all_same = false;
        }
        size_t len = 0;
        if (all_same) {
            snprintf(r->observed, sizeof r->observed, "every shard: %s", first ? first : "");
            continue;
        }
        for (size_t k = 0; k < n && len < sizeof r->observed; k++) {
            json_t *e = json_array_get(runs[k].expects, i);
            const char *obs = merge_jstring(e, "observed");
            int w = snprintf(r->observed + len, sizeof r->observed - len, "%sshard %u: %s",
                             k ? "; " : "", runs[k].index, obs ? obs : "");
            if (w < 0)
                break;
            len += (size_t)w;
        }
    }
}

/* The target line of the merged summary: the shared target, or how many there were. */
void merge_target(struct shard_run *runs, size_t n, char *out, size_t cap, bool *embedded)
{
    const char *first = merge_jstring(runs[0].summary, "target");
    bool same = true;
    *embedded = true;
    for (size_t i = 0; i < n; i++) {
        if (!json_is_true(json_object_get(runs[i].summary, "embedded_host")))
            *embedded = false;
        if (!same_string(first, merge_jstring(runs[i].summary, "target")))
            same = false;
    }
    if (same)
        snprintf(out, cap, "%s", first ? first : "");
    else if (*embedded)
        snprintf(out, cap, "embedded reference hosts, one per shard (%zu)", n);
    else
        snprintf(out, cap, "%s and %zu other target%s (see merge.shards)", first ? first : "?",
                 n - 1, n == 2 ? "" : "s");
}
