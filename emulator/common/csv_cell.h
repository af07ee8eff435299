/*
 * One CSV cell that is safe to open in a spreadsheet: text chosen by clients or hosts
 * (workstation names, ePIDs, error details) must not become a formula, and must stay on its line.
 * Used by every CSV writer (the host's --log, a run's events.csv).
 */
#ifndef KMSLOAD_CSV_CELL_H
#define KMSLOAD_CSV_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Copies at most max bytes of s (NULL: empty) into out (cap bytes, NUL-terminated, cut short when
 * full) so that a spreadsheet shows it as text: a cell starting with = + - @ gets a leading ',
 * as spreadsheet users expect; control characters become \n, \r, \t or \xNN. Returns the length
 * written. No CSV quoting: see csv_cell_write.
 */
size_t csv_cell_neutralise(const char *s, size_t max, char *out, size_t cap);

/* Writes s neutralised as one RFC 4180 cell: quoted (quotes doubled) when it holds a comma or a
 * quote, or always when always_quote. */
void csv_cell_write(FILE *f, const char *s, size_t max, bool always_quote);

#endif
