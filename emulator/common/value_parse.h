/* Parsers and formatters for values given on the command line and in scenario files. */
#ifndef KMSLOAD_VALUE_PARSE_H
#define KMSLOAD_VALUE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a duration such as "90", "90s", "250ms", "3h59m", "1d12h" or, with allow_sign, "-4h01m"
 * / "+4h" into microseconds. A bare number means seconds. Returns 0 or -1 with a message.
 */
int value_parse_duration(const char *text, bool allow_sign, int64_t *us, char *err, size_t err_len);
/* "on"/"off" (also yes/no, true/false, 1/0). */
int value_parse_switch(const char *text, bool *value);
/* Decimal integer within [min, max]. */
int value_parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *value);
/* Formats microseconds for people: "4h01m", "120 ms", "2.5 s". */
void value_format_duration(int64_t us, char *out, size_t cap);

#endif
