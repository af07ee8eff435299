/*
 * The reference host's per-request log, CSV in the shape of a genuine host's event 12290. Rows
 * are kept whole in memory and written whole: a write error (a full disk) drops whole rows, never
 * leaves a torn last line, and is counted and reported instead of passing silently.
 */
#ifndef KMSLOAD_HOST_LOG_H
#define KMSLOAD_HOST_LOG_H

#include "catalog.h"
#include "host.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_LOG_BUFFER 65536

struct host_log {
    int fd; /* -1: not open */
    bool owns_fd;
    const struct catalog *catalog;
    char path[512];
    char *buf; /* whole rows not yet written */
    size_t len;
    uint64_t rows_pending; /* rows in buf */
    uint64_t rows_dropped; /* rows a write error lost */
    int first_error;       /* errno of the first write error; 0: none */
    bool error_reported;   /* host_log_flush said it once */
};

/* Opens (appends to) path, writing the header when the file is new. "-" is stdout. A directory,
 * a missing directory or a read-only one fails here, with the reason. Returns 0 or -1. */
int host_log_open(struct host_log *log, const char *path, const struct catalog *catalog, char *err,
                  size_t err_len);
/* host_request_log_fn-compatible writer (arg is the struct host_log). */
void host_log_request(const struct host_request_record *rec, const char *peer, void *arg);
/*
 * Writes the rows held. Returns 0, or -1 with a message the first time rows are lost (later losses
 * are only counted in rows_dropped: the caller reports the total at the end).
 */
int host_log_flush(struct host_log *log, char *err, size_t err_len);
/* Flushes and closes. Returns 0, or -1 with a message when rows were lost (how many, and why). */
int host_log_close(struct host_log *log, char *err, size_t err_len);

#endif
