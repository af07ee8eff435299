/* Merging the run directories of a sharded run (see merge.h). */
#include "merge_shards.h"

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
#define MERGE_MAX_RUNS 4096

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
            return merge_set_err(err, err_len,
                                 "%s:%lu: the last line is incomplete (truncated file?)",
                                 s->events_path, s->row_line);
        return 0;
    }
    const struct run_event *ev = &s->row.ev;
    if (s->run_id && s->row.run_id[0] && strcmp(s->row.run_id, s->run_id) != 0)
        return merge_set_err(err, err_len,
                             "%s:%lu: a row of run %s, but %s is of run %s: files of different "
                             "runs (a reused --out directory?)",
                             s->events_path, s->row_line, s->row.run_id, s->summary_path,
                             s->run_id);
    if (ev->machine % s->count != s->index)
        return merge_set_err(err, err_len,
                             "%s:%lu: machine %" PRIu32
                             " belongs to shard %u/%u, but %s is shard %u/%u",
                             s->events_path, s->row_line, ev->machine, ev->machine % s->count,
                             s->count, s->dir, s->index, s->count);
    s->rows++;
    return 0;
}

static int shard_open_events(struct shard_run *s, char *err, size_t err_len)
{
    s->events = events_csv_open(s->events_path, err, err_len);
    return s->events ? shard_next(s, err, err_len) : -1;
}

/* ---- output ---- */

static int rename_into(const char *staging, const char *out_dir, const char *name, char *err,
                       size_t err_len)
{
    char from[PATH_MAX], to[PATH_MAX];
    if ((size_t)snprintf(from, sizeof from, "%s/%s", staging, name) >= sizeof from ||
        (size_t)snprintf(to, sizeof to, "%s/%s", out_dir, name) >= sizeof to) {
        merge_set_err(err, err_len, "output directory name too long");
        return -1;
    }
    if (rename(from, to) != 0) {
        merge_set_err(err, err_len, "cannot rename %s to %s: %s", from, to, strerror(errno));
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
        return merge_set_err(err, err_len, "output directory name too long");
    }
    if (!mkdtemp(staging)) {
        int e = errno;
        staging[0] = '\0';
        return merge_set_err(err, err_len, "cannot create a staging directory in %s: %s", out_dir,
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
        merge_set_err(err, err_len, "output directory name too long");
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_PRESERVE_ORDER, &jerr);
    if (!root) {
        merge_set_err(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
        return -1;
    }
    json_t *m = json_object();
    json_object_set_new(m, "shard_count", json_integer(runs[0].count));
    json_t *shards = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *js = json_object();
        json_object_set_new(js, "index", json_integer(runs[i].index));
        json_object_set_new(js, "dir", json_string(runs[i].dir));
        json_object_set_new(js, "run_id",
                            runs[i].run_id ? json_string(runs[i].run_id) : json_null());
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
        return merge_set_err(err, err_len, "cannot build %s: out of memory", path);
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

/* Everything one merge holds. */
struct merge_work {
    const struct merge_options *opt;
    struct merge_result *res;
    struct shard_run *runs;
    size_t n;
    struct scenario *sc;
    struct run_tally *tally;
    struct expect_result *results;
    size_t failed;
    char staging[PATH_MAX];
    struct run_dir rec;
    bool rec_open;
    char target[600], started_at[64], reason[256];
    bool embedded;
    struct engine_outcome eo;
};

/* The output must not be one of the inputs: merging would overwrite what it reads. */
static int check_output(const struct merge_options *opt, char *err, size_t err_len)
{
    if (opt->n_runs == 0)
        return merge_set_err(err, err_len, "no run directories to merge");
    if (opt->n_runs > MERGE_MAX_RUNS)
        return merge_set_err(err, err_len, "at most %d run directories", MERGE_MAX_RUNS);
    char out_real[PATH_MAX], run_real[PATH_MAX];
    if (!realpath(opt->out_dir, out_real))
        return 0;
    for (size_t i = 0; i < opt->n_runs; i++)
        if (realpath(opt->run_dirs[i], run_real) && strcmp(out_real, run_real) == 0)
            return merge_set_err(
                err, err_len,
                "the output directory %s is the run directory %s: merge into another one",
                opt->out_dir, opt->run_dirs[i]);
    return 0;
}

/* The shards' summaries checked, in shard order; the scenario; every events.csv opened. */
static int load_shards(struct merge_work *w, char *err, size_t err_len)
{
    struct merge_result *res = w->res;
    for (size_t i = 0; i < w->n; i++) {
        w->runs[i].dir = w->opt->run_dirs[i];
        if (merge_load_summary(&w->runs[i], err, err_len))
            return -1;
    }
    if (merge_check_runs(w->runs, w->n, err, err_len))
        return -1;
    qsort(w->runs, w->n, sizeof *w->runs, cmp_shard);
    res->shards = (unsigned)w->n;
    res->reevaluated = merge_scenario(w->sc, w->opt, &w->runs[0], res->expectations_note,
                                      sizeof res->expectations_note);
    if (!res->reevaluated) {
        char why[sizeof res->expectations_note];
        snprintf(why, sizeof why, "%s", res->expectations_note);
        merge_set_err(res->expectations_note, sizeof res->expectations_note,
                      "expectations combined from the shards' results (each met only when every "
                      "shard met it), not re-evaluated: %s",
                      why);
        merge_scenario_from_summary(w->sc, &w->runs[0]);
    }
    for (size_t i = 0; i < w->n; i++)
        if (shard_open_events(&w->runs[i], err, err_len))
            return -1;
    return 0;
}

/* The row of best, renumbered and placed in its population, with the model's reason. */
static int prepare_row(struct merge_work *w, struct shard_run *best, uint64_t seq, char *err,
                       size_t err_len)
{
    struct run_event *ev = &best->row.ev;
    ev->seq = seq;
    for (size_t p = 0; p < w->sc->n_pops; p++)
        if (strcmp(w->sc->pops[p].name, best->row.population) == 0)
            ev->population_index = (int)p;
    if (ev->population_index < 0)
        return merge_set_err(err, err_len, "%s:%lu: population \"%s\" is not one of the scenario's",
                             best->events_path, best->row_line, best->row.population);
    if (ev->model_checked && !ev->model_agrees && !best->mismatch_seen) {
        /* The model's reason is in the shard's summary, not in events.csv. */
        best->mismatch_seen = true;
        json_t *fm = json_object_get(json_object_get(best->summary, "model"), "first_mismatch");
        const char *reason = merge_jstring(fm, "reason");
        merge_copy_text(ev->model_reason, sizeof ev->model_reason, reason ? reason : "");
    }
    return 0;
}

/* The k-way merge: the shards' rows interleaved by simulated time into the staged events.csv. */
static int merge_events(struct merge_work *w, char *err, size_t err_len)
{
    if (make_staging(w->opt->out_dir, w->staging, sizeof w->staging, err, err_len) ||
        run_dir_open(&w->rec, w->staging, err, err_len))
        return -1;
    w->rec_open = true;
    run_tally_init(w->tally, w->sc->n_pops);
    for (uint64_t seq = 1;; seq++) {
        struct shard_run *best = NULL;
        for (size_t i = 0; i < w->n; i++)
            if (w->runs[i].has_row &&
                (!best || row_before(&w->runs[i].row, w->runs[i].index, &best->row, best->index)))
                best = &w->runs[i];
        if (!best)
            break;
        if (prepare_row(w, best, seq, err, err_len))
            return -1;
        run_tally_add(w->tally, &best->row.ev);
        if (run_dir_event(&w->rec, &best->row.ev))
            return merge_set_err(err, err_len, "cannot write %s/events.csv: %s", w->staging,
                                 strerror(errno));
        if (shard_next(best, err, err_len))
            return -1;
    }
    for (size_t i = 0; i < w->n; i++)
        if (w->runs[i].rows != w->runs[i].requests)
            return merge_set_err(err, err_len,
                                 "%s holds %" PRIu64 " rows but %s counts %" PRIu64
                                 " requests (truncated or mixed-up files?)",
                                 w->runs[i].events_path, w->runs[i].rows, w->runs[i].summary_path,
                                 w->runs[i].requests);
    return 0;
}

/* Machine states are not in events.csv: the shards' summaries hold them. Then the verdicts. */
static void merge_totals(struct merge_work *w)
{
    for (size_t p = 0; p < w->tally->n_pops; p++) {
        for (size_t i = 0; i < w->n; i++) {
            json_t *jp = json_object_get(w->runs[i].pops, w->sc->pops[p].name);
            uint64_t v;
            if (!merge_juint(jp, "machines", &v))
                w->tally->pops[p].machines += (unsigned)v;
            if (!merge_juint(jp, "activated_machines", &v))
                w->tally->pops[p].activated_machines += (unsigned)v;
            if (!merge_juint(jp, "ever_activated_machines", &v))
                w->tally->pops[p].ever_activated_machines += (unsigned)v;
        }
    }
    if (w->res->reevaluated) {
        w->failed = expect_evaluate(w->sc, w->tally, w->results);
    } else {
        merge_combine_expectations(w->sc, w->runs, w->n, w->results);
        for (size_t i = 0; i < w->sc->n_expects; i++)
            w->failed += !w->results[i].passed;
    }
}

/* The merged run's times, start and interruption from the shards' summaries. */
static void merge_outcome(struct merge_work *w)
{
    struct engine_outcome *eo = &w->eo;
    merge_target(w->runs, w->n, w->target, sizeof w->target, &w->embedded);
    for (size_t i = 0; i < w->n; i++) {
        json_t *s = w->runs[i].summary;
        double wall = merge_jreal(s, "wall_seconds"), sim = merge_jreal(s, "simulated_seconds");
        if (wall > eo->wall_seconds)
            eo->wall_seconds = wall;
        if ((int64_t)llround(sim * 1e6) > eo->sim_us)
            eo->sim_us = llround(sim * 1e6);
        const char *st = merge_jstring(s, "started_at");
        if (st && (!w->started_at[0] || strcmp(st, w->started_at) < 0))
            merge_copy_text(w->started_at, sizeof w->started_at, st);
        if (json_is_true(json_object_get(s, "interrupted")) && !eo->interrupted) {
            const char *why = merge_jstring(s, "interrupt_reason");
            eo->interrupted = true;
            snprintf(w->reason, sizeof w->reason, "shard %u: %s", w->runs[i].index,
                     why ? why : "interrupted");
            merge_copy_text(eo->interrupt_reason, sizeof eo->interrupt_reason, w->reason);
        }
    }
    /* A request with an answer (any outcome but no connection / no answer) counts as answered. */
    const struct run_tally *t = w->tally;
    eo->answered = t->requests;
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (kms_outcome_no_answer((enum kms_outcome)o))
            eo->answered -= t->outcomes[o];
}

static int write_summary_md(struct merge_work *w, char *err, size_t err_len)
{
    struct summary_md_run md = {
        .scenario = w->sc,
        .target = w->target,
        .seed = w->runs[0].seed,
        .shard_count = 1,
        .merged_shards = (unsigned)w->n,
        .note = w->res->reevaluated ? NULL : w->res->expectations_note,
        .outcome = &w->eo,
        .tally = w->tally,
        .results = w->results,
        .n_results = w->sc->n_expects,
    };
    char msg[1024];
    if (summary_md_write(w->opt->summary_md, &md, msg, sizeof msg))
        return merge_set_err(err, err_len, "--summary-md: %s", msg);
    return 0;
}

/* summary.json and junit.xml staged, then every file renamed into OUT_DIR, summary.json last. */
static int merge_write(struct merge_work *w, char *err, size_t err_len)
{
    struct run_info info = {
        .scenario = w->sc,
        .target = w->target,
        .embedded_host = w->embedded,
        .seed = w->runs[0].seed,
        .shard_index = 0,
        .shard_count = 1,
        .started_at = w->started_at[0] ? w->started_at : NULL,
        .wall_seconds = w->eo.wall_seconds,
        .sim_us = w->eo.sim_us,
        .interrupted = w->eo.interrupted,
        .interrupt_reason = w->reason,
        .kmsload_version = KMSLOAD_VERSION,
    };
    w->rec_open = false;
    if (run_dir_finish(&w->rec, &info, w->tally, w->results, w->sc->n_expects, err, err_len))
        return -1;
    w->res->requests = w->tally->requests;
    w->res->expectations = w->sc->n_expects;
    w->res->expectations_failed = w->failed;
    w->res->interrupted = w->eo.interrupted;
    if (patch_summary(w->staging, w->runs, w->n, w->res, err, err_len))
        return -1;
    /* An earlier run's files in OUT_DIR (index.html, charts/...) must not pass for this one's. */
    if (run_dir_move_previous(w->opt->out_dir, w->res->previous, sizeof w->res->previous, err,
                              err_len))
        return -1;
    /* summary.json last: whoever sees it sees the complete set. */
    if (rename_into(w->staging, w->opt->out_dir, "events.csv", err, err_len) ||
        rename_into(w->staging, w->opt->out_dir, "junit.xml", err, err_len) ||
        rename_into(w->staging, w->opt->out_dir, "summary.json", err, err_len))
        return -1;
    return w->opt->summary_md ? write_summary_md(w, err, err_len) : 0;
}

static void merge_release(struct merge_work *w)
{
    if (w->rec_open) {
        struct run_info aborted = {.scenario = w->sc,
                                   .target = "",
                                   .interrupted = true,
                                   .interrupt_reason = "merge failed",
                                   .kmsload_version = KMSLOAD_VERSION};
        char ignored[256];
        run_dir_finish(&w->rec, &aborted, w->tally, w->results, 0, ignored, sizeof ignored);
    }
    if (w->staging[0])
        remove_staging(w->staging);
    for (size_t i = 0; w->runs && i < w->n; i++) {
        events_csv_close(w->runs[i].events);
        json_decref(w->runs[i].summary);
    }
    free(w->results);
    free(w->tally);
    free(w->sc);
    free(w->runs);
}

int merge_runs(const struct merge_options *opt, struct merge_result *res, char *err, size_t err_len)
{
    memset(res, 0, sizeof *res);
    if (check_output(opt, err, err_len))
        return -1;
    struct merge_work *w = calloc(1, sizeof *w);
    if (!w)
        return merge_set_err(err, err_len, "out of memory");
    w->opt = opt;
    w->res = res;
    w->n = opt->n_runs;
    w->runs = calloc(opt->n_runs, sizeof *w->runs);
    w->sc = calloc(1, sizeof *w->sc);
    w->tally = calloc(1, sizeof *w->tally);
    w->results = calloc(SCENARIO_MAX_EXPECTATIONS, sizeof *w->results);
    int rc = -1;
    if (!w->runs || !w->sc || !w->tally || !w->results)
        merge_set_err(err, err_len, "out of memory");
    else if (load_shards(w, err, err_len) == 0 && merge_events(w, err, err_len) == 0) {
        merge_totals(w);
        merge_outcome(w);
        rc = merge_write(w, err, err_len);
    }
    merge_release(w);
    free(w);
    return rc;
}
