/* The events.csv reader: bounded lines, read errors as errors, every value checked (issue 10
 * items 11 and 12), one-place columns. */
#include "events_csv.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMID "00000000-0000-0000-0000-000000000001"

/* A reader over text (a memory stream); NULL with err when the header is refused. */
static struct events_csv_reader *open_text(const char *text, FILE **f, char *err, size_t cap)
{
    *f = fmemopen((void *)text, strlen(text), "r");
    cr_assert_not_null(*f);
    return events_csv_open_stream(*f, "events.csv", err, cap);
}

/* The header this version writes. */
static char *header(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(events_csv_write_header(f), 0);
    fclose(f);
    return buf;
}

/* One row written by the writer, with hwid set to text afterwards when hwid is not NULL. */
static char *file_with_row(const char *hwid)
{
    struct run_event ev = {.seq = 1,
                           .wall_s = 0.5,
                           .sim_us = 3600000000LL,
                           .machine = 7,
                           .app_key = "windows",
                           .product_key = "win10-pro",
                           .population = "clients",
                           .protocol = 6,
                           .ndr = RPC_NDR64,
                           .n_policy = 25,
                           .outcome = KMS_OUTCOME_ACTIVATED,
                           .count = 25,
                           .model_checked = true,
                           .expected_lo = 25,
                           .expected_hi = 25,
                           .model_agrees = true,
                           .latency_us = 1000,
                           .has_hwid = true,
                           .hwid = {0xA0, 1, 2, 3, 4, 5, 6, 7}};
    cr_assert_eq(guid_parse(CMID, &ev.cmid), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(events_csv_write_header(f), 0);
    cr_assert_eq(events_csv_write_row(f, &ev, "0123456789abcdef"), 0);
    fclose(f);
    if (hwid) {
        char *at = strstr(buf, "A001020304050607");
        cr_assert_not_null(at, "%s", buf);
        memcpy(at, hwid, 16);
    }
    return buf;
}

Test(events_csv, a_written_row_reads_back)
{
    char *text = file_with_row(NULL), err[512] = "";
    FILE *f;
    struct events_csv_reader *r = open_text(text, &f, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), 1, "%s", err);
    cr_assert_eq(row.ev.seq, 1);
    cr_assert_eq(row.ev.sim_us, 3600000000LL);
    cr_assert_eq(row.ev.machine, 7);
    cr_assert_str_eq(row.population, "clients");
    cr_assert_eq(row.ev.outcome, KMS_OUTCOME_ACTIVATED);
    cr_assert(row.ev.model_checked && row.ev.model_agrees);
    cr_assert(row.ev.has_hwid);
    cr_assert_eq(row.ev.hwid[0], 0xA0);
    cr_assert_str_eq(row.run_id, "0123456789abcdef");
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), 0);
    cr_assert_not(events_csv_cut_short(r));
    events_csv_close(r);
    fclose(f);
    free(text);
}

/* Issue 10 item 12: an invalid hex digit is refused before any of the column is decoded. */
Test(events_csv, invalid_hex_in_hwid_is_an_error)
{
    static const char *const bad[] = {"G001020304050607", "A00102030405060g", "A0010203040506-7",
                                      "A0 1020304050607"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = file_with_row(bad[i]), err[512] = "";
        FILE *f;
        struct events_csv_reader *r = open_text(text, &f, err, sizeof err);
        cr_assert_not_null(r, "%s", err);
        struct events_row row;
        cr_assert_eq(events_csv_next(r, &row, err, sizeof err), -1, "%s accepted", bad[i]);
        cr_assert(strstr(err, "events.csv:2: column hwid"), "%s", err);
        events_csv_close(r);
        fclose(f);
        free(text);
    }
}

/* Issue 10 item 11: a line longer than the bound is an error, not a 2 GB allocation. */
Test(events_csv, an_overlong_line_is_an_error)
{
    char *head = header();
    size_t n = strlen(head) + 3 * EVENTS_CSV_LINE_MAX;
    char *text = malloc(n + 1);
    strcpy(text, head);
    memset(text + strlen(head), 'x', n - strlen(head));
    text[n] = '\0';
    char err[512] = "";
    FILE *f;
    struct events_csv_reader *r = open_text(text, &f, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), -1);
    cr_assert(strstr(err, "events.csv:2: line longer than"), "%s", err);
    events_csv_close(r);
    fclose(f);
    free(text);
    free(head);
}

/* NUL-filled input (item 11's 2 GB file) is refused at the first byte. */
Test(events_csv, nul_bytes_are_an_error)
{
    char *head = header();
    size_t hl = strlen(head);
    char *text = calloc(1, hl + 4096);
    memcpy(text, head, hl);
    FILE *f = fmemopen(text, hl + 4096, "r");
    char err[512] = "";
    struct events_csv_reader *r = events_csv_open_stream(f, "events.csv", err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), -1);
    cr_assert(strstr(err, "NUL byte"), "%s", err);
    events_csv_close(r);
    fclose(f);
    free(text);
    free(head);
}

/* Item 11: a read error is an error, never the end of the input. */
Test(events_csv, a_read_error_is_not_the_end_of_the_file)
{
    struct support_scratch s;
    support_scratch_init(&s, "events");
    char err[512] = "";
    FILE *f = fopen(s.dir, "r"); /* a directory: every read fails with EISDIR */
    cr_assert_not_null(f);
    struct events_csv_reader *r = events_csv_open_stream(f, "events.csv", err, sizeof err);
    cr_assert_null(r, "a stream that cannot be read has no header");
    cr_assert(strstr(err, "cannot read"), "%s", err);
    cr_assert_null(strstr(err, "empty file"), "%s", err);
    fclose(f);
    support_scratch_fini(&s);
}

Test(events_csv, a_cut_last_line_ends_the_input_and_says_so)
{
    char *text = file_with_row(NULL), err[512] = "";
    text[strlen(text) - 5] = '\0';
    FILE *f;
    struct events_csv_reader *r = open_text(text, &f, err, sizeof err);
    struct events_row row;
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), 0, "%s", err);
    cr_assert(events_csv_cut_short(r));
    cr_assert_eq(events_csv_line(r), 2);
    events_csv_close(r);
    fclose(f);
    free(text);
}

Test(events_csv, files_without_the_run_column_still_read)
{
    char *text = file_with_row(NULL), err[512] = "";
    /* drop ",run" from the header and the id from the row, as files of earlier versions */
    char *h = strstr(text, ",run\n");
    cr_assert_not_null(h);
    memmove(h, h + 4, strlen(h + 4) + 1);
    char *id = strstr(text, ",0123456789abcdef\n");
    cr_assert_not_null(id);
    memmove(id, id + 17, strlen(id + 17) + 1);
    FILE *f;
    struct events_csv_reader *r = open_text(text, &f, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    cr_assert_eq(events_csv_next(r, &row, err, sizeof err), 1, "%s", err);
    cr_assert_str_eq(row.run_id, "");
    events_csv_close(r);
    fclose(f);
    free(text);
}
