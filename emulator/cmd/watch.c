#include "watch.h"

#include "catalog.h"
#include "metrics_http.h"
#include "netclient.h"
#include "probe_cmid.h"
#include "usage.h"
#include "value_parse.h"
#include "watch_metrics.h"

#include <event2/event.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char watch_usage[] =
    "Usage: kmsload watch HOST[:PORT] [OPTIONS]\n"
    "\n"
    "Watches a production KMS host: every interval (the first round at start) one request per\n"
    "application (Windows, Office 2010, Office 2013 and later) with this machine's client\n"
    "machine ID (the one kmsload probe sends), the same across rounds and restarts, so the\n"
    "host's counts grow by at most one per application, ever. Prints a line when an answer\n"
    "changes (count, HRESULT, ePID, reachability) and, with --metrics, serves the answers to\n"
    "Prometheus. Stops on SIGINT/SIGTERM.\n"
    "\n"
    "  -m, --metrics [ADDR:]PORT serve /metrics there (ADDR defaults to 127.0.0.1)\n"
    "  -i, --interval DUR        time between rounds (default 5m, at least 1s)\n"
    "  -c, --count N             stop after N rounds (default: run until stopped)\n"
    "  -t, --timeout DUR         per-request timeout (default 10s)\n"
    "      --products LIST       what to request, one per application, comma-separated catalogue\n"
    "                            editions or groups (default "
    "win10-pro,office2010,office2016-proplus)\n"
    "      --cmid-seed TEXT      derive the client machine ID from TEXT instead of "
    "/etc/machine-id\n"
    "                            (else the host name); give one in containers, whose ID changes\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 when stopped by a signal or after --count rounds, 2 for bad usage.\n";

#define WATCH_DEFAULT_PRODUCTS "win10-pro,office2010,office2016-proplus"

struct watch;

struct watch_probe {
    struct watch *w;
    struct watch_app_state *state;
    struct kms_request request; /* template: times and IVs are set per round */
    struct net_client *client;
    char last_line[400]; /* what was printed last, to print changes only */
};

struct watch {
    struct event_base *base;
    char host[NET_HOST_MAX];
    uint16_t port;
    char target[NET_HOST_MAX + 8];
    struct net_addrs addrs;
    struct net_client_params params;
    struct watch_metrics metrics;
    struct watch_probe probes[WATCH_MAX_APPS];
    size_t n_probes;
    unsigned in_flight;
    unsigned long rounds, max_rounds; /* max_rounds 0: no limit */
    struct event *timer;
};

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timestamp(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void random_bytes(uint8_t *out, size_t len)
{
    if (RAND_bytes(out, (int)len) != 1)
        for (size_t i = 0; i < len; i++)
            out[i] = (uint8_t)rand();
}

static void round_over(struct watch *w)
{
    w->rounds++;
    /* loopexit, unlike loopbreak, also holds when a round ends before the loop started. */
    if (w->max_rounds && w->rounds >= w->max_rounds)
        event_base_loopexit(w->base, NULL);
}

static void on_probe_done(struct net_client *client, const struct client_session_result *res,
                          void *arg)
{
    struct watch_probe *p = arg;
    struct watch *w = p->w;
    double duration = client ? (double)net_client_elapsed_us(client) / 1e6 : 0;
    watch_app_state_record(p->state, res, duration, unix_now());
    char line[400], ts[32];
    watch_app_state_describe(p->state, line, sizeof line);
    if (strcmp(line, p->last_line) != 0) {
        timestamp(ts, sizeof ts);
        printf("%s %s %s: %s%s%s%s\n", ts, w->target, p->state->application, line,
               p->last_line[0] ? " (was: " : "", p->last_line, p->last_line[0] ? ")" : "");
        fflush(stdout);
        snprintf(p->last_line, sizeof p->last_line, "%s", line);
    }
    if (client)
        net_client_free(client);
    p->client = NULL;
    if (--w->in_flight == 0)
        round_over(w);
}

static void start_round(struct watch *w)
{
    if (w->in_flight > 0)
        return; /* the previous round is still waiting for answers (bounded by --timeout) */
    char err[256];
    bool resolved = net_resolve(w->host, w->port, false, &w->addrs, err, sizeof err) == 0;
    w->in_flight = (unsigned)w->n_probes;
    for (size_t i = 0; i < w->n_probes; i++) {
        struct watch_probe *p = &w->probes[i];
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        p->request.client_time = filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec);
        uint8_t w_req[16];
        random_bytes(w_req, sizeof w_req);
        p->client =
            resolved ? net_client_start(w->base, &w->params, &p->request, w_req, on_probe_done, p)
                     : NULL;
        if (!p->client) {
            struct client_session_result res;
            memset(&res, 0, sizeof res);
            res.outcome = KMS_OUTCOME_REFUSED;
            snprintf(res.err.detail, sizeof res.err.detail, "%.150s",
                     resolved ? "out of memory" : err);
            on_probe_done(NULL, &res, p);
        }
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    start_round(arg);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct watch *w = arg;
    (void)what;
    fprintf(stderr, "kmsload watch: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(w->base);
}

/* A catalogue edition ("win10-pro") or group ("office2010") → the request to send for it. */
static int probe_request(const struct catalog *cat, const char *name, struct kms_request *req,
                         const struct catalog_kms **group)
{
    const struct catalog_sku *sku = catalog_find_sku(cat, name);
    const struct catalog_kms *kms = sku ? &cat->kms[sku->kms] : catalog_find_kms(cat, name);
    if (!kms)
        return -1;
    if (!sku)
        for (size_t i = 0; i < cat->n_skus && !sku; i++)
            if (&cat->kms[cat->skus[i].kms] == kms)
                sku = &cat->skus[i];
    memset(req, 0, sizeof *req);
    req->major = (uint16_t)kms->protocol;
    req->app_id = cat->apps[kms->app].id;
    req->kms_id = kms->id;
    if (sku)
        req->sku_id = sku->id;
    req->n_policy = kms->n_policy;
    req->license_status = 2; /* initial grace, as a machine that has not activated yet */
    req->binding_expiration = 43200;
    *group = kms;
    return 0;
}

int watch_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"metrics", required_argument, NULL, 'm'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"products", required_argument, NULL, 'P'},
        {"cmid-seed", required_argument, NULL, 'S'},
        {"catalog", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *metrics_spec = NULL, *products = WATCH_DEFAULT_PRODUCTS, *seed_opt = NULL;
    const char *catalog_file = NULL;
    int64_t interval_us = 300000000, timeout_us = 10000000;
    unsigned long max_rounds = 0;
    char err[512];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:i:c:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            metrics_spec = optarg;
            break;
        case 'i':
            if (value_parse_duration(optarg, false, &interval_us, err, sizeof err) ||
                interval_us < 1000000) {
                usage_error("watch", "--interval \"%s\": expected a duration of at least 1s",
                            optarg);
                return 2;
            }
            break;
        case 't':
            if (value_parse_duration(optarg, false, &timeout_us, err, sizeof err) ||
                timeout_us <= 0) {
                usage_error("watch", "--timeout \"%s\": expected a positive duration", optarg);
                return 2;
            }
            break;
        case 'c':
            if (value_parse_uint(optarg, 1, 1000000000, &max_rounds)) {
                usage_error("watch", "--count \"%s\": expected a number of rounds, 1 or more",
                            optarg);
                return 2;
            }
            break;
        case 'P':
            products = optarg;
            break;
        case 'S':
            if (!*optarg) {
                usage_error("watch", "--cmid-seed: must not be empty");
                return 2;
            }
            seed_opt = optarg;
            break;
        case 'C':
            catalog_file = optarg;
            break;
        case 'h':
            fputs(watch_usage, stdout);
            return 0;
        case ':':
            usage_error("watch", "option %s needs a value", argv[optind - 1]);
            return 2;
        default:
            usage_error("watch", "unknown option \"%s\"", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        usage_error("watch", "missing the target HOST[:PORT]");
        return 2;
    }
    if (optind + 1 < argc) {
        usage_error("watch", "unexpected argument \"%s\"", argv[optind + 1]);
        return 2;
    }
    struct watch *w = calloc(1, sizeof *w);
    if (!w)
        return 2;
    int status = 2;
    struct catalog cat;
    bool cat_loaded = false;
    struct metrics_http *http = NULL;
    struct event *ev_int = NULL, *ev_term = NULL;
    char *list = NULL;
    if (net_parse_target(argv[optind], KMS_DEFAULT_PORT, w->host, sizeof w->host, &w->port, err,
                         sizeof err)) {
        usage_error("watch", "%s", err);
        goto out;
    }
    snprintf(w->target, sizeof w->target, strchr(w->host, ':') ? "[%s]:%u" : "%s:%u", w->host,
             w->port);
    if (catalog_load(&cat, catalog_file, err, sizeof err)) {
        fprintf(stderr, "kmsload watch: %s\n", err);
        goto out;
    }
    cat_loaded = true;
    /* The machine's probe CMID (shared with probe and discover): one entry per application in
     * the host's count, refreshed by every round, whichever of these commands sent it. */
    struct guid cmid;
    if (seed_opt)
        probe_cmid_from_seed(seed_opt, &cmid);
    else
        probe_cmid_stable(&cmid);

    list = strdup(products);
    if (!list)
        goto out;
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        struct watch_probe *p = &w->probes[w->n_probes];
        const struct catalog_kms *group;
        if (probe_request(&cat, item, &p->request, &group)) {
            usage_error("watch",
                        "--products: \"%s\" is not a catalogue edition or group (see "
                        "kmsload probe --list-products)",
                        item);
            goto out;
        }
        const struct catalog_app *app = &cat.apps[group->app];
        for (size_t i = 0; i < w->n_probes; i++)
            if (strcmp(w->probes[i].state->application, app->key) == 0) {
                usage_error("watch",
                            "--products: \"%s\" and \"%s\" are both %s: give one per "
                            "application",
                            w->probes[i].state->product, item, app->name);
                goto out;
            }
        if (w->n_probes == WATCH_MAX_APPS) {
            usage_error("watch", "--products: at most %d applications", WATCH_MAX_APPS);
            goto out;
        }
        p->request.cmid = cmid;
        char ws[64];
        snprintf(ws, sizeof ws, "kmsload-watch-%s", app->key);
        kms_request_set_workstation(&p->request, ws);
        p->w = w;
        p->state = &w->metrics.apps[w->n_probes];
        watch_app_state_init(p->state, app->key, item, group->n_policy);
        w->n_probes++;
    }
    if (w->n_probes == 0) {
        usage_error("watch", "--products: no product given");
        goto out;
    }
    w->metrics.n_apps = w->n_probes;
    w->metrics.host = w->target;
    w->metrics.interval_s = (double)interval_us / 1e6;
    w->max_rounds = max_rounds;
    client_session_options_default(&w->params.options);
    w->params.addrs = &w->addrs;
    w->params.timeout.tv_sec = (time_t)(timeout_us / 1000000);
    w->params.timeout.tv_usec = (suseconds_t)(timeout_us % 1000000);

    signal(SIGPIPE, SIG_IGN);
    w->base = net_event_base_new();
    if (!w->base) {
        fprintf(stderr, "kmsload watch: cannot create an event loop\n");
        goto out;
    }
    if (metrics_spec) {
        http = metrics_http_start(w->base, metrics_spec, watch_metrics_render, &w->metrics, err,
                                  sizeof err);
        if (!http) {
            usage_error("watch", "--metrics: %s", err);
            goto out;
        }
    }
    char every[32];
    value_format_duration(interval_us, every, sizeof every);
    printf("kmsload watch: %s every %s", w->target, every);
    for (size_t i = 0; i < w->n_probes; i++) {
        char g[GUID_TEXT_LEN + 1];
        guid_format(&w->probes[i].request.cmid, g);
        printf("%s %s as %s (CMID %s)", i ? "," : ";", w->probes[i].state->application,
               w->probes[i].state->product, g);
    }
    printf("\n");
    if (http)
        printf("kmsload watch: metrics on %s\n", metrics_http_url(http));
    fflush(stdout);

    ev_int = evsignal_new(w->base, SIGINT, on_stop_signal, w);
    ev_term = evsignal_new(w->base, SIGTERM, on_stop_signal, w);
    w->timer = event_new(w->base, -1, EV_PERSIST, on_timer, w);
    if (!ev_int || !ev_term || !w->timer) {
        fprintf(stderr, "kmsload watch: out of memory\n");
        goto out;
    }
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    struct timeval tv = {(time_t)(interval_us / 1000000), (suseconds_t)(interval_us % 1000000)};
    event_add(w->timer, &tv);
    start_round(w);
    event_base_dispatch(w->base);
    status = 0;
out:
    for (size_t i = 0; i < w->n_probes; i++)
        if (w->probes[i].client)
            net_client_free(w->probes[i].client);
    metrics_http_stop(http);
    if (w->timer)
        event_free(w->timer);
    if (ev_int)
        event_free(ev_int);
    if (ev_term)
        event_free(ev_term);
    if (w->base)
        event_base_free(w->base);
    if (cat_loaded)
        catalog_free(&cat);
    free(list);
    free(w);
    return status;
}
