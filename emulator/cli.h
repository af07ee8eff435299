/* Parsing helpers for command-line values, shared by the subcommands. */
#ifndef KMSLOAD_CLI_H
#define KMSLOAD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a duration such as "90", "90s", "250ms", "3h59m", "1d12h" or, with allow_sign, "-4h01m"
 * / "+4h" into microseconds. A bare number means seconds. Returns 0 or -1 with a message.
 */
int cli_parse_duration(const char *text, bool allow_sign, int64_t *us, char *err, size_t err_len);
/* "on"/"off" (also yes/no, true/false, 1/0). */
int cli_parse_switch(const char *text, bool *value);
/* Decimal integer within [min, max]. */
int cli_parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *value);
/* Prints "kmsload COMMAND: MESSAGE" and the --help hint to stderr, for bad usage. */
void cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Formats microseconds for people: "4h01m", "120 ms", "2.5 s". */
void cli_format_duration(int64_t us, char *out, size_t cap);

#endif
