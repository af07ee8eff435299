/* The report's aggregation: events.csv in time buckets that widen as the run goes on. */
#include "report_parts.h"

#include "events_csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
        .n_policy = e->n_policy,
        .latency_us = e->latency_us,
    };
}

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

int agg_init(struct agg *g, bool virtual_clock)
{
    memset(g, 0, sizeof *g);
    g->virtual_clock = virtual_clock;
    g->width = 1.0 / 1024;
    g->b = calloc(NB, sizeof *g->b);
    g->mcap = 1024;
    g->m = calloc(g->mcap, sizeof *g->m);
    bool ok = g->b && g->m;
    for (size_t a = 0; a < MAX_APPS; a++) {
        g->detail[a] = malloc(DETAIL_MAX * sizeof *g->detail[a]);
        g->detail_full_at[a] = INFINITY;
        ok = ok && g->detail[a];
    }
    return ok ? 0 : -1;
}

void agg_free(struct agg *g)
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

double lat_quantile_ms(const uint32_t *lat, double q)
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

/* The count the host returned and the model's range, in the bucket and the close-up. */
static void add_count(struct agg *g, struct bucket *b, int a, double t, const struct event *ev)
{
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
        g->band_seen[a] = true;
        if (ev->n_policy == 0 || ev->expected_lo == ev->expected_hi ||
            ev->expected_hi < 2 * (int64_t)ev->n_policy)
            g->band_narrow[a] = true;
    }
    detail_add(g, a, t, ev);
}

/* The 30-day window: a machine the host counted stays counted until 30 days after its last
 * counted contact; a contact after a longer gap counts it anew. */
static int add_to_window(struct agg *g, int a, double t, const struct event *ev)
{
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
    return 0;
}

/* The population's first activation (the earliest request, whatever the row order). */
static void add_to_population(struct agg *g, int a, double t, const struct event *ev)
{
    struct pop *p = pop_of(g, ev->population);
    if (!p)
        return;
    p->requests++;
    if (ev->outcome != KMS_OUTCOME_ACTIVATED)
        return;
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
    int a = app_index(g, ev->application);
    if (a >= 0 && ev->count >= 0)
        add_count(g, b, a, t, ev);
    bool counted =
        ev->outcome == KMS_OUTCOME_ACTIVATED || ev->outcome == KMS_OUTCOME_BELOW_THRESHOLD;
    if (counted && a >= 0 && add_to_window(g, a, t, ev) != 0)
        return -1;
    add_to_population(g, a, t, ev);
    return 0;
}

void agg_finish(struct agg *g, double t_end)
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

/* The index of the row's population among those seen so far (added when new). */
static int population_index(struct scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_pops; i++)
        if (strcmp(sc->pops[i].name, name) == 0)
            return (int)i;
    if (sc->n_pops == SCENARIO_MAX_POPULATIONS)
        return -1;
    snprintf(sc->pops[sc->n_pops].name, sizeof sc->pops[0].name, "%s", name);
    return (int)sc->n_pops++;
}

/* The row is of the run: the same id as summary.json's, or as the rows before it. */
static int check_run(const char *path, unsigned long line, const struct events_row *row,
                     struct report_run_id *run, char *err, size_t err_len)
{
    if (!row->run_id[0] || strcmp(row->run_id, run->id) == 0)
        return 0;
    if (!run->id[0] && !run->from_summary) {
        snprintf(run->id, sizeof run->id, "%s", row->run_id);
        return 0;
    }
    report_set_err(err, err_len,
                   "%s:%lu: a row of run %s, but %s is of run %s: files of different runs (a "
                   "reused --out directory?); rerun, or remove the stale files",
                   path, line, row->run_id,
                   run->from_summary ? "summary.json" : "the rows before it",
                   run->id[0] ? run->id : "(none)");
    return -1;
}

int report_read_events(const char *path, struct agg *g, struct report_totals *totals,
                       struct report_run_id *run, bool *cut_short, char *err, size_t err_len)
{
    struct events_csv_reader *r = events_csv_open(path, err, err_len);
    if (!r)
        return REPORT_BAD_INPUT;
    struct events_row *row = malloc(sizeof *row);
    int rc = row ? REPORT_OK : REPORT_FAILED, got = 0;
    while (rc == REPORT_OK && (got = events_csv_next(r, row, err, err_len)) > 0) {
        struct event ev;
        event_from_row(row, &ev);
        if (check_run(path, events_csv_line(r), row, run, err, err_len) != 0) {
            rc = REPORT_BAD_INPUT;
            break;
        }
        if (agg_add(g, &ev) != 0) {
            report_set_err(err, err_len, "%s:%lu: out of memory", path, events_csv_line(r));
            rc = REPORT_FAILED;
        }
        if (totals) {
            row->ev.population_index = population_index(totals->scenario, row->population);
            run_tally_add(totals->tally, &row->ev);
        }
    }
    if (rc == REPORT_OK && got < 0)
        rc = REPORT_BAD_INPUT;
    *cut_short = events_csv_cut_short(r);
    free(row);
    events_csv_close(r);
    return rc;
}
