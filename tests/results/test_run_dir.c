/* records: events.csv, summary.json and junit.xml written to a temporary directory, read back. */
#include "events_csv.h"
#include "hresult.h"
#include "run_dir.h"
#include "support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_COLUMNS 26

static const char *const COLUMNS[CSV_COLUMNS] = {
    "seq",          "wall_s",  "sim_s",       "client_time", "machine",  "cmid",       "population",
    "application",  "product", "protocol",    "ndr",         "n_policy", "outcome",    "hresult",
    "hresult_name", "count",   "expected_lo", "expected_hi", "model",    "latency_us", "epid",
    "hwid",         "host",    "failover",    "detail",      "run",
};

/* ---- helpers ---- */

static struct support_scratch rdr;

static void rdr_init(void)
{
    support_scratch_init(&rdr, "records");
}

static void rdr_fini(void)
{
    support_scratch_fini(&rdr);
}

TestSuite(run_dir, .init = rdr_init, .fini = rdr_fini);

/* The test's own empty directory (the scratch, fresh for each test). */
static void make_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "%s", rdr.dir);
}

static char *slurp(const char *path, size_t *len)
{
    char *text = support_slurp(path, len);
    cr_assert_not_null(text, "cannot open %s", path);
    return text;
}

static bool exists(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

struct csv {
    char *cells[64][CSV_COLUMNS];
    size_t n_fields[64];
    size_t rows;
};

/* events.csv through the run directory's reader: row 0 the header (the file's first line), then
 * each row's cells as written. */
static void csv_load(const char *path, const char *text, struct csv *c)
{
    memset(c, 0, sizeof *c);
    const char *nl = strchr(text, '\n');
    cr_assert_not_null(nl);
    for (const char *p = text; p <= nl && c->n_fields[0] < CSV_COLUMNS;) {
        size_t n = strcspn(p, ",\n");
        c->cells[0][c->n_fields[0]++] = strndup(p, n);
        p += n + 1;
    }
    c->rows = 1;
    char err[512];
    struct events_csv_reader *r = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    struct events_row *row = malloc(sizeof *row);
    int got;
    while ((got = events_csv_next(r, row, err, sizeof err)) > 0) {
        cr_assert_lt(c->rows, 64);
        c->n_fields[c->rows] = events_csv_field_count(r);
        for (size_t i = 0; i < CSV_COLUMNS; i++)
            c->cells[c->rows][i] = strdup(events_csv_text(r, COLUMNS[i]));
        c->rows++;
    }
    cr_assert_eq(got, 0, "%s", err);
    cr_assert_not(events_csv_cut_short(r), "the last row does not end with a line break");
    free(row);
    events_csv_close(r);
}

static void csv_free(struct csv *c)
{
    for (size_t r = 0; r < c->rows; r++)
        for (size_t i = 0; i < CSV_COLUMNS; i++)
            free(c->cells[r][i]);
}

static const char *cell(const struct csv *c, size_t row, const char *column)
{
    for (size_t i = 0; i < CSV_COLUMNS; i++) {
        if (strcmp(COLUMNS[i], column) == 0)
            return c->cells[row][i];
    }
    cr_assert_fail("no column %s", column);
    return NULL;
}

/* Tags balance, attributes are quoted, entities are known: a small well-formedness check. */
static void xml_check_balanced(const char *xml)
{
    const char *stack[32];
    size_t lens[32], depth = 0, roots = 0;
    const char *p = xml;
    cr_assert(strncmp(p, "<?xml ", 6) == 0);
    p = strstr(p, "?>");
    cr_assert_not_null(p);
    p += 2;
    while (*p) {
        if (*p == '&') {
            cr_assert(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
                          strncmp(p, "&gt;", 4) == 0 || strncmp(p, "&quot;", 6) == 0 ||
                          strncmp(p, "&apos;", 6) == 0 || strncmp(p, "&#", 2) == 0,
                      "bare & at %.20s", p);
            p++;
            continue;
        }
        cr_assert_neq(*p, '>', "bare > in text");
        if (*p != '<') {
            p++;
            continue;
        }
        p++;
        bool closing = *p == '/';
        if (closing)
            p++;
        const char *name = p;
        while (*p && *p != ' ' && *p != '>' && *p != '/')
            p++;
        size_t len = (size_t)(p - name);
        cr_assert_gt(len, 0);
        bool self_closing = false;
        while (*p && *p != '>') {
            if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    cr_assert_neq(*p, '<', "< inside an attribute");
                    p++;
                }
                cr_assert_eq(*p, '"');
            } else if (*p == '/') {
                self_closing = true;
            }
            p++;
        }
        cr_assert_eq(*p, '>');
        p++;
        if (closing) {
            cr_assert_gt(depth, 0, "closing tag without an opening one");
            depth--;
            cr_assert(lens[depth] == len && strncmp(stack[depth], name, len) == 0,
                      "</%.*s> closes <%.*s>", (int)len, name, (int)lens[depth], stack[depth]);
        } else if (!self_closing) {
            if (depth == 0)
                roots++;
            cr_assert_lt(depth, 32);
            stack[depth] = name;
            lens[depth++] = len;
        }
    }
    cr_assert_eq(depth, 0, "unclosed tags");
    cr_assert_eq(roots, 1, "one root element");
}

static void xmllint_if_available(const char *path)
{
    if (system("command -v xmllint >/dev/null 2>&1") != 0)
        return; /* not installed: the balance check above stands alone */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    cr_assert_eq(system(cmd), 0, "xmllint rejects %s", path);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- fixtures ---- */

static struct run_event base_event(uint64_t seq)
{
    struct run_event ev;
    memset(&ev, 0, sizeof ev);
    ev.seq = seq;
    ev.wall_s = 0.5 * (double)seq;
    ev.sim_us = (int64_t)seq * 3600000000LL;
    ev.client_time = filetime_from_unix(1700000000 + (int64_t)seq * 3600, 0);
    ev.machine = 10 + (uint32_t)seq;
    for (size_t i = 0; i < 16; i++)
        ev.cmid.b[i] = (uint8_t)(seq * 16 + i);
    ev.app = 0;
    ev.app_key = "windows";
    ev.product_key = "win10-pro";
    ev.population = "clients";
    ev.population_index = 0;
    ev.protocol = 6;
    ev.ndr = RPC_NDR64;
    ev.n_policy = 25;
    ev.latency_us = 1000 * seq;
    return ev;
}

/* Four rows: an activation, a host error with an awkward detail, a timeout, a disagreement. */
static size_t sample_events(struct run_event *ev)
{
    ev[0] = base_event(1);
    ev[0].outcome = KMS_OUTCOME_ACTIVATED;
    ev[0].count = 25;
    ev[0].model_checked = true;
    ev[0].expected_lo = ev[0].expected_hi = 25;
    ev[0].model_agrees = true;
    snprintf(ev[0].epid, sizeof ev[0].epid, "06401-00206-551-123456-03-1033-17763.0000-0012024");
    for (size_t i = 0; i < 8; i++)
        ev[0].hwid[i] = (uint8_t)(0xA0 + i);
    ev[0].has_hwid = true;

    ev[1] = base_event(2);
    ev[1].outcome = KMS_OUTCOME_HOST_ERROR;
    ev[1].hresult = HR_KMS_ID_MISMATCH;
    ev[1].count = -1;
    ev[1].ndr = RPC_NDR32;
    snprintf(ev[1].detail, sizeof ev[1].detail, "workstation WS-01, \"lab\" desk");

    ev[2] = base_event(3);
    ev[2].outcome = KMS_OUTCOME_TIMEOUT;
    ev[2].count = -1;
    ev[2].population = "servers";
    ev[2].population_index = 1;
    snprintf(ev[2].detail, sizeof ev[2].detail, "no answer in 5 s\nafter bind");

    ev[3] = base_event(4);
    ev[3].outcome = KMS_OUTCOME_ACTIVATED;
    ev[3].count = 27;
    ev[3].model_checked = true;
    ev[3].expected_lo = 25;
    ev[3].expected_hi = 26;
    ev[3].model_agrees = false;
    snprintf(ev[3].model_reason, sizeof ev[3].model_reason, "count 27 above the 26 distinct CMIDs");
    /* A hostile host's ePID: a spreadsheet formula. */
    snprintf(ev[3].epid, sizeof ev[3].epid, "=cmd|' /C calc'!A0");
    return 4;
}

struct run_fixture {
    struct scenario sc;
    struct run_tally t;
    struct expect_result results[SCENARIO_MAX_EXPECTATIONS];
    size_t n_results;
    struct run_info info;
    struct run_event ev[8];
    size_t n_ev;
};

static struct run_fixture *run_fixture_new(void)
{
    struct run_fixture *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    struct scenario *sc = &f->sc;
    snprintf(sc->name, sizeof sc->name, "threshold <&> \"x\"");
    snprintf(sc->path, sizeof sc->path, "scenarios/threshold.ini");
    snprintf(sc->description, sizeof sc->description, "Windows threshold; \"quoted\" & <tagged>");
    snprintf(sc->pops[0].name, sizeof sc->pops[0].name, "clients");
    snprintf(sc->pops[1].name, sizeof sc->pops[1].name, "servers");
    sc->n_pops = 2;
    sc->n_expects = 2;
    sc->expects[0].kind = EXPECT_MIN_REQUESTS;
    snprintf(sc->expects[0].text, sizeof sc->expects[0].text, "requests = 4");
    sc->expects[0].value = 4;
    sc->expects[0].line = 30;
    sc->expects[1].kind = EXPECT_MODEL_MISMATCHES;
    snprintf(sc->expects[1].text, sizeof sc->expects[1].text, "model_mismatches = 0");
    sc->expects[1].line = 31;

    f->n_ev = sample_events(f->ev);
    run_tally_init(&f->t, 2);
    for (size_t i = 0; i < f->n_ev; i++)
        run_tally_add(&f->t, &f->ev[i]);
    f->t.pops[0].machines = 3;
    f->t.pops[0].activated_machines = 2;
    f->t.pops[1].machines = 1;
    f->n_results = sc->n_expects;
    cr_assert_eq(expect_evaluate(sc, &f->t, f->results), 1);

    f->info.scenario = sc;
    f->info.target = "embedded reference host 127.0.0.1:40000";
    f->info.embedded_host = true;
    f->info.seed = 12345;
    f->info.shard_index = 0;
    f->info.shard_count = 1;
    f->info.started_at = "2024-05-01T12:00:00Z";
    f->info.wall_seconds = 2.0;
    f->info.sim_us = 4 * 3600000000LL;
    f->info.kmsload_version = "0.1.0";
    return f;
}

static void write_run(struct run_fixture *f, const char *dir)
{
    struct run_dir r;
    char err[256] = "";
    cr_assert_eq(run_dir_open(&r, dir, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < f->n_ev; i++)
        cr_assert_eq(run_dir_event(&r, &f->ev[i]), 0);
    cr_assert_eq(r.rows, f->n_ev);
    cr_assert_eq(run_dir_finish(&r, &f->info, &f->t, f->results, f->n_results, err, sizeof err), 0,
                 "%s", err);
    cr_assert_null(r.events);
}

/* ---- tests ---- */

Test(run_dir, events_csv_reads_back)
{
    char tmp[256], dir[512], path[600];
    make_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/out/nested/run", tmp); /* mkdir -p */
    struct run_fixture *f = run_fixture_new();
    write_run(f, dir);

    snprintf(path, sizeof path, "%s/events.csv", dir);
    char *text = slurp(path, NULL);
    const char *header =
        "seq,wall_s,sim_s,client_time,machine,cmid,population,application,"
        "product,protocol,ndr,n_policy,outcome,hresult,hresult_name,count,"
        "expected_lo,expected_hi,model,latency_us,epid,hwid,host,failover,detail,run\n";
    cr_assert(strncmp(text, header, strlen(header)) == 0, "header: %.300s", text);
    cr_assert(strstr(text, ",\"workstation WS-01, \"\"lab\"\" desk\","),
              "RFC 4180 quoting of the detail");
    struct csv *c = malloc(sizeof *c);
    csv_load(path, text, c);
    cr_assert_eq(c->rows, 1 + f->n_ev);
    for (size_t r = 0; r < c->rows; r++)
        cr_assert_eq(c->n_fields[r], CSV_COLUMNS, "row %zu has %zu fields", r, c->n_fields[r]);
    for (size_t i = 0; i < CSV_COLUMNS; i++)
        cr_assert_str_eq(c->cells[0][i], COLUMNS[i]);

    /* row 1: the activation */
    cr_assert_str_eq(cell(c, 1, "seq"), "1");
    cr_assert_str_eq(cell(c, 1, "wall_s"), "0.500000");
    cr_assert_str_eq(cell(c, 1, "sim_s"), "3600.000000");
    cr_assert_str_eq(cell(c, 1, "client_time"), "2023-11-14 23:13:20");
    cr_assert_str_eq(cell(c, 1, "machine"), "11");
    char cmid[GUID_TEXT_LEN + 1];
    guid_format(&f->ev[0].cmid, cmid);
    cr_assert_str_eq(cell(c, 1, "cmid"), cmid);
    cr_assert_str_eq(cell(c, 1, "population"), "clients");
    cr_assert_str_eq(cell(c, 1, "application"), "windows");
    cr_assert_str_eq(cell(c, 1, "product"), "win10-pro");
    cr_assert_str_eq(cell(c, 1, "protocol"), "6");
    cr_assert_str_eq(cell(c, 1, "ndr"), "ndr64");
    cr_assert_str_eq(cell(c, 1, "n_policy"), "25");
    cr_assert_str_eq(cell(c, 1, "outcome"), "activated");
    cr_assert_str_eq(cell(c, 1, "hresult"), "0x00000000");
    cr_assert_str_eq(cell(c, 1, "count"), "25");
    cr_assert_str_eq(cell(c, 1, "expected_lo"), "25");
    cr_assert_str_eq(cell(c, 1, "expected_hi"), "25");
    cr_assert_str_eq(cell(c, 1, "model"), "agree");
    cr_assert_str_eq(cell(c, 1, "latency_us"), "1000");
    cr_assert_str_eq(cell(c, 1, "epid"), f->ev[0].epid);
    cr_assert_str_eq(cell(c, 1, "hwid"), "A0A1A2A3A4A5A6A7");
    cr_assert_str_eq(cell(c, 1, "detail"), "");

    /* row 2: the host error with the workstation-like detail */
    cr_assert_str_eq(cell(c, 2, "outcome"), "host-error");
    cr_assert_str_eq(cell(c, 2, "ndr"), "ndr32");
    cr_assert_str_eq(cell(c, 2, "hresult"), "0xC004F042");
    cr_assert_str_eq(cell(c, 2, "hresult_name"), hresult_name(HR_KMS_ID_MISMATCH));
    cr_assert_str_eq(cell(c, 2, "count"), "");
    cr_assert_str_eq(cell(c, 2, "expected_lo"), "");
    cr_assert_str_eq(cell(c, 2, "expected_hi"), "");
    cr_assert_str_eq(cell(c, 2, "model"), "-");
    cr_assert_str_eq(cell(c, 2, "epid"), "");
    cr_assert_str_eq(cell(c, 2, "hwid"), "");
    cr_assert_str_eq(cell(c, 2, "detail"), "workstation WS-01, \"lab\" desk");

    /* row 3: a timeout (no status), a detail with a line break */
    cr_assert_str_eq(cell(c, 3, "outcome"), "timeout");
    cr_assert_str_eq(cell(c, 3, "hresult"), "");
    cr_assert_str_eq(cell(c, 3, "hresult_name"), "");
    cr_assert_str_eq(cell(c, 3, "population"), "servers");
    /* Control characters are escaped: every record stays on one line. */
    cr_assert_str_eq(cell(c, 3, "detail"), "no answer in 5 s\\nafter bind");

    /* row 4: the model disagrees */
    cr_assert_str_eq(cell(c, 4, "model"), "DISAGREE");
    cr_assert_str_eq(cell(c, 4, "count"), "27");
    cr_assert_str_eq(cell(c, 4, "expected_lo"), "25");
    cr_assert_str_eq(cell(c, 4, "expected_hi"), "26");
    cr_assert_str_eq(cell(c, 4, "epid"), "'=cmd|' /C calc'!A0", "formula neutralised");

    csv_free(c);
    free(c);
    free(text);
    free(f);
}

Test(run_dir, summary_json_reads_back)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    write_run(f, tmp);

    snprintf(path, sizeof path, "%s/summary.json", tmp);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "summary.json: line %d: %s", jerr.line, jerr.text);
    cr_assert_str_eq(json_string_value(json_object_get(root, "kmsload")), "0.1.0");
    json_t *sc = json_object_get(root, "scenario");
    cr_assert_str_eq(json_string_value(json_object_get(sc, "name")), f->sc.name);
    cr_assert_str_eq(json_string_value(json_object_get(sc, "path")), "scenarios/threshold.ini");
    cr_assert_str_eq(json_string_value(json_object_get(sc, "description")), f->sc.description);
    cr_assert_str_eq(json_string_value(json_object_get(root, "target")), f->info.target);
    cr_assert(json_is_true(json_object_get(root, "embedded_host")));
    cr_assert_eq(json_integer_value(json_object_get(root, "seed")), 12345);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "shard"), "count")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(root, "started_at")),
                     "2024-05-01T12:00:00Z");
    cr_assert(json_is_false(json_object_get(root, "interrupted")));
    cr_assert(json_is_null(json_object_get(root, "interrupt_reason")));
    cr_assert_float_eq(json_real_value(json_object_get(root, "wall_seconds")), 2.0, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(root, "simulated_seconds")), 14400.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(root, "requests")), 4);
    cr_assert_float_eq(json_real_value(json_object_get(root, "throughput")), 2.0, 1e-9);

    json_t *outcomes = json_object_get(root, "outcomes");
    cr_assert_eq(json_integer_value(json_object_get(outcomes, "activated")), 2);
    cr_assert_eq(json_integer_value(json_object_get(outcomes, "host-error")), 1);
    cr_assert_eq(json_integer_value(json_object_get(outcomes, "timeout")), 1);
    cr_assert_eq(json_integer_value(json_object_get(outcomes, "refused")), 0);

    json_t *hr = json_object_get(root, "hresults");
    cr_assert_eq(json_array_size(hr), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(hr, 0), "code")),
                     "0xC004F042");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(hr, 0), "name")),
                     hresult_name(HR_KMS_ID_MISMATCH));
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(hr, 0), "n")), 1);

    json_t *lat = json_object_get(root, "latency_us");
    cr_assert_eq(json_integer_value(json_object_get(lat, "count")), 4);
    cr_assert_eq(json_integer_value(json_object_get(lat, "min")), 1000);
    cr_assert_eq(json_integer_value(json_object_get(lat, "max")), 4000);
    const char *lat_keys[] = {"count", "min", "mean", "p50", "p90", "p99", "p999", "max"};
    for (size_t i = 0; i < 8; i++)
        cr_assert_not_null(json_object_get(lat, lat_keys[i]), "latency_us.%s", lat_keys[i]);

    json_t *win = json_object_get(json_object_get(root, "applications"), "windows");
    cr_assert_not_null(win);
    cr_assert_eq(json_integer_value(json_object_get(win, "requests")), 4);
    cr_assert_eq(json_integer_value(json_object_get(win, "max_count")), 27);
    cr_assert_eq(json_integer_value(json_object_get(win, "final_count")), 27);
    json_t *tl = json_object_get(win, "timeline");
    cr_assert_eq(json_array_size(tl), 2);
    json_t *p1 = json_array_get(tl, 1);
    cr_assert_float_eq(json_real_value(json_object_get(p1, "sim_s")), 14400.0, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(p1, "wall_s")), 2.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(p1, "count")), 27);
    cr_assert_eq(json_integer_value(json_object_get(p1, "expected_lo")), 25);
    cr_assert_eq(json_integer_value(json_object_get(p1, "expected_hi")), 26);
    cr_assert_eq(json_integer_value(json_object_get(win, "timeline_points_skipped")), 0);

    json_t *pops = json_object_get(root, "populations");
    json_t *clients = json_object_get(pops, "clients");
    cr_assert_eq(json_integer_value(json_object_get(clients, "machines")), 3);
    cr_assert_eq(json_integer_value(json_object_get(clients, "requests")), 3);
    cr_assert_eq(json_integer_value(json_object_get(clients, "activated_machines")), 2);
    json_t *fa = json_object_get(clients, "first_activation");
    cr_assert_eq(json_integer_value(json_object_get(fa, "request")), 1);
    cr_assert_eq(json_integer_value(json_object_get(fa, "count")), 25);
    cr_assert_eq(json_integer_value(json_object_get(fa, "machine")), 11);
    cr_assert_float_eq(json_real_value(json_object_get(fa, "sim_s")), 3600.0, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(fa, "wall_s")), 0.5, 1e-9);
    json_t *servers = json_object_get(pops, "servers");
    cr_assert_not_null(servers);
    cr_assert(json_is_null(json_object_get(servers, "first_activation")));

    json_t *model = json_object_get(root, "model");
    cr_assert_eq(json_integer_value(json_object_get(model, "checked")), 2);
    cr_assert_eq(json_integer_value(json_object_get(model, "mismatches")), 1);
    json_t *fm = json_object_get(model, "first_mismatch");
    cr_assert_eq(json_integer_value(json_object_get(fm, "request")), 4);
    cr_assert_eq(json_integer_value(json_object_get(fm, "machine")), 14);
    cr_assert_eq(json_integer_value(json_object_get(fm, "count")), 27);
    cr_assert_str_eq(json_string_value(json_object_get(fm, "population")), "clients");
    cr_assert_str_eq(json_string_value(json_object_get(fm, "application")), "windows");
    cr_assert_str_eq(json_string_value(json_object_get(fm, "reason")),
                     "count 27 above the 26 distinct CMIDs");
    char cmid[GUID_TEXT_LEN + 1];
    guid_format(&f->ev[3].cmid, cmid);
    cr_assert_str_eq(json_string_value(json_object_get(fm, "cmid")), cmid);

    json_t *ex = json_object_get(root, "expectations");
    cr_assert_eq(json_array_size(ex), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ex, 0), "expectation")),
                     "requests = 4");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(ex, 0), "line")), 30);
    cr_assert(json_is_true(json_object_get(json_array_get(ex, 0), "passed")));
    cr_assert(json_is_false(json_object_get(json_array_get(ex, 1), "passed")));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ex, 1), "observed")),
                     f->results[1].observed);
    cr_assert(json_is_false(json_object_get(root, "passed")));

    /* The keys come in the documented order. */
    const char *order[] = {"kmsload", "scenario", "target",     "embedded_host", "clock",
                           "seed",    "shard",    "started_at", "run_id",        "interrupted"};
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        (void)value;
        if (i < 10)
            cr_assert_str_eq(key, order[i]);
        i++;
    }
    json_decref(root);
    free(f);
}

Test(run_dir, junit_xml_lists_expectations)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    snprintf(f->results[1].observed, sizeof f->results[1].observed,
             "1 of 2 checked responses <disagree> & \"differ\"");
    write_run(f, tmp);

    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    xml_check_balanced(xml);
    xmllint_if_available(path);
    cr_assert(strstr(xml, "<testsuite name=\"kmsload: threshold &lt;&amp;&gt; &quot;x&quot;\" "
                          "tests=\"2\" failures=\"1\""),
              "%s", xml);
    cr_assert_eq(count_of(xml, "<testcase "), 2);
    cr_assert_eq(count_of(xml, "<failure "), 1);
    cr_assert(strstr(xml, "<testcase classname=\"kmsload.threshold &lt;&amp;&gt; &quot;x&quot;\" "
                          "name=\"model_mismatches \u2264 0\" time=\"0\">"));
    cr_assert(strstr(xml, "<failure message=\"1 of 2 checked responses &lt;disagree&gt; &amp; "
                          "&quot;differ&quot;\"/>"),
              "%s", xml);
    cr_assert(strstr(xml, "name=\"requests \u2265 4\""));
    cr_assert_null(strstr(xml, "run completed"));
    free(xml);
    cr_assert_not(exists(tmp, "summary.json.tmp"));
    cr_assert_not(exists(tmp, "junit.xml.tmp"));
    cr_assert(exists(tmp, "summary.json"));
    cr_assert(exists(tmp, "events.csv"));
    free(f);
}

Test(run_dir, rows_reach_the_file_when_flushed)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    struct run_dir r;
    char err[256];
    cr_assert_eq(run_dir_open(&r, tmp, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/events.csv", tmp);
    char *text = slurp(path, NULL);
    cr_assert_eq(count_of(text, "\n"), 1, "the header is there from the start");
    free(text);
    run_dir_event(&r, &f->ev[0]);
    run_dir_event(&r, &f->ev[1]);
    text = slurp(path, NULL);
    cr_assert_eq(count_of(text, "\n"), 1, "buffered until flushed");
    free(text);
    run_dir_flush(&r);
    text = slurp(path, NULL);
    cr_assert_eq(count_of(text, "\n"), 3);
    free(text);
    cr_assert_eq(run_dir_finish(&r, &f->info, &f->t, f->results, f->n_results, err, sizeof err), 0,
                 "%s", err);
    free(f);
}

Test(run_dir, interrupted_run_leaves_complete_marked_files)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    f->info.interrupted = true;
    f->info.interrupt_reason = "SIGINT";
    struct run_dir r;
    char err[256];
    cr_assert_eq(run_dir_open(&r, tmp, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < f->n_ev; i++)
        run_dir_event(&r, &f->ev[i]);
    /* no flush: finish must not lose buffered rows */
    cr_assert_eq(run_dir_finish(&r, &f->info, &f->t, f->results, f->n_results, err, sizeof err), 0,
                 "%s", err);

    snprintf(path, sizeof path, "%s/events.csv", tmp);
    size_t len;
    char *text = slurp(path, &len);
    cr_assert_eq(count_of(text, "\n4,"), 1, "the last row is there");
    cr_assert_eq(text[len - 1], '\n', "the last row is complete");
    struct csv *c = malloc(sizeof *c);
    csv_load(path, text, c);
    cr_assert_eq(c->rows, 5);
    csv_free(c);
    free(c);
    free(text);

    snprintf(path, sizeof path, "%s/summary.json", tmp);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_assert(json_is_true(json_object_get(root, "interrupted")));
    cr_assert_str_eq(json_string_value(json_object_get(root, "interrupt_reason")), "SIGINT");
    cr_assert_eq(json_integer_value(json_object_get(root, "requests")), 4);
    json_decref(root);

    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    xml_check_balanced(xml);
    xmllint_if_available(path);
    cr_assert(strstr(xml, "tests=\"3\" failures=\"2\""), "%s", xml);
    cr_assert(strstr(xml, "name=\"run completed\""));
    cr_assert(strstr(xml, "<failure message=\"interrupted: SIGINT\"/>"));
    cr_assert(strstr(xml, "<system-out>The run was interrupted (SIGINT)"));
    free(xml);
    cr_assert_not(exists(tmp, "summary.json.tmp"));
    cr_assert_not(exists(tmp, "junit.xml.tmp"));
    free(f);
}

Test(run_dir, finish_replaces_previous_files)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    write_run(f, tmp);
    f->sc.n_expects = 1; /* second run: only the passing expectation */
    f->n_results = 1;
    write_run(f, tmp);
    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    cr_assert(strstr(xml, "tests=\"1\" failures=\"0\""), "%s", xml);
    free(xml);
    snprintf(path, sizeof path, "%s/summary.json", tmp);
    json_t *root = json_load_file(path, 0, NULL);
    cr_assert_not_null(root);
    cr_assert(json_is_true(json_object_get(root, "passed")));
    json_decref(root);
    snprintf(path, sizeof path, "%s/events.csv", tmp);
    char *text = slurp(path, NULL);
    struct csv *c = malloc(sizeof *c);
    csv_load(path, text, c);
    cr_assert_eq(c->rows, 1 + f->n_ev, "events.csv starts over");
    csv_free(c);
    free(c);
    free(text);
    free(f);
}

Test(run_dir, open_fails_clearly)
{
    char tmp[256], dir[600], file[600];
    make_tmpdir(tmp, sizeof tmp);
    snprintf(file, sizeof file, "%s/plainfile", tmp);
    FILE *fp = fopen(file, "w");
    cr_assert_not_null(fp);
    fclose(fp);
    snprintf(dir, sizeof dir, "%s/plainfile/run", tmp);
    struct run_dir r;
    char err[512] = "";
    cr_assert_eq(run_dir_open(&r, dir, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot create output directory"), "%s", err);
    cr_assert(strstr(err, "plainfile"), "%s", err);
    cr_assert_null(r.events);
    /* finishing what never opened writes nothing anywhere */
    cr_assert_eq(run_dir_finish(&r, &(struct run_info){0}, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "never opened"), "%s", err);

    cr_assert_eq(run_dir_open(&r, file, err, sizeof err), -1, "a file is no directory");
    cr_assert(strstr(err, "not a directory"), "%s", err);

    cr_assert_eq(run_dir_open(&r, "", err, sizeof err), -1);
    cr_assert(strstr(err, "empty"), "%s", err);
}

Test(run_dir, text_that_is_not_utf8_stays_valid)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    snprintf(f->sc.description, sizeof f->sc.description, "bad \xff\xfe bytes \x01 here");
    snprintf(f->results[1].observed, sizeof f->results[1].observed, "ctl \x02 and \xc3\x28");
    write_run(f, tmp);
    snprintf(path, sizeof path, "%s/summary.json", tmp);
    json_t *root = json_load_file(path, 0, NULL);
    cr_assert_not_null(root);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(root, "scenario"), "description")),
        "bad ?? bytes \x01 here");
    json_decref(root);
    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    xml_check_balanced(xml);
    xmllint_if_available(path);
    cr_assert(strstr(xml, "message=\"ctl ? and ?(\""), "%s", xml);
    free(xml);
    free(f);
}

/* ---- issue 10 item 7: one verdict in every file ---- */

static json_t *load_summary(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", path, jerr.text);
    return root;
}

Test(run_dir, an_interrupted_run_has_not_passed_in_any_file)
{
    char tmp[256], path[600];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    f->sc.n_expects = 1; /* only the expectation that holds */
    f->n_results = 1;
    f->info.interrupted = true;
    f->info.interrupt_reason = "SIGINT";
    write_run(f, tmp);
    json_t *root = load_summary(tmp);
    cr_assert(json_is_true(json_object_get(root, "interrupted")));
    cr_assert(json_is_false(json_object_get(root, "passed")),
              "interrupted and passed contradict each other");
    json_decref(root);
    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    cr_assert(strstr(xml, "tests=\"2\" failures=\"1\""), "%s", xml);
    free(xml);
    free(f);
}

Test(run_dir, a_summary_that_cannot_be_written_fails_junit)
{
    char tmp[256], path[600], err[1024] = "";
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    f->sc.n_expects = 1; /* every expectation holds: only the write can fail the run */
    f->n_results = 1;
    struct run_dir r;
    cr_assert_eq(run_dir_open(&r, tmp, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < f->n_ev; i++)
        cr_assert_eq(run_dir_event(&r, &f->ev[i]), 0);
    /* A directory where summary.json goes: its rename fails, as a full disk would fail it. */
    snprintf(path, sizeof path, "%s/summary.json", tmp);
    cr_assert_eq(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/summary.json/x", tmp);
    FILE *blocker = fopen(path, "w");
    cr_assert_not_null(blocker);
    fclose(blocker);
    cr_assert_eq(run_dir_finish(&r, &f->info, &f->t, f->results, f->n_results, err, sizeof err),
                 -1);
    cr_assert(strstr(err, "summary.json"), "%s", err);
    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    cr_assert(strstr(xml, "name=\"run files written\""), "%s", xml);
    cr_assert(strstr(xml, "tests=\"2\" failures=\"1\""), "junit.xml must not show a pass: %s", xml);
    free(xml);
    free(f);
}

/* ---- issue 10 item 8: a run id in every file, an earlier run's files moved away ---- */

Test(run_dir, every_file_carries_the_run_id)
{
    char tmp[256], path[600], err[512];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    write_run(f, tmp);
    json_t *root = load_summary(tmp);
    const char *id = json_string_value(json_object_get(root, "run_id"));
    cr_assert_not_null(id);
    cr_assert_eq(strlen(id), RUN_ID_LEN);
    cr_assert_eq(strspn(id, "0123456789abcdef"), RUN_ID_LEN);
    snprintf(path, sizeof path, "%s/junit.xml", tmp);
    char *xml = slurp(path, NULL);
    char prop[128];
    snprintf(prop, sizeof prop, "<property name=\"run_id\" value=\"%s\"/>", id);
    cr_assert(strstr(xml, prop), "%s", xml);
    free(xml);
    snprintf(path, sizeof path, "%s/events.csv", tmp);
    struct events_csv_reader *rd = events_csv_open(path, err, sizeof err);
    cr_assert_not_null(rd, "%s", err);
    struct events_row *row = malloc(sizeof *row);
    size_t rows = 0;
    while (events_csv_next(rd, row, err, sizeof err) > 0) {
        cr_assert_str_eq(row->run_id, id, "row %zu", rows + 1);
        rows++;
    }
    cr_assert_eq(rows, f->n_ev);
    events_csv_close(rd);
    free(row);
    json_decref(root);
    free(f);
}

Test(run_dir, an_earlier_run_is_moved_away_before_the_new_one_starts)
{
    char tmp[256], path[700], err[512];
    make_tmpdir(tmp, sizeof tmp);
    struct run_fixture *f = run_fixture_new();
    write_run(f, tmp);
    json_t *first = load_summary(tmp);
    char first_id[RUN_ID_LEN + 1];
    snprintf(first_id, sizeof first_id, "%s", json_string_value(json_object_get(first, "run_id")));
    json_decref(first);
    snprintf(path, sizeof path, "%s/index.html", tmp);
    FILE *stale = fopen(path, "w");
    fputs("PASSED", stale);
    fclose(stale);

    /* The second run is killed before it finishes: none of the first run's verdicts may remain. */
    struct run_dir r;
    cr_assert_eq(run_dir_open(&r, tmp, err, sizeof err), 0, "%s", err);
    char moved[700];
    snprintf(moved, sizeof moved, "%s/previous-%s", tmp, first_id);
    cr_assert_str_eq(r.previous, moved);
    cr_assert_str_neq(r.run_id, first_id);
    cr_assert_not(exists(tmp, "summary.json"));
    cr_assert_not(exists(tmp, "junit.xml"));
    cr_assert_not(exists(tmp, "index.html"));
    cr_assert(exists(moved, "summary.json"));
    cr_assert(exists(moved, "junit.xml"));
    cr_assert(exists(moved, "index.html"));
    cr_assert(exists(moved, "events.csv"));
    run_dir_finish(&r, &f->info, &f->t, f->results, f->n_results, err, sizeof err);
    free(f);
}

Test(run_dir, events_csv_is_never_written_through_a_planted_symlink)
{
    char tmp[256], path[600], target[600], err[512] = "";
    make_tmpdir(tmp, sizeof tmp);
    snprintf(target, sizeof target, "%s/victim", tmp);
    FILE *v = fopen(target, "w");
    fputs("precious\n", v);
    fclose(v);
    snprintf(path, sizeof path, "%s/run", tmp);
    cr_assert_eq(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/run/events.csv", tmp);
    cr_assert_eq(symlink(target, path), 0);
    struct run_dir r;
    snprintf(path, sizeof path, "%s/run", tmp);
    if (run_dir_open(&r, path, err, sizeof err) == 0) {
        struct run_fixture *f = run_fixture_new();
        run_dir_finish(&r, &f->info, &f->t, f->results, 0, err, sizeof err);
        free(f);
    }
    char *text = slurp(target, NULL);
    cr_assert_str_eq(text, "precious\n", "the symlink's target was written");
    free(text);
}
