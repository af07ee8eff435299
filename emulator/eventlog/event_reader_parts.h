/* Shared by the three format readers (private to eventlog/). */
#ifndef KMSLOAD_EVENT_READER_PARTS_H
#define KMSLOAD_EVENT_READER_PARTS_H

#include "event_input.h"
#include "event_reader.h"

#include <stdbool.h>

struct reader_ctx {
    const char *name;
    const struct catalog *cat;
    const struct event_sink *sink;
    struct event_read_stats *stats;
    char *err;
    size_t err_len;
    bool stopped; /* the sink asked to stop: err holds its message */
};

/* ---- event_record.c ---- */

/* Reports and counts one skipped record. */
void reader_bad(struct reader_ctx *c, uint64_t record, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * One event from its values (the nine fields somewhere among them, or one value holding the
 * message's comma-joined Info line) and its logged time text. app/count: as in struct kms_event.
 * Bad values are reported and counted. Returns 0, or -1 when the sink asked to stop.
 */
int reader_event(struct reader_ctx *c, uint64_t record, long line, const char *logged_time,
                 const char *const *values, size_t n, int app, long count);

/* ---- the format readers ---- */

/* Each returns 0 at the end of the stream, or -1 with a message in c->err. */
int event_read_xml(struct event_input *in, struct reader_ctx *c);
int event_read_csv(struct event_input *in, struct reader_ctx *c);
int event_read_json(struct event_input *in, struct reader_ctx *c);

#endif
