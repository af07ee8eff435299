/*
 * Whole-scenario checks, once the file and the --set overrides have been applied: required
 * keys, leave and arrivals defaults, the results directory name, references from [expect].
 */
#include "scenario_parts.h"

#include <stdio.h>
#include <string.h>

static void finish_population(struct parse_ctx *c, size_t i)
{
    struct scenario_population *p = &c->sc->pops[i];
    const struct section_state *st = &c->pops[i];
    char label[SCENARIO_NAME_MAX + 16];
    scenario_section_label(c, SEC_POPULATION, i, label, sizeof label);
    size_t k_product = scenario_spec_index(SEC_POPULATION, "product");
    size_t k_machines = scenario_spec_index(SEC_POPULATION, "machines");
    size_t k_leave = scenario_spec_index(SEC_POPULATION, "leave");
    size_t k_leave_at = scenario_spec_index(SEC_POPULATION, "leave_at");
    size_t k_arrivals = scenario_spec_index(SEC_POPULATION, "arrivals");

    if (!st->keys[k_product] || !st->keys[k_machines]) {
        scenario_fail(&c->diag, p->line, "[%s]: missing key \"%s\"", label,
                      !st->keys[k_product] ? "product" : "machines");
        return;
    }
    /* Leaving: leave_at alone means the whole fleet leaves; a share needs to know when. */
    if (st->keys[k_leave] && p->leave_share > 0 && !st->keys[k_leave_at]) {
        char got[32];
        snprintf(got, sizeof got, "%g", p->leave_share);
        scenario_fail_value(&c->diag, st->keys[k_leave], label, "leave",
                            "needs leave_at, the time the machines start leaving", got);
        return;
    }
    if (st->keys[k_leave_at] && !st->keys[k_leave])
        p->leave_share = 1.0;
    if (!st->keys[k_leave_at] || p->leave_share == 0) {
        p->leave_share = 0;
        p->leave_at_us = SCENARIO_NEVER;
        p->leave_over_us = 0;
    }

    if (!p->open) {
        if (p->machines == 0)
            scenario_fail_value(
                &c->diag, st->keys[k_machines], label, "machines",
                "expected a number 1..10000000 (0 only with arrivals: as many as the "
                "stages bring)",
                "0");
        return;
    }
    /* Open: machines caps the arrivals; 0 means as many as the stages bring. */
    double total = 0;
    for (size_t s = 0; s < p->n_stages; s++)
        total += (double)p->stages[s].duration_us / (double)US_PER_S *
                 (p->stages[s].rate_from + p->stages[s].rate_to) / 2.0;
    if (p->machines == 0) {
        /* Rounded up, without an extra machine for rounding noise (and without libm). */
        double want = total - 1e-6;
        double n = want > 2.0 * MACHINES_MAX ? want : (double)(uint64_t)(want > 0 ? want : 0);
        if (n < want)
            n += 1;
        char problem[160];
        if (n < 1 || n > MACHINES_MAX) {
            snprintf(problem, sizeof problem,
                     "with machines = 0 the stages bring %.0f machines; that must be 1..%u (set "
                     "machines to cap them)",
                     n < 0 ? 0 : n, MACHINES_MAX);
            scenario_fail(&c->diag, st->keys[k_arrivals], "[%s] arrivals: %s", label, problem);
            return;
        }
        p->machines = (uint32_t)n;
    }
}

/* The name becomes a directory (out/NAME): NULL when it can only be that one directory. */
static const char *name_path_problem(const char *name)
{
    if (!name[0])
        return "is empty";
    if (name[0] == '.')
        return "starts with '.' (a hidden or parent directory)";
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == '\\')
            return "contains a path separator";
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "contains a control character";
    }
    return NULL;
}

/*
 * No silent pass: what a run must show unless the scenario says otherwise. Every answer agrees
 * with the model (model_mismatches = 0), no HRESULT outside allowed_hresults (key refusals,
 * clock refusals and host errors each count: unexpected_hresults = 0), and every contact was
 * answered (unanswered = 0, unless the scenario states error_rate or unanswered itself).
 */
static void imply_defaults(struct parse_ctx *c)
{
    struct scenario *sc = c->sc;
    static const struct {
        enum expect_kind kind;
        enum expect_kind or_kind; /* a stated expectation of this kind also replaces it */
        const char *key;
    } implied[] = {
        {EXPECT_MODEL_MISMATCHES, EXPECT_MODEL_MISMATCHES, "model_mismatches"},
        {EXPECT_UNEXPECTED_HRESULTS, EXPECT_UNEXPECTED_HRESULTS, "unexpected_hresults"},
        {EXPECT_UNANSWERED, EXPECT_ERROR_RATE, "unanswered"},
    };
    size_t n_given = sc->n_expects;
    for (size_t k = 0; k < sizeof implied / sizeof implied[0]; k++) {
        bool stated = false;
        for (size_t i = 0; i < n_given; i++)
            stated = stated || sc->expects[i].kind == implied[k].kind ||
                     sc->expects[i].kind == implied[k].or_kind;
        if (stated)
            continue;
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS) {
            scenario_fail(&c->diag, c->expect_line,
                          "[expect]: %d expectations leave no room for the implied %s = 0; give "
                          "%s explicitly in place of one",
                          SCENARIO_MAX_EXPECTATIONS, implied[k].key, implied[k].key);
            return;
        }
        struct scenario_expectation *e = &sc->expects[sc->n_expects];
        *e = (struct scenario_expectation){.kind = implied[k].kind, .value = 0, .line = 0};
        snprintf(e->text, sizeof e->text, "%s = 0 (default)", implied[k].key);
        c->expect_lines[sc->n_expects++] = 0;
    }
}

void scenario_finish(struct parse_ctx *c)
{
    struct scenario *sc = c->sc;
    const char *name_problem = name_path_problem(sc->name);
    if (name_problem) {
        unsigned line = c->scenario.keys[scenario_spec_index(SEC_SCENARIO, "name")];
        size_t shown = 0; /* the name up to its first control character */
        while (sc->name[shown] && (unsigned char)sc->name[shown] >= 0x20 && sc->name[shown] != 0x7f)
            shown++;
        scenario_fail(
            &c->diag, line,
            "[scenario] name: %s; the name is the results directory out/NAME, so it may not "
            "contain '/', '\\' or control characters nor start with '.'%s (got \"%.*s\")",
            name_problem, line ? "" : " (it defaults to the file name: set name = ...)", (int)shown,
            sc->name);
        return;
    }
    if (sc->products[0] && strcmp(sc->products, "from-host") != 0) {
        scenario_fail(&c->diag, 0,
                      "[scenario] products: expected from-host (test what the host's keys cover) "
                      "or nothing (got \"%s\")",
                      sc->products);
        return;
    }
    if (sc->n_pops == 0) {
        scenario_fail(&c->diag, 0,
                      "no [population NAME] section: a scenario needs at least one population");
        return;
    }
    for (size_t i = 0; i < sc->n_pops && !c->diag.failed; i++)
        finish_population(c, i);
    for (size_t i = 0; i < sc->n_expects && !c->diag.failed; i++) {
        const struct scenario_expectation *e = &sc->expects[i];
        if ((e->kind == EXPECT_FIRST_ACTIVATION || e->kind == EXPECT_ACTIVATED) &&
            scenario_find_population(sc, e->subject) == (size_t)-1) {
            char known[SCENARIO_MAX_POPULATIONS * SCENARIO_NAME_MAX];
            scenario_list_populations(sc, known, sizeof known);
            const char *eq = strstr(e->text, " = ");
            scenario_fail(
                &c->diag, c->expect_lines[i],
                "[expect] %.*s: there is no [population %s] section (populations: %s) (got "
                "\"%g\")",
                eq ? (int)(eq - e->text) : (int)strlen(e->text), e->text, e->subject, known,
                e->value);
            return;
        }
    }
    if (c->diag.failed)
        return;
    imply_defaults(c);
}
