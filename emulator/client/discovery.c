#include "discovery.h"

#include "client_request.h"
#include "coverage_probe.h"
#include "hresult.h"
#include "probe_cmid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int discovery_request(const struct catalog *cat, const char *product, struct kms_request *req,
                      char *err, size_t err_len)
{
    const struct catalog_sku *sku = catalog_find_sku(cat, product);
    if (!sku) {
        snprintf(err, err_len, "unknown product \"%s\" (see kmsload probe --list-products)",
                 product);
        return -1;
    }
    client_request_for(cat, &cat->kms[sku->kms], sku, req);
    probe_cmid_stable(&req->cmid);
    kms_request_set_workstation(req, "kmsload-discover");
    return 0;
}

enum dns_srv_status discovery_lookup(struct discovery *d, const struct dns_srv_query *q, char *err,
                                     size_t err_len)
{
    enum dns_srv_status st;
    d->set = client_dns_lookup(q, &st, err, err_len);
    d->found = st == DNS_SRV_OK;
    for (size_t i = 0; d->found && i < d->set->n; i++)
        d->hosts[i].rec = &d->set->rec[i];
    return st;
}

int discovery_probe(struct discovery *d, int64_t timeout_us, char *err, size_t err_len)
{
    struct client_batch_item items[DNS_SRV_MAX];
    struct net_client_params p;
    client_params(&p, NULL, timeout_us);
    for (size_t i = 0; i < d->set->n; i++)
        items[i] = (struct client_batch_item){.addrs = &d->set->rec[i].addrs, .req = &d->req};
    if (client_exchange_batch(items, d->set->n, &p, err, err_len))
        return -1;
    for (size_t i = 0; i < d->set->n; i++) {
        d->hosts[i].out = items[i].out;
        d->hosts[i].probed = items[i].out.started;
    }
    return 0;
}

bool discovery_answered(const struct discovery_host *h)
{
    return h->probed && (kms_outcome_has_count(h->out.result.outcome) ||
                         h->out.result.outcome == KMS_OUTCOME_HOST_ERROR ||
                         h->out.result.outcome == KMS_OUTCOME_RPC_FAULT);
}

/* Fills each host's warning; returns how many hosts have one. */
unsigned discovery_judge(struct discovery *d, const char *product)
{
    unsigned warnings = 0;
    for (size_t i = 0; i < d->set->n; i++) {
        struct discovery_host *h = &d->hosts[i];
        const struct client_session_result *r = &h->out.result;
        if (h->rec->addrs.n == 0)
            snprintf(h->warning, sizeof h->warning,
                     "stale record: %.255s has no address (%.127s); clients that pick it fail over",
                     h->rec->target, h->rec->addr_err);
        else if (!discovery_answered(h))
            snprintf(h->warning, sizeof h->warning,
                     "published but does not answer (%s%s%s): a decommissioned host whose record "
                     "is still published?",
                     kms_outcome_name(r->outcome), r->err.detail[0] ? ": " : "", r->err.detail);
        else if (r->outcome == KMS_OUTCOME_HOST_ERROR)
            snprintf(h->warning, sizeof h->warning, "answers but refuses %s: 0x%08X %s", product,
                     r->hresult, hresult_name(r->hresult));
        else if (r->outcome == KMS_OUTCOME_RPC_FAULT || r->outcome == KMS_OUTCOME_PROTOCOL_ERROR)
            snprintf(h->warning, sizeof h->warning, "answers with %s",
                     kms_outcome_name(r->outcome));
        if (h->warning[0])
            warnings++;
    }
    d->warnings = warnings;
    return warnings;
}

/* --coverage: every product group asked of each host that answered the probe. */
void discovery_probe_coverage(struct discovery *d, const struct catalog *cat, int64_t timeout_us)
{
    for (size_t i = 0; i < d->set->n; i++) {
        struct discovery_host *h = &d->hosts[i];
        if (!discovery_answered(h))
            continue;
        h->coverage = malloc(sizeof *h->coverage);
        if (!h->coverage)
            continue;
        coverage_init(h->coverage, cat);
        struct coverage_probe_options popt = {.addrs = &h->rec->addrs, .timeout_us = timeout_us};
        client_session_options_default(&popt.exchange);
        char err[256];
        if (coverage_probe(cat, &popt, h->coverage, err, sizeof err)) {
            free(h->coverage);
            h->coverage = NULL;
            continue;
        }
        coverage_judge(h->coverage, cat);
    }
}

void discovery_free(struct discovery *d)
{
    for (size_t i = 0; i < DNS_SRV_MAX; i++)
        free(d->hosts[i].coverage);
    free(d->set);
    memset(d, 0, sizeof *d);
}
