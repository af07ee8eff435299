#include "probe_set.h"

#include "client_request.h"
#include "errmsg.h"
#include "ini_lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A modules file is a few lines: anything larger is not one. */
#define PROBE_MODULES_FILE_MAX (64 * 1024)

/* Newer servers first (a server key activates the clients and servers before it), then older
 * clients; Office from 2019 on, then 2013. Never Office 2010 (retired: its count stays at the
 * probe's own 1 and count alerts fire). */
const char *const probe_set_candidates[PROBE_SET_CANDIDATE_RANKS] = {
    "ws2025-std,office2019-proplus",
    "ws2022-std,office2021-proplus",
    "ws2019-std,office2024-proplus",
    "ws2016-std,office2013-proplus",
    "win8-pro",
    "win7-pro",
};

int probe_set_parse(struct probe_set *set, const struct catalog *cat, const char *list,
                    const struct guid *cmid, const char *what, char *err, size_t err_len)
{
    char name[PROBE_SET_NAME_MAX];
    snprintf(name, sizeof name, "%s", set->name);
    memset(set, 0, sizeof *set);
    snprintf(set->name, sizeof set->name, "%s", name);
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[CATALOG_KEY_MAX + CATALOG_NAME_MAX];
        size_t skip = strspn(p, " \t");
        size_t keep = skip < len ? len - skip : 0;
        while (keep && (p[skip + keep - 1] == ' ' || p[skip + keep - 1] == '\t'))
            keep--;
        snprintf(item, sizeof item, "%.*s", (int)keep, p + skip);
        p += len + (p[len] == ',');
        if (!item[0])
            continue;
        size_t n = set->n;
        const struct catalog_kms *group;
        const struct catalog_sku *sku;
        if (n == PROBE_SET_MAX_APPS)
            return errmsg_set(err, err_len, "%s: at most %d applications", what,
                              PROBE_SET_MAX_APPS);
        if (client_product_find(cat, item, &sku, &group))
            return errmsg_set(err, err_len,
                              "%s: \"%s\" is not a catalogue edition or group (see "
                              "kmsload probe --list-products)",
                              what, item);
        const struct catalog_app *app = &cat->apps[group->app];
        for (size_t i = 0; i < n; i++)
            if (strcmp(set->app[i], app->key) == 0)
                return errmsg_set(err, err_len,
                                  "%s: \"%s\" and \"%s\" are both %s: give one per application",
                                  what, set->product[i], item, app->name);
        client_request_for(cat, group, sku, &set->requests[n]);
        set->requests[n].cmid = *cmid;
        char ws[64];
        snprintf(ws, sizeof ws, "kmsload-watch-%s", app->key);
        kms_request_set_workstation(&set->requests[n], ws);
        snprintf(set->app[n], sizeof set->app[n], "%s", app->key);
        snprintf(set->product[n], sizeof set->product[n], "%s", item);
        set->required[n] = group->n_policy;
        set->n = n + 1;
    }
    if (set->n == 0)
        return errmsg_set(err, err_len, "%s: no product given", what);
    return 0;
}

/* Adds (or replaces) the module name. */
static int modules_put(struct probe_modules *m, const struct catalog *cat, const char *name,
                       const char *list, const struct guid *cmid, const char *what, char *err,
                       size_t err_len)
{
    size_t i = 0;
    while (i < m->n && strcmp(m->sets[i].name, name) != 0)
        i++;
    if (i == PROBE_MODULES_MAX)
        return errmsg_set(err, err_len, "%s: at most %d modules", what, PROBE_MODULES_MAX);
    struct probe_set *set = &m->sets[i];
    snprintf(set->name, sizeof set->name, "%s", name);
    if (probe_set_parse(set, cat, list, cmid, what, err, err_len))
        return -1;
    if (i == m->n)
        m->n++;
    return 0;
}

int probe_modules_builtin(struct probe_modules *m, const struct catalog *cat,
                          const struct guid *cmid, char *err, size_t err_len)
{
    static const char *const builtin[][2] = {
        {"default", PROBE_SET_DEFAULT_PRODUCTS},
        {"windows", "win10-pro"},
        {"office", "office2016-proplus"},
        {"servers", "ws2019-std"},
    };
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "built-in module %s", builtin[i][0]);
        if (modules_put(m, cat, builtin[i][0], builtin[i][1], cmid, what, err, err_len))
            return -1;
    }
    return 0;
}

/* The parse of a modules file: the module whose lines are being read. */
struct modules_parse {
    struct probe_modules *m;
    const struct catalog *cat;
    const struct guid *cmid;
    const char *path;
    char section[PROBE_SET_NAME_MAX];
    unsigned section_line;
    bool has_products;
    char *err;
    size_t err_len;
    bool failed;
};

static int stop(struct modules_parse *ps, unsigned line, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    errmsg_set(ps->err, ps->err_len, "%s:%u: %s", ps->path, line, msg);
    ps->failed = true;
    return 1;
}

/* The section just read named no products. */
static int section_done(struct modules_parse *ps)
{
    if (ps->section[0] && !ps->has_products)
        return stop(ps, ps->section_line, "module [%s] has no \"products = LIST\"", ps->section);
    return 0;
}

static int on_section(void *user, unsigned line, const char *label)
{
    struct modules_parse *ps = user;
    if (section_done(ps))
        return 1;
    size_t n = strlen(label);
    if (n == 0 || n >= sizeof ps->section ||
        strspn(label, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != n)
        return stop(ps, line,
                    "module name \"%s\": expected letters, digits, '-', '_' or '.' (at most 63)",
                    label);
    snprintf(ps->section, sizeof ps->section, "%s", label);
    ps->section_line = line;
    ps->has_products = false;
    return 0;
}

static int on_value(void *user, unsigned line, const char *key, const char *value)
{
    struct modules_parse *ps = user;
    if (!ps->section[0])
        return stop(ps, line, "\"%s\" before any [MODULE] header", key);
    if (strcmp(key, "products") != 0)
        return stop(ps, line, "unknown key \"%s\" (a module has products = LIST)", key);
    if (ps->has_products)
        return stop(ps, line, "products given twice in [%s]", ps->section);
    char what[PROBE_SET_NAME_MAX + 320];
    snprintf(what, sizeof what, "%s:%u", ps->path, line);
    if (modules_put(ps->m, ps->cat, ps->section, value, ps->cmid, what, ps->err, ps->err_len)) {
        ps->failed = true;
        return 1;
    }
    ps->has_products = true;
    return 0;
}

static void on_error(void *user, unsigned line, const char *message)
{
    struct modules_parse *ps = user;
    errmsg_set(ps->err, ps->err_len, "%s:%u: %s", ps->path, line, message);
    ps->failed = true;
}

int probe_modules_load(struct probe_modules *m, const struct catalog *cat, const char *path,
                       const struct guid *cmid, char *err, size_t err_len)
{
    char *text = NULL;
    if (ini_lines_read_file(path, PROBE_MODULES_FILE_MAX, &text) != 0)
        return errmsg_set(err, err_len, "%s: %s", path,
                          errno == EFBIG    ? "larger than 64 KiB: not a modules file"
                          : errno == EILSEQ ? "contains NUL bytes: not a modules file"
                                            : strerror(errno));
    struct modules_parse ps = {
        .m = m, .cat = cat, .cmid = cmid, .path = path, .err = err, .err_len = err_len};
    static const struct ini_lines_handlers handlers = {
        .on_section = on_section,
        .on_value = on_value,
        .on_error = on_error,
        .header_example = "[MODULE]",
    };
    ini_lines_parse(text, &handlers, &ps);
    free(text);
    if (!ps.failed)
        section_done(&ps);
    return ps.failed ? -1 : 0;
}

const struct probe_set *probe_modules_find(const struct probe_modules *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->sets[i].name, name) == 0)
            return &m->sets[i];
    return NULL;
}

void probe_modules_names(const struct probe_modules *m, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->n && used < cap; i++) {
        int k = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", m->sets[i].name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}
