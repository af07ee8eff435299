/* The largest N_Policy seen is part of the host's persisted state (spec §10): a restarted host
 * keeps its capacity, and state files written before it was saved still load. */
#include "catalog.h"
#include "host.h"
#include "host_state.h"
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct catalog sc_cat;

static struct kms_host *sc_host(void)
{
    struct host_config cfg;
    char err[256];
    host_config_default(&cfg, &sc_cat);
    struct kms_host *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    cr_assert_eq(host_init(h, &cfg, err, sizeof err), 0, "%s", err);
    return h;
}

static struct support_scratch sc;

static void sc_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/state.json", sc.dir);
}

static void sc_setup(void)
{
    support_scratch_init(&sc, "state-cap");
    char err[256];
    cr_assert_eq(catalog_parse(&sc_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0);
}

static void sc_teardown(void)
{
    support_scratch_fini(&sc);
    catalog_free(&sc_cat);
}

TestSuite(state_capacity, .init = sc_setup, .fini = sc_teardown);

Test(state_capacity, a_restart_keeps_the_capacity)
{
    char path[128], err[256];
    sc_path(path, sizeof path);
    struct kms_host *h = sc_host();
    size_t win = (size_t)(catalog_find_app(&sc_cat, "windows") - sc_cat.apps);
    struct guid g;
    memset(&g, 0, sizeof g);
    client_cache_touch(&h->caches[win], &g, 25, 133000000000000000ULL);
    cr_assert_eq(client_cache_capacity(&h->caches[win]), 50);
    cr_assert_eq(host_state_save(h, path, err, sizeof err), 0, "%s", err);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "\"max_n_policy\": 25"), "%s", text);
    free(text);
    struct kms_host *again = sc_host();
    bool loaded = false;
    cr_assert_eq(host_state_load(again, path, &loaded, err, sizeof err), 0, "%s", err);
    cr_expect(loaded);
    cr_expect_eq(again->caches[win].max_n_policy, 25);
    cr_expect_eq(client_cache_capacity(&again->caches[win]), 50);
    free(h);
    free(again);
}

Test(state_capacity, old_files_without_max_n_policy_load_with_the_threshold)
{
    char path[128], err[256];
    sc_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,\n"
          " \"applications\": [{\"application\": \"office2013\",\n"
          "  \"id\": \"0ff1ce15-a989-479d-af46-f275c6370663\", \"clients\": [\n"
          "  {\"cmid\": \"00000000-0000-0000-0000-000000000001\", \"last_seen\": 1}]}]}\n",
          f);
    fclose(f);
    struct kms_host *h = sc_host();
    bool loaded = false;
    cr_assert_eq(host_state_load(h, path, &loaded, err, sizeof err), 0, "%s", err);
    cr_expect(loaded);
    size_t office = (size_t)(catalog_find_app(&sc_cat, "office2013") - sc_cat.apps);
    cr_expect_eq(h->caches[office].n, 1);
    cr_expect_eq(h->caches[office].max_n_policy, 5, "older hosts sized the cache at 2 x 5");
    cr_expect_eq(client_cache_capacity(&h->caches[office]), 10);
    free(h);
}

Test(state_capacity, a_bad_max_n_policy_is_reported)
{
    char path[128], err[256];
    sc_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"format\": \"kmsload-host-state\", \"version\": 1, \"client_clock\": 0,\n"
          " \"applications\": [{\"id\": \"0ff1ce15-a989-479d-af46-f275c6370663\",\n"
          "  \"max_n_policy\": 1001, \"clients\": []}]}\n",
          f);
    fclose(f);
    struct kms_host *h = sc_host();
    bool loaded = true;
    cr_expect_eq(host_state_load(h, path, &loaded, err, sizeof err), -1);
    cr_expect_not(loaded);
    cr_expect(strstr(err, "max_n_policy"), "%s", err);
    free(h);
}
