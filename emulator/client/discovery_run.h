/*
 * One `kmsload discover` from parsed options to its exit status: load the catalogue, look the
 * domain up, probe and judge every host, print. In client (not cmd) because it is discovery's own
 * sequence; cmd only parses the command line.
 */
#ifndef KMSLOAD_DISCOVERY_RUN_H
#define KMSLOAD_DISCOVERY_RUN_H

#include <stdbool.h>
#include <stdint.h>

enum discover_exit {
    DISCOVER_EXIT_OK = 0,       /* records found, every published host answers */
    DISCOVER_EXIT_WARNINGS = 1, /* a host down, a stale record, a refusal */
    DISCOVER_EXIT_USAGE = 2,
    DISCOVER_EXIT_NO_RECORDS = 3, /* no _vlmcs._tcp record, or DNS did not answer */
};

struct discovery_run_options {
    const char *domain;
    const char *dns_server; /* NULL: the system's resolvers */
    const char *product;
    const char *products_file;
    int64_t timeout_us;
    bool json;
    bool coverage;
};

/* Looks the domain up, probes every host and prints the result to stdout (errors to stderr,
 * prefixed "kmsload discover:"); returns the exit status. */
int discovery_run(const struct discovery_run_options *o);

#endif
