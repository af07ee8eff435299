/* `kmsload run`: runs a scenario against a target (default: the embedded reference host). */
#ifndef KMSLOAD_RUN_MAIN_H
#define KMSLOAD_RUN_MAIN_H

/* Exit statuses of `kmsload run` (documented in --help and README). */
enum run_exit {
    RUN_EXIT_PASSED = 0,      /* every expectation met */
    RUN_EXIT_FAILED = 1,      /* an expectation failed (or the run was interrupted) */
    RUN_EXIT_USAGE = 2,       /* bad usage or scenario */
    RUN_EXIT_UNREACHABLE = 3, /* the target never answered */
};

/* Runs the subcommand; argv[0] is "run". Returns the exit status. */
int run_main(int argc, char **argv);

#endif
