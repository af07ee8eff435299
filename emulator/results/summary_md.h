/*
 * A run's summary in Markdown (GitHub-flavoured tables), for people and for CI job pages such as
 * GitHub's $GITHUB_STEP_SUMMARY: scenario, target, verdict, outcomes, latency percentiles,
 * per-application counts, populations, expectations with pass/fail and the first disagreement
 * with the model. Written by `kmsload run --summary-md FILE` and `kmsload merge --summary-md FILE`
 * from the same structures summary.json is written from.
 */
#ifndef KMSLOAD_SUMMARY_MD_H
#define KMSLOAD_SUMMARY_MD_H

#include "coverage.h"
#include "expect.h"
#include "recon.h"
#include "run_outcome.h"
#include "run_tally.h"
#include "scenario.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct summary_md_run {
    const struct scenario *scenario;
    const char *target;
    uint64_t seed;
    unsigned shard_index, shard_count; /* 0/1: not sharded */
    unsigned merged_shards;            /* 0: one run; N: merged from N shard runs */
    const char *note;                  /* optional paragraph (how expectations were evaluated) */
    const struct engine_outcome *outcome;
    const struct run_tally *tally;
    const struct expect_result *results;
    size_t n_results;
    /* Optional: the host-key coverage the run measured (scenario key coverage = on). */
    const struct coverage *coverage;
    const struct catalog *catalog;
    const struct recon *recon; /* what the run learned of its target first; NULL: none */
    const char *advice;        /* what the console said to do (a refused run); NULL: none */
};

/* Writes the Markdown to f. Returns 0, or -1 when f reports a write error. */
int summary_md_print(FILE *f, const struct summary_md_run *run);

/*
 * Writes the Markdown to path: "-" is standard output; a regular file (or a new one) is replaced
 * atomically (temporary file in the same directory, fsync, rename); anything else (a FIFO,
 * /dev/stdout) is written in place. Returns 0, or -1 with a message naming the file.
 */
int summary_md_write(const char *path, const struct summary_md_run *run, char *err, size_t err_len);

#endif
