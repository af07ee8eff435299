#include "run_from_host.h"

#include "coverage.h"
#include "coverage_probe.h"
#include "hresult.h"

#include <stdlib.h>
#include <string.h>

/* Product groups of one kind, current first: a population tests the first its host covers. */
static const char *const kinds[][8] = {
    {"win10", "win81", "win8", "win7", NULL},
    {"ws2025", "ws2022", "ws2019", "ws2016", "ws2012r2", "ws2012", "ws2008r2"},
    {"office2024", "office2021", "office2019", "office2016", "office2013", NULL},
    {"office2010", NULL},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
#define KIND_MAX (sizeof kinds[0] / sizeof kinds[0][0])

static int kind_of(const char *kms_key)
{
    for (size_t k = 0; k < N_KINDS; k++)
        for (size_t i = 0; i < KIND_MAX && kinds[k][i]; i++)
            if (strcmp(kinds[k][i], kms_key) == 0)
                return (int)k;
    return -1;
}

static bool covered(struct coverage *cv, size_t kms)
{
    const struct coverage_group *g = coverage_group_of(cv, kms);
    return g && g->state == COVERAGE_ACTIVATED;
}

/* Why the host does not test group kms, in a few words. */
static void why_not(struct coverage *cv, size_t kms, char *out, size_t cap)
{
    const struct coverage_group *g = coverage_group_of(cv, kms);
    if (g && g->state == COVERAGE_ACTIVATED)
        snprintf(out, cap, "covered too; current products first");
    else if (!g || g->state == COVERAGE_NOT_ASKED)
        snprintf(out, cap, "not asked");
    else if (g->state == COVERAGE_REFUSED)
        snprintf(out, cap, "refused with 0x%08X %s: no host key for it", (unsigned)g->hresult,
                 status_name(g->hresult));
    else
        snprintf(out, cap, "no answer: %.100s", g->detail);
}

/* The group a population of group kms tests: the newest covered of its kind, or (size_t)-1. */
static size_t choose(const struct catalog *cat, struct coverage *cv, size_t kms)
{
    int k = kind_of(cat->kms[kms].key);
    if (k < 0)
        return covered(cv, kms) ? kms : (size_t)-1;
    for (size_t i = 0; i < KIND_MAX && kinds[k][i]; i++) {
        const struct catalog_kms *g = catalog_find_kms(cat, kinds[k][i]);
        if (g && covered(cv, (size_t)(g - cat->kms)))
            return (size_t)(g - cat->kms);
    }
    return (size_t)-1;
}

static const struct catalog_sku *first_sku_of(const struct catalog *cat, size_t kms)
{
    for (size_t i = 0; i < cat->n_skus; i++)
        if (cat->skus[i].kms == kms)
            return &cat->skus[i];
    return NULL;
}

/* Drops expectations about population name (and says so). */
static void drop_population_expectations(struct scenario *sc, const char *name, FILE *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < sc->n_expects; i++) {
        const struct scenario_expectation *e = &sc->expects[i];
        bool about = (e->kind == EXPECT_FIRST_ACTIVATION || e->kind == EXPECT_ACTIVATED) &&
                     strcmp(e->subject, name) == 0;
        /* The scenario's request total counted the skipped population's requests too. */
        bool total = e->kind == EXPECT_MIN_REQUESTS;
        if (about && out)
            fprintf(out, "    not applicable: %s\n", e->text);
        if (total && out)
            fprintf(out, "    not applicable: %s (it counted population %s)\n", e->text, name);
        about = about || total;
        if (!about)
            sc->expects[kept++] = *e;
    }
    sc->n_expects = kept;
}

/* Drops expectations about an application no population uses any more. */
static void drop_orphan_app_expectations(struct scenario *sc, const struct catalog *cat, FILE *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < sc->n_expects; i++) {
        const struct scenario_expectation *e = &sc->expects[i];
        bool used = true;
        if (e->kind == EXPECT_MAX_COUNT || e->kind == EXPECT_FINAL_COUNT) {
            used = false;
            for (size_t p = 0; p < sc->n_pops && !used; p++) {
                const struct catalog_sku *s = catalog_find_sku(cat, sc->pops[p].product);
                used = s && strcmp(cat->apps[cat->kms[s->kms].app].key, e->subject) == 0;
            }
        }
        if (!used && out)
            fprintf(out, "    not applicable: %s (no population of %s left)\n", e->text,
                    e->subject);
        if (used)
            sc->expects[kept++] = *e;
    }
    sc->n_expects = kept;
}

int run_products_from_host(struct scenario *sc, const struct catalog *cat,
                           const struct net_addrs *target, FILE *out, char *err, size_t err_len)
{
    struct coverage *cv = malloc(sizeof *cv);
    if (!cv) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    coverage_init(cv, cat);
    struct coverage_probe_options popt = {.addrs = target, .timeout_us = sc->timeout_us};
    client_session_options_default(&popt.exchange);
    char why[200];
    if (coverage_probe(cat, &popt, cv, why, sizeof why)) {
        snprintf(err, err_len, "products = from-host: cannot ask the host what its keys cover: %s",
                 why);
        free(cv);
        return -1;
    }
    coverage_judge(cv, cat);
    if (out) {
        char host[200];
        coverage_host_text(cv, host, sizeof host);
        fprintf(out, "kmsload run: products = from-host: the host (%s) activates", host);
        const char *sep = " ";
        for (size_t i = 0; i < cv->n_groups; i++)
            if (cv->groups[i].state == COVERAGE_ACTIVATED) {
                fprintf(out, "%s%s", sep, cat->kms[cv->groups[i].kms].key);
                sep = ", ";
            }
        fprintf(out, "%s\n", *sep == ' ' ? " nothing" : "");
    }
    size_t kept = 0;
    for (size_t p = 0; p < sc->n_pops; p++) {
        struct scenario_population *pop = &sc->pops[p];
        const struct catalog_sku *sku = catalog_find_sku(cat, pop->product);
        if (!sku) { /* the scenario check named it already; keep the population as written */
            sc->pops[kept++] = *pop;
            continue;
        }
        size_t want = sku->kms, got = choose(cat, cv, want);
        if (got == (size_t)-1) {
            why_not(cv, want, why, sizeof why);
            if (out)
                fprintf(out, "  skipped population %s (%s): %s\n", pop->name, cat->kms[want].name,
                        why);
            drop_population_expectations(sc, pop->name, out);
            continue;
        }
        const struct catalog_sku *use = got == want ? sku : first_sku_of(cat, got);
        if (out && got == want)
            fprintf(out, "  population %s: %s, as written\n", pop->name, sku->name);
        else if (out) {
            why_not(cv, want, why, sizeof why);
            fprintf(out, "  population %s: %s in place of %s (%s)\n", pop->name, use->name,
                    sku->name, why);
        }
        snprintf(pop->product, sizeof pop->product, "%s", use->key);
        sc->pops[kept++] = *pop;
    }
    sc->n_pops = kept;
    drop_orphan_app_expectations(sc, cat, out);
    free(cv);
    if (kept == 0) {
        snprintf(err, err_len,
                 "products = from-host: the host's keys cover none of the scenario's kinds of "
                 "product: nothing to test");
        return -2;
    }
    if (!sc->live_host) {
        sc->baseline = true;
        if (out)
            fprintf(out, "  the probe left one CMID per application in the host's count (the "
                         "reconnaissance's, counted once ever): the model starts from the counts "
                         "found\n");
    }
    return 0;
}
