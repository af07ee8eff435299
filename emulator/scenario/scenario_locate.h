/* Where a scenario named on the command line or in a run's summary.json is: here, or shipped
 * (installed, or the source tree's scenarios/ when kmsload runs from its build tree). */
#ifndef KMSLOAD_SCENARIO_LOCATE_H
#define KMSLOAD_SCENARIO_LOCATE_H

#include <stddef.h>

/*
 * Returns path when it exists; otherwise, for a relative path, the installed copy
 * (data_dir()/path, e.g. "scenarios/climb.ini"), and for a bare name ("smoke" or
 * "smoke.ini") the shipped scenario of that name, when readable, written into buf; otherwise
 * path unchanged (scenario_load then names the missing file).
 */
const char *scenario_locate(const char *path, char *buf, size_t cap);

/* The directory of the shipped scenarios: the installed one, else the source tree's. Returns 0,
 * or -1 when there is none. */
int scenario_library_dir(char *buf, size_t cap);

struct scenario_entry {
    char name[64];     /* file name without .ini */
    char purpose[240]; /* the first comment line, without "; NAME:" */
    int real_clock;    /* "clock = real": requests carry the real time (safe for a real host) */
};

/* The shipped scenarios, sorted by name: at most cap entries; returns how many (or -1 when the
 * library is not found). */
int scenario_library_list(struct scenario_entry *out, size_t cap, char *dir, size_t dir_cap);

#endif
