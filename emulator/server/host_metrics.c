#include "host_metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void host_metrics_init(struct host_metrics *m, struct kms_host *host)
{
    memset(m, 0, sizeof *m);
    m->host = host;
    metrics_histogram_init(&m->latency, metrics_latency_bounds, metrics_latency_n_bounds);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m->start_time = (double)now.tv_sec + now.tv_nsec / 1e9;
}

static int group_index(const struct catalog *cat, const struct guid *kms_id)
{
    const struct catalog_kms *k = catalog_kms_by_id(cat, kms_id);
    return k ? (int)(k - cat->kms) : -1;
}

void host_metrics_request(struct host_metrics *m, const struct host_request_record *rec)
{
    const struct catalog *cat = m->host->cfg.catalog;
    int app = rec->decoded && rec->app >= 0 && (size_t)rec->app < cat->n_apps ? rec->app : -1;
    int group = rec->decoded ? group_index(cat, &rec->request.kms_id) : -1;
    enum kms_outcome outcome = rec->hresult                          ? KMS_OUTCOME_HOST_ERROR
                               : rec->count >= rec->request.n_policy ? KMS_OUTCOME_ACTIVATED
                                                                     : KMS_OUTCOME_BELOW_THRESHOLD;
    uint32_t status = kms_outcome_client_status(outcome, rec->hresult);
    struct host_metrics_series *s = NULL;
    for (size_t i = 0; i < m->n_series && !s; i++) {
        struct host_metrics_series *c = &m->series[i];
        if (c->app == app && c->group == group && c->outcome == outcome &&
            (c->other_hresult || c->hresult == status))
            s = c;
    }
    if (!s) {
        /* The last slot is the catch-all: every further combination counts there. */
        bool last = m->n_series == HOST_METRICS_MAX_SERIES - 1;
        if (m->n_series < HOST_METRICS_MAX_SERIES) {
            s = &m->series[m->n_series++];
            *s = (struct host_metrics_series){app, group, outcome, status, last, 0};
        } else {
            s = &m->series[HOST_METRICS_MAX_SERIES - 1];
        }
    }
    s->n++;
}

void host_metrics_answered(enum host_fault fault, bool delayed, uint64_t latency_us, void *arg)
{
    struct host_metrics *m = arg;
    if ((unsigned)fault < HOST_FAULT__COUNT && fault != HOST_FAULT_NONE)
        m->faults_injected[fault]++;
    if (delayed)
        m->latency_injected++;
    /* A stalled request never gets an answer: it has no duration. */
    if (fault != HOST_FAULT_STALL)
        metrics_histogram_observe(&m->latency, (double)latency_us / 1e6);
}

static void counter(struct metrics_text *out, const char *name, const char *help, double v)
{
    metrics_text_family(out, name, METRICS_COUNTER, help);
    metrics_text_sample(out, name, NULL, 0, v);
}

void host_metrics_render(struct metrics_text *out, void *arg)
{
    struct host_metrics *m = arg;
    struct kms_host *h = m->host;
    const struct catalog *cat = h->cfg.catalog;
    const struct host_stats *st = &h->stats;

    metrics_text_family(
        out, "kmsload_host_requests_total", METRICS_COUNTER,
        "KMS requests the host decided, by application, product group (KMS ID), "
        "outcome and HRESULT as the client logs it (0x00000000 activated, 0xC004F038 "
        "below threshold).");
    for (size_t i = 0; i < m->n_series; i++) {
        const struct host_metrics_series *s = &m->series[i];
        char hr[16];
        kms_outcome_hresult_label(s->outcome, s->hresult, hr, sizeof hr);
        struct metrics_label l[] = {
            {"application", s->app >= 0 ? cat->apps[s->app].key : "unknown"},
            {"product_group", s->group >= 0 ? cat->kms[s->group].key : "unknown"},
            {"outcome", kms_outcome_name(s->outcome)},
            {"hresult", s->other_hresult ? "other" : hr},
        };
        metrics_text_sample(out, "kmsload_host_requests_total", l, 4, (double)s->n);
    }
    counter(out, "kmsload_host_rpc_faults_total",
            "RPC faults the host sent instead of a KMS answer (bad PDUs, unknown interfaces).",
            (double)st->faults);

    metrics_text_family(out, "kmsload_host_clients", METRICS_GAUGE,
                        "Current count per application: distinct client machine IDs seen in the "
                        "last 30 days, as the host would report it now.");
    for (size_t a = 0; a < cat->n_apps; a++) {
        struct metrics_label l = {"application", cat->apps[a].key};
        metrics_text_sample(out, "kmsload_host_clients", &l, 1, (double)host_app_count(h, a));
    }
    metrics_text_family(out, "kmsload_host_clients_capacity", METRICS_GAUGE,
                        "Client machine IDs each application's cache holds (the count never "
                        "exceeds it).");
    for (size_t a = 0; a < cat->n_apps; a++) {
        struct metrics_label l = {"application", cat->apps[a].key};
        metrics_text_sample(out, "kmsload_host_clients_capacity", &l, 1,
                            (double)client_cache_capacity(&h->caches[a]));
    }
    metrics_text_family(out, "kmsload_host_epid_info", METRICS_GAUGE,
                        "The ePID the host sends for each application (value always 1).");
    for (size_t a = 0; a < cat->n_apps; a++) {
        char build[16];
        snprintf(build, sizeof build, "%u", h->cfg.host_build);
        struct metrics_label l[] = {
            {"application", cat->apps[a].key}, {"epid", h->epid[a]}, {"host_build", build}};
        metrics_text_sample(out, "kmsload_host_epid_info", l, 3, 1);
    }

    metrics_text_family(out, "kmsload_host_request_duration_seconds", METRICS_HISTOGRAM,
                        "Time from a request read whole to its answer sent, injected latency "
                        "included (stalled requests are not observed).");
    metrics_text_histogram(out, "kmsload_host_request_duration_seconds", NULL, 0, &m->latency);

    if (m->server) {
        metrics_text_family(out, "kmsload_host_open_connections", METRICS_GAUGE,
                            "Client connections open now.");
        metrics_text_sample(out, "kmsload_host_open_connections", NULL, 0,
                            (double)host_server_open_connections(m->server));
    }
    counter(out, "kmsload_host_connections_total", "Client connections accepted.",
            (double)st->connections);
    counter(out, "kmsload_host_connections_rejected_total",
            "Client connections closed to make room: --max-connections open or no descriptors "
            "left.",
            (double)st->connections_rejected);
    counter(out, "kmsload_host_pdu_timeouts_total",
            "Connections closed because a request was not whole within --pdu-timeout (clients "
            "trickling bytes).",
            (double)st->pdu_timeouts);
    counter(out, "kmsload_host_accept_pauses_total",
            "Times accept() failed (e.g. out of descriptors) and accepting paused.",
            (double)st->accept_pauses);
    counter(out, "kmsload_host_clock_refused_total",
            "--clock client: requests refused for moving the host clock too far.",
            (double)st->clock_refused);

    metrics_text_family(out, "kmsload_host_faults_injected_total", METRICS_COUNTER,
                        "Faults injected with --fault, by kind (latency: answers held back).");
    for (int f = HOST_FAULT_NONE + 1; f < HOST_FAULT__COUNT; f++) {
        struct metrics_label l = {"fault", host_fault_name((enum host_fault)f)};
        metrics_text_sample(out, "kmsload_host_faults_injected_total", &l, 1,
                            (double)m->faults_injected[f]);
    }
    struct metrics_label lat = {"fault", "latency"};
    metrics_text_sample(out, "kmsload_host_faults_injected_total", &lat, 1,
                        (double)m->latency_injected);

    counter(out, "kmsload_host_state_saves_total", "Successful saves of the --state file.",
            (double)m->state_saves);
    counter(out, "kmsload_host_state_save_failures_total",
            "Failed saves of the --state file (the message goes to standard error).",
            (double)m->state_save_failures);
    metrics_text_family(out, "kmsload_host_start_time_seconds", METRICS_GAUGE,
                        "When the host started, in seconds since the Unix epoch.");
    metrics_text_sample(out, "kmsload_host_start_time_seconds", NULL, 0, m->start_time);
}
