#include "coverage_main.h"

#include "catalog.h"
#include "coverage_run.h"
#include "hresult.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char coverage_usage[] =
    "Usage: kmsload coverage HOST[:PORT] [OPTIONS]\n"
    "\n"
    "Asks a KMS host once about every volume product group and answers in words: the host OS\n"
    "(the build in its ePID), the host keys (CSVLKs) its coverage matches, each group activated,\n"
    "refused (HRESULT and its meaning) or failed, and for every refused group what to install\n"
    "first. Each application is asked with one fixed CMID and N_Policy 1, so the host's counts\n"
    "grow by at most one per application and its cache capacity does not change.\n"
    "\n"
    "      --require GROUP,...  product groups that must be activated (catalogue KMS keys, e.g.\n"
    "                           ws2025,win10,office2021); exit 1 when one is not\n"
    "      --json               print the answer as JSON\n"
    "      --markdown FILE      also write it as Markdown ('-' for standard output)\n"
    "  -t, --target HOST[:PORT] the host (instead of the HOST argument)\n"
    "      --timeout DUR        per request (default 5s; -t DUR still works, deprecated)\n"
    "      --catalog FILE       product catalogue (default: $KMSLOAD_PRODUCTS, installed, "
    "built-in)\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 every --require group activated (or none given), 1 one was not, 2 usage,\n"
    "3 the host could not be reached or no group got a KMS answer (every request failed).\n";

enum { OPT_JSON = 256, OPT_MARKDOWN, OPT_REQUIRE, OPT_CATALOG, OPT_TIMEOUT };

int coverage_options_parse(int argc, char **argv, struct coverage_options *o, char *err,
                           size_t err_len)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"markdown", required_argument, NULL, OPT_MARKDOWN},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"target", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->timeout_us = 5000000;
    optind = 1;
    opterr = 0;
    int c;
    char why[256];
    while ((c = getopt_long(argc, argv, ":t:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_MARKDOWN:
            o->markdown = optarg;
            break;
        case OPT_REQUIRE:
            o->require = optarg;
            break;
        case OPT_CATALOG:
            o->catalog_file = optarg;
            break;
        case 't':
            if (!usage_looks_like_duration(optarg)) {
                o->target = optarg;
                break;
            }
            o->deprecated = USAGE_NOTE_T_TIMEOUT; /* the old -t DURATION */
            /* fall through */
        case OPT_TIMEOUT:
            if (value_parse_duration(optarg, false, &o->timeout_us, why, sizeof why) ||
                o->timeout_us <= 0)
                return usage_set(err, err_len, "--timeout: %s",
                                 o->timeout_us <= 0 ? "must be positive" : why);
            break;
        case 'h':
            o->help = true;
            return 0;
        default:
            usage_getopt_error(c, argv, err, err_len);
            return usage_suggest_option(c, argv, longopts, err, err_len);
        }
    }
    return usage_target(argc, argv, &o->target, o->host, sizeof o->host, &o->port, err, err_len);
}

int coverage_execute(const struct coverage_options *o)
{
    struct coverage_run_options r = {
        .host = o->host,
        .port = o->port,
        .json = o->json,
        .markdown = o->markdown,
        .require = o->require,
        .catalog_file = o->catalog_file,
        .timeout_us = o->timeout_us,
    };
    return coverage_run(&r);
}
