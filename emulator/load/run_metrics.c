#include "run_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int run_metrics_init(struct run_metrics *m, const struct scenario *sc,
                     const struct run_event_sink *next)
{
    memset(m, 0, sizeof *m);
    m->sc = sc;
    if (next)
        m->next = *next;
    m->tally = malloc(sizeof *m->tally);
    m->results = calloc(sc->n_expects ? sc->n_expects : 1, sizeof *m->results);
    if (!m->tally || !m->results) {
        free(m->tally);
        free(m->results);
        return -1;
    }
    run_tally_init(m->tally, sc->n_pops);
    metrics_histogram_init(&m->latency, metrics_latency_bounds, metrics_latency_n_bounds);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m->start_time = (double)now.tv_sec + now.tv_nsec / 1e9;
    pthread_mutex_init(&m->lock, NULL);
    return 0;
}

void run_metrics_free(struct run_metrics *m)
{
    if (!m->tally)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->tally);
    free(m->results);
    m->tally = NULL;
    m->results = NULL;
}

/* An HRESULT for outcomes that carry one; "none" for network and protocol failures. */
static bool has_hresult(enum kms_outcome o)
{
    return kms_outcome_has_count(o) || o == KMS_OUTCOME_HOST_ERROR || o == KMS_OUTCOME_RPC_FAULT;
}

static void count_series(struct run_metrics *m, enum kms_outcome outcome, uint32_t hresult)
{
    if (!has_hresult(outcome))
        hresult = 0;
    for (size_t i = 0; i < m->n_series; i++) {
        struct run_metrics_series *s = &m->series[i];
        if (s->outcome == outcome && (s->other_hresult || s->hresult == hresult)) {
            s->n++;
            return;
        }
    }
    if (m->n_series < RUN_METRICS_MAX_SERIES) {
        bool last = m->n_series == RUN_METRICS_MAX_SERIES - 1; /* the catch-all from now on */
        m->series[m->n_series] = (struct run_metrics_series){outcome, hresult, last, 1};
        m->n_series++;
        return;
    }
    m->series[RUN_METRICS_MAX_SERIES - 1].n++; /* the catch-all */
}

static void on_event(void *ctx, const struct run_event *ev)
{
    struct run_metrics *m = ctx;
    pthread_mutex_lock(&m->lock);
    run_tally_add(m->tally, ev);
    count_series(m, ev->outcome, ev->hresult);
    metrics_histogram_observe(&m->latency, (double)ev->latency_us / 1e6);
    pthread_mutex_unlock(&m->lock);
    if (m->next.event)
        m->next.event(m->next.ctx, ev);
}

static void on_flush(void *ctx)
{
    struct run_metrics *m = ctx;
    if (m->next.flush)
        m->next.flush(m->next.ctx);
}

static void on_sent(void *ctx)
{
    struct run_metrics *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->started++;
    pthread_mutex_unlock(&m->lock);
    if (m->next.sent)
        m->next.sent(m->next.ctx);
}

struct run_event_sink run_metrics_sink(struct run_metrics *m)
{
    return (struct run_event_sink){.event = on_event, .flush = on_flush, .sent = on_sent, .ctx = m};
}

void run_metrics_finish(struct run_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->finished = true;
    pthread_mutex_unlock(&m->lock);
}

static void family_sample(struct metrics_text *out, const char *name, enum metrics_type type,
                          const char *help, double v)
{
    metrics_text_family(out, name, type, help);
    metrics_text_sample(out, name, NULL, 0, v);
}

/* Several KMS hosts (dns: targets, [host] sections): requests and counts per host. */
static void render_hosts(struct metrics_text *out, const struct run_tally *t)
{
    metrics_text_family(out, "kmsload_run_host_requests_total", METRICS_COUNTER,
                        "Requests finished per KMS host of the run, by outcome.");
    for (size_t h = 0; h < t->n_hosts && h < TALLY_MAX_HOSTS; h++)
        for (int o = 0; t->hosts[h].seen && o < KMS_OUTCOME__COUNT; o++) {
            if (!t->hosts[h].outcomes[o])
                continue;
            struct metrics_label l[] = {{"host", t->hosts[h].name},
                                        {"outcome", kms_outcome_name((enum kms_outcome)o)}};
            metrics_text_sample(out, "kmsload_run_host_requests_total", l, 2,
                                (double)t->hosts[h].outcomes[o]);
        }
    static const char *const names[] = {"kmsload_run_host_clients", "kmsload_run_host_clients_max"};
    static const char *const helps[] = {
        "The count each KMS host returned last, per application.",
        "The highest count each KMS host returned so far, per application."};
    for (int which = 0; which < 2; which++) {
        metrics_text_family(out, names[which], METRICS_GAUGE, helps[which]);
        for (size_t h = 0; h < t->n_hosts && h < TALLY_MAX_HOSTS; h++)
            for (size_t a = 0; t->hosts[h].seen && a < TALLY_MAX_APPS; a++) {
                const struct tally_host_app *ha = &t->hosts[h].apps[a];
                if (!ha->seen)
                    continue;
                struct metrics_label l[] = {{"host", t->hosts[h].name}, {"application", ha->key}};
                metrics_text_sample(out, names[which], l, 2,
                                    (double)(which ? ha->max_count : ha->last_count));
            }
    }
    metrics_text_family(out, "kmsload_run_host_model_disagreements_total", METRICS_COUNTER,
                        "Answers of each KMS host whose count a genuine host could not have sent.");
    for (size_t h = 0; h < t->n_hosts && h < TALLY_MAX_HOSTS; h++)
        if (t->hosts[h].seen) {
            struct metrics_label l = {"host", t->hosts[h].name};
            metrics_text_sample(out, "kmsload_run_host_model_disagreements_total", &l, 1,
                                (double)t->hosts[h].model_mismatches);
        }
}

void run_metrics_render(struct metrics_text *out, void *arg)
{
    struct run_metrics *m = arg;
    const struct scenario *sc = m->sc;
    pthread_mutex_lock(&m->lock);
    const struct run_tally *t = m->tally;

    metrics_text_family(out, "kmsload_run_info", METRICS_GAUGE,
                        "The scenario being run and its clock (value always 1).");
    struct metrics_label info[] = {
        {"scenario", sc->name},
        {"clock", sc->clock == SCENARIO_CLOCK_VIRTUAL ? "virtual" : "real"}};
    metrics_text_sample(out, "kmsload_run_info", info, 2, 1);

    metrics_text_family(out, "kmsload_run_requests_total", METRICS_COUNTER,
                        "Requests finished, by outcome and HRESULT (none: no KMS answer).");
    for (size_t i = 0; i < m->n_series; i++) {
        const struct run_metrics_series *s = &m->series[i];
        char hr[16];
        kms_outcome_hresult_label(s->outcome, s->hresult, hr, sizeof hr);
        struct metrics_label l[] = {{"outcome", kms_outcome_name(s->outcome)},
                                    {"hresult", s->other_hresult ? "other" : hr}};
        metrics_text_sample(out, "kmsload_run_requests_total", l, 2, (double)s->n);
    }
    family_sample(out, "kmsload_run_requests_in_flight", METRICS_GAUGE,
                  "Requests sent and not finished yet.",
                  (double)(m->started > t->requests ? m->started - t->requests : 0));

    metrics_text_family(out, "kmsload_run_request_duration_seconds", METRICS_HISTOGRAM,
                        "Time from a request's intended send time to its end (answer, error or "
                        "timeout).");
    metrics_text_histogram(out, "kmsload_run_request_duration_seconds", NULL, 0, &m->latency);

    metrics_text_family(out, "kmsload_run_clients", METRICS_GAUGE,
                        "The count the host returned last, per application.");
    for (size_t a = 0; a < TALLY_MAX_APPS; a++)
        if (t->apps[a].seen && t->apps[a].n_timeline > 0) {
            struct metrics_label l = {"application", t->apps[a].key};
            metrics_text_sample(out, "kmsload_run_clients", &l, 1, (double)t->apps[a].last_count);
        }
    metrics_text_family(out, "kmsload_run_clients_max", METRICS_GAUGE,
                        "The highest count the host returned so far, per application.");
    for (size_t a = 0; a < TALLY_MAX_APPS; a++)
        if (t->apps[a].seen && t->apps[a].n_timeline > 0) {
            struct metrics_label l = {"application", t->apps[a].key};
            metrics_text_sample(out, "kmsload_run_clients_max", &l, 1,
                                (double)t->apps[a].max_count);
        }

    if (t->n_hosts > 0)
        render_hosts(out, t);

    family_sample(out, "kmsload_run_model_checks_total", METRICS_COUNTER,
                  "Answers with a count checked against the model of genuine counting.",
                  (double)t->model_checked);
    family_sample(out, "kmsload_run_model_disagreements_total", METRICS_COUNTER,
                  "Answers whose count a genuine host could not have returned.",
                  (double)t->model_mismatches);
    family_sample(out, "kmsload_run_simulated_seconds", METRICS_GAUGE,
                  "Simulated time the run reached (virtual clock: days pass in seconds).",
                  (double)t->last_sim_us / 1e6);

    if (sc->n_expects) {
        expect_evaluate(sc, t, m->results);
        metrics_text_family(out, "kmsload_run_expectation_passing", METRICS_GAUGE,
                            "1 when the expectation holds for what the run showed so far, 0 when "
                            "not (yet).");
        for (size_t i = 0; i < sc->n_expects; i++) {
            /* Labelled as the console writes it ("error_rate ≤ 0"), not as the file does. */
            struct metrics_label l = {"expectation", m->results[i].rule[0] ? m->results[i].rule
                                                                           : sc->expects[i].text};
            metrics_text_sample(out, "kmsload_run_expectation_passing", &l, 1,
                                m->results[i].passed ? 1 : 0);
        }
    }
    family_sample(out, "kmsload_run_finished", METRICS_GAUGE,
                  "1 once the run is over (the summary is being written).", m->finished ? 1 : 0);
    family_sample(out, "kmsload_run_start_time_seconds", METRICS_GAUGE,
                  "When the run started, in seconds since the Unix epoch.", m->start_time);
    pthread_mutex_unlock(&m->lock);
}
