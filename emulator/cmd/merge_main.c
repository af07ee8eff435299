/* `kmsload merge OUT_DIR RUN_DIR...`: one run directory from the shards of a sharded run. */
#include "merge.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERGE_MAX_SETS 64

static const char merge_usage[] =
    "Usage: kmsload merge OUT_DIR RUN_DIR... [OPTIONS]\n"
    "\n"
    "Merges the output directories of the N shards of one run ('kmsload run --shard K/N' or\n"
    "--shard auto/N) into OUT_DIR: events.csv (rows interleaved by simulated time, renumbered;\n"
    "a row's shard is machine % N), summary.json (outcomes added, latency percentiles and count\n"
    "timelines recomputed from the merged events, a \"merge\" object naming the shards) and\n"
    "junit.xml. The runs must share scenario, seed, populations and expectations and be the\n"
    "shards 0..N-1, each once; anything else is refused and nothing is written.\n"
    "\n"
    "Expectations are re-evaluated on the merged events when the scenario file recorded in the\n"
    "runs (or --scenario) can be read; otherwise each is met only when every shard met it.\n"
    "\n"
    "      --scenario FILE       the scenario file (default: the path in the runs' summary.json)\n"
    "      --set KEY=VALUE       the --set overrides the runs were given (repeatable)\n"
    "      --summary-md FILE     also write a Markdown summary to FILE ('-': standard output)\n"
    "  -q, --quiet               no summary line\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status:\n"
    "  0  merged, every expectation met\n"
    "  1  merged, an expectation failed or a shard was interrupted\n"
    "  2  bad usage, runs refused (different scenario or seed, overlapping or missing shards),\n"
    "     malformed input (the message names the file and line) or output not written\n";

int merge_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"summary-md", required_argument, NULL, 'M'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sets[MERGE_MAX_SETS];
    struct merge_options opt = {0};
    bool quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt.scenario_path = optarg;
            break;
        case 's':
            if (opt.n_overrides == MERGE_MAX_SETS) {
                usage_error("merge", "at most %d --set options", MERGE_MAX_SETS);
                return MERGE_EXIT_USAGE;
            }
            if (!strchr(optarg, '=')) {
                usage_error("merge", "--set \"%s\": expected KEY=VALUE", optarg);
                return MERGE_EXIT_USAGE;
            }
            sets[opt.n_overrides++] = optarg;
            break;
        case 'M':
            opt.summary_md = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(merge_usage, stdout);
            return MERGE_EXIT_PASSED;
        case ':':
            usage_error("merge", "option %s needs a value", argv[optind - 1]);
            return MERGE_EXIT_USAGE;
        default:
            usage_error("merge", "unknown option \"%s\"", argv[optind - 1]);
            return MERGE_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage_error("merge", "missing OUT_DIR and the RUN_DIRs to merge");
        return MERGE_EXIT_USAGE;
    }
    if (optind + 1 >= argc) {
        usage_error("merge", "missing the RUN_DIRs to merge into %s", argv[optind]);
        return MERGE_EXIT_USAGE;
    }
    opt.out_dir = argv[optind];
    opt.run_dirs = (const char *const *)(argv + optind + 1);
    opt.n_runs = (size_t)(argc - optind - 1);
    opt.overrides = sets;

    struct merge_result res;
    char err[2048];
    if (merge_runs(&opt, &res, err, sizeof err)) {
        fprintf(stderr, "kmsload merge: %s\n", err);
        return MERGE_EXIT_USAGE;
    }
    if (!res.reevaluated)
        fprintf(stderr, "kmsload merge: warning: %s\n", res.expectations_note);
    if (!quiet)
        fprintf(stderr,
                "kmsload merge: %u shards, %llu requests, %zu of %zu expectations met (%s)%s -> "
                "%s/events.csv, summary.json, junit.xml\n",
                res.shards, (unsigned long long)res.requests,
                res.expectations - res.expectations_failed, res.expectations,
                res.reevaluated ? "re-evaluated" : "combined from the shards",
                res.interrupted ? ", a shard was INTERRUPTED" : "", opt.out_dir);
    return res.expectations_failed > 0 || res.interrupted ? MERGE_EXIT_FAILED : MERGE_EXIT_PASSED;
}
