/*
 * One `kmsload coverage HOST[:PORT]` from parsed options to its exit status: probe every product
 * group, judge, print text/JSON/Markdown. In results (not cmd, not client) because it writes the
 * JSON and Markdown that results owns (coverage_json, coverage_md); cmd only parses options.
 */
#ifndef KMSLOAD_COVERAGE_RUN_H
#define KMSLOAD_COVERAGE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#define COVERAGE_EXIT_OK 0      /* every --require group activated */
#define COVERAGE_EXIT_MISSING 1 /* a --require group was not activated */
#define COVERAGE_EXIT_USAGE 2
#define COVERAGE_EXIT_UNREACHABLE 3 /* the host could not be reached */

struct coverage_run_options {
    const char *host;
    uint16_t port;
    bool json;
    const char *markdown; /* --markdown FILE ("-" standard output), or NULL */
    const char *require;  /* --require GROUP,..., or NULL */
    const char *catalog_file;
    int64_t timeout_us;
};

/* Probes the host, prints the result to stdout (errors to stderr, prefixed "kmsload coverage:");
 * returns the exit status. */
int coverage_run(const struct coverage_run_options *o);

#endif
