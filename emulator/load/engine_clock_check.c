/*
 * Before a virtual-clock run: does the target follow client time?
 */
#include "engine_clock_check.h"

#include "client_exchange.h"
#include "hresult.h"

#include <stdio.h>

/* The request's time: more than the 4 hours a genuine host tolerates. */
#define CLOCK_CHECK_PAST_FT (5ULL * 3600ULL * 10000000ULL)

int clock_check_run(struct contact_pool *contacts, const struct fleet *fleet, uint64_t epoch_ft,
                    struct engine_outcome *out, char *err, size_t err_len)
{
    if (fleet->heap_n == 0 || !contact_slot_free(contacts)) {
        snprintf(out->notice, sizeof out->notice,
                 "could not check whether the target follows client time (no machine to ask)");
        return 0;
    }
    struct client_session_result res;
    int rc = contact_exchange_dated(contacts, fleet->heap[0], epoch_ft - CLOCK_CHECK_PAST_FT, &res,
                                    err, err_len);
    if (rc)
        return rc < 0 ? -1 : 0; /* out of memory, or interrupted meanwhile */
    if (res.outcome == KMS_OUTCOME_HOST_ERROR && res.hresult == HR_INVALID_TIMESTAMP) {
        out->target_checks_time = true;
        snprintf(err, err_len,
                 "the target checks client time: it refused a request dated 5 hours ago with "
                 "0xC004F06C, so it compares client times with its own clock and would refuse "
                 "the virtual clock's simulated days too. Run a real-clock scenario instead "
                 "(scenarios/real-host-smoke.ini, new-host-acceptance.ini or real-host-soak.ini), "
                 "or give --target-clock client if the host follows client time");
        return -1;
    }
    if (!kms_outcome_has_count(res.outcome))
        snprintf(out->notice, sizeof out->notice,
                 "could not tell whether the target follows client time (the check request "
                 "ended %s%s%.80s); running on the virtual clock as the scenario says",
                 kms_outcome_name(res.outcome), res.err.detail[0] ? ": " : "", res.err.detail);
    return 0;
}
