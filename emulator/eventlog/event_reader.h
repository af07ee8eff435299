/*
 * Reads KMS event 12290 logs, streamed, whatever their format (told apart by their first bytes):
 *   - XML as `wevtutil qe "Key Management Service" /q:"*[System[(EventID=12290)]]" /f:xml`
 *     prints it: bare <Event> elements one after the other, or wrapped in any root element
 *     (libxml2's xmlTextReader; one event in memory at a time);
 *   - CSV: Get-WinEvent ... | Export-Csv (columns TimeCreated, optionally Id, and Properties
 *     joined with commas or the rendered Message), or `kmsload host --log` (its own header);
 *   - JSON: Get-WinEvent ... | ConvertTo-Json (an array of events, or one event; each element is
 *     cut out of the stream and parsed alone by jansson, so memory is one event, never the file).
 * Each event goes to the sink in file order. A bad record (a malformed row or element, an absurd
 * field) is reported with its record and line number, counted, and skipped; the rest of the file
 * is still read where the format allows it (CSV rows, JSON elements, XML events in a well-formed
 * document). Malformed XML and a truncated file end that file's reading with a message: the
 * events before it are kept.
 */
#ifndef KMSLOAD_EVENT_READER_H
#define KMSLOAD_EVENT_READER_H

#include "catalog.h"
#include "kms_event.h"

#include <stdint.h>
#include <stdio.h>

enum event_format {
    EVENT_FORMAT_UNKNOWN,
    EVENT_FORMAT_XML,
    EVENT_FORMAT_CSV,
    EVENT_FORMAT_JSON,
    EVENT_FORMAT_HOST_LOG
};

struct event_sink {
    /* One event. Returns 0, or -1 with a message to stop reading (the message is the error). */
    int (*event)(const struct kms_event *ev, void *arg, char *err, size_t err_len);
    /* One record that was skipped: where ("record 12, line 40") and why. May be NULL. */
    void (*bad)(const char *file, const char *where, const char *why, void *arg);
    void *arg;
};

struct event_read_stats {
    enum event_format format;
    uint64_t records;   /* events and rows seen */
    uint64_t events;    /* 12290 events handed to the sink */
    uint64_t other_ids; /* events with another ID, skipped */
    uint64_t undecoded; /* host --log rows of requests the host could not decode */
    uint64_t bad;       /* malformed or absurd records, skipped */
};

/* "XML (wevtutil)", "CSV (Get-WinEvent | Export-Csv)", ... */
const char *event_format_name(enum event_format f);

/*
 * Reads one stream (name is used in messages). cat maps host --log application keys. Returns 0
 * when the stream was read to its end (bad records skipped are counted in stats, not failures),
 * -1 with a message when reading stopped early: a read error, malformed XML, a truncated element,
 * a format that is none of these, or the sink asked to stop.
 */
int event_read_stream(FILE *f, const char *name, const struct catalog *cat,
                      const struct event_sink *sink, struct event_read_stats *stats, char *err,
                      size_t err_len);

#endif
