/*
 * The [expect] section: keys naming what a run must show (with a population, application or
 * host as subject), their values, and allowed_hresults.
 */
#include "scenario_parts.h"

#include "value_parse.h"

#include <stdio.h>
#include <string.h>

/* The [expect] keys: exact names, and prefixes followed by a population or application key. */
enum subject_kind { SUBJECT_NONE, SUBJECT_POPULATION, SUBJECT_APP, SUBJECT_HOST };
enum expect_value { EV_COUNT, EV_SHARE, EV_LATENCY, EV_DURATION };

struct expect_spec {
    const char *key; /* with the trailing '.' for prefixes */
    enum expect_kind kind;
    enum subject_kind subject_kind;
    const char *subject; /* fixed subject: the percentile */
    enum expect_value value;
    unsigned long max; /* EV_COUNT: largest value */
};

static const struct expect_spec expect_specs[] = {
    {"model_mismatches", EXPECT_MODEL_MISMATCHES, SUBJECT_NONE, "", EV_COUNT, 4294967295ul},
    {"first_activation.", EXPECT_FIRST_ACTIVATION, SUBJECT_POPULATION, NULL, EV_COUNT, 1000000},
    {"max_count.", EXPECT_MAX_COUNT, SUBJECT_APP, NULL, EV_COUNT, 1000000},
    {"final_count.", EXPECT_FINAL_COUNT, SUBJECT_APP, NULL, EV_COUNT, 1000000},
    {"activated.", EXPECT_ACTIVATED, SUBJECT_POPULATION, NULL, EV_COUNT, MACHINES_MAX},
    {"error_rate", EXPECT_ERROR_RATE, SUBJECT_NONE, "", EV_SHARE, 0},
    {"unexpected_hresults", EXPECT_UNEXPECTED_HRESULTS, SUBJECT_NONE, "", EV_COUNT, 4294967295ul},
    {"latency_p50", EXPECT_LATENCY, SUBJECT_NONE, "p50", EV_LATENCY, 0},
    {"latency_p90", EXPECT_LATENCY, SUBJECT_NONE, "p90", EV_LATENCY, 0},
    {"latency_p99", EXPECT_LATENCY, SUBJECT_NONE, "p99", EV_LATENCY, 0},
    {"latency_p999", EXPECT_LATENCY, SUBJECT_NONE, "p999", EV_LATENCY, 0},
    {"latency_max", EXPECT_LATENCY, SUBJECT_NONE, "max", EV_LATENCY, 0},
    {"requests", EXPECT_MIN_REQUESTS, SUBJECT_NONE, "", EV_COUNT, 4294967295ul},
    {"host_reaches_5.", EXPECT_HOST_REACHES_5, SUBJECT_HOST, NULL, EV_DURATION, 0},
    {"host_reaches_25.", EXPECT_HOST_REACHES_25, SUBJECT_HOST, NULL, EV_DURATION, 0},
    {"host_machines_at_end.", EXPECT_HOST_MACHINES_AT_END, SUBJECT_HOST, NULL, EV_COUNT,
     MACHINES_MAX},
    {"host_refused.", EXPECT_HOST_REFUSED, SUBJECT_HOST, NULL, EV_COUNT, 4294967295ul},
    {"max_unactivated", EXPECT_MAX_UNACTIVATED, SUBJECT_NONE, "", EV_DURATION, 0},
    {"unanswered", EXPECT_UNANSWERED, SUBJECT_NONE, "", EV_COUNT, 4294967295ul},
    {"failovers", EXPECT_FAILOVERS, SUBJECT_NONE, "", EV_COUNT, 4294967295ul},
};

#define EXPECT_KEYS_TEXT                                                                           \
    "model_mismatches, first_activation.POPULATION, max_count.APP, final_count.APP, "              \
    "activated.POPULATION, error_rate, unanswered, failovers, unexpected_hresults, "               \
    "allowed_hresults, "                                                                           \
    "host_reaches_5.HOST.APP, host_reaches_25.HOST.APP, host_machines_at_end.HOST, "               \
    "host_refused.HOST, max_unactivated, latency_p50, "                                            \
    "latency_p90, latency_p99, latency_p999, latency_max, requests"

static int parse_hresults(const char *value, uint32_t *codes, size_t *n_codes, char *problem,
                          size_t cap)
{
    size_t n = 0;
    const char *item = value;
    for (;;) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        char code[32];
        uint64_t v = 0;
        bool ok = scenario_trim_copy(item, len, code, sizeof code) &&
                  (code[0] == '0' && (code[1] == 'x' || code[1] == 'X')) && strlen(code) <= 10 &&
                  scenario_parse_u64(code, &v) == 0;
        if (!ok) {
            snprintf(problem, cap,
                     "expected a comma-separated list of hexadecimal HRESULTs like 0xC004F042, "
                     "0xC004F038");
            return -1;
        }
        if (n == SCENARIO_MAX_HRESULTS) {
            snprintf(problem, cap, "more than %d HRESULTs", SCENARIO_MAX_HRESULTS);
            return -1;
        }
        codes[n++] = (uint32_t)v;
        if (!comma)
            break;
        item = comma + 1;
    }
    *n_codes = n;
    return 0;
}

static void assign_allowed_hresults(struct parse_ctx *c, const char *key, const char *value,
                                    unsigned line)
{
    char problem[256];
    if (line != LINE_SET && c->allowed_line && c->allowed_line != LINE_SET) {
        snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                 c->allowed_line);
        scenario_fail_value(&c->diag, line, "expect", key, problem, value);
        return;
    }
    uint32_t codes[SCENARIO_MAX_HRESULTS];
    size_t n;
    if (parse_hresults(value, codes, &n, problem, sizeof problem) != 0) {
        scenario_fail_value(&c->diag, line, "expect", key, problem, value);
        return;
    }
    memcpy(c->sc->allowed_hresults, codes, sizeof codes);
    c->sc->n_allowed_hresults = n;
    c->allowed_line = line;
}

/* The spec of key and its subject (what follows a prefix); NULL, having failed, when none. */
static const struct expect_spec *find_expect_spec(struct parse_ctx *c, const char *key,
                                                  const char *value, unsigned line,
                                                  const char **subject)
{
    char problem[256];
    for (size_t i = 0; i < sizeof expect_specs / sizeof expect_specs[0]; i++) {
        const struct expect_spec *s = &expect_specs[i];
        size_t len = strlen(s->key);
        if (s->subject_kind == SUBJECT_NONE) {
            if (strcmp(key, s->key) != 0)
                continue;
            *subject = s->subject;
            return s;
        }
        if (strncmp(key, s->key, len) == 0) {
            *subject = key + len;
            return s;
        }
        if (strncmp(key, s->key, len - 1) == 0 && key[len - 1] == '\0') {
            snprintf(problem, sizeof problem, "needs the %s it is about: %s%s",
                     s->subject_kind == SUBJECT_POPULATION ? "population"
                     : s->subject_kind == SUBJECT_HOST     ? "host"
                                                           : "application",
                     s->key,
                     s->subject_kind == SUBJECT_POPULATION ? "NAME"
                     : s->subject_kind == SUBJECT_HOST     ? "HOST"
                                                           : "APP");
            scenario_fail_value(&c->diag, line, "expect", key, problem, value);
            return NULL;
        }
    }
    scenario_fail_value(&c->diag, line, "expect", key,
                        "unknown key (expected one of: " EXPECT_KEYS_TEXT ")", value);
    return NULL;
}

/* HOST or HOST.APP: a [host NAME] or an SRV target, and an application key. */
static bool valid_host_subject(const char *subject, bool with_app)
{
    size_t len = strlen(subject);
    const char *dot = strrchr(subject, '.');
    bool ok = len > 0 && len < SCENARIO_NAME_MAX &&
              strspn(subject, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789-_.") == len;
    if (ok && with_app)
        ok = dot && dot > subject && scenario_valid_app_key(dot + 1);
    return ok;
}

/* Whether subject can be what spec is about; fails with the reason when not. */
static bool check_subject(struct parse_ctx *c, const struct expect_spec *spec, const char *key,
                          const char *subject, const char *value, unsigned line)
{
    char problem[256];
    if (spec->subject_kind == SUBJECT_POPULATION &&
        !scenario_valid_name(subject, strlen(subject))) {
        snprintf(problem, sizeof problem,
                 "\"%.64s\" cannot be a population name (1..%d letters, digits, '-', '_')", subject,
                 SCENARIO_NAME_MAX - 1);
    } else if (spec->subject_kind == SUBJECT_APP && !scenario_valid_app_key(subject)) {
        snprintf(problem, sizeof problem,
                 "\"%.64s\" cannot be an application key (a catalogue key such as windows, "
                 "office2010, office2013)",
                 subject);
    } else if (spec->subject_kind == SUBJECT_HOST) {
        bool with_app = spec->kind == EXPECT_HOST_REACHES_5 || spec->kind == EXPECT_HOST_REACHES_25;
        if (valid_host_subject(subject, with_app))
            return true;
        snprintf(problem, sizeof problem, "\"%.64s\" is not %s", subject,
                 with_app ? "HOST.APP (a host name, a dot, an application key such as windows)"
                          : "a host name");
    } else {
        return true;
    }
    scenario_fail_value(&c->diag, line, "expect", key, problem, value);
    return false;
}

/* The value of an expectation as a number (durations in microseconds); -1 with problem. */
static int parse_expect_value(const struct expect_spec *spec, const char *value, double *out,
                              char *problem, size_t cap)
{
    unsigned long n;
    int64_t us;
    char why[128];
    switch (spec->value) {
    case EV_DURATION:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us < 0 ||
            us > DURATION_MAX_US) {
            snprintf(problem, cap, "expected a duration such as 12h or 20d");
            return -1;
        }
        *out = (double)us;
        return 0;
    case EV_COUNT:
        if (value_parse_uint(value, 0, spec->max, &n) != 0) {
            snprintf(problem, cap, "expected a number 0..%lu", spec->max);
            return -1;
        }
        *out = (double)n;
        return 0;
    case EV_SHARE:
        if (scenario_parse_share(value, out) != 0) {
            snprintf(problem, cap, "expected a share 0..1 such as 0.001 (or 0.1%%)");
            return -1;
        }
        return 0;
    case EV_LATENCY:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us <= 0 ||
            us > 3600 * US_PER_S) {
            snprintf(problem, cap, "expected a duration above 0, at most 1h, like 250ms or 2s");
            return -1;
        }
        *out = (double)us;
        return 0;
    }
    snprintf(problem, cap, "internal error: unknown expectation value");
    return -1;
}

/* Adds the expectation, or replaces it when an override gives it again. */
static void store_expect(struct parse_ctx *c, const struct expect_spec *spec, const char *key,
                         const char *subject, const char *value, unsigned line, double v)
{
    struct scenario *sc = c->sc;
    char problem[256];
    size_t i = 0;
    while (i < sc->n_expects &&
           !(sc->expects[i].kind == spec->kind && strcmp(sc->expects[i].subject, subject) == 0))
        i++;
    if (i < sc->n_expects && line != LINE_SET) {
        snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                 c->expect_lines[i]);
        scenario_fail_value(&c->diag, line, "expect", key, problem, value);
        return;
    }
    if (i == sc->n_expects) {
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS) {
            snprintf(problem, sizeof problem, "more than %d expectations",
                     SCENARIO_MAX_EXPECTATIONS);
            scenario_fail_value(&c->diag, line, "expect", key, problem, value);
            return;
        }
        sc->n_expects++;
    }
    struct scenario_expectation *e = &sc->expects[i];
    *e = (struct scenario_expectation){.kind = spec->kind, .value = v};
    snprintf(e->subject, sizeof e->subject, "%s", subject);
    snprintf(e->text, sizeof e->text, "%s = %s%s", key, value, line == LINE_SET ? " (--set)" : "");
    e->line = line == LINE_SET ? 0 : line;
    c->expect_lines[i] = line;
}

void scenario_assign_expect(struct parse_ctx *c, const char *key, const char *value, unsigned line)
{
    if (strcmp(key, "allowed_hresults") == 0) {
        assign_allowed_hresults(c, key, value, line);
        return;
    }
    const char *subject = "";
    const struct expect_spec *spec = find_expect_spec(c, key, value, line, &subject);
    if (!spec || !check_subject(c, spec, key, subject, value, line))
        return;
    double v = 0;
    char problem[256];
    if (parse_expect_value(spec, value, &v, problem, sizeof problem) != 0) {
        scenario_fail_value(&c->diag, line, "expect", key, problem, value);
        return;
    }
    store_expect(c, spec, key, subject, value, line, v);
}
