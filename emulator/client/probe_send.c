#include "probe_send.h"

static int exit_status_for(enum kms_outcome outcome)
{
    switch (outcome) {
    case KMS_OUTCOME_ACTIVATED:
        return PROBE_EXIT_ACTIVATED;
    case KMS_OUTCOME_BELOW_THRESHOLD:
        return PROBE_EXIT_BELOW_THRESHOLD;
    case KMS_OUTCOME_HOST_ERROR:
    case KMS_OUTCOME_RPC_FAULT:
        return PROBE_EXIT_HOST_ERROR;
    case KMS_OUTCOME_PROTOCOL_ERROR:
        return PROBE_EXIT_PROTOCOL_ERROR;
    default:
        return PROBE_EXIT_UNREACHABLE;
    }
}

int probe_send(const struct probe_send_options *o, const struct catalog *cat, struct probe_sent *s,
               char *err, size_t err_len)
{
    struct client_request_spec spec = o->request;
    struct net_client_params params;
    /* --kms GROUP alone: a client of that group (its edition, N_Policy and protocol), not a
     * Windows 10 Pro client with another KMS ID. */
    if (!o->product_given && spec.kms && catalog_find_kms(cat, spec.kms))
        spec.product = spec.kms;
    s->product = NULL;
    if (client_request_build(cat, &spec, &s->req, &s->product, err, err_len))
        return -1;
    client_params(&params, NULL, o->timeout_us);
    params.options = o->exchange;
    int failed = client_exchange(o->host, o->port, &params, &s->req, &s->out, err, err_len);
    s->exit_status = exit_status_for(s->out.result.outcome);
    return failed ? 1 : 0;
}
