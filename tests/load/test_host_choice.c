/*
 * How a machine chooses its KMS host: a pinned host alone, the cached host first (even after its
 * record is withdrawn), only the records published at that time, RFC 2782 order for the rest;
 * and [host NAME] sections of a scenario.
 */
#include "host_choice.h"
#include "scenario.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void set_init(struct host_set *s)
{
    memset(s, 0, sizeof *s);
    s->discovery = true;
    s->caching = true;
    const char *names[3] = {"old", "new", "backup"};
    const uint16_t prio[3] = {0, 0, 10};
    for (size_t i = 0; i < 3; i++) {
        snprintf(s->hosts[i].name, sizeof s->hosts[i].name, "%s", names[i]);
        s->hosts[i].priority = prio[i];
        s->hosts[i].weight = 50;
        s->hosts[i].published_until_us = INT64_MAX;
        s->hosts[i].up_until_us = INT64_MAX;
    }
    s->n = 3;
}

Test(host_choice, pinned_host_alone)
{
    struct host_set s;
    set_init(&s);
    struct pcg32 rng;
    pcg32_seed(&rng, 1, 1);
    size_t order[HOST_SET_MAX];
    cr_assert_eq(host_choice_order(&s, 0, 0, 2, &rng, order), 1);
    cr_assert_eq(order[0], 2);
    cr_assert_eq(host_set_find(&s, "new"), 1);
    cr_assert_eq(host_set_find(&s, "nope"), HOST_NONE);
}

Test(host_choice, cached_host_first_then_the_others_by_priority)
{
    struct host_set s;
    set_init(&s);
    for (uint32_t m = 0; m < 200; m++) {
        struct pcg32 rng;
        host_choice_stream(&rng, 7, m, 1000);
        size_t order[HOST_SET_MAX];
        cr_assert_eq(host_choice_order(&s, 1000, 1, HOST_NONE, &rng, order), 3);
        cr_assert_eq(order[0], 1);
        cr_assert_eq(order[1], 0);
        cr_assert_eq(order[2], 2, "the priority-10 record comes last");
    }
    /* Caching off: the cached host is only one of the draw. */
    s.caching = false;
    unsigned old_first = 0;
    for (uint32_t m = 0; m < 2000; m++) {
        struct pcg32 rng;
        host_choice_stream(&rng, 7, m, 1000);
        size_t order[HOST_SET_MAX];
        cr_assert_eq(host_choice_order(&s, 1000, 1, HOST_NONE, &rng, order), 3);
        old_first += order[0] == 0;
        cr_assert_eq(order[2], 2);
    }
    cr_assert(old_first > 850 && old_first < 1150, "old first %u of 2000 (equal weights)",
              old_first);
}

Test(host_choice, only_published_records_and_the_cached_host)
{
    struct host_set s;
    set_init(&s);
    s.hosts[0].published_until_us = 30; /* old withdrawn at 30 */
    s.hosts[1].published_from_us = 7;   /* new published at 7 */
    s.hosts[2].published_until_us = 0;  /* backup never published */
    struct pcg32 rng;
    pcg32_seed(&rng, 2, 2);
    size_t order[HOST_SET_MAX];
    cr_assert_eq(host_choice_order(&s, 0, HOST_NONE, HOST_NONE, &rng, order), 1);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(host_choice_order(&s, 40, HOST_NONE, HOST_NONE, &rng, order), 1);
    cr_assert_eq(order[0], 1);
    /* A machine caching the withdrawn old host still asks it first. */
    cr_assert_eq(host_choice_order(&s, 40, 0, HOST_NONE, &rng, order), 2);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 1);
    s.hosts[1].published_until_us = 35;
    cr_assert_eq(host_choice_order(&s, 40, HOST_NONE, HOST_NONE, &rng, order), 0,
                 "nothing published, nothing cached");
    cr_assert(host_published(&s, 1, 7) && !host_published(&s, 1, 6) && !host_published(&s, 1, 35));
}

Test(host_choice, one_configured_host_is_no_discovery)
{
    struct host_set s;
    memset(&s, 0, sizeof s);
    s.n = 1;
    s.hosts[0].published_until_us = INT64_MAX;
    struct pcg32 rng;
    pcg32_seed(&rng, 3, 3);
    size_t order[HOST_SET_MAX];
    cr_assert_eq(host_choice_order(&s, 5, HOST_NONE, HOST_NONE, &rng, order), 1);
    cr_assert_eq(order[0], 0);
}

static const char base[] = "[scenario]\nname = t\nduration = 10d\n"
                           "[population p]\nproduct = win10-pro\nmachines = 3\n";

Test(host_choice, scenario_host_sections)
{
    static struct scenario sc;
    char err[512];
    char text[2048];
    snprintf(text, sizeof text,
             "%s[host old]\nhost_key = ws2012r2\npriority = 1\nweight = 20\nwithdraw_at = 30d\n"
             "stop_at = 45d\n[host new]\nproducts = win10\npublish_at = 7d\nfaults = drop=0.01\n",
             base);
    cr_assert_eq(scenario_parse(&sc, text, "t.ini", NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sc.n_kms_hosts, 2);
    cr_assert_str_eq(sc.kms_hosts[0].name, "old");
    cr_assert_str_eq(sc.kms_hosts[0].host_key, "ws2012r2");
    cr_assert_eq(sc.kms_hosts[0].priority, 1);
    cr_assert_eq(sc.kms_hosts[0].weight, 20);
    cr_assert_eq(sc.kms_hosts[0].withdraw_at_us, 30LL * 86400 * 1000000);
    cr_assert_eq(sc.kms_hosts[0].stop_at_us, 45LL * 86400 * 1000000);
    cr_assert_eq(sc.kms_hosts[1].publish_at_us, 7LL * 86400 * 1000000);
    cr_assert_eq(sc.kms_hosts[1].withdraw_at_us, SCENARIO_NEVER);
    cr_assert_eq(sc.kms_hosts[1].stop_at_us, SCENARIO_NEVER);
    cr_assert_str_eq(sc.kms_hosts[1].products, "win10");
    cr_assert(sc.host_caching, "host caching is on by default");

    const char *bad[] = {"[host old]\n[host old]\n",
                         "[host a b]\n",
                         "[host x]\nweight = -1\n",
                         "[host x]\nbogus = 1\n",
                         "[expect]\nhost_reaches_5.new = 3d\n",
                         "[expect]\nmax_unactivated = soon\n"};
    const char *said[] = {"already defined", "[host NAME]", "weight",
                          "unknown key",     "HOST.APP",    "max_unactivated"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s", base, bad[i]);
        cr_assert_neq(scenario_parse(&sc, text, "t.ini", NULL, 0, err, sizeof err), 0, "case %zu",
                      i);
        cr_assert(strstr(err, said[i]) && strstr(err, "t.ini:"), "case %zu: %s", i, err);
    }
    snprintf(text, sizeof text,
             "%s[expect]\nhost_reaches_25.new.windows = 8d\nhost_refused.old = 10\n"
             "host_machines_at_end.old = 0\nmax_unactivated = 2d\n",
             base);
    cr_assert_eq(scenario_parse(&sc, text, "t.ini", NULL, 0, err, sizeof err), 0, "%s", err);
    const struct scenario_expectation *reach = NULL, *unact = NULL;
    for (size_t i = 0; i < sc.n_expects; i++) {
        if (sc.expects[i].kind == EXPECT_HOST_REACHES_25)
            reach = &sc.expects[i];
        if (sc.expects[i].kind == EXPECT_MAX_UNACTIVATED)
            unact = &sc.expects[i];
    }
    cr_assert(reach && unact);
    cr_assert_str_eq(reach->subject, "new.windows");
    cr_assert_eq(reach->value, 8.0 * 86400e6);
    cr_assert_eq(unact->value, 2.0 * 86400e6);
}
