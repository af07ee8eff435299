/* `kmsload run`: runs a scenario against a target (default: the embedded reference host). */
#ifndef KMSLOAD_RUN_MAIN_H
#define KMSLOAD_RUN_MAIN_H

#include "run_finish.h" /* enum run_exit */
#include "scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_MAX_SETS 64
#define RUN_MAX_POPULATIONS 16

/* The command line of `kmsload run`, checked but not acted on. */
struct run_options {
    bool help;                      /* --help: print the usage, nothing else */
    const char *scenario_path;      /* as given ("-": standard input; NULL: only --population);
                                       shipped scenarios are looked up at execution */
    const char *target;             /* --target HOST[:PORT] or dns:DOMAIN; NULL: the embedded
                                       reference host */
    const char *dns_server;         /* --dns-server ADDR[:PORT] for dns:DOMAIN; NULL: system's */
    bool no_host_caching;           /* --no-host-caching (slmgr /ckhc): discover at every contact */
    const char *out_dir;            /* --out; NULL: out/SCENARIO_NAME */
    unsigned long keep_previous;    /* --keep-previous N: earlier runs kept in OUT/previous-* */
    const char *summary_md;         /* --summary-md FILE or "-"; NULL: none */
    const char *sets[RUN_MAX_SETS]; /* --set KEY=VALUE, in order */
    size_t n_sets;
    bool seed_given;
    unsigned long seed;
    bool threads_given;
    unsigned long threads; /* 0: one per core */
    unsigned shard_index, shard_count;
    bool quiet;
    bool report;  /* false with --no-report */
    bool yes;     /* --yes: send to a non-loopback target without asking */
    bool dry_run; /* --dry-run: print the plan, send nothing */
    /* Scenario keys given as flags (they override the file and --set). */
    bool max_rate_given;
    double max_rate; /* --max-rate N requests/s */
    bool target_clock_given;
    enum scenario_target_clock target_clock; /* --target-clock detect|client|real */
    bool max_wall_given;
    int64_t max_wall_us; /* --max-wall DURATION */
    bool stop_after_failures_given;
    unsigned long stop_after_failures; /* --stop-after-failures N */
    const char *metrics;               /* --metrics [ADDR:]PORT (checked); NULL: no /metrics */
    bool list;                         /* --list: print the shipped scenarios */
    /* --population NAME:PRODUCT:MACHINES (checked): added to the scenario, or the whole of it
     * when no SCENARIO is given. */
    const char *populations[RUN_MAX_POPULATIONS];
    size_t n_populations;
};

/*
 * Parses argv (argv[0] is "run") into opt. Returns 0, or -1 with a message for people in err
 * (bad usage). Reads $JOB_COMPLETION_INDEX for --shard auto/N; nothing else outside argv.
 */
int run_options_parse(int argc, char **argv, struct run_options *opt, char *err, size_t err_len);

/* Runs the scenario as opt says; returns the exit status (enum run_exit). */
int run_execute(const struct run_options *opt);

/* The --help text. */
extern const char run_usage[];

#endif
