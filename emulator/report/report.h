/*
 * A run's report: reads RUN_DIR/events.csv (streaming, aggregated into at most REPORT_BUCKETS time
 * buckets, so memory stays bounded whatever the run's length) and RUN_DIR/summary.json, writes the
 * gnuplot data files into RUN_DIR/charts/, draws the charts (PNG and SVG) with the gnuplot scripts
 * of reports/ when gnuplot is on PATH, and writes RUN_DIR/index.html atomically from
 * reports/report.html with the SVG charts inline.
 *
 * The reports/ directory is found through $KMSLOAD_REPORTS, then data_dir()/reports
 * (installed), then the source tree's reports/ (KMSLOAD_SOURCE_REPORTS).
 */
#ifndef KMSLOAD_REPORT_H
#define KMSLOAD_REPORT_H

#include <stddef.h>

#define REPORT_BUCKETS 2000

enum report_status {
    REPORT_OK = 0,
    REPORT_BAD_INPUT = -1, /* no such run directory, no events.csv, malformed events or summary */
    REPORT_FAILED = -2,    /* the report could not be written (reports/ not found, I/O error) */
};

/* Writes RUN_DIR/charts/ and RUN_DIR/index.html. Without gnuplot on PATH the data files and
 * index.html (without charts) are still written, stderr says once how to get the charts, and the
 * result is REPORT_OK. On failure err holds a message naming the file (and line). */
int report_write(const char *run_dir, char *err, size_t err_len);

#endif
