/*
 * A contact's answer recorded: the model's verdict, the event to the sink and the tally, and
 * fail fast when the target stops answering.
 */
#include "engine_internal.h"

#include <stdio.h>
#include <string.h>

/* A machine went unactivated from unactivated_since_us until t: keep the longest. */
void engine_unactivated_stretch(struct engine *e, const struct machine *m, int64_t t, bool open)
{
    int64_t stretch = t - m->unactivated_since_us;
    struct run_tally *tally = e->tally;
    if (stretch > tally->max_unactivated_us) {
        tally->max_unactivated_us = stretch;
        tally->max_unactivated_machine = m->id;
        tally->max_unactivated_open = open;
    }
}

/* Contacts that got nothing back from the host (fail fast counts these). */
bool engine_no_answer(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_REFUSED || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

/* Fail fast: with the lock held, after a contact; returns true when it stopped the run. */
static bool check_no_answer_locked(struct engine *e, const struct contact *c,
                                   const struct client_session_result *res, double now)
{
    struct engine_shared *sh = e->shared;
    const struct scenario *sc = e->sc;
    if (!engine_no_answer(res->outcome)) {
        sh->consecutive_failures = 0;
        return false;
    }
    /* Several hosts: an attempt the contact fails over from is not the target going silent
     * (the next host decides); only a contact that no host answered counts. */
    if (c->pos + 1 < c->n_order)
        return false;
    if (sh->consecutive_failures++ == 0)
        sh->streak_start_s = c->intended_wall_s < now ? c->intended_wall_s : now;
    double span = now - sh->streak_start_s;
    bool by_count = sc->stop_after_failures && sh->consecutive_failures >= sc->stop_after_failures;
    bool by_time = sc->stop_after_silence_us > 0 && sh->consecutive_failures >= 2 &&
                   span * 1e6 >= (double)sc->stop_after_silence_us;
    if (sh->stop || (!by_count && !by_time))
        return false;
    char reason[sizeof sh->out->interrupt_reason];
    snprintf(reason, sizeof reason,
             "target stopped answering: %llu contacts in a row got no answer over %.0f s (last: "
             "%s%s%.80s)",
             (unsigned long long)sh->consecutive_failures, span, kms_outcome_name(res->outcome),
             res->err.detail[0] ? ", " : "", res->err.detail);
    return engine_stop_locked(sh, ENGINE_STOP_NO_ANSWER, reason);
}

/* Failures after which the host may still have counted the request: its answer was lost. */
static bool answer_lost(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_PROTOCOL_ERROR || outcome == KMS_OUTCOME_TIMEOUT ||
           outcome == KMS_OUTCOME_RESET || outcome == KMS_OUTCOME_CLOSED;
}

bool engine_record_event(struct engine *e, struct contact *c,
                         const struct client_session_result *res, uint64_t latency_us)
{
    const struct machine *m = &e->fleet.machines[c->machine];
    const struct fleet_population *fp = &e->fleet.pops[m->population];
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.wall_s = engine_wall_now(e);
    ev.sim_us = c->sim_us;
    ev.client_time = c->request.client_time;
    ev.machine = m->id;
    ev.cmid = m->cmid;
    ev.app = (int)fp->app_index;
    ev.app_key = fp->app->key;
    ev.product_key = fp->sku->key;
    ev.population = fp->spec->name;
    ev.population_index = m->population;
    ev.protocol = c->request.major;
    ev.ndr = res->ndr;
    ev.n_policy = c->request.n_policy;
    ev.outcome = res->outcome;
    ev.hresult = res->hresult;
    ev.count = -1;
    ev.latency_us = latency_us;
    ev.host_index = c->host;
    ev.host = c->host >= 0 ? e->hosts->hosts[c->host].name : "";
    struct model *model = c->host >= 0 ? &e->model[c->host] : NULL;
    struct engine_shared *sh = e->shared;
    pthread_mutex_lock(&sh->lock);
    ev.seq = ++sh->seq;
    /* Decided here, once, so the record and the contact agree: the host did not answer and
     * the contact goes on to the next host of its order (spec §1). */
    ev.failover =
        engine_no_answer(res->outcome) && c->pos + 1 < c->n_order && !e->stopping && !sh->stop;
    if (kms_outcome_has_count(res->outcome)) {
        struct model_verdict v;
        ev.count = res->response.count;
        if (fp->app_index < MODEL_MAX_APPS)
            sh->host_count[fp->app_index] = res->response.count;
        model_answered(model, &c->ticket, &m->cmid, c->request.n_policy, c->request.client_time,
                       res->response.count, &v);
        ev.model_checked = true;
        ev.expected_lo = v.expected_lo;
        ev.expected_hi = v.expected_hi;
        ev.model_agrees = v.agrees;
        snprintf(ev.model_reason, sizeof ev.model_reason, "%s", v.reason);
        snprintf(ev.epid, sizeof ev.epid, "%.71s", res->response.epid);
        if (res->response.major >= 6) {
            memcpy(ev.hwid, res->response.hwid, 8);
            ev.has_hwid = true;
        }
    } else if (model) {
        if (answer_lost(res->outcome))
            model_lost(model, &c->ticket, &m->cmid, c->request.n_policy, c->request.client_time);
        else
            model_failed(model, &c->ticket);
        snprintf(ev.detail, sizeof ev.detail, "%s", res->err.detail);
    } else {
        snprintf(ev.detail, sizeof ev.detail, "%s", res->err.detail);
    }
    if (res->outcome != KMS_OUTCOME_REFUSED && res->outcome != KMS_OUTCOME_TIMEOUT)
        sh->out->answered++;
    sh->requests++;
    if (!kms_outcome_has_count(res->outcome))
        sh->failures++;
    if (sh->sink && sh->sink->event)
        sh->sink->event(sh->sink->ctx, &ev);
    bool stopped = check_no_answer_locked(e, c, res, ev.wall_s);
    pthread_mutex_unlock(&sh->lock);
    run_tally_add(e->tally, &ev);
    if (stopped)
        engine_wake_all(sh, false);
    return ev.failover;
}
