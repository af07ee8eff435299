/* Fleets: reproducible CMIDs, disjoint shards, clones, join and leave times, the contact queue. */
#include "catalog.h"
#include "fleet.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct catalog fleet_cat;

static void fleet_setup(void)
{
    char err[256];
    cr_assert_eq(catalog_parse(&fleet_cat, catalog_builtin_ini, "built-in", err, sizeof err), 0);
}

static void fleet_teardown(void)
{
    catalog_free(&fleet_cat);
}

static struct scenario *fleet_scenario(uint32_t clients, uint32_t servers)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    strcpy(sc->name, "fleet-test");
    strcpy(sc->path, "fleet-test.ini");
    sc->seed = 7;
    sc->duration_us = 30LL * 86400 * 1000000;
    sc->tick_us = 60000000;
    sc->concurrency = 16;
    sc->n_pops = 2;
    strcpy(sc->pops[0].name, "clients");
    strcpy(sc->pops[0].product, "win10-pro");
    sc->pops[0].machines = clients;
    sc->pops[0].join_over_us = 3600LL * 1000000;
    strcpy(sc->pops[1].name, "servers");
    strcpy(sc->pops[1].product, "ws2019-dc");
    sc->pops[1].machines = servers;
    return sc;
}

TestSuite(fleet, .init = fleet_setup, .fini = fleet_teardown);

Test(fleet, same_seed_same_fleet_other_seed_other_cmids)
{
    struct scenario *sc = fleet_scenario(100, 10);
    struct fleet a, b;
    char err[256];
    cr_assert_eq(fleet_build(&a, sc, &fleet_cat, 0, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fleet_build(&b, sc, &fleet_cat, 0, 1, err, sizeof err), 0);
    cr_assert_eq(a.n, 110);
    for (size_t i = 0; i < a.n; i++)
        cr_assert(guid_equal(&a.machines[i].cmid, &b.machines[i].cmid));
    /* Distinct machines have distinct CMIDs, version-4 shaped. */
    for (size_t i = 0; i < a.n; i++) {
        cr_assert_eq(a.machines[i].cmid.b[7] >> 4, 4);
        for (size_t j = i + 1; j < a.n; j++)
            cr_assert_not(guid_equal(&a.machines[i].cmid, &a.machines[j].cmid), "%zu %zu", i, j);
    }
    fleet_free(&b);
    sc->seed = 8;
    cr_assert_eq(fleet_build(&b, sc, &fleet_cat, 0, 1, err, sizeof err), 0);
    cr_assert_not(guid_equal(&a.machines[0].cmid, &b.machines[0].cmid));
    fleet_free(&a);
    fleet_free(&b);
    free(sc);
}

Test(fleet, shards_are_disjoint_and_add_up)
{
    struct scenario *sc = fleet_scenario(1000, 37);
    struct fleet whole, parts[3];
    char err[256];
    cr_assert_eq(fleet_build(&whole, sc, &fleet_cat, 0, 1, err, sizeof err), 0);
    size_t total = 0;
    char *seen = calloc(whole.n, 1);
    for (unsigned k = 0; k < 3; k++) {
        cr_assert_eq(fleet_build(&parts[k], sc, &fleet_cat, k, 3, err, sizeof err), 0);
        total += parts[k].n;
        for (size_t i = 0; i < parts[k].n; i++) {
            const struct machine *m = &parts[k].machines[i];
            cr_assert_eq(m->id % 3, k);
            cr_assert_not(seen[m->id], "machine %u in two shards", m->id);
            seen[m->id] = 1;
            /* The same machine has the same CMID whichever shard runs it. */
            cr_assert(guid_equal(&m->cmid, &whole.machines[m->id].cmid));
        }
    }
    cr_assert_eq(total, whole.n);
    struct fleet bad;
    cr_assert_eq(fleet_build(&bad, sc, &fleet_cat, 3, 3, err, sizeof err), -1);
    cr_assert(strstr(err, "3/3"), "%s", err);
    free(seen);
    fleet_free(&whole);
    for (unsigned k = 0; k < 3; k++)
        fleet_free(&parts[k]);
    free(sc);
}

Test(fleet, clones_reuse_an_earlier_cmid)
{
    struct scenario *sc = fleet_scenario(400, 0);
    sc->n_pops = 1;
    sc->pops[0].cloned_share = 0.25;
    struct fleet f;
    char err[256];
    cr_assert_eq(fleet_build(&f, sc, &fleet_cat, 0, 1, err, sizeof err), 0);
    size_t clones = 0, distinct = 0;
    for (size_t i = 0; i < f.n; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = guid_equal(&f.machines[i].cmid, &f.machines[j].cmid);
        if (f.machines[i].flags & MACHINE_CLONE) {
            clones++;
            cr_assert(dup, "clone %zu carries a CMID nobody had", i);
        } else {
            distinct++;
            cr_assert_not(dup, "machine %zu is not a clone but repeats a CMID", i);
        }
    }
    cr_assert(clones > 60 && clones < 140, "%zu clones of 400 at 25 %%", clones);
    fleet_free(&f);
    free(sc);
}

Test(fleet, join_spread_and_queue_order)
{
    struct scenario *sc = fleet_scenario(60, 0);
    sc->n_pops = 1;
    struct fleet f;
    char err[256];
    cr_assert_eq(fleet_build(&f, sc, &fleet_cat, 0, 1, err, sizeof err), 0);
    int64_t last = -1;
    long i;
    size_t popped = 0;
    while ((i = fleet_pop_due(&f, SCENARIO_NEVER - 1)) >= 0) {
        const struct machine *m = &f.machines[i];
        cr_assert_geq(m->next_us, last);
        /* Machine k joins at k/60 of the hour. */
        cr_assert_eq(m->next_us, (int64_t)m->id * 60 * 1000000);
        last = m->next_us;
        popped++;
    }
    cr_assert_eq(popped, 60);
    cr_assert_eq(fleet_next_due(&f), SCENARIO_NEVER);
    fleet_schedule(&f, 5, 100);
    fleet_schedule(&f, 3, 50);
    fleet_schedule(&f, 5, 10); /* rescheduling moves it */
    cr_assert_eq(fleet_next_due(&f), 10);
    cr_assert_eq(fleet_pop_due(&f, 9), -1);
    cr_assert_eq(fleet_pop_due(&f, 10), 5);
    cr_assert_eq(fleet_pop_due(&f, 100), 3);
    cr_assert_eq(fleet_pop_due(&f, 100), -1);
    fleet_free(&f);
    free(sc);
}

Test(fleet, leavers_and_open_arrivals)
{
    struct scenario *sc = fleet_scenario(1000, 0);
    sc->n_pops = 2;
    sc->pops[0].leave_share = 0.3;
    sc->pops[0].leave_at_us = 10LL * 86400 * 1000000;
    /* Open: 0 → 10 arrivals/s over 10 s, then 10/s for 5 s: 50 + 50 = 100 arrivals, capped 80. */
    strcpy(sc->pops[1].product, "win10-ent");
    sc->pops[1].open = true;
    sc->pops[1].machines = 80;
    sc->pops[1].n_stages = 2;
    sc->pops[1].stages[0] = (struct scenario_stage){10000000, 0, 10};
    sc->pops[1].stages[1] = (struct scenario_stage){5000000, 10, 10};
    struct fleet f;
    char err[256];
    cr_assert_eq(fleet_build(&f, sc, &fleet_cat, 0, 1, err, sizeof err), 0, "%s", err);
    size_t leavers = 0;
    for (size_t i = 0; i < 1000; i++)
        if (f.machines[i].leave_us != SCENARIO_NEVER) {
            leavers++;
            cr_assert_eq(f.machines[i].leave_us, sc->pops[0].leave_at_us);
        }
    cr_assert(leavers > 240 && leavers < 360, "%zu leavers of 1000 at 30 %%", leavers);
    /* Arrival k is at the time the ramp's cumulative count reaches k + 0.5. */
    const struct machine *first = &f.machines[1000];
    cr_assert(first->next_us > 900000 && first->next_us < 1100000, "first arrival at %lld",
              (long long)first->next_us);          /* 0.5 = t²/2 → t = 1 s */
    const struct machine *m60 = &f.machines[1060]; /* 60.5 arrivals: 10 s ramp + 1.05 s */
    cr_assert(m60->next_us > 11000000 && m60->next_us < 11100000, "arrival 60 at %lld",
              (long long)m60->next_us);
    for (size_t i = 1001; i < f.n; i++)
        cr_assert_gt(f.machines[i].next_us, f.machines[i - 1].next_us);
    fleet_free(&f);
    free(sc);
}

Test(fleet, unknown_product_is_named)
{
    struct scenario *sc = fleet_scenario(1, 0);
    strcpy(sc->pops[1].product, "windows-95");
    sc->pops[1].line = 12;
    struct fleet f;
    char err[256];
    cr_assert_eq(fleet_build(&f, sc, &fleet_cat, 0, 1, err, sizeof err), -1);
    cr_assert(strstr(err, "windows-95") && strstr(err, ":12:") && strstr(err, "servers"), "%s",
              err);
    free(sc);
}
