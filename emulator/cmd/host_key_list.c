#include "host_key_list.h"

#include <string.h>

/* Prints items wrapped at about 96 columns under an indented label. */
static void wrapped(FILE *out, const char *label, const char *const *items, size_t n)
{
    size_t col = (size_t)fprintf(out, "    %s", label);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(items[i]) + 2;
        if (i && col + len > 96) {
            fprintf(out, ",\n%*s", (int)(4 + strlen(label)), "");
            col = 4 + strlen(label);
        } else if (i) {
            col += (size_t)fprintf(out, ", ");
        }
        col += (size_t)fprintf(out, "%s", items[i]);
    }
    fputc('\n', out);
}

void host_key_list_print(FILE *out, const struct catalog *cat)
{
    fprintf(out, "Host keys (CSVLKs): kmsload host --host-key KEY[,KEY...]\n");
    for (size_t c = 0; c < cat->n_csvlks; c++) {
        const struct catalog_csvlk *k = &cat->csvlks[c];
        if (!k->n_activates)
            continue;
        fprintf(out, "\n%-14s %s (ePID group %u)\n", k->key, k->name, k->group);
        const char *items[256];
        char hosts[64][CATALOG_NAME_MAX + 32];
        size_t n = 0;
        for (size_t i = 0; i < k->n_activates && n < 256; i++)
            items[n++] = cat->kms[k->activates[i]].key;
        wrapped(out, "activates:  ", items, n);
        n = 0;
        for (size_t i = 0; i < k->n_hosts && n < 64; i++, n++) {
            const struct catalog_hosting *h = &k->hosts[i];
            snprintf(hosts[n], sizeof hosts[n], "%s%s%s", cat->hostos[h->os].name,
                     h->update[0] ? " after " : "", h->update);
            items[n] = hosts[n];
        }
        wrapped(out, "installs on: ", items, n);
    }
}
