/*
 * events.csv, the one owner of its format: the column table (name, writer, parser per column,
 * the last one "run": the id of the run that wrote the row),
 * the row writer and the streaming reader (libcsv, RFC 4180) that report, merge, the fuzz target
 * and the tests share. Adding a column is one entry in events_csv.c's table.
 *
 * The reader is bounded: a physical line longer than EVENTS_CSV_LINE_MAX or a record longer than
 * EVENTS_CSV_RECORD_MAX is an error, as are NUL bytes and read errors (never taken for the end of
 * the file). A last line without its newline (the writer was killed mid-row) ends the input with
 * events_csv_reader_cut_short() true; the caller decides whether that is acceptable.
 */
#ifndef KMSLOAD_EVENTS_CSV_H
#define KMSLOAD_EVENTS_CSV_H

#include "run_event.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>

#define EVENTS_CSV_LINE_MAX 65536
#define EVENTS_CSV_RECORD_MAX (4 * EVENTS_CSV_LINE_MAX)

/* One row read back: the event, with the text it points to held here. */
struct events_row {
    struct run_event ev; /* population_index and app are -1: the reader knows no scenario */
    char population[SCENARIO_NAME_MAX];
    char host[256];
    char app[32];
    char product[96];
    char status_name[80]; /* the hresult_name column */
    bool has_status;      /* the hresult column was not empty */
    unsigned range_given; /* expected_lo and expected_hi given (2 when the model judged) */
    char run_id[65];      /* the run column ("" in files written before it) */
};

/* Writes the header line. Returns 0, or -1 on a write error. */
int events_csv_write_header(FILE *f);
/* The number of columns a row of this version has. */
size_t events_csv_columns(void);
/* Appends one row of the run run_id (CSV, text quoted where needed). Returns 0, or -1 on a write
 * error. */
int events_csv_write_row(FILE *f, const struct run_event *ev, const char *run_id);

struct events_csv_reader;

/* Opens path and reads its header (every column of this version must be there, in any order;
 * unknown columns are skipped). Returns NULL with a message naming the file and line. */
struct events_csv_reader *events_csv_open(const char *path, char *err, size_t err_len);
/* Reads from an open stream instead (not closed by events_csv_close); name is for messages. */
struct events_csv_reader *events_csv_open_stream(FILE *f, const char *name, char *err,
                                                 size_t err_len);
/* The next row: 1 with *row filled, 0 at the end, -1 with "FILE:LINE: ..." in err. */
int events_csv_next(struct events_csv_reader *r, struct events_row *row, char *err, size_t err_len);
/* The text of column in the last row read, as written (NULL for an unknown column). */
const char *events_csv_text(const struct events_csv_reader *r, const char *column);
/* The number of fields of the last row read. */
size_t events_csv_field_count(const struct events_csv_reader *r);
/* The line the last row started on. */
unsigned long events_csv_line(const struct events_csv_reader *r);
/* True when the input ended in the middle of a row (a last line without its newline). */
bool events_csv_cut_short(const struct events_csv_reader *r);
void events_csv_close(struct events_csv_reader *r);

#endif
