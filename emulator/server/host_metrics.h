/*
 * What `kmsload host --metrics` exports: requests by application, product group, outcome and
 * HRESULT, the current count and capacity per application, how long answers took, connections,
 * injected faults and state saves. The host runs on one event loop and so does its /metrics
 * endpoint: the collector is updated and rendered on that thread, without a lock.
 */
#ifndef KMSLOAD_HOST_METRICS_H
#define KMSLOAD_HOST_METRICS_H

#include "host.h"
#include "host_faults.h"
#include "host_server.h"
#include "kms_outcome.h"
#include "metrics_text.h"

#include <stdint.h>

/* Distinct (application, group, outcome, HRESULT) series kept; more add to a catch-all series
 * (hresult="other"), so a host fed garbage cannot grow the page without bound. */
#define HOST_METRICS_MAX_SERIES 256

struct host_metrics_series {
    int app; /* catalogue indexes, -1 when unknown */
    int group;
    /* activated (count >= the client's N_Policy), below-threshold or host-error (an HRESULT):
     * named as the client side names them (kms_outcome_name) */
    enum kms_outcome outcome;
    uint32_t hresult;   /* what the client logs: 0, 0xC004F038 below threshold, or the HRESULT */
    bool other_hresult; /* the catch-all series */
    uint64_t n;
};

struct host_metrics {
    struct kms_host *host;
    const struct host_server *server; /* set once started; NULL: no open-connection gauge */
    struct host_metrics_series series[HOST_METRICS_MAX_SERIES];
    size_t n_series;
    uint64_t faults_injected[HOST_FAULT__COUNT];
    uint64_t latency_injected;
    struct metrics_histogram latency; /* request read whole → answer sent (or fault applied) */
    uint64_t state_saves, state_save_failures;
    double start_time; /* Unix seconds */
};

void host_metrics_init(struct host_metrics *m, struct kms_host *host);
/* One KMS request the host decided (what the request log sees). */
void host_metrics_request(struct host_metrics *m, const struct host_request_record *rec);
/* host_server's answered hook: the fault applied, whether latency was injected, the time taken. */
void host_metrics_answered(enum host_fault fault, bool delayed, uint64_t latency_us, void *arg);
/* metrics_http render callback (arg: struct host_metrics). */
void host_metrics_render(struct metrics_text *out, void *arg);

#endif
