/*
 * A run directory as report and merge read it: the input is events.csv, then a line "----",
 * then summary.json. The reader, the aggregation, the summary builder, the report's chart data
 * and index.html (gnuplot kept out of PATH) and merge (the directory as the one shard of a run)
 * must turn any of it into output or a message, never a crash, a sanitizer finding or a hang.
 */
#include "events_csv.h"
#include "merge.h"
#include "report.h"
#include "run_tally.h"
#include "summary_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char run_dir[64] = "/tmp/kmsload-fuzz-run-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!mkdtemp(run_dir))
        abort();
    setenv("KMSLOAD_REPORTS", KMSLOAD_SOURCE_DIR "/reports", 1);
    setenv("PATH", "/nonexistent", 1); /* no gnuplot: no fork per input */
    return 0;
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", run_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, len, f);
    fclose(f);
}

/* Every row through the reader into a tally, as report does for a run without summary.json. */
static void read_rows(const uint8_t *data, size_t len)
{
    FILE *f = fmemopen((void *)data, len, "r");
    char err[512];
    if (!f)
        return;
    struct events_csv_reader *r =
        len ? events_csv_open_stream(f, "events.csv", err, sizeof err) : NULL;
    struct run_tally *t = calloc(1, sizeof *t);
    struct events_row *row = malloc(sizeof *row);
    run_tally_init(t, 4);
    while (r && t && row && events_csv_next(r, row, err, sizeof err) > 0) {
        row->ev.population_index = (int)(row->ev.machine % 4);
        run_tally_add(t, &row->ev);
    }
    struct run_info info = {.target = "fuzz", .interrupted = true};
    json_decref(summary_json_build(&info, t, NULL, 0));
    free(row);
    free(t);
    events_csv_close(r);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n----\n";
    const uint8_t *cut = memmem(data, size, sep, sizeof sep - 1);
    size_t events_len = cut ? (size_t)(cut - data) + 1 : size;
    read_rows(data, events_len);
    write_file("events.csv", data, events_len);
    if (cut)
        write_file("summary.json", cut + sizeof sep - 1, size - events_len - (sizeof sep - 2));
    else {
        char path[128];
        snprintf(path, sizeof path, "%s/summary.json", run_dir);
        unlink(path);
    }
    char err[2048];
    report_write(run_dir, err, sizeof err);
    char out[128];
    snprintf(out, sizeof out, "%s/merged", run_dir);
    const char *runs[] = {run_dir};
    struct merge_options opt = {.out_dir = out, .run_dirs = runs, .n_runs = 1};
    struct merge_result res;
    merge_runs(&opt, &res, err, sizeof err);
    return 0;
}
