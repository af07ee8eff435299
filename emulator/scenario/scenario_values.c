/*
 * Scenario value syntax: names, shares, numbers, rates and arrival stages, and the value of a
 * key parsed per its type in the key table.
 */
#include "scenario_parts.h"

#include "host_faults.h"
#include "value_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool scenario_printable(const char *text)
{
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

/* 1..SCENARIO_NAME_MAX-1 characters of letters, digits, '-', '_'. */
bool scenario_valid_name(const char *name, size_t len)
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
bool scenario_valid_app_key(const char *key)
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
int scenario_parse_share(const char *text, double *out)
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

int scenario_parse_u64(const char *text, uint64_t *out)
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
bool scenario_trim_copy(const char *text, size_t len, char *out, size_t cap)
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
    if (!scenario_trim_copy(slash + 1, strlen(slash + 1), unit, sizeof unit) ||
        !scenario_trim_copy(text, (size_t)(slash - text), rates, sizeof rates))
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
        if (!scenario_trim_copy(rates, (size_t)(dash - rates), a, sizeof a) ||
            !scenario_trim_copy(dash + 1, strlen(dash + 1), b, sizeof b))
            return -1;
    } else {
        if (!scenario_trim_copy(rates, strlen(rates), a, sizeof a))
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
        scenario_trim_copy(item, item_len, stage, sizeof stage);
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
            !scenario_trim_copy(stage, (size_t)(colon - stage), dur_text, sizeof dur_text)) {
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

/* One value type: parses value per spec into field (base + spec->offset); -1 with problem. */
typedef int (*value_setter)(const struct key_spec *spec, void *base, char *field, const char *value,
                            char *problem, size_t cap);

static int set_text(const struct key_spec *spec, void *base, char *field, const char *value,
                    char *problem, size_t cap)
{
    (void)base;
    size_t len = strlen(value);
    if (len < (size_t)spec->min || len >= spec->size || !scenario_printable(value)) {
        snprintf(problem, cap, "expected %lld..%zu printable characters", (long long)spec->min,
                 spec->size - 1);
        return -1;
    }
    struct host_faults faults;
    char why[128];
    if (spec->type == T_FAULTS && len && host_faults_parse(value, &faults, why, sizeof why) != 0) {
        snprintf(problem, cap, "%s", why);
        return -1;
    }
    memcpy(field, value, len + 1);
    return 0;
}

static int set_clock(const struct key_spec *spec, void *base, char *field, const char *value,
                     char *problem, size_t cap)
{
    (void)spec, (void)base;
    if (strcmp(value, "virtual") == 0)
        *(enum scenario_clock *)(void *)field = SCENARIO_CLOCK_VIRTUAL;
    else if (strcmp(value, "real") == 0)
        *(enum scenario_clock *)(void *)field = SCENARIO_CLOCK_REAL;
    else {
        snprintf(problem, cap, "expected virtual or real");
        return -1;
    }
    return 0;
}

static int set_target_clock(const struct key_spec *spec, void *base, char *field, const char *value,
                            char *problem, size_t cap)
{
    (void)spec, (void)base;
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
}

static int set_rate(const struct key_spec *spec, void *base, char *field, const char *value,
                    char *problem, size_t cap)
{
    (void)spec, (void)base;
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

static int set_duration(const struct key_spec *spec, void *base, char *field, const char *value,
                        char *problem, size_t cap)
{
    (void)base;
    int64_t us;
    char why[128];
    if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us < spec->min ||
        us > spec->max) {
        snprintf(problem, cap, "expected a duration %s, like 90s, 250ms, 5m, 2h30m or 7d",
                 spec->range);
        return -1;
    }
    memcpy(field, &us, sizeof us);
    return 0;
}

static int set_skew(const struct key_spec *spec, void *base, char *field, const char *value,
                    char *problem, size_t cap)
{
    (void)base;
    int64_t us;
    char why[128];
    if (value_parse_duration(value, true, &us, why, sizeof why) != 0 || us < -spec->max ||
        us > spec->max) {
        snprintf(problem, cap, "expected a signed duration %s, like +3h59m or -4h01m", spec->range);
        return -1;
    }
    memcpy(field, &us, sizeof us);
    return 0;
}

static int set_minutes(const struct key_spec *spec, void *base, char *field, const char *value,
                       char *problem, size_t cap)
{
    (void)base;
    int64_t us;
    char why[128];
    if (value_parse_duration(value, false, &us, why, sizeof why) != 0 || us % US_PER_MIN != 0 ||
        us / US_PER_MIN < spec->min || us / US_PER_MIN > spec->max) {
        snprintf(problem, cap,
                 "expected whole minutes %s, like 2h or 7d (a bare number means seconds)",
                 spec->range);
        return -1;
    }
    *(unsigned *)(void *)field = (unsigned)(us / US_PER_MIN);
    return 0;
}

static int set_u64(const struct key_spec *spec, void *base, char *field, const char *value,
                   char *problem, size_t cap)
{
    (void)spec, (void)base;
    uint64_t v;
    if (scenario_parse_u64(value, &v) != 0) {
        snprintf(problem, cap, "expected a number 0..18446744073709551615 (or 0x hex)");
        return -1;
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

/* T_UINT (unsigned) and T_U32 (uint32_t). */
static int set_uint(const struct key_spec *spec, void *base, char *field, const char *value,
                    char *problem, size_t cap)
{
    (void)base;
    unsigned long n;
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
}

static int set_switch(const struct key_spec *spec, void *base, char *field, const char *value,
                      char *problem, size_t cap)
{
    (void)spec, (void)base;
    bool on;
    if (value_parse_switch(value, &on) != 0) {
        snprintf(problem, cap, "expected on or off");
        return -1;
    }
    memcpy(field, &on, sizeof on);
    return 0;
}

static int set_share(const struct key_spec *spec, void *base, char *field, const char *value,
                     char *problem, size_t cap)
{
    (void)spec, (void)base;
    double v;
    if (scenario_parse_share(value, &v) != 0) {
        snprintf(problem, cap, "expected a share 0..1 such as 0.25 (or 25%%)");
        return -1;
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

/* Arrivals: the stages, their count and the open workload flag of the population at base. */
static int set_stages(const struct key_spec *spec, void *base, char *field, const char *value,
                      char *problem, size_t cap)
{
    (void)spec, (void)field;
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

static const value_setter value_setters[] = {
    [T_TEXT] = set_text,
    [T_CLOCK] = set_clock,
    [T_DURATION] = set_duration,
    [T_SKEW] = set_skew,
    [T_MINUTES] = set_minutes,
    [T_U64] = set_u64,
    [T_UINT] = set_uint,
    [T_U32] = set_uint,
    [T_SWITCH] = set_switch,
    [T_SHARE] = set_share,
    [T_STAGES] = set_stages,
    [T_FAULTS] = set_text,
    [T_TARGET_CLOCK] = set_target_clock,
    [T_RATE] = set_rate,
};

/* Parses value per spec into the field at base + spec->offset; -1 with problem on a bad value. */
int scenario_set_value(const struct key_spec *spec, void *base, const char *value, char *problem,
                       size_t cap)
{
    if ((size_t)spec->type >= sizeof value_setters / sizeof value_setters[0] ||
        !value_setters[spec->type]) {
        snprintf(problem, cap, "internal error: unknown value type");
        return -1;
    }
    return value_setters[spec->type](spec, base, (char *)base + spec->offset, value, problem, cap);
}
