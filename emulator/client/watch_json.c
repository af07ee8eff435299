#include "watch_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

static void put_time(json_t *o)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char text[40], frac[8];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(frac, sizeof frac, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
    char full[48];
    snprintf(full, sizeof full, "%s%s", text, frac);
    json_object_set_new(o, "time", json_string(full));
}

static void emit(FILE *out, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!text)
        return;
    fprintf(out, "%s\n", text);
    fflush(out);
    free(text);
}

/* A string, or null when empty. */
static json_t *text_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

void watch_json_probe(FILE *out, const char *host, const struct watch_app_state *s)
{
    json_t *o = json_object();
    if (!o)
        return;
    bool count = kms_outcome_has_count(s->outcome);
    bool answer =
        count || s->outcome == KMS_OUTCOME_HOST_ERROR || s->outcome == KMS_OUTCOME_RPC_FAULT;
    char hr[16];
    snprintf(hr, sizeof hr, "0x%08X", s->hresult);
    put_time(o);
    json_object_set_new(o, "type", json_string("probe"));
    json_object_set_new(o, "host", json_string(host));
    json_object_set_new(o, "application", json_string(s->application));
    json_object_set_new(o, "product", json_string(s->product));
    json_object_set_new(o, "outcome", json_string(kms_outcome_name(s->outcome)));
    json_object_set_new(o, "success", json_boolean(count));
    json_object_set_new(o, "count", count ? json_integer(s->count) : json_null());
    json_object_set_new(o, "required", json_integer(s->required));
    json_object_set_new(o, "hresult", answer ? json_string(hr) : json_null());
    json_object_set_new(o, "epid", count ? text_or_null(s->epid) : json_null());
    json_object_set_new(o, "host_build", count ? text_or_null(s->host_build) : json_null());
    json_object_set_new(o, "duration_seconds", json_real(s->last_duration));
    json_object_set_new(o, "detail", text_or_null(s->detail));
    emit(out, o);
}

void watch_json_dns(FILE *out, const char *domain, bool ok, unsigned hosts, const char *detail)
{
    json_t *o = json_object();
    if (!o)
        return;
    put_time(o);
    json_object_set_new(o, "type", json_string("dns"));
    json_object_set_new(o, "domain", json_string(domain));
    json_object_set_new(o, "success", json_boolean(ok));
    json_object_set_new(o, "hosts", ok ? json_integer(hosts) : json_null());
    json_object_set_new(o, "detail", text_or_null(detail));
    emit(out, o);
}
