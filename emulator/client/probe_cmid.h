/*
 * The CMID a probe sends. By default one stable CMID per machine: SHA-256 of
 * "kmsload-probe-cmid:" and /etc/machine-id (or the host name when that file is missing), its
 * first 16 bytes as a version-4 GUID. Repeated probes and discovery from one machine then
 * refresh a single entry in a host's count instead of adding a machine every time.
 */
#ifndef KMSLOAD_PROBE_CMID_H
#define KMSLOAD_PROBE_CMID_H

#include "wintypes.h"

void probe_cmid_stable(struct guid *cmid);
/* The same from a seed of the caller's choosing (watch --cmid-seed: containers, whose machine ID
 * and host name change with every start). */
void probe_cmid_from_seed(const char *seed, struct guid *cmid);
/* A fresh random CMID (version-4 GUID). */
void probe_cmid_random(struct guid *cmid);

#endif
