/*
 * Expectations written for a fresh host, adjusted to what the reconnaissance found (recon.h):
 * a host that already counts machines is judged on top of them, never failed for them.
 */
#include "recon.h"

#include <stdarg.h>
#include <string.h>

static void note(struct recon *recon, FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(struct recon *recon, FILE *out, const char *fmt, ...)
{
    char line[sizeof recon->notes[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (out)
        fprintf(out, "  %s\n", line);
    if (recon->n_notes < RECON_MAX_NOTES)
        memcpy(recon->notes[recon->n_notes++], line, sizeof line);
}

/* The product group of population pop (by name), or NULL. */
static const struct catalog_kms *pop_kms(const struct scenario *sc, const struct catalog *cat,
                                         const char *pop)
{
    for (size_t p = 0; p < sc->n_pops; p++)
        if (strcmp(sc->pops[p].name, pop) == 0) {
            const struct catalog_sku *s = catalog_find_sku(cat, sc->pops[p].product);
            return s ? &cat->kms[s->kms] : NULL;
        }
    return NULL;
}

static size_t app_index(const struct catalog *cat, const char *key)
{
    const struct catalog_app *a = catalog_find_app(cat, key);
    return a ? (size_t)(a - cat->apps) : (size_t)-1;
}

/* Machines the host counted of app before the run (0 when unknown). */
static unsigned counted(const struct recon *recon, size_t app)
{
    return app < recon->n_apps && recon->apps[app].counted ? recon->apps[app].count : 0;
}

/* The largest count any used application had: machines then activate sooner. */
static size_t busiest_app(const struct recon *recon)
{
    size_t best = (size_t)-1;
    for (size_t a = 0; a < recon->n_apps; a++)
        if (recon->apps[a].used && counted(recon, a) &&
            (best == (size_t)-1 || counted(recon, a) > counted(recon, best)))
            best = a;
    return best;
}

#define DAY_US (86400LL * 1000000LL)

/* An exact count is not applicable when the host counted more than the reconnaissance's own
 * CMID: some may be the run's own machines (an earlier run with the same seed sends the same
 * CMIDs), which a genuine host does not count again. */
static bool not_exact(struct recon *recon, const struct scenario_expectation *e, unsigned c,
                      const char *app_name, FILE *out)
{
    note(recon, out,
         "not applicable: %.60s: the host already counted %u %s machine%s, and which of them are "
         "this run's own (an earlier run with the same seed) is unknown",
         e->text, c, app_name, c == 1 ? "" : "s");
    return false;
}

/* One expectation: true to keep it (perhaps shifted), false to set it aside. */
static bool adjust(struct recon *recon, struct scenario_expectation *e, const struct scenario *sc,
                   const struct catalog *cat, FILE *out)
{
    switch (e->kind) {
    case EXPECT_FIRST_ACTIVATION: {
        const struct catalog_kms *kms = pop_kms(sc, cat, e->subject);
        unsigned c = kms ? counted(recon, kms->app) : 0;
        if (c == 0)
            return true;
        /* Above the group's threshold, the count was reached by the run's other machines
         * first: the host's own come on top. At the threshold, it stays there unless the host
         * is past it already. */
        unsigned cap = 2 * cat->apps[kms->app].threshold;
        if (c > 1) /* which of them are the run's own (an earlier run, same seed) is unknown */
            return not_exact(recon, e, c, cat->apps[kms->app].name, out);
        if (e->value > (double)kms->n_policy && e->value + c <= (double)cap) {
            char was[sizeof e->text];
            memcpy(was, e->text, sizeof was);
            const char *eq = strchr(was, '=');
            e->value += c;
            snprintf(e->text, sizeof e->text,
                     "%.*s= %.0f (%.0f + %u the host counted before the run)",
                     eq ? (int)(eq - was) : 0, was, e->value, e->value - c, c);
            note(recon, out, "shifted: %.60s to %.0f: the host already counted %u %s machine%s",
                 was, e->value, c, cat->apps[kms->app].name, c == 1 ? "" : "s");
            return true;
        }
        if ((double)c < e->value && e->value <= (double)kms->n_policy)
            return true;
        note(recon, out,
             "not applicable: %.60s: the host already counted %u %s machines, so the first of "
             "%.40s activates %s",
             e->text, c, cat->apps[kms->app].name, e->subject,
             (double)c >= e->value ? "at once" : "at a count the run does not decide");
        return false;
    }
    case EXPECT_MAX_COUNT:
    case EXPECT_FINAL_COUNT: {
        size_t app = app_index(cat, e->subject);
        unsigned c = counted(recon, app);
        if (c == 0)
            return true;
        unsigned cap = 2 * cat->apps[app].threshold;
        if (e->kind == EXPECT_FINAL_COUNT && c > 1)
            return not_exact(recon, e, c, cat->apps[app].name, out);
        if (e->kind == EXPECT_FINAL_COUNT &&
            (sc->duration_us >= 30 * DAY_US || e->value + c > (double)cap)) {
            note(recon, out, "not applicable: %.60s: the host already counted %u %s machine%s, %s",
                 e->text, c, cat->apps[app].name, c == 1 ? "" : "s",
                 sc->duration_us >= 30 * DAY_US ? "and some of them leave its count during the "
                                                  "run (30 days after their last request)"
                                                : "and its cache may be full before the end");
            return false;
        }
        char was[sizeof e->text];
        memcpy(was, e->text, sizeof was);
        /* No more than the host's cache holds once its clients have asked (spec §10). */
        double shifted =
            e->value + c > (double)cap && e->value <= (double)cap ? (double)cap : e->value + c;
        const char *eq = strchr(was, '=');
        snprintf(e->text, sizeof e->text,
                 "%.*s= %.0f (%.0f + %u the host counted before the run%s)",
                 eq ? (int)(eq - was) : 0, was, shifted, e->value, c,
                 shifted < e->value + c ? ", at most its cache" : "");
        if (shifted == e->value) /* already the cache's size: nothing to add */
            note(recon, out,
                 "kept: %.60s: the host already counted %u %s machine%s, but its cache holds no "
                 "more than %u",
                 was, c, cat->apps[app].name, c == 1 ? "" : "s", cap);
        else
            note(recon, out, "shifted: %.60s to %.0f: the host already counted %u %s machine%s",
                 was, shifted, c, cat->apps[app].name, c == 1 ? "" : "s");
        e->value = shifted;
        return true;
    }
    case EXPECT_MIN_REQUESTS: {
        size_t app = busiest_app(recon);
        double machines = 0; /* each asks at least once, however soon it activates */
        for (size_t p = 0; p < sc->n_pops; p++)
            machines += sc->pops[p].machines;
        if (app == (size_t)-1 || e->value <= machines)
            return true;
        note(recon, out,
             "not applicable: %.60s: it counts the requests of machines that wait for the "
             "threshold; the host already counted %u %s machine%s, so machines activate sooner "
             "and ask less",
             e->text, counted(recon, app), cat->apps[app].name,
             counted(recon, app) == 1 ? "" : "s");
        return false;
    }
    default:
        return true;
    }
}

void recon_adjust_expectations(struct recon *recon, struct scenario *sc, const struct catalog *cat,
                               FILE *out)
{
    if (!recon->done)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < sc->n_expects; i++) {
        struct scenario_expectation e = sc->expects[i];
        if (adjust(recon, &e, sc, cat, out))
            sc->expects[kept++] = e;
    }
    sc->n_expects = kept;
}
