#include "probe_print.h"

#include "hresult.h"
#include "value_parse.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The one advice table's line for a status (proto/hresult.c), when it has one. */
static void print_advice(FILE *f, uint32_t status)
{
    const char *advice = status_advice(status);
    if (advice)
        fprintf(f, "  What to do          %s\n", advice);
}

static void checks_text(const struct kms_checks *checks, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned bit = 1; bit <= KMS_CHECK_IV_FRESH; bit <<= 1) {
        const char *state = (checks->passed & bit) ? "ok" : (checks->warned & bit) ? "WARN" : NULL;
        if (!state)
            continue;
        int w = snprintf(out + n, cap - n, "%s%s %s", n ? ", " : "",
                         kms_check_name((enum kms_check)bit), state);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

void probe_print_text(FILE *f, const struct probe_report *p, const struct catalog *cat)
{
    const struct kms_request *req = p->req;
    const struct client_outcome *st = p->out;
    const char *product = p->product;
    const struct client_session_result *r = &st->result;
    char g[GUID_TEXT_LEN + 1], t[24], ws[200], dur[32];
    const struct catalog_app *app = catalog_app_by_id(cat, &req->app_id);
    const struct catalog_kms *kms = catalog_kms_by_id(cat, &req->kms_id);
    fprintf(f, "KMS probe of %s:%u (%s)\n\n", p->host, p->port,
            st->peer[0] ? st->peer : "no address");
    fprintf(f, "Request\n");
    fprintf(f, "  Product             %s\n", product);
    fprintf(f, "  Protocol            V%u.%u over %s\n", req->major, req->minor,
            r->ndr == RPC_NDR64 ? "NDR64" : "NDR32");
    guid_format(&req->app_id, g);
    fprintf(f, "  Application ID      %s (%s)\n", g, app ? app->name : "not in catalogue");
    guid_format(&req->kms_id, g);
    fprintf(f, "  KMS ID              %s (%s)\n", g, kms ? kms->name : "not in catalogue");
    guid_format(&req->sku_id, g);
    fprintf(f, "  SKU ID              %s\n", g);
    guid_format(&req->cmid, g);
    fprintf(f, "  Client machine ID   %s\n", g);
    kms_request_workstation(req, ws, sizeof ws);
    fprintf(f, "  Workstation         %s\n", ws);
    fprintf(f, "  N_Policy            %u\n", req->n_policy);
    filetime_format(req->client_time, t);
    value_format_duration(p->clock_skew_us, dur, sizeof dur);
    fprintf(f, "  Client time (UTC)   %s%s%s\n", t, p->clock_skew_us ? ", skewed by " : "",
            p->clock_skew_us ? dur : "");
    fprintf(f, "  VM / license status %s / %u (%s)\n", req->vm_info ? "yes" : "no",
            req->license_status, kms_license_status_name(req->license_status));
    fprintf(f, "\nResult\n");
    value_format_duration((int64_t)st->elapsed_us, dur, sizeof dur);
    if (r->outcome == KMS_OUTCOME_DNS_ERROR) /* nothing was sent: no duration to speak of */
        fprintf(f, "  Outcome             %s\n", kms_outcome_name(r->outcome));
    else
        fprintf(f, "  Outcome             %s after %s\n", kms_outcome_name(r->outcome), dur);
    if (kms_outcome_has_count(r->outcome)) {
        const struct kms_response *resp = &r->response;
        char checks[400], hw[17];
        fprintf(f, "  Count               %u (N_Policy %u: %s)\n", resp->count, req->n_policy,
                r->outcome == KMS_OUTCOME_ACTIVATED ? "activated" : "below threshold");
        if (r->outcome == KMS_OUTCOME_BELOW_THRESHOLD)
            fprintf(f, "  HRESULT             0x%08X %s: %s\n", r->hresult,
                    hresult_name(r->hresult), hresult_meaning(r->hresult));
        fprintf(f, "  Activation interval %u min\n", resp->activation_interval);
        fprintf(f, "  Renewal interval    %u min\n", resp->renewal_interval);
        fprintf(f, "  Host ePID           %s\n", resp->epid);
        if (resp->major >= 6) {
            hex_format(resp->hwid, 8, hw);
            fprintf(f, "  Host HwId           %s\n", hw);
        }
        checks_text(&r->checks, checks, sizeof checks);
        fprintf(f, "  Checks              %s\n", checks);
    } else if (r->outcome == KMS_OUTCOME_HOST_ERROR) {
        fprintf(f, "  HRESULT             0x%08X %s\n", r->hresult, hresult_name(r->hresult));
        fprintf(f, "                      %s\n", hresult_meaning(r->hresult));
        print_advice(f, r->hresult);
    } else if (r->outcome == KMS_OUTCOME_RPC_FAULT) {
        fprintf(f, "  RPC fault           0x%08X %s\n", r->hresult, rpc_fault_name(r->hresult));
        fprintf(f, "                      %s\n", rpc_fault_meaning(r->hresult));
        print_advice(f, r->hresult);
    } else {
        fprintf(f, "  Error               %s%s%s\n",
                r->err.code ? proto_code_name(r->err.code) : "", r->err.code ? ": " : "",
                r->err.detail);
    }
}

void probe_print_json(FILE *f, const struct probe_report *p)
{
    const struct kms_request *req = p->req;
    const struct client_outcome *st = p->out;
    const char *product = p->product;
    const struct client_session_result *r = &st->result;
    char g[GUID_TEXT_LEN + 1], t[24], ws[200], hr[16];
    json_t *root = json_object(), *jreq = json_object();
    json_object_set_new(root, "target", json_sprintf("%s:%u", p->host, p->port));
    json_object_set_new(root, "address", json_string(st->peer));
    json_object_set_new(root, "outcome", json_string(kms_outcome_name(r->outcome)));
    json_object_set_new(root, "exit_status", json_integer(p->exit_status));
    /* Measured in microseconds: three decimals of a millisecond (2.817, not 2.8170000000000002;
     * json_dumps writes at most 10 significant digits). */
    json_object_set_new(root, "latency_ms", json_real((double)st->elapsed_us / 1000.0));
    json_object_set_new(jreq, "product", json_string(product));
    json_object_set_new(jreq, "protocol", json_sprintf("%u.%u", req->major, req->minor));
    json_object_set_new(jreq, "ndr", json_string(r->ndr == RPC_NDR64 ? "NDR64" : "NDR32"));
    guid_format(&req->app_id, g);
    json_object_set_new(jreq, "application_id", json_string(g));
    guid_format(&req->kms_id, g);
    json_object_set_new(jreq, "kms_id", json_string(g));
    guid_format(&req->sku_id, g);
    json_object_set_new(jreq, "sku_id", json_string(g));
    guid_format(&req->cmid, g);
    json_object_set_new(jreq, "cmid", json_string(g));
    kms_request_workstation(req, ws, sizeof ws);
    json_object_set_new(jreq, "workstation", json_string(ws));
    json_object_set_new(jreq, "n_policy", json_integer(req->n_policy));
    filetime_format(req->client_time, t);
    json_object_set_new(jreq, "client_time", json_string(t));
    json_object_set_new(jreq, "clock_skew_s", json_real((double)p->clock_skew_us / 1e6));
    json_object_set_new(jreq, "vm", json_boolean(req->vm_info));
    json_object_set_new(jreq, "license_status", json_integer(req->license_status));
    json_object_set_new(root, "request", jreq);
    if (r->hresult || r->outcome == KMS_OUTCOME_HOST_ERROR) {
        snprintf(hr, sizeof hr, "0x%08X", r->hresult);
        json_object_set_new(root, r->outcome == KMS_OUTCOME_RPC_FAULT ? "rpc_fault" : "hresult",
                            json_string(hr));
        json_object_set_new(root, "hresult_name",
                            json_string(r->outcome == KMS_OUTCOME_RPC_FAULT
                                            ? rpc_fault_name(r->hresult)
                                            : hresult_name(r->hresult)));
        const char *advice = status_advice(r->hresult);
        if (advice)
            json_object_set_new(root, "advice", json_string(advice));
    }
    if (kms_outcome_has_count(r->outcome)) {
        const struct kms_response *resp = &r->response;
        json_t *jr = json_object(), *checks = json_array(), *warnings = json_array();
        char hw[17];
        json_object_set_new(jr, "count", json_integer(resp->count));
        json_object_set_new(jr, "activation_interval_min", json_integer(resp->activation_interval));
        json_object_set_new(jr, "renewal_interval_min", json_integer(resp->renewal_interval));
        json_object_set_new(jr, "epid", json_string(resp->epid));
        if (resp->major >= 6) {
            hex_format(resp->hwid, 8, hw);
            json_object_set_new(jr, "hwid", json_string(hw));
        }
        json_object_set_new(jr, "size", json_integer((json_int_t)resp->wire_len));
        for (unsigned bit = 1; bit <= KMS_CHECK_IV_FRESH; bit <<= 1) {
            if (r->checks.passed & bit)
                json_array_append_new(checks, json_string(kms_check_name((enum kms_check)bit)));
            if (r->checks.warned & bit)
                json_array_append_new(warnings, json_string(kms_check_name((enum kms_check)bit)));
        }
        json_object_set_new(jr, "checks_passed", checks);
        json_object_set_new(jr, "warnings", warnings);
        json_object_set_new(root, "response", jr);
    } else if (r->err.detail[0]) {
        json_object_set_new(root, "error", json_string(r->err.detail));
        if (r->err.code)
            json_object_set_new(root, "error_code", json_string(proto_code_name(r->err.code)));
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (text)
        fprintf(f, "%s\n", text);
    free(text);
    json_decref(root);
}

void probe_print_products(FILE *f, const struct catalog *cat)
{
    fprintf(f, "%-22s %-44s %-9s %s\n", "KEY", "PRODUCT", "PROTOCOL", "N_POLICY / GROUP");
    for (size_t i = 0; i < cat->n_skus; i++) {
        const struct catalog_sku *s = &cat->skus[i];
        const struct catalog_kms *k = &cat->kms[s->kms];
        fprintf(f, "%-22s %-44s V%-8u %u / %s\n", s->key, s->name, k->protocol, k->n_policy,
                k->name);
    }
}
