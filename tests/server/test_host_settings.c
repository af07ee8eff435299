/* host_config_from_settings: the one place a host's settings become its configuration. */
#include "catalog.h"
#include "host_settings.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct catalog cat;

static void setup(void)
{
    char err[256];
    cr_assert_eq(catalog_parse(&cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
}

static void teardown(void)
{
    catalog_free(&cat);
}

TestSuite(host_settings, .init = setup, .fini = teardown);

static struct host_settings base(void)
{
    return (struct host_settings){.activation_interval = 60,
                                  .renewal_interval = 1440,
                                  .clock_mode = HOST_CLOCK_CLIENT,
                                  .ndr64 = false,
                                  .btfn = true,
                                  .seed = 7};
}

Test(host_settings, copies_the_settings_and_covers_everything_by_default)
{
    struct host_settings s = base();
    struct host_config cfg;
    struct host_coverage cov;
    char what[256];
    cr_assert_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_OK);
    cr_expect_eq(cfg.activation_interval, 60);
    cr_expect_eq(cfg.renewal_interval, 1440);
    cr_expect_eq(cfg.clock_mode, HOST_CLOCK_CLIENT);
    cr_expect_not(cfg.rpc.ndr64);
    cr_expect_eq(cfg.seed, 7);
    cr_expect_eq(cfg.lcid, 1033, "the defaults stay for what settings do not say");
    cr_expect_eq(cfg.n_covered_kms, 0);
    cr_expect_null(cfg.host_keys);
    host_coverage_free(&cov);
}

Test(host_settings, products_by_group_or_guid_with_commas_or_spaces)
{
    struct host_settings s = base();
    const struct catalog_kms *win10 = catalog_find_kms(&cat, "win10");
    cr_assert_not_null(win10);
    char list[256], id[40];
    guid_format(&win10->id, id);
    snprintf(list, sizeof list, "ws2022, %s,office2021", id);
    s.products = list;
    struct host_config cfg;
    struct host_coverage cov;
    char what[256];
    cr_assert_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_OK);
    cr_assert_eq(cfg.n_covered_kms, 3);
    cr_expect(guid_equal(&cfg.covered_kms[0], &catalog_find_kms(&cat, "ws2022")->id));
    cr_expect(guid_equal(&cfg.covered_kms[1], &win10->id));
    cr_expect(guid_equal(&cfg.covered_kms[2], &catalog_find_kms(&cat, "office2021")->id));
    host_coverage_free(&cov);
}

Test(host_settings, names_the_item_that_is_no_product_group)
{
    struct host_settings s = base();
    s.products = "win10,windows-3.11";
    struct host_config cfg;
    struct host_coverage cov;
    char what[256];
    cr_assert_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_PRODUCT);
    cr_expect_str_eq(what, "windows-3.11");
    host_coverage_free(&cov);
}

Test(host_settings, host_keys_or_products_not_both)
{
    struct host_settings s = base();
    s.products = "win10";
    s.host_keys = "ws2019";
    struct host_config cfg;
    struct host_coverage cov;
    char what[256];
    cr_expect_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_BOTH);
    host_coverage_free(&cov);
    s.products = NULL;
    cr_assert_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_OK);
    cr_assert_not_null(cfg.host_keys);
    cr_expect_eq(cfg.host_keys->n, 1);
    host_coverage_free(&cov);
    s.host_keys = "no-such-key";
    cr_expect_eq(host_config_from_settings(&s, &cat, &cfg, &cov, what, sizeof what),
                 HOST_SETTINGS_HOST_KEY);
    cr_expect_neq(what[0], '\0', "why the host key is wrong");
    host_coverage_free(&cov);
}
