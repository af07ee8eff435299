#include "estate_forecast.h"

#include "atomic_file.h"
#include "catalog.h"
#include "estate_scenario.h"
#include "host_keys.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FORECAST_SEARCH_RUNS 6 /* runs of the switch-off search, at most */

/* Writes the scenario with the old host switched off at off_s and runs it into run_dir. */
static int forecast_run(const struct estate *e, const char *origin,
                        const struct estate_migration *mig, const char *ini, const char *run_dir,
                        bool report, const struct estate_forecast_options *o, json_t **summary)
{
    char *text = NULL, err[512];
    if (estate_scenario_text(e, origin, mig, &text, err, sizeof err) != 0 ||
        atomic_file_write(ini, text, strlen(text), 0644, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: %s\n", err);
        free(text);
        return -1;
    }
    free(text);
    if (o->run(ini, run_dir, report, o->run_arg) != 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    json_error_t jerr;
    *summary = json_load_file(path, 0, &jerr);
    if (!*summary) {
        fprintf(stderr, "kmsload fleet: %s: %s\n", path, jerr.text);
        return -1;
    }
    return 0;
}

/* The population's product: its name is "<sku key>-<licence state>". */
static const struct catalog_sku *population_sku(const struct catalog *cat, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s", name);
    char *dash = strrchr(key, '-');
    if (dash)
        *dash = '\0';
    return catalog_find_sku(cat, key);
}

/* Every machine the new keys cover is activated at the end, none still waiting; *longest gets
 * the longest wait (seconds). */
static bool switch_off_safe(const struct catalog *cat, const struct host_keys *keys,
                            json_t *summary, double *longest)
{
    json_t *pops = json_object_get(summary, "populations");
    const char *name;
    json_t *p;
    bool safe = true;
    json_object_foreach(pops, name, p)
    {
        const struct catalog_sku *sku = population_sku(cat, name);
        if (!sku || !host_keys_cover(cat, keys, sku->kms))
            continue;
        if (json_integer_value(json_object_get(p, "activated_machines")) <
            json_integer_value(json_object_get(p, "machines")))
            safe = false;
    }
    json_t *mu = json_object_get(summary, "max_unactivated");
    *longest = json_real_value(json_object_get(mu, "sim_s"));
    return safe;
}

static void day_text(double s, char *out, size_t cap)
{
    if (s < 0)
        snprintf(out, cap, "never");
    else
        snprintf(out, cap, "day %.1f", s / 86400.0);
}

static void wait_text(double s, char *out, size_t cap)
{
    long m = (long)(s / 60.0 + 0.5);
    if (m >= 1440)
        snprintf(out, cap, "%ldd %ldh", m / 1440, m % 1440 / 60);
    else
        snprintf(out, cap, "%ldh %02ldm", m / 60, m % 60);
}

/* The new host's thresholds, per application, and what it refused. */
static void print_new_host(json_t *summary)
{
    char a[32], b[32];
    json_t *hosts = json_object_get(summary, "hosts");
    for (size_t i = 0; i < json_array_size(hosts); i++) {
        json_t *h = json_array_get(hosts, i);
        if (strcmp(json_string_value(json_object_get(h, "name")), "new") != 0)
            continue;
        const char *app;
        json_t *ja;
        json_object_foreach(json_object_get(h, "applications"), app, ja)
        {
            json_t *r5 = json_object_get(ja, "reached_5_sim_s"),
                   *r25 = json_object_get(ja, "reached_25_sim_s");
            day_text(json_is_number(r5) ? json_number_value(r5) : -1, a, sizeof a);
            day_text(json_is_number(r25) ? json_number_value(r25) : -1, b, sizeof b);
            /* 25 is a threshold for Windows clients only: Office and servers need 5. */
            if (strcmp(app, "windows") == 0)
                printf("  new host %-11s count reaches 5: %s, 25: %s (highest %lld)\n", app, a, b,
                       json_integer_value(json_object_get(ja, "max_count")));
            else
                printf("  new host %-11s count reaches 5: %s (highest %lld)\n", app, a,
                       json_integer_value(json_object_get(ja, "max_count")));
        }
        printf("  new host refused %lld requests (0xC004F042: its keys do not cover the "
               "product)\n",
               json_integer_value(json_object_get(h, "refused_product")));
    }
}

/* The products the new keys refuse; returns their machines. */
static uint64_t print_refused(const struct estate *e, const struct host_keys *keys)
{
    const struct catalog *cat = e->cat;
    uint64_t refused_machines = 0;
    for (size_t i = 0; i < e->n_products; i++) {
        const struct estate_product *p = &e->products[i];
        if (p->kms < 0 || host_keys_cover(cat, keys, (size_t)p->kms))
            continue;
        const struct catalog_csvlk *k = host_keys_answering(cat, NULL, (size_t)p->kms);
        printf("  refused by the new keys: %s, %llu machines (install %s)\n",
               cat->skus[p->sku_index].name, (unsigned long long)p->machines,
               k ? k->key : "no key known");
        refused_machines += p->machines;
    }
    return refused_machines;
}

/* The earliest switch-off with every covered machine activated: a bisection over days in
 * [*lo, *hi], narrowed in place. Returns 0, or -1 (stderr says why). */
static int search_switch_off(const struct estate *e, const char *origin, const char *out_dir,
                             const struct estate_forecast_options *o,
                             const struct estate_migration *mig, const struct host_keys *keys,
                             int64_t *lo, int64_t *hi)
{
    const struct catalog *cat = e->cat;
    char search_ini[4200], search_dir[4200];
    snprintf(search_ini, sizeof search_ini, "%s/migration-search.ini", out_dir);
    snprintf(search_dir, sizeof search_dir, "%s/migration-search", out_dir);
    if (mkdir(search_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kmsload fleet: cannot create %s: %s\n", search_dir, strerror(errno));
        return -1;
    }
    for (int run = 0; run < FORECAST_SEARCH_RUNS && *lo < *hi; run++) {
        int64_t mid = (*lo + *hi) / 2;
        struct estate_migration m = *mig;
        m.switch_off_old_at_s = mid * 86400;
        m.duration_s = mid * 86400 + 15 * 86400;
        json_t *s = NULL;
        char day_dir[4300];
        snprintf(day_dir, sizeof day_dir, "%s/off-day-%lld", search_dir, (long long)mid);
        if (forecast_run(e, origin, &m, search_ini, day_dir, false, o, &s) != 0)
            return -1;
        double l;
        if (switch_off_safe(cat, keys, s, &l))
            *hi = mid;
        else
            *lo = mid + 1;
        json_decref(s);
    }
    return 0;
}

int estate_forecast(const struct estate *e, const char *origin, const char *out_dir,
                    const struct estate_forecast_options *o)
{
    const struct catalog *cat = e->cat;
    char err[512], old_keys[512];
    struct host_keys keys;
    if (host_keys_parse(cat, o->new_keys, &keys, err, sizeof err) != 0) {
        fprintf(stderr, "kmsload fleet: --migrate-to: %s\n", err);
        return -1;
    }
    if (o->old_keys)
        snprintf(old_keys, sizeof old_keys, "%s", o->old_keys);
    else
        estate_infer_keys(e, old_keys, sizeof old_keys);
    if (!old_keys[0]) {
        fprintf(stderr, "kmsload fleet: the log shows no answered request: the old host's keys "
                        "are unknown (give them with --keys)\n");
        return -1;
    }
    int64_t visible = o->replication_delay_s + o->srv_ttl_s;
    struct estate_migration mig = {.old_keys = old_keys,
                                   .new_keys = o->new_keys,
                                   .publish_at_s = o->publish_at_s,
                                   .withdraw_old_at_s = o->withdraw_old_at_s,
                                   .switch_off_old_at_s = o->switch_off_old_at_s,
                                   .srv_ttl_s = o->srv_ttl_s,
                                   .replication_delay_s = o->replication_delay_s,
                                   .duration_s = o->switch_off_old_at_s + 15 * 86400};
    char ini[4200], run_dir[4200];
    snprintf(ini, sizeof ini, "%s/migration.ini", out_dir);
    snprintf(run_dir, sizeof run_dir, "%s/migration", out_dir);
    if (!o->quiet)
        printf("forecast: running %s in virtual time (old host %s, new host %s)\n", ini, old_keys,
               o->new_keys);
    json_t *summary = NULL;
    if (forecast_run(e, origin, &mig, ini, run_dir, true, o, &summary) != 0)
        return -1;
    double longest;
    bool safe = switch_off_safe(cat, &keys, summary, &longest);

    /* The new host's thresholds, per application. */
    char line[256], a[32];
    printf("forecast: old host (keys %s%s) switched off at day %.0f; new host (keys %s) "
           "published at day %.0f, seen by every client %s later (replication %llds + TTL "
           "%llds)\n",
           old_keys, o->old_keys ? "" : ", inferred from the log",
           (double)o->switch_off_old_at_s / 86400, o->new_keys, (double)o->publish_at_s / 86400,
           (wait_text((double)visible, line, sizeof line), line), (long long)o->replication_delay_s,
           (long long)o->srv_ttl_s);
    print_new_host(summary);
    uint64_t refused_machines = print_refused(e, &keys);
    wait_text(longest, a, sizeof a);
    printf("  longest wait for an activation in this run: %s%s\n", a,
           json_is_true(
               json_object_get(json_object_get(summary, "max_unactivated"), "still_unactivated"))
               ? " (a machine was still waiting at the end)"
               : "");
    json_decref(summary);

    /* The earliest switch-off with every covered machine activated: a bisection over days
     * between the new record reaching clients and the given switch-off day. */
    int64_t lo = (o->publish_at_s + visible + 86399) / 86400, hi = o->switch_off_old_at_s / 86400;
    if (!safe) {
        printf("  switching the old host off at day %.0f leaves machines the new keys cover "
               "unactivated: switch it off later\n",
               (double)o->switch_off_old_at_s / 86400);
    } else {
        if (search_switch_off(e, origin, out_dir, o, &mig, &keys, &lo, &hi) != 0)
            return -1;
        printf("  earliest switch-off of the old host with every machine the new keys cover "
               "activated: day %lld%s\n",
               (long long)hi, lo < hi ? " (search stopped: at most this)" : "");
    }
    if (refused_machines)
        printf("  %llu machines of products the new keys refuse lose their host when the old "
               "one goes: add keys for them first\n",
               (unsigned long long)refused_machines);
    printf("  scenario %s, report %s/index.html\n", ini, run_dir);
    return 0;
}
