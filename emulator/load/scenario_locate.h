/* Where a scenario named on the command line or in a run's summary.json is: here, or installed. */
#ifndef KMSLOAD_SCENARIO_LOCATE_H
#define KMSLOAD_SCENARIO_LOCATE_H

#include <stddef.h>

/*
 * Returns path when it exists; otherwise, for a relative path, the installed copy
 * (KMSLOAD_DATADIR/path, e.g. "scenarios/climb.ini") when that one is readable, written into buf;
 * otherwise path unchanged (scenario_load then names the missing file).
 */
const char *scenario_locate(const char *path, char *buf, size_t cap);

#endif
