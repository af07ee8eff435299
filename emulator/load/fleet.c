#include "fleet.h"

#include "pcg32.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stream selectors: each kind of random choice has its own PCG32 stream per machine, so adding a
 * new kind of choice never changes the existing ones. */
#define STREAM_CMID 0x434d4944ULL
#define STREAM_CLONE 0x434c4f4eULL
#define STREAM_LEAVE 0x4c454156ULL
#define STREAM_VM 0x564d564dULL

static double machine_unit(uint64_t seed, uint32_t id, uint64_t stream)
{
    struct pcg32 rng;
    pcg32_seed(&rng, seed ^ ((uint64_t)id << 20), stream + id);
    return pcg32_unit(&rng);
}

/* Index of the population owning global id, and the population's first id. */
static size_t population_of(const struct scenario *sc, uint32_t id, uint32_t *first)
{
    uint32_t start = 0;
    for (size_t p = 0; p < sc->n_pops; p++) {
        if (id < start + sc->pops[p].machines) {
            *first = start;
            return p;
        }
        start += sc->pops[p].machines;
    }
    *first = start;
    return sc->n_pops;
}

/* A cloned machine (an image that skipped sysprep) carries an earlier machine's CMID. */
static bool clone_source(const struct scenario *sc, uint64_t seed, uint32_t id, uint32_t *source)
{
    uint32_t first;
    size_t p = population_of(sc, id, &first);
    if (p >= sc->n_pops || id == first || sc->pops[p].cloned_share <= 0)
        return false;
    if (machine_unit(seed, id, STREAM_CLONE) >= sc->pops[p].cloned_share)
        return false;
    struct pcg32 rng;
    pcg32_seed(&rng, seed ^ id, STREAM_CLONE + 1);
    *source = first + pcg32_bounded(&rng, id - first);
    return true;
}

struct guid fleet_cmid(const struct scenario *sc, uint64_t seed, uint32_t id)
{
    uint32_t source;
    while (clone_source(sc, seed, id, &source))
        id = source; /* sources are earlier machines: the chain ends */
    struct pcg32 rng;
    struct guid g;
    pcg32_seed(&rng, seed, STREAM_CMID ^ ((uint64_t)id << 8));
    pcg32_fill(&rng, g.b, sizeof g.b);
    g.b[7] = (uint8_t)((g.b[7] & 0x0f) | 0x40); /* version 4, as Windows generates CMIDs */
    g.b[8] = (uint8_t)((g.b[8] & 0x3f) | 0x80);
    return g;
}

/* Arrival k of an open population: the time when the ramp's cumulative arrivals reach k + 0.5
 * (evenly spread, no randomness), or SCENARIO_NEVER past the last stage. */
static int64_t arrival_time(const struct scenario_population *pop, uint32_t k)
{
    double target = (double)k + 0.5, t0 = 0;
    for (size_t s = 0; s < pop->n_stages; s++) {
        const struct scenario_stage *st = &pop->stages[s];
        double d = (double)st->duration_us / 1e6, a = st->rate_from, b = st->rate_to;
        double total = (a + b) / 2 * d;
        if (target <= total && total > 0) {
            double t;
            if (fabs(b - a) < 1e-12)
                t = target / a;
            else {
                double slope = (b - a) / d; /* rate(t) = a + slope t; arrivals = a t + slope t²/2 */
                t = (-a + sqrt(a * a + 2 * slope * target)) / slope;
            }
            return (int64_t)((t0 + t) * 1e6);
        }
        target -= total;
        t0 += d;
    }
    return SCENARIO_NEVER;
}

static void heap_swap(struct fleet *f, size_t a, size_t b)
{
    uint32_t ma = f->heap[a], mb = f->heap[b];
    f->heap[a] = mb;
    f->heap[b] = ma;
    f->machines[mb].heap_slot = (uint32_t)a;
    f->machines[ma].heap_slot = (uint32_t)b;
}

static bool heap_less(const struct fleet *f, size_t a, size_t b)
{
    const struct machine *x = &f->machines[f->heap[a]], *y = &f->machines[f->heap[b]];
    return x->next_us < y->next_us || (x->next_us == y->next_us && x->id < y->id);
}

static void heap_up(struct fleet *f, size_t i)
{
    while (i > 0 && heap_less(f, i, (i - 1) / 2)) {
        heap_swap(f, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct fleet *f, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < f->heap_n && heap_less(f, l, m))
            m = l;
        if (r < f->heap_n && heap_less(f, r, m))
            m = r;
        if (m == i)
            return;
        heap_swap(f, i, m);
        i = m;
    }
}

static void heap_remove(struct fleet *f, size_t slot)
{
    size_t last = --f->heap_n;
    f->machines[f->heap[slot]].heap_slot = UINT32_MAX;
    if (slot != last) {
        f->heap[slot] = f->heap[last];
        f->machines[f->heap[slot]].heap_slot = (uint32_t)slot;
        heap_down(f, slot);
        heap_up(f, slot);
    }
}

void fleet_schedule(struct fleet *f, size_t i, int64_t when)
{
    struct machine *m = &f->machines[i];
    if (m->heap_slot != UINT32_MAX)
        heap_remove(f, m->heap_slot);
    m->next_us = when;
    if (when == SCENARIO_NEVER)
        return;
    m->heap_slot = (uint32_t)f->heap_n;
    f->heap[f->heap_n++] = (uint32_t)i;
    heap_up(f, m->heap_slot);
}

int64_t fleet_next_due(const struct fleet *f)
{
    return f->heap_n ? f->machines[f->heap[0]].next_us : SCENARIO_NEVER;
}

long fleet_pop_due(struct fleet *f, int64_t t)
{
    if (f->heap_n == 0 || f->machines[f->heap[0]].next_us > t)
        return -1;
    long i = f->heap[0];
    heap_remove(f, 0);
    return i;
}

/* Each population's product from the catalogue, its first machine id and how many of its
 * machines fall in this shard (*mine: the total). */
static int plan_populations(struct fleet *f, const struct scenario *sc, const struct catalog *cat,
                            unsigned shard_index, unsigned shard_count, size_t *mine, char *err,
                            size_t err_len)
{
    uint32_t first = 0;
    *mine = 0;
    f->n_pops = sc->n_pops;
    for (size_t p = 0; p < sc->n_pops; p++) {
        struct fleet_population *fp = &f->pops[p];
        const struct scenario_population *sp = &sc->pops[p];
        fp->spec = sp;
        fp->sku = catalog_find_sku(cat, sp->product);
        if (!fp->sku) {
            snprintf(err, err_len, "%s:%u: [population %s] product: \"%s\" is not in the catalogue",
                     sc->path, sp->line, sp->name, sp->product);
            return -1;
        }
        fp->kms = &cat->kms[fp->sku->kms];
        fp->app_index = fp->kms->app;
        fp->app = &cat->apps[fp->app_index];
        fp->protocol = sp->protocol ? sp->protocol : fp->kms->protocol;
        fp->n_policy = sp->n_policy ? sp->n_policy : fp->kms->n_policy;
        fp->first_id = first;
        for (uint32_t k = 0; k < sp->machines; k++)
            if ((first + k) % shard_count == shard_index)
                fp->machines++;
        *mine += fp->machines;
        first += sp->machines;
    }
    return 0;
}

/* Machine k of population p (fleet-wide id): its identity, flags, leave time, and its join
 * scheduled if it joins before it leaves and within the run. */
static void add_machine(struct fleet *f, const struct scenario *sc, size_t p, uint32_t k,
                        uint32_t id)
{
    const struct scenario_population *sp = &sc->pops[p];
    struct machine *m = &f->machines[f->n];
    m->id = id;
    m->population = (uint16_t)p;
    m->cmid = fleet_cmid(sc, sc->seed, id);
    m->heap_slot = UINT32_MAX;
    m->activated_us = -1;
    m->unactivated_since_us = -1;
    m->host = -1;
    uint32_t source;
    if (clone_source(sc, sc->seed, id, &source))
        m->flags |= MACHINE_CLONE;
    if (sp->vm_share > 0 && machine_unit(sc->seed, id, STREAM_VM) < sp->vm_share)
        m->flags |= MACHINE_VM;
    int64_t join;
    if (sp->open)
        join = arrival_time(sp, k);
    else
        join =
            sp->join_at_us + (sp->machines > 1 && sp->join_over_us > 0
                                  ? (int64_t)((double)sp->join_over_us * k / (double)sp->machines)
                                  : 0);
    m->leave_us = SCENARIO_NEVER;
    if (sp->leave_share > 0 && machine_unit(sc->seed, id, STREAM_LEAVE) < sp->leave_share)
        m->leave_us = sp->leave_at_us + (int64_t)((double)sp->leave_over_us *
                                                  machine_unit(sc->seed, id, STREAM_LEAVE + 1));
    m->state = MACHINE_WAITING;
    size_t index = f->n++;
    if (join != SCENARIO_NEVER && join < m->leave_us && join <= sc->duration_us)
        fleet_schedule(f, index, join);
}

int fleet_build(struct fleet *f, const struct scenario *sc, const struct catalog *cat,
                unsigned shard_index, unsigned shard_count, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    if (shard_count == 0 || shard_index >= shard_count) {
        snprintf(err, err_len, "shard %u/%u: the index must be below the count", shard_index,
                 shard_count);
        return -1;
    }
    uint64_t total = 0;
    for (size_t p = 0; p < sc->n_pops; p++)
        total += sc->pops[p].machines;
    if (total > UINT32_MAX - 1) {
        snprintf(err, err_len, "%llu machines: at most %u", (unsigned long long)total,
                 UINT32_MAX - 1);
        return -1;
    }
    size_t mine;
    if (plan_populations(f, sc, cat, shard_index, shard_count, &mine, err, err_len))
        return -1;
    f->machines = calloc(mine ? mine : 1, sizeof *f->machines);
    f->heap = calloc(mine ? mine : 1, sizeof *f->heap);
    if (!f->machines || !f->heap) {
        snprintf(err, err_len, "out of memory for %zu machines", mine);
        fleet_free(f);
        return -1;
    }
    for (size_t p = 0; p < sc->n_pops; p++)
        for (uint32_t k = 0; k < sc->pops[p].machines; k++) {
            uint32_t id = f->pops[p].first_id + k;
            if (id % shard_count == shard_index)
                add_machine(f, sc, p, k, id);
        }
    return 0;
}

void fleet_free(struct fleet *f)
{
    free(f->machines);
    free(f->heap);
    f->machines = NULL;
    f->heap = NULL;
    f->n = f->heap_n = 0;
}
