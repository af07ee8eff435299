#include "host_main.h"

#include "host_log.h"
#include "host_server.h"
#include "host_state.h"
#include "netclient.h"
#include "usage.h"
#include "value_parse.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char host_usage[] =
    "Usage: kmsload host [OPTIONS]\n"
    "\n"
    "Runs the reference KMS host: a test and lab target that answers KMS V4/V5/V6 over NDR32\n"
    "and NDR64 and counts clients as a genuine Microsoft KMS host does (per application,\n"
    "unique CMIDs, 30-day retention, capacity 2 x threshold). Stops on SIGINT/SIGTERM and\n"
    "prints a status summary; SIGUSR1 prints the status while running.\n"
    "\n"
    "  -l, --listen ADDR:PORT    address to listen on, repeatable (default 127.0.0.1:1688;\n"
    "                            port 0 picks a free port, printed at start; [::1]:1688 for IPv6)\n"
    "      --clock real|client   real: system time, requests more than 4 h off get 0xC004F06C\n"
    "                            client: follow the latest client time (virtual-time runs)\n"
    "      --products LIST       KMS IDs the host key covers, comma-separated catalogue keys or\n"
    "                            GUIDs (default: every volume product); others get 0xC004F042\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -A, --activation-interval DUR  retry interval sent to clients (default 2h)\n"
    "  -R, --renewal-interval DUR     renewal interval sent to clients (default 7d)\n"
    "      --ndr64 on|off        support NDR64 (default on)\n"
    "      --btfn on|off         support bind-time feature negotiation (default on)\n"
    "      --strict              refuse V4 requests whose MAC is wrong (0x8007000D)\n"
    "      --max-connections N   concurrent connections (default 10000); more are closed\n"
    "      --idle-timeout DUR    close silent connections (default 30s)\n"
    "      --fault SPEC          inject faults, e.g. latency=50ms@0.1,drop=0.01,reset=0.01,\n"
    "                            garble=0.01,truncate=0.01,stall=0.01,wrong-call-id=0.01\n"
    "      --log FILE            per-request CSV log like event 12290 ('-' for stdout)\n"
    "      --state FILE          keep the client counts across restarts (loaded at start, saved\n"
    "                            atomically every 5 s when changed and at stop)\n"
    "      --build N             host OS build shown in ePIDs (default 17763)\n"
    "      --seed N              seed for ePIDs and response randomness (default 1)\n"
    "  -h, --help                show this help\n";

struct host_cli {
    struct event_base *base;
    struct kms_host *host;
    struct host_server *server;
    const char *state_path;
    uint64_t saved_requests; /* host requests count at the last state save */
    struct host_log *log;
};

static void print_status(FILE *f, struct host_cli *cli)
{
    struct kms_host *h = cli->host;
    const struct catalog *cat = h->cfg.catalog;
    char t[24];
    filetime_format(host_now(h), t);
    fprintf(f,
            "host status at %s UTC (%s clock): %u open connections, %llu accepted, "
            "%llu rejected\n",
            t, h->cfg.clock_mode == HOST_CLOCK_CLIENT ? "client" : "real",
            host_server_open_connections(cli->server), (unsigned long long)h->stats.connections,
            (unsigned long long)h->stats.connections_rejected);
    fprintf(f, "  requests %llu: answered %llu, refused with an HRESULT %llu, RPC faults %llu\n",
            (unsigned long long)h->stats.requests, (unsigned long long)h->stats.answered,
            (unsigned long long)h->stats.errors, (unsigned long long)h->stats.faults);
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

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct host_cli *cli = arg;
    (void)what;
    fprintf(stderr, "kmsload host: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(cli->base);
}

static void save_state(struct host_cli *cli)
{
    char err[512];
    if (!cli->state_path || cli->host->stats.requests == cli->saved_requests)
        return;
    if (host_state_save(cli->host, cli->state_path, err, sizeof err) == 0)
        cli->saved_requests = cli->host->stats.requests;
    else
        fprintf(stderr, "kmsload host: %s\n", err);
}

/* Every few seconds: persist counters that changed and push the log to disk. */
static void on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
    struct host_cli *cli = arg;
    (void)fd, (void)what;
    save_state(cli);
    if (cli->log && cli->log->file)
        fflush(cli->log->file);
}

static void on_status_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    print_status(stderr, arg);
}

/* "win10,ws2022,58e2134f-…" → KMS IDs. */
static int parse_products(const char *list, const struct catalog *cat, struct guid **out, size_t *n)
{
    char *copy = strdup(list);
    size_t cap = 8;
    *out = calloc(cap, sizeof **out);
    *n = 0;
    if (!copy || !*out) {
        free(copy);
        return -1;
    }
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        const struct catalog_kms *k = catalog_find_kms(cat, item);
        struct guid id;
        if (k)
            id = k->id;
        else if (guid_parse(item, &id) != 0) {
            usage_error("host",
                        "--products: \"%s\" is neither a KMS ID nor a catalogue product "
                        "group (e.g. win10, ws2022, office2021)",
                        item);
            free(copy);
            return -1;
        }
        if (*n == cap) {
            cap *= 2;
            struct guid *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                free(copy);
                return -1;
            }
            *out = grown;
        }
        (*out)[(*n)++] = id;
    }
    free(copy);
    return 0;
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
    OPT_FAULT,
    OPT_LOG,
    OPT_BUILD,
    OPT_SEED,
    OPT_STATE
};

static int interval_minutes(const char *opt, const char *text, unsigned *minutes)
{
    int64_t us;
    char err[160];
    if (value_parse_duration(text, false, &us, err, sizeof err) || us % 60000000 != 0 ||
        us < 15 * 60000000LL || us > 30 * 86400000000LL) {
        usage_error("host", "%s \"%s\": expected whole minutes between 15m and 30d", opt, text);
        return -1;
    }
    *minutes = (unsigned)(us / 60000000);
    return 0;
}

int host_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"clock", required_argument, NULL, OPT_CLOCK},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"activation-interval", required_argument, NULL, 'A'},
        {"renewal-interval", required_argument, NULL, 'R'},
        {"ndr64", required_argument, NULL, OPT_NDR64},
        {"btfn", required_argument, NULL, OPT_BTFN},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"fault", required_argument, NULL, OPT_FAULT},
        {"log", required_argument, NULL, OPT_LOG},
        {"state", required_argument, NULL, OPT_STATE},
        {"build", required_argument, NULL, OPT_BUILD},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_specs[HOST_SERVER_MAX_LISTENERS];
    size_t n_listen = 0;
    const char *products = NULL, *catalog_file = NULL, *log_path = NULL, *fault_spec = NULL;
    const char *state_path = NULL;
    const char *clock_mode = "real";
    unsigned activation = 120, renewal = 10080;
    bool ndr64 = true, btfn = true, strict = false;
    unsigned long max_conn = 10000, build = 17763, seed = 1;
    int64_t idle_us = 30000000;
    char err[512];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:A:R:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (n_listen == HOST_SERVER_MAX_LISTENERS) {
                usage_error("host", "at most %d --listen addresses", HOST_SERVER_MAX_LISTENERS);
                return 2;
            }
            listen_specs[n_listen++] = optarg;
            break;
        case OPT_CLOCK:
            if (strcmp(optarg, "real") != 0 && strcmp(optarg, "client") != 0) {
                usage_error("host", "--clock \"%s\": expected real or client", optarg);
                return 2;
            }
            clock_mode = optarg;
            break;
        case OPT_PRODUCTS:
            products = optarg;
            break;
        case OPT_CATALOG:
            catalog_file = optarg;
            break;
        case 'A':
            if (interval_minutes("--activation-interval", optarg, &activation))
                return 2;
            break;
        case 'R':
            if (interval_minutes("--renewal-interval", optarg, &renewal))
                return 2;
            break;
        case OPT_NDR64:
        case OPT_BTFN:
            if (value_parse_switch(optarg, c == OPT_NDR64 ? &ndr64 : &btfn)) {
                usage_error("host", "--%s \"%s\": expected on or off",
                            c == OPT_NDR64 ? "ndr64" : "btfn", optarg);
                return 2;
            }
            break;
        case OPT_STRICT:
            strict = true;
            break;
        case OPT_MAXCONN:
            if (value_parse_uint(optarg, 1, 1000000, &max_conn)) {
                usage_error("host", "--max-connections \"%s\": expected 1..1000000", optarg);
                return 2;
            }
            break;
        case OPT_IDLE:
            if (value_parse_duration(optarg, false, &idle_us, err, sizeof err) || idle_us <= 0) {
                usage_error("host", "--idle-timeout: %s", idle_us <= 0 ? "must be positive" : err);
                return 2;
            }
            break;
        case OPT_FAULT:
            fault_spec = optarg;
            break;
        case OPT_LOG:
            log_path = optarg;
            break;
        case OPT_STATE:
            state_path = optarg;
            break;
        case OPT_BUILD:
            if (value_parse_uint(optarg, 6000, 99999, &build)) {
                usage_error("host", "--build \"%s\": expected a Windows build number", optarg);
                return 2;
            }
            break;
        case OPT_SEED:
            if (value_parse_uint(optarg, 0, ~0UL, &seed)) {
                usage_error("host", "--seed \"%s\": expected a number", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(host_usage, stdout);
            return 0;
        case ':':
            usage_error("host", "option %s needs a value", argv[optind - 1]);
            return 2;
        default:
            usage_error("host", "unknown option \"%s\"", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        usage_error("host", "unexpected argument \"%s\"", argv[optind]);
        return 2;
    }

    struct host_server_config scfg;
    host_server_config_default(&scfg);
    scfg.max_connections = (unsigned)max_conn;
    scfg.idle_timeout.tv_sec = (time_t)(idle_us / 1000000);
    scfg.idle_timeout.tv_usec = (suseconds_t)(idle_us % 1000000);
    if (fault_spec && host_faults_parse(fault_spec, &scfg.faults, err, sizeof err)) {
        usage_error("host", "%s", err);
        return 2;
    }
    if (n_listen == 0)
        listen_specs[n_listen++] = "127.0.0.1:1688";
    for (size_t i = 0; i < n_listen; i++) {
        char hostname[NET_HOST_MAX];
        uint16_t port;
        struct net_addrs addrs;
        /* Port 0 is allowed here: it asks for a free port. */
        const char *colon = strrchr(listen_specs[i], ':');
        bool zero_port = colon && strcmp(colon, ":0") == 0;
        char spec[NET_HOST_MAX + 8];
        int keep = zero_port ? (int)(colon - listen_specs[i]) : (int)sizeof spec - 1;
        snprintf(spec, sizeof spec, "%.*s", keep, listen_specs[i]);
        if (net_parse_target(spec, KMS_DEFAULT_PORT, hostname, sizeof hostname, &port, err,
                             sizeof err) ||
            net_resolve(hostname, zero_port ? 0 : port, true, &addrs, err, sizeof err)) {
            usage_error("host", "--listen: %s", err);
            return 2;
        }
        for (size_t a = 0; a < addrs.n && scfg.listen.n < NET_MAX_ADDRS; a++) {
            scfg.listen.addr[scfg.listen.n] = addrs.addr[a];
            scfg.listen.len[scfg.listen.n++] = addrs.len[a];
        }
    }

    struct catalog cat;
    if (catalog_load(&cat, catalog_file, err, sizeof err)) {
        fprintf(stderr, "kmsload host: %s\n", err);
        return 2;
    }
    struct host_config hcfg;
    host_config_default(&hcfg, &cat);
    hcfg.activation_interval = activation;
    hcfg.renewal_interval = renewal;
    hcfg.clock_mode = strcmp(clock_mode, "client") == 0 ? HOST_CLOCK_CLIENT : HOST_CLOCK_REAL;
    hcfg.rpc.ndr64 = ndr64;
    hcfg.rpc.btfn = btfn;
    hcfg.strict_v4_mac = strict;
    hcfg.host_build = (unsigned)build;
    hcfg.seed = seed;
    struct guid *covered = NULL;
    int status = 1;
    struct host_log log = {0};
    struct host_cli cli = {0};
    if (products && parse_products(products, &cat, &covered, &hcfg.n_covered_kms)) {
        status = 2;
        goto out;
    }
    hcfg.covered_kms = covered;
    cli.host = malloc(sizeof *cli.host);
    if (!cli.host || host_init(cli.host, &hcfg, err, sizeof err)) {
        fprintf(stderr, "kmsload host: %s\n", cli.host ? err : "out of memory");
        goto out;
    }
    if (state_path) {
        bool loaded;
        if (host_state_load(cli.host, state_path, &loaded, err, sizeof err)) {
            fprintf(stderr, "kmsload host: %s\n", err);
            goto out;
        }
        cli.state_path = state_path;
        if (loaded)
            printf("kmsload host: counts restored from %s\n", state_path);
    }
    if (log_path) {
        cli.log = &log;
        if (host_log_open(&log, log_path, &cat, err, sizeof err)) {
            fprintf(stderr, "kmsload host: %s\n", err);
            goto out;
        }
        scfg.log = host_log_request;
        scfg.log_arg = &log;
    }
    signal(SIGPIPE, SIG_IGN);
    cli.base = net_event_base_new();
    if (!cli.base) {
        fprintf(stderr, "kmsload host: cannot create an event loop\n");
        goto out;
    }
    cli.server = host_server_start(cli.base, cli.host, &scfg, err, sizeof err);
    if (!cli.server) {
        fprintf(stderr, "kmsload host: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < host_server_listener_count(cli.server); i++) {
        char text[NET_ADDR_TEXT];
        net_addr_format(host_server_listener_addr(cli.server, i), text, sizeof text);
        printf("kmsload host: listening on %s\n", text);
    }
    for (size_t i = 0; i < cat.n_apps; i++)
        printf("kmsload host: %s ePID %s\n", cat.apps[i].key, cli.host->epid[i]);
    fflush(stdout);
    struct event *ev_int = evsignal_new(cli.base, SIGINT, on_stop_signal, &cli);
    struct event *ev_term = evsignal_new(cli.base, SIGTERM, on_stop_signal, &cli);
    struct event *ev_usr1 = evsignal_new(cli.base, SIGUSR1, on_status_signal, &cli);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_usr1, NULL);
    struct event *housekeeping = event_new(cli.base, -1, EV_PERSIST, on_housekeeping, &cli);
    struct timeval every = {5, 0};
    event_add(housekeeping, &every);
    event_base_dispatch(cli.base);
    print_status(stderr, &cli);
    save_state(&cli);
    event_free(housekeeping);
    event_free(ev_int);
    event_free(ev_term);
    event_free(ev_usr1);
    status = 0;
out:
    if (cli.server)
        host_server_stop(cli.server);
    if (cli.base)
        event_base_free(cli.base);
    host_log_close(&log);
    free(cli.host);
    free(covered);
    catalog_free(&cat);
    return status;
}
