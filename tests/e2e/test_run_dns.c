/*
 * `kmsload run --target dns:example.test` against two `kmsload host` instances published by
 * dnsmasq: machines spread over the hosts by their SRV weights, stay with the host that
 * activated them (host caching), switch with host caching off, fail over to the other host when
 * one is stopped mid-run; every answer agrees with the model of the host that gave it.
 */
#include "dns_fixture.h"
#include "events_csv.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct support_scratch rd;

static void rd_init(void)
{
    support_scratch_init(&rd, "rundns");
}

static void rd_fini(void)
{
    support_scratch_fini(&rd);
}

TestSuite(run_dns, .init = rd_init, .fini = rd_fini, .timeout = 90);

struct rd_zone {
    struct support_host h1, h2; /* weights 60 and 20 */
    struct dns_fixture dns;
};

static void rd_zone_start(struct rd_zone *z, const char *clock)
{
    const char *const args[] = {"--clock", clock, NULL};
    support_host_start(&rd, &z->h1, args);
    support_host_start(&rd, &z->h2, args);
    char srv1[128], srv2[128];
    snprintf(srv1, sizeof srv1, "--srv-host=_vlmcs._tcp.example.test,h1.example.test,%u,0,60",
             z->h1.port);
    snprintf(srv2, sizeof srv2, "--srv-host=_vlmcs._tcp.example.test,h2.example.test,%u,0,20",
             z->h2.port);
    const char *const records[] = {srv1, srv2, "--host-record=h1.example.test,127.0.0.1",
                                   "--host-record=h2.example.test,127.0.0.1", NULL};
    dns_fixture_start(&z->dns, &rd, "example.test", records);
}

/* Starts kmsload run (not waited for), stdout and stderr into one file of the scratch. */
static struct support_child rd_run_start(const char *scenario, const char *out,
                                         const struct rd_zone *z, const char *extra)
{
    const char *args[16] = {"run",         scenario, "--target", "dns:example.test", "--dns-server",
                            z->dns.server, "--out",  out,        "--no-report",      "-q"};
    size_t n = 10;
    if (extra)
        args[n++] = extra;
    args[n] = NULL;
    struct support_child c;
    support_start(&rd, &c, args, SUPPORT_ERR_TO_OUT);
    return c;
}

static int rd_run_wait(struct support_child *c)
{
    int rc = support_finish(&rd, c, 60000);
    char *text = support_slurp(c->out, NULL);
    cr_log_info("run output: %s", text ? text : "");
    free(text);
    return rc;
}

static json_t *rd_summary(const char *out)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", out);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", path, jerr.text);
    return root;
}

static json_t *rd_host(json_t *root, const char *name)
{
    json_t *hosts = json_object_get(root, "hosts"), *h;
    size_t i;
    json_array_foreach(hosts, i, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "name")), name) == 0)
            return h;
    }
    cr_assert_fail("no host %s in summary.json", name);
    return NULL;
}

#define RD_MAX_MACHINES 1024

/* What events.csv says about each machine's hosts. */
struct rd_machines {
    int cached[RD_MAX_MACHINES];        /* host of the last activation (0 none, 1 h1, 2 h2) */
    unsigned switches[RD_MAX_MACHINES]; /* an answer from another host than the cached one */
    bool used[RD_MAX_MACHINES][3];
    unsigned refused_h2, failovers, unanswered_contacts; /* h2 gave no answer; then h1 did */
    uint64_t rows, disagreements;
};

static int rd_host_no(const char *name)
{
    if (strcmp(name, "h1.example.test") == 0)
        return 1;
    if (strcmp(name, "h2.example.test") == 0)
        return 2;
    return 0;
}

static void rd_read_events(const char *out, struct rd_machines *m)
{
    memset(m, 0, sizeof *m);
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/events.csv", out);
    struct events_csv_reader *r = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    int rc;
    /* A contact that got no answer from h2 is followed, same machine and simulated time, by one
     * to h1 (other machines' rows may come between). */
    static int64_t pending_sim[RD_MAX_MACHINES];
    for (size_t i = 0; i < RD_MAX_MACHINES; i++)
        pending_sim[i] = -1;
    while ((rc = events_csv_next(r, &row, err, sizeof err)) == 1) {
        const struct run_event *ev = &row.ev;
        m->rows++;
        cr_assert_lt(ev->machine, RD_MAX_MACHINES);
        int h = rd_host_no(row.host);
        cr_assert_neq(h, 0, "row %llu: host \"%s\"", (unsigned long long)ev->seq, row.host);
        m->used[ev->machine][h] = true;
        if (ev->model_checked && !ev->model_agrees)
            m->disagreements++;
        bool answered = kms_outcome_has_count(ev->outcome);
        /* Stopping h2 refuses new connections and may close or reset the ones it was serving. */
        bool no_answer = ev->outcome == KMS_OUTCOME_REFUSED || ev->outcome == KMS_OUTCOME_CLOSED ||
                         ev->outcome == KMS_OUTCOME_RESET;
        if (h == 2 && no_answer) {
            m->refused_h2++;
            pending_sim[ev->machine] = ev->sim_us;
        } else if (!answered) {
            m->unanswered_contacts++;
        }
        if (answered && h == 1 && pending_sim[ev->machine] == ev->sim_us) {
            m->failovers++;
            pending_sim[ev->machine] = -1;
        }
        if (answered && m->cached[ev->machine] && m->cached[ev->machine] != h)
            m->switches[ev->machine]++;
        if (ev->outcome == KMS_OUTCOME_ACTIVATED)
            m->cached[ev->machine] = h;
    }
    cr_assert_eq(rc, 0, "%s", err);
    events_csv_close(r);
}

static const char spread_ini[] = "[scenario]\n"
                                 "name = spread\n"
                                 "clock = virtual\n"
                                 "duration = 30d\n"
                                 "[population clients]\n"
                                 "product = win10-pro\n"
                                 "machines = 400\n"
                                 "join_over = 1d\n"
                                 "[population servers]\n"
                                 "product = ws2019-dc\n"
                                 "machines = 40\n"
                                 "join_over = 1d\n";

Test(run_dns, spreads_by_weight_and_keeps_the_cached_host)
{
    struct rd_zone z;
    rd_zone_start(&z, "client");
    char scenario[128], out[128];
    snprintf(scenario, sizeof scenario, "%s/spread.ini", rd.dir);
    snprintf(out, sizeof out, "%s/spread", rd.dir);
    support_write_file(scenario, spread_ini);
    struct support_child run = rd_run_start(scenario, out, &z, NULL);
    int rc = rd_run_wait(&run);
    cr_assert_eq(rc, 0, "exit %d", rc);

    json_t *root = rd_summary(out);
    json_t *h1 = rd_host(root, "h1.example.test"), *h2 = rd_host(root, "h2.example.test");
    cr_assert_gt(json_integer_value(json_object_get(h1, "requests")), 0);
    cr_assert_gt(json_integer_value(json_object_get(h2, "requests")), 0);
    cr_assert_eq(json_integer_value(json_object_get(h1, "model_mismatches")), 0);
    cr_assert_eq(json_integer_value(json_object_get(h2, "model_mismatches")), 0);
    /* Machines per host at the end: 440 first choices, h1 with probability 60/80. */
    json_t *days = json_object_get(root, "host_days");
    json_t *last = json_array_get(days, json_array_size(days) - 1);
    json_t *machines = json_object_get(last, "machines");
    long on1 = (long)json_integer_value(json_object_get(machines, "h1.example.test"));
    long on2 = (long)json_integer_value(json_object_get(machines, "h2.example.test"));
    cr_assert_eq(on1 + on2, 440, "every machine activated on one host (%ld + %ld)", on1, on2);
    double p = 0.75, mean = 440 * p, sd = sqrt(440 * p * (1 - p));
    cr_assert(fabs(on1 - mean) < 5 * sd, "h1 has %ld machines, expected %.0f ± %.0f", on1, mean,
              5 * sd);
    json_decref(root);

    struct rd_machines m;
    rd_read_events(out, &m);
    cr_assert_eq(m.disagreements, 0);
    cr_assert_eq(m.unanswered_contacts + m.refused_h2, 0);
    /* Host caching: once activated, a machine's every later answer comes from that host. */
    for (unsigned i = 0; i < 440; i++)
        cr_assert_eq(m.switches[i], 0, "machine %u left the host that activated it", i);
}

Test(run_dns, without_host_caching_machines_discover_at_every_contact)
{
    struct rd_zone z;
    rd_zone_start(&z, "client");
    char scenario[128], out[128];
    snprintf(scenario, sizeof scenario, "%s/spread.ini", rd.dir);
    snprintf(out, sizeof out, "%s/nocache", rd.dir);
    support_write_file(scenario, spread_ini);
    struct support_child run = rd_run_start(scenario, out, &z, "--no-host-caching");
    int rc = rd_run_wait(&run);
    cr_assert_eq(rc, 0, "exit %d", rc);
    struct rd_machines m;
    rd_read_events(out, &m);
    cr_assert_eq(m.disagreements, 0);
    /* 4 renewals each in 30 days, each a fresh weighted draw: most machines see both hosts
     * (a machine stays on one with probability 0.75^5 + 0.25^5 < 0.25). */
    unsigned both = 0;
    for (unsigned i = 0; i < 440; i++)
        both += m.used[i][1] && m.used[i][2];
    cr_assert_gt(both, 440 / 2, "%u machines used both hosts", both);
}

Test(run_dns, fails_over_when_a_host_is_stopped_mid_run)
{
    struct rd_zone z;
    rd_zone_start(&z, "real");
    char scenario[128], out[128];
    snprintf(scenario, sizeof scenario, "%s/arrivals.ini", rd.dir);
    snprintf(out, sizeof out, "%s/failover", rd.dir);
    /* Real clock: servers arrive at 100 a second for 3 s, each discovering a host. */
    support_write_file(scenario, "[scenario]\n"
                                 "name = arrivals\n"
                                 "clock = real\n"
                                 "duration = 3s\n"
                                 "[population servers]\n"
                                 "product = ws2019-dc\n"
                                 "machines = 300\n"
                                 "arrivals = 3s:100/s\n");
    struct support_child run = rd_run_start(scenario, out, &z, NULL);
    /* Stop h2 once the run has recorded its first 50 rows. */
    char events[600];
    snprintf(events, sizeof events, "%s/events.csv", out);
    uint64_t end = support_now_ms() + 10000;
    for (;;) {
        size_t len = 0;
        char *text = support_slurp(events, &len);
        unsigned lines = 0;
        for (size_t i = 0; text && i < len; i++)
            lines += text[i] == '\n';
        free(text);
        if (lines > 50)
            break;
        cr_assert_lt(support_now_ms(), end, "the run recorded %u lines in 10 s", lines);
        usleep(20000);
    }
    support_host_stop(&rd, &z.h2);
    int rc = rd_run_wait(&run);
    cr_assert_eq(rc, 0, "exit %d", rc);
    struct rd_machines m;
    rd_read_events(out, &m);
    cr_assert_eq(m.disagreements, 0);
    cr_assert_gt(m.refused_h2, 0, "h2 was stopped while machines still chose it");
    /* Every contact refused by h2 went on to h1 at once and got its answer there. */
    cr_assert_eq(m.failovers, m.refused_h2, "%u refused by h2, %u answered by h1 right after",
                 m.refused_h2, m.failovers);
    cr_assert_eq(m.unanswered_contacts, 0);
    /* Only the first servers (before either host counted 5) and the last arrivals (the run
     * ended before their contact) may be left unactivated. */
    json_t *root = rd_summary(out);
    json_t *servers = json_object_get(json_object_get(root, "populations"), "servers");
    json_int_t activated = json_integer_value(json_object_get(servers, "activated_machines"));
    json_int_t machines = json_integer_value(json_object_get(servers, "machines"));
    cr_assert_geq(activated, machines - 20, "%lld of %lld servers activated", (long long)activated,
                  (long long)machines);
    json_decref(root);
}

Test(run_dns, usage_and_dns_errors)
{
    struct rd_zone z;
    rd_zone_start(&z, "client");
    char scenario[128], out[128];
    snprintf(scenario, sizeof scenario, "%s/spread.ini", rd.dir);
    snprintf(out, sizeof out, "%s/err", rd.dir);
    support_write_file(scenario, spread_ini);
    /* No record under that name: the target is unreachable (3). */
    const char *args[] = {"run",          scenario,     "--target", "dns:none.example.test",
                          "--dns-server", z.dns.server, "--out",    out,
                          "-q",           NULL};
    pid_t pid = support_spawn(&rd.children, KMSLOAD_BINARY, args, 2, 2);
    int status;
    cr_assert_eq(support_wait(&rd.children, pid, 20000, &status), 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d", status);
    /* --dns-server without dns: and a bad server are usage errors (2). */
    const char *bad1[] = {"run", scenario, "--dns-server", "127.0.0.1", NULL};
    const char *bad2[] = {"run",          scenario,    "--target", "dns:example.test",
                          "--dns-server", "not-an-ip", NULL};
    const char *bad3[] = {"run", scenario, "--target", "dns:", NULL};
    const char *const *bad[] = {bad1, bad2, bad3};
    for (size_t i = 0; i < 3; i++) {
        pid = support_spawn(&rd.children, KMSLOAD_BINARY, bad[i], 2, 2);
        cr_assert_eq(support_wait(&rd.children, pid, 20000, &status), 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "case %zu: status %d", i, status);
    }
}

/* The shipped migration scenario on its embedded hosts and DNS timeline: every expectation met,
 * and the report's hosts chart data carries both hosts and the three timeline marks. */
Test(run_dns, migration_scenario_on_embedded_hosts)
{
    char out[128];
    snprintf(out, sizeof out, "%s/migration", rd.dir);
    char md[600];
    snprintf(md, sizeof md, "%s.md", out);
    const char *args[] = {"run",   KMSLOAD_SOURCE_DIR "/scenarios/migration-2012-to-2022.ini",
                          "--out", out,
                          "-q",    "--summary-md",
                          md,      NULL};
    struct support_child run;
    support_start(&rd, &run, args, SUPPORT_ERR_TO_OUT);
    int rc = rd_run_wait(&run);
    cr_assert_eq(rc, 0, "exit %d", rc);
    json_t *root = rd_summary(out);
    json_t *old = rd_host(root, "old"), *new_host = rd_host(root, "new");
    cr_assert_eq(json_integer_value(json_object_get(old, "model_mismatches")), 0);
    cr_assert_eq(json_integer_value(json_object_get(new_host, "model_mismatches")), 0);
    cr_assert_gt(json_integer_value(json_object_get(old, "refused_product")), 0);
    cr_assert_eq(json_integer_value(json_object_get(new_host, "refused_product")), 0);
    cr_assert_eq(json_real_value(json_object_get(new_host, "publish_at_s")), 7 * 86400.0);
    cr_assert_eq(json_real_value(json_object_get(old, "stop_at_s")), 45 * 86400.0);
    json_decref(root);
    /* Nothing reaches the old host after its switch-off but refusals. */
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/events.csv", out);
    struct events_csv_reader *r = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row row;
    unsigned after_off = 0;
    while (events_csv_next(r, &row, err, sizeof err) == 1) {
        if (strcmp(row.host, "old") == 0 && row.ev.sim_us >= 45LL * 86400 * 1000000) {
            after_off++;
            cr_assert_eq(row.ev.outcome, KMS_OUTCOME_REFUSED);
        }
        if (strcmp(row.host, "new") == 0)
            cr_assert_geq(row.ev.sim_us, 7LL * 86400 * 1000000, "new asked before its record");
    }
    events_csv_close(r);
    cr_assert_gt(after_off, 0);
    snprintf(path, sizeof path, "%s/charts/hosts_marks.dat", out);
    char *marks = support_slurp(path, NULL);
    cr_assert_not_null(marks);
    cr_assert(strstr(marks, "new: record added") && strstr(marks, "old: record removed") &&
                  strstr(marks, "old: switched off"),
              "%s", marks);
    free(marks);
    snprintf(path, sizeof path, "%s/charts/hosts.dat", out);
    char *data = support_slurp(path, NULL);
    cr_assert_not_null(data);
    cr_assert(strstr(data, "\"old windows\"") && strstr(data, "\"new windows\""), "%.200s", data);
    free(data);
    /* The Markdown summary has a row per host; nothing caches the old host at the end. */
    char *text = support_slurp(md, NULL);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "### Hosts") && strstr(text, "| new | "), "%s", text);
    const char *old_row = strstr(text, "| old | ");
    cr_assert_not_null(old_row);
    const char *eol = strchr(old_row, '\n');
    cr_assert(eol && eol - old_row > 6 && strncmp(eol - 6, " | 0 |", 6) == 0, "%.200s", old_row);
    free(text);
}

/* Issue 19 item 8: one published host dead all run long. Every contact is answered after
 * failover, so the run passes (error_rate counts contacts no host answered); the dead host's
 * line, summary.json and the hosts chart say what it did (never answered, connection failures,
 * down since), counts are per host; failovers = 0 fails for a user who wants none. */
Test(run_dns, a_dead_published_host_reads_clearly)
{
    struct rd_zone z;
    rd_zone_start(&z, "real");
    support_host_stop(&rd, &z.h2); /* published in DNS, nobody listening */
    char scenario[128], out[128];
    support_scratch_path(&rd, "dead.ini", scenario, sizeof scenario);
    support_scratch_path(&rd, "dead", out, sizeof out);
    support_write_file(scenario, "[scenario]\n"
                                 "name = dead\n"
                                 "clock = real\n"
                                 "duration = 2s\n"
                                 "host_caching = off\n"
                                 "[population clients]\n"
                                 "product = win10-pro\n"
                                 "machines = 40\n"
                                 "arrivals = 2s:20/s\n"
                                 "[expect]\n"
                                 "error_rate = 0\n");
    const char *args[] = {"run",
                          scenario,
                          "--target",
                          "dns:example.test",
                          "--dns-server",
                          z.dns.server,
                          "--out",
                          out,
                          "--no-report",
                          "--set",
                          "expect.failovers=0",
                          NULL};
    struct support_result r = support_run(&rd, 60000, 0, args);
    cr_log_info("%s%s", r.out, r.err);
    cr_assert_eq(r.status, 1, "only failovers = 0 fails: %s", r.out);
    cr_expect(strstr(r.out, "[PASS] error_rate \u2264 0 — error rate 0 (0 of "), "%s", r.out);
    cr_expect(strstr(r.out, "[FAIL] failovers \u2264 0 (--set) — "), "%s", r.out);
    cr_expect(strstr(r.out, "host h2.example.test "), "%s", r.out);
    cr_expect(strstr(r.out, ", 0 answered, "), "%s", r.out);
    cr_expect(strstr(r.out, "never answered, down since "), "%s", r.out);
    cr_expect(strstr(r.out, "(connect-refused "), "%s", r.out);
    cr_expect_null(strstr(r.out, "  windows     max count"), "counts are per host: %s", r.out);
    json_t *root = rd_summary(out);
    json_t *h2 = rd_host(root, "h2.example.test"), *h1 = rd_host(root, "h1.example.test");
    json_int_t failures = json_integer_value(json_object_get(h2, "connection_failures"));
    cr_expect_gt(failures, 0, "machines chose the dead host");
    cr_expect_eq(json_integer_value(json_object_get(h2, "answered")), 0);
    cr_expect_eq(json_integer_value(json_object_get(h2, "failovers")), failures);
    cr_expect(json_is_number(json_object_get(h2, "down_since_wall_s")));
    cr_expect(json_is_null(json_object_get(h1, "down_since_sim_s")));
    cr_expect_eq(json_integer_value(json_object_get(h1, "connection_failures")), 0);
    json_decref(root);
    /* The report's hosts chart data names the dead host too. */
    const char *rep[] = {"report", out, NULL};
    struct support_result rr = support_run(&rd, 60000, 0, rep);
    cr_expect_eq(rr.status, 0, "%s", rr.err);
    char path[300];
    snprintf(path, sizeof path, "%s/charts/hosts.dat", out);
    char *dat = support_slurp(path, NULL);
    cr_expect(dat && strstr(dat, "\"h2.example.test never answered (no count)\""), "%s",
              dat ? dat : "(no hosts.dat)");
    free(dat);
    support_result_free(&rr);
    /* A published host no request went to (a backup failover never reached) is drawn too. */
    root = rd_summary(out);
    json_array_append_new(
        json_object_get(root, "hosts"),
        json_pack("{s:s, s:i, s:i}", "name", "h3.example.test", "requests", 0, "answered", 0));
    char summary[300];
    snprintf(summary, sizeof summary, "%s/summary.json", out);
    cr_assert_eq(json_dump_file(root, summary, JSON_INDENT(2)), 0);
    json_decref(root);
    rr = support_run(&rd, 60000, 0, rep);
    cr_expect_eq(rr.status, 0, "%s", rr.err);
    dat = support_slurp(path, NULL);
    cr_expect(dat && strstr(dat, "\"h3.example.test never asked (no request)\""), "%s",
              dat ? dat : "(no hosts.dat)");
    cr_expect(dat && strstr(dat, "\"h2.example.test never answered (no count)\""), "%s",
              dat ? dat : "(no hosts.dat)");
    free(dat);
    support_result_free(&rr);
    support_result_free(&r);
}
