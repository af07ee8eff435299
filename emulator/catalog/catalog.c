/*
 * The product catalogue: products.ini parsed with inih, every value checked, references between
 * sections resolved after the whole file is read (a section may refer to one defined later).
 * Parsing stops at the first mistake and reports it as "origin:line: [section] key: problem".
 */
#include "catalog.h"
#include "data_dir.h"
#include "ini_lines.h"

#include <ini.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CATALOG_ENV_VAR "KMSLOAD_PRODUCTS"
#define CATALOG_BUILTIN_ORIGIN "built-in catalogue"
/* A catalogue is a few KiB; a file this large is almost certainly the wrong file. */
#define CATALOG_FILE_MAX (1024 * 1024)
#define CATALOG_ERR_MAX 1024

enum section_kind { KIND_NONE, KIND_APP, KIND_KMS, KIND_SKU, KIND_CSVLK, KIND_HOSTOS };

static const char *const kind_names[] = {
    [KIND_NONE] = "",   [KIND_APP] = "app",     [KIND_KMS] = "kms",
    [KIND_SKU] = "sku", [KIND_CSVLK] = "csvlk", [KIND_HOSTOS] = "hostos"};

enum field {
    F_NAME = 1u << 0,
    F_ALIAS = 1u << 1,
    F_ID = 1u << 2,
    F_THRESHOLD = 1u << 3,
    F_APP = 1u << 4,
    F_N_POLICY = 1u << 5,
    F_PROTOCOL = 1u << 6,
    F_RETAIL = 1u << 7,
    F_KMS = 1u << 8,
    F_GROUP = 1u << 9,
    F_KEY_MIN = 1u << 10,
    F_KEY_MAX = 1u << 11,
    F_MIN_BUILD = 1u << 12,
    F_ACTIVATES = 1u << 13,
    F_INCLUDES = 1u << 14,
    F_HOSTS = 1u << 15,
    F_BUILD = 1u << 16,
    F_SERVER = 1u << 17,
};

struct field_spec {
    enum section_kind kind;
    const char *key;
    enum field field;
    bool required;
};

/* The keys each section type accepts, in the order messages list them. */
static const struct field_spec field_specs[] = {
    {KIND_APP, "name", F_NAME, true},
    {KIND_APP, "id", F_ID, true},
    {KIND_APP, "threshold", F_THRESHOLD, true},
    {KIND_KMS, "name", F_NAME, true},
    {KIND_KMS, "id", F_ID, true},
    {KIND_KMS, "app", F_APP, true},
    {KIND_KMS, "n_policy", F_N_POLICY, true},
    {KIND_KMS, "protocol", F_PROTOCOL, true},
    {KIND_KMS, "retail", F_RETAIL, false},
    {KIND_SKU, "name", F_NAME, true},
    {KIND_SKU, "alias", F_ALIAS, false},
    {KIND_SKU, "id", F_ID, true},
    {KIND_SKU, "kms", F_KMS, true},
    {KIND_CSVLK, "name", F_NAME, true},
    {KIND_CSVLK, "group", F_GROUP, true},
    {KIND_CSVLK, "key_min", F_KEY_MIN, true},
    {KIND_CSVLK, "key_max", F_KEY_MAX, true},
    {KIND_CSVLK, "min_build", F_MIN_BUILD, true},
    {KIND_CSVLK, "activates", F_ACTIVATES, false},
    {KIND_CSVLK, "includes", F_INCLUDES, false},
    {KIND_CSVLK, "hosts", F_HOSTS, false},
    {KIND_HOSTOS, "name", F_NAME, true},
    {KIND_HOSTOS, "build", F_BUILD, true},
    {KIND_HOSTOS, "server", F_SERVER, false},
};

/* A host key's lists, kept as text until the whole file is read. */
struct csvlk_pending {
    char activates[INI_MAX_LINE], hosts[INI_MAX_LINE];
    char includes[CATALOG_KEY_MAX];
    unsigned activates_line, hosts_line, includes_line;
};

/* A reference to another section's key, resolved once the whole file has been read. */
struct pending_ref {
    char key[CATALOG_KEY_MAX];
    unsigned line;
};

struct parse_state {
    struct catalog *cat;
    const char *origin;

    /* ini_lines feeds inih one line at a time so that messages can carry line numbers. */
    unsigned line;   /* line being processed */
    bool any_header; /* a [section] header has been seen */

    /* The section being filled. */
    enum section_kind kind;
    size_t index;  /* its index in the array of its kind */
    unsigned seen; /* enum field bits given so far */
    unsigned header_line;
    char label[INI_MAX_LINE]; /* "kms:win10", as in its header */

    size_t cap_apps, cap_kms, cap_skus, cap_csvlks; /* allocated lengths of the cat arrays */
    struct pending_ref *kms_app_refs;               /* parallel to cat->kms */
    struct pending_ref *sku_kms_refs;               /* parallel to cat->skus */
    size_t cap_kms_app_refs, cap_sku_kms_refs;
    struct csvlk_pending *csvlk_refs; /* parallel to cat->csvlks */
    size_t cap_csvlk_refs, cap_hostos;

    bool failed;
    char err[CATALOG_ERR_MAX];
};

/* Records the first error; line 0 means the message concerns the whole file. */
static void fail(struct parse_state *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct parse_state *ps, unsigned line, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    int prefix = line ? snprintf(ps->err, sizeof ps->err, "%s:%u: ", ps->origin, line)
                      : snprintf(ps->err, sizeof ps->err, "%s: ", ps->origin);
    if (prefix < 0 || (size_t)prefix >= sizeof ps->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + prefix, sizeof ps->err - (size_t)prefix, fmt, ap);
    va_end(ap);
}

/* A uniform view of one entry of any kind, for checks and lookups shared by all kinds. */
struct entry_view {
    const char *key;
    const char *name;
    const char *alias;     /* "" when the kind has none */
    const struct guid *id; /* NULL when the kind has none */
};

static size_t kind_count(const struct catalog *cat, enum section_kind kind)
{
    switch (kind) {
    case KIND_APP:
        return cat->n_apps;
    case KIND_KMS:
        return cat->n_kms;
    case KIND_SKU:
        return cat->n_skus;
    case KIND_CSVLK:
        return cat->n_csvlks;
    case KIND_HOSTOS:
        return cat->n_hostos;
    case KIND_NONE:
        break;
    }
    return 0;
}

static struct entry_view entry_at(const struct catalog *cat, enum section_kind kind, size_t i)
{
    struct entry_view v = {"", "", "", NULL};
    switch (kind) {
    case KIND_APP:
        v = (struct entry_view){cat->apps[i].key, cat->apps[i].name, "", &cat->apps[i].id};
        break;
    case KIND_KMS:
        v = (struct entry_view){cat->kms[i].key, cat->kms[i].name, "", &cat->kms[i].id};
        break;
    case KIND_SKU:
        v = (struct entry_view){cat->skus[i].key, cat->skus[i].name, cat->skus[i].alias,
                                &cat->skus[i].id};
        break;
    case KIND_CSVLK:
        v = (struct entry_view){cat->csvlks[i].key, cat->csvlks[i].name, "", NULL};
        break;
    case KIND_HOSTOS:
        v = (struct entry_view){cat->hostos[i].key, cat->hostos[i].name, "", NULL};
        break;
    case KIND_NONE:
        break;
    }
    return v;
}

static bool valid_key(const char *key)
{
    size_t len = strlen(key);
    if (len == 0 || len >= CATALOG_KEY_MAX)
        return false;
    if (!islower((unsigned char)key[0]) && !isdigit((unsigned char)key[0]))
        return false;
    for (const char *p = key; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("-._", *p))
            return false;
    }
    return true;
}

/*
 * Returns array grown (if needed) to hold n + 1 elements of elem_size, updating *cap; NULL when out
 * of memory, leaving array untouched.
 */
static void *grow_for_one_more(void *array, size_t *cap, size_t n, size_t elem_size)
{
    if (n < *cap)
        return array;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(array, new_cap * elem_size);
    if (grown)
        *cap = new_cap;
    return grown;
}

/* Appends a zeroed entry of the given kind with this key; returns false when out of memory. */
static bool append_entry(struct parse_state *ps, enum section_kind kind, const char *key,
                         size_t *index)
{
    struct catalog *cat = ps->cat;
    void *grown;
    switch (kind) {
    case KIND_APP:
        grown = grow_for_one_more(cat->apps, &ps->cap_apps, cat->n_apps, sizeof *cat->apps);
        if (!grown)
            return false;
        cat->apps = grown;
        *index = cat->n_apps++;
        cat->apps[*index] = (struct catalog_app){0};
        strcpy(cat->apps[*index].key, key);
        return true;
    case KIND_KMS:
        grown = grow_for_one_more(cat->kms, &ps->cap_kms, cat->n_kms, sizeof *cat->kms);
        if (!grown)
            return false;
        cat->kms = grown;
        grown = grow_for_one_more(ps->kms_app_refs, &ps->cap_kms_app_refs, cat->n_kms,
                                  sizeof *ps->kms_app_refs);
        if (!grown)
            return false;
        ps->kms_app_refs = grown;
        *index = cat->n_kms++;
        cat->kms[*index] = (struct catalog_kms){0};
        ps->kms_app_refs[*index] = (struct pending_ref){{0}, 0};
        strcpy(cat->kms[*index].key, key);
        return true;
    case KIND_SKU:
        grown = grow_for_one_more(cat->skus, &ps->cap_skus, cat->n_skus, sizeof *cat->skus);
        if (!grown)
            return false;
        cat->skus = grown;
        grown = grow_for_one_more(ps->sku_kms_refs, &ps->cap_sku_kms_refs, cat->n_skus,
                                  sizeof *ps->sku_kms_refs);
        if (!grown)
            return false;
        ps->sku_kms_refs = grown;
        *index = cat->n_skus++;
        cat->skus[*index] = (struct catalog_sku){0};
        ps->sku_kms_refs[*index] = (struct pending_ref){{0}, 0};
        strcpy(cat->skus[*index].key, key);
        return true;
    case KIND_CSVLK:
        grown = grow_for_one_more(cat->csvlks, &ps->cap_csvlks, cat->n_csvlks, sizeof *cat->csvlks);
        if (!grown)
            return false;
        cat->csvlks = grown;
        grown = grow_for_one_more(ps->csvlk_refs, &ps->cap_csvlk_refs, cat->n_csvlks,
                                  sizeof *ps->csvlk_refs);
        if (!grown)
            return false;
        ps->csvlk_refs = grown;
        *index = cat->n_csvlks++;
        cat->csvlks[*index] = (struct catalog_csvlk){0};
        memset(&ps->csvlk_refs[*index], 0, sizeof ps->csvlk_refs[*index]);
        strcpy(cat->csvlks[*index].key, key);
        return true;
    case KIND_HOSTOS:
        grown = grow_for_one_more(cat->hostos, &ps->cap_hostos, cat->n_hostos, sizeof *cat->hostos);
        if (!grown)
            return false;
        cat->hostos = grown;
        *index = cat->n_hostos++;
        cat->hostos[*index] = (struct catalog_hostos){0};
        strcpy(cat->hostos[*index].key, key);
        return true;
    case KIND_NONE:
        break;
    }
    return false;
}

/* Checks the section that just ended for keys it lacks and for values that contradict. */
static void finish_section(struct parse_state *ps)
{
    if (ps->failed || ps->kind == KIND_NONE)
        return;
    for (size_t i = 0; i < sizeof field_specs / sizeof field_specs[0]; i++) {
        const struct field_spec *spec = &field_specs[i];
        if (spec->kind == ps->kind && spec->required && !(ps->seen & spec->field)) {
            fail(ps, ps->header_line, "[%s]: missing key \"%s\"", ps->label, spec->key);
            return;
        }
    }
    if (ps->kind == KIND_CSVLK) {
        const struct catalog_csvlk *c = &ps->cat->csvlks[ps->index];
        if (c->key_min > c->key_max)
            fail(ps, ps->header_line, "[%s]: key_min %lu is above key_max %lu", ps->label,
                 c->key_min, c->key_max);
    }
    ps->kind = KIND_NONE;
}

/* Starts a new entry for the header text "type:key" (the part between the brackets). */
static void begin_section(struct parse_state *ps, const char *label)
{
    finish_section(ps);
    if (ps->failed)
        return;
    snprintf(ps->label, sizeof ps->label, "%s", label);
    ps->header_line = ps->line;
    ps->seen = 0;
    ps->any_header = true;

    const char *colon = strchr(label, ':');
    enum section_kind kind = KIND_NONE;
    for (int k = KIND_APP; colon && k <= KIND_HOSTOS; k++) {
        size_t len = strlen(kind_names[k]);
        if ((size_t)(colon - label) == len && strncmp(label, kind_names[k], len) == 0)
            kind = (enum section_kind)k;
    }
    if (kind == KIND_NONE) {
        fail(ps, ps->line,
             "[%s]: unknown section type (expected [app:KEY], [kms:KEY], [sku:KEY], "
             "[csvlk:KEY] or [hostos:KEY])",
             label);
        return;
    }
    const char *key = colon + 1;
    if (!valid_key(key)) {
        fail(ps, ps->line,
             "[%s]: the key after \"%s:\" must be 1..%d characters of a-z, 0-9, '-', '.', '_', "
             "starting with a letter or digit",
             label, kind_names[kind], CATALOG_KEY_MAX - 1);
        return;
    }
    for (size_t i = 0; i < kind_count(ps->cat, kind); i++) {
        if (strcmp(entry_at(ps->cat, kind, i).key, key) == 0) {
            fail(ps, ps->line, "[%s]: this section is defined twice", label);
            return;
        }
    }
    if (!append_entry(ps, kind, key, &ps->index)) {
        fail(ps, 0, "out of memory");
        return;
    }
    ps->kind = kind;
}

static bool parse_number(struct parse_state *ps, const char *key, const char *value,
                         unsigned long min, unsigned long max, unsigned long *out)
{
    bool digits = *value != '\0' && strlen(value) <= 10;
    for (const char *p = value; digits && *p; p++)
        digits = isdigit((unsigned char)*p);
    unsigned long n = 0;
    if (digits) {
        errno = 0;
        n = strtoul(value, NULL, 10);
    }
    if (!digits || errno == ERANGE || n < min || n > max) {
        fail(ps, ps->line, "[%s] %s: expected a number %lu..%lu, got \"%s\"", ps->label, key, min,
             max, value);
        return false;
    }
    *out = n;
    return true;
}

/* Stores a name or alias after checking it is usable and names no other entry of this kind. */
static void set_name(struct parse_state *ps, const char *key, const char *value, char *dest)
{
    size_t len = strlen(value);
    bool printable = true;
    for (const char *p = value; *p; p++)
        printable = printable && (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (len == 0 || len >= CATALOG_NAME_MAX || !printable) {
        fail(ps, ps->line, "[%s] %s: expected 1..%d printable characters, got \"%s\"", ps->label,
             key, CATALOG_NAME_MAX - 1, value);
        return;
    }
    for (size_t i = 0; i < kind_count(ps->cat, ps->kind); i++) {
        struct entry_view other = entry_at(ps->cat, ps->kind, i);
        bool clash = strcasecmp(other.name, value) == 0 ||
                     (other.alias[0] && strcasecmp(other.alias, value) == 0);
        if (!clash)
            continue;
        if (i == ps->index)
            fail(ps, ps->line, "[%s] %s: \"%s\" repeats this section's %s", ps->label, key, value,
                 strcmp(key, "name") == 0 ? "alias" : "name");
        else
            fail(ps, ps->line, "[%s] %s: \"%s\" already names [%s:%s]", ps->label, key, value,
                 kind_names[ps->kind], other.key);
        return;
    }
    memcpy(dest, value, len + 1);
}

static void set_id(struct parse_state *ps, const char *key, const char *value, struct guid *dest)
{
    struct guid id;
    if (guid_parse(value, &id) != 0) {
        fail(ps, ps->line,
             "[%s] %s: expected a GUID like 55c92734-d682-4d71-983e-d6ec3f16059f, got \"%s\"",
             ps->label, key, value);
        return;
    }
    for (size_t i = 0; i < kind_count(ps->cat, ps->kind); i++) {
        struct entry_view other = entry_at(ps->cat, ps->kind, i);
        if (i != ps->index && guid_equal(other.id, &id)) {
            fail(ps, ps->line, "[%s] %s: %s is already the id of [%s:%s]", ps->label, key, value,
                 kind_names[ps->kind], other.key);
            return;
        }
    }
    *dest = id;
}

static void set_reference(struct parse_state *ps, const char *key, const char *value,
                          enum section_kind target, struct pending_ref *ref)
{
    if (!valid_key(value)) {
        fail(ps, ps->line, "[%s] %s: expected the key of a [%s:KEY] section, got \"%s\"", ps->label,
             key, kind_names[target], value);
        return;
    }
    strcpy(ref->key, value);
    ref->line = ps->line;
}

static void list_keys(enum section_kind kind, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof field_specs / sizeof field_specs[0]; i++) {
        if (field_specs[i].kind != kind)
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", field_specs[i].key);
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

/* The fields whose value is a name, an ID or a reference to another section. */
static void set_text_field(struct parse_state *ps, const struct field_spec *spec, const char *key,
                           const char *value)
{
    struct catalog *cat = ps->cat;
    size_t i = ps->index;
    switch (spec->field) {
    case F_NAME:
        set_name(ps, key, value,
                 ps->kind == KIND_APP     ? cat->apps[i].name
                 : ps->kind == KIND_KMS   ? cat->kms[i].name
                 : ps->kind == KIND_SKU   ? cat->skus[i].name
                 : ps->kind == KIND_CSVLK ? cat->csvlks[i].name
                                          : cat->hostos[i].name);
        break;
    case F_ALIAS:
        set_name(ps, key, value, cat->skus[i].alias);
        break;
    case F_ID:
        set_id(ps, key, value,
               ps->kind == KIND_APP   ? &cat->apps[i].id
               : ps->kind == KIND_KMS ? &cat->kms[i].id
                                      : &cat->skus[i].id);
        break;
    case F_APP:
        set_reference(ps, key, value, KIND_APP, &ps->kms_app_refs[i]);
        break;
    case F_KMS:
        set_reference(ps, key, value, KIND_KMS, &ps->sku_kms_refs[i]);
        break;
    case F_ACTIVATES:
        snprintf(ps->csvlk_refs[i].activates, sizeof ps->csvlk_refs[i].activates, "%s", value);
        ps->csvlk_refs[i].activates_line = ps->line;
        break;
    case F_HOSTS:
        snprintf(ps->csvlk_refs[i].hosts, sizeof ps->csvlk_refs[i].hosts, "%s", value);
        ps->csvlk_refs[i].hosts_line = ps->line;
        break;
    case F_INCLUDES:
        if (!valid_key(value)) {
            fail(ps, ps->line, "[%s] %s: expected the key of a [csvlk:KEY] section, got \"%s\"",
                 ps->label, key, value);
            break;
        }
        strcpy(ps->csvlk_refs[i].includes, value);
        ps->csvlk_refs[i].includes_line = ps->line;
        break;
    default:
        break;
    }
}

/* The fields whose value is a number in a range. */
static void set_number_field(struct parse_state *ps, const struct field_spec *spec, const char *key,
                             const char *value)
{
    struct catalog *cat = ps->cat;
    size_t i = ps->index;
    unsigned long n;
    switch (spec->field) {
    case F_THRESHOLD:
        if (parse_number(ps, key, value, 1, 1000, &n))
            cat->apps[i].threshold = (unsigned)n;
        break;
    case F_N_POLICY:
        /* vlmcsd refuses N_Policy above 1000 (spec §10). */
        if (parse_number(ps, key, value, 1, 1000, &n))
            cat->kms[i].n_policy = (unsigned)n;
        break;
    case F_PROTOCOL:
        if (parse_number(ps, key, value, 4, 6, &n))
            cat->kms[i].protocol = (unsigned)n;
        break;
    case F_RETAIL:
        if (parse_number(ps, key, value, 0, 1, &n))
            cat->kms[i].retail = (int)n;
        break;
    case F_GROUP:
        /* ePID fields are fixed-width decimal (spec §9.1): 5 digits of group, 9 of key ID. */
        if (parse_number(ps, key, value, 0, 99999, &n))
            cat->csvlks[i].group = (unsigned)n;
        break;
    case F_KEY_MIN:
        parse_number(ps, key, value, 0, 999999999, &cat->csvlks[i].key_min);
        break;
    case F_KEY_MAX:
        parse_number(ps, key, value, 0, 999999999, &cat->csvlks[i].key_max);
        break;
    case F_MIN_BUILD:
        if (parse_number(ps, key, value, 0, 99999, &n))
            cat->csvlks[i].min_build = (unsigned)n;
        break;
    case F_BUILD:
        if (parse_number(ps, key, value, 6000, 99999, &n))
            cat->hostos[i].build = (unsigned)n;
        break;
    case F_SERVER:
        if (parse_number(ps, key, value, 0, 1, &n))
            cat->hostos[i].server = (int)n;
        break;
    default:
        break;
    }
}

static void set_field(struct parse_state *ps, const char *key, const char *value)
{
    const struct field_spec *spec = NULL;
    for (size_t i = 0; i < sizeof field_specs / sizeof field_specs[0]; i++) {
        if (field_specs[i].kind == ps->kind && strcmp(field_specs[i].key, key) == 0)
            spec = &field_specs[i];
    }
    if (!spec) {
        char known[128];
        list_keys(ps->kind, known, sizeof known);
        fail(ps, ps->line, "[%s] %s: unknown key (expected one of: %s)", ps->label, key, known);
        return;
    }
    if (ps->seen & spec->field) {
        fail(ps, ps->line, "[%s] %s: given twice in this section", ps->label, key);
        return;
    }
    ps->seen |= spec->field;
    set_text_field(ps, spec, key, value);
    set_number_field(ps, spec, key, value);
}

static int on_section(void *user, unsigned line, const char *label)
{
    struct parse_state *ps = user;
    ps->line = line;
    begin_section(ps, label);
    return ps->failed;
}

static int on_value(void *user, unsigned line, const char *name, const char *value)
{
    struct parse_state *ps = user;
    ps->line = line;
    if (!ps->any_header)
        fail(ps, ps->line, "%s: key outside any [type:key] section", name);
    else if (ps->kind != KIND_NONE)
        set_field(ps, name, value);
    return ps->failed;
}

static void on_line_error(void *user, unsigned line, const char *message)
{
    fail(user, line, "%s", message);
}

static size_t find_key(const struct catalog *cat, enum section_kind kind, const char *key)
{
    for (size_t i = 0; i < kind_count(cat, kind); i++) {
        if (strcmp(entry_at(cat, kind, i).key, key) == 0)
            return i;
    }
    return (size_t)-1;
}

static void resolve_references(struct parse_state *ps)
{
    struct catalog *cat = ps->cat;
    for (size_t i = 0; i < cat->n_kms && !ps->failed; i++) {
        const struct pending_ref *ref = &ps->kms_app_refs[i];
        cat->kms[i].app = find_key(cat, KIND_APP, ref->key);
        if (cat->kms[i].app == (size_t)-1)
            fail(ps, ref->line, "[kms:%s] app: there is no [app:%s] section", cat->kms[i].key,
                 ref->key);
    }
    for (size_t i = 0; i < cat->n_skus && !ps->failed; i++) {
        const struct pending_ref *ref = &ps->sku_kms_refs[i];
        cat->skus[i].kms = find_key(cat, KIND_KMS, ref->key);
        if (cat->skus[i].kms == (size_t)-1)
            fail(ps, ref->line, "[sku:%s] kms: there is no [kms:%s] section", cat->skus[i].key,
                 ref->key);
    }
}

/* The next comma-separated item of *list, spaces trimmed, into item; false at the end. */
static bool next_item(const char **list, char *item, size_t cap)
{
    const char *p = *list;
    while (*p == ' ' || *p == ',')
        p++;
    if (!*p)
        return false;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[len - 1] == ' ')
        len--;
    snprintf(item, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
    *list = end ? end : p + strlen(p);
    return true;
}

static bool add_activated(struct catalog_csvlk *c, size_t kms)
{
    for (size_t i = 0; i < c->n_activates; i++)
        if (c->activates[i] == kms)
            return true;
    size_t *grown = realloc(c->activates, (c->n_activates + 1) * sizeof *grown);
    if (!grown)
        return false;
    c->activates = grown;
    c->activates[c->n_activates++] = kms;
    return true;
}

/* Host keys' own groups, their host OSes, then what each includes (a chain, never a cycle). */
static void resolve_host_keys(struct parse_state *ps)
{
    struct catalog *cat = ps->cat;
    char item[INI_MAX_LINE];
    for (size_t i = 0; i < cat->n_csvlks && !ps->failed; i++) {
        struct catalog_csvlk *c = &cat->csvlks[i];
        const struct csvlk_pending *pend = &ps->csvlk_refs[i];
        for (const char *p = pend->activates; !ps->failed && next_item(&p, item, sizeof item);) {
            size_t k = find_key(cat, KIND_KMS, item);
            if (k == (size_t)-1)
                fail(ps, pend->activates_line, "[csvlk:%s] activates: there is no [kms:%s] section",
                     c->key, item);
            else if (!add_activated(c, k))
                fail(ps, 0, "out of memory");
        }
        for (const char *p = pend->hosts; !ps->failed && next_item(&p, item, sizeof item);) {
            char *colon = strchr(item, ':');
            if (colon)
                *colon = '\0';
            size_t os = find_key(cat, KIND_HOSTOS, item);
            if (os == (size_t)-1 || (colon && (!colon[1] || strlen(colon + 1) >= 24))) {
                fail(ps, pend->hosts_line,
                     "[csvlk:%s] hosts: \"%s\" is not HOSTOS or HOSTOS:UPDATE with a [hostos:] "
                     "key",
                     c->key, item);
                break;
            }
            struct catalog_hosting *grown = realloc(c->hosts, (c->n_hosts + 1) * sizeof *grown);
            if (!grown) {
                fail(ps, 0, "out of memory");
                break;
            }
            c->hosts = grown;
            c->hosts[c->n_hosts].os = os;
            snprintf(c->hosts[c->n_hosts].update, sizeof c->hosts[c->n_hosts].update, "%s",
                     colon ? colon + 1 : "");
            c->n_hosts++;
        }
        if (pend->includes[0] && find_key(cat, KIND_CSVLK, pend->includes) == (size_t)-1)
            fail(ps, pend->includes_line, "[csvlk:%s] includes: there is no [csvlk:%s] section",
                 c->key, pend->includes);
    }
    /* Unions along each includes chain, from the includer's own copy so order does not matter. */
    size_t *n_own = calloc(cat->n_csvlks + 1, sizeof *n_own);
    if (!n_own) {
        fail(ps, 0, "out of memory");
        return;
    }
    for (size_t i = 0; i < cat->n_csvlks; i++)
        n_own[i] = cat->csvlks[i].n_activates;
    for (size_t i = 0; i < cat->n_csvlks && !ps->failed; i++) {
        size_t at = i, steps = 0;
        while (!ps->failed && ps->csvlk_refs[at].includes[0]) {
            at = find_key(cat, KIND_CSVLK, ps->csvlk_refs[at].includes);
            if (++steps > cat->n_csvlks || at == i) {
                fail(ps, ps->csvlk_refs[i].includes_line,
                     "[csvlk:%s] includes: the chain of includes comes back to itself",
                     cat->csvlks[i].key);
                break;
            }
            for (size_t k = 0; k < n_own[at] && !ps->failed; k++)
                if (!add_activated(&cat->csvlks[i], cat->csvlks[at].activates[k]))
                    fail(ps, 0, "out of memory");
        }
    }
    free(n_own);
}

int catalog_parse(struct catalog *cat, const char *text, const char *origin, char *err,
                  size_t err_len)
{
    *cat = (struct catalog){0};
    struct parse_state ps = {.cat = cat, .origin = origin ? origin : "catalogue"};
    static const struct ini_lines_handlers handlers = {
        .on_section = on_section,
        .on_value = on_value,
        .on_error = on_line_error,
        .header_example = "[type:key]",
    };
    if (!text)
        fail(&ps, 0, "no catalogue text");
    else
        ini_lines_parse(text, &handlers, &ps);
    finish_section(&ps);
    if (!ps.failed)
        resolve_references(&ps);
    if (!ps.failed)
        resolve_host_keys(&ps);
    if (!ps.failed && (!cat->n_apps || !cat->n_kms || !cat->n_skus))
        fail(&ps, 0, "defines no %s",
             !cat->n_apps  ? "[app:KEY] section"
             : !cat->n_kms ? "[kms:KEY] section"
                           : "[sku:KEY] section");
    free(ps.kms_app_refs);
    free(ps.sku_kms_refs);
    free(ps.csvlk_refs);
    if (ps.failed) {
        catalog_free(cat);
        if (err && err_len)
            snprintf(err, err_len, "%s", ps.err);
        return -1;
    }
    return 0;
}

static const char *read_error_text(int error)
{
    switch (error) {
    case EFBIG:
        return "file is larger than 1 MiB, which no product catalogue is";
    case EILSEQ:
        return "file contains NUL bytes; a product catalogue is a text file";
    default:
        return strerror(error);
    }
}

/* why names where path came from in messages ("" when it was given directly). */
static int load_file(struct catalog *cat, const char *path, const char *why, char *err,
                     size_t err_len)
{
    char *text;
    if (ini_lines_read_file(path, CATALOG_FILE_MAX, &text) != 0) {
        *cat = (struct catalog){0};
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot read the product catalogue%s: %s", path, why,
                     read_error_text(errno));
        return -1;
    }
    int rc = catalog_parse(cat, text, path, err, err_len);
    free(text);
    return rc;
}

int catalog_load(struct catalog *cat, const char *path, char *err, size_t err_len)
{
    if (path)
        return load_file(cat, path, "", err, err_len);
    /* A catalogue the user names explicitly must not be silently replaced by another one. */
    const char *env_path = getenv(CATALOG_ENV_VAR);
    if (env_path && *env_path)
        return load_file(cat, env_path, " named by $" CATALOG_ENV_VAR, err, err_len);

    /* Only a missing installed file falls back; an unreadable or broken one is reported. */
    char installed[1100];
    data_dir_path("products.ini", installed, sizeof installed);
    char *text;
    if (ini_lines_read_file(installed, CATALOG_FILE_MAX, &text) == 0) {
        int rc = catalog_parse(cat, text, installed, err, err_len);
        free(text);
        return rc;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
        *cat = (struct catalog){0};
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot read the product catalogue: %s", installed,
                     read_error_text(errno));
        return -1;
    }
    return catalog_parse(cat, catalog_builtin_ini, CATALOG_BUILTIN_ORIGIN, err, err_len);
}

void catalog_free(struct catalog *cat)
{
    if (!cat)
        return;
    free(cat->apps);
    free(cat->kms);
    free(cat->skus);
    for (size_t i = 0; i < cat->n_csvlks; i++) {
        free(cat->csvlks[i].activates);
        free(cat->csvlks[i].hosts);
    }
    free(cat->csvlks);
    free(cat->hostos);
    *cat = (struct catalog){0};
}

/* Index of the entry whose key (exact), name or alias (any case) or GUID text is text. */
static size_t find_entry(const struct catalog *cat, enum section_kind kind, const char *text)
{
    if (!cat || !text)
        return (size_t)-1;
    size_t n = kind_count(cat, kind);
    size_t i = find_key(cat, kind, text);
    if (i != (size_t)-1)
        return i;
    for (i = 0; i < n; i++) {
        struct entry_view v = entry_at(cat, kind, i);
        if (strcasecmp(v.name, text) == 0 || (v.alias[0] && strcasecmp(v.alias, text) == 0))
            return i;
    }
    struct guid id;
    if (guid_parse(text, &id) != 0)
        return (size_t)-1;
    for (i = 0; i < n; i++) {
        struct entry_view v = entry_at(cat, kind, i);
        if (v.id && guid_equal(v.id, &id))
            return i;
    }
    return (size_t)-1;
}

static size_t find_id(const struct catalog *cat, enum section_kind kind, const struct guid *id)
{
    if (!cat || !id)
        return (size_t)-1;
    for (size_t i = 0; i < kind_count(cat, kind); i++) {
        struct entry_view v = entry_at(cat, kind, i);
        if (v.id && guid_equal(v.id, id))
            return i;
    }
    return (size_t)-1;
}

const struct catalog_sku *catalog_find_sku(const struct catalog *cat, const char *key_or_name)
{
    size_t i = find_entry(cat, KIND_SKU, key_or_name);
    return i == (size_t)-1 ? NULL : &cat->skus[i];
}

const struct catalog_kms *catalog_find_kms(const struct catalog *cat, const char *key_or_name)
{
    size_t i = find_entry(cat, KIND_KMS, key_or_name);
    return i == (size_t)-1 ? NULL : &cat->kms[i];
}

const struct catalog_app *catalog_find_app(const struct catalog *cat, const char *key_or_name)
{
    size_t i = find_entry(cat, KIND_APP, key_or_name);
    return i == (size_t)-1 ? NULL : &cat->apps[i];
}

const struct catalog_kms *catalog_kms_by_id(const struct catalog *cat, const struct guid *id)
{
    size_t i = find_id(cat, KIND_KMS, id);
    return i == (size_t)-1 ? NULL : &cat->kms[i];
}

const struct catalog_sku *catalog_sku_by_id(const struct catalog *cat, const struct guid *id)
{
    size_t i = find_id(cat, KIND_SKU, id);
    return i == (size_t)-1 ? NULL : &cat->skus[i];
}

const struct catalog_app *catalog_app_by_id(const struct catalog *cat, const struct guid *id)
{
    size_t i = find_id(cat, KIND_APP, id);
    return i == (size_t)-1 ? NULL : &cat->apps[i];
}

const struct catalog_csvlk *catalog_find_csvlk(const struct catalog *cat, const char *key_or_name)
{
    size_t i = find_entry(cat, KIND_CSVLK, key_or_name);
    return i == (size_t)-1 ? NULL : &cat->csvlks[i];
}

int catalog_csvlk_activates(const struct catalog_csvlk *c, size_t kms)
{
    for (size_t i = 0; i < c->n_activates; i++)
        if (c->activates[i] == kms)
            return 1;
    return 0;
}

const struct catalog_hostos *catalog_hostos_for_build(const struct catalog *cat, unsigned build,
                                                      int *exact)
{
    const struct catalog_hostos *best = NULL;
    for (size_t i = 0; i < cat->n_hostos; i++) {
        const struct catalog_hostos *h = &cat->hostos[i];
        if (h->build > build)
            continue;
        /* The newest build not above it; of two with that build, the server. */
        if (!best || h->build > best->build ||
            (h->build == best->build && h->server > best->server))
            best = h;
    }
    if (exact)
        *exact = best && best->build == build;
    return best;
}
