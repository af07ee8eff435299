/*
 * The coverage answer (spec §12.5): given how a host answered one request per product group,
 * which host OS it runs (the build in its ePID), which host keys (CSVLKs) its coverage matches,
 * and for every refused group what to install first, in plain words. Pure: no network, no files;
 * client/coverage_probe.c asks the host, cmd/coverage_main.c and the run report print the result;
 * the build comes from epid.h.
 */
#ifndef KMSLOAD_COVERAGE_H
#define KMSLOAD_COVERAGE_H

#include "catalog.h"
#include "host_keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COVERAGE_MAX_GROUPS 64
#define HOST_MAX_KEYS_IN_CATALOG 64

enum coverage_state {
    COVERAGE_NOT_ASKED,
    COVERAGE_ACTIVATED, /* a full answer: the host covers the group (whatever the count) */
    COVERAGE_REFUSED,   /* an HRESULT: the host does not activate it */
    COVERAGE_ERROR,     /* no KMS answer: fault, broken bytes, network failure */
};

struct coverage_group {
    size_t kms; /* index into the catalogue's kms */
    enum coverage_state state;
    uint32_t hresult;  /* REFUSED: the HRESULT; ERROR from an RPC fault: its status */
    unsigned count;    /* ACTIVATED: the count the host returned */
    unsigned n_policy; /* the group's clients activate at this count (25 or 5) */
    char epid[200];    /* ACTIVATED: the ePID it answered with */
    char detail[160];  /* ERROR: what went wrong */
    char advice[480];  /* REFUSED: what to install, filled by coverage_judge */
};

#define COVERAGE_MAX_FINDINGS 16

struct coverage_finding {
    const char *kind; /* "key-os", "epid-key", "exclusive-keys", "unexplained", "no-build" */
    char reason[320];
};

struct coverage {
    struct coverage_group groups[COVERAGE_MAX_GROUPS];
    size_t n_groups;
    /* Filled by coverage_judge: */
    unsigned build; /* host OS build from the first ePID with one, 0 if none */
    const struct catalog_hostos *os;
    bool os_exact;            /* the build is that OS's own build */
    struct host_keys matched; /* the fewest host keys that explain what was activated */
    size_t unexplained[COVERAGE_MAX_GROUPS]; /* activated groups no single key explains */
    size_t n_unexplained;
    /* What a genuine host could not show (issue 19 item 4): keys its OS cannot carry, ePIDs that
     * contradict the keys, activations no key explains. genuine: a build and no finding. */
    struct coverage_finding findings[COVERAGE_MAX_FINDINGS];
    size_t n_findings;
    bool genuine;
    /* How the host treats client time (coverage_probe_options.check_clock): one request more,
     * dated 5 hours ago, answered (it follows client time) or refused with 0xC004F06C (it
     * checks client time, as genuine hosts do). */
    enum coverage_clock {
        COVERAGE_CLOCK_NOT_ASKED,
        COVERAGE_CLOCK_FOLLOWS,
        COVERAGE_CLOCK_CHECKS,
        COVERAGE_CLOCK_UNKNOWN, /* no KMS answer, another HRESULT, or nothing activated */
    } clock;
};

/* Every volume (non-retail) product group of the catalogue, none asked yet. */
void coverage_init(struct coverage *cv, const struct catalog *cat);
/* The group entry of catalogue kms index k, or NULL. */
struct coverage_group *coverage_group_of(struct coverage *cv, size_t k);
/* Records one answer about product group kms (a run may ask many times): a full answer makes
 * it activated, an HRESULT refused (unless it was activated too), anything else an error. */
void coverage_note(struct coverage *cv, size_t kms, bool has_count, bool host_error,
                   uint32_t hresult, unsigned count, const char *epid, const char *detail);
/* Host OS, matched keys and advice for every refused group. */
void coverage_judge(struct coverage *cv, const struct catalog *cat);
/* One line about the host: "Windows Server 2019 (build 17763)". */
void coverage_host_text(const struct coverage *cv, char *out, size_t cap);
/* One group's result in words: "activated (count 3)", "refused: 0xC004F042 (the KMS host ...)". */
void coverage_result_text(const struct coverage_group *g, char *out, size_t cap);
/* The matched host keys as one line ("Windows Server 2012 R2, Office 2016"), or "none". */
void coverage_keys_text(const struct coverage *cv, const struct catalog *cat, char *out,
                        size_t cap);
/* The clock in words: "follows client time (answered a request dated 5 hours ago)", ... */
const char *coverage_clock_text(enum coverage_clock clock);
/* "activated", "refused", "error", "not asked". */
const char *coverage_state_name(enum coverage_state state);
/* Parses "ws2025,win10" (catalogue KMS keys or names) into kms indices; -1 with a message. */
int coverage_parse_groups(const struct catalog *cat, const char *list, size_t *out, size_t cap,
                          size_t *n, char *err, size_t err_len);

#endif
