#include "run_main.h"

#include "embedded_host.h"
#include "engine.h"
#include "expect.h"
#include "report.h"
#include "run_dir.h"
#include "summary_md.h"
#include "usage.h"
#include "value_parse.h"

#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define RUN_MAX_SETS 64

static const char run_usage[] =
    "Usage: kmsload run SCENARIO [OPTIONS]\n"
    "\n"
    "Runs a scenario (see scenarios/README.md): a fleet of simulated Windows and Office machines\n"
    "contacting a KMS host as real clients do, every answer checked against a model of genuine\n"
    "host counting. Without --target the embedded reference host is started on a free loopback\n"
    "port. Results go to OUT_DIR: events.csv (one row per request), summary.json, junit.xml,\n"
    "and the report: index.html with the charts of charts/ (see kmsload report --help).\n"
    "\n"
    "  -t, --target HOST[:PORT]  the KMS host to load (default: the embedded reference host)\n"
    "  -o, --out DIR             output directory (default: out/SCENARIO_NAME)\n"
    "      --seed N              seed of the fleet and request stream (default: the scenario's)\n"
    "      --shard K/N           run the K-th of N disjoint parts of the fleet (K from 0)\n"
    "      --shard auto/N        the same with K from $JOB_COMPLETION_INDEX (Kubernetes\n"
    "                            Indexed Jobs); merge the parts with 'kmsload merge'\n"
    "      --threads N           event loops (default: the scenario's threads, 0 = one per\n"
    "                            core, less one for the embedded host)\n"
    "      --set KEY=VALUE       override a scenario key, e.g. --set duration=10d or\n"
    "                            --set 'population clients.machines=100' (repeatable)\n"
    "      --summary-md FILE     also write a Markdown summary to FILE ('-': standard output),\n"
    "                            e.g. for $GITHUB_STEP_SUMMARY\n"
    "      --no-report           no charts and no index.html (kmsload report DIR makes them)\n"
    "  -q, --quiet               no progress line and no summary table\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status:\n"
    "  0  every expectation met\n"
    "  1  an expectation failed, or the run was interrupted (SIGINT/SIGTERM)\n"
    "  2  bad usage or scenario\n"
    "  3  target unreachable: no request got an answer\n";

/* Each contact holds one socket: ask for enough descriptors, and say so when the system refuses. */
static void raise_open_files(unsigned concurrency, bool embedded_host, bool quiet)
{
    struct rlimit rl;
    /* Client sockets, the embedded host's (up to twice as many while closes are reaped), files. */
    rlim_t want = (rlim_t)concurrency * (embedded_host ? 3 : 1) + 256 + (embedded_host ? 1024 : 0);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want)
        return;
    if (!quiet)
        fprintf(stderr,
                "kmsload run: open-file limit is %llu (hard limit %llu), %llu wanted for %u "
                "concurrent contacts; raise it (ulimit -n) or lower concurrency\n",
                (unsigned long long)(rl.rlim_cur > old ? rl.rlim_cur : old),
                (unsigned long long)rl.rlim_max, (unsigned long long)want, concurrency);
}

static void print_summary(const struct scenario *sc, const struct run_tally *t,
                          const struct engine_outcome *out, const struct expect_result *results,
                          size_t n_results, const char *out_dir)
{
    printf("\nscenario %s: %llu requests in %.2f s (%.0f/s), simulated %.2f days%s\n", sc->name,
           (unsigned long long)t->requests, out->wall_seconds,
           out->wall_seconds > 0 ? (double)t->requests / out->wall_seconds : 0.0,
           (double)out->sim_us / 86400e6, out->interrupted ? " — INTERRUPTED" : "");
    printf("  outcomes:");
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (t->outcomes[o])
            printf(" %s %llu", kms_outcome_name((enum kms_outcome)o),
                   (unsigned long long)t->outcomes[o]);
    printf("\n  latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           (double)histogram_quantile(&t->latency, 0.5) / 1000.0,
           (double)histogram_quantile(&t->latency, 0.99) / 1000.0,
           (double)histogram_quantile(&t->latency, 1.0) / 1000.0);
    for (size_t a = 0; a < TALLY_MAX_APPS; a++)
        if (t->apps[a].seen)
            printf("  %-11s max count %u, last count %u\n", t->apps[a].key, t->apps[a].max_count,
                   t->apps[a].last_count);
    for (size_t p = 0; p < sc->n_pops; p++) {
        const struct tally_population *tp = &t->pops[p];
        printf("  population %-12s %u machines, %u activated", sc->pops[p].name, tp->machines,
               tp->activated_machines);
        if (tp->crossed)
            printf(", first activation at count %u (request %llu, day %.3f)",
                   tp->first_activation_count, (unsigned long long)tp->first_activation_seq,
                   (double)tp->first_activation_sim_us / 86400e6);
        printf("\n");
    }
    printf("  model: %llu answers checked, %llu disagreements\n",
           (unsigned long long)t->model_checked, (unsigned long long)t->model_mismatches);
    for (size_t i = 0; i < n_results; i++)
        printf("  [%s] %s — %s\n", results[i].passed ? "PASS" : "FAIL",
               results[i].expectation->text, results[i].observed);
    printf("  results: %s/events.csv, summary.json, junit.xml\n", out_dir);
}

/*
 * "K/N", or "auto/N" with K from $JOB_COMPLETION_INDEX (set by Kubernetes for the pods of an
 * Indexed Job). Returns 0, or -1 with a message for people in err.
 */
static int parse_shard(const char *text, unsigned *k, unsigned *n, char *err, size_t err_len)
{
    char *slash = strchr(text, '/');
    unsigned long a, b;
    char left[32];
    if (!slash || (size_t)(slash - text) >= sizeof left) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    memcpy(left, text, (size_t)(slash - text));
    left[slash - text] = '\0';
    if (value_parse_uint(slash + 1, 1, 65536, &b)) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    if (strcmp(left, "auto") == 0) {
        const char *index = getenv("JOB_COMPLETION_INDEX");
        if (!index || !*index) {
            snprintf(err, err_len,
                     "--shard %s: JOB_COMPLETION_INDEX is not set (Kubernetes sets it in the pods "
                     "of an Indexed Job); give the shard as K/N instead",
                     text);
            return -1;
        }
        if (value_parse_uint(index, 0, ~0UL, &a)) {
            snprintf(err, err_len, "--shard %s: JOB_COMPLETION_INDEX=\"%s\" is not a number", text,
                     index);
            return -1;
        }
        if (a >= b) {
            snprintf(err, err_len,
                     "--shard %s: JOB_COMPLETION_INDEX=%lu is out of range 0..%lu (the Job's "
                     "completions must equal N)",
                     text, a, b - 1);
            return -1;
        }
    } else if (value_parse_uint(left, 0, 65535, &a) || a >= b) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

int run_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 'S'},
        {"shard", required_argument, NULL, 'K'},
        {"set", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'T'},
        {"summary-md", required_argument, NULL, 'M'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-report", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *target_text = NULL, *out_dir = NULL, *summary_md = NULL;
    const char *sets[RUN_MAX_SETS];
    size_t n_sets = 0;
    unsigned long seed = 0;
    bool seed_given = false, quiet = false, threads_given = false, report = true;
    unsigned long threads_opt = 0;
    unsigned shard_k = 0, shard_n = 1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            target_text = optarg;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 'S':
            if (value_parse_uint(optarg, 0, ~0UL, &seed)) {
                usage_error("run", "--seed \"%s\": expected a number", optarg);
                return RUN_EXIT_USAGE;
            }
            seed_given = true;
            break;
        case 'K': {
            char shard_err[256];
            if (parse_shard(optarg, &shard_k, &shard_n, shard_err, sizeof shard_err)) {
                usage_error("run", "%s", shard_err);
                return RUN_EXIT_USAGE;
            }
            break;
        }
        case 'M':
            summary_md = optarg;
            break;
        case 's':
            if (n_sets == RUN_MAX_SETS) {
                usage_error("run", "at most %d --set options", RUN_MAX_SETS);
                return RUN_EXIT_USAGE;
            }
            if (!strchr(optarg, '=')) {
                usage_error("run", "--set \"%s\": expected KEY=VALUE", optarg);
                return RUN_EXIT_USAGE;
            }
            sets[n_sets++] = optarg;
            break;
        case 'T':
            if (value_parse_uint(optarg, 0, 64, &threads_opt)) {
                usage_error("run", "--threads \"%s\": expected 0..64 (0: one per core)", optarg);
                return RUN_EXIT_USAGE;
            }
            threads_given = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'R':
            report = false;
            break;
        case 'h':
            fputs(run_usage, stdout);
            return RUN_EXIT_PASSED;
        case ':':
            usage_error("run", "option %s needs a value", argv[optind - 1]);
            return RUN_EXIT_USAGE;
        default:
            usage_error("run", "unknown option \"%s\"", argv[optind - 1]);
            return RUN_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage_error("run", "missing the SCENARIO file");
        return RUN_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        usage_error("run", "unexpected argument \"%s\"", argv[optind + 1]);
        return RUN_EXIT_USAGE;
    }
    const char *path = argv[optind];
    /* A scenario that is not here may be one of those installed with kmsload. */
    char installed[1024];
#ifdef KMSLOAD_DATADIR
    if (access(path, F_OK) != 0 && path[0] != '/' &&
        (size_t)snprintf(installed, sizeof installed, "%s/%s", KMSLOAD_DATADIR, path) <
            sizeof installed &&
        access(installed, R_OK) == 0)
        path = installed;
#else
    (void)installed;
#endif
    char err[1024];
    struct scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return RUN_EXIT_USAGE;
    if (scenario_load(sc, path, sets, n_sets, err, sizeof err)) {
        fprintf(stderr, "kmsload run: %s\n", err);
        free(sc);
        return RUN_EXIT_USAGE;
    }
    if (seed_given)
        sc->seed = seed;

    struct catalog cat;
    if (catalog_load(&cat, NULL, err, sizeof err)) {
        fprintf(stderr, "kmsload run: %s\n", err);
        free(sc);
        return RUN_EXIT_USAGE;
    }
    int status = RUN_EXIT_USAGE;
    struct embedded_host host;
    memset(&host, 0, sizeof host);
    struct net_addrs target;
    char target_desc[NET_HOST_MAX + 64];
    struct run_tally *tally = calloc(1, sizeof *tally);
    struct expect_result *results = calloc(sc->n_expects ? sc->n_expects : 1, sizeof *results);
    struct run_dir records;
    bool run_dir_open_ok = false;
    if (!tally || !results)
        goto out;
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads(); /* the embedded host's loop is stopped from this thread */
    raise_open_files(sc->concurrency, target_text == NULL, quiet);

    bool loopback = true;
    if (target_text) {
        char hostname[NET_HOST_MAX];
        uint16_t port;
        if (net_parse_target(target_text, KMS_DEFAULT_PORT, hostname, sizeof hostname, &port, err,
                             sizeof err) ||
            net_resolve(hostname, port, false, &target, err, sizeof err)) {
            usage_error("run", "--target: %s", err);
            goto out;
        }
        for (size_t i = 0; i < target.n; i++)
            if (!net_addr_is_loopback((struct sockaddr *)&target.addr[i]))
                loopback = false;
        snprintf(target_desc, sizeof target_desc, "%s", target_text);
        if (!loopback)
            fprintf(stderr,
                    "kmsload run: %s is not a loopback address. Every synthetic CMID this run "
                    "sends stays in that host's count for 30 days, and N_Policy is capped at the "
                    "documented values (no overcharging).\n",
                    target_text);
    } else {
        if (embedded_host_start(&host, sc, &cat, &target, err, sizeof err)) {
            fprintf(stderr, "kmsload run: embedded host: %s\n", err);
            goto out;
        }
        char addr[NET_ADDR_TEXT];
        net_addr_format((struct sockaddr *)&target.addr[0], addr, sizeof addr);
        snprintf(target_desc, sizeof target_desc, "embedded reference host %s", addr);
    }

    char default_out[SCENARIO_NAME_MAX + 8];
    if (!out_dir) {
        snprintf(default_out, sizeof default_out, "out/%s", sc->name);
        out_dir = default_out;
    }
    if (run_dir_open(&records, out_dir, err, sizeof err)) {
        fprintf(stderr, "kmsload run: %s\n", err);
        goto out;
    }
    run_dir_open_ok = true;
    /* One event loop per core by default, leaving one core to the embedded host. */
    unsigned threads = threads_given ? (unsigned)threads_opt : sc->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 1 ? (unsigned)cores - (target_text ? 0 : 1) : 1;
        if (threads == 0)
            threads = 1;
    }
    if (threads > sc->concurrency)
        threads = sc->concurrency;
    run_tally_init(tally, sc->n_pops);
    time_t started = time(NULL);
    char started_at[32];
    strftime(started_at, sizeof started_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&started));
    if (!quiet)
        fprintf(stderr, "kmsload run: %s against %s, %s clock, seed %llu, %u thread%s%s\n",
                sc->name, target_desc, sc->clock == SCENARIO_CLOCK_VIRTUAL ? "virtual" : "real",
                (unsigned long long)sc->seed, threads, threads == 1 ? "" : "s",
                shard_n > 1 ? ", sharded" : "");

    struct engine_config ecfg = {
        .scenario = sc,
        .catalog = &cat,
        .target = &target,
        .shard_index = shard_k,
        .shard_count = shard_n,
        .progress = !quiet && isatty(STDERR_FILENO),
        .cap_n_policy = !loopback,
        .threads = threads,
    };
    struct engine_outcome eo;
    struct run_event_sink sink = run_dir_sink(&records);
    if (engine_run(&ecfg, tally, &sink, &eo, err, sizeof err)) {
        fprintf(stderr, "kmsload run: %s\n", err);
        goto out;
    }
    size_t failed = expect_evaluate(sc, tally, results);
    struct run_info info = {
        .scenario = sc,
        .target = target_desc,
        .embedded_host = target_text == NULL,
        .seed = sc->seed,
        .shard_index = shard_k,
        .shard_count = shard_n,
        .started_at = started_at,
        .wall_seconds = eo.wall_seconds,
        .sim_us = eo.sim_us,
        .interrupted = eo.interrupted,
        .interrupt_reason = eo.interrupt_reason,
        .kmsload_version = KMSLOAD_VERSION,
    };
    run_dir_open_ok = false;
    if (run_dir_finish(&records, &info, tally, results, sc->n_expects, err, sizeof err)) {
        fprintf(stderr, "kmsload run: %s\n", err);
        status = RUN_EXIT_FAILED;
        goto out;
    }
    if (summary_md) {
        struct summary_md_run md = {
            .scenario = sc,
            .target = target_desc,
            .seed = sc->seed,
            .shard_index = shard_k,
            .shard_count = shard_n,
            .outcome = &eo,
            .tally = tally,
            .results = results,
            .n_results = sc->n_expects,
        };
        if (summary_md_write(summary_md, &md, err, sizeof err)) {
            fprintf(stderr, "kmsload run: --summary-md: %s\n", err);
            status = RUN_EXIT_FAILED;
            goto out;
        }
    }
    if (!quiet)
        print_summary(sc, tally, &eo, results, sc->n_expects, out_dir);
    /* The report is a view of the results: its failure is a warning, not the run's verdict. */
    if (report && report_write(out_dir, err, sizeof err) != REPORT_OK)
        fprintf(stderr, "kmsload run: warning: no report: %s\n", err);
    else if (report && !quiet)
        printf("  report: %s/index.html\n", out_dir);
    if (tally->requests > 0 && eo.answered == 0)
        status = RUN_EXIT_UNREACHABLE;
    else if (failed > 0 || eo.interrupted)
        status = RUN_EXIT_FAILED;
    else
        status = RUN_EXIT_PASSED;
out:
    if (run_dir_open_ok) {
        struct run_info aborted = {.scenario = sc,
                                   .target = "",
                                   .interrupted = true,
                                   .interrupt_reason = "run failed to start",
                                   .kmsload_version = KMSLOAD_VERSION};
        run_dir_finish(&records, &aborted, tally, results, 0, err, sizeof err);
    }
    embedded_host_stop(&host);
    free(results);
    free(tally);
    catalog_free(&cat);
    free(sc);
    return status;
}
