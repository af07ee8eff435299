/*
 * Asks a KMS host about every product group of a coverage (catalog/coverage.h): one request per
 * group, one after the other, each application with one fixed CMID so the host's counts grow by at
 * most one per application (N_Policy 1, so the probe does not raise the host's cache capacity
 * either).
 */
#ifndef KMSLOAD_COVERAGE_PROBE_H
#define KMSLOAD_COVERAGE_PROBE_H

#include "client_session.h"
#include "coverage.h"
#include "net.h"

#include <stdint.h>

struct coverage_probe_options {
    const struct net_addrs *addrs; /* the host, tried in order */
    int64_t timeout_us;            /* per request */
    struct client_session_options exchange;
    /* Stop (an error) after this many requests in a row got no KMS answer; 0: ask every group. */
    unsigned give_up_after;
    /* Then one request more, for the first group activated, dated 5 hours ago (cv->clock). */
    bool check_clock;
};

/* The CMID coverage uses for application app: the same on every run. */
struct guid coverage_probe_cmid(const struct catalog_app *app);
/*
 * Fills every group of cv from the host's answers. Returns 0, or -1 with a message when the host
 * cannot be reached at all (the first request fails to connect or times out).
 */
int coverage_probe(const struct catalog *cat, const struct coverage_probe_options *opt,
                   struct coverage *cv, char *err, size_t err_len);

#endif
