/* `kmsload probe`: one activation request against a host, decoded for a person or a program. */
#ifndef KMSLOAD_PROBE_H
#define KMSLOAD_PROBE_H

/* Exit statuses of `kmsload probe` (documented in --help and README). */
enum probe_exit {
    PROBE_EXIT_ACTIVATED = 0,
    PROBE_EXIT_BELOW_THRESHOLD = 1,
    PROBE_EXIT_USAGE = 2,
    PROBE_EXIT_UNREACHABLE = 3,
    PROBE_EXIT_HOST_ERROR = 4,
    PROBE_EXIT_PROTOCOL_ERROR = 5,
};

/* Runs the subcommand; argv[0] is "probe". Returns the exit status. */
int probe_main(int argc, char **argv);

#endif
