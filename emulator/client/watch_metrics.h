/*
 * What `kmsload watch` knows about each production host it watches (one, or those a dns: target
 * publishes), per application probed: the last answer (count, HRESULT, ePID and the host build it
 * names), when it came, how long probes take and how they ended. Updated by the watch loop,
 * rendered for /metrics on the same thread (no lock).
 */
#ifndef KMSLOAD_WATCH_METRICS_H
#define KMSLOAD_WATCH_METRICS_H

#include "client_session.h"
#include "metrics_text.h"

#include <stdbool.h>
#include <stdint.h>

#define WATCH_MAX_APPS 8
#define WATCH_MAX_HOSTS 16 /* as many as one SRV answer holds (DNS_SRV_MAX) */
#define WATCH_HOST_NAME_MAX 272

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
    double last_count_time;                   /* Unix seconds: the last probe with a count */
    double last_duration;                     /* seconds */
    uint64_t probes[KMS_OUTCOME__COUNT];
    struct metrics_histogram duration;
};

struct watch_host_state {
    char name[WATCH_HOST_NAME_MAX]; /* "kms.example.com:1688": the host label */
    bool listed; /* probed now (a dns: target's host drops out when DNS stops naming it) */
    struct watch_app_state apps[WATCH_MAX_APPS];
};

struct watch_metrics {
    double interval_s;
    size_t n_apps; /* applications probed on every host */
    struct watch_host_state hosts[WATCH_MAX_HOSTS];
    size_t n_hosts; /* slots used; only listed ones are shown */
    /* dns: targets only (dns_domain NULL otherwise): the last lookup. */
    const char *dns_domain;
    bool dns_ok;
    unsigned dns_hosts;
};

void watch_app_state_init(struct watch_app_state *s, const char *application, const char *product,
                          unsigned required);
/* Records a finished probe at Unix time now. */
void watch_app_state_record(struct watch_app_state *s, const struct client_session_result *res,
                            double duration_s, double now);
/* One line for people: "count 25 (activated)", "refused 0xC004F042 ...", "unreachable: ...". */
void watch_app_state_describe(const struct watch_app_state *s, char *out, size_t cap);
/* metrics_http render callback (arg: struct watch_metrics). */
void watch_metrics_render(struct metrics_text *out, void *arg);

#endif
