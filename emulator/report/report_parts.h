/*
 * The parts of a report (report.h): the aggregation of events.csv into time buckets
 * (report_agg.c), the chart data files and gnuplot (report_charts.c), index.html (report_html.c),
 * and the whole (report.c). Internal to the output side.
 */
#ifndef KMSLOAD_REPORT_PARTS_H
#define KMSLOAD_REPORT_PARTS_H

#include "errmsg.h"
#include "report.h"
#include "run_tally.h"
#include "scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NB REPORT_BUCKETS
#define DISPLAY_BINS 100 /* rate charts (outcomes, latency, throughput): coarser bins */
#define MAX_APPS 8
#define MAX_CODES 6
#define MAX_POPS 64
#define MAX_STATUS 32
#define LAT_BINS 160
#define LAT_BASE 1.15
#define WINDOW_S (30.0 * 86400.0) /* a host forgets a machine 30 days after its last contact */
#define MAX_T_S 1e10              /* beyond any run: a malformed time */
#define CHART_PREFIX "charts"
#define DETAIL_MAX 4096 /* exact count changes kept per application for the close-up */

#define report_set_err errmsg_set
/* ---- shared helpers (report_files.c) ---- */

/* dir/name into out; -1 when it does not fit. */
int report_path_join(char *out, size_t cap, const char *dir, const char *name);
bool report_is_dir(const char *path);
bool report_is_file(const char *path);
/* summary.json values with a default. */
const char *report_jstring(const json_t *o, const char *key, const char *dflt);
double report_jnumber(const json_t *o, const char *key, double dflt);

/* ---- aggregation (report_agg.c) ---- */

/* One row as the report sees it. */
struct event {
    uint64_t seq;
    double wall_s, sim_s;
    uint32_t machine;
    const char *population, *application, *hresult_name;
    enum kms_outcome outcome;
    bool has_hresult;
    uint32_t hresult;
    int64_t count;                    /* -1: none */
    int64_t expected_lo, expected_hi; /* -1: not checked */
    unsigned n_policy;                /* the request's N_Policy: the host's cap is twice it */
    bool disagrees;
    uint64_t latency_us;
};

enum cat {
    CAT_ACTIVATED,
    CAT_BELOW,
    CAT_CODE0, /* host errors, one column per code (first MAX_CODES seen) */
    CAT_OTHER_HOST = CAT_CODE0 + MAX_CODES,
    CAT_RPC,
    CAT_PROTOCOL,
    CAT_NETWORK,
    CAT_COUNT
};

struct bapp {
    uint32_t n;          /* events of this application with a count */
    uint32_t last, max;  /* the last count in the bucket, the highest */
    uint32_t exlo, exhi; /* the model's range at the last checked event */
    bool has_ex;
    int32_t alive_delta; /* machines entering (+1) and leaving (-1) the 30-day window */
    uint32_t expiries;   /* machines whose last contact + 30 days falls here */
};

struct bucket {
    uint64_t requests;
    uint64_t cat[CAT_COUNT];
    uint32_t lat[LAT_BINS];
    struct bapp app[MAX_APPS];
};

/* One change of an application's count (or of the model's range), exact in time. */
struct detail {
    double t;
    uint32_t count, lo, hi;
    bool has_ex;
};

struct mslot {
    uint32_t id;
    uint8_t app;
    uint8_t used;
    double last;
};

struct pop {
    char name[64];
    uint64_t requests, activated;
    bool crossed;
    uint64_t seq;
    double t, sim_s, wall_s;
    int64_t count;
    int app;
};

struct agg {
    bool virtual_clock;
    double width; /* bucket width, seconds */
    struct bucket *b;
    char apps[MAX_APPS][32];
    size_t napps;
    struct detail *detail[MAX_APPS]; /* the first DETAIL_MAX changes of each count */
    size_t ndetail[MAX_APPS];
    double detail_full_at[MAX_APPS]; /* the time of the first change left out */
    /* The model's range per application: ever checked; ever exact or below the cap (a live host
     * or a baseline accepts any count up to the cap all run long: such a band says nothing). */
    bool band_seen[MAX_APPS], band_narrow[MAX_APPS];
    uint32_t codes[MAX_CODES];
    char code_names[MAX_CODES][80];
    size_t ncodes;
    struct pop pops[MAX_POPS];
    size_t npops;
    struct mslot *m;
    size_t mcap, mn;
    uint64_t rows;
    double max_t, max_sim, max_wall;
    double t_end;
    size_t nb_used;
};

int agg_init(struct agg *g, bool virtual_clock);
void agg_free(struct agg *g);
/* After the last event: the run's end, and the expiries that fall before it. */
void agg_finish(struct agg *g, double t_end);
/* The latency quantile q of a bucket's bins, in ms (NaN when empty). */
double lat_quantile_ms(const uint32_t *lat, double q);

/* Where report_read_events also adds the rows: a tally, with the populations named as they
 * appear (for a summary made from the events alone). */
struct report_totals {
    struct run_tally *tally;
    struct scenario *scenario;
};

/* The run every row must be of: summary.json's id, else the first row's. */
struct report_run_id {
    char id[65];
    bool from_summary;
};

/* Reads events.csv into g (and totals when not NULL). Returns REPORT_OK, REPORT_BAD_INPUT or
 * REPORT_FAILED with a message; *cut_short when the last line was incomplete. Rows of another
 * run than run's (when it has an id) are refused: files of two runs make no report. */
int report_read_events(const char *path, struct agg *g, struct report_totals *totals,
                       struct report_run_id *run, bool *cut_short, char *err, size_t err_len);

/* ---- chart data and gnuplot (report_charts.c) ---- */

struct chartctx {
    const char *charts_dir;
    double unit;      /* seconds per x unit: 86400 (days) or 1 (s) */
    double rate_unit; /* seconds per rate unit: 3600 (per simulated hour) or 1 (per second) */
    size_t ncats;
    int cats[CAT_COUNT];
    size_t ncross;
    unsigned ymax;
    uint64_t nexpiries;
    double zoom;  /* count chart close-up on [0, zoom] (x units) when the crossings come early */
    size_t group; /* fine buckets per display bin */
};

/* count.dat, expiry.dat, crossings.dat, count_detail.dat, outcomes.dat, latency.dat. */
int report_write_chart_data(const struct agg *g, struct chartctx *cx, char *err, size_t err_len);
/* The reports/ directory (gnuplot scripts, report.html). */
bool report_find_reports_dir(char *out, size_t cap);
/* Copies the <svg> element of a gnuplot SVG file to out, its ids prefixed with prefix (several
 * charts on one page). False when the file cannot be read. Also used by kmsload fleet's report. */
bool report_inline_svg(FILE *out, const char *path, const char *prefix);
/* gnuplot on $PATH, and one run of it in the charts directory (output to gnuplot.log). */
bool report_find_gnuplot(char *out, size_t cap);
int report_run_gnuplot(const char *gnuplot, const char *charts_dir, const char *script,
                       const char *params);
/*
 * Runs with several KMS hosts (report_hosts.c): charts/hosts.dat (each host's count per
 * application over time), hosts_marks.dat (records published and withdrawn, hosts switched on
 * and off, from summary.json) and hosts.png/svg. Returns true when drawn; removes an older
 * hosts chart otherwise.
 */
bool report_hosts_chart(const char *run_dir, const char *charts_dir, const char *reports_dir,
                        const json_t *root, bool virtual_clock);
/* Draws the charts (PNG and SVG) with gnuplot when it is there. Returns true when drawn, else
 * false with the reason in why_not. */
bool report_draw_charts(const struct agg *g, const struct chartctx *cx, const char *run_dir,
                        const char *reports_dir, char *why_not, size_t why_len);

/* The charts: count -> reports/count.gp, charts/count.png and .svg. */
struct report_chart {
    const char *name;
    const char *title;
    const char *caption;
};
extern const struct report_chart report_charts[];
extern const size_t report_n_charts;

/* ---- index.html (report_html.c) ---- */

struct report_page {
    const char *run_dir, *charts_dir, *reports_dir;
    const json_t *root; /* summary.json, or one made from the events */
    bool virtual_clock;
    bool drawn;
    bool hosts_drawn;    /* several KMS hosts: charts/hosts.svg */
    const char *why_not; /* why the charts were not drawn */
    const char *notes;   /* a notice for the reader, or "" */
};

/* Writes run_dir/index.html atomically. Returns REPORT_OK or REPORT_FAILED with a message. */
int report_write_index(const struct report_page *page, char *err, size_t err_len);

#endif
