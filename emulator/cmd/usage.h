/* Usage errors of the subcommands: one format for every "bad flag" message. */
#ifndef KMSLOAD_USAGE_H
#define KMSLOAD_USAGE_H

#include <stddef.h>

/* Prints "kmsload COMMAND: MESSAGE" and the --help hint to stderr, for bad usage. */
void usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a message for people into err (an options parser's error); returns -1. */
int usage_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The message for getopt_long's ':' (missing value) or '?' (unknown option) result c, naming the
 * option as written in argv; returns -1.
 */
int usage_getopt_error(int c, char **argv, char *err, size_t err_len);

#endif
