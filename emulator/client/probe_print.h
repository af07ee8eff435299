/*
 * A probe's request and its outcome, for a person (text) or a program (JSON): what `kmsload
 * probe` prints, and the catalogue listing of --list-products.
 */
#ifndef KMSLOAD_PROBE_PRINT_H
#define KMSLOAD_PROBE_PRINT_H

#include "catalog.h"
#include "client_exchange.h"
#include "kms_message.h"

#include <stdint.h>
#include <stdio.h>

struct probe_report {
    const char *host; /* the target as given, and its port */
    uint16_t port;
    const struct kms_request *req;
    const char *product; /* the edition's (or group's) name */
    int64_t clock_skew_us;
    const struct client_outcome *out;
    int exit_status; /* shown in the JSON */
};

void probe_print_text(FILE *f, const struct probe_report *p, const struct catalog *cat);
void probe_print_json(FILE *f, const struct probe_report *p);
/* Every edition: key, name, protocol, N_Policy and group. */
void probe_print_products(FILE *f, const struct catalog *cat);

#endif
