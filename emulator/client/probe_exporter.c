#include "probe_exporter.h"

#include "client_dns.h"
#include "client_exchange.h"
#include "client_request.h"
#include "dns_addr.h"
#include "hresult.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct probe_job;

/* One application's exchange of a job. */
struct probe_job_app {
    struct probe_job *job;
    size_t i;
    struct client_call *call;
};

/* One /probe request in flight. */
struct probe_job {
    struct probe_exporter *e;
    struct http_request *req;
    const struct probe_set *set;
    struct net_addrs addrs;
    struct watch_app_state apps[PROBE_SET_MAX_APPS];
    struct probe_job_app calls[PROBE_SET_MAX_APPS];
    struct dns_addr_pending *lookup; /* the target's name, until it resolves */
    unsigned pending;
    bool resolved;
    struct timespec start;
    struct probe_job *prev, *next;
};

struct probe_exporter {
    struct event_base *base;
    struct probe_exporter_options opt;
    struct net_client_params params;
    struct probe_job *jobs; /* in flight */
    unsigned in_flight;
};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct probe_exporter *probe_exporter_new(struct event_base *base,
                                          const struct probe_exporter_options *o)
{
    struct probe_exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->base = base;
    e->opt = *o;
    if (!e->opt.max_in_flight)
        e->opt.max_in_flight = PROBE_EXPORTER_DEFAULT_IN_FLIGHT;
    client_params(&e->params, NULL, o->timeout_us);
    return e;
}

static void job_unlink(struct probe_job *j)
{
    struct probe_exporter *e = j->e;
    if (j->prev)
        j->prev->next = j->next;
    else
        e->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    e->in_flight--;
}

static void job_cancel(struct probe_job *j)
{
    dns_addr_cancel(j->lookup);
    j->lookup = NULL;
    for (size_t i = 0; i < j->set->n; i++) {
        client_call_cancel(j->calls[i].call);
        j->calls[i].call = NULL;
    }
}

/* The client went away (or the server stops): the answer has no one to go to. */
static void on_abandon(void *arg)
{
    struct probe_job *j = arg;
    job_cancel(j);
    job_unlink(j);
    free(j);
}

static void reply_text(struct http_request *req, int status, const char *text)
{
    http_reply(req, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

static void finish(struct probe_job *j)
{
    struct metrics_text text;
    metrics_text_init(&text);
    probe_exporter_render(&text, j->apps, j->set->n, since(&j->start), j->resolved);
    if (text.failed) {
        char msg[320];
        snprintf(msg, sizeof msg, "kmsload: cannot render the probe: %s\n", text.error);
        reply_text(j->req, 500, msg);
    } else {
        http_reply(j->req, 200, METRICS_CONTENT_TYPE, NULL, text.buf ? text.buf : "", text.len);
    }
    metrics_text_free(&text);
    job_unlink(j);
    free(j);
}

static void on_done(const struct client_outcome *out, void *arg)
{
    struct probe_job_app *a = arg;
    struct probe_job *j = a->job;
    watch_app_state_record(&j->apps[a->i], &out->result, (double)out->elapsed_us / 1e6, unix_now());
    a->call = NULL;
    if (--j->pending == 0)
        finish(j);
}

/* Reads target and module from the query; 0, or -1 having answered 400. */
static int read_query(struct probe_exporter *e, struct http_request *req, char *host,
                      size_t host_cap, uint16_t *port, const struct probe_set **set)
{
    const char *query = http_request_query(req);
    char target[NET_HOST_MAX + 16], module[PROBE_SET_NAME_MAX], names[512], msg[1024], why[256];
    probe_modules_names(e->opt.modules, names, sizeof names);
    int t = http_query_get(query, "target", target, sizeof target);
    if (t <= 0 || !target[0]) {
        snprintf(msg, sizeof msg,
                 "kmsload: %s: /probe?target=HOST[:PORT]&module=NAME (modules: %s)\n",
                 t < 0 ? "the target is malformed or too long" : "no target given", names);
        reply_text(req, 400, msg);
        return -1;
    }
    if (strncmp(target, "dns:", 4) == 0) {
        reply_text(req, 400,
                   "kmsload: /probe asks one host: give target=HOST[:PORT] for each host a "
                   "dns: domain publishes (kmsload discover lists them)\n");
        return -1;
    }
    if (net_parse_target(target, KMS_DEFAULT_PORT, host, host_cap, port, why, sizeof why)) {
        snprintf(msg, sizeof msg, "kmsload: target: %s\n", why);
        reply_text(req, 400, msg);
        return -1;
    }
    int m = http_query_get(query, "module", module, sizeof module);
    if (m < 0) {
        snprintf(msg, sizeof msg, "kmsload: the module is malformed or too long (modules: %s)\n",
                 names);
        reply_text(req, 400, msg);
        return -1;
    }
    *set = probe_modules_find(e->opt.modules, m == 0 || !module[0] ? "default" : module);
    if (!*set) {
        snprintf(msg, sizeof msg, "kmsload: unknown module \"%s\" (modules: %s)\n", module, names);
        reply_text(req, 400, msg);
        return -1;
    }
    return 0;
}

/* The exchanges of a job, over addrs (NULL: the name did not resolve, why says so). */
static void start_calls(struct probe_job *j, const struct net_addrs *addrs, const char *why)
{
    struct probe_exporter *e = j->e;
    const struct probe_set *set = j->set;
    j->resolved = addrs != NULL;
    if (addrs)
        j->addrs = *addrs;
    /* Every exchange starts before any can end (they end from the loop, never here), except
     * those that cannot start: those are recorded at once, and the last one answers. */
    for (size_t i = 0; i < set->n; i++) {
        struct kms_request r = set->requests[i];
        client_request_stamp(&r, 0);
        struct net_client_params params = e->params;
        params.addrs = &j->addrs;
        j->calls[i].call =
            addrs ? client_call_start(e->base, &params, &r, on_done, &j->calls[i]) : NULL;
    }
    struct probe_job_app *unstarted[PROBE_SET_MAX_APPS];
    size_t n_unstarted = 0;
    for (size_t i = 0; i < set->n; i++)
        if (!j->calls[i].call)
            unstarted[n_unstarted++] = &j->calls[i];
    for (size_t k = 0; k < n_unstarted; k++) {
        struct client_outcome out;
        memset(&out, 0, sizeof out);
        out.result.outcome = addrs ? KMS_OUTCOME_LOCAL_ERROR : KMS_OUTCOME_DNS_ERROR;
        snprintf(out.result.err.detail, sizeof out.result.err.detail, "%.150s",
                 addrs ? "out of memory" : why);
        on_done(&out, unstarted[k]); /* the last one answers and frees the job */
    }
}

static void on_resolved(int status, const struct net_addrs *addrs, const char *err, void *arg)
{
    struct probe_job *j = arg;
    j->lookup = NULL; /* over: not to be cancelled */
    start_calls(j, status == 0 ? addrs : NULL, err);
}

void probe_exporter_handle(struct http_request *req, void *arg)
{
    struct probe_exporter *e = arg;
    char host[NET_HOST_MAX], msg[600];
    uint16_t port;
    const struct probe_set *set;
    if (read_query(e, req, host, sizeof host, &port, &set))
        return;
    if (e->in_flight >= e->opt.max_in_flight) {
        snprintf(msg, sizeof msg,
                 "kmsload: %u probes in flight already (the limit): try again later\n",
                 e->in_flight);
        reply_text(req, 503, msg);
        return;
    }
    struct probe_job *j = calloc(1, sizeof *j);
    if (!j) {
        reply_text(req, 500, "kmsload: out of memory\n");
        return;
    }
    j->e = e;
    j->req = req;
    j->set = set;
    clock_gettime(CLOCK_MONOTONIC, &j->start);
    j->next = e->jobs;
    if (e->jobs)
        e->jobs->prev = j;
    e->jobs = j;
    e->in_flight++;
    j->pending = (unsigned)set->n;
    for (size_t i = 0; i < set->n; i++) {
        watch_app_state_init(&j->apps[i], set->app[i], set->product[i], set->required[i]);
        j->calls[i] = (struct probe_job_app){.job = j, .i = i};
    }
    http_request_on_abandon(req, on_abandon, j);
    /* The name on the loop (c-ares): a slow or silent DNS server holds this probe only, never
     * the other scrapes, /metrics or watch's rounds. A literal address answers at once. */
    struct dns_addr_query q = {.host = host,
                               .port = port,
                               .dns_server = e->opt.dns_server,
                               .timeout_us = e->opt.timeout_us};
    char why[256];
    j->lookup = dns_addr_start(e->base, &q, on_resolved, j, why, sizeof why);
    if (!j->lookup)
        start_calls(j, NULL, why);
}

void probe_exporter_free(struct probe_exporter *e)
{
    if (!e)
        return;
    while (e->jobs) {
        struct probe_job *j = e->jobs;
        job_cancel(j);
        job_unlink(j);
        free(j);
    }
    free(e);
}

/* One sample per application: the value, or none when has is false. */
typedef bool (*app_value_fn)(const struct watch_app_state *s, double *v);

static void per_app(struct metrics_text *out, const struct watch_app_state *apps, size_t n,
                    const char *name, const char *help, app_value_fn value)
{
    metrics_text_family(out, name, METRICS_GAUGE, help);
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!value(&apps[i], &v))
            continue;
        struct metrics_label l[] = {{"application", apps[i].application},
                                    {"product", apps[i].product}};
        metrics_text_sample(out, name, l, 2, v);
    }
}

static bool success_value(const struct watch_app_state *s, double *v)
{
    *v = kms_outcome_has_count(s->outcome);
    return true;
}

static bool answered_value(const struct watch_app_state *s, double *v)
{
    *v = s->answered;
    return true;
}

static bool count_value(const struct watch_app_state *s, double *v)
{
    *v = s->count;
    return kms_outcome_has_count(s->outcome);
}

static bool required_value(const struct watch_app_state *s, double *v)
{
    *v = s->required;
    return true;
}

static bool duration_value(const struct watch_app_state *s, double *v)
{
    *v = s->last_duration;
    return true;
}

static bool hresult_value(const struct watch_app_state *s, double *v)
{
    *v = s->hresult;
    return s->answered;
}

void probe_exporter_render(struct metrics_text *out, const struct watch_app_state *apps, size_t n,
                           double duration_s, bool resolved)
{
    bool all = n > 0;
    for (size_t i = 0; i < n; i++)
        all = all && kms_outcome_has_count(apps[i].outcome);
    metrics_text_family(out, "kmsload_probe_success", METRICS_GAUGE,
                        "1 when every application of the module got a count from the host.");
    metrics_text_sample(out, "kmsload_probe_success", NULL, 0, all);
    metrics_text_family(out, "kmsload_probe_duration_seconds", METRICS_GAUGE,
                        "How long the probe took, all applications at once, connections "
                        "included.");
    metrics_text_sample(out, "kmsload_probe_duration_seconds", NULL, 0, duration_s);
    metrics_text_family(out, "kmsload_probe_dns_lookup_success", METRICS_GAUGE,
                        "1 when the target's name resolved to an address (0: no probe was sent).");
    metrics_text_sample(out, "kmsload_probe_dns_lookup_success", NULL, 0, resolved);
    per_app(out, apps, n, "kmsload_probe_application_success",
            "1 when the host returned a count for the application.", success_value);
    per_app(out, apps, n, "kmsload_probe_answered",
            "1 when the host gave a KMS answer (a count or an HRESULT), 0 when it did not "
            "answer.",
            answered_value);
    per_app(out, apps, n, "kmsload_probe_clients",
            "The count the host returned, per application; absent without one.", count_value);
    per_app(out, apps, n, "kmsload_probe_clients_required",
            "The count a client of the probed product needs to activate (its N_Policy).",
            required_value);
    per_app(out, apps, n, "kmsload_probe_application_duration_seconds",
            "How long the application's exchange took, connection included.", duration_value);
    per_app(out, apps, n, "kmsload_probe_hresult",
            "The HRESULT of the host's KMS answer (0: success); absent without an answer.",
            hresult_value);
    metrics_text_family(out, "kmsload_probe_answer_info", METRICS_GAUGE,
                        "How each application's exchange ended (outcome), the HRESULT, the ePID "
                        "and the host build it names, as labels (value always 1).");
    for (size_t i = 0; i < n; i++) {
        const struct watch_app_state *s = &apps[i];
        char hr[16] = "";
        if (s->answered)
            snprintf(hr, sizeof hr, "0x%08X", s->hresult);
        struct metrics_label l[] = {{"application", s->application},
                                    {"product", s->product},
                                    {"outcome", kms_outcome_name(s->outcome)},
                                    {"hresult", hr},
                                    {"epid", s->epid},
                                    {"host_build", s->host_build}};
        metrics_text_sample(out, "kmsload_probe_answer_info", l, 6, 1);
    }
}
