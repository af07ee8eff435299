#include "watch.h"

#include "catalog.h"
#include "dns_srv.h"
#include "fd_limit.h"
#include "metrics_http.h"
#include "probe_exporter.h"
#include "usage.h"
#include "value_parse.h"
#include "watch_metrics.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char watch_usage[] =
    "Usage: kmsload watch HOST[:PORT]... | dns:DOMAIN [OPTIONS]\n"
    "       kmsload watch --metrics [ADDR:]PORT [OPTIONS]   (the /probe exporter alone)\n"
    "\n"
    "Watches production KMS hosts: every interval (the first round at start) one request per\n"
    "application (by default Windows 10/11 Pro and Office 2016) with this machine's client\n"
    "machine ID (the one kmsload probe sends), the same across rounds and restarts, so a\n"
    "host's counts grow by at most one per application, ever. Several HOST[:PORT] targets are\n"
    "watched together, each under its own host label. dns:DOMAIN watches every host\n"
    "the _vlmcs._tcp.DOMAIN SRV records publish, looked up again each round. Prints a line\n"
    "when an answer changes (count, HRESULT, ePID, reachability) and, with --metrics, serves\n"
    "the answers to Prometheus. Stops on SIGINT/SIGTERM.\n"
    "\n"
    "With --metrics it also serves /probe?target=HOST[:PORT]&module=NAME, Prometheus's\n"
    "multi-target exporter pattern (as blackbox_exporter): each scrape asks that host once per\n"
    "application of the module and answers kmsload_probe_success, the duration, and per\n"
    "application the count, HRESULT and ePID. Without a target watch serves /probe alone.\n"
    "Modules: default (win10-pro,office2016-proplus), windows (win10-pro), office\n"
    "(office2016-proplus), servers (ws2019-std), and those of --modules FILE.\n"
    "\n"
    "  -m, --metrics [ADDR:]PORT serve /metrics and /probe there (ADDR defaults to 127.0.0.1)\n"
    "      --json                JSON lines on stdout, for log shippers: one object per probe\n"
    "                            per round (time, host, application, product, outcome,\n"
    "                            success, count, required, hresult, epid, host_build,\n"
    "                            duration_seconds, detail), one per dns: lookup; the start-up\n"
    "                            lines go to stderr\n"
    "      --modules FILE        /probe modules: INI sections [NAME] with products = LIST\n"
    "      --max-probes N        /probe requests answered at once (default 16; 503 beyond)\n"
    "  -i, --interval DUR        time between rounds (default 5m, at least 1s)\n"
    "  -c, --count N             stop after N rounds (default: run until stopped)\n"
    "  -t, --target TARGET       the target, as the positional argument (as in every subcommand)\n"
    "      --timeout DUR         per-request timeout, and the DNS lookup's (default 10s; -t DUR\n"
    "                            still works, deprecated)\n"
    "      --products LIST       what to request, one per application, comma-separated catalogue\n"
    "                            editions or groups. Default: from what each host covers:\n"
    "                            win10-pro and office2016-proplus, and where the host's keys\n"
    "                            refuse one (0xC004F042) the next its keys activate (Windows\n"
    "                            Server 2025..2016, Windows 8, 7; Office 2019..2024, 2013),\n"
    "                            kept from then on; never the retired Office 2010, whose\n"
    "                            count would stay below its threshold and fire count alerts\n"
    "      --cmid-seed TEXT      derive the client machine ID from TEXT instead of "
    "/etc/machine-id\n"
    "                            (else the host name); give one in containers, whose ID changes\n"
    "      --dns-server ADDR[:PORT]  for dns: targets, HOST names and /probe's names, ask this\n"
    "                            DNS server (default: the system's)\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 when stopped by a signal, or after --count rounds in which every probe got\n"
    "a count; 1 when a probe of those rounds got none (an HRESULT, no answer) or a dns: lookup\n"
    "failed (said on stderr), or on an error; 2 for bad usage; 3 when no probe reached a host\n"
    "(a name that does not resolve, refused, unreachable, timed out), as in probe and run.\n";

/* Open files asked for: probes of every host and application, and the metrics connections. */
#define WATCH_OPEN_FILES 4096

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct watch *w = arg;
    (void)what;
    fprintf(stderr, "kmsload watch: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(w->base);
}

enum {
    OPT_PRODUCTS = 256,
    OPT_CMID_SEED,
    OPT_DNS_SERVER,
    OPT_CATALOG,
    OPT_TIMEOUT,
    OPT_MODULES,
    OPT_MAX_PROBES,
    OPT_JSON
};

static int parse_one(int c, char **argv, struct watch_options *o, char *err, size_t err_len)
{
    char why[256];
    switch (c) {
    case 'm':
        if (usage_check_metrics(optarg, err, err_len))
            return -1;
        o->metrics = optarg;
        return 0;
    case 'i':
        if (value_parse_duration(optarg, false, &o->interval_us, why, sizeof why) ||
            o->interval_us < 1000000)
            return usage_set(err, err_len, "--interval \"%s\": expected a duration of at least 1s",
                             optarg);
        return 0;
    case 't':
        /* -t is --target everywhere; a duration is the old spelling of --timeout. */
        if (!usage_looks_like_duration(optarg)) {
            if (o->target)
                return usage_set(err, err_len, "the target given twice: \"%s\" and \"%s\"",
                                 o->target, optarg);
            o->target = optarg;
            return 0;
        }
        o->deprecated = USAGE_NOTE_T_TIMEOUT;
        /* fall through */
    case OPT_TIMEOUT:
        if (value_parse_duration(optarg, false, &o->timeout_us, why, sizeof why) ||
            o->timeout_us <= 0)
            return usage_set(err, err_len, "--timeout \"%s\": expected a positive duration",
                             optarg);
        return 0;
    case 'c':
        if (value_parse_uint(optarg, 1, 1000000000, &o->max_rounds))
            return usage_set(err, err_len, "--count \"%s\": expected a number of rounds, 1 or more",
                             optarg);
        return 0;
    case OPT_PRODUCTS:
        o->products = optarg;
        return 0;
    case OPT_CMID_SEED:
        if (!*optarg)
            return usage_set(err, err_len, "--cmid-seed: must not be empty");
        o->cmid_seed = optarg;
        return 0;
    case OPT_DNS_SERVER:
        if (dns_srv_check_server(optarg, why, sizeof why))
            return usage_set(err, err_len, "--dns-server: %s", why);
        o->dns_server = optarg;
        return 0;
    case OPT_CATALOG:
        o->catalog_file = optarg;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_MODULES:
        o->modules_file = optarg;
        return 0;
    case OPT_MAX_PROBES:
        if (value_parse_uint(optarg, 1, 1024, &o->max_probes))
            return usage_set(err, err_len, "--max-probes \"%s\": expected a number 1..1024",
                             optarg);
        return 0;
    case 'h':
        o->help = true;
        return 0;
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

/* HOST[:PORT] targets: each valid, none twice, and no dns: among them. */
static int check_host_targets(const struct watch_options *o, char *err, size_t err_len)
{
    for (size_t i = 0; i < o->n_targets; i++) {
        char host[NET_HOST_MAX], why[256], name[NET_HOST_MAX + 8], other[NET_HOST_MAX + 8];
        uint16_t port, other_port;
        if (strncmp(o->targets[i], "dns:", 4) == 0)
            return usage_set(err, err_len, "\"%s\": a dns: target is watched alone", o->targets[i]);
        if (net_parse_target(o->targets[i], KMS_DEFAULT_PORT, host, sizeof host, &port, why,
                             sizeof why))
            return usage_set(err, err_len, "%s", why);
        snprintf(name, sizeof name, "%s:%u", host, port);
        for (size_t k = 0; k < i; k++) {
            net_parse_target(o->targets[k], KMS_DEFAULT_PORT, host, sizeof host, &other_port, why,
                             sizeof why);
            snprintf(other, sizeof other, "%s:%u", host, other_port);
            if (strcmp(name, other) == 0)
                return usage_set(err, err_len, "\"%s\" given twice", o->targets[i]);
        }
    }
    return 0;
}

/* The targets after the flags (or -t): dns:DOMAIN alone, or HOST[:PORT]...; none with
 * --metrics alone serves /probe. */
static int parse_targets(int argc, char **argv, struct watch_options *o, char *err, size_t err_len)
{
    if (optind >= argc && !o->target) {
        /* No target: the /probe exporter alone, as blackbox_exporter. */
        if (!o->metrics)
            return usage_set(err, err_len,
                             "missing the target HOST[:PORT] or dns:DOMAIN (or --metrics "
                             "[ADDR:]PORT alone, to serve /probe?target=HOST)");
        if (o->max_rounds)
            return usage_set(err, err_len, "--count needs a target to watch");
        return 0;
    }
    if (optind < argc && o->target)
        return usage_set(err, err_len, "the target given twice: \"%s\" and -t \"%s\"", argv[optind],
                         o->target);
    if (!o->target)
        o->target = argv[optind++];
    o->targets[o->n_targets++] = o->target;
    for (; optind < argc; optind++) {
        if (o->n_targets == WATCH_MAX_HOSTS)
            return usage_set(err, err_len, "at most %d targets in one watch", WATCH_MAX_HOSTS);
        o->targets[o->n_targets++] = argv[optind];
    }
    if (strncmp(o->target, "dns:", 4) == 0) {
        o->dns_domain = o->target + 4;
        if (!*o->dns_domain || strchr(o->dns_domain, ':') || strchr(o->dns_domain, '/'))
            return usage_set(err, err_len, "\"%s\": expected dns:DOMAIN, e.g. dns:corp.example",
                             o->target);
        if (o->n_targets > 1)
            return usage_set(err, err_len,
                             "a dns: target is watched alone (\"%s\" given too): one watch per "
                             "domain, or list the hosts",
                             o->targets[1]);
        return 0;
    }
    return check_host_targets(o, err, err_len);
}

int watch_options_parse(int argc, char **argv, struct watch_options *o, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"metrics", required_argument, NULL, 'm'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"target", required_argument, NULL, 't'},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"cmid-seed", required_argument, NULL, OPT_CMID_SEED},
        {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"modules", required_argument, NULL, OPT_MODULES},
        {"json", no_argument, NULL, OPT_JSON},
        {"max-probes", required_argument, NULL, OPT_MAX_PROBES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->products = NULL; /* from what each host covers */
    o->interval_us = 300000000;
    o->timeout_us = 10000000;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:i:c:t:h", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (o->help)
            return 0;
    }
    return parse_targets(argc, argv, o, err, err_len);
}

static void announce(const struct watch *w, const struct metrics_http *http)
{
    const struct watch_options *o = w->opt;
    /* With --json stdout holds JSON lines only. */
    FILE *f = o->json ? stderr : stdout;
    if (!o->target) {
        fprintf(f, "kmsload watch: metrics on %s?target=HOST[:PORT]&module=NAME\n",
                metrics_http_url(http));
        fflush(f);
        return;
    }
    const struct watch_app_state *apps = w->metrics.hosts[0].apps;
    char every[32], g[GUID_TEXT_LEN + 1];
    value_format_duration(o->interval_us, every, sizeof every);
    guid_format(&w->requests[0].cmid, g);
    fprintf(f, "kmsload watch: ");
    for (size_t h = 0; h < (o->dns_domain ? 1 : w->metrics.n_hosts); h++)
        fprintf(f, "%s%s", h ? ", " : "", o->dns_domain ? o->target : w->metrics.hosts[h].name);
    fprintf(f, " every %s, CMID %s;", every, g);
    for (size_t i = 0; i < w->metrics.n_apps; i++)
        fprintf(f, "%s %s as %s%s", i ? "," : "", apps[i].application, apps[i].product,
                w->auto_products ? " (or what the host covers)" : "");
    fprintf(f, "\n");
    if (http)
        fprintf(f, "kmsload watch: metrics on %s\n", metrics_http_url(http));
    fflush(f);
}

/* Everything watch_execute set up, in reverse. */
static void watch_release(struct watch *w, struct metrics_http *http, struct event *ev_int,
                          struct event *ev_term, struct probe_exporter *exporter)
{
    watch_cancel_probes(w);
    metrics_http_stop(http); /* abandons the /probe requests in flight first */
    probe_exporter_free(exporter);
    if (w->timer)
        event_free(w->timer);
    if (ev_int)
        event_free(ev_int);
    if (ev_term)
        event_free(ev_term);
    if (w->base)
        event_base_free(w->base);
}

/* --metrics: the /probe exporter on watch's loop and the metrics server (with the watched
 * target's /metrics when there is one). NULL when it could not start (said). */
static struct metrics_http *start_exporter(struct watch *w, const struct watch_options *o,
                                           struct probe_modules *modules,
                                           struct probe_exporter **exporter)
{
    struct probe_exporter_options po = {.modules = modules,
                                        .timeout_us = o->timeout_us,
                                        .max_in_flight = o->max_probes,
                                        .dns_server = o->dns_server};
    *exporter = probe_exporter_new(w->base, &po);
    struct metrics_http_options mo = {.listen = o->metrics,
                                      .render = o->target ? watch_metrics_render : NULL,
                                      .render_arg = &w->metrics,
                                      .probe = probe_exporter_handle,
                                      .probe_arg = *exporter};
    return *exporter ? usage_start_metrics("watch", w->base, &mo) : NULL;
}

int watch_execute(const struct watch_options *o)
{
    struct watch *w = calloc(1, sizeof *w);
    struct watch_names *names = calloc(1, sizeof *names);
    if (!w || !names) {
        free(w);
        free(names);
        return 2;
    }
    int status = 2;
    struct catalog cat;
    struct metrics_http *http = NULL;
    struct event *ev_int = NULL, *ev_term = NULL;
    struct probe_modules *modules = calloc(1, sizeof *modules);
    struct probe_exporter *exporter = NULL;
    char err[512];
    if (!modules)
        goto out_free;
    if (catalog_load(&cat, o->catalog_file, err, sizeof err)) {
        fprintf(stderr, "kmsload watch: %s\n", err);
        goto out_free;
    }
    if (watch_setup(w, o, &cat, names, err, sizeof err)) {
        usage_error("watch", "%s", err);
        catalog_free(&cat);
        goto out_free;
    }
    if (o->metrics && (probe_modules_builtin(modules, &cat, &w->cmid, err, sizeof err) ||
                       (o->modules_file && probe_modules_load(modules, &cat, o->modules_file,
                                                              &w->cmid, err, sizeof err)))) {
        usage_error("watch", "--modules: %s", err);
        catalog_free(&cat);
        goto out_free;
    }
    catalog_free(&cat);

    signal(SIGPIPE, SIG_IGN);
    /* Probes and metrics connections each hold a descriptor: the default 1,024 is tight when the
     * metrics port is busy (the metrics server admits a quarter of the limit). */
    fd_limit_raise(WATCH_OPEN_FILES, NULL);
    w->base = net_event_base_new();
    if (!w->base) {
        fprintf(stderr, "kmsload watch: cannot create an event loop\n");
        goto out;
    }
    if (o->metrics && !(http = start_exporter(w, o, modules, &exporter))) {
        status = 1;
        goto out;
    }
    announce(w, http);
    ev_int = evsignal_new(w->base, SIGINT, on_stop_signal, w);
    ev_term = evsignal_new(w->base, SIGTERM, on_stop_signal, w);
    if (!ev_int || !ev_term) {
        fprintf(stderr, "kmsload watch: out of memory\n");
        status = 1;
        goto out;
    }
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    if (o->target)
        status = watch_run(w, err, sizeof err) ? 1 : 0;
    else
        status = event_base_dispatch(w->base) < 0 ? 1 : 0;
    if (status)
        fprintf(stderr, "kmsload watch: %s\n", err);
    /* --count is for cron and CI: rounds whose probes failed must not look like a pass. */
    if (status == 0 && o->max_rounds && w->rounds >= o->max_rounds) {
        status = watch_count_status(w, err, sizeof err);
        if (status)
            fprintf(stderr, "kmsload watch: %s\n", err);
    }
out:
    watch_release(w, http, ev_int, ev_term, exporter);
out_free:
    free(modules);
    free(names);
    free(w);
    return status;
}
