/* `kmsload discover DOMAIN`: the KMS hosts published in DNS, each probed once. */
#ifndef KMSLOAD_DISCOVER_H
#define KMSLOAD_DISCOVER_H

#include "discovery_run.h" /* enum discover_exit */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Old spellings noted at most this many times per command line (one note per use). */
#define DISCOVER_NOTES_MAX 8

struct discover_options {
    const char *domain;
    const char *dns_server;
    const char *product;
    const char *products_file;
    int64_t timeout_us;
    bool json;
    bool coverage;
    bool help; /* -h/--help: print the usage, nothing else */
    /* Deprecated spellings used, in command-line order: the notes for stderr. */
    const char *notes[DISCOVER_NOTES_MAX];
    size_t n_notes;
};

/* Parses argv (argv[0] is "discover") into opt; prints nothing. Returns 0, or -1 with a
 * message in err. Stops at -h/--help (opt->help set). */
int discover_options_parse(int argc, char **argv, struct discover_options *opt, char *err,
                           size_t err_len);

/* Looks the domain up, probes every host and prints the result; returns the exit status. */
int discover_execute(const struct discover_options *opt);

/* The --help text. */
extern const char discover_usage[];

#endif
