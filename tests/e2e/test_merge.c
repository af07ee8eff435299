/*
 * Sharded runs and `kmsload merge`: shard arithmetic (disjoint machine ids and CMIDs whose union
 * is the whole fleet), a scenario run whole and as shards 0/2 + 1/2 through the real program and
 * merged (requests, outcomes and CMIDs add up), the refusals (seeds, scenarios, overlapping and
 * missing shards, malformed files) with their messages, `--shard auto/N` from
 * JOB_COMPLETION_INDEX, and the Markdown summary.
 */
#include "catalog.h"
#include "events_csv.h"
#include "fleet.h"
#include "merge.h"
#include "run_tally.h"
#include "scenario.h"
#include "summary_md.h"

#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif
#ifndef KMSLOAD_SOURCE_DIR
#error "KMSLOAD_SOURCE_DIR must name the source tree"
#endif

#define SMOKE KMSLOAD_SOURCE_DIR "/scenarios/smoke.ini"
#define TM_MAX_ROWS 4096

static struct support_scratch tm;

static void tm_init(void)
{
    support_scratch_init(&tm, "merge");
}

static void tm_fini(void)
{
    support_scratch_fini(&tm);
}

TestSuite(merge, .init = tm_init, .fini = tm_fini, .timeout = 60);

static void tm_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tm.dir, name);
}

static char *tm_slurp(const char *path)
{
    return support_slurp(path, NULL);
}

/*
 * Runs the program with args (NULL-terminated) and JOB_COMPLETION_INDEX set to job_index (NULL:
 * unset); its standard error in *err when err is not NULL (caller frees). Returns the exit status.
 */
static int tm_exec(char **err, const char *job_index, const char *const *args)
{
    char job[64];
    snprintf(job, sizeof job, "JOB_COMPLETION_INDEX=%s", job_index ? job_index : "");
    const char *env[] = {job_index ? job : "JOB_COMPLETION_INDEX", NULL};
    tm.env = env;
    struct support_result r = support_run(&tm, 120000, 0, args);
    tm.env = NULL;
    cr_assert_geq(r.status, 0, "kmsload did not exit normally");
    if (err) {
        *err = r.err;
        r.err = NULL;
    }
    support_result_free(&r);
    return r.status;
}

/* kmsload run SCENARIO --out DIR -q [more...]: asserts the exit status is one of 0 and 1. */
static void tm_run(const char *scenario, const char *out, const char *const *more)
{
    const char *args[24] = {"run", scenario, "--out", out, "-q"};
    size_t n = 5;
    for (size_t i = 0; more && more[i]; i++)
        args[n++] = more[i];
    args[n] = NULL;
    char *msg;
    int rc = tm_exec(&msg, NULL, args);
    cr_assert(rc == 0 || rc == 1, "kmsload run %s --out %s: exit %d: %s", scenario, out, rc, msg);
    free(msg);
}

static json_t *tm_summary(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    cr_assert_not_null(j, "%s:%d: %s", path, jerr.line, jerr.text);
    return j;
}

static json_int_t tm_int(json_t *root, const char *a, const char *b)
{
    json_t *v = json_object_get(root, a);
    if (b)
        v = json_object_get(v, b);
    cr_assert(json_is_integer(v), "summary.json: %s%s%s is not an integer", a, b ? "." : "",
              b ? b : "");
    return json_integer_value(v);
}

/* The events of a run directory: machine, CMID and outcome per row, in file order. */
struct tm_rows {
    size_t n;
    unsigned long seq[TM_MAX_ROWS];
    double sim_s[TM_MAX_ROWS];
    unsigned long machine[TM_MAX_ROWS];
    char cmid[TM_MAX_ROWS][40];
};

/* events.csv of a run, through the run directory's reader. */
static void tm_rows_load(struct tm_rows *r, const char *dir)
{
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    struct events_csv_reader *rd = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(rd, "%s", err);
    static struct events_row row;
    r->n = 0;
    int got;
    while ((got = events_csv_next(rd, &row, err, sizeof err)) > 0) {
        cr_assert_lt(r->n, TM_MAX_ROWS);
        r->seq[r->n] = (unsigned long)row.ev.seq;
        r->sim_s[r->n] = (double)row.ev.sim_us / 1e6;
        r->machine[r->n] = row.ev.machine;
        guid_format(&row.ev.cmid, r->cmid[r->n]);
        r->n++;
    }
    cr_assert_eq(got, 0, "%s", err);
    cr_assert_not(events_csv_cut_short(rd));
    events_csv_close(rd);
}

static int tm_cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Distinct CMIDs of rows, sorted, into out (capacity TM_MAX_ROWS); returns how many. */
static size_t tm_cmid_set(const struct tm_rows *r, char (*out)[40])
{
    for (size_t i = 0; i < r->n; i++)
        memcpy(out[i], r->cmid[i], sizeof out[0]);
    qsort(out, r->n, sizeof out[0], tm_cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (k == 0 || strcmp(out[k - 1], out[i]) != 0)
            memcpy(out[k++], out[i], sizeof out[0]);
    return k;
}

/* ---- shard arithmetic, in process ---- */

Test(merge, shards_are_disjoint_and_cover_the_fleet)
{
    struct catalog cat;
    char err[512];
    cr_assert_eq(catalog_parse(&cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
    struct scenario *sc = calloc(1, sizeof *sc);
    const char *more[] = {"population clients.machines=300", "population office.machines=77"};
    cr_assert_eq(scenario_load(sc, SMOKE, more, 2, err, sizeof err), 0, "%s", err);
    struct fleet whole, parts[3];
    cr_assert_eq(fleet_build(&whole, sc, &cat, 0, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(whole.n, 300 + 2 + 77);
    unsigned char *owner = calloc(whole.n, 1);
    size_t total = 0;
    for (unsigned k = 0; k < 3; k++) {
        cr_assert_eq(fleet_build(&parts[k], sc, &cat, k, 3, err, sizeof err), 0, "%s", err);
        total += parts[k].n;
        for (size_t i = 0; i < parts[k].n; i++) {
            const struct machine *m = &parts[k].machines[i];
            cr_assert_lt(m->id, whole.n);
            cr_assert_eq(m->id % 3, k, "machine %u in shard %u/3", m->id, k);
            cr_assert_eq(owner[m->id], 0, "machine %u in two shards", m->id);
            owner[m->id] = (unsigned char)(k + 1);
            /* The same machine has the same CMID in the shard as in the whole fleet. */
            const struct machine *w = NULL;
            for (size_t j = 0; j < whole.n && !w; j++)
                if (whole.machines[j].id == m->id)
                    w = &whole.machines[j];
            cr_assert_not_null(w);
            cr_assert(guid_equal(&w->cmid, &m->cmid), "machine %u: CMID differs", m->id);
        }
    }
    cr_assert_eq(total, whole.n, "shards hold %zu machines, the fleet %zu", total, whole.n);
    /* No CMID (there are no clones in smoke) appears in two shards. */
    for (unsigned a = 0; a < 3; a++)
        for (unsigned b = a + 1; b < 3; b++)
            for (size_t i = 0; i < parts[a].n; i++)
                for (size_t j = 0; j < parts[b].n; j++)
                    cr_assert(!guid_equal(&parts[a].machines[i].cmid, &parts[b].machines[j].cmid),
                              "shards %u and %u share a CMID", a, b);
    for (unsigned k = 0; k < 3; k++)
        fleet_free(&parts[k]);
    fleet_free(&whole);
    free(owner);
    free(sc);
    catalog_free(&cat);
}

/* ---- whole run versus shards, through the program ---- */

/*
 * Each shard runs against its own embedded host, which counts only that shard's machines; with
 * N_Policy 1 every machine activates at its first contact whatever the count, so what a machine
 * does no longer depends on the others and the shards must add up to the whole run exactly.
 */
static const char *const independent[] = {
    "--set", "population clients.n_policy=1", "--set", "population servers.n_policy=1",
    "--set", "population office.n_policy=1",  NULL,
};

Test(merge, shards_add_up_to_the_whole_run)
{
    char whole[256], s0[256], s1[256], merged[256];
    tm_path(whole, sizeof whole, "whole");
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(merged, sizeof merged, "merged");
    tm_run(SMOKE, whole, independent);
    const char *shard0[16] = {"--shard", "0/2"}, *shard1[16] = {"--shard", "1/2"};
    for (size_t i = 0; independent[i]; i++)
        shard0[2 + i] = shard1[2 + i] = independent[i];
    tm_run(SMOKE, s0, shard0);
    tm_run(SMOKE, s1, shard1);
    const char *margs[] = {"merge", merged,
                           s0,      s1,
                           "--set", "population clients.n_policy=1",
                           "--set", "population servers.n_policy=1",
                           "--set", "population office.n_policy=1",
                           NULL};
    char *msg;
    int rc = tm_exec(&msg, NULL, margs);
    cr_assert(rc == 0 || rc == 1, "merge: exit %d: %s", rc, msg);
    free(msg);

    json_t *jw = tm_summary(whole), *j0 = tm_summary(s0), *j1 = tm_summary(s1);
    json_t *jm = tm_summary(merged);
    cr_assert_eq(tm_int(j0, "shard", "index"), 0);
    cr_assert_eq(tm_int(j1, "shard", "index"), 1);
    cr_assert_eq(tm_int(j1, "shard", "count"), 2);
    json_int_t requests = tm_int(jw, "requests", NULL);
    cr_assert_gt(requests, 0);
    cr_assert_eq(tm_int(j0, "requests", NULL) + tm_int(j1, "requests", NULL), requests);
    cr_assert_eq(tm_int(jm, "requests", NULL), requests);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(jw, "outcomes"), key, v)
    {
        cr_assert_eq(tm_int(jm, "outcomes", key), json_integer_value(v), "outcome %s", key);
        cr_assert_eq(tm_int(j0, "outcomes", key) + tm_int(j1, "outcomes", key),
                     json_integer_value(v), "outcome %s", key);
    }
    cr_assert_eq(tm_int(jm, "latency_us", "count"), tm_int(jw, "latency_us", "count"));
    json_object_foreach(json_object_get(jw, "populations"), key, v)
    {
        json_t *mp = json_object_get(json_object_get(jm, "populations"), key);
        cr_assert_eq(json_integer_value(json_object_get(mp, "machines")),
                     json_integer_value(json_object_get(v, "machines")), "population %s", key);
        cr_assert_eq(json_integer_value(json_object_get(mp, "activated_machines")),
                     json_integer_value(json_object_get(v, "activated_machines")));
    }
    json_t *m = json_object_get(jm, "merge");
    cr_assert_str_eq(json_string_value(json_object_get(m, "expectations")), "re-evaluated");
    cr_assert_eq(json_array_size(json_object_get(m, "shards")), 2);
    cr_assert_eq(tm_int(jm, "shard", "count"), 1);
    cr_assert_eq(json_array_size(json_object_get(jm, "expectations")),
                 json_array_size(json_object_get(jw, "expectations")));

    /* Rows: renumbered, in simulated time, each in its shard; CMIDs disjoint, union = whole. */
    static struct tm_rows rw, r0, r1, rm;
    static char cw[TM_MAX_ROWS][40], c0[TM_MAX_ROWS][40], c1[TM_MAX_ROWS][40], cm[TM_MAX_ROWS][40];
    tm_rows_load(&rw, whole);
    tm_rows_load(&r0, s0);
    tm_rows_load(&r1, s1);
    tm_rows_load(&rm, merged);
    cr_assert_eq(rm.n, (size_t)requests);
    for (size_t i = 0; i < rm.n; i++) {
        cr_assert_eq(rm.seq[i], i + 1);
        if (i > 0)
            cr_assert_geq(rm.sim_s[i], rm.sim_s[i - 1], "row %zu goes back in time", i + 1);
    }
    for (size_t i = 0; i < r0.n; i++)
        cr_assert_eq(r0.machine[i] % 2, 0);
    for (size_t i = 0; i < r1.n; i++)
        cr_assert_eq(r1.machine[i] % 2, 1);
    size_t nw = tm_cmid_set(&rw, cw), n0 = tm_cmid_set(&r0, c0), n1 = tm_cmid_set(&r1, c1);
    size_t nm = tm_cmid_set(&rm, cm);
    cr_assert_eq(n0 + n1, nw, "shards have %zu + %zu CMIDs, the whole run %zu", n0, n1, nw);
    cr_assert_eq(nm, nw);
    for (size_t i = 0; i < nw; i++)
        cr_assert_str_eq(cm[i], cw[i]);
    for (size_t i = 0; i < n0; i++)
        cr_assert_null(bsearch(c0[i], c1, n1, sizeof c1[0], tm_cmp_str), "CMID %s in both", c0[i]);
    json_decref(jw);
    json_decref(j0);
    json_decref(j1);
    json_decref(jm);
}

/* Unchanged smoke: counts differ per shard host, but the CMIDs still partition the fleet. */
Test(merge, cmids_partition_the_fleet_in_the_plain_scenario)
{
    char whole[256], s0[256], s1[256], merged[256];
    tm_path(whole, sizeof whole, "whole");
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(merged, sizeof merged, "merged");
    const char *sh0[] = {"--shard", "0/2", NULL}, *sh1[] = {"--shard", "1/2", NULL};
    tm_run(SMOKE, whole, NULL);
    tm_run(SMOKE, s0, sh0);
    tm_run(SMOKE, s1, sh1);
    const char *margs[] = {"merge", "-q", merged, s1, s0, NULL};
    int rc = tm_exec(NULL, NULL, margs);
    cr_assert(rc == 0 || rc == 1, "merge: exit %d", rc);
    static struct tm_rows rw, rm;
    static char cw[TM_MAX_ROWS][40], cm[TM_MAX_ROWS][40];
    tm_rows_load(&rw, whole);
    tm_rows_load(&rm, merged);
    size_t nw = tm_cmid_set(&rw, cw), nm = tm_cmid_set(&rm, cm);
    cr_assert_eq(nm, nw);
    for (size_t i = 0; i < nw; i++)
        cr_assert_str_eq(cm[i], cw[i]);
    json_t *j0 = tm_summary(s0), *j1 = tm_summary(s1), *jm = tm_summary(merged);
    cr_assert_eq(tm_int(jm, "requests", NULL),
                 tm_int(j0, "requests", NULL) + tm_int(j1, "requests", NULL));
    json_decref(j0);
    json_decref(j1);
    json_decref(jm);
}

/* ---- refusals ---- */

static int tm_merge(const char *out, const char *const *runs, size_t n, char *err, size_t cap)
{
    struct merge_options opt = {.out_dir = out, .run_dirs = runs, .n_runs = n};
    struct merge_result res;
    return merge_runs(&opt, &res, err, cap);
}

static void tm_assert_contains(const char *text, const char *part)
{
    cr_assert_not_null(strstr(text, part), "\"%s\" does not say \"%s\"", text, part);
}

static void tm_assert_no_output(const char *out)
{
    struct stat st;
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", out);
    cr_assert_neq(stat(path, &st), 0, "%s was written", path);
    snprintf(path, sizeof path, "%s/events.csv", out);
    cr_assert_neq(stat(path, &st), 0, "%s was written", path);
}

Test(merge, refuses_different_seeds_scenarios_and_overlaps)
{
    char s0[256], s1[256], seed2[256], other[256], third[256], out[256], ini[256];
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(seed2, sizeof seed2, "seed2");
    tm_path(other, sizeof other, "other");
    tm_path(third, sizeof third, "third");
    tm_path(out, sizeof out, "out");
    tm_path(ini, sizeof ini, "other.ini");
    const char *sh0[] = {"--shard", "0/2", NULL}, *sh1[] = {"--shard", "1/2", NULL};
    const char *sh1seed[] = {"--shard", "1/2", "--seed", "2", NULL};
    const char *sh1of3[] = {"--shard", "1/3", NULL};
    tm_run(SMOKE, s0, sh0);
    tm_run(SMOKE, s1, sh1);
    tm_run(SMOKE, seed2, sh1seed);
    tm_run(SMOKE, third, sh1of3);
    support_write_file(ini, "[scenario]\nname = other\nclock = virtual\nduration = 1d\n"
                            "[population clients]\nproduct = win10-pro\nmachines = 4\n");
    tm_run(ini, other, sh1);
    char err[2048];

    const char *seeds[] = {s0, seed2};
    cr_assert_eq(tm_merge(out, seeds, 2, err, sizeof err), -1);
    tm_assert_contains(err, "different seeds");
    tm_assert_contains(err, s0);
    tm_assert_contains(err, seed2);
    tm_assert_no_output(out);

    const char *scenarios[] = {s0, other};
    cr_assert_eq(tm_merge(out, scenarios, 2, err, sizeof err), -1);
    tm_assert_contains(err, "different scenarios");
    tm_assert_contains(err, "\"smoke\"");
    tm_assert_contains(err, "\"other\"");
    tm_assert_contains(err, other);

    const char *twice[] = {s0, s1, s0};
    cr_assert_eq(tm_merge(out, twice, 3, err, sizeof err), -1);
    tm_assert_contains(err, "overlapping shards");
    tm_assert_contains(err, "both shard 0/2");

    const char *splits[] = {s0, third};
    cr_assert_eq(tm_merge(out, splits, 2, err, sizeof err), -1);
    tm_assert_contains(err, "overlapping shards");
    tm_assert_contains(err, "shard 1/3");

    const char *partial[] = {s1};
    cr_assert_eq(tm_merge(out, partial, 1, err, sizeof err), -1);
    tm_assert_contains(err, "incomplete");
    tm_assert_contains(err, "shard 0 of 2 missing");

    const char *into_input[] = {s0, s1};
    cr_assert_eq(tm_merge(s0, into_input, 2, err, sizeof err), -1);
    tm_assert_contains(err, "is the run directory");
    tm_assert_no_output(out);

    /* The program says the same and exits 2. */
    const char *args[] = {"merge", out, s0, seed2, NULL};
    char *msg;
    cr_assert_eq(tm_exec(&msg, NULL, args), 2);
    tm_assert_contains(msg, "kmsload merge: refusing to merge runs with different seeds");
    free(msg);
}

/* Copies DIR/name to another run directory, through edit (NULL: as is). */
static void tm_copy_run(const char *from, const char *to)
{
    cr_assert_eq(mkdir(to, 0777), 0);
    static const char *const names[] = {"events.csv", "summary.json", "junit.xml"};
    for (size_t i = 0; i < 3; i++) {
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/%s", from, names[i]);
        snprintf(b, sizeof b, "%s/%s", to, names[i]);
        char *text = tm_slurp(a);
        cr_assert_not_null(text, "no %s", a);
        support_write_file(b, text);
        free(text);
    }
}

Test(merge, malformed_inputs_name_file_and_line)
{
    char s0[256], s1[256], bad[256], out[256], path[512];
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(out, sizeof out, "out");
    const char *sh0[] = {"--shard", "0/2", NULL}, *sh1[] = {"--shard", "1/2", NULL};
    tm_run(SMOKE, s0, sh0);
    tm_run(SMOKE, s1, sh1);
    char err[2048];
    const char *runs[] = {s0, bad};

    /* A truncated events.csv: the last line stops in the middle. */
    tm_path(bad, sizeof bad, "truncated");
    tm_copy_run(s1, bad);
    snprintf(path, sizeof path, "%s/events.csv", bad);
    char *text = tm_slurp(path);
    size_t len = strlen(text);
    cr_assert_gt(len, 40);
    text[len - 25] = '\0';
    support_write_file(path, text);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    free(text);
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    char where[600];
    snprintf(where, sizeof where, "%s:%zu:", path, lines + 1);
    tm_assert_contains(err, where);
    tm_assert_contains(err, "truncated");
    tm_assert_no_output(out);

    /* Whole lines missing: the row count disagrees with the summary. */
    tm_path(bad, sizeof bad, "short");
    tm_copy_run(s1, bad);
    snprintf(path, sizeof path, "%s/events.csv", bad);
    text = tm_slurp(path);
    char *cut = text;
    for (int i = 0; i < 4; i++)
        cut = strchr(cut, '\n') + 1;
    *cut = '\0';
    support_write_file(path, text);
    free(text);
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    tm_assert_contains(err, "holds 3 rows");
    tm_assert_contains(err, "summary.json counts");

    /* A value that is not one. */
    tm_path(bad, sizeof bad, "value");
    tm_copy_run(s1, bad);
    snprintf(path, sizeof path, "%s/events.csv", bad);
    text = tm_slurp(path);
    char *row3 = strchr(strchr(strchr(text, '\n') + 1, '\n') + 1, '\n') + 1;
    char *outcome = strstr(row3, "below-threshold");
    cr_assert_not_null(outcome);
    memcpy(outcome, "below-thresholt", 15);
    support_write_file(path, text);
    free(text);
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    snprintf(where, sizeof where, "%s:4: column outcome", path);
    tm_assert_contains(err, where);

    /* A summary that is not JSON. */
    tm_path(bad, sizeof bad, "json");
    tm_copy_run(s1, bad);
    snprintf(path, sizeof path, "%s/summary.json", bad);
    support_write_file(path, "{\n  \"scenario\": {\"name\": \"smoke\",\n  oops\n}\n");
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    snprintf(where, sizeof where, "%s:3:", path);
    tm_assert_contains(err, where);
    tm_assert_contains(err, "not valid JSON");

    /* JSON, but not a run summary. */
    support_write_file(path, "{\"hello\": 1}\n");
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    tm_assert_contains(err, path);
    tm_assert_contains(err, "not a kmsload run summary");

    /* A row of another shard. */
    tm_path(bad, sizeof bad, "wrong-shard");
    tm_copy_run(s0, bad);
    snprintf(path, sizeof path, "%s/summary.json", bad);
    text = tm_slurp(path);
    char *index = strstr(text, "\"index\": 0");
    cr_assert_not_null(index);
    index[9] = '1';
    support_write_file(path, text);
    free(text);
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    tm_assert_contains(err, "belongs to shard 0/2");
    tm_assert_no_output(out);
}

Test(merge, unreadable_scenario_combines_shard_expectations)
{
    char s0[256], s1[256], out[256], ini[256], md[256];
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(out, sizeof out, "out");
    tm_path(ini, sizeof ini, "copy.ini");
    tm_path(md, sizeof md, "merged.md");
    char *text = tm_slurp(SMOKE);
    support_write_file(ini, text);
    free(text);
    const char *sh0[] = {"--shard", "0/2", NULL}, *sh1[] = {"--shard", "1/2", NULL};
    tm_run(ini, s0, sh0);
    tm_run(ini, s1, sh1);
    cr_assert_eq(unlink(ini), 0);
    const char *runs[] = {s0, s1};
    struct merge_options opt = {.out_dir = out, .run_dirs = runs, .n_runs = 2, .summary_md = md};
    struct merge_result res;
    char err[2048];
    cr_assert_eq(merge_runs(&opt, &res, err, sizeof err), 0, "%s", err);
    cr_assert_not(res.reevaluated);
    tm_assert_contains(res.expectations_note, "combined");
    tm_assert_contains(res.expectations_note, ini);
    json_t *jm = tm_summary(out);
    json_t *m = json_object_get(jm, "merge");
    cr_assert_str_eq(json_string_value(json_object_get(m, "expectations")), "combined");
    /* In smoke, each shard alone misses first_activation.servers = 6: combined, it fails. */
    json_t *ex = json_object_get(jm, "expectations");
    cr_assert_eq(json_array_size(ex), 9); /* 8 stated, unexpected_hresults implied */
    cr_assert_not(json_is_true(json_object_get(json_array_get(ex, 0), "passed")));
    cr_assert(json_is_true(json_object_get(json_array_get(ex, 6), "passed")));
    tm_assert_contains(json_string_value(json_object_get(json_array_get(ex, 0), "observed")),
                       "shard");
    json_decref(jm);
    char *mdtext = tm_slurp(md);
    cr_assert_not_null(mdtext);
    tm_assert_contains(mdtext, "| shards | 2 merged |");
    tm_assert_contains(mdtext, "not re-evaluated");
    free(mdtext);
}

/* ---- --shard auto/N ---- */

Test(merge, shard_auto_from_job_completion_index)
{
    char out[256], *msg;
    tm_path(out, sizeof out, "auto");
    const char *args[] = {"run", SMOKE, "--out", out, "-q", "--shard", "auto/2", NULL};
    int rc = tm_exec(NULL, "1", args);
    cr_assert(rc == 0 || rc == 1, "exit %d", rc);
    json_t *j = tm_summary(out);
    cr_assert_eq(tm_int(j, "shard", "index"), 1);
    cr_assert_eq(tm_int(j, "shard", "count"), 2);
    json_decref(j);

    cr_assert_eq(tm_exec(&msg, NULL, args), 2);
    tm_assert_contains(msg, "--shard auto/2: JOB_COMPLETION_INDEX is not set");
    free(msg);

    cr_assert_eq(tm_exec(&msg, "2", args), 2);
    tm_assert_contains(msg, "JOB_COMPLETION_INDEX=2 is out of range 0..1");
    free(msg);

    cr_assert_eq(tm_exec(&msg, "one", args), 2);
    tm_assert_contains(msg, "JOB_COMPLETION_INDEX=\"one\" is not a number");
    free(msg);

    const char *bad[] = {"run", SMOKE, "--out", out, "--shard", "auto/0", NULL};
    cr_assert_eq(tm_exec(&msg, "0", bad), 2);
    tm_assert_contains(msg, "expected K/N with 0 <= K < N, or auto/N");
    free(msg);
}

/* ---- --summary-md ---- */

Test(merge, run_writes_markdown_summary)
{
    char out[256], md[256];
    tm_path(out, sizeof out, "run");
    tm_path(md, sizeof md, "summary.md");
    const char *more[] = {"--summary-md", md, NULL};
    tm_run(SMOKE, out, more);
    char *text = tm_slurp(md);
    cr_assert_not_null(text, "no %s", md);
    tm_assert_contains(text, "## kmsload: smoke");
    tm_assert_contains(text, "PASSED");
    tm_assert_contains(text, "| target | embedded reference host 127.0.0.1:");
    tm_assert_contains(text, "| seed | 1 |");
    tm_assert_contains(text, "### Expectations");
    tm_assert_contains(text, "| first_activation.servers = 6 | first activation of servers at "
                             "count 6");
    tm_assert_contains(text, "pass |");
    tm_assert_contains(text, "### Outcomes");
    tm_assert_contains(text, "| activated |");
    tm_assert_contains(text, "### Latency");
    tm_assert_contains(text, "| p50 | p90 | p99 | p99.9 | max |");
    tm_assert_contains(text, "### Applications");
    tm_assert_contains(text, "| office2013 |");
    tm_assert_contains(text, "| windows |");
    tm_assert_contains(text, "### Populations");
    tm_assert_contains(text, "0 disagreements");
    cr_assert_null(strstr(text, "FAIL"));
    free(text);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", md);
    cr_assert_neq(access(tmp, F_OK), 0, "temporary file left behind");
}

Test(merge, markdown_names_failures_and_first_disagreement)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    struct run_tally *t = calloc(1, sizeof *t);
    cr_assert(sc && t);
    strcpy(sc->name, "pipe|name");
    strcpy(sc->description, "counts <climb>");
    sc->n_pops = 1;
    strcpy(sc->pops[0].name, "clients");
    sc->n_expects = 1;
    strcpy(sc->expects[0].text, "model_mismatches = 0");
    run_tally_init(t, 1);
    struct run_event ev = {
        .seq = 1,
        .sim_us = 86400000000LL,
        .machine = 3,
        .app_key = "windows",
        .population = "clients",
        .population_index = 0,
        .outcome = KMS_OUTCOME_BELOW_THRESHOLD,
        .count = 9,
        .model_checked = true,
        .expected_lo = 4,
        .expected_hi = 5,
        .model_agrees = false,
        .latency_us = 1500,
    };
    strcpy(ev.model_reason, "too many CMIDs");
    run_tally_add(t, &ev);
    struct expect_result r = {.expectation = &sc->expects[0], .passed = false};
    strcpy(r.observed, "1 of 1 checked responses disagree");
    struct engine_outcome eo = {.wall_seconds = 1.0, .sim_us = 86400000000LL, .answered = 1};
    struct summary_md_run md = {.scenario = sc,
                                .target = "kms.example.test:1688",
                                .seed = 7,
                                .shard_index = 1,
                                .shard_count = 4,
                                .outcome = &eo,
                                .tally = t,
                                .results = &r,
                                .n_results = 1};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(summary_md_print(f, &md), 0);
    fclose(f);
    tm_assert_contains(text, "## kmsload: pipe\\|name");
    tm_assert_contains(text, "FAILED");
    tm_assert_contains(text, "> counts &lt;climb&gt;");
    tm_assert_contains(text, "| shard | 1/4 |");
    tm_assert_contains(text, "**FAIL** | model_mismatches = 0 | 1 of 1 checked responses disagree");
    tm_assert_contains(text, "| expectations | 0 of 1 met |");
    tm_assert_contains(text, "First disagreement: request 1 at day 1.000, machine 3");
    tm_assert_contains(text, "count 9, the model expected 4..5");
    tm_assert_contains(text, "too many CMIDs");
    free(text);
    free(t);
    free(sc);
}

/* Issue 10 item 8: a shard whose events.csv is of another run than its summary.json. */
Test(merge, refuses_files_of_different_runs)
{
    char s0[256], s1[256], bad[256], out[256], path[512], err[2048];
    tm_path(s0, sizeof s0, "s0");
    tm_path(s1, sizeof s1, "s1");
    tm_path(out, sizeof out, "out");
    tm_path(bad, sizeof bad, "other-run");
    const char *sh0[] = {"--shard", "0/2", NULL}, *sh1[] = {"--shard", "1/2", NULL};
    tm_run(SMOKE, s0, sh0);
    tm_run(SMOKE, s1, sh1);
    tm_copy_run(s1, bad);
    snprintf(path, sizeof path, "%s/summary.json", bad);
    char *text = tm_slurp(path);
    char *id = strstr(text, "\"run_id\": \"");
    cr_assert_not_null(id, "%s", text);
    id += strlen("\"run_id\": \"");
    id[0] = id[0] == '0' ? '1' : '0'; /* another run's id */
    support_write_file(path, text);
    free(text);
    const char *runs[] = {s0, bad};
    cr_assert_eq(tm_merge(out, runs, 2, err, sizeof err), -1);
    tm_assert_contains(err, "different runs");
    tm_assert_no_output(out);
}
