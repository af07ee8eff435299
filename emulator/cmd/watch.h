/* `kmsload watch`: probes production KMS hosts at an interval and exports their answers. */
#ifndef KMSLOAD_WATCH_H
#define KMSLOAD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command line of `kmsload watch`, checked but not acted on. */
struct watch_options {
    bool help;
    const char *target;       /* HOST[:PORT] or dns:DOMAIN as given */
    const char *dns_domain;   /* dns:DOMAIN: DOMAIN (points into target); NULL otherwise */
    const char *dns_server;   /* --dns-server; NULL: the system's resolvers */
    const char *metrics;      /* --metrics [ADDR:]PORT (checked); NULL: none */
    int64_t interval_us;      /* --interval (default 5 min) */
    int64_t timeout_us;       /* --timeout, per request and for DNS (default 10 s) */
    unsigned long max_rounds; /* --count; 0: until stopped */
    const char *products;     /* --products LIST (checked against the catalogue at execution) */
    const char *cmid_seed;    /* --cmid-seed; NULL: /etc/machine-id */
    const char *catalog_file;
};

/* Parses argv (argv[0] is "watch") into opt. Returns 0, or -1 with a message in err. */
int watch_options_parse(int argc, char **argv, struct watch_options *opt, char *err,
                        size_t err_len);
/* Watches until SIGINT/SIGTERM or --count rounds; returns the exit status (0, 1, or 2 for bad
 * usage found at execution, e.g. an unknown product). */
int watch_execute(const struct watch_options *opt);
/* The --help text. */
extern const char watch_usage[];

#endif
