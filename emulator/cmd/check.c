#include "check.h"

#include "catalog.h"
#include "check_plugin.h"
#include "probe_cmid.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char check_usage[] =
    "Usage: kmsload check HOST[:PORT] [OPTIONS]\n"
    "\n"
    "Checks a KMS host as a Nagios/Icinga plugin: one request per application (this machine's\n"
    "probe CMID, as probe and watch send, so the host counts this checker once), all at once,\n"
    "then one status line with performance data and the plugin exit status:\n"
    "  KMS OK - kms1:1688: windows count 31, office2013 count 12 | windows_count=31;25:;;0 ...\n"
    "0 OK; 1 WARNING: a count in the --warning range; 2 CRITICAL: no KMS answer (refused,\n"
    "timeout, broken bytes), an HRESULT instead of a count, or a count in the --critical range;\n"
    "3 UNKNOWN: bad usage, a name that does not resolve, an internal error.\n"
    "\n"
    "Ranges follow the plugin guidelines: N: alerts below N, ~:N above N, N:M outside N..M,\n"
    "@N:M inside N..M, a bare N outside 0..N. RANGE applies to every application;\n"
    "APP=RANGE[,APP=RANGE] to one each (windows=25:,office2013=5:).\n"
    "\n"
    "  -H, --host HOST[:PORT]    the host, as the positional argument\n"
    "  -w, --warning RANGES      WARNING when a count is in the range (default: below each\n"
    "                            application's activation threshold, windows=25:,office2013=5:\n"
    "                            for the default products: its clients are not activated)\n"
    "  -c, --critical RANGES     CRITICAL when a count is in the range (default: none)\n"
    "      --timeout DUR         per-request timeout (default 10s; the requests run at once)\n"
    "      --products LIST       what to request, one per application (default: win10-pro and\n"
    "                            office2016-proplus, and where the host's keys refuse one\n"
    "                            (0xC004F042) the next they activate, as watch does; the line\n"
    "                            then names it: \"office2013 (office2021-proplus) count 7\")\n"
    "      --cmid-seed TEXT      derive the client machine ID from TEXT instead of "
    "/etc/machine-id\n"
    "      --catalog FILE        product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help                show this help\n";

struct check_args {
    const char *host, *warning, *critical, *products, *cmid_seed, *catalog_file;
    int64_t timeout_us;
};

enum { OPT_TIMEOUT = 256, OPT_PRODUCTS, OPT_CMID_SEED, OPT_CATALOG };

/* 0 parsed, 1 --help shown, -1 with a message. */
static int parse(int argc, char **argv, struct check_args *a, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"warning", required_argument, NULL, 'w'},
        {"critical", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"products", required_argument, NULL, OPT_PRODUCTS},
        {"cmid-seed", required_argument, NULL, OPT_CMID_SEED},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char why[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":H:w:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H':
            a->host = optarg;
            break;
        case 'w':
            a->warning = optarg;
            break;
        case 'c':
            a->critical = optarg;
            break;
        case OPT_TIMEOUT:
            if (value_parse_duration(optarg, false, &a->timeout_us, why, sizeof why) ||
                a->timeout_us <= 0)
                return usage_set(err, err_len, "--timeout \"%s\": expected a positive duration",
                                 optarg);
            break;
        case OPT_PRODUCTS:
            a->products = optarg;
            break;
        case OPT_CMID_SEED:
            a->cmid_seed = optarg;
            break;
        case OPT_CATALOG:
            a->catalog_file = optarg;
            break;
        case 'h':
            return 1;
        default:
            usage_getopt_error(c, argv, err, err_len);
            return usage_suggest_option(c, argv, longopts, err, err_len);
        }
    }
    if (optind < argc && a->host)
        return usage_set(err, err_len, "the host given twice: \"%s\" and -H \"%s\"", argv[optind],
                         a->host);
    if (optind < argc)
        a->host = argv[optind++];
    if (optind < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind]);
    if (!a->host)
        return usage_set(err, err_len, "missing the host HOST[:PORT]");
    return 0;
}

/* The product set and thresholds; 0, or -1 with a message. */
static int prepare(const struct check_args *a, struct probe_set *set, struct probe_set *alts,
                   size_t *n_alts, struct check_thresholds *w, struct check_thresholds *c,
                   char *err, size_t err_len)
{
    struct catalog cat;
    if (catalog_load(&cat, a->catalog_file, err, err_len))
        return -1;
    struct guid cmid;
    if (a->cmid_seed)
        probe_cmid_from_seed(a->cmid_seed, &cmid);
    else
        probe_cmid_stable(&cmid);
    int rc = probe_set_parse(set, &cat, a->products ? a->products : PROBE_SET_DEFAULT_PRODUCTS,
                             &cmid, "--products", err, err_len);
    for (size_t r = 0; rc == 0 && !a->products && r < PROBE_SET_CANDIDATE_RANKS; r++) {
        rc = probe_set_parse(&alts[r], &cat, probe_set_candidates[r], &cmid, "built-in products",
                             err, err_len);
        *n_alts = r + 1;
    }
    catalog_free(&cat);
    if (rc)
        return -1;
    if (!a->warning)
        check_thresholds_activation(w, set);
    if (check_thresholds_parse(w, set, a->warning, "--warning", err, err_len) ||
        check_thresholds_parse(c, set, a->critical, "--critical", err, err_len))
        return -1;
    return 0;
}

int check_main(int argc, char **argv)
{
    struct check_args a = {.timeout_us = 10000000};
    char err[1024];
    int rc = parse(argc, argv, &a, err, sizeof err);
    if (rc == 1) {
        fputs(check_usage, stdout);
        return 0;
    }
    struct probe_set *set = calloc(1, sizeof *set);
    struct probe_set *alts = calloc(PROBE_SET_CANDIDATE_RANKS, sizeof *alts);
    size_t n_alts = 0;
    struct check_thresholds *w = calloc(1, sizeof *w), *c = calloc(1, sizeof *c);
    int status = CHECK_UNKNOWN;
    if (!set || !alts || !w || !c) {
        printf("KMS UNKNOWN - out of memory\n");
    } else if (rc || prepare(&a, set, alts, &n_alts, w, c, err, sizeof err)) {
        /* The plugin's one line on stdout (what the monitoring system shows), the usage hint on
         * stderr. */
        printf("KMS UNKNOWN - %s\n", err);
        usage_error("check", "%s", err);
    } else {
        struct check_options o = {.host = a.host,
                                  .set = set,
                                  .alts = alts,
                                  .n_alts = n_alts,
                                  .warning = w,
                                  .critical = c,
                                  .timeout_us = a.timeout_us};
        char line[4096];
        status = (int)check_host(&o, line, sizeof line);
        printf("%s\n", line);
    }
    free(set);
    free(alts);
    free(w);
    free(c);
    return status;
}
