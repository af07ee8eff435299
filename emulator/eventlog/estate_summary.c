#include "estate_summary.h"

#include "estate_json.h"

#include <stdio.h>
#include <string.h>

void estate_print_summary(const struct estate *f, json_t *findings, const char *out)
{
    char a[32], b[32];
    estate_time_text(f->first, a, sizeof a);
    estate_time_text(f->last, b, sizeof b);
    printf("fleet: %llu requests from %s to %s, %llu machines (distinct CMIDs)\n",
           (unsigned long long)f->requests, a, b, (unsigned long long)f->distinct_cmids);
    for (size_t i = 0; i < f->cat->n_apps; i++) {
        const struct estate_app *app = &f->apps[i];
        if (!app->requests)
            continue;
        printf("  %-12s %6llu machines %9llu requests  count max %u, at the end %u\n",
               f->cat->apps[i].key, (unsigned long long)app->machines,
               (unsigned long long)app->requests, app->max_count,
               app->n_days_filled ? app->days[app->n_days_filled - 1].count_end : 0);
    }
    size_t n = json_array_size(findings);
    printf("findings: %s\n", n ? "" : "none");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(findings, i);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (strcmp(kind, "duplicate-cmid") == 0)
            printf("  duplicate-cmid   %lld CMIDs shared by %lld machine names\n",
                   json_integer_value(json_object_get(o, "cmids")),
                   json_integer_value(json_object_get(o, "names")));
        else if (strcmp(kind, "below-threshold") == 0) {
            json_t *apps = json_object_get(o, "applications");
            for (size_t k = 0; k < json_array_size(apps); k++) {
                json_t *x = json_array_get(apps, k);
                const char *when = json_string_value(json_object_get(x, "would_reach_at"));
                printf("  below-threshold  %s: count %lld at most, its clients need %lld (%s)\n",
                       json_string_value(json_object_get(x, "application")),
                       json_integer_value(json_object_get(x, "max_count")),
                       json_integer_value(json_object_get(x, "needs")),
                       when ? when : "not at the current rate");
            }
        } else if (strcmp(kind, "near-expiry") == 0)
            printf("  near-expiry      %lld machines lapse within 30 days (%lld already)\n",
                   json_integer_value(json_object_get(o, "machines")),
                   json_integer_value(json_object_get(o, "lapsed")));
        else if (strcmp(kind, "error") == 0) {
            json_t *items = json_object_get(o, "by_product");
            for (size_t k = 0; k < json_array_size(items); k++) {
                json_t *x = json_array_get(items, k);
                printf("  error            %s %s: %lld requests from %lld machines\n",
                       json_string_value(json_object_get(x, "hresult")),
                       json_string_value(json_object_get(json_object_get(x, "product"), "name")),
                       json_integer_value(json_object_get(x, "requests")),
                       json_integer_value(json_object_get(x, "machines")));
            }
        } else if (strcmp(kind, "not-covered") == 0) {
            json_t *items = json_object_get(o, "products");
            for (size_t k = 0; k < json_array_size(items); k++) {
                json_t *x = json_array_get(items, k);
                const char *install = json_string_value(json_object_get(x, "install"));
                printf("  not-covered      %s: %lld machines (install %s)\n",
                       json_string_value(json_object_get(x, "name")),
                       json_integer_value(json_object_get(x, "machines")),
                       install ? install : "no key known");
            }
        }
    }
    printf("wrote %s/fleet.json\n", out);
}
