/*
 * The real program: `kmsload host` on a free loopback port, probed with `kmsload probe`, stopped
 * with SIGINT; usage errors of both subcommands. Every child is bounded in time and killed by
 * the suite's fini even when an assertion fails (and by the kernel if this process dies).
 */
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

#define HC_RUN_TIMEOUT_MS 15000

static struct support_scratch hc;

static void hc_init(void)
{
    support_scratch_init(&hc, "hostcli");
}

static void hc_fini(void)
{
    support_scratch_fini(&hc);
}

TestSuite(host_cli, .init = hc_init, .fini = hc_fini, .timeout = 60);

static uint64_t hc_now_ms(void)
{
    return support_now_ms();
}

static void hc_path(char *out, size_t cap, const char *what)
{
    support_scratch_path(&hc, what, out, cap);
}

static pid_t hc_spawn(const char *const *args, int out_fd, int err_fd)
{
    return support_spawn(&hc.children, KMSLOAD_BINARY, args, out_fd, err_fd);
}

/* Waits for pid up to timeout_ms; returns its exit status, or -1 (killed) on timeout / signal. */
static int hc_wait(pid_t pid, unsigned timeout_ms)
{
    int status = 0;
    if (support_wait(&hc.children, pid, timeout_ms, &status) != 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *hc_slurp(const char *path)
{
    char *buf = support_slurp(path, NULL);
    cr_assert_not_null(buf, "cannot read %s", path);
    return buf;
}

/* Runs the program to completion (bounded) and collects its output. */
static struct support_result hc_run(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(&hc, HC_RUN_TIMEOUT_MS, 0, first, ap);
    va_end(ap);
    return r;
}

/* ---- a running host ---- */

struct hc_host {
    pid_t pid;
    int out_pipe; /* read end of its stdout */
    char err_path[128];
    char log_path[128];
    char port[8];
    char target[32];
};

/* Starts `kmsload host --listen 127.0.0.1:0 --log FILE EXTRA...` with an open-file limit
 * (0: inherited) and learns its port. */
static void hc_host_start_limited(struct hc_host *h, const char *const *extra,
                                  unsigned long max_open_files)
{
    memset(h, 0, sizeof *h);
    hc_path(h->err_path, sizeof h->err_path, "host-err");
    hc_path(h->log_path, sizeof h->log_path, "host-log.csv");
    const char *args[24] = {"host", "--listen", "127.0.0.1:0", "--log", h->log_path};
    size_t n = 5;
    for (; extra && extra[n - 5] && n < 23; n++)
        args[n] = extra[n - 5];
    args[n] = NULL;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    int err_fd = open(h->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(err_fd, 0);
    h->pid =
        support_spawn_limited(&hc.children, KMSLOAD_BINARY, args, fds[1], err_fd, max_open_files);
    close(fds[1]);
    close(err_fd);
    h->out_pipe = fds[0];
    char line[256];
    bool got = support_read_line(h->out_pipe, line, sizeof line, 5000);
    cr_assert(got, "the host printed no line within 5 s (got \"%s\")", line);
    const char prefix[] = "kmsload host: listening on 127.0.0.1:";
    cr_assert(strncmp(line, prefix, sizeof prefix - 1) == 0, "first line: \"%s\"", line);
    const char *port = line + sizeof prefix - 1;
    cr_assert(strlen(port) > 0 && strlen(port) < sizeof h->port &&
                  strspn(port, "0123456789") == strlen(port),
              "port in \"%s\"", line);
    cr_assert_neq(atoi(port), 0, "port 0 must become a real port");
    snprintf(h->port, sizeof h->port, "%s", port);
    snprintf(h->target, sizeof h->target, "127.0.0.1:%s", port);
}

static void hc_host_start(struct hc_host *h, const char *const *extra)
{
    hc_host_start_limited(h, extra, 0);
}

/* SIGINT, then its exit status (bounded). */
static int hc_host_stop(struct hc_host *h)
{
    kill(h->pid, SIGINT);
    int status = hc_wait(h->pid, 5000);
    close(h->out_pipe);
    return status;
}

static bool hc_file_contains(const char *path, const char *needle)
{
    char *text = hc_slurp(path);
    bool found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* Parses probe --json output. */
static json_t *hc_json(const struct support_result *r)
{
    json_error_t jerr;
    json_t *root = json_loads(r->out, 0, &jerr);
    cr_assert_not_null(root, "probe --json printed no JSON (%s): %s / stderr %s", jerr.text, r->out,
                       r->err);
    return root;
}

static const char *hc_json_str(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static long long hc_json_response_int(json_t *root, const char *key)
{
    json_t *resp = json_object_get(root, "response");
    cr_assert(json_is_object(resp), "no response object");
    json_t *v = json_object_get(resp, key);
    cr_assert(json_is_integer(v), "response.%s missing", key);
    return json_integer_value(v);
}

/* Runs probe --json against target with extra options; checks exit status and JSON outcome.
 * Each probe is a new machine (--cmid random): these tests watch the count climb. */
static json_t *hc_probe(const char *target, int want_status, const char *want_outcome,
                        const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[14] = {"probe", "--json", "--timeout", "5s", "--cmid", "random"};
    size_t n = 6;
    const char *opts[4] = {a1, a2, a3, a4};
    for (int i = 0; i < 4; i++)
        if (opts[i])
            args[n++] = opts[i];
    args[n++] = target;
    args[n] = NULL;
    struct support_result r = support_run(&hc, HC_RUN_TIMEOUT_MS, 0, args);
    cr_expect_eq(r.status, want_status, "probe %s %s %s %s: exit %d, expected %d\n%s\n%s",
                 a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "", a4 ? a4 : "", r.status, want_status,
                 r.out, r.err);
    json_t *root = hc_json(&r);
    cr_expect_str_eq(hc_json_str(root, "outcome"), want_outcome, "%s", r.out);
    json_t *es = json_object_get(root, "exit_status");
    cr_expect(json_is_integer(es) && json_integer_value(es) == want_status, "%s", r.out);
    /* Latency is measured in microseconds: at most three decimals of a millisecond. */
    const char *lat = strstr(r.out, "\"latency_ms\": ");
    cr_expect_not_null(lat, "%s", r.out);
    if (lat) {
        const char *dot = lat + strlen("\"latency_ms\": ");
        while (*dot >= '0' && *dot <= '9')
            dot++;
        size_t decimals = 0;
        if (*dot == '.')
            while (dot[1 + decimals] >= '0' && dot[1 + decimals] <= '9')
                decimals++;
        cr_expect_leq(decimals, 3, "latency_ms with %zu decimals: %.40s", decimals, lat);
    }
    support_result_free(&r);
    return root;
}

static size_t hc_count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

Test(host_cli, host_and_probe_end_to_end)
{
    struct hc_host h;
    const char *extra[] = {"--products", "win10,ws2019", NULL};
    hc_host_start(&h, extra);
    json_t *j;

    j = hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 1, "first client gets count 1 (< 25)");
    cr_expect_str_eq(hc_json_str(j, "hresult"), "0xC004F038");
    json_decref(j);

    j = hc_probe(h.target, 0, "activated", "--n-policy", "1", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 2);
    cr_expect_eq(hc_json_response_int(j, "activation_interval_min"), 120);
    cr_expect_eq(hc_json_response_int(j, "renewal_interval_min"), 10080);
    json_decref(j);

    j = hc_probe(h.target, 4, "host-error", "--product", "ws2022-std", NULL, NULL);
    cr_expect_str_eq(hc_json_str(j, "hresult"), "0xC004F042", "Server 2022 is not covered");
    json_decref(j);

    j = hc_probe(h.target, 1, "below-threshold", "--product", "ws2019-dc", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 3, "Server 2019 shares the Windows counter");
    json_decref(j);

    j = hc_probe(h.target, 4, "host-error", "--clock-skew", "+4h01m", NULL, NULL);
    cr_expect_str_eq(hc_json_str(j, "hresult"), "0xC004F06C");
    /* The clock refusal comes with what to do (the one advice table, proto/hresult.c). */
    cr_expect(strstr(hc_json_str(j, "advice"), "w32tm") != NULL, "advice: %s",
              hc_json_str(j, "advice"));
    json_decref(j);

    j = hc_probe(h.target, 1, "below-threshold", "--clock-skew", "-3h59m", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 4);
    json_decref(j);

    j = hc_probe(h.target, 1, "below-threshold", "--protocol", "4", "--ndr64", "off");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "request"), "ndr")),
                     "NDR32");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "request"), "protocol")),
                     "4.0");
    json_decref(j);

    int status = hc_host_stop(&h);
    cr_expect_eq(status, 0, "host exit status after SIGINT");
    char *err = hc_slurp(h.err_path);
    cr_expect(strstr(err, "SIGINT") != NULL, "stderr: %s", err);
    cr_expect(strstr(err, "host status at") != NULL, "no status summary: %s", err);
    cr_expect(strstr(err, "requests 7: answered 5, refused with an HRESULT 2, RPC faults 0") !=
                  NULL,
              "summary: %s", err);
    cr_expect(strstr(err, "current count   5 (capacity 50)") != NULL, "summary: %s", err);
    free(err);

    char *log = hc_slurp(h.log_path);
    cr_expect(strncmp(log, "time,peer,hresult,application,n_policy,count,", 45) == 0,
              "log header: %.80s", log);
    cr_expect_eq(hc_count_lines(log), 1 + 7, "header + one row per request:\n%s", log);
    size_t ok_rows = 0;
    for (const char *p = strstr(log, ",0x00000000,"); p; p = strstr(p + 1, ",0x00000000,"))
        ok_rows++;
    cr_expect_eq(ok_rows, 5, "%s", log);
    cr_expect(strstr(log, ",0xC004F042,windows,") != NULL, "%s", log);
    cr_expect(strstr(log, ",0xC004F06C,windows,") != NULL, "%s", log);
    cr_expect(strstr(log, "\"kmsload-probe\"") != NULL, "%s", log);
    free(log);
}

Test(host_cli, host_options_reach_the_wire)
{
    struct hc_host h;
    const char *extra[] = {"--clock",
                           "client",
                           "--activation-interval",
                           "30m",
                           "--renewal-interval",
                           "1d",
                           "--ndr64",
                           "off",
                           "--seed",
                           "7",
                           NULL};
    hc_host_start(&h, extra);
    /* Client clock: no 4 h check. */
    json_t *j = hc_probe(h.target, 1, "below-threshold", "--clock-skew", "+4h01m", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "activation_interval_min"), 30);
    cr_expect_eq(hc_json_response_int(j, "renewal_interval_min"), 1440);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "request"), "ndr")),
                     "NDR32", "host without NDR64");
    char epid[128];
    snprintf(epid, sizeof epid, "%s",
             json_string_value(json_object_get(json_object_get(j, "response"), "epid")));
    json_decref(j);
    j = hc_probe(h.target, 1, "below-threshold", "--product", "ws2019-std", NULL, NULL);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "response"), "epid")),
                     epid, "same ePID for every Windows request the same key answers");
    cr_expect(strncmp(epid, "55041-", 6) == 0 && strstr(epid, "-7601.0000-"),
              "without NDR64 the ePID shows a build before 9200: %s", epid);
    cr_expect_eq(hc_json_response_int(j, "count"), 2);
    json_decref(j);
    /* SIGUSR1 prints the status without stopping. */
    kill(h.pid, SIGUSR1);
    uint64_t end = hc_now_ms() + 3000;
    while (!hc_file_contains(h.err_path, "host status at") && hc_now_ms() < end) {
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    cr_expect(hc_file_contains(h.err_path, "(client clock)"), "SIGUSR1 status missing");
    cr_expect_eq(waitpid(h.pid, NULL, WNOHANG), 0, "host must keep running after SIGUSR1");
    j = hc_probe(h.target, 0, "activated", "--n-policy", "3", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 3);
    json_decref(j);
    cr_expect_eq(hc_host_stop(&h), 0);
}

Test(host_cli, probe_of_a_closed_port_is_unreachable)
{
    struct support_result r = hc_run("probe", "--json", "--timeout", "5s", "127.0.0.1:1", NULL);
    cr_expect_eq(r.status, 3, "exit %d: %s %s", r.status, r.out, r.err);
    json_t *j = hc_json(&r);
    cr_expect_str_eq(hc_json_str(j, "outcome"), "connect-refused");
    json_decref(j);
    support_result_free(&r);
    r = hc_run("probe", "127.0.0.1:1", NULL);
    cr_expect_eq(r.status, 3, "text mode too: exit %d", r.status);
    support_result_free(&r);
}

Test(host_cli, usage_errors_exit_2_naming_the_option)
{
    struct {
        const char *args[6];
        const char *needle;
    } cases[] = {
        {{"host", "--clock", "sometimes"}, "--clock"},
        {{"host", "--products", "nosuchgroup"}, "nosuchgroup"},
        {{"host", "--fault", "explode=1"}, "explode"},
        {{"host", "--activation-interval", "5m"}, "--activation-interval"},
        {{"host", "--ndr64", "maybe"}, "--ndr64"},
        {{"host", "--listen"}, "--listen"},
        {{"host", "surplus"}, "surplus"},
        {{"probe", "--protocol", "9", "x"}, "--protocol"},
        {{"probe", "--product", "nosuch", "127.0.0.1:1"}, "nosuch"},
        {{"probe", "--clock-skew", "soon", "127.0.0.1:1"}, "--clock-skew"},
        {{"probe"}, "HOST"},
        {{"frobnicate"}, "frobnicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        struct support_result r = hc_run(a[0], a[1], a[2], a[3], a[4], NULL);
        cr_expect_eq(r.status, 2, "%s %s %s %s: exit %d", a[0], a[1] ? a[1] : "", a[2] ? a[2] : "",
                     a[3] ? a[3] : "", r.status);
        cr_expect(strstr(r.err, cases[i].needle) != NULL, "%s %s: stderr lacks \"%s\": %s", a[0],
                  a[1] ? a[1] : "", cases[i].needle, r.err);
        support_result_free(&r);
    }
}

Test(host_cli, version_and_help)
{
    struct support_result r = hc_run("--version", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "kmsload 0.1.0\n");
    support_result_free(&r);
    r = hc_run("--help", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "probe") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "host") != NULL, "%s", r.out);
    support_result_free(&r);
    r = hc_run("host", "--help", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--listen") != NULL && strstr(r.out, "--fault") != NULL, "%s", r.out);
    support_result_free(&r);
}

/* A workstation name that is a spreadsheet formula lands in --log as text, not as a formula. */
Test(host_cli, log_neutralises_spreadsheet_formulas)
{
    struct hc_host h;
    hc_host_start(&h, NULL);
    json_t *j =
        hc_probe(h.target, 1, "below-threshold", "--workstation", "=cmd|' /C calc'!A0", NULL, NULL);
    json_decref(j);
    cr_expect_eq(hc_host_stop(&h), 0);
    char *log = hc_slurp(h.log_path);
    cr_expect(strstr(log, ",\"'=cmd|' /C calc'!A0\",") != NULL, "%s", log);
    cr_expect(strstr(log, ",\"=cmd") == NULL, "a cell starts with '=': %s", log);
    free(log);
}

/* Seconds of CPU the process has used (utime + stime from /proc). */
static double hc_cpu_seconds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = hc_slurp(path);
    const char *p = strrchr(stat, ')'); /* the command name may hold spaces */
    unsigned long utime = 0, stime = 0;
    cr_assert(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                          &stime) == 2,
              "%s", stat);
    free(stat);
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* `ulimit -n 64` and more idle clients than that: the host lowers --max-connections to fit and
 * says so once, keeps answering probes, and neither spins nor floods its log. */
Test(host_cli, a_low_open_file_limit_lowers_max_connections)
{
    enum { IDLE = 150, LIMIT = 64 };
    struct hc_host h;
    hc_host_start_limited(&h, NULL, LIMIT);
    int idle[IDLE];
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(h.port))};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double cpu0 = hc_cpu_seconds(h.pid);
    uint64_t t0 = hc_now_ms();
    for (unsigned i = 0; i < IDLE; i++) {
        idle[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(idle[i], 0);
        cr_assert_eq(connect(idle[i], (struct sockaddr *)&sin, sizeof sin), 0, "connect: %s",
                     strerror(errno));
    }
    struct timespec settle = {1, 0};
    nanosleep(&settle, NULL);
    json_t *j = hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL);
    json_decref(j);
    j = hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL);
    json_decref(j);
    double cpu = hc_cpu_seconds(h.pid) - cpu0, wall = (double)(hc_now_ms() - t0) / 1000.0;
    cr_expect_eq(hc_host_stop(&h), 0);
    for (unsigned i = 0; i < IDLE; i++)
        close(idle[i]);
    char *err = hc_slurp(h.err_path);
    cr_log_info("ulimit -n %d, %d idle clients: %.2f s CPU in %.2f s, %zu stderr lines", LIMIT,
                IDLE, cpu, wall, hc_count_lines(err));
    cr_expect(strstr(err, "kmsload host: open-file limit is 64 (hard limit 64): --max-connections "
                          "lowered from 10000 to 32; raise the limit (ulimit -n) for more") != NULL,
              "%s", err);
    cr_expect(strstr(err, "closed to make room") != NULL, "%s", err);
    /* The limit line, the stop line and the status summary: nothing per connection. */
    cr_expect_leq(hc_count_lines(err), 12, "%s", err);
    free(err);
}

/* Repeated probes from one machine count once (a stable CMID); --cmid random adds a machine. */
Test(host_cli, probe_cmid_is_stable_by_default)
{
    struct hc_host h;
    hc_host_start(&h, NULL);
    const char *cmids[3];
    for (int i = 0; i < 3; i++) {
        const char *args[] = {"probe",
                              "--json",
                              "--timeout",
                              "5s",
                              i == 2 ? "--cmid" : "--n-policy",
                              i == 2 ? "stable" : "25",
                              h.target,
                              NULL};
        struct support_result r = support_run(&hc, HC_RUN_TIMEOUT_MS, 0, args);
        json_t *j = hc_json(&r);
        cr_expect_eq(hc_json_response_int(j, "count"), 1, "probe %d counted again: %s", i, r.out);
        json_t *req = json_object_get(j, "request");
        cmids[i] = strdup(json_string_value(json_object_get(req, "cmid")));
        json_decref(j);
        support_result_free(&r);
    }
    cr_expect_str_eq(cmids[0], cmids[1]);
    cr_expect_str_eq(cmids[0], cmids[2]);
    json_t *j = hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL); /* random */
    cr_expect_eq(hc_json_response_int(j, "count"), 2, "--cmid random is a new machine");
    cr_expect_str_neq(json_string_value(json_object_get(json_object_get(j, "request"), "cmid")),
                      cmids[0]);
    json_decref(j);
    for (int i = 0; i < 3; i++)
        free((void *)cmids[i]);
    cr_expect_eq(hc_host_stop(&h), 0);
}

/* --clock client: one probe dated 10000 days ahead is refused (0xC004F06C, said on stderr), the
 * counts stay, and the clock saved in --state is not absurd; a state file with an absurd clock is
 * not loaded. */
Test(host_cli, client_clock_refuses_a_wild_step_and_never_saves_it)
{
    char state[128];
    hc_path(state, sizeof state, "state.json");
    struct hc_host h;
    const char *extra[] = {"--clock", "client", "--state", state, NULL};
    hc_host_start(&h, extra);
    for (int i = 0; i < 3; i++)
        json_decref(hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL));
    for (int i = 0; i < 5; i++) {
        json_t *j = hc_probe(h.target, 4, "host-error", "--clock-skew", "+10000d", NULL, NULL);
        cr_expect_str_eq(hc_json_str(j, "hresult"), "0xC004F06C");
        json_decref(j);
    }
    json_t *j = hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 4, "the wild probes wiped nothing");
    json_decref(j);
    /* Within the step (the default: the 7-day renewal interval + 1 day) the clock follows. */
    j = hc_probe(h.target, 1, "below-threshold", "--clock-skew", "+4h01m", NULL, NULL);
    cr_expect_eq(hc_json_response_int(j, "count"), 5);
    json_decref(j);
    cr_expect_eq(hc_host_stop(&h), 0);
    char *err = hc_slurp(h.err_path);
    cr_expect(strstr(err, "refused with 0xC004F06C a request from 127.0.0.1:") != NULL, "%s", err);
    cr_expect(strstr(err, "moves at most 8 days per request and 3660 days past the system clock") !=
                  NULL,
              "%s", err);
    const char *first = strstr(err, "refused with 0xC004F06C");
    cr_expect(first && !strstr(first + 1, "refused with 0xC004F06C"),
              "one line per 10 s, not one per request: %s", err);
    cr_expect(strstr(err, "refused for moving the client clock too far: 5") != NULL, "%s", err);
    free(err);
    char *log = hc_slurp(h.log_path);
    size_t refused = 0;
    for (const char *p = strstr(log, ",0xC004F06C,"); p; p = strstr(p + 1, ",0xC004F06C,"))
        refused++;
    cr_expect_eq(refused, 5, "%s", log);
    free(log);
    /* The saved clock: within a day of now. */
    json_error_t jerr;
    json_t *root = json_load_file(state, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_int_t saved = json_integer_value(json_object_get(root, "client_clock"));
    json_int_t now = (json_int_t)((uint64_t)time(NULL) * 10000000ULL + 116444736000000000ULL);
    cr_expect(saved > now - 86400LL * 10000000 && saved < now + 86400LL * 10000000,
              "client_clock %lld, now %lld", (long long)saved, (long long)now);
    /* The same file with the clock 10000 days ahead: the host refuses to start on it. */
    json_object_set_new(root, "client_clock", json_integer(now + 10000LL * 86400 * 10000000));
    cr_assert_eq(json_dump_file(root, state, 0), 0);
    json_decref(root);
    struct support_result r =
        hc_run("host", "--listen", "127.0.0.1:0", "--clock", "client", "--state", state, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "client_clock is 10000 days ahead of the system clock") != NULL, "%s",
              r.err);
    support_result_free(&r);
}

/* --state and --log problems surface at start, or at stop in the exit status, never silently. */
Test(host_cli, state_and_log_problems_are_not_silent)
{
    char dir[128], state[192], missing[192];
    hc_path(dir, sizeof dir, "statedir");
    cr_assert_eq(mkdir(dir, 0700), 0);
    /* At start: a state file in a missing directory, a directory as the state file. */
    snprintf(missing, sizeof missing, "%s/nosuch/state.json", dir);
    struct support_result r = hc_run("host", "--listen", "127.0.0.1:0", "--state", missing, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "cannot use --state") && strstr(r.err, "No such file or directory"),
              "%s", r.err);
    cr_expect(strstr(r.out, "listening") == NULL, "it must not start serving: %s", r.out);
    support_result_free(&r);
    r = hc_run("host", "--listen", "127.0.0.1:0", "--state", dir, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "is a directory") != NULL, "%s", r.err);
    support_result_free(&r);
    /* At stop: the final save fails (its directory went away) -> exit 1, said why. Meanwhile the
     * log goes to a full device: reported once, and the total at stop. */
    snprintf(state, sizeof state, "%s/state.json", dir);
    struct hc_host h;
    const char *extra[] = {"--state", state, NULL};
    hc_host_start(&h, extra);
    support_remove_tree(dir);
    for (int i = 0; i < 2; i++)
        json_decref(hc_probe(h.target, 1, "below-threshold", NULL, NULL, NULL, NULL));
    cr_expect_eq(hc_host_stop(&h), 1, "a lost final save is a failure");
    char *err = hc_slurp(h.err_path);
    cr_expect(strstr(err, "the final save of --state") != NULL, "%s", err);
    cr_expect(strstr(err, "No such file or directory") != NULL, "%s", err);
    free(err);

    const char *full[] = {"host", "--listen", "127.0.0.1:0", "--log", "/dev/full", NULL};
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    char err_path[128];
    hc_path(err_path, sizeof err_path, "full-err");
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = hc_spawn(full, fds[1], err_fd);
    close(fds[1]);
    close(err_fd);
    char line[256];
    cr_assert(support_read_line(fds[0], line, sizeof line, 5000), "%s", line);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%s", strrchr(line, ':') + 1);
    for (int i = 0; i < 3; i++)
        json_decref(hc_probe(target, 1, "below-threshold", NULL, NULL, NULL, NULL));
    kill(pid, SIGINT);
    cr_expect_eq(hc_wait(pid, 5000), 1, "rows were lost: exit 1");
    close(fds[0]);
    err = hc_slurp(err_path);
    cr_expect(strstr(err, "log /dev/full: 3 rows not written (No space left on device)") != NULL,
              "%s", err);
    cr_expect(strstr(err, "Bad file descriptor") == NULL, "%s", err);
    free(err);
}
