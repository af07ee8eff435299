/* The model's expected counts, with and without requests in flight. */
#include "catalog.h"
#include "model.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct guid model_cmid(unsigned i)
{
    struct guid g;
    memset(g.b, 0, sizeof g.b);
    g.b[0] = (uint8_t)i;
    g.b[1] = (uint8_t)(i >> 8);
    g.b[15] = 0x5a;
    return g;
}

static struct model *model_new(struct catalog *cat)
{
    char err[256];
    cr_assert_eq(catalog_parse(cat, catalog_builtin_ini, "built-in", err, sizeof err), 0);
    struct model *m = malloc(sizeof *m);
    cr_assert_eq(model_init(m, cat), 0);
    return m;
}

#define DAY (86400ULL * 10000000ULL)

Test(model, sequential_requests_are_judged_exactly)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    const struct catalog_app *win = catalog_find_app(&cat, "windows");
    size_t app = (size_t)(win - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    for (unsigned i = 1; i <= 60; i++) {
        model_sent(m, app, 25, &t);
        unsigned expected = i <= 50 ? i : 50;
        struct guid g = model_cmid(i);
        model_answered(m, &t, &g, 25, 1000 * DAY, expected, &v);
        cr_assert(v.agrees, "machine %u: %s", i, v.reason);
        cr_assert_eq(v.expected_lo, expected);
        cr_assert_eq(v.expected_hi, expected);
    }
    /* A wrong count is named with the reason. */
    model_sent(m, app, 25, &t);
    struct guid again = model_cmid(3);
    model_answered(m, &t, &again, 25, 1000 * DAY, 51, &v);
    cr_assert_not(v.agrees);
    cr_assert(strstr(v.reason, "host returned 51") && strstr(v.reason, "50..50"), "%s", v.reason);
    free(m);
    catalog_free(&cat);
}

Test(model, expiry_after_thirty_days)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "office2013") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    for (unsigned i = 1; i <= 4; i++) {
        struct guid g = model_cmid(i);
        model_sent(m, app, 5, &t);
        model_answered(m, &t, &g, 5, 0, i, &v);
        cr_assert(v.agrees);
    }
    struct guid late = model_cmid(99);
    model_sent(m, app, 5, &t);
    model_answered(m, &t, &late, 5, 30 * DAY, 1, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_hi, 1, "the first four expired exactly 30 days after their request");
    free(m);
    catalog_free(&cat);
}

Test(model, concurrency_widens_the_range_honestly)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t[3];
    struct model_verdict v;
    /* Three new machines in flight together: any order at the host is genuine. */
    for (int i = 0; i < 3; i++)
        model_sent(m, app, 25, &t[i]);
    struct guid g2 = model_cmid(2), g0 = model_cmid(0), g1 = model_cmid(1);
    model_answered(m, &t[2], &g2, 25, DAY, 3, &v); /* processed last at the host */
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 1);
    cr_assert_eq(v.expected_hi, 3);
    model_answered(m, &t[0], &g0, 25, DAY, 1, &v);
    cr_assert(v.agrees, "%s", v.reason);
    model_answered(m, &t[1], &g1, 25, DAY, 2, &v);
    cr_assert(v.agrees, "%s", v.reason);
    /* A count no ordering explains is still caught. */
    model_sent(m, app, 25, &t[0]);
    struct guid g3 = model_cmid(3);
    model_answered(m, &t[0], &g3, 25, DAY, 7, &v);
    cr_assert_not(v.agrees);
    cr_assert_eq(v.expected_lo, 4);
    cr_assert_eq(v.expected_hi, 4);
    /* Failures leave the caches alone. */
    model_sent(m, app, 25, &t[0]);
    model_failed(m, &t[0]);
    cr_assert_eq(m->apps[app].in_flight, 0);
    cr_assert_eq(m->apps[app].cache.n, 4);
    free(m);
    catalog_free(&cat);
}

Test(model, lost_answers_may_have_been_counted)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    struct guid g0 = model_cmid(0), g1 = model_cmid(1), g2 = model_cmid(2);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g0, 25, DAY, 1, &v);
    /* g1's request reached the host but its answer was lost: counted or not, both are genuine. */
    model_sent(m, app, 25, &t);
    model_lost(m, &t, &g1, 25, DAY);
    cr_assert_eq(m->apps[app].in_flight, 0);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g2, 25, DAY, 3, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 2);
    cr_assert_eq(v.expected_hi, 3);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g2, 25, DAY, 4, &v);
    cr_assert_not(v.agrees);
    cr_assert(strstr(v.reason, "1 lost answers"), "%s", v.reason);
    /* Once g1 is answered, the model is sure again. */
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g1, 25, 2 * DAY, 3, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_hi, 3);
    cr_assert_eq(m->apps[app].unsure.n, 0);
    /* A lost renewal keeps a CMID possibly alive past its last answer's 30 days. */
    model_sent(m, app, 25, &t);
    model_lost(m, &t, &g0, 25, 10 * DAY);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g2, 25, 35 * DAY, 2, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 1); /* g2: the answers of days 1 and 2 are 30 days old */
    cr_assert_eq(v.expected_hi, 2); /* the host may have refreshed g0 on day 10 */
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g2, 25, 40 * DAY, 1, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_hi, 1, "day 40: g0's lost request of day 10 expired too");
    free(m);
    catalog_free(&cat);
}

Test(model, baseline_judges_the_change_on_a_busy_host)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    m->baseline = true;
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    /* The host already counts 30 real machines: our first machine sees 31. */
    struct guid g = model_cmid(1);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY, 31, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(m->apps[app].offset, 30);
    for (unsigned i = 2; i <= 25; i++) {
        g = model_cmid(i);
        model_sent(m, app, 25, &t);
        unsigned expected = 30 + i > 50 ? 50 : 30 + i;
        model_answered(m, &t, &g, 25, DAY, expected, &v);
        cr_assert(v.agrees, "machine %u: %s", i, v.reason);
        cr_assert_eq(v.expected_hi, expected);
    }
    /* A host that stops counting our machines is caught, with the baseline in the reason. */
    m->apps[app].offset = 10;
    g = model_cmid(100);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY, 30, &v);
    cr_assert_not(v.agrees);
    cr_assert(strstr(v.reason, "10 machines the host counted"), "%s", v.reason);
    free(m);
    catalog_free(&cat);
}

/* Started from a reconnaissance (issue 19 item 2): the count the host gave its stable CMID. */
Test(model, a_reconnaissance_count_is_the_start)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    /* A fresh host but for the reconnaissance's CMID: exactly one more than the run's own. */
    model_start(m, app, 1, DAY);
    for (unsigned i = 1; i <= 30; i++) {
        struct guid g = model_cmid(i);
        model_sent(m, app, 25, &t);
        model_answered(m, &t, &g, 25, DAY + i, i + 1, &v);
        cr_assert(v.agrees, "machine %u: %s", i, v.reason);
        cr_assert_eq(v.expected_lo, i + 1);
        cr_assert_eq(v.expected_hi, i + 1);
    }
    /* A host that returns the run's count alone (it lost the reconnaissance CMID) is caught. */
    struct guid g = model_cmid(31);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY + 31, 31, &v);
    cr_assert_not(v.agrees);
    cr_assert(strstr(v.reason, "1 machines the host counted at the reconnaissance"), "%s",
              v.reason);
    /* Long after the reconnaissance its CMID has left, as the run's machines have. */
    g = model_cmid(1);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, 70 * DAY, 1, &v);
    cr_assert(v.agrees, "%s", v.reason);
    free(m);
    catalog_free(&cat);
}

/* A host past the thresholds, whose counted machines may include the run's own (the same seed
 * earlier): any count between "only the reconnaissance CMID" and "all of them" is genuine, never
 * more than the cache holds. */
Test(model, a_host_past_its_thresholds_is_judged_between_bounds)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    model_start(m, app, 31, DAY);
    struct guid g = model_cmid(1);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY + 1, 31, &v); /* already counted: no growth */
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 2);
    cr_assert_eq(v.expected_hi, 32);
    for (unsigned i = 2; i <= 30; i++) {
        g = model_cmid(i);
        model_sent(m, app, 25, &t);
        model_answered(m, &t, &g, 25, DAY + i, 31 + i > 50 ? 50 : 31 + i, &v);
        cr_assert(v.agrees, "machine %u: %s", i, v.reason);
        cr_assert_leq(v.expected_hi, 50, "never more than the cache (2 x 25)");
    }
    /* Fewer than the run's own distinct CMIDs plus the reconnaissance's: not a genuine host. */
    g = model_cmid(31);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY + 31, 20, &v);
    cr_assert_not(v.agrees, "%s", v.reason);
    free(m);
    catalog_free(&cat);
}

Test(model, a_shard_judges_counts_from_below)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    m->partial = true;
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    /* Other shards' machines raise the host's count: anything from our own count up is fine. */
    struct guid g = model_cmid(1);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY, 17, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 1);
    cr_assert_eq(v.expected_hi, 50);
    g = model_cmid(2);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY, 1, &v); /* below our own two distinct machines */
    cr_assert_not(v.agrees, "%s", v.reason);
    free(m);
    catalog_free(&cat);
}

Test(model, servers_only_cap_at_ten_and_a_client_lifts_it)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t;
    struct model_verdict v;
    /* 14 servers (N_Policy 5): a genuine host answers 1..10, 10, 10, 10 (spec §10). */
    for (unsigned i = 1; i <= 14; i++) {
        struct guid g = model_cmid(i);
        model_sent(m, app, 5, &t);
        unsigned expected = i <= 10 ? i : 10;
        model_answered(m, &t, &g, 5, DAY + i, expected, &v);
        cr_assert(v.agrees, "server %u: %s", i, v.reason);
        cr_assert_eq(v.expected_hi, expected, "server %u", i);
    }
    /* The host that does not cap (1..14) is caught. */
    struct guid g = model_cmid(15);
    model_sent(m, app, 5, &t);
    model_answered(m, &t, &g, 5, DAY + 15, 11, &v);
    cr_assert_not(v.agrees, "%s", v.reason);
    cr_assert(strstr(v.reason, "capacity 10"), "%s", v.reason);
    /* One Windows client: 11, and the cap is 50 from now on. */
    g = model_cmid(100);
    model_sent(m, app, 25, &t);
    model_answered(m, &t, &g, 25, DAY + 16, 11, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 11);
    for (unsigned i = 0; i < 45; i++) {
        g = model_cmid(200 + i);
        model_sent(m, app, 5, &t);
        unsigned expected = 12 + i > 50 ? 50 : 12 + i;
        model_answered(m, &t, &g, 5, DAY + 20 + i, expected, &v);
        cr_assert(v.agrees, "server %u after the client: %s", i, v.reason);
        cr_assert_eq(v.expected_hi, expected);
    }
    free(m);
    catalog_free(&cat);
}

Test(model, a_client_in_flight_may_have_lifted_the_cap_already)
{
    struct catalog cat;
    struct model *m = model_new(&cat);
    size_t app = (size_t)(catalog_find_app(&cat, "windows") - cat.apps);
    struct model_ticket t, client, server;
    struct model_verdict v;
    for (unsigned i = 1; i <= 10; i++) {
        struct guid g = model_cmid(i);
        model_sent(m, app, 5, &t);
        model_answered(m, &t, &g, 5, DAY, i, &v);
    }
    /* A client and an 11th server in flight together. The host may process the client first
     * (server gets 12) or the server first (server gets 10, evicting the oldest). */
    struct guid gc = model_cmid(50), gs = model_cmid(51);
    model_sent(m, app, 25, &client);
    model_sent(m, app, 5, &server);
    model_answered(m, &server, &gs, 5, DAY, 12, &v);
    cr_assert(v.agrees, "%s", v.reason);
    cr_assert_eq(v.expected_lo, 10);
    cr_assert_eq(v.expected_hi, 12);
    model_answered(m, &client, &gc, 25, DAY, 12, &v);
    cr_assert(v.agrees, "%s", v.reason);
    free(m);
    catalog_free(&cat);
}
