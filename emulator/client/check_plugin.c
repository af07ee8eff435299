#include "check_plugin.h"

#include "catalog.h"
#include "client_dns.h"
#include "client_exchange.h"
#include "client_request.h"
#include "errmsg.h"
#include "hresult.h"
#include "net.h"
#include "probe_cmid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *check_status_name(enum check_status s)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    return (unsigned)s < 4 ? names[s] : "UNKNOWN";
}

/* A number of the range: all of text[0..len) must be one. */
static int range_number(const char *text, size_t len, double *v)
{
    char buf[40], *end;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

int check_range_parse(const char *text, struct check_range *r, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (strlen(text) >= sizeof r->text)
        return errmsg_set(err, err_len, "range \"%s\" is too long", text);
    snprintf(r->text, sizeof r->text, "%s", text);
    const char *p = text;
    if (*p == '@') {
        r->inside = true;
        p++;
    }
    const char *colon = strchr(p, ':');
    bool ok;
    if (!colon) { /* "10": 0..10 */
        r->has_lo = r->has_hi = true;
        r->lo = 0;
        ok = range_number(p, strlen(p), &r->hi) == 0;
    } else {
        size_t lo_len = (size_t)(colon - p);
        const char *hi = colon + 1;
        ok = true;
        if (!(lo_len == 1 && *p == '~')) {
            r->has_lo = true;
            ok = range_number(p, lo_len, &r->lo) == 0;
        }
        if (ok && *hi) {
            r->has_hi = true;
            ok = range_number(hi, strlen(hi), &r->hi) == 0;
        }
        ok = ok && (r->has_lo || r->has_hi);
    }
    if (!ok || (r->has_lo && r->has_hi && r->lo > r->hi))
        return errmsg_set(err, err_len,
                          "range \"%s\": expected N (alert outside 0..N), N: (below N), ~:N "
                          "(above N), N:M (outside N..M) or @N:M (inside N..M)",
                          text);
    r->set = true;
    return 0;
}

bool check_range_alerts(const struct check_range *r, double v)
{
    if (!r->set)
        return false;
    bool within = (!r->has_lo || v >= r->lo) && (!r->has_hi || v <= r->hi);
    return r->inside ? within : !within;
}

int check_thresholds_parse(struct check_thresholds *t, const struct probe_set *set,
                           const char *list, const char *what, char *err, size_t err_len)
{
    if (!list)
        return 0;
    const char *p = list;
    char why[320];
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[96];
        if (len >= sizeof item)
            return errmsg_set(err, err_len, "%s: \"%.*s\" is too long", what, (int)len, p);
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        char *eq = strchr(item, '=');
        struct check_range r;
        if (check_range_parse(eq ? eq + 1 : item, &r, why, sizeof why))
            return errmsg_set(err, err_len, "%s: %s", what, why);
        bool found = false;
        for (size_t i = 0; i < set->n; i++) {
            if (eq && (strlen(set->app[i]) != (size_t)(eq - item) ||
                       strncmp(set->app[i], item, (size_t)(eq - item)) != 0))
                continue;
            t->range[i] = r;
            found = true;
        }
        if (!found) {
            *eq = '\0';
            char apps[256] = "";
            for (size_t i = 0; i < set->n; i++)
                snprintf(apps + strlen(apps), sizeof apps - strlen(apps), "%s%s", i ? ", " : "",
                         set->app[i]);
            return errmsg_set(err, err_len, "%s: \"%s\" is not an application this check asks (%s)",
                              what, item, apps);
        }
    }
    return 0;
}

void check_thresholds_activation(struct check_thresholds *t, const struct probe_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct check_range *r = &t->range[i];
        memset(r, 0, sizeof *r);
        r->set = r->has_lo = true;
        r->lo = set->required[i];
        snprintf(r->text, sizeof r->text, "%u:", set->required[i]);
    }
    t->activation = true;
}

/* Appends to a fixed buffer, never past it. */
static void put(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *out, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(out);
    if (used + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + used, cap - used, fmt, ap);
    va_end(ap);
}

/* Automatic products: application i's candidates, one at a time, while the host's keys refuse
 * them; the first answer that is not that refusal replaces out, and product names what was
 * asked. */
static void try_candidates(const struct check_options *o, size_t i, const struct net_addrs *addrs,
                           const struct net_client_params *params, struct client_outcome *out,
                           const char **product, unsigned *required)
{
    for (size_t r = 0; r < o->n_alts; r++) {
        if (out->result.outcome != KMS_OUTCOME_HOST_ERROR ||
            out->result.hresult != PROBE_SET_NOT_COVERED)
            return;
        const struct probe_set *alt = &o->alts[r];
        for (size_t k = 0; k < alt->n; k++) {
            if (strcmp(alt->app[k], o->set->app[i]) != 0)
                continue;
            struct kms_request req = alt->requests[k];
            client_request_stamp(&req, 0);
            struct client_batch_item item = {.addrs = addrs, .req = &req};
            char why[128];
            if (client_exchange_batch(&item, 1, params, why, sizeof why) == 0 &&
                !(item.out.result.outcome == KMS_OUTCOME_HOST_ERROR &&
                  item.out.result.hresult == PROBE_SET_NOT_COVERED)) {
                *out = item.out;
                *product = alt->product[k];
                *required = alt->required[k];
                return;
            }
        }
    }
}

/* The status of one application's answer, and its words in the status line. */
static enum check_status judge(const struct check_options *o, size_t i,
                               const struct client_outcome *out, const char *product,
                               unsigned required, const struct check_range *warning, char *words,
                               size_t cap)
{
    const struct client_session_result *r = &out->result;
    const char *app = o->set->app[i];
    char named[160];
    if (product) { /* not the default product: say which one answered */
        snprintf(named, sizeof named, "%s (%s)", app, product);
        app = named;
    }
    if (kms_outcome_has_count(r->outcome)) {
        unsigned count = r->response.count;
        enum check_status s = CHECK_OK;
        const char *why = "";
        if (check_range_alerts(&o->critical->range[i], count)) {
            s = CHECK_CRITICAL;
            why = " (critical)";
        } else if (check_range_alerts(warning, count)) {
            s = CHECK_WARNING;
            why = " (warning)";
        }
        snprintf(words, cap, "%s count %u%s%s", app, count,
                 count < required ? " below the activation threshold" : "", why);
        return s;
    }
    if (r->outcome == KMS_OUTCOME_HOST_ERROR)
        snprintf(words, cap, "%s refused with 0x%08X %s", app, r->hresult,
                 hresult_name(r->hresult));
    else if (r->outcome == KMS_OUTCOME_RPC_FAULT)
        snprintf(words, cap, "%s RPC fault 0x%08X %s", app, r->hresult, rpc_fault_name(r->hresult));
    else
        snprintf(words, cap, "%s no answer: %s%s%.120s", app, kms_outcome_name(r->outcome),
                 r->err.detail[0] ? ", " : "", r->err.detail);
    return CHECK_CRITICAL;
}

enum check_status check_host(const struct check_options *o, char *line, size_t cap)
{
    char host[NET_HOST_MAX], name[NET_HOST_MAX + 16], why[320];
    uint16_t port;
    struct net_addrs addrs;
    line[0] = '\0';
    if (net_parse_target(o->host, KMS_DEFAULT_PORT, host, sizeof host, &port, why, sizeof why)) {
        snprintf(line, cap, "KMS UNKNOWN - %s", why);
        return CHECK_UNKNOWN;
    }
    client_host_name(host, port, name, sizeof name);
    if (net_resolve(host, port, false, &addrs, why, sizeof why)) {
        snprintf(line, cap, "KMS UNKNOWN - %s: %s", name, why);
        return CHECK_UNKNOWN;
    }
    const struct probe_set *set = o->set;
    struct client_batch_item items[PROBE_SET_MAX_APPS];
    struct kms_request reqs[PROBE_SET_MAX_APPS];
    for (size_t i = 0; i < set->n; i++) {
        reqs[i] = set->requests[i];
        client_request_stamp(&reqs[i], 0);
        items[i] = (struct client_batch_item){.addrs = &addrs, .req = &reqs[i]};
    }
    struct net_client_params params;
    client_params(&params, NULL, o->timeout_us);
    if (client_exchange_batch(items, set->n, &params, why, sizeof why)) {
        snprintf(line, cap, "KMS UNKNOWN - %s", why);
        return CHECK_UNKNOWN;
    }
    enum check_status worst = CHECK_OK;
    char text[1024] = "", perf[1024] = "";
    for (size_t i = 0; i < set->n; i++) {
        struct client_outcome *out = &items[i].out;
        const char *product = NULL;
        unsigned required = set->required[i];
        try_candidates(o, i, &addrs, &params, out, &product, &required);
        /* The default warning follows the product that answered (a server edition needs 5). */
        struct check_range warning = o->warning->range[i];
        if (o->warning->activation) {
            warning.lo = required;
            snprintf(warning.text, sizeof warning.text, "%u:", required);
        }
        char words[320];
        enum check_status s = judge(o, i, out, product, required, &warning, words, sizeof words);
        if (s > worst)
            worst = s;
        put(text, sizeof text, "%s%s", i ? ", " : "", words);
        /* 'label'=value;warn;crit;min — U when the host gave no count. */
        if (kms_outcome_has_count(out->result.outcome))
            put(perf, sizeof perf, "%s%s_count=%u;%s;%s;0", i ? " " : "", set->app[i],
                out->result.response.count, o->warning->range[i].text, o->critical->range[i].text);
        else
            put(perf, sizeof perf, "%s%s_count=U;%s;%s;0", i ? " " : "", set->app[i], warning.text,
                o->critical->range[i].text);
        put(perf, sizeof perf, " %s_time=%.6fs;;;0", set->app[i], (double)out->elapsed_us / 1e6);
    }
    snprintf(line, cap, "KMS %s - %s: %s | %s", check_status_name(worst), name, text, perf);
    return worst;
}

/* The product sets and thresholds of r; 0, or -1 with a message. */
static int check_prepare(const struct check_request *r, struct probe_set *set,
                         struct probe_set *alts, size_t *n_alts, struct check_thresholds *w,
                         struct check_thresholds *c, char *err, size_t err_len)
{
    struct catalog cat;
    if (catalog_load(&cat, r->catalog_file, err, err_len))
        return -1;
    struct guid cmid;
    if (r->cmid_seed)
        probe_cmid_from_seed(r->cmid_seed, &cmid);
    else
        probe_cmid_stable(&cmid);
    int rc = probe_set_parse(set, &cat, r->products ? r->products : PROBE_SET_DEFAULT_PRODUCTS,
                             &cmid, "--products", err, err_len);
    for (size_t k = 0; rc == 0 && !r->products && k < PROBE_SET_CANDIDATE_RANKS; k++) {
        rc = probe_set_parse(&alts[k], &cat, probe_set_candidates[k], &cmid, "built-in products",
                             err, err_len);
        *n_alts = k + 1;
    }
    catalog_free(&cat);
    if (rc)
        return -1;
    if (!r->warning)
        check_thresholds_activation(w, set);
    if (check_thresholds_parse(w, set, r->warning, "--warning", err, err_len) ||
        check_thresholds_parse(c, set, r->critical, "--critical", err, err_len))
        return -1;
    return 0;
}

enum check_status check_run(const struct check_request *r, char *line, size_t cap, bool *usage)
{
    struct probe_set *set = calloc(1, sizeof *set);
    struct probe_set *alts = calloc(PROBE_SET_CANDIDATE_RANKS, sizeof *alts);
    struct check_thresholds *w = calloc(1, sizeof *w), *c = calloc(1, sizeof *c);
    size_t n_alts = 0;
    char err[1024];
    enum check_status status = CHECK_UNKNOWN;
    *usage = false;
    if (!set || !alts || !w || !c) {
        snprintf(line, cap, "KMS UNKNOWN - out of memory");
    } else if (check_prepare(r, set, alts, &n_alts, w, c, err, sizeof err)) {
        snprintf(line, cap, "KMS UNKNOWN - %s", err);
        *usage = true;
    } else {
        struct check_options o = {.host = r->host,
                                  .set = set,
                                  .alts = alts,
                                  .n_alts = n_alts,
                                  .warning = w,
                                  .critical = c,
                                  .timeout_us = r->timeout_us};
        status = check_host(&o, line, cap);
    }
    free(set);
    free(alts);
    free(w);
    free(c);
    return status;
}
