/*
 * `kmsload fleet` as an administrator runs it: a round trip (a scenario run against `kmsload host
 * --log`, the log imported, the scenario's populations and the host's own counts back), names
 * hashed unless --keep-names, and bad input named with its line. Every child is bounded in time.
 */
#include "../eventlog/kms_log_gen.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_children fc_children;
static char fc_dir[64];
static unsigned fc_seq;

static void fc_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    memset(&fc_children, 0, sizeof fc_children);
    snprintf(fc_dir, sizeof fc_dir, "/tmp/kmsload-fleetcli-XXXXXX");
    cr_assert_not_null(mkdtemp(fc_dir), "mkdtemp: %s", strerror(errno));
    fc_seq = 0;
}

static void fc_fini(void)
{
    support_kill_all(&fc_children);
    support_remove_tree(fc_dir);
}

TestSuite(fleet_cli, .init = fc_init, .fini = fc_fini, .timeout = 120);

static void fc_path(char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "%s/%s.%u", fc_dir, what, fc_seq++);
}

struct fc_result {
    int status;
    char *out, *err;
};

static struct fc_result fc_run(const char *first, ...)
{
    const char *args[32];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    char out_path[128], err_path[128];
    fc_path(out_path, sizeof out_path, "out");
    fc_path(err_path, sizeof err_path, "err");
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(out_fd >= 0 && err_fd >= 0);
    pid_t pid = support_spawn(&fc_children, KMSLOAD_BINARY, args, out_fd, err_fd);
    close(out_fd);
    close(err_fd);
    int status = 0;
    struct fc_result r = {.status = -1};
    if (support_wait(&fc_children, pid, 60000, &status) == 0 && WIFEXITED(status))
        r.status = WEXITSTATUS(status);
    r.out = support_slurp(out_path, NULL);
    r.err = support_slurp(err_path, NULL);
    cr_assert(r.out && r.err);
    return r;
}

static void fc_free(struct fc_result *r)
{
    free(r->out);
    free(r->err);
}

static void fc_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static json_t *fc_load(const char *dir, const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    cr_assert_not_null(doc, "%s: %s", path, jerr.text);
    return doc;
}

static json_t *fc_find(json_t *arr, const char *key, const char *value)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        const char *v = json_string_value(json_object_get(o, key));
        if (v && strcmp(v, value) == 0)
            return o;
    }
    return NULL;
}

static long long fc_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "no integer \"%s\"", key);
    return json_integer_value(v);
}

/* Starts `kmsload host --clock client --log LOG` on a free loopback port; returns its pid. */
static pid_t fc_host(const char *log, char *target, size_t cap)
{
    char err_path[128];
    fc_path(err_path, sizeof err_path, "host-err");
    const char *args[] = {"host",   "--listen", "127.0.0.1:0", "--clock",
                          "client", "--log",    log,           NULL};
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = support_spawn(&fc_children, KMSLOAD_BINARY, args, fds[1], err_fd);
    close(fds[1]);
    close(err_fd);
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        char ch;
        if (read(fds[0], &ch, 1) != 1 || ch == '\n')
            break;
        line[n++] = ch;
    }
    line[n] = '\0';
    close(fds[0]);
    const char prefix[] = "kmsload host: listening on ";
    cr_assert(strncmp(line, prefix, sizeof prefix - 1) == 0, "host said \"%s\"", line);
    snprintf(target, cap, "%s", line + sizeof prefix - 1);
    return pid;
}

static const char round_trip_ini[] = "[scenario]\n"
                                     "name = fleet-round-trip\n"
                                     "clock = virtual\n"
                                     "duration = 20d\n"
                                     "seed = 7\n"
                                     /* the log holds the fleet's requests only */
                                     "reconnaissance = off\n"
                                     "[population desktops]\n"
                                     "product = win10-ent\n"
                                     "machines = 30\n"
                                     "join_over = 1d\n"
                                     "[population servers]\n"
                                     "product = ws2019-dc\n"
                                     "machines = 6\n"
                                     "vm = 100%\n"
                                     "join_at = 2d\n"
                                     "join_over = 1d\n"
                                     "[population office]\n"
                                     "product = office2021-proplus\n"
                                     "machines = 8\n"
                                     "join_over = 2d\n";

Test(fleet_cli, round_trip_through_the_host_log_gives_back_the_populations_and_counts)
{
    char log[128], target[256], ini[128], run_dir[128], out[128];
    fc_path(log, sizeof log, "host-log.csv");
    fc_path(ini, sizeof ini, "trip.ini");
    fc_path(run_dir, sizeof run_dir, "run");
    fc_path(out, sizeof out, "fleet");
    fc_write(ini, round_trip_ini);
    pid_t host = fc_host(log, target, sizeof target);
    struct fc_result r = fc_run("run", ini, "--target", target, "--target-clock", "client", "--out",
                                run_dir, "--quiet", "--no-report", NULL);
    cr_assert_eq(r.status, 0, "run: %s", r.err);
    fc_free(&r);
    kill(host, SIGINT);
    int status;
    cr_assert_eq(support_wait(&fc_children, host, 5000, &status), 0);

    r = fc_run("fleet", log, "--out", out, NULL);
    cr_assert_eq(r.status, 0, "fleet: %s", r.err);
    cr_assert(strstr(r.out, "CSV (kmsload host --log)"), "%s", r.out);
    fc_free(&r);
    json_t *summary = fc_load(run_dir, "summary.json");
    json_t *fleet = fc_load(out, "fleet.json");
    /* Every request the run made, the populations and the machines. */
    cr_assert_eq(fc_int(fleet, "requests"), fc_int(summary, "requests"));
    cr_assert_eq(fc_int(fleet, "machines"), 30 + 6 + 8);
    json_t *products = json_object_get(fleet, "products");
    cr_assert_eq(json_array_size(products), 3);
    cr_assert_eq(fc_int(fc_find(products, "key", "win10-ent"), "machines"), 30);
    json_t *servers = fc_find(products, "key", "ws2019-dc");
    cr_assert_eq(fc_int(servers, "machines"), 6);
    cr_assert_float_eq(json_real_value(json_object_get(servers, "vm_share")), 1.0, 1e-9);
    cr_assert_eq(fc_int(fc_find(products, "key", "office2021-proplus"), "machines"), 8);
    /* Renewals every 7 days, retries every 2 hours, as the host told the clients. */
    cr_assert_eq(fc_int(fc_find(products, "key", "win10-ent"), "renewal_minutes"), 7 * 1440);
    cr_assert_eq(fc_int(fc_find(products, "key", "win10-ent"), "retry_minutes"), 120);
    /* The host's counts: rebuilt from the log's requests, equal to what the host answered. */
    json_t *apps = json_object_get(fleet, "applications");
    json_t *sapps = json_object_get(summary, "applications");
    const char *keys[] = {"windows", "office2013"};
    for (int i = 0; i < 2; i++) {
        json_t *a = fc_find(apps, "key", keys[i]);
        cr_assert_not_null(a, "%s", keys[i]);
        cr_assert_gt(fc_int(a, "logged_counts"), 0);
        cr_assert_eq(fc_int(a, "logged_count_mismatches"), 0, "%s", keys[i]);
        json_t *s = json_object_get(sapps, keys[i]);
        cr_assert_not_null(s, "summary.json applications.%s", keys[i]);
        cr_assert_eq(fc_int(a, "max_count"), fc_int(s, "max_count"), "%s", keys[i]);
    }
    cr_assert_eq(fc_int(fc_find(apps, "key", "windows"), "max_count"), 36);
    cr_assert_eq(fc_int(fc_find(apps, "key", "office2013"), "max_count"), 8);
    json_decref(summary);
    json_decref(fleet);
}

static const char xml_two[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Events>\n"
    "<Event><System><EventID>12290</EventID><TimeCreated SystemTime=\"2026-01-05T10:00:00Z\"/>"
    "</System><EventData><Data>0x0</Data><Data>25</Data><Data>pc1.corp.example</Data>"
    "<Data>0f3e1b2a-1111-4222-8333-444455556666</Data><Data>2026/1/5 10:00</Data><Data>0</Data>"
    "<Data>2</Data><Data>43200</Data><Data>73111121-5638-40f6-bc11-f1d7b0d64300</Data>"
    "</EventData></Event>\n"
    "<Event><System><EventID>12290</EventID><TimeCreated SystemTime=\"2026-01-05T11:00:00Z\"/>"
    "</System><EventData><Data>0x0</Data><Data>5000</Data><Data>pc2.corp.example</Data>"
    "<Data>0f3e1b2a-1111-4222-8333-444455556667</Data><Data>2026/1/5 11:00</Data><Data>0</Data>"
    "<Data>2</Data><Data>43200</Data><Data>73111121-5638-40f6-bc11-f1d7b0d64300</Data>"
    "</EventData></Event>\n"
    "<Event><System><EventID>12291</EventID></System></Event>\n"
    "</Events>\n";

Test(fleet_cli, names_are_hashed_by_default_and_kept_on_request)
{
    char log[128], out[128];
    fc_path(log, sizeof log, "two.xml");
    fc_path(out, sizeof out, "fleet");
    fc_write(log, xml_two);
    struct fc_result r = fc_run("fleet", log, "--out", out, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* The absurd N_Policy is named with its record and line, the rest is used. */
    cr_assert(strstr(r.err, "record 2 (line 4)") && strstr(r.err, "N_Policy"), "%s", r.err);
    cr_assert(strstr(r.out, "1 events 12290 (1 other IDs, 1 bad records skipped)"), "%s", r.out);
    fc_free(&r);
    char path[256];
    snprintf(path, sizeof path, "%s/fleet.json", out);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text);
    cr_assert_null(strstr(text, "pc1.corp.example"), "the name leaked");
    cr_assert_null(strstr(text, "0f3e1b2a-1111"), "the CMID leaked");
    free(text);
    r = fc_run("fleet", log, "--out", out, "--keep-names", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    fc_free(&r);
    text = support_slurp(path, NULL);
    cr_assert_not_null(strstr(text, "pc1.corp.example"));
    free(text);
}

Test(fleet_cli, unusable_input_is_refused_with_its_reason)
{
    char log[128], out[128];
    fc_path(log, sizeof log, "bad.csv");
    fc_path(out, sizeof out, "fleet");
    fc_write(log, "name,value\nx,1\n");
    struct fc_result r = fc_run("fleet", log, "--out", out, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "line 1: not an event log export"), "%s", r.err);
    fc_free(&r);
    r = fc_run("fleet", "/nonexistent/log.xml", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "cannot open /nonexistent/log.xml"), "%s", r.err);
    fc_free(&r);
    r = fc_run("fleet", log, "--keys", "nosuchkey", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--keys"), "%s", r.err);
    fc_free(&r);
}

/* A small known fleet (as in tests/eventlog): desktops, servers, cloned desktops, refused
 * servers, written as wevtutil XML. */
static void fc_known_log(const char *path)
{
    struct gen *g = calloc(1, sizeof *g);
    cr_assert_not_null(g);
    const int64_t t0 = 1767225600;
    char cmid[37], name[64];
    uint64_t n = 1;
    for (int i = 0; i < 30; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "desk%02d.corp.example", i);
        gen_add(g, name, cmid, "73111121-5638-40f6-bc11-f1d7b0d64300", 0, 25, 0, 0,
                t0 + i * 30 * GEN_MIN, 0, 2, 43200);
    }
    for (int i = 0; i < 6; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "srv%d.corp.example", i);
        gen_add(g, name, cmid, "34e1ae55-27f8-4950-8877-7a03be5fb181", 0, 5, 1, 0,
                t0 + GEN_DAY + i * GEN_HOUR, 0, 2, 43200);
    }
    gen_cmid(n++, cmid);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "clone%d.corp.example", i);
        gen_add(g, name, cmid, "2de67392-b7a7-462a-b1ca-108dd189f588", 0, 25, 0, 0,
                t0 + 2 * GEN_DAY + i * 10 * GEN_MIN, 0, 2, 43200);
    }
    for (int i = 0; i < 4; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "new%d.corp.example", i);
        gen_add(g, name, cmid, "9bd77860-9b31-4b7b-96ad-2564017315bf", 0, 5, 1, 0xC004F042u,
                t0 + 10 * GEN_DAY + i * GEN_HOUR, 0, 1, 43200);
    }
    g->end = t0 + 21 * GEN_DAY;
    g->out[GEN_XML] = fopen(path, "w");
    cr_assert_not_null(g->out[GEN_XML]);
    gen_run(g);
    fclose(g->out[GEN_XML]);
    gen_free(g);
    free(g);
}

Test(fleet_cli, replay_scenario_runs_with_the_fleets_populations)
{
    char log[128], out[128], run_dir[128], ini[256];
    fc_path(log, sizeof log, "known.xml");
    fc_path(out, sizeof out, "fleet");
    fc_path(run_dir, sizeof run_dir, "replay");
    fc_known_log(log);
    struct fc_result r = fc_run("fleet", log, "--out", out, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "/fleet.ini (kmsload run"), "%s", r.out);
    fc_free(&r);
    /* The report: the findings as a table, the four charts inline (gnuplot is a test dependency).
     */
    char page[256];
    snprintf(page, sizeof page, "%s/index.html", out);
    char *html = support_slurp(page, NULL);
    cr_assert_not_null(html);
    cr_assert(strstr(html, "<td>duplicate-cmid</td>") && strstr(html, "<td>error</td>"), "%s",
              html);
    const char *svg = html;
    int charts = 0;
    while ((svg = strstr(svg, "<svg")) != NULL) {
        charts++;
        svg += 4;
    }
    cr_assert_eq(charts, 4, "inline charts in index.html");
    cr_assert_null(strstr(html, "corp.example"), "a name leaked into the report");
    free(html);
    snprintf(ini, sizeof ini, "%s/fleet.ini", out);
    char *text = support_slurp(ini, NULL);
    cr_assert_not_null(text);
    /* Three names on one CMID: two of the three machines are clones. */
    cr_assert(strstr(text, "[population win10-pro-grace]\nproduct = win10-pro\nmachines = 3\n"
                           "cloned = 0.6667\n"),
              "%s", text);
    cr_assert(strstr(text, "[population ws2022-std-licensed]\nproduct = ws2022-std\n"
                           "machines = 4\nvm = 1.0000\nlicense_status = 1\n"),
              "%s", text);
    cr_assert(strstr(text, "renewal_interval = 10080m"), "%s", text);
    free(text);
    r = fc_run("run", ini, "--out", run_dir, "--quiet", "--no-report", NULL);
    cr_assert_eq(r.status, 0, "kmsload run fleet.ini: %s", r.err);
    fc_free(&r);
    json_t *summary = fc_load(run_dir, "summary.json");
    json_t *pops = json_object_get(summary, "populations");
    cr_assert_eq(fc_int(json_object_get(pops, "win10-ent-grace"), "machines"), 30);
    cr_assert_eq(fc_int(json_object_get(pops, "ws2019-dc-grace"), "machines"), 6);
    cr_assert_eq(fc_int(json_object_get(pops, "win10-pro-grace"), "machines"), 3);
    cr_assert_eq(fc_int(json_object_get(pops, "ws2022-std-licensed"), "machines"), 4);
    json_decref(summary);
}

Test(fleet_cli, migration_forecast_prints_thresholds_refusals_and_switch_off)
{
    char log[128], out[128];
    fc_path(log, sizeof log, "known.xml");
    fc_path(out, sizeof out, "fleet");
    fc_known_log(log);
    struct fc_result r = fc_run("fleet", log, "--out", out, "--migrate-to", "ws2016,office2021",
                                "--publish-at", "3d", "--switch-off-old-at", "20d", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* The old host answered Windows 10/11 and Server 2019 and refused Server 2022. */
    cr_assert(strstr(r.out, "forecast: old host (keys ws2019, inferred from the log)"), "%s",
              r.out);
    cr_assert(strstr(r.out, "new host windows     count reaches 5: day"), "%s", r.out);
    /* Server 2016's key covers neither Server 2019 nor Server 2022. */
    cr_assert(strstr(r.out, "refused by the new keys: Windows Server 2019 Datacenter, 6 machines"),
              "%s", r.out);
    cr_assert(strstr(r.out, "earliest switch-off of the old host") ||
                  strstr(r.out, "switch it off later"),
              "%s", r.out);
    fc_free(&r);
    char path[256];
    snprintf(path, sizeof path, "%s/migration.ini", out);
    char *text = support_slurp(path, NULL);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "[host new]\nhost_key = ws2016,office2021\n"), "%s", text);
    /* The record reaches clients after replication (15m) and TTL (1h): 3d + 75m. */
    cr_assert(strstr(text, "publish_at = 4395m"), "%s", text);
    free(text);
}
