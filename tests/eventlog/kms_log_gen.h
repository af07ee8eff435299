/*
 * A small generator of KMS event 12290 logs from a known fleet, for the import tests and the
 * benchmark: machines join, ask, renew every 7 days once activated and retry every 2 hours
 * until then, as spec §11 says; the host answers with the genuine count (spec §10: distinct
 * CMIDs of the last 30 days, at most 2 x the largest N_Policy, least recently seen evicted),
 * computed here on its own (not with client_cache.c, which the importer uses). It writes the
 * four formats `kmsload fleet` reads, from the documented field layout, and tallies what it
 * wrote so tests compare the import against the generator.
 */
#ifndef KMSLOAD_TEST_KMS_LOG_GEN_H
#define KMSLOAD_TEST_KMS_LOG_GEN_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_MIN 60LL
#define GEN_HOUR 3600LL
#define GEN_DAY 86400LL
#define GEN_APPS 3 /* windows, office2010, office2013 */

enum gen_format { GEN_XML, GEN_PS_CSV, GEN_PS_JSON, GEN_HOST_LOG, GEN_FORMATS };

struct gen_machine {
    char fqdn[64];
    char cmid[37];
    const char *sku; /* GUID text */
    int app;         /* 0 windows, 1 office2010, 2 office2013 */
    unsigned n_policy, vm;
    uint32_t hresult;    /* what the host answers this product: 0, or a refusal */
    int64_t join, leave; /* unix seconds; leave 0: never */
    int64_t grace_end;   /* end of the licence state it starts in */
    unsigned start_status;
    int64_t activated_at; /* 0: never */
    int64_t next;
};

struct gen_cache_entry {
    char cmid[37];
    int64_t last;
};

struct gen_tally {
    uint64_t requests;
    uint64_t outcomes[GEN_APPS][3]; /* activated, below, refused */
    unsigned max_count[GEN_APPS];
    unsigned final_count[GEN_APPS];
};

struct gen {
    struct gen_machine *m;
    size_t n, cap;
    size_t *heap; /* machine indices by next contact */
    size_t n_heap;
    struct gen_cache_entry cache[GEN_APPS][2000];
    size_t n_cache[GEN_APPS];
    unsigned max_n[GEN_APPS];
    int64_t end;
    FILE *out[GEN_FORMATS];
    uint64_t written;
    int64_t last_t; /* the last request written */
    struct gen_tally tally;
};

static inline void gen_add(struct gen *g, const char *fqdn, const char *cmid, const char *sku,
                           int app, unsigned n_policy, unsigned vm, uint32_t hresult, int64_t join,
                           int64_t leave, unsigned start_status, int64_t state_minutes)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->m = realloc(g->m, g->cap * sizeof *g->m);
    }
    struct gen_machine *m = &g->m[g->n++];
    memset(m, 0, sizeof *m);
    snprintf(m->fqdn, sizeof m->fqdn, "%s", fqdn);
    snprintf(m->cmid, sizeof m->cmid, "%s", cmid);
    m->sku = sku;
    m->app = app;
    m->n_policy = n_policy;
    m->vm = vm;
    m->hresult = hresult;
    m->join = join;
    m->leave = leave;
    m->start_status = start_status;
    m->grace_end = join + state_minutes * GEN_MIN;
    m->next = join;
}

/* A CMID from a number: stable and distinct. */
static inline void gen_cmid(uint64_t n, char *out)
{
    snprintf(out, 37, "%08" PRIx64 "-%04x-4%03x-8%03x-%012" PRIx64, (n * 2654435761u) & 0xffffffff,
             (unsigned)(n >> 16) & 0xffff, (unsigned)n & 0xfff, (unsigned)(n >> 12) & 0xfff,
             (uint64_t)(n * 11400714819323198485ull & 0xffffffffffffull));
}

static inline bool gen_before(const struct gen *g, size_t a, size_t b)
{
    const struct gen_machine *x = &g->m[a], *y = &g->m[b];
    return x->next < y->next || (x->next == y->next && a < b);
}

static inline void gen_push(struct gen *g, size_t i)
{
    size_t k = g->n_heap++;
    g->heap[k] = i;
    while (k > 0 && gen_before(g, g->heap[k], g->heap[(k - 1) / 2])) {
        size_t p = (k - 1) / 2, t = g->heap[p];
        g->heap[p] = g->heap[k];
        g->heap[k] = t;
        k = p;
    }
}

static inline size_t gen_pop(struct gen *g)
{
    size_t top = g->heap[0];
    g->heap[0] = g->heap[--g->n_heap];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, s = k;
        if (l < g->n_heap && gen_before(g, g->heap[l], g->heap[s]))
            s = l;
        if (r < g->n_heap && gen_before(g, g->heap[r], g->heap[s]))
            s = r;
        if (s == k)
            break;
        size_t t = g->heap[s];
        g->heap[s] = g->heap[k];
        g->heap[k] = t;
        k = s;
    }
    return top;
}

/* The genuine count after a request of cmid at now (spec §10), the generator's own copy. */
static inline unsigned gen_count(struct gen *g, int app, const char *cmid, unsigned n_policy,
                                 int64_t now)
{
    struct gen_cache_entry *c = g->cache[app];
    size_t kept = 0;
    for (size_t i = 0; i < g->n_cache[app]; i++)
        if (now - c[i].last < 30 * GEN_DAY)
            c[kept++] = c[i];
    g->n_cache[app] = kept;
    if (n_policy > g->max_n[app])
        g->max_n[app] = n_policy;
    for (size_t i = 0; i < kept; i++)
        if (strcmp(c[i].cmid, cmid) == 0) {
            c[i].last = now;
            return (unsigned)kept;
        }
    size_t cap = 2 * (size_t)g->max_n[app];
    if (cap < 1)
        cap = 1;
    while (g->n_cache[app] >= cap) {
        size_t old = 0;
        for (size_t i = 1; i < g->n_cache[app]; i++)
            if (c[i].last < c[old].last)
                old = i;
        c[old] = c[--g->n_cache[app]];
    }
    snprintf(c[g->n_cache[app]].cmid, 37, "%s", cmid);
    c[g->n_cache[app]].last = now;
    return (unsigned)++g->n_cache[app];
}

static inline void gen_iso(int64_t t, char *out, size_t cap, bool fraction)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, fraction ? "%Y-%m-%dT%H:%M:%S.0000000Z" : "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *const gen_app_keys[GEN_APPS] = {"windows", "office2010", "office2013"};

static inline void gen_write(struct gen *g, const struct gen_machine *m, int64_t t,
                             uint32_t hresult, unsigned status, int64_t minutes, unsigned count)
{
    char iso[40], plain[24], client[64], hr[16];
    gen_iso(t, iso, sizeof iso, true);
    gen_iso(t, plain, sizeof plain, false);
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(client, sizeof client, "%d/%d/%d %d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min);
    snprintf(hr, sizeof hr, "0x%X", hresult);
    const char *v[9];
    char np[12], vm[12], st[12], mi[24];
    snprintf(np, sizeof np, "%u", m->n_policy);
    snprintf(vm, sizeof vm, "%u", m->vm);
    snprintf(st, sizeof st, "%u", status);
    snprintf(mi, sizeof mi, "%lld", (long long)minutes);
    v[0] = hr, v[1] = np, v[2] = m->fqdn, v[3] = m->cmid, v[4] = client, v[5] = vm, v[6] = st,
    v[7] = mi, v[8] = m->sku;
    if (g->out[GEN_XML]) {
        FILE *f = g->out[GEN_XML];
        fprintf(f,
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
                "<Provider Name='Microsoft-Windows-Security-SPP'/><EventID Qualifiers='0'>"
                "12290</EventID><TimeCreated SystemTime='%s'/><Channel>Key Management "
                "Service</Channel></System><EventData>",
                iso);
        for (int i = 0; i < 9; i++)
            fprintf(f, "<Data>%s</Data>", v[i]);
        fprintf(f, "</EventData></Event>\n");
    }
    if (g->out[GEN_PS_CSV]) {
        FILE *f = g->out[GEN_PS_CSV];
        fprintf(f, "\"%s\",\"12290\",\"", iso);
        for (int i = 0; i < 9; i++)
            fprintf(f, "%s%s", i ? "," : "", v[i]);
        fprintf(f, "\"\r\n");
    }
    if (g->out[GEN_PS_JSON]) {
        FILE *f = g->out[GEN_PS_JSON];
        fprintf(f,
                "%s\n    {\n        \"TimeCreated\":  \"\\/Date(%lld000)\\/\",\n        \"Id\":  "
                "12290,\n        \"Properties\":  [\n",
                g->written ? "," : "", (long long)t);
        for (int i = 0; i < 9; i++)
            fprintf(f, "                           {\n  \"Value\":  \"%s\"\n}%s\n", v[i],
                    i < 8 ? "," : "");
        fprintf(f, "                       ]\n    }");
    }
    if (g->out[GEN_HOST_LOG]) {
        FILE *f = g->out[GEN_HOST_LOG];
        char cnt[16] = "";
        if (hresult == 0)
            snprintf(cnt, sizeof cnt, "%u", count);
        fprintf(f,
                "%s,127.0.0.1,0x%08X,%s,%u,%s,\"%s\",%s,%s,%u,%u,%lld,%s,"
                "00000000-0000-0000-0000-000000000000,6.0\n",
                plain, hresult, gen_app_keys[m->app], m->n_policy, cnt, m->fqdn, m->cmid, plain,
                m->vm, status, (long long)minutes, m->sku);
    }
    g->written++;
    g->last_t = t;
}

static inline void gen_open(struct gen *g)
{
    if (g->out[GEN_PS_CSV])
        fputs("#TYPE Selected.System.Diagnostics.Eventing.Reader.EventLogRecord\r\n"
              "\"TimeCreated\",\"Id\",\"Properties\"\r\n",
              g->out[GEN_PS_CSV]);
    if (g->out[GEN_PS_JSON])
        fputs("[", g->out[GEN_PS_JSON]);
    if (g->out[GEN_HOST_LOG])
        fputs("time,peer,hresult,application,n_policy,count,workstation,cmid,client_time,vm,"
              "license_status,minutes_to_expiration,sku_id,kms_id,protocol\n",
              g->out[GEN_HOST_LOG]);
}

/* Runs the fleet until g->end, writing every request to the open outputs. */
static inline void gen_run(struct gen *g)
{
    g->heap = malloc((g->n ? g->n : 1) * sizeof *g->heap);
    for (size_t i = 0; i < g->n; i++)
        gen_push(g, i);
    gen_open(g);
    while (g->n_heap > 0) {
        size_t i = gen_pop(g);
        struct gen_machine *m = &g->m[i];
        int64_t t = m->next;
        if (t >= g->end || (m->leave && t >= m->leave))
            continue;
        unsigned status;
        int64_t minutes;
        if (m->activated_at) {
            status = 1;
            minutes = (m->activated_at + 180 * GEN_DAY - t) / GEN_MIN;
        } else if (t < m->grace_end) {
            status = m->start_status;
            minutes = (m->grace_end - t) / GEN_MIN;
        } else {
            status = 5; /* notification: the grace ran out */
            minutes = 0;
        }
        unsigned count = 0;
        int outcome = 2;
        if (m->hresult == 0) {
            count = gen_count(g, m->app, m->cmid, m->n_policy, t);
            outcome = count >= m->n_policy ? 0 : 1;
            if (count > g->tally.max_count[m->app])
                g->tally.max_count[m->app] = count;
        }
        gen_write(g, m, t, m->hresult, status, minutes, count);
        g->tally.requests++;
        g->tally.outcomes[m->app][outcome]++;
        if (outcome == 0)
            m->activated_at = t;
        m->next = t + (outcome == 0 ? 7 * GEN_DAY : 2 * GEN_HOUR);
        gen_push(g, i);
    }
    if (g->out[GEN_PS_JSON])
        fputs("\n]\n", g->out[GEN_PS_JSON]);
    int64_t last = g->last_t;
    for (int a = 0; a < GEN_APPS; a++) { /* held at the end: seen within the last 30 days */
        unsigned held = 0;
        for (size_t i = 0; i < g->n_cache[a]; i++)
            held += last - g->cache[a][i].last < 30 * GEN_DAY;
        g->tally.final_count[a] = held;
    }
    free(g->heap);
    g->heap = NULL;
}

static inline void gen_free(struct gen *g)
{
    free(g->m);
    memset(g, 0, sizeof *g);
}

#endif
