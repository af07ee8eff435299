/*
 * Scenario files (format: scenarios/README.md). INI through inih, fed line by line by ini_lines so
 * that every message carries its line. Each value is checked as it is read; what depends on the
 * whole file (required keys, references from [expect] to populations, leave and arrivals
 * defaults) is checked once the file and the --set overrides have been applied, since sections
 * may come in any order and overrides replace values. The first mistake stops the parse and is
 * reported as "FILE:LINE: [section] key: problem (got "value")" ("--set: ..." for an override).
 */
#include "scenario.h"

#include "host_faults.h"
#include "ini_lines.h"
#include "value_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A scenario is a few KiB; a file this large is almost certainly the wrong file. */
#define SCENARIO_FILE_MAX (1024 * 1024)
#define SCENARIO_ERR_MAX 1024
/* "Line" of a value given by a --set override. */
#define LINE_SET UINT_MAX

#define US_PER_S 1000000LL
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_DAY (86400 * US_PER_S)
#define DURATION_MAX_US (3650 * US_PER_DAY)
#define MACHINES_MAX 10000000u
#define RATE_MAX 1000000.0 /* arrivals per second */
#define STAGES_TEXT_MAX 1024

enum section_kind { SEC_NONE, SEC_SCENARIO, SEC_HOST, SEC_POPULATION, SEC_EXPECT, SEC_KMS_HOST };

enum value_type {
    T_TEXT,         /* printable text, min..size-1 characters */
    T_CLOCK,        /* virtual | real */
    T_DURATION,     /* int64_t microseconds within [min, max] */
    T_SKEW,         /* int64_t microseconds, signed, within [-max, max] */
    T_MINUTES,      /* unsigned minutes, given as a duration of whole minutes within [min, max] */
    T_U64,          /* uint64_t, decimal or 0x hex */
    T_UINT,         /* unsigned within [min, max] */
    T_U32,          /* uint32_t within [min, max] */
    T_SWITCH,       /* bool: on/off */
    T_SHARE,        /* double 0..1, or a percentage */
    T_STAGES,       /* arrivals: the population's ramp stages */
    T_FAULTS,       /* text that host_faults_parse accepts */
    T_TARGET_CLOCK, /* detect | client | real */
    T_RATE,         /* double > 0 (or 0: none), requests per second */
};

struct key_spec {
    enum section_kind section;
    const char *key;
    enum value_type type;
    size_t offset; /* into struct scenario, or struct scenario_population for [population] */
    size_t size;   /* T_TEXT: capacity of the field */
    int64_t min, max;
    const char *range; /* durations and numbers: the range for messages */
};

#define KH_FIELD(f)                                                                                \
    offsetof(struct scenario_kms_host, f), sizeof(((struct scenario_kms_host *)0)->f)
#define SC_FIELD(f) offsetof(struct scenario, f), sizeof(((struct scenario *)0)->f)
#define POP_FIELD(f)                                                                               \
    offsetof(struct scenario_population, f), sizeof(((struct scenario_population *)0)->f)

/* The keys each section accepts ([expect] keys are handled apart), in the order messages list. */
static const struct key_spec key_specs[] = {
    {SEC_SCENARIO, "name", T_TEXT, SC_FIELD(name), 1, 0, NULL},
    {SEC_SCENARIO, "description", T_TEXT, SC_FIELD(description), 0, 0, NULL},
    {SEC_SCENARIO, "clock", T_CLOCK, SC_FIELD(clock), 0, 0, NULL},
    {SEC_SCENARIO, "duration", T_DURATION, SC_FIELD(duration_us), 1, DURATION_MAX_US,
     "above 0, at most 3650d"},
    {SEC_SCENARIO, "tick", T_DURATION, SC_FIELD(tick_us), 1000, US_PER_DAY, "1ms..1d"},
    {SEC_SCENARIO, "seed", T_U64, SC_FIELD(seed), 0, 0, NULL},
    {SEC_SCENARIO, "concurrency", T_UINT, SC_FIELD(concurrency), 1, 100000, NULL},
    {SEC_SCENARIO, "timeout", T_DURATION, SC_FIELD(timeout_us), 1000, 3600 * US_PER_S, "1ms..1h"},
    {SEC_SCENARIO, "reuse_connections", T_SWITCH, SC_FIELD(reuse_connections), 0, 0, NULL},
    {SEC_SCENARIO, "coverage", T_SWITCH, SC_FIELD(coverage), 0, 0, NULL},
    {SEC_SCENARIO, "baseline", T_SWITCH, SC_FIELD(baseline), 0, 0, NULL},
    {SEC_SCENARIO, "live_host", T_SWITCH, SC_FIELD(live_host), 0, 0, NULL},
    {SEC_SCENARIO, "threads", T_UINT, SC_FIELD(threads), 0, 64, NULL},
    {SEC_SCENARIO, "target_clock", T_TARGET_CLOCK, SC_FIELD(target_clock), 0, 0, NULL},
    {SEC_SCENARIO, "stop_after_failures", T_UINT, SC_FIELD(stop_after_failures), 0, 100000000,
     NULL},
    {SEC_SCENARIO, "stop_after_silence", T_DURATION, SC_FIELD(stop_after_silence_us), 0,
     DURATION_MAX_US, "0 (never)..3650d"},
    {SEC_SCENARIO, "max_wall", T_DURATION, SC_FIELD(max_wall_us), US_PER_S, DURATION_MAX_US,
     "1s..3650d"},
    {SEC_SCENARIO, "max_rate", T_RATE, SC_FIELD(max_rate), 0, 0, NULL},
    {SEC_SCENARIO, "host_caching", T_SWITCH, SC_FIELD(host_caching), 0, 0, NULL},

    {SEC_HOST, "activation_interval", T_MINUTES, SC_FIELD(host_activation_interval), 15, 43200,
     "15m..30d"},
    {SEC_HOST, "renewal_interval", T_MINUTES, SC_FIELD(host_renewal_interval), 15, 43200,
     "15m..30d"},
    {SEC_HOST, "products", T_TEXT, SC_FIELD(host_products), 0, 0, NULL},
    {SEC_HOST, "host_key", T_TEXT, SC_FIELD(host_key), 0, 0, NULL},
    {SEC_HOST, "faults", T_FAULTS, SC_FIELD(host_faults), 0, 0, NULL},
    {SEC_HOST, "ndr64", T_SWITCH, SC_FIELD(host_ndr64), 0, 0, NULL},

    {SEC_KMS_HOST, "host_key", T_TEXT, KH_FIELD(host_key), 0, 0, NULL},
    {SEC_KMS_HOST, "products", T_TEXT, KH_FIELD(products), 0, 0, NULL},
    {SEC_KMS_HOST, "faults", T_FAULTS, KH_FIELD(faults), 0, 0, NULL},
    {SEC_KMS_HOST, "activation_interval", T_MINUTES, KH_FIELD(activation_interval), 15, 43200,
     "15m..30d"},
    {SEC_KMS_HOST, "renewal_interval", T_MINUTES, KH_FIELD(renewal_interval), 15, 43200,
     "15m..30d"},
    {SEC_KMS_HOST, "priority", T_UINT, KH_FIELD(priority), 0, 65535, NULL},
    {SEC_KMS_HOST, "weight", T_UINT, KH_FIELD(weight), 0, 65535, NULL},
    {SEC_KMS_HOST, "publish_at", T_DURATION, KH_FIELD(publish_at_us), 0, DURATION_MAX_US,
     "0..3650d"},
    {SEC_KMS_HOST, "withdraw_at", T_DURATION, KH_FIELD(withdraw_at_us), 0, DURATION_MAX_US,
     "0..3650d"},
    {SEC_KMS_HOST, "start_at", T_DURATION, KH_FIELD(start_at_us), 0, DURATION_MAX_US, "0..3650d"},
    {SEC_KMS_HOST, "stop_at", T_DURATION, KH_FIELD(stop_at_us), 0, DURATION_MAX_US, "0..3650d"},

    {SEC_POPULATION, "product", T_TEXT, POP_FIELD(product), 1, 0, NULL},
    {SEC_POPULATION, "machines", T_U32, POP_FIELD(machines), 0, MACHINES_MAX,
     "1..10000000 (0 only with arrivals: as many as the stages bring)"},
    {SEC_POPULATION, "protocol", T_UINT, POP_FIELD(protocol), 4, 6, NULL},
    {SEC_POPULATION, "n_policy", T_UINT, POP_FIELD(n_policy), 0, 1000, NULL},
    {SEC_POPULATION, "ndr64", T_SWITCH, POP_FIELD(ndr64), 0, 0, NULL},
    {SEC_POPULATION, "alter_context", T_SWITCH, POP_FIELD(alter_context), 0, 0, NULL},
    {SEC_POPULATION, "vm", T_SHARE, POP_FIELD(vm_share), 0, 0, NULL},
    {SEC_POPULATION, "license_status", T_UINT, POP_FIELD(license_status), 0, 6, NULL},
    {SEC_POPULATION, "cloned", T_SHARE, POP_FIELD(cloned_share), 0, 0, NULL},
    {SEC_POPULATION, "kms_host", T_TEXT, POP_FIELD(kms_host), 0, 0, NULL},
    {SEC_POPULATION, "clock_skew", T_SKEW, POP_FIELD(clock_skew_us), 0, 30 * US_PER_DAY,
     "-30d..+30d"},
    {SEC_POPULATION, "join_at", T_DURATION, POP_FIELD(join_at_us), 0, DURATION_MAX_US, "0..3650d"},
    {SEC_POPULATION, "join_over", T_DURATION, POP_FIELD(join_over_us), 0, DURATION_MAX_US,
     "0..3650d"},
    {SEC_POPULATION, "leave", T_SHARE, POP_FIELD(leave_share), 0, 0, NULL},
    {SEC_POPULATION, "leave_at", T_DURATION, POP_FIELD(leave_at_us), 0, DURATION_MAX_US,
     "0..3650d"},
    {SEC_POPULATION, "leave_over", T_DURATION, POP_FIELD(leave_over_us), 0, DURATION_MAX_US,
     "0..3650d"},
    {SEC_POPULATION, "arrivals", T_STAGES, POP_FIELD(stages), 0, 0, NULL},
};

#define N_KEY_SPECS (sizeof key_specs / sizeof key_specs[0])

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
};

#define EXPECT_KEYS_TEXT                                                                           \
    "model_mismatches, first_activation.POPULATION, max_count.APP, final_count.APP, "              \
    "activated.POPULATION, error_rate, unexpected_hresults, allowed_hresults, "                    \
    "host_reaches_5.HOST.APP, host_reaches_25.HOST.APP, host_machines_at_end.HOST, "               \
    "host_refused.HOST, max_unactivated, latency_p50, "                                            \
    "latency_p90, latency_p99, latency_p999, latency_max, requests"

/* Where each key of one section was given: 0 not given, LINE_SET by --set, else its line. */
struct section_state {
    unsigned line; /* header line, 0 when the section is absent */
    unsigned keys[N_KEY_SPECS];
};

struct parse_ctx {
    struct scenario *sc;
    const char *origin;

    /* The section being read. */
    enum section_kind kind;
    size_t pop;
    bool any_header;

    struct section_state scenario, host, pops[SCENARIO_MAX_POPULATIONS];
    struct section_state kms_hosts[SCENARIO_MAX_HOSTS];
    unsigned expect_line;                             /* [expect] header */
    unsigned expect_lines[SCENARIO_MAX_EXPECTATIONS]; /* like keys[]: file line or LINE_SET */
    unsigned allowed_line;

    bool failed;
    char err[SCENARIO_ERR_MAX];
};

static void fail(struct parse_ctx *c, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error; line 0: the whole file; LINE_SET: an override. */
static void fail(struct parse_ctx *c, unsigned line, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    int prefix = line == LINE_SET ? snprintf(c->err, sizeof c->err, "--set: ")
                 : line           ? snprintf(c->err, sizeof c->err, "%s:%u: ", c->origin, line)
                                  : snprintf(c->err, sizeof c->err, "%s: ", c->origin);
    if (prefix < 0 || (size_t)prefix >= sizeof c->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + prefix, sizeof c->err - (size_t)prefix, fmt, ap);
    va_end(ap);
}

/* "[section] key: problem (got "value")". */
static void fail_value(struct parse_ctx *c, unsigned line, const char *label, const char *key,
                       const char *problem, const char *value)
{
    /* Values are echoed; control characters as \xNN so a message stays one clean line. */
    char shown[4 * 200 + 1];
    size_t n = 0;
    for (const char *p = value; *p && n < 200; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(shown + n, sizeof shown - n, "\\x%02x", ch);
        else
            shown[n++] = (char)ch;
    }
    shown[n] = '\0';
    fail(c, line, "[%s] %s: %s (got \"%s\")", label, key, problem, shown);
}

static void section_label(const struct parse_ctx *c, enum section_kind kind, size_t pop, char *out,
                          size_t cap)
{
    switch (kind) {
    case SEC_SCENARIO:
        snprintf(out, cap, "scenario");
        break;
    case SEC_HOST:
        snprintf(out, cap, "host");
        break;
    case SEC_POPULATION:
        snprintf(out, cap, "population %s", c->sc->pops[pop].name);
        break;
    case SEC_EXPECT:
        snprintf(out, cap, "expect");
        break;
    case SEC_KMS_HOST:
        snprintf(out, cap, "host %s", c->sc->kms_hosts[pop].name);
        break;
    case SEC_NONE:
        snprintf(out, cap, "?");
        break;
    }
}

static struct section_state *state_of(struct parse_ctx *c, enum section_kind kind, size_t pop)
{
    if (kind == SEC_KMS_HOST)
        return &c->kms_hosts[pop];
    return kind == SEC_SCENARIO ? &c->scenario : kind == SEC_HOST ? &c->host : &c->pops[pop];
}

static size_t spec_index(enum section_kind kind, const char *key)
{
    for (size_t i = 0; i < N_KEY_SPECS; i++) {
        if (key_specs[i].section == kind && strcmp(key_specs[i].key, key) == 0)
            return i;
    }
    return (size_t)-1;
}

/* ---------------------------------------------------------------------------------------------
 * Values */

static bool printable(const char *text)
{
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

/* 1..SCENARIO_NAME_MAX-1 characters of letters, digits, '-', '_'. */
static bool valid_pop_name(const char *name, size_t len)
{
    if (len == 0 || len >= SCENARIO_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
            return false;
    }
    return true;
}

/* A catalogue key: 1..47 characters of a-z, 0-9, '-', '.', '_', starting with a letter or digit. */
static bool valid_app_key(const char *key)
{
    size_t len = strlen(key);
    if (len == 0 || len >= 48)
        return false;
    if (!islower((unsigned char)key[0]) && !isdigit((unsigned char)key[0]))
        return false;
    for (const char *p = key; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("-._", *p))
            return false;
    }
    return true;
}

/* A plain decimal number: digits with at most one '.', no sign or exponent. */
static int parse_decimal(const char *text, double *out)
{
    size_t digits = 0, dots = 0;
    for (const char *p = text; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p == '.')
            dots++;
        else
            return -1;
    }
    if (digits == 0 || dots > 1)
        return -1;
    *out = strtod(text, NULL);
    return isfinite(*out) ? 0 : -1;
}

/* A share 0..1, as "0.25" or "25%". */
static int parse_share(const char *text, double *out)
{
    char buf[64];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len + 1);
    bool percent = buf[len - 1] == '%';
    if (percent)
        buf[--len] = '\0';
    while (len > 0 && buf[len - 1] == ' ')
        buf[--len] = '\0';
    double v;
    if (parse_decimal(buf, &v) != 0)
        return -1;
    if (percent)
        v /= 100.0;
    if (v < 0.0 || v > 1.0)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *text, uint64_t *out)
{
    int base = 10;
    const char *digits = text;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        digits = text + 2;
    }
    if (!*digits)
        return -1;
    for (const char *p = digits; *p; p++) {
        if (base == 10 ? !isdigit((unsigned char)*p) : !isxdigit((unsigned char)*p))
            return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, base);
    if (errno == ERANGE)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Copies text without surrounding blanks into out (cap bytes); false when it does not fit. */
static bool trim_copy(const char *text, size_t len, char *out, size_t cap)
{
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= cap)
        return false;
    memcpy(out, text, len);
    out[len] = '\0';
    return true;
}

/* A rate "20/s", "600/m", "3600/h" (per second, minute, hour) or a ramp "0-20/s". */
static int parse_rate(const char *text, double *from, double *to)
{
    const char *slash = strchr(text, '/');
    if (!slash)
        return -1;
    char unit[8], rates[64];
    if (!trim_copy(slash + 1, strlen(slash + 1), unit, sizeof unit) ||
        !trim_copy(text, (size_t)(slash - text), rates, sizeof rates))
        return -1;
    double per;
    if (strcmp(unit, "s") == 0)
        per = 1.0;
    else if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0)
        per = 60.0;
    else if (strcmp(unit, "h") == 0)
        per = 3600.0;
    else
        return -1;
    char a[32], b[32];
    const char *dash = strchr(rates, '-');
    if (dash) {
        if (!trim_copy(rates, (size_t)(dash - rates), a, sizeof a) ||
            !trim_copy(dash + 1, strlen(dash + 1), b, sizeof b))
            return -1;
    } else {
        if (!trim_copy(rates, strlen(rates), a, sizeof a))
            return -1;
        memcpy(b, a, sizeof a);
    }
    if (parse_decimal(a, from) != 0 || parse_decimal(b, to) != 0)
        return -1;
    *from /= per;
    *to /= per;
    return 0;
}

/* "5m:0-20/s, 10m:20/s": ramp stages of an open workload. */
static int parse_stages(const char *value, struct scenario_stage *stages, size_t *n_stages,
                        char *problem, size_t cap)
{
    static const char syntax[] = "expected DURATION:RATE/s or DURATION:FROM-TO/s, e.g. 5m:0-20/s";
    size_t len = strlen(value);
    if (len >= STAGES_TEXT_MAX) {
        snprintf(problem, cap, "longer than %d characters", STAGES_TEXT_MAX - 1);
        return -1;
    }
    size_t n = 0;
    const char *item = value;
    for (;;) {
        const char *comma = strchr(item, ',');
        size_t item_len = comma ? (size_t)(comma - item) : strlen(item);
        char stage[STAGES_TEXT_MAX];
        trim_copy(item, item_len, stage, sizeof stage);
        if (n == SCENARIO_MAX_STAGES) {
            snprintf(problem, cap, "more than %d stages", SCENARIO_MAX_STAGES);
            return -1;
        }
        char *colon = strchr(stage, ':');
        char dur_text[64];
        int64_t dur = 0;
        double from = 0, to = 0;
        char dur_err[128];
        if (!stage[0] || !colon ||
            !trim_copy(stage, (size_t)(colon - stage), dur_text, sizeof dur_text)) {
            snprintf(problem, cap, "stage %zu \"%.60s\": %s", n + 1, stage, syntax);
            return -1;
        }
        if (value_parse_duration(dur_text, false, &dur, dur_err, sizeof dur_err) != 0 || dur <= 0 ||
            dur > DURATION_MAX_US) {
            snprintf(problem, cap,
                     "stage %zu \"%.60s\": the stage length must be a duration above 0 like 90s, "
                     "5m or 1h",
                     n + 1, stage);
            return -1;
        }
        if (parse_rate(colon + 1, &from, &to) != 0) {
            snprintf(problem, cap, "stage %zu \"%.60s\": %s", n + 1, stage, syntax);
            return -1;
        }
        if (from > RATE_MAX || to > RATE_MAX) {
            snprintf(problem, cap, "stage %zu \"%.60s\": at most %.0f arrivals per second", n + 1,
                     stage, RATE_MAX);
            return -1;
        }
        stages[n++] = (struct scenario_stage){.duration_us = dur, .rate_from = from, .rate_to = to};
        if (!comma)
            break;
        item = comma + 1;
    }
    *n_stages = n;
    return 0;
}

/* Parses value per spec into the field at base + spec->offset; -1 with problem on a bad value. */
static int set_value(const struct key_spec *spec, void *base, const char *value, char *problem,
                     size_t cap)
{
    char *field = (char *)base + spec->offset;
    unsigned long n;
    int64_t us;
    char why[128];
    switch (spec->type) {
    case T_TEXT:
    case T_FAULTS: {
        size_t len = strlen(value);
        if (len < (size_t)spec->min || len >= spec->size || !printable(value)) {
            snprintf(problem, cap, "expected %lld..%zu printable characters", (long long)spec->min,
                     spec->size - 1);
            return -1;
        }
        struct host_faults faults;
        if (spec->type == T_FAULTS && len &&
            host_faults_parse(value, &faults, why, sizeof why) != 0) {
            snprintf(problem, cap, "%s", why);
            return -1;
        }
        memcpy(field, value, len + 1);
        return 0;
    }
    case T_CLOCK:
        if (strcmp(value, "virtual") == 0)
            *(enum scenario_clock *)(void *)field = SCENARIO_CLOCK_VIRTUAL;
        else if (strcmp(value, "real") == 0)
            *(enum scenario_clock *)(void *)field = SCENARIO_CLOCK_REAL;
        else {
            snprintf(problem, cap, "expected virtual or real");
            return -1;
        }
        return 0;
    case T_TARGET_CLOCK:
        if (strcmp(value, "detect") == 0)
            *(enum scenario_target_clock *)(void *)field = SCENARIO_TARGET_CLOCK_DETECT;
        else if (strcmp(value, "client") == 0)
            *(enum scenario_target_clock *)(void *)field = SCENARIO_TARGET_CLOCK_CLIENT;
        else if (strcmp(value, "real") == 0)
            *(enum scenario_target_clock *)(void *)field = SCENARIO_TARGET_CLOCK_REAL;
        else {
            snprintf(problem, cap,
                     "expected detect, client (the target follows client time) or "
                     "real (it checks client time against its own clock)");
            return -1;
        }
        return 0;
    case T_RATE: {
        char *end;
        errno = 0;
        double rate = strtod(value, &end);
        if (end == value || *end || errno || !(rate >= 0) || rate > RATE_MAX) {
            snprintf(problem, cap, "expected requests per second, 0 (no cap) up to %.0f", RATE_MAX);
            return -1;
        }
        memcpy(field, &rate, sizeof rate);
        return 0;
    }
    case T_DURATION:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us < spec->min ||
            us > spec->max) {
            snprintf(problem, cap, "expected a duration %s, like 90s, 250ms, 5m, 2h30m or 7d",
                     spec->range);
            return -1;
        }
        memcpy(field, &us, sizeof us);
        return 0;
    case T_SKEW:
        if (value_parse_duration(value, true, &us, why, sizeof why) != 0 || us < -spec->max ||
            us > spec->max) {
            snprintf(problem, cap, "expected a signed duration %s, like +3h59m or -4h01m",
                     spec->range);
            return -1;
        }
        memcpy(field, &us, sizeof us);
        return 0;
    case T_MINUTES:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us % US_PER_MIN != 0 ||
            us / US_PER_MIN < spec->min || us / US_PER_MIN > spec->max) {
            snprintf(problem, cap,
                     "expected whole minutes %s, like 2h or 7d (a bare number means seconds)",
                     spec->range);
            return -1;
        }
        *(unsigned *)(void *)field = (unsigned)(us / US_PER_MIN);
        return 0;
    case T_U64: {
        uint64_t v;
        if (parse_u64(value, &v) != 0) {
            snprintf(problem, cap, "expected a number 0..18446744073709551615 (or 0x hex)");
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case T_UINT:
    case T_U32:
        if (value_parse_uint(value, (unsigned long)spec->min, (unsigned long)spec->max, &n) != 0) {
            if (spec->range)
                snprintf(problem, cap, "expected a number %s", spec->range);
            else
                snprintf(problem, cap, "expected a number %lld..%lld", (long long)spec->min,
                         (long long)spec->max);
            return -1;
        }
        if (spec->type == T_UINT)
            *(unsigned *)(void *)field = (unsigned)n;
        else
            *(uint32_t *)(void *)field = (uint32_t)n;
        return 0;
    case T_SWITCH: {
        bool on;
        if (value_parse_switch(value, &on) != 0) {
            snprintf(problem, cap, "expected on or off");
            return -1;
        }
        memcpy(field, &on, sizeof on);
        return 0;
    }
    case T_SHARE: {
        double v;
        if (parse_share(value, &v) != 0) {
            snprintf(problem, cap, "expected a share 0..1 such as 0.25 (or 25%%)");
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case T_STAGES: {
        struct scenario_population *pop = base;
        struct scenario_stage stages[SCENARIO_MAX_STAGES];
        size_t n_stages;
        if (parse_stages(value, stages, &n_stages, problem, cap) != 0)
            return -1;
        memcpy(pop->stages, stages, sizeof stages);
        pop->n_stages = n_stages;
        pop->open = true;
        return 0;
    }
    }
    snprintf(problem, cap, "internal error: unknown value type");
    return -1;
}

static void list_keys(enum section_kind kind, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_KEY_SPECS; i++) {
        if (key_specs[i].section != kind)
            continue;
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", key_specs[i].key);
        if (w < 0 || (size_t)w >= cap - used)
            return;
        used += (size_t)w;
    }
}

/* ---------------------------------------------------------------------------------------------
 * [expect] */

static size_t find_population(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_pops; i++) {
        if (strcmp(sc->pops[i].name, name) == 0)
            return i;
    }
    return (size_t)-1;
}

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
        bool ok = trim_copy(item, len, code, sizeof code) &&
                  (code[0] == '0' && (code[1] == 'x' || code[1] == 'X')) && strlen(code) <= 10 &&
                  parse_u64(code, &v) == 0;
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

static void assign_expect(struct parse_ctx *c, const char *key, const char *value, unsigned line)
{
    struct scenario *sc = c->sc;
    char problem[256];

    if (strcmp(key, "allowed_hresults") == 0) {
        if (line != LINE_SET && c->allowed_line && c->allowed_line != LINE_SET) {
            snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                     c->allowed_line);
            fail_value(c, line, "expect", key, problem, value);
            return;
        }
        uint32_t codes[SCENARIO_MAX_HRESULTS];
        size_t n;
        if (parse_hresults(value, codes, &n, problem, sizeof problem) != 0) {
            fail_value(c, line, "expect", key, problem, value);
            return;
        }
        memcpy(sc->allowed_hresults, codes, sizeof codes);
        sc->n_allowed_hresults = n;
        c->allowed_line = line;
        return;
    }

    const struct expect_spec *spec = NULL;
    const char *subject = "";
    for (size_t i = 0; i < sizeof expect_specs / sizeof expect_specs[0] && !spec; i++) {
        const struct expect_spec *s = &expect_specs[i];
        size_t len = strlen(s->key);
        if (s->subject_kind == SUBJECT_NONE && strcmp(key, s->key) == 0) {
            spec = s;
            subject = s->subject;
        } else if (s->subject_kind != SUBJECT_NONE) {
            if (strncmp(key, s->key, len) == 0) {
                spec = s;
                subject = key + len;
            } else if (strncmp(key, s->key, len - 1) == 0 && key[len - 1] == '\0') {
                snprintf(problem, sizeof problem, "needs the %s it is about: %s%s",
                         s->subject_kind == SUBJECT_POPULATION ? "population"
                         : s->subject_kind == SUBJECT_HOST     ? "host"
                                                               : "application",
                         s->key,
                         s->subject_kind == SUBJECT_POPULATION ? "NAME"
                         : s->subject_kind == SUBJECT_HOST     ? "HOST"
                                                               : "APP");
                fail_value(c, line, "expect", key, problem, value);
                return;
            }
        }
    }
    if (!spec) {
        fail_value(c, line, "expect", key, "unknown key (expected one of: " EXPECT_KEYS_TEXT ")",
                   value);
        return;
    }
    if (spec->subject_kind == SUBJECT_POPULATION && !valid_pop_name(subject, strlen(subject))) {
        snprintf(problem, sizeof problem,
                 "\"%.64s\" cannot be a population name (1..%d letters, digits, '-', '_')", subject,
                 SCENARIO_NAME_MAX - 1);
        fail_value(c, line, "expect", key, problem, value);
        return;
    }
    if (spec->subject_kind == SUBJECT_APP && !valid_app_key(subject)) {
        snprintf(problem, sizeof problem,
                 "\"%.64s\" cannot be an application key (a catalogue key such as windows, "
                 "office2010, office2013)",
                 subject);
        fail_value(c, line, "expect", key, problem, value);
        return;
    }

    if (spec->subject_kind == SUBJECT_HOST) {
        /* HOST or HOST.APP: a [host NAME] or an SRV target, and an application key. */
        size_t len = strlen(subject);
        bool with_app = spec->kind == EXPECT_HOST_REACHES_5 || spec->kind == EXPECT_HOST_REACHES_25;
        const char *dot = strrchr(subject, '.');
        bool ok = len > 0 && len < SCENARIO_NAME_MAX &&
                  strspn(subject, "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-_.") == len;
        if (ok && with_app)
            ok = dot && dot > subject && valid_app_key(dot + 1);
        if (!ok) {
            snprintf(problem, sizeof problem, "\"%.64s\" is not %s", subject,
                     with_app ? "HOST.APP (a host name, a dot, an application key such as windows)"
                              : "a host name");
            fail_value(c, line, "expect", key, problem, value);
            return;
        }
    }

    double v = 0;
    unsigned long n;
    int64_t us;
    char why[128];
    switch (spec->value) {
    case EV_DURATION:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us < 0 ||
            us > DURATION_MAX_US) {
            fail_value(c, line, "expect", key, "expected a duration such as 12h or 20d", value);
            return;
        }
        v = (double)us;
        break;
    case EV_COUNT:
        if (value_parse_uint(value, 0, spec->max, &n) != 0) {
            snprintf(problem, sizeof problem, "expected a number 0..%lu", spec->max);
            fail_value(c, line, "expect", key, problem, value);
            return;
        }
        v = (double)n;
        break;
    case EV_SHARE:
        if (parse_share(value, &v) != 0) {
            fail_value(c, line, "expect", key, "expected a share 0..1 such as 0.001 (or 0.1%)",
                       value);
            return;
        }
        break;
    case EV_LATENCY:
        if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us <= 0 ||
            us > 3600 * US_PER_S) {
            fail_value(c, line, "expect", key,
                       "expected a duration above 0, at most 1h, like 250ms or 2s", value);
            return;
        }
        v = (double)us;
        break;
    }

    size_t i = 0;
    while (i < sc->n_expects &&
           !(sc->expects[i].kind == spec->kind && strcmp(sc->expects[i].subject, subject) == 0))
        i++;
    if (i < sc->n_expects && line != LINE_SET) {
        snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                 c->expect_lines[i]);
        fail_value(c, line, "expect", key, problem, value);
        return;
    }
    if (i == sc->n_expects) {
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS) {
            snprintf(problem, sizeof problem, "more than %d expectations",
                     SCENARIO_MAX_EXPECTATIONS);
            fail_value(c, line, "expect", key, problem, value);
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

/* ---------------------------------------------------------------------------------------------
 * Keys and sections */

/* Sets key = value in a section (pop: its population), from the file (line) or --set. */
static void assign(struct parse_ctx *c, enum section_kind kind, size_t pop, const char *key,
                   const char *value, unsigned line)
{
    if (kind == SEC_EXPECT) {
        assign_expect(c, key, value, line);
        return;
    }
    char label[SCENARIO_NAME_MAX + 16], problem[512];
    section_label(c, kind, pop, label, sizeof label);
    size_t i = spec_index(kind, key);
    if (i == (size_t)-1) {
        char known[320];
        list_keys(kind, known, sizeof known);
        snprintf(problem, sizeof problem, "unknown key (expected one of: %s)%s", known,
                 kind == SEC_SCENARIO && line == LINE_SET && strchr(key, '.')
                     ? "; other sections are named host., expect., population NAME."
                     : "");
        fail_value(c, line, label, key, problem, value);
        return;
    }
    struct section_state *st = state_of(c, kind, pop);
    if (line != LINE_SET && st->keys[i] && st->keys[i] != LINE_SET) {
        snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                 st->keys[i]);
        fail_value(c, line, label, key, problem, value);
        return;
    }
    void *base = kind == SEC_POPULATION ? (void *)&c->sc->pops[pop]
                 : kind == SEC_KMS_HOST ? (void *)&c->sc->kms_hosts[pop]
                                        : (void *)c->sc;
    if (set_value(&key_specs[i], base, value, problem, sizeof problem) != 0) {
        fail_value(c, line, label, key, problem, value);
        return;
    }
    st->keys[i] = line;
}

static void population_defaults(struct scenario_population *p)
{
    *p = (struct scenario_population){
        .ndr64 = true,
        .license_status = 2,
        .leave_at_us = SCENARIO_NEVER,
    };
}

/* Starts the section whose header text (between the brackets) is label. */
static void begin_section(struct parse_ctx *c, unsigned line, const char *label_text)
{
    char label[SCENARIO_TEXT_MAX];
    if (!trim_copy(label_text, strlen(label_text), label, sizeof label))
        label[0] = '\0';
    c->any_header = true;
    c->kind = SEC_NONE;
    if (strcmp(label, "scenario") == 0 || strcmp(label, "host") == 0) {
        struct section_state *st = label[0] == 's' ? &c->scenario : &c->host;
        if (st->line) {
            fail(c, line, "[%s]: section given twice (first at line %u)", label, st->line);
            return;
        }
        st->line = line;
        c->kind = label[0] == 's' ? SEC_SCENARIO : SEC_HOST;
        return;
    }
    if (strcmp(label, "expect") == 0) {
        if (c->expect_line) {
            fail(c, line, "[expect]: section given twice (first at line %u)", c->expect_line);
            return;
        }
        c->expect_line = line;
        c->kind = SEC_EXPECT;
        return;
    }
    if (strncmp(label, "population", 10) == 0 &&
        (label[10] == '\0' || isspace((unsigned char)label[10]))) {
        const char *name = label + 10;
        while (isspace((unsigned char)*name))
            name++;
        size_t len = strlen(name);
        if (!valid_pop_name(name, len)) {
            fail(c, line,
                 "[%s]: expected [population NAME], NAME being 1..%d letters, digits, '-' or '_'",
                 label, SCENARIO_NAME_MAX - 1);
            return;
        }
        size_t other = find_population(c->sc, name);
        if (other != (size_t)-1) {
            fail(c, line,
                 "[population %s]: a population of this name is already defined at line %u", name,
                 c->sc->pops[other].line);
            return;
        }
        if (c->sc->n_pops == SCENARIO_MAX_POPULATIONS) {
            fail(c, line, "[population %s]: more than %d populations", name,
                 SCENARIO_MAX_POPULATIONS);
            return;
        }
        size_t i = c->sc->n_pops++;
        struct scenario_population *p = &c->sc->pops[i];
        population_defaults(p);
        memcpy(p->name, name, len + 1);
        p->line = line;
        c->pops[i] = (struct section_state){.line = line};
        c->pop = i;
        c->kind = SEC_POPULATION;
        return;
    }
    if (strncmp(label, "host", 4) == 0 && isspace((unsigned char)label[4])) {
        const char *name = label + 4;
        while (isspace((unsigned char)*name))
            name++;
        size_t len = strlen(name);
        if (!valid_pop_name(name, len)) {
            fail(c, line,
                 "[%s]: expected [host NAME], NAME being 1..%d letters, digits, '-' or '_'", label,
                 SCENARIO_NAME_MAX - 1);
            return;
        }
        for (size_t k = 0; k < c->sc->n_kms_hosts; k++)
            if (strcmp(c->sc->kms_hosts[k].name, name) == 0) {
                fail(c, line, "[host %s]: a host of this name is already defined at line %u", name,
                     c->sc->kms_hosts[k].line);
                return;
            }
        if (c->sc->n_kms_hosts == SCENARIO_MAX_HOSTS) {
            fail(c, line, "[host %s]: more than %d hosts", name, SCENARIO_MAX_HOSTS);
            return;
        }
        size_t i = c->sc->n_kms_hosts++;
        struct scenario_kms_host *h = &c->sc->kms_hosts[i];
        *h = (struct scenario_kms_host){
            .withdraw_at_us = SCENARIO_NEVER, .stop_at_us = SCENARIO_NEVER, .line = line};
        memcpy(h->name, name, len + 1);
        c->kms_hosts[i] = (struct section_state){.line = line};
        c->pop = i;
        c->kind = SEC_KMS_HOST;
        return;
    }
    fail(c, line,
         "[%s]: unknown section (expected [scenario], [host], [host NAME], [population NAME] or "
         "[expect])",
         label);
}

static int on_section(void *user, unsigned line, const char *label)
{
    struct parse_ctx *c = user;
    begin_section(c, line, label);
    return c->failed;
}

static int on_value(void *user, unsigned line, const char *key, const char *value)
{
    struct parse_ctx *c = user;
    if (!c->any_header)
        fail(c, line,
             "%s: key outside any section (the file starts with [scenario], [host], "
             "[population NAME] or [expect])",
             key);
    else
        assign(c, c->kind, c->pop, key, value, line);
    return c->failed;
}

static void on_line_error(void *user, unsigned line, const char *message)
{
    fail(user, line, "%s", message);
}

/* ---------------------------------------------------------------------------------------------
 * Overrides */

static void list_populations(const struct scenario *sc, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sc->n_pops; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", sc->pops[i].name);
        if (w < 0 || (size_t)w >= cap - used)
            return;
        used += (size_t)w;
    }
}

/* "key=value" ([scenario]) or "SECTION.key=value", SECTION as in its header. */
static void apply_override(struct parse_ctx *c, const char *text)
{
    const char *eq = strchr(text, '=');
    char lhs[256], value[STAGES_TEXT_MAX];
    if (!eq || !trim_copy(text, (size_t)(eq - text), lhs, sizeof lhs) || !lhs[0] ||
        !trim_copy(eq + 1, strlen(eq + 1), value, sizeof value)) {
        fail(c, LINE_SET,
             "\"%.200s\": expected key=value for [scenario] or SECTION.key=value, e.g. "
             "duration=7d, host.renewal_interval=1d, \"population clients.machines=100\", "
             "expect.first_activation.clients=25",
             text);
        return;
    }
    static const struct {
        const char *prefix;
        enum section_kind kind;
    } sections[] = {{"scenario.", SEC_SCENARIO}, {"host.", SEC_HOST}, {"expect.", SEC_EXPECT}};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        size_t len = strlen(sections[i].prefix);
        if (strncmp(lhs, sections[i].prefix, len) == 0) {
            assign(c, sections[i].kind, 0, lhs + len, value, LINE_SET);
            return;
        }
    }
    if (strncmp(lhs, "population", 10) == 0 && isspace((unsigned char)lhs[10])) {
        const char *name = lhs + 10;
        while (isspace((unsigned char)*name))
            name++;
        const char *dot = strchr(name, '.');
        char pop_name[SCENARIO_NAME_MAX];
        if (!dot || !dot[1] || !trim_copy(name, (size_t)(dot - name), pop_name, sizeof pop_name)) {
            fail(c, LINE_SET, "\"%.200s\": expected \"population NAME.key=value\"", text);
            return;
        }
        size_t pop = find_population(c->sc, pop_name);
        if (pop == (size_t)-1) {
            char known[SCENARIO_MAX_POPULATIONS * SCENARIO_NAME_MAX];
            list_populations(c->sc, known, sizeof known);
            fail(c, LINE_SET,
                 "[population %s] %s: there is no population \"%s\" in this scenario (it has: %s) "
                 "(got \"%.200s\")",
                 pop_name, dot + 1, pop_name, known, value);
            return;
        }
        assign(c, SEC_POPULATION, pop, dot + 1, value, LINE_SET);
        return;
    }
    assign(c, SEC_SCENARIO, 0, lhs, value, LINE_SET);
}

/* ---------------------------------------------------------------------------------------------
 * Whole-scenario checks, after the file and the overrides */

static void finish_population(struct parse_ctx *c, size_t i)
{
    struct scenario_population *p = &c->sc->pops[i];
    const struct section_state *st = &c->pops[i];
    char label[SCENARIO_NAME_MAX + 16];
    section_label(c, SEC_POPULATION, i, label, sizeof label);
    size_t k_product = spec_index(SEC_POPULATION, "product");
    size_t k_machines = spec_index(SEC_POPULATION, "machines");
    size_t k_leave = spec_index(SEC_POPULATION, "leave");
    size_t k_leave_at = spec_index(SEC_POPULATION, "leave_at");
    size_t k_arrivals = spec_index(SEC_POPULATION, "arrivals");

    if (!st->keys[k_product] || !st->keys[k_machines]) {
        fail(c, p->line, "[%s]: missing key \"%s\"", label,
             !st->keys[k_product] ? "product" : "machines");
        return;
    }
    /* Leaving: leave_at alone means the whole fleet leaves; a share needs to know when. */
    if (st->keys[k_leave] && p->leave_share > 0 && !st->keys[k_leave_at]) {
        char got[32];
        snprintf(got, sizeof got, "%g", p->leave_share);
        fail_value(c, st->keys[k_leave], label, "leave",
                   "needs leave_at, the time the machines start leaving", got);
        return;
    }
    if (st->keys[k_leave_at] && !st->keys[k_leave])
        p->leave_share = 1.0;
    if (!st->keys[k_leave_at] || p->leave_share == 0) {
        p->leave_share = 0;
        p->leave_at_us = SCENARIO_NEVER;
        p->leave_over_us = 0;
    }

    if (!p->open) {
        if (p->machines == 0)
            fail_value(c, st->keys[k_machines], label, "machines",
                       "expected a number 1..10000000 (0 only with arrivals: as many as the "
                       "stages bring)",
                       "0");
        return;
    }
    /* Open: machines caps the arrivals; 0 means as many as the stages bring. */
    double total = 0;
    for (size_t s = 0; s < p->n_stages; s++)
        total += (double)p->stages[s].duration_us / (double)US_PER_S *
                 (p->stages[s].rate_from + p->stages[s].rate_to) / 2.0;
    if (p->machines == 0) {
        /* Rounded up, without an extra machine for rounding noise (and without libm). */
        double want = total - 1e-6;
        double n = want > 2.0 * MACHINES_MAX ? want : (double)(uint64_t)(want > 0 ? want : 0);
        if (n < want)
            n += 1;
        char problem[160];
        if (n < 1 || n > MACHINES_MAX) {
            snprintf(problem, sizeof problem,
                     "with machines = 0 the stages bring %.0f machines; that must be 1..%u (set "
                     "machines to cap them)",
                     n < 0 ? 0 : n, MACHINES_MAX);
            fail(c, st->keys[k_arrivals], "[%s] arrivals: %s", label, problem);
            return;
        }
        p->machines = (uint32_t)n;
    }
}

/* The name becomes a directory (out/NAME): NULL when it can only be that one directory. */
static const char *name_path_problem(const char *name)
{
    if (!name[0])
        return "is empty";
    if (name[0] == '.')
        return "starts with '.' (a hidden or parent directory)";
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == '\\')
            return "contains a path separator";
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "contains a control character";
    }
    return NULL;
}

static void finish(struct parse_ctx *c)
{
    struct scenario *sc = c->sc;
    const char *name_problem = name_path_problem(sc->name);
    if (name_problem) {
        unsigned line = c->scenario.keys[spec_index(SEC_SCENARIO, "name")];
        size_t shown = 0; /* the name up to its first control character */
        while (sc->name[shown] && (unsigned char)sc->name[shown] >= 0x20 && sc->name[shown] != 0x7f)
            shown++;
        fail(c, line,
             "[scenario] name: %s; the name is the results directory out/NAME, so it may not "
             "contain '/', '\\' or control characters nor start with '.'%s (got \"%.*s\")",
             name_problem, line ? "" : " (it defaults to the file name: set name = ...)",
             (int)shown, sc->name);
        return;
    }
    if (sc->n_pops == 0) {
        fail(c, 0, "no [population NAME] section: a scenario needs at least one population");
        return;
    }
    for (size_t i = 0; i < sc->n_pops && !c->failed; i++)
        finish_population(c, i);
    for (size_t i = 0; i < sc->n_expects && !c->failed; i++) {
        const struct scenario_expectation *e = &sc->expects[i];
        if ((e->kind == EXPECT_FIRST_ACTIVATION || e->kind == EXPECT_ACTIVATED) &&
            find_population(sc, e->subject) == (size_t)-1) {
            char known[SCENARIO_MAX_POPULATIONS * SCENARIO_NAME_MAX];
            list_populations(sc, known, sizeof known);
            const char *eq = strstr(e->text, " = ");
            fail(c, c->expect_lines[i],
                 "[expect] %.*s: there is no [population %s] section (populations: %s) (got "
                 "\"%g\")",
                 eq ? (int)(eq - e->text) : (int)strlen(e->text), e->text, e->subject, known,
                 e->value);
            return;
        }
    }
    if (c->failed)
        return;
    bool has_mismatches = false;
    for (size_t i = 0; i < sc->n_expects; i++)
        has_mismatches = has_mismatches || sc->expects[i].kind == EXPECT_MODEL_MISMATCHES;
    if (!has_mismatches) {
        if (sc->n_expects == SCENARIO_MAX_EXPECTATIONS) {
            fail(c, c->expect_line,
                 "[expect]: %d expectations leave no room for the implied model_mismatches = 0; "
                 "give model_mismatches explicitly in place of one",
                 SCENARIO_MAX_EXPECTATIONS);
            return;
        }
        struct scenario_expectation *e = &sc->expects[sc->n_expects];
        *e = (struct scenario_expectation){.kind = EXPECT_MODEL_MISMATCHES, .value = 0, .line = 0};
        snprintf(e->text, sizeof e->text, "model_mismatches = 0 (default)");
        c->expect_lines[sc->n_expects++] = 0;
    }
}

static void scenario_defaults(struct scenario *sc, const char *origin)
{
    *sc = (struct scenario){
        .clock = SCENARIO_CLOCK_VIRTUAL,
        .duration_us = 30 * US_PER_DAY,
        .tick_us = US_PER_MIN,
        .seed = 1,
        .concurrency = 256,
        .timeout_us = 5 * US_PER_S,
        .threads = 0,
        .stop_after_failures = 20,
        .stop_after_silence_us = 30 * US_PER_S,
        .host_activation_interval = 120,
        .host_renewal_interval = 10080,
        .host_ndr64 = true,
        .host_caching = true,
    };
    snprintf(sc->path, sizeof sc->path, "%s", origin);
    /* The name defaults to the file's base name without ".ini". */
    const char *base = strrchr(origin, '/');
    base = base ? base + 1 : origin;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".ini") == 0)
        len -= 4;
    if (len >= sizeof sc->name)
        len = sizeof sc->name - 1;
    memcpy(sc->name, base, len);
    sc->name[len] = '\0';
}

int scenario_parse(struct scenario *sc, const char *text, const char *origin,
                   const char *const *overrides, size_t n_overrides, char *err, size_t err_len)
{
    origin = origin ? origin : "scenario";
    scenario_defaults(sc, origin);
    struct parse_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        if (err && err_len)
            snprintf(err, err_len, "%s: out of memory", origin);
        *sc = (struct scenario){0};
        return -1;
    }
    c->sc = sc;
    c->origin = origin;
    static const struct ini_lines_handlers handlers = {
        .on_section = on_section,
        .on_value = on_value,
        .on_error = on_line_error,
        .header_example = "[section]",
    };
    if (!text)
        fail(c, 0, "no scenario text");
    else
        ini_lines_parse(text, &handlers, c);
    for (size_t i = 0; i < n_overrides && !c->failed; i++)
        apply_override(c, overrides[i] ? overrides[i] : "");
    if (!c->failed)
        finish(c);
    int rc = 0;
    if (c->failed) {
        if (err && err_len)
            snprintf(err, err_len, "%s", c->err);
        *sc = (struct scenario){0};
        rc = -1;
    }
    free(c);
    return rc;
}

bool scenario_needs_client_clock(const struct scenario *sc)
{
    return sc->clock == SCENARIO_CLOCK_VIRTUAL && sc->duration_us > 3 * 60 * US_PER_MIN;
}

int64_t scenario_max_wall(const struct scenario *sc)
{
    if (sc->max_wall_us > 0)
        return sc->max_wall_us;
    if (sc->clock == SCENARIO_CLOCK_REAL)
        return sc->duration_us + 5 * US_PER_MIN;
    return 60 * US_PER_MIN;
}

int scenario_load(struct scenario *sc, const char *path, const char *const *overrides,
                  size_t n_overrides, char *err, size_t err_len)
{
    char *text;
    if (ini_lines_read_file(path, SCENARIO_FILE_MAX, &text) != 0) {
        int e = errno;
        *sc = (struct scenario){0};
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot read the scenario: %s", path,
                     e == EFBIG    ? "file is larger than 1 MiB, which no scenario is"
                     : e == EILSEQ ? "file contains NUL bytes; a scenario is a text file"
                                   : strerror(e));
        return -1;
    }
    int rc = scenario_parse(sc, text, path, overrides, n_overrides, err, err_len);
    free(text);
    return rc;
}
