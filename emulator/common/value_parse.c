#include "value_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int value_parse_duration(const char *text, bool allow_sign, int64_t *us, char *err, size_t err_len)
{
    static const struct {
        const char *suffix;
        int64_t us;
    } units[] = {{"ms", 1000},        {"us", 1},         {"d", 86400000000LL},
                 {"h", 3600000000LL}, {"m", 60000000LL}, {"s", 1000000LL}};
    const char *p = text;
    int sign = 1;
    if (*p == '+' || *p == '-') {
        if (!allow_sign) {
            snprintf(err, err_len, "duration \"%s\" may not carry a sign", text);
            return -1;
        }
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        snprintf(err, err_len, "\"%s\" is not a duration (examples: 30s, 250ms, 4h01m, 7d)", text);
        return -1;
    }
    int64_t total = 0;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(p, &end, 10);
        if (end == p || errno) {
            snprintf(err, err_len, "\"%s\" is not a duration (examples: 30s, 250ms, 4h01m, 7d)",
                     text);
            return -1;
        }
        p = end;
        int64_t unit = 0;
        if (*p == '\0') {
            unit = 1000000LL; /* bare number: seconds */
        } else {
            for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
                size_t l = strlen(units[i].suffix);
                if (strncmp(p, units[i].suffix, l) == 0) {
                    unit = units[i].us;
                    p += l;
                    break;
                }
            }
        }
        if (unit == 0) {
            snprintf(err, err_len, "duration \"%s\": unknown unit at \"%s\" (use d, h, m, s, ms)",
                     text, p);
            return -1;
        }
        if (n > (unsigned long long)(INT64_MAX / unit) || total > INT64_MAX - (int64_t)n * unit) {
            snprintf(err, err_len, "duration \"%s\" is too large", text);
            return -1;
        }
        total += (int64_t)n * unit;
    }
    *us = sign * total;
    return 0;
}

int value_parse_switch(const char *text, bool *value)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, on[i]) == 0) {
            *value = true;
            return 0;
        }
        if (strcasecmp(text, off[i]) == 0) {
            *value = false;
            return 0;
        }
    }
    return -1;
}

int value_parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *value)
{
    char *end;
    if (!isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0' || errno || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

void value_format_duration(int64_t us, char *out, size_t cap)
{
    int64_t a = us < 0 ? -us : us;
    const char *sign = us < 0 ? "-" : "";
    if (a < 1000)
        snprintf(out, cap, "%s%" PRId64 " us", sign, a);
    else if (a < 1000000)
        snprintf(out, cap, "%s%.3g ms", sign, (double)a / 1e3);
    else if (a < 60000000)
        snprintf(out, cap, "%s%.3g s", sign, (double)a / 1e6);
    else {
        int64_t s = a / 1000000, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
        if (d)
            snprintf(out, cap, "%s%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", sign, d, h, m);
        else
            snprintf(out, cap, "%s%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", sign, h, m, s % 60);
    }
}
