/*
 * fleet.json: the fleet an event 12290 log shows and its findings (duplicate-cmid,
 * below-threshold, near-expiry, error, not-covered), names replaced by keyed hashes unless kept.
 * Built with jansson, written with the atomic writer.
 */
#ifndef KMSLOAD_ESTATE_JSON_H
#define KMSLOAD_ESTATE_JSON_H

#include "estate_import.h"
#include "event_reader.h"
#include "host_keys.h"
#include "name_hash.h"

#include <jansson.h>

struct estate_input {
    const char *path;
    struct event_read_stats stats;
    int rc;            /* 0: read to its end */
    char message[512]; /* why reading stopped, when rc != 0 */
};

struct estate_view {
    const struct estate *fleet;
    const struct name_hash *names;
    const struct host_keys *keys; /* --keys, NULL: no not-covered finding */
    const struct estate_input *inputs;
    size_t n_inputs;
};

/* The findings array (each an object with "kind"), in the order of the kinds above. */
json_t *estate_findings_json(const struct estate_view *v);
/* The whole document. NULL on out-of-memory. */
json_t *estate_json(const struct estate_view *v);
/* Writes it to path atomically. Returns 0, or -1 with a message. */
int estate_json_write(const char *path, json_t *doc, char *err, size_t err_len);
/* "2026-12-07T23:18:38Z" */
void estate_time_text(uint64_t ft, char *out, size_t cap);

#endif
