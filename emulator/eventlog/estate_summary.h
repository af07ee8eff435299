/* The console summary of `kmsload fleet`: requests, machines and counts per application, then the
 * findings of fleet.json in one line each. */
#ifndef KMSLOAD_ESTATE_SUMMARY_H
#define KMSLOAD_ESTATE_SUMMARY_H

#include "estate_import.h"

#include <jansson.h>

/* Prints to stdout; findings is fleet.json's "findings" array, out the directory it was written
 * to. */
void estate_print_summary(const struct estate *f, json_t *findings, const char *out);

#endif
