/*
 * Before a virtual-clock run: does the target follow client time? One request of the run's
 * first machine (its CMID is sent anyway) dated more than 4 hours in the past: a host that
 * checks client time refuses it with 0xC004F06C; a host that follows client time answers, and a
 * past time never moves its clock forward. The request is one of the run's: recorded, and known
 * to the model.
 */
#ifndef KMSLOAD_ENGINE_CLOCK_CHECK_H
#define KMSLOAD_ENGINE_CLOCK_CHECK_H

#include "engine_contact.h"
#include "run_outcome.h"

/* Runs the check through the first thread's contacts, before the loops start. Returns 0 (go on:
 * the target follows client time, or the answer did not tell, see out->notice), or -1 with a
 * message when the target checks client time (out->target_checks_time) or out of memory. */
int clock_check_run(struct contact_pool *contacts, const struct fleet *fleet, uint64_t epoch_ft,
                    struct engine_outcome *out, char *err, size_t err_len);

#endif
