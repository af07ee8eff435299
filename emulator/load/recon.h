/*
 * The reconnaissance before a run against a host that is not the embedded one (issue 19): what
 * the host already holds, so that the model and the expectations start from it instead of
 * assuming a fresh host. One request per product group (client/coverage_probe.c) with a stable
 * CMID per application (the same on every run, so kmsload adds one machine per application to
 * the host's count once ever, not once per run): the count per application, the host's build
 * and the key groups it activates; then the client-clock check (engine_clock_check.c) says how
 * the host treats client time.
 */
#ifndef KMSLOAD_RECON_H
#define KMSLOAD_RECON_H

#include "catalog.h"
#include "net.h"
#include "run_outcome.h"
#include "scenario.h"
#include "wintypes.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RECON_MAX_APPS 8
#define RECON_MAX_NOTES 16

struct recon_app {
    char key[CATALOG_KEY_MAX];   /* the catalogue's application: "windows" */
    char name[CATALOG_NAME_MAX]; /* "Windows" */
    bool used;                   /* a population of the scenario asks for it */
    bool counted;                /* the host answered the stable CMID with a count */
    unsigned count;              /* machines the host counts, the stable CMID among them */
    struct guid cmid;
};

struct recon {
    bool done;         /* the host was asked */
    char skipped[600]; /* why not (embedded host, several hosts, ...) */
    uint64_t at_ft;    /* FILETIME of the reconnaissance: the stable CMIDs were seen then */
    unsigned requests; /* sent to the host, one per product group (not in the run's events) */
    size_t n_apps;     /* the catalogue's */
    struct recon_app apps[RECON_MAX_APPS];
    unsigned build;       /* from the ePIDs, 0 if none */
    char host_os[200];    /* "Windows Server 2022 (build 20348)" */
    char host_keys[400];  /* the fewest host keys that explain the activations */
    char key_groups[600]; /* the product groups the host activates: "ws2022, office2021" */
    bool genuine;         /* coverage's verdict (no finding) */
    char clock[300];      /* how the host treats client time, after the clock check */
    /* Expectations that assumed a fresh host: shifted or set aside, in words. */
    char notes[RECON_MAX_NOTES][240];
    size_t n_notes;
};

/* A reconnaissance that was not made, with the reason (recon->done false). */
void recon_skip(struct recon *recon, const char *why);
/* Asks the host (timeout_us per request). Returns 0, or -1 with a message when the host cannot
 * be reached. */
int recon_run(struct recon *recon, const struct catalog *cat, const struct scenario *sc,
              const struct net_addrs *addrs, int64_t timeout_us, char *err, size_t err_len);
/* A run's reconnaissance of its one target, or none (skip: why not, NULL: make it): asked,
 * printed on out (may be NULL) and the expectations adjusted. A host that does not answer is
 * said and left to the run, which reports it as usual. */
void recon_for_run(struct recon *recon, const struct catalog *cat, struct scenario *sc,
                   const struct net_addrs *target, const char *skip, FILE *out);
/* What was found, one line per application the scenario uses, for the console. */
void recon_print(const struct recon *recon, const struct catalog *cat, FILE *out);
/* The clock check's result in words (checked: the engine asked, see engine_config). */
void recon_note_clock(struct recon *recon, const struct scenario *sc, bool checked,
                      const struct engine_outcome *eo);
/*
 * Expectations written for a fresh host, adjusted to the counts found: counts shifted by them
 * (max_count, final_count), or set aside as not applicable (first_activation when the host is
 * already past it, requests when machines activate sooner), each said on out (may be NULL) and
 * kept in recon->notes. Never a host failure.
 */
void recon_adjust_expectations(struct recon *recon, struct scenario *sc, const struct catalog *cat,
                               FILE *out);

#endif
