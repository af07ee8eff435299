#include "watch.h"

#include "catalog.h"
#include "dns_srv.h"
#include "fd_limit.h"
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
    "Usage: kmsload watch HOST[:PORT]|dns:DOMAIN [OPTIONS]\n"
    "\n"
    "Watches production KMS hosts: every interval (the first round at start) one request per\n"
    "application (Windows, Office 2010, Office 2013 and later) with this machine's client\n"
    "machine ID (the one kmsload probe sends), the same across rounds and restarts, so a\n"
    "host's counts grow by at most one per application, ever. dns:DOMAIN watches every host\n"
    "the _vlmcs._tcp.DOMAIN SRV records publish, looked up again each round. Prints a line\n"
    "when an answer changes (count, HRESULT, ePID, reachability) and, with --metrics, serves\n"
    "the answers to Prometheus. Stops on SIGINT/SIGTERM.\n"
    "\n"
    "  -m, --metrics [ADDR:]PORT serve /metrics there (ADDR defaults to 127.0.0.1)\n"
    "  -i, --interval DUR        time between rounds (default 5m, at least 1s)\n"
    "  -c, --count N             stop after N rounds (default: run until stopped)\n"
    "  -t, --timeout DUR         per-request timeout, and the DNS lookup's (default 10s)\n"
    "      --products LIST       what to request, one per application, comma-separated catalogue\n"
    "                            editions or groups (default "
    "win10-pro,office2010,office2016-proplus)\n"
    "      --cmid-seed TEXT      derive the client machine ID from TEXT instead of "
    "/etc/machine-id\n"
    "                            (else the host name); give one in containers, whose ID changes\n"
    "      --dns-server ADDR[:PORT]  for dns: targets, ask this DNS server (default: the "
    "system's)\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 when stopped by a signal or after --count rounds, 2 for bad usage.\n";

#define WATCH_DEFAULT_PRODUCTS "win10-pro,office2010,office2016-proplus"
/* Open files asked for: probes of every host and application, and the metrics connections. */
#define WATCH_OPEN_FILES 4096

struct watch;

/* One application's probe of one host. */
struct watch_probe {
    struct watch *w;
    struct watch_target *target;
    struct watch_app_state *state;
    struct net_client *client;
    char last_line[400]; /* what was printed last, to print changes only */
};

/* One watched host: where it is and its probes (parallel to the metrics' host states). */
struct watch_target {
    struct watch_host_state *state;
    struct net_addrs addrs;
    bool resolved;
    char resolve_err[448];
    struct watch_probe probes[WATCH_MAX_APPS];
};

struct watch {
    const struct watch_options *opt;
    struct event_base *base;
    char host[NET_HOST_MAX]; /* a HOST[:PORT] target */
    uint16_t port;
    struct net_client_params params; /* addrs set per probe */
    struct kms_request requests[WATCH_MAX_APPS];
    struct watch_metrics metrics;
    struct watch_target targets[WATCH_MAX_HOSTS];
    char dns_line[400]; /* the last DNS problem printed */
    unsigned in_flight;
    unsigned long rounds;
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
    if (w->opt->max_rounds && w->rounds >= w->opt->max_rounds)
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
        printf("%s %s %s: %s%s%s%s\n", ts, p->target->state->name, p->state->application, line,
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

/* A host slot for name: the one already watching it, else a free or withdrawn one. */
static struct watch_target *target_slot(struct watch *w, const char *name)
{
    struct watch_metrics *m = &w->metrics;
    for (size_t i = 0; i < m->n_hosts; i++)
        if (strcmp(m->hosts[i].name, name) == 0)
            return &w->targets[i];
    size_t slot = m->n_hosts;
    if (m->n_hosts == 1 && !m->hosts[0].name[0]) {
        slot = 0; /* dns: the template slot takes the first host DNS names */
    } else if (slot == WATCH_MAX_HOSTS) {
        for (slot = 0; slot < WATCH_MAX_HOSTS && m->hosts[slot].listed; slot++)
            ;
        if (slot == WATCH_MAX_HOSTS)
            return NULL;
    } else {
        m->n_hosts++;
    }
    struct watch_host_state *hs = &m->hosts[slot];
    struct watch_target *t = &w->targets[slot];
    memset(t, 0, sizeof *t);
    snprintf(hs->name, sizeof hs->name, "%s", name);
    hs->listed = false;
    t->state = hs;
    for (size_t a = 0; a < m->n_apps; a++) {
        watch_app_state_init(&hs->apps[a], m->hosts[0].apps[a].application,
                             m->hosts[0].apps[a].product, m->hosts[0].apps[a].required);
        t->probes[a] = (struct watch_probe){.w = w, .target = t, .state = &hs->apps[a]};
    }
    return t;
}

static void print_dns(struct watch *w, const char *line)
{
    if (strcmp(line, w->dns_line) == 0)
        return;
    char ts[32];
    timestamp(ts, sizeof ts);
    printf("%s dns:%s: %s\n", ts, w->opt->dns_domain, line);
    fflush(stdout);
    snprintf(w->dns_line, sizeof w->dns_line, "%s", line);
}

/*
 * A dns: target: the hosts of this round's SRV answer (a failed lookup keeps the last ones, as
 * clients keep using a host they know). Hosts DNS no longer names are dropped with a line.
 */
static void refresh_dns_hosts(struct watch *w)
{
    static struct dns_srv_set set; /* large; one watch per process */
    char err[256], line[400];
    struct dns_srv_query q = {.domain = w->opt->dns_domain,
                              .dns_server = w->opt->dns_server,
                              .timeout_us = w->opt->timeout_us};
    enum dns_srv_status ds = dns_srv_lookup(&q, &set, err, sizeof err);
    w->metrics.dns_ok = ds == DNS_SRV_OK;
    if (ds != DNS_SRV_OK) {
        snprintf(line, sizeof line, "lookup failed: %.300s", err);
        print_dns(w, line);
        return;
    }
    bool seen[WATCH_MAX_HOSTS] = {false};
    unsigned listed = 0;
    for (size_t i = 0; i < set.n; i++) {
        char name[WATCH_HOST_NAME_MAX];
        snprintf(name, sizeof name, strchr(set.rec[i].target, ':') ? "[%.256s]:%u" : "%.256s:%u",
                 set.rec[i].target, set.rec[i].port);
        struct watch_target *t = target_slot(w, name);
        if (!t)
            continue;
        seen[t - w->targets] = true;
        t->state->listed = true;
        t->addrs = set.rec[i].addrs;
        t->resolved = set.rec[i].addrs.n > 0;
        snprintf(t->resolve_err, sizeof t->resolve_err, "%s has no address: %.150s", name,
                 set.rec[i].addr_err);
        listed++;
    }
    for (size_t i = 0; i < w->metrics.n_hosts; i++)
        if (w->metrics.hosts[i].listed && !seen[i]) {
            char ts[32];
            timestamp(ts, sizeof ts);
            printf("%s %s: no longer published in DNS, not watched\n", ts,
                   w->metrics.hosts[i].name);
            w->metrics.hosts[i].listed = false;
        }
    w->metrics.dns_hosts = listed;
    snprintf(line, sizeof line, "%u host%s published", listed, listed == 1 ? "" : "s");
    print_dns(w, line);
}

static void start_round(struct watch *w)
{
    if (w->in_flight > 0)
        return; /* the previous round is still waiting for answers (bounded by --timeout) */
    if (w->opt->dns_domain) {
        refresh_dns_hosts(w);
    } else {
        struct watch_target *t = &w->targets[0];
        t->resolved = net_resolve(w->host, w->port, false, &t->addrs, t->resolve_err,
                                  sizeof t->resolve_err) == 0;
    }
    unsigned probes = 0;
    for (size_t h = 0; h < w->metrics.n_hosts; h++)
        if (w->metrics.hosts[h].listed)
            probes += (unsigned)w->metrics.n_apps;
    if (probes == 0) {
        round_over(w);
        return;
    }
    w->in_flight = probes;
    for (size_t h = 0; h < w->metrics.n_hosts; h++) {
        struct watch_target *t = &w->targets[h];
        if (!t->state->listed)
            continue;
        for (size_t a = 0; a < w->metrics.n_apps; a++) {
            struct watch_probe *p = &t->probes[a];
            struct kms_request req = w->requests[a];
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            req.client_time = filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec);
            uint8_t w_req[16];
            random_bytes(w_req, sizeof w_req);
            struct net_client_params params = w->params;
            params.addrs = &t->addrs;
            p->client = t->resolved
                            ? net_client_start(w->base, &params, &req, w_req, on_probe_done, p)
                            : NULL;
            if (!p->client) {
                struct client_session_result res;
                memset(&res, 0, sizeof res);
                res.outcome = KMS_OUTCOME_REFUSED;
                snprintf(res.err.detail, sizeof res.err.detail, "%.150s",
                         t->resolved ? "out of memory" : t->resolve_err);
                on_probe_done(NULL, &res, p);
            }
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

enum { OPT_PRODUCTS = 256, OPT_CMID_SEED, OPT_DNS_SERVER, OPT_CATALOG };

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
    case 'h':
        o->help = true;
        return 0;
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

int watch_options_parse(int argc, char **argv, struct watch_options *o, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"metrics", required_argument, NULL, 'm'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"cmid-seed", required_argument, NULL, OPT_CMID_SEED},
        {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->products = WATCH_DEFAULT_PRODUCTS;
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
    if (optind >= argc)
        return usage_set(err, err_len, "missing the target HOST[:PORT] or dns:DOMAIN");
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    o->target = argv[optind];
    if (strncmp(o->target, "dns:", 4) == 0) {
        o->dns_domain = o->target + 4;
        if (!*o->dns_domain || strchr(o->dns_domain, ':') || strchr(o->dns_domain, '/'))
            return usage_set(err, err_len, "\"%s\": expected dns:DOMAIN, e.g. dns:corp.example",
                             o->target);
    } else {
        char host[NET_HOST_MAX], why[256];
        uint16_t port;
        if (net_parse_target(o->target, KMS_DEFAULT_PORT, host, sizeof host, &port, why,
                             sizeof why))
            return usage_set(err, err_len, "%s", why);
        if (o->dns_server)
            return usage_set(err, err_len, "--dns-server applies to dns:DOMAIN targets only");
    }
    return 0;
}

/* Names kept for the whole run: the application keys and products of the first host's states
 * point here (the catalogue is freed once the requests are built). */
struct watch_names {
    char app[WATCH_MAX_APPS][CATALOG_KEY_MAX];
    char product[WATCH_MAX_APPS][CATALOG_KEY_MAX + CATALOG_NAME_MAX];
};

/* The requests (one per application) from --products; returns 0 or -1 with a message. */
static int watch_products(struct watch *w, const struct catalog *cat, struct watch_names *names,
                          char *err, size_t err_len)
{
    const struct watch_options *o = w->opt;
    struct guid cmid;
    /* This machine's probe CMID (shared with probe and discover): one entry per application in
     * a host's count, refreshed by every round, whichever of these commands sent it. */
    if (o->cmid_seed)
        probe_cmid_from_seed(o->cmid_seed, &cmid);
    else
        probe_cmid_stable(&cmid);
    struct watch_host_state *first = &w->metrics.hosts[0];
    const char *p = o->products;
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[CATALOG_KEY_MAX + CATALOG_NAME_MAX];
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        if (!item[0])
            continue;
        size_t n = w->metrics.n_apps;
        const struct catalog_kms *group;
        if (n == WATCH_MAX_APPS)
            return usage_set(err, err_len, "--products: at most %d applications", WATCH_MAX_APPS);
        if (probe_request(cat, item, &w->requests[n], &group))
            return usage_set(err, err_len,
                             "--products: \"%s\" is not a catalogue edition or group (see "
                             "kmsload probe --list-products)",
                             item);
        const struct catalog_app *app = &cat->apps[group->app];
        for (size_t i = 0; i < n; i++)
            if (strcmp(first->apps[i].application, app->key) == 0)
                return usage_set(err, err_len,
                                 "--products: \"%s\" and \"%s\" are both %s: give one per "
                                 "application",
                                 first->apps[i].product, item, app->name);
        w->requests[n].cmid = cmid;
        char ws[64];
        snprintf(ws, sizeof ws, "kmsload-watch-%s", app->key);
        kms_request_set_workstation(&w->requests[n], ws);
        /* The application keys and product names outlive the catalogue in these copies. */
        snprintf(names->app[n], sizeof names->app[n], "%s", app->key);
        snprintf(names->product[n], sizeof names->product[n], "%s", item);
        watch_app_state_init(&first->apps[n], names->app[n], names->product[n], group->n_policy);
        n++;
        w->metrics.n_apps = n;
    }
    if (w->metrics.n_apps == 0)
        return usage_set(err, err_len, "--products: no product given");
    return 0;
}

static void announce(const struct watch *w, const struct metrics_http *http)
{
    const struct watch_options *o = w->opt;
    const struct watch_app_state *apps = w->metrics.hosts[0].apps;
    char every[32], g[GUID_TEXT_LEN + 1];
    value_format_duration(o->interval_us, every, sizeof every);
    guid_format(&w->requests[0].cmid, g);
    printf("kmsload watch: %s every %s, CMID %s;",
           o->dns_domain ? o->target : w->metrics.hosts[0].name, every, g);
    for (size_t i = 0; i < w->metrics.n_apps; i++)
        printf("%s %s as %s", i ? "," : "", apps[i].application, apps[i].product);
    printf("\n");
    if (http)
        printf("kmsload watch: metrics on %s\n", metrics_http_url(http));
    fflush(stdout);
}

/* The hosts watched: slot 0 a template until DNS names hosts, or the one --target. */
static void watch_targets_init(struct watch *w, const struct watch_options *o)
{
    if (o->dns_domain) {
        /* Slot 0 only carries the application template until DNS names hosts. */
        w->metrics.dns_domain = o->dns_domain;
        w->metrics.hosts[0].listed = false;
        w->metrics.hosts[0].name[0] = '\0';
        w->metrics.n_hosts = 1;
        w->targets[0].state = &w->metrics.hosts[0];
    } else {
        char name[WATCH_HOST_NAME_MAX];
        char err[256];
        net_parse_target(o->target, KMS_DEFAULT_PORT, w->host, sizeof w->host, &w->port, err,
                         sizeof err);
        snprintf(name, sizeof name, strchr(w->host, ':') ? "[%s]:%u" : "%s:%u", w->host, w->port);
        snprintf(w->metrics.hosts[0].name, sizeof w->metrics.hosts[0].name, "%s", name);
        w->metrics.n_hosts = 1;
        w->metrics.hosts[0].listed = true;
        struct watch_target *t = &w->targets[0];
        t->state = &w->metrics.hosts[0];
        for (size_t a = 0; a < w->metrics.n_apps; a++)
            t->probes[a] = (struct watch_probe){.w = w, .target = t, .state = &t->state->apps[a]};
    }
}

/* Everything watch_execute set up, in reverse. */
static void watch_release(struct watch *w, struct metrics_http *http, struct event *ev_int,
                          struct event *ev_term)
{
    for (size_t h = 0; h < w->metrics.n_hosts; h++)
        for (size_t a = 0; a < w->metrics.n_apps; a++)
            if (w->targets[h].probes[a].client)
                net_client_free(w->targets[h].probes[a].client);
    metrics_http_stop(http);
    if (w->timer)
        event_free(w->timer);
    if (ev_int)
        event_free(ev_int);
    if (ev_term)
        event_free(ev_term);
    if (w->base)
        event_base_free(w->base);
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
    w->opt = o;
    int status = 2;
    struct catalog cat;
    struct metrics_http *http = NULL;
    struct event *ev_int = NULL, *ev_term = NULL;
    char err[512];
    if (catalog_load(&cat, o->catalog_file, err, sizeof err)) {
        fprintf(stderr, "kmsload watch: %s\n", err);
        goto out_free;
    }
    if (watch_products(w, &cat, names, err, sizeof err)) {
        usage_error("watch", "%s", err);
        catalog_free(&cat);
        goto out_free;
    }
    catalog_free(&cat);

    w->metrics.interval_s = (double)o->interval_us / 1e6;
    client_session_options_default(&w->params.options);
    w->params.timeout.tv_sec = (time_t)(o->timeout_us / 1000000);
    w->params.timeout.tv_usec = (suseconds_t)(o->timeout_us % 1000000);
    watch_targets_init(w, o);

    signal(SIGPIPE, SIG_IGN);
    /* Probes and metrics connections each hold a descriptor: the default 1,024 is tight when the
     * metrics port is busy (the metrics server admits a quarter of the limit). */
    fd_limit_raise(WATCH_OPEN_FILES, NULL);
    w->base = net_event_base_new();
    if (!w->base) {
        fprintf(stderr, "kmsload watch: cannot create an event loop\n");
        goto out;
    }
    if (o->metrics) {
        struct metrics_http_options mo = {
            .listen = o->metrics, .render = watch_metrics_render, .render_arg = &w->metrics};
        http = usage_start_metrics("watch", w->base, &mo);
        if (!http) {
            status = 1;
            goto out;
        }
    }
    announce(w, http);
    ev_int = evsignal_new(w->base, SIGINT, on_stop_signal, w);
    ev_term = evsignal_new(w->base, SIGTERM, on_stop_signal, w);
    w->timer = event_new(w->base, -1, EV_PERSIST, on_timer, w);
    if (!ev_int || !ev_term || !w->timer) {
        fprintf(stderr, "kmsload watch: out of memory\n");
        status = 1;
        goto out;
    }
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_term, NULL);
    struct timeval tv = {(time_t)(o->interval_us / 1000000),
                         (suseconds_t)(o->interval_us % 1000000)};
    event_add(w->timer, &tv);
    start_round(w);
    event_base_dispatch(w->base);
    status = 0;
out:
    watch_release(w, http, ev_int, ev_term);
out_free:
    free(names);
    free(w);
    return status;
}

int watch_main(int argc, char **argv)
{
    struct watch_options o;
    char err[512];
    if (watch_options_parse(argc, argv, &o, err, sizeof err)) {
        usage_error("watch", "%s", err);
        return 2;
    }
    if (o.help) {
        fputs(watch_usage, stdout);
        return 0;
    }
    return watch_execute(&o);
}
