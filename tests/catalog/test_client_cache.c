/*
 * The per-application CMID cache (spec §10): unique CMIDs, refresh on repeat, capacity
 * 2 x the largest N_Policy seen (never shrinking), least recently seen evicted, 30-day expiry.
 */
#include "client_cache.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define CC_DAY (86400ULL * FILETIME_PER_SECOND)
#define CC_T0 (133000000000000000ULL) /* some FILETIME in 2022 */

static struct guid cc_cmid(unsigned i)
{
    struct guid g;
    memset(&g, 0, sizeof g);
    g.b[0] = 0xc3;
    g.b[12] = (uint8_t)(i >> 24);
    g.b[13] = (uint8_t)(i >> 16);
    g.b[14] = (uint8_t)(i >> 8);
    g.b[15] = (uint8_t)i;
    return g;
}

static struct client_cache *cc_new(void)
{
    struct client_cache *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    memset(c, 0xa5, sizeof *c); /* init must not rely on zeroed memory */
    client_cache_init(c, 0);
    return c;
}

Test(client_cache, unique_cmids_count_one_two_three)
{
    struct client_cache *c = cc_new();
    cr_expect_eq(client_cache_count(c, CC_T0), 0);
    for (unsigned i = 0; i < 10; i++) {
        struct guid g = cc_cmid(i);
        cr_expect_null(client_cache_find(c, &g));
        cr_expect_eq(client_cache_touch(c, &g, 25, CC_T0 + i), i + 1, "CMID %u", i);
        const struct client_cache_entry *e = client_cache_find(c, &g);
        cr_assert_not_null(e);
        cr_expect_eq(e->last_seen, CC_T0 + i);
    }
    cr_expect_eq(client_cache_count(c, CC_T0 + 100), 10);
    free(c);
}

Test(client_cache, repeat_does_not_count_and_refreshes_last_seen)
{
    struct client_cache *c = cc_new();
    struct guid a = cc_cmid(1), b = cc_cmid(2);
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0), 1);
    cr_expect_eq(client_cache_touch(c, &b, 25, CC_T0 + 1), 2);
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0 + 5 * CC_DAY), 2);
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0 + 6 * CC_DAY), 2);
    cr_expect_eq(client_cache_find(c, &a)->last_seen, CC_T0 + 6 * CC_DAY);
    cr_expect_eq(client_cache_find(c, &b)->last_seen, CC_T0 + 1);
    /* A request from the past (clock went back) does not move last_seen backwards. */
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0 + 2 * CC_DAY), 2);
    cr_expect_eq(client_cache_find(c, &a)->last_seen, CC_T0 + 6 * CC_DAY);
    free(c);
}

/* Fills a cache of capacity cap with CMIDs 0..cap-1 seen at T0+i, refreshes CMID 0, adds one more
 * and checks that CMID 1 (now the least recently seen) is the one evicted. */
static void cc_check_lru(unsigned n_policy, unsigned cap)
{
    struct client_cache *c = cc_new();
    cr_assert_eq(client_cache_capacity(c), 1, "nothing seen yet: room for the first requester");
    for (unsigned i = 0; i < cap; i++) {
        struct guid g = cc_cmid(i);
        cr_assert_eq(client_cache_touch(c, &g, n_policy, CC_T0 + i), i + 1);
    }
    cr_assert_eq(client_cache_capacity(c), cap);
    struct guid first = cc_cmid(0);
    cr_expect_eq(client_cache_touch(c, &first, n_policy, CC_T0 + cap), cap, "refresh");
    struct guid extra = cc_cmid(1000);
    cr_expect_eq(client_cache_touch(c, &extra, n_policy, CC_T0 + cap + 1), cap,
                 "count stays at the capacity");
    struct guid second = cc_cmid(1), third = cc_cmid(2);
    cr_expect_not_null(client_cache_find(c, &first), "refreshed CMID 0 must survive");
    cr_expect_null(client_cache_find(c, &second), "CMID 1 was least recently seen");
    cr_expect_not_null(client_cache_find(c, &third));
    cr_expect_not_null(client_cache_find(c, &extra));
    for (unsigned i = 2; i < cap; i++) {
        struct guid g = cc_cmid(i);
        cr_expect_not_null(client_cache_find(c, &g), "CMID %u", i);
    }
    /* The evicted CMID coming back is new again: it evicts CMID 2, the next oldest. */
    cr_expect_eq(client_cache_touch(c, &second, n_policy, CC_T0 + cap + 2), cap);
    cr_expect_null(client_cache_find(c, &third));
    cr_expect_not_null(client_cache_find(c, &second));
    cr_expect_eq(client_cache_count(c, CC_T0 + cap + 3), cap);
    free(c);
}

Test(client_cache, windows_cap_50_evicts_least_recently_seen)
{
    cc_check_lru(25, 50);
}

Test(client_cache, office_cap_10_evicts_least_recently_seen)
{
    cc_check_lru(5, 10);
}

Test(client_cache, eviction_follows_last_seen_not_insertion_order)
{
    struct client_cache *c = cc_new();
    /* Insert 0..9, then refresh them in reverse so CMID 9 is the oldest. */
    for (unsigned i = 0; i < 10; i++) {
        struct guid g = cc_cmid(i);
        client_cache_touch(c, &g, 5, CC_T0 + i);
    }
    for (unsigned i = 0; i < 9; i++) {
        struct guid g = cc_cmid(i);
        client_cache_touch(c, &g, 5, CC_T0 + 100 - i);
    }
    struct guid nine = cc_cmid(9), eight = cc_cmid(8), fresh = cc_cmid(77);
    cr_expect_eq(client_cache_touch(c, &fresh, 5, CC_T0 + 200), 10);
    cr_expect_null(client_cache_find(c, &nine));
    cr_expect_not_null(client_cache_find(c, &eight));
    /* Next oldest is CMID 8 (last seen T0+92). */
    struct guid fresh2 = cc_cmid(78);
    cr_expect_eq(client_cache_touch(c, &fresh2, 5, CC_T0 + 201), 10);
    cr_expect_null(client_cache_find(c, &eight));
    free(c);
}

Test(client_cache, servers_only_cap_at_ten_a_client_lifts_it_to_fifty)
{
    /* Microsoft's "Understanding KMS" and vlmcsd -M1 -E1: 14 servers (N_Policy 5) count
     * 1..10, 10, 10, 10; the first Windows client (N_Policy 25) gets 11. */
    struct client_cache *c = cc_new();
    for (unsigned i = 0; i < 14; i++) {
        struct guid g = cc_cmid(i);
        cr_expect_eq(client_cache_touch(c, &g, 5, CC_T0 + i), i < 10 ? i + 1 : 10, "server %u",
                     i + 1);
    }
    cr_expect_eq(client_cache_capacity(c), 10);
    struct guid client = cc_cmid(100);
    cr_expect_eq(client_cache_touch(c, &client, 25, CC_T0 + 20), 11);
    cr_expect_eq(client_cache_capacity(c), 50);
    /* More servers now count on to 50 and stop there. */
    for (unsigned i = 0; i < 45; i++) {
        struct guid g = cc_cmid(200 + i);
        cr_expect_eq(client_cache_touch(c, &g, 5, CC_T0 + 30 + i), i + 12 > 50 ? 50 : i + 12);
    }
    free(c);
}

Test(client_cache, capacity_never_shrinks)
{
    struct client_cache *c = cc_new();
    struct guid g = cc_cmid(0);
    client_cache_touch(c, &g, 25, CC_T0);
    cr_expect_eq(client_cache_capacity(c), 50);
    client_cache_touch(c, &g, 5, CC_T0 + 1); /* smaller N_Policy never shrinks it */
    cr_expect_eq(client_cache_capacity(c), 50);
    client_cache_touch(c, &g, 0, CC_T0 + 2);
    cr_expect_eq(client_cache_capacity(c), 50);
    /* Not even when every CMID expired. */
    cr_expect_eq(client_cache_count(c, CC_T0 + 40 * CC_DAY), 0);
    cr_expect_eq(client_cache_capacity(c), 50);
    free(c);
}

Test(client_cache, capacity_grows_with_n_policy)
{
    struct client_cache *c = cc_new();
    struct guid g = cc_cmid(0);
    client_cache_touch(c, &g, 3, CC_T0);
    cr_expect_eq(client_cache_capacity(c), 6);
    g = cc_cmid(1);
    client_cache_touch(c, &g, 40, CC_T0 + 1);
    cr_expect_eq(client_cache_capacity(c), 80);
    g = cc_cmid(2);
    client_cache_touch(c, &g, 5, CC_T0 + 2); /* the largest seen is remembered */
    cr_expect_eq(client_cache_capacity(c), 80);
    /* 80 distinct CMIDs now fit; the 81st evicts. */
    for (unsigned i = 3; i < 80; i++) {
        g = cc_cmid(i);
        cr_assert_eq(client_cache_touch(c, &g, 5, CC_T0 + i), i + 1);
    }
    g = cc_cmid(80);
    cr_expect_eq(client_cache_touch(c, &g, 5, CC_T0 + 80), 80);
    struct guid oldest = cc_cmid(0);
    cr_expect_null(client_cache_find(c, &oldest));
    free(c);
}

Test(client_cache, n_policy_zero_still_counts_the_requester)
{
    struct client_cache *c = cc_new();
    struct guid a = cc_cmid(1), b = cc_cmid(2);
    cr_expect_eq(client_cache_touch(c, &a, 0, CC_T0), 1);
    cr_expect_eq(client_cache_touch(c, &b, 0, CC_T0 + 1), 1, "capacity 1: b replaces a");
    cr_expect_null(client_cache_find(c, &a));
    free(c);
}

Test(client_cache, capacity_is_bounded)
{
    struct client_cache *c = cc_new();
    struct guid g = cc_cmid(0);
    client_cache_touch(c, &g, 1000, CC_T0);
    cr_expect_eq(client_cache_capacity(c), 2000);
    client_cache_touch(c, &g, 5000, CC_T0 + 1);
    cr_expect_eq(client_cache_capacity(c), CLIENT_CACHE_MAX_CAPACITY);
    client_cache_touch(c, &g, 0xffffffffu, CC_T0 + 2);
    cr_expect_eq(client_cache_capacity(c), CLIENT_CACHE_MAX_CAPACITY);
    for (unsigned i = 1; i < CLIENT_CACHE_MAX_CAPACITY + 10; i++) {
        struct guid h = cc_cmid(i);
        unsigned n = client_cache_touch(c, &h, 0xffffffffu, CC_T0 + 2 + i);
        cr_assert_leq(n, CLIENT_CACHE_MAX_CAPACITY);
    }
    cr_expect_eq(client_cache_count(c, CC_T0 + 3 * CLIENT_CACHE_MAX_CAPACITY),
                 CLIENT_CACHE_MAX_CAPACITY);
    /* A huge minimum capacity is bounded too. */
    struct client_cache *big = cc_new();
    client_cache_init(big, 100000);
    cr_expect_eq(client_cache_capacity(big), CLIENT_CACHE_MAX_CAPACITY);
    free(big);
    free(c);
}

Test(client_cache, expiry_exactly_30_days_after_last_request)
{
    struct client_cache *c = cc_new();
    struct guid a = cc_cmid(1), b = cc_cmid(2);
    cr_expect_eq(CLIENT_CACHE_RETENTION, 30 * CC_DAY);
    client_cache_touch(c, &a, 25, CC_T0);
    client_cache_touch(c, &b, 25, CC_T0 + CC_DAY);
    cr_expect_eq(client_cache_count(c, CC_T0 + 30 * CC_DAY - 1), 2, "one tick before 30 days");
    cr_expect_not_null(client_cache_find(c, &a));
    cr_expect_eq(client_cache_count(c, CC_T0 + 30 * CC_DAY), 1, "exactly 30 days");
    cr_expect_null(client_cache_find(c, &a));
    cr_expect_not_null(client_cache_find(c, &b));
    cr_expect_eq(client_cache_count(c, CC_T0 + 31 * CC_DAY - 1), 1);
    cr_expect_eq(client_cache_count(c, CC_T0 + 31 * CC_DAY), 0);
    /* An expired CMID that comes back counts as new. */
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0 + 40 * CC_DAY), 1);
    free(c);
}

Test(client_cache, refresh_extends_retention)
{
    struct client_cache *c = cc_new();
    struct guid a = cc_cmid(1), b = cc_cmid(2);
    client_cache_touch(c, &a, 25, CC_T0);
    client_cache_touch(c, &b, 25, CC_T0);
    cr_expect_eq(client_cache_touch(c, &a, 25, CC_T0 + 20 * CC_DAY), 2, "renewal at day 20");
    cr_expect_eq(client_cache_count(c, CC_T0 + 30 * CC_DAY), 1);
    cr_expect_not_null(client_cache_find(c, &a));
    cr_expect_null(client_cache_find(c, &b));
    cr_expect_eq(client_cache_count(c, CC_T0 + 50 * CC_DAY - 1), 1);
    cr_expect_eq(client_cache_count(c, CC_T0 + 50 * CC_DAY), 0);
    free(c);
}

Test(client_cache, touch_expires_before_counting)
{
    struct client_cache *c = cc_new();
    for (unsigned i = 0; i < 5; i++) {
        struct guid g = cc_cmid(i);
        client_cache_touch(c, &g, 25, CC_T0);
    }
    struct guid late = cc_cmid(99);
    cr_expect_eq(client_cache_touch(c, &late, 25, CC_T0 + 30 * CC_DAY), 1);
    free(c);
}

Test(client_cache, expiry_frees_room_before_eviction)
{
    /* A full cache whose oldest entries have expired keeps every live entry. */
    struct client_cache *c = cc_new();
    for (unsigned i = 0; i < 10; i++) {
        struct guid g = cc_cmid(i);
        client_cache_touch(c, &g, 5, i < 3 ? CC_T0 : CC_T0 + 10 * CC_DAY + i);
    }
    struct guid g = cc_cmid(50);
    cr_expect_eq(client_cache_touch(c, &g, 5, CC_T0 + 30 * CC_DAY), 8);
    for (unsigned i = 3; i < 10; i++) {
        struct guid h = cc_cmid(i);
        cr_expect_not_null(client_cache_find(c, &h), "CMID %u", i);
    }
    free(c);
}
