/* The report's chart data files (charts/NAME.dat) and the gnuplot runs that draw them. */
#include "data_dir.h"
#include "report_parts.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const app_palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                          "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};

static const char *app_color(const char *name, size_t i)
{
    if (strcmp(name, "windows") == 0)
        return "#1f77b4";
    if (strcmp(name, "office2010") == 0)
        return "#ff7f0e";
    if (strcmp(name, "office2013") == 0)
        return "#2ca02c";
    return app_palette[(i + 3) % (sizeof app_palette / sizeof app_palette[0])];
}

static const char *cat_color(int cat)
{
    static const char *const host[MAX_CODES] = {"#d62728", "#9467bd", "#e377c2",
                                                "#8c564b", "#bcbd22", "#ff9896"};
    switch (cat) {
    case CAT_ACTIVATED:
        return "#2ca02c";
    case CAT_BELOW:
        return "#f2b701";
    case CAT_OTHER_HOST:
        return "#7b4173";
    case CAT_RPC:
        return "#843c39";
    case CAT_PROTOCOL:
        return "#17becf";
    case CAT_NETWORK:
        return "#7f7f7f";
    default:
        return host[(cat - CAT_CODE0) % MAX_CODES];
    }
}

/* A column title for gnuplot's columnhead: no double quotes, no newlines. */
static void gp_title(FILE *f, const char *s)
{
    putc('"', f);
    for (; *s; s++)
        putc(*s == '"' ? '\'' : (*s == '\n' || *s == '\r' || *s == '\\') ? ' ' : *s, f);
    putc('"', f);
}

static void cat_title(FILE *f, const struct agg *g, int cat)
{
    char t[160];
    switch (cat) {
    case CAT_ACTIVATED:
        snprintf(t, sizeof t, "activated");
        break;
    case CAT_BELOW:
        snprintf(t, sizeof t, "below threshold (0xC004F038)");
        break;
    case CAT_OTHER_HOST:
        snprintf(t, sizeof t, "host error, other codes");
        break;
    case CAT_RPC:
        snprintf(t, sizeof t, "RPC fault");
        break;
    case CAT_PROTOCOL:
        snprintf(t, sizeof t, "protocol error");
        break;
    case CAT_NETWORK:
        snprintf(t, sizeof t, "network error (refused, timeout, reset, closed)");
        break;
    default:
        snprintf(t, sizeof t, "host error 0x%08" PRIX32 " %s", g->codes[cat - CAT_CODE0],
                 g->code_names[cat - CAT_CODE0]);
        break;
    }
    gp_title(f, t);
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.10g", v);
    else
        fputs(" NaN", f);
}

static FILE *open_data(const struct chartctx *cx, const char *name, char *err, size_t err_len)
{
    char path[1024];
    if (report_path_join(path, sizeof path, cx->charts_dir, name) != 0) {
        report_set_err(err, err_len, "run directory name too long");
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        report_set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
    return f;
}

static int close_data(FILE *f, const struct chartctx *cx, const char *name, char *err,
                      size_t err_len)
{
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        report_set_err(err, err_len, "cannot write %s/%s: %s", cx->charts_dir, name,
                       strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* The model's band is drawn only when it tells something: a range reaching the cap all run long
 * (live host, baseline) shades the whole plot, so it is left out and its key entry says why. */
static bool band_drawn(const struct agg *g, size_t a)
{
    return g->band_seen[a] && g->band_narrow[a];
}

/* The column titles of count.dat and expiry.dat. */
static void count_expiry_titles(const struct agg *g, FILE *cf, FILE *ef)
{
    fputs("t ", cf);
    fputs("t", ef);
    for (size_t a = 0; a < g->napps; a++) {
        char t[96];
        if (a)
            putc(' ', cf);
        gp_title(cf, g->apps[a]);
        if (band_drawn(g, a) || !g->band_seen[a])
            snprintf(t, sizeof t, "%s: model-expected range", g->apps[a]);
        else
            snprintf(t, sizeof t, "%s: no band (live host: any count up to the cap is genuine)",
                     g->apps[a]);
        putc(' ', cf);
        gp_title(cf, t);
        putc(' ', cf);
        gp_title(cf, t);
        putc(' ', ef);
        snprintf(t, sizeof t, "%s: count returned", g->apps[a]);
        gp_title(ef, t);
        snprintf(t, sizeof t, "%s: machines contacted < 30 days ago", g->apps[a]);
        putc(' ', ef);
        gp_title(ef, t);
        snprintf(t, sizeof t, "%s: machines reaching last contact + 30 days", g->apps[a]);
        putc(' ', ef);
        gp_title(ef, t);
    }
    fputc('\n', cf);
    fputc('\n', ef);
}

/* count.dat: per application the count the host returned (carried between requests) and the
 * model's range; expiry.dat: per application the count, the machines whose last counted contact
 * is less than 30 days old, and the expiries per bucket. */
static int write_count_and_expiry(const struct agg *g, struct chartctx *cx, char *err,
                                  size_t err_len)
{
    FILE *cf = open_data(cx, "count.dat", err, err_len);
    if (!cf)
        return -1;
    FILE *ef = open_data(cx, "expiry.dat", err, err_len);
    if (!ef) {
        fclose(cf);
        return -1;
    }
    count_expiry_titles(g, cf, ef);
    double cur[MAX_APPS], lo[MAX_APPS], hi[MAX_APPS];
    int64_t alive[MAX_APPS] = {0};
    unsigned ymax = 0;
    for (size_t a = 0; a < MAX_APPS; a++)
        cur[a] = lo[a] = hi[a] = NAN;
    for (size_t k = 0; k <= g->nb_used; k++) {
        /* the last row repeats the state at the run's end, so that steps reach it */
        bool end = k == g->nb_used;
        double x = end ? g->t_end / cx->unit : (double)k * g->width / cx->unit;
        const struct bucket *b = &g->b[end ? g->nb_used - 1 : k];
        num(cf, x);
        num(ef, x);
        for (size_t a = 0; a < g->napps; a++) {
            const struct bapp *ba = &b->app[a];
            if (!end) {
                if (ba->n) {
                    cur[a] = ba->last;
                    if (ba->max > ymax)
                        ymax = ba->max;
                }
                if (ba->has_ex) {
                    lo[a] = ba->exlo;
                    hi[a] = ba->exhi;
                    if (ba->exhi > ymax)
                        ymax = ba->exhi;
                }
                alive[a] += ba->alive_delta;
            }
            bool band = band_drawn(g, a);
            num(cf, cur[a]);
            num(cf, band && isfinite(lo[a]) ? lo[a] - 0.4 : NAN);
            num(cf, band && isfinite(hi[a]) ? hi[a] + 0.4 : NAN);
            num(ef, cur[a]);
            num(ef, (double)alive[a]);
            num(ef, end ? 0.0 : (double)ba->expiries);
            if (!end)
                cx->nexpiries += ba->expiries;
        }
        fputc('\n', cf);
        fputc('\n', ef);
    }
    cx->ymax = ymax;
    if (close_data(cf, cx, "count.dat", err, err_len) != 0) {
        fclose(ef);
        return -1;
    }
    return close_data(ef, cx, "expiry.dat", err, err_len);
}

/* The label of a population's first activation on the count chart. */
static void crossing_label(const struct agg *g, const struct chartctx *cx, const struct pop *p,
                           size_t n_crossed, char *label, size_t cap)
{
    if (n_crossed > 3) /* many: short labels, the table of index.html has the rest */
        snprintf(label, cap, "%s (request %" PRIu64 ")", p->name, p->seq);
    else if (g->virtual_clock && cx->unit == 86400.0)
        snprintf(label, cap, "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", day %.2f",
                 p->name, p->seq, p->count, p->t / 86400.0);
    else if (g->virtual_clock)
        snprintf(label, cap, "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", %.2f h",
                 p->name, p->seq, p->count, p->t / 3600.0);
    else
        snprintf(label, cap, "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", %.4g s",
                 p->name, p->seq, p->count, p->t);
}

/* Labels start at their point and run right; those of crossings close in time are stacked
 * apart (in count units: one text line is about 3.6 counts on a 0..64 axis). Returns the label's
 * height: the lowest free line at or above its point among the nearby labels (at most nl + 1
 * tries: each clash is with a different label). */
static double label_y(const struct agg *g, const struct chartctx *cx, const struct pop *p,
                      size_t n_crossed, const double *lx, const double *ly, size_t nl)
{
    double ytop = cx->ymax > 50 ? cx->ymax * 1.25 : 64, line = 3.6 * ytop / 64;
    double y = (double)p->count - line / 2;
    if (y < line / 2)
        y = line / 2;
    double reach = (n_crossed > 3 ? 0.2 : 0.4) * g->t_end;
    for (size_t attempt = 0; attempt <= nl; attempt++) {
        bool clash = false;
        for (size_t k = 0; k < nl && !clash; k++)
            clash = fabs(lx[k] - p->t) < reach && fabs(ly[k] - y) < line * 0.95;
        if (!clash)
            break;
        y += line;
    }
    return y;
}

/* crossings.dat: the first activation of each population; and the close-up of an early climb. */
static int write_crossings(const struct agg *g, struct chartctx *cx, char *err, size_t err_len)
{
    FILE *xf = open_data(cx, "crossings.dat", err, err_len);
    if (!xf)
        return -1;
    fputs("# t count label label_y: the first activation of each population\n", xf);
    cx->ncross = 0;
    double last_cross = 0, lx[MAX_POPS], ly[MAX_POPS];
    size_t nl = 0, n_crossed = 0;
    for (size_t i = 0; i < g->npops; i++)
        n_crossed += g->pops[i].crossed && g->pops[i].count >= 0;
    for (size_t i = 0; i < g->npops; i++) {
        const struct pop *p = &g->pops[i];
        if (!p->crossed || p->count < 0)
            continue;
        char label[200];
        crossing_label(g, cx, p, n_crossed, label, sizeof label);
        double y = label_y(g, cx, p, n_crossed, lx, ly, nl);
        lx[nl] = p->t;
        ly[nl++] = y;
        num(xf, p->t / cx->unit);
        num(xf, (double)p->count);
        putc(' ', xf);
        gp_title(xf, label);
        num(xf, y);
        putc('\n', xf);
        cx->ncross++;
        if (p->t > last_cross)
            last_cross = p->t;
    }
    /* Thresholds crossed early in a long run: a close-up of the climb. */
    cx->zoom = 0;
    double zoom_s = last_cross > 0 ? 3 * last_cross : 0.05 * g->t_end;
    bool exact = true; /* the close-up shows exact changes: all of them must be kept */
    for (size_t a = 0; a < g->napps; a++)
        exact = exact && g->detail_full_at[a] > zoom_s;
    if (cx->ncross > 0 && last_cross < 0.15 * g->t_end && exact)
        cx->zoom = zoom_s / cx->unit;
    return close_data(xf, cx, "crossings.dat", err, err_len);
}

/* count_detail.dat: one block per application (gnuplot index 0, 1...), every change. */
static int write_count_detail(const struct agg *g, const struct chartctx *cx, char *err,
                              size_t err_len)
{
    FILE *df = open_data(cx, "count_detail.dat", err, err_len);
    if (!df)
        return -1;
    fputs("# per application block: t count expected_lo-0.4 expected_hi+0.4 (every change)\n", df);
    for (size_t a = 0; a < g->napps; a++) {
        if (a)
            fputs("\n\n", df);
        fprintf(df, "# %s\n", g->apps[a]);
        const struct detail *d = g->detail[a];
        size_t n = g->ndetail[a];
        bool band = band_drawn(g, a);
        for (size_t i = 0; i < n; i++) {
            if (i > 0) { /* the values held until this change: steps, also for the band */
                num(df, d[i].t / cx->unit);
                num(df, d[i - 1].count);
                num(df, band && d[i - 1].has_ex ? d[i - 1].lo - 0.4 : NAN);
                num(df, band && d[i - 1].has_ex ? d[i - 1].hi + 0.4 : NAN);
                fputc('\n', df);
            }
            num(df, d[i].t / cx->unit);
            num(df, d[i].count);
            num(df, band && d[i].has_ex ? d[i].lo - 0.4 : NAN);
            num(df, band && d[i].has_ex ? d[i].hi + 0.4 : NAN);
            fputc('\n', df);
        }
        double until = g->detail_full_at[a] < g->t_end ? g->detail_full_at[a] : g->t_end;
        num(df, until / cx->unit);
        num(df, n ? d[n - 1].count : NAN);
        num(df, band && n && d[n - 1].has_ex ? d[n - 1].lo - 0.4 : NAN);
        num(df, band && n && d[n - 1].has_ex ? d[n - 1].hi + 0.4 : NAN);
        fputc('\n', df);
    }
    return close_data(df, cx, "count_detail.dat", err, err_len);
}

/* outcomes.dat (stacked rates per category) and latency.dat (p50, p99, throughput), in display
 * bins of cx->group fine buckets. */
static int write_rate_data(const struct agg *g, struct chartctx *cx, char *err, size_t err_len)
{
    uint64_t total[CAT_COUNT] = {0};
    for (size_t k = 0; k < g->nb_used; k++)
        for (size_t c = 0; c < CAT_COUNT; c++)
            total[c] += g->b[k].cat[c];
    cx->ncats = 0;
    for (int c = 0; c < CAT_COUNT; c++)
        if (total[c])
            cx->cats[cx->ncats++] = c;
    if (cx->ncats == 0)
        cx->cats[cx->ncats++] = CAT_ACTIVATED;
    cx->group = (g->nb_used + DISPLAY_BINS - 1) / DISPLAY_BINS;
    if (cx->group == 0)
        cx->group = 1;
    double bin_s = g->width * (double)cx->group;

    FILE *of = open_data(cx, "outcomes.dat", err, err_len);
    if (!of)
        return -1;
    FILE *lf = open_data(cx, "latency.dat", err, err_len);
    if (!lf) {
        fclose(of);
        return -1;
    }
    fputs("t", of);
    for (size_t i = 0; i < cx->ncats; i++) {
        putc(' ', of);
        cat_title(of, g, cx->cats[i]);
    }
    fputc('\n', of);
    fputs("t \"p50\" \"p99\" \"throughput\" \"requests\"\n", lf);
    for (size_t k0 = 0; k0 < g->nb_used; k0 += cx->group) {
        uint64_t cat[CAT_COUNT] = {0}, requests = 0;
        uint32_t lat[LAT_BINS] = {0};
        for (size_t k = k0; k < k0 + cx->group && k < g->nb_used; k++) {
            const struct bucket *b = &g->b[k];
            requests += b->requests;
            for (size_t c = 0; c < CAT_COUNT; c++)
                cat[c] += b->cat[c];
            for (size_t i = 0; i < LAT_BINS; i++)
                lat[i] += b->lat[i];
        }
        double x = ((double)k0 * g->width + bin_s / 2) / cx->unit;
        double per = cx->rate_unit / bin_s;
        num(of, x);
        for (size_t i = 0; i < cx->ncats; i++)
            num(of, (double)cat[cx->cats[i]] * per);
        fputc('\n', of);
        num(lf, x);
        num(lf, lat_quantile_ms(lat, 0.5));
        num(lf, lat_quantile_ms(lat, 0.99));
        num(lf, (double)requests * per);
        num(lf, (double)requests);
        fputc('\n', lf);
    }
    if (close_data(of, cx, "outcomes.dat", err, err_len) != 0) {
        fclose(lf);
        return -1;
    }
    return close_data(lf, cx, "latency.dat", err, err_len);
}

/* ---- gnuplot ---- */

/* The full path of PROGRAM on $PATH, or false. */
static bool find_in_path(const char *program, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        int w = snprintf(out, cap, "%.*s/%s", (int)n, n ? path : ".", program);
        if (w > 0 && (size_t)w < cap && access(out, X_OK) == 0 && report_is_file(out))
            return true;
        path += n + (colon ? 1 : 0);
    }
    return false;
}

/* The reports/ directory (gnuplot scripts, report.html): $KMSLOAD_REPORTS, the installed copy,
 * the source tree's. */
bool report_find_reports_dir(char *out, size_t cap)
{
    char installed[1100];
    const char *candidates[3] = {getenv("KMSLOAD_REPORTS"),
                                 data_dir_path("reports", installed, sizeof installed), NULL};
#ifdef KMSLOAD_SOURCE_REPORTS
    candidates[2] = KMSLOAD_SOURCE_REPORTS;
#endif
    for (size_t i = 0; i < 3; i++) {
        char probe[1024];
        if (!candidates[i] || !*candidates[i] ||
            report_path_join(probe, sizeof probe, candidates[i], "report.html") != 0 ||
            !report_is_file(probe))
            continue;
        if (!realpath(candidates[i], probe) || strlen(probe) >= cap)
            continue;
        snprintf(out, cap, "%s", probe);
        return true;
    }
    return false;
}

/* Runs gnuplot -e PARAMS SCRIPT in the charts directory, its output appended to gnuplot.log. */
static int run_gnuplot(const char *gnuplot, const char *charts_dir, const char *script,
                       const char *params)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (chdir(charts_dir) != 0)
            _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int log = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        execl(gnuplot, "gnuplot", "-e", params, script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

const struct report_chart report_charts[] = {
    {"count", "Count over time per application",
     "The count the host returned (line) and the range a genuine host could have returned (band), "
     "per application; dashed: the activation thresholds (25 Windows clients, 5 servers and "
     "Office), dotted: the caps (2 &times; N_Policy: 50 and 10); dots: the first activation of "
     "each population; triangles: where a count fell below a threshold (labelled at the top). When "
     "the model accepts any count up to the cap all run long (a live host, a baseline), its band "
     "would shade the whole plot and tell nothing: it is left out, and the key says so."},
    {"expiry", "30-day window expiry",
     "The count the host returned against the number of machines whose last counted contact is "
     "less than 30 days old (dashed steps): a host forgets a machine 30 days after its last "
     "contact; dashed lines: the thresholds, triangles: where a count fell below one. Bars (right "
     "axis): machines reaching their last contact + 30 days."},
    {"outcomes", "Activation outcomes over time",
     "Answers per time bin, stacked: activated, below threshold (0xC004F038, not an error), host "
     "errors by HRESULT, RPC faults, protocol and network errors."},
    {"latency", "Latency and throughput over time",
     "Latency percentiles per time bin (log scale) and throughput: requests per the largest of "
     "second, minute, hour and day that fits in one bin, so a bar never shows more requests than "
     "it holds (bins under a second: requests per bar)."},
};
const size_t report_n_charts = sizeof report_charts / sizeof report_charts[0];
#define N_CHARTS report_n_charts

static void gp_params(char *out, size_t cap, const struct agg *g, const struct chartctx *cx,
                      const char *chart, const char *fmt)
{
    char colors[400] = "";
    size_t used = 0;
    if (strcmp(chart, "outcomes") == 0) {
        for (size_t i = 0; i < cx->ncats && used < sizeof colors; i++)
            used += (size_t)snprintf(colors + used, sizeof colors - used, "%s%s", i ? " " : "",
                                     cat_color(cx->cats[i]));
    } else {
        for (size_t a = 0; a < g->napps && used < sizeof colors; a++)
            used += (size_t)snprintf(colors + used, sizeof colors - used, "%s%s", a ? " " : "",
                                     app_color(g->apps[a], a));
    }
    snprintf(out, cap,
             "fmt='%s'; outfile='%s.%s'; datafile='%s.dat'; virtual=%d; xunit='%s'; xmax=%.10g; "
             "napps=%zu; "
             "ncat=%zu; ncross=%zu; ymax=%u; nexpiries=%" PRIu64
             "; zoom=%.10g; binwidth=%.10g; colors='%s'",
             fmt, chart, fmt, chart, g->virtual_clock ? 1 : 0,
             cx->unit == 86400.0  ? "days"
             : cx->unit == 3600.0 ? "hours"
                                  : "s",
             g->t_end / cx->unit, g->napps, cx->ncats, cx->ncross, cx->ymax, cx->nexpiries,
             cx->zoom, g->width * (double)cx->group / cx->unit, colors);
}

int report_write_chart_data(const struct agg *g, struct chartctx *cx, char *err, size_t err_len)
{
    if (write_count_and_expiry(g, cx, err, err_len) != 0 ||
        write_crossings(g, cx, err, err_len) != 0 || write_count_detail(g, cx, err, err_len) != 0)
        return -1;
    return write_rate_data(g, cx, err, err_len);
}

bool report_draw_charts(const struct agg *g, const struct chartctx *cx, const char *run_dir,
                        const char *reports_dir, char *why_not, size_t why_len)
{
    char gnuplot[1024];
    if (g->rows == 0 || g->napps == 0) {
        snprintf(why_not, why_len, "no request was recorded, nothing to draw");
        return false;
    }
    if (!find_in_path("gnuplot", gnuplot, sizeof gnuplot)) {
        snprintf(why_not, why_len, "gnuplot was not found on PATH");
        fprintf(stderr,
                "kmsload: gnuplot not found: %s/index.html is written without charts (the "
                "chart data is in %s/); to get the charts: apt-get install gnuplot-nox, then "
                "kmsload report %s\n",
                run_dir, cx->charts_dir, run_dir);
        return false;
    }
    char log[1300];
    report_path_join(log, sizeof log, cx->charts_dir, "gnuplot.log");
    unlink(log);
    size_t failed = 0;
    for (size_t i = 0; i < N_CHARTS; i++) {
        char script[1200], sname[64], params[1024];
        snprintf(sname, sizeof sname, "%s.gp", report_charts[i].name);
        report_path_join(script, sizeof script, reports_dir, sname);
        static const char *const fmts[] = {"png", "svg"};
        for (size_t k = 0; k < 2; k++) {
            gp_params(params, sizeof params, g, cx, report_charts[i].name, fmts[k]);
            if (run_gnuplot(gnuplot, cx->charts_dir, script, params) != 0)
                failed++;
        }
    }
    if (failed)
        fprintf(stderr, "kmsload: %zu chart file%s could not be drawn (see %s)\n", failed,
                failed == 1 ? "" : "s", log);
    return true;
}

/* For report_hosts.c: the same gnuplot lookup and run. */
bool report_find_gnuplot(char *out, size_t cap)
{
    return find_in_path("gnuplot", out, cap);
}

int report_run_gnuplot(const char *gnuplot, const char *charts_dir, const char *script,
                       const char *params)
{
    return run_gnuplot(gnuplot, charts_dir, script, params);
}
