#include "host_main.h"

#include "host_key_list.h"
#include "host_log.h"
#include "host_metrics.h"
#include "host_runtime.h"
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
        char why[256];
        if (net_listen_check(o->listen[i], why, sizeof why))
            return usage_set(err, err_len, "--listen: %s", why);
    }
    return 0;
}

/* The listeners' addresses resolved; returns 0 or -1 with a message. */
static int resolve_listeners(const struct host_options *o, struct net_addrs *listen, char *err,
                             size_t err_len)
{
    static const char *const fallback[] = {"127.0.0.1:1688"};
    char why[256];
    if (net_listen_resolve(o->n_listen ? o->listen : fallback, o->n_listen ? o->n_listen : 1,
                           listen, why, sizeof why))
        return usage_set(err, err_len, "--listen: %s", why);
    return 0;
}

/* Everything a running host holds. */
struct host_run {
    struct catalog cat;
    struct host_config hcfg;
    struct host_server_config scfg;
    struct host_coverage coverage; /* what hcfg points to */
    struct host_log log;
    struct host_runtime rt;
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
    r->rt.host = malloc(sizeof *r->rt.host);
    if (!r->rt.host || host_init(r->rt.host, &r->hcfg, r->err, sizeof r->err)) {
        fprintf(stderr, "kmsload host: %s\n", r->rt.host ? r->err : "out of memory");
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
        if (host_state_load(r->rt.host, o->state_path, &loaded, r->err, sizeof r->err)) {
            fprintf(stderr, "kmsload host: %s\n", r->err);
            return 1;
        }
        r->rt.state_path = o->state_path;
        if (loaded)
            printf("kmsload host: counts restored from %s\n", o->state_path);
    }
    if (o->log_path) {
        r->rt.log = &r->log;
        if (host_log_open(&r->log, o->log_path, &r->cat, r->err, sizeof r->err)) {
            fprintf(stderr, "kmsload host: %s\n", r->err);
            return 1;
        }
    }
    if (o->metrics) {
        host_metrics_init(&r->metrics, r->rt.host);
        r->rt.metrics = &r->metrics;
        r->scfg.answered = host_metrics_answered;
        r->scfg.answered_arg = &r->metrics;
    }
    /* Always: a refused client-clock step is reported even without --log. */
    r->scfg.log = host_runtime_on_request;
    r->scfg.log_arg = &r->rt;
    return 0;
}

/* Serves until SIGINT/SIGTERM; prints the status and saves the state at the end. */
static int host_serve(const struct host_options *o, struct host_run *r)
{
    struct host_runtime *rt = &r->rt;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a write error (EFBIG) to report, not death */
    rt->base = net_event_base_new();
    if (!rt->base) {
        fprintf(stderr, "kmsload host: cannot create an event loop\n");
        return 1;
    }
    rt->server = host_server_start(rt->base, rt->host, &r->scfg, r->err, sizeof r->err);
    if (!rt->server) {
        fprintf(stderr, "kmsload host: %s\n", r->err);
        return 1;
    }
    host_runtime_print_banner(stdout, rt, &r->coverage, r->hcfg.host_keys != NULL);
    if (o->metrics) {
        r->metrics.server = rt->server;
        struct metrics_http_options mo = {
            .listen = o->metrics, .render = host_metrics_render, .render_arg = &r->metrics};
        r->http = usage_start_metrics("host", rt->base, &mo);
        if (!r->http)
            return 1;
        printf("kmsload host: metrics on %s\n", metrics_http_url(r->http));
    }
    fflush(stdout);
    return host_runtime_dispatch(rt) == 0 ? 0 : 1;
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
    host_fit_open_files(&r->scfg);
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
    if (r->rt.server)
        host_server_stop(r->rt.server);
    if (r->rt.base)
        event_base_free(r->rt.base);
    if (r->rt.log && host_log_close(&r->log, r->err, sizeof r->err) != 0) {
        fprintf(stderr, "kmsload host: %s\n", r->err);
        if (status == 0)
            status = 1;
    }
    free(r->rt.host);
    host_coverage_free(&r->coverage);
    catalog_free(&r->cat);
    free(r);
    return status;
}
