#include "event_reader.h"

#include "errmsg.h"
#include "event_reader_parts.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *event_format_name(enum event_format f)
{
    switch (f) {
    case EVENT_FORMAT_XML:
        return "XML (wevtutil qe /f:xml)";
    case EVENT_FORMAT_CSV:
        return "CSV (Get-WinEvent | Export-Csv)";
    case EVENT_FORMAT_JSON:
        return "JSON (Get-WinEvent | ConvertTo-Json)";
    case EVENT_FORMAT_HOST_LOG:
        return "CSV (kmsload host --log)";
    default:
        return "unknown";
    }
}

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

int reader_event(struct reader_ctx *c, uint64_t record, long line, const char *time_text,
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
    if (!time_text || kms_event_parse_time(time_text, &ev.time) != 0) {
        char shown[48];
        snprintf(shown, sizeof shown, "%s", time_text ? time_text : "");
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

int event_read_stream(FILE *f, const char *name, const struct catalog *cat,
                      const struct event_sink *sink, struct event_read_stats *stats, char *err,
                      size_t err_len)
{
    memset(stats, 0, sizeof *stats);
    struct event_input *in = malloc(sizeof *in);
    if (!in)
        return errmsg_set(err, err_len, "%s: out of memory", name);
    event_input_init(in, f);
    struct reader_ctx c = {.name = name,
                           .cat = cat,
                           .sink = sink,
                           .stats = stats,
                           .err = err,
                           .err_len = err_len,
                           .stopped = false};
    size_t have = event_input_fill(in, 4096);
    const char *p = in->buf + in->pos, *end = p + have;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    int rc;
    if (in->error) {
        rc = errmsg_set(err, err_len, "%s: cannot read: %s", name, strerror(in->error));
    } else if (p == end) {
        rc = errmsg_set(err, err_len, "%s: empty file, no events", name);
    } else if (*p == '<') {
        stats->format = EVENT_FORMAT_XML;
        rc = event_read_xml(in, &c);
    } else if (*p == '[' || *p == '{') {
        stats->format = EVENT_FORMAT_JSON;
        rc = event_read_json(in, &c);
    } else {
        stats->format = EVENT_FORMAT_CSV; /* event_read_csv tells host --log apart */
        rc = event_read_csv(in, &c);
    }
    if (rc == 0 && in->error)
        rc = errmsg_set(err, err_len, "%s: read error: %s", name, strerror(in->error));
    free(in);
    return rc;
}
