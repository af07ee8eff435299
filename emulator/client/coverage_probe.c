#include "coverage_probe.h"

#include "client_exchange.h"
#include "client_request.h"
#include "hresult.h"

#include <stdio.h>
#include <string.h>

struct guid coverage_probe_cmid(const struct catalog_app *app)
{
    /* Derived from the AppID so it is stable and differs per application; a valid version-4
     * GUID as a client would send. */
    static const uint8_t mask[16] = {0x6b, 0x6d, 0x73, 0x6c, 0x6f, 0x61, 0x64, 0x2d,
                                     0x63, 0x6f, 0x76, 0x65, 0x72, 0x61, 0x67, 0x65};
    struct guid g = app->id;
    for (size_t i = 0; i < 16; i++)
        g.b[i] ^= mask[i];
    g.b[7] = (uint8_t)((g.b[7] & 0x0f) | 0x40);
    g.b[8] = (uint8_t)((g.b[8] & 0x3f) | 0x80);
    return g;
}

static void build_request(const struct catalog *cat, size_t k, struct kms_request *req)
{
    const struct catalog_kms *kms = &cat->kms[k];
    const struct catalog_sku *sku;
    client_product_find(cat, kms->key, &sku, &kms); /* the group and its first edition */
    client_request_for(cat, kms, sku, req);
    req->cmid = coverage_probe_cmid(&cat->apps[kms->app]);
    req->n_policy = 1;
    kms_request_set_workstation(req, "kmsload-coverage");
}

static bool unreachable(enum kms_outcome o)
{
    return kms_outcome_not_connected(o) || o == KMS_OUTCOME_TIMEOUT;
}

/* What the answer says about group g. */
static void note_answer(struct coverage_group *g, const struct client_session_result *r)
{
    switch (r->outcome) {
    case KMS_OUTCOME_ACTIVATED:
    case KMS_OUTCOME_BELOW_THRESHOLD:
        g->state = COVERAGE_ACTIVATED;
        g->count = r->response.count;
        snprintf(g->epid, sizeof g->epid, "%s", r->response.epid);
        break;
    case KMS_OUTCOME_HOST_ERROR:
        g->state = COVERAGE_REFUSED;
        g->hresult = r->hresult;
        break;
    default:
        g->state = COVERAGE_ERROR;
        g->hresult = r->outcome == KMS_OUTCOME_RPC_FAULT ? r->hresult : 0;
        snprintf(g->detail, sizeof g->detail, "%s%s%.120s", kms_outcome_name(r->outcome),
                 r->err.detail[0] ? ": " : "", r->err.detail);
        break;
    }
}

/* More than the 4 hours a genuine host tolerates (spec §5; as load/engine_clock_check.c). */
#define PROBE_CLOCK_PAST_FT (5ULL * 3600ULL * 10000000ULL)

/* One request for the first activated group, dated 5 hours ago, with the application's fixed
 * CMID (already counted: no count grows). */
static int probe_clock(struct event_base *base, const struct net_client_params *params,
                       const struct catalog *cat, struct coverage *cv, char *err, size_t err_len)
{
    cv->clock = COVERAGE_CLOCK_UNKNOWN;
    for (size_t i = 0; i < cv->n_groups; i++) {
        if (cv->groups[i].state != COVERAGE_ACTIVATED)
            continue;
        struct kms_request req;
        struct client_outcome out;
        build_request(cat, cv->groups[i].kms, &req);
        req.client_time -= PROBE_CLOCK_PAST_FT;
        if (client_exchange_on(base, params, &req, &out, err, err_len))
            return -1;
        if (kms_outcome_has_count(out.result.outcome))
            cv->clock = COVERAGE_CLOCK_FOLLOWS;
        else if (out.result.outcome == KMS_OUTCOME_HOST_ERROR &&
                 out.result.hresult == HR_INVALID_TIMESTAMP)
            cv->clock = COVERAGE_CLOCK_CHECKS;
        return 0;
    }
    return 0;
}

int coverage_probe(const struct catalog *cat, const struct coverage_probe_options *opt,
                   struct coverage *cv, char *err, size_t err_len)
{
    struct event_base *base = net_event_base_new();
    if (!base) {
        snprintf(err, err_len, "cannot create an event loop");
        return -1;
    }
    struct net_client_params params;
    client_params(&params, opt->addrs, opt->timeout_us);
    params.options = opt->exchange;
    int rc = 0;
    unsigned silent = 0; /* requests in a row without a KMS answer */
    for (size_t i = 0; i < cv->n_groups && rc == 0; i++) {
        struct kms_request req;
        struct client_outcome out;
        build_request(cat, cv->groups[i].kms, &req);
        rc = client_exchange_on(base, &params, &req, &out, err, err_len) ? -1 : 0;
        const struct client_session_result *r = &out.result;
        if (rc == 0 && i == 0 && unreachable(r->outcome)) {
            snprintf(err, err_len, "cannot reach the host: %s%s%s", kms_outcome_name(r->outcome),
                     r->err.detail[0] ? ": " : "", r->err.detail);
            rc = -1;
        }
        if (rc == 0)
            note_answer(&cv->groups[i], r);
        silent = rc == 0 && cv->groups[i].state == COVERAGE_ERROR ? silent + 1 : 0;
        if (opt->give_up_after && silent >= opt->give_up_after) {
            snprintf(err, err_len,
                     "the host stopped answering: %u requests in a row got no "
                     "KMS answer (the last: %.200s)",
                     silent, cv->groups[i].detail);
            rc = -1;
        }
    }
    if (rc == 0 && opt->check_clock)
        rc = probe_clock(base, &params, cat, cv, err, err_len);
    event_base_free(base);
    return rc;
}
