/* run_tally: aggregation of synthetic request rows. */
#include "hresult.h"
#include "pcg32.h"
#include "run_tally.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct run_tally *tally_new(size_t n_pops)
{
    struct run_tally *t = malloc(sizeof *t);
    cr_assert_not_null(t);
    run_tally_init(t, n_pops);
    return t;
}

/* A valid answer with a count the model agrees with (range [count, count]). */
static struct run_event answer(uint64_t seq, int64_t sim_us, const char *app, int pop,
                               int64_t count, unsigned n_policy)
{
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.seq = seq;
    ev.wall_s = (double)seq / 1000.0;
    ev.sim_us = sim_us;
    ev.machine = (uint32_t)seq;
    ev.cmid.b[0] = (uint8_t)seq;
    ev.app_key = app;
    ev.product_key = "win10-pro";
    ev.population = pop == 0 ? "clients" : "servers";
    ev.population_index = pop;
    ev.protocol = 6;
    ev.n_policy = n_policy;
    ev.count = count;
    ev.outcome = count >= n_policy ? KMS_OUTCOME_ACTIVATED : KMS_OUTCOME_BELOW_THRESHOLD;
    ev.hresult = ev.outcome == KMS_OUTCOME_ACTIVATED ? 0 : HR_NOT_ENOUGH_COUNT;
    ev.model_checked = true;
    ev.expected_lo = ev.expected_hi = (unsigned)count;
    ev.model_agrees = true;
    ev.latency_us = 100 + seq % 50;
    return ev;
}

static struct run_event failure(uint64_t seq, enum kms_outcome outcome, uint32_t code)
{
    struct run_event ev = answer(seq, (int64_t)seq * 1000, "windows", 0, 0, 25);
    ev.outcome = outcome;
    ev.hresult = code;
    ev.count = -1;
    ev.model_checked = false;
    ev.model_agrees = false;
    return ev;
}

static const struct tally_hresult *find_hr(const struct run_tally *t, uint32_t code)
{
    for (size_t i = 0; i < t->n_hresults; i++) {
        if (t->hresults[i].code == code)
            return &t->hresults[i];
    }
    return NULL;
}

static const struct tally_app *find_app(const struct run_tally *t, const char *key)
{
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        if (t->apps[i].seen && strcmp(t->apps[i].key, key) == 0)
            return &t->apps[i];
    }
    return NULL;
}

Test(run_tally, outcomes_hresults_and_failures)
{
    struct run_tally *t = tally_new(1);
    struct run_event ev = answer(1, 0, "windows", 0, 3, 25); /* below threshold */
    run_tally_add(t, &ev);
    ev = answer(2, 10, "windows", 0, 30, 25); /* activated */
    run_tally_add(t, &ev);
    ev = failure(3, KMS_OUTCOME_HOST_ERROR, HR_KMS_ID_MISMATCH);
    run_tally_add(t, &ev);
    ev = failure(4, KMS_OUTCOME_HOST_ERROR, HR_KMS_ID_MISMATCH);
    run_tally_add(t, &ev);
    ev = failure(5, KMS_OUTCOME_RPC_FAULT, RPC_FAULT_UNKNOWN_IF);
    run_tally_add(t, &ev);
    ev = failure(6, KMS_OUTCOME_TIMEOUT, 0);
    ev.latency_us = 5000000;
    run_tally_add(t, &ev);
    ev = failure(7, KMS_OUTCOME_REFUSED, 0);
    run_tally_add(t, &ev);

    cr_assert_eq(t->requests, 7);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_ACTIVATED], 1);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_BELOW_THRESHOLD], 1);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_HOST_ERROR], 2);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_RPC_FAULT], 1);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_TIMEOUT], 1);
    cr_assert_eq(t->outcomes[KMS_OUTCOME_REFUSED], 1);
    cr_assert_eq(run_tally_failures(t), 5);

    cr_assert_eq(t->n_hresults, 2, "host HRESULT and fault status, not 0xC004F038");
    cr_assert_eq(find_hr(t, HR_KMS_ID_MISMATCH)->n, 2);
    cr_assert_eq(find_hr(t, RPC_FAULT_UNKNOWN_IF)->n, 1);
    cr_assert_null(find_hr(t, HR_NOT_ENOUGH_COUNT));

    /* The refused contact has no latency; the timeout does. */
    cr_assert_eq(t->latency.count, 6);
    cr_assert_eq(t->latency.max, 5000000);
    cr_assert_eq(t->model_checked, 2);
    cr_assert_eq(t->model_mismatches, 0);
    cr_assert_not(t->has_first_mismatch);
    cr_assert_float_eq(t->first_wall_s, 0.001, 1e-12);
    cr_assert_float_eq(t->last_wall_s, 0.007, 1e-12);
    cr_assert_eq(t->last_sim_us, 7000);
    const struct tally_app *a = find_app(t, "windows");
    cr_assert_not_null(a);
    cr_assert_eq(a->requests, 7, "every contact counts for its application");
    free(t);
}

Test(run_tally, timeline_records_changes_and_disagreements)
{
    struct run_tally *t = tally_new(1);
    const int64_t counts[] = {1, 1, 2, 2, 2, 3, 3, 5, 5};
    uint64_t seq = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        seq++;
        struct run_event ev = answer(seq, (int64_t)seq * 1000000, "windows", 0, counts[i], 25);
        if (seq == 5) { /* same count as before, but the model disagrees */
            ev.expected_lo = 3;
            ev.expected_hi = 3;
            ev.model_agrees = false;
        }
        if (seq == 8)
            ev.model_checked = false; /* the model could not judge */
        run_tally_add(t, &ev);
    }
    const struct tally_app *a = find_app(t, "windows");
    cr_assert_not_null(a);
    /* first (seq 1), change to 2 (seq 3), disagreement (seq 5), 3 (seq 6), 5 (seq 8) */
    const int64_t want_sim[] = {1, 3, 5, 6, 8};
    const unsigned want_count[] = {1, 2, 2, 3, 5};
    cr_assert_eq(a->n_timeline, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(a->timeline[i].sim_us, want_sim[i] * 1000000, "point %zu", i);
        cr_assert_eq(a->timeline[i].count, want_count[i], "point %zu", i);
    }
    cr_assert_eq(a->timeline[2].expected_lo, 3);
    cr_assert_eq(a->timeline[2].expected_hi, 3);
    cr_assert_gt(a->timeline[4].expected_lo, a->timeline[4].expected_hi,
                 "an unjudged point carries the empty range");
    cr_assert_eq(a->timeline_skipped, 0);
    cr_assert_eq(a->max_count, 5);
    cr_assert_eq(a->last_count, 5);
    cr_assert_eq(a->last_sim_us, 9000000);
    cr_assert_eq(t->model_mismatches, 1);
    cr_assert_eq(t->model_checked, 8);

    /* A count that falls is a change too; max stays. */
    struct run_event ev = answer(10, 10000000, "windows", 0, 4, 25);
    run_tally_add(t, &ev);
    cr_assert_eq(a->n_timeline, 6);
    cr_assert_eq(a->timeline[5].count, 4);
    cr_assert_eq(a->max_count, 5);
    cr_assert_eq(a->last_count, 4);
    free(t);
}

Test(run_tally, applications_are_separate)
{
    struct run_tally *t = tally_new(1);
    struct run_event ev = answer(1, 0, "windows", 0, 7, 25);
    run_tally_add(t, &ev);
    ev = answer(2, 1, "office2016", 0, 2, 5);
    run_tally_add(t, &ev);
    ev = answer(3, 2, "windows", 0, 8, 25);
    run_tally_add(t, &ev);
    const struct tally_app *w = find_app(t, "windows"), *o = find_app(t, "office2016");
    cr_assert(w && o);
    cr_assert_eq(w->requests, 2);
    cr_assert_eq(o->requests, 1);
    cr_assert_eq(w->max_count, 8);
    cr_assert_eq(o->max_count, 2);
    cr_assert_eq(w->n_timeline, 2);
    cr_assert_eq(o->n_timeline, 1);
    free(t);
}

Test(run_tally, timeline_thins_by_halving)
{
    struct run_tally *t = tally_new(1);
    const uint64_t total = 3 * TALLY_TIMELINE_MAX + 123; /* every response a change */
    for (uint64_t i = 0; i < total; i++) {
        struct run_event ev = answer(i + 1, (int64_t)i, "windows", 0, (int64_t)i + 1, 25);
        run_tally_add(t, &ev);
        /* a repeated count is no candidate */
        ev.seq += total;
        run_tally_add(t, &ev);
    }
    const struct tally_app *a = find_app(t, "windows");
    cr_assert_leq(a->n_timeline, TALLY_TIMELINE_MAX);
    cr_assert_geq(a->n_timeline, TALLY_TIMELINE_MAX / 2);
    cr_assert_eq(a->timeline_stride, 4, "two halvings for 3x the room");
    cr_assert_eq(a->n_timeline + a->timeline_skipped, total, "every candidate kept or counted");
    for (size_t i = 0; i < a->n_timeline; i++) {
        /* candidate k has count k + 1; kept are the multiples of the stride */
        cr_assert_eq(a->timeline[i].count, 1 + i * a->timeline_stride, "point %zu", i);
    }
    cr_assert_eq(a->timeline[0].count, 1, "the first point survives thinning");
    cr_assert_eq(a->max_count, total);
    cr_assert_eq(a->last_count, total);
    free(t);
}

Test(run_tally, first_activation_per_population)
{
    struct run_tally *t = tally_new(3);
    uint64_t seq = 0;
    for (int64_t c = 1; c <= 30; c++) {
        seq++;
        struct run_event ev = answer(seq, (int64_t)seq * 3600000000LL / 10, "windows", 0, c, 25);
        ev.machine = 100 + (uint32_t)c;
        run_tally_add(t, &ev);
    }
    struct run_event s = answer(++seq, 7, "windows", 1, 4, 5); /* servers: below 5 */
    run_tally_add(t, &s);
    const struct tally_population *p = &t->pops[0];
    cr_assert(p->crossed);
    cr_assert_eq(p->requests, 30);
    cr_assert_eq(p->activated_responses, 6);
    cr_assert_eq(p->first_activation_seq, 25);
    cr_assert_eq(p->first_activation_count, 25);
    cr_assert_eq(p->first_activation_machine, 125);
    cr_assert_eq(p->first_activation_sim_us, 25 * 360000000LL);
    cr_assert_float_eq(p->first_activation_wall_s, 0.025, 1e-12);
    cr_assert_not(t->pops[1].crossed);
    cr_assert_eq(t->pops[1].requests, 1);
    cr_assert_eq(t->pops[2].requests, 0);

    /* A row completing out of order with an earlier seq takes the crossing over. */
    struct run_event early = answer(20, 1, "windows", 0, 26, 25);
    early.machine = 7;
    run_tally_add(t, &early);
    cr_assert_eq(p->first_activation_seq, 20);
    cr_assert_eq(p->first_activation_machine, 7);
    cr_assert_eq(p->first_activation_count, 26);

    /* Rows of an unknown population are counted overall only. */
    struct run_event stray = answer(99, 1, "windows", 7, 30, 25);
    run_tally_add(t, &stray);
    cr_assert_eq(t->requests, 33);
    free(t);
}

Test(run_tally, first_mismatch_is_earliest_by_seq)
{
    struct run_tally *t = tally_new(1);
    struct run_event ev = answer(10, 10, "windows", 0, 12, 25);
    ev.expected_lo = ev.expected_hi = 11;
    ev.model_agrees = false;
    snprintf(ev.model_reason, sizeof ev.model_reason, "count 12, expected 11");
    run_tally_add(t, &ev);
    ev = answer(11, 11, "windows", 0, 12, 25); /* agrees */
    run_tally_add(t, &ev);
    ev = answer(4, 4, "windows", 0, 9, 25);
    ev.expected_lo = 5;
    ev.expected_hi = 6;
    ev.model_agrees = false;
    snprintf(ev.model_reason, sizeof ev.model_reason, "count 9, expected 5..6");
    run_tally_add(t, &ev);
    ev = answer(2, 2, "windows", 0, 9, 25);
    ev.model_checked = false; /* unjudged rows are no mismatches */
    ev.model_agrees = false;
    run_tally_add(t, &ev);
    cr_assert_eq(t->model_checked, 3);
    cr_assert_eq(t->model_mismatches, 2);
    cr_assert(t->has_first_mismatch);
    cr_assert_eq(t->first_mismatch.seq, 4);
    cr_assert_str_eq(t->first_mismatch.model_reason, "count 9, expected 5..6");
    cr_assert_eq(t->first_mismatch.expected_lo, 5);
    free(t);
}

/* A deterministic stream: counts only grow, two applications, two populations, failures,
 * a few model disagreements (with a count outside the expected range). */
static struct run_event stream_event(struct pcg32 *rng, uint64_t seq)
{
    bool office = pcg32_bounded(rng, 4) == 0;
    int pop = office ? 1 : 0;
    int64_t count = office ? 1 + (int64_t)(seq / 40) : 1 + (int64_t)(seq / 9);
    unsigned n_policy = office ? 5 : 25;
    struct run_event ev =
        answer(seq, (int64_t)seq * 250000, office ? "office2016" : "windows", pop, count, n_policy);
    ev.machine = pcg32_bounded(rng, 500);
    ev.latency_us = 50 + pcg32_bounded(rng, 20000);
    uint32_t roll = pcg32_bounded(rng, 100);
    if (roll == 0) {
        ev.outcome = KMS_OUTCOME_HOST_ERROR;
        ev.hresult = pcg32_bounded(rng, 2) ? HR_KMS_ID_MISMATCH : HR_INVALID_TIMESTAMP;
        ev.count = -1;
        ev.model_checked = false;
    } else if (roll == 1) {
        ev.outcome = KMS_OUTCOME_RESET;
        ev.count = -1;
        ev.model_checked = false;
    } else if (roll == 2) {
        ev.outcome = KMS_OUTCOME_RPC_FAULT;
        ev.hresult = RPC_FAULT_PROTO_ERROR;
        ev.count = -1;
        ev.model_checked = false;
    } else if (roll == 3) {
        ev.expected_lo = (unsigned)count + 1;
        ev.expected_hi = (unsigned)count + 2;
        ev.model_agrees = false;
        snprintf(ev.model_reason, sizeof ev.model_reason, "seq %llu", (unsigned long long)seq);
    }
    return ev;
}

static void assert_tallies_equal(const struct run_tally *x, const struct run_tally *y)
{
    cr_assert_eq(x->requests, y->requests);
    for (size_t i = 0; i < KMS_OUTCOME__COUNT; i++)
        cr_assert_eq(x->outcomes[i], y->outcomes[i], "outcome %zu", i);
    cr_assert_eq(x->n_hresults, y->n_hresults);
    for (size_t i = 0; i < x->n_hresults; i++) {
        const struct tally_hresult *h = find_hr(y, x->hresults[i].code);
        cr_assert_not_null(h);
        cr_assert_eq(h->n, x->hresults[i].n);
    }
    cr_assert_eq(x->latency.count, y->latency.count);
    cr_assert_eq(x->latency.min, y->latency.min);
    cr_assert_eq(x->latency.max, y->latency.max);
    cr_assert_eq(memcmp(x->latency.buckets, y->latency.buckets, sizeof x->latency.buckets), 0);
    cr_assert_eq(x->model_checked, y->model_checked);
    cr_assert_eq(x->model_mismatches, y->model_mismatches);
    cr_assert_eq(x->has_first_mismatch, y->has_first_mismatch);
    cr_assert_eq(x->first_mismatch.seq, y->first_mismatch.seq);
    cr_assert_float_eq(x->first_wall_s, y->first_wall_s, 1e-12);
    cr_assert_float_eq(x->last_wall_s, y->last_wall_s, 1e-12);
    cr_assert_eq(x->last_sim_us, y->last_sim_us);
    cr_assert_eq(x->n_pops, y->n_pops);
    for (size_t i = 0; i < x->n_pops; i++) {
        const struct tally_population *p = &x->pops[i], *q = &y->pops[i];
        cr_assert_eq(p->requests, q->requests, "pop %zu", i);
        cr_assert_eq(p->activated_responses, q->activated_responses, "pop %zu", i);
        cr_assert_eq(p->crossed, q->crossed, "pop %zu", i);
        cr_assert_eq(p->first_activation_seq, q->first_activation_seq, "pop %zu", i);
        cr_assert_eq(p->first_activation_sim_us, q->first_activation_sim_us, "pop %zu", i);
        cr_assert_eq(p->first_activation_count, q->first_activation_count, "pop %zu", i);
        cr_assert_eq(p->first_activation_machine, q->first_activation_machine, "pop %zu", i);
    }
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        const struct tally_app *a = &x->apps[i];
        if (!a->seen)
            continue;
        const struct tally_app *b = find_app(y, a->key);
        cr_assert_not_null(b, "%s", a->key);
        cr_assert_eq(a->requests, b->requests, "%s", a->key);
        cr_assert_eq(a->max_count, b->max_count, "%s", a->key);
        cr_assert_eq(a->last_count, b->last_count, "%s", a->key);
        cr_assert_eq(a->last_sim_us, b->last_sim_us, "%s", a->key);
        cr_assert_eq(a->n_timeline, b->n_timeline, "%s", a->key);
        cr_assert_eq(a->timeline_skipped, b->timeline_skipped, "%s", a->key);
        for (size_t k = 0; k < a->n_timeline; k++) {
            cr_assert_eq(a->timeline[k].sim_us, b->timeline[k].sim_us, "%s point %zu", a->key, k);
            cr_assert_eq(a->timeline[k].count, b->timeline[k].count, "%s point %zu", a->key, k);
            cr_assert_eq(a->timeline[k].expected_lo, b->timeline[k].expected_lo);
            cr_assert_eq(a->timeline[k].expected_hi, b->timeline[k].expected_hi);
        }
    }
}

static void merge_case(bool interleaved)
{
    enum { N = 6000, PARTS = 3 };
    struct run_tally *all = tally_new(2);
    struct run_tally *part[PARTS];
    for (size_t i = 0; i < PARTS; i++)
        part[i] = tally_new(2);
    struct pcg32 rng;
    pcg32_seed(&rng, 42, 7);
    for (uint64_t seq = 1; seq <= N; seq++) {
        struct run_event ev = stream_event(&rng, seq);
        run_tally_add(all, &ev);
        size_t k = interleaved ? ev.machine % PARTS : (size_t)((seq - 1) * PARTS / N);
        run_tally_add(part[k], &ev);
    }
    struct run_tally *merged = tally_new(2);
    /* merge in an order other than the stream's */
    run_tally_merge(merged, part[2]);
    run_tally_merge(merged, part[0]);
    run_tally_merge(merged, part[1]);
    cr_assert_gt(all->model_mismatches, 0);
    cr_assert_gt(all->n_hresults, 1);
    cr_assert(all->pops[0].crossed && all->pops[1].crossed);
    assert_tallies_equal(merged, all);
    for (size_t i = 0; i < PARTS; i++)
        free(part[i]);
    free(all);
    free(merged);
}

Test(run_tally, merge_of_contiguous_parts_equals_adding_all)
{
    merge_case(false);
}

Test(run_tally, merge_of_interleaved_parts_equals_adding_all)
{
    merge_case(true);
}

Test(run_tally, merge_picks_earlier_activation_by_sim_time_then_seq)
{
    struct run_tally *a = tally_new(1), *b = tally_new(1);
    struct run_event ev = answer(50, 1000, "windows", 0, 25, 25);
    ev.machine = 1;
    run_tally_add(a, &ev);
    ev = answer(60, 900, "windows", 0, 26, 25); /* later seq (other shard), earlier sim time */
    ev.machine = 2;
    run_tally_add(b, &ev);
    run_tally_merge(a, b);
    cr_assert_eq(a->pops[0].first_activation_machine, 2);
    cr_assert_eq(a->pops[0].first_activation_seq, 60);

    struct run_tally *c = tally_new(1);
    ev = answer(40, 900, "windows", 0, 27, 25); /* same sim time, lower seq */
    ev.machine = 3;
    run_tally_add(c, &ev);
    run_tally_merge(a, c);
    cr_assert_eq(a->pops[0].first_activation_machine, 3);
    cr_assert_eq(a->pops[0].activated_responses, 3);

    /* Engine-filled machine counts add up across shards. */
    a->pops[0].machines = 10;
    a->pops[0].activated_machines = 4;
    struct run_tally *d = tally_new(1);
    d->pops[0].machines = 5;
    d->pops[0].activated_machines = 5;
    run_tally_merge(a, d);
    cr_assert_eq(a->pops[0].machines, 15);
    cr_assert_eq(a->pops[0].activated_machines, 9);
    free(a);
    free(b);
    free(c);
    free(d);
}

Test(run_tally, merge_of_full_timelines_stays_within_room)
{
    struct run_tally *a = tally_new(1), *b = tally_new(1);
    for (uint64_t i = 0; i < TALLY_TIMELINE_MAX; i++) {
        struct run_event ev =
            answer(2 * i + 1, (int64_t)(2 * i), "windows", 0, (int64_t)(2 * i), 25);
        run_tally_add(a, &ev);
        ev = answer(2 * i + 2, (int64_t)(2 * i + 1), "windows", 0, (int64_t)(2 * i + 1), 25);
        run_tally_add(b, &ev);
    }
    run_tally_merge(a, b);
    const struct tally_app *w = find_app(a, "windows");
    cr_assert_eq(w->n_timeline, TALLY_TIMELINE_MAX);
    cr_assert_eq(w->timeline_skipped, TALLY_TIMELINE_MAX);
    cr_assert_eq(w->timeline_stride, 2);
    for (size_t i = 0; i < w->n_timeline; i++) {
        cr_assert_eq(w->timeline[i].count, 2 * i);
        if (i > 0)
            cr_assert_gt(w->timeline[i].sim_us, w->timeline[i - 1].sim_us);
    }
    cr_assert_eq(w->max_count, 2 * TALLY_TIMELINE_MAX - 1);
    cr_assert_eq(w->last_count, 2 * TALLY_TIMELINE_MAX - 1, "the later answer is the final one");
    free(a);
    free(b);
}

/* The falls of application 0 ("windows") below threshold th, in order. */
static size_t windows_falls(const struct run_tally *t, unsigned th, uint64_t *seqs, size_t cap)
{
    size_t n = 0;
    for (size_t c = 0; c < t->apps[0].n_crossings; c++) {
        const struct tally_crossing *x = &t->apps[0].crossings[c];
        if (x->down && !x->first && x->threshold == th && n < cap)
            seqs[n++] = x->seq;
    }
    return n;
}

Test(run_tally, a_count_falling_below_25_is_found_at_its_request)
{
    struct run_tally *t = tally_new(1);
    const int64_t counts[] = {24, 25, 26, 26, 25, 24, 23, 25, 24};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct run_event ev = answer(i + 1, (int64_t)(i + 1) * 1000, "windows", 0, counts[i], 25);
        run_tally_add(t, &ev);
    }
    uint64_t seqs[8];
    size_t n = windows_falls(t, 25, seqs, 8);
    cr_assert_eq(n, 2, "falls below 25: %zu", n);
    cr_assert_eq(seqs[0], 6); /* 25 -> 24 */
    cr_assert_eq(seqs[1], 9); /* 25 -> 24 again after climbing back */
    cr_assert_eq(windows_falls(t, 5, seqs, 8), 0);
    free(t);
}

Test(run_tally, a_fall_two_threads_both_saw_is_one_fall_after_merging)
{
    struct run_tally *a = tally_new(1), *b = tally_new(1);
    /* one host's count 26 -> 24 at t = 5 ms, seen by both threads' machines */
    const int64_t a_counts[] = {26, 26, 24}, b_counts[] = {26, 24, 24};
    const int64_t a_at[] = {1, 3, 6}, b_at[] = {2, 5, 7};
    for (size_t i = 0; i < 3; i++) {
        struct run_event ea = answer(a_at[i], a_at[i] * 1000, "windows", 0, a_counts[i], 25);
        struct run_event eb = answer(b_at[i], b_at[i] * 1000, "windows", 0, b_counts[i], 25);
        run_tally_add(a, &ea);
        run_tally_add(b, &eb);
    }
    uint64_t seqs[4];
    cr_assert_eq(windows_falls(a, 25, seqs, 4), 1);
    cr_assert_eq(windows_falls(b, 25, seqs, 4), 1);
    run_tally_merge(a, b);
    cr_assert_eq(windows_falls(a, 25, seqs, 4), 1);
    cr_assert_eq(seqs[0], 5, "the first answer below 25 in the combined stream");
    free(a);
    free(b);
}

Test(run_tally, a_thread_whose_first_answer_is_below_moves_the_fall_earlier)
{
    /* The count fell at t = 2: thread b's first answer; thread a only sees it at t = 4. */
    struct run_tally *a = tally_new(1), *b = tally_new(1);
    struct run_event a1 = answer(1, 1000, "windows", 0, 26, 25);
    struct run_event b2 = answer(2, 2000, "windows", 0, 24, 25);
    struct run_event b3 = answer(3, 3000, "windows", 0, 24, 25);
    struct run_event a4 = answer(4, 4000, "windows", 0, 24, 25);
    run_tally_add(a, &a1);
    run_tally_add(b, &b2);
    run_tally_add(b, &b3);
    run_tally_add(a, &a4);
    uint64_t seqs[4];
    cr_assert_eq(windows_falls(b, 25, seqs, 4), 0, "b alone never saw the count at 25");
    run_tally_merge(a, b);
    cr_assert_eq(windows_falls(a, 25, seqs, 4), 1);
    cr_assert_eq(seqs[0], 2, "the fall is the first answer below 25: request %llu",
                 (unsigned long long)seqs[0]);
    free(a);
    free(b);
}

/* One event of host i (name) at sim_us: an answer with count, or a failure. */
static struct run_event host_event(uint64_t seq, int host, const char *name, int64_t count,
                                   enum kms_outcome failed)
{
    struct run_event ev = count >= 0 ? answer(seq, (int64_t)seq * 1000000, "windows", 0, count, 25)
                                     : failure(seq, failed, 0);
    ev.sim_us = (int64_t)seq * 1000000;
    ev.wall_s = (double)seq;
    ev.host_index = host;
    ev.host = name;
    ev.failover = count < 0 && host == 1;
    return ev;
}

/* Issue 19 item 8: per-host figures (answered, connection failures, key refusals, failovers),
 * down since the first failure of the last unbroken run, counts kept per host. */
Test(run_tally, hosts_have_their_own_figures_and_down_since)
{
    struct run_tally *t = tally_new(1);
    run_tally_name_host(t, 0, "h1:1688", 0, -1, 0, -1);
    run_tally_name_host(t, 1, "h2:1688", 0, -1, 0, -1);
    struct run_event ev;
    ev = host_event(1, 1, "h2:1688", 6, 0); /* h2 answers with 6 */
    run_tally_add(t, &ev);
    ev = host_event(2, 1, "h2:1688", -1, KMS_OUTCOME_REFUSED); /* then fails: down since 2 s */
    run_tally_add(t, &ev);
    ev = host_event(4, 1, "h2:1688", -1, KMS_OUTCOME_TIMEOUT);
    run_tally_add(t, &ev);
    ev = host_event(3, 1, "h2:1688", -1, KMS_OUTCOME_UNREACHABLE); /* out of order */
    run_tally_add(t, &ev);
    ev = host_event(5, 0, "h1:1688", 2, 0); /* h1 answers the failovers with its own count */
    run_tally_add(t, &ev);
    ev = host_event(6, 0, "h1:1688", -1, KMS_OUTCOME_DNS_ERROR); /* h1 fails once... */
    run_tally_add(t, &ev);
    ev = host_event(7, 0, "h1:1688", 3, 0); /* ...and answers again: not down */
    run_tally_add(t, &ev);
    ev = host_event(8, 0, "h1:1688", -1, KMS_OUTCOME_HOST_ERROR);
    ev.hresult = 0xC004F042u;
    run_tally_add(t, &ev);

    struct tally_host_figures f1, f2;
    tally_host_figures(&t->hosts[0], &f1);
    tally_host_figures(&t->hosts[1], &f2);
    cr_expect_eq(f2.answered, 1);
    cr_expect_eq(f2.connection_failures, 3);
    cr_expect_eq(f2.failovers, 3);
    cr_expect_eq(t->hosts[1].down_since_us, 2000000, "the first failure after its last answer");
    cr_expect_eq(f1.answered, 3, "two counts and a key refusal");
    cr_expect_eq(f1.connection_failures, 1);
    cr_expect_eq(f1.key_refusals, 1);
    cr_expect_eq(t->hosts[0].down_since_us, -1, "answered after its failure");
    cr_expect_eq(t->hosts[0].apps[0].last_count, 3);
    cr_expect_eq(t->hosts[0].apps[0].max_count, 3);
    cr_expect_eq(t->hosts[1].apps[0].max_count, 6, "h2's count is not h1's");
    cr_expect_eq(run_tally_contacts(t), t->requests - 3);

    char line[512];
    tally_host_line(&t->hosts[1], false, line, sizeof line);
    cr_expect(strstr(line, "h2:1688 4 requests, 1 answered, 3 connection failures "
                           "(connect-refused 1, timeout 1, unreachable 1), 0 key refusals"),
              "%s", line);
    cr_expect(strstr(line, "down since 2.0 s into the run; windows last 6 max 6"), "%s", line);

    /* Merged from two threads' parts, the down state is the same. */
    struct run_tally *a = tally_new(1), *b = tally_new(1);
    ev = host_event(1, 1, "h2:1688", 6, 0);
    run_tally_add(a, &ev);
    ev = host_event(2, 1, "h2:1688", -1, KMS_OUTCOME_REFUSED);
    run_tally_add(b, &ev);
    ev = host_event(3, 1, "h2:1688", -1, KMS_OUTCOME_REFUSED);
    run_tally_add(a, &ev);
    run_tally_merge(a, b);
    cr_expect_eq(a->hosts[1].down_since_us, 2000000);
    free(a);
    free(b);
    free(t);
}
