/*
 * Before a virtual-clock run: does the target follow client time?
 */
#include "engine_clock_check.h"

#include "hresult.h"

#include <stdio.h>

/* The request's time: more than the 4 hours a genuine host tolerates. */
#define CLOCK_CHECK_PAST_FT (5ULL * 3600ULL * 10000000ULL)

struct clock_check {
    struct event_base *base;
    bool done; /* the check got its answer */
    struct client_session_result res;
};

static void on_answered(void *ctx, size_t machine, int64_t sim_us,
                        const struct client_session_result *res)
{
    struct clock_check *cc = ctx;
    (void)machine, (void)sim_us;
    cc->res = *res;
    cc->done = true;
}

static void on_slot_free(void *ctx)
{
    struct clock_check *cc = ctx;
    event_base_loopbreak(cc->base);
}

int clock_check_run(struct contact_pool *contacts, struct event_base *base,
                    const struct fleet *fleet, uint64_t epoch_ft, struct engine_outcome *out,
                    char *err, size_t err_len)
{
    if (fleet->heap_n == 0 || !contact_slot_free(contacts)) {
        snprintf(out->notice, sizeof out->notice,
                 "could not check whether the target follows client time (no machine to ask)");
        return 0;
    }
    struct clock_check cc = {.base = base};
    struct contact_hooks hooks = {on_answered, on_slot_free, &cc};
    if (contact_start_dated(contacts, fleet->heap[0], epoch_ft - CLOCK_CHECK_PAST_FT, &hooks)) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    event_base_dispatch(base);
    if (!cc.done)
        return 0; /* interrupted meanwhile */
    if (cc.res.outcome == KMS_OUTCOME_HOST_ERROR && cc.res.hresult == HR_INVALID_TIMESTAMP) {
        out->target_checks_time = true;
        snprintf(err, err_len,
                 "the target checks client time: it refused a request dated 5 hours ago with "
                 "0xC004F06C, so it compares client times with its own clock and would refuse "
                 "the virtual clock's simulated days too. Run a real-clock scenario instead "
                 "(scenarios/real-host-smoke.ini, new-host-acceptance.ini or real-host-soak.ini), "
                 "or give --target-clock client if the host follows client time");
        return -1;
    }
    if (!kms_outcome_has_count(cc.res.outcome))
        snprintf(out->notice, sizeof out->notice,
                 "could not tell whether the target follows client time (the check request "
                 "ended %s%s%.80s); running on the virtual clock as the scenario says",
                 kms_outcome_name(cc.res.outcome), cc.res.err.detail[0] ? ": " : "",
                 cc.res.err.detail);
    return 0;
}
