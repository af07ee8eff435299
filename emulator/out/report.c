/* A run's report: events.csv and summary.json in, charts/ and index.html out (see report.h). */
#include "report.h"

#include "atomic_file.h"
#include "events_csv.h"
#include "markup.h"
#include "run_dir.h"

#include "client_session.h"
#include "histogram.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- errors and paths ---- */

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- one row as the report sees it ---- */

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
    bool disagrees;
    uint64_t latency_us;
};

static void event_from_row(const struct events_row *row, struct event *ev)
{
    const struct run_event *e = &row->ev;
    *ev = (struct event){
        .seq = e->seq,
        .wall_s = e->wall_s,
        .sim_s = (double)e->sim_us / 1e6,
        .machine = e->machine,
        .population = row->population,
        .application = row->app,
        .hresult_name = row->status_name,
        .outcome = e->outcome,
        .has_hresult = row->has_status,
        .hresult = e->hresult,
        .count = e->count,
        .expected_lo = e->model_checked ? (int64_t)e->expected_lo : -1,
        .expected_hi = e->model_checked ? (int64_t)e->expected_hi : -1,
        .disagrees = e->model_checked && !e->model_agrees,
        .latency_us = e->latency_us,
    };
}

/* ---- aggregation ---- */

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

struct status_count {
    uint32_t code;
    bool rpc;
    char name[80];
    uint64_t n;
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
    uint32_t codes[MAX_CODES];
    char code_names[MAX_CODES][80];
    size_t ncodes;
    struct pop pops[MAX_POPS];
    size_t npops;
    struct mslot *m;
    size_t mcap, mn;
    /* totals, for a summary made from the events when summary.json is missing */
    uint64_t rows;
    uint64_t outcomes[KMS_OUTCOME__COUNT];
    struct status_count status[MAX_STATUS];
    size_t nstatus;
    uint64_t status_other;
    struct histogram latency;
    uint64_t app_requests[MAX_APPS];
    uint32_t app_max[MAX_APPS], app_last[MAX_APPS];
    bool app_has_count[MAX_APPS];
    uint64_t model_checked, model_mismatches;
    bool has_mismatch;
    struct event mismatch;
    char mismatch_pop[64], mismatch_app[32];
    double max_t, max_sim, max_wall;
    double t_end;
    size_t nb_used;
};

static void bucket_merge(struct bucket *into, const struct bucket *a, const struct bucket *b)
{
    struct bucket r;
    memset(&r, 0, sizeof r);
    r.requests = a->requests + b->requests;
    for (size_t i = 0; i < CAT_COUNT; i++)
        r.cat[i] = a->cat[i] + b->cat[i];
    for (size_t i = 0; i < LAT_BINS; i++)
        r.lat[i] = a->lat[i] + b->lat[i];
    for (size_t i = 0; i < MAX_APPS; i++) {
        const struct bapp *x = &a->app[i], *y = &b->app[i];
        struct bapp *z = &r.app[i];
        z->n = x->n + y->n;
        z->last = y->n ? y->last : x->last;
        z->max = x->max > y->max ? x->max : y->max;
        z->has_ex = x->has_ex || y->has_ex;
        z->exlo = y->has_ex ? y->exlo : x->exlo;
        z->exhi = y->has_ex ? y->exhi : x->exhi;
        z->alive_delta = x->alive_delta + y->alive_delta;
        z->expiries = x->expiries + y->expiries;
    }
    *into = r;
}

/* Doubles the bucket width until t falls in the last bucket's range or before. */
static void agg_cover(struct agg *g, double t)
{
    while (t >= g->width * NB) {
        for (size_t k = 0; k < NB / 2; k++)
            bucket_merge(&g->b[k], &g->b[2 * k], &g->b[2 * k + 1]);
        memset(&g->b[NB / 2], 0, (NB - NB / 2) * sizeof g->b[0]);
        g->width *= 2;
    }
}

static struct bucket *agg_at(struct agg *g, double t)
{
    agg_cover(g, t);
    size_t k = (size_t)(t / g->width);
    return &g->b[k < NB ? k : NB - 1];
}

static int agg_init(struct agg *g, bool virtual_clock)
{
    memset(g, 0, sizeof *g);
    g->virtual_clock = virtual_clock;
    g->width = 1.0 / 1024;
    g->b = calloc(NB, sizeof *g->b);
    g->mcap = 1024;
    g->m = calloc(g->mcap, sizeof *g->m);
    histogram_init(&g->latency);
    bool ok = g->b && g->m;
    for (size_t a = 0; a < MAX_APPS; a++) {
        g->detail[a] = malloc(DETAIL_MAX * sizeof *g->detail[a]);
        g->detail_full_at[a] = INFINITY;
        ok = ok && g->detail[a];
    }
    return ok ? 0 : -1;
}

static void agg_free(struct agg *g)
{
    free(g->b);
    free(g->m);
    g->b = NULL;
    g->m = NULL;
    for (size_t a = 0; a < MAX_APPS; a++) {
        free(g->detail[a]);
        g->detail[a] = NULL;
    }
}

static size_t mhash(uint32_t id, size_t cap)
{
    return (size_t)((id * 0x9E3779B1u) ^ (id >> 16)) & (cap - 1);
}

static struct mslot *machine_slot(struct agg *g, uint32_t id)
{
    if ((g->mn + 1) * 4 > g->mcap * 3) {
        size_t cap = g->mcap * 2;
        struct mslot *m = calloc(cap, sizeof *m);
        if (!m)
            return NULL;
        for (size_t i = 0; i < g->mcap; i++) {
            if (!g->m[i].used)
                continue;
            size_t h = mhash(g->m[i].id, cap);
            while (m[h].used)
                h = (h + 1) & (cap - 1);
            m[h] = g->m[i];
        }
        free(g->m);
        g->m = m;
        g->mcap = cap;
    }
    size_t h = mhash(id, g->mcap);
    while (g->m[h].used && g->m[h].id != id)
        h = (h + 1) & (g->mcap - 1);
    return &g->m[h];
}

static int app_index(struct agg *g, const char *name)
{
    if (!*name)
        return -1;
    for (size_t i = 0; i < g->napps; i++)
        if (strcmp(g->apps[i], name) == 0)
            return (int)i;
    if (g->napps == MAX_APPS)
        return -1;
    snprintf(g->apps[g->napps], sizeof g->apps[0], "%s", name);
    return (int)g->napps++;
}

static struct pop *pop_of(struct agg *g, const char *name)
{
    for (size_t i = 0; i < g->npops; i++)
        if (strncmp(g->pops[i].name, name, sizeof g->pops[i].name - 1) == 0)
            return &g->pops[i];
    if (g->npops == MAX_POPS)
        return NULL;
    struct pop *p = &g->pops[g->npops++];
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

static size_t lat_bin(uint64_t us)
{
    if (us <= 1)
        return 0;
    double b = log((double)us) / log(LAT_BASE);
    return b >= LAT_BINS - 1 ? LAT_BINS - 1 : (size_t)b;
}

static double lat_quantile_ms(const uint32_t *lat, double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i < LAT_BINS; i++)
        total += lat[i];
    if (total == 0)
        return NAN;
    uint64_t want = (uint64_t)ceil(q * (double)total), seen = 0;
    if (want == 0)
        want = 1;
    for (size_t i = 0; i < LAT_BINS; i++) {
        seen += lat[i];
        if (seen >= want)
            return pow(LAT_BASE, (double)i + 0.5) / 1000.0;
    }
    return NAN;
}

static void detail_add(struct agg *g, int a, double t, const struct event *ev)
{
    struct detail d = {.t = t, .count = (uint32_t)ev->count};
    if (ev->expected_lo >= 0 && ev->expected_hi >= ev->expected_lo) {
        d.has_ex = true;
        d.lo = (uint32_t)ev->expected_lo;
        d.hi = (uint32_t)ev->expected_hi;
    }
    size_t n = g->ndetail[a];
    if (n > 0) {
        const struct detail *p = &g->detail[a][n - 1];
        if (p->count == d.count && p->has_ex == d.has_ex && p->lo == d.lo && p->hi == d.hi)
            return;
    }
    if (n == DETAIL_MAX || !g->detail[a]) {
        if (t < g->detail_full_at[a])
            g->detail_full_at[a] = t;
        return;
    }
    g->detail[a][g->ndetail[a]++] = d;
}

static enum cat event_cat(struct agg *g, const struct event *ev)
{
    switch (ev->outcome) {
    case KMS_OUTCOME_ACTIVATED:
        return CAT_ACTIVATED;
    case KMS_OUTCOME_BELOW_THRESHOLD:
        return CAT_BELOW;
    case KMS_OUTCOME_HOST_ERROR:
        for (size_t i = 0; i < g->ncodes; i++)
            if (g->codes[i] == ev->hresult)
                return (enum cat)(CAT_CODE0 + i);
        if (g->ncodes < MAX_CODES) {
            g->codes[g->ncodes] = ev->hresult;
            snprintf(g->code_names[g->ncodes], sizeof g->code_names[0], "%s", ev->hresult_name);
            return (enum cat)(CAT_CODE0 + g->ncodes++);
        }
        return CAT_OTHER_HOST;
    case KMS_OUTCOME_RPC_FAULT:
        return CAT_RPC;
    case KMS_OUTCOME_PROTOCOL_ERROR:
        return CAT_PROTOCOL;
    default:
        return CAT_NETWORK;
    }
}

static void count_status(struct agg *g, const struct event *ev)
{
    if (ev->outcome != KMS_OUTCOME_HOST_ERROR && ev->outcome != KMS_OUTCOME_RPC_FAULT)
        return;
    bool rpc = ev->outcome == KMS_OUTCOME_RPC_FAULT;
    for (size_t i = 0; i < g->nstatus; i++)
        if (g->status[i].code == ev->hresult && g->status[i].rpc == rpc) {
            g->status[i].n++;
            return;
        }
    if (g->nstatus == MAX_STATUS) {
        g->status_other++;
        return;
    }
    struct status_count *s = &g->status[g->nstatus++];
    s->code = ev->hresult;
    s->rpc = rpc;
    snprintf(s->name, sizeof s->name, "%s", ev->hresult_name);
    s->n = 1;
}

static int agg_add(struct agg *g, const struct event *ev)
{
    double t = g->virtual_clock ? ev->sim_s : ev->wall_s;
    g->rows++;
    if (t > g->max_t)
        g->max_t = t;
    if (ev->sim_s > g->max_sim)
        g->max_sim = ev->sim_s;
    if (ev->wall_s > g->max_wall)
        g->max_wall = ev->wall_s;
    struct bucket *b = agg_at(g, t);
    b->requests++;
    b->cat[event_cat(g, ev)]++;
    b->lat[lat_bin(ev->latency_us)]++;
    g->outcomes[ev->outcome]++;
    count_status(g, ev);
    histogram_record(&g->latency, ev->latency_us);

    int a = app_index(g, ev->application);
    if (a >= 0) {
        g->app_requests[a]++;
        if (ev->count >= 0) {
            struct bapp *ba = &b->app[a];
            uint32_t c = (uint32_t)ev->count;
            ba->n++;
            ba->last = c;
            if (c > ba->max)
                ba->max = c;
            if (ev->expected_lo >= 0 && ev->expected_hi >= ev->expected_lo) {
                ba->has_ex = true;
                ba->exlo = (uint32_t)ev->expected_lo;
                ba->exhi = (uint32_t)ev->expected_hi;
            }
            detail_add(g, a, t, ev);
            g->app_has_count[a] = true;
            g->app_last[a] = c;
            if (c > g->app_max[a])
                g->app_max[a] = c;
        }
    }
    if (ev->expected_lo >= 0) {
        g->model_checked++;
        if (ev->disagrees) {
            g->model_mismatches++;
            if (!g->has_mismatch) {
                g->has_mismatch = true;
                g->mismatch = *ev;
                snprintf(g->mismatch_pop, sizeof g->mismatch_pop, "%s", ev->population);
                snprintf(g->mismatch_app, sizeof g->mismatch_app, "%s", ev->application);
            }
        }
    }

    /* The 30-day window: a machine the host counted stays counted until 30 days after its last
     * counted contact; a contact after a longer gap counts it anew. */
    bool counted =
        ev->outcome == KMS_OUTCOME_ACTIVATED || ev->outcome == KMS_OUTCOME_BELOW_THRESHOLD;
    if (counted && a >= 0) {
        struct mslot *s = machine_slot(g, ev->machine);
        if (!s)
            return -1;
        if (!s->used) {
            s->used = 1;
            s->id = ev->machine;
            s->app = (uint8_t)a;
            s->last = t;
            g->mn++;
            agg_at(g, t)->app[a].alive_delta++;
        } else if (t >= s->last + WINDOW_S) {
            struct bucket *e = agg_at(g, s->last + WINDOW_S);
            e->app[s->app].alive_delta--;
            e->app[s->app].expiries++;
            agg_at(g, t)->app[a].alive_delta++;
            s->last = t;
            s->app = (uint8_t)a;
        } else if (t > s->last) {
            s->last = t;
        }
    }

    struct pop *p = pop_of(g, ev->population);
    if (p) {
        p->requests++;
        if (ev->outcome == KMS_OUTCOME_ACTIVATED) {
            p->activated++;
            if (!p->crossed || ev->seq < p->seq) {
                p->crossed = true;
                p->seq = ev->seq;
                p->t = t;
                p->sim_s = ev->sim_s;
                p->wall_s = ev->wall_s;
                p->count = ev->count;
                p->app = a;
            }
        }
    }
    return 0;
}

/* After the last event: the run's end, and the expiries that fall before it. */
static void agg_finish(struct agg *g, double t_end)
{
    g->t_end = t_end > g->max_t ? t_end : g->max_t;
    agg_cover(g, g->t_end);
    for (size_t i = 0; i < g->mcap; i++) {
        const struct mslot *s = &g->m[i];
        if (!s->used || s->last + WINDOW_S > g->t_end)
            continue;
        struct bucket *e = agg_at(g, s->last + WINDOW_S);
        e->app[s->app].alive_delta--;
        e->app[s->app].expiries++;
    }
    size_t n = (size_t)(g->t_end / g->width) + 1;
    g->nb_used = n < NB ? n : NB;
}

/* Reads events.csv into g. Returns 0, REPORT_BAD_INPUT or REPORT_FAILED. */
static int read_events(const char *path, struct agg *g, bool *incomplete_tail, char *err,
                       size_t err_len)
{
    struct events_csv_reader *r = events_csv_open(path, err, err_len);
    if (!r)
        return REPORT_BAD_INPUT;
    struct events_row *row = malloc(sizeof *row);
    int rc = row ? REPORT_OK : REPORT_FAILED, got;
    while (rc == REPORT_OK && (got = events_csv_next(r, row, err, err_len)) > 0) {
        struct event ev;
        event_from_row(row, &ev);
        if (agg_add(g, &ev) != 0) {
            set_err(err, err_len, "%s:%lu: out of memory", path, events_csv_line(r));
            rc = REPORT_FAILED;
        }
    }
    if (rc == REPORT_OK && got < 0)
        rc = REPORT_BAD_INPUT;
    *incomplete_tail = events_csv_cut_short(r);
    free(row);
    events_csv_close(r);
    return rc;
}

/* ---- summary.json, read or made up from the events ---- */

static const char *jstring(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static double jnumber(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static json_t *summary_from_events(const struct agg *g, const char *reason)
{
    json_t *root = json_object();
    json_t *sc = json_object();
    json_object_set_new(sc, "name", json_string(""));
    json_object_set_new(root, "scenario", sc);
    json_object_set_new(root, "clock", json_string(g->virtual_clock ? "virtual" : "real"));
    json_object_set_new(root, "interrupted", json_true());
    json_object_set_new(root, "interrupt_reason", json_string(reason));
    json_object_set_new(root, "wall_seconds", json_real(g->max_wall));
    json_object_set_new(root, "simulated_seconds", json_real(g->max_sim));
    json_object_set_new(root, "requests", json_integer((json_int_t)g->rows));
    json_object_set_new(root, "throughput",
                        json_real(g->max_wall > 0 ? (double)g->rows / g->max_wall : 0.0));
    json_t *oc = json_object();
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        json_object_set_new(oc, kms_outcome_name((enum kms_outcome)o),
                            json_integer((json_int_t)g->outcomes[o]));
    json_object_set_new(root, "outcomes", oc);
    json_t *hr = json_array();
    for (size_t i = 0; i < g->nstatus; i++) {
        char code[16];
        snprintf(code, sizeof code, "0x%08" PRIX32, g->status[i].code);
        json_t *j = json_object();
        json_object_set_new(j, "code", json_string(code));
        json_object_set_new(j, "name", json_string(g->status[i].name));
        json_object_set_new(j, "n", json_integer((json_int_t)g->status[i].n));
        json_array_append_new(hr, j);
    }
    if (g->status_other) {
        json_t *j = json_object();
        json_object_set_new(j, "code", json_null());
        json_object_set_new(j, "name", json_string("other codes"));
        json_object_set_new(j, "n", json_integer((json_int_t)g->status_other));
        json_array_append_new(hr, j);
    }
    json_object_set_new(root, "hresults", hr);
    json_t *lat = json_object();
    json_object_set_new(lat, "count", json_integer((json_int_t)g->latency.count));
    if (g->latency.count) {
        json_object_set_new(lat, "min", json_integer((json_int_t)g->latency.min));
        json_object_set_new(lat, "p50",
                            json_integer((json_int_t)histogram_quantile(&g->latency, 0.5)));
        json_object_set_new(lat, "p90",
                            json_integer((json_int_t)histogram_quantile(&g->latency, 0.9)));
        json_object_set_new(lat, "p99",
                            json_integer((json_int_t)histogram_quantile(&g->latency, 0.99)));
        json_object_set_new(lat, "p999",
                            json_integer((json_int_t)histogram_quantile(&g->latency, 0.999)));
        json_object_set_new(lat, "max", json_integer((json_int_t)g->latency.max));
    }
    json_object_set_new(root, "latency_us", lat);
    json_t *apps = json_object();
    for (size_t a = 0; a < g->napps; a++) {
        json_t *j = json_object();
        json_object_set_new(j, "requests", json_integer((json_int_t)g->app_requests[a]));
        json_object_set_new(j, "max_count",
                            g->app_has_count[a] ? json_integer(g->app_max[a]) : json_null());
        json_object_set_new(j, "final_count",
                            g->app_has_count[a] ? json_integer(g->app_last[a]) : json_null());
        json_object_set_new(apps, g->apps[a], j);
    }
    json_object_set_new(root, "applications", apps);
    json_t *pops = json_object();
    for (size_t i = 0; i < g->npops; i++) {
        const struct pop *p = &g->pops[i];
        json_t *j = json_object();
        json_object_set_new(j, "requests", json_integer((json_int_t)p->requests));
        json_object_set_new(j, "activated_responses", json_integer((json_int_t)p->activated));
        json_t *fa = json_null();
        if (p->crossed) {
            fa = json_object();
            json_object_set_new(fa, "request", json_integer((json_int_t)p->seq));
            json_object_set_new(fa, "sim_s", json_real(p->sim_s));
            json_object_set_new(fa, "wall_s", json_real(p->wall_s));
            json_object_set_new(fa, "count", p->count >= 0 ? json_integer(p->count) : json_null());
        }
        json_object_set_new(j, "first_activation", fa);
        json_object_set_new(pops, p->name, j);
    }
    json_object_set_new(root, "populations", pops);
    json_t *model = json_object();
    json_object_set_new(model, "checked", json_integer((json_int_t)g->model_checked));
    json_object_set_new(model, "mismatches", json_integer((json_int_t)g->model_mismatches));
    json_t *fm = json_null();
    if (g->has_mismatch) {
        fm = json_object();
        json_object_set_new(fm, "request", json_integer((json_int_t)g->mismatch.seq));
        json_object_set_new(fm, "sim_s", json_real(g->mismatch.sim_s));
        json_object_set_new(fm, "machine", json_integer(g->mismatch.machine));
        json_object_set_new(fm, "population", json_string(g->mismatch_pop));
        json_object_set_new(fm, "application", json_string(g->mismatch_app));
        json_object_set_new(fm, "count",
                            g->mismatch.count >= 0 ? json_integer(g->mismatch.count) : json_null());
        json_object_set_new(fm, "expected_lo", json_integer(g->mismatch.expected_lo));
        json_object_set_new(fm, "expected_hi", json_integer(g->mismatch.expected_hi));
    }
    json_object_set_new(model, "first_mismatch", fm);
    json_object_set_new(root, "model", model);
    json_object_set_new(root, "expectations", json_array());
    return root;
}

/* ---- chart data files ---- */

struct chartctx {
    const char *charts_dir;
    double unit;      /* seconds per x unit: 86400 (days) or 1 (s) */
    double rate_unit; /* seconds per rate unit: 3600 (per simulated hour) or 1 (per second) */
    size_t napps;
    size_t ncats;
    int cats[CAT_COUNT];
    size_t ncross;
    unsigned ymax;
    uint64_t nexpiries;
    double zoom;  /* count chart close-up on [0, zoom] (x units) when the crossings come early */
    size_t group; /* fine buckets per display bin */
};

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
    if (path_join(path, sizeof path, cx->charts_dir, name) != 0) {
        set_err(err, err_len, "run directory name too long");
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
    return f;
}

static int close_data(FILE *f, const struct chartctx *cx, const char *name, char *err,
                      size_t err_len)
{
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        set_err(err, err_len, "cannot write %s/%s: %s", cx->charts_dir, name,
                strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* count.dat: per application the count the host returned (carried between requests) and the
 * model's range; expiry.dat: per application the count, the machines whose last counted contact
 * is less than 30 days old, and the expiries per bucket; crossings.dat: first activations. */
static int write_state_data(const struct agg *g, struct chartctx *cx, char *err, size_t err_len)
{
    FILE *cf = open_data(cx, "count.dat", err, err_len);
    if (!cf)
        return -1;
    FILE *ef = open_data(cx, "expiry.dat", err, err_len);
    if (!ef) {
        fclose(cf);
        return -1;
    }
    fputs("t ", cf);
    fputs("t", ef);
    for (size_t a = 0; a < g->napps; a++) {
        char t[96];
        if (a)
            putc(' ', cf);
        gp_title(cf, g->apps[a]);
        snprintf(t, sizeof t, "%s: model-expected range", g->apps[a]);
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
            num(cf, cur[a]);
            num(cf, isfinite(lo[a]) ? lo[a] - 0.4 : NAN);
            num(cf, isfinite(hi[a]) ? hi[a] + 0.4 : NAN);
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
    if (close_data(ef, cx, "expiry.dat", err, err_len) != 0)
        return -1;

    FILE *xf = open_data(cx, "crossings.dat", err, err_len);
    if (!xf)
        return -1;
    fputs("# t count label label_y: the first activation of each population\n", xf);
    cx->ncross = 0;
    double last_cross = 0;
    /* Labels start at their point and run right; those of crossings close in time are stacked
     * apart (in count units: one text line is about 3.6 counts on a 0..64 axis). */
    double ytop = cx->ymax > 50 ? cx->ymax * 1.25 : 64, line = 3.6 * ytop / 64;
    double lx[MAX_POPS], ly[MAX_POPS];
    size_t nl = 0, n_crossed = 0;
    for (size_t i = 0; i < g->npops; i++)
        n_crossed += g->pops[i].crossed && g->pops[i].count >= 0;
    for (size_t i = 0; i < g->npops; i++) {
        const struct pop *p = &g->pops[i];
        if (!p->crossed || p->count < 0)
            continue;
        char label[200];
        if (n_crossed > 3) /* many: short labels, the table of index.html has the rest */
            snprintf(label, sizeof label, "%s (request %" PRIu64 ")", p->name, p->seq);
        else if (g->virtual_clock && cx->unit == 86400.0)
            snprintf(label, sizeof label,
                     "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", day %.2f",
                     p->name, p->seq, p->count, p->t / 86400.0);
        else if (g->virtual_clock)
            snprintf(label, sizeof label,
                     "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", %.2f h", p->name,
                     p->seq, p->count, p->t / 3600.0);
        else
            snprintf(label, sizeof label,
                     "%s: 1st activation, request %" PRIu64 ", count %" PRId64 ", %.4g s", p->name,
                     p->seq, p->count, p->t);
        double y = (double)p->count - line / 2;
        if (y < line / 2)
            y = line / 2;
        /* The lowest free line at or above its point among the nearby labels (at most nl + 1
         * tries: each clash is with a different label). */
        double reach = (n_crossed > 3 ? 0.2 : 0.4) * g->t_end;
        for (size_t attempt = 0; attempt <= nl; attempt++) {
            bool clash = false;
            for (size_t k = 0; k < nl && !clash; k++)
                clash = fabs(lx[k] - p->t) < reach && fabs(ly[k] - y) < line * 0.95;
            if (!clash)
                break;
            y += line;
        }
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
    if (close_data(xf, cx, "crossings.dat", err, err_len) != 0)
        return -1;

    /* count_detail.dat: one block per application (gnuplot index 0, 1...), every change. */
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
        for (size_t i = 0; i < n; i++) {
            if (i > 0) { /* the values held until this change: steps, also for the band */
                num(df, d[i].t / cx->unit);
                num(df, d[i - 1].count);
                num(df, d[i - 1].has_ex ? d[i - 1].lo - 0.4 : NAN);
                num(df, d[i - 1].has_ex ? d[i - 1].hi + 0.4 : NAN);
                fputc('\n', df);
            }
            num(df, d[i].t / cx->unit);
            num(df, d[i].count);
            num(df, d[i].has_ex ? d[i].lo - 0.4 : NAN);
            num(df, d[i].has_ex ? d[i].hi + 0.4 : NAN);
            fputc('\n', df);
        }
        double until = g->detail_full_at[a] < g->t_end ? g->detail_full_at[a] : g->t_end;
        num(df, until / cx->unit);
        num(df, n ? d[n - 1].count : NAN);
        num(df, n && d[n - 1].has_ex ? d[n - 1].lo - 0.4 : NAN);
        num(df, n && d[n - 1].has_ex ? d[n - 1].hi + 0.4 : NAN);
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
        if (w > 0 && (size_t)w < cap && access(out, X_OK) == 0 && is_file(out))
            return true;
        path += n + (colon ? 1 : 0);
    }
    return false;
}

/* The reports/ directory (gnuplot scripts, report.html): $KMSLOAD_REPORTS, the installed copy,
 * the source tree's. */
static bool find_reports_dir(char *out, size_t cap)
{
    const char *candidates[3] = {getenv("KMSLOAD_REPORTS"), NULL, NULL};
#ifdef KMSLOAD_DATADIR
    candidates[1] = KMSLOAD_DATADIR "/reports";
#endif
#ifdef KMSLOAD_SOURCE_REPORTS
    candidates[2] = KMSLOAD_SOURCE_REPORTS;
#endif
    for (size_t i = 0; i < 3; i++) {
        char probe[1024];
        if (!candidates[i] || !*candidates[i] ||
            path_join(probe, sizeof probe, candidates[i], "report.html") != 0 || !is_file(probe))
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

struct chart {
    const char *name; /* count -> reports/count.gp, charts/count.png and .svg */
    const char *title;
    const char *caption;
};

static const struct chart charts[] = {
    {"count", "Count over time per application",
     "The count the host returned (line) and the range a genuine host could have returned (band), "
     "per application; dashed: the activation thresholds (25 Windows clients, 5 servers and "
     "Office), dotted: the caps (2 &times; N_Policy: 50 and 10); dots: the first activation of "
     "each population."},
    {"expiry", "30-day window expiry",
     "The count the host returned against the number of machines whose last counted contact is "
     "less than 30 days old (dashed steps): a host forgets a machine 30 days after its last "
     "contact. Bars (right axis): machines reaching their last contact + 30 days."},
    {"outcomes", "Activation outcomes over time",
     "Answers per time bin, stacked: activated, below threshold (0xC004F038, not an error), host "
     "errors by HRESULT, RPC faults, protocol and network errors."},
    {"latency", "Latency and throughput over time",
     "Latency percentiles per time bin (log scale) and requests per time unit."},
};
#define N_CHARTS (sizeof charts / sizeof charts[0])

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

/* ---- HTML ---- */

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
static bool inline_svg(FILE *out, const char *path, const char *prefix)
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
    html(f, jstring(sc, "name", ""));
    const char *path = jstring(sc, "path", "");
    if (*path) {
        fputs(" <span class=\"dim\">(", f);
        html(f, path);
        fputs(")</span>", f);
    }
    const char *desc = jstring(sc, "description", "");
    if (*desc) {
        fputs("<br>", f);
        html(f, desc);
    }
    fputs("</td></tr>\n<tr><th>Target</th><td>", f);
    html(f, jstring(root, "target", "unknown"));
    fputs("</td></tr>\n", f);
    fprintf(f, "<tr><th>Clock</th><td>%s</td></tr>\n",
            virtual_clock ? "virtual (simulated time runs as fast as the host answers)" : "real");
    const json_t *seed = json_object_get(root, "seed");
    if (json_is_integer(seed))
        fprintf(f, "<tr><th>Seed</th><td>%" JSON_INTEGER_FORMAT "</td></tr>\n",
                json_integer_value(seed));
    const char *started = jstring(root, "started_at", "");
    if (*started) {
        fputs("<tr><th>Started</th><td>", f);
        html(f, started);
        fputs("</td></tr>\n", f);
    }
    fprintf(f,
            "<tr><th>Requests</th><td>%.0f in %.2f s wall time (%.0f/s), %.2f simulated "
            "days</td></tr>\n",
            jnumber(root, "requests", 0), jnumber(root, "wall_seconds", 0),
            jnumber(root, "throughput", 0), jnumber(root, "simulated_seconds", 0) / 86400.0);
    const char *version = jstring(root, "kmsload", "");
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
        html(f, jstring(e, "expectation", ""));
        fprintf(f, "</code></td><td class=\"num\">%.0f</td><td>", jnumber(e, "line", 0));
        html(f, jstring(e, "observed", ""));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void html_tables(FILE *f, const json_t *root, bool virtual_clock)
{
    /* outcomes */
    const json_t *oc = json_object_get(root, "outcomes");
    double requests = jnumber(root, "requests", 0);
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

    /* HRESULTs */
    const json_t *hr = json_object_get(root, "hresults");
    fputs("<table class=\"grid\">\n<caption>HRESULTs and RPC faults</caption>\n"
          "<tr><th>Code</th><th>Name</th><th>Requests</th></tr>\n",
          f);
    size_t i;
    json_array_foreach(hr, i, v)
    {
        fputs("<tr><td><code>", f);
        html(f, jstring(v, "code", ""));
        fputs("</code></td><td>", f);
        html(f, jstring(v, "name", ""));
        fprintf(f, "</td><td class=\"num\">%.0f</td></tr>\n", jnumber(v, "n", 0));
    }
    if (json_array_size(hr) == 0)
        fputs("<tr><td colspan=\"3\" class=\"dim\">none: every answer was a count</td></tr>\n", f);
    fputs("</table>\n", f);

    /* latency */
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

    /* applications */
    const json_t *apps = json_object_get(root, "applications");
    fputs("<table class=\"grid\">\n<caption>Counts per application</caption>\n<tr><th>"
          "Application</th><th>Requests</th><th>Max count</th><th>Final count</th></tr>\n",
          f);
    json_object_foreach((json_t *)apps, key, v)
    {
        fputs("<tr><td>", f);
        html(f, key);
        fprintf(f, "</td><td class=\"num\">%.0f</td>", jnumber(v, "requests", 0));
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

    /* threshold crossings */
    const json_t *pops = json_object_get(root, "populations");
    fputs("<table class=\"grid\">\n<caption>Threshold crossings</caption>\n<tr><th>Population"
          "</th><th>Machines</th><th>Requests</th><th>Activated machines</th><th>First "
          "activation</th></tr>\n",
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
        fprintf(f, "<td class=\"num\">%.0f</td>", jnumber(v, "requests", 0));
        if (json_is_number(am))
            fprintf(f, "<td class=\"num\">%.0f</td>", json_number_value(am));
        else
            fputs("<td class=\"num\">&ndash;</td>", f);
        const json_t *fa = json_object_get(v, "first_activation");
        if (json_is_object(fa)) {
            fprintf(f, "<td>at count %.0f, request %.0f, ", jnumber(fa, "count", 0),
                    jnumber(fa, "request", 0));
            fmt_when(f, virtual_clock, jnumber(fa, "sim_s", 0), jnumber(fa, "wall_s", 0));
            fputs("</td>", f);
        } else {
            fputs("<td class=\"dim\">none activated</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n</div>\n", f);
}

static void html_model(FILE *f, const json_t *root)
{
    const json_t *model = json_object_get(root, "model");
    const json_t *fm = json_object_get(model, "first_mismatch");
    fprintf(f,
            "<p>%.0f answers checked against the model of genuine counting, %.0f "
            "disagreement%s.</p>\n",
            jnumber(model, "checked", 0), jnumber(model, "mismatches", 0),
            jnumber(model, "mismatches", 0) == 1 ? "" : "s");
    if (!json_is_object(fm))
        return;
    fputs("<div class=\"disagreement\"><strong>First disagreement:</strong> request ", f);
    fprintf(f, "%.0f, ", jnumber(fm, "request", 0));
    fmt_when(f, true, jnumber(fm, "sim_s", 0), 0);
    fputs(", machine ", f);
    fprintf(f, "%.0f", jnumber(fm, "machine", 0));
    fputs(" (population ", f);
    html(f, jstring(fm, "population", "?"));
    fputs(", application ", f);
    html(f, jstring(fm, "application", "?"));
    fputs("): ", f);
    const json_t *count = json_object_get(fm, "count");
    if (json_is_number(count))
        fprintf(f, "count %.0f", json_number_value(count));
    else
        fputs("no count", f);
    fprintf(f, " where a genuine host returns %.0f..%.0f", jnumber(fm, "expected_lo", 0),
            jnumber(fm, "expected_hi", 0));
    const char *reason = jstring(fm, "reason", "");
    if (*reason) {
        fputs(" &mdash; ", f);
        html(f, reason);
    }
    fputs("</div>\n", f);
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
    for (size_t i = 0; i < N_CHARTS; i++) {
        char path[1200], name[64], prefix[16];
        snprintf(name, sizeof name, "%s.svg", charts[i].name);
        snprintf(prefix, sizeof prefix, "c%zu", i);
        fprintf(f, "<figure class=\"chart\" id=\"chart-%s\">\n<h3>%s</h3>\n", charts[i].name,
                charts[i].title);
        if (path_join(path, sizeof path, charts_dir, name) != 0 || !inline_svg(f, path, prefix))
            fputs("<p class=\"notice\">This chart could not be drawn (see "
                  "charts/gnuplot.log).</p>",
                  f);
        fprintf(f,
                "\n<figcaption>%s <a href=\"" CHART_PREFIX
                "/%s.png\">PNG</a> &middot; <a href=\"" CHART_PREFIX
                "/%s.svg\">SVG</a> &middot; <a href=\"" CHART_PREFIX
                "/%s.dat\">data</a></figcaption>\n</figure>\n",
                charts[i].caption, charts[i].name, charts[i].name, charts[i].name);
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
    if (path_join(path, sizeof path, dir, name) != 0) {
        set_err(err, err_len, "run directory name too long");
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

static int write_index(const char *run_dir, const char *charts_dir, const char *reports_dir,
                       const json_t *root, bool virtual_clock, bool drawn, const char *why_not,
                       const char *notes, char *err, size_t err_len)
{
    char tpl_path[1200];
    path_join(tpl_path, sizeof tpl_path, reports_dir, "report.html");
    char *tpl = read_file(tpl_path, NULL);
    if (!tpl) {
        set_err(err, err_len, "cannot read %s: %s", tpl_path, strerror(errno ? errno : EIO));
        return REPORT_FAILED;
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
    static const char *const names[P__N] = {"title",  "status_class", "status", "notice",
                                            "facts",  "expectations", "tables", "model",
                                            "charts", "footer"};
    struct part parts[P__N];
    char *bufs[P__N] = {0};
    size_t lens[P__N];
    FILE *fs[P__N];
    int rc = REPORT_OK;
    for (size_t i = 0; i < P__N; i++) {
        parts[i].name = names[i];
        fs[i] = open_memstream(&bufs[i], &lens[i]);
        if (!fs[i]) {
            for (size_t k = 0; k < i; k++)
                free(mem_close(fs[k], &bufs[k]));
            free(tpl);
            set_err(err, err_len, "out of memory");
            return REPORT_FAILED;
        }
    }
    const json_t *sc = json_object_get(root, "scenario");
    const char *name = jstring(sc, "name", "");
    bool interrupted = json_is_true(json_object_get(root, "interrupted"));
    const json_t *passed = json_object_get(root, "passed");
    fputs("kmsload: ", fs[P_TITLE]);
    html(fs[P_TITLE], *name ? name : run_dir);
    const char *status, *cls;
    if (interrupted) {
        status = "INTERRUPTED";
        cls = "interrupted";
    } else if (json_is_true(passed)) {
        status = "PASSED";
        cls = "pass";
    } else if (json_is_false(passed)) {
        status = "FAILED";
        cls = "fail";
    } else {
        status = "NO VERDICT";
        cls = "interrupted";
    }
    fputs(status, fs[P_STATUS]);
    fputs(cls, fs[P_STATUS_CLASS]);
    if (interrupted) {
        fputs("<p class=\"notice\"><strong>Interrupted:</strong> ", fs[P_NOTICE]);
        html(fs[P_NOTICE], jstring(root, "interrupt_reason", "interrupted"));
        fputs(". The tables and charts show what the run had done by then.</p>\n", fs[P_NOTICE]);
    }
    if (notes && *notes) {
        fputs("<p class=\"notice\">", fs[P_NOTICE]);
        html(fs[P_NOTICE], notes);
        fputs("</p>\n", fs[P_NOTICE]);
    }
    html_header(fs[P_FACTS], root, virtual_clock);
    html_expectations(fs[P_EXPECT], root);
    html_tables(fs[P_TABLES], root, virtual_clock);
    html_model(fs[P_MODEL], root);
    html_charts(fs[P_CHARTS], charts_dir, drawn, why_not);
    fputs("Written by <code>kmsload report</code> from <code>events.csv</code> and "
          "<code>summary.json</code>; charts drawn by gnuplot (data in <code>charts/</code>). "
          "Files: <a href=\"events.csv\">events.csv</a> &middot; <a href=\"summary.json\">"
          "summary.json</a> &middot; <a href=\"junit.xml\">junit.xml</a>",
          fs[P_FOOTER]);
    for (size_t i = 0; i < P__N; i++) {
        parts[i].text = mem_close(fs[i], &bufs[i]);
        if (!parts[i].text)
            rc = REPORT_FAILED;
    }
    char *page = NULL;
    size_t page_len = 0;
    FILE *pf = rc == REPORT_OK ? open_memstream(&page, &page_len) : NULL;
    if (pf) {
        fill_template(pf, tpl, parts, P__N);
        page = mem_close(pf, &page);
    }
    if (!page) {
        set_err(err, err_len, "out of memory");
        rc = REPORT_FAILED;
    } else if (write_atomic(run_dir, "index.html", page, strlen(page), err, err_len) != 0) {
        rc = REPORT_FAILED;
    }
    free(page);
    for (size_t i = 0; i < P__N; i++)
        free(parts[i].text);
    free(tpl);
    return rc;
}

/* ---- the whole ---- */

int report_write(const char *run_dir, char *err, size_t err_len)
{
    char dir[1024], events[1200], summary[1200], charts_dir[1200], reports_dir[1024];
    if (!run_dir || !*run_dir || strlen(run_dir) >= sizeof dir) {
        set_err(err, err_len, "run directory name %s",
                run_dir && *run_dir ? "too long" : "missing");
        return REPORT_BAD_INPUT;
    }
    snprintf(dir, sizeof dir, "%s", run_dir);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = '\0';
    if (!is_dir(dir)) {
        set_err(err, err_len, "%s: %s", dir,
                access(dir, F_OK) == 0 ? "not a directory" : "no such run directory");
        return REPORT_BAD_INPUT;
    }
    path_join(events, sizeof events, dir, "events.csv");
    path_join(summary, sizeof summary, dir, "summary.json");
    path_join(charts_dir, sizeof charts_dir, dir, CHART_PREFIX);
    if (!is_file(events)) {
        set_err(err, err_len, "%s: not a run directory (no events.csv)", dir);
        return REPORT_BAD_INPUT;
    }
    json_t *root = NULL;
    if (is_file(summary)) {
        json_error_t jerr;
        root = json_load_file(summary, 0, &jerr);
        if (!root || !json_is_object(root)) {
            set_err(err, err_len, "%s: line %d: %s", summary, jerr.line,
                    root ? "not a JSON object" : jerr.text);
            json_decref(root);
            return REPORT_BAD_INPUT;
        }
    }
    if (!find_reports_dir(reports_dir, sizeof reports_dir)) {
        set_err(err, err_len,
                "cannot find the report templates (reports/report.html): set KMSLOAD_REPORTS to "
                "the reports/ directory of kmsload");
        json_decref(root);
        return REPORT_FAILED;
    }

    /* The clock: summary.json says; older or missing summaries are told by the times. */
    bool virtual_clock;
    const char *clock = root ? jstring(root, "clock", NULL) : NULL;
    bool clock_known = clock != NULL;
    virtual_clock = clock && strcmp(clock, "virtual") == 0;
    if (!clock_known && root) {
        virtual_clock =
            jnumber(root, "simulated_seconds", 0) > 2 * jnumber(root, "wall_seconds", 0) + 1;
        clock_known = true;
    }
    struct agg *g = calloc(1, sizeof *g);
    int rc = g ? REPORT_OK : REPORT_FAILED;
    bool incomplete = false;
    if (rc == REPORT_OK && !clock_known) {
        /* a first pass only to tell the clock */
        if (agg_init(g, false) != 0)
            rc = REPORT_FAILED;
        else
            rc = read_events(events, g, &incomplete, err, err_len);
        virtual_clock = g->max_sim > 2 * g->max_wall + 1;
        agg_free(g);
    }
    if (rc == REPORT_OK && agg_init(g, virtual_clock) != 0) {
        set_err(err, err_len, "out of memory");
        rc = REPORT_FAILED;
    }
    if (rc == REPORT_OK)
        rc = read_events(events, g, &incomplete, err, err_len);
    if (rc != REPORT_OK) {
        if (g)
            agg_free(g);
        free(g);
        json_decref(root);
        return rc;
    }
    double run_end =
        root ? jnumber(root, virtual_clock ? "simulated_seconds" : "wall_seconds", 0) : 0;
    agg_finish(g, isfinite(run_end) && run_end > 0 && run_end < MAX_T_S ? run_end : 0);
    if (!root)
        root = summary_from_events(g, "the run did not finish: no summary.json, this report is "
                                      "made from events.csv alone");

    char notes[256] = "";
    if (incomplete)
        snprintf(notes, sizeof notes,
                 "The last line of events.csv was cut short (the run was stopped while writing "
                 "it) and is left out.");

    if (mkdir(charts_dir, 0777) != 0 && errno != EEXIST) {
        set_err(err, err_len, "cannot create %s: %s", charts_dir, strerror(errno));
        rc = REPORT_FAILED;
    }
    struct chartctx cx = {
        .charts_dir = charts_dir,
        /* simulated days; hours for runs shorter than two simulated days */
        .unit = !virtual_clock            ? 1.0
                : g->t_end >= 2 * 86400.0 ? 86400.0
                                          : 3600.0,
        .rate_unit = virtual_clock ? 3600.0 : 1.0,
        .napps = g->napps,
    };
    if (rc == REPORT_OK &&
        (write_state_data(g, &cx, err, err_len) != 0 || write_rate_data(g, &cx, err, err_len) != 0))
        rc = REPORT_FAILED;

    bool drawn = false;
    char why_not[256] = "";
    if (rc == REPORT_OK) {
        char gnuplot[1024];
        if (g->rows == 0 || g->napps == 0) {
            snprintf(why_not, sizeof why_not, "no request was recorded, nothing to draw");
        } else if (!find_in_path("gnuplot", gnuplot, sizeof gnuplot)) {
            snprintf(why_not, sizeof why_not, "gnuplot was not found on PATH");
            fprintf(stderr,
                    "kmsload: gnuplot not found: %s/index.html is written without charts (the "
                    "chart data is in %s/); to get the charts: apt-get install gnuplot-nox, then "
                    "kmsload report %s\n",
                    dir, charts_dir, dir);
        } else {
            char log[1300];
            path_join(log, sizeof log, charts_dir, "gnuplot.log");
            unlink(log);
            size_t failed = 0;
            for (size_t i = 0; i < N_CHARTS; i++) {
                char script[1200], sname[64], params[1024];
                snprintf(sname, sizeof sname, "%s.gp", charts[i].name);
                path_join(script, sizeof script, reports_dir, sname);
                static const char *const fmts[] = {"png", "svg"};
                for (size_t k = 0; k < 2; k++) {
                    gp_params(params, sizeof params, g, &cx, charts[i].name, fmts[k]);
                    if (run_gnuplot(gnuplot, charts_dir, script, params) != 0)
                        failed++;
                }
            }
            drawn = true;
            if (failed)
                fprintf(stderr, "kmsload: %zu chart file%s could not be drawn (see %s)\n", failed,
                        failed == 1 ? "" : "s", log);
        }
    }
    if (rc == REPORT_OK)
        rc = write_index(dir, charts_dir, reports_dir, root, virtual_clock, drawn, why_not, notes,
                         err, err_len);
    agg_free(g);
    free(g);
    json_decref(root);
    return rc;
}
