/* A coverage answer (catalog/coverage.h) for a person: the host OS, the host keys it matches, one
 * line per product group, the HRESULTs' meanings once, and what to do for each refused group. */
#ifndef KMSLOAD_COVERAGE_PRINT_H
#define KMSLOAD_COVERAGE_PRINT_H

#include "coverage.h"

#include <stdint.h>
#include <stdio.h>

void coverage_print_text(FILE *f, const char *host, uint16_t port, const struct coverage *cv,
                         const struct catalog *cat);

#endif
