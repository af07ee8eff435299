/* The shipped scenarios name products and applications the catalogue knows: the load generator
 * joins the two (fleet_build looks each population's product up), so the check lives here. */
#include "catalog.h"
#include "scenario.h"

#include <criterion/criterion.h>
#include <stdio.h>

Test(scenario_products, shipped_scenarios_name_known_products_and_applications)
{
    struct catalog cat;
    char err[1024] = "";
    cr_assert_eq(catalog_parse(&cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
    static const char *const files[] = {"smoke.ini", "threshold-climb.ini"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/scenarios/%s", KMSLOAD_SOURCE_DIR, files[f]);
        static struct scenario sc;
        cr_assert_eq(scenario_load(&sc, path, NULL, 0, err, sizeof err), 0, "%s", err);
        for (size_t i = 0; i < sc.n_pops; i++)
            cr_expect_not_null(catalog_find_sku(&cat, sc.pops[i].product), "%s: product %s",
                               files[f], sc.pops[i].product);
        for (size_t i = 0; i < sc.n_expects; i++) {
            const struct scenario_expectation *e = &sc.expects[i];
            if (e->kind == EXPECT_MAX_COUNT || e->kind == EXPECT_FINAL_COUNT)
                cr_expect_not_null(catalog_find_app(&cat, e->subject), "%s: app %s", files[f],
                                   e->subject);
        }
    }
    catalog_free(&cat);
}
