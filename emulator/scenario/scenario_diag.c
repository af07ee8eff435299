/*
 * The scenario parser's messages: the first mistake, with where it was.
 */
#include "scenario_diag.h"

#include <stdarg.h>
#include <stdio.h>

void scenario_fail(struct scenario_diag *d, unsigned line, const char *fmt, ...)
{
    if (d->failed)
        return;
    d->failed = true;
    int prefix = line == LINE_SET ? snprintf(d->err, sizeof d->err, "--set: ")
                 : line           ? snprintf(d->err, sizeof d->err, "%s:%u: ", d->origin, line)
                                  : snprintf(d->err, sizeof d->err, "%s: ", d->origin);
    if (prefix < 0 || (size_t)prefix >= sizeof d->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err + prefix, sizeof d->err - (size_t)prefix, fmt, ap);
    va_end(ap);
}

void scenario_fail_value(struct scenario_diag *d, unsigned line, const char *label, const char *key,
                         const char *problem, const char *value)
{
    /* Values are echoed; control characters as \xNN so a message stays one clean line. */
    char shown[4 * 200 + 1];
    size_t n = 0;
    for (const char *p = value; *p && n < 200; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(shown + n, sizeof shown - n, "\\x%02x", ch);
        else
            shown[n++] = (char)ch;
    }
    shown[n] = '\0';
    scenario_fail(d, line, "[%s] %s: %s (got \"%s\")", label, key, problem, shown);
}
