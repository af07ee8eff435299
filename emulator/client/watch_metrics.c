#include "watch_metrics.h"

#include "epid.h"
#include "hresult.h"

#include <stdio.h>
#include <string.h>

void watch_app_state_init(struct watch_app_state *s, const char *application, const char *product,
                          unsigned required)
{
    memset(s, 0, sizeof *s);
    s->application = application;
    s->product = product;
    s->required = required;
    metrics_histogram_init(&s->duration, metrics_latency_bounds, metrics_latency_n_bounds);
}

void watch_app_state_record(struct watch_app_state *s, const struct client_session_result *res,
                            double duration_s, double now)
{
    s->probed = true;
    s->outcome = res->outcome;
    s->last_probe_time = now;
    s->last_duration = duration_s;
    if ((unsigned)res->outcome < KMS_OUTCOME__COUNT)
        s->probes[res->outcome]++;
    metrics_histogram_observe(&s->duration, duration_s);
    s->detail[0] = '\0';
    bool kms_answer = kms_outcome_has_count(res->outcome) ||
                      res->outcome == KMS_OUTCOME_HOST_ERROR ||
                      res->outcome == KMS_OUTCOME_RPC_FAULT;
    if (!kms_answer) {
        snprintf(s->detail, sizeof s->detail, "%s", res->err.detail);
        return;
    }
    s->answered = true;
    s->last_answer_time = now;
    s->hresult = res->hresult;
    if (kms_outcome_has_count(res->outcome)) {
        s->has_count = true;
        s->last_count_time = now;
        s->count = res->response.count;
        snprintf(s->epid, sizeof s->epid, "%.71s", res->response.epid);
        unsigned build = epid_build(s->epid);
        snprintf(s->host_build, sizeof s->host_build, build ? "%u" : "", build);
    }
}

void watch_app_state_describe(const struct watch_app_state *s, char *out, size_t cap)
{
    switch (s->outcome) {
    case KMS_OUTCOME_ACTIVATED:
        snprintf(out, cap, "count %u (activated; ePID %s)", s->count, s->epid);
        break;
    case KMS_OUTCOME_BELOW_THRESHOLD:
        snprintf(out, cap, "count %u (below threshold: activation needs %u; ePID %s)", s->count,
                 s->required, s->epid);
        break;
    case KMS_OUTCOME_HOST_ERROR:
        snprintf(out, cap, "refused with 0x%08X %s", s->hresult, hresult_name(s->hresult));
        break;
    case KMS_OUTCOME_RPC_FAULT:
        snprintf(out, cap, "RPC fault 0x%08X %s", s->hresult, rpc_fault_name(s->hresult));
        break;
    default:
        snprintf(out, cap, "not answering: %s%s%s", kms_outcome_name(s->outcome),
                 s->detail[0] ? ", " : "", s->detail);
        break;
    }
}

/* One sample per probed application of a gauge; skip says which to leave out. */
typedef bool (*value_fn)(const struct watch_app_state *s, double *v);

static void per_app(struct metrics_text *out, const struct watch_metrics *w, const char *name,
                    enum metrics_type type, const char *help, value_fn value)
{
    metrics_text_family(out, name, type, help);
    for (size_t h = 0; h < w->n_hosts; h++) {
        const struct watch_host_state *host = &w->hosts[h];
        for (size_t i = 0; host->listed && i < w->n_apps; i++) {
            double v;
            if (!value(&host->apps[i], &v))
                continue;
            struct metrics_label l[] = {{"host", host->name},
                                        {"application", host->apps[i].application}};
            metrics_text_sample(out, name, l, 2, v);
        }
    }
}

static bool up_value(const struct watch_app_state *s, double *v)
{
    *v = s->probed && (kms_outcome_has_count(s->outcome) || s->outcome == KMS_OUTCOME_HOST_ERROR ||
                       s->outcome == KMS_OUTCOME_RPC_FAULT);
    return s->probed;
}

/* Only while the last probe got one: a host that is down or refusing exports no stale count for
 * count alerts to fire on (last_success_timestamp tells how old the last one is). */
static bool count_value(const struct watch_app_state *s, double *v)
{
    *v = s->count;
    return s->probed && kms_outcome_has_count(s->outcome);
}

static bool last_success_value(const struct watch_app_state *s, double *v)
{
    *v = s->last_count_time;
    return s->has_count;
}

static bool required_value(const struct watch_app_state *s, double *v)
{
    *v = s->required;
    return true;
}

static bool last_duration_value(const struct watch_app_state *s, double *v)
{
    *v = s->last_duration;
    return s->probed;
}

static bool last_probe_value(const struct watch_app_state *s, double *v)
{
    *v = s->last_probe_time;
    return s->probed;
}

static bool last_answer_value(const struct watch_app_state *s, double *v)
{
    *v = s->last_answer_time;
    return s->answered;
}

void watch_metrics_render(struct metrics_text *out, void *arg)
{
    const struct watch_metrics *w = arg;
    per_app(out, w, "kmsload_watch_up", METRICS_GAUGE,
            "1 when the last probe got a KMS answer (a count or an HRESULT), 0 when the host did "
            "not answer.",
            up_value);
    per_app(out, w, "kmsload_watch_clients", METRICS_GAUGE,
            "The count the host returned to the last probe, per application; absent when the "
            "last probe got no count (see kmsload_watch_last_success_timestamp_seconds).",
            count_value);
    per_app(out, w, "kmsload_watch_last_success_timestamp_seconds", METRICS_GAUGE,
            "When a probe last got a count, in seconds since the Unix epoch.", last_success_value);
    per_app(out, w, "kmsload_watch_clients_required", METRICS_GAUGE,
            "The count a client of the probed product needs to activate (its N_Policy).",
            required_value);
    per_app(out, w, "kmsload_watch_last_probe_duration_seconds", METRICS_GAUGE,
            "How long the last probe took, connection included.", last_duration_value);
    per_app(out, w, "kmsload_watch_last_probe_timestamp_seconds", METRICS_GAUGE,
            "When the last probe ended, in seconds since the Unix epoch.", last_probe_value);
    per_app(out, w, "kmsload_watch_last_answer_timestamp_seconds", METRICS_GAUGE,
            "When the host last gave a KMS answer, in seconds since the Unix epoch.",
            last_answer_value);

    metrics_text_family(out, "kmsload_watch_answer_info", METRICS_GAUGE,
                        "The host's last KMS answer per application: HRESULT, ePID and the host "
                        "build the ePID names (value always 1).");
    for (size_t h = 0; h < w->n_hosts; h++)
        for (size_t i = 0; w->hosts[h].listed && i < w->n_apps; i++) {
            const struct watch_app_state *s = &w->hosts[h].apps[i];
            if (!s->answered)
                continue;
            char hr[16];
            snprintf(hr, sizeof hr, "0x%08X", s->hresult);
            struct metrics_label l[] = {{"host", w->hosts[h].name},
                                        {"application", s->application},
                                        {"hresult", hr},
                                        {"epid", s->epid},
                                        {"host_build", s->host_build}};
            metrics_text_sample(out, "kmsload_watch_answer_info", l, 5, 1);
        }

    metrics_text_family(out, "kmsload_watch_probes_total", METRICS_COUNTER,
                        "Probes sent, by how they ended.");
    for (size_t h = 0; h < w->n_hosts; h++)
        for (size_t i = 0; w->hosts[h].listed && i < w->n_apps; i++)
            for (int o = 0; o < KMS_OUTCOME__COUNT; o++) {
                const struct watch_app_state *s = &w->hosts[h].apps[i];
                if (!s->probes[o])
                    continue;
                struct metrics_label l[] = {{"host", w->hosts[h].name},
                                            {"application", s->application},
                                            {"outcome", kms_outcome_name((enum kms_outcome)o)}};
                metrics_text_sample(out, "kmsload_watch_probes_total", l, 3, (double)s->probes[o]);
            }

    metrics_text_family(out, "kmsload_watch_probe_duration_seconds", METRICS_HISTOGRAM,
                        "How long probes take, connection included.");
    for (size_t h = 0; h < w->n_hosts; h++)
        for (size_t i = 0; w->hosts[h].listed && i < w->n_apps; i++) {
            struct metrics_label l[] = {{"host", w->hosts[h].name},
                                        {"application", w->hosts[h].apps[i].application}};
            metrics_text_histogram(out, "kmsload_watch_probe_duration_seconds", l, 2,
                                   &w->hosts[h].apps[i].duration);
        }
    if (w->dns_domain) {
        struct metrics_label d = {"domain", w->dns_domain};
        metrics_text_family(out, "kmsload_watch_dns_lookup_success", METRICS_GAUGE,
                            "1 when the last _vlmcs._tcp SRV lookup of the dns: target answered.");
        metrics_text_sample(out, "kmsload_watch_dns_lookup_success", &d, 1, w->dns_ok);
        metrics_text_family(out, "kmsload_watch_dns_hosts", METRICS_GAUGE,
                            "Hosts the last successful SRV lookup published (the ones watched).");
        metrics_text_sample(out, "kmsload_watch_dns_hosts", &d, 1, w->dns_hosts);
    }
    metrics_text_family(out, "kmsload_watch_interval_seconds", METRICS_GAUGE,
                        "Time between probe rounds.");
    metrics_text_sample(out, "kmsload_watch_interval_seconds", NULL, 0, w->interval_s);
}
