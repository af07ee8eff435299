/*
 * Discovery (`kmsload discover DOMAIN`): the KMS hosts a domain publishes as _vlmcs._tcp SRV
 * records, listed as a client prefers them, each probed once at the same time with this machine's
 * stable probe CMID, and the diagnosis an administrator needs: a stale record, a published host
 * that does not answer, one that refuses the probed product; with coverage, what each answering
 * host activates. Printed for a person or as JSON.
 */
#ifndef KMSLOAD_DISCOVERY_H
#define KMSLOAD_DISCOVERY_H

#include "catalog.h"
#include "client_dns.h"
#include "client_exchange.h"
#include "coverage.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One published host and what its probe found. */
struct discovery_host {
    const struct dns_srv_record *rec;
    bool probed; /* the probe was sent (the record has an address) */
    struct client_outcome out;
    char warning[512];         /* discovery_judge: what is wrong with it; "" when nothing */
    struct coverage *coverage; /* discovery_probe_coverage, for a host that answered */
};

struct discovery {
    struct dns_srv_set *set;                  /* the SRV answer, preferred first */
    struct discovery_host hosts[DNS_SRV_MAX]; /* parallel to set->rec */
    struct kms_request req;                   /* the probe every host gets */
    bool found;                               /* the lookup found records */
    unsigned warnings;
};

/* The probe for product (a catalogue edition): stable CMID, workstation kmsload-discover.
 * Returns 0, or -1 with a message. */
int discovery_request(const struct catalog *cat, const char *product, struct kms_request *req,
                      char *err, size_t err_len);
/* Looks the domain up into d (d zeroed, d->req set). On failure d->set still names what was
 * asked (NULL only when out of memory). */
enum dns_srv_status discovery_lookup(struct discovery *d, const struct dns_srv_query *q, char *err,
                                     size_t err_len);
/* Probes every host with an address at once, each bounded by timeout_us. 0, or -1 (no loop). */
int discovery_probe(struct discovery *d, int64_t timeout_us, char *err, size_t err_len);
/* Does the host give KMS answers (a count, an HRESULT or an RPC fault)? */
bool discovery_answered(const struct discovery_host *h);
/* Fills each host's warning; returns (and keeps in d->warnings) how many have one. */
unsigned discovery_judge(struct discovery *d, const char *product);
/* Asks each answering host about every product group (coverage_probe.h). */
void discovery_probe_coverage(struct discovery *d, const struct catalog *cat, int64_t timeout_us);
void discovery_free(struct discovery *d);

/* What is printed beside the hosts. */
struct discovery_report {
    const char *product;
    const char *dns_server; /* NULL: the system's */
    int exit_status;        /* JSON only */
    const char *problem;    /* JSON only: the lookup's failure, or NULL */
};

/* The table, the coverage lines (cat non-NULL) and the warnings. */
void discovery_print_text(FILE *f, const struct discovery *d, const struct discovery_report *r,
                          const struct catalog *cat);
/* One JSON object; the hosts only when the lookup found records. */
void discovery_print_json(FILE *f, const struct discovery *d, const struct discovery_report *r,
                          const struct catalog *cat);

#endif
