#include "run_main.h"
#include "run_from_host.h"

#include "embedded_host.h"
#include "engine.h"
#include "expect.h"
#include "metrics_http.h"
#include "recon.h"
#include "run_dir.h"
#include "run_finish.h"
#include "run_metrics.h"
#include "run_plan.h"
#include "run_plan_text.h"
#include "run_resources.h"
#include "scenario_input.h"
#include "scenario_locate.h"
#include "scenarios_main.h"
#include "usage.h"
#include "value_parse.h"

#include <errno.h>
#include <event2/thread.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char run_usage[] =
    "Usage: kmsload run SCENARIO [OPTIONS]\n"
    "       kmsload run --population NAME:PRODUCT:MACHINES [...] [OPTIONS]\n"
    "       kmsload run --list\n"
    "\n"
    "Runs a scenario (see scenarios/README.md): a fleet of simulated Windows and Office machines\n"
    "contacting a KMS host as real clients do, every answer checked against a model of genuine\n"
    "host counting. Without --target the embedded reference host is started on a free loopback\n"
    "port. Results go to OUT_DIR: events.csv (one row per request), summary.json, junit.xml,\n"
    "and the report: index.html with the charts of charts/ (see kmsload report --help).\n"
    "\n"
    "SCENARIO is a file, the name of a shipped scenario (kmsload run smoke: see --list), or -\n"
    "for a scenario on standard input.\n"
    "\n"
    "  -t, --target HOST[:PORT]  the KMS host to load (default: the embedded reference host)\n"
    "  -t, --target dns:DOMAIN   the hosts published as _vlmcs._tcp.DOMAIN SRV records: each\n"
    "                            machine chooses one as Windows does (priority, then weight at\n"
    "                            random; stays with the host that activated it; fails over to\n"
    "                            the next host when one does not answer)\n"
    "      --dns-server ADDR[:PORT]  ask this DNS server for dns:DOMAIN (default: the system's)\n"
    "      --no-host-caching     machines discover at every contact (slmgr /ckhc)\n"
    "  -o, --out DIR             output directory (default: out/SCENARIO_NAME); an earlier\n"
    "                            run's files there are moved to DIR/previous-RUNID/\n"
    "      --keep-previous N     keep the N newest DIR/previous-* runs, remove older ones\n"
    "                            (default: 5; 0: none)\n"
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
    "      --metrics [ADDR:]PORT serve live Prometheus metrics of the run at\n"
    "                            http://ADDR:PORT/metrics (ADDR defaults to 127.0.0.1)\n"
    "      --dry-run             print the plan (requests, synthetic CMIDs, peak rate) and send\n"
    "                            nothing\n"
    "      --yes                 send to a target that is not on loopback without asking (the\n"
    "                            plan is printed first; without --yes a terminal is asked to\n"
    "                            type yes, anything else sends nothing)\n"
    "      --max-rate N          at most N requests per second (scenario key max_rate)\n"
    "      --target-clock MODE   detect (default): on the virtual clock, first ask the target\n"
    "                            whether it follows client time and refuse to run if it does\n"
    "                            not; client: it does (kmsload host --clock client); real: it\n"
    "                            checks client time, as genuine hosts do (scenario key\n"
    "                            target_clock)\n"
    "      --max-wall DURATION   stop (exit 3) after this much wall time (default: 1h on the\n"
    "                            virtual clock, the duration + 5m on the real clock)\n"
    "      --stop-after-failures N\n"
    "                            stop (exit 3) after N contacts in a row got no answer\n"
    "                            (default 20, 0: never; also after stop_after_silence, 30s)\n"
    "      --population NAME:PRODUCT:MACHINES\n"
    "                            a population (catalogue product, e.g. clients:win10-pro:30),\n"
    "                            added to SCENARIO or, without one, a scenario of its own (30\n"
    "                            virtual days; --set changes the rest) (repeatable)\n"
    "      --list                list the shipped scenarios and what each shows\n"
    "  -q, --quiet               no progress line and no summary table\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status:\n"
    "  0  every expectation met\n"
    "  1  an expectation failed, or the run was interrupted (SIGINT/SIGTERM)\n"
    "  2  bad usage or scenario, a virtual-clock scenario against a host that checks client\n"
    "     time, or a non-loopback target without --yes\n"
    "  3  target unreachable or stopped answering, or the wall-clock limit was reached (a\n"
    "     one-line reason on stderr, also with -q)\n"
    "  4  the results could not be written: disk full, no permission, an output path that\n"
    "     cannot be a directory (the file is named on stderr)\n";

/* Everything one run holds, from the scenario to the files. */
struct run_ctx {
    const struct run_options *opt;
    struct scenario *sc;
    struct catalog cat;
    bool have_catalog;
    struct embedded_host host;
    struct net_addrs target;
    struct host_set hosts; /* --target dns:DOMAIN or [host NAME] sections */
    struct embedded_host named[SCENARIO_MAX_HOSTS]; /* [host NAME] sections */
    size_t n_named;
    bool several_hosts;
    char target_desc[600];
    bool loopback;
    const char *out_dir;
    char default_out[SCENARIO_NAME_MAX + 8];
    struct run_dir records;
    bool records_open; /* run_dir_open done, run_dir_finish not yet */
    struct run_tally *tally;
    struct expect_result *results;
    unsigned threads;
    char started_at[32];
    struct engine_outcome eo;
    struct run_metrics *metrics; /* --metrics: the live figures and their server */
    struct metrics_http *http;
    const char *abort_reason; /* for the files of a run that did not start */
    const char *abort_advice; /* what the console said, for the same files */
    struct recon recon;       /* what the run learned of its target first */
    char err[1024];
};

/* The scenario (a file, a shipped one by name, standard input, --population), the --set
 * overrides and --seed, the catalogue. */
static int run_load(struct run_ctx *x)
{
    const struct run_options *opt = x->opt;
    char installed[1024];
    const char *path = opt->scenario_path;
    if (path && strcmp(path, "-") != 0)
        path = scenario_locate(path, installed, sizeof installed);
    x->sc = calloc(1, sizeof *x->sc);
    if (!x->sc)
        return RUN_EXIT_USAGE;
    if (scenario_load_input(x->sc, path, opt->populations, opt->n_populations, opt->sets,
                            opt->n_sets, x->err, sizeof x->err)) {
        fprintf(stderr, "kmsload run: %s\n", x->err);
        return RUN_EXIT_USAGE;
    }
    if (opt->seed_given)
        x->sc->seed = opt->seed;
    if (opt->max_rate_given)
        x->sc->max_rate = opt->max_rate;
    if (opt->target_clock_given)
        x->sc->target_clock = opt->target_clock;
    if (opt->max_wall_given)
        x->sc->max_wall_us = opt->max_wall_us;
    if (opt->stop_after_failures_given)
        x->sc->stop_after_failures = (unsigned)opt->stop_after_failures;
    if (catalog_load(&x->cat, NULL, x->err, sizeof x->err)) {
        fprintf(stderr, "kmsload run: %s\n", x->err);
        return RUN_EXIT_USAGE;
    }
    x->have_catalog = true;
    x->tally = calloc(1, sizeof *x->tally);
    x->results = calloc(x->sc->n_expects ? x->sc->n_expects : 1, sizeof *x->results);
    return x->tally && x->results ? 0 : RUN_EXIT_USAGE;
}

/* --target dns:DOMAIN: the SRV records become the run's host set (spec §1). */
static int run_discover(struct run_ctx *x, const char *domain)
{
    struct dns_srv_query q = {.domain = domain, .dns_server = x->opt->dns_server};
    if (host_set_discover(&x->hosts, &q, x->sc->host_caching && !x->opt->no_host_caching,
                          x->target_desc, sizeof x->target_desc, &x->loopback, stderr, x->err,
                          sizeof x->err)) {
        fprintf(stderr, "kmsload run: --target dns:%s: %s\n", domain, x->err);
        return RUN_EXIT_UNREACHABLE;
    }
    x->several_hosts = true;
    return 0;
}

/* A scenario's [host NAME] sections: one embedded host each, published in the run's own DNS
 * timeline (publish_at, withdraw_at) and up during [start_at, stop_at). */
static int run_start_named_hosts(struct run_ctx *x)
{
    const struct scenario *sc = x->sc;
    struct host_set *hs = &x->hosts;
    memset(hs, 0, sizeof *hs);
    hs->discovery = true;
    hs->caching = sc->host_caching && !x->opt->no_host_caching;
    int n = snprintf(x->target_desc, sizeof x->target_desc, "embedded reference hosts");
    for (size_t i = 0; i < sc->n_kms_hosts; i++) {
        const struct scenario_kms_host *kh = &sc->kms_hosts[i];
        struct host_entry *h = &hs->hosts[hs->n++];
        x->n_named = i + 1; /* stopped at the end even when it fails to start */
        if (embedded_host_start_named(&x->named[i], sc, i, &x->cat, &h->addrs, x->err,
                                      sizeof x->err)) {
            fprintf(stderr, "kmsload run: embedded host %s: %s\n", kh->name, x->err);
            return RUN_EXIT_USAGE;
        }
        host_entry_from_scenario(h, kh);
        char addr[NET_ADDR_TEXT];
        net_addr_format((struct sockaddr *)&h->addrs.addr[0], addr, sizeof addr);
        if (n > 0 && (size_t)n < sizeof x->target_desc)
            n += snprintf(x->target_desc + n, sizeof x->target_desc - (size_t)n, "%s%s %s",
                          i ? ", " : " ", kh->name, addr);
    }
    x->several_hosts = true;
    return 0;
}

static int run_start_embedded_host(struct run_ctx *x)
{
    if (x->sc->n_kms_hosts > 0)
        return run_start_named_hosts(x);
    if (embedded_host_start(&x->host, x->sc, &x->cat, &x->target, x->err, sizeof x->err)) {
        fprintf(stderr, "kmsload run: embedded host: %s\n", x->err);
        return RUN_EXIT_USAGE;
    }
    char addr[NET_ADDR_TEXT];
    net_addr_format((struct sockaddr *)&x->target.addr[0], addr, sizeof addr);
    snprintf(x->target_desc, sizeof x->target_desc, "embedded reference host %s", addr);
    return 0;
}

/* --target resolved (nothing is sent to it yet). */
static int run_resolve(struct run_ctx *x)
{
    const char *text = x->opt->target;
    x->loopback = true;
    if (!text) {
        snprintf(x->target_desc, sizeof x->target_desc, "the embedded reference host");
        return 0;
    }
    if (strncmp(text, "dns:", 4) == 0 && x->opt->dry_run) {
        x->loopback = false; /* the plan is offline: DNS is not asked */
        snprintf(x->target_desc, sizeof x->target_desc, "%s", text);
        return 0;
    }
    if (strncmp(text, "dns:", 4) == 0)
        return run_discover(x, text + 4);
    snprintf(x->target_desc, sizeof x->target_desc, "%s", text);
    int rc =
        net_target_resolve(text, x->opt->dry_run, &x->target, &x->loopback, x->err, sizeof x->err);
    if (rc == NET_TARGET_BAD) {
        usage_error("run", "--target: %s", x->err);
        return RUN_EXIT_USAGE;
    }
    if (rc == NET_TARGET_UNRESOLVED) {
        /* An unresolvable target is unreachable (3), as in probe, coverage and discover. */
        fprintf(stderr, "kmsload run: --target: %s\n", x->err);
        return RUN_EXIT_UNREACHABLE;
    }
    return 0;
}

/* The engine first asks a --target whether it follows client time (see engine_config). */
static bool run_checks_clock(const struct run_ctx *x)
{
    return x->opt->target && scenario_needs_client_clock(x->sc) &&
           x->sc->target_clock == SCENARIO_TARGET_CLOCK_DETECT;
}

static void print_plan(FILE *f, const struct run_ctx *x, const struct run_plan *plan)
{
    run_plan_print(f, x->sc, plan, x->target_desc, x->loopback, run_checks_clock(x),
                   x->opt->target && !x->several_hosts && x->sc->reconnaissance);
}

/*
 * Before anything is sent: the plan for --dry-run and for a target that is not on loopback
 * (which needs --yes or a typed yes), and the clock check a virtual run against a host that says
 * it checks client time fails at once. Returns 0 to go on, -1 for a clean stop (--dry-run), or
 * an exit status.
 */
static int run_preflight(struct run_ctx *x)
{
    const struct run_options *opt = x->opt;
    const struct scenario *sc = x->sc;
    if (opt->target && scenario_needs_client_clock(sc) &&
        sc->target_clock == SCENARIO_TARGET_CLOCK_REAL) {
        fprintf(stderr,
                "kmsload run: %s is a virtual-clock scenario of more than 3 simulated hours, and "
                "the target is said to check client time (target_clock = real): it would refuse "
                "the simulated time with "
                "0xC004F06C. Run a real-clock scenario instead (scenarios/real-host-smoke.ini, "
                "new-host-acceptance.ini or real-host-soak.ini); nothing was sent\n",
                sc->name);
        return RUN_EXIT_USAGE;
    }
    if (!opt->dry_run && (x->loopback || opt->yes)) {
        if (!x->loopback && !opt->quiet) {
            struct run_plan plan;
            if (run_plan_compute(sc, &x->cat, opt->shard_index, opt->shard_count, &plan, x->err,
                                 sizeof x->err) == 0)
                print_plan(stderr, x, &plan);
        }
        return 0;
    }
    struct run_plan plan;
    if (run_plan_compute(sc, &x->cat, opt->shard_index, opt->shard_count, &plan, x->err,
                         sizeof x->err)) {
        fprintf(stderr, "kmsload run: %s\n", x->err);
        return RUN_EXIT_USAGE;
    }
    if (opt->dry_run) {
        print_plan(stdout, x, &plan);
        printf("  --dry-run: nothing sent\n");
        return -1;
    }
    print_plan(stderr, x, &plan);
    if (run_plan_confirmed_on_terminal(x->target_desc))
        return 0;
    fprintf(stderr,
            "kmsload run: nothing sent: %s is not a loopback address; give --yes to send this "
            "plan (--dry-run only prints it)\n",
            x->target_desc);
    return RUN_EXIT_USAGE;
}

/* products = from-host: the populations follow what the host's keys cover (one host only). */
static int run_from_host(struct run_ctx *x)
{
    if (x->several_hosts) {
        fprintf(stderr, "kmsload run: products = from-host needs one host, not %s\n",
                x->target_desc);
        return RUN_EXIT_USAGE;
    }
    int rc = run_products_from_host(x->sc, &x->cat, &x->target, x->opt->quiet ? NULL : stdout,
                                    x->err, sizeof x->err);
    if (rc)
        fprintf(stderr, "kmsload run: %s\n", x->err);
    return rc == 0 ? 0 : rc == -1 ? RUN_EXIT_UNREACHABLE : RUN_EXIT_FAILED;
}

/* --metrics: the collector sees every event first and hands it on to *sink, which becomes it.
 * Returns 0, or -1 (said). */
static int run_start_metrics(struct run_ctx *x, struct run_event_sink *sink)
{
    /* The collector sees every event first and hands it on to the records. */
    x->metrics = malloc(sizeof *x->metrics);
    if (!x->metrics || run_metrics_init(x->metrics, x->sc, sink)) {
        free(x->metrics);
        x->metrics = NULL;
        fprintf(stderr, "kmsload run: out of memory\n");
        return -1;
    }
    struct metrics_http_options mo = {
        .listen = x->opt->metrics, .render = run_metrics_render, .render_arg = x->metrics};
    x->http = usage_start_metrics("run", NULL, &mo);
    if (!x->http)
        return -1;
    /* Even with --quiet: with port 0 this line is the only way to learn the port. */
    fprintf(stderr, "kmsload run: metrics on %s\n", metrics_http_url(x->http));
    *sink = run_metrics_sink(x->metrics);
    return 0;
}

/* The output directory opened, the start announced, the engine run to its end. */
static int run_engine_phase(struct run_ctx *x)
{
    const struct run_options *opt = x->opt;
    /* Learn the host before judging it (load/recon.h). */
    recon_for_run(&x->recon, &x->cat, x->sc, &x->target,
                  !opt->target           ? "the embedded reference host starts fresh"
                  : x->several_hosts     ? "several hosts: each is judged from its answers"
                  : opt->shard_count > 1 ? "a shard: the other shards count on the host too"
                                         : NULL,
                  opt->quiet ? NULL : stdout);
    const struct scenario *sc = x->sc;
    x->out_dir = opt->out_dir;
    if (!x->out_dir) {
        snprintf(x->default_out, sizeof x->default_out, "out/%s", sc->name);
        x->out_dir = x->default_out;
    }
    if (run_dir_open_kept(&x->records, x->out_dir, opt->keep_previous, stderr, x->err,
                          sizeof x->err)) {
        fprintf(stderr, "kmsload run: %s\n", x->err);
        return RUN_EXIT_IO;
    }
    x->records_open = true;
    x->threads = run_thread_count(opt->threads_given, opt->threads, !opt->target, sc);
    run_tally_init(x->tally, sc->n_pops);
    time_t started = time(NULL);
    strftime(x->started_at, sizeof x->started_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&started));
    if (!opt->quiet)
        fprintf(stderr, "kmsload run: %s against %s, %s clock, seed %llu, %u thread%s%s\n",
                sc->name, x->target_desc, sc->clock == SCENARIO_CLOCK_VIRTUAL ? "virtual" : "real",
                (unsigned long long)sc->seed, x->threads, x->threads == 1 ? "" : "s",
                opt->shard_count > 1 ? ", sharded" : "");
    struct engine_config ecfg = {
        .scenario = sc,
        .catalog = &x->cat,
        .target = &x->target,
        .hosts = x->several_hosts ? &x->hosts : NULL,
        .shard_index = opt->shard_index,
        .shard_count = opt->shard_count,
        .progress = !opt->quiet && isatty(STDERR_FILENO),
        .cap_n_policy = !x->loopback,
        .threads = x->threads,
        .handle_signals = true,
        /* The embedded host follows client time; another target is asked unless told, when
         * simulated time may run more than 3 hours ahead (within that, any host accepts it). */
        .check_client_clock = run_checks_clock(x),
        .recon = &x->recon,
    };
    struct run_event_sink sink = run_dir_sink(&x->records);
    if (opt->metrics && run_start_metrics(x, &sink) != 0)
        return RUN_EXIT_USAGE;
    int rc = engine_run(&ecfg, x->tally, &sink, &x->eo, x->err, sizeof x->err);
    recon_note_clock(&x->recon, sc, ecfg.check_client_clock, &x->eo);
    if (x->metrics)
        run_metrics_finish(x->metrics);
    if (rc) {
        fprintf(stderr, "kmsload run: %s\n", x->err);
        x->abort_advice = x->err;
        if (x->eo.target_checks_time)
            x->abort_reason = "refused: the target checks client time (virtual clock)";
        return RUN_EXIT_USAGE;
    }
    if (x->eo.notice[0] && !opt->quiet)
        fprintf(stderr, "kmsload run: %s\n", x->eo.notice);
    return 0;
}

/* The run as run_finish.h takes it. */
static struct run_finish run_finish_of(struct run_ctx *x)
{
    const struct run_options *opt = x->opt;
    struct run_finish f = {
        .scenario = x->sc,
        .catalog = &x->cat,
        .target = x->target_desc,
        .embedded_host = opt->target == NULL,
        .shard_index = opt->shard_index,
        .shard_count = opt->shard_count,
        .started_at = x->started_at,
        .outcome = &x->eo,
        .tally = x->tally,
        .results = x->results,
        .records = &x->records,
        .out_dir = x->out_dir,
        .summary_md = opt->summary_md,
        .quiet = opt->quiet,
        .report = opt->report,
        .out = stdout,
        .msg = stderr,
        .recon = &x->recon,
    };
    return f;
}

/* The expectations, the files, the summary, the report and the verdict (run_finish.h). */
static int run_write_results(struct run_ctx *x)
{
    struct run_finish f = run_finish_of(x);
    x->records_open = false;
    return run_finish(&f);
}

/* A run that opened its directory but never finished still leaves valid files behind. */
static void run_release(struct run_ctx *x)
{
    if (x->records_open) {
        struct run_finish f = run_finish_of(x);
        run_finish_aborted(&f, x->abort_reason, x->abort_advice);
    }
    metrics_http_stop(x->http);
    if (x->metrics) {
        run_metrics_free(x->metrics);
        free(x->metrics);
    }
    embedded_host_stop(&x->host);
    for (size_t i = 0; i < x->n_named; i++)
        embedded_host_stop(&x->named[i]);
    free(x->results);
    free(x->tally);
    if (x->have_catalog)
        catalog_free(&x->cat);
    free(x->sc);
}

int run_execute(const struct run_options *opt)
{
    if (opt->list)
        return scenarios_print(stdout, "run");
    struct run_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return RUN_EXIT_USAGE;
    x->opt = opt;
    int status = run_load(x);
    if (status == 0)
        status = run_resolve(x);
    if (status == 0)
        status = run_preflight(x);
    if (status == 0) {
        /* From here on SIGINT/SIGTERM end the run with its files written: the engine takes them,
         * so they are blocked before any thread (the embedded host) starts. */
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        signal(SIGPIPE, SIG_IGN);
        evthread_use_pthreads(); /* the embedded host's loop is stopped from this thread */
        run_raise_open_files(x->sc->concurrency, opt->target == NULL, opt->quiet ? NULL : stderr);
        if (!opt->target)
            status = run_start_embedded_host(x);
        if (status == 0 && strcmp(x->sc->products, "from-host") == 0)
            status = run_from_host(x);
        if (status == 0)
            status = run_engine_phase(x);
        if (status == 0)
            status = run_write_results(x);
    } else if (status == -1) {
        status = RUN_EXIT_PASSED; /* --dry-run: the plan printed, nothing sent */
    }
    run_release(x);
    free(x);
    return status;
}
