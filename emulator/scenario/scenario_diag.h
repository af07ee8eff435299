/*
 * The scenario parser's diagnostics: every part reports a mistake here, and the first one is
 * kept as "FILE:LINE: [section] key: problem (got "value")" ("--set: ..." for an override,
 * "FILE: ..." for the whole file). Private to the parser.
 */
#ifndef KMSLOAD_SCENARIO_DIAG_H
#define KMSLOAD_SCENARIO_DIAG_H

#include <limits.h>
#include <stdbool.h>

#define SCENARIO_ERR_MAX 1024
/* "Line" of a value given by a --set override. */
#define LINE_SET UINT_MAX

struct scenario_diag {
    const char *origin; /* the file's name, or "stdin" */
    bool failed;
    char err[SCENARIO_ERR_MAX];
};

/* Records the first error; line 0: the whole file; LINE_SET: an override. */
void scenario_fail(struct scenario_diag *d, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "[section] key: problem (got "value")", the value's control characters shown as \xNN. */
void scenario_fail_value(struct scenario_diag *d, unsigned line, const char *label, const char *key,
                         const char *problem, const char *value);

#endif
