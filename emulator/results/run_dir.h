/*
 * A run's output directory: events.csv (one row per request, written as the run goes and flushed
 * twice a second by the engine), then summary.json and junit.xml written atomically at the end
 * (temporary file, fsync, rename). An interrupted run still finishes all three, marked
 * "interrupted". Every file carries the run's id (events.csv in its "run" column), and the verdict
 * is the same in every file: an interrupted run, or one whose files could not all be written, has
 * not passed.
 */
#ifndef KMSLOAD_RUN_DIR_H
#define KMSLOAD_RUN_DIR_H

#include "expect.h"
#include "recon.h"
#include "run_tally.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>

#define RUN_ID_LEN 16                   /* hex digits */
#define RUN_DIR_KEEP_PREVIOUS_DEFAULT 5 /* previous-* folders kept in a reused output directory */

struct run_dir {
    char dir[512];
    char run_id[RUN_ID_LEN + 1]; /* written in every file of the run */
    char previous[600];          /* where an earlier run's files were moved ("" if none) */
    FILE *events;
    uint64_t rows;
    char *events_buf; /* events' stdio buffer (owned; freed by run_dir_finish) */
};

/* What summary.json says about the run besides the tally. */
struct run_info {
    const struct scenario *scenario;
    const char *target; /* "embedded reference host 127.0.0.1:PORT" or HOST:PORT */
    bool embedded_host;
    uint64_t seed;
    unsigned shard_index, shard_count; /* 0/1 when not sharded */
    const char *started_at;            /* ISO 8601 UTC */
    double wall_seconds;
    int64_t sim_us; /* simulated time covered */
    bool interrupted;
    const char *interrupt_reason;
    const char *advice;        /* what the console said to do (a refused run), NULL: nothing */
    const struct recon *recon; /* what the run learned of its target first, NULL: none */
    const char *kmsload_version;
    const char *run_id;      /* NULL: the run directory's */
    const char *write_error; /* set by run_dir_finish: a file of the run could not be written */
};

/* mkdir -p: creates every missing component of dir. Returns 0 or -1 with a message. */
int run_dir_mkdir_p(const char *dir, char *err, size_t err_len);
/* A new unpredictable run id (RUN_ID_LEN hex digits). */
void run_dir_new_id(char id[RUN_ID_LEN + 1]);
/* Moves an earlier run's files in dir (events.csv, summary.json, junit.xml, index.html, charts/)
 * into dir/previous-RUNID/ so that nothing of it can be mistaken for the new run's; moved_to says
 * where ("" when there was nothing). Returns 0 or -1 with a message. */
int run_dir_move_previous(const char *dir, char *moved_to, size_t cap, char *err, size_t err_len);
/* Keeps the newest `keep` folders dir/previous-* that hold a kmsload run's files (summary.json
 * or events.csv) and removes the older ones, newest by the folder's modification time (when the
 * run was moved there; run ids are random, so they give no order). Nothing else in dir is
 * touched. removed says how many went. Returns 0 or -1 with a message. */
int run_dir_prune_previous(const char *dir, unsigned long keep, unsigned *removed, char *err,
                           size_t err_len);
/* Creates dir if needed, moves an earlier run's files away (r->previous), gives the run an id and
 * opens events.csv with its header. */
int run_dir_open(struct run_dir *r, const char *dir, char *err, size_t err_len);
/* run_dir_prune_previous, saying on msg what went (or, as a warning, what could not), each line
 * starting with who ("kmsload merge"). */
void run_dir_prune_said(const char *who, const char *dir, unsigned long keep_previous, FILE *msg);
/* run_dir_open, saying on msg where an earlier run's files went, then the previous-* folders
 * pruned to keep_previous (a failure there is a warning on msg, not an error). */
int run_dir_open_kept(struct run_dir *r, const char *dir, unsigned long keep_previous, FILE *msg,
                      char *err, size_t err_len);
/* Appends one row (CSV, quoted where needed). */
int run_dir_event(struct run_dir *r, const struct run_event *ev);
/* Flushes events.csv to the kernel (the engine calls it twice a second). */
void run_dir_flush(struct run_dir *r);
/* A sink for the engine that appends each event to r's events.csv. */
struct run_event_sink run_dir_sink(struct run_dir *r);
/* Closes events.csv (fsync) and writes summary.json and junit.xml atomically. */
int run_dir_finish(struct run_dir *r, const struct run_info *info, const struct run_tally *t,
                   const struct expect_result *results, size_t n_results, char *err,
                   size_t err_len);

#endif
