/*
 * kmsload fleet's import: logs written by the generator (kms_log_gen.h) from a known fleet in
 * each format are imported, and the fleet, the counts and every finding must come back exactly.
 */
#include "estate_import.h"
#include "estate_json.h"
#include "event_reader.h"
#include "kms_log_gen.h"

#include <criterion/criterion.h>

#define SKU_WIN10_ENT "73111121-5638-40f6-bc11-f1d7b0d64300"
#define SKU_WIN10_PRO "2de67392-b7a7-462a-b1ca-108dd189f588"
#define SKU_WS2019_DC "34e1ae55-27f8-4950-8877-7a03be5fb181"
#define SKU_WS2022_STD "9bd77860-9b31-4b7b-96ad-2564017315bf"
#define SKU_OFFICE2016 "d450596f-894d-49e0-966a-fd39ed4c4c64"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

/*
 * The known fleet, 60 days:
 *  - 30 Windows 10/11 Enterprise desktops (N 25) joining every 30 minutes from day 0 09:00;
 *  - 5 more desktops that leave at day 20 (their CMIDs expire from the count at day ~50);
 *  - 6 Windows Server 2019 Datacenter VMs (N 5), day 1;
 *  - 3 Windows 10/11 Pro desktops cloned from one image: one CMID, three names, day 2;
 *  - 3 Office 2016 installations (N 5): the Office count never reaches 5 (below threshold),
 *    their 30-day grace runs out at day 30 (near-expiry, lapsed);
 *  - 4 Windows Server 2022 machines activated elsewhere (licensed, 30 days left), day 50,
 *    which this host refuses (0xC004F042): errors, and they lapse within 30 days.
 */
static void known_fleet(struct gen *g)
{
    char cmid[37], name[64];
    uint64_t n = 1;
    for (int i = 0; i < 30; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "desk%02d.corp.example", i);
        gen_add(g, name, cmid, SKU_WIN10_ENT, 0, 25, 0, 0, T0 + 9 * GEN_HOUR + i * 30 * GEN_MIN, 0,
                2, 30 * 24 * 60);
    }
    for (int i = 0; i < 5; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "leaver%d.corp.example", i);
        gen_add(g, name, cmid, SKU_WIN10_ENT, 0, 25, 0, 0, T0 + 9 * GEN_HOUR + i * 7 * GEN_MIN,
                T0 + 20 * GEN_DAY, 2, 30 * 24 * 60);
    }
    for (int i = 0; i < 6; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "srv%d.corp.example", i);
        gen_add(g, name, cmid, SKU_WS2019_DC, 0, 5, 1, 0, T0 + GEN_DAY + i * GEN_HOUR, 0, 2,
                30 * 24 * 60);
    }
    gen_cmid(n++, cmid);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "clone%d.corp.example", i);
        gen_add(g, name, cmid, SKU_WIN10_PRO, 0, 25, 0, 0, T0 + 2 * GEN_DAY + i * 10 * GEN_MIN, 0,
                2, 30 * 24 * 60);
    }
    for (int i = 0; i < 3; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "office%d.corp.example", i);
        gen_add(g, name, cmid, SKU_OFFICE2016, 2, 5, 0, 0, T0 + 10 * GEN_HOUR + i * GEN_HOUR, 0, 2,
                30 * 24 * 60);
    }
    for (int i = 0; i < 4; i++) {
        gen_cmid(n++, cmid);
        snprintf(name, sizeof name, "new%d.corp.example", i);
        gen_add(g, name, cmid, SKU_WS2022_STD, 0, 5, 1, 0xC004F042u,
                T0 + 50 * GEN_DAY + i * GEN_HOUR, 0, 1, 30 * 24 * 60);
    }
    g->end = T0 + 60 * GEN_DAY;
}

struct imported {
    struct catalog cat;
    struct estate est;
    struct event_read_stats stats;
    uint64_t bad;
    char last_bad[512];
};

static int on_event(const struct kms_event *ev, void *arg, char *err, size_t err_len)
{
    struct imported *im = arg;
    return estate_add(&im->est, ev, err, err_len) < 0 ? -1 : 0;
}

static void on_bad(const char *file, const char *where, const char *why, void *arg)
{
    struct imported *im = arg;
    im->bad++;
    snprintf(im->last_bad, sizeof im->last_bad, "%s: %s: %s", file, where, why);
}

static struct gen *generate(enum gen_format format, char **text, size_t *len)
{
    struct gen *g = calloc(1, sizeof *g);
    cr_assert(g);
    known_fleet(g);
    FILE *f = open_memstream(text, len);
    g->out[format] = f;
    gen_run(g);
    fclose(f);
    return g;
}

/* Imports text; returns the reader's result. */
static int import_text(struct imported *im, const char *text, size_t len)
{
    char err[512];
    cr_assert_eq(catalog_load(&im->cat, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(estate_init(&im->est, &im->cat, err, sizeof err), 0);
    FILE *f = fmemopen((void *)text, len, "rb");
    struct event_sink sink = {.event = on_event, .bad = on_bad, .arg = im};
    int rc = event_read_stream(f, "log", &im->cat, &sink, &im->stats, err, sizeof err);
    fclose(f);
    cr_assert_eq(estate_finish(&im->est, err, sizeof err), 0);
    return rc;
}

static void release(struct imported *im)
{
    estate_free(&im->est);
    catalog_free(&im->cat);
}

static json_t *finding(json_t *findings, const char *kind)
{
    size_t i;
    json_t *o;
    json_array_foreach(findings, i, o) if (strcmp(json_string_value(json_object_get(o, "kind")),
                                                  kind) == 0) return o;
    return NULL;
}

static long long geti(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "no integer %s", key);
    return json_integer_value(v);
}

static void check_known_fleet(enum gen_format format)
{
    char *text = NULL;
    size_t len = 0;
    struct gen *g = generate(format, &text, &len);
    struct imported im;
    memset(&im, 0, sizeof im);
    cr_assert_eq(import_text(&im, text, len), 0);
    cr_assert_eq(im.bad, 0, "%s", im.last_bad);
    struct estate *e = &im.est;
    static const enum event_format formats[GEN_FORMATS] = {
        EVENT_FORMAT_XML, EVENT_FORMAT_CSV, EVENT_FORMAT_JSON, EVENT_FORMAT_HOST_LOG};
    cr_assert_eq(im.stats.format, formats[format]);
    cr_assert_eq(im.stats.events, g->tally.requests);
    cr_assert_eq(e->requests, g->tally.requests);
    cr_assert_eq(e->out_of_order, 0);
    /* 30 + 5 desktops, 6 servers, 1 cloned CMID, 3 Office, 4 refused servers */
    cr_assert_eq(e->distinct_cmids, 49);
    cr_assert_eq(e->n_machines, 49);
    const char *apps[GEN_APPS] = {"windows", "office2010", "office2013"};
    for (int a = 0; a < GEN_APPS; a++) {
        const struct catalog_app *ca = catalog_find_app(&im.cat, apps[a]);
        cr_assert(ca);
        const struct estate_app *ea = &e->apps[ca - im.cat.apps];
        for (int k = 0; k < 3; k++)
            cr_assert_eq(ea->outcomes[k], g->tally.outcomes[a][k], "%s outcome %d: %llu vs %llu",
                         apps[a], k, (unsigned long long)ea->outcomes[k],
                         (unsigned long long)g->tally.outcomes[a][k]);
        cr_assert_eq(ea->max_count, g->tally.max_count[a], "%s max count", apps[a]);
        if (ea->n_days_filled)
            cr_assert_eq(ea->days[ea->n_days_filled - 1].count_end, g->tally.final_count[a],
                         "%s final count", apps[a]);
        if (format == GEN_HOST_LOG && ea->requests) {
            cr_assert_gt(ea->logged_counts, 0);
            cr_assert_eq(ea->logged_count_mismatches, 0, "%s: the host's counts", apps[a]);
        }
    }
    /* Hand-derived: 30 + 5 + 6 + 1 CMIDs answered for Windows; the 5 leavers' expire by day 50 */
    const struct estate_app *win = &e->apps[catalog_find_app(&im.cat, "windows") - im.cat.apps];
    cr_assert_eq(win->max_count, 42);
    cr_assert_eq(win->days[win->n_days_filled - 1].count_end, 37);
    cr_assert_eq(win->machines, 30 + 5 + 6 + 1 + 4);
    cr_assert_neq(win->reached_at[1], 0);

    struct name_hash names;
    char err[256];
    cr_assert_eq(name_hash_init(&names, false, "a fixed test key", err, sizeof err), 0);
    struct host_keys keys;
    cr_assert_eq(host_keys_parse(&im.cat, "ws2019", &keys, err, sizeof err), 0, "%s", err);
    struct estate_view view = {.fleet = e, .names = &names, .keys = &keys};
    json_t *findings = estate_findings_json(&view);
    cr_assert_eq(json_array_size(findings), 5, "%s", json_dumps(findings, 0));

    json_t *dup = finding(findings, "duplicate-cmid");
    cr_assert(dup);
    cr_assert_eq(geti(dup, "cmids"), 1);
    cr_assert_eq(geti(dup, "names"), 3);

    json_t *below = finding(findings, "below-threshold");
    cr_assert(below);
    json_t *items = json_object_get(below, "applications");
    cr_assert_eq(json_array_size(items), 1);
    json_t *office = json_array_get(items, 0);
    cr_assert_str_eq(json_string_value(json_object_get(office, "application")), "office2013");
    cr_assert_eq(geti(office, "needs"), 5);
    cr_assert_eq(geti(office, "max_count"), 3);
    cr_assert_eq(geti(office, "machines_needing"), 3);
    cr_assert(json_is_null(json_object_get(office, "would_reach_at"))); /* nobody new joins */

    json_t *near = finding(findings, "near-expiry");
    cr_assert(near);
    cr_assert_eq(geti(near, "machines"), 7); /* 3 Office (lapsed) + 4 refused servers */
    cr_assert_eq(geti(near, "lapsed"), 3);

    json_t *errs = finding(findings, "error");
    cr_assert(errs);
    items = json_object_get(errs, "by_product");
    cr_assert_eq(json_array_size(items), 1);
    json_t *e0 = json_array_get(items, 0);
    cr_assert_str_eq(json_string_value(json_object_get(e0, "hresult")), "0xC004F042");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(e0, "product"), "key")),
                     "ws2022-std");
    cr_assert_eq(geti(e0, "machines"), 4);
    cr_assert_eq((uint64_t)geti(e0, "requests"), g->tally.outcomes[0][2]);

    json_t *nc = finding(findings, "not-covered");
    cr_assert(nc);
    items = json_object_get(nc, "products");
    cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(items, 0));
    cr_assert_eq(geti(nc, "machines"), 3 + 4);
    json_decref(findings);
    release(&im);
    gen_free(g);
    free(g);
    free(text);
}

Test(fleet_import, wevtutil_xml_recovers_the_fleet)
{
    check_known_fleet(GEN_XML);
}

Test(fleet_import, export_csv_recovers_the_fleet)
{
    check_known_fleet(GEN_PS_CSV);
}

Test(fleet_import, convertto_json_recovers_the_fleet)
{
    check_known_fleet(GEN_PS_JSON);
}

Test(fleet_import, host_log_recovers_the_fleet_and_its_counts)
{
    check_known_fleet(GEN_HOST_LOG);
}

Test(fleet_import, names_are_hashed_unless_kept)
{
    char *text = NULL;
    size_t len = 0;
    struct gen *g = generate(GEN_XML, &text, &len);
    struct imported im;
    memset(&im, 0, sizeof im);
    cr_assert_eq(import_text(&im, text, len), 0);
    struct name_hash names;
    char err[256];
    cr_assert_eq(name_hash_init(&names, false, NULL, err, sizeof err), 0);
    struct estate_view view = {.fleet = &im.est, .names = &names};
    json_t *doc = estate_json(&view);
    char *out = json_dumps(doc, 0);
    cr_assert_null(strstr(out, "corp.example"), "a name leaked");
    cr_assert_null(strstr(out, g->m[0].cmid), "a CMID leaked");
    cr_assert_not_null(strstr(out, "host-"));
    free(out);
    json_decref(doc);
    names.keep = true;
    doc = estate_json(&view);
    out = json_dumps(doc, 0);
    cr_assert_not_null(strstr(out, "clone0.corp.example"));
    free(out);
    json_decref(doc);
    release(&im);
    gen_free(g);
    free(g);
    free(text);
}
