/* Merging the run directories of a sharded run (see merge.h). */
#include "merge.h"
#include "scenario_locate.h"

#include "atomic_file.h"
#include "events_csv.h"
#include "expect.h"
#include "run_dir.h"
#include "run_outcome.h"
#include "run_tally.h"
#include "scenario.h"
#include "summary_md.h"
#include "wintypes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KMSLOAD_VERSION
#define KMSLOAD_VERSION "unknown"
#endif

#define MERGE_MAX_RUNS 4096
static int set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- one shard run: its summary.json and a cursor over its events.csv ---- */

struct shard_run {
    const char *dir;
    char summary_path[PATH_MAX];
    char events_path[PATH_MAX];
    json_t *summary;
    const char *name;        /* scenario.name */
    const char *path;        /* scenario.path */
    const char *description; /* scenario.description */
    uint64_t seed;
    unsigned index, count;
    uint64_t requests;
    json_t *pops;    /* populations object */
    json_t *expects; /* expectations array */
    /* events.csv */
    struct events_csv_reader *events;
    unsigned long row_line;
    uint64_t rows;
    bool has_row;
    struct events_row row;
    bool mismatch_seen;
};

static const char *jstring_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int juint_at(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static double jreal_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Reads and checks RUN/summary.json: the fields the merge relies on must be there. */
static int shard_load_summary(struct shard_run *s, char *err, size_t err_len)
{
    if ((size_t)snprintf(s->summary_path, sizeof s->summary_path, "%s/summary.json", s->dir) >=
            sizeof s->summary_path ||
        (size_t)snprintf(s->events_path, sizeof s->events_path, "%s/events.csv", s->dir) >=
            sizeof s->events_path) {
        set_err(err, err_len, "%s: directory name too long", s->dir);
        return -1;
    }
    if (access(s->summary_path, R_OK) != 0) {
        set_err(err, err_len, "cannot read %s: %s (is %s a kmsload run directory?)",
                s->summary_path, strerror(errno), s->dir);
        return -1;
    }
    json_error_t jerr;
    s->summary = json_load_file(s->summary_path, 0, &jerr);
    if (!s->summary) {
        set_err(err, err_len, "%s:%d: not valid JSON: %s", s->summary_path, jerr.line, jerr.text);
        return -1;
    }
    const char *what = NULL;
    json_t *sc = json_object_get(s->summary, "scenario");
    json_t *shard = json_object_get(s->summary, "shard");
    uint64_t index = 0, count = 0;
    if (!json_is_object(s->summary))
        what = "a JSON object";
    else if (!json_is_object(sc) || !(s->name = jstring_at(sc, "name")))
        what = "\"scenario\": {\"name\": ...}";
    else if (juint_at(s->summary, "seed", &s->seed))
        what = "an integer \"seed\"";
    else if (!json_is_object(shard) || juint_at(shard, "index", &index) ||
             juint_at(shard, "count", &count) || count == 0 || index >= count || count > 65536)
        what = "\"shard\": {\"index\": K, \"count\": N} with K < N";
    else if (juint_at(s->summary, "requests", &s->requests))
        what = "an integer \"requests\"";
    else if (!json_is_object(s->pops = json_object_get(s->summary, "populations")))
        what = "a \"populations\" object";
    else if (!json_is_array(s->expects = json_object_get(s->summary, "expectations")))
        what = "an \"expectations\" array";
    if (what) {
        set_err(err, err_len, "%s: not a kmsload run summary: it has no %s", s->summary_path, what);
        return -1;
    }
    s->path = jstring_at(sc, "path");
    s->description = jstring_at(sc, "description");
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
        if (!same_string(jstring_at(json_array_get(a, i), "expectation"),
                         jstring_at(json_array_get(b, i), "expectation")))
            return false;
    return true;
}

static int check_runs(struct shard_run *runs, size_t n, char *err, size_t err_len)
{
    const struct shard_run *a = &runs[0];
    for (size_t i = 1; i < n; i++) {
        const struct shard_run *b = &runs[i];
        if (!same_string(a->name, b->name)) {
            set_err(err, err_len,
                    "refusing to merge runs of different scenarios: %s ran \"%s\", %s ran \"%s\"",
                    a->dir, a->name, b->dir, b->name);
            return -1;
        }
        if (a->seed != b->seed) {
            set_err(err, err_len,
                    "refusing to merge runs with different seeds: %s has seed %" PRIu64
                    ", %s has seed %" PRIu64 " (their fleets are not parts of one fleet)",
                    a->dir, a->seed, b->dir, b->seed);
            return -1;
        }
        if (a->count != b->count) {
            set_err(err, err_len,
                    "refusing to merge overlapping shards: %s is shard %u/%u, %s is shard %u/%u "
                    "(the fleet was split in different ways)",
                    a->dir, a->index, a->count, b->dir, b->index, b->count);
            return -1;
        }
        if (!same_population_names(a->pops, b->pops)) {
            set_err(err, err_len,
                    "refusing to merge: %s and %s have different populations (was the scenario "
                    "file of \"%s\" changed between them?)",
                    a->dir, b->dir, a->name);
            return -1;
        }
        if (!same_expectations(a->expects, b->expects)) {
            set_err(err, err_len,
                    "refusing to merge: %s and %s checked different expectations (different "
                    "--set overrides or scenario files?)",
                    a->dir, b->dir);
            return -1;
        }
    }
    unsigned count = a->count;
    const struct shard_run **by_index = calloc(count, sizeof *by_index);
    if (!by_index) {
        set_err(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct shard_run *r = &runs[i];
        if (by_index[r->index]) {
            set_err(err, err_len,
                    "refusing to merge overlapping shards: %s and %s are both shard %u/%u%s",
                    by_index[r->index]->dir, r->dir, r->index, count,
                    strcmp(by_index[r->index]->dir, r->dir) == 0 ? " (the same directory twice)"
                                                                 : "");
            rc = -1;
        }
        by_index[r->index] = r;
    }
    if (rc == 0 && n < count) {
        char missing[128] = "", have[512] = "";
        size_t ml = 0, hl = 0, shown = 0;
        for (unsigned k = 0; k < count; k++) {
            if (by_index[k] && hl < sizeof have)
                hl += (size_t)snprintf(have + hl, sizeof have - hl, "%s%u from %s", hl ? ", " : "",
                                       k, by_index[k]->dir);
            else if (!by_index[k] && ml < sizeof missing && shown++ < 8)
                ml +=
                    (size_t)snprintf(missing + ml, sizeof missing - ml, "%s%u", ml ? ", " : "", k);
        }
        set_err(err, err_len,
                "refusing to merge an incomplete run: shard%s %s%s of %u missing (given: %s); "
                "merge needs every shard 0..%u exactly once",
                count - n > 1 ? "s" : "", missing, count - n > 8 ? ", ..." : "", count, have,
                count - 1);
        rc = -1;
    }
    free(by_index);
    return rc;
}

/* ---- events.csv of a shard ---- */

/* Reads the next row of s into s->row (s->has_row false at the end). */
static int shard_next(struct shard_run *s, char *err, size_t err_len)
{
    int rc = events_csv_next(s->events, &s->row, err, err_len);
    s->row_line = events_csv_line(s->events);
    if (rc < 0)
        return -1;
    s->has_row = rc > 0;
    if (rc == 0) {
        if (events_csv_cut_short(s->events))
            return set_err(err, err_len, "%s:%lu: the last line is incomplete (truncated file?)",
                           s->events_path, s->row_line);
        return 0;
    }
    const struct run_event *ev = &s->row.ev;
    if (ev->machine % s->count != s->index)
        return set_err(err, err_len,
                       "%s:%lu: machine %" PRIu32 " belongs to shard %u/%u, but %s is shard %u/%u",
                       s->events_path, s->row_line, ev->machine, ev->machine % s->count, s->count,
                       s->dir, s->index, s->count);
    s->rows++;
    return 0;
}

static int shard_open_events(struct shard_run *s, char *err, size_t err_len)
{
    s->events = events_csv_open(s->events_path, err, err_len);
    return s->events ? shard_next(s, err, err_len) : -1;
}

/* ---- the scenario the expectations are evaluated against ---- */

/* Fills sc from a summary when the scenario file is not available. */
static void scenario_from_summary(struct scenario *sc, const struct shard_run *s)
{
    memset(sc, 0, sizeof *sc);
    copy_text(sc->name, sizeof sc->name, s->name);
    copy_text(sc->path, sizeof sc->path, s->path ? s->path : "");
    copy_text(sc->description, sizeof sc->description, s->description ? s->description : "");
    sc->seed = s->seed;
    const char *key;
    json_t *v;
    json_object_foreach(s->pops, key, v)
    {
        if (sc->n_pops == SCENARIO_MAX_POPULATIONS)
            break;
        copy_text(sc->pops[sc->n_pops++].name, sizeof sc->pops[0].name, key);
    }
    size_t i;
    json_array_foreach(s->expects, i, v)
    {
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS)
            break;
        struct scenario_expectation *e = &sc->expects[sc->n_expects++];
        const char *text = jstring_at(v, "expectation");
        copy_text(e->text, sizeof e->text, text ? text : "");
        uint64_t line = 0;
        juint_at(v, "line", &line);
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
        const char *text = jstring_at(v, "expectation");
        if (!text || strcmp(text, sc->expects[i].text) != 0)
            return "its expectations differ from the runs' (--set overrides not repeated?)";
    }
    return NULL;
}

/*
 * Loads the scenario the runs name (or opt->scenario_path) for re-evaluation. Returns true when
 * it describes the runs; false with the reason in why (sc then comes from the summary).
 */
static bool merge_scenario(struct scenario *sc, const struct merge_options *opt,
                           const struct shard_run *s, char *why, size_t why_len)
{
    const char *path = opt->scenario_path ? opt->scenario_path : s->path;
    char installed[PATH_MAX];
    if (!path || !*path) {
        set_err(why, why_len, "the runs' summary.json names no scenario file");
        return false;
    }
    if (!opt->scenario_path)
        path = scenario_locate(path, installed, sizeof installed);
    char err[1024];
    if (scenario_load(sc, path, opt->overrides, opt->n_overrides, err, sizeof err)) {
        set_err(why, why_len, "the scenario file could not be used: %s", err);
        return false;
    }
    const char *mismatch = scenario_mismatch(sc, s);
    if (mismatch) {
        set_err(why, why_len, "the scenario file %s no longer describes the runs: %s", path,
                mismatch);
        return false;
    }
    sc->seed = s->seed;
    set_err(why, why_len, "re-evaluated on the merged events against %s", path);
    return true;
}

/* Each expectation's result: passed when every shard passed it; observed names the shards. */
static void combine_expectations(const struct scenario *sc, struct shard_run *runs, size_t n,
                                 struct expect_result *results)
{
    for (size_t i = 0; i < sc->n_expects; i++) {
        struct expect_result *r = &results[i];
        r->expectation = &sc->expects[i];
        r->passed = true;
        bool all_same = true;
        const char *first = NULL;
        for (size_t k = 0; k < n; k++) {
            json_t *e = json_array_get(runs[k].expects, i);
            const char *obs = jstring_at(e, "observed");
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
            const char *obs = jstring_at(e, "observed");
            int w = snprintf(r->observed + len, sizeof r->observed - len, "%sshard %u: %s",
                             k ? "; " : "", runs[k].index, obs ? obs : "");
            if (w < 0)
                break;
            len += (size_t)w;
        }
    }
}

/* ---- output ---- */

static int rename_into(const char *staging, const char *out_dir, const char *name, char *err,
                       size_t err_len)
{
    char from[PATH_MAX], to[PATH_MAX];
    if ((size_t)snprintf(from, sizeof from, "%s/%s", staging, name) >= sizeof from ||
        (size_t)snprintf(to, sizeof to, "%s/%s", out_dir, name) >= sizeof to) {
        set_err(err, err_len, "output directory name too long");
        return -1;
    }
    if (rename(from, to) != 0) {
        set_err(err, err_len, "cannot rename %s to %s: %s", from, to, strerror(errno));
        return -1;
    }
    return 0;
}

/* The staging directory and whatever is in it (only merge writes there). */
static void remove_staging(const char *staging)
{
    DIR *d = opendir(staging);
    struct dirent *de;
    char path[PATH_MAX];
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            (size_t)snprintf(path, sizeof path, "%s/%s", staging, de->d_name) < sizeof path)
            unlink(path);
    if (d)
        closedir(d);
    rmdir(staging);
}

/* A fresh staging directory inside out_dir (created if needed), unpredictably named. */
static int make_staging(const char *out_dir, char *staging, size_t cap, char *err, size_t err_len)
{
    if (run_dir_mkdir_p(out_dir, err, err_len) != 0)
        return -1;
    if ((size_t)snprintf(staging, cap, "%s/.kmsload-merge.XXXXXX", out_dir) >= cap) {
        staging[0] = '\0';
        return set_err(err, err_len, "output directory name too long");
    }
    if (!mkdtemp(staging)) {
        int e = errno;
        staging[0] = '\0';
        return set_err(err, err_len, "cannot create a staging directory in %s: %s", out_dir,
                       strerror(e));
    }
    return 0;
}

/* Adds the "merge" object to the staged summary.json (rewritten through a temporary file). */
static int patch_summary(const char *staging, struct shard_run *runs, size_t n,
                         const struct merge_result *res, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/summary.json", staging) >= sizeof path) {
        set_err(err, err_len, "output directory name too long");
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_PRESERVE_ORDER, &jerr);
    if (!root) {
        set_err(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
        return -1;
    }
    json_t *m = json_object();
    json_object_set_new(m, "shard_count", json_integer(runs[0].count));
    json_t *shards = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *js = json_object();
        json_object_set_new(js, "index", json_integer(runs[i].index));
        json_object_set_new(js, "dir", json_string(runs[i].dir));
        json_object_set_new(js, "requests", json_integer((json_int_t)runs[i].requests));
        json_t *t = json_object_get(runs[i].summary, "target");
        json_object_set(js, "target", t ? t : json_null());
        t = json_object_get(runs[i].summary, "started_at");
        json_object_set(js, "started_at", t ? t : json_null());
        t = json_object_get(runs[i].summary, "passed");
        json_object_set(js, "passed", t ? t : json_null());
        t = json_object_get(runs[i].summary, "interrupted");
        json_object_set(js, "interrupted", t ? t : json_null());
        json_array_append_new(shards, js);
    }
    json_object_set_new(m, "shards", shards);
    json_object_set_new(m, "events_order",
                        json_string("interleaved by simulated time, then wall time, then shard; "
                                    "seq renumbered; wall_s relative to the row's shard start; "
                                    "a row's shard is machine % shard_count"));
    json_object_set_new(m, "expectations",
                        json_string(res->reevaluated ? "re-evaluated" : "combined"));
    json_object_set_new(m, "expectations_note", json_string(res->expectations_note));
    json_object_set_new(root, "merge", m);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return set_err(err, err_len, "cannot build %s: out of memory", path);
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (with_nl) {
        text = with_nl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    int rc = atomic_file_write(path, text, len, 0666, err, err_len);
    free(text);
    return rc;
}

/* The target line of the merged summary: the shared target, or how many there were. */
static void merged_target(struct shard_run *runs, size_t n, char *out, size_t cap, bool *embedded)
{
    const char *first = jstring_at(runs[0].summary, "target");
    bool same = true;
    *embedded = true;
    for (size_t i = 0; i < n; i++) {
        if (!json_is_true(json_object_get(runs[i].summary, "embedded_host")))
            *embedded = false;
        if (!same_string(first, jstring_at(runs[i].summary, "target")))
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

static bool row_before(const struct events_row *a, unsigned ka, const struct events_row *b,
                       unsigned kb)
{
    if (a->ev.sim_us != b->ev.sim_us)
        return a->ev.sim_us < b->ev.sim_us;
    if (a->ev.wall_s != b->ev.wall_s)
        return a->ev.wall_s < b->ev.wall_s;
    return ka < kb;
}

static int cmp_shard(const void *a, const void *b)
{
    const struct shard_run *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

int merge_runs(const struct merge_options *opt, struct merge_result *res, char *err, size_t err_len)
{
    memset(res, 0, sizeof *res);
    if (opt->n_runs == 0) {
        set_err(err, err_len, "no run directories to merge");
        return -1;
    }
    if (opt->n_runs > MERGE_MAX_RUNS) {
        set_err(err, err_len, "at most %d run directories", MERGE_MAX_RUNS);
        return -1;
    }
    /* The output must not be one of the inputs: merging would overwrite what it reads. */
    char out_real[PATH_MAX], run_real[PATH_MAX];
    bool out_exists = realpath(opt->out_dir, out_real) != NULL;
    for (size_t i = 0; out_exists && i < opt->n_runs; i++) {
        if (realpath(opt->run_dirs[i], run_real) && strcmp(out_real, run_real) == 0) {
            set_err(err, err_len,
                    "the output directory %s is the run directory %s: merge into another one",
                    opt->out_dir, opt->run_dirs[i]);
            return -1;
        }
    }

    int rc = -1;
    struct shard_run *runs = calloc(opt->n_runs, sizeof *runs);
    struct scenario *sc = calloc(1, sizeof *sc);
    struct run_tally *tally = calloc(1, sizeof *tally);
    struct expect_result *results = calloc(SCENARIO_MAX_EXPECTATIONS, sizeof *results);
    char staging[PATH_MAX] = "";
    struct run_dir rec;
    bool rec_open = false;
    if (!runs || !sc || !tally || !results) {
        set_err(err, err_len, "out of memory");
        goto out;
    }
    size_t n = opt->n_runs;
    for (size_t i = 0; i < n; i++) {
        runs[i].dir = opt->run_dirs[i];
        if (shard_load_summary(&runs[i], err, err_len))
            goto out;
    }
    if (check_runs(runs, n, err, err_len))
        goto out;
    qsort(runs, n, sizeof *runs, cmp_shard);
    res->shards = (unsigned)n;

    res->reevaluated =
        merge_scenario(sc, opt, &runs[0], res->expectations_note, sizeof res->expectations_note);
    if (!res->reevaluated) {
        char why[sizeof res->expectations_note];
        snprintf(why, sizeof why, "%s", res->expectations_note);
        set_err(res->expectations_note, sizeof res->expectations_note,
                "expectations combined from the shards' results (each met only when every shard "
                "met it), not re-evaluated: %s",
                why);
        scenario_from_summary(sc, &runs[0]);
    }

    for (size_t i = 0; i < n; i++)
        if (shard_open_events(&runs[i], err, err_len))
            goto out;

    if (make_staging(opt->out_dir, staging, sizeof staging, err, err_len))
        goto out;
    if (run_dir_open(&rec, staging, err, err_len))
        goto out;
    rec_open = true;

    run_tally_init(tally, sc->n_pops);
    uint64_t seq = 0;
    for (;;) {
        struct shard_run *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (runs[i].has_row &&
                (!best || row_before(&runs[i].row, runs[i].index, &best->row, best->index)))
                best = &runs[i];
        if (!best)
            break;
        struct run_event *ev = &best->row.ev;
        ev->seq = ++seq;
        for (size_t p = 0; p < sc->n_pops; p++)
            if (strcmp(sc->pops[p].name, best->row.population) == 0)
                ev->population_index = (int)p;
        if (ev->population_index < 0) {
            set_err(err, err_len, "%s:%lu: population \"%s\" is not one of the scenario's",
                    best->events_path, best->row_line, best->row.population);
            goto out;
        }
        if (ev->model_checked && !ev->model_agrees && !best->mismatch_seen) {
            /* The model's reason is in the shard's summary, not in events.csv. */
            best->mismatch_seen = true;
            json_t *fm = json_object_get(json_object_get(best->summary, "model"), "first_mismatch");
            const char *reason = jstring_at(fm, "reason");
            copy_text(ev->model_reason, sizeof ev->model_reason, reason ? reason : "");
        }
        run_tally_add(tally, ev);
        if (run_dir_event(&rec, ev)) {
            set_err(err, err_len, "cannot write %s/events.csv: %s", staging, strerror(errno));
            goto out;
        }
        if (shard_next(best, err, err_len))
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (runs[i].rows != runs[i].requests) {
            set_err(err, err_len,
                    "%s holds %" PRIu64 " rows but %s counts %" PRIu64
                    " requests (truncated or mixed-up files?)",
                    runs[i].events_path, runs[i].rows, runs[i].summary_path, runs[i].requests);
            goto out;
        }
    }

    /* Machine states are not in events.csv: the shards' summaries hold them. */
    for (size_t p = 0; p < tally->n_pops; p++) {
        for (size_t i = 0; i < n; i++) {
            json_t *jp = json_object_get(runs[i].pops, sc->pops[p].name);
            uint64_t v;
            if (!juint_at(jp, "machines", &v))
                tally->pops[p].machines += (unsigned)v;
            if (!juint_at(jp, "activated_machines", &v))
                tally->pops[p].activated_machines += (unsigned)v;
        }
    }

    size_t failed = 0;
    if (res->reevaluated) {
        failed = expect_evaluate(sc, tally, results);
    } else {
        combine_expectations(sc, runs, n, results);
        for (size_t i = 0; i < sc->n_expects; i++)
            failed += !results[i].passed;
    }

    char target[600], started_at[64] = "", reason[256] = "";
    bool embedded;
    merged_target(runs, n, target, sizeof target, &embedded);
    struct engine_outcome eo = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *s = runs[i].summary;
        double wall = jreal_at(s, "wall_seconds"), sim = jreal_at(s, "simulated_seconds");
        if (wall > eo.wall_seconds)
            eo.wall_seconds = wall;
        if ((int64_t)llround(sim * 1e6) > eo.sim_us)
            eo.sim_us = llround(sim * 1e6);
        const char *st = jstring_at(s, "started_at");
        if (st && (!started_at[0] || strcmp(st, started_at) < 0))
            copy_text(started_at, sizeof started_at, st);
        if (json_is_true(json_object_get(s, "interrupted")) && !eo.interrupted) {
            const char *why = jstring_at(s, "interrupt_reason");
            eo.interrupted = true;
            snprintf(reason, sizeof reason, "shard %u: %s", runs[i].index,
                     why ? why : "interrupted");
            copy_text(eo.interrupt_reason, sizeof eo.interrupt_reason, reason);
        }
    }
    /* A request with an answer (any outcome but no connection / no answer) counts as answered. */
    eo.answered = tally->requests - tally->outcomes[KMS_OUTCOME_REFUSED] -
                  tally->outcomes[KMS_OUTCOME_TIMEOUT] - tally->outcomes[KMS_OUTCOME_RESET] -
                  tally->outcomes[KMS_OUTCOME_CLOSED];
    struct run_info info = {
        .scenario = sc,
        .target = target,
        .embedded_host = embedded,
        .seed = runs[0].seed,
        .shard_index = 0,
        .shard_count = 1,
        .started_at = started_at[0] ? started_at : NULL,
        .wall_seconds = eo.wall_seconds,
        .sim_us = eo.sim_us,
        .interrupted = eo.interrupted,
        .interrupt_reason = reason,
        .kmsload_version = KMSLOAD_VERSION,
    };
    rec_open = false;
    if (run_dir_finish(&rec, &info, tally, results, sc->n_expects, err, err_len))
        goto out;
    res->requests = tally->requests;
    res->expectations = sc->n_expects;
    res->expectations_failed = failed;
    res->interrupted = eo.interrupted;
    if (patch_summary(staging, runs, n, res, err, err_len))
        goto out;
    /* summary.json last: whoever sees it sees the complete set. */
    if (rename_into(staging, opt->out_dir, "events.csv", err, err_len) ||
        rename_into(staging, opt->out_dir, "junit.xml", err, err_len) ||
        rename_into(staging, opt->out_dir, "summary.json", err, err_len))
        goto out;
    if (opt->summary_md) {
        struct summary_md_run md = {
            .scenario = sc,
            .target = target,
            .seed = runs[0].seed,
            .shard_count = 1,
            .merged_shards = (unsigned)n,
            .note = res->reevaluated ? NULL : res->expectations_note,
            .outcome = &eo,
            .tally = tally,
            .results = results,
            .n_results = sc->n_expects,
        };
        char msg[1024];
        if (summary_md_write(opt->summary_md, &md, msg, sizeof msg)) {
            set_err(err, err_len, "--summary-md: %s", msg);
            goto out;
        }
    }
    rc = 0;
out:
    if (rec_open) {
        struct run_info aborted = {.scenario = sc,
                                   .target = "",
                                   .interrupted = true,
                                   .interrupt_reason = "merge failed",
                                   .kmsload_version = KMSLOAD_VERSION};
        char ignored[256];
        run_dir_finish(&rec, &aborted, tally, results, 0, ignored, sizeof ignored);
    }
    if (staging[0])
        remove_staging(staging);
    if (runs) {
        for (size_t i = 0; i < opt->n_runs; i++) {
            events_csv_close(runs[i].events);
            json_decref(runs[i].summary);
        }
    }
    free(results);
    free(tally);
    free(sc);
    free(runs);
    return rc;
}
