#include "discovery_run.h"

#include "catalog.h"
#include "discovery.h"
#include "dns_srv.h"

#include <stdio.h>
#include <stdlib.h>

/* Looks the domain up, probes and judges every host, prints; the exit status. */
static int discover_hosts(const struct discovery_run_options *o, const struct catalog *cat,
                          struct discovery *d)
{
    char err[512];
    struct discovery_report r = {o->product, o->dns_server, DISCOVER_EXIT_NO_RECORDS, err};
    struct dns_srv_query q = {
        .domain = o->domain, .dns_server = o->dns_server, .timeout_us = o->timeout_us};
    if (discovery_lookup(d, &q, err, sizeof err) != DNS_SRV_OK) {
        if (o->json && d->set)
            discovery_print_json(stdout, d, &r, NULL);
        fprintf(stderr, "kmsload discover: %s\n", err);
        return DISCOVER_EXIT_NO_RECORDS;
    }
    if (discovery_probe(d, o->timeout_us, err, sizeof err)) {
        fprintf(stderr, "kmsload discover: %s\n", err);
        return DISCOVER_EXIT_NO_RECORDS;
    }
    unsigned warnings = discovery_judge(d, o->product);
    if (o->coverage)
        discovery_probe_coverage(d, cat, o->timeout_us);
    r.exit_status = warnings ? DISCOVER_EXIT_WARNINGS : DISCOVER_EXIT_OK;
    r.problem = NULL;
    if (o->json)
        discovery_print_json(stdout, d, &r, cat);
    else
        discovery_print_text(stdout, d, &r, cat);
    return r.exit_status;
}

int discovery_run(const struct discovery_run_options *o)
{
    struct catalog cat;
    struct discovery *d = calloc(1, sizeof *d);
    char err[512];
    if (!d || catalog_load(&cat, o->products_file, err, sizeof err)) {
        fprintf(stderr, "kmsload discover: %s\n", d ? err : "out of memory");
        free(d);
        return DISCOVER_EXIT_USAGE;
    }
    int status = DISCOVER_EXIT_USAGE;
    if (discovery_request(&cat, o->product, &d->req, err, sizeof err))
        /* The same words as cmd's usage_error: a bad --product is a usage error. */
        fprintf(stderr, "kmsload discover: %s\nTry 'kmsload discover --help'.\n", err);
    else
        status = discover_hosts(o, &cat, d);
    discovery_free(d);
    free(d);
    catalog_free(&cat);
    return status;
}
