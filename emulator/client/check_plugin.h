/*
 * `kmsload check`: one probe of a KMS host as a Nagios/Icinga plugin (the Monitoring Plugins
 * guidelines): every application of a product set asked at once, the counts judged against
 * warning and critical ranges, one status line with performance data, and the exit status the
 * monitoring system reads: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 *
 * Ranges follow the plugin guidelines: "10" alerts outside 0..10, "10:" below 10, "~:10" above
 * 10, "10:20" outside 10..20, "@10:20" inside it. A threshold list gives one range for every
 * application ("25:") or per application ("windows=25:,office2013=5:").
 */
#ifndef KMSLOAD_CHECK_PLUGIN_H
#define KMSLOAD_CHECK_PLUGIN_H

#include "probe_set.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum check_status { CHECK_OK = 0, CHECK_WARNING = 1, CHECK_CRITICAL = 2, CHECK_UNKNOWN = 3 };

struct check_range {
    bool set;
    bool inside; /* '@': alert inside the range */
    bool has_lo, has_hi;
    double lo, hi;
    char text[40]; /* as given, for the performance data */
};

/* Parses one range ("25:", "@1:5", "~:10", "10"). 0, or -1 with a message. */
int check_range_parse(const char *text, struct check_range *r, char *err, size_t err_len);
/* Whether value v raises the range's alert (false when the range is not set). */
bool check_range_alerts(const struct check_range *r, double v);

/* One range per application of a set. */
struct check_thresholds {
    struct check_range range[PROBE_SET_MAX_APPS];
    bool activation; /* check_thresholds_activation's: follows the product actually asked */
};

/*
 * Fills t for set's applications from list ("25:" for all, or "windows=25:,office2013=5:");
 * what names the flag. A NULL list leaves t unset. 0, or -1 with a message (bad range, an
 * application the set does not ask).
 */
int check_thresholds_parse(struct check_thresholds *t, const struct probe_set *set,
                           const char *list, const char *what, char *err, size_t err_len);
/* The default warning: below each application's activation threshold (N_Policy), where its
 * clients are refused activation. */
void check_thresholds_activation(struct check_thresholds *t, const struct probe_set *set);

struct check_options {
    const char *host; /* HOST[:PORT], checked */
    const struct probe_set *set;
    /* Automatic products (no --products): where the host refuses an application's product
     * with PROBE_SET_NOT_COVERED, these candidates are asked in order (n_alts 0: none). */
    const struct probe_set *alts;
    size_t n_alts;
    const struct check_thresholds *warning, *critical;
    int64_t timeout_us; /* per exchange (all run at once) */
};

/*
 * Probes the host once per application and writes the plugin's one line ("KMS OK - ... | ...")
 * into line. Returns the status (an unresolvable name is UNKNOWN; no KMS answer, a refusal or a
 * critical count CRITICAL; a warning count WARNING).
 */
enum check_status check_host(const struct check_options *o, char *line, size_t cap);
/* A check as the command line asks it (flags checked for shape only). */
struct check_request {
    const char *host;               /* HOST[:PORT] */
    const char *warning, *critical; /* threshold lists; NULL: the defaults */
    const char *products;           /* NULL: the automatic products */
    const char *cmid_seed;          /* NULL: this machine's probe CMID */
    const char *catalog_file;
    int64_t timeout_us;
};

/*
 * Builds the product sets (the catalogue, the CMID) and thresholds of r, then check_host. A bad
 * product, range or catalogue is UNKNOWN with the line "KMS UNKNOWN - <why>" and *usage set.
 */
enum check_status check_run(const struct check_request *r, char *line, size_t cap, bool *usage);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *check_status_name(enum check_status s);

#endif
