/* The product catalogue: the shipped products.ini against spec §12, lookups, and error reports. */
#include "catalog.h"
#include "host_keys.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct catalog_test_kms_row {
    const char *kms_id;
    const char *app_key;
    unsigned n_policy;
    unsigned protocol;
};

struct catalog_test_sku_row {
    const char *sku_id;
    const char *kms_id;
};

/* Spec §12.2, row by row. */
static const struct catalog_test_kms_row catalog_test_spec_kms[] = {
    {"58e2134f-8e11-4d17-9cb2-91069c151148", "windows", 25, 6},
    {"969fe3c0-a3ec-491a-9f25-423605deb365", "windows", 25, 6},
    {"11b15659-e603-4cf1-9c1f-f0ec01b81888", "windows", 25, 6},
    {"3b576817-7b75-4362-9e13-223f2d9e9c97", "windows", 25, 6},
    {"e85ee727-69c4-4528-99d2-216b0f065e38", "windows", 25, 6},
    {"7ba0bf23-d0f5-4072-91d9-d55af5a481b6", "windows", 25, 6},
    {"e1c51358-fe3e-4203-a4a2-3b6b20c9734e", "windows", 25, 6},
    {"cbdcb1ba-e093-4c81-a463-10775291fdf9", "windows", 5, 6},
    {"cb8fc780-2c05-495a-9710-85afffc904d7", "windows", 25, 6},
    {"3c40b358-5948-45af-923b-53d21fcc7e79", "windows", 25, 5},
    {"7fde5219-fbfa-484a-82c9-34d1ad53e856", "windows", 25, 4},
    {"907f1f65-adcd-4a2e-95bc-4bf500bc6e58", "windows", 5, 6},
    {"b74263e4-0f92-46c6-bcf8-c11d5efe2959", "windows", 5, 6},
    {"8449b1fb-f0ea-497a-99ab-66ca96e9a0f5", "windows", 5, 6},
    {"6e9fc069-257d-4bc4-b4a7-750514d32743", "windows", 5, 6},
    {"8456efd3-0c04-4089-8740-5b7238535a65", "windows", 5, 6},
    {"8665cb71-468c-4aa3-a337-cb9bc9d5eaac", "windows", 5, 5},
    {"ca87f5b6-cd46-40c0-b06d-8ecd57a4373f", "windows", 5, 4},
    {"e85af946-2e25-47b7-83e1-bebcebeac611", "office2010", 5, 4},
    {"e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0", "office2013", 5, 5},
    {"85b5f61b-320b-4be3-814a-b76b2bfafc82", "office2013", 5, 6},
    {"617d9eb1-ef36-4f82-86e0-a65ae07b96c6", "office2013", 5, 6},
    {"86d50b16-4808-41af-b83b-b338274318b2", "office2013", 5, 6},
    {"a8973cb5-bf03-0a4c-9cef-703099645ab3", "office2013", 5, 6},
};

/* Spec §12.3, row by row, with the KMS ID of the group each edition belongs to. */
static const struct catalog_test_sku_row catalog_test_spec_skus[] = {
    {"2de67392-b7a7-462a-b1ca-108dd189f588",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Pro */
    {"a80b5abf-76ad-428b-b05d-a47d2dffeebf",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Pro N */
    {"82bbc092-bc50-4e16-8e18-b74fc486aec3",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Pro for Workstations */
    {"3f1afc82-f8ac-4f6c-8005-1d233e606eee",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Pro Education */
    {"73111121-5638-40f6-bc11-f1d7b0d64300",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Enterprise */
    {"e272e3e2-732f-4c65-a8f0-484747d0d947",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Enterprise N */
    {"e0c42288-980c-4788-a014-c080d2e1926e",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Education */
    {"3c102355-d027-42c6-ad23-2e7ef8a02585",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 Education N */
    {"59eb965c-9150-42b7-a0ec-22151b9897c5",
     "58e2134f-8e11-4d17-9cb2-91069c151148"}, /* Windows 10/11 IoT Enterprise LTSC 2021-2024 */
    {"32d2fab3-e4a8-42c2-923b-4bf4fd13e6ee",
     "11b15659-e603-4cf1-9c1f-f0ec01b81888"}, /* Windows 10 Enterprise LTSC 2019/2021 */
    {"ec868e65-fadf-4759-b23e-93fe37f2cc29",
     "cbdcb1ba-e093-4c81-a463-10775291fdf9"}, /* Windows 10/11 Enterprise multi-session */
    {"e0b2d383-d112-413f-8a80-97f373a5820c",
     "7ba0bf23-d0f5-4072-91d9-d55af5a481b6"}, /* Windows 10/11 Enterprise G */
    {"7dc26449-db21-4e09-ba37-28f2958506a6",
     "907f1f65-adcd-4a2e-95bc-4bf500bc6e58"}, /* Windows Server 2025 Standard */
    {"c052f164-cdf6-409a-a0cb-853ba0f0f55a",
     "907f1f65-adcd-4a2e-95bc-4bf500bc6e58"}, /* Windows Server 2025 Datacenter */
    {"9bd77860-9b31-4b7b-96ad-2564017315bf",
     "b74263e4-0f92-46c6-bcf8-c11d5efe2959"}, /* Windows Server 2022 Standard */
    {"ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03",
     "b74263e4-0f92-46c6-bcf8-c11d5efe2959"}, /* Windows Server 2022 Datacenter */
    {"19b5e0fb-4431-46bc-bac1-2f1873e4ae73",
     "b74263e4-0f92-46c6-bcf8-c11d5efe2959"}, /* Windows Server 2022 Datacenter Azure Edition */
    {"de32eafd-aaee-4662-9444-c1befb41bde2",
     "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"}, /* Windows Server 2019 Standard */
    {"34e1ae55-27f8-4950-8877-7a03be5fb181",
     "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"}, /* Windows Server 2019 Datacenter */
    {"034d3cbb-5d4b-4245-b3f8-f84571314078",
     "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"}, /* Windows Server 2019 Essentials */
    {"8c1c5410-9f39-4805-8c9d-63a07706358f",
     "6e9fc069-257d-4bc4-b4a7-750514d32743"}, /* Windows Server 2016 Standard */
    {"21c56779-b449-4d20-adfc-eece0e1ad74b",
     "6e9fc069-257d-4bc4-b4a7-750514d32743"}, /* Windows Server 2016 Datacenter */
    {"b92e9980-b9d5-4821-9c94-140f632f6312",
     "7fde5219-fbfa-484a-82c9-34d1ad53e856"}, /* Windows 7 Professional */
    {"85dd8b5f-eaa4-4af3-a628-cce9e77c9a03",
     "617d9eb1-ef36-4f82-86e0-a65ae07b96c6"}, /* Office Professional Plus 2019 */
    {"6912a74b-a5fb-401a-bfdb-2e3ab46f4b02",
     "617d9eb1-ef36-4f82-86e0-a65ae07b96c6"}, /* Office Standard 2019 */
    {"fbdb3e18-a8ef-4fb3-9183-dffd60bd0984",
     "86d50b16-4808-41af-b83b-b338274318b2"}, /* Office LTSC Professional Plus 2021 */
    {"080a45c5-9f9f-49eb-b4b0-c3c610a5ebd3",
     "86d50b16-4808-41af-b83b-b338274318b2"}, /* Office LTSC Standard 2021 */
    {"76881159-155c-43e0-9db7-2d70a9a3a4ca",
     "86d50b16-4808-41af-b83b-b338274318b2"}, /* Project Professional 2021 */
    {"fb61ac9a-1688-45d2-8f6b-0674dbffa33c",
     "86d50b16-4808-41af-b83b-b338274318b2"}, /* Visio LTSC Professional 2021 */
    {"8d368fc1-9470-4be2-8d66-90e836cbb051",
     "a8973cb5-bf03-0a4c-9cef-703099645ab3"}, /* Office LTSC Professional Plus 2024 */
    {"bbac904f-6a7e-418a-bb4b-24c85da06187",
     "a8973cb5-bf03-0a4c-9cef-703099645ab3"}, /* Office LTSC Standard 2024 */
    {"f510af75-8ab7-4426-a236-1bfb95c34ff8",
     "a8973cb5-bf03-0a4c-9cef-703099645ab3"}, /* Project Professional 2024 */
    {"fa187091-8246-47b1-964f-80a0b1e5d69a",
     "a8973cb5-bf03-0a4c-9cef-703099645ab3"}, /* Visio LTSC Professional 2024 */
    {"d450596f-894d-49e0-966a-fd39ed4c4c64",
     "85b5f61b-320b-4be3-814a-b76b2bfafc82"}, /* Office Professional Plus 2016 */
    {"b322da9c-a2e2-4058-9e4e-f59a6970bd69",
     "e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0"}, /* Office Professional Plus 2013 */
    {"6f327760-8c5c-417c-9b61-836a98287e0c",
     "e85af946-2e25-47b7-83e1-bebcebeac611"}, /* Office Professional Plus 2010 */
};

/* Spec §12.1. */
static const struct {
    const char *key;
    const char *app_id;
    unsigned threshold;
} catalog_test_spec_apps[] = {
    {"windows", "55c92734-d682-4d71-983e-d6ec3f16059f", 25},
    {"office2010", "59a52881-a989-479d-af46-f275c6370663", 5},
    {"office2013", "0ff1ce15-a989-479d-af46-f275c6370663", 5},
};

#define CATALOG_TEST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void catalog_test_load_builtin(struct catalog *cat)
{
    char err[512] = "";
    int rc = catalog_parse(cat, catalog_builtin_ini, "built-in catalogue", err, sizeof err);
    cr_assert_eq(rc, 0, "built-in catalogue does not parse: %s", err);
}

static struct guid catalog_test_guid(const char *text)
{
    struct guid id;
    cr_assert_eq(guid_parse(text, &id), 0, "bad GUID in the test itself: %s", text);
    return id;
}

Test(catalog, builtin_parses_with_every_spec_entry)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    cr_expect_eq(cat.n_apps, 3);
    /* Spec §12.2/§12.3 plus every volume group and edition since Vista (issue 11). */
    cr_expect_eq(cat.n_kms, CATALOG_TEST_COUNT(catalog_test_spec_kms) + 8);
    cr_expect_eq(cat.n_skus, CATALOG_TEST_COUNT(catalog_test_spec_skus) + 1 + 123);
    cr_expect_eq(cat.n_csvlks, 28);
    cr_expect_eq(cat.n_hostos, 13);
    catalog_free(&cat);
}

Test(catalog, guid_bytes_are_in_wire_order)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    const struct catalog_kms *win10 = catalog_find_kms(&cat, "win10");
    cr_assert_not_null(win10);
    /* 58e2134f-8e11-4d17-9cb2-91069c151148: first three groups little-endian on the wire. */
    static const uint8_t wire[16] = {0x4f, 0x13, 0xe2, 0x58, 0x11, 0x8e, 0x17, 0x4d,
                                     0x9c, 0xb2, 0x91, 0x06, 0x9c, 0x15, 0x11, 0x48};
    cr_expect_arr_eq(win10->id.b, wire, sizeof wire);
    catalog_free(&cat);
}

Test(catalog, apps_match_spec)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    for (size_t i = 0; i < CATALOG_TEST_COUNT(catalog_test_spec_apps); i++) {
        struct guid id = catalog_test_guid(catalog_test_spec_apps[i].app_id);
        const struct catalog_app *app = catalog_app_by_id(&cat, &id);
        cr_assert_not_null(app, "AppID %s missing", catalog_test_spec_apps[i].app_id);
        cr_expect_str_eq(app->key, catalog_test_spec_apps[i].key);
        cr_expect_eq(app->threshold, catalog_test_spec_apps[i].threshold, "%s", app->key);
    }
    catalog_free(&cat);
}

Test(catalog, kms_ids_match_spec)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    for (size_t i = 0; i < CATALOG_TEST_COUNT(catalog_test_spec_kms); i++) {
        const struct catalog_test_kms_row *row = &catalog_test_spec_kms[i];
        struct guid id = catalog_test_guid(row->kms_id);
        const struct catalog_kms *kms = catalog_kms_by_id(&cat, &id);
        cr_assert_not_null(kms, "KMS ID %s missing", row->kms_id);
        char text[GUID_TEXT_LEN + 1];
        guid_format(&kms->id, text);
        cr_expect_str_eq(text, row->kms_id);
        cr_assert_lt(kms->app, cat.n_apps);
        cr_expect_str_eq(cat.apps[kms->app].key, row->app_key, "app of %s", row->kms_id);
        cr_expect_eq(kms->n_policy, row->n_policy, "N_Policy of %s", row->kms_id);
        cr_expect_eq(kms->protocol, row->protocol, "protocol of %s", row->kms_id);
        /* Only the Windows 10/11 retail group is one a genuine host refuses. */
        cr_expect_eq(kms->retail, strcmp(row->kms_id, "e1c51358-fe3e-4203-a4a2-3b6b20c9734e") == 0,
                     "retail flag of %s", row->kms_id);
    }
    catalog_free(&cat);
}

Test(catalog, skus_match_spec)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    for (size_t i = 0; i < CATALOG_TEST_COUNT(catalog_test_spec_skus); i++) {
        const struct catalog_test_sku_row *row = &catalog_test_spec_skus[i];
        struct guid id = catalog_test_guid(row->sku_id);
        const struct catalog_sku *sku = catalog_sku_by_id(&cat, &id);
        cr_assert_not_null(sku, "SKU ID %s missing", row->sku_id);
        cr_assert_lt(sku->kms, cat.n_kms);
        struct guid kms_id = catalog_test_guid(row->kms_id);
        cr_expect(guid_equal(&cat.kms[sku->kms].id, &kms_id), "SKU %s (%s) is in group %s",
                  row->sku_id, sku->name, cat.kms[sku->kms].key);
    }
    catalog_free(&cat);
}

Test(catalog, csvlks_match_spec)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    static const struct {
        const char *name;
        unsigned group;
        unsigned long key_min, key_max;
        unsigned min_build;
    } rows[] = {
        {"Windows Server 2025", 4919, 0, 20019999, 26100},
        {"Windows Server 2022", 4573, 30000, 20029999, 20348},
        {"Windows Server 2019", 206, 551000000, 570999999, 17763},
        {"Windows 10 China Government", 3858, 15000000, 999999999, 14393},
        {"Office LTSC 2024", 206, 591000000, 610999999, 17763},
        {"Office 2013", 206, 234000000, 255999999, 7601},
        {"Office 2010", 96, 199000000, 217999999, 0},
    };
    for (size_t r = 0; r < CATALOG_TEST_COUNT(rows); r++) {
        const struct catalog_csvlk *found = NULL;
        for (size_t i = 0; i < cat.n_csvlks; i++) {
            if (strcmp(cat.csvlks[i].name, rows[r].name) == 0)
                found = &cat.csvlks[i];
        }
        cr_assert_not_null(found, "CSVLK %s missing", rows[r].name);
        cr_expect_eq(found->group, rows[r].group, "%s", rows[r].name);
        cr_expect_eq(found->key_min, rows[r].key_min, "%s", rows[r].name);
        cr_expect_eq(found->key_max, rows[r].key_max, "%s", rows[r].name);
        cr_expect_eq(found->min_build, rows[r].min_build, "%s", rows[r].name);
    }
    catalog_free(&cat);
}

Test(catalog, vlmcs_product_names_of_the_vectors_resolve)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    /* Names and IDs as vlmcs printed them in tests/vectors/ (SKU ID, KMS ID). */
    static const struct {
        const char *name, *sku_id, *kms_id;
    } rows[] = {
        {"Windows 10 Professional", "2de67392-b7a7-462a-b1ca-108dd189f588",
         "58e2134f-8e11-4d17-9cb2-91069c151148"},
        {"Windows 7 Professional", "b92e9980-b9d5-4821-9c94-140f632f6312",
         "7fde5219-fbfa-484a-82c9-34d1ad53e856"},
        {"Windows 8 Professional", "a98bcd6d-5343-4603-8afe-5908e4611112",
         "3c40b358-5948-45af-923b-53d21fcc7e79"},
        {"Windows Server 2019 Datacenter", "34e1ae55-27f8-4950-8877-7a03be5fb181",
         "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"},
        {"Office Professional Plus 2010", "6f327760-8c5c-417c-9b61-836a98287e0c",
         "e85af946-2e25-47b7-83e1-bebcebeac611"},
        {"Office Professional Plus 2013", "b322da9c-a2e2-4058-9e4e-f59a6970bd69",
         "e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0"},
        {"Office Professional Plus 2019", "85dd8b5f-eaa4-4af3-a628-cce9e77c9a03",
         "617d9eb1-ef36-4f82-86e0-a65ae07b96c6"},
    };
    for (size_t i = 0; i < CATALOG_TEST_COUNT(rows); i++) {
        const struct catalog_sku *sku = catalog_find_sku(&cat, rows[i].name);
        cr_assert_not_null(sku, "\"%s\" not found", rows[i].name);
        struct guid sku_id = catalog_test_guid(rows[i].sku_id);
        struct guid kms_id = catalog_test_guid(rows[i].kms_id);
        cr_expect(guid_equal(&sku->id, &sku_id), "SKU ID of %s", rows[i].name);
        cr_expect(guid_equal(&cat.kms[sku->kms].id, &kms_id), "KMS ID of %s", rows[i].name);
    }
    catalog_free(&cat);
}

Test(catalog, lookups_by_key_name_alias_and_guid)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    const struct catalog_sku *pro = catalog_find_sku(&cat, "win10-pro");
    cr_assert_not_null(pro);
    cr_expect_str_eq(pro->name, "Windows 10/11 Pro");
    cr_expect_str_eq(pro->alias, "Windows 10 Professional");
    cr_expect_eq(catalog_find_sku(&cat, "windows 10/11 PRO"), pro);
    cr_expect_eq(catalog_find_sku(&cat, "WINDOWS 10 PROFESSIONAL"), pro);
    cr_expect_eq(catalog_find_sku(&cat, "2de67392-b7a7-462a-b1ca-108dd189f588"), pro);
    cr_expect_eq(catalog_find_sku(&cat, "{2DE67392-B7A7-462A-B1CA-108DD189F588}"), pro);
    cr_expect_null(catalog_find_sku(&cat, "Windows 10 Pro"));
    cr_expect_null(catalog_find_sku(&cat, "2de67392-b7a7-462a-b1ca-108dd189f589"));
    cr_expect_null(catalog_find_sku(&cat, ""));
    cr_expect_null(catalog_find_sku(&cat, NULL));
    /* A KMS ID is not a SKU ID. */
    cr_expect_null(catalog_find_sku(&cat, "58e2134f-8e11-4d17-9cb2-91069c151148"));

    const struct catalog_kms *win7 = catalog_find_kms(&cat, "win7");
    cr_assert_not_null(win7);
    cr_expect_eq(catalog_find_kms(&cat, "windows 7"), win7);
    cr_expect_eq(catalog_find_kms(&cat, "7fde5219-fbfa-484a-82c9-34d1ad53e856"), win7);
    cr_expect_eq(win7->protocol, 4);

    const struct catalog_app *office = catalog_find_app(&cat, "office2013");
    cr_assert_not_null(office);
    cr_expect_eq(catalog_find_app(&cat, "0FF1CE15-A989-479D-AF46-F275C6370663"), office);
    cr_expect_eq(catalog_find_app(&cat, "Office 2013 and later"), office);
    cr_expect_null(catalog_find_app(&cat, "office"));

    struct guid unknown = catalog_test_guid("01234567-89ab-4cde-8f01-23456789abcd");
    cr_expect_null(catalog_kms_by_id(&cat, &unknown));
    cr_expect_null(catalog_sku_by_id(&cat, &unknown));
    cr_expect_null(catalog_app_by_id(&cat, &unknown));
    catalog_free(&cat);
}

/* A small valid catalogue; the error tests below change one line of it (numbers on the right). */
static const char *const catalog_test_lines[] = {
    "[app:windows]",                             /* 1 */
    "name = Windows",                            /* 2 */
    "id = 55c92734-d682-4d71-983e-d6ec3f16059f", /* 3 */
    "threshold = 25",                            /* 4 */
    "",                                          /* 5 */
    "[kms:win10]",                               /* 6 */
    "name = Windows 10/11 volume",               /* 7 */
    "id = 58e2134f-8e11-4d17-9cb2-91069c151148", /* 8 */
    "app = windows",                             /* 9 */
    "n_policy = 25",                             /* 10 */
    "protocol = 6",                              /* 11 */
    "",                                          /* 12 */
    "[sku:win10-pro]",                           /* 13 */
    "name = Windows 10/11 Pro",                  /* 14 */
    "alias = Windows 10 Professional",           /* 15 */
    "id = 2de67392-b7a7-462a-b1ca-108dd189f588", /* 16 */
    "kms = win10",                               /* 17 */
};

/* The small catalogue with line number `line` replaced (NULL: unchanged) and `extra` appended. */
static char *catalog_test_text(unsigned line, const char *replacement, const char *extra)
{
    size_t cap = 4096;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t used = 0;
    for (unsigned i = 0; i < CATALOG_TEST_COUNT(catalog_test_lines); i++) {
        const char *l = i + 1 == line ? replacement : catalog_test_lines[i];
        used += (size_t)snprintf(text + used, cap - used, "%s\n", l);
    }
    snprintf(text + used, cap - used, "%s", extra ? extra : "");
    return text;
}

/* Parses text expecting failure; returns the message (static storage is per test process). */
static const char *catalog_test_error(const char *text)
{
    static char err[512];
    struct catalog cat;
    err[0] = '\0';
    int rc = catalog_parse(&cat, text, "test.ini", err, sizeof err);
    cr_assert_eq(rc, -1, "parsed although it should not have:\n%s", text);
    cr_expect_eq(cat.n_apps + cat.n_kms + cat.n_skus + cat.n_csvlks, 0);
    cr_expect_null(cat.kms);
    cr_expect_neq(err[0], '\0');
    return err;
}

static const char *catalog_test_error_at(unsigned line, const char *replacement, const char *extra)
{
    char *text = catalog_test_text(line, replacement, extra);
    const char *err = catalog_test_error(text);
    free(text);
    return err;
}

#define catalog_expect_has(err, part)                                                              \
    cr_expect(strstr((err), (part)) != NULL, "message \"%s\" lacks \"%s\"", (err), (part))

Test(catalog, small_catalogue_parses)
{
    char *text = catalog_test_text(0, NULL, NULL);
    struct catalog cat;
    char err[512] = "";
    cr_assert_eq(catalog_parse(&cat, text, "test.ini", err, sizeof err), 0, "%s", err);
    cr_expect_eq(cat.n_apps, 1);
    cr_expect_eq(cat.n_kms, 1);
    cr_expect_eq(cat.n_skus, 1);
    cr_expect_eq(cat.n_csvlks, 0);
    cr_expect_eq(cat.kms[0].retail, 0); /* optional, defaults to 0 */
    cr_expect_eq(cat.kms[0].app, 0);
    cr_expect_eq(cat.skus[0].kms, 0);
    catalog_free(&cat);
    catalog_free(&cat); /* freeing twice is harmless */
    free(text);
}

Test(catalog, references_may_point_forward)
{
    const char *text = "[sku:a]\nname = A\nid = 2de67392-b7a7-462a-b1ca-108dd189f588\nkms = k\n"
                       "[kms:k]\nname = K\nid = 58e2134f-8e11-4d17-9cb2-91069c151148\napp = w\n"
                       "n_policy = 5\nprotocol = 4\nretail = 1\n"
                       "[app:w]\nname = W\nid = 55c92734-d682-4d71-983e-d6ec3f16059f\n"
                       "threshold = 5\n";
    struct catalog cat;
    char err[512] = "";
    cr_assert_eq(catalog_parse(&cat, text, "test.ini", err, sizeof err), 0, "%s", err);
    cr_expect_eq(cat.skus[0].kms, 0);
    cr_expect_eq(cat.kms[0].app, 0);
    cr_expect_eq(cat.kms[0].retail, 1);
    catalog_free(&cat);
}

Test(catalog, error_bad_number_names_file_line_and_key)
{
    const char *err = catalog_test_error_at(10, "n_policy = x", NULL);
    cr_expect_str_eq(err,
                     "test.ini:10: [kms:win10] n_policy: expected a number 1..1000, got \"x\"");
    err = catalog_test_error_at(10, "n_policy = 1001", NULL);
    catalog_expect_has(err, "test.ini:10: [kms:win10] n_policy:");
    err = catalog_test_error_at(10, "n_policy = -5", NULL);
    catalog_expect_has(err, "test.ini:10: [kms:win10] n_policy:");
    err = catalog_test_error_at(11, "protocol = 7", NULL);
    catalog_expect_has(err, "test.ini:11: [kms:win10] protocol: expected a number 4..6");
    err = catalog_test_error_at(4, "threshold = 99999999999999999999", NULL);
    catalog_expect_has(err, "test.ini:4: [app:windows] threshold:");
}

Test(catalog, error_bad_guid)
{
    const char *err = catalog_test_error_at(8, "id = 58e2134f-8e11-4d17-9cb2-91069c15114", NULL);
    catalog_expect_has(err, "test.ini:8: [kms:win10] id: expected a GUID");
    catalog_expect_has(err, "\"58e2134f-8e11-4d17-9cb2-91069c15114\"");
    err = catalog_test_error_at(16, "id = 2de67392-b7a7-462a-b1ca-108dd189f58g", NULL);
    catalog_expect_has(err, "test.ini:16: [sku:win10-pro] id:");
}

Test(catalog, error_unknown_references)
{
    const char *err = catalog_test_error_at(9, "app = office", NULL);
    cr_expect_str_eq(err, "test.ini:9: [kms:win10] app: there is no [app:office] section");
    err = catalog_test_error_at(17, "kms = win11", NULL);
    cr_expect_str_eq(err, "test.ini:17: [sku:win10-pro] kms: there is no [kms:win11] section");
    err = catalog_test_error_at(17, "kms = Windows 10/11 volume", NULL);
    catalog_expect_has(err, "test.ini:17: [sku:win10-pro] kms: expected the key of a [kms:KEY]");
}

Test(catalog, error_duplicates)
{
    const char *err = catalog_test_error_at(13, "[kms:win10]", NULL);
    cr_expect_str_eq(err, "test.ini:13: [kms:win10]: this section is defined twice");

    err = catalog_test_error_at(0, NULL,
                                "[sku:other]\nname = Other\n"
                                "id = 2DE67392-B7A7-462A-B1CA-108DD189F588\nkms = win10\n");
    catalog_expect_has(err, "test.ini:20: [sku:other] id:");
    catalog_expect_has(err, "[sku:win10-pro]");

    err = catalog_test_error_at(0, NULL,
                                "[sku:other]\nname = windows 10 professional\n"
                                "id = 73111121-5638-40f6-bc11-f1d7b0d64300\nkms = win10\n");
    catalog_expect_has(err, "test.ini:19: [sku:other] name:");
    catalog_expect_has(err, "[sku:win10-pro]");

    err = catalog_test_error_at(15, "alias = Windows 10/11 Pro", NULL);
    catalog_expect_has(err, "test.ini:15: [sku:win10-pro] alias:");

    err = catalog_test_error_at(11, "n_policy = 25", NULL);
    cr_expect_str_eq(err, "test.ini:11: [kms:win10] n_policy: given twice in this section");
}

Test(catalog, error_unknown_key_and_section)
{
    const char *err = catalog_test_error_at(4, "colour = blue", NULL);
    catalog_expect_has(err, "test.ini:4: [app:windows] colour: unknown key");
    catalog_expect_has(err, "name, id, threshold");
    err = catalog_test_error_at(0, NULL, "[product:x]\nname = X\n");
    catalog_expect_has(err, "test.ini:18: [product:x]: unknown section type");
    err = catalog_test_error_at(6, "[kms:Win10]", NULL);
    catalog_expect_has(err, "test.ini:6: [kms:Win10]:");
    /* A section with no keys at all is still checked. */
    err = catalog_test_error_at(0, NULL, "[csvlk:empty]\n");
    cr_expect_str_eq(err, "test.ini:18: [csvlk:empty]: missing key \"name\"");
}

Test(catalog, error_missing_key_points_at_the_section)
{
    const char *err = catalog_test_error_at(11, "; no protocol", NULL);
    cr_expect_str_eq(err, "test.ini:6: [kms:win10]: missing key \"protocol\"");
}

Test(catalog, error_line_shapes)
{
    const char *err = catalog_test_error_at(10, "  n_policy = 25", NULL);
    catalog_expect_has(err, "test.ini:10: line is indented");
    err = catalog_test_error_at(10, "n_policy 25", NULL);
    catalog_expect_has(err, "test.ini:10: expected \"key = value\"");
    err = catalog_test_error_at(6, "[kms:win10", NULL);
    catalog_expect_has(err, "test.ini:6: section header lacks its closing ']'");
    err = catalog_test_error("name = Stray\n[app:windows]\n");
    catalog_expect_has(err, "test.ini:1: name: key outside any");

    char long_line[300];
    memset(long_line, 'x', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    memcpy(long_line, "name = ", 7);
    err = catalog_test_error_at(7, long_line, NULL);
    catalog_expect_has(err, "test.ini:7: line is longer than");
}

Test(catalog, error_csvlk_range)
{
    const char *csvlk = "[csvlk:ws]\nname = WS\ngroup = 206\nkey_min = 20\nkey_max = 10\n"
                        "min_build = 17763\n";
    const char *err = catalog_test_error_at(0, NULL, csvlk);
    cr_expect_str_eq(err, "test.ini:18: [csvlk:ws]: key_min 20 is above key_max 10");
    err = catalog_test_error_at(0, NULL,
                                "[csvlk:ws]\nname = WS\ngroup = 100000\nkey_min = 0\n"
                                "key_max = 10\nmin_build = 0\n");
    catalog_expect_has(err, "test.ini:20: [csvlk:ws] group: expected a number 0..99999");
}

Test(catalog, error_empty_catalogue)
{
    const char *err = catalog_test_error("; nothing here\n");
    cr_expect_str_eq(err, "test.ini: defines no [app:KEY] section");
}

Test(catalog, bom_and_crlf_are_accepted)
{
    char *text = catalog_test_text(0, NULL, NULL);
    char crlf[4096] = "\xEF\xBB\xBF";
    size_t used = 3;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            crlf[used++] = '\r';
        crlf[used++] = *p;
    }
    crlf[used] = '\0';
    free(text);
    struct catalog cat;
    char err[512] = "";
    cr_assert_eq(catalog_parse(&cat, crlf, "test.ini", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(cat.apps[0].name, "Windows");
    catalog_free(&cat);
}

/* Writes text to a new temporary file and returns its path (caller unlinks and frees). */
static char *catalog_test_write_file(const char *text)
{
    char *path = strdup("/tmp/kmsload-catalog-test-XXXXXX");
    cr_assert_not_null(path);
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(catalog, load_from_path)
{
    char *text = catalog_test_text(0, NULL, NULL);
    char *path = catalog_test_write_file(text);
    struct catalog cat;
    char err[512] = "";
    int rc = catalog_load(&cat, path, err, sizeof err);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect_eq(cat.n_skus, 1);
    catalog_free(&cat);
    unlink(path);
    free(path);
    free(text);

    /* Errors in a file name the file. */
    text = catalog_test_text(3, "id = nonsense", NULL);
    path = catalog_test_write_file(text);
    rc = catalog_load(&cat, path, err, sizeof err);
    cr_expect_eq(rc, -1);
    char expected[128];
    snprintf(expected, sizeof expected, "%s:3: [app:windows] id:", path);
    catalog_expect_has(err, expected);
    unlink(path);
    free(path);
    free(text);
}

Test(catalog, load_missing_path_is_an_error)
{
    struct catalog cat;
    char err[512] = "";
    cr_expect_eq(catalog_load(&cat, "/nonexistent/kmsload/products.ini", err, sizeof err), -1);
    catalog_expect_has(err, "/nonexistent/kmsload/products.ini");
    catalog_expect_has(err, strerror(ENOENT));
    cr_expect_eq(cat.n_kms, 0);
}

Test(catalog, load_from_environment)
{
    char *text = catalog_test_text(14, "name = Custom Pro", NULL);
    char *path = catalog_test_write_file(text);
    cr_assert_eq(setenv("KMSLOAD_PRODUCTS", path, 1), 0);
    struct catalog cat;
    char err[512] = "";
    cr_expect_eq(catalog_load(&cat, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(cat.n_skus, 1);
    cr_expect_not_null(catalog_find_sku(&cat, "custom pro"));
    catalog_free(&cat);
    unlink(path);

    /* Named but unreadable: an error, not a silent fall-back to another catalogue. */
    cr_expect_eq(catalog_load(&cat, NULL, err, sizeof err), -1);
    catalog_expect_has(err, path);
    catalog_expect_has(err, "KMSLOAD_PRODUCTS");
    free(path);
    free(text);
}

Test(catalog, load_default_finds_a_catalogue)
{
    cr_assert_eq(unsetenv("KMSLOAD_PRODUCTS"), 0);
    struct catalog cat;
    char err[512] = "";
    cr_expect_eq(catalog_load(&cat, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_not_null(catalog_find_sku(&cat, "win10-pro"));
    catalog_free(&cat);
}

static size_t catalog_test_kms_index(const struct catalog *cat, const char *key)
{
    const struct catalog_kms *k = catalog_find_kms(cat, key);
    cr_assert_not_null(k, "no [kms:%s]", key);
    return (size_t)(k - cat->kms);
}

Test(catalog, every_volume_group_since_vista_with_skus_in_the_house_style)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    static const char *const keys[] = {"vista-ent",           "ws2008-std",     "ws2008-dc",
                                       "ws2008-web",          "ws2008r2-web",   "ws2008r2-hpc",
                                       "ws2008r2-multipoint", "ws2008r2-ent",   "ws2008r2-dc",
                                       "ws2008r2-itanium",    "win7-ent",       "win8-ent",
                                       "win81-pro",           "ws2012-std",     "ws2012r2-dc",
                                       "ws2016-ess",          "office2013-std", "visio2016-pro"};
    for (size_t i = 0; i < CATALOG_TEST_COUNT(keys); i++)
        cr_expect_not_null(catalog_find_sku(&cat, keys[i]), "no [sku:%s]", keys[i]);
    const struct catalog_sku *s = catalog_find_sku(&cat, "ws2012r2-std");
    cr_assert_not_null(s);
    cr_expect_str_eq(cat.kms[s->kms].key, "ws2012r2");
    cr_expect_eq(cat.kms[s->kms].n_policy, 5);
    s = catalog_find_sku(&cat, "vista-business");
    cr_assert_not_null(s);
    cr_expect_eq(cat.kms[s->kms].protocol, 4);
    cr_expect_eq(cat.kms[s->kms].n_policy, 25);
    /* Every group but the retail ones has at least one edition. */
    for (size_t k = 0; k < cat.n_kms; k++) {
        size_t editions = 0;
        for (size_t i = 0; i < cat.n_skus; i++)
            editions += cat.skus[i].kms == k;
        if (!cat.kms[k].retail && strncmp(cat.kms[k].key, "win10-ltsc202", 13) != 0)
            cr_expect_gt(editions, 0, "[kms:%s] has no SKU", cat.kms[k].key);
    }
    catalog_free(&cat);
}

Test(catalog, host_keys_activate_their_generation_and_older)
{
    struct catalog cat;
    catalog_test_load_builtin(&cat);
    const struct catalog_csvlk *r2 = catalog_find_csvlk(&cat, "ws2012r2");
    cr_assert_not_null(r2);
    static const char *const yes[] = {"ws2012r2",   "win81",      "ws2012",   "win8", "ws2008r2",
                                      "ws2008r2-a", "ws2008r2-c", "ws2008-b", "win7", "vista"};
    for (size_t i = 0; i < CATALOG_TEST_COUNT(yes); i++)
        cr_expect(catalog_csvlk_activates(r2, catalog_test_kms_index(&cat, yes[i])), "%s", yes[i]);
    static const char *const no[] = {"ws2016", "win10",     "ws2019",    "ws2022",
                                     "ws2025", "win10-gov", "office2016"};
    for (size_t i = 0; i < CATALOG_TEST_COUNT(no); i++)
        cr_expect_not(catalog_csvlk_activates(r2, catalog_test_kms_index(&cat, no[i])), "%s",
                      no[i]);
    const struct catalog_csvlk *k25 = catalog_find_csvlk(&cat, "ws2025");
    const struct catalog_csvlk *k22 = catalog_find_csvlk(&cat, "ws2022");
    cr_assert(k25 && k22);
    cr_expect(catalog_csvlk_activates(k25, catalog_test_kms_index(&cat, "win10-ltsc2024")));
    cr_expect_not(catalog_csvlk_activates(k22, catalog_test_kms_index(&cat, "win10-ltsc2024")));
    cr_expect_not(catalog_csvlk_activates(k22, catalog_test_kms_index(&cat, "ws2025")));
    cr_expect(catalog_csvlk_activates(k22, catalog_test_kms_index(&cat, "vista")));
    /* Office keys: one release each. */
    const struct catalog_csvlk *o16 = catalog_find_csvlk(&cat, "office2016");
    cr_assert_not_null(o16);
    cr_expect_eq(o16->n_activates, 1);
    /* Hosting: Server 2019 needs KB5034768 for the 2025 key; 2012 R2 cannot host it. */
    bool found = false;
    for (size_t i = 0; i < k25->n_hosts; i++) {
        const struct catalog_hostos *os = &cat.hostos[k25->hosts[i].os];
        cr_expect_str_neq(os->key, "ws2012r2");
        if (strcmp(os->key, "ws2019") == 0) {
            found = true;
            cr_expect_str_eq(k25->hosts[i].update, "KB5034768");
        }
    }
    cr_expect(found);
    int exact = 0;
    const struct catalog_hostos *os = catalog_hostos_for_build(&cat, 9600, &exact);
    cr_assert_not_null(os);
    cr_expect_str_eq(os->key, "ws2012r2", "of two OSes with build 9600, the server");
    cr_expect(exact);
    os = catalog_hostos_for_build(&cat, 19045, &exact);
    cr_assert_not_null(os);
    cr_expect_str_eq(os->key, "ws2019");
    cr_expect_not(exact);
    cr_expect_null(catalog_hostos_for_build(&cat, 5000, NULL));
    catalog_free(&cat);
}

Test(catalog, host_key_mistakes_are_named)
{
    static const char base[] = "[app:a]\nname = A\nid = 55c92734-d682-4d71-983e-d6ec3f16059f\n"
                               "threshold = 5\n[kms:k]\nname = K\n"
                               "id = 58e2134f-8e11-4d17-9cb2-91069c151148\napp = a\n"
                               "n_policy = 5\nprotocol = 6\n[sku:s]\nname = S\n"
                               "id = 2de67392-b7a7-462a-b1ca-108dd189f588\nkms = k\n"
                               "[hostos:os]\nname = OS\nbuild = 17763\n";
    static const struct {
        const char *tail, *needle;
    } cases[] = {
        {"[csvlk:c]\nname = C\ngroup = 1\nkey_min = 0\nkey_max = 1\nmin_build = 0\n"
         "activates = k, nope\n",
         "there is no [kms:nope] section"},
        {"[csvlk:c]\nname = C\ngroup = 1\nkey_min = 0\nkey_max = 1\nmin_build = 0\n"
         "hosts = os:KB1, mars\n",
         "\"mars\" is not HOSTOS"},
        {"[csvlk:c]\nname = C\ngroup = 1\nkey_min = 0\nkey_max = 1\nmin_build = 0\n"
         "includes = d\n[csvlk:d]\nname = D\ngroup = 1\nkey_min = 0\nkey_max = 1\n"
         "min_build = 0\nincludes = c\n",
         "comes back to itself"},
    };
    for (size_t i = 0; i < CATALOG_TEST_COUNT(cases); i++) {
        char text[2048], err[512] = "";
        snprintf(text, sizeof text, "%s%s", base, cases[i].tail);
        struct catalog cat;
        cr_expect_eq(catalog_parse(&cat, text, "t.ini", err, sizeof err), -1, "case %zu", i);
        cr_expect(strstr(err, cases[i].needle), "case %zu: %s", i, err);
    }
}

/* Office LTSC 2024's KMS host needs Windows Server 2022 or Windows 10 at least (Microsoft's
 * "Configure a KMS host for Office" row; issue 19 item 5): a 2016 or 2019 host cannot carry it,
 * so with a Server 2019 key the keys have no common host OS. */
Test(catalog, office_ltsc_2024_host_needs_server_2022_or_windows_10)
{
    static struct catalog cat;
    catalog_test_load_builtin(&cat);
    struct host_keys keys;
    char err[256];
    cr_assert_eq(host_keys_parse(&cat, "office2024", &keys, err, sizeof err), 0, "%s", err);
    const struct catalog_csvlk *c = catalog_find_csvlk(&cat, "office2024");
    cr_assert_not_null(c);
    static const struct {
        unsigned build;
        bool carries;
    } rows[] = {{14393, false}, {17763, false}, {20348, true}, {26100, true}, {10240, true}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned build = rows[i].build;
        int rc = host_keys_build(&cat, &keys, true, &build, err, sizeof err);
        cr_expect_eq(rc == 0, rows[i].carries, "build %u: %s", rows[i].build, err);
    }
    cr_assert_eq(host_keys_parse(&cat, "ws2019,office2024", &keys, err, sizeof err), 0, "%s", err);
    unsigned build = 0;
    cr_expect_neq(host_keys_build(&cat, &keys, true, &build, err, sizeof err), 0);
    cr_expect(strstr(err, "no host OS"), "%s", err);
    /* Office LTSC 2021 still installs on a 2016 host. */
    cr_assert_eq(host_keys_parse(&cat, "office2021", &keys, err, sizeof err), 0, "%s", err);
    build = 14393;
    cr_expect_eq(host_keys_build(&cat, &keys, true, &build, err, sizeof err), 0, "%s", err);
}
