/*
 * libFuzzer target: the reference host's --state file (host_state_load). The input is written to
 * a scratch file (the loader reads a path) and loaded into a host with the built-in catalogue and
 * a few clients already counted. Seeds: tests/fuzz/corpus/fuzz_host_state.
 *
 * Oracle: never a crash, leak or hang; a refused file has a message naming it and changes nothing
 * (the caches and the clock are exactly as before); a loaded one leaves every cache within its
 * capacity, without a CMID twice, and a clock no further ahead than the client-clock horizon.
 */
#include "catalog.h"
#include "host.h"
#include "host_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct catalog catalog;
static struct kms_host *before, *host;
static char path[64];

static uint64_t fixed_clock(void *arg)
{
    (void)arg;
    return 134080000000000000ULL; /* late 2025 */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    FUZZ_ASSERT(catalog_parse(&catalog, catalog_builtin_ini, "built-in", err, sizeof err) == 0);
    struct host_config cfg;
    host_config_default(&cfg, &catalog);
    cfg.clock = fixed_clock;
    before = calloc(1, sizeof *before);
    host = calloc(1, sizeof *host);
    FUZZ_ASSERT(before && host);
    FUZZ_ASSERT(host_init(before, &cfg, err, sizeof err) == 0);
    for (unsigned i = 0; i < 7; i++) {
        struct guid g;
        memset(&g, 0, sizeof g);
        g.b[15] = (uint8_t)i;
        client_cache_touch(&before->caches[i % catalog.n_apps], &g, 25, fixed_clock(NULL) - i);
    }
    before->client_clock = fixed_clock(NULL);
    snprintf(path, sizeof path, "/tmp/kmsload-fuzz-state-%ld.json", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    size_t wrote = fwrite(data, 1, size, f);
    fclose(f);
    if (wrote != size)
        return 0;
    memcpy(host, before, sizeof *host);
    bool loaded = false;
    char err[512] = "";
    int rc = host_state_load(host, path, &loaded, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(!loaded);
        FUZZ_ASSERT(strstr(err, path) != NULL);
        FUZZ_ASSERT(memcmp(host->caches, before->caches, sizeof host->caches) == 0);
        FUZZ_ASSERT(host->client_clock == before->client_clock);
        return 0;
    }
    FUZZ_ASSERT(loaded);
    FUZZ_ASSERT(host->client_clock <= fixed_clock(NULL) + HOST_CLIENT_CLOCK_HORIZON);
    for (size_t a = 0; a < catalog.n_apps; a++) {
        const struct client_cache *c = &host->caches[a];
        FUZZ_ASSERT(c->n <= client_cache_capacity(c));
        for (size_t i = 0; i < c->n; i++)
            for (size_t j = i + 1; j < c->n; j++)
                FUZZ_ASSERT(memcmp(&c->entries[i].cmid, &c->entries[j].cmid, 16) != 0);
        (void)host_app_count(host, a);
    }
    return 0;
}
