/* `kmsload run`'s command line: every flag checked and turned into struct run_options, without
 * printing or exiting (run_main prints the message), so option errors are tested in-process. */
#include "run_main.h"

#include "dns_srv.h"
#include "net.h"
#include "scenario_input.h"
#include "usage.h"
#include "value_parse.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_SEED = 256,
    OPT_SHARD,
    OPT_SET,
    OPT_THREADS,
    OPT_SUMMARY_MD,
    OPT_NO_REPORT,
    OPT_METRICS,
    OPT_YES,
    OPT_DRY_RUN,
    OPT_MAX_RATE,
    OPT_TARGET_CLOCK,
    OPT_MAX_WALL,
    OPT_STOP_AFTER_FAILURES,
    OPT_LIST,
    OPT_POPULATION,
    OPT_DNS_SERVER,
    OPT_NO_HOST_CACHING,
    OPT_KEEP_PREVIOUS,
};

/* The flags that stand for scenario keys. */
static int parse_scenario_flag(int c, const char *value, struct run_options *opt, char *err,
                               size_t err_len)
{
    char why[128];
    switch (c) {
    case OPT_MAX_RATE: {
        char *end;
        errno = 0;
        opt->max_rate = strtod(value, &end);
        if (end == value || *end || errno || !(opt->max_rate > 0) || opt->max_rate > 1e6)
            return usage_set(err, err_len,
                             "--max-rate \"%s\": expected requests per second, above 0 up to "
                             "1000000",
                             value);
        opt->max_rate_given = true;
        return 0;
    }
    case OPT_TARGET_CLOCK:
        opt->target_clock_given = true;
        if (strcmp(value, "detect") == 0)
            opt->target_clock = SCENARIO_TARGET_CLOCK_DETECT;
        else if (strcmp(value, "client") == 0)
            opt->target_clock = SCENARIO_TARGET_CLOCK_CLIENT;
        else if (strcmp(value, "real") == 0)
            opt->target_clock = SCENARIO_TARGET_CLOCK_REAL;
        else
            return usage_set(err, err_len, "--target-clock \"%s\": expected detect, client or real",
                             value);
        return 0;
    case OPT_MAX_WALL:
        opt->max_wall_given = true;
        if (value_parse_duration(value, false, &opt->max_wall_us, why, sizeof why) ||
            opt->max_wall_us < 1000000)
            return usage_set(err, err_len,
                             "--max-wall \"%s\": expected a duration of at least 1s, like 90s, "
                             "15m or 2h",
                             value);
        return 0;
    default: /* OPT_STOP_AFTER_FAILURES */
        opt->stop_after_failures_given = true;
        if (value_parse_uint(value, 0, 100000000, &opt->stop_after_failures))
            return usage_set(err, err_len,
                             "--stop-after-failures \"%s\": expected a number (0: never)", value);
        return 0;
    }
}

static int parse_set(const char *text, struct run_options *opt, char *err, size_t err_len)
{
    if (opt->n_sets == RUN_MAX_SETS)
        return usage_set(err, err_len, "at most %d --set options", RUN_MAX_SETS);
    if (!strchr(text, '='))
        return usage_set(err, err_len, "--set \"%s\": expected KEY=VALUE", text);
    opt->sets[opt->n_sets++] = text;
    return 0;
}

/* The flags without a value; returns false for any other. */
static bool parse_switch(int c, struct run_options *opt)
{
    switch (c) {
    case OPT_NO_HOST_CACHING:
        opt->no_host_caching = true;
        return true;
    case 'q':
        opt->quiet = true;
        return true;
    case OPT_NO_REPORT:
        opt->report = false;
        return true;
    case 'h':
        opt->help = true;
        return true;
    case OPT_YES:
        opt->yes = true;
        return true;
    case OPT_DRY_RUN:
        opt->dry_run = true;
        return true;
    case OPT_LIST:
        opt->list = true;
        return true;
    default:
        return false;
    }
}

/* One option (getopt_long's result c with optarg); returns 0 or -1 with a message. */
static int parse_one(int c, char **argv, struct run_options *opt, char *err, size_t err_len)
{
    if (parse_switch(c, opt))
        return 0;
    switch (c) {
    case 't':
        opt->target = optarg;
        return 0;
    case 'o':
        opt->out_dir = optarg;
        return 0;
    case OPT_KEEP_PREVIOUS:
        if (value_parse_uint(optarg, 0, 1000000, &opt->keep_previous))
            return usage_set(err, err_len,
                             "--keep-previous \"%s\": expected a number of earlier runs (0: none)",
                             optarg);
        return 0;
    case OPT_DNS_SERVER: {
        char why[256];
        if (dns_srv_check_server(optarg, why, sizeof why))
            return usage_set(err, err_len, "--dns-server: %s", why);
        opt->dns_server = optarg;
        return 0;
    }
    case OPT_SEED:
        opt->seed_given = true;
        if (value_parse_uint(optarg, 0, ~0UL, &opt->seed))
            return usage_set(err, err_len, "--seed \"%s\": expected a number", optarg);
        return 0;
    case OPT_SHARD:
        return scenario_shard_parse(optarg, &opt->shard_index, &opt->shard_count, err, err_len);
    case OPT_SUMMARY_MD:
        opt->summary_md = optarg;
        return 0;
    case OPT_SET:
        return parse_set(optarg, opt, err, err_len);
    case OPT_THREADS:
        opt->threads_given = true;
        if (value_parse_uint(optarg, 0, 64, &opt->threads))
            return usage_set(err, err_len, "--threads \"%s\": expected 0..64 (0: one per core)",
                             optarg);
        return 0;
    case OPT_METRICS:
        if (usage_check_metrics(optarg, err, err_len))
            return -1;
        opt->metrics = optarg;
        return 0;
    case OPT_MAX_RATE:
    case OPT_TARGET_CLOCK:
    case OPT_MAX_WALL:
    case OPT_STOP_AFTER_FAILURES:
        return parse_scenario_flag(c, optarg, opt, err, err_len);
    case OPT_POPULATION:
        if (opt->n_populations >= RUN_MAX_POPULATIONS)
            return usage_set(err, err_len, "--population: at most %d", RUN_MAX_POPULATIONS);
        if (scenario_population_check(optarg, err, err_len))
            return -1;
        opt->populations[opt->n_populations++] = optarg;
        return 0;
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

int run_options_parse(int argc, char **argv, struct run_options *opt, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"keep-previous", required_argument, NULL, OPT_KEEP_PREVIOUS},
        {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
        {"no-host-caching", no_argument, NULL, OPT_NO_HOST_CACHING},
        {"seed", required_argument, NULL, OPT_SEED},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"set", required_argument, NULL, OPT_SET},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"summary-md", required_argument, NULL, OPT_SUMMARY_MD},
        {"quiet", no_argument, NULL, 'q'},
        {"no-report", no_argument, NULL, OPT_NO_REPORT},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"yes", no_argument, NULL, OPT_YES},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"max-rate", required_argument, NULL, OPT_MAX_RATE},
        {"target-clock", required_argument, NULL, OPT_TARGET_CLOCK},
        {"max-wall", required_argument, NULL, OPT_MAX_WALL},
        {"stop-after-failures", required_argument, NULL, OPT_STOP_AFTER_FAILURES},
        {"list", no_argument, NULL, OPT_LIST},
        {"population", required_argument, NULL, OPT_POPULATION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(opt, 0, sizeof *opt);
    opt->shard_count = 1;
    opt->report = true;
    opt->keep_previous = RUN_DIR_KEEP_PREVIOUS_DEFAULT;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:o:qh", longopts, NULL)) != -1) {
        if (parse_one(c, argv, opt, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (opt->help)
            return 0;
    }
    if (opt->list)
        return 0;
    if (optind >= argc && opt->n_populations == 0)
        return usage_set(err, err_len,
                         "missing the SCENARIO: a file, a shipped scenario's name ('kmsload "
                         "scenarios' lists them), - for standard input, or --population "
                         "NAME:PRODUCT:MACHINES");
    if (optind + 1 < argc)
        return usage_set(err, err_len, "unexpected argument \"%s\"", argv[optind + 1]);
    opt->scenario_path = optind < argc ? argv[optind] : NULL;
    if (opt->target && strncmp(opt->target, "dns:", 4) == 0) {
        const char *domain = opt->target + 4;
        if (!domain[0] || strlen(domain) >= NET_HOST_MAX || strpbrk(domain, " :/[]"))
            return usage_set(err, err_len, "--target \"%s\": expected dns:DOMAIN", opt->target);
    } else if (opt->dns_server) {
        return usage_set(err, err_len, "--dns-server needs --target dns:DOMAIN");
    } else if (opt->target) {
        char host[NET_HOST_MAX], why[256];
        uint16_t port;
        if (net_parse_target(opt->target, KMS_DEFAULT_PORT, host, sizeof host, &port, why,
                             sizeof why))
            return usage_set(err, err_len, "--target: %s", why);
    }
    return 0;
}
