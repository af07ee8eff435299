/*
 * RFC 2782 host order: priorities strictly first, weights as probabilities within a priority
 * (checked with a chi-square bound over many draws of a seeded stream), uniform among "0 0"
 * records, excluded records never chosen, the same seed the same order.
 */
#include "srv_order.h"

#include <criterion/criterion.h>
#include <math.h>

#define DRAWS 20000

/* Chi-square statistic of observed first choices against the expected shares. */
static double chi_square(const unsigned *observed, const double *share, size_t n, unsigned draws)
{
    double chi = 0;
    for (size_t i = 0; i < n; i++) {
        double expected = share[i] * draws;
        chi += (observed[i] - expected) * (observed[i] - expected) / expected;
    }
    return chi;
}

Test(srv_order, lower_priority_always_first)
{
    struct srv_choice recs[] = {{10, 100, 0}, {0, 1, 0}, {5, 50, 0}, {0, 3, 0}};
    struct pcg32 rng;
    pcg32_seed(&rng, 1, 2);
    for (int k = 0; k < 1000; k++) {
        size_t order[SRV_ORDER_MAX];
        size_t n = srv_order(recs, 4, &rng, order);
        cr_assert_eq(n, 4);
        /* the two priority-0 records, then priority 5, then priority 10 */
        cr_assert(order[0] == 1 || order[0] == 3);
        cr_assert(order[1] == 1 || order[1] == 3);
        cr_assert_neq(order[0], order[1]);
        cr_assert_eq(order[2], 2);
        cr_assert_eq(order[3], 0);
    }
}

Test(srv_order, weights_are_probabilities_within_a_priority)
{
    struct srv_choice recs[] = {{0, 60, 0}, {0, 20, 0}, {0, 20, 0}};
    /* RFC 2782 draws r uniformly in [0, total] (inclusive) and takes the first record whose
     * running sum reaches it: the first of the order wins r in [0, 60], so 61/101, the others
     * 20/101 each (a slight lean to the first record, as the RFC specifies). */
    const double share[] = {61.0 / 101, 20.0 / 101, 20.0 / 101};
    unsigned first[3] = {0}, second_given_first0[3] = {0}, n_first0 = 0;
    struct pcg32 rng;
    pcg32_seed(&rng, 2026, 13);
    for (unsigned k = 0; k < DRAWS; k++) {
        size_t order[SRV_ORDER_MAX];
        cr_assert_eq(srv_order(recs, 3, &rng, order), 3);
        first[order[0]]++;
        if (order[0] == 0) {
            n_first0++;
            second_given_first0[order[1]]++;
        }
    }
    /* The RFC draws r in [0, total], so a weight w wins with (w + [first]) / (total + 1): the
     * shares differ from w / total by less than 1/total; 2 degrees of freedom, p = 0.001 → 13.82.
     */
    double chi = chi_square(first, share, 3, DRAWS);
    cr_assert_lt(chi, 13.82, "first choices %u/%u/%u (chi-square %.2f)", first[0], first[1],
                 first[2], chi);
    /* Without replacement: once the 60 is taken, the two 20s are even. */
    const double even[] = {0.5, 0.5};
    double chi2 = chi_square(second_given_first0 + 1, even, 2, n_first0);
    cr_assert_eq(second_given_first0[0], 0);
    cr_assert_lt(chi2, 10.83, "second choices %u/%u (chi-square %.2f, 1 dof)",
                 second_given_first0[1], second_given_first0[2], chi2);
}

Test(srv_order, all_zero_weights_choose_uniformly)
{
    struct srv_choice recs[] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    const double share[] = {0.25, 0.25, 0.25, 0.25};
    unsigned first[4] = {0};
    struct pcg32 rng;
    pcg32_seed(&rng, 99, 7);
    for (unsigned k = 0; k < DRAWS; k++)
        first[srv_pick(recs, 4, &rng)]++;
    double chi = chi_square(first, share, 4, DRAWS);
    cr_assert_lt(chi, 16.27, "first choices %u/%u/%u/%u (chi-square %.2f, 3 dof)", first[0],
                 first[1], first[2], first[3], chi);
}

Test(srv_order, zero_weight_beside_weighted_is_rare)
{
    struct srv_choice recs[] = {{0, 0, 0}, {0, 99, 0}};
    unsigned zero_first = 0;
    struct pcg32 rng;
    pcg32_seed(&rng, 5, 5);
    for (unsigned k = 0; k < DRAWS; k++)
        zero_first += srv_pick(recs, 2, &rng) == 0;
    /* 1 chance in 100 (r == 0 of [0, 99]): binomial mean 200, sd 14.1; 5 sd either side. */
    double mean = DRAWS / 100.0, sd = sqrt(DRAWS * 0.01 * 0.99);
    cr_assert(fabs(zero_first - mean) < 5 * sd, "zero-weight record first %u times", zero_first);
}

Test(srv_order, excluded_records_are_never_chosen)
{
    struct srv_choice recs[] = {{0, 50, 1}, {0, 50, 0}, {1, 10, 1}, {2, 0, 0}};
    struct pcg32 rng;
    pcg32_seed(&rng, 3, 3);
    for (int k = 0; k < 500; k++) {
        size_t order[SRV_ORDER_MAX];
        cr_assert_eq(srv_order(recs, 4, &rng, order), 2);
        cr_assert_eq(order[0], 1);
        cr_assert_eq(order[1], 3);
        cr_assert_eq(srv_pick(recs, 4, &rng), 1);
    }
    struct srv_choice none[] = {{0, 1, 1}};
    cr_assert_eq(srv_pick(none, 1, &rng), -1);
    cr_assert_eq(srv_order(none, 1, &rng, (size_t[SRV_ORDER_MAX]){0}), 0);
    cr_assert_eq(srv_pick(none, 0, &rng), -1);
}

Test(srv_order, same_seed_same_order_and_pick_matches_order)
{
    struct srv_choice recs[] = {{0, 10, 0}, {0, 30, 0}, {0, 60, 0}, {1, 5, 0}, {1, 5, 0}};
    struct pcg32 a, b, c;
    pcg32_seed(&a, 77, 1);
    pcg32_seed(&b, 77, 1);
    pcg32_seed(&c, 77, 1);
    for (int k = 0; k < 200; k++) {
        size_t oa[SRV_ORDER_MAX], ob[SRV_ORDER_MAX];
        size_t na = srv_order(recs, 5, &a, oa), nb = srv_order(recs, 5, &b, ob);
        cr_assert_eq(na, nb);
        cr_assert_arr_eq(oa, ob, na * sizeof oa[0]);
        /* srv_pick consumes the stream like the first draw of srv_order */
        struct pcg32 before = c;
        long p = srv_pick(recs, 5, &c);
        size_t oc[SRV_ORDER_MAX];
        srv_order(recs, 5, &before, oc);
        cr_assert_eq((size_t)p, oc[0]);
        c = before; /* keep c in step with a and b */
    }
}
