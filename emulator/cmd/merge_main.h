/* `kmsload merge OUT_DIR RUN_DIR...`: one run directory from the shards of a sharded run. */
#ifndef KMSLOAD_MERGE_MAIN_H
#define KMSLOAD_MERGE_MAIN_H

#include "merge.h"

#include <stdbool.h>
#include <stddef.h>

#define MERGE_MAX_SETS 64

/* The command line of `kmsload merge`: merge's own options and the command's. */
struct merge_command_options {
    bool help;
    bool quiet;
    bool report;                 /* false with --no-report */
    unsigned long keep_previous; /* --keep-previous N: earlier runs kept in OUT_DIR/previous-* */
    struct merge_options merge;  /* merge.overrides points into sets: do not copy the struct */
    const char *sets[MERGE_MAX_SETS];
};

/* Parses argv (argv[0] is "merge") into opt. Returns 0, or -1 with a message in err. */
int merge_options_parse(int argc, char **argv, struct merge_command_options *opt, char *err,
                        size_t err_len);

/* Merges as opt says; returns the exit status (enum merge_exit). */
int merge_execute(const struct merge_command_options *opt);

/* The --help text. */
extern const char merge_usage[];

#endif
