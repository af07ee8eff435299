/*
 * libFuzzer target: the product catalogue (catalog_parse, the format of products.ini and of
 * --catalog / $KMSLOAD_PRODUCTS files). Seeds: tests/fuzz/corpus/fuzz_catalog (products.ini and
 * small variants).
 *
 * Oracle: never a crash, leak or hang; a refused catalogue has a message naming the origin; an
 * accepted one is consistent: every index points inside its table and every entry is found again
 * by its key and by its GUID.
 */
#include "catalog.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct catalog cat;
    char err[512] = "";
    if (catalog_parse(&cat, text, "fuzz.ini", err, sizeof err) != 0) {
        FUZZ_ASSERT(err[0] != '\0');
        FUZZ_ASSERT(strstr(err, "fuzz.ini") != NULL);
        free(text);
        return 0;
    }
    for (size_t i = 0; i < cat.n_apps; i++) {
        FUZZ_ASSERT(catalog_find_app(&cat, cat.apps[i].key) == &cat.apps[i]);
        FUZZ_ASSERT(catalog_app_by_id(&cat, &cat.apps[i].id) == &cat.apps[i]);
    }
    for (size_t i = 0; i < cat.n_kms; i++) {
        FUZZ_ASSERT(cat.kms[i].app < cat.n_apps);
        FUZZ_ASSERT(catalog_find_kms(&cat, cat.kms[i].key) == &cat.kms[i]);
        FUZZ_ASSERT(catalog_kms_by_id(&cat, &cat.kms[i].id) == &cat.kms[i]);
    }
    for (size_t i = 0; i < cat.n_skus; i++) {
        FUZZ_ASSERT(cat.skus[i].kms < cat.n_kms);
        FUZZ_ASSERT(catalog_find_sku(&cat, cat.skus[i].key) == &cat.skus[i]);
        FUZZ_ASSERT(catalog_sku_by_id(&cat, &cat.skus[i].id) == &cat.skus[i]);
    }
    for (size_t i = 0; i < cat.n_csvlks; i++) {
        FUZZ_ASSERT(catalog_find_csvlk(&cat, cat.csvlks[i].key) == &cat.csvlks[i]);
        for (size_t k = 0; k < cat.n_kms; k++)
            (void)catalog_csvlk_activates(&cat.csvlks[i], k);
    }
    int exact;
    (void)catalog_hostos_for_build(&cat, 17763, &exact);
    (void)catalog_hostos_for_build(&cat, 0, &exact);
    catalog_free(&cat);
    free(text);
    return 0;
}
