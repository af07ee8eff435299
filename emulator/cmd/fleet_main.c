#include "fleet_main.h"

#include "atomic_file.h"
#include "catalog.h"
#include "estate_forecast.h"
#include "estate_import.h"
#include "estate_json.h"
#include "estate_logs.h"
#include "estate_scenario.h"
#include "estate_summary.h"
#include "fleet_report.h"
#include "host_keys.h"
#include "name_hash.h"
#include "run_main.h"
#include "scenario.h"
#include "usage.h"
#include "value_parse.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char fleet_usage[] =
    "Usage: kmsload fleet LOG... [OPTIONS]\n"
    "\n"
    "Imports a KMS host's event 12290 log (\"An activation request has been processed\") and\n"
    "answers what the host really serves: machines per application and product, the count the\n"
    "host held over time (rebuilt with the genuine counting rules), and the findings\n"
    "(duplicate-cmid, below-threshold, near-expiry, error, not-covered). LOG is the XML of\n"
    "wevtutil qe /f:xml, a Get-WinEvent export (Export-Csv or ConvertTo-Json, see the README for\n"
    "the commands) or a kmsload host --log CSV, told apart automatically; '-' reads standard\n"
    "input. Several LOGs are read in the order given (oldest first) as one host's log.\n"
    "\n"
    "  -o, --out DIR         write DIR/fleet.json and DIR/fleet.ini, the fleet as a scenario\n"
    "                        for kmsload run (default: fleet-report)\n"
    "      --keys KEY,...    host keys (CSVLKs) to check the fleet against, e.g. "
    "ws2022,office2021:\n"
    "                        the not-covered finding lists the products they would refuse\n"
    "      --keep-names      show FQDNs and CMIDs as logged (default: keyed hashes, HMAC-SHA-256\n"
    "                        with a random key per import)\n"
    "      --hash-key TEXT   the key of the name hashes (8..64 characters): the same key gives\n"
    "                        the same pseudonyms across imports\n"
    "      --migrate-to KEY,...  forecast the move to a new host with these host keys: writes\n"
    "                        DIR/migration.ini (the fleet, the old host with the keys its log\n"
    "                        shows or --keys, the new one) and runs it in virtual time\n"
    "      --publish-at DUR  the new host's SRV record is added (default 7d)\n"
    "      --withdraw-old-at DUR  the old record is removed (default 30d; 'never')\n"
    "      --switch-off-old-at DUR  the old host is switched off (default 45d)\n"
    "      --srv-ttl DUR     the records' TTL (default 1h) and\n"
    "      --replication-delay DUR  DNS replication (default 15m): clients see a change that\n"
    "                        much later\n"
    "      --catalog FILE    product catalogue (default: $KMSLOAD_PRODUCTS, installed, built-in)\n"
    "  -q, --quiet           print only errors\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 imported (skipped records are reported and counted in fleet.json), 2 usage,\n"
    "an unreadable log, or no event 12290 at all.\n";

struct fleet_options {
    const char *out, *keys_text, *hash_key, *catalog_file;
    bool keep, quiet;
    struct estate_forecast_options fc;
    char **logs;
    size_t n_logs;
};

static const struct option fleet_longopts[] = {
    {"out", required_argument, NULL, 'o'},
    {"keys", required_argument, NULL, 'k'},
    {"keep-names", no_argument, NULL, 'K'},
    {"hash-key", required_argument, NULL, 'H'},
    {"catalog", required_argument, NULL, 'c'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"migrate-to", required_argument, NULL, 'M'},
    {"publish-at", required_argument, NULL, 'P'},
    {"withdraw-old-at", required_argument, NULL, 'W'},
    {"switch-off-old-at", required_argument, NULL, 'S'},
    {"srv-ttl", required_argument, NULL, 'T'},
    {"replication-delay", required_argument, NULL, 'R'},
    {NULL, 0, NULL, 0},
};

/* One of the migration timeline's durations (P, W, S, T, R). Returns 0, or -1 (said). */
static int parse_timeline(int c, const char *flag, const char *text,
                          struct estate_forecast_options *fc)
{
    int64_t *slot = c == 'P'   ? &fc->publish_at_s
                    : c == 'W' ? &fc->withdraw_old_at_s
                    : c == 'S' ? &fc->switch_off_old_at_s
                    : c == 'T' ? &fc->srv_ttl_s
                               : &fc->replication_delay_s;
    if (c == 'W' && strcmp(text, "never") == 0) {
        *slot = -1;
        return 0;
    }
    int64_t us;
    char why[256];
    if (value_parse_duration(text, false, &us, why, sizeof why) != 0 ||
        us > 3000LL * 86400 * 1000000) {
        usage_error("fleet", "%s: %s", flag, why);
        return -1;
    }
    *slot = us / 1000000;
    return 0;
}

/* The checks after the flags. Returns 0, or -1 (said). */
static int check_options(int argc, char **argv, struct fleet_options *o)
{
    if (optind >= argc) {
        usage_error("fleet", "expected at least one LOG (event 12290 export)");
        return -1;
    }
    if (o->fc.new_keys && o->fc.switch_off_old_at_s <= o->fc.publish_at_s) {
        usage_error("fleet", "--switch-off-old-at must come after --publish-at");
        return -1;
    }
    if (!*o->out) {
        usage_error("fleet", "--out: expected a directory");
        return -1;
    }
    o->logs = argv + optind;
    o->n_logs = (size_t)(argc - optind);
    return 0;
}

/* Returns 0, 1 for --help (printed), or -1 for bad usage (said). */
static int fleet_options_parse(int argc, char **argv, struct fleet_options *o)
{
    *o = (struct fleet_options){.out = "fleet-report",
                                .fc = {.publish_at_s = 7 * 86400,
                                       .withdraw_old_at_s = 30 * 86400,
                                       .switch_off_old_at_s = 45 * 86400,
                                       .srv_ttl_s = 3600,
                                       .replication_delay_s = 900}};
    optind = 1;
    opterr = 0;
    int c;
    char err[1024];
    while ((c = getopt_long(argc, argv, ":o:qh", fleet_longopts, NULL)) != -1) {
        if (c == 'o')
            o->out = optarg;
        else if (c == 'k')
            o->keys_text = optarg;
        else if (c == 'K')
            o->keep = true;
        else if (c == 'H')
            o->hash_key = optarg;
        else if (c == 'c')
            o->catalog_file = optarg;
        else if (c == 'q')
            o->quiet = true;
        else if (c == 'M')
            o->fc.new_keys = optarg;
        else if (c && strchr("PWSTR", c)) {
            if (parse_timeline(c, argv[optind - 1], optarg, &o->fc) != 0)
                return -1;
        } else if (c == 'h') {
            fputs(fleet_usage, stdout);
            return 1;
        } else {
            usage_getopt_error(c, argv, err, sizeof err);
            usage_suggest_option(c, argv, fleet_longopts, err, sizeof err);
            usage_error("fleet", "%s", err);
            return -1;
        }
    }
    return check_options(argc, argv, o);
}

/* The forecast's runs: `kmsload run INI --out RUN_DIR --quiet --yes [--no-report]`. */
static int forecast_run(const char *ini, const char *run_dir, bool report, void *arg)
{
    (void)arg;
    char err[512];
    char *argv[] = {"run",
                    (char *)ini,
                    "--out",
                    (char *)run_dir,
                    "--quiet",
                    "--yes",
                    report ? NULL : "--no-report",
                    NULL};
    int argc = report ? 6 : 7;
    struct run_options *opt = malloc(sizeof *opt);
    int status = RUN_EXIT_USAGE;
    if (opt && run_options_parse(argc, argv, opt, err, sizeof err) == 0)
        status = run_execute(opt);
    else
        fprintf(stderr, "kmsload fleet: %s\n", opt ? err : "out of memory");
    free(opt);
    if (status != RUN_EXIT_PASSED && status != RUN_EXIT_FAILED) {
        fprintf(stderr, "kmsload fleet: the forecast run of %s failed (exit %d)\n", ini, status);
        return -1;
    }
    return 0;
}

/* DIR/fleet.ini, the replay: the fleet as a scenario, checked by the scenario parser `kmsload
 * run` uses. Returns 0 (also when no replay could be made: said), or -1. */
static int write_replay(const struct estate *fleet, const char *origin, const char *out, bool quiet)
{
    char *ini = NULL, err[1024], path[4096];
    snprintf(path, sizeof path, "%s/fleet.ini", out);
    int rc = 0;
    if (estate_scenario_text(fleet, origin, NULL, &ini, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: no replay scenario: %s\n", err);
    } else if (atomic_file_write(path, ini, strlen(ini), 0644, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        rc = -1;
    } else {
        struct scenario *sc = calloc(1, sizeof *sc);
        if (sc && scenario_load(sc, path, NULL, 0, err, sizeof err) != 0) {
            fprintf(stderr, "kmsload fleet: %s does not load: %s\n", path, err);
            rc = -1;
        } else if (!quiet)
            printf("wrote %s (kmsload run %s [--target NEWHOST])\n", path, path);
        free(sc);
    }
    free(ini);
    return rc;
}

/* DIR/fleet.json, the console summary and DIR/index.html. Returns 0, or -1 (said). */
static int write_fleet(const struct estate_view *view, const char *out, bool quiet)
{
    char err[1024], path[4096];
    json_t *doc = estate_json(view);
    snprintf(path, sizeof path, "%s/fleet.json", out);
    if (!doc || estate_json_write(path, doc, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", doc ? err : "out of memory");
        json_decref(doc);
        return -1;
    }
    if (!quiet)
        estate_print_summary(view->fleet, json_object_get(doc, "findings"), out);
    int rc = fleet_report_write(view->fleet, doc, out, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "kmsload fleet: %s\n", err);
    else if (!quiet)
        printf("wrote %s/index.html\n", out);
    json_decref(doc);
    return rc;
}

/* The imported fleet, finished, into its files and (--migrate-to) the forecast. */
static int fleet_write_all(struct fleet_options *o, struct estate *fleet,
                           const struct estate_view *view)
{
    char err[1024];
    if (fleet->out_of_order > 0)
        fprintf(stderr,
                "kmsload fleet: %llu events were logged before ones already read and were "
                "skipped: export oldest first (Get-WinEvent -Oldest)\n",
                (unsigned long long)fleet->out_of_order);
    if (estate_finish(fleet, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        return -1;
    }
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kmsload fleet: cannot create %s: %s\n", o->out, strerror(errno));
        return -1;
    }
    const char *origin = view->n_inputs == 1 ? view->inputs[0].path : "several logs";
    if (write_fleet(view, o->out, o->quiet) != 0 ||
        write_replay(fleet, origin, o->out, o->quiet) != 0)
        return -1;
    if (!o->fc.new_keys)
        return 0;
    o->fc.old_keys = o->keys_text;
    o->fc.quiet = o->quiet;
    o->fc.run = forecast_run;
    return estate_forecast(fleet, origin, o->out, &o->fc);
}

/* Reads the logs into a fleet and writes it. Returns the exit status. */
static int fleet_import(struct fleet_options *o, const struct catalog *cat,
                        struct estate_input *inputs, struct estate *fleet)
{
    char err[1024];
    struct host_keys keys;
    struct name_hash names;
    if (o->keys_text && host_keys_parse(cat, o->keys_text, &keys, err, sizeof err) != 0) {
        usage_error("fleet", "--keys: %s", err);
        return FLEET_EXIT_USAGE;
    }
    if (name_hash_init(&names, o->keep, o->hash_key, err, sizeof err) != 0) {
        usage_error("fleet", "%s", err);
        return FLEET_EXIT_USAGE;
    }
    if (estate_init(fleet, cat, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        return FLEET_EXIT_USAGE;
    }
    int rc = FLEET_EXIT_USAGE;
    for (size_t i = 0; i < o->n_logs; i++)
        inputs[i].path = o->logs[i];
    bool readable = estate_read_logs(fleet, inputs, o->n_logs, o->quiet) == 0;
    if (readable && fleet->requests == 0) {
        fprintf(stderr, "kmsload fleet: no event 12290 could be used: nothing to import\n");
    } else if (readable) {
        struct estate_view view = {.fleet = fleet,
                                   .names = &names,
                                   .keys = o->keys_text ? &keys : NULL,
                                   .inputs = inputs,
                                   .n_inputs = o->n_logs};
        if (fleet_write_all(o, fleet, &view) == 0)
            rc = FLEET_EXIT_OK;
    }
    estate_free(fleet);
    return rc;
}

int fleet_main(int argc, char **argv)
{
    struct fleet_options o;
    int prc = fleet_options_parse(argc, argv, &o);
    if (prc != 0)
        return prc > 0 ? FLEET_EXIT_OK : FLEET_EXIT_USAGE;
    struct catalog cat;
    char err[1024];
    if (catalog_load(&cat, o.catalog_file, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        return FLEET_EXIT_USAGE;
    }
    int rc = FLEET_EXIT_USAGE;
    struct estate_input *inputs = calloc(o.n_logs, sizeof *inputs);
    struct estate *fleet = calloc(1, sizeof *fleet);
    if (!inputs || !fleet)
        fprintf(stderr, "kmsload fleet: out of memory\n");
    else
        rc = fleet_import(&o, &cat, inputs, fleet);
    free(fleet);
    free(inputs);
    catalog_free(&cat);
    return rc;
}
