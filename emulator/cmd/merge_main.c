/* `kmsload merge OUT_DIR RUN_DIR...`: one run directory from the shards of a sharded run. */
#include "merge_main.h"
#include "merge_explain.h"
#include "report.h"
#include "run_dir.h"
#include "usage.h"
#include "value_parse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char merge_usage[] =
    "Usage: kmsload merge OUT_DIR RUN_DIR... [OPTIONS]\n"
    "\n"
    "Merges the output directories of the N shards of one run ('kmsload run --shard K/N' or\n"
    "--shard auto/N) into OUT_DIR: events.csv (rows interleaved by simulated time, renumbered;\n"
    "a row's shard is machine % N), summary.json (outcomes added, latency percentiles and count\n"
    "timelines recomputed from the merged events, a \"merge\" object naming the shards) and\n"
    "junit.xml, and the report (index.html and charts/) as for a single run. The runs must share "
    "scenario, seed, populations and expectations and be the\n"
    "shards 0..N-1, each once; anything else is refused and nothing is written.\n"
    "\n"
    "Expectations are re-evaluated on the merged events when the scenario file recorded in the\n"
    "runs (or --scenario) can be read; otherwise each is met only when every shard met it.\n"
    "\n"
    "      --scenario FILE       the scenario file (default: the path in the runs' summary.json)\n"
    "      --set KEY=VALUE       the --set overrides the runs were given (repeatable)\n"
    "      --summary-md FILE     also write a Markdown summary to FILE ('-': standard output)\n"
    "      --no-report           no charts and no index.html (kmsload report OUT_DIR makes them)\n"
    "      --keep-previous N     an earlier run's files in OUT_DIR are moved to\n"
    "                            OUT_DIR/previous-RUNID/: keep the N newest of those, remove\n"
    "                            older ones (default: 5; 0: none)\n"
    "  -q, --quiet               no summary line\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status:\n"
    "  0  merged, every expectation met\n"
    "  1  merged, an expectation failed or a shard was interrupted\n"
    "  2  bad usage, runs refused (different scenario or seed, overlapping or missing shards),\n"
    "     malformed input (the message names the file and line) or output not written\n";

static int parse_one(int c, char **argv, struct merge_command_options *o, char *err, size_t err_len)
{
    switch (c) {
    case 'c':
        o->merge.scenario_path = optarg;
        return 0;
    case 's':
        if (o->merge.n_overrides == MERGE_MAX_SETS)
            return usage_set(err, err_len, "at most %d --set options", MERGE_MAX_SETS);
        if (!strchr(optarg, '='))
            return usage_set(err, err_len, "--set \"%s\": expected KEY=VALUE", optarg);
        o->sets[o->merge.n_overrides++] = optarg;
        return 0;
    case 'M':
        o->merge.summary_md = optarg;
        return 0;
    case 'q':
        o->quiet = true;
        return 0;
    case 'R':
        o->report = false;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    case 'K':
        if (value_parse_uint(optarg, 0, 1000000, &o->keep_previous))
            return usage_set(err, err_len,
                             "--keep-previous \"%s\": expected a number of earlier runs (0: none)",
                             optarg);
        return 0;
    default:
        return usage_getopt_error(c, argv, err, err_len);
    }
}

int merge_options_parse(int argc, char **argv, struct merge_command_options *o, char *err,
                        size_t err_len)
{
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"summary-md", required_argument, NULL, 'M'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-report", no_argument, NULL, 'R'},
        {"keep-previous", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof *o);
    o->report = true;
    o->keep_previous = RUN_DIR_KEEP_PREVIOUS_DEFAULT;
    o->merge.overrides = o->sets;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        if (parse_one(c, argv, o, err, err_len))
            return usage_suggest_option(c, argv, longopts, err, err_len);
        if (o->help)
            return 0;
    }
    if (optind >= argc)
        return usage_set(err, err_len, "missing OUT_DIR and the RUN_DIRs to merge");
    if (optind + 1 >= argc)
        return usage_set(err, err_len, "missing the RUN_DIRs to merge into %s", argv[optind]);
    o->merge.out_dir = argv[optind];
    o->merge.run_dirs = (const char *const *)(argv + optind + 1);
    o->merge.n_runs = (size_t)(argc - optind - 1);
    return 0;
}

int merge_execute(const struct merge_command_options *o)
{
    struct merge_result res;
    char err[2048];
    if (merge_runs(&o->merge, &res, err, sizeof err)) {
        fprintf(stderr, "kmsload merge: %s\n", err);
        return MERGE_EXIT_USAGE;
    }
    if (!res.reevaluated)
        fprintf(stderr, "kmsload merge: warning: %s\n", res.expectations_note);
    if (res.previous[0])
        fprintf(stderr, "kmsload merge: %s held an earlier run: its files are now in %s\n",
                o->merge.out_dir, res.previous);
    run_dir_prune_said("kmsload merge", o->merge.out_dir, o->keep_previous, stderr);
    if (!o->quiet)
        fprintf(stderr,
                "kmsload merge: %u shards, %llu requests, %zu of %zu expectations met (%s)%s -> "
                "%s/events.csv, summary.json, junit.xml\n",
                res.shards, (unsigned long long)res.requests,
                res.expectations - res.expectations_failed, res.expectations,
                res.reevaluated ? "re-evaluated" : "combined from the shards",
                res.interrupted ? ", a shard was INTERRUPTED" : "", o->merge.out_dir);
    merge_explain(o->merge.out_dir, o->quiet, stderr);
    /* The report is a view of the merged results: its failure is a warning, as for a run. */
    if (o->report) {
        if (report_write(o->merge.out_dir, err, sizeof err) != REPORT_OK)
            fprintf(stderr, "kmsload merge: warning: no report: %s\n", err);
        else if (!o->quiet)
            fprintf(stderr, "kmsload merge: report: %s/index.html\n", o->merge.out_dir);
    }
    return res.expectations_failed > 0 || res.interrupted ? MERGE_EXIT_FAILED : MERGE_EXIT_PASSED;
}
