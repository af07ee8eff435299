/* The report's chart of several KMS hosts: each host's count per application over time, with the
 * DNS changes (records published and withdrawn) and hosts switched on and off marked. */
#include "events_csv.h"
#include "report_parts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HC_MAX_SERIES 24
#define HC_MAX_POINTS 4000 /* per series: count changes, thinned by halving when full */

struct hc_point {
    double t;
    unsigned count;
};

struct hc_series {
    char host[64], app[32];
    struct hc_point *pts;
    size_t n;
    unsigned stride;
    uint64_t seen; /* changes offered */
    unsigned last;
    double last_t; /* the last answer: the step goes on to there */
};

struct hc_data {
    struct hc_series s[HC_MAX_SERIES];
    size_t n;
    char hosts[8][64];
    size_t n_hosts;
    double t_end;
};

static struct hc_series *series_of(struct hc_data *d, const char *host, const char *app)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->s[i].host, host) == 0 && strcmp(d->s[i].app, app) == 0)
            return &d->s[i];
    if (d->n == HC_MAX_SERIES)
        return NULL;
    struct hc_series *s = &d->s[d->n];
    s->pts = malloc(HC_MAX_POINTS * sizeof *s->pts);
    if (!s->pts)
        return NULL;
    d->n++;
    snprintf(s->host, sizeof s->host, "%.63s", host);
    snprintf(s->app, sizeof s->app, "%.31s", app);
    s->stride = 1;
    return s;
}

static void offer(struct hc_series *s, double t, unsigned count)
{
    s->last_t = t;
    if (s->n > 0 && count == s->last)
        return;
    s->last = count;
    if (s->seen++ % s->stride != 0)
        return;
    if (s->n == HC_MAX_POINTS) {
        size_t kept = 0;
        for (size_t i = 0; i < s->n; i += 2)
            s->pts[kept++] = s->pts[i];
        s->n = kept;
        s->stride *= 2;
    }
    s->pts[s->n++] = (struct hc_point){t, count};
}

#define HC_NO_COUNT "never answered (no count)"

/* The "never answered" lines of hosts that did return a count somewhere. */
static void drop_no_count_lines(struct hc_data *d)
{
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++) {
        bool drop = false;
        if (strcmp(d->s[i].app, HC_NO_COUNT) == 0)
            for (size_t j = 0; j < d->n && !drop; j++)
                drop = j != i && strcmp(d->s[j].host, d->s[i].host) == 0 &&
                       strcmp(d->s[j].app, HC_NO_COUNT) != 0;
        if (drop)
            free(d->s[i].pts);
        else
            d->s[kept++] = d->s[i];
    }
    d->n = kept;
}

#define HC_NOT_ASKED "never asked (no request)"

/* Published hosts of summary.json that no request went to (failover never reached them): a flat
 * line of their own, so every published host is in the chart. */
static void add_unasked_hosts(struct hc_data *d, const json_t *root)
{
    const json_t *hosts = json_object_get(root, "hosts"), *h;
    size_t i;
    json_array_foreach(hosts, i, h)
    {
        const char *name = report_jstring(h, "name", "");
        bool known = !name[0];
        for (size_t k = 0; k < d->n_hosts && !known; k++)
            known = strcmp(d->hosts[k], name) == 0;
        if (known || d->n_hosts == 8)
            continue;
        snprintf(d->hosts[d->n_hosts++], sizeof d->hosts[0], "%.63s", name);
        struct hc_series *s = series_of(d, name, HC_NOT_ASKED);
        if (s) {
            offer(s, 0, 0);
            s->last_t = d->t_end;
        }
    }
}

/* Reads events.csv (and the published hosts of summary.json); false when it has fewer than two
 * hosts. */
static bool read_hosts(const char *run_dir, const json_t *root, struct hc_data *d, double unit)
{
    char path[1200], err[512];
    if (report_path_join(path, sizeof path, run_dir, "events.csv") != 0)
        return false;
    struct events_csv_reader *r = events_csv_open(path, err, sizeof err);
    if (!r)
        return false;
    struct events_row row;
    while (events_csv_next(r, &row, err, sizeof err) == 1) {
        if (!row.host[0])
            continue;
        bool known = false;
        for (size_t i = 0; i < d->n_hosts; i++)
            known |= strcmp(d->hosts[i], row.host) == 0;
        if (!known && d->n_hosts < 8)
            snprintf(d->hosts[d->n_hosts++], sizeof d->hosts[0], "%.63s", row.host);
        double t = (double)row.ev.sim_us / 1e6 / unit;
        if (t > d->t_end)
            d->t_end = t;
        /* Attempts without a count go to the host's "never answered" line (count 0), kept
         * only for a host that never returned a count: every published host is in the chart. */
        struct hc_series *s = series_of(d, row.host, row.ev.count < 0 ? HC_NO_COUNT : row.app);
        if (s)
            offer(s, t, row.ev.count < 0 ? 0 : (unsigned)row.ev.count);
    }
    events_csv_close(r);
    drop_no_count_lines(d);
    add_unasked_hosts(d, root);
    return d->n_hosts >= 2;
}

static void free_data(struct hc_data *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->s[i].pts);
}

/* One gnuplot block per series, titled "host app"; a step continues to the end of the run. */
static int write_data(const char *charts_dir, const struct hc_data *d)
{
    char path[1200];
    if (report_path_join(path, sizeof path, charts_dir, "hosts.dat") != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        const struct hc_series *s = &d->s[i];
        fprintf(f, "%s\"%s %s\"\n", i ? "\n\n" : "", s->host, s->app);
        for (size_t k = 0; k < s->n; k++)
            fprintf(f, "%.6f %u\n", s->pts[k].t, s->pts[k].count);
        if (s->n > 0 && s->last_t > s->pts[s->n - 1].t)
            fprintf(f, "%.6f %u\n", s->last_t, s->last);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* The DNS changes and switch-offs of summary.json's hosts: "t label" lines. */
static size_t write_marks(const char *charts_dir, const json_t *root, double unit, double t_end)
{
    char path[1200];
    if (report_path_join(path, sizeof path, charts_dir, "hosts_marks.dat") != 0)
        return 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    size_t n = 0;
    const json_t *hosts = json_object_get(root, "hosts"), *h;
    size_t i;
    static const struct {
        const char *key, *what;
    } marks[] = {{"publish_at_s", "record added"},
                 {"withdraw_at_s", "record removed"},
                 {"start_at_s", "switched on"},
                 {"stop_at_s", "switched off"}};
    json_array_foreach(hosts, i, h)
    {
        const char *name = report_jstring(h, "name", "?");
        for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
            const json_t *v = json_object_get(h, marks[k].key);
            if (!json_is_number(v))
                continue;
            double t = json_number_value(v) / unit;
            if (t <= 0 || t > t_end)
                continue;
            fprintf(f, "%.6f \"%s: %s\"\n", t, name, marks[k].what);
            n++;
        }
    }
    fclose(f);
    return n;
}

bool report_hosts_chart(const char *run_dir, const char *charts_dir, const char *reports_dir,
                        const json_t *root, bool virtual_clock)
{
    static const char *const outputs[] = {"hosts.png", "hosts.svg"};
    for (size_t i = 0; i < 2; i++) {
        char path[1200];
        if (report_path_join(path, sizeof path, charts_dir, outputs[i]) == 0)
            unlink(path);
    }
    double unit = virtual_clock ? 86400.0 : 1.0;
    struct hc_data *d = calloc(1, sizeof *d);
    if (!d)
        return false;
    bool drawn = false;
    char gnuplot[1024], script[1200];
    if (read_hosts(run_dir, root, d, unit) && write_data(charts_dir, d) == 0 &&
        report_find_gnuplot(gnuplot, sizeof gnuplot) &&
        report_path_join(script, sizeof script, reports_dir, "hosts.gp") == 0) {
        /* The x axis spans the whole run, as the other charts' do, not only up to the last
         * answer (a migration's last contact may be days before its end). */
        double run_end =
            report_jnumber(root, virtual_clock ? "simulated_seconds" : "wall_seconds", 0) / unit;
        double xmax = isfinite(run_end) && run_end > d->t_end ? run_end : d->t_end;
        size_t nmarks = write_marks(charts_dir, root, unit, xmax);
        drawn = true;
        static const char *const fmts[] = {"png", "svg"};
        for (size_t k = 0; k < 2; k++) {
            char params[512];
            snprintf(params, sizeof params,
                     "fmt='%s'; outfile='hosts.%s'; datafile='hosts.dat'; "
                     "marksfile='hosts_marks.dat'; nseries=%zu; nmarks=%zu; xmax=%.6f; "
                     "xunit='%s'; virtual=%d",
                     fmts[k], fmts[k], d->n, nmarks, xmax, virtual_clock ? "days" : "s",
                     virtual_clock ? 1 : 0);
            if (report_run_gnuplot(gnuplot, charts_dir, script, params) != 0)
                drawn = false;
        }
    }
    free_data(d);
    free(d);
    return drawn;
}
