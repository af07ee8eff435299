#include "fleet_main.h"

#include "atomic_file.h"
#include "catalog.h"
#include "errmsg.h"
#include "estate_import.h"
#include "estate_json.h"
#include "estate_scenario.h"
#include "event_reader.h"
#include "fleet_forecast.h"
#include "fleet_report.h"
#include "host_keys.h"
#include "name_hash.h"
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

#define BAD_SHOWN 20 /* bad records printed per file; the rest are counted */

struct fleet_run {
    struct estate fleet;
    const char *file;
    uint64_t bad_shown;
    bool quiet;
};

static void on_bad(const char *file, const char *where, const char *why, void *arg)
{
    struct fleet_run *r = arg;
    if (r->bad_shown++ < BAD_SHOWN)
        fprintf(stderr, "kmsload fleet: %s: %s: %s (skipped)\n", file, where, why);
}

static int on_event(const struct kms_event *ev, void *arg, char *err, size_t err_len)
{
    struct fleet_run *r = arg;
    char why[300];
    int rc = estate_add(&r->fleet, ev, why, sizeof why);
    if (rc < 0)
        return errmsg_set(err, err_len, "%s", why);
    if (rc > 0 && r->bad_shown++ < BAD_SHOWN)
        fprintf(stderr, "kmsload fleet: %s: event %s (skipped)\n", r->file, why);
    return 0;
}

static void print_summary(const struct estate *f, json_t *findings, const char *out)
{
    char a[32], b[32];
    estate_time_text(f->first, a, sizeof a);
    estate_time_text(f->last, b, sizeof b);
    printf("fleet: %llu requests from %s to %s, %llu machines (distinct CMIDs)\n",
           (unsigned long long)f->requests, a, b, (unsigned long long)f->distinct_cmids);
    for (size_t i = 0; i < f->cat->n_apps; i++) {
        const struct estate_app *app = &f->apps[i];
        if (!app->requests)
            continue;
        printf("  %-12s %6llu machines %9llu requests  count max %u, at the end %u\n",
               f->cat->apps[i].key, (unsigned long long)app->machines,
               (unsigned long long)app->requests, app->max_count,
               app->n_days_filled ? app->days[app->n_days_filled - 1].count_end : 0);
    }
    size_t n = json_array_size(findings);
    printf("findings: %s\n", n ? "" : "none");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(findings, i);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (strcmp(kind, "duplicate-cmid") == 0)
            printf("  duplicate-cmid   %lld CMIDs shared by %lld machine names\n",
                   json_integer_value(json_object_get(o, "cmids")),
                   json_integer_value(json_object_get(o, "names")));
        else if (strcmp(kind, "below-threshold") == 0) {
            json_t *apps = json_object_get(o, "applications");
            for (size_t k = 0; k < json_array_size(apps); k++) {
                json_t *x = json_array_get(apps, k);
                const char *when = json_string_value(json_object_get(x, "would_reach_at"));
                printf("  below-threshold  %s: count %lld at most, its clients need %lld (%s)\n",
                       json_string_value(json_object_get(x, "application")),
                       json_integer_value(json_object_get(x, "max_count")),
                       json_integer_value(json_object_get(x, "needs")),
                       when ? when : "not at the current rate");
            }
        } else if (strcmp(kind, "near-expiry") == 0)
            printf("  near-expiry      %lld machines lapse within 30 days (%lld already)\n",
                   json_integer_value(json_object_get(o, "machines")),
                   json_integer_value(json_object_get(o, "lapsed")));
        else if (strcmp(kind, "error") == 0) {
            json_t *items = json_object_get(o, "by_product");
            for (size_t k = 0; k < json_array_size(items); k++) {
                json_t *x = json_array_get(items, k);
                printf("  error            %s %s: %lld requests from %lld machines\n",
                       json_string_value(json_object_get(x, "hresult")),
                       json_string_value(json_object_get(json_object_get(x, "product"), "name")),
                       json_integer_value(json_object_get(x, "requests")),
                       json_integer_value(json_object_get(x, "machines")));
            }
        } else if (strcmp(kind, "not-covered") == 0) {
            json_t *items = json_object_get(o, "products");
            for (size_t k = 0; k < json_array_size(items); k++) {
                json_t *x = json_array_get(items, k);
                const char *install = json_string_value(json_object_get(x, "install"));
                printf("  not-covered      %s: %lld machines (install %s)\n",
                       json_string_value(json_object_get(x, "name")),
                       json_integer_value(json_object_get(x, "machines")),
                       install ? install : "no key known");
            }
        }
    }
    printf("wrote %s/fleet.json\n", out);
}

int fleet_main(int argc, char **argv)
{
    static const struct option longopts[] = {
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
    const char *out = "fleet-report", *keys_text = NULL, *hash_key = NULL, *catalog_file = NULL;
    bool keep = false, quiet = false;
    struct fleet_forecast_options fc = {.publish_at_s = 7 * 86400,
                                        .withdraw_old_at_s = 30 * 86400,
                                        .switch_off_old_at_s = 45 * 86400,
                                        .srv_ttl_s = 3600,
                                        .replication_delay_s = 900};
    optind = 1;
    opterr = 0;
    int c;
    char err[1024];
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'k':
            keys_text = optarg;
            break;
        case 'K':
            keep = true;
            break;
        case 'H':
            hash_key = optarg;
            break;
        case 'c':
            catalog_file = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'M':
            fc.new_keys = optarg;
            break;
        case 'P':
        case 'W':
        case 'S':
        case 'T':
        case 'R': {
            int64_t us;
            char why[256];
            int64_t *slot = c == 'P'   ? &fc.publish_at_s
                            : c == 'W' ? &fc.withdraw_old_at_s
                            : c == 'S' ? &fc.switch_off_old_at_s
                            : c == 'T' ? &fc.srv_ttl_s
                                       : &fc.replication_delay_s;
            if (c == 'W' && strcmp(optarg, "never") == 0) {
                *slot = -1;
                break;
            }
            if (value_parse_duration(optarg, false, &us, why, sizeof why) != 0 ||
                us > 3000LL * 86400 * 1000000) {
                usage_error("fleet", "%s: %s", argv[optind - 1], why);
                return FLEET_EXIT_USAGE;
            }
            *slot = us / 1000000;
            break;
        }
        case 'h':
            fputs(fleet_usage, stdout);
            return FLEET_EXIT_OK;
        default:
            usage_getopt_error(c, argv, err, sizeof err);
            usage_suggest_option(c, argv, longopts, err, sizeof err);
            usage_error("fleet", "%s", err);
            return FLEET_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage_error("fleet", "expected at least one LOG (event 12290 export)");
        return FLEET_EXIT_USAGE;
    }
    if (fc.new_keys && fc.switch_off_old_at_s <= fc.publish_at_s) {
        usage_error("fleet", "--switch-off-old-at must come after --publish-at");
        return FLEET_EXIT_USAGE;
    }
    if (!*out) {
        usage_error("fleet", "--out: expected a directory");
        return FLEET_EXIT_USAGE;
    }
    struct catalog cat;
    if (catalog_load(&cat, catalog_file, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        return FLEET_EXIT_USAGE;
    }
    int rc = FLEET_EXIT_USAGE;
    struct host_keys keys;
    struct name_hash names;
    size_t n_inputs = (size_t)(argc - optind);
    struct estate_input *inputs = calloc(n_inputs, sizeof *inputs);
    struct fleet_run *run = calloc(1, sizeof *run);
    if (!inputs || !run) {
        fprintf(stderr, "kmsload fleet: out of memory\n");
        goto done_early;
    }
    if (keys_text && host_keys_parse(&cat, keys_text, &keys, err, sizeof err) != 0) {
        usage_error("fleet", "--keys: %s", err);
        goto done_early;
    }
    if (name_hash_init(&names, keep, hash_key, err, sizeof err) != 0) {
        usage_error("fleet", "%s", err);
        goto done_early;
    }
    if (estate_init(&run->fleet, &cat, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        goto done_early;
    }
    run->quiet = quiet;
    struct event_sink sink = {.event = on_event, .bad = on_bad, .arg = run};
    bool unreadable = false;
    for (size_t i = 0; i < n_inputs; i++) {
        struct estate_input *in = &inputs[i];
        in->path = argv[optind + (int)i];
        bool is_stdin = strcmp(in->path, "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(in->path, "rb");
        if (!f) {
            fprintf(stderr, "kmsload fleet: cannot open %s: %s\n", in->path, strerror(errno));
            unreadable = true;
            continue;
        }
        run->file = is_stdin ? "standard input" : in->path;
        run->bad_shown = 0;
        in->rc = event_read_stream(f, run->file, &cat, &sink, &in->stats, in->message,
                                   sizeof in->message);
        if (!is_stdin)
            fclose(f);
        if (run->bad_shown > BAD_SHOWN)
            fprintf(stderr, "kmsload fleet: %s: %llu more skipped records not shown\n", run->file,
                    (unsigned long long)(run->bad_shown - BAD_SHOWN));
        if (in->rc != 0)
            fprintf(stderr, "kmsload fleet: %s\n", in->message);
        if (!quiet)
            printf("read %s: %s, %llu events 12290 (%llu other IDs, %llu bad records skipped)\n",
                   run->file, event_format_name(in->stats.format),
                   (unsigned long long)in->stats.events, (unsigned long long)in->stats.other_ids,
                   (unsigned long long)in->stats.bad);
    }
    if (unreadable)
        goto done;
    if (run->fleet.requests == 0) {
        fprintf(stderr, "kmsload fleet: no event 12290 could be used: nothing to import\n");
        goto done;
    }
    if (run->fleet.out_of_order > 0)
        fprintf(stderr,
                "kmsload fleet: %llu events were logged before ones already read and were "
                "skipped: export oldest first (Get-WinEvent -Oldest)\n",
                (unsigned long long)run->fleet.out_of_order);
    if (estate_finish(&run->fleet, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        goto done;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kmsload fleet: cannot create %s: %s\n", out, strerror(errno));
        goto done;
    }
    struct estate_view view = {.fleet = &run->fleet,
                               .names = &names,
                               .keys = keys_text ? &keys : NULL,
                               .inputs = inputs,
                               .n_inputs = n_inputs};
    json_t *doc = estate_json(&view);
    char path[4096];
    snprintf(path, sizeof path, "%s/fleet.json", out);
    if (!doc || estate_json_write(path, doc, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", doc ? err : "out of memory");
        json_decref(doc);
        goto done;
    }
    if (!quiet)
        print_summary(&run->fleet, json_object_get(doc, "findings"), out);
    if (fleet_report_write(&run->fleet, doc, out, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        json_decref(doc);
        goto done;
    }
    if (!quiet)
        printf("wrote %s/index.html\n", out);
    json_decref(doc);
    /* The replay: the fleet as a scenario, checked by the scenario parser `kmsload run` uses. */
    char *ini = NULL;
    const char *origin = n_inputs == 1 ? inputs[0].path : "several logs";
    snprintf(path, sizeof path, "%s/fleet.ini", out);
    if (estate_scenario_text(&run->fleet, origin, NULL, &ini, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: no replay scenario: %s\n", err);
    } else if (atomic_file_write(path, ini, strlen(ini), 0644, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        free(ini);
        goto done;
    } else {
        struct scenario *sc = calloc(1, sizeof *sc);
        if (sc && scenario_load(sc, path, NULL, 0, err, sizeof err) != 0) {
            fprintf(stderr, "kmsload fleet: %s does not load: %s\n", path, err);
            free(sc);
            free(ini);
            goto done;
        }
        free(sc);
        if (!quiet)
            printf("wrote %s (kmsload run %s [--target NEWHOST])\n", path, path);
    }
    free(ini);
    if (fc.new_keys) {
        fc.old_keys = keys_text;
        fc.quiet = quiet;
        if (fleet_forecast(&run->fleet, origin, out, &fc) != 0)
            goto done;
    }
    rc = FLEET_EXIT_OK;
done:
    estate_free(&run->fleet);
done_early:
    free(run);
    free(inputs);
    catalog_free(&cat);
    return rc;
}
