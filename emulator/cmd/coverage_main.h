/* `kmsload coverage HOST[:PORT]`: which product groups a KMS host activates, which host keys that
 * matches and, for the refused ones, what to install (catalog/coverage.h). */
#ifndef KMSLOAD_COVERAGE_MAIN_H
#define KMSLOAD_COVERAGE_MAIN_H

#include "coverage_run.h" /* COVERAGE_EXIT_* */
#include "net.h"

#include <stdbool.h>
#include <stdint.h>

struct coverage_options {
    bool help, json;
    char host[NET_HOST_MAX];
    uint16_t port;
    const char *markdown; /* --markdown FILE ("-" standard output) */
    const char *require;  /* --require GROUP,... (checked at execution) */
    const char *catalog_file;
    const char *target;     /* HOST[:PORT], the argument or -t/--target */
    const char *deprecated; /* an old spelling was used: the note for stderr, or NULL */
    int64_t timeout_us;
};

/* Parses argv (argv[0] is "coverage"). Returns 0, or -1 with a message in err. */
int coverage_options_parse(int argc, char **argv, struct coverage_options *o, char *err,
                           size_t err_len);
int coverage_execute(const struct coverage_options *o);
/* The --help text. */
extern const char coverage_usage[];

#endif
