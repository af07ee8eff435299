/*
 * products = from-host: before a run, the target is asked which product groups its host keys
 * cover (one coverage probe), and each population tests the newest covered product of its kind
 * (Windows clients, Windows servers, Office 2013 and later, Office 2010), so an acceptance test
 * judges the host on what it was set up to activate, not on products it has no key for.
 */
#ifndef KMSLOAD_RUN_FROM_HOST_H
#define KMSLOAD_RUN_FROM_HOST_H

#include "catalog.h"
#include "net.h"
#include "scenario.h"

#include <stdio.h>

/*
 * Probes target, rewrites sc's populations (product replaced, population dropped with its
 * expectations when the host covers nothing of its kind) and turns baseline on (the probe's own
 * CMIDs are counted first). Says what it tested and what it skipped, and why, on out (NULL:
 * silent). Returns 0, or with a message -1 (the host did not answer the probe) or -2 (it covers
 * nothing the scenario tests).
 */
int run_products_from_host(struct scenario *sc, const struct catalog *cat,
                           const struct net_addrs *target, FILE *out, char *err, size_t err_len);

#endif
