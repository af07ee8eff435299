/*
 * `kmsload watch --json`: JSON lines for log shippers (Filebeat, Fluent Bit, Vector, journald
 * readers): one object per probe per round, and one per dns: lookup, each on a line of its own,
 * flushed at once. Field names are stable; absent values are null, never left out.
 */
#ifndef KMSLOAD_WATCH_JSON_H
#define KMSLOAD_WATCH_JSON_H

#include "watch_metrics.h"

#include <stdbool.h>
#include <stdio.h>

/* {"time","type":"probe","host","application","product","outcome","success","count",
 *  "required","hresult","epid","host_build","duration_seconds","detail"} */
void watch_json_probe(FILE *out, const char *host, const struct watch_app_state *s);
/* {"time","type":"dns","domain","success","hosts","detail"} */
void watch_json_dns(FILE *out, const char *domain, bool ok, unsigned hosts, const char *detail);

#endif
