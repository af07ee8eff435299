/* A run's summary in Markdown (see summary_md.h). */
#include "summary_md.h"
#include "rate_text.h"

#include "coverage_md.h"

#include "atomic_file.h"

#include "run_dir.h"

#include "hresult.h"
#include "wintypes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Text inside a table cell or a line: '|' escaped, line breaks become spaces, and the characters
 * GitHub would read as HTML, emphasis or code ('<', '>', '&', '*', '`') escaped; underscores stay
 * (GitHub does not emphasise inside words: first_activation.clients).
 */
static void md_text(FILE *f, const char *s, size_t max)
{
    if (!s)
        return;
    for (size_t i = 0; i < max && s[i]; i++) {
        char c = s[i];
        switch (c) {
        case '|':
        case '*':
        case '`':
            putc('\\', f);
            putc(c, f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '\n':
        case '\r':
        case '\t':
            putc(' ', f);
            break;
        default:
            putc(c, f);
            break;
        }
    }
}

static void md_ms(FILE *f, uint64_t us)
{
    if (us < 10000)
        fprintf(f, "%.2f ms", (double)us / 1e3);
    else if (us < 10000000)
        fprintf(f, "%.1f ms", (double)us / 1e3);
    else
        fprintf(f, "%.2f s", (double)us / 1e6);
}

static size_t failed_count(const struct summary_md_run *run)
{
    size_t failed = 0;
    for (size_t i = 0; i < run->n_results; i++)
        failed += !run->results[i].passed;
    return failed;
}

static void md_header(FILE *f, const struct summary_md_run *run)
{
    const struct scenario *sc = run->scenario;
    const struct run_tally *t = run->tally;
    const struct engine_outcome *eo = run->outcome;
    size_t failed = failed_count(run);
    bool interrupted = eo && eo->interrupted;
    bool unreachable = t->requests > 0 && eo && eo->answered == 0;
    const char *verdict = run->advice   ? "NOT RUN" /* stopped before it began, said why */
                          : unreachable ? "UNREACHABLE"
                          : interrupted ? "INTERRUPTED"
                          : failed      ? "FAILED"
                                        : "PASSED";
    const char *mark =
        failed || interrupted || unreachable || run->advice ? "\xE2\x9D\x8C" : "\xE2\x9C\x85";

    fputs("## kmsload: ", f);
    md_text(f, sc && sc->name[0] ? sc->name : "run", SCENARIO_NAME_MAX);
    fprintf(f, " %s %s\n\n", mark, verdict);
    if (sc && sc->description[0]) {
        fputs("> ", f);
        md_text(f, sc->description, sizeof sc->description);
        fputs("\n\n", f);
    }
    fputs("| | |\n|---|---|\n", f);
    if (sc && sc->path[0]) {
        fputs("| scenario | ", f);
        md_text(f, sc->path, sizeof sc->path);
        fputs(" |\n", f);
    }
    fputs("| target | ", f);
    md_text(f, run->target ? run->target : "", 512);
    fputs(" |\n", f);
    fprintf(f, "| seed | %" PRIu64 " |\n", run->seed);
    if (run->merged_shards > 0)
        fprintf(f, "| shards | %u merged |\n", run->merged_shards);
    else if (run->shard_count > 1)
        fprintf(f, "| shard | %u/%u |\n", run->shard_index, run->shard_count);
    fprintf(f, "| requests | %" PRIu64, t->requests);
    if (eo) {
        char rate[32];
        rate_text((double)t->requests, eo->wall_seconds, rate, sizeof rate);
        fprintf(f, " in %.2f s (%s)", eo->wall_seconds, rate);
        if (!sc || sc->clock == SCENARIO_CLOCK_VIRTUAL) /* real clock: simulated is wall time */
            fprintf(f, ", %.2f simulated days", (double)eo->sim_us / 86400e6);
    }
    fputs(" |\n", f);
    fprintf(f, "| expectations | %zu of %zu met |\n", run->n_results - failed, run->n_results);
    if (interrupted) {
        fputs("| interrupted | ", f);
        md_text(f, eo->interrupt_reason[0] ? eo->interrupt_reason : "yes",
                sizeof eo->interrupt_reason);
        fputs(" |\n", f);
    }
    fputs("\n", f);
    if (run->note && run->note[0]) {
        md_text(f, run->note, 1024);
        fputs("\n\n", f);
    }
}

/* The advice of a refused run, and what the run learned of its target before judging it. */
static void md_recon(FILE *f, const struct summary_md_run *run)
{
    if (run->advice) {
        fputs("**What to do:** ", f);
        md_text(f, run->advice, 1024);
        fputs("\n\n", f);
    }
    const struct recon *r = run->recon;
    if (!r || !r->done)
        return;
    fputs("### Reconnaissance\n\n| | |\n|---|---|\n| host | ", f);
    md_text(f, r->host_os, sizeof r->host_os);
    fputs(" |\n| activates | ", f);
    md_text(f, r->key_groups[0] ? r->key_groups : "nothing", sizeof r->key_groups);
    fputs(" |\n| clock | ", f);
    md_text(f, r->clock, sizeof r->clock);
    fputs(" |\n", f);
    for (size_t a = 0; a < r->n_apps; a++) {
        const struct recon_app *ra = &r->apps[a];
        if (!ra->used)
            continue;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&ra->cmid, cmid);
        fprintf(f, "| %s | ", ra->name);
        if (ra->counted)
            fprintf(f, "the host already counted %u machine%s (CMID %s among them) |\n", ra->count,
                    ra->count == 1 ? "" : "s", cmid);
        else
            fputs("no count (no product group of it activated) |\n", f);
    }
    fputs("\n", f);
    for (size_t i = 0; i < r->n_notes; i++) {
        fputs("- ", f);
        md_text(f, r->notes[i], sizeof r->notes[i]);
        fputs("\n", f);
    }
    if (r->n_notes)
        fputs("\n", f);
}

static void md_expectations(FILE *f, const struct summary_md_run *run)
{
    if (run->n_results == 0)
        return;
    fputs("### Expectations\n\n| | expectation | observed |\n|---|---|---|\n", f);
    for (size_t i = 0; i < run->n_results; i++) {
        const struct expect_result *r = &run->results[i];
        const struct scenario_expectation *e = r->expectation;
        fputs(r->passed ? "| \xE2\x9C\x85 pass | " : "| \xE2\x9D\x8C **FAIL** | ", f);
        if (r->rule[0])
            md_text(f, r->rule, sizeof r->rule);
        else if (e)
            md_text(f, e->text, sizeof e->text);
        fputs(" | ", f);
        md_text(f, r->observed, sizeof r->observed);
        fputs(" |\n", f);
    }
    fputs("\n", f);
}

static void md_outcomes(FILE *f, const struct run_tally *t)
{
    fputs("### Outcomes\n\n| outcome | requests | share |\n|---|--:|--:|\n", f);
    for (int o = 0; o < KMS_OUTCOME__COUNT; o++) {
        if (!t->outcomes[o])
            continue;
        fprintf(f, "| %s | %" PRIu64 " | %.1f %% |\n", kms_outcome_name((enum kms_outcome)o),
                t->outcomes[o],
                t->requests ? 100.0 * (double)t->outcomes[o] / (double)t->requests : 0.0);
    }
    if (t->requests == 0)
        fputs("| (no requests) | 0 | |\n", f);
    fputs("\n", f);
    if (t->n_hresults == 0)
        return;
    fputs("| host HRESULT / RPC fault | name | requests |\n|---|---|--:|\n", f);
    for (size_t i = 0; i < t->n_hresults; i++)
        fprintf(f, "| 0x%08" PRIX32 " | %s | %" PRIu64 " |\n", t->hresults[i].code,
                status_name(t->hresults[i].code), t->hresults[i].n);
    fputs("\n", f);
}

static void md_latency(FILE *f, const struct histogram *h)
{
    fputs("### Latency\n\n", f);
    if (h->count == 0) {
        fputs("No answered request carried a latency.\n\n", f);
        return;
    }
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    fputs("| p50 | p90 | p99 | p99.9 | max | mean | samples |\n"
          "|--:|--:|--:|--:|--:|--:|--:|\n|",
          f);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        putc(' ', f);
        md_ms(f, histogram_quantile(h, qs[i]));
        fputs(" |", f);
    }
    putc(' ', f);
    md_ms(f, h->max);
    fputs(" | ", f);
    md_ms(f, (uint64_t)histogram_mean(h));
    fprintf(f, " | %" PRIu64 " |\n\n", h->count);
}

static void md_applications(FILE *f, const struct run_tally *t)
{
    bool any = false;
    for (size_t a = 0; a < TALLY_MAX_APPS; a++)
        any = any || t->apps[a].seen;
    if (!any)
        return;
    fputs("### Applications\n\n| application | requests | max count | final count |\n"
          "|---|--:|--:|--:|\n",
          f);
    for (size_t a = 0; a < TALLY_MAX_APPS; a++) {
        const struct tally_app *app = &t->apps[a];
        if (!app->seen)
            continue;
        bool has_count = app->n_timeline > 0 || app->timeline_skipped > 0;
        fputs("| ", f);
        md_text(f, app->key, sizeof app->key);
        fprintf(f, " | %" PRIu64 " | ", app->requests);
        if (has_count)
            fprintf(f, "%u | %u |\n", app->max_count, app->last_count);
        else
            fputs("– | – |\n", f);
    }
    fputs("\n", f);
}

/* Several KMS hosts: one row each. */
static void md_hosts(FILE *f, const struct run_tally *t)
{
    if (t->n_hosts < 2)
        return;
    fputs("### Hosts\n\nEach host counts apart: its own counts, never summed.\n\n"
          "| host | requests | answered | connection failures | key refusals (0xC004F042) | "
          "failovers | disagreements | down since | counts (last / max) | machines caching it "
          "at the end |\n|---|--:|--:|--:|--:|--:|--:|---|---|--:|\n",
          f);
    for (size_t h = 0; h < t->n_hosts; h++) {
        const struct tally_host *th = &t->hosts[h];
        struct tally_host_figures fg;
        tally_host_figures(th, &fg);
        fputs("| ", f);
        md_text(f, th->name, sizeof th->name);
        fprintf(f,
                " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
                " | ",
                th->requests, fg.answered, fg.connection_failures, fg.key_refusals, fg.failovers,
                th->model_mismatches);
        if (th->down_since_us >= 0)
            fprintf(f, "day %.2f (%.1f s into the run) | ", (double)th->down_since_us / 86400e6,
                    th->down_since_wall_s);
        else
            fputs(th->last_answer_us < 0 ? "never answered | " : "– | ", f);
        bool first = true;
        for (size_t a = 0; a < TALLY_MAX_APPS; a++) {
            const struct tally_host_app *ta = &th->apps[a];
            if (!ta->seen)
                continue;
            fputs(first ? "" : ", ", f);
            md_text(f, ta->key, sizeof ta->key);
            fprintf(f, " %u / %u", ta->last_count, ta->max_count);
            if (ta->reached_us[1] >= 0)
                fprintf(f, " (25 on day %.2f)", (double)ta->reached_us[1] / 86400e6);
            else if (ta->reached_us[0] >= 0)
                fprintf(f, " (5 on day %.2f)", (double)ta->reached_us[0] / 86400e6);
            first = false;
        }
        if (first)
            fputs("–", f);
        if (t->n_days > 0 && h < TALLY_MAX_HOSTS)
            fprintf(f, " | %u |\n", t->days[t->n_days - 1].machines[h]);
        else
            fputs(" | – |\n", f);
    }
    fputs("\n", f);
}

static void md_populations(FILE *f, const struct summary_md_run *run)
{
    const struct scenario *sc = run->scenario;
    const struct run_tally *t = run->tally;
    if (t->n_pops == 0)
        return;
    fputs("### Populations\n\n| population | machines | activated at some point | still activated "
          "at the end | requests | first activation |\n|---|--:|--:|--:|--:|---|\n",
          f);
    for (size_t p = 0; p < t->n_pops; p++) {
        const struct tally_population *tp = &t->pops[p];
        fputs("| ", f);
        if (sc && p < sc->n_pops && sc->pops[p].name[0])
            md_text(f, sc->pops[p].name, sizeof sc->pops[p].name);
        else
            fprintf(f, "population %zu", p + 1);
        fprintf(f, " | %u | %u | %u | %" PRIu64 " | ", tp->machines,
                tp->ever_activated_machines > tp->activated_machines ? tp->ever_activated_machines
                                                                     : tp->activated_machines,
                tp->activated_machines, tp->requests);
        if (tp->crossed)
            fprintf(f, "count %u, day %.3f |\n", tp->first_activation_count,
                    (double)tp->first_activation_sim_us / 86400e6);
        else
            fputs("none |\n", f);
    }
    fputs("\n", f);
}

static void md_model(FILE *f, const struct run_tally *t)
{
    fprintf(f,
            "### Model\n\n%" PRIu64 " answers checked against the model of genuine counting, "
            "%" PRIu64 " disagreement%s.\n",
            t->model_checked, t->model_mismatches, t->model_mismatches == 1 ? "" : "s");
    if (t->has_first_mismatch) {
        const struct run_event *m = &t->first_mismatch;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&m->cmid, cmid);
        fprintf(f,
                "\nFirst disagreement: request %" PRIu64 " at day %.3f, machine %" PRIu32
                " (`%s`), ",
                m->seq, (double)m->sim_us / 86400e6, m->machine, cmid);
        md_text(f, m->population, 64);
        fputs(" / ", f);
        md_text(f, m->app_key, 32);
        if (m->count >= 0)
            fprintf(f, ": count %" PRId64, m->count);
        else
            fputs(": no count", f);
        fprintf(f, ", the model expected %u..%u", m->expected_lo, m->expected_hi);
        if (m->model_reason[0]) {
            fputs(" — ", f);
            md_text(f, m->model_reason, sizeof m->model_reason);
        }
        fputs(".\n", f);
    }
    fputs("\n", f);
}

int summary_md_print(FILE *f, const struct summary_md_run *run)
{
    md_header(f, run);
    md_recon(f, run);
    md_expectations(f, run);
    md_outcomes(f, run->tally);
    md_latency(f, &run->tally->latency);
    md_applications(f, run->tally);
    md_hosts(f, run->tally);
    md_populations(f, run);
    md_model(f, run->tally);
    if (run->coverage && run->catalog)
        coverage_md_print(f, run->coverage, run->catalog, "###");
    return ferror(f) ? -1 : 0;
}

int summary_md_write(const char *path, const struct summary_md_run *run, char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem || summary_md_print(mem, run) != 0 || fclose(mem) != 0) {
        snprintf(err, err_len, "cannot build %s: out of memory", path);
        free(text);
        return -1;
    }
    int rc = -1;
    struct stat st;
    bool in_place = strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode));
    if (in_place) {
        int fd =
            strcmp(path, "-") == 0 ? STDOUT_FILENO : open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0)
            snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        else if (atomic_file_write_all(fd, text, len) != 0)
            snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        else
            rc = 0;
        if (fd > STDOUT_FILENO)
            close(fd);
        free(text);
        return rc;
    }
    rc = atomic_file_write(path, text, len, 0666, err, err_len);
    free(text);
    return rc;
}
