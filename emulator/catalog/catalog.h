/*
 * The product catalogue (spec §12): applications (which host counter), KMS IDs (product groups,
 * what a host decides on), SKU IDs (editions, what a client installs) and the CSVLK data a test
 * host uses for ePIDs. Loaded from products.ini (shipped beside the program and replaceable by
 * the user); the same file is compiled in as a fallback.
 */
#ifndef KMSLOAD_CATALOG_H
#define KMSLOAD_CATALOG_H

#include "wintypes.h"

#include <stddef.h>

#define CATALOG_NAME_MAX 96
#define CATALOG_KEY_MAX 48

struct catalog_app {
    char key[CATALOG_KEY_MAX];   /* short name used in files and on the command line: "windows" */
    char name[CATALOG_NAME_MAX]; /* "Windows" */
    struct guid id;
    unsigned threshold; /* default activation threshold (cache = 2 × this) */
};

struct catalog_kms {
    char key[CATALOG_KEY_MAX];   /* "win10" */
    char name[CATALOG_NAME_MAX]; /* "Windows 10/11 volume" */
    struct guid id;
    size_t app;        /* index into catalog.apps */
    unsigned n_policy; /* N_Policy a client of this group sends (25 or 5) */
    unsigned protocol; /* KMS protocol version a client of this group uses: 4, 5, 6 */
    int retail;        /* 1: retail/preview group a genuine host refuses */
};

struct catalog_sku {
    char key[CATALOG_KEY_MAX];    /* "win10-pro" */
    char name[CATALOG_NAME_MAX];  /* "Windows 10/11 Pro" */
    char alias[CATALOG_NAME_MAX]; /* optional second name, "" if none: "Windows 10 Professional" */
    struct guid id;
    size_t kms; /* index into catalog.kms */
};

/* A host OS a CSVLK can be installed on, and the update it needs first ("" when none). */
struct catalog_hosting {
    size_t os;       /* index into catalog.hostos */
    char update[24]; /* "KB5034768" */
};

struct catalog_csvlk {
    char key[CATALOG_KEY_MAX];   /* "ws2019" */
    char name[CATALOG_NAME_MAX]; /* "Windows Server 2019" */
    unsigned group;              /* ePID group id */
    unsigned long key_min, key_max;
    unsigned min_build; /* earliest host build that carries it */
    /* A host key: the product groups (indices into catalog.kms) it activates, its own and
     * those of the keys it includes; none for ePID-only entries. */
    size_t *activates;
    size_t n_activates;
    struct catalog_hosting *hosts; /* the host OSes it can be installed on */
    size_t n_hosts;
};

/* A host operating system, recognised by the build in the ePID (spec §9.1, §12.5). */
struct catalog_hostos {
    char key[CATALOG_KEY_MAX];   /* "ws2019" */
    char name[CATALOG_NAME_MAX]; /* "Windows Server 2019" */
    unsigned build;              /* 17763 */
    int server;                  /* 1: a server OS (hosts server and client keys) */
};

struct catalog {
    struct catalog_app *apps;
    size_t n_apps;
    struct catalog_kms *kms;
    size_t n_kms;
    struct catalog_sku *skus;
    size_t n_skus;
    struct catalog_csvlk *csvlks;
    size_t n_csvlks;
    struct catalog_hostos *hostos;
    size_t n_hostos;
};

/* The compiled-in copy of products.ini (generated at build time). */
extern const char catalog_builtin_ini[];

/*
 * Loads a catalogue. path == NULL: the first of $KMSLOAD_PRODUCTS, the installed data file and the
 * built-in copy that exists. Returns 0, or -1 with a message in err naming the file, line and key.
 */
int catalog_load(struct catalog *cat, const char *path, char *err, size_t err_len);
/* Parses INI text (origin names it in messages). */
int catalog_parse(struct catalog *cat, const char *text, const char *origin, char *err,
                  size_t err_len);
void catalog_free(struct catalog *cat);

/* Lookups by key, by name or SKU alias (case-insensitive) or by GUID text; NULL when absent. */
const struct catalog_sku *catalog_find_sku(const struct catalog *cat, const char *key_or_name);
const struct catalog_kms *catalog_find_kms(const struct catalog *cat, const char *key_or_name);
const struct catalog_app *catalog_find_app(const struct catalog *cat, const char *key_or_name);
const struct catalog_kms *catalog_kms_by_id(const struct catalog *cat, const struct guid *id);
const struct catalog_sku *catalog_sku_by_id(const struct catalog *cat, const struct guid *id);
const struct catalog_app *catalog_app_by_id(const struct catalog *cat, const struct guid *id);
const struct catalog_csvlk *catalog_find_csvlk(const struct catalog *cat, const char *key_or_name);
/* Whether CSVLK c activates product group kms (an index into cat->kms). */
int catalog_csvlk_activates(const struct catalog_csvlk *c, size_t kms);
/* The host OS an ePID's build shows: the server OS of that build, else the OS with the largest
 * build not above it (*exact = 0 then); NULL when the build predates every one. */
const struct catalog_hostos *catalog_hostos_for_build(const struct catalog *cat, unsigned build,
                                                      int *exact);

#endif
