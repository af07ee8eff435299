/*
 * Same seed, same run (issue 19 item 6): the multi-host migration scenario run three times, with
 * 1, 2 and 3 threads, against its embedded hosts gives the same requests, in the same simulated
 * order, with the same outcomes and counts: events.csv is identical apart from wall time (and
 * client_time: simulated time counts from the wall-clock start), latency, the completion sequence
 * and the run id.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KMSLOAD_SOURCE_DIR
#error "KMSLOAD_SOURCE_DIR must name the source tree"
#endif

static struct support_scratch dt;

static void dt_init(void)
{
    support_scratch_init(&dt, "determinism");
}

static void dt_fini(void)
{
    support_scratch_fini(&dt);
}

TestSuite(determinism, .init = dt_init, .fini = dt_fini, .timeout = 120);

static int dt_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* events.csv without the columns that may differ (seq, wall_s, client_time, latency_us, run), rows
 * sorted (threads complete in any order; what each request was and got must not differ). */
static char *dt_events(const char *dir, size_t *n_rows)
{
    char path[512];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text, "no %s", path);
    size_t cap = 1024, n = 0;
    char **rows = malloc(cap * sizeof *rows);
    cr_assert_not_null(rows);
    /* Column positions from the header. */
    int skip[64] = {0};
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    cr_assert_not_null(line);
    {
        int col = 0;
        for (char *p = line; p; col++) {
            char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if ((len == 3 && strncmp(p, "seq", 3) == 0) ||
                (len == 6 && strncmp(p, "wall_s", 6) == 0) ||
                (len == 11 && strncmp(p, "client_time", 11) == 0) ||
                (len == 10 && strncmp(p, "latency_us", 10) == 0) ||
                (len == 3 && strncmp(p, "run", 3) == 0))
                skip[col] = 1;
            p = comma ? comma + 1 : NULL;
        }
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        /* No quoted commas in these rows: the fields are numbers, keys and GUIDs. */
        char *kept = calloc(1, strlen(line) + 1);
        cr_assert_not_null(kept);
        int col = 0;
        for (char *p = line; p; col++) {
            char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (col < 64 && !skip[col]) {
                size_t at = strlen(kept);
                memcpy(kept + at, p, len);
                kept[at + len] = ',';
                kept[at + len + 1] = '\0';
            }
            p = comma ? comma + 1 : NULL;
        }
        if (n == cap) {
            cap *= 2;
            rows = realloc(rows, cap * sizeof *rows);
            cr_assert_not_null(rows);
        }
        rows[n++] = kept;
    }
    qsort(rows, n, sizeof *rows, dt_cmp);
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(rows[i]) + 1;
    char *all = malloc(total);
    cr_assert_not_null(all);
    all[0] = '\0';
    char *end = all;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(rows[i]);
        memcpy(end, rows[i], len);
        end[len] = '\n';
        end += len + 1;
        free(rows[i]);
    }
    *end = '\0';
    free(rows);
    free(text);
    *n_rows = n;
    return all;
}

Test(determinism, migration_runs_are_identical_with_any_thread_count)
{
    static const char *const threads[] = {"1", "2", "3"};
    char *first = NULL;
    size_t first_rows = 0;
    for (size_t i = 0; i < 3; i++) {
        char out[256];
        support_scratch_path(&dt, "migration", out, sizeof out);
        const char *args[] = {
            "run",       KMSLOAD_SOURCE_DIR "/scenarios/migration-2012-to-2022.ini",
            "--threads", threads[i],
            "--out",     out,
            "-q",        "--no-report",
            NULL};
        struct support_child c;
        support_start(&dt, &c, args, 0);
        cr_assert_eq(support_finish(&dt, &c, 60000), 0, "run %zu (%s threads) failed", i,
                     threads[i]);
        size_t rows = 0;
        char *events = dt_events(out, &rows);
        if (!first) {
            first = events;
            first_rows = rows;
            cr_expect_gt(rows, 3000, "the migration makes thousands of requests");
            continue;
        }
        cr_expect_eq(rows, first_rows, "run with %s threads: %zu requests, first run %zu",
                     threads[i], rows, first_rows);
        const char *d = events, *f = first;
        while (*d && *d == *f)
            d++, f++;
        cr_expect(strcmp(events, first) == 0,
                  "run with %s threads: events.csv differs from the first run at \"%.120s\" "
                  "(first run: \"%.120s\")",
                  threads[i], d, f);
        free(events);
    }
    free(first);
}
