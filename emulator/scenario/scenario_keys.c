/*
 * Scenario keys: the table of the keys each section accepts, and setting one from the file or
 * from --set (duplicates, unknown keys, the value parsed per its type).
 */
#include "scenario_parts.h"

#include <stdio.h>
#include <string.h>

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
    {SEC_SCENARIO, "reconnaissance", T_SWITCH, SC_FIELD(reconnaissance), 0, 0, NULL},
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
    {SEC_SCENARIO, "products", T_TEXT, SC_FIELD(products), 0, 0, NULL},

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
_Static_assert(N_KEY_SPECS <= SCENARIO_KEYS_MAX, "raise SCENARIO_KEYS_MAX");

void scenario_section_label(const struct parse_ctx *c, enum section_kind kind, size_t pop,
                            char *out, size_t cap)
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

size_t scenario_spec_index(enum section_kind kind, const char *key)
{
    for (size_t i = 0; i < N_KEY_SPECS; i++) {
        if (key_specs[i].section == kind && strcmp(key_specs[i].key, key) == 0)
            return i;
    }
    return (size_t)-1;
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

/* Sets key = value in a section (pop: its population), from the file (line) or --set. */
void scenario_assign(struct parse_ctx *c, enum section_kind kind, size_t pop, const char *key,
                     const char *value, unsigned line)
{
    if (kind == SEC_EXPECT) {
        scenario_assign_expect(c, key, value, line);
        return;
    }
    char label[SCENARIO_NAME_MAX + 16], problem[512];
    scenario_section_label(c, kind, pop, label, sizeof label);
    size_t i = scenario_spec_index(kind, key);
    if (i == (size_t)-1) {
        char known[320];
        list_keys(kind, known, sizeof known);
        snprintf(problem, sizeof problem, "unknown key (expected one of: %s)%s", known,
                 kind == SEC_SCENARIO && line == LINE_SET && strchr(key, '.')
                     ? "; other sections are named host., expect., population NAME."
                     : "");
        scenario_fail_value(&c->diag, line, label, key, problem, value);
        return;
    }
    struct section_state *st = state_of(c, kind, pop);
    if (line != LINE_SET && st->keys[i] && st->keys[i] != LINE_SET) {
        snprintf(problem, sizeof problem, "given twice in this section (first at line %u)",
                 st->keys[i]);
        scenario_fail_value(&c->diag, line, label, key, problem, value);
        return;
    }
    void *base = kind == SEC_POPULATION ? (void *)&c->sc->pops[pop]
                 : kind == SEC_KMS_HOST ? (void *)&c->sc->kms_hosts[pop]
                                        : (void *)c->sc;
    if (scenario_set_value(&key_specs[i], base, value, problem, sizeof problem) != 0) {
        scenario_fail_value(&c->diag, line, label, key, problem, value);
        return;
    }
    st->keys[i] = line;
}
