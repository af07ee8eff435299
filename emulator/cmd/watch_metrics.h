/*
 * What `kmsload watch` knows about a production host, per application probed: the last answer
 * (count, HRESULT, ePID and the host build it names), when it came, how long probes take and how
 * they ended. Updated by the watch loop, rendered for /metrics on the same thread (no lock).
 */
#ifndef KMSLOAD_WATCH_METRICS_H
#define KMSLOAD_WATCH_METRICS_H

#include "client_session.h"
#include "metrics_text.h"

#include <stdbool.h>
#include <stdint.h>

#define WATCH_MAX_APPS 8

struct watch_app_state {
    const char *application; /* catalogue key: "windows" */
    const char *product;     /* what the probe asks for: "win10-pro" */
    unsigned required;       /* N_Policy of the probe: the count activation needs */
    bool probed, answered;   /* a probe ended; one got a KMS-level answer (count or HRESULT) */
    bool has_count;
    enum kms_outcome outcome;                 /* of the last probe */
    uint32_t hresult;                         /* of the last KMS-level answer */
    unsigned count;                           /* last count returned */
    char epid[72];                            /* of the last answer with a count */
    char host_build[16];                      /* from that ePID ("17763"), "" when it names none */
    char detail[160];                         /* why the last probe failed */
    double last_probe_time, last_answer_time; /* Unix seconds */
    double last_duration;                     /* seconds */
    uint64_t probes[KMS_OUTCOME__COUNT];
    struct metrics_histogram duration;
};

struct watch_metrics {
    const char *host; /* the target as given: "kms.example.com:1688" */
    double interval_s;
    struct watch_app_state apps[WATCH_MAX_APPS];
    size_t n_apps;
};

void watch_app_state_init(struct watch_app_state *s, const char *application, const char *product,
                          unsigned required);
/* Records a finished probe at Unix time now. */
void watch_app_state_record(struct watch_app_state *s, const struct client_session_result *res,
                            double duration_s, double now);
/* One line for people: "count 25 (activated)", "refused 0xC004F042 ...", "unreachable: ...". */
void watch_app_state_describe(const struct watch_app_state *s, char *out, size_t cap);
/* The build an ePID names ("…-17763.0000-…" → "17763"); "" when it has none. */
void watch_epid_build(const char *epid, char *out, size_t cap);
/* metrics_http render callback (arg: struct watch_metrics). */
void watch_metrics_render(struct metrics_text *out, void *arg);

#endif
