#include "probe.h"

#include "host_key_list.h"

#include "catalog.h"
#include "probe_print.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

const char probe_usage[] =
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
        if (value_parse_uint(optarg, 4, 6, &o->send.request.protocol))
            return usage_set(err, err_len, "--protocol \"%s\": expected 4, 5 or 6", optarg);
        return 0;
    case 'n':
        if (value_parse_uint(optarg, 0, 0xffffffffUL, &v))
            return usage_set(err, err_len, "--n-policy \"%s\": expected a number 0..4294967295",
                             optarg);
        o->send.request.n_policy = (long)v;
        return 0;
    case OPT_LICENSE:
        if (value_parse_uint(optarg, 0, 6, &o->send.request.license_status))
            return usage_set(err, err_len, "--license-status \"%s\": expected 0..6", optarg);
        return 0;
    case OPT_BINDING:
        if (value_parse_uint(optarg, 0, 0xffffffffUL, &o->send.request.binding_expiration))
            return usage_set(err, err_len, "--binding-expiration \"%s\": expected minutes", optarg);
        return 0;
    case OPT_SKEW:
        if (value_parse_duration(optarg, true, &o->send.request.clock_skew_us, why, sizeof why))
            return usage_set(err, err_len, "--clock-skew: %s", why);
        return 0;
    case OPT_NDR64:
    case OPT_BTFN:
        if (value_parse_switch(optarg, c == OPT_NDR64 ? &o->send.exchange.offer_ndr64
                                                      : &o->send.exchange.offer_btfn))
            return usage_set(err, err_len, "--%s \"%s\": expected on or off",
                             c == OPT_NDR64 ? "ndr64" : "btfn", optarg);
        return 0;
    default: /* OPT_TIMEOUT */
        if (value_parse_duration(optarg, false, &o->send.timeout_us, why, sizeof why) ||
            o->send.timeout_us <= 0)
            return usage_set(err, err_len, "--timeout: %s",
                             o->send.timeout_us <= 0 ? "must be positive" : why);
        return 0;
    }
}

static int parse_one(int c, char **argv, struct probe_options *o, char *err, size_t err_len)
{
    switch (c) {
    case 'p':
        o->send.request.product = optarg;
        o->send.product_given = true;
        return 0;
    case OPT_APP:
        o->send.request.app = optarg;
        return 0;
    case OPT_KMS:
        o->send.request.kms = optarg;
        return 0;
    case OPT_SKU:
        o->send.request.sku = optarg;
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
        o->send.request.cmid = optarg;
        return 0;
    case OPT_CMID_PREV:
        o->send.request.cmid_prev = optarg;
        return 0;
    case 'w':
        o->send.request.workstation = optarg;
        return 0;
    case OPT_VM:
        o->send.request.vm = true;
        return 0;
    case OPT_ALTER:
        o->send.exchange.alter_context = true;
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
    client_request_spec_default(&o->send.request); /* N_Policy the product's, grace, 30 days */
    o->send.request.product = "win10-pro";
    o->send.request.workstation = "kmsload-probe";
    o->send.timeout_us = 10000000;
    client_session_options_default(&o->send.exchange);
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
    int c;
    options_default(o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:P:w:n:t:h", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (o->help)
            return 0;
    }
    if (o->list_products || o->list_host_keys)
        return 0;
    return usage_target(argc, argv, &o->target, o->host, sizeof o->host, &o->port, err, err_len);
}

/* Sends the request, prints the answer; returns the exit status. */
static int probe_answer(const struct probe_options *o, const struct catalog *cat)
{
    struct probe_send_options send = o->send;
    struct probe_sent s;
    char err[512];
    send.host = o->host;
    send.port = o->port;
    int rc = probe_send(&send, cat, &s, err, sizeof err);
    if (rc < 0) {
        usage_error("probe", "%s", err);
        return PROBE_EXIT_USAGE;
    }
    if (rc > 0)
        fprintf(stderr, "kmsload probe: %s\n", err);
    struct probe_report r = {o->host, o->port,      &s.req, s.product, send.request.clock_skew_us,
                             &s.out,  s.exit_status};
    if (o->json)
        probe_print_json(stdout, &r);
    else
        probe_print_text(stdout, &r, cat);
    return r.exit_status;
}

int probe_execute(const struct probe_options *o)
{
    struct catalog cat;
    char err[512];
    if (catalog_load(&cat, o->products_file, err, sizeof err)) {
        fprintf(stderr, "kmsload probe: %s\n", err);
        return PROBE_EXIT_USAGE;
    }
    int status = 0;
    if (o->list_host_keys)
        host_key_list_print(stdout, &cat);
    else if (o->list_products)
        probe_print_products(stdout, &cat);
    else
        status = probe_answer(o, &cat);
    catalog_free(&cat);
    return status;
}
