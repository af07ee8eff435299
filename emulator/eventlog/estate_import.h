/*
 * The fleet a KMS host's event 12290 log shows: machines (one per application and CMID), products
 * (SKU IDs, named from the catalogue, unknown ones kept by ID), what each application's counter
 * held over time (rebuilt with the genuine counting cache, client_cache.c: the event does not log
 * the count), requests per day by outcome, and the findings an administrator chases. Events are
 * fed in time order; memory grows with machines, products and days, never with events.
 */
#ifndef KMSLOAD_ESTATE_IMPORT_H
#define KMSLOAD_ESTATE_IMPORT_H

#include "catalog.h"
#include "client_cache.h"
#include "host_keys.h"
#include "kms_event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESTATE_VALIDITY_DAYS 180 /* a KMS activation lasts 180 days without renewal (spec §11) */
#define ESTATE_NEAR_EXPIRY_DAYS 30
#define ESTATE_ORDER_SLACK                                                                         \
    (10ULL * 60 * FILETIME_PER_SECOND) /* logged out of order by <= 10 min                         \
                                        */
#define ESTATE_MACHINE_ERRORS 4        /* distinct HRESULTs remembered per machine */
#define ESTATE_INTERVAL_BINS 2880      /* 1-minute bins for a day, then 1-hour bins to 61 days */

enum estate_outcome { ESTATE_ACTIVATED, ESTATE_BELOW, ESTATE_REFUSED, ESTATE_OUTCOMES };

struct estate_machine {
    struct guid cmid;
    int app; /* catalogue application, -1: unknown SKU */
    int product;
    uint64_t first, last;
    uint64_t last_activated; /* 0: never activated in the log */
    uint32_t requests;
    uint32_t outcomes[ESTATE_OUTCOMES];
    enum estate_outcome last_outcome;
    unsigned license_status, vm, n_policy;
    unsigned first_status; /* licence status of its first request in the log */
    uint32_t minutes_to_expiration;
    uint32_t last_hresult;
    uint32_t errors[ESTATE_MACHINE_ERRORS];
    unsigned n_errors;
    uint64_t *names; /* distinct FQDN fingerprints */
    unsigned n_names, names_cap;
    uint64_t last_name;
    unsigned name_switches; /* consecutive requests from different names */
    char *shown_name[3];    /* the first names, for examples */
};

struct estate_interval_hist {
    uint32_t bins[ESTATE_INTERVAL_BINS];
    uint64_t n;
};

struct estate_error {
    int product;
    uint32_t hresult;
    uint64_t requests, machines;
    uint64_t first, last;
};

struct estate_product {
    struct guid sku;
    int sku_index; /* catalogue SKU, -1 unknown */
    int kms;       /* catalogue KMS group, -1 unknown */
    int app;
    uint64_t requests, refused;
    uint64_t first, last;
    /* filled by estate_finish */
    uint64_t machines, vm_machines, license[7];
    struct estate_interval_hist *renewal, *retry;
};

struct estate_day {
    uint64_t outcomes[ESTATE_OUTCOMES];
};

struct estate_app_day {
    unsigned count_max; /* highest count answered that day (or held at its end) */
    unsigned count_end; /* count held at the end of the day */
};

struct estate_app {
    struct client_cache cache;
    uint64_t requests, outcomes[ESTATE_OUTCOMES];
    uint64_t machines; /* estate_finish */
    unsigned max_count;
    uint64_t max_count_at;
    uint64_t reached_at[2]; /* first answer with count >= 5, >= 25; 0 never */
    unsigned needs_seen[2]; /* machines needing 5 (<= 5), 25 (> 5) */
    unsigned max_n_policy;
    uint64_t logged_count_mismatches; /* host --log: the count it answered differs */
    uint64_t logged_counts;
    struct estate_app_day *days;
    size_t n_days_filled; /* days whose end-of-day count is final */
};

struct estate {
    const struct catalog *cat;
    struct estate_machine *machines;
    size_t n_machines, cap_machines;
    uint32_t *slots; /* open-addressing index of machines by (app, CMID): index + 1, 0 empty */
    size_t n_slots;
    struct estate_product *products;
    size_t n_products;
    struct estate_app *apps; /* cat->n_apps */
    struct estate_error *errors;
    size_t n_errors;
    struct estate_day *days;
    size_t n_days, cap_days;
    uint64_t day0;        /* FILETIME of the first event's UTC midnight */
    uint64_t first, last; /* first and last event time */
    uint64_t requests;
    uint64_t out_of_order;
    uint64_t distinct_cmids; /* estate_finish */
    bool finished;
};

int estate_init(struct estate *f, const struct catalog *cat, char *err, size_t err_len);
void estate_free(struct estate *f);

/*
 * Adds one event. An event more than ESTATE_ORDER_SLACK before the latest one cannot be counted
 * (the cache only goes forward): returns 1 with a message, and it is counted in out_of_order.
 * Returns 0, or -1 with a message on out-of-memory.
 */
int estate_add(struct estate *f, const struct kms_event *ev, char *err, size_t err_len);

/* Completes the per-product and per-application figures at the last event. Returns 0 or -1. */
int estate_finish(struct estate *f, char *err, size_t err_len);

/* When machine m's activation lapses if the host disappeared now: 0 never (unlimited grace). */
uint64_t estate_machine_lapse(const struct estate_machine *m);

/* Median of a histogram in minutes; 0 when empty. */
unsigned estate_interval_median(const struct estate_interval_hist *h);

/* A product's display name: the catalogue's, or "unknown SKU <guid>". */
void estate_product_name(const struct estate *f, const struct estate_product *p, char *out,
                         size_t cap);

#endif
