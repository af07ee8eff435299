/*
 * libFuzzer target: the import of KMS event 12290 logs (kmsload fleet): format detection, the
 * wevtutil XML reader (libxml2), the Export-Csv and host --log readers (libcsv), the
 * ConvertTo-Json reader (element scanner + jansson), the field checks, the fleet analysis and
 * fleet.json. Seeds: tests/fuzz/corpus/fuzz_eventlog (one small log of each format).
 *
 * Oracle: never a crash, leak or hang; a reader that stops says why (naming the file); every
 * event handed over is one the analysis took or counted out of order; the document is built.
 */
#include "estate_import.h"
#include "estate_json.h"
#include "event_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_run {
    struct estate est;
    uint64_t events;
};

static int on_event(const struct kms_event *ev, void *arg, char *err, size_t err_len)
{
    struct fuzz_run *r = arg;
    r->events++;
    FUZZ_ASSERT(ev->n_policy <= KMS_EVENT_N_POLICY_MAX && ev->license_status <= 6 && ev->vm <= 1);
    FUZZ_ASSERT(strlen(ev->fqdn) < KMS_EVENT_FQDN_MAX);
    return estate_add(&r->est, ev, err, err_len) < 0 ? -1 : 0;
}

static void on_bad(const char *file, const char *where, const char *why, void *arg)
{
    (void)arg;
    FUZZ_ASSERT(strcmp(file, "fuzz.log") == 0 && where[0] && why[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct catalog cat;
    static int loaded;
    char err[1024] = "";
    if (!loaded) {
        FUZZ_ASSERT(catalog_load(&cat, NULL, err, sizeof err) == 0);
        loaded = 1;
    }
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    struct fuzz_run *run = calloc(1, sizeof *run);
    FUZZ_ASSERT(run && estate_init(&run->est, &cat, err, sizeof err) == 0);
    struct event_sink sink = {.event = on_event, .bad = on_bad, .arg = run};
    struct event_read_stats st;
    int rc = event_read_stream(f, "fuzz.log", &cat, &sink, &st, err, sizeof err);
    fclose(f);
    if (rc != 0)
        FUZZ_ASSERT(strstr(err, "fuzz.log") != NULL);
    FUZZ_ASSERT(st.events == run->events);
    FUZZ_ASSERT(run->est.requests + run->est.out_of_order == run->events);
    FUZZ_ASSERT(estate_finish(&run->est, err, sizeof err) == 0);
    if (run->events) {
        struct name_hash names;
        FUZZ_ASSERT(name_hash_init(&names, false, "fuzz key 1234", err, sizeof err) == 0);
        struct host_keys keys;
        FUZZ_ASSERT(host_keys_parse(&cat, "ws2019", &keys, err, sizeof err) == 0);
        struct estate_input in = {.path = "fuzz.log", .stats = st, .rc = rc};
        struct estate_view view = {
            .fleet = &run->est, .names = &names, .keys = &keys, .inputs = &in, .n_inputs = 1};
        json_t *doc = estate_json(&view);
        FUZZ_ASSERT(doc != NULL);
        char *text = json_dumps(doc, 0);
        FUZZ_ASSERT(text != NULL);
        free(text);
        json_decref(doc);
    }
    estate_free(&run->est);
    free(run);
    return 0;
}
