#include "watch_rounds.h"

#include "client_dns.h"
#include "client_request.h"
#include "errmsg.h"
#include "probe_cmid.h"
#include "probe_set.h"
#include "watch_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timestamp(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void round_over(struct watch *w)
{
    w->rounds++;
    /* loopexit, unlike loopbreak, also holds when a round ends before the loop started. */
    if (w->opt->max_rounds && w->rounds >= w->opt->max_rounds)
        event_base_loopexit(w->base, NULL);
}

/* The request probe p sends: its application's product, or the candidate it tries. */
static const struct kms_request *probe_request(const struct watch *w, const struct watch_probe *p)
{
    size_t a = (size_t)(p - p->target->probes);
    if (p->rank == 0)
        return &w->requests[a];
    const struct probe_set *alt = &w->names->alts[p->rank - 1];
    for (size_t i = 0; i < alt->n; i++)
        if (strcmp(alt->app[i], p->state->application) == 0)
            return &alt->requests[i];
    return &w->requests[a];
}

/* Moves p to the next candidate for its application; false when none is left. */
static bool next_candidate(struct watch *w, struct watch_probe *p)
{
    for (unsigned r = p->rank + 1; r <= w->names->n_alts; r++) {
        const struct probe_set *alt = &w->names->alts[r - 1];
        for (size_t i = 0; i < alt->n; i++)
            if (strcmp(alt->app[i], p->state->application) == 0) {
                p->rank = r;
                p->state->product = alt->product[i];
                p->state->required = alt->required[i];
                return true;
            }
    }
    return false;
}

static void on_probe_done(const struct client_outcome *out, void *arg);

/*
 * Automatic products: a host whose keys do not cover the product (0xC004F042) is asked the next
 * candidate at once, in the same round, until one gets a count; that one is kept for good. True
 * when a new request went out (the outcome is not recorded).
 */
static bool try_next_candidate(struct watch_probe *p, const struct client_outcome *out)
{
    struct watch *w = p->w;
    if (!w->auto_products || p->settled)
        return false;
    if (out->result.outcome != KMS_OUTCOME_HOST_ERROR ||
        out->result.hresult != PROBE_SET_NOT_COVERED || !next_candidate(w, p)) {
        p->settled = true;
        if (out->result.outcome == KMS_OUTCOME_HOST_ERROR && p->rank > 0) {
            /* Every candidate refused: reported as the default product's refusal. */
            size_t a = (size_t)(p - p->target->probes);
            p->rank = 0;
            p->state->product = w->names->set.product[a];
            p->state->required = w->names->set.required[a];
        }
        return false;
    }
    struct kms_request req = *probe_request(w, p);
    client_request_stamp(&req, 0);
    struct net_client_params params = w->params;
    params.addrs = &p->target->addrs;
    p->call = client_call_start(w->base, &params, &req, on_probe_done, p);
    return p->call != NULL;
}

static void on_probe_done(const struct client_outcome *out, void *arg)
{
    struct watch_probe *p = arg;
    struct watch *w = p->w;
    if (try_next_candidate(p, out))
        return;
    watch_app_state_record(p->state, &out->result, (double)out->elapsed_us / 1e6, unix_now());
    w->probes_done++;
    if (!kms_outcome_has_count(out->result.outcome))
        w->probes_failed++;
    if (kms_outcome_no_answer(out->result.outcome))
        w->probes_unreached++;
    char line[400], ts[32];
    watch_app_state_describe(p->state, line, sizeof line);
    /* A failure's detail may quote the bytes a broken host sent, different every time: a change
     * is a different outcome, not different garbage. */
    char key[400];
    bool kms_answer =
        kms_outcome_has_count(out->result.outcome) || out->result.outcome == KMS_OUTCOME_HOST_ERROR;
    if (kms_answer)
        snprintf(key, sizeof key, "%s", line);
    else
        snprintf(key, sizeof key, "no answer: %s", kms_outcome_name(out->result.outcome));
    if (w->opt->json) {
        watch_json_probe(stdout, p->target->state->name, p->state); /* every probe, every round */
    } else if (strcmp(key, p->last_key) != 0) {
        snprintf(p->last_key, sizeof p->last_key, "%s", key);
        timestamp(ts, sizeof ts);
        printf("%s %s %s: %s%s%s%s\n", ts, p->target->state->name, p->state->application, line,
               p->last_line[0] ? " (was: " : "", p->last_line, p->last_line[0] ? ")" : "");
        fflush(stdout);
        snprintf(p->last_line, sizeof p->last_line, "%s", line);
    }
    p->call = NULL;
    if (--w->in_flight == 0)
        round_over(w);
}

/* A host slot for name: the one already watching it, else a free or withdrawn one. */
static struct watch_target *target_slot(struct watch *w, const char *name)
{
    struct watch_metrics *m = &w->metrics;
    for (size_t i = 0; i < m->n_hosts; i++)
        if (strcmp(m->hosts[i].name, name) == 0)
            return &w->targets[i];
    size_t slot = m->n_hosts;
    if (m->n_hosts == 1 && !m->hosts[0].name[0]) {
        slot = 0; /* dns: the template slot takes the first host DNS names */
    } else if (slot == WATCH_MAX_HOSTS) {
        for (slot = 0; slot < WATCH_MAX_HOSTS && m->hosts[slot].listed; slot++)
            ;
        if (slot == WATCH_MAX_HOSTS)
            return NULL;
    } else {
        m->n_hosts++;
    }
    struct watch_host_state *hs = &m->hosts[slot];
    struct watch_target *t = &w->targets[slot];
    memset(t, 0, sizeof *t);
    snprintf(hs->name, sizeof hs->name, "%s", name);
    hs->listed = false;
    t->state = hs;
    for (size_t a = 0; a < m->n_apps; a++) {
        /* From the set, not the first host: its probes may have moved to other candidates. */
        watch_app_state_init(&hs->apps[a], w->names->set.app[a], w->names->set.product[a],
                             w->names->set.required[a]);
        t->probes[a] = (struct watch_probe){.w = w, .target = t, .state = &hs->apps[a]};
    }
    return t;
}

static void print_dns(struct watch *w, const char *line)
{
    if (w->opt->json) {
        watch_json_dns(stdout, w->opt->dns_domain, w->metrics.dns_ok, w->metrics.dns_hosts, line);
        return;
    }
    if (strcmp(line, w->dns_line) == 0)
        return;
    char ts[32];
    timestamp(ts, sizeof ts);
    printf("%s dns:%s: %s\n", ts, w->opt->dns_domain, line);
    fflush(stdout);
    snprintf(w->dns_line, sizeof w->dns_line, "%s", line);
}

/*
 * A dns: target: the hosts of this round's SRV answer (a failed lookup keeps the last ones, as
 * clients keep using a host they know). Hosts DNS no longer names are dropped with a line.
 */
static void apply_dns_hosts(struct watch *w, enum dns_srv_status ds, const struct dns_srv_set *set,
                            const char *err)
{
    char line[400];
    w->metrics.dns_ok = ds == DNS_SRV_OK;
    if (ds != DNS_SRV_OK) {
        w->dns_failures++;
        snprintf(line, sizeof line, "lookup failed: %.300s", err);
        print_dns(w, line);
        return;
    }
    bool seen[WATCH_MAX_HOSTS] = {false};
    unsigned listed = 0;
    for (size_t i = 0; i < set->n; i++) {
        char name[WATCH_HOST_NAME_MAX];
        client_host_name(set->rec[i].target, set->rec[i].port, name, sizeof name);
        struct watch_target *t = target_slot(w, name);
        if (!t)
            continue;
        seen[t - w->targets] = true;
        t->state->listed = true;
        t->addrs = set->rec[i].addrs;
        t->resolved = set->rec[i].addrs.n > 0;
        snprintf(t->resolve_err, sizeof t->resolve_err, "%s has no address: %.150s", name,
                 set->rec[i].addr_err);
        listed++;
    }
    for (size_t i = 0; i < w->metrics.n_hosts; i++)
        if (w->metrics.hosts[i].listed && !seen[i]) {
            char ts[32];
            timestamp(ts, sizeof ts);
            if (!w->opt->json) /* the dns object's host count says it there */
                printf("%s %s: no longer published in DNS, not watched\n", ts,
                       w->metrics.hosts[i].name);
            w->metrics.hosts[i].listed = false;
        }
    w->metrics.dns_hosts = listed;
    snprintf(line, sizeof line, "%u host%s published", listed, listed == 1 ? "" : "s");
    print_dns(w, line);
}

/* Asks one host about every application, dated now. */
static void ask_target(struct watch *w, struct watch_target *t)
{
    for (size_t a = 0; a < w->metrics.n_apps; a++) {
        struct watch_probe *p = &t->probes[a];
        struct kms_request req = *probe_request(w, p);
        client_request_stamp(&req, 0);
        struct net_client_params params = w->params;
        params.addrs = &t->addrs;
        p->call = t->resolved ? client_call_start(w->base, &params, &req, on_probe_done, p) : NULL;
        if (!p->call) {
            struct client_outcome out;
            memset(&out, 0, sizeof out);
            out.result.outcome = t->resolved ? KMS_OUTCOME_LOCAL_ERROR : KMS_OUTCOME_DNS_ERROR;
            snprintf(out.result.err.detail, sizeof out.result.err.detail, "%.150s",
                     t->resolved ? "out of memory" : t->resolve_err);
            on_probe_done(&out, p);
        }
    }
}

/* The round's probes, once its lookup is over. */
static void ask_all(struct watch *w)
{
    unsigned probes = 0;
    for (size_t h = 0; h < w->metrics.n_hosts; h++)
        if (w->metrics.hosts[h].listed)
            probes += (unsigned)w->metrics.n_apps;
    if (probes == 0) {
        round_over(w);
        return;
    }
    w->in_flight = probes;
    for (size_t h = 0; h < w->metrics.n_hosts; h++)
        if (w->targets[h].state->listed)
            ask_target(w, &w->targets[h]);
}

static void on_srv_answer(enum dns_srv_status status, const struct dns_srv_set *set,
                          const char *err, void *arg)
{
    struct watch *w = arg;
    w->srv_lookup = NULL;
    apply_dns_hosts(w, status, set, err);
    ask_all(w);
}

static void on_addr_answer(int status, const struct net_addrs *addrs, const char *err, void *arg)
{
    struct watch_target *t = arg;
    struct watch *w = t->w;
    t->lookup = NULL;
    t->resolved = status == 0;
    t->addrs = *addrs;
    snprintf(t->resolve_err, sizeof t->resolve_err, "%s", err);
    if (--w->addr_lookups == 0)
        ask_all(w);
}

void watch_start_round(struct watch *w)
{
    /* The previous round still waits for answers or its lookups (each bounded by --timeout). */
    if (w->in_flight > 0 || w->srv_lookup || w->addr_lookups)
        return;
    char err[256];
    if (w->opt->dns_domain) {
        struct dns_srv_query q = {.domain = w->opt->dns_domain,
                                  .dns_server = w->opt->dns_server,
                                  .timeout_us = w->opt->timeout_us};
        w->srv_lookup = dns_srv_start(w->base, &q, on_srv_answer, w, err, sizeof err);
        if (!w->srv_lookup) {
            struct dns_srv_set none = {.n = 0};
            on_srv_answer(DNS_SRV_FAILED, &none, err, w);
        }
        return;
    }
    /* Every HOST target's addresses at once; the probes start when the last lookup ends. The
     * extra count keeps a lookup that fails to start from ending the wait early. */
    w->addr_lookups = 1;
    for (size_t h = 0; h < w->metrics.n_hosts; h++) {
        struct watch_target *t = &w->targets[h];
        struct dns_addr_query q = {.host = t->host,
                                   .port = t->port,
                                   .dns_server = w->opt->dns_server,
                                   .timeout_us = w->opt->timeout_us};
        w->addr_lookups++;
        t->lookup = dns_addr_start(w->base, &q, on_addr_answer, t, err, sizeof err);
        if (!t->lookup) {
            struct net_addrs none = {.n = 0};
            on_addr_answer(-1, &none, err, t);
        }
    }
    if (--w->addr_lookups == 0)
        ask_all(w);
}

void watch_cancel_probes(struct watch *w)
{
    dns_srv_cancel(w->srv_lookup);
    w->srv_lookup = NULL;
    for (size_t h = 0; h < w->metrics.n_hosts; h++) {
        dns_addr_cancel(w->targets[h].lookup);
        w->targets[h].lookup = NULL;
        for (size_t a = 0; a < w->metrics.n_apps; a++) {
            client_call_cancel(w->targets[h].probes[a].call);
            w->targets[h].probes[a].call = NULL;
        }
    }
    w->addr_lookups = 0;
}

/* The requests (one per application) from --products; returns 0 or -1 with a message. */
static int watch_products(struct watch *w, const struct catalog *cat, struct watch_names *names,
                          char *err, size_t err_len)
{
    const struct watch_options *o = w->opt;
    /* This machine's probe CMID (shared with probe and discover): one entry per application in
     * a host's count, refreshed by every round, whichever of these commands sent it. */
    if (o->cmid_seed)
        probe_cmid_from_seed(o->cmid_seed, &w->cmid);
    else
        probe_cmid_stable(&w->cmid);
    struct probe_set *set = &names->set;
    w->names = names;
    w->auto_products = o->products == NULL;
    if (probe_set_parse(set, cat, o->products ? o->products : PROBE_SET_DEFAULT_PRODUCTS, &w->cmid,
                        "--products", err, err_len))
        return -1;
    for (size_t r = 0; w->auto_products && r < PROBE_SET_CANDIDATE_RANKS; r++) {
        /* The candidates share the CMID: the host counts this watcher once per application
         * whichever of them it answers. */
        if (probe_set_parse(&names->alts[r], cat, probe_set_candidates[r], &w->cmid,
                            "built-in products", err, err_len))
            return -1;
        names->n_alts = r + 1;
    }
    struct watch_host_state *first = &w->metrics.hosts[0];
    for (size_t n = 0; n < set->n; n++) {
        w->requests[n] = set->requests[n];
        /* The application keys and product names outlive the catalogue in names. */
        watch_app_state_init(&first->apps[n], set->app[n], set->product[n], set->required[n]);
    }
    w->metrics.n_apps = set->n;
    return 0;
}

/* The hosts watched: slot 0 a template until DNS names hosts, or the one --target. */
static void watch_targets_init(struct watch *w, const struct watch_options *o)
{
    if (!o->target) {
        w->metrics.n_hosts = 0; /* the /probe exporter alone */
    } else if (o->dns_domain) {
        /* Slot 0 only carries the application template until DNS names hosts. */
        w->metrics.dns_domain = o->dns_domain;
        w->metrics.hosts[0].listed = false;
        w->metrics.hosts[0].name[0] = '\0';
        w->metrics.n_hosts = 1;
        w->targets[0].state = &w->metrics.hosts[0];
    } else {
        /* Each HOST[:PORT] its own slot, host label and lookup; the first holds the template. */
        for (size_t h = 0; h < o->n_targets; h++) {
            struct watch_target *t = &w->targets[h];
            struct watch_host_state *hs = &w->metrics.hosts[h];
            char name[WATCH_HOST_NAME_MAX];
            char err[256];
            net_parse_target(o->targets[h], KMS_DEFAULT_PORT, t->host, sizeof t->host, &t->port,
                             err, sizeof err);
            client_host_name(t->host, t->port, name, sizeof name);
            snprintf(hs->name, sizeof hs->name, "%s", name);
            hs->listed = true;
            t->state = hs;
            t->w = w;
            for (size_t a = 0; a < w->metrics.n_apps; a++) {
                if (h > 0)
                    watch_app_state_init(&hs->apps[a], w->names->set.app[a],
                                         w->names->set.product[a], w->names->set.required[a]);
                t->probes[a] = (struct watch_probe){.w = w, .target = t, .state = &hs->apps[a]};
            }
        }
        w->metrics.n_hosts = o->n_targets;
    }
}

int watch_setup(struct watch *w, const struct watch_options *o, const struct catalog *cat,
                struct watch_names *names, char *err, size_t err_len)
{
    w->opt = o;
    if (watch_products(w, cat, names, err, err_len))
        return -1;
    w->metrics.interval_s = (double)o->interval_us / 1e6;
    client_params(&w->params, NULL, o->timeout_us);
    watch_targets_init(w, o);
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    watch_start_round(arg);
}

int watch_run(struct watch *w, char *err, size_t err_len)
{
    w->timer = event_new(w->base, -1, EV_PERSIST, on_timer, w);
    if (!w->timer)
        return errmsg_set(err, err_len, "out of memory");
    struct timeval tv = {(time_t)(w->opt->interval_us / 1000000),
                         (suseconds_t)(w->opt->interval_us % 1000000)};
    event_add(w->timer, &tv);
    watch_start_round(w);
    event_base_dispatch(w->base);
    return 0;
}

int watch_count_status(const struct watch *w, char *why, size_t cap)
{
    if (!w->probes_failed && !w->dns_failures && w->probes_done > 0)
        return 0;
    snprintf(why, cap, "%lu of %lu probe%s in %lu round%s got no count (%lu dns: lookup%s failed)",
             w->probes_failed, w->probes_done, w->probes_done == 1 ? "" : "s", w->rounds,
             w->rounds == 1 ? "" : "s", w->dns_failures, w->dns_failures == 1 ? "" : "s");
    return w->probes_unreached == w->probes_done ? 3 : 1;
}
