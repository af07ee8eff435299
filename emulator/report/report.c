/* A run's report: events.csv and summary.json in, charts/ and index.html out (see report.h). */
#include "report_parts.h"

#include "summary_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KMSLOAD_VERSION
#define KMSLOAD_VERSION "unknown"
#endif

/* ---- the whole ---- */

/* Where the report reads and writes. */
struct report_paths {
    char dir[1024], events[1200], summary[1200], charts_dir[1200], reports_dir[1024];
};

/* The run directory checked and its paths; returns REPORT_OK or REPORT_BAD_INPUT. */
static int report_locate(const char *run_dir, struct report_paths *p, char *err, size_t err_len)
{
    if (!run_dir || !*run_dir || strlen(run_dir) >= sizeof p->dir) {
        report_set_err(err, err_len, "run directory name %s",
                       run_dir && *run_dir ? "too long" : "missing");
        return REPORT_BAD_INPUT;
    }
    snprintf(p->dir, sizeof p->dir, "%s", run_dir);
    size_t dl = strlen(p->dir);
    while (dl > 1 && p->dir[dl - 1] == '/')
        p->dir[--dl] = '\0';
    if (!report_is_dir(p->dir)) {
        report_set_err(err, err_len, "%s: %s", p->dir,
                       access(p->dir, F_OK) == 0 ? "not a directory" : "no such run directory");
        return REPORT_BAD_INPUT;
    }
    report_path_join(p->events, sizeof p->events, p->dir, "events.csv");
    report_path_join(p->summary, sizeof p->summary, p->dir, "summary.json");
    report_path_join(p->charts_dir, sizeof p->charts_dir, p->dir, CHART_PREFIX);
    if (!report_is_file(p->events)) {
        report_set_err(err, err_len, "%s: not a run directory (no events.csv)", p->dir);
        return REPORT_BAD_INPUT;
    }
    return REPORT_OK;
}

/* summary.json when there is one (*root NULL otherwise); REPORT_OK or REPORT_BAD_INPUT. */
static int load_summary(const char *path, json_t **root, char *err, size_t err_len)
{
    *root = NULL;
    if (!report_is_file(path))
        return REPORT_OK;
    *root = summary_json_load(path, err, err_len);
    return *root ? REPORT_OK : REPORT_BAD_INPUT;
}

/* The clock: summary.json says; older summaries are told by the times. False when unknown. */
static bool clock_from_summary(const json_t *root, bool *virtual_clock)
{
    const char *clock = root ? report_jstring(root, "clock", NULL) : NULL;
    if (clock) {
        *virtual_clock = strcmp(clock, "virtual") == 0;
        return true;
    }
    if (!root)
        return false;
    *virtual_clock = report_jnumber(root, "simulated_seconds", 0) >
                     2 * report_jnumber(root, "wall_seconds", 0) + 1;
    return true;
}

/* events.csv into g (a first pass tells the clock when no summary does), and into totals. */
static int aggregate(const char *events, const json_t *root, struct agg *g,
                     struct report_totals *totals, bool *cut_short, char *err, size_t err_len)
{
    bool virtual_clock = false;
    int rc = REPORT_OK;
    struct report_run_id run = {.from_summary = root != NULL};
    snprintf(run.id, sizeof run.id, "%s", root ? report_jstring(root, "run_id", "") : "");
    if (!clock_from_summary(root, &virtual_clock)) {
        if (agg_init(g, false) != 0) {
            report_set_err(err, err_len, "out of memory");
            return REPORT_FAILED;
        }
        rc = report_read_events(events, g, NULL, &run, cut_short, err, err_len);
        virtual_clock = g->max_sim > 2 * g->max_wall + 1;
        agg_free(g);
    }
    if (rc == REPORT_OK && agg_init(g, virtual_clock) != 0) {
        report_set_err(err, err_len, "out of memory");
        return REPORT_FAILED;
    }
    if (rc == REPORT_OK)
        rc = report_read_events(events, g, totals, &run, cut_short, err, err_len);
    return rc;
}

/* The summary of a run that never wrote one: made from events.csv alone by the one builder. */
static json_t *summary_from_events(const struct agg *g, struct report_totals *totals)
{
    totals->scenario->clock = g->virtual_clock ? SCENARIO_CLOCK_VIRTUAL : SCENARIO_CLOCK_REAL;
    totals->tally->n_pops = totals->scenario->n_pops;
    struct run_info info = {
        .scenario = totals->scenario,
        .target = "unknown (no summary.json)",
        .wall_seconds = g->max_wall,
        .sim_us = llround(g->max_sim * 1e6),
        .interrupted = true,
        .interrupt_reason = "the run did not finish: no summary.json, this report is made from "
                            "events.csv alone",
        .kmsload_version = KMSLOAD_VERSION,
    };
    return summary_json_build(&info, totals->tally, NULL, 0);
}

/* Chart data, charts and index.html of an aggregated run. */
static int render(const struct report_paths *p, const struct agg *g, const json_t *root,
                  bool cut_short, char *err, size_t err_len)
{
    if (mkdir(p->charts_dir, 0777) != 0 && errno != EEXIST) {
        report_set_err(err, err_len, "cannot create %s: %s", p->charts_dir, strerror(errno));
        return REPORT_FAILED;
    }
    struct chartctx cx = {
        .charts_dir = p->charts_dir,
        /* simulated days; hours for runs shorter than two simulated days */
        .unit = !g->virtual_clock         ? 1.0
                : g->t_end >= 2 * 86400.0 ? 86400.0
                                          : 3600.0,
        .rate_unit = g->virtual_clock ? 3600.0 : 1.0,
    };
    if (report_write_chart_data(g, &cx, err, err_len) != 0)
        return REPORT_FAILED;
    char why_not[256] = "";
    struct report_page page = {
        .run_dir = p->dir,
        .charts_dir = p->charts_dir,
        .reports_dir = p->reports_dir,
        .root = root,
        .virtual_clock = g->virtual_clock,
        .why_not = why_not,
        .notes = cut_short ? "The last line of events.csv was cut short (the run was stopped "
                             "while writing it) and is left out."
                           : "",
    };
    page.drawn = report_draw_charts(g, &cx, p->dir, p->reports_dir, why_not, sizeof why_not);
    page.hosts_drawn = page.drawn && report_hosts_chart(p->dir, p->charts_dir, p->reports_dir, root,
                                                        g->virtual_clock);
    return report_write_index(&page, err, err_len);
}

int report_write(const char *run_dir, char *err, size_t err_len)
{
    struct report_paths *p = calloc(1, sizeof *p);
    struct agg *g = calloc(1, sizeof *g);
    struct report_totals totals = {calloc(1, sizeof *totals.tally),
                                   calloc(1, sizeof *totals.scenario)};
    json_t *root = NULL;
    bool cut_short = false;
    int rc = p && g && totals.tally && totals.scenario ? REPORT_OK : REPORT_FAILED;
    if (rc == REPORT_OK)
        rc = report_locate(run_dir, p, err, err_len);
    if (rc == REPORT_OK)
        rc = load_summary(p->summary, &root, err, err_len);
    if (rc == REPORT_OK && !report_find_reports_dir(p->reports_dir, sizeof p->reports_dir)) {
        report_set_err(err, err_len,
                       "cannot find the report templates (reports/report.html): set "
                       "KMSLOAD_REPORTS to the reports/ directory of kmsload");
        rc = REPORT_FAILED;
    }
    if (rc == REPORT_OK) {
        run_tally_init(totals.tally, SCENARIO_MAX_POPULATIONS);
        rc = aggregate(p->events, root, g, &totals, &cut_short, err, err_len);
    }
    if (rc == REPORT_OK) {
        double run_end =
            root ? report_jnumber(root, g->virtual_clock ? "simulated_seconds" : "wall_seconds", 0)
                 : 0;
        agg_finish(g, isfinite(run_end) && run_end > 0 && run_end < MAX_T_S ? run_end : 0);
        if (!root)
            root = summary_from_events(g, &totals);
        rc = root ? render(p, g, root, cut_short, err, err_len) : REPORT_FAILED;
    }
    if (g)
        agg_free(g);
    json_decref(root);
    free(totals.scenario);
    free(totals.tally);
    free(g);
    free(p);
    return rc;
}
