#include "event_reader.h"

#include "errmsg.h"
#include "event_reader_parts.h"

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
