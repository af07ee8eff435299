/*
 * The host's files when the disk or the operator gets in the way: --state checked at start
 * (a directory, a missing directory), stale temporaries removed, the real errno of a failed
 * save (a file-size limit gives EFBIG, as a full disk gives ENOSPC), and --log rows dropped whole
 * (never a torn last line) and counted.
 */
#include "catalog.h"
#include "host.h"
#include "host_log.h"
#include "host_state.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static struct catalog hf_cat;
static struct support_scratch hf;

static void hf_setup(void)
{
    char err[256];
    cr_assert_eq(catalog_parse(&hf_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0);
    support_scratch_init(&hf, "hostfiles");
}

static void hf_teardown(void)
{
    support_scratch_fini(&hf);
    catalog_free(&hf_cat);
}

TestSuite(host_files, .init = hf_setup, .fini = hf_teardown);

static struct kms_host *hf_host(unsigned clients)
{
    struct host_config cfg;
    char err[256];
    host_config_default(&cfg, &hf_cat);
    struct kms_host *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    cr_assert_eq(host_init(h, &cfg, err, sizeof err), 0, "%s", err);
    for (unsigned i = 0; i < clients; i++) {
        struct guid g;
        memset(&g, 0, sizeof g);
        g.b[0] = (uint8_t)i;
        g.b[1] = (uint8_t)(i >> 8);
        client_cache_touch(&h->caches[0], &g, 25, 133000000000000000ULL);
    }
    return h;
}

Test(host_files, state_path_is_checked_at_start)
{
    char path[256], err[512];
    unsigned removed = 99;
    /* A directory given as the file. */
    cr_expect_eq(host_state_prepare(hf.dir, &removed, err, sizeof err), -1);
    cr_expect(strstr(err, "is a directory") != NULL, "%s", err);
    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/missing/state.json", hf.dir);
    cr_expect_eq(host_state_prepare(path, &removed, err, sizeof err), -1);
    cr_expect(strstr(err, strerror(ENOENT)) != NULL, "%s", err);
    cr_expect(strstr(err, "/missing") != NULL, "names the directory: %s", err);
    /* A read-only directory (root writes anyway: nothing to show then). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", hf.dir);
        cr_assert_eq(mkdir(path, 0555), 0);
        snprintf(path, sizeof path, "%s/ro/state.json", hf.dir);
        cr_expect_eq(host_state_prepare(path, &removed, err, sizeof err), -1);
        cr_expect(strstr(err, strerror(EACCES)) != NULL, "%s", err);
    }
    /* A good path: nothing left behind by the check. */
    snprintf(path, sizeof path, "%s/state.json", hf.dir);
    cr_expect_eq(host_state_prepare(path, &removed, err, sizeof err), 0, "%s", err);
    cr_expect_eq(removed, 0);
    cr_expect_neq(access(path, F_OK), 0, "the check creates no state file");
}

Test(host_files, stale_temporaries_are_removed_at_start)
{
    char path[256], stale[300], other[300], err[512];
    snprintf(path, sizeof path, "%s/state.json", hf.dir);
    static const char *const leftovers[] = {".tmp.12345", ".tmp.00ffee0011223344"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(stale, sizeof stale, "%s%s", path, leftovers[i]);
        FILE *f = fopen(stale, "w");
        cr_assert_not_null(f);
        fputs("{\"half\":", f);
        fclose(f);
    }
    snprintf(other, sizeof other, "%s/other.json.tmp.1", hf.dir); /* not ours */
    FILE *f = fopen(other, "w");
    cr_assert_not_null(f);
    fclose(f);
    unsigned removed = 0;
    cr_assert_eq(host_state_prepare(path, &removed, err, sizeof err), 0, "%s", err);
    cr_expect_eq(removed, 2);
    snprintf(stale, sizeof stale, "%s.tmp.12345", path);
    cr_expect_neq(access(stale, F_OK), 0);
    cr_expect_eq(access(other, F_OK), 0, "another file's temporaries are left alone");
}

/* A failed save names the real error: a file-size limit (SIGXFSZ ignored, as the host does)
 * makes write() fail with EFBIG partway, the way a full disk gives ENOSPC. */
Test(host_files, a_failed_save_reports_the_real_errno)
{
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/state.json", hf.dir);
    struct kms_host *h = hf_host(40);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {512, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_expect_eq(host_state_save(h, path, err, sizeof err), -1);
    cr_expect(strstr(err, strerror(EFBIG)) != NULL, "%s", err);
    cr_expect(strstr(err, strerror(EBADF)) == NULL, "%s", err);
    cr_expect_neq(access(path, F_OK), 0, "no half-written state file");
    rl.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &rl);
    /* No temporary is left behind either. */
    unsigned removed = 0;
    cr_expect_eq(host_state_prepare(path, &removed, err, sizeof err), 0, "%s", err);
    cr_expect_eq(removed, 0);
    free(h);
}

static struct host_request_record hf_record(unsigned i)
{
    struct host_request_record rec;
    memset(&rec, 0, sizeof rec);
    rec.host_time = 133000000000000000ULL + i;
    rec.decoded = true;
    rec.app = 0;
    rec.count = i;
    rec.request.major = 6;
    rec.request.n_policy = 25;
    rec.request.client_time = rec.host_time;
    kms_request_set_workstation(&rec.request, "ws-01.example.test");
    return rec;
}

/* Every line of text is a whole row of 16 fields (the header included). */
static void hf_expect_whole_rows(const char *text, size_t *rows)
{
    *rows = 0;
    cr_expect(text[0] == '\0' || text[strlen(text) - 1] == '\n', "a torn last line");
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            break;
        unsigned commas = 0;
        for (const char *p = line; p < end; p++)
            commas += *p == ',';
        cr_expect_eq(commas, 15, "row %zu: %.*s", *rows, (int)(end - line), line);
        (*rows)++;
        line = end + 1;
    }
}

Test(host_files, log_rows_are_dropped_whole_and_counted)
{
    char path[256], err[700];
    snprintf(path, sizeof path, "%s/requests.csv", hf.dir);
    struct host_log log;
    cr_assert_eq(host_log_open(&log, path, &hf_cat, err, sizeof err), 0, "%s", err);
    for (unsigned i = 0; i < 5; i++) {
        struct host_request_record rec = hf_record(i);
        host_log_request(&rec, "127.0.0.1:50000", &log);
    }
    cr_assert_eq(host_log_flush(&log, err, sizeof err), 0, "%s", err);
    /* Now the disk is "full" a few hundred bytes on: a write stops partway. */
    signal(SIGXFSZ, SIG_IGN);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    struct rlimit rl = {(rlim_t)st.st_size + 300, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    for (unsigned i = 0; i < 10; i++) {
        struct host_request_record rec = hf_record(100 + i);
        host_log_request(&rec, "127.0.0.1:50000", &log);
    }
    cr_expect_eq(host_log_flush(&log, err, sizeof err), -1, "the first loss is reported");
    cr_expect(strstr(err, strerror(EFBIG)) != NULL, "%s", err);
    cr_expect(strstr(err, "10 rows lost") != NULL, "%s", err);
    /* The partial write was taken back, so one more row fits again... */
    struct host_request_record rec = hf_record(200);
    host_log_request(&rec, "127.0.0.1:50000", &log);
    cr_expect_eq(host_log_flush(&log, err, sizeof err), 0);
    /* ...and later losses are only counted, not reported again. */
    for (unsigned i = 0; i < 4; i++) {
        rec = hf_record(300 + i);
        host_log_request(&rec, "127.0.0.1:50000", &log);
    }
    cr_expect_eq(host_log_flush(&log, err, sizeof err), 0, "reported once");
    cr_expect_eq(host_log_close(&log, err, sizeof err), -1);
    cr_expect(strstr(err, "14 rows not written (File too large)") != NULL, "%s", err);
    rl.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &rl);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text);
    size_t rows;
    hf_expect_whole_rows(text, &rows);
    cr_expect_eq(rows, 1 + 5 + 1, "the header, the rows before the limit and the one that fit");
    free(text);
}

Test(host_files, log_to_a_full_device_reports_once)
{
    char err[700];
    struct host_log log;
    cr_assert_eq(host_log_open(&log, "/dev/full", &hf_cat, err, sizeof err), 0, "%s", err);
    struct host_request_record rec = hf_record(1);
    host_log_request(&rec, "127.0.0.1:50000", &log);
    cr_expect_eq(host_log_flush(&log, err, sizeof err), -1);
    cr_expect(strstr(err, "cannot write log /dev/full: No space left on device") != NULL, "%s",
              err);
    host_log_request(&rec, "127.0.0.1:50000", &log);
    cr_expect_eq(host_log_close(&log, err, sizeof err), -1);
    cr_expect(strstr(err, "2 rows not written (No space left on device)") != NULL, "%s", err);
}

Test(host_files, log_path_is_checked_at_start)
{
    char path[256], err[700];
    struct host_log log;
    cr_expect_eq(host_log_open(&log, hf.dir, &hf_cat, err, sizeof err), -1);
    cr_expect(strstr(err, strerror(EISDIR)) != NULL, "%s", err);
    snprintf(path, sizeof path, "%s/missing/requests.csv", hf.dir);
    cr_expect_eq(host_log_open(&log, path, &hf_cat, err, sizeof err), -1);
    cr_expect(strstr(err, strerror(ENOENT)) != NULL, "%s", err);
}
