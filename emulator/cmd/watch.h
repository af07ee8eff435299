/* `kmsload watch`: probes production KMS hosts at an interval and exports their answers. */
#ifndef KMSLOAD_WATCH_H
#define KMSLOAD_WATCH_H

#include "watch_rounds.h"

#include <stddef.h>

/* Parses argv (argv[0] is "watch") into opt. Returns 0, or -1 with a message in err. */
int watch_options_parse(int argc, char **argv, struct watch_options *opt, char *err,
                        size_t err_len);
/* Watches until SIGINT/SIGTERM or --count rounds; returns the exit status (0, 1, or 2 for bad
 * usage found at execution, e.g. an unknown product). */
int watch_execute(const struct watch_options *opt);
/* The --help text. */
extern const char watch_usage[];

#endif
