/* The plan of a run in words, for --dry-run and before a run against a target that is not on
 * loopback: what it will send and what it leaves in the host's counts. */
#ifndef KMSLOAD_RUN_PLAN_TEXT_H
#define KMSLOAD_RUN_PLAN_TEXT_H

#include "run_plan.h"

#include <stdbool.h>
#include <stdio.h>

/* target_desc names the target; loopback: it is on loopback (else N_Policy is capped);
 * clock_check: the run first asks the target whether it follows client time; recon: it first
 * learns the host (one request per product group, load/recon.h). */
void run_plan_print(FILE *f, const struct scenario *sc, const struct run_plan *plan,
                    const char *target_desc, bool loopback, bool clock_check, bool recon);

/* After the plan, a terminal user may confirm by typing yes; anything else (or no terminal on
 * standard input and error) sends nothing. target names the target in the question. */
bool run_plan_confirmed_on_terminal(const char *target);

#endif
