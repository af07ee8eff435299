/*
 * The one place a KMS request is built: a product of the catalogue (an edition, or a group and
 * its first edition) gives the IDs, N_Policy and protocol; a spec, as a person words it, may
 * override any of them and chooses the client machine ID (stable, random or given), the
 * workstation, the license state and the client time.
 */
#ifndef KMSLOAD_CLIENT_REQUEST_H
#define KMSLOAD_CLIENT_REQUEST_H

#include "catalog.h"
#include "kms_message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of a request a probe chooses; option names in messages are the probe's. */
struct client_request_spec {
    const char *product;         /* catalogue edition or group, key or name */
    const char *app, *kms, *sku; /* overrides: a catalogue name or a GUID; NULL: the product's */
    unsigned long protocol;      /* 4, 5 or 6; 0: the product's */
    long n_policy;               /* -1: the product's */
    const char *cmid;            /* "stable", "random" or a GUID; NULL: stable (probe_cmid.h) */
    const char *cmid_prev;       /* a GUID; NULL: none */
    const char *workstation;     /* at most 63 characters; NULL: none */
    unsigned long license_status;
    unsigned long binding_expiration; /* minutes of grace left */
    bool vm;
    int64_t clock_skew_us; /* added to the client time */
};

/* No overrides, stable CMID, initial grace (license status 2) with 30 days left. */
void client_request_spec_default(struct client_request_spec *spec);

/*
 * The catalogue entries a product name stands for: an edition (and its group), or a group (and
 * its first edition, NULL when it has none). Returns 0, or -1 when name is neither.
 */
int client_product_find(const struct catalog *cat, const char *name, const struct catalog_sku **sku,
                        const struct catalog_kms **kms);

/*
 * The request a fresh client of group kms (edition sku, may be NULL) sends: its IDs, N_Policy and
 * protocol, initial grace with 30 days left; no CMID, no workstation, dated now.
 */
void client_request_for(const struct catalog *cat, const struct catalog_kms *kms,
                        const struct catalog_sku *sku, struct kms_request *req);

/*
 * Builds the request spec describes, dated now (plus the skew). *product_name is the edition's
 * (or group's) name. Returns 0, or -1 with a message naming the field (unknown product, a value
 * that is neither a catalogue name nor a GUID, a bad CMID or workstation).
 */
int client_request_build(const struct catalog *cat, const struct client_request_spec *spec,
                         struct kms_request *req, const char **product_name, char *err,
                         size_t err_len);

/* Dates req now, shifted by skew_us. */
void client_request_stamp(struct kms_request *req, int64_t skew_us);

#endif
