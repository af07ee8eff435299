/* What `host --state` must refuse, and say why, without loading any of it: a client seen after the
 * file's own clock (it would never expire), an application listed twice, and a file larger than
 * any state of the catalogue can be (refused by its size, before it is parsed). */
#include "catalog.h"
#include "host.h"
#include "host_state.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static struct catalog sr_cat;
static struct support_scratch sr;

static void sr_setup(void)
{
    support_scratch_init(&sr, "state-refusals");
    char err[256];
    cr_assert_eq(catalog_parse(&sr_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0);
}

static void sr_teardown(void)
{
    support_scratch_fini(&sr);
    catalog_free(&sr_cat);
}

TestSuite(state_refusals, .init = sr_setup, .fini = sr_teardown);

static struct kms_host *sr_host(void)
{
    struct host_config cfg;
    char err[256];
    host_config_default(&cfg, &sr_cat);
    struct kms_host *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    cr_assert_eq(host_init(h, &cfg, err, sizeof err), 0, "%s", err);
    return h;
}

/* Loads text as a state file; returns host_state_load's result, the message in err. */
static int sr_load(const char *text, char *err, size_t err_len, size_t *office_clients)
{
    char path[128];
    support_scratch_path(&sr, "state.json", path, sizeof path);
    support_write_file(path, text);
    struct kms_host *h = sr_host();
    bool loaded = false;
    err[0] = '\0';
    int rc = host_state_load(h, path, &loaded, err, err_len);
    cr_expect_eq(loaded, rc == 0);
    size_t office = (size_t)(catalog_find_app(&sr_cat, "office2013") - sr_cat.apps);
    if (office_clients)
        *office_clients = h->caches[office].n;
    free(h);
    return rc;
}

#define SR_OFFICE "\"id\": \"0ff1ce15-a989-479d-af46-f275c6370663\""
#define SR_CMID1 "\"cmid\": \"00000000-0000-0000-0000-000000000001\""
#define SR_CMID2 "\"cmid\": \"00000000-0000-0000-0000-000000000002\""

Test(state_refusals, a_client_seen_after_the_files_clock_is_refused)
{
    char err[512];
    size_t n = 99;
    /* 2026 is fine on a real-clock host (client_clock 0: the system clock is the file's). */
    cr_expect_eq(sr_load("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,"
                         " \"applications\": [{" SR_OFFICE ", \"clients\": [{" SR_CMID1
                         ", \"last_seen\": 134000000000000000}]}]}",
                         err, sizeof err, &n),
                 0, "%s", err);
    cr_expect_eq(n, 1);
    /* The year 7000: nothing would ever expire. */
    cr_expect_eq(sr_load("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,"
                         " \"applications\": [{" SR_OFFICE ", \"clients\": [{" SR_CMID1
                         ", \"last_seen\": 2650000000000000000}]}]}",
                         err, sizeof err, NULL),
                 -1);
    cr_expect(strstr(err, "last_seen is") && strstr(err, "after the file's clock"), "%s", err);
    cr_expect(strstr(err, "client 1"), "%s", err);
}

Test(state_refusals, an_application_listed_twice_is_refused)
{
    char err[512];
    cr_expect_eq(sr_load("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,"
                         " \"applications\": ["
                         "{" SR_OFFICE ", \"clients\": [{" SR_CMID1 ", \"last_seen\": 1}]},"
                         "{" SR_OFFICE ", \"clients\": [{" SR_CMID2 ", \"last_seen\": 1}]}]}",
                         err, sizeof err, NULL),
                 -1, "the first list would be dropped silently");
    cr_expect(strstr(err, "office2013 is listed twice"), "%s", err);
}

Test(state_refusals, a_file_larger_than_any_state_is_refused_before_parsing)
{
    /* 60 MB of well-formed clients: parsed whole it takes hundreds of MB. */
    char path[128];
    support_scratch_path(&sr, "huge.json", path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,"
          " \"applications\": [{" SR_OFFICE ", \"clients\": [",
          f);
    for (unsigned i = 0; i < 800000; i++)
        fprintf(f, "%s{\"cmid\": \"00000000-0000-0000-0000-%012u\", \"last_seen\": 1}",
                i ? "," : "", i);
    fputs("]}]}\n", f);
    fclose(f);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    struct kms_host *h = sr_host();
    bool loaded = true;
    char err[512];
    cr_expect_eq(host_state_load(h, path, &loaded, err, sizeof err), -1);
    cr_expect_not(loaded);
    getrusage(RUSAGE_SELF, &after);
    free(h);
    cr_expect(strstr(err, "larger than the state of") != NULL, "refused by its size: %s", err);
    cr_expect_lt(after.ru_maxrss - before.ru_maxrss, 64 * 1024, "%ld kB more at the peak",
                 after.ru_maxrss - before.ru_maxrss);
}
