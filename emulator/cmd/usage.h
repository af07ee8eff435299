/* Usage errors of the subcommands: one format for every "bad flag" message. */
#ifndef KMSLOAD_USAGE_H
#define KMSLOAD_USAGE_H

/* Prints "kmsload COMMAND: MESSAGE" and the --help hint to stderr, for bad usage. */
void usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
