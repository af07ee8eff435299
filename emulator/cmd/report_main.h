/* `kmsload report RUN_DIR`: re-renders the charts and index.html of an earlier run. */
#ifndef KMSLOAD_REPORT_MAIN_H
#define KMSLOAD_REPORT_MAIN_H

/* Runs the subcommand; argv[0] is "report". Returns the exit status: 0 written, 1 could not be
 * written, 2 bad usage or a missing or invalid run directory. */
int report_main(int argc, char **argv);

#endif
