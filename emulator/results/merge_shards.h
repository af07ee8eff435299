/* merge (see merge.h): what merge.c and merge_shards.c share. Internal to the output side. */
#ifndef KMSLOAD_MERGE_SHARDS_H
#define KMSLOAD_MERGE_SHARDS_H

#include "errmsg.h"
#include "events_csv.h"
#include "expect.h"
#include "merge.h"
#include "scenario.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One shard run: its summary.json and a cursor over its events.csv. */
struct shard_run {
    const char *dir;
    char summary_path[PATH_MAX];
    char events_path[PATH_MAX];
    json_t *summary;
    const char *name;        /* scenario.name */
    const char *path;        /* scenario.path */
    const char *description; /* scenario.description */
    const char *run_id;      /* NULL in summaries written before runs had ids */
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

#define merge_set_err errmsg_set
void merge_copy_text(char *dst, size_t cap, const char *src);
/* summary.json values: NULL, -1 or 0.0 when missing or of another type. */
const char *merge_jstring(json_t *obj, const char *key);
int merge_juint(json_t *obj, const char *key, uint64_t *out);
double merge_jreal(json_t *obj, const char *key);

/* Reads and checks s->dir/summary.json: the fields the merge relies on must be there. */
int merge_load_summary(struct shard_run *s, char *err, size_t err_len);
/* The runs are the shards 0..N-1 of one run, each once; else -1 with a message naming them. */
int merge_check_runs(struct shard_run *runs, size_t n, char *err, size_t err_len);

/* Loads the scenario the runs name (or opt->scenario_path) for re-evaluation. Returns true when
 * it describes the runs; false with the reason in why. */
bool merge_scenario(struct scenario *sc, const struct merge_options *opt, const struct shard_run *s,
                    char *why, size_t why_len);
/* Fills sc from a summary when the scenario file is not available. */
void merge_scenario_from_summary(struct scenario *sc, const struct shard_run *s);
/* Each expectation's result: passed when every shard passed it; observed names the shards. */
void merge_combine_expectations(const struct scenario *sc, struct shard_run *runs, size_t n,
                                struct expect_result *results);
/* The target line of the merged summary: the shared target, or how many there were. */
void merge_target(struct shard_run *runs, size_t n, char *out, size_t cap, bool *embedded);

#endif
