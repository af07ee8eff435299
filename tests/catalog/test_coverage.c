/* The coverage judgement (kms/coverage.c): host OS from the ePID, the host keys a coverage
 * matches, and the advice for refused groups. */
#include "catalog.h"
#include "coverage.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct catalog cv_cat;

static void cv_setup(void)
{
    char err[512];
    cr_assert_eq(catalog_parse(&cv_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0, "%s",
                 err);
}

static void cv_teardown(void)
{
    catalog_free(&cv_cat);
}

TestSuite(coverage, .init = cv_setup, .fini = cv_teardown);

/* Answers as a host with these keys on this build would give them. */
static void cv_answer(struct coverage *cv, const char *keys_text, unsigned build)
{
    struct host_keys keys;
    char err[256];
    cr_assert_eq(host_keys_parse(&cv_cat, keys_text, &keys, err, sizeof err), 0, "%s", err);
    coverage_init(cv, &cv_cat);
    for (size_t i = 0; i < cv->n_groups; i++) {
        struct coverage_group *g = &cv->groups[i];
        if (host_keys_cover(&cv_cat, &keys, g->kms)) {
            g->state = COVERAGE_ACTIVATED;
            g->count = 1;
            snprintf(g->epid, sizeof g->epid, "03612-00206-565-823180-03-1033-%u.0000-0022026",
                     build);
        } else {
            g->state = COVERAGE_REFUSED;
            g->hresult = 0xC004F042;
        }
    }
    coverage_judge(cv, &cv_cat);
}

static const struct coverage_group *cv_group(struct coverage *cv, const char *kms)
{
    const struct catalog_kms *k = catalog_find_kms(&cv_cat, kms);
    cr_assert_not_null(k, "%s", kms);
    const struct coverage_group *g = coverage_group_of(cv, (size_t)(k - cv_cat.kms));
    cr_assert_not_null(g, "%s", kms);
    return g;
}

Test(coverage, a_2012_r2_host_gets_kb_and_csvlk_advice)
{
    static struct coverage cv;
    cv_answer(&cv, "ws2012r2", 9600);
    char text[200];
    coverage_host_text(&cv, text, sizeof text);
    cr_expect_str_eq(text, "Windows Server 2012 R2 (build 9600)");
    cr_assert_eq(cv.matched.n, 1);
    cr_expect_str_eq(cv_cat.csvlks[cv.matched.key[0]].key, "ws2012r2");
    cr_expect_eq(cv.n_unexplained, 0);
    cr_expect_eq(cv_group(&cv, "ws2012")->state, COVERAGE_ACTIVATED);
    const struct coverage_group *g = cv_group(&cv, "ws2016");
    cr_expect_eq(g->state, COVERAGE_REFUSED);
    cr_expect_str_eq(g->advice, "Windows Server 2016 clients: install a Windows Server 2016 CSVLK; "
                                "this host runs Windows Server 2012 R2 (build 9600), which needs "
                                "KB3172614 first");
    g = cv_group(&cv, "ws2019");
    cr_expect(strstr(g->advice, "Windows Server 2019 CSVLK") && strstr(g->advice, "KB4467695"),
              "%s", g->advice);
    g = cv_group(&cv, "ws2025");
    cr_expect(strstr(g->advice, "cannot carry it") &&
                  strstr(g->advice, "Windows Server 2019 with KB5034768"),
              "%s", g->advice);
}

Test(coverage, a_2019_host_with_the_2022_key_is_told_about_kb5034768)
{
    static struct coverage cv;
    cv_answer(&cv, "ws2022", 17763);
    const struct coverage_group *g = cv_group(&cv, "ws2025");
    cr_expect_eq(g->state, COVERAGE_REFUSED);
    cr_expect_str_eq(g->advice, "Windows Server 2025 clients: install a Windows Server 2025 CSVLK; "
                                "this host runs Windows Server 2019 (build 17763), which needs "
                                "KB5034768 first");
    cr_expect_eq(cv_group(&cv, "ws2022")->state, COVERAGE_ACTIVATED);
    cr_expect_eq(cv_group(&cv, "win10-ltsc2024")->state, COVERAGE_REFUSED);
}

Test(coverage, several_keys_are_matched_together)
{
    static struct coverage cv;
    cv_answer(&cv, "ws2019,office2016,office2010,win10-gov", 17763);
    char keys[512] = "";
    for (size_t i = 0; i < cv.matched.n; i++) {
        strcat(keys, cv_cat.csvlks[cv.matched.key[i]].key);
        strcat(keys, " ");
    }
    cr_expect_eq(cv.matched.n, 4, "%s", keys);
    cr_expect(strstr(keys, "ws2019 ") && strstr(keys, "office2016 ") &&
                  strstr(keys, "office2010 ") && strstr(keys, "win10-gov "),
              "%s", keys);
    const struct coverage_group *g = cv_group(&cv, "office2021");
    cr_expect_str_eq(g->advice, "Office LTSC 2021 clients: install an Office LTSC 2021 host key; "
                                "this host runs Windows Server 2019 (build 17763), which can "
                                "carry it as is");
}

Test(coverage, groups_to_require_are_parsed)
{
    size_t out[8], n = 0;
    char err[256];
    cr_expect_eq(coverage_parse_groups(&cv_cat, "ws2025, win10", out, 8, &n, err, sizeof err), 0);
    cr_expect_eq(n, 2);
    cr_expect_eq(coverage_parse_groups(&cv_cat, "ws2025,nope", out, 8, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "\"nope\""), "%s", err);
}
