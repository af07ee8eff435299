#include "client_request.h"

#include "probe_cmid.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void client_request_spec_default(struct client_request_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->n_policy = -1;
    spec->license_status = KMS_LICENSE_OOB_GRACE;
    spec->binding_expiration = 43200;
}

int client_product_find(const struct catalog *cat, const char *name, const struct catalog_sku **sku,
                        const struct catalog_kms **kms)
{
    *sku = catalog_find_sku(cat, name);
    *kms = *sku ? &cat->kms[(*sku)->kms] : catalog_find_kms(cat, name);
    if (!*kms)
        return -1;
    for (size_t i = 0; i < cat->n_skus && !*sku; i++)
        if (&cat->kms[cat->skus[i].kms] == *kms)
            *sku = &cat->skus[i];
    return 0;
}

void client_request_for(const struct catalog *cat, const struct catalog_kms *kms,
                        const struct catalog_sku *sku, struct kms_request *req)
{
    memset(req, 0, sizeof *req);
    req->major = (uint16_t)kms->protocol;
    req->app_id = cat->apps[kms->app].id;
    req->kms_id = kms->id;
    if (sku)
        req->sku_id = sku->id;
    req->n_policy = kms->n_policy;
    req->license_status = KMS_LICENSE_OOB_GRACE; /* a machine that has not activated yet */
    req->binding_expiration = 43200;
    client_request_stamp(req, 0);
}

void client_request_stamp(struct kms_request *req, int64_t skew_us)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    req->client_time =
        filetime_from_unix(now.tv_sec, (uint32_t)now.tv_nsec) + (uint64_t)(skew_us * 10);
}

/* An override given as a catalogue name (found) or as a GUID. */
static int override_id(const char *opt, const char *text, const struct guid *found,
                       struct guid *out, char *err, size_t err_len)
{
    if (!text)
        return 0;
    if (found) {
        *out = *found;
        return 0;
    }
    if (guid_parse(text, out) == 0)
        return 0;
    snprintf(err, err_len, "%s \"%s\": not a GUID nor a catalogue name", opt, text);
    return -1;
}

static int apply_overrides(const struct catalog *cat, const struct client_request_spec *s,
                           struct kms_request *req, char *err, size_t err_len)
{
    const struct catalog_app *a = s->app ? catalog_find_app(cat, s->app) : NULL;
    const struct catalog_kms *k = s->kms ? catalog_find_kms(cat, s->kms) : NULL;
    const struct catalog_sku *sku = s->sku ? catalog_find_sku(cat, s->sku) : NULL;
    if (override_id("--app", s->app, a ? &a->id : NULL, &req->app_id, err, err_len) ||
        override_id("--kms", s->kms, k ? &k->id : NULL, &req->kms_id, err, err_len) ||
        override_id("--sku", s->sku, sku ? &sku->id : NULL, &req->sku_id, err, err_len))
        return -1;
    if (s->protocol)
        req->major = (uint16_t)s->protocol;
    if (s->n_policy >= 0)
        req->n_policy = (uint32_t)s->n_policy;
    return 0;
}

/* The client's own fields: CMIDs, workstation, license state, VM. */
static int apply_client(const struct client_request_spec *s, struct kms_request *req, char *err,
                        size_t err_len)
{
    req->vm_info = s->vm ? 1 : 0;
    req->license_status = (uint32_t)s->license_status;
    req->binding_expiration = (uint32_t)s->binding_expiration;
    if (!s->cmid || strcmp(s->cmid, "stable") == 0) {
        probe_cmid_stable(&req->cmid);
    } else if (strcmp(s->cmid, "random") == 0) {
        probe_cmid_random(&req->cmid);
    } else if (guid_parse(s->cmid, &req->cmid)) {
        snprintf(err, err_len, "--cmid \"%s\": expected stable, random or a GUID", s->cmid);
        return -1;
    }
    if (s->cmid_prev && guid_parse(s->cmid_prev, &req->cmid_prev)) {
        snprintf(err, err_len, "--cmid-prev \"%s\" is not a GUID", s->cmid_prev);
        return -1;
    }
    if (s->workstation && kms_request_set_workstation(req, s->workstation)) {
        snprintf(err, err_len, "--workstation \"%s\": must be UTF-8 text of at most 63 characters",
                 s->workstation);
        return -1;
    }
    return 0;
}

int client_request_build(const struct catalog *cat, const struct client_request_spec *spec,
                         struct kms_request *req, const char **product_name, char *err,
                         size_t err_len)
{
    const struct catalog_sku *sku;
    const struct catalog_kms *kms;
    if (client_product_find(cat, spec->product, &sku, &kms)) {
        snprintf(err, err_len, "unknown product \"%s\" (see --list-products)", spec->product);
        return -1;
    }
    *product_name = sku ? sku->name : kms->name;
    client_request_for(cat, kms, sku, req);
    if (apply_overrides(cat, spec, req, err, err_len) || apply_client(spec, req, err, err_len))
        return -1;
    client_request_stamp(req, spec->clock_skew_us);
    return 0;
}
