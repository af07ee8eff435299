/*
 * The reference host's counters on disk (`kmsload host --state FILE`), so a restart keeps every
 * application's CMIDs and last-seen times. Written atomically; a file that does not parse or
 * does not fit the catalogue is reported and not loaded.
 */
#ifndef KMSLOAD_HOST_STATE_H
#define KMSLOAD_HOST_STATE_H

#include "host.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * At start, before loading: fails with a clear message when path cannot be a state file (a
 * directory, not a regular file, its directory missing or read-only), found by creating and
 * removing a file beside it; removes temporary files a killed host left beside it
 * (PATH.tmp.*), counting them in *removed. Returns 0 or -1 with a message.
 */
int host_state_prepare(const char *path, unsigned *removed, char *err, size_t err_len);
/* Writes path.tmp, syncs it and renames it over path. Returns 0 or -1 with a message. */
int host_state_save(const struct kms_host *host, const char *path, char *err, size_t err_len);
/*
 * Loads caches saved by host_state_save into a freshly initialised host. A missing file is not an
 * error (*loaded = false). Returns 0 or -1 with a message naming the file and the problem.
 */
int host_state_load(struct kms_host *host, const char *path, bool *loaded, char *err,
                    size_t err_len);

#endif
