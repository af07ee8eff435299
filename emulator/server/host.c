#include "host.h"

#include "hresult.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void host_config_default(struct host_config *cfg, const struct catalog *catalog)
{
    static const uint8_t vlmcsd_hwid[8] = {0x3A, 0x1C, 0x04, 0x96, 0x00, 0xB6, 0x00, 0x76};
    memset(cfg, 0, sizeof *cfg);
    cfg->catalog = catalog;
    cfg->activation_interval = 120;
    cfg->renewal_interval = 10080;
    cfg->clock_mode = HOST_CLOCK_REAL;
    cfg->rpc.ndr64 = true;
    cfg->rpc.btfn = true;
    cfg->host_build = 0; /* chosen at init: 17763, 7601 without NDR64, or by the host keys */
    cfg->lcid = 1033;
    memcpy(cfg->hwid, vlmcsd_hwid, sizeof cfg->hwid);
    cfg->seed = 1;
}

static unsigned platform_id(unsigned build)
{
    if (build >= 10240)
        return 3612;
    if (build >= 9600)
        return 6401;
    if (build >= 9200)
        return 5426;
    return 55041;
}

void host_epid_format(char *out, size_t cap, unsigned build, unsigned group, unsigned long key_id,
                      unsigned lcid, unsigned day, unsigned year)
{
    snprintf(out, cap, "%05u-%05u-%03lu-%06lu-03-%u-%u.0000-%03u%04u", platform_id(build), group,
             key_id / 1000000, key_id % 1000000, lcid, build, day, year);
}

static uint64_t system_filetime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return filetime_from_unix(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

uint64_t host_now(const struct kms_host *host)
{
    if (host->cfg.clock_mode == HOST_CLOCK_CLIENT)
        return host->client_clock;
    return host->cfg.clock ? host->cfg.clock(host->cfg.clock_arg) : system_filetime();
}

/* The CSVLK whose ePID a host shows for an application: the newest key that covers it. */
static const char *csvlk_for_app(const struct catalog_app *app)
{
    if (strcmp(app->key, "office2010") == 0)
        return "office2010";
    if (strncmp(app->key, "office", 6) == 0)
        return "office2019";
    return "ws2019";
}

int host_init(struct kms_host *host, const struct host_config *cfg, char *err, size_t err_len)
{
    memset(host, 0, sizeof *host);
    host->cfg = *cfg;
    const struct catalog *cat = cfg->catalog;
    if (!cat || cat->n_apps == 0 || cat->n_apps > HOST_MAX_APPS) {
        snprintf(err, err_len, "the catalogue must list 1..%d applications", HOST_MAX_APPS);
        return -1;
    }
    if (cfg->activation_interval < 15 || cfg->activation_interval > 43200 ||
        cfg->renewal_interval < 15 || cfg->renewal_interval > 43200) {
        snprintf(err, err_len, "activation and renewal intervals must be 15..43200 minutes");
        return -1;
    }
    if (cfg->host_keys) {
        if (host_keys_build(cat, cfg->host_keys, cfg->rpc.ndr64, &host->cfg.host_build, err,
                            err_len))
            return -1;
    } else if (!cfg->host_build) {
        host->cfg.host_build = cfg->rpc.ndr64 ? 17763 : 7601;
    }
    cfg = &host->cfg;
    if (!cfg->rpc.ndr64 && cfg->host_build >= HOST_NDR64_MIN_BUILD) {
        snprintf(err, err_len,
                 "a host without NDR64 cannot show build %u in its ePID: every build from %u on "
                 "supports NDR64 (use a build such as 7601)",
                 cfg->host_build, (unsigned)HOST_NDR64_MIN_BUILD);
        return -1;
    }
    if (cat->n_csvlks > HOST_MAX_CSVLKS) {
        snprintf(err, err_len, "the catalogue lists more than %d CSVLKs", HOST_MAX_CSVLKS);
        return -1;
    }
    pcg32_seed(&host->rng, cfg->seed, 0x4b4d53);
    /* A date on or before the host's build era keeps ePIDs plausible (§9.2). */
    unsigned year = 2019 + pcg32_bounded(&host->rng, 7);
    for (size_t i = 0; i < cat->n_apps; i++) {
        client_cache_init(&host->caches[i], 0); /* sized by the N_Policy it sees (§10) */
        const char *key = csvlk_for_app(&cat->apps[i]);
        unsigned group = 206;
        unsigned long key_id = 0;
        for (size_t c = 0; c < cat->n_csvlks; c++) {
            if (strcmp(cat->csvlks[c].key, key) != 0)
                continue;
            group = cat->csvlks[c].group;
            unsigned long span = cat->csvlks[c].key_max - cat->csvlks[c].key_min + 1;
            key_id = cat->csvlks[c].key_min + pcg32_bounded(&host->rng, (uint32_t)span);
        }
        host_epid_format(host->epid[i], sizeof host->epid[i], cfg->host_build, group, key_id,
                         cfg->lcid, 1 + pcg32_bounded(&host->rng, 365), year);
    }
    /* One ePID per CSVLK, from a stream of its own so the per-application ones stay as they
     * were for a given seed. */
    struct pcg32 key_rng;
    pcg32_seed(&key_rng, cfg->seed, 0x435356);
    for (size_t c = 0; c < cat->n_csvlks; c++) {
        const struct catalog_csvlk *k = &cat->csvlks[c];
        unsigned long span = k->key_max - k->key_min + 1;
        unsigned long key_id = k->key_min + pcg32_bounded(&key_rng, (uint32_t)span);
        host_epid_format(host->key_epid[c], sizeof host->key_epid[c], cfg->host_build, k->group,
                         key_id, cfg->lcid, 1 + pcg32_bounded(&key_rng, 365), year);
    }
    return 0;
}

const char *host_epid_for(const struct kms_host *host, size_t kms)
{
    const struct catalog *cat = host->cfg.catalog;
    const struct catalog_kms *k = &cat->kms[kms];
    const struct catalog_csvlk *answering = NULL;
    if (host->cfg.host_keys) {
        answering = host_keys_answering(cat, host->cfg.host_keys, kms);
    } else {
        /* Without host keys: the application's usual key when it activates the group (Windows
         * Server 2019, Office 2019, Office 2010), else the newest key that does (Enterprise G:
         * the China Government key; Server 2022/2025: their own). */
        const struct catalog_csvlk *usual =
            catalog_find_csvlk(cat, csvlk_for_app(&cat->apps[k->app]));
        if (!usual || !catalog_csvlk_activates(usual, kms))
            answering = host_keys_answering(cat, NULL, kms);
    }
    if (answering)
        return host->key_epid[answering - cat->csvlks];
    return host->epid[k->app];
}

static bool kms_is_covered(const struct kms_host *host, const struct catalog_kms *kms)
{
    const struct catalog *cat = host->cfg.catalog;
    if (host->cfg.host_keys)
        return host_keys_cover(cat, host->cfg.host_keys, (size_t)(kms - cat->kms));
    if (!host->cfg.covered_kms)
        return !kms->retail;
    for (size_t i = 0; i < host->cfg.n_covered_kms; i++)
        if (guid_equal(&host->cfg.covered_kms[i], &kms->id))
            return true;
    return false;
}

/* The host's verdict on a decoded request: an HRESULT, or 0 and the fields of a response. */
static uint32_t decide(struct kms_host *host, const struct kms_request *req, uint64_t now,
                       struct host_request_record *rec, struct kms_response *resp)
{
    const struct catalog *cat = host->cfg.catalog;
    if (req->n_policy > HOST_MAX_N_POLICY) {
        /* vlmcsd's rule (2 x N_Policy may not exceed 2000), not Microsoft's: no source says what
         * a genuine host answers a client asking for more than 1000. */
        rec->convention = HOST_CONVENTION_N_POLICY;
        return HR_INVALID_DATA;
    }
    const struct catalog_kms *kms = catalog_kms_by_id(cat, &req->kms_id);
    if (!kms)
        return HR_KMS_ID_MISMATCH;
    const struct catalog_app *app = &cat->apps[kms->app];
    rec->app = (int)kms->app;
    if (!guid_equal(&app->id, &req->app_id) || !kms_is_covered(host, kms))
        return HR_KMS_ID_MISMATCH;
    if (rec->clock_refused) {
        host->stats.clock_refused++;
        return HR_INVALID_TIMESTAMP;
    }
    if (host->cfg.clock_mode == HOST_CLOCK_REAL) {
        uint64_t diff = req->client_time > now ? req->client_time - now : now - req->client_time;
        if (diff > HOST_TIME_TOLERANCE)
            return HR_INVALID_TIMESTAMP;
    }
    unsigned count = client_cache_touch(&host->caches[kms->app], &req->cmid, req->n_policy, now);
    memset(resp, 0, sizeof *resp);
    resp->major = req->major;
    resp->minor = req->minor;
    snprintf(resp->epid, sizeof resp->epid, "%s", host_epid_for(host, (size_t)(kms - cat->kms)));
    resp->cmid = req->cmid;
    resp->client_time = req->client_time;
    resp->count = count;
    resp->activation_interval = host->cfg.activation_interval;
    resp->renewal_interval = host->cfg.renewal_interval;
    memcpy(resp->hwid, host->cfg.hwid, sizeof resp->hwid);
    rec->count = count;
    return 0;
}

uint64_t host_real_now(const struct kms_host *host)
{
    return host->cfg.clock ? host->cfg.clock(host->cfg.clock_arg) : system_filetime();
}

/*
 * Client mode: may one request move the clock forward to t? Up to the later of the client clock
 * and the real clock, always; past that by at most max_clock_step, and never beyond
 * max_clock_ahead of the real clock, so that one wild client cannot age every CMID out at once,
 * nor leave a clock in --state that no run could come back from.
 */
static bool client_clock_may_reach(const struct kms_host *host, uint64_t t)
{
    const struct host_config *cfg = &host->cfg;
    if (!cfg->max_clock_step && !cfg->max_clock_ahead)
        return true;
    uint64_t now = host_real_now(host);
    uint64_t base = host->client_clock > now ? host->client_clock : now;
    if (t <= base)
        return true;
    if (cfg->max_clock_step && t - base > cfg->max_clock_step)
        return false;
    return !cfg->max_clock_ahead || t <= now || t - now <= cfg->max_clock_ahead;
}

uint32_t host_handle_payload(struct kms_host *host, const uint8_t *kms, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len, struct host_request_record *rec)
{
    struct host_request_record local;
    struct kms_request_frame frame;
    struct kms_response resp;
    struct proto_err err;
    if (!rec)
        rec = &local;
    memset(rec, 0, sizeof *rec);
    rec->app = -1;
    host->stats.requests++;

    uint32_t hr = 0;
    if (kms_request_decode(kms, len, &rec->request, &frame, &err) != 0) {
        hr = HR_INVALID_DATA;
        /* A known major version with a minor other than 0: refused as vlmcsd does (spec §3.1);
         * Microsoft documents no minor version, so this is vlmcsd's convention. */
        unsigned minor = len >= 4 ? (unsigned)(kms[0] | kms[1] << 8) : 0;
        unsigned major = len >= 4 ? (unsigned)(kms[2] | kms[3] << 8) : 0;
        if (major >= 4 && major <= 6 && minor != 0)
            rec->convention = HOST_CONVENTION_MINOR;
    } else {
        rec->decoded = true;
        if (host->cfg.clock_mode == HOST_CLOCK_CLIENT &&
            rec->request.client_time > host->client_clock) {
            if (client_clock_may_reach(host, rec->request.client_time))
                host->client_clock = rec->request.client_time;
            else
                rec->clock_refused = true; /* decide() answers 0xC004F06C */
        }
        if (rec->request.major == 4 && host->cfg.strict_v4_mac && !frame.v4_mac_ok)
            hr = HR_INVALID_DATA;
    }
    rec->host_time = host_now(host);
    if (hr == 0)
        hr = decide(host, &rec->request, rec->host_time, rec, &resp);
    if (hr == 0) {
        struct kms_response_random rnd;
        pcg32_fill(&host->rng, rnd.r, sizeof rnd.r);
        do { /* a V6 host must not reuse the request IV */
            pcg32_fill(&host->rng, rnd.w_resp, sizeof rnd.w_resp);
        } while (memcmp(rnd.w_resp, frame.w_req, 16) == 0);
        if (kms_response_encode(&resp, frame.w_req, &rnd, out, cap, out_len, &err) != 0)
            hr = HR_INVALID_DATA;
    }
    struct host_app_stats *as = rec->app >= 0 ? &host->stats.apps[rec->app] : NULL;
    if (as)
        as->requests++;
    if (hr) {
        host->stats.errors++;
        if (as)
            as->refused++;
        rec->hresult = hr;
        return hr;
    }
    host->stats.answered++;
    if (as) {
        if (rec->count >= rec->request.n_policy)
            as->activated++;
        else
            as->below++;
    }
    return 0;
}

unsigned host_app_count(struct kms_host *host, size_t app)
{
    if (app >= host->cfg.catalog->n_apps)
        return 0;
    return client_cache_count(&host->caches[app], host_now(host));
}
