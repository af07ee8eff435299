#include "host_keys.h"

#include <stdio.h>
#include <string.h>

int host_keys_parse(const struct catalog *cat, const char *list, struct host_keys *keys, char *err,
                    size_t err_len)
{
    keys->n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        char item[CATALOG_NAME_MAX];
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        for (size_t l = strlen(item); l && item[l - 1] == ' ';)
            item[--l] = '\0';
        p += len;
        const struct catalog_csvlk *c = catalog_find_csvlk(cat, item);
        if (!c || !c->n_activates) {
            snprintf(err, err_len,
                     "\"%s\" is not a host key (see --list-host-keys; e.g. ws2022, ws2012r2, "
                     "office2021)",
                     item);
            return -1;
        }
        size_t idx = (size_t)(c - cat->csvlks);
        bool dup = false;
        for (size_t i = 0; i < keys->n; i++)
            dup = dup || keys->key[i] == idx;
        if (dup)
            continue;
        if (keys->n == HOST_KEYS_MAX) {
            snprintf(err, err_len, "at most %d host keys", HOST_KEYS_MAX);
            return -1;
        }
        keys->key[keys->n++] = idx;
    }
    if (!keys->n) {
        snprintf(err, err_len, "no host key given");
        return -1;
    }
    return 0;
}

bool host_keys_cover(const struct catalog *cat, const struct host_keys *keys, size_t kms)
{
    for (size_t i = 0; i < keys->n; i++)
        if (catalog_csvlk_activates(&cat->csvlks[keys->key[i]], kms))
            return true;
    return false;
}

static bool has_key(const struct host_keys *keys, size_t c)
{
    for (size_t i = 0; i < keys->n; i++)
        if (keys->key[i] == c)
            return true;
    return false;
}

const struct catalog_csvlk *host_keys_answering(const struct catalog *cat,
                                                const struct host_keys *keys, size_t kms)
{
    for (size_t c = 0; c < cat->n_csvlks; c++)
        if ((!keys || has_key(keys, c)) && catalog_csvlk_activates(&cat->csvlks[c], kms))
            return &cat->csvlks[c];
    return NULL;
}

const struct catalog_hosting *host_keys_hosting(const struct catalog_csvlk *c, size_t os)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (c->hosts[i].os == os)
            return &c->hosts[i];
    return NULL;
}

static bool os_carries_all(const struct catalog *cat, const struct host_keys *keys, size_t os)
{
    for (size_t i = 0; i < keys->n; i++)
        if (!host_keys_hosting(&cat->csvlks[keys->key[i]], os))
            return false;
    return true;
}

int host_keys_build(const struct catalog *cat, const struct host_keys *keys, bool ndr64,
                    unsigned *build, char *err, size_t err_len)
{
    if (*build) {
        int exact = 0;
        const struct catalog_hostos *os = catalog_hostos_for_build(cat, *build, &exact);
        if (!os)
            return 0; /* a build the catalogue does not know: nothing to check against */
        size_t o = (size_t)(os - cat->hostos);
        /* A build shared by a client and a server OS is taken for the server; either will do. */
        for (size_t i = 0; i < cat->n_hostos; i++)
            if (cat->hostos[i].build == os->build && os_carries_all(cat, keys, i))
                return 0;
        for (size_t i = 0; i < keys->n; i++) {
            const struct catalog_csvlk *c = &cat->csvlks[keys->key[i]];
            if (!host_keys_hosting(c, o)) {
                snprintf(err, err_len,
                         "a %s host key cannot be installed on %s (build %u); leave --build out "
                         "to let the keys choose",
                         c->name, os->name, *build);
                return -1;
            }
        }
        return 0;
    }
    const struct catalog_hostos *best = NULL;
    for (size_t o = 0; o < cat->n_hostos; o++) {
        const struct catalog_hostos *os = &cat->hostos[o];
        if ((!ndr64 && os->build >= 9200) || !os_carries_all(cat, keys, o))
            continue;
        if (!best || os->build > best->build || (os->build == best->build && os->server))
            best = os;
    }
    if (!best) {
        snprintf(err, err_len, "no host OS%s can carry all of these host keys together",
                 ndr64 ? "" : " without NDR64 (before build 9200)");
        return -1;
    }
    *build = best->build;
    return 0;
}
