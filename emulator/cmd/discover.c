#include "discover.h"

#include "catalog.h"
#include "coverage.h"
#include "coverage_probe.h"
#include "dns_srv.h"
#include "hresult.h"
#include "netclient.h"
#include "probe_cmid.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char discover_usage[] =
    "Usage: kmsload discover [OPTIONS] DOMAIN\n"
    "\n"
    "Lists the KMS hosts published as _vlmcs._tcp.DOMAIN SRV records, as Windows clients find\n"
    "them, and probes each once with this machine's stable probe CMID (it adds at most one\n"
    "machine to a host's count, however often you run it): address, port, priority and weight,\n"
    "whether it answers, its ePID (and so its OS build) and its current count.\n"
    "\n"
    "Options:\n"
    "      --dns-server ADDR[:PORT]  ask this DNS server (default: the system's resolvers)\n"
    "  -p, --product NAME       edition to probe with (default: win10-pro)\n"
    "      --catalog FILE       catalogue file (default: $KMSLOAD_PRODUCTS, installed, built-in;\n"
    "                           --products FILE still works, deprecated)\n"
    "      --timeout DUR        DNS and each probe (default 5s; -t DUR still works, deprecated:\n"
    "                           -t is --target in the other subcommands)\n"
    "      --coverage           also ask each answering host about every product group (one\n"
    "                            request per group, as kmsload coverage does): its host OS, the\n"
    "                            host keys that explains and the groups it refuses\n"
    "      --json               print one JSON object instead of text\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status:\n"
    "  0  records found and every published host answers\n"
    "  1  warnings: a published host does not answer, a record without an address (stale),\n"
    "     or a host that refuses the probed product\n"
    "  2  bad usage\n"
    "  3  no _vlmcs._tcp record, or no answer from DNS\n";

/* One published host and what its probe found. */
struct discover_host {
    const struct dns_srv_record *rec;
    bool probed;
    struct client_session_result result;
    uint64_t elapsed_us;
    char peer[NET_ADDR_TEXT];
    char warning[512];
    struct coverage *coverage; /* --coverage, for a host that answered */
};

struct discover_state {
    struct event_base *base;
    unsigned outstanding;
};

struct discover_probe {
    struct discover_state *st;
    struct discover_host *host;
};

enum { OPT_DNS_SERVER = 256, OPT_PRODUCTS, OPT_CATALOG, OPT_TIMEOUT, OPT_JSON, OPT_COVERAGE };

static void add_note(struct discover_options *o, const char *note)
{
    if (o->n_notes < DISCOVER_NOTES_MAX)
        o->notes[o->n_notes++] = note;
}

/* --timeout DUR (or the old -t DUR): positive. */
static int parse_timeout(struct discover_options *o, char *err, size_t err_len)
{
    char why[200];
    if (value_parse_duration(optarg, false, &o->timeout_us, why, sizeof why) || o->timeout_us <= 0)
        return usage_set(err, err_len, "--timeout: %s",
                         o->timeout_us <= 0 ? "must be positive" : why);
    return 0;
}

/* One option getopt_long returned: 0, or -1 with a message in err. */
static int parse_one(int c, char **argv, struct discover_options *o, char *err, size_t err_len)
{
    char why[200];
    switch (c) {
    case OPT_DNS_SERVER:
        if (dns_srv_check_server(optarg, why, sizeof why))
            return usage_set(err, err_len, "--dns-server: %s", why);
        o->dns_server = optarg;
        return 0;
    case 'p':
        o->product = optarg;
        return 0;
    case OPT_PRODUCTS:
        add_note(o, USAGE_NOTE_PRODUCTS_FILE);
        o->products_file = optarg;
        return 0;
    case OPT_CATALOG:
        o->products_file = optarg;
        return 0;
    case 't':
        if (!usage_looks_like_duration(optarg))
            return usage_set(err, err_len,
                             "-t means --target, and discover has no target: give the DOMAIN "
                             "(--timeout DURATION for a timeout)");
        add_note(o, USAGE_NOTE_T_TIMEOUT);
        return parse_timeout(o, err, err_len);
    case OPT_TIMEOUT:
        return parse_timeout(o, err, err_len);
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_COVERAGE:
        o->coverage = true;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

/* The one DOMAIN argument after the options. */
static int parse_domain(int argc, char **argv, struct discover_options *o, char *err,
                        size_t err_len)
{
    if (optind >= argc)
        return usage_set(err, err_len, "missing the DNS DOMAIN (e.g. example.com)");
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    o->domain = argv[optind];
    if (!o->domain[0] || strlen(o->domain) >= NET_HOST_MAX || strchr(o->domain, ' '))
        return usage_set(err, err_len, "DOMAIN \"%s\" is not a DNS name", o->domain);
    return 0;
}

int discover_options_parse(int argc, char **argv, struct discover_options *o, char *err,
                           size_t err_len)
{
    static const struct option longopts[] = {
        {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
        {"product", required_argument, NULL, 'p'},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"coverage", no_argument, NULL, OPT_COVERAGE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof *o);
    o->product = "win10-pro";
    o->timeout_us = 5000000;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:t:h", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (o->help)
            return 0;
    }
    return parse_domain(argc, argv, o, err, err_len);
}

static int build_request(const struct catalog *cat, const char *product, struct kms_request *req)
{
    const struct catalog_sku *sku = catalog_find_sku(cat, product);
    if (!sku) {
        usage_error("discover", "unknown product \"%s\" (see kmsload probe --list-products)",
                    product);
        return -1;
    }
    const struct catalog_kms *kms = &cat->kms[sku->kms];
    memset(req, 0, sizeof *req);
    req->app_id = cat->apps[kms->app].id;
    req->kms_id = kms->id;
    req->sku_id = sku->id;
    req->n_policy = kms->n_policy;
    req->major = (uint16_t)kms->protocol;
    req->license_status = 2;
    req->binding_expiration = 43200;
    probe_cmid_stable(&req->cmid);
    kms_request_set_workstation(req, "kmsload-discover");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    req->client_time = filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec);
    return 0;
}

static void on_probe_done(struct net_client *client, const struct client_session_result *res,
                          void *arg)
{
    struct discover_probe *p = arg;
    p->host->result = *res;
    p->host->elapsed_us = net_client_elapsed_us(client);
    snprintf(p->host->peer, sizeof p->host->peer, "%s", net_client_peer(client));
    if (--p->st->outstanding == 0)
        event_base_loopbreak(p->st->base);
}

/* The host OS a build number in an ePID stands for (spec §9.1, §12.5). */
static const char *host_os_of_build(unsigned long build)
{
    static const struct {
        unsigned long build;
        const char *os;
    } builds[] = {
        {6002, "Windows Server 2008"},  {7601, "Windows Server 2008 R2"},
        {9200, "Windows Server 2012"},  {9600, "Windows Server 2012 R2"},
        {14393, "Windows Server 2016"}, {17763, "Windows Server 2019"},
        {20348, "Windows Server 2022"}, {26100, "Windows Server 2025"},
    };
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
        if (builds[i].build == build)
            return builds[i].os;
    return build >= 10240 ? "Windows 10 or later" : "unknown";
}

/* The build field of an ePID ("...-03-1033-20348.0000-..."), 0 when it has none. */
static unsigned long epid_build(const char *epid)
{
    const char *dot = strstr(epid, ".0000-");
    if (!dot)
        return 0;
    const char *start = dot;
    while (start > epid && start[-1] >= '0' && start[-1] <= '9')
        start--;
    return start < dot ? strtoul(start, NULL, 10) : 0;
}

static bool answered(const struct discover_host *h)
{
    return h->probed && (kms_outcome_has_count(h->result.outcome) ||
                         h->result.outcome == KMS_OUTCOME_HOST_ERROR ||
                         h->result.outcome == KMS_OUTCOME_RPC_FAULT);
}

/* Fills each host's warning; returns how many hosts have one. */
static unsigned judge(struct discover_host *hosts, size_t n, const char *product)
{
    unsigned warnings = 0;
    for (size_t i = 0; i < n; i++) {
        struct discover_host *h = &hosts[i];
        const struct client_session_result *r = &h->result;
        if (h->rec->addrs.n == 0)
            snprintf(h->warning, sizeof h->warning,
                     "stale record: %.255s has no address (%.127s); clients that pick it fail over",
                     h->rec->target, h->rec->addr_err);
        else if (!answered(h))
            snprintf(h->warning, sizeof h->warning,
                     "published but does not answer (%s%s%s): a decommissioned host whose record "
                     "is still published?",
                     kms_outcome_name(r->outcome), r->err.detail[0] ? ": " : "", r->err.detail);
        else if (r->outcome == KMS_OUTCOME_HOST_ERROR)
            snprintf(h->warning, sizeof h->warning, "answers but refuses %s: 0x%08X %s", product,
                     r->hresult, hresult_name(r->hresult));
        else if (r->outcome == KMS_OUTCOME_RPC_FAULT || r->outcome == KMS_OUTCOME_PROTOCOL_ERROR)
            snprintf(h->warning, sizeof h->warning, "answers with %s",
                     kms_outcome_name(r->outcome));
        if (h->warning[0])
            warnings++;
    }
    return warnings;
}

/* --coverage: every product group asked of each host that answered the probe. */
static void probe_coverage(const struct discover_options *o, const struct catalog *cat,
                           struct discover_host *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct discover_host *h = &hosts[i];
        if (!answered(h))
            continue;
        h->coverage = malloc(sizeof *h->coverage);
        if (!h->coverage)
            continue;
        coverage_init(h->coverage, cat);
        struct coverage_probe_options popt = {.addrs = &h->rec->addrs, .timeout_us = o->timeout_us};
        client_session_options_default(&popt.exchange);
        char err[256];
        if (coverage_probe(cat, &popt, h->coverage, err, sizeof err)) {
            free(h->coverage);
            h->coverage = NULL;
            continue;
        }
        coverage_judge(h->coverage, cat);
    }
}

/* "ws2019, office2019" and "ws2022, ws2025": the matched keys and the refused groups. */
static void coverage_lists(const struct coverage *cv, const struct catalog *cat, char *keys,
                           size_t keys_cap, char *refused, size_t refused_cap)
{
    size_t nk = 0, nr = 0;
    keys[0] = refused[0] = '\0';
    for (size_t i = 0; i < cv->matched.n && nk < keys_cap; i++)
        nk += (size_t)snprintf(keys + nk, keys_cap - nk, "%s%s", i ? ", " : "",
                               cat->csvlks[cv->matched.key[i]].key);
    for (size_t i = 0; i < cv->n_groups && nr < refused_cap; i++)
        if (cv->groups[i].state == COVERAGE_REFUSED)
            nr += (size_t)snprintf(refused + nr, refused_cap - nr, "%s%s", nr ? ", " : "",
                                   cat->kms[cv->groups[i].kms].key);
}

static void print_text(const struct discover_options *o, const struct dns_srv_set *set,
                       const struct discover_host *hosts, const struct kms_request *req,
                       unsigned warnings, const struct catalog *cat)
{
    char g[GUID_TEXT_LEN + 1];
    guid_format(&req->cmid, g);
    printf("%s: %zu record%s (DNS server: %s)\n", set->name, set->total, set->total == 1 ? "" : "s",
           o->dns_server ? o->dns_server : "system");
    if (set->total > set->n)
        printf("only the %zu most preferred are listed and probed; %zu left out (priority "
               "%u..%u)\n",
               set->n, set->total - set->n, set->left_out_priority_min, set->left_out_priority_max);
    printf("probe: %s, CMID %s\n\n", o->product, g);
    printf("%-4s %-6s %-28s %-5s %-22s %-17s %-9s %s\n", "PRIO", "WEIGHT", "HOST", "PORT",
           "ADDRESS", "ANSWER", "COUNT", "EPID (HOST OS)");
    for (size_t i = 0; i < set->n; i++) {
        const struct discover_host *h = &hosts[i];
        const struct client_session_result *r = &h->result;
        char count[24] = "-", addr[NET_ADDR_TEXT] = "-", answer[32];
        char epid[160] = "-";
        if (h->rec->addrs.n)
            net_addr_format((const struct sockaddr *)&h->rec->addrs.addr[0], addr, sizeof addr);
        if (h->peer[0])
            snprintf(addr, sizeof addr, "%s", h->peer);
        if (h->rec->addrs.n == 0)
            snprintf(answer, sizeof answer, "no address");
        else if (!h->probed)
            snprintf(answer, sizeof answer, "not probed");
        else if (r->outcome == KMS_OUTCOME_HOST_ERROR)
            snprintf(answer, sizeof answer, "%s", hresult_name(r->hresult));
        else
            snprintf(answer, sizeof answer, "%s", kms_outcome_name(r->outcome));
        if (h->probed && kms_outcome_has_count(r->outcome)) {
            snprintf(count, sizeof count, "%u/%u", r->response.count, req->n_policy);
            unsigned long build = epid_build(r->response.epid);
            snprintf(epid, sizeof epid, "%s (%lu: %s)", r->response.epid, build,
                     host_os_of_build(build));
        }
        printf("%-4u %-6u %-28s %-5u %-22s %-17s %-9s %s\n", h->rec->priority, h->rec->weight,
               h->rec->target, h->rec->port, addr, answer, count, epid);
    }
    for (size_t i = 0; cat && i < set->n; i++) {
        const struct coverage *cv = hosts[i].coverage;
        if (!cv)
            continue;
        char os[160], keys[400], refused[800];
        coverage_host_text(cv, os, sizeof os);
        coverage_lists(cv, cat, keys, sizeof keys, refused, sizeof refused);
        printf("%s%s:%u coverage: %s; host keys %s; refuses %s\n", i ? "" : "\n",
               hosts[i].rec->target, hosts[i].rec->port, os, keys[0] ? keys : "none matched",
               refused[0] ? refused : "nothing");
    }
    if (warnings) {
        printf("\n%u warning%s:\n", warnings, warnings == 1 ? "" : "s");
        for (size_t i = 0; i < set->n; i++)
            if (hosts[i].warning[0])
                printf("  %s:%u: %s\n", hosts[i].rec->target, hosts[i].rec->port, hosts[i].warning);
    }
}

/* --coverage for one host: its OS, the host keys that explain it, the groups activated and
 * refused. */
static json_t *coverage_json(const struct coverage *cv, const struct catalog *cat)
{
    json_t *jc = json_object(), *jk = json_array(), *jact = json_array(), *jref = json_array();
    char os[160];
    coverage_host_text(cv, os, sizeof os);
    json_object_set_new(jc, "host_os_text", json_string(os));
    json_object_set_new(jc, "build", json_integer(cv->build));
    for (size_t k = 0; k < cv->matched.n; k++)
        json_array_append_new(jk, json_string(cat->csvlks[cv->matched.key[k]].key));
    for (size_t k = 0; k < cv->n_groups; k++) {
        const struct coverage_group *grp = &cv->groups[k];
        if (grp->state == COVERAGE_ACTIVATED)
            json_array_append_new(jact, json_string(cat->kms[grp->kms].key));
        else if (grp->state == COVERAGE_REFUSED)
            json_array_append_new(jref, json_string(cat->kms[grp->kms].key));
    }
    json_object_set_new(jc, "host_keys", jk);
    json_object_set_new(jc, "activated", jact);
    json_object_set_new(jc, "refused", jref);
    return jc;
}

/* The record itself: target, port, priority, weight and the addresses it resolved to. */
static void record_json(json_t *jh, const struct dns_srv_record *rec)
{
    json_t *jaddrs = json_array();
    json_object_set_new(jh, "target", json_string(rec->target));
    json_object_set_new(jh, "port", json_integer(rec->port));
    json_object_set_new(jh, "priority", json_integer(rec->priority));
    json_object_set_new(jh, "weight", json_integer(rec->weight));
    for (size_t a = 0; a < rec->addrs.n; a++) {
        char text[NET_ADDR_TEXT];
        net_addr_format((const struct sockaddr *)&rec->addrs.addr[a], text, sizeof text);
        json_array_append_new(jaddrs, json_string(text));
    }
    json_object_set_new(jh, "addresses", jaddrs);
    if (rec->addrs.n == 0)
        json_object_set_new(jh, "address_error", json_string(rec->addr_err));
}

/* What the probe found: outcome, latency, HRESULT or count, ePID and intervals, or the error. */
static void probe_result_json(json_t *jh, const struct discover_host *h,
                              const struct kms_request *req)
{
    const struct client_session_result *r = &h->result;
    json_object_set_new(jh, "answers", json_boolean(answered(h)));
    json_object_set_new(jh, "outcome",
                        h->probed ? json_string(kms_outcome_name(r->outcome)) : json_null());
    if (!h->probed)
        return;
    json_object_set_new(jh, "address", json_string(h->peer));
    json_object_set_new(jh, "latency_ms", json_real((double)h->elapsed_us / 1000.0));
    if (r->outcome == KMS_OUTCOME_HOST_ERROR) {
        char hr[16];
        snprintf(hr, sizeof hr, "0x%08X", r->hresult);
        json_object_set_new(jh, "hresult", json_string(hr));
        json_object_set_new(jh, "hresult_name", json_string(hresult_name(r->hresult)));
    }
    if (kms_outcome_has_count(r->outcome)) {
        unsigned long build = epid_build(r->response.epid);
        json_object_set_new(jh, "count", json_integer(r->response.count));
        json_object_set_new(jh, "n_policy", json_integer(req->n_policy));
        json_object_set_new(jh, "epid", json_string(r->response.epid));
        json_object_set_new(jh, "host_build", json_integer((json_int_t)build));
        json_object_set_new(jh, "host_os", json_string(host_os_of_build(build)));
        json_object_set_new(jh, "activation_interval_min",
                            json_integer(r->response.activation_interval));
        json_object_set_new(jh, "renewal_interval_min", json_integer(r->response.renewal_interval));
    } else if (r->err.detail[0]) {
        json_object_set_new(jh, "error", json_string(r->err.detail));
    }
}

/* One published host as a JSON object. */
static json_t *host_json(const struct discover_host *h, const struct kms_request *req,
                         const struct catalog *cat)
{
    json_t *jh = json_object();
    record_json(jh, h->rec);
    probe_result_json(jh, h, req);
    if (h->coverage && cat)
        json_object_set_new(jh, "coverage", coverage_json(h->coverage, cat));
    json_object_set_new(jh, "warning", h->warning[0] ? json_string(h->warning) : json_null());
    return jh;
}

static void print_json(const struct discover_options *o, const struct dns_srv_set *set,
                       const struct discover_host *hosts, const struct kms_request *req, int status,
                       const char *problem, const struct catalog *cat)
{
    char g[GUID_TEXT_LEN + 1];
    json_t *root = json_object(), *jhosts = json_array(), *jwarn = json_array();
    json_object_set_new(root, "name", json_string(set->name));
    json_object_set_new(root, "records", json_integer((json_int_t)set->total));
    json_object_set_new(root, "left_out", json_integer((json_int_t)(set->total - set->n)));
    json_object_set_new(root, "dns_server",
                        o->dns_server ? json_string(o->dns_server) : json_null());
    json_object_set_new(root, "exit_status", json_integer(status));
    json_object_set_new(root, "product", json_string(o->product));
    if (req) {
        guid_format(&req->cmid, g);
        json_object_set_new(root, "probe_cmid", json_string(g));
    }
    for (size_t i = 0; hosts && i < set->n; i++) {
        const struct discover_host *h = &hosts[i];
        if (h->warning[0])
            json_array_append_new(
                jwarn, json_sprintf("%s:%u: %s", h->rec->target, h->rec->port, h->warning));
        json_array_append_new(jhosts, host_json(h, req, cat));
    }
    if (problem)
        json_array_append_new(jwarn, json_string(problem));
    json_object_set_new(root, "hosts", jhosts);
    json_object_set_new(root, "warnings", jwarn);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

/* Probes every host with an address at once, each bounded by the timeout. */
static int probe_all(const struct discover_options *o, struct discover_host *hosts, size_t n,
                     const struct kms_request *req)
{
    struct discover_state st = {.base = net_event_base_new()};
    if (!st.base)
        return -1;
    struct discover_probe probes[DNS_SRV_MAX];
    struct net_client *clients[DNS_SRV_MAX] = {NULL};
    uint8_t w_req[16];
    for (size_t i = 0; i < n; i++) {
        if (hosts[i].rec->addrs.n == 0)
            continue;
        struct net_client_params params = {.addrs = &hosts[i].rec->addrs};
        client_session_options_default(&params.options);
        params.timeout.tv_sec = (time_t)(o->timeout_us / 1000000);
        params.timeout.tv_usec = (suseconds_t)(o->timeout_us % 1000000);
        probes[i] = (struct discover_probe){&st, &hosts[i]};
        for (size_t k = 0; k < sizeof w_req; k++)
            w_req[k] = (uint8_t)(rand() & 0xff); /* the request IV only needs to vary */
        hosts[i].probed = true;
        st.outstanding++;
        clients[i] = net_client_start(st.base, &params, req, w_req, on_probe_done, &probes[i]);
        if (!clients[i]) {
            hosts[i].probed = false;
            st.outstanding--;
        }
    }
    if (st.outstanding)
        event_base_dispatch(st.base);
    for (size_t i = 0; i < n; i++)
        if (clients[i])
            net_client_free(clients[i]);
    event_base_free(st.base);
    return 0;
}

int discover_execute(const struct discover_options *o)
{
    struct catalog cat;
    char err[512];
    if (catalog_load(&cat, o->products_file, err, sizeof err)) {
        fprintf(stderr, "kmsload discover: %s\n", err);
        return DISCOVER_EXIT_USAGE;
    }
    struct kms_request req;
    if (build_request(&cat, o->product, &req)) {
        catalog_free(&cat);
        return DISCOVER_EXIT_USAGE;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    static struct dns_srv_set set; /* large; one per process */
    struct dns_srv_query q = {
        .domain = o->domain, .dns_server = o->dns_server, .timeout_us = o->timeout_us};
    enum dns_srv_status ds = dns_srv_lookup(&q, &set, err, sizeof err);
    if (ds != DNS_SRV_OK) {
        if (o->json)
            print_json(o, &set, NULL, NULL, DISCOVER_EXIT_NO_RECORDS, err, NULL);
        fprintf(stderr, "kmsload discover: %s\n", err);
        catalog_free(&cat);
        return DISCOVER_EXIT_NO_RECORDS;
    }
    /* The records come ranked as a client prefers them (dns_srv_compare). */
    struct discover_host hosts[DNS_SRV_MAX];
    memset(hosts, 0, sizeof hosts);
    for (size_t i = 0; i < set.n; i++)
        hosts[i].rec = &set.rec[i];
    if (probe_all(o, hosts, set.n, &req)) {
        fprintf(stderr, "kmsload discover: cannot create an event loop\n");
        catalog_free(&cat);
        return DISCOVER_EXIT_NO_RECORDS;
    }
    unsigned warnings = judge(hosts, set.n, o->product);
    if (o->coverage)
        probe_coverage(o, &cat, hosts, set.n);
    int status = warnings ? DISCOVER_EXIT_WARNINGS : DISCOVER_EXIT_OK;
    if (o->json)
        print_json(o, &set, hosts, &req, status, NULL, &cat);
    else
        print_text(o, &set, hosts, &req, warnings, &cat);
    for (size_t i = 0; i < set.n; i++)
        free(hosts[i].coverage);
    catalog_free(&cat);
    return status;
}

int discover_main(int argc, char **argv)
{
    struct discover_options o;
    char err[4096];
    int rc = discover_options_parse(argc, argv, &o, err, sizeof err);
    for (size_t i = 0; i < o.n_notes; i++)
        usage_note("discover", o.notes[i]);
    if (rc) {
        usage_error("discover", "%s", err);
        return DISCOVER_EXIT_USAGE;
    }
    if (o.help) {
        fputs(discover_usage, stdout);
        return DISCOVER_EXIT_OK;
    }
    return discover_execute(&o);
}
