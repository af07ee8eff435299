/* A coverage answer (catalog/coverage.h) for a person: the host OS, the host keys it matches, one
 * line per product group, the HRESULTs' meanings once, and what to do for each refused group. */
#ifndef KMSLOAD_COVERAGE_PRINT_H
#define KMSLOAD_COVERAGE_PRINT_H

#include "coverage.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void coverage_print_text(FILE *f, const char *host, uint16_t port, const struct coverage *cv,
                         const struct catalog *cat);

enum coverage_verdict {
    COVERAGE_ANSWERED,   /* a KMS answer, every required group activated */
    COVERAGE_UNANSWERED, /* no group got a KMS answer: the host was not reached as a KMS host */
    COVERAGE_MISSING,    /* answered, but a required group is not activated */
};

/* kmsload coverage's verdict on cv against the required groups (catalogue kms indices), each
 * problem said on msg ("kmsload coverage: TARGET: ..."). */
enum coverage_verdict coverage_verdict(struct coverage *cv, const struct catalog *cat,
                                       const size_t *required, size_t n_required,
                                       const char *target, FILE *msg);

#endif
