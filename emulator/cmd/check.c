#include "check.h"

#include "check_plugin.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
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

enum { OPT_TIMEOUT = 256, OPT_PRODUCTS, OPT_CMID_SEED, OPT_CATALOG };

/* 0 parsed, 1 --help shown, -1 with a message. */
static int parse(int argc, char **argv, struct check_request *a, char *err, size_t err_len)
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

int check_main(int argc, char **argv)
{
    struct check_request a = {.timeout_us = 10000000};
    char err[1024];
    int rc = parse(argc, argv, &a, err, sizeof err);
    if (rc == 1) {
        fputs(check_usage, stdout);
        return 0;
    }
    if (rc) {
        /* The plugin's one line on stdout (what the monitoring system shows), the usage hint on
         * stderr. */
        printf("KMS UNKNOWN - %s\n", err);
        usage_error("check", "%s", err);
        return CHECK_UNKNOWN;
    }
    char line[4096];
    bool usage_problem = false;
    enum check_status status = check_run(&a, line, sizeof line, &usage_problem);
    printf("%s\n", line);
    if (usage_problem)
        usage_error("check", "%s", line + strlen("KMS UNKNOWN - "));
    return (int)status;
}
