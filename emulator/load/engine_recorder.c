/*
 * The recorder: a request's answer to the model, the sink and the tally; fail fast.
 */
#include "engine_recorder.h"

#include "host_choice.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recorder {
    struct recorder_config cfg;
    pthread_mutex_t lock;
    struct model *models; /* one per host */
    uint64_t seq;
    uint64_t requests, failures, answered;
    int64_t host_count[MODEL_MAX_APPS];
    /* Fail fast: contacts in a row that got no answer, and when the first of them was due. */
    uint64_t consecutive_failures;
    double streak_start_s;
};

struct recorder *recorder_new(const struct recorder_config *cfg, char *err, size_t err_len)
{
    struct recorder *r = calloc(1, sizeof *r);
    bool ok = r && cfg->n_hosts > 0 && cfg->n_hosts <= HOST_SET_MAX;
    if (ok) {
        r->cfg = *cfg;
        r->models = calloc(cfg->n_hosts, sizeof *r->models);
        ok = r->models != NULL;
    }
    for (size_t h = 0; ok && h < cfg->n_hosts; h++) {
        ok = model_init(&r->models[h], cfg->catalog) == 0;
        r->models[h].baseline = cfg->baseline;
        r->models[h].partial = cfg->partial;
    }
    if (!ok) {
        snprintf(err, err_len, "out of memory, no host, or too many applications in the catalogue");
        if (r)
            free(r->models);
        free(r);
        return NULL;
    }
    const struct recon *rc = cfg->recon;
    for (size_t a = 0; rc && rc->done && cfg->n_hosts == 1 && a < rc->n_apps; a++)
        if (rc->apps[a].counted)
            model_start(&r->models[0], a, rc->apps[a].count, rc->at_ft);
    for (size_t a = 0; a < MODEL_MAX_APPS; a++)
        r->host_count[a] = -1;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void recorder_free(struct recorder *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->models);
    free(r);
}

void recorder_expect_n_policy(struct recorder *r, size_t app, unsigned n_policy)
{
    for (size_t h = 0; h < r->cfg.n_hosts; h++)
        model_expect_n_policy(&r->models[h], app, n_policy);
}

void recorder_sent(struct recorder *r, int host, size_t app, unsigned n_policy,
                   struct model_ticket *ticket, bool to_sink)
{
    const struct run_event_sink *sink = r->cfg.sink;
    pthread_mutex_lock(&r->lock);
    model_sent(&r->models[host], app, n_policy, ticket);
    if (to_sink && sink && sink->sent)
        sink->sent(sink->ctx);
    pthread_mutex_unlock(&r->lock);
}

/* Fail fast, with the lock held: writes why into reason and returns true when the target has
 * stopped answering. */
static bool no_answer_locked(struct recorder *r, const struct record_attempt *a,
                             const struct client_session_result *res, double now, char *reason,
                             size_t reason_len)
{
    if (!kms_outcome_no_answer(res->outcome)) {
        r->consecutive_failures = 0;
        return false;
    }
    /* Several hosts: an attempt the contact fails over from is not the target going silent
     * (the next host decides); only a contact that no host answered counts. */
    if (a->more_hosts)
        return false;
    if (r->consecutive_failures++ == 0)
        r->streak_start_s = a->intended_wall_s < now ? a->intended_wall_s : now;
    double span = now - r->streak_start_s;
    bool by_count =
        r->cfg.stop_after_failures && r->consecutive_failures >= r->cfg.stop_after_failures;
    bool by_time = r->cfg.stop_after_silence_us > 0 && r->consecutive_failures >= 2 &&
                   span * 1e6 >= (double)r->cfg.stop_after_silence_us;
    if (control_stopped(r->cfg.control) || (!by_count && !by_time))
        return false;
    snprintf(reason, reason_len,
             "target stopped answering: %llu contacts in a row got no answer over %.0f s (last: "
             "%s%s%.80s)",
             (unsigned long long)r->consecutive_failures, span, kms_outcome_name(res->outcome),
             res->err.detail[0] ? ", " : "", res->err.detail);
    return true;
}

/* Failures after which the host may still have counted the request: its answer was lost. */
static bool answer_lost(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_PROTOCOL_ERROR || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

/* The event as the contact knows it, before the model and the numbering. */
static void event_from_attempt(struct run_event *ev, const struct record_attempt *a,
                               const struct client_session_result *res)
{
    const struct machine *m = a->machine;
    const struct fleet_population *fp = a->pop;
    memset(ev, 0, sizeof *ev);
    ev->sim_us = a->sim_us;
    ev->client_time = a->request->client_time;
    ev->machine = m->id;
    ev->cmid = m->cmid;
    ev->app = (int)fp->app_index;
    ev->app_key = fp->app->key;
    ev->product_key = fp->sku->key;
    ev->population = fp->spec->name;
    ev->population_index = m->population;
    ev->protocol = a->request->major;
    ev->ndr = res->ndr;
    ev->n_policy = a->request->n_policy;
    ev->outcome = res->outcome;
    ev->hresult = res->hresult;
    ev->count = -1;
    ev->latency_us = a->latency_us;
    ev->host_index = a->host;
    ev->host = a->host >= 0 ? a->host_name : "";
    ev->failover = a->failover;
}

/* With the lock held: the answer to the host's model. */
static void judge_locked(struct recorder *r, struct run_event *ev, const struct record_attempt *a,
                         const struct client_session_result *res)
{
    struct model *model = a->host >= 0 ? &r->models[a->host] : NULL;
    const struct kms_request *req = a->request;
    if (kms_outcome_has_count(res->outcome)) {
        struct model_verdict v;
        ev->count = res->response.count;
        if (a->pop->app_index < MODEL_MAX_APPS)
            r->host_count[a->pop->app_index] = res->response.count;
        model_answered(model, a->ticket, &a->machine->cmid, req->n_policy, req->client_time,
                       res->response.count, &v);
        ev->model_checked = true;
        ev->expected_lo = v.expected_lo;
        ev->expected_hi = v.expected_hi;
        ev->model_agrees = v.agrees;
        snprintf(ev->model_reason, sizeof ev->model_reason, "%s", v.reason);
        snprintf(ev->epid, sizeof ev->epid, "%.71s", res->response.epid);
        if (res->response.major >= 6) {
            memcpy(ev->hwid, res->response.hwid, 8);
            ev->has_hwid = true;
        }
        return;
    }
    if (model && answer_lost(res->outcome))
        model_lost(model, a->ticket, &a->machine->cmid, req->n_policy, req->client_time);
    else if (model)
        model_failed(model, a->ticket);
    snprintf(ev->detail, sizeof ev->detail, "%s", res->err.detail);
}

void recorder_answer(struct recorder *r, struct run_tally *tally, const struct record_attempt *a,
                     const struct client_session_result *res)
{
    struct run_event ev;
    event_from_attempt(&ev, a, res);
    ev.wall_s = control_wall_now(r->cfg.control);
    const struct run_event_sink *sink = r->cfg.sink;
    char reason[sizeof((struct engine_outcome *)0)->interrupt_reason];
    pthread_mutex_lock(&r->lock);
    ev.seq = ++r->seq;
    judge_locked(r, &ev, a, res);
    if (!kms_outcome_not_connected(res->outcome) && res->outcome != KMS_OUTCOME_TIMEOUT)
        r->answered++;
    r->requests++;
    if (!kms_outcome_has_count(res->outcome))
        r->failures++;
    if (sink && sink->event)
        sink->event(sink->ctx, &ev);
    bool silent = no_answer_locked(r, a, res, ev.wall_s, reason, sizeof reason);
    pthread_mutex_unlock(&r->lock);
    run_tally_add(tally, &ev);
    if (silent)
        control_stop(r->cfg.control, ENGINE_STOP_NO_ANSWER, reason);
}

void recorder_flush(struct recorder *r)
{
    const struct run_event_sink *sink = r->cfg.sink;
    if (!sink || !sink->flush)
        return;
    pthread_mutex_lock(&r->lock);
    sink->flush(sink->ctx);
    pthread_mutex_unlock(&r->lock);
}

void recorder_counts(struct recorder *r, struct recorder_counts *c)
{
    pthread_mutex_lock(&r->lock);
    c->requests = r->requests;
    c->failures = r->failures;
    c->n_apps = r->models[0].n_apps;
    memcpy(c->host_count, r->host_count, sizeof c->host_count);
    pthread_mutex_unlock(&r->lock);
}

uint64_t recorder_answered(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t answered = r->answered;
    pthread_mutex_unlock(&r->lock);
    return answered;
}
