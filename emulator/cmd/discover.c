#include "discover.h"

#include "catalog.h"
#include "dns_srv.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char discover_usage[] =
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

int discover_execute(const struct discover_options *o)
{
    struct discovery_run_options r = {
        .domain = o->domain,
        .dns_server = o->dns_server,
        .product = o->product,
        .products_file = o->products_file,
        .timeout_us = o->timeout_us,
        .json = o->json,
        .coverage = o->coverage,
    };
    return discovery_run(&r);
}
