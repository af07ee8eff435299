/* `kmsload report RUN_DIR`: re-renders the charts and index.html of an earlier run. */
#ifndef KMSLOAD_REPORT_MAIN_H
#define KMSLOAD_REPORT_MAIN_H

#include <stdbool.h>
#include <stddef.h>

/* The command line of `kmsload report`. */
struct report_options {
    bool help;
    bool quiet;
    const char *run_dir;
};

/* Parses argv (argv[0] is "report") into opt. Returns 0, or -1 with a message in err. */
int report_options_parse(int argc, char **argv, struct report_options *opt, char *err,
                         size_t err_len);

/* Writes the report of opt->run_dir; returns the exit status (as report_main). */
int report_execute(const struct report_options *opt);

/* The --help text. */
extern const char report_usage[];

#endif
