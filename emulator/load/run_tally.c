/*
 * Aggregation of run_event rows. Conventions shared with expect.c and records.c:
 * - A timeline point whose response the model could not judge carries the empty range
 *   expected_lo = 1, expected_hi = 0 (records write it as null).
 * - The first response with a count of an application is always the timeline's first point, so
 *   n_timeline == 0 means the application never returned a count.
 * - HRESULTs that do not fit the table are still counted by outcomes[HOST_ERROR / RPC_FAULT]:
 *   the difference to the table's sum is the untabled remainder.
 */
#include "run_tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void run_tally_init(struct run_tally *t, size_t n_pops)
{
    memset(t, 0, sizeof *t);
    histogram_init(&t->latency);
    t->n_pops = n_pops < SCENARIO_MAX_POPULATIONS ? n_pops : SCENARIO_MAX_POPULATIONS;
}

uint64_t run_tally_failures(const struct run_tally *t)
{
    /* A failover is not a failed contact: the next host's attempt decides it. */
    uint64_t ok = t->outcomes[KMS_OUTCOME_ACTIVATED] + t->outcomes[KMS_OUTCOME_BELOW_THRESHOLD] +
                  t->failed_over;
    return t->requests > ok ? t->requests - ok : 0;
}

uint64_t run_tally_contacts(const struct run_tally *t)
{
    return t->requests > t->failed_over ? t->requests - t->failed_over : 0;
}

uint64_t run_tally_unanswered(const struct run_tally *t)
{
    uint64_t n = t->outcomes[KMS_OUTCOME_PROTOCOL_ERROR];
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (kms_outcome_no_answer((enum kms_outcome)o))
            n += t->outcomes[o];
    return n > t->failed_over ? n - t->failed_over : 0;
}

const unsigned tally_thresholds[TALLY_THRESHOLDS] = {5, 25};

static void crossing_keep(struct tally_app *a, const struct tally_crossing *c)
{
    if (a->n_crossings < TALLY_MAX_CROSSINGS)
        a->crossings[a->n_crossings++] = *c;
    else
        a->crossings_dropped++;
}

/* The answer's crossings against the application's previous answer (the one before in simulated
 * time; answers of one stream come in that order). */
static void crossings_note(struct tally_app *a, bool had_count, const struct run_event *ev,
                           unsigned count)
{
    if (had_count && ev->sim_us < a->last_sim_us)
        return;
    for (int k = 0; k < TALLY_THRESHOLDS; k++) {
        unsigned th = tally_thresholds[k];
        bool was_above = had_count && a->last_count >= th, is_above = count >= th;
        if (!had_count || was_above != is_above) {
            struct tally_crossing c = {.sim_us = ev->sim_us,
                                       .seq = ev->seq,
                                       .wall_s = ev->wall_s,
                                       .threshold = th,
                                       .count = count,
                                       .down = !is_above,
                                       .first = !had_count};
            crossing_keep(a, &c);
        }
    }
}

/* The application's slot, claimed on first sight; NULL when the table is full or key empty. */
static struct tally_app *app_slot(struct run_tally *t, const char *key)
{
    if (!key || !*key)
        return NULL;
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        struct tally_app *a = &t->apps[i];
        if (!a->seen) {
            a->seen = true;
            strncpy(a->key, key, sizeof a->key - 1);
            a->key[sizeof a->key - 1] = '\0';
            a->timeline_stride = 1;
            return a;
        }
        if (strncmp(a->key, key, sizeof a->key - 1) == 0)
            return a;
    }
    return NULL;
}

static void hresult_add(struct run_tally *t, uint32_t code, uint64_t n)
{
    for (size_t i = 0; i < t->n_hresults; i++) {
        if (t->hresults[i].code == code) {
            t->hresults[i].n += n;
            return;
        }
    }
    if (t->n_hresults < TALLY_MAX_HRESULTS)
        t->hresults[t->n_hresults++] = (struct tally_hresult){.code = code, .n = n};
    /* else: still in outcomes[], reported as untabled */
}

/* Halves the timeline: keeps points 0, 2, 4... and doubles the stride. */
static void timeline_thin(struct tally_app *a)
{
    size_t kept = 0;
    for (size_t i = 0; i < a->n_timeline; i += 2)
        a->timeline[kept++] = a->timeline[i];
    a->timeline_skipped += a->n_timeline - kept;
    a->n_timeline = kept;
    a->timeline_stride = a->timeline_stride ? a->timeline_stride * 2 : 2;
}

/*
 * Candidate k (counting from 0 over the application's life) is kept when k is a multiple of the
 * stride; n_timeline + timeline_skipped is k, and thinning keeps exactly the multiples of the
 * doubled stride.
 */
static void timeline_offer(struct tally_app *a, const struct tally_point *p)
{
    uint64_t stride = a->timeline_stride ? a->timeline_stride : 1;
    uint64_t k = a->n_timeline + a->timeline_skipped;
    if (k % stride == 0 && a->n_timeline == TALLY_TIMELINE_MAX) {
        timeline_thin(a);
        stride = a->timeline_stride;
    }
    if (k % stride != 0) {
        a->timeline_skipped++;
        return;
    }
    a->timeline[a->n_timeline++] = *p;
}

static struct tally_point point_of(const struct run_event *ev)
{
    struct tally_point p = {
        .sim_us = ev->sim_us,
        .wall_s = ev->wall_s,
        .count = (unsigned)ev->count,
        .expected_lo = 1,
        .expected_hi = 0,
    };
    if (ev->model_checked) {
        p.expected_lo = ev->expected_lo;
        p.expected_hi = ev->expected_hi;
    }
    return p;
}

static bool run_dir_latency(enum kms_outcome outcome)
{
    /* Contacts the host never answered at all carry no latency worth the name; a timeout does
     * (at least the timeout), so it stays in and the percentiles do not flatter the host. */
    return !kms_outcome_not_connected(outcome) && outcome != KMS_OUTCOME_RESET &&
           outcome != KMS_OUTCOME_CLOSED;
}

static void host_claim(struct tally_host *h, const char *name)
{
    h->seen = true;
    snprintf(h->name, sizeof h->name, "%s", name ? name : "");
    for (size_t i = 0; i < TALLY_MAX_APPS; i++)
        h->apps[i].reached_us[0] = h->apps[i].reached_us[1] = -1;
    h->publish_at_us = h->withdraw_at_us = h->start_at_us = h->stop_at_us = -1;
    h->last_answer_us = h->down_since_us = -1;
}

/* The host's answered / down state after one more attempt at sim_us (any order: threads). */
static void host_note_up(struct tally_host *h, int64_t sim_us, double wall_s)
{
    if (sim_us >= h->last_answer_us) {
        h->last_answer_us = sim_us;
        h->last_answer_wall_s = wall_s;
        if (h->down_since_us >= 0 && h->down_since_us <= sim_us)
            h->down_since_us = -1;
    }
}

static void host_note_down(struct tally_host *h, int64_t sim_us, double wall_s)
{
    if (sim_us <= h->last_answer_us && h->last_answer_us >= 0)
        return; /* an answer came after it */
    if (h->down_since_us < 0 || sim_us < h->down_since_us) {
        h->down_since_us = sim_us;
        h->down_since_wall_s = wall_s;
    }
}

void tally_host_figures(const struct tally_host *h, struct tally_host_figures *out)
{
    memset(out, 0, sizeof *out);
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++) {
        if (kms_outcome_no_answer((enum kms_outcome)o))
            out->connection_failures += h->outcomes[o];
        else if (o != KMS_OUTCOME_PROTOCOL_ERROR)
            out->answered += h->outcomes[o];
    }
    out->key_refusals = h->refused_product;
    out->failovers = h->failed_over;
}

void tally_host_line(const struct tally_host *h, bool virtual_clock, char *out, size_t cap)
{
    struct tally_host_figures fg;
    tally_host_figures(h, &fg);
    size_t len = 0;
#define HL_APPEND(...)                                                                             \
    do {                                                                                           \
        if (len < cap) {                                                                           \
            int n_ = snprintf(out + len, cap - len, __VA_ARGS__);                                  \
            len += n_ > 0 ? (size_t)n_ : 0;                                                        \
        }                                                                                          \
    } while (0)
    HL_APPEND("%s %llu requests, %llu answered, %llu connection failures", h->name,
              (unsigned long long)h->requests, (unsigned long long)fg.answered,
              (unsigned long long)fg.connection_failures);
    const char *sep = " (";
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (kms_outcome_no_answer((enum kms_outcome)o) && h->outcomes[o]) {
            HL_APPEND("%s%s %llu", sep, kms_outcome_name((enum kms_outcome)o),
                      (unsigned long long)h->outcomes[o]);
            sep = ", ";
        }
    if (sep[0] == ',')
        HL_APPEND(")");
    HL_APPEND(", %llu key refusals, %llu disagreements", (unsigned long long)fg.key_refusals,
              (unsigned long long)h->model_mismatches);
    if (h->requests == 0)
        HL_APPEND(", never asked");
    else if (h->last_answer_us < 0)
        HL_APPEND(", never answered");
    if (h->down_since_us >= 0) {
        if (virtual_clock)
            HL_APPEND(", down since day %.2f", (double)h->down_since_us / 86400e6);
        else
            HL_APPEND(", down since %.1f s into the run", h->down_since_wall_s);
    }
    for (size_t a = 0; a < TALLY_MAX_APPS; a++) {
        const struct tally_host_app *ta = &h->apps[a];
        if (ta->seen)
            HL_APPEND("; %s last %u max %u", ta->key, ta->last_count, ta->max_count);
    }
#undef HL_APPEND
}

void run_tally_name_host(struct run_tally *t, size_t i, const char *name, int64_t publish_at_us,
                         int64_t withdraw_at_us, int64_t start_at_us, int64_t stop_at_us)
{
    if (i >= TALLY_MAX_HOSTS)
        return;
    struct tally_host *h = &t->hosts[i];
    if (!h->seen)
        host_claim(h, name);
    h->publish_at_us = publish_at_us;
    h->withdraw_at_us = withdraw_at_us;
    h->start_at_us = start_at_us;
    h->stop_at_us = stop_at_us;
    if (i >= t->n_hosts)
        t->n_hosts = i + 1;
}

static void host_add(struct run_tally *t, const struct run_event *ev)
{
    if (ev->host_index < 0 || ev->host_index >= TALLY_MAX_HOSTS)
        return;
    struct tally_host *h = &t->hosts[ev->host_index];
    if (!h->seen)
        host_claim(h, ev->host);
    if ((size_t)ev->host_index >= t->n_hosts)
        t->n_hosts = (size_t)ev->host_index + 1;
    h->requests++;
    if ((unsigned)ev->outcome < KMS_OUTCOME__COUNT)
        h->outcomes[ev->outcome]++;
    if (ev->outcome == KMS_OUTCOME_HOST_ERROR && ev->hresult == 0xC004F042u)
        h->refused_product++;
    h->failed_over += ev->failover;
    if (kms_outcome_no_answer(ev->outcome))
        host_note_down(h, ev->sim_us, ev->wall_s);
    else
        host_note_up(h, ev->sim_us, ev->wall_s);
    if (ev->model_checked) {
        h->model_checked++;
        h->model_mismatches += !ev->model_agrees;
    }
    if (ev->app < 0 || ev->app >= TALLY_MAX_APPS || ev->count < 0)
        return;
    struct tally_host_app *a = &h->apps[ev->app];
    unsigned count = ev->count > (int64_t)UINT32_MAX ? UINT32_MAX : (unsigned)ev->count;
    if (!a->seen) {
        a->seen = true;
        snprintf(a->key, sizeof a->key, "%s", ev->app_key ? ev->app_key : "");
    }
    if (count > a->max_count)
        a->max_count = count;
    if (ev->sim_us >= a->last_sim_us) {
        a->last_sim_us = ev->sim_us;
        a->last_count = count;
    }
    static const unsigned thresholds[2] = {5, 25};
    for (int k = 0; k < 2; k++)
        if (count >= thresholds[k] && (a->reached_us[k] < 0 || ev->sim_us < a->reached_us[k]))
            a->reached_us[k] = ev->sim_us;
}

static void host_merge(struct run_tally *into, const struct run_tally *from)
{
    for (size_t i = 0; i < from->n_hosts; i++) {
        const struct tally_host *f = &from->hosts[i];
        struct tally_host *h = &into->hosts[i];
        if (!f->seen)
            continue;
        if (!h->seen) {
            *h = *f;
            continue;
        }
        h->requests += f->requests;
        for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
            h->outcomes[o] += f->outcomes[o];
        h->refused_product += f->refused_product;
        h->failed_over += f->failed_over;
        h->model_checked += f->model_checked;
        if (f->last_answer_us >= 0)
            host_note_up(h, f->last_answer_us, f->last_answer_wall_s);
        if (f->down_since_us >= 0)
            host_note_down(h, f->down_since_us, f->down_since_wall_s);
        h->model_mismatches += f->model_mismatches;
        for (size_t k = 0; k < TALLY_MAX_APPS; k++) {
            const struct tally_host_app *fa = &f->apps[k];
            struct tally_host_app *a = &h->apps[k];
            if (!fa->seen)
                continue;
            if (!a->seen) {
                *a = *fa;
                continue;
            }
            if (fa->max_count > a->max_count)
                a->max_count = fa->max_count;
            if (fa->last_sim_us >= a->last_sim_us) {
                a->last_sim_us = fa->last_sim_us;
                a->last_count = fa->last_count;
            }
            for (int r = 0; r < 2; r++)
                if (fa->reached_us[r] >= 0 &&
                    (a->reached_us[r] < 0 || fa->reached_us[r] < a->reached_us[r]))
                    a->reached_us[r] = fa->reached_us[r];
        }
    }
    if (from->n_hosts > into->n_hosts)
        into->n_hosts = from->n_hosts;
    for (size_t d = 0; d < from->n_days; d++) {
        into->days[d].sim_us = from->days[d].sim_us;
        for (size_t i = 0; i < TALLY_MAX_HOSTS; i++)
            into->days[d].machines[i] += from->days[d].machines[i];
        into->days[d].no_host += from->days[d].no_host;
    }
    if (from->n_days > into->n_days)
        into->n_days = from->n_days;
    if (from->max_unactivated_us > into->max_unactivated_us) {
        into->max_unactivated_us = from->max_unactivated_us;
        into->max_unactivated_machine = from->max_unactivated_machine;
        into->max_unactivated_open = from->max_unactivated_open;
    }
}

void run_tally_day(struct run_tally *t, size_t day, int64_t sim_us, const unsigned *machines,
                   unsigned no_host)
{
    if (day >= TALLY_MAX_DAYS)
        return;
    for (size_t d = t->n_days; d <= day; d++)
        memset(&t->days[d], 0, sizeof t->days[d]);
    if (day >= t->n_days)
        t->n_days = day + 1;
    t->days[day].sim_us = sim_us;
    for (size_t i = 0; i < TALLY_MAX_HOSTS; i++)
        t->days[day].machines[i] += machines[i];
    t->days[day].no_host += no_host;
}

void run_tally_add(struct run_tally *t, const struct run_event *ev)
{
    if (t->requests == 0 || ev->wall_s < t->first_wall_s)
        t->first_wall_s = ev->wall_s;
    if (t->requests == 0 || ev->wall_s > t->last_wall_s)
        t->last_wall_s = ev->wall_s;
    if (t->requests == 0 || ev->sim_us > t->last_sim_us)
        t->last_sim_us = ev->sim_us;
    t->requests++;
    if ((unsigned)ev->outcome < KMS_OUTCOME__COUNT)
        t->outcomes[ev->outcome]++;
    t->failed_over += ev->failover;
    if (ev->outcome == KMS_OUTCOME_HOST_ERROR || ev->outcome == KMS_OUTCOME_RPC_FAULT)
        hresult_add(t, ev->hresult, 1);
    if (run_dir_latency(ev->outcome))
        histogram_record(&t->latency, ev->latency_us);

    if (ev->model_checked) {
        t->model_checked++;
        if (!ev->model_agrees) {
            t->model_mismatches++;
            if (!t->has_first_mismatch || ev->seq < t->first_mismatch.seq) {
                t->first_mismatch = *ev;
                t->has_first_mismatch = true;
            }
        }
    }

    if (ev->population_index >= 0 && (size_t)ev->population_index < t->n_pops) {
        struct tally_population *p = &t->pops[ev->population_index];
        p->requests++;
        if (ev->outcome == KMS_OUTCOME_ACTIVATED) {
            p->activated_responses++;
            if (!p->crossed || ev->seq < p->first_activation_seq) {
                p->crossed = true;
                p->first_activation_seq = ev->seq;
                p->first_activation_sim_us = ev->sim_us;
                p->first_activation_wall_s = ev->wall_s;
                p->first_activation_count = ev->count > 0 ? (unsigned)ev->count : 0;
                p->first_activation_machine = ev->machine;
            }
        }
    }

    host_add(t, ev);
    struct tally_app *a = app_slot(t, ev->app_key);
    if (!a)
        return;
    a->requests++;
    if (ev->count < 0)
        return;
    unsigned count = ev->count > (int64_t)UINT32_MAX ? UINT32_MAX : (unsigned)ev->count;
    bool first = a->n_timeline == 0 && a->timeline_skipped == 0;
    bool changed = !first && count != a->last_count;
    bool disagrees = ev->model_checked && !ev->model_agrees;
    if (count > a->max_count)
        a->max_count = count;
    crossings_note(a, !first, ev, count);
    a->last_count = count;
    a->last_sim_us = ev->sim_us;
    if (first || changed || disagrees) {
        struct tally_point p = point_of(ev);
        p.count = count;
        timeline_offer(a, &p);
    }
}

static bool point_before(const struct tally_point *x, const struct tally_point *y)
{
    if (x->sim_us != y->sim_us)
        return x->sim_us < y->sim_us;
    return x->wall_s < y->wall_s;
}

static bool point_disagrees(const struct tally_point *p)
{
    return p->expected_lo <= p->expected_hi &&
           (p->count < p->expected_lo || p->count > p->expected_hi);
}

/*
 * Interleaves two timelines by simulated time and drops points that no longer mark a change in
 * the combined stream (same count as the point before, within the model's range). Exact when
 * each side's changes are among the combined stream's changes (counts that only grow); an
 * approximation when counts fall and rise between the two sides' points.
 */
static void timeline_merge(struct tally_app *into, const struct tally_app *from)
{
    size_t na = into->n_timeline, nb = from->n_timeline;
    uint64_t skipped = into->timeline_skipped + from->timeline_skipped;
    unsigned stride = into->timeline_stride > from->timeline_stride ? into->timeline_stride
                                                                    : from->timeline_stride;
    if (stride == 0)
        stride = 1;
    if (nb == 0) {
        into->timeline_skipped = skipped;
        into->timeline_stride = stride;
        return;
    }
    struct tally_point *all = malloc((na + nb) * sizeof *all);
    if (!all) {
        /* No memory for the combined list: keep ours, count theirs as skipped. */
        into->timeline_skipped = skipped + nb;
        into->timeline_stride = stride;
        return;
    }
    size_t n = 0, ia = 0, ib = 0;
    while (ia < na || ib < nb) {
        const struct tally_point *p;
        if (ib == nb || (ia < na && !point_before(&from->timeline[ib], &into->timeline[ia])))
            p = &into->timeline[ia++];
        else
            p = &from->timeline[ib++];
        if (n > 0 && p->count == all[n - 1].count && !point_disagrees(p))
            continue;
        all[n++] = *p;
    }
    into->n_timeline = 0;
    while (n > TALLY_TIMELINE_MAX) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i += 2)
            all[kept++] = all[i];
        skipped += n - kept;
        n = kept;
        stride *= 2;
    }
    memcpy(into->timeline, all, n * sizeof *all);
    into->n_timeline = n;
    into->timeline_skipped = skipped;
    into->timeline_stride = stride;
    free(all);
}

static bool crossing_before(const struct tally_crossing *x, const struct tally_crossing *y)
{
    if (x->sim_us != y->sim_us)
        return x->sim_us < y->sim_us;
    return x->seq < y->seq;
}

/*
 * Interleaves two streams' crossings (and first answers) by simulated time and keeps, per
 * threshold, the combined stream's first answer and the entries where its side changes: when two
 * threads both saw a count fall, it fell once, at the earlier answer below.
 */
static void crossings_merge(struct tally_app *into, const struct tally_app *from)
{
    struct tally_crossing all[2 * TALLY_MAX_CROSSINGS];
    size_t n = 0, i = 0, j = 0;
    while (i < into->n_crossings || j < from->n_crossings) {
        bool take_into =
            j >= from->n_crossings ||
            (i < into->n_crossings && !crossing_before(&from->crossings[j], &into->crossings[i]));
        all[n++] = take_into ? into->crossings[i++] : from->crossings[j++];
    }
    into->crossings_dropped += from->crossings_dropped;
    into->n_crossings = 0;
    bool keep[2 * TALLY_MAX_CROSSINGS] = {false};
    for (int k = 0; k < TALLY_THRESHOLDS; k++) {
        int side = -1; /* unknown, then 1 above, 0 below */
        for (size_t c = 0; c < n; c++) {
            if (all[c].threshold != tally_thresholds[k])
                continue;
            int now = all[c].down ? 0 : 1;
            keep[c] = side < 0 || now != side;
            if (side >= 0 && now != side)
                all[c].first = false; /* another stream's first answer: here the side changed */
            side = now;
        }
    }
    for (size_t c = 0; c < n; c++)
        if (keep[c])
            crossing_keep(into, &all[c]);
}

static void app_merge(struct tally_app *into, const struct tally_app *from)
{
    bool into_has_count = into->n_timeline > 0 || into->timeline_skipped > 0;
    bool from_has_count = from->n_timeline > 0 || from->timeline_skipped > 0;
    into->requests += from->requests;
    if (from->max_count > into->max_count)
        into->max_count = from->max_count;
    if (from_has_count && (!into_has_count || from->last_sim_us > into->last_sim_us)) {
        into->last_count = from->last_count;
        into->last_sim_us = from->last_sim_us;
    }
    timeline_merge(into, from);
    crossings_merge(into, from);
}

static bool activation_before(const struct tally_population *x, const struct tally_population *y)
{
    if (x->first_activation_sim_us != y->first_activation_sim_us)
        return x->first_activation_sim_us < y->first_activation_sim_us;
    return x->first_activation_seq < y->first_activation_seq;
}

void run_tally_merge(struct run_tally *into, const struct run_tally *from)
{
    if (from->requests > 0) {
        if (into->requests == 0 || from->first_wall_s < into->first_wall_s)
            into->first_wall_s = from->first_wall_s;
        if (into->requests == 0 || from->last_wall_s > into->last_wall_s)
            into->last_wall_s = from->last_wall_s;
        if (into->requests == 0 || from->last_sim_us > into->last_sim_us)
            into->last_sim_us = from->last_sim_us;
    }
    host_merge(into, from);
    into->requests += from->requests;
    into->failed_over += from->failed_over;
    for (size_t i = 0; i < KMS_OUTCOME__COUNT; i++)
        into->outcomes[i] += from->outcomes[i];
    for (size_t i = 0; i < from->n_hresults; i++)
        hresult_add(into, from->hresults[i].code, from->hresults[i].n);
    histogram_merge(&into->latency, &from->latency);

    into->model_checked += from->model_checked;
    into->model_mismatches += from->model_mismatches;
    if (from->has_first_mismatch &&
        (!into->has_first_mismatch || from->first_mismatch.seq < into->first_mismatch.seq)) {
        into->first_mismatch = from->first_mismatch;
        into->has_first_mismatch = true;
    }

    if (from->n_pops > into->n_pops)
        into->n_pops = from->n_pops;
    for (size_t i = 0; i < from->n_pops; i++) {
        struct tally_population *p = &into->pops[i];
        const struct tally_population *q = &from->pops[i];
        p->requests += q->requests;
        p->activated_responses += q->activated_responses;
        p->machines += q->machines;
        p->activated_machines += q->activated_machines;
        p->ever_activated_machines += q->ever_activated_machines;
        if (q->crossed && (!p->crossed || activation_before(q, p))) {
            p->crossed = true;
            p->first_activation_seq = q->first_activation_seq;
            p->first_activation_sim_us = q->first_activation_sim_us;
            p->first_activation_wall_s = q->first_activation_wall_s;
            p->first_activation_count = q->first_activation_count;
            p->first_activation_machine = q->first_activation_machine;
        }
    }

    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        const struct tally_app *a = &from->apps[i];
        if (!a->seen)
            continue;
        struct tally_app *b = app_slot(into, a->key);
        if (b)
            app_merge(b, a);
    }
}
