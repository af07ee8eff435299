/*
 * What one probe of a host asks: one request per application (a product list such as
 * "win10-pro,office2016-proplus" checked against the catalogue), with this machine's probe CMID,
 * so a host's counts grow by at most one per application however often it is probed. watch's
 * --products, the /probe exporter's modules and `kmsload check` share it. Modules are named
 * product sets: built in (default, windows, office, servers) or from a small INI file.
 */
#ifndef KMSLOAD_PROBE_SET_H
#define KMSLOAD_PROBE_SET_H

#include "catalog.h"
#include "kms_message.h"

#include <stddef.h>

#define PROBE_SET_MAX_APPS 8
#define PROBE_SET_NAME_MAX 64
#define PROBE_MODULES_MAX 32

/* The products asked when none are given: a current Windows client and a current Office, each
 * covered by any host key of the last ten years. Never Office 2010: retired, absent from most
 * estates, its count stays at the probe's own 1 and a count alert would fire at once. */
#define PROBE_SET_DEFAULT_PRODUCTS "win10-pro,office2016-proplus"

/* What a host whose keys do not cover a product answers (SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_
 * MISMATCH): the automatic choice then tries the next candidate. */
#define PROBE_SET_NOT_COVERED 0xC004F042u
/* Without a product list (watch, check): PROBE_SET_DEFAULT_PRODUCTS, then per application the
 * candidates of these ranks in order, until the host's keys activate one. */
#define PROBE_SET_CANDIDATE_RANKS 6
extern const char *const probe_set_candidates[PROBE_SET_CANDIDATE_RANKS];

struct probe_set {
    char name[PROBE_SET_NAME_MAX]; /* the module's name ("" for a plain product list) */
    size_t n;
    struct kms_request requests[PROBE_SET_MAX_APPS]; /* CMID and workstation set; stamp to send */
    char app[PROBE_SET_MAX_APPS][CATALOG_KEY_MAX];   /* application key: "windows" */
    char product[PROBE_SET_MAX_APPS][CATALOG_KEY_MAX + CATALOG_NAME_MAX]; /* as given */
    unsigned required[PROBE_SET_MAX_APPS]; /* N_Policy: the count activation needs */
};

/*
 * Fills set from list (comma-separated catalogue editions or groups, at most one per
 * application) with cmid; what names the flag or file in messages ("--products"). 0, or -1 with a
 * message naming the bad product.
 */
int probe_set_parse(struct probe_set *set, const struct catalog *cat, const char *list,
                    const struct guid *cmid, const char *what, char *err, size_t err_len);

struct probe_modules {
    struct probe_set sets[PROBE_MODULES_MAX];
    size_t n;
};

/* The built-in modules: default (PROBE_SET_DEFAULT_PRODUCTS), windows (win10-pro), office
 * (office2016-proplus), servers (ws2019-std). 0, or -1 with a message (a catalogue without
 * them). */
int probe_modules_builtin(struct probe_modules *m, const struct catalog *cat,
                          const struct guid *cmid, char *err, size_t err_len);
/*
 * Adds the modules of an INI file (one section per module, "products = LIST"; a section named as
 * a built-in module replaces it). 0, or -1 with a message naming the file, line and problem.
 */
int probe_modules_load(struct probe_modules *m, const struct catalog *cat, const char *path,
                       const struct guid *cmid, char *err, size_t err_len);
/* The module called name, or NULL. */
const struct probe_set *probe_modules_find(const struct probe_modules *m, const char *name);
/* "default, windows, office, servers" for messages. */
void probe_modules_names(const struct probe_modules *m, char *out, size_t cap);

#endif
