/* Evaluation of a scenario's expectations against a run's tally. */
#include "expect.h"

#include "hresult.h"
#include "value_parse.h"
#include "wintypes.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define US_PER_DAY 86400000000.0

/* Appends to a fixed buffer; truncates silently (observed texts are for people). */
static void append(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len = (size_t)n >= cap - *len ? cap : *len + (size_t)n;
}

static void format_duration(uint64_t us, char *out, size_t cap)
{
    if (us < 1000)
        snprintf(out, cap, "%" PRIu64 " us", us);
    else if (us < 1000000)
        snprintf(out, cap, "%.2f ms", (double)us / 1e3);
    else
        snprintf(out, cap, "%.2f s", (double)us / 1e6);
}

static int find_population(const struct scenario *sc, const struct run_tally *t, const char *name)
{
    size_t n = sc->n_pops < t->n_pops ? sc->n_pops : t->n_pops;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sc->pops[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static const struct tally_app *find_app(const struct run_tally *t, const char *key)
{
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        if (t->apps[i].seen && strcmp(t->apps[i].key, key) == 0)
            return &t->apps[i];
    }
    return NULL;
}

static bool app_has_count(const struct tally_app *a)
{
    return a->n_timeline > 0 || a->timeline_skipped > 0;
}

static bool in_allowed(const struct scenario *sc, uint32_t code)
{
    for (size_t i = 0; i < sc->n_allowed_hresults; i++) {
        if (sc->allowed_hresults[i] == code)
            return true;
    }
    return false;
}

static bool eval_model(const struct scenario_expectation *e, const struct run_tally *t, char *out,
                       size_t cap)
{
    size_t len = 0;
    /* Every answer with a count must have been judged: an answer nobody checked is not a pass. */
    uint64_t answers =
        t->outcomes[KMS_OUTCOME_ACTIVATED] + t->outcomes[KMS_OUTCOME_BELOW_THRESHOLD];
    uint64_t unchecked = answers > t->model_checked ? answers - t->model_checked : 0;
    if (unchecked > 0) {
        append(out, cap, &len, "%" PRIu64 " of %" PRIu64 " answers were not checked by the model; ",
               unchecked, answers);
    }
    if (t->model_mismatches == 0) {
        append(out, cap, &len, "no disagreement with the model in %" PRIu64 " checked responses",
               t->model_checked);
        return unchecked == 0 && 0.0 <= e->value;
    }
    append(out, cap, &len, "%" PRIu64 " of %" PRIu64 " checked responses disagree with the model",
           t->model_mismatches, t->model_checked);
    if (t->has_first_mismatch) {
        const struct run_event *m = &t->first_mismatch;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&m->cmid, cmid);
        append(out, cap, &len, "; first: request %" PRIu64 ", machine %" PRIu32 ", CMID %s: %.*s",
               m->seq, m->machine, cmid, (int)sizeof m->model_reason, m->model_reason);
    }
    return (double)t->model_mismatches <= e->value;
}

static bool eval_first_activation(const struct scenario *sc, const struct scenario_expectation *e,
                                  const struct run_tally *t, char *out, size_t cap)
{
    int i = find_population(sc, t, e->subject);
    if (i < 0) {
        snprintf(out, cap, "no population named %s in the run", e->subject);
        return false;
    }
    const struct tally_population *p = &t->pops[i];
    if (!p->crossed) {
        snprintf(out, cap, "no machine of %s activated (%" PRIu64 " requests)", e->subject,
                 p->requests);
        return false;
    }
    snprintf(out, cap, "first activation of %s at count %u (request %" PRIu64 ", day %.2f)",
             e->subject, p->first_activation_count, p->first_activation_seq,
             (double)p->first_activation_sim_us / US_PER_DAY);
    return (double)p->first_activation_count == e->value;
}

static bool eval_app_count(const struct scenario_expectation *e, const struct run_tally *t,
                           char *out, size_t cap)
{
    const struct tally_app *a = find_app(t, e->subject);
    if (!a) {
        snprintf(out, cap, "no response for application %s", e->subject);
        return false;
    }
    if (!app_has_count(a)) {
        snprintf(out, cap, "no count returned for application %s (%" PRIu64 " requests)",
                 e->subject, a->requests);
        return false;
    }
    if (e->kind == EXPECT_MAX_COUNT) {
        snprintf(out, cap, "highest count for %s: %u", e->subject, a->max_count);
        return (double)a->max_count <= e->value;
    }
    snprintf(out, cap, "final count for %s: %u (day %.2f)", e->subject, a->last_count,
             (double)a->last_sim_us / US_PER_DAY);
    return (double)a->last_count == e->value;
}

static bool eval_activated(const struct scenario *sc, const struct scenario_expectation *e,
                           const struct run_tally *t, char *out, size_t cap)
{
    int i = find_population(sc, t, e->subject);
    if (i < 0) {
        snprintf(out, cap, "no population named %s in the run", e->subject);
        return false;
    }
    const struct tally_population *p = &t->pops[i];
    const char *plural = p->machines == 1 ? "" : "s";
    if (p->ever_activated_machines > p->activated_machines)
        snprintf(out, cap,
                 "%u of %u machine%s of %s still activated at the end (%u activated at some point)",
                 p->activated_machines, p->machines, plural, e->subject,
                 p->ever_activated_machines);
    else if (p->activated_machines == 0)
        snprintf(out, cap, "0 of %u machine%s of %s activated", p->machines, plural, e->subject);
    else
        snprintf(out, cap, "%u of %u machine%s of %s activated, all still activated at the end",
                 p->activated_machines, p->machines, plural, e->subject);
    return (double)p->activated_machines >= e->value;
}

static bool eval_error_rate(const struct scenario_expectation *e, const struct run_tally *t,
                            char *out, size_t cap)
{
    if (t->requests == 0) {
        snprintf(out, cap, "no requests were made");
        return false;
    }
    /* A contact is failed only when no host answered it: an attempt that failed over to the
     * next host is neither a contact of its own nor a failure (failovers = N judges those). */
    uint64_t failed = run_tally_failures(t), contacts = run_tally_contacts(t);
    double rate = contacts ? (double)failed / (double)contacts : 0;
    size_t len = 0;
    append(out, cap, &len, "error rate %.4g (%" PRIu64 " of %" PRIu64 " contacts failed", rate,
           failed, contacts);
    if (t->failed_over > 0)
        append(out, cap, &len,
               "; %" PRIu64 " answered after failover to the next host, counted as answered",
               t->failed_over);
    append(out, cap, &len, ")");
    return rate <= e->value;
}

static bool eval_unanswered(const struct scenario_expectation *e, const struct run_tally *t,
                            char *out, size_t cap)
{
    uint64_t n = run_tally_unanswered(t);
    size_t len = 0;
    if (t->requests == 0) {
        append(out, cap, &len, "no requests were made");
        return false;
    }
    append(out, cap, &len, "%" PRIu64 " of %" PRIu64 " contacts got no answer from any host", n,
           t->requests - t->failed_over);
    const enum kms_outcome kinds[] = {KMS_OUTCOME_DNS_ERROR,      KMS_OUTCOME_REFUSED,
                                      KMS_OUTCOME_UNREACHABLE,    KMS_OUTCOME_TIMEOUT,
                                      KMS_OUTCOME_RESET,          KMS_OUTCOME_CLOSED,
                                      KMS_OUTCOME_PROTOCOL_ERROR, KMS_OUTCOME_LOCAL_ERROR};
    const char *sep = " (";
    for (size_t i = 0; n > 0 && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (t->outcomes[kinds[i]] == 0)
            continue;
        append(out, cap, &len, "%s%s %" PRIu64, sep, kms_outcome_name(kinds[i]),
               t->outcomes[kinds[i]]);
        sep = ", ";
    }
    if (n > 0)
        append(out, cap, &len, ")");
    if (t->failed_over > 0)
        append(out, cap, &len, "; %" PRIu64 " attempts answered after failover to the next host",
               t->failed_over);
    return (double)n <= e->value;
}

/* failovers = N: a user who wants every contact answered by the first host it tried. */
static bool eval_failovers(const struct scenario_expectation *e, const struct run_tally *t,
                           char *out, size_t cap)
{
    size_t len = 0;
    append(out, cap, &len, "%" PRIu64 " of %" PRIu64 " contacts failed over to the next host",
           t->failed_over, run_tally_contacts(t));
    const char *sep = " (";
    for (size_t h = 0; t->failed_over > 0 && h < t->n_hosts && h < TALLY_MAX_HOSTS; h++)
        if (t->hosts[h].failed_over) {
            append(out, cap, &len, "%s%s did not answer %" PRIu64, sep, t->hosts[h].name,
                   t->hosts[h].failed_over);
            sep = ", ";
        }
    if (sep[0] == ',')
        append(out, cap, &len, ")");
    return (double)t->failed_over <= e->value;
}

/* What to change when hosts refused the clients' time (0xC004F06C), in the observed text. */
static void clock_advice(const struct scenario *sc, char *out, size_t cap, size_t *len)
{
    if (sc->clock == SCENARIO_CLOCK_VIRTUAL) {
        char dur[32];
        if (sc->duration_us % 86400000000LL == 0) /* as one would type it: "60d" */
            snprintf(dur, sizeof dur, "%lldd", (long long)(sc->duration_us / 86400000000LL));
        else
            value_format_duration(sc->duration_us, dur, sizeof dur);
        append(out, cap, len,
               " — the host would not follow the clients' simulated clock: a host that follows "
               "client time (kmsload host --clock client) moves at most --clock-step per request "
               "(default: renewal interval + 1 day); restart it with --clock-step %s (the "
               "scenario's duration) or give the fleet no quiet stretch that long; a host that "
               "checks client time needs a real-clock scenario (real-host-smoke)",
               dur);
    } else {
        append(out, cap, len,
               " — the clients' time was more than 4 hours off the host's: check the clocks of "
               "the host and of this machine");
    }
}

static bool eval_hresults(const struct scenario *sc, const struct scenario_expectation *e,
                          const struct run_tally *t, char *out, size_t cap)
{
    uint64_t unexpected = 0, tabled = 0;
    for (size_t i = 0; i < t->n_hresults; i++) {
        tabled += t->hresults[i].n;
        if (!in_allowed(sc, t->hresults[i].code))
            unexpected += t->hresults[i].n;
    }
    /* Codes that did not fit the table are unknown, hence unexpected. */
    uint64_t all = t->outcomes[KMS_OUTCOME_HOST_ERROR] + t->outcomes[KMS_OUTCOME_RPC_FAULT];
    uint64_t untabled = all > tabled ? all - tabled : 0;
    unexpected += untabled;
    size_t len = 0;
    if (unexpected == 0) {
        append(out, cap, &len, "no unexpected HRESULT");
        if (all > 0)
            append(out, cap, &len, " (%" PRIu64 " allowed)", all);
        return 0.0 <= e->value;
    }
    append(out, cap, &len, "%" PRIu64 " unexpected:", unexpected);
    const char *sep = " ";
    for (size_t i = 0; i < t->n_hresults; i++) {
        const struct tally_hresult *h = &t->hresults[i];
        if (in_allowed(sc, h->code))
            continue;
        append(out, cap, &len, "%s0x%08" PRIX32 " %s x%" PRIu64, sep, h->code, status_name(h->code),
               h->n);
        sep = ", ";
    }
    if (untabled > 0)
        append(out, cap, &len, "%sother codes x%" PRIu64, sep, untabled);
    if (!in_allowed(sc, 0xC004F06Cu))
        for (size_t i = 0; i < t->n_hresults; i++)
            if (t->hresults[i].code == 0xC004F06Cu)
                clock_advice(sc, out, cap, &len);
    return (double)unexpected <= e->value;
}

static bool eval_latency(const struct scenario_expectation *e, const struct run_tally *t, char *out,
                         size_t cap)
{
    static const struct {
        const char *name;
        double q;
    } quantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}, {"max", 1.0}};
    double q = -1;
    for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++) {
        if (strcmp(e->subject, quantiles[i].name) == 0)
            q = quantiles[i].q;
    }
    if (q < 0) {
        snprintf(out, cap, "unknown latency percentile %s (p50, p90, p99, p999 or max)",
                 e->subject);
        return false;
    }
    if (t->latency.count == 0) {
        snprintf(out, cap, "no latency recorded (no answers)");
        return false;
    }
    uint64_t v = q >= 1.0 ? t->latency.max : histogram_quantile(&t->latency, q);
    char text[32];
    format_duration(v, text, sizeof text);
    snprintf(out, cap, "%s latency %s over %" PRIu64 " answers", e->subject, text,
             t->latency.count);
    return (double)v <= e->value;
}

/* "HOST.APP" or "HOST": the host of the tally named so, and the application key after the dot. */
static const struct tally_host *find_host(const struct run_tally *t, const char *subject,
                                          bool with_app, const struct tally_host_app **app)
{
    char name[SCENARIO_NAME_MAX];
    snprintf(name, sizeof name, "%s", subject);
    const char *app_key = NULL;
    if (with_app) {
        char *dot = strrchr(name, '.');
        if (!dot)
            return NULL;
        *dot = '\0';
        app_key = dot + 1;
    }
    for (size_t i = 0; i < t->n_hosts; i++) {
        const struct tally_host *h = &t->hosts[i];
        if (!h->seen || strcmp(h->name, name) != 0)
            continue;
        *app = NULL;
        for (size_t k = 0; app_key && k < TALLY_MAX_APPS; k++)
            if (h->apps[k].seen && strcmp(h->apps[k].key, app_key) == 0)
                *app = &h->apps[k];
        return h;
    }
    return NULL;
}

static int host_index_of(const struct run_tally *t, const char *name)
{
    for (size_t i = 0; i < t->n_hosts; i++)
        if (t->hosts[i].seen && strcmp(t->hosts[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool eval_host(const struct scenario_expectation *e, const struct run_tally *t, char *out,
                      size_t cap)
{
    bool with_app = e->kind == EXPECT_HOST_REACHES_5 || e->kind == EXPECT_HOST_REACHES_25;
    const struct tally_host_app *app = NULL;
    const struct tally_host *h = find_host(t, e->subject, with_app, &app);
    if (!h) {
        snprintf(out, cap, "no request reached a host named so");
        return false;
    }
    switch (e->kind) {
    case EXPECT_HOST_REACHES_5:
    case EXPECT_HOST_REACHES_25: {
        int k = e->kind == EXPECT_HOST_REACHES_5 ? 0 : 1;
        if (!app || app->reached_us[k] < 0) {
            snprintf(out, cap, "never reached %d (highest %u)", k ? 25 : 5,
                     app ? app->max_count : 0);
            return false;
        }
        snprintf(out, cap, "reached %d on day %.2f", k ? 25 : 5,
                 (double)app->reached_us[k] / US_PER_DAY);
        return (double)app->reached_us[k] <= e->value;
    }
    case EXPECT_HOST_MACHINES_AT_END: {
        int i = host_index_of(t, e->subject);
        if (t->n_days == 0 || i < 0) {
            snprintf(out, cap, "no daily sample of the hosts' machines");
            return false;
        }
        unsigned n = t->days[t->n_days - 1].machines[i];
        snprintf(out, cap, "%u machines cache it on day %zu", n, t->n_days - 1);
        return (double)n <= e->value;
    }
    default: /* EXPECT_HOST_REFUSED */
        snprintf(out, cap, "%" PRIu64 " requests refused with 0xC004F042", h->refused_product);
        return (double)h->refused_product >= e->value;
    }
}

static bool eval_max_unactivated(const struct scenario_expectation *e, const struct run_tally *t,
                                 char *out, size_t cap)
{
    snprintf(out, cap, "longest %.2f days (machine %" PRIu32 "%s)",
             (double)t->max_unactivated_us / US_PER_DAY, t->max_unactivated_machine,
             t->max_unactivated_open ? ", still unactivated at the end" : "");
    return (double)t->max_unactivated_us <= e->value;
}

void expect_rule(const struct scenario_expectation *e, char *out, size_t cap)
{
    const char *op = "=";
    switch (e->kind) {
    case EXPECT_MODEL_MISMATCHES:
    case EXPECT_MAX_COUNT:
    case EXPECT_ERROR_RATE:
    case EXPECT_UNEXPECTED_HRESULTS:
    case EXPECT_LATENCY:
        op = "\xE2\x89\xA4"; /* ≤: at most */
        break;
    case EXPECT_HOST_REACHES_5:
    case EXPECT_HOST_REACHES_25:
    case EXPECT_HOST_MACHINES_AT_END:
    case EXPECT_MAX_UNACTIVATED:
    case EXPECT_UNANSWERED:
    case EXPECT_FAILOVERS:
        op = "\xE2\x89\xA4"; /* ≤: at most */
        break;
    case EXPECT_ACTIVATED:
    case EXPECT_MIN_REQUESTS:
    case EXPECT_HOST_REFUSED:
        op = "\xE2\x89\xA5"; /* ≥: at least */
        break;
    case EXPECT_FIRST_ACTIVATION:
    case EXPECT_FINAL_COUNT:
        break;
    }
    const char *eq = strchr(e->text, '=');
    if (!eq) {
        snprintf(out, cap, "%s", e->text);
        return;
    }
    size_t key_len = (size_t)(eq - e->text);
    while (key_len > 0 && (e->text[key_len - 1] == ' ' || e->text[key_len - 1] == '\t'))
        key_len--;
    const char *value = eq + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    snprintf(out, cap, "%.*s %s %s", (int)key_len, e->text, op, value);
}

size_t expect_evaluate(const struct scenario *sc, const struct run_tally *t,
                       struct expect_result *results)
{
    size_t failed = 0;
    for (size_t i = 0; i < sc->n_expects; i++) {
        const struct scenario_expectation *e = &sc->expects[i];
        struct expect_result *r = &results[i];
        char *out = r->observed;
        size_t cap = sizeof r->observed;
        r->expectation = e;
        out[0] = '\0';
        expect_rule(e, r->rule, sizeof r->rule);
        switch (e->kind) {
        case EXPECT_MODEL_MISMATCHES:
            r->passed = eval_model(e, t, out, cap);
            break;
        case EXPECT_FIRST_ACTIVATION:
            r->passed = eval_first_activation(sc, e, t, out, cap);
            break;
        case EXPECT_MAX_COUNT:
        case EXPECT_FINAL_COUNT:
            r->passed = eval_app_count(e, t, out, cap);
            break;
        case EXPECT_ACTIVATED:
            r->passed = eval_activated(sc, e, t, out, cap);
            break;
        case EXPECT_ERROR_RATE:
            r->passed = eval_error_rate(e, t, out, cap);
            break;
        case EXPECT_UNEXPECTED_HRESULTS:
            r->passed = eval_hresults(sc, e, t, out, cap);
            break;
        case EXPECT_LATENCY:
            r->passed = eval_latency(e, t, out, cap);
            break;
        case EXPECT_MIN_REQUESTS:
            snprintf(out, cap, "%" PRIu64 " requests", t->requests);
            r->passed = (double)t->requests >= e->value;
            break;
        case EXPECT_HOST_REACHES_5:
        case EXPECT_HOST_REACHES_25:
        case EXPECT_HOST_MACHINES_AT_END:
        case EXPECT_HOST_REFUSED:
            r->passed = eval_host(e, t, out, cap);
            break;
        case EXPECT_MAX_UNACTIVATED:
            r->passed = eval_max_unactivated(e, t, out, cap);
            break;
        case EXPECT_UNANSWERED:
            r->passed = eval_unanswered(e, t, out, cap);
            break;
        case EXPECT_FAILOVERS:
            r->passed = eval_failovers(e, t, out, cap);
            break;
        default:
            snprintf(out, cap, "unknown expectation kind %d", (int)e->kind);
            r->passed = false;
            break;
        }
        if (!r->passed)
            failed++;
    }
    return failed;
}
