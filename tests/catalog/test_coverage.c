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

/* Answers as a genuine host with these keys gives them: each group with its own key's ePID. */
static void cv_answer_genuine(struct coverage *cv, const char *keys_text, unsigned build)
{
    struct host_keys keys;
    char err[256];
    cr_assert_eq(host_keys_parse(&cv_cat, keys_text, &keys, err, sizeof err), 0, "%s", err);
    coverage_init(cv, &cv_cat);
    for (size_t i = 0; i < cv->n_groups; i++) {
        struct coverage_group *g = &cv->groups[i];
        const struct catalog_csvlk *k = host_keys_answering(&cv_cat, &keys, g->kms);
        if (!k) {
            g->state = COVERAGE_REFUSED;
            g->hresult = 0xC004F042;
            continue;
        }
        unsigned long id = k->key_min + 12345;
        g->state = COVERAGE_ACTIVATED;
        g->count = 2;
        snprintf(g->epid, sizeof g->epid, "03612-%05u-%03lu-%06lu-03-1033-%u.0000-0022026",
                 k->group, id / 1000000, id % 1000000, build);
    }
    coverage_judge(cv, &cv_cat);
}

/* Issue 19 item 4: a host that activates everything on a 2012 R2 build with one ePID for every
 * Windows group is not a genuine host, and coverage says why; a genuine 2022 host is. */
Test(coverage, impossible_answers_are_findings_and_genuine_ones_are_not)
{
    static struct coverage cv;
    /* vlmcsd's signature: every key, build 9600, one Server 2019 ePID for everything. */
    cv_answer(&cv, "ws2025,office2024,office2021,office2010", 9600);
    cr_expect_not(cv.genuine);
    bool key_os = false, epid_key = false;
    for (size_t i = 0; i < cv.n_findings; i++) {
        key_os = key_os || (strcmp(cv.findings[i].kind, "key-os") == 0 &&
                            strstr(cv.findings[i].reason, "Windows Server 2012 R2 (build 9600), "
                                                          "which cannot carry the Windows Server "
                                                          "2025 host key"));
        epid_key = epid_key || (strcmp(cv.findings[i].kind, "epid-key") == 0 &&
                                strstr(cv.findings[i].reason, "Windows Server 2025 was answered "
                                                              "with ePID group 206"));
    }
    cr_expect(key_os && epid_key, "findings: %zu, first: %s", cv.n_findings,
              cv.n_findings ? cv.findings[0].reason : "");

    cv_answer_genuine(&cv, "ws2022,office2021", 20348);
    cr_expect(cv.genuine, "finding: %s", cv.n_findings ? cv.findings[0].reason : "");
    cr_expect_eq(cv.n_findings, 0);
    char text[200];
    coverage_result_text(cv_group(&cv, "office2021"), text, sizeof text);
    cr_expect_str_eq(text, "the key covers it (count 2 \xE2\x80\x94 clients activate at 5)");
    /* Office LTSC 2024 on a 2019 host: the key cannot be installed there. */
    cv_answer_genuine(&cv, "office2024", 17763);
    cr_expect_not(cv.genuine);
}
