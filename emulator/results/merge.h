/*
 * `kmsload merge OUT_DIR RUN_DIR...`: the run directories of the N shards of one sharded run
 * (`kmsload run --shard K/N` or `--shard auto/N`) become one run directory with the same files a
 * single run writes (events.csv, summary.json, junit.xml).
 *
 * - Inputs are checked first: every RUN_DIR's summary.json must name the same scenario, seed,
 *   populations and expectations and the same shard count N, and together the runs must be the
 *   shards 0..N-1, each exactly once. Anything else is refused with a message naming the runs;
 *   nothing is written. Missing shards are refused too: a partial fleet would be judged as if it
 *   were the whole one.
 * - events.csv: the shards' rows interleaved by simulated time (then wall time, then shard index),
 *   each shard's rows keeping their order, and renumbered 1, 2, 3...; the columns are those of a
 *   single run, wall_s stays relative to the start of the row's own shard, and a row's shard is
 *   machine % N (machine ids are global). Every row is checked: complete, well-formed, in its
 *   shard; each file holds as many rows as its summary counts requests.
 * - The tally (outcomes, HRESULTs, latency percentiles, per-application timelines, first
 *   activations, model disagreements) is rebuilt from the merged rows; machines and activated
 *   machines per population are the sums of the shards' summaries.
 * - Expectations are re-evaluated on the merged tally when the scenario file can be read (the
 *   path in summary.json, or --scenario) and still describes the runs (same name, populations and
 *   expectations, after the --set overrides given to merge). Otherwise each expectation's result
 *   is the AND of the shards' results, and summary.json says so ("merge.expectations").
 * - Files are written into a staging directory inside OUT_DIR and renamed into place, summary.json
 *   last; summary.json gains a "merge" object naming the shard runs.
 */
#ifndef KMSLOAD_MERGE_H
#define KMSLOAD_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum merge_exit {
    MERGE_EXIT_PASSED = 0, /* merged; every expectation met */
    MERGE_EXIT_FAILED = 1, /* merged; an expectation failed or a shard was interrupted */
    MERGE_EXIT_USAGE = 2,  /* bad usage, runs refused, malformed input, or nothing written */
};

struct merge_options {
    const char *out_dir;
    const char *const *run_dirs;
    size_t n_runs;
    const char *scenario_path;    /* NULL: the path recorded in the runs' summary.json */
    const char *const *overrides; /* --set KEY=VALUE as given to the runs */
    size_t n_overrides;
    const char *summary_md; /* NULL: no Markdown summary */
};

struct merge_result {
    unsigned shards;
    uint64_t requests;
    size_t expectations, expectations_failed;
    bool reevaluated; /* expectations re-evaluated on the merged tally (else combined) */
    bool interrupted; /* a shard run was interrupted */
    char expectations_note[600];
    char previous[600]; /* where an earlier run's files in OUT_DIR were moved ("" if none) */
};

/* Merges; returns 0, or -1 with a message (naming the runs or FILE:LINE) in err. */
int merge_runs(const struct merge_options *opt, struct merge_result *res, char *err,
               size_t err_len);

#endif
