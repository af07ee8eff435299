/*
 * `kmsload fleet`'s DIR/index.html, in the look of the run reports: the count per application
 * over time with the thresholds, requests per day by outcome, machines per product and the expiry
 * horizon (gnuplot charts, reports/fleet.gp, inline SVG beside PNG), and the findings as a table.
 * The glue between the import (eventlog) and the report's chart machinery (report).
 */
#ifndef KMSLOAD_FLEET_REPORT_H
#define KMSLOAD_FLEET_REPORT_H

#include "estate_import.h"

#include <jansson.h>
#include <stddef.h>

/* Writes DIR/charts/ and DIR/index.html (atomically). Without gnuplot the page is written
 * without charts and stderr says so. Returns 0, or -1 with a message. */
int fleet_report_write(const struct estate *e, json_t *doc, const char *dir, char *err,
                       size_t err_len);

#endif
