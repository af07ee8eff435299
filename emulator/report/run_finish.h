/*
 * The after-run phase of `kmsload run`, in one place: the expectations evaluated, the run's files
 * finished (summary.json, junit.xml; coverage.md and coverage.json when the scenario measures
 * coverage; the --summary-md file), the console summary, the report, and the verdict as the exit
 * status. Also the files of a run that opened its directory but never ran to the end.
 */
#ifndef KMSLOAD_RUN_FINISH_H
#define KMSLOAD_RUN_FINISH_H

#include "catalog.h"
#include "expect.h"
#include "recon.h"
#include "run_dir.h"
#include "run_outcome.h"
#include "run_tally.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses of `kmsload run` (documented in --help and README). */
enum run_exit {
    RUN_EXIT_PASSED = 0,      /* every expectation met */
    RUN_EXIT_FAILED = 1,      /* an expectation failed (or the run was interrupted) */
    RUN_EXIT_USAGE = 2,       /* bad usage or scenario */
    RUN_EXIT_UNREACHABLE = 3, /* the target never answered, stopped answering, or the run hit
                                 its wall-clock limit */
    RUN_EXIT_IO = 4,          /* the results could not be written (disk full, permissions, an
                                 output path that cannot be a directory): named in the message */
};

/* One ended run, as the engine left it. */
struct run_finish {
    const struct scenario *scenario;
    const struct catalog *catalog;
    const char *target; /* as the run names it ("embedded reference host 127.0.0.1:PORT") */
    bool embedded_host; /* no --target */
    unsigned shard_index, shard_count;
    const char *started_at; /* ISO 8601 UTC */
    const struct engine_outcome *outcome;
    struct run_tally *tally;
    struct expect_result *results; /* room for the scenario's expectations */
    struct run_dir *records;       /* open: finished here */
    const char *out_dir;
    const char *summary_md; /* --summary-md FILE or "-"; NULL: none */
    bool quiet, report;
    FILE *out, *msg;           /* the summary (stdout), the messages (stderr) */
    const struct recon *recon; /* what the run learned of its target first; NULL: none */
    const char *advice;        /* what the console said to do; NULL: none (run_finish_aborted) */
};

/*
 * Evaluates, writes the files, prints the summary and the report's place, and returns the
 * verdict (enum run_exit). Every message is said on f->msg, prefixed "kmsload run: ".
 */
int run_finish(const struct run_finish *f);

/* A run whose directory is open but that never ran to its end (refused by the clock check,
 * failed to start): its files written anyway, with the target, seed and machines the console
 * named, marked interrupted with reason (NULL: "run failed to start") and advice, the message
 * the console printed (NULL: none); the expectations are not evaluated. */
void run_finish_aborted(const struct run_finish *f, const char *reason, const char *advice);

#endif
