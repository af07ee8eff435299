/* A reference host's configuration from its settings (see host_settings.h). */
#include "host_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "win10, ws2022, 58e2134f-..." → KMS IDs in cov->covered; the bad item in what. */
static enum host_settings_status parse_products(const char *list, const struct catalog *cat,
                                                struct host_config *cfg, struct host_coverage *cov,
                                                char *what, size_t what_len)
{
    char *copy = strdup(list);
    size_t cap = 8;
    cov->covered = calloc(cap, sizeof *cov->covered);
    enum host_settings_status rc =
        copy && cov->covered ? HOST_SETTINGS_OK : HOST_SETTINGS_NO_MEMORY;
    for (char *save = NULL, *item = rc ? NULL : strtok_r(copy, ", ", &save); item;
         item = strtok_r(NULL, ", ", &save)) {
        const struct catalog_kms *k = catalog_find_kms(cat, item);
        struct guid id;
        if (k)
            id = k->id;
        else if (guid_parse(item, &id) != 0) {
            snprintf(what, what_len, "%s", item);
            rc = HOST_SETTINGS_PRODUCT;
            break;
        }
        if (cfg->n_covered_kms == cap) {
            struct guid *grown = realloc(cov->covered, 2 * cap * sizeof *grown);
            if (!grown) {
                rc = HOST_SETTINGS_NO_MEMORY;
                break;
            }
            cov->covered = grown;
            cap *= 2;
        }
        cov->covered[cfg->n_covered_kms++] = id;
    }
    free(copy);
    cfg->covered_kms = cov->covered;
    return rc;
}

enum host_settings_status host_config_from_settings(const struct host_settings *s,
                                                    const struct catalog *cat,
                                                    struct host_config *cfg,
                                                    struct host_coverage *cov, char *what,
                                                    size_t what_len)
{
    memset(cov, 0, sizeof *cov);
    host_config_default(cfg, cat);
    cfg->activation_interval = s->activation_interval;
    cfg->renewal_interval = s->renewal_interval;
    cfg->clock_mode = s->clock_mode;
    cfg->max_clock_step = s->max_clock_step;
    cfg->max_clock_ahead = s->max_clock_ahead;
    cfg->rpc.ndr64 = s->ndr64;
    cfg->rpc.btfn = s->btfn;
    cfg->strict_v4_mac = s->strict_v4_mac;
    cfg->host_build = s->build;
    cfg->seed = s->seed;
    bool products = s->products && s->products[0], keys = s->host_keys && s->host_keys[0];
    if (products && keys)
        return HOST_SETTINGS_BOTH;
    if (keys) {
        if (host_keys_parse(cat, s->host_keys, &cov->keys, what, what_len))
            return HOST_SETTINGS_HOST_KEY;
        cfg->host_keys = &cov->keys;
    }
    if (products)
        return parse_products(s->products, cat, cfg, cov, what, what_len);
    return HOST_SETTINGS_OK;
}

void host_coverage_free(struct host_coverage *cov)
{
    free(cov->covered);
    cov->covered = NULL;
}
