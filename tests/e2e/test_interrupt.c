/* interrupt: a virtual-clock run with two threads stopped by SIGINT says so at once and records
 * the simulated time it reached (its last request), not the scenario's length. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch it;

static void setup(void)
{
    support_scratch_init(&it, "interrupt");
}

static void teardown(void)
{
    support_scratch_fini(&it);
}

/* The largest sim_s (third column) of events.csv, and the number of rows. */
static double last_sim_s(const char *events, size_t *rows)
{
    double last = -1;
    *rows = 0;
    const char *line = strchr(events, '\n');
    while (line && line[1]) {
        line++;
        const char *c1 = strchr(line, ',');
        cr_assert_not_null(c1);
        double sim = strtod(strchr(c1 + 1, ',') + 1, NULL);
        if (sim > last)
            last = sim;
        (*rows)++;
        line = strchr(line, '\n');
    }
    return last;
}

TestSuite(interrupt, .init = setup, .fini = teardown, .timeout = 60);

Test(interrupt, two_threads_record_the_time_reached_and_say_stopping_at_once)
{
    /* 30 machines joining one a minute, a host answering after 300 ms: while one thread waits
     * for its answer, the other waits at the tick barrier, where the stop reaches it. */
    char scenario[128], out[128], events[160];
    snprintf(scenario, sizeof scenario, "%s/slow.ini", it.dir);
    snprintf(out, sizeof out, "%s/run", it.dir);
    snprintf(events, sizeof events, "%s/events.csv", out);
    support_write_file(
        scenario,
        "[scenario]\nname = slow\nclock = virtual\nduration = 30d\nseed = 1\nconcurrency = 4\n"
        "[host]\nfaults = latency=300ms\n"
        "[population clients]\nproduct = win10-pro\nmachines = 30\njoin_at = 0\n"
        "join_over = 1h\n");
    const char *args[] = {"run", scenario, "--out", out, "--threads", "2", "--no-report", NULL};
    struct support_child run;
    support_start(&it, &run, args, SUPPORT_ERR_TO_OUT);

    /* Interrupted once some requests are on disk (events.csv is flushed every half second). */
    uint64_t end = support_now_ms() + 10000;
    for (;;) {
        char *text = support_slurp(events, NULL);
        size_t rows = 0;
        if (text)
            last_sim_s(text, &rows);
        free(text);
        if (rows >= 2)
            break;
        cr_assert_lt(support_now_ms(), end, "no requests recorded after 10 s");
        struct timespec ms = {0, 50000000};
        nanosleep(&ms, NULL);
    }
    cr_assert_eq(kill(run.pid, SIGINT), 0);
    int status = support_finish(&it, &run, 20000);
    char *err = support_slurp(run.out, NULL);
    cr_assert_not_null(err);
    cr_assert(status == 1, "status %d: %s", status, err);
    cr_assert_not_null(strstr(err, "kmsload: SIGINT: stopping…"), "%s", err);
    free(err);

    char *text = support_slurp(events, NULL);
    cr_assert_not_null(text);
    size_t rows = 0;
    double last = last_sim_s(text, &rows);
    free(text);
    char summary_path[160];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", out);
    json_error_t jerr;
    json_t *summary = json_load_file(summary_path, 0, &jerr);
    cr_assert_not_null(summary, "%s", jerr.text);
    cr_assert(json_is_true(json_object_get(summary, "interrupted")));
    double sim = json_number_value(json_object_get(summary, "simulated_seconds"));
    cr_assert_lt(last, 30 * 86400.0, "the run was cut short");
    cr_assert_float_eq(sim, last, 1e-3, "simulated_seconds %.3f, last request at %.3f", sim, last);
    json_decref(summary);
}
