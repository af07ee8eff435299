#include "discovery.h"

#include "epid.h"
#include "hresult.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* "ws2019, office2019" and "ws2022, ws2025": the matched keys and the refused groups. */
static void coverage_lists(const struct coverage *cv, const struct catalog *cat, char *keys,
                           size_t keys_cap, char *refused, size_t refused_cap)
{
    size_t nk = 0, nr = 0;
    keys[0] = refused[0] = '\0';
    for (size_t i = 0; i < cv->matched.n && nk < keys_cap; i++)
        nk += (size_t)snprintf(keys + nk, keys_cap - nk, "%s%s", i ? ", " : "",
                               cat->csvlks[cv->matched.key[i]].key);
    for (size_t i = 0; i < cv->n_groups && nr < refused_cap; i++)
        if (cv->groups[i].state == COVERAGE_REFUSED)
            nr += (size_t)snprintf(refused + nr, refused_cap - nr, "%s%s", nr ? ", " : "",
                                   cat->kms[cv->groups[i].kms].key);
}

void discovery_print_text(FILE *f, const struct discovery *d, const struct discovery_report *o,
                          const struct catalog *cat)
{
    const struct dns_srv_set *set = d->set;
    const struct discovery_host *hosts = d->hosts;
    const struct kms_request *req = &d->req;
    unsigned warnings = d->warnings;
    char g[GUID_TEXT_LEN + 1];
    guid_format(&req->cmid, g);
    fprintf(f, "%s: %zu record%s (DNS server: %s)\n", set->name, set->total,
            set->total == 1 ? "" : "s", o->dns_server ? o->dns_server : "system");
    if (set->total > set->n)
        fprintf(f,
                "only the %zu most preferred are listed and probed; %zu left out (priority "
                "%u..%u)\n",
                set->n, set->total - set->n, set->left_out_priority_min,
                set->left_out_priority_max);
    fprintf(f, "probe: %s, CMID %s\n\n", o->product, g);
    fprintf(f, "%-4s %-6s %-28s %-5s %-22s %-17s %-9s %s\n", "PRIO", "WEIGHT", "HOST", "PORT",
            "ADDRESS", "ANSWER", "COUNT", "EPID (HOST OS)");
    for (size_t i = 0; i < set->n; i++) {
        const struct discovery_host *h = &hosts[i];
        const struct client_session_result *r = &h->out.result;
        char count[24] = "-", addr[NET_ADDR_TEXT] = "-", answer[32];
        char epid[160] = "-";
        if (h->rec->addrs.n)
            net_addr_format((const struct sockaddr *)&h->rec->addrs.addr[0], addr, sizeof addr);
        if (h->out.peer[0])
            snprintf(addr, sizeof addr, "%s", h->out.peer);
        if (h->rec->addrs.n == 0)
            snprintf(answer, sizeof answer, "no address");
        else if (!h->probed)
            snprintf(answer, sizeof answer, "not probed");
        else if (r->outcome == KMS_OUTCOME_HOST_ERROR)
            snprintf(answer, sizeof answer, "%s", hresult_name(r->hresult));
        else
            snprintf(answer, sizeof answer, "%s", kms_outcome_name(r->outcome));
        if (h->probed && kms_outcome_has_count(r->outcome)) {
            snprintf(count, sizeof count, "%u/%u", r->response.count, req->n_policy);
            unsigned long build = epid_build(r->response.epid);
            snprintf(epid, sizeof epid, "%s (%lu: %s)", r->response.epid, build,
                     epid_host_os(build));
        }
        fprintf(f, "%-4u %-6u %-28s %-5u %-22s %-17s %-9s %s\n", h->rec->priority, h->rec->weight,
                h->rec->target, h->rec->port, addr, answer, count, epid);
    }
    for (size_t i = 0; cat && i < set->n; i++) {
        const struct coverage *cv = hosts[i].coverage;
        if (!cv)
            continue;
        char os[160], keys[400], refused[800];
        coverage_host_text(cv, os, sizeof os);
        coverage_lists(cv, cat, keys, sizeof keys, refused, sizeof refused);
        fprintf(f, "%s%s:%u coverage: %s; host keys %s; refuses %s\n", i ? "" : "\n",
                hosts[i].rec->target, hosts[i].rec->port, os, keys[0] ? keys : "none matched",
                refused[0] ? refused : "nothing");
        /* The same verdict as kmsload coverage: could a genuine host have answered so? */
        if (cv->genuine)
            fprintf(f, "  genuine: yes, a genuine host can answer so\n");
        else
            fprintf(f,
                    "  genuine: no, not what a genuine host answers (an emulator or a "
                    "misconfigured host)%s\n",
                    cv->n_findings ? ":" : "");
        for (size_t k = 0; k < cv->n_findings; k++)
            fprintf(f, "    - %s\n", cv->findings[k].reason);
    }
    if (warnings) {
        fprintf(f, "\n%u warning%s:\n", warnings, warnings == 1 ? "" : "s");
        for (size_t i = 0; i < set->n; i++)
            if (hosts[i].warning[0])
                fprintf(f, "  %s:%u: %s\n", hosts[i].rec->target, hosts[i].rec->port,
                        hosts[i].warning);
    }
}

/* --coverage for one host: its OS, the host keys that explain it, the groups activated and
 * refused. */
static json_t *coverage_json(const struct coverage *cv, const struct catalog *cat)
{
    json_t *jc = json_object(), *jk = json_array(), *jact = json_array(), *jref = json_array();
    char os[160];
    coverage_host_text(cv, os, sizeof os);
    json_object_set_new(jc, "host_os_text", json_string(os));
    json_object_set_new(jc, "build", json_integer(cv->build));
    for (size_t k = 0; k < cv->matched.n; k++)
        json_array_append_new(jk, json_string(cat->csvlks[cv->matched.key[k]].key));
    for (size_t k = 0; k < cv->n_groups; k++) {
        const struct coverage_group *grp = &cv->groups[k];
        if (grp->state == COVERAGE_ACTIVATED)
            json_array_append_new(jact, json_string(cat->kms[grp->kms].key));
        else if (grp->state == COVERAGE_REFUSED)
            json_array_append_new(jref, json_string(cat->kms[grp->kms].key));
    }
    json_object_set_new(jc, "host_keys", jk);
    json_object_set_new(jc, "activated", jact);
    json_object_set_new(jc, "refused", jref);
    json_object_set_new(jc, "genuine", json_boolean(cv->genuine));
    json_t *jf = json_array();
    for (size_t k = 0; k < cv->n_findings; k++) {
        json_t *one = json_object();
        json_object_set_new(one, "kind", json_string(cv->findings[k].kind));
        json_object_set_new(one, "reason", json_string(cv->findings[k].reason));
        json_array_append_new(jf, one);
    }
    json_object_set_new(jc, "findings", jf);
    return jc;
}

/* The record itself: target, port, priority, weight and the addresses it resolved to. */
static void record_json(json_t *jh, const struct dns_srv_record *rec)
{
    json_t *jaddrs = json_array();
    json_object_set_new(jh, "target", json_string(rec->target));
    json_object_set_new(jh, "port", json_integer(rec->port));
    json_object_set_new(jh, "priority", json_integer(rec->priority));
    json_object_set_new(jh, "weight", json_integer(rec->weight));
    for (size_t a = 0; a < rec->addrs.n; a++) {
        char text[NET_ADDR_TEXT];
        net_addr_format((const struct sockaddr *)&rec->addrs.addr[a], text, sizeof text);
        json_array_append_new(jaddrs, json_string(text));
    }
    json_object_set_new(jh, "addresses", jaddrs);
    if (rec->addrs.n == 0)
        json_object_set_new(jh, "address_error", json_string(rec->addr_err));
}

/* What the probe found: outcome, latency, HRESULT or count, ePID and intervals, or the error. */
static void probe_result_json(json_t *jh, const struct discovery_host *h,
                              const struct kms_request *req)
{
    const struct client_session_result *r = &h->out.result;
    json_object_set_new(jh, "answers", json_boolean(discovery_answered(h)));
    json_object_set_new(jh, "outcome",
                        h->probed ? json_string(kms_outcome_name(r->outcome)) : json_null());
    if (!h->probed)
        return;
    json_object_set_new(jh, "address", json_string(h->out.peer));
    json_object_set_new(jh, "latency_ms", json_real((double)h->out.elapsed_us / 1000.0));
    if (r->outcome == KMS_OUTCOME_HOST_ERROR) {
        char hr[16];
        snprintf(hr, sizeof hr, "0x%08X", r->hresult);
        json_object_set_new(jh, "hresult", json_string(hr));
        json_object_set_new(jh, "hresult_name", json_string(hresult_name(r->hresult)));
    }
    if (kms_outcome_has_count(r->outcome)) {
        unsigned long build = epid_build(r->response.epid);
        json_object_set_new(jh, "count", json_integer(r->response.count));
        json_object_set_new(jh, "n_policy", json_integer(req->n_policy));
        json_object_set_new(jh, "epid", json_string(r->response.epid));
        json_object_set_new(jh, "host_build", json_integer((json_int_t)build));
        json_object_set_new(jh, "host_os", json_string(epid_host_os(build)));
        json_object_set_new(jh, "activation_interval_min",
                            json_integer(r->response.activation_interval));
        json_object_set_new(jh, "renewal_interval_min", json_integer(r->response.renewal_interval));
    } else if (r->err.detail[0]) {
        json_object_set_new(jh, "error", json_string(r->err.detail));
    }
}

/* One published host as a JSON object. */
static json_t *host_json(const struct discovery_host *h, const struct kms_request *req,
                         const struct catalog *cat)
{
    json_t *jh = json_object();
    record_json(jh, h->rec);
    probe_result_json(jh, h, req);
    if (h->coverage && cat)
        json_object_set_new(jh, "coverage", coverage_json(h->coverage, cat));
    json_object_set_new(jh, "warning", h->warning[0] ? json_string(h->warning) : json_null());
    return jh;
}

void discovery_print_json(FILE *f, const struct discovery *d, const struct discovery_report *o,
                          const struct catalog *cat)
{
    const struct dns_srv_set *set = d->set;
    const struct discovery_host *hosts = d->found ? d->hosts : NULL;
    const struct kms_request *req = d->found ? &d->req : NULL;
    char g[GUID_TEXT_LEN + 1];
    json_t *root = json_object(), *jhosts = json_array(), *jwarn = json_array();
    json_object_set_new(root, "name", json_string(set->name));
    json_object_set_new(root, "records", json_integer((json_int_t)set->total));
    json_object_set_new(root, "left_out", json_integer((json_int_t)(set->total - set->n)));
    json_object_set_new(root, "dns_server",
                        o->dns_server ? json_string(o->dns_server) : json_null());
    json_object_set_new(root, "exit_status", json_integer(o->exit_status));
    json_object_set_new(root, "product", json_string(o->product));
    if (req) {
        guid_format(&req->cmid, g);
        json_object_set_new(root, "probe_cmid", json_string(g));
    }
    for (size_t i = 0; hosts && i < set->n; i++) {
        const struct discovery_host *h = &hosts[i];
        if (h->warning[0])
            json_array_append_new(
                jwarn, json_sprintf("%s:%u: %s", h->rec->target, h->rec->port, h->warning));
        json_array_append_new(jhosts, host_json(h, req, cat));
    }
    if (o->problem)
        json_array_append_new(jwarn, json_string(o->problem));
    json_object_set_new(root, "hosts", jhosts);
    json_object_set_new(root, "warnings", jwarn);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        fprintf(f, "%s\n", text);
    free(text);
    json_decref(root);
}
