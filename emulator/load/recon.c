#include "recon.h"

#include "coverage.h"
#include "coverage_probe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void recon_skip(struct recon *recon, const char *why)
{
    memset(recon, 0, sizeof *recon);
    snprintf(recon->skipped, sizeof recon->skipped, "%.500s", why);
    snprintf(recon->clock, sizeof recon->clock, "not checked");
}

static bool app_used(const struct catalog *cat, const struct scenario *sc, size_t app)
{
    for (size_t p = 0; p < sc->n_pops; p++) {
        const struct catalog_sku *s = catalog_find_sku(cat, sc->pops[p].product);
        if (s && cat->kms[s->kms].app == app)
            return true;
    }
    return false;
}

/* The counts per application and the key groups, from the coverage's answers. */
static void recon_from_coverage(struct recon *recon, const struct catalog *cat,
                                const struct coverage *cv)
{
    size_t len = 0;
    for (size_t i = 0; i < cv->n_groups; i++) {
        const struct coverage_group *g = &cv->groups[i];
        if (g->state != COVERAGE_ACTIVATED)
            continue;
        size_t app = cat->kms[g->kms].app;
        /* The same CMID for every group of an application: the largest count is the latest. */
        if (app < recon->n_apps &&
            (!recon->apps[app].counted || g->count > recon->apps[app].count)) {
            recon->apps[app].counted = true;
            recon->apps[app].count = g->count;
        }
        if (len < sizeof recon->key_groups)
            len += (size_t)snprintf(recon->key_groups + len, sizeof recon->key_groups - len, "%s%s",
                                    len ? ", " : "", cat->kms[g->kms].key);
    }
    recon->build = cv->build;
    recon->genuine = cv->genuine;
    coverage_host_text(cv, recon->host_os, sizeof recon->host_os);
    coverage_keys_text(cv, cat, recon->host_keys, sizeof recon->host_keys);
}

int recon_run(struct recon *recon, const struct catalog *cat, const struct scenario *sc,
              const struct net_addrs *addrs, int64_t timeout_us, char *err, size_t err_len)
{
    recon_skip(recon, "");
    recon->n_apps = cat->n_apps < RECON_MAX_APPS ? cat->n_apps : RECON_MAX_APPS;
    for (size_t a = 0; a < recon->n_apps; a++) {
        snprintf(recon->apps[a].key, sizeof recon->apps[a].key, "%s", cat->apps[a].key);
        snprintf(recon->apps[a].name, sizeof recon->apps[a].name, "%s", cat->apps[a].name);
        recon->apps[a].used = app_used(cat, sc, a);
        recon->apps[a].cmid = coverage_probe_cmid(&cat->apps[a]);
    }
    struct coverage *cv = malloc(sizeof *cv);
    if (!cv) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    coverage_init(cv, cat);
    /* A host that stops answering is left to the run (which reports it), not waited for. */
    struct coverage_probe_options popt = {
        .addrs = addrs, .timeout_us = timeout_us, .give_up_after = 2, .check_clock = true};
    client_session_options_default(&popt.exchange);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    recon->at_ft = filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
    char why[400];
    if (coverage_probe(cat, &popt, cv, why, sizeof why)) {
        snprintf(err, err_len, "reconnaissance: %s", why);
        free(cv);
        return -1;
    }
    coverage_judge(cv, cat);
    recon->requests = (unsigned)cv->n_groups + (cv->clock != COVERAGE_CLOCK_NOT_ASKED);
    snprintf(recon->clock, sizeof recon->clock, "%s", coverage_clock_text(cv->clock));
    recon_from_coverage(recon, cat, cv);
    free(cv);
    recon->done = true;
    return 0;
}

void recon_print(const struct recon *recon, const struct catalog *cat, FILE *out)
{
    if (!recon->done)
        return;
    fprintf(out, "kmsload run: reconnaissance: the host runs %s; it activates %s; clock: %s\n",
            recon->host_os, recon->key_groups[0] ? recon->key_groups : "nothing", recon->clock);
    for (size_t a = 0; a < recon->n_apps; a++) {
        const struct recon_app *ra = &recon->apps[a];
        if (!ra->used)
            continue;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&ra->cmid, cmid);
        if (ra->counted)
            fprintf(out,
                    "kmsload run: the host already counted %u %s machine%s (reconnaissance, CMID "
                    "%s, kmsload's own and counted once ever, among them): the model starts "
                    "there\n",
                    ra->count, cat->apps[a].name, ra->count == 1 ? "" : "s", cmid);
        else
            fprintf(out,
                    "kmsload run: the host gave no count for %s (no product group of it "
                    "activated): its count is learned from the run's first answer\n",
                    cat->apps[a].name);
    }
}

void recon_note_clock(struct recon *recon, const struct scenario *sc, bool checked,
                      const struct engine_outcome *eo)
{
    (void)sc;
    if (!recon->done)
        return;
    /* The run's own check (its first machine, dated 5 hours ago) has the last word. */
    if (eo->target_checks_time)
        snprintf(recon->clock, sizeof recon->clock,
                 "checks client time: it refused a request dated 5 hours ago (0xC004F06C)");
    else if (checked && eo->notice[0])
        snprintf(recon->clock, sizeof recon->clock, "unknown: %.280s", eo->notice);
    else if (checked)
        snprintf(recon->clock, sizeof recon->clock,
                 "follows client time: it answered a request dated 5 hours ago");
}

void recon_for_run(struct recon *recon, const struct catalog *cat, struct scenario *sc,
                   const struct net_addrs *target, const char *skip, FILE *out)
{
    char err[512];
    if (!skip && !sc->reconnaissance)
        skip = "reconnaissance = off in the scenario: the model starts from a fresh host";
    if (skip) {
        recon_skip(recon, skip);
        return;
    }
    if (recon_run(recon, cat, sc, target, sc->timeout_us, err, sizeof err)) {
        recon_skip(recon, err);
        if (out)
            fprintf(out, "kmsload run: %s; the run judges the host from its answers\n", err);
        return;
    }
    if (out)
        recon_print(recon, cat, out);
    recon_adjust_expectations(recon, sc, cat, out);
}
