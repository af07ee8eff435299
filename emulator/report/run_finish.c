/* The after-run phase of `kmsload run` (see run_finish.h). */
#include "run_finish.h"

#include "coverage.h"
#include "coverage_json.h"
#include "coverage_md.h"
#include "rate_text.h"
#include "report.h"
#include "summary_md.h"
#include "value_parse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Several hosts: one line each (requests, answered, connection failures, key refusals, down
 * since, per application its own last and highest count and when it reached 25), and how many
 * machines cache it at the end. Counts are never summed over hosts: each host counts apart. */
static void print_hosts(FILE *f, const struct run_tally *t, bool virtual_clock)
{
    for (size_t h = 0; t->n_hosts > 1 && h < t->n_hosts; h++) {
        const struct tally_host *th = &t->hosts[h];
        char line[1024];
        tally_host_line(th, virtual_clock, line, sizeof line);
        fprintf(f, "  host %s", line);
        for (size_t a = 0; a < TALLY_MAX_APPS; a++) {
            const struct tally_host_app *ta = &th->apps[a];
            if (!ta->seen)
                continue;
            if (ta->reached_us[1] >= 0)
                fprintf(f, "; %s reached 25 on day %.2f", ta->key,
                        (double)ta->reached_us[1] / 86400e6);
            else if (ta->reached_us[0] >= 0)
                fprintf(f, "; %s reached 5 on day %.2f", ta->key,
                        (double)ta->reached_us[0] / 86400e6);
        }
        if (t->n_days > 0 && h < TALLY_MAX_HOSTS)
            fprintf(f, "; %u machines cache it at the end", t->days[t->n_days - 1].machines[h]);
        fprintf(f, "\n");
    }
}

static void print_summary(FILE *f, const struct scenario *sc, const struct run_tally *t,
                          const struct engine_outcome *out, const struct expect_result *results,
                          size_t n_results, const char *out_dir)
{
    /* Simulated time in days from two days on; shorter runs as a duration ("2m00s", "3h00m"). */
    char simulated[48];
    if (out->sim_us >= 2 * 86400000000LL)
        snprintf(simulated, sizeof simulated, "%.2f days", (double)out->sim_us / 86400e6);
    else
        value_format_duration(out->sim_us, simulated, sizeof simulated);
    /* On the real clock simulated time is wall time: said once. */
    char rate[32];
    rate_text((double)t->requests, out->wall_seconds, rate, sizeof rate);
    bool virtual_clock = sc->clock == SCENARIO_CLOCK_VIRTUAL;
    fprintf(f, "\nscenario %s: %llu requests in %.2f s (%s)%s%s%s\n", sc->name,
            (unsigned long long)t->requests, out->wall_seconds, rate,
            virtual_clock ? ", simulated " : "", virtual_clock ? simulated : "",
            out->interrupted ? " — INTERRUPTED" : "");
    fprintf(f, "  outcomes:");
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++)
        if (t->outcomes[o])
            fprintf(f, " %s %llu", kms_outcome_name((enum kms_outcome)o),
                    (unsigned long long)t->outcomes[o]);
    fprintf(f, "\n  latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
            (double)histogram_quantile(&t->latency, 0.5) / 1000.0,
            (double)histogram_quantile(&t->latency, 0.99) / 1000.0,
            (double)histogram_quantile(&t->latency, 1.0) / 1000.0);
    /* With several hosts each counts apart: the counts are on each host's line, never mixed. */
    for (size_t a = 0; t->n_hosts <= 1 && a < TALLY_MAX_APPS; a++)
        if (t->apps[a].seen)
            fprintf(f, "  %-11s max count %u, last count %u\n", t->apps[a].key,
                    t->apps[a].max_count, t->apps[a].last_count);
    for (size_t p = 0; p < sc->n_pops; p++) {
        const struct tally_population *tp = &t->pops[p];
        fprintf(f, "  population %-12s %u machine%s, ", sc->pops[p].name, tp->machines,
                tp->machines == 1 ? "" : "s");
        if (tp->ever_activated_machines > tp->activated_machines)
            fprintf(f, "%u activated, %u still activated at the end", tp->ever_activated_machines,
                    tp->activated_machines);
        else
            fprintf(f, "%u activated", tp->activated_machines);
        if (tp->crossed)
            fprintf(f, ", first activation at count %u (request %llu, day %.3f)",
                    tp->first_activation_count, (unsigned long long)tp->first_activation_seq,
                    (double)tp->first_activation_sim_us / 86400e6);
        fprintf(f, "\n");
    }
    fprintf(f, "  model: %llu answers checked, %llu disagreements\n",
            (unsigned long long)t->model_checked, (unsigned long long)t->model_mismatches);
    print_hosts(f, t, sc->clock == SCENARIO_CLOCK_VIRTUAL);
    for (size_t i = 0; i < n_results; i++)
        fprintf(f, "  [%s] %s — %s\n", results[i].passed ? "PASS" : "FAIL",
                results[i].rule[0] ? results[i].rule : results[i].expectation->text,
                results[i].observed);
    fprintf(f, "  results: %s/events.csv, summary.json, junit.xml\n", out_dir);
}

static int write_summary_md(const struct run_finish *f, const struct coverage *coverage,
                            size_t n_results)
{
    char err[1024];
    struct summary_md_run md = {
        .scenario = f->scenario,
        .target = f->target,
        .seed = f->scenario->seed,
        .shard_index = f->shard_index,
        .shard_count = f->shard_count,
        .outcome = f->outcome,
        .tally = f->tally,
        .results = f->results,
        .n_results = n_results,
        .coverage = coverage,
        .catalog = f->catalog,
        .recon = f->recon,
        .advice = f->advice,
    };
    if (summary_md_write(f->summary_md, &md, err, sizeof err)) {
        fprintf(f->msg, "kmsload run: --summary-md: %s\n", err);
        return RUN_EXIT_IO;
    }
    return 0;
}

/* Scenario key coverage = on: the coverage in words from events.csv, as coverage.md and
 * coverage.json (the report's table) in the run directory, in --summary-md and, unless quiet, on
 * the console. NULL after saying why it could not be measured. */
static struct coverage *measure_coverage(const struct run_finish *f)
{
    char events[4096], md[4096], json[4096], err[1024];
    snprintf(events, sizeof events, "%s/events.csv", f->out_dir);
    snprintf(md, sizeof md, "%s/coverage.md", f->out_dir);
    snprintf(json, sizeof json, "%s/coverage.json", f->out_dir);
    struct coverage *c = malloc(sizeof *c);
    if (!c || coverage_from_events(events, f->catalog, c, err, sizeof err) ||
        coverage_md_write(md, c, f->catalog, err, sizeof err) ||
        coverage_json_write(json, c, f->catalog, err, sizeof err)) {
        fprintf(f->msg, "kmsload run: coverage: %s\n", c ? err : "out of memory");
        free(c);
        return NULL;
    }
    if (!f->quiet) {
        char host[200], keys[1024];
        coverage_host_text(c, host, sizeof host);
        coverage_keys_text(c, f->catalog, keys, sizeof keys);
        fprintf(f->out, "  coverage: host OS %s; host keys %s\n", host, keys);
        for (size_t i = 0; i < c->n_groups; i++)
            if (c->groups[i].state == COVERAGE_REFUSED)
                fprintf(f->out, "    - %s\n", c->groups[i].advice);
    }
    return c;
}

/* summary.json and junit.xml, with the expectations' results. */
static int write_run_files(const struct run_finish *f, size_t n_results)
{
    const struct engine_outcome *eo = f->outcome;
    struct run_info info = {
        .scenario = f->scenario,
        .target = f->target,
        .embedded_host = f->embedded_host,
        .seed = f->scenario->seed,
        .shard_index = f->shard_index,
        .shard_count = f->shard_count,
        .started_at = f->started_at,
        .wall_seconds = eo->wall_seconds,
        .sim_us = eo->sim_us,
        .interrupted = eo->interrupted,
        .interrupt_reason = eo->interrupt_reason,
        .advice = f->advice,
        .recon = f->recon,
        .kmsload_version = KMSLOAD_VERSION,
    };
    char err[1024];
    if (run_dir_finish(f->records, &info, f->tally, f->results, n_results, err, sizeof err)) {
        fprintf(f->msg, "kmsload run: %s\n", err);
        return RUN_EXIT_IO;
    }
    return 0;
}

/* The verdict: stopped early or never answered (3), an expectation failed or interrupted (1). */
static int verdict(const struct run_finish *f, size_t failed)
{
    const struct engine_outcome *eo = f->outcome;
    /* Said even with -q: a CI log must show why the job failed. */
    if (eo->stop == ENGINE_STOP_NO_ANSWER || eo->stop == ENGINE_STOP_WALL_LIMIT) {
        fprintf(f->msg, "kmsload run: stopped early: %s\n", eo->interrupt_reason);
        return RUN_EXIT_UNREACHABLE;
    }
    if (f->tally->requests > 0 && eo->answered == 0) {
        fprintf(f->msg, "kmsload run: %s never answered: none of %llu requests got an answer\n",
                f->target, (unsigned long long)f->tally->requests);
        return RUN_EXIT_UNREACHABLE;
    }
    if (failed > 0 || eo->interrupted)
        return RUN_EXIT_FAILED;
    return RUN_EXIT_PASSED;
}

int run_finish(const struct run_finish *f)
{
    const struct scenario *sc = f->scenario;
    size_t failed = expect_evaluate(sc, f->tally, f->results);
    int status = write_run_files(f, sc->n_expects);
    if (status)
        return status;
    struct coverage *coverage = NULL;
    if (sc->coverage && !(coverage = measure_coverage(f)))
        return RUN_EXIT_FAILED;
    if (f->summary_md && write_summary_md(f, coverage, sc->n_expects)) {
        free(coverage);
        return RUN_EXIT_IO;
    }
    free(coverage);
    if (!f->quiet)
        print_summary(f->out, sc, f->tally, f->outcome, f->results, sc->n_expects, f->out_dir);
    /* The report is a view of the results: its failure is a warning, not the run's verdict. */
    char err[1024];
    if (f->report && report_write(f->out_dir, err, sizeof err) != REPORT_OK)
        fprintf(f->msg, "kmsload run: warning: no report: %s\n", err);
    else if (f->report && !f->quiet)
        fprintf(f->out, "  report: %s/index.html\n", f->out_dir);
    return verdict(f, failed);
}

void run_finish_aborted(const struct run_finish *f, const char *reason, const char *advice)
{
    struct engine_outcome eo = *f->outcome;
    eo.interrupted = true;
    eo.answered = f->tally->requests - run_tally_unanswered(f->tally);
    snprintf(eo.interrupt_reason, sizeof eo.interrupt_reason, "%s",
             reason ? reason : "run failed to start");
    struct run_finish g = *f;
    g.outcome = &eo;
    g.advice = advice;
    /* The expectations are not evaluated: nothing ran. */
    if (write_run_files(&g, 0) == 0 && g.summary_md)
        write_summary_md(&g, NULL, 0);
    char err[1024];
    if (g.report && report_write(g.out_dir, err, sizeof err) != REPORT_OK)
        fprintf(g.msg, "kmsload run: warning: no report: %s\n", err);
}
