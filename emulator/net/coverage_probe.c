#include "coverage_probe.h"

#include "netclient.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

struct one_call {
    struct event_base *base;
    struct client_session_result result;
    bool done;
};

static void on_done(struct net_client *client, const struct client_session_result *res, void *arg)
{
    struct one_call *call = arg;
    (void)client;
    call->result = *res;
    call->done = true;
    event_base_loopbreak(call->base);
}

static void build_request(const struct catalog *cat, size_t k, struct kms_request *req)
{
    const struct catalog_kms *kms = &cat->kms[k];
    memset(req, 0, sizeof *req);
    req->major = (uint16_t)kms->protocol;
    req->app_id = cat->apps[kms->app].id;
    req->kms_id = kms->id;
    for (size_t i = 0; i < cat->n_skus; i++)
        if (cat->skus[i].kms == k) {
            req->sku_id = cat->skus[i].id;
            break;
        }
    req->cmid = coverage_probe_cmid(&cat->apps[kms->app]);
    req->n_policy = 1;
    req->license_status = KMS_LICENSE_OOB_GRACE;
    req->binding_expiration = 43200;
    kms_request_set_workstation(req, "kmsload-coverage");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    req->client_time = filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec);
}

static bool unreachable(enum kms_outcome o)
{
    return o == KMS_OUTCOME_REFUSED || o == KMS_OUTCOME_TIMEOUT;
}

int coverage_probe(const struct catalog *cat, const struct coverage_probe_options *opt,
                   struct coverage *cv, char *err, size_t err_len)
{
    struct event_base *base = net_event_base_new();
    if (!base) {
        snprintf(err, err_len, "cannot create an event loop");
        return -1;
    }
    struct net_client_params params = {.addrs = opt->addrs, .options = opt->exchange};
    params.timeout.tv_sec = (time_t)(opt->timeout_us / 1000000);
    params.timeout.tv_usec = (suseconds_t)(opt->timeout_us % 1000000);
    int rc = 0;
    for (size_t i = 0; i < cv->n_groups; i++) {
        struct coverage_group *g = &cv->groups[i];
        struct kms_request req;
        build_request(cat, g->kms, &req);
        uint8_t w_req[16];
        for (size_t b = 0; b < sizeof w_req; b++) /* the IV need not be secret, only fresh */
            w_req[b] = (uint8_t)(req.client_time >> (8 * (b % 8))) ^ (uint8_t)(i * 31 + b);
        struct one_call call = {.base = base};
        struct net_client *client = net_client_start(base, &params, &req, w_req, on_done, &call);
        if (!client) {
            snprintf(err, err_len, "out of memory");
            rc = -1;
            break;
        }
        event_base_dispatch(base);
        net_client_free(client);
        const struct client_session_result *r = &call.result;
        if (i == 0 && unreachable(r->outcome)) {
            snprintf(err, err_len, "cannot reach the host: %s%s%s", kms_outcome_name(r->outcome),
                     r->err.detail[0] ? ": " : "", r->err.detail);
            rc = -1;
            break;
        }
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
    event_base_free(base);
    return rc;
}
