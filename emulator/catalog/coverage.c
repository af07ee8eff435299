#include "coverage.h"

#include "epid.h"
#include "hresult.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void coverage_init(struct coverage *cv, const struct catalog *cat)
{
    memset(cv, 0, sizeof *cv);
    for (size_t k = 0; k < cat->n_kms && cv->n_groups < COVERAGE_MAX_GROUPS; k++) {
        if (cat->kms[k].retail)
            continue;
        cv->groups[cv->n_groups].kms = k;
        cv->groups[cv->n_groups].n_policy = cat->kms[k].n_policy;
        cv->groups[cv->n_groups++].state = COVERAGE_NOT_ASKED;
    }
}

struct coverage_group *coverage_group_of(struct coverage *cv, size_t k)
{
    for (size_t i = 0; i < cv->n_groups; i++)
        if (cv->groups[i].kms == k)
            return &cv->groups[i];
    return NULL;
}

void coverage_note(struct coverage *cv, size_t kms, bool has_count, bool host_error,
                   uint32_t hresult, unsigned count, const char *epid, const char *detail)
{
    struct coverage_group *g = coverage_group_of(cv, kms);
    if (!g)
        return; /* a retail group: genuine hosts refuse it, coverage does not ask */
    if (has_count) {
        if (g->state != COVERAGE_ACTIVATED && epid)
            snprintf(g->epid, sizeof g->epid, "%s", epid);
        g->state = COVERAGE_ACTIVATED;
        g->count = count;
    } else if (host_error && g->state != COVERAGE_ACTIVATED) {
        g->state = COVERAGE_REFUSED;
        g->hresult = hresult;
    } else if (g->state == COVERAGE_NOT_ASKED) {
        g->state = COVERAGE_ERROR;
        snprintf(g->detail, sizeof g->detail, "%s", detail ? detail : "no answer");
    }
}

const char *coverage_state_name(enum coverage_state state)
{
    switch (state) {
    case COVERAGE_ACTIVATED:
        return "activated";
    case COVERAGE_REFUSED:
        return "refused";
    case COVERAGE_ERROR:
        return "error";
    default:
        return "not asked";
    }
}

static bool refused(const struct coverage *cv, size_t k)
{
    for (size_t i = 0; i < cv->n_groups; i++)
        if (cv->groups[i].kms == k)
            return cv->groups[i].state == COVERAGE_REFUSED;
    return false;
}

/* The fewest host keys whose every group was activated and that together explain the most. */
static void match_keys(struct coverage *cv, const struct catalog *cat)
{
    bool explained[COVERAGE_MAX_GROUPS] = {false};
    bool used[HOST_MAX_KEYS_IN_CATALOG] = {false};
    cv->matched.n = 0;
    for (;;) {
        size_t best = (size_t)-1, best_gain = 0;
        for (size_t c = 0; c < cat->n_csvlks && c < HOST_MAX_KEYS_IN_CATALOG; c++) {
            const struct catalog_csvlk *key = &cat->csvlks[c];
            if (used[c] || !key->n_activates)
                continue;
            size_t gain = 0;
            bool consistent = true;
            for (size_t a = 0; a < key->n_activates && consistent; a++) {
                /* A group the host refused rules the key out; one nobody asked about does not. */
                if (refused(cv, key->activates[a])) {
                    consistent = false;
                    break;
                }
                for (size_t g = 0; g < cv->n_groups; g++)
                    if (cv->groups[g].kms == key->activates[a] && !explained[g] &&
                        cv->groups[g].state == COVERAGE_ACTIVATED)
                        gain++;
            }
            /* Of two that explain as much, the older key (fewer groups) claims less. */
            if (consistent && gain &&
                (gain > best_gain ||
                 (gain == best_gain && key->n_activates < cat->csvlks[best].n_activates))) {
                best = c;
                best_gain = gain;
            }
        }
        if (best == (size_t)-1 || cv->matched.n == HOST_KEYS_MAX)
            break;
        used[best] = true;
        cv->matched.key[cv->matched.n++] = best;
        for (size_t g = 0; g < cv->n_groups; g++)
            if (catalog_csvlk_activates(&cat->csvlks[best], cv->groups[g].kms))
                explained[g] = true;
    }
    cv->n_unexplained = 0;
    for (size_t g = 0; g < cv->n_groups; g++)
        if (cv->groups[g].state == COVERAGE_ACTIVATED && !explained[g])
            cv->unexplained[cv->n_unexplained++] = cv->groups[g].kms;
}

/* A key installs only on client OSes: a Windows client host key. */
static bool client_key(const struct catalog *cat, const struct catalog_csvlk *key)
{
    for (size_t i = 0; i < key->n_hosts; i++)
        if (cat->hostos[key->hosts[i].os].server)
            return false;
    return key->n_hosts > 0;
}

static size_t append(char *out, size_t cap, size_t used, const char *fmt, const char *a,
                     const char *b)
{
    if (used >= cap)
        return used;
    int n = snprintf(out + used, cap - used, fmt, a, b);
    return n < 0 ? used : used + (size_t)n;
}

void coverage_host_text(const struct coverage *cv, char *out, size_t cap)
{
    if (!cv->build)
        snprintf(out, cap, "an unknown OS (no ePID seen)");
    else if (!cv->os)
        snprintf(out, cap, "build %u (older than any host OS kmsload knows)", cv->build);
    else if (cv->os_exact)
        snprintf(out, cap, "%s (build %u)", cv->os->name, cv->build);
    else
        snprintf(out, cap, "build %u (%s or later)", cv->build, cv->os->name);
}

void coverage_result_text(const struct coverage_group *g, char *out, size_t cap)
{
    switch (g->state) {
    case COVERAGE_ACTIVATED:
        /* A full answer below the client's threshold covers the product but activates nobody. */
        if (g->n_policy && g->count < g->n_policy)
            snprintf(out, cap, "the key covers it (count %u \xE2\x80\x94 clients activate at %u)",
                     g->count, g->n_policy);
        else
            snprintf(out, cap, "activated (count %u)", g->count);
        break;
    case COVERAGE_REFUSED:
        snprintf(out, cap, "refused: 0x%08X %s (%s)", g->hresult, hresult_name(g->hresult),
                 hresult_meaning(g->hresult));
        break;
    case COVERAGE_ERROR:
        snprintf(out, cap, "error: %s", g->detail);
        break;
    default:
        snprintf(out, cap, "not asked");
        break;
    }
}

void coverage_keys_text(const struct coverage *cv, const struct catalog *cat, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cv->matched.n && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "",
                         cat->csvlks[cv->matched.key[i]].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!cv->matched.n)
        snprintf(out, cap, "none");
}

/* "Windows Server 2025 clients: install a Windows Server 2025 CSVLK; this host runs ..." */
static void advise(struct coverage *cv, const struct catalog *cat, struct coverage_group *g)
{
    const struct catalog_kms *kms = &cat->kms[g->kms];
    size_t os = cv->os ? (size_t)(cv->os - cat->hostos) : (size_t)-1;
    bool server_host = !cv->os || cv->os->server;
    const struct catalog_csvlk *best = NULL;
    int best_score = 0;
    for (size_t c = 0; c < cat->n_csvlks; c++) {
        const struct catalog_csvlk *key = &cat->csvlks[c];
        if (!catalog_csvlk_activates(key, g->kms))
            continue;
        const struct catalog_hosting *h = os == (size_t)-1 ? NULL : host_keys_hosting(key, os);
        /* As is, after an update, or not on this OS; then server keys on a server; then the
         * oldest key (the fewest groups) that does it. */
        int score = (h ? (h->update[0] ? 1 : 0) : 2) * 4 + (server_host && client_key(cat, key));
        if (!best || score < best_score ||
            (score == best_score && key->n_activates < best->n_activates)) {
            best = key;
            best_score = score;
        }
    }
    char host[160];
    coverage_host_text(cv, host, sizeof host);
    if (!best) {
        snprintf(g->advice, sizeof g->advice,
                 "%s clients: no host key kmsload knows activates this product group", kms->name);
        return;
    }
    const char *what = strncmp(best->key, "office", 6) == 0 ? "host key" : "CSVLK";
    size_t used =
        (size_t)snprintf(g->advice, sizeof g->advice, "%s clients: install a%s %s %s", kms->name,
                         strchr("AEIOU", best->name[0]) ? "n" : "", best->name, what);
    const struct catalog_hosting *h = os == (size_t)-1 ? NULL : host_keys_hosting(best, os);
    if (!cv->os) {
        used = append(g->advice, sizeof g->advice, used, "; this host shows %s%s", host, "");
    } else if (h && !h->update[0]) {
        used = append(g->advice, sizeof g->advice, used,
                      "; this host runs %s, which can carry it as is%s", host, "");
    } else if (h) {
        used = append(g->advice, sizeof g->advice, used,
                      "; this host runs %s, which needs %s first", host, h->update);
    } else {
        used =
            append(g->advice, sizeof g->advice, used,
                   "; this host runs %s, which cannot carry it: run the KMS host on %s", host, "");
        for (size_t i = 0; i < best->n_hosts; i++) {
            const struct catalog_hosting *o = &best->hosts[i];
            used = append(g->advice, sizeof g->advice, used, i ? ", or %s%s" : "%s%s",
                          cat->hostos[o->os].name, "");
            if (o->update[0])
                used = append(g->advice, sizeof g->advice, used, " with %s%s", o->update, "");
        }
    }
    (void)used;
}

static void finding(struct coverage *cv, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finding(struct coverage *cv, const char *kind, const char *fmt, ...)
{
    if (cv->n_findings == COVERAGE_MAX_FINDINGS)
        return;
    struct coverage_finding *f = &cv->findings[cv->n_findings];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < cv->n_findings; i++)
        if (strcmp(cv->findings[i].reason, f->reason) == 0)
            return; /* said once */
    f->kind = kind;
    cv->n_findings++;
}

/* Whether some host OS with the reported build can carry host key c. */
static bool build_carries(const struct catalog *cat, unsigned build, const struct catalog_csvlk *c)
{
    for (size_t o = 0; o < cat->n_hostos; o++)
        if (cat->hostos[o].build == build && host_keys_hosting(c, o))
            return true;
    return false;
}

/* Whether an ePID's group and key ID belong to a key that activates group kms: the key itself,
 * or a second key-ID range of it (a [csvlk:] without activates, same group and build). */
static bool epid_fits(const struct catalog *cat, const struct epid *e, size_t kms)
{
    for (size_t c = 0; c < cat->n_csvlks; c++) {
        const struct catalog_csvlk *k = &cat->csvlks[c];
        if (k->group != e->group || e->key_id < k->key_min || e->key_id > k->key_max)
            continue;
        if (catalog_csvlk_activates(k, kms))
            return true;
        for (size_t d = 0; !k->n_activates && d < cat->n_csvlks; d++)
            if (cat->csvlks[d].group == k->group && cat->csvlks[d].min_build == k->min_build &&
                catalog_csvlk_activates(&cat->csvlks[d], kms))
                return true;
    }
    return false;
}

/* Whether host key c activates Windows (the application every Windows KMS ID counts in). */
static bool activates_windows(const struct catalog *cat, const struct catalog_csvlk *c)
{
    for (size_t i = 0; i < c->n_activates; i++)
        if (strcmp(cat->apps[cat->kms[c->activates[i]].app].key, "windows") == 0)
            return true;
    return false;
}

/*
 * Mutually exclusive keys: a KMS host holds one Windows host key (installing another with
 * slmgr /ipk replaces it; each key already activates its predecessors' groups), while Office
 * keys, one per version, sit side by side. Windows groups that no single Windows key activates
 * together cannot come from one genuine host.
 */
static void exclusive_windows_keys(struct coverage *cv, const struct catalog *cat)
{
    char names[400];
    size_t len = 0, n = 0;
    for (size_t i = 0; i < cv->matched.n; i++) {
        const struct catalog_csvlk *k = &cat->csvlks[cv->matched.key[i]];
        if (!activates_windows(cat, k))
            continue;
        n++;
        if (len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? " and " : "",
                                    k->name);
    }
    if (n > 1)
        finding(cv, "exclusive-keys",
                "the Windows groups it activates need %zu Windows host keys (%s), but a KMS host "
                "holds one: installing another replaces it",
                n, names);
}

static void find_impossible(struct coverage *cv, const struct catalog *cat)
{
    cv->n_findings = 0;
    bool any = false;
    for (size_t i = 0; i < cv->n_groups; i++)
        any = any || cv->groups[i].state == COVERAGE_ACTIVATED;
    if (!any)
        return;
    if (!cv->build)
        finding(cv, "no-build", "the host's ePIDs name no OS build");
    /* The keys its answers need, on the OS its ePIDs name. */
    for (size_t i = 0; cv->os_exact && i < cv->matched.n; i++) {
        const struct catalog_csvlk *k = &cat->csvlks[cv->matched.key[i]];
        if (k->n_hosts && !build_carries(cat, cv->build, k))
            finding(cv, "key-os",
                    "the host reports %s (build %u), which cannot carry the %s host key its "
                    "answers need",
                    cv->os->name, cv->build, k->name);
    }
    for (size_t i = 0; i < cv->n_groups; i++) {
        const struct coverage_group *g = &cv->groups[i];
        struct epid e;
        if (g->state != COVERAGE_ACTIVATED || epid_parse(g->epid, &e) != 0)
            continue;
        if (!epid_fits(cat, &e, g->kms))
            finding(cv, "epid-key",
                    "%s was answered with ePID group %u, key ID %lu: no host key of that group "
                    "and key range activates it",
                    cat->kms[g->kms].name, e.group, e.key_id);
    }
    exclusive_windows_keys(cv, cat);
    for (size_t i = 0; i < cv->n_unexplained; i++)
        finding(cv, "unexplained",
                "%s was activated, but no host key the other answers match "
                "activates it",
                cat->kms[cv->unexplained[i]].name);
}

void coverage_judge(struct coverage *cv, const struct catalog *cat)
{
    cv->build = 0;
    cv->os = NULL;
    cv->os_exact = false;
    for (size_t i = 0; i < cv->n_groups && !cv->build; i++)
        if (cv->groups[i].state == COVERAGE_ACTIVATED)
            cv->build = epid_build(cv->groups[i].epid);
    if (cv->build) {
        int exact = 0;
        cv->os = catalog_hostos_for_build(cat, cv->build, &exact);
        cv->os_exact = exact;
    }
    match_keys(cv, cat);
    for (size_t i = 0; i < cv->n_groups; i++) {
        cv->groups[i].advice[0] = '\0';
        if (cv->groups[i].state == COVERAGE_REFUSED)
            advise(cv, cat, &cv->groups[i]);
    }
    find_impossible(cv, cat);
    cv->genuine = cv->build && cv->n_findings == 0;
}

int coverage_parse_groups(const struct catalog *cat, const char *list, size_t *out, size_t cap,
                          size_t *n, char *err, size_t err_len)
{
    *n = 0;
    char *copy = strdup(list);
    if (!copy) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        const struct catalog_kms *k = catalog_find_kms(cat, item);
        if (!k) {
            snprintf(err, err_len,
                     "\"%s\" is not a product group of the catalogue (e.g. ws2025, win10, "
                     "office2021)",
                     item);
            rc = -1;
            break;
        }
        if (*n == cap) {
            snprintf(err, err_len, "at most %zu product groups", cap);
            rc = -1;
            break;
        }
        out[(*n)++] = (size_t)(k - cat->kms);
    }
    free(copy);
    return rc;
}

const char *coverage_clock_text(enum coverage_clock clock)
{
    switch (clock) {
    case COVERAGE_CLOCK_FOLLOWS:
        return "follows client time (it answered a request dated 5 hours ago)";
    case COVERAGE_CLOCK_CHECKS:
        return "checks client time, as genuine hosts do (it refused a request dated 5 hours ago "
               "with 0xC004F06C)";
    case COVERAGE_CLOCK_UNKNOWN:
        return "unknown (the request dated 5 hours ago got no telling answer)";
    case COVERAGE_CLOCK_NOT_ASKED:
        break;
    }
    return "not asked";
}
