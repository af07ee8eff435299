/*
 * The coverage answer (catalog/coverage.h) as Markdown: the host's OS, the host keys its coverage
 * matches, one table row per product group and the advice for each refused one. Written by
 * `kmsload coverage --markdown` and by the run summary / report when a scenario measures
 * coverage, so both say it in the same words.
 */
#ifndef KMSLOAD_COVERAGE_MD_H
#define KMSLOAD_COVERAGE_MD_H

#include "coverage.h"

#include <stdio.h>

/* Writes the section (heading level "##" or "###" as given). Returns 0 or -1 on a write error. */
int coverage_md_print(FILE *f, const struct coverage *cv, const struct catalog *cat,
                      const char *heading);

/*
 * The coverage a run measured, from its events.csv: every product group its populations asked
 * about, answered or refused. Groups nobody asked stay "not asked" (and are left out of the
 * Markdown). Returns 0, or -1 with a message naming the file.
 */
int coverage_from_events(const char *events_path, const struct catalog *cat, struct coverage *cv,
                         char *err, size_t err_len);
/* Writes the Markdown to path atomically. Returns 0, or -1 with a message. */
int coverage_md_write(const char *path, const struct coverage *cv, const struct catalog *cat,
                      char *err, size_t err_len);

#endif
