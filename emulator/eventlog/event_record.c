/* One record of any format turned into an event for the sink, or counted and reported as a bad
 * record: shared by the three format readers, apart from the driver that picks the reader (so the
 * readers and the driver do not call each other). */
#include "event_reader_parts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reader_bad(struct reader_ctx *c, uint64_t record, long line, const char *fmt, ...)
{
    c->stats->bad++;
    if (!c->sink->bad)
        return;
    char where[64], why[512];
    if (line > 0)
        snprintf(where, sizeof where, "record %llu (line %ld)", (unsigned long long)record, line);
    else
        snprintf(where, sizeof where, "record %llu", (unsigned long long)record);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    c->sink->bad(c->name, where, why, c->sink->arg);
}

/* The Info line of a rendered message: its last line with eight commas or more. */
static char *info_line(char *text)
{
    char *best = NULL;
    for (char *line = text; line;) {
        char *next = strpbrk(line, "\r\n");
        if (next)
            *next++ = '\0';
        unsigned commas = 0;
        for (const char *p = line; *p; p++)
            commas += *p == ',';
        if (commas >= KMS_EVENT_FIELDS - 1)
            best = line;
        line = next;
    }
    return best;
}

int reader_event(struct reader_ctx *c, uint64_t record, long line, const char *logged_time,
                 const char *const *values, size_t n, int app, long count)
{
    const char *split[KMS_EVENT_FIELDS * 2];
    char joined[2048];
    if (n == 1 && values[0]) { /* one value: the Info line, or Properties joined with commas */
        snprintf(joined, sizeof joined, "%s", values[0]);
        char *info = info_line(joined);
        if (!info) {
            reader_bad(c, record, line, "no event 12290 values (expected nine, comma-separated)");
            return 0;
        }
        n = kms_event_split(info, split, sizeof split / sizeof *split);
        values = split;
    }
    int at = kms_event_locate_fields(values, n);
    if (at < 0) {
        reader_bad(c, record, line, "%zu value%s where event 12290 has nine", n, n == 1 ? "" : "s");
        return 0;
    }
    struct kms_event ev;
    memset(&ev, 0, sizeof ev);
    ev.app = app;
    ev.count = count;
    char why[256];
    if (!logged_time || kms_event_parse_time(logged_time, &ev.time) != 0) {
        char shown[48];
        snprintf(shown, sizeof shown, "%s", logged_time ? logged_time : "");
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = '?';
        reader_bad(c, record, line,
                   "event time \"%s\" is not an ISO 8601 time (export TimeCreated with "
                   ".ToUniversalTime().ToString('o'), see the README)",
                   shown);
        return 0;
    }
    if (kms_event_from_fields(&ev, values + at, why, sizeof why) != 0) {
        reader_bad(c, record, line, "%s", why);
        return 0;
    }
    c->stats->events++;
    if (c->sink->event(&ev, c->sink->arg, c->err, c->err_len) != 0) {
        c->stopped = true;
        return -1;
    }
    return 0;
}
