#include "fleet_report.h"

#include "atomic_file.h"
#include "errmsg.h"
#include "estate_json.h"
#include "markup.h"
#include "report_parts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DAY (86400ULL * FILETIME_PER_SECOND)

static const char *const charts[] = {"count", "requests", "products", "expiry"};
static const char *const captions[] = {
    "The count each application's counter held at the end of each day, rebuilt from the "
    "requests with the genuine rules (the event does not log it), with the thresholds clients "
    "need: 25 for Windows clients, 5 for servers and Office.",
    "Requests per day: activated (count at or above the client's N_Policy), below threshold "
    "(answered with a count the client still waits on), refused (an HRESULT).",
    "Machines per product (SKU), as the catalogue names them; unknown SKUs by ID.",
    "When each machine's activation lapses if the host disappeared at the end of the log: 180 "
    "days after its last activated answer, or its remaining grace if it never activated."};

static int write_data(const struct estate *e, const char *charts_dir, size_t *napps, char *err,
                      size_t err_len)
{
    char path[4400];
    const struct catalog *cat = e->cat;
    snprintf(path, sizeof path, "%s/fleet_count.dat", charts_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return errmsg_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "day");
    *napps = 0;
    size_t apps[8];
    for (size_t a = 0; a < cat->n_apps && *napps < 8; a++)
        if (e->apps[a].requests) {
            apps[(*napps)++] = a;
            fprintf(f, " \"%s\"", cat->apps[a].name);
        }
    fprintf(f, "\n");
    for (size_t d = 0; d < e->n_days; d++) {
        fprintf(f, "%zu", d);
        for (size_t k = 0; k < *napps; k++) {
            const struct estate_app *app = &e->apps[apps[k]];
            fprintf(f, " %u", d < app->n_days_filled ? app->days[d].count_end : 0);
        }
        fprintf(f, "\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/fleet_requests.dat", charts_dir);
    if (!(f = fopen(path, "w")))
        return errmsg_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "day activated \"below threshold\" refused\n");
    for (size_t d = 0; d < e->n_days; d++)
        fprintf(f, "%zu %llu %llu %llu\n", d,
                (unsigned long long)e->days[d].outcomes[ESTATE_ACTIVATED],
                (unsigned long long)e->days[d].outcomes[ESTATE_BELOW],
                (unsigned long long)e->days[d].outcomes[ESTATE_REFUSED]);
    fclose(f);
    snprintf(path, sizeof path, "%s/fleet_products.dat", charts_dir);
    if (!(f = fopen(path, "w")))
        return errmsg_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
    for (size_t i = 0; i < e->n_products; i++) {
        char name[160];
        estate_product_name(e, &e->products[i], name, sizeof name);
        for (char *p = name; *p; p++)
            if (*p == '"')
                *p = '\'';
        fprintf(f, "%zu %llu \"%s\"\n", i, (unsigned long long)e->products[i].machines, name);
    }
    fclose(f);
    /* Machines per week until their activation lapses, from the end of the log (-1: lapsed). */
    uint64_t weeks[30] = {0};
    for (size_t i = 0; i < e->n_machines; i++) {
        uint64_t lapse = estate_machine_lapse(&e->machines[i]);
        if (!lapse)
            continue;
        long w = lapse <= e->last ? 0 : (long)((lapse - e->last) / (7 * DAY)) + 1;
        weeks[w < 29 ? w : 29]++;
    }
    snprintf(path, sizeof path, "%s/fleet_expiry.dat", charts_dir);
    if (!(f = fopen(path, "w")))
        return errmsg_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
    for (int w = 0; w < 30; w++)
        fprintf(f, "%d %llu\n", w == 0 ? -7 : (w - 1) * 7, (unsigned long long)weeks[w]);
    fclose(f);
    return 0;
}

static void cell_num(FILE *f, json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "<td class=\"num\">%lld</td>", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "<td class=\"num\">%.2f</td>", json_real_value(v));
    else {
        fputs("<td>", f);
        markup_text(f, json_is_string(v) ? json_string_value(v) : "", 200);
        fputs("</td>", f);
    }
}

/* One row per finding item: kind, what, how many, an example. */
static void findings_table(FILE *f, json_t *findings)
{
    if (json_array_size(findings) == 0) {
        fputs("<p>No finding: no cloned CMID, every application reached what its clients need, "
              "nothing lapses within 30 days, no error.</p>\n",
              f);
        return;
    }
    fputs("<table class=\"grid\"><tr><th>finding</th><th>what</th><th>count</th>"
          "<th>why it matters</th></tr>\n",
          f);
    for (size_t i = 0; i < json_array_size(findings); i++) {
        json_t *o = json_array_get(findings, i);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        const char *why = json_string_value(json_object_get(o, "why"));
        char what[400] = "";
        json_t *count = NULL;
        if (strcmp(kind, "duplicate-cmid") == 0) {
            snprintf(what, sizeof what, "CMIDs shared by %lld machine names",
                     (long long)json_integer_value(json_object_get(o, "names")));
            count = json_object_get(o, "cmids");
        } else if (strcmp(kind, "near-expiry") == 0) {
            snprintf(what, sizeof what, "machines lapsing within 30 days (%lld already)",
                     (long long)json_integer_value(json_object_get(o, "lapsed")));
            count = json_object_get(o, "machines");
        } else if (strcmp(kind, "not-covered") == 0) {
            snprintf(what, sizeof what, "machines of products the given keys refuse");
            count = json_object_get(o, "machines");
        }
        if (count) {
            fputs("<tr><td>", f);
            markup_text(f, kind, 64);
            fputs("</td><td>", f);
            markup_text(f, what, sizeof what);
            fputs("</td>", f);
            cell_num(f, count);
            fputs("<td>", f);
            markup_text(f, why ? why : "", 600);
            fputs("</td></tr>\n", f);
            continue;
        }
        json_t *items =
            json_object_get(o, strcmp(kind, "error") == 0 ? "by_product" : "applications");
        for (size_t k = 0; k < json_array_size(items); k++) {
            json_t *x = json_array_get(items, k);
            if (strcmp(kind, "error") == 0) {
                snprintf(what, sizeof what, "%s %s on %s (%lld machines)",
                         json_string_value(json_object_get(x, "hresult")),
                         json_string_value(json_object_get(x, "name")),
                         json_string_value(json_object_get(json_object_get(x, "product"), "name")),
                         (long long)json_integer_value(json_object_get(x, "machines")));
                count = json_object_get(x, "requests");
                why = json_string_value(json_object_get(x, "meaning"));
            } else {
                const char *when = json_string_value(json_object_get(x, "would_reach_at"));
                snprintf(what, sizeof what,
                         "%s: count %lld at most, its clients need %lld; would reach it: %s",
                         json_string_value(json_object_get(x, "application")),
                         (long long)json_integer_value(json_object_get(x, "max_count")),
                         (long long)json_integer_value(json_object_get(x, "needs")),
                         when ? when : "not at the current rate");
                count = json_object_get(x, "machines_needing");
            }
            fputs("<tr><td>", f);
            markup_text(f, kind, 64);
            fputs("</td><td>", f);
            markup_text(f, what, sizeof what);
            fputs("</td>", f);
            cell_num(f, count);
            fputs("<td>", f);
            markup_text(f, why ? why : "", 600);
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</table>\n", f);
}

static void table(FILE *f, json_t *rows, const char *const *keys, const char *const *heads,
                  size_t n)
{
    fputs("<table class=\"grid\"><tr>", f);
    for (size_t k = 0; k < n; k++)
        fprintf(f, "<th>%s</th>", heads[k]);
    fputs("</tr>\n", f);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        fputs("<tr>", f);
        for (size_t k = 0; k < n; k++)
            cell_num(f, json_object_get(r, keys[k]));
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Draws the four charts (PNG and SVG) into charts_dir; false when any could not be drawn
 * (stderr says why). */
static bool draw_charts(const struct estate *e, const char *charts_dir, size_t napps)
{
    char reports[1024], gnuplot[1024];
    if (!report_find_reports_dir(reports, sizeof reports)) {
        fprintf(stderr, "kmsload fleet: the reports/ directory (gnuplot scripts) was not found: "
                        "index.html without charts\n");
        return false;
    }
    if (!report_find_gnuplot(gnuplot, sizeof gnuplot)) {
        fprintf(stderr, "kmsload fleet: gnuplot not found: index.html without charts (apt-get "
                        "install gnuplot-nox)\n");
        return false;
    }
    char script[1100], from[32];
    snprintf(script, sizeof script, "%s/fleet.gp", reports);
    estate_time_text(e->first, from, sizeof from);
    from[10] = '\0';
    bool drawn = true;
    for (size_t c = 0; c < sizeof charts / sizeof *charts; c++)
        for (int svg = 0; svg < 2; svg++) {
            char params[256];
            snprintf(params, sizeof params, "fmt='%s'; chart='%s'; napps=%zu; from='%s'",
                     svg ? "svg" : "png", charts[c], napps, from);
            if (report_run_gnuplot(gnuplot, charts_dir, script, params) != 0)
                drawn = false;
        }
    if (!drawn)
        fprintf(stderr, "kmsload fleet: gnuplot failed (see %s/gnuplot.log)\n", charts_dir);
    return drawn;
}

static void page_head(FILE *f, json_t *doc)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>kmsload fleet</title>\n<style>\n"
          "  body { font-family: -apple-system, \"Segoe UI\", Helvetica, Arial, sans-serif; "
          "margin: 0 auto; max-width: 1100px; padding: 1.5em; color: #222; background: #fff; "
          "line-height: 1.4; }\n"
          "  h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: "
          "1px solid #ddd; padding-bottom: .2em; }\n"
          "  table { border-collapse: collapse; margin: .4em 1.2em 1em 0; }\n"
          "  table.grid th, table.grid td { border: 1px solid #ddd; padding: .25em .6em; }\n"
          "  table.grid th { background: #f5f5f5; text-align: left; }\n"
          "  td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
          "  figure.chart { margin: 1.2em 0 2em 0; }\n"
          "  figure.chart svg { width: 100%; height: auto; max-width: 1000px; display: block; }\n"
          "  figcaption { color: #555; font-size: .92em; max-width: 1000px; }\n"
          "  footer { margin-top: 3em; color: #777; font-size: .85em; }\n"
          "</style>\n</head>\n<body>\n<h1>The fleet in the KMS host's log</h1>\n",
          f);
    fprintf(f, "<p>%lld requests from %s to %s: %lld machines (distinct CMIDs). Names: %s.</p>\n",
            (long long)json_integer_value(json_object_get(doc, "requests")),
            json_string_value(json_object_get(doc, "from")),
            json_string_value(json_object_get(doc, "to")),
            (long long)json_integer_value(json_object_get(doc, "machines")),
            json_string_value(json_object_get(doc, "names")));
}

static void page_tables(FILE *f, json_t *doc)
{
    fputs("<h2>Findings</h2>\n", f);
    findings_table(f, json_object_get(doc, "findings"));
    fputs("<h2>Applications</h2>\n", f);
    static const char *const akeys[] = {"name",      "machines",        "requests",
                                        "activated", "below_threshold", "refused",
                                        "max_count", "final_count"};
    static const char *const aheads[] = {"application",   "machines",        "requests",
                                         "activated",     "below threshold", "refused",
                                         "highest count", "count at the end"};
    table(f, json_object_get(doc, "applications"), akeys, aheads, 8);
    fputs("<h2>Products</h2>\n", f);
    static const char *const pkeys[] = {
        "name",    "application",     "machines",      "vm_share",   "requests",
        "refused", "renewal_minutes", "retry_minutes", "first_seen", "last_seen"};
    static const char *const pheads[] = {
        "product", "application",   "machines",    "VM share",   "requests",
        "refused", "renewal (min)", "retry (min)", "first seen", "last seen"};
    table(f, json_object_get(doc, "products"), pkeys, pheads, 10);
}

static void page_charts(FILE *f, const char *charts_dir, bool drawn)
{
    char path[4400];
    fputs("<h2>Charts</h2>\n", f);
    for (size_t c = 0; c < sizeof charts / sizeof *charts; c++) {
        snprintf(path, sizeof path, "%s/fleet-%s.svg", charts_dir, charts[c]);
        fputs("<figure class=\"chart\">\n", f);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "fleet-%s", charts[c]);
        if (!drawn || !report_inline_svg(f, path, prefix))
            fputs("<p>(chart not drawn: see the message of kmsload fleet)</p>\n", f);
        fprintf(f,
                "<figcaption>%s <a href=\"charts/fleet-%s.svg\">SVG</a> &middot; <a "
                "href=\"charts/fleet-%s.png\">PNG</a></figcaption>\n</figure>\n",
                captions[c], charts[c], charts[c]);
    }
}

int fleet_report_write(const struct estate *e, json_t *doc, const char *dir, char *err,
                       size_t err_len)
{
    char charts_dir[4200], path[4400];
    snprintf(charts_dir, sizeof charts_dir, "%s/charts", dir);
    if (mkdir(charts_dir, 0755) != 0 && errno != EEXIST)
        return errmsg_set(err, err_len, "cannot create %s: %s", charts_dir, strerror(errno));
    size_t napps = 0;
    if (write_data(e, charts_dir, &napps, err, err_len) != 0)
        return -1;
    bool drawn = draw_charts(e, charts_dir, napps);
    char *html = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&html, &len);
    if (!f)
        return errmsg_set(err, err_len, "out of memory");
    page_head(f, doc);
    page_tables(f, doc);
    page_charts(f, charts_dir, drawn);
    fputs("<footer>kmsload fleet: fleet.json holds every figure of this page; fleet.ini replays "
          "the fleet (kmsload run).</footer>\n</body>\n</html>\n",
          f);
    if (fclose(f) != 0) {
        free(html);
        return errmsg_set(err, err_len, "out of memory");
    }
    snprintf(path, sizeof path, "%s/index.html", dir);
    int rc = atomic_file_write(path, html, len, 0644, err, err_len);
    free(html);
    return rc;
}
