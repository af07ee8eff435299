/* `kmsload discover DOMAIN`: the KMS hosts published in DNS, each probed once. */
#ifndef KMSLOAD_DISCOVER_H
#define KMSLOAD_DISCOVER_H

enum discover_exit {
    DISCOVER_EXIT_OK = 0,       /* records found, every published host answers */
    DISCOVER_EXIT_WARNINGS = 1, /* a host down, a stale record, a refusal */
    DISCOVER_EXIT_USAGE = 2,
    DISCOVER_EXIT_NO_RECORDS = 3, /* no _vlmcs._tcp record, or DNS did not answer */
};

/* Runs the subcommand; argv[0] is "discover". Returns the exit status. */
int discover_main(int argc, char **argv);

#endif
