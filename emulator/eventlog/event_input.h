/*
 * The bytes of one log file as UTF-8, read in chunks: a UTF-8 byte order mark is dropped and
 * UTF-16LE (what Windows PowerShell 5.1's Out-File and `>` write, with its FF FE mark) is
 * converted, so that each reader sees UTF-8 whatever the export wrote. The first bytes can be
 * looked at before anything is consumed (to tell the formats apart).
 */
#ifndef KMSLOAD_EVENT_INPUT_H
#define KMSLOAD_EVENT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define EVENT_INPUT_CHUNK 65536

struct event_input {
    FILE *f;
    bool utf16;       /* converting UTF-16LE */
    int pending_high; /* UTF-16: a high surrogate waiting for its pair, -1 none */
    unsigned char raw[EVENT_INPUT_CHUNK];
    char buf[EVENT_INPUT_CHUNK * 2]; /* UTF-8 not yet consumed (a unit gives at most 3 bytes) */
    size_t len, pos;
    bool eof;
    int error; /* errno of a read error, 0 none */
};

/* Reads the first bytes and the byte order mark. */
void event_input_init(struct event_input *in, FILE *f);
/* Makes at least want bytes (or all that is left) available at in->buf + in->pos. Returns how
 * many are available. */
size_t event_input_fill(struct event_input *in, size_t want);
/* Copies up to cap bytes; 0 at the end (or on a read error: in->error). */
size_t event_input_read(struct event_input *in, char *out, size_t cap);

#endif
