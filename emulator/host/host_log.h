/* The reference host's per-request log, CSV in the shape of a genuine host's event 12290. */
#ifndef KMSLOAD_HOST_LOG_H
#define KMSLOAD_HOST_LOG_H

#include "catalog.h"
#include "host.h"

#include <stdio.h>

struct host_log {
    FILE *file;
    const struct catalog *catalog;
};

/* Opens (appends to) path, writing the header when the file is new. "-" is stdout. */
int host_log_open(struct host_log *log, const char *path, const struct catalog *catalog, char *err,
                  size_t err_len);
/* host_request_log_fn-compatible writer (arg is the struct host_log). */
void host_log_request(const struct host_request_record *rec, const char *peer, void *arg);
void host_log_close(struct host_log *log);

#endif
