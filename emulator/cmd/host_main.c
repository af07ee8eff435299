#include "host_main.h"

#include "fd_limit.h"
#include "host_key_list.h"
#include "host_log.h"
#include "host_metrics.h"
#include "host_server.h"
#include "host_settings.h"
#include "host_state.h"
#include "metrics_http.h"
#include "net_socket.h"
#include "usage.h"
#include "value_parse.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char host_usage[] =
    "Usage: kmsload host [OPTIONS]\n"
    "\n"
    "Runs the reference KMS host: a test and lab target that answers KMS V4/V5/V6 over NDR32\n"
    "and NDR64 and counts clients as a genuine Microsoft KMS host does (per application,\n"
    "unique CMIDs, 30-day retention, capacity 2 x the largest N_Policy seen). Stops on\n"
    "SIGINT/SIGTERM and\n"
    "prints a status summary; SIGUSR1 prints the status while running.\n"
    "\n"
    "  -l, --listen ADDR:PORT    address to listen on, repeatable (default 127.0.0.1:1688;\n"
    "                            port 0 picks a free port, printed at start; [::1]:1688 for IPv6)\n"
    "      --clock real|client   real: system time, requests more than 4 h off get 0xC004F06C\n"
    "                            client: follow the latest client time (virtual-time runs);\n"
    "                            it trusts clients' clocks within the bounds below\n"
    "      --clock-step DUR      client clock: one request may move it at most this far past\n"
    "                            the later of it and the system clock (default: the renewal\n"
    "                            interval + 1d), and never more than 3660d ahead of the system\n"
    "                            clock; requests beyond get 0xC004F06C and leave it alone\n"
    "      --products LIST       KMS IDs the host key covers, comma-separated catalogue keys or\n"
    "                            GUIDs (default: every volume product); others get 0xC004F042\n"
    "      --host-key LIST       host keys (CSVLKs) installed, e.g. ws2012r2,office2016: the host\n"
    "                            activates exactly what they activate, answers each product\n"
    "                            with its key's ePID and shows an OS build that can carry them\n"
    "      --list-host-keys      print the host keys, what each activates and where it installs\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -A, --activation-interval DUR  retry interval sent to clients (default 2h)\n"
    "  -R, --renewal-interval DUR     renewal interval sent to clients (default 7d)\n"
    "      --ndr64 on|off        support NDR64 (default on)\n"
    "      --btfn on|off         support bind-time feature negotiation (default on)\n"
    "      --strict              refuse V4 requests whose MAC is wrong (0x8007000D)\n"
    "      --max-connections N   concurrent connections (default 10000, fewer when the open-file\n"
    "                            limit cannot be raised that far); when full, the connection\n"
    "                            silent the longest is closed to admit a newcomer\n"
    "      --idle-timeout DUR    close silent connections (default 30s)\n"
    "      --pdu-timeout DUR     a request must arrive whole this long after its first byte\n"
    "                            (default 5s): slow senders cannot hold connections\n"
    "      --fault SPEC          inject faults, e.g. latency=50ms@0.1,drop=0.01,reset=0.01,\n"
    "                            garble=0.01,truncate=0.01,stall=0.01,wrong-call-id=0.01\n"
    "      --log FILE            per-request CSV log like event 12290 ('-' for stdout)\n"
    "      --state FILE          keep the client counts across restarts (loaded at start, saved\n"
    "                            atomically every 5 s when changed and at stop)\n"
    "      --build N             host OS build shown in ePIDs (default 17763; 7601 with --ndr64\n"
    "                            off; with --host-key the newest OS that can carry the keys)\n"
    "      --seed N              seed for ePIDs and response randomness (default 1)\n"
    "      --metrics [ADDR:]PORT serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR\n"
    "                            defaults to 127.0.0.1; see the README's Metrics section)\n"
    "  -h, --help                show this help\n";

struct host_cli {
    struct event_base *base;
    struct kms_host *host;
    struct host_server *server;
    const char *state_path;
    uint64_t saved_requests; /* host requests count at the last state save */
    struct host_log *log;
    uint64_t clock_warned_us;      /* when the last clock refusal was reported; 0: never */
    unsigned clock_refusals_since; /* refusals since that report */
    struct host_metrics *metrics;  /* --metrics: what /metrics shows */
};

static void print_status(FILE *f, struct host_cli *cli)
{
    struct kms_host *h = cli->host;
    const struct catalog *cat = h->cfg.catalog;
    char t[24];
    filetime_format(host_now(h), t);
    fprintf(f,
            "host status at %s UTC (%s clock): %u open connections, %llu accepted, "
            "%llu closed to make room, %llu past the PDU deadline, %llu accept pauses\n",
            t, h->cfg.clock_mode == HOST_CLOCK_CLIENT ? "client" : "real",
            host_server_open_connections(cli->server), (unsigned long long)h->stats.connections,
            (unsigned long long)h->stats.connections_rejected,
            (unsigned long long)h->stats.pdu_timeouts, (unsigned long long)h->stats.accept_pauses);
    fprintf(f, "  requests %llu: answered %llu, refused with an HRESULT %llu, RPC faults %llu\n",
            (unsigned long long)h->stats.requests, (unsigned long long)h->stats.answered,
            (unsigned long long)h->stats.errors, (unsigned long long)h->stats.faults);
    if (h->stats.clock_refused)
        fprintf(f, "  refused for moving the client clock too far: %llu\n",
                (unsigned long long)h->stats.clock_refused);
    for (size_t i = 0; i < cat->n_apps; i++) {
        const struct host_app_stats *a = &h->stats.apps[i];
        fprintf(f,
                "  %-12s current count %3u (capacity %u)  requests %llu, activated %llu, "
                "below threshold %llu, refused %llu\n",
                cat->apps[i].key, host_app_count(h, i), client_cache_capacity(&h->caches[i]),
                (unsigned long long)a->requests, (unsigned long long)a->activated,
                (unsigned long long)a->below, (unsigned long long)a->refused);
    }
    fflush(f);
}

/*
 * Every decided request: the metrics, the --log row, and for a request refused for moving the
 * client clock too far, a line on stderr (at most one per 10 s, with a count), since a wild clock
 * is worth knowing of.
 */
static void on_request(const struct host_request_record *rec, const char *peer, void *arg)
{
    struct host_cli *cli = arg;
    if (cli->metrics)
        host_metrics_request(cli->metrics, rec);
    if (cli->log)
        host_log_request(rec, peer, cli->log);
    if (!rec->clock_refused)
        return;
    cli->clock_refusals_since++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (cli->clock_warned_us && now - cli->clock_warned_us < 10000000u)
        return;
    char sent[24], clock[24];
    filetime_format(rec->request.client_time, sent);
    filetime_format(cli->host->client_clock, clock);
    fprintf(stderr,
            "kmsload host: refused with 0xC004F06C a request from %s dated %s: the client clock "
            "(%s) moves at most %.4g days per request and %.0f days past the system clock "
            "(%u refused since the last message)\n",
            peer, sent, cli->host->client_clock ? clock : "unset",
            (double)cli->host->cfg.max_clock_step / (86400.0 * FILETIME_PER_SECOND),
            (double)cli->host->cfg.max_clock_ahead / (86400.0 * FILETIME_PER_SECOND),
            cli->clock_refusals_since);
    cli->clock_warned_us = now;
    cli->clock_refusals_since = 0;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct host_cli *cli = arg;
    (void)what;
    fprintf(stderr, "kmsload host: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(cli->base);
}

/* Saves the counts when they changed. Returns 0 (saved or nothing to save) or -1 (said why). */
static int save_state(struct host_cli *cli)
{
    char err[512];
    if (!cli->state_path || cli->host->stats.requests == cli->saved_requests)
        return 0;
    if (host_state_save(cli->host, cli->state_path, err, sizeof err) == 0) {
        cli->saved_requests = cli->host->stats.requests;
        if (cli->metrics)
            cli->metrics->state_saves++;
        return 0;
    }
    fprintf(stderr, "kmsload host: %s\n", err);
    if (cli->metrics)
        cli->metrics->state_save_failures++;
    return -1;
}

/* Every few seconds: persist counters that changed and push the log to disk. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct host_cli *cli = arg;
    (void)fd, (void)what;
    save_state(cli);
    char err[700];
    if (cli->log && host_log_flush(cli->log, err, sizeof err) != 0)
        fprintf(stderr, "kmsload host: %s\n", err);
}

static void on_status_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    print_status(stderr, arg);
}

enum {
    OPT_CLOCK = 256,
    OPT_PRODUCTS,
    OPT_CATALOG,
    OPT_NDR64,
    OPT_BTFN,
    OPT_STRICT,
    OPT_MAXCONN,
    OPT_IDLE,
    OPT_PDU_TIMEOUT,
    OPT_FAULT,
    OPT_LOG,
    OPT_BUILD,
    OPT_SEED,
    OPT_STATE,
    OPT_CLOCK_STEP,
    OPT_HOST_KEY,
    OPT_LIST_HOST_KEYS,
    OPT_METRICS
};

static int interval_minutes(const char *opt, const char *text, unsigned *minutes, char *err,
                            size_t err_len)
{
    int64_t us;
    char why[160];
    if (value_parse_duration(text, false, &us, why, sizeof why) || us % 60000000 != 0 ||
        us < 15 * 60000000LL || us > 30 * 86400000000LL)
        return usage_set(err, err_len, "%s \"%s\": expected whole minutes between 15m and 30d", opt,
                         text);
    *minutes = (unsigned)(us / 60000000);
    return 0;
}

/* Options with a value checked on its own: numbers, durations, switches, fault specs. */
static int parse_value(int c, struct host_options *o, char *err, size_t err_len)
{
    char why[256];
    switch (c) {
    case 'A':
        return interval_minutes("--activation-interval", optarg, &o->activation_minutes, err,
                                err_len);
    case 'R':
        return interval_minutes("--renewal-interval", optarg, &o->renewal_minutes, err, err_len);
    case OPT_NDR64:
    case OPT_BTFN:
        if (value_parse_switch(optarg, c == OPT_NDR64 ? &o->ndr64 : &o->btfn))
            return usage_set(err, err_len, "--%s \"%s\": expected on or off",
                             c == OPT_NDR64 ? "ndr64" : "btfn", optarg);
        return 0;
    case OPT_MAXCONN:
        if (value_parse_uint(optarg, 1, 1000000, &o->max_connections))
            return usage_set(err, err_len, "--max-connections \"%s\": expected 1..1000000", optarg);
        return 0;
    case OPT_IDLE:
        if (value_parse_duration(optarg, false, &o->idle_timeout_us, why, sizeof why) ||
            o->idle_timeout_us <= 0)
            return usage_set(err, err_len, "--idle-timeout: %s",
                             o->idle_timeout_us <= 0 ? "must be positive" : why);
        return 0;
    case OPT_CLOCK_STEP:
        if (value_parse_duration(optarg, false, &o->clock_step_us, why, sizeof why) ||
            o->clock_step_us <= 0)
            return usage_set(err, err_len, "--clock-step: %s",
                             o->clock_step_us <= 0 ? "must be positive" : why);
        return 0;
    case OPT_PDU_TIMEOUT:
        if (value_parse_duration(optarg, false, &o->pdu_timeout_us, why, sizeof why) ||
            o->pdu_timeout_us <= 0)
            return usage_set(err, err_len, "--pdu-timeout: %s",
                             o->pdu_timeout_us <= 0 ? "must be positive" : why);
        return 0;
    case OPT_FAULT:
        return host_faults_parse(optarg, &o->faults, err, err_len) ? -1 : 0;
    case OPT_BUILD:
        if (value_parse_uint(optarg, 6000, 99999, &o->build))
            return usage_set(err, err_len, "--build \"%s\": expected a Windows build number",
                             optarg);
        return 0;
    default: /* OPT_SEED */
        if (value_parse_uint(optarg, 0, ~0UL, &o->seed))
            return usage_set(err, err_len, "--seed \"%s\": expected a number", optarg);
        return 0;
    }
}

static int parse_one(int c, char **argv, struct host_options *o, char *err, size_t err_len)
{
    switch (c) {
    case 'l':
        if (o->n_listen == HOST_SERVER_MAX_LISTENERS)
            return usage_set(err, err_len, "at most %d --listen addresses",
                             HOST_SERVER_MAX_LISTENERS);
        o->listen[o->n_listen++] = optarg;
        return 0;
    case OPT_CLOCK:
        if (strcmp(optarg, "real") != 0 && strcmp(optarg, "client") != 0)
            return usage_set(err, err_len, "--clock \"%s\": expected real or client", optarg);
        o->clock_client = strcmp(optarg, "client") == 0;
        return 0;
    case OPT_PRODUCTS:
        o->products = optarg;
        return 0;
    case OPT_HOST_KEY:
        o->host_keys = optarg;
        return 0;
    case OPT_LIST_HOST_KEYS:
        o->list_host_keys = true;
        return 0;
    case OPT_CATALOG:
        o->catalog_file = optarg;
        return 0;
    case OPT_STRICT:
        o->strict = true;
        return 0;
    case OPT_LOG:
        o->log_path = optarg;
        return 0;
    case OPT_STATE:
        o->state_path = optarg;
        return 0;
    case OPT_METRICS:
        if (usage_check_metrics(optarg, err, err_len))
            return -1;
        o->metrics = optarg;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    case 'A':
    case 'R':
    case OPT_NDR64:
    case OPT_BTFN:
    case OPT_MAXCONN:
    case OPT_IDLE:
    case OPT_PDU_TIMEOUT:
    case OPT_CLOCK_STEP:
    case OPT_FAULT:
    case OPT_BUILD:
    case OPT_SEED:
        return parse_value(c, o, err, err_len);
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

/* "ADDR:PORT" with port 0 allowed (a free port): the spec without ":0", and whether it had it. */
static bool listen_spec(const char *text, char *spec, size_t cap)
{
    const char *colon = strrchr(text, ':');
    bool zero_port = colon && strcmp(colon, ":0") == 0;
    int keep = zero_port ? (int)(colon - text) : (int)cap - 1;
    snprintf(spec, cap, "%.*s", keep, text);
    return zero_port;
}

int host_options_parse(int argc, char **argv, struct host_options *o, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"clock", required_argument, NULL, OPT_CLOCK},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"host-key", required_argument, NULL, OPT_HOST_KEY},
        {"list-host-keys", no_argument, NULL, OPT_LIST_HOST_KEYS},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"activation-interval", required_argument, NULL, 'A'},
        {"renewal-interval", required_argument, NULL, 'R'},
        {"ndr64", required_argument, NULL, OPT_NDR64},
        {"btfn", required_argument, NULL, OPT_BTFN},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"pdu-timeout", required_argument, NULL, OPT_PDU_TIMEOUT},
        {"fault", required_argument, NULL, OPT_FAULT},
        {"log", required_argument, NULL, OPT_LOG},
        {"state", required_argument, NULL, OPT_STATE},
        {"clock-step", required_argument, NULL, OPT_CLOCK_STEP},
        {"build", required_argument, NULL, OPT_BUILD},
        {"seed", required_argument, NULL, OPT_SEED},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->activation_minutes = 120;
    o->renewal_minutes = 10080;
    o->ndr64 = o->btfn = true;
    o->max_connections = 10000;
    o->build = 0;
    o->seed = 1;
    o->idle_timeout_us = 30000000;
    o->pdu_timeout_us = 5000000;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:A:R:h", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (o->help)
            return 0;
    }
    if (optind < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind]);
    if (o->host_keys && o->products)
        return usage_set(err, err_len,
                         "--host-key and --products both say what the host covers: give one");
    for (size_t i = 0; i < o->n_listen; i++) {
        char spec[NET_HOST_MAX + 8], host[NET_HOST_MAX], why[256];
        uint16_t port;
        listen_spec(o->listen[i], spec, sizeof spec);
        if (net_parse_target(spec, KMS_DEFAULT_PORT, host, sizeof host, &port, why, sizeof why))
            return usage_set(err, err_len, "--listen: %s", why);
    }
    return 0;
}

/* The listeners' addresses resolved; returns 0 or -1 with a message. */
static int resolve_listeners(const struct host_options *o, struct net_addrs *listen, char *err,
                             size_t err_len)
{
    static const char *const fallback[] = {"127.0.0.1:1688"};
    const char *const *specs = o->n_listen ? o->listen : fallback;
    size_t n = o->n_listen ? o->n_listen : 1;
    listen->n = 0;
    for (size_t i = 0; i < n; i++) {
        char spec[NET_HOST_MAX + 8], hostname[NET_HOST_MAX], why[256];
        uint16_t port;
        struct net_addrs addrs;
        bool zero_port = listen_spec(specs[i], spec, sizeof spec);
        if (net_parse_target(spec, KMS_DEFAULT_PORT, hostname, sizeof hostname, &port, why,
                             sizeof why) ||
            net_resolve(hostname, zero_port ? 0 : port, true, &addrs, why, sizeof why))
            return usage_set(err, err_len, "--listen: %s", why);
        for (size_t a = 0; a < addrs.n && listen->n < NET_MAX_ADDRS; a++) {
            listen->addr[listen->n] = addrs.addr[a];
            listen->len[listen->n++] = addrs.len[a];
        }
    }
    return 0;
}

/* Everything a running host holds. */
struct host_run {
    struct catalog cat;
    struct host_config hcfg;
    struct host_server_config scfg;
    struct host_coverage coverage; /* what hcfg points to */
    struct host_log log;
    struct host_cli cli;
    struct host_metrics metrics;
    struct metrics_http *http;
    char err[512];
};

/* The catalogue, the host's configuration and the host itself; returns 0 or an exit status. */
static int host_prepare(const struct host_options *o, struct host_run *r)
{
    /* A genuine host refuses clocks outside its window with 0xC004F06C; the client clock's window
     * is a step past the present (a fleet of default clients is never silent longer than a
     * renewal interval) and a horizon past any scenario (at most 3650 days). */
    uint64_t step_us = o->clock_step_us > 0 ? (uint64_t)o->clock_step_us
                                            : ((uint64_t)o->renewal_minutes + 1440) * 60000000ULL;
    struct host_settings hs = {
        .activation_interval = o->activation_minutes,
        .renewal_interval = o->renewal_minutes,
        .clock_mode = o->clock_client ? HOST_CLOCK_CLIENT : HOST_CLOCK_REAL,
        .max_clock_step = step_us * (FILETIME_PER_SECOND / 1000000),
        .max_clock_ahead = HOST_CLIENT_CLOCK_HORIZON,
        .ndr64 = o->ndr64,
        .btfn = o->btfn,
        .strict_v4_mac = o->strict,
        .build = (unsigned)o->build,
        .seed = o->seed,
        .products = o->products,
        .host_keys = o->host_keys,
    };
    char what[256];
    enum host_settings_status st =
        host_config_from_settings(&hs, &r->cat, &r->hcfg, &r->coverage, what, sizeof what);
    if (st == HOST_SETTINGS_PRODUCT)
        usage_error("host",
                    "--products: \"%s\" is neither a KMS ID nor a catalogue product group (e.g. "
                    "win10, ws2022, office2021)",
                    what);
    else if (st == HOST_SETTINGS_HOST_KEY)
        usage_error("host", "--host-key: %s", what);
    if (st != HOST_SETTINGS_OK)
        return 2;
    r->cli.host = malloc(sizeof *r->cli.host);
    if (!r->cli.host || host_init(r->cli.host, &r->hcfg, r->err, sizeof r->err)) {
        fprintf(stderr, "kmsload host: %s\n", r->cli.host ? r->err : "out of memory");
        return 1;
    }
    return 0;
}

/* --state loaded, --log opened; returns 0 or an exit status. */
static int host_open_files(const struct host_options *o, struct host_run *r)
{
    if (o->state_path) {
        bool loaded;
        unsigned removed = 0;
        if (host_state_prepare(o->state_path, &removed, r->err, sizeof r->err)) {
            fprintf(stderr, "kmsload host: %s\n", r->err);
            return 1;
        }
        if (removed)
            printf("kmsload host: removed %u temporary file%s a stopped host left beside %s\n",
                   removed, removed == 1 ? "" : "s", o->state_path);
        if (host_state_load(r->cli.host, o->state_path, &loaded, r->err, sizeof r->err)) {
            fprintf(stderr, "kmsload host: %s\n", r->err);
            return 1;
        }
        r->cli.state_path = o->state_path;
        if (loaded)
            printf("kmsload host: counts restored from %s\n", o->state_path);
    }
    if (o->log_path) {
        r->cli.log = &r->log;
        if (host_log_open(&r->log, o->log_path, &r->cat, r->err, sizeof r->err)) {
            fprintf(stderr, "kmsload host: %s\n", r->err);
            return 1;
        }
    }
    if (o->metrics) {
        host_metrics_init(&r->metrics, r->cli.host);
        r->cli.metrics = &r->metrics;
        r->scfg.answered = host_metrics_answered;
        r->scfg.answered_arg = &r->metrics;
    }
    /* Always: a refused client-clock step is reported even without --log. */
    r->scfg.log = on_request;
    r->scfg.log_arg = &r->cli;
    return 0;
}

/* Serves until SIGINT/SIGTERM; prints the status and saves the state at the end. */
static int host_serve(const struct host_options *o, struct host_run *r)
{
    struct host_cli *cli = &r->cli;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a write error (EFBIG) to report, not death */
    cli->base = net_event_base_new();
    if (!cli->base) {
        fprintf(stderr, "kmsload host: cannot create an event loop\n");
        return 1;
    }
    cli->server = host_server_start(cli->base, cli->host, &r->scfg, r->err, sizeof r->err);
    if (!cli->server) {
        fprintf(stderr, "kmsload host: %s\n", r->err);
        return 1;
    }
    for (size_t i = 0; i < host_server_listener_count(cli->server); i++) {
        char text[NET_ADDR_TEXT];
        net_addr_format(host_server_listener_addr(cli->server, i), text, sizeof text);
        printf("kmsload host: listening on %s\n", text);
    }
    if (r->hcfg.host_keys) {
        const struct catalog_hostos *os =
            catalog_hostos_for_build(&r->cat, cli->host->cfg.host_build, NULL);
        printf("kmsload host: build %u (%s)\n", cli->host->cfg.host_build,
               os ? os->name : "unknown OS");
        for (size_t i = 0; i < r->coverage.keys.n; i++)
            printf("kmsload host: host key %s ePID %s\n",
                   r->cat.csvlks[r->coverage.keys.key[i]].key,
                   cli->host->key_epid[r->coverage.keys.key[i]]);
    } else {
        for (size_t i = 0; i < r->cat.n_apps; i++)
            printf("kmsload host: %s ePID %s\n", r->cat.apps[i].key, cli->host->epid[i]);
    }
    if (o->metrics) {
        r->metrics.server = cli->server;
        struct metrics_http_options mo = {
            .listen = o->metrics, .render = host_metrics_render, .render_arg = &r->metrics};
        r->http = usage_start_metrics("host", cli->base, &mo);
        if (!r->http)
            return 1;
        printf("kmsload host: metrics on %s\n", metrics_http_url(r->http));
    }
    fflush(stdout);
    struct event *ev_int = evsignal_new(cli->base, SIGINT, on_stop_signal, cli);
    struct event *ev_term = evsignal_new(cli->base, SIGTERM, on_stop_signal, cli);
    struct event *ev_usr1 = evsignal_new(cli->base, SIGUSR1, on_status_signal, cli);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_usr1, NULL);
    struct event *housekeeping = event_new(cli->base, -1, EV_PERSIST, on_housekeeping, cli);
    struct timeval every = {5, 0};
    event_add(housekeeping, &every);
    event_base_dispatch(cli->base);
    print_status(stderr, cli);
    int status = 0;
    if (save_state(cli) != 0) {
        fprintf(stderr,
                "kmsload host: the final save of --state %s failed: the counts since the "
                "last save are lost\n",
                cli->state_path);
        status = 1;
    }
    event_free(housekeeping);
    event_free(ev_int);
    event_free(ev_term);
    event_free(ev_usr1);
    return status;
}

/* Descriptors the host needs besides its connections: stdio, listeners, event loop, files, and
 * the one a connection holds while it is accepted before another makes room for it. */
#define HOST_RESERVED_FDS 32

/* Each connection holds a descriptor: raise the open-file limit like `run` does, and admit fewer
 * connections (saying so) when the system will not allow enough. */
static void fit_open_files(struct host_server_config *scfg)
{
    unsigned long want = (unsigned long)scfg->max_connections + HOST_RESERVED_FDS;
    unsigned long hard, got = fd_limit_raise(want, &hard);
    if (got >= want)
        return;
    unsigned long fit = got > HOST_RESERVED_FDS + 1 ? got - HOST_RESERVED_FDS : 1;
    fprintf(stderr,
            "kmsload host: open-file limit is %lu (hard limit %lu): --max-connections lowered "
            "from %u to %lu; raise the limit (ulimit -n) for more\n",
            got, hard, scfg->max_connections, fit);
    scfg->max_connections = (unsigned)fit;
}

static void warn_stderr(const char *message, void *arg)
{
    (void)arg;
    fprintf(stderr, "kmsload host: %s\n", message);
}

int host_execute(const struct host_options *o)
{
    struct host_run *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    host_server_config_default(&r->scfg);
    r->scfg.max_connections = (unsigned)o->max_connections;
    r->scfg.idle_timeout.tv_sec = (time_t)(o->idle_timeout_us / 1000000);
    r->scfg.idle_timeout.tv_usec = (suseconds_t)(o->idle_timeout_us % 1000000);
    r->scfg.pdu_timeout.tv_sec = (time_t)(o->pdu_timeout_us / 1000000);
    r->scfg.pdu_timeout.tv_usec = (suseconds_t)(o->pdu_timeout_us % 1000000);
    r->scfg.warn = warn_stderr;
    r->scfg.faults = o->faults;
    fit_open_files(&r->scfg);
    if (resolve_listeners(o, &r->scfg.listen, r->err, sizeof r->err)) {
        usage_error("host", "%s", r->err);
        free(r);
        return 2;
    }
    if (catalog_load(&r->cat, o->catalog_file, r->err, sizeof r->err)) {
        fprintf(stderr, "kmsload host: %s\n", r->err);
        free(r);
        return 2;
    }
    if (o->list_host_keys) {
        host_key_list_print(stdout, &r->cat);
        catalog_free(&r->cat);
        free(r);
        return 0;
    }
    int status = host_prepare(o, r);
    if (status == 0)
        status = host_open_files(o, r);
    if (status == 0)
        status = host_serve(o, r);
    metrics_http_stop(r->http);
    if (r->cli.server)
        host_server_stop(r->cli.server);
    if (r->cli.base)
        event_base_free(r->cli.base);
    if (r->cli.log && host_log_close(&r->log, r->err, sizeof r->err) != 0) {
        fprintf(stderr, "kmsload host: %s\n", r->err);
        if (status == 0)
            status = 1;
    }
    free(r->cli.host);
    host_coverage_free(&r->coverage);
    catalog_free(&r->cat);
    free(r);
    return status;
}
