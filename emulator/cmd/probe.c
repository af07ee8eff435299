#include "probe.h"

#include "host_key_list.h"

#include "catalog.h"
#include "hresult.h"
#include "netclient.h"
#include "probe_cmid.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char probe_usage[] =
    "Usage: kmsload probe [OPTIONS] HOST[:PORT]\n"
    "       kmsload probe [OPTIONS] -t HOST[:PORT]\n"
    "\n"
    "Sends one activation request to a KMS host, as a real client would, and prints the\n"
    "decoded answer: count, activation and renewal intervals, ePID, HwId, HRESULT.\n"
    "HOST may be a name, an IPv4 address or an IPv6 address ([::1]:1688). Port defaults to 1688.\n"
    "\n"
    "Product (from the catalogue, see --list-products):\n"
    "  -p, --product NAME       edition to request (default: win10-pro)\n"
    "      --app ID|NAME        override the application ID (host counter)\n"
    "      --kms ID|NAME        override the KMS ID (product group)\n"
    "      --sku ID             override the SKU (activation) ID\n"
    "      --catalog FILE       catalogue file (default: $KMSLOAD_PRODUCTS, installed, built-in;\n"
    "                           --products FILE still works, deprecated)\n"
    "      --list-products      print the catalogue and exit\n"
    "      --list-host-keys     print the host keys (CSVLKs), what each activates and where it\n"
    "                           installs, and exit\n"
    "\n"
    "Request:\n"
    "  -P, --protocol 4|5|6     KMS protocol version (default: the product's)\n"
    "      --cmid stable|random|GUID  client machine ID (default: stable, one per machine from\n"
    "                           /etc/machine-id or the host name, so repeated probes count\n"
    "                           once in the host; random: a new machine every probe)\n"
    "      --cmid-prev GUID     previous client machine ID (default: none)\n"
    "  -w, --workstation NAME   workstation name, at most 63 characters (default: kmsload-probe)\n"
    "  -n, --n-policy N         minimum count the client requires (default: the product's)\n"
    "      --license-status N   0..6 (default 2, initial grace)\n"
    "      --binding-expiration MINUTES  remaining grace (default 43200)\n"
    "      --vm                 claim to be a virtual machine\n"
    "      --clock-skew ±DUR    shift the client time (e.g. +4h01m) to probe the host's 4 h check\n"
    "\n"
    "RPC:\n"
    "      --ndr64 on|off       offer NDR64 in the bind (default on)\n"
    "      --btfn on|off        offer bind-time feature negotiation (default on)\n"
    "      --alter-context      Windows-faithful: if only NDR64 is granted, switch to NDR32\n"
    "  -t, --target HOST[:PORT] the host (instead of the HOST argument)\n"
    "      --timeout DUR        whole-exchange timeout (default 10s; -t DUR still works,\n"
    "                           deprecated)\n"
    "\n"
    "Output:\n"
    "      --json               print one JSON object instead of text\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status:\n"
    "  0  activated (count >= N_Policy)\n"
    "  1  valid answer, count below N_Policy (the client would log 0xC004F038)\n"
    "  2  bad usage\n"
    "  3  host unreachable (refused, reset, closed, timed out)\n"
    "  4  host answered with an error (HRESULT or RPC fault)\n"
    "  5  protocol error (the answer failed decoding or verification)\n";

struct probe_state {
    struct event_base *base;
    struct client_session_result result;
    uint64_t elapsed_us;
    char peer[NET_ADDR_TEXT];
};

enum {
    OPT_APP = 256,
    OPT_KMS,
    OPT_SKU,
    OPT_PRODUCTS,
    OPT_CATALOG,
    OPT_TIMEOUT,
    OPT_LIST,
    OPT_LIST_HOST_KEYS,
    OPT_CMID,
    OPT_CMID_PREV,
    OPT_LICENSE,
    OPT_BINDING,
    OPT_VM,
    OPT_SKEW,
    OPT_NDR64,
    OPT_BTFN,
    OPT_ALTER,
    OPT_JSON
};

/* Options whose value is checked on its own: numbers, durations, switches. */
static int parse_value(int c, struct probe_options *o, char *err, size_t err_len)
{
    char why[160];
    unsigned long v;
    switch (c) {
    case 'P':
        if (value_parse_uint(optarg, 4, 6, &o->protocol))
            return usage_set(err, err_len, "--protocol \"%s\": expected 4, 5 or 6", optarg);
        return 0;
    case 'n':
        if (value_parse_uint(optarg, 0, 0xffffffffUL, &v))
            return usage_set(err, err_len, "--n-policy \"%s\": expected a number 0..4294967295",
                             optarg);
        o->n_policy = (long)v;
        return 0;
    case OPT_LICENSE:
        if (value_parse_uint(optarg, 0, 6, &o->license_status))
            return usage_set(err, err_len, "--license-status \"%s\": expected 0..6", optarg);
        return 0;
    case OPT_BINDING:
        if (value_parse_uint(optarg, 0, 0xffffffffUL, &o->binding_expiration))
            return usage_set(err, err_len, "--binding-expiration \"%s\": expected minutes", optarg);
        return 0;
    case OPT_SKEW:
        if (value_parse_duration(optarg, true, &o->clock_skew_us, why, sizeof why))
            return usage_set(err, err_len, "--clock-skew: %s", why);
        return 0;
    case OPT_NDR64:
    case OPT_BTFN:
        if (value_parse_switch(optarg,
                               c == OPT_NDR64 ? &o->exchange.offer_ndr64 : &o->exchange.offer_btfn))
            return usage_set(err, err_len, "--%s \"%s\": expected on or off",
                             c == OPT_NDR64 ? "ndr64" : "btfn", optarg);
        return 0;
    default: /* OPT_TIMEOUT */
        if (value_parse_duration(optarg, false, &o->timeout_us, why, sizeof why) ||
            o->timeout_us <= 0)
            return usage_set(err, err_len, "--timeout: %s",
                             o->timeout_us <= 0 ? "must be positive" : why);
        return 0;
    }
}

static int parse_one(int c, char **argv, struct probe_options *o, char *err, size_t err_len)
{
    switch (c) {
    case 'p':
        o->product = optarg;
        o->product_given = true;
        return 0;
    case OPT_APP:
        o->app = optarg;
        return 0;
    case OPT_KMS:
        o->kms = optarg;
        return 0;
    case OPT_SKU:
        o->sku = optarg;
        return 0;
    case OPT_PRODUCTS:
        o->deprecated = USAGE_NOTE_PRODUCTS_FILE;
        o->products_file = optarg;
        return 0;
    case OPT_CATALOG:
        o->products_file = optarg;
        return 0;
    case 't':
        if (usage_looks_like_duration(optarg)) { /* the old -t DURATION */
            o->deprecated = USAGE_NOTE_T_TIMEOUT;
            return parse_value(OPT_TIMEOUT, o, err, err_len);
        }
        o->target = optarg;
        return 0;
    case OPT_LIST:
        o->list_products = true;
        return 0;
    case OPT_LIST_HOST_KEYS:
        o->list_host_keys = true;
        return 0;
    case OPT_CMID:
        o->cmid = optarg;
        return 0;
    case OPT_CMID_PREV:
        o->cmid_prev = optarg;
        return 0;
    case 'w':
        o->workstation = optarg;
        return 0;
    case OPT_VM:
        o->vm = true;
        return 0;
    case OPT_ALTER:
        o->exchange.alter_context = true;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    case 'P':
    case 'n':
    case OPT_LICENSE:
    case OPT_BINDING:
    case OPT_SKEW:
    case OPT_NDR64:
    case OPT_BTFN:
    case OPT_TIMEOUT:
        return parse_value(c, o, err, err_len);
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

static void options_default(struct probe_options *o)
{
    memset(o, 0, sizeof *o);
    o->product = "win10-pro";
    o->workstation = "kmsload-probe";
    o->n_policy = -1;
    o->license_status = 2;
    o->binding_expiration = 43200;
    o->timeout_us = 10000000;
    client_session_options_default(&o->exchange);
}

int probe_options_parse(int argc, char **argv, struct probe_options *o, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"product", required_argument, NULL, 'p'},
        {"app", required_argument, NULL, OPT_APP},
        {"kms", required_argument, NULL, OPT_KMS},
        {"sku", required_argument, NULL, OPT_SKU},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"target", required_argument, NULL, 't'},
        {"list-products", no_argument, NULL, OPT_LIST},
        {"list-host-keys", no_argument, NULL, OPT_LIST_HOST_KEYS},
        {"protocol", required_argument, NULL, 'P'},
        {"cmid", required_argument, NULL, OPT_CMID},
        {"cmid-prev", required_argument, NULL, OPT_CMID_PREV},
        {"workstation", required_argument, NULL, 'w'},
        {"n-policy", required_argument, NULL, 'n'},
        {"license-status", required_argument, NULL, OPT_LICENSE},
        {"binding-expiration", required_argument, NULL, OPT_BINDING},
        {"vm", no_argument, NULL, OPT_VM},
        {"clock-skew", required_argument, NULL, OPT_SKEW},
        {"ndr64", required_argument, NULL, OPT_NDR64},
        {"btfn", required_argument, NULL, OPT_BTFN},
        {"alter-context", no_argument, NULL, OPT_ALTER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char why[160];
    int c;
    options_default(o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:P:w:n:t:h", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return -1;
        if (o->help)
            return 0;
    }
    if (o->list_products || o->list_host_keys)
        return 0;
    if (optind >= argc && !o->target)
        return usage_set(err, err_len, "missing the target HOST[:PORT] (or -t HOST[:PORT])");
    if (optind < argc && o->target)
        return usage_set(err, err_len, "the target given twice: \"%s\" and -t \"%s\"", argv[optind],
                         o->target);
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    if (!o->target)
        o->target = argv[optind];
    if (net_parse_target(o->target, KMS_DEFAULT_PORT, o->host, sizeof o->host, &o->port, why,
                         sizeof why))
        return usage_set(err, err_len, "%s", why);
    return 0;
}

static void random_bytes(uint8_t *out, size_t len)
{
    if (RAND_bytes(out, (int)len) != 1) {
        /* libcrypto's generator failing is rare; fall back to a time-seeded mix. */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            out[i] = (uint8_t)(x >> 56);
        }
    }
}

/* Resolves a GUID given as text or as a catalogue name through lookup. */
static int resolve_id(const char *opt, const char *text, struct guid *out, const struct guid *found)
{
    if (found) {
        *out = *found;
        return 0;
    }
    if (guid_parse(text, out) == 0)
        return 0;
    usage_error("probe", "%s \"%s\": not a GUID nor a catalogue name", opt, text);
    return -1;
}

static int build_request(const struct probe_options *o, const struct catalog *cat,
                         struct kms_request *req, const char **product_name)
{
    /* --kms GROUP alone: a client of that group (its edition, N_Policy and protocol), not a
     * Windows 10 Pro client with another KMS ID. */
    const char *product = o->product;
    if (!o->product_given && o->kms && catalog_find_kms(cat, o->kms))
        product = o->kms;
    const struct catalog_sku *sku = catalog_find_sku(cat, product);
    const struct catalog_kms *kms = NULL;
    if (!sku) {
        kms = catalog_find_kms(cat, product);
        if (!kms) {
            usage_error("probe", "unknown product \"%s\" (see --list-products)", product);
            return -1;
        }
        for (size_t i = 0; i < cat->n_skus && !sku; i++)
            if (&cat->kms[cat->skus[i].kms] == kms)
                sku = &cat->skus[i];
    }
    if (sku)
        kms = &cat->kms[sku->kms];
    const struct catalog_app *app = &cat->apps[kms->app];
    *product_name = sku ? sku->name : kms->name;

    memset(req, 0, sizeof *req);
    req->app_id = app->id;
    req->kms_id = kms->id;
    if (sku)
        req->sku_id = sku->id;
    req->n_policy = kms->n_policy;
    req->major = (uint16_t)kms->protocol;
    if (o->app) {
        const struct catalog_app *a = catalog_find_app(cat, o->app);
        if (resolve_id("--app", o->app, &req->app_id, a ? &a->id : NULL))
            return -1;
    }
    if (o->kms) {
        const struct catalog_kms *k = catalog_find_kms(cat, o->kms);
        if (resolve_id("--kms", o->kms, &req->kms_id, k ? &k->id : NULL))
            return -1;
    }
    if (o->sku) {
        const struct catalog_sku *s = catalog_find_sku(cat, o->sku);
        if (resolve_id("--sku", o->sku, &req->sku_id, s ? &s->id : NULL))
            return -1;
    }
    if (o->protocol)
        req->major = (uint16_t)o->protocol;
    if (o->n_policy >= 0)
        req->n_policy = (uint32_t)o->n_policy;
    req->minor = 0;
    req->vm_info = o->vm ? 1 : 0;
    req->license_status = (uint32_t)o->license_status;
    req->binding_expiration = (uint32_t)o->binding_expiration;
    if (!o->cmid || strcmp(o->cmid, "stable") == 0) {
        probe_cmid_stable(&req->cmid);
    } else if (strcmp(o->cmid, "random") == 0) {
        probe_cmid_random(&req->cmid);
    } else if (guid_parse(o->cmid, &req->cmid)) {
        usage_error("probe", "--cmid \"%s\": expected stable, random or a GUID", o->cmid);
        return -1;
    }
    if (o->cmid_prev && guid_parse(o->cmid_prev, &req->cmid_prev)) {
        usage_error("probe", "--cmid-prev \"%s\" is not a GUID", o->cmid_prev);
        return -1;
    }
    if (kms_request_set_workstation(req, o->workstation)) {
        usage_error("probe", "--workstation \"%s\": must be UTF-8 text of at most 63 characters",
                    o->workstation);
        return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    req->client_time =
        filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec) + (uint64_t)(o->clock_skew_us * 10);
    return 0;
}

static void on_done(struct net_client *client, const struct client_session_result *res, void *arg)
{
    struct probe_state *st = arg;
    st->result = *res;
    st->elapsed_us = net_client_elapsed_us(client);
    snprintf(st->peer, sizeof st->peer, "%s", net_client_peer(client));
    event_base_loopbreak(st->base);
}

static int exit_status_for(enum kms_outcome outcome)
{
    switch (outcome) {
    case KMS_OUTCOME_ACTIVATED:
        return PROBE_EXIT_ACTIVATED;
    case KMS_OUTCOME_BELOW_THRESHOLD:
        return PROBE_EXIT_BELOW_THRESHOLD;
    case KMS_OUTCOME_HOST_ERROR:
    case KMS_OUTCOME_RPC_FAULT:
        return PROBE_EXIT_HOST_ERROR;
    case KMS_OUTCOME_PROTOCOL_ERROR:
        return PROBE_EXIT_PROTOCOL_ERROR;
    default:
        return PROBE_EXIT_UNREACHABLE;
    }
}

static void checks_text(const struct kms_checks *checks, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned bit = 1; bit <= KMS_CHECK_IV_FRESH; bit <<= 1) {
        const char *state = (checks->passed & bit) ? "ok" : (checks->warned & bit) ? "WARN" : NULL;
        if (!state)
            continue;
        int w = snprintf(out + n, cap - n, "%s%s %s", n ? ", " : "",
                         kms_check_name((enum kms_check)bit), state);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

static void print_text(const struct probe_options *o, const struct kms_request *req,
                       const char *product, const struct probe_state *st, const struct catalog *cat)
{
    const struct client_session_result *r = &st->result;
    char g[GUID_TEXT_LEN + 1], t[24], ws[200], dur[32];
    const struct catalog_app *app = catalog_app_by_id(cat, &req->app_id);
    const struct catalog_kms *kms = catalog_kms_by_id(cat, &req->kms_id);
    printf("KMS probe of %s:%u (%s)\n\n", o->host, o->port, st->peer[0] ? st->peer : "no address");
    printf("Request\n");
    printf("  Product             %s\n", product);
    printf("  Protocol            V%u.%u over %s\n", req->major, req->minor,
           r->ndr == RPC_NDR64 ? "NDR64" : "NDR32");
    guid_format(&req->app_id, g);
    printf("  Application ID      %s (%s)\n", g, app ? app->name : "not in catalogue");
    guid_format(&req->kms_id, g);
    printf("  KMS ID              %s (%s)\n", g, kms ? kms->name : "not in catalogue");
    guid_format(&req->sku_id, g);
    printf("  SKU ID              %s\n", g);
    guid_format(&req->cmid, g);
    printf("  Client machine ID   %s\n", g);
    kms_request_workstation(req, ws, sizeof ws);
    printf("  Workstation         %s\n", ws);
    printf("  N_Policy            %u\n", req->n_policy);
    filetime_format(req->client_time, t);
    value_format_duration(o->clock_skew_us, dur, sizeof dur);
    printf("  Client time (UTC)   %s%s%s\n", t, o->clock_skew_us ? ", skewed by " : "",
           o->clock_skew_us ? dur : "");
    printf("  VM / license status %s / %u (%s)\n", req->vm_info ? "yes" : "no", req->license_status,
           kms_license_status_name(req->license_status));
    printf("\nResult\n");
    value_format_duration((int64_t)st->elapsed_us, dur, sizeof dur);
    printf("  Outcome             %s after %s\n", kms_outcome_name(r->outcome), dur);
    if (kms_outcome_has_count(r->outcome)) {
        const struct kms_response *resp = &r->response;
        char checks[400], hw[17];
        printf("  Count               %u (N_Policy %u: %s)\n", resp->count, req->n_policy,
               r->outcome == KMS_OUTCOME_ACTIVATED ? "activated" : "below threshold");
        if (r->outcome == KMS_OUTCOME_BELOW_THRESHOLD)
            printf("  HRESULT             0x%08X %s: %s\n", r->hresult, hresult_name(r->hresult),
                   hresult_meaning(r->hresult));
        printf("  Activation interval %u min\n", resp->activation_interval);
        printf("  Renewal interval    %u min\n", resp->renewal_interval);
        printf("  Host ePID           %s\n", resp->epid);
        if (resp->major >= 6) {
            hex_format(resp->hwid, 8, hw);
            printf("  Host HwId           %s\n", hw);
        }
        checks_text(&r->checks, checks, sizeof checks);
        printf("  Checks              %s\n", checks);
    } else if (r->outcome == KMS_OUTCOME_HOST_ERROR) {
        printf("  HRESULT             0x%08X %s\n", r->hresult, hresult_name(r->hresult));
        printf("                      %s\n", hresult_meaning(r->hresult));
    } else if (r->outcome == KMS_OUTCOME_RPC_FAULT) {
        printf("  RPC fault           0x%08X %s\n", r->hresult, rpc_fault_name(r->hresult));
        printf("                      %s\n", rpc_fault_meaning(r->hresult));
    } else {
        printf("  Error               %s%s%s\n", r->err.code ? proto_code_name(r->err.code) : "",
               r->err.code ? ": " : "", r->err.detail);
    }
}

static void print_json(const struct probe_options *o, const struct kms_request *req,
                       const char *product, const struct probe_state *st, int status)
{
    const struct client_session_result *r = &st->result;
    char g[GUID_TEXT_LEN + 1], t[24], ws[200], hr[16];
    json_t *root = json_object(), *jreq = json_object();
    json_object_set_new(root, "target", json_sprintf("%s:%u", o->host, o->port));
    json_object_set_new(root, "address", json_string(st->peer));
    json_object_set_new(root, "outcome", json_string(kms_outcome_name(r->outcome)));
    json_object_set_new(root, "exit_status", json_integer(status));
    /* Measured in microseconds: three decimals of a millisecond (2.817, not 2.8170000000000002;
     * json_dumps writes at most 10 significant digits). */
    json_object_set_new(root, "latency_ms", json_real((double)st->elapsed_us / 1000.0));
    json_object_set_new(jreq, "product", json_string(product));
    json_object_set_new(jreq, "protocol", json_sprintf("%u.%u", req->major, req->minor));
    json_object_set_new(jreq, "ndr", json_string(r->ndr == RPC_NDR64 ? "NDR64" : "NDR32"));
    guid_format(&req->app_id, g);
    json_object_set_new(jreq, "application_id", json_string(g));
    guid_format(&req->kms_id, g);
    json_object_set_new(jreq, "kms_id", json_string(g));
    guid_format(&req->sku_id, g);
    json_object_set_new(jreq, "sku_id", json_string(g));
    guid_format(&req->cmid, g);
    json_object_set_new(jreq, "cmid", json_string(g));
    kms_request_workstation(req, ws, sizeof ws);
    json_object_set_new(jreq, "workstation", json_string(ws));
    json_object_set_new(jreq, "n_policy", json_integer(req->n_policy));
    filetime_format(req->client_time, t);
    json_object_set_new(jreq, "client_time", json_string(t));
    json_object_set_new(jreq, "clock_skew_s", json_real((double)o->clock_skew_us / 1e6));
    json_object_set_new(jreq, "vm", json_boolean(req->vm_info));
    json_object_set_new(jreq, "license_status", json_integer(req->license_status));
    json_object_set_new(root, "request", jreq);
    if (r->hresult || r->outcome == KMS_OUTCOME_HOST_ERROR) {
        snprintf(hr, sizeof hr, "0x%08X", r->hresult);
        json_object_set_new(root, r->outcome == KMS_OUTCOME_RPC_FAULT ? "rpc_fault" : "hresult",
                            json_string(hr));
        json_object_set_new(root, "hresult_name",
                            json_string(r->outcome == KMS_OUTCOME_RPC_FAULT
                                            ? rpc_fault_name(r->hresult)
                                            : hresult_name(r->hresult)));
    }
    if (kms_outcome_has_count(r->outcome)) {
        const struct kms_response *resp = &r->response;
        json_t *jr = json_object(), *checks = json_array(), *warnings = json_array();
        char hw[17];
        json_object_set_new(jr, "count", json_integer(resp->count));
        json_object_set_new(jr, "activation_interval_min", json_integer(resp->activation_interval));
        json_object_set_new(jr, "renewal_interval_min", json_integer(resp->renewal_interval));
        json_object_set_new(jr, "epid", json_string(resp->epid));
        if (resp->major >= 6) {
            hex_format(resp->hwid, 8, hw);
            json_object_set_new(jr, "hwid", json_string(hw));
        }
        json_object_set_new(jr, "size", json_integer((json_int_t)resp->wire_len));
        for (unsigned bit = 1; bit <= KMS_CHECK_IV_FRESH; bit <<= 1) {
            if (r->checks.passed & bit)
                json_array_append_new(checks, json_string(kms_check_name((enum kms_check)bit)));
            if (r->checks.warned & bit)
                json_array_append_new(warnings, json_string(kms_check_name((enum kms_check)bit)));
        }
        json_object_set_new(jr, "checks_passed", checks);
        json_object_set_new(jr, "warnings", warnings);
        json_object_set_new(root, "response", jr);
    } else if (r->err.detail[0]) {
        json_object_set_new(root, "error", json_string(r->err.detail));
        if (r->err.code)
            json_object_set_new(root, "error_code", json_string(proto_code_name(r->err.code)));
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (text)
        puts(text);
    free(text);
    json_decref(root);
}

static void list_products(const struct catalog *cat)
{
    printf("%-22s %-44s %-9s %s\n", "KEY", "PRODUCT", "PROTOCOL", "N_POLICY / GROUP");
    for (size_t i = 0; i < cat->n_skus; i++) {
        const struct catalog_sku *s = &cat->skus[i];
        const struct catalog_kms *k = &cat->kms[s->kms];
        printf("%-22s %-44s V%-8u %u / %s\n", s->key, s->name, k->protocol, k->n_policy, k->name);
    }
}

/* Sends the request and waits for the answer (or the failure) into st. */
static void probe_exchange(const struct probe_options *o, const struct kms_request *req,
                           struct probe_state *st)
{
    struct net_addrs addrs;
    char err[512];
    if (net_resolve(o->host, o->port, false, &addrs, err, sizeof err)) {
        st->result.outcome = KMS_OUTCOME_REFUSED;
        snprintf(st->result.err.detail, sizeof st->result.err.detail, "%.150s", err);
        return;
    }
    st->base = net_event_base_new();
    if (!st->base) {
        st->result.outcome = KMS_OUTCOME_REFUSED;
        snprintf(st->result.err.detail, sizeof st->result.err.detail, "no event loop");
        fprintf(stderr, "kmsload probe: cannot create an event loop\n");
        return;
    }
    struct net_client_params params = {.addrs = &addrs, .options = o->exchange};
    params.timeout.tv_sec = (time_t)(o->timeout_us / 1000000);
    params.timeout.tv_usec = (suseconds_t)(o->timeout_us % 1000000);
    uint8_t w_req[16];
    random_bytes(w_req, sizeof w_req);
    struct net_client *client = net_client_start(st->base, &params, req, w_req, on_done, st);
    if (!client) {
        st->result.outcome = KMS_OUTCOME_REFUSED;
        snprintf(st->result.err.detail, sizeof st->result.err.detail, "out of memory");
        fprintf(stderr, "kmsload probe: out of memory\n");
    } else {
        event_base_dispatch(st->base);
        net_client_free(client);
    }
    event_base_free(st->base);
    st->base = NULL;
}

int probe_execute(const struct probe_options *o)
{
    struct catalog cat;
    char err[512];
    if (catalog_load(&cat, o->products_file, err, sizeof err)) {
        fprintf(stderr, "kmsload probe: %s\n", err);
        return PROBE_EXIT_USAGE;
    }
    if (o->list_host_keys) {
        host_key_list_print(stdout, &cat);
        catalog_free(&cat);
        return 0;
    }
    if (o->list_products) {
        list_products(&cat);
        catalog_free(&cat);
        return 0;
    }
    struct kms_request req;
    const char *product = NULL;
    if (build_request(o, &cat, &req, &product)) {
        catalog_free(&cat);
        return PROBE_EXIT_USAGE;
    }
    struct probe_state st;
    memset(&st, 0, sizeof st);
    probe_exchange(o, &req, &st);
    int status = exit_status_for(st.result.outcome);
    if (o->json)
        print_json(o, &req, product, &st, status);
    else
        print_text(o, &req, product, &st, &cat);
    catalog_free(&cat);
    return status;
}

int probe_main(int argc, char **argv)
{
    struct probe_options o;
    char err[512];
    if (probe_options_parse(argc, argv, &o, err, sizeof err)) {
        usage_error("probe", "%s", err);
        return PROBE_EXIT_USAGE;
    }
    if (o.help) {
        fputs(probe_usage, stdout);
        return 0;
    }
    usage_note("probe", o.deprecated);
    return probe_execute(&o);
}
