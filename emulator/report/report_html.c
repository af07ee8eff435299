/* The report's page: index.html from the template reports/report.html, the summary and the
 * charts (inline SVG). */
#include "report_parts.h"

#include "atomic_file.h"
#include "markup.h"
#include "rate_text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void html(FILE *f, const char *s)
{
    markup_text(f, s, (size_t)-1);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The SVG element of a gnuplot SVG file, its ids prefixed so that several charts can share a page
 * (gnuplot names its markers and clip paths the same in every file). */
bool report_inline_svg(FILE *out, const char *path, const char *prefix)
{
    char *svg = read_file(path, NULL);
    if (!svg)
        return false;
    char *p = strstr(svg, "<svg");
    char *title = p ? strstr(p, "<title>Gnuplot</title>") : NULL;
    if (title) /* the browser's tooltip over the chart: the figure's heading says it better */
        memmove(title, title + 22, strlen(title + 22) + 1);
    if (!p) {
        free(svg);
        return false;
    }
    static const char *const pats[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
    while (*p) {
        size_t matched = 0;
        for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
            size_t n = strlen(pats[i]);
            if (strncmp(p, pats[i], n) == 0) {
                matched = n;
                break;
            }
        }
        if (matched) {
            fwrite(p, 1, matched, out);
            fprintf(out, "%s-", prefix);
            p += matched;
        } else {
            putc(*p++, out);
        }
    }
    free(svg);
    return true;
}

static void fmt_ms(FILE *f, const json_t *lat, const char *key)
{
    const json_t *v = json_object_get(lat, key);
    if (json_is_number(v))
        fprintf(f, "<td class=\"num\">%.2f</td>", json_number_value(v) / 1000.0);
    else
        fputs("<td class=\"num\">&ndash;</td>", f);
}

static void fmt_when(FILE *f, bool virtual_clock, double sim_s, double wall_s)
{
    if (virtual_clock)
        fprintf(f, "day %.3f", sim_s / 86400.0);
    else
        fprintf(f, "%.3f s", wall_s);
}

static void html_header(FILE *f, const json_t *root, bool virtual_clock)
{
    const json_t *sc = json_object_get(root, "scenario");
    fputs("<table class=\"facts\">\n", f);
    fputs("<tr><th>Scenario</th><td>", f);
    html(f, report_jstring(sc, "name", ""));
    const char *path = report_jstring(sc, "path", "");
    if (*path) {
        fputs(" <span class=\"dim\">(", f);
        html(f, path);
        fputs(")</span>", f);
    }
    const char *desc = report_jstring(sc, "description", "");
    if (*desc) {
        fputs("<br>", f);
        html(f, desc);
    }
    fputs("</td></tr>\n<tr><th>Target</th><td>", f);
    html(f, report_jstring(root, "target", "unknown"));
    fputs("</td></tr>\n", f);
    fprintf(f, "<tr><th>Clock</th><td>%s</td></tr>\n",
            virtual_clock ? "virtual (simulated time runs as fast as the host answers)" : "real");
    const json_t *seed = json_object_get(root, "seed");
    if (json_is_integer(seed))
        fprintf(f, "<tr><th>Seed</th><td>%" JSON_INTEGER_FORMAT "</td></tr>\n",
                json_integer_value(seed));
    const char *started = report_jstring(root, "started_at", "");
    if (*started) {
        fputs("<tr><th>Started</th><td>", f);
        html(f, started);
        fputs("</td></tr>\n", f);
    }
    char rate[32];
    double requests = report_jnumber(root, "requests", 0);
    double wall = report_jnumber(root, "wall_seconds", 0);
    rate_text(requests, wall, rate, sizeof rate);
    fprintf(f, "<tr><th>Requests</th><td>%.0f in %.2f s wall time (%s)", requests, wall, rate);
    if (virtual_clock) /* on the real clock simulated time is the wall time */
        fprintf(f, ", %.2f simulated days", report_jnumber(root, "simulated_seconds", 0) / 86400.0);
    fputs("</td></tr>\n", f);
    const char *version = report_jstring(root, "kmsload", "");
    if (*version) {
        fputs("<tr><th>kmsload</th><td>", f);
        html(f, version);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void html_expectations(FILE *f, const json_t *root)
{
    const json_t *ex = json_object_get(root, "expectations");
    if (!json_is_array(ex) || json_array_size(ex) == 0) {
        fputs("<p class=\"dim\">No expectations recorded.</p>\n", f);
        return;
    }
    fputs("<table class=\"grid\">\n<tr><th></th><th>Expectation</th><th>Line</th><th>Observed"
          "</th></tr>\n",
          f);
    size_t i;
    const json_t *e;
    json_array_foreach(ex, i, e)
    {
        bool passed = json_is_true(json_object_get(e, "passed"));
        fprintf(f, "<tr class=\"%s\"><td class=\"verdict\">%s</td><td><code>",
                passed ? "pass" : "fail", passed ? "PASS" : "FAIL");
        const char *rule = report_jstring(e, "rule", "");
        html(f, rule[0] ? rule : report_jstring(e, "expectation", ""));
        fprintf(f, "</code></td><td class=\"num\">%.0f</td><td>", report_jnumber(e, "line", 0));
        html(f, report_jstring(e, "observed", ""));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The outcomes table: requests and share per outcome (the first of the tables). */
static void html_outcomes(FILE *f, const json_t *root)
{
    const json_t *oc = json_object_get(root, "outcomes");
    double requests = report_jnumber(root, "requests", 0);
    fputs("<div class=\"tables\">\n<table class=\"grid\">\n<caption>Outcomes</caption>\n"
          "<tr><th>Outcome</th><th>Requests</th><th>Share</th></tr>\n",
          f);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)oc, key, v)
    {
        double n = json_is_number(v) ? json_number_value(v) : 0;
        if (n <= 0)
            continue;
        fputs("<tr><td>", f);
        html(f, key);
        fprintf(f, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.1f %%</td></tr>\n", n,
                requests > 0 ? 100.0 * n / requests : 0.0);
    }
    fputs("</table>\n", f);
}

/* HRESULTs and RPC faults by code. */
static void html_hresults(FILE *f, const json_t *root)
{
    const json_t *v;
    const json_t *hr = json_object_get(root, "hresults");
    fputs("<table class=\"grid\">\n<caption>HRESULTs and RPC faults</caption>\n"
          "<tr><th>Code</th><th>Name</th><th>Requests</th></tr>\n",
          f);
    size_t i;
    json_array_foreach(hr, i, v)
    {
        fputs("<tr><td><code>", f);
        html(f, report_jstring(v, "code", ""));
        fputs("</code></td><td>", f);
        html(f, report_jstring(v, "name", ""));
        fprintf(f, "</td><td class=\"num\">%.0f</td></tr>\n", report_jnumber(v, "n", 0));
    }
    if (json_array_size(hr) == 0)
        fputs("<tr><td colspan=\"3\" class=\"dim\">none: every answer was a count</td></tr>\n", f);
    fputs("</table>\n", f);
}

/* Latency percentiles in ms. */
static void html_latency(FILE *f, const json_t *root)
{
    const json_t *lat = json_object_get(root, "latency_us");
    fputs("<table class=\"grid\">\n<caption>Latency (ms)</caption>\n<tr><th>min</th><th>p50</th>"
          "<th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n<tr>",
          f);
    fmt_ms(f, lat, "min");
    fmt_ms(f, lat, "p50");
    fmt_ms(f, lat, "p90");
    fmt_ms(f, lat, "p99");
    fmt_ms(f, lat, "p999");
    fmt_ms(f, lat, "max");
    fputs("</tr>\n</table>\n", f);
}

/* Counts per application. */
static void html_applications(FILE *f, const json_t *root)
{
    const char *key;
    const json_t *v;
    const json_t *apps = json_object_get(root, "applications");
    fputs("<table class=\"grid\">\n<caption>Counts per application</caption>\n<tr><th>"
          "Application</th><th>Requests</th><th>Max count</th><th>Final count</th></tr>\n",
          f);
    json_object_foreach((json_t *)apps, key, v)
    {
        fputs("<tr><td>", f);
        html(f, key);
        fprintf(f, "</td><td class=\"num\">%.0f</td>", report_jnumber(v, "requests", 0));
        const json_t *mx = json_object_get(v, "max_count"),
                     *fin = json_object_get(v, "final_count");
        if (json_is_number(mx))
            fprintf(f, "<td class=\"num\">%.0f</td>", json_number_value(mx));
        else
            fputs("<td class=\"num\">&ndash;</td>", f);
        if (json_is_number(fin))
            fprintf(f, "<td class=\"num\">%.0f</td>", json_number_value(fin));
        else
            fputs("<td class=\"num\">&ndash;</td>", f);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Several KMS hosts: one row each from summary.json's hosts (each counts apart, never summed). */
static void html_hosts_table(FILE *f, const json_t *root, bool virtual_clock)
{
    const json_t *hosts = json_object_get(root, "hosts"), *h;
    if (json_array_size(hosts) < 2)
        return;
    static const char *const heads[] = {
        "Host",         "Requests",  "Answered",   "Connection failures",
        "Key refusals", "Failovers", "Down since", "Counts (last / max)"};
    static const char *const nums[] = {"requests", "answered", "connection_failures",
                                       "key_refusals", "failovers"};
    fputs("<table class=\"grid\">\n<caption>Per KMS host (each counts apart)</caption>\n<tr>", f);
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++)
        fprintf(f, "<th>%s</th>", heads[k]);
    fputs("</tr>\n", f);
    for (size_t i = 0; i < json_array_size(hosts); i++) {
        h = json_array_get(hosts, i);
        fputs("<tr><td>", f);
        html(f, report_jstring(h, "name", "?"));
        fputs("</td>", f);
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            fprintf(f, "<td class=\"num\">%.0f</td>", report_jnumber(h, nums[k], 0));
        const json_t *down = json_object_get(h, "down_since_sim_s");
        fputs("<td>", f);
        if (json_is_number(down))
            fmt_when(f, virtual_clock, json_number_value(down),
                     report_jnumber(h, "down_since_wall_s", 0));
        else
            fputs(report_jnumber(h, "answered", 0) > 0 ? "&ndash;" : "never answered", f);
        fputs("</td><td>", f);
        const char *key;
        const json_t *a;
        const char *sep = "";
        json_object_foreach((json_t *)json_object_get(h, "applications"), key, a)
        {
            fputs(sep, f);
            html(f, key);
            fprintf(f, " %.0f / %.0f", report_jnumber(a, "final_count", 0),
                    report_jnumber(a, "max_count", 0));
            sep = ", ";
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Threshold crossings per population (the last of the tables). */
static void html_crossings(FILE *f, const json_t *root, bool virtual_clock)
{
    const char *key;
    const json_t *v;
    const json_t *pops = json_object_get(root, "populations");
    fputs("<table class=\"grid\">\n<caption>Threshold crossings</caption>\n<tr><th>Population"
          "</th><th>Machines</th><th>Requests</th><th>Activated at some point</th><th>Still "
          "activated at the end</th><th>First activation</th></tr>\n",
          f);
    json_object_foreach((json_t *)pops, key, v)
    {
        fputs("<tr><td>", f);
        html(f, key);
        const json_t *m = json_object_get(v, "machines"),
                     *am = json_object_get(v, "activated_machines");
        if (json_is_number(m))
            fprintf(f, "</td><td class=\"num\">%.0f</td>", json_number_value(m));
        else
            fputs("</td><td class=\"num\">&ndash;</td>", f);
        fprintf(f, "<td class=\"num\">%.0f</td>", report_jnumber(v, "requests", 0));
        /* Runs recorded before ever_activated_machines existed: unknown, not 0. */
        const json_t *ever = json_object_get(v, "ever_activated_machines");
        if (json_is_number(ever))
            fprintf(f, "<td class=\"num\">%.0f</td>", json_number_value(ever));
        else
            fputs("<td class=\"num\">&ndash;</td>", f);
        if (json_is_number(am))
            fprintf(f, "<td class=\"num\">%.0f</td>", json_number_value(am));
        else
            fputs("<td class=\"num\">&ndash;</td>", f);
        const json_t *fa = json_object_get(v, "first_activation");
        if (json_is_object(fa)) {
            fprintf(f, "<td>at count %.0f, request %.0f, ", report_jnumber(fa, "count", 0),
                    report_jnumber(fa, "request", 0));
            fmt_when(f, virtual_clock, report_jnumber(fa, "sim_s", 0),
                     report_jnumber(fa, "wall_s", 0));
            fputs("</td>", f);
        } else {
            fputs("<td class=\"dim\">none activated</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Every answer whose count fell below a threshold it had reached (summary.json falls_below;
 * runs recorded before it existed have no table). */
static void html_falls(FILE *f, const json_t *root, bool virtual_clock)
{
    const json_t *falls = json_object_get(root, "falls_below");
    if (!json_is_array(falls))
        return;
    fputs("<table class=\"grid\">\n<caption>Falls below a threshold</caption>\n", f);
    if (json_array_size(falls) == 0) {
        fputs("<tr><td class=\"dim\">no count fell below a threshold it had reached</td></tr>\n"
              "</table>\n",
              f);
        return;
    }
    fputs("<tr><th>Application</th><th>Threshold</th><th>Count</th><th>Request</th><th>When</th>"
          "</tr>\n",
          f);
    size_t i;
    const json_t *v;
    json_array_foreach((json_t *)falls, i, v)
    {
        fputs("<tr><td>", f);
        html(f, report_jstring(v, "application", ""));
        fprintf(f,
                "</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
                "<td class=\"num\">%.0f</td><td>",
                report_jnumber(v, "threshold", 0), report_jnumber(v, "count", 0),
                report_jnumber(v, "request", 0));
        fmt_when(f, virtual_clock, report_jnumber(v, "sim_s", 0), report_jnumber(v, "wall_s", 0));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void html_tables(FILE *f, const json_t *root, bool virtual_clock)
{
    html_outcomes(f, root);
    html_hresults(f, root);
    html_latency(f, root);
    html_applications(f, root);
    html_hosts_table(f, root, virtual_clock);
    html_crossings(f, root, virtual_clock);
    html_falls(f, root, virtual_clock);
    fputs("</div>\n", f);
}

static void html_model(FILE *f, const json_t *root)
{
    const json_t *model = json_object_get(root, "model");
    const json_t *fm = json_object_get(model, "first_mismatch");
    fprintf(f,
            "<p>%.0f answers checked against the model of genuine counting, %.0f "
            "disagreement%s.</p>\n",
            report_jnumber(model, "checked", 0), report_jnumber(model, "mismatches", 0),
            report_jnumber(model, "mismatches", 0) == 1 ? "" : "s");
    if (!json_is_object(fm))
        return;
    fputs("<div class=\"disagreement\"><strong>First disagreement:</strong> request ", f);
    fprintf(f, "%.0f, ", report_jnumber(fm, "request", 0));
    fmt_when(f, true, report_jnumber(fm, "sim_s", 0), 0);
    fputs(", machine ", f);
    fprintf(f, "%.0f", report_jnumber(fm, "machine", 0));
    fputs(" (population ", f);
    html(f, report_jstring(fm, "population", "?"));
    fputs(", application ", f);
    html(f, report_jstring(fm, "application", "?"));
    fputs("): ", f);
    const json_t *count = json_object_get(fm, "count");
    if (json_is_number(count))
        fprintf(f, "count %.0f", json_number_value(count));
    else
        fputs("no count", f);
    fprintf(f, " where a genuine host returns %.0f..%.0f", report_jnumber(fm, "expected_lo", 0),
            report_jnumber(fm, "expected_hi", 0));
    const char *reason = report_jstring(fm, "reason", "");
    if (*reason) {
        fputs(" &mdash; ", f);
        html(f, reason);
    }
    fputs("</div>\n", f);
}

/* Several KMS hosts: their counts with the DNS changes marked. */
static void html_hosts_chart(FILE *f, const char *charts_dir)
{
    char path[1200];
    fputs("<figure class=\"chart\" id=\"chart-hosts\">\n<h3>Count per KMS host</h3>\n", f);
    if (report_path_join(path, sizeof path, charts_dir, "hosts.svg") != 0 ||
        !report_inline_svg(f, path, "hosts"))
        fputs("<p class=\"notice\">This chart could not be drawn (see charts/gnuplot.log).</p>", f);
    fputs("\n<figcaption>Each host's count per application over time (the count it returned); "
          "red dotted lines: SRV records added or removed and hosts switched on or off; dashed: "
          "the thresholds 25 and 5. <a href=\"" CHART_PREFIX "/hosts.png\">PNG</a> &middot; "
          "<a href=\"" CHART_PREFIX "/hosts.svg\">SVG</a> &middot; <a href=\"" CHART_PREFIX
          "/hosts.dat\">data</a></figcaption>\n</figure>\n",
          f);
}

static void html_charts(FILE *f, const char *charts_dir, bool drawn, const char *why_not)
{
    if (!drawn) {
        fputs("<p class=\"notice\">Charts not drawn: ", f);
        html(f, why_not);
        if (strstr(why_not, "gnuplot"))
            fputs(". The data files are in <code>" CHART_PREFIX "/</code>; install gnuplot "
                  "(<code>apt-get install gnuplot-nox</code>) and run <code>kmsload report "
                  "RUN_DIR</code> again.",
                  f);
        fputs("</p>\n", f);
        return;
    }
    for (size_t i = 0; i < report_n_charts; i++) {
        char path[1200], name[64], prefix[24];
        snprintf(name, sizeof name, "%s.svg", report_charts[i].name);
        snprintf(prefix, sizeof prefix, "c%zu", i);
        fprintf(f, "<figure class=\"chart\" id=\"chart-%s\">\n<h3>%s</h3>\n", report_charts[i].name,
                report_charts[i].title);
        if (report_path_join(path, sizeof path, charts_dir, name) != 0 ||
            !report_inline_svg(f, path, prefix))
            fputs("<p class=\"notice\">This chart could not be drawn (see "
                  "charts/gnuplot.log).</p>",
                  f);
        fprintf(f,
                "\n<figcaption>%s <a href=\"" CHART_PREFIX
                "/%s.png\">PNG</a> &middot; <a href=\"" CHART_PREFIX
                "/%s.svg\">SVG</a> &middot; <a href=\"" CHART_PREFIX
                "/%s.dat\">data</a></figcaption>\n</figure>\n",
                report_charts[i].caption, report_charts[i].name, report_charts[i].name,
                report_charts[i].name);
    }
}

/* Replaces every {{name}} of the template with its part. */
struct part {
    const char *name;
    char *text;
};

static void fill_template(FILE *out, const char *tpl, const struct part *parts, size_t n)
{
    const char *p = tpl;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            fputs(p, out);
            return;
        }
        fwrite(p, 1, (size_t)(open - p), out);
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            fputs(open, out);
            return;
        }
        size_t len = (size_t)(close - open - 2);
        size_t i;
        for (i = 0; i < n; i++)
            if (strlen(parts[i].name) == len && strncmp(parts[i].name, open + 2, len) == 0)
                break;
        if (i < n)
            fputs(parts[i].text ? parts[i].text : "", out);
        else
            fwrite(open, 1, (size_t)(close + 2 - open), out);
        p = close + 2;
    }
}

static int write_atomic(const char *dir, const char *name, const char *data, size_t len, char *err,
                        size_t err_len)
{
    char path[1200];
    if (report_path_join(path, sizeof path, dir, name) != 0) {
        report_set_err(err, err_len, "run directory name too long");
        return -1;
    }
    return atomic_file_write(path, data, len, 0666, err, err_len);
}

/* Closes a memory stream: its text (*buf, updated by fclose), or NULL. */
static char *mem_close(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        *buf = NULL;
    }
    return *buf;
}

enum {
    P_TITLE,
    P_STATUS_CLASS,
    P_STATUS,
    P_NOTICE,
    P_FACTS,
    P_EXPECT,
    P_TABLES,
    P_MODEL,
    P_CHARTS,
    P_FOOTER,
    P__N
};

static const char *const part_names[P__N] = {"title",  "status_class", "status", "notice",
                                             "facts",  "expectations", "tables", "model",
                                             "charts", "footer"};

/* The verdict the page shows, and its CSS class. */
static void verdict(const json_t *root, const char **status, const char **cls)
{
    const json_t *passed = json_object_get(root, "passed");
    if (json_is_true(json_object_get(root, "interrupted"))) {
        *status = "INTERRUPTED";
        *cls = "interrupted";
    } else if (json_is_true(passed)) {
        *status = "PASSED";
        *cls = "pass";
    } else if (json_is_false(passed)) {
        *status = "FAILED";
        *cls = "fail";
    } else {
        *status = "NO VERDICT";
        *cls = "interrupted";
    }
}

/* What the run learned of its target before judging it (summary.json "reconnaissance"). */
static void render_recon(FILE *f, const json_t *r)
{
    if (!json_is_true(json_object_get(r, "done")))
        return;
    fputs("<p class=\"notice\"><strong>Reconnaissance:</strong> the host runs ", f);
    html(f, report_jstring(r, "host_os", "an unknown OS"));
    fputs("; clock: ", f);
    html(f, report_jstring(r, "clock", "not checked"));
    const char *app;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(r, "counts"), app, v)
    {
        const json_t *count = json_object_get(v, "count");
        if (!json_is_true(json_object_get(v, "used")) || !json_is_integer(count))
            continue;
        fprintf(f, "; the host already counted %lld ", (long long)json_integer_value(count));
        html(f, app);
        fputs(" machines (CMID ", f);
        html(f, report_jstring(v, "cmid", ""));
        fputs(" among them)", f);
    }
    const json_t *notes = json_object_get(r, "expectations_adjusted");
    size_t i;
    json_array_foreach(notes, i, v)
    {
        fputs(i ? "; " : ". Expectations: ", f);
        html(f, json_string_value(v) ? json_string_value(v) : "");
    }
    fputs(".</p>\n", f);
}

static void render_notice(FILE *f, const struct report_page *pg)
{
    if (json_is_true(json_object_get(pg->root, "interrupted"))) {
        fputs("<p class=\"notice\"><strong>Interrupted:</strong> ", f);
        html(f, report_jstring(pg->root, "interrupt_reason", "interrupted"));
        fputs(". The tables and charts show what the run had done by then.</p>\n", f);
    }
    render_recon(f, json_object_get(pg->root, "reconnaissance"));
    const char *advice = report_jstring(pg->root, "advice", "");
    if (*advice) { /* what the console said to do, said here too */
        fputs("<p class=\"notice\"><strong>What to do:</strong> ", f);
        html(f, advice);
        fputs("</p>\n", f);
    }
    if (pg->notes && *pg->notes) {
        fputs("<p class=\"notice\">", f);
        html(f, pg->notes);
        fputs("</p>\n", f);
    }
}

/* One group's result cells: activated with its count, refused with the HRESULT, its name and
 * meaning, or the error. */
static void html_coverage_result(FILE *f, const json_t *g)
{
    const char *result = report_jstring(g, "result", "");
    if (strcmp(result, "activated") == 0) {
        fprintf(f, "<td>activated</td><td class=\"num\">%.0f</td><td></td>",
                report_jnumber(g, "count", 0));
    } else if (strcmp(result, "refused") == 0) {
        fputs("<td>refused</td><td></td><td><code>", f);
        html(f, report_jstring(g, "hresult", ""));
        fputs("</code> ", f);
        html(f, report_jstring(g, "hresult_name", ""));
        fputs(": ", f);
        html(f, report_jstring(g, "meaning", ""));
        fputs("</td>", f);
    } else {
        fputs("<td>", f);
        html(f, result);
        fputs("</td><td></td><td>", f);
        html(f, report_jstring(g, "detail", ""));
        fputs("</td>", f);
    }
}

/* The coverage as a table from coverage.json (a run with coverage = on writes it beside
 * coverage.md, from the same data); a run directory with only coverage.md (recorded before
 * coverage.json existed) shows that as written. */
static void html_coverage(FILE *f, const char *run_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/coverage.json", run_dir);
    char *text = read_file(path, NULL);
    json_t *cov = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!json_is_object(cov)) {
        json_decref(cov);
        snprintf(path, sizeof path, "%s/coverage.md", run_dir);
        text = read_file(path, NULL);
        if (!text)
            return;
        fputs("<h2>Host key coverage</h2>\n<pre class=\"coverage\">", f);
        html(f, text);
        fputs("</pre>\n<p>Also in <a href=\"coverage.md\">coverage.md</a>.</p>\n", f);
        free(text);
        return;
    }
    fputs("<h2>Host key coverage</h2>\n<table class=\"facts\">\n<tr><th>Host OS</th><td>", f);
    html(f, report_jstring(cov, "host_os_text", ""));
    fputs("</td></tr>\n<tr><th>Coverage matches the host keys</th><td>", f);
    const json_t *keys = json_object_get(cov, "host_keys"), *v;
    size_t i;
    if (json_array_size(keys) == 0)
        fputs("none", f);
    json_array_foreach((json_t *)keys, i, v)
    {
        if (i)
            fputs(", ", f);
        html(f, report_jstring(v, "name", ""));
    }
    fputs("</td></tr>\n</table>\n", f);
    const json_t *groups = json_object_get(cov, "groups");
    fputs("<table class=\"grid coverage\">\n<tr><th>Product group</th><th>Result</th>"
          "<th>Count</th><th>HRESULT / error</th></tr>\n",
          f);
    size_t refused = 0;
    json_array_foreach((json_t *)groups, i, v)
    {
        const char *result = report_jstring(v, "result", "");
        refused += strcmp(result, "refused") == 0;
        fprintf(f, "<tr class=\"%s\"><td>", strcmp(result, "activated") == 0 ? "pass" : "fail");
        html(f, report_jstring(v, "name", ""));
        fputs("</td>", f);
        html_coverage_result(f, v);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (refused) {
        fputs("<p>What to do:</p>\n<ul class=\"advice\">\n", f);
        json_array_foreach((json_t *)groups, i, v)
        {
            if (strcmp(report_jstring(v, "result", ""), "refused") != 0)
                continue;
            fputs("<li>", f);
            html(f, report_jstring(v, "advice", ""));
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("<p>Also in <a href=\"coverage.md\">coverage.md</a> and <a href=\"coverage.json\">"
          "coverage.json</a>.</p>\n",
          f);
    json_decref(cov);
}

/* Every part of the page into its stream. */
static void render_parts(FILE *const *fs, const struct report_page *pg)
{
    const json_t *root = pg->root;
    const char *name = report_jstring(json_object_get(root, "scenario"), "name", "");
    const char *status, *cls;
    fputs("kmsload: ", fs[P_TITLE]);
    html(fs[P_TITLE], *name ? name : pg->run_dir);
    verdict(root, &status, &cls);
    fputs(status, fs[P_STATUS]);
    fputs(cls, fs[P_STATUS_CLASS]);
    render_notice(fs[P_NOTICE], pg);
    html_header(fs[P_FACTS], root, pg->virtual_clock);
    html_expectations(fs[P_EXPECT], root);
    html_tables(fs[P_TABLES], root, pg->virtual_clock);
    html_coverage(fs[P_TABLES], pg->run_dir);
    html_model(fs[P_MODEL], root);
    html_charts(fs[P_CHARTS], pg->charts_dir, pg->drawn, pg->why_not);
    if (pg->hosts_drawn)
        html_hosts_chart(fs[P_CHARTS], pg->charts_dir);
    fputs("Written by <code>kmsload report</code> from <code>events.csv</code> and "
          "<code>summary.json</code>; charts drawn by gnuplot (data in <code>charts/</code>). "
          "Files: <a href=\"events.csv\">events.csv</a> &middot; <a href=\"summary.json\">"
          "summary.json</a> &middot; <a href=\"junit.xml\">junit.xml</a>",
          fs[P_FOOTER]);
}

/* The template with every {{part}} filled (malloc'ed), or NULL when out of memory. */
static char *render_page(const char *tpl, const struct report_page *pg)
{
    struct part parts[P__N];
    char *bufs[P__N] = {0}, *page = NULL;
    size_t lens[P__N], page_len = 0;
    FILE *fs[P__N];
    bool ok = true;
    for (size_t i = 0; i < P__N; i++) {
        parts[i].name = part_names[i];
        fs[i] = open_memstream(&bufs[i], &lens[i]);
        ok = ok && fs[i];
    }
    if (ok)
        render_parts(fs, pg);
    for (size_t i = 0; i < P__N; i++) {
        parts[i].text = fs[i] ? mem_close(fs[i], &bufs[i]) : NULL;
        ok = ok && parts[i].text;
    }
    FILE *pf = ok ? open_memstream(&page, &page_len) : NULL;
    if (pf) {
        fill_template(pf, tpl, parts, P__N);
        page = mem_close(pf, &page);
    }
    for (size_t i = 0; i < P__N; i++)
        free(parts[i].text);
    return page;
}

int report_write_index(const struct report_page *pg, char *err, size_t err_len)
{
    char tpl_path[1200];
    report_path_join(tpl_path, sizeof tpl_path, pg->reports_dir, "report.html");
    char *tpl = read_file(tpl_path, NULL);
    if (!tpl) {
        report_set_err(err, err_len, "cannot read %s: %s", tpl_path, strerror(errno ? errno : EIO));
        return REPORT_FAILED;
    }
    char *page = render_page(tpl, pg);
    int rc = REPORT_OK;
    if (!page) {
        report_set_err(err, err_len, "out of memory");
        rc = REPORT_FAILED;
    } else if (write_atomic(pg->run_dir, "index.html", page, strlen(page), err, err_len) != 0) {
        rc = REPORT_FAILED;
    }
    free(page);
    free(tpl);
    return rc;
}
