/*
 * The scenario parser's private parts, shared by its files: scenario_parse.c (driver,
 * overrides), scenario_diag.c (its messages), scenario_sections.c (section headers),
 * scenario_keys.c (the key table and its assignment), scenario_values.c (value syntax),
 * scenario_expect.c ([expect]) and scenario_check.c (whole-scenario checks). Not for use outside
 * the parser.
 */
#ifndef KMSLOAD_SCENARIO_PARTS_H
#define KMSLOAD_SCENARIO_PARTS_H

#include "scenario.h"
#include "scenario_diag.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the keys of the key table (scenario_keys.c checks that they fit). */
#define SCENARIO_KEYS_MAX 64

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

/* Where each key of one section was given: 0 not given, LINE_SET by --set, else its line. */
struct section_state {
    unsigned line; /* header line, 0 when the section is absent */
    unsigned keys[SCENARIO_KEYS_MAX];
};

struct parse_ctx {
    struct scenario *sc;
    struct scenario_diag diag; /* the first mistake */

    /* The section being read. */
    enum section_kind kind;
    size_t pop;
    bool any_header;

    struct section_state scenario, host, pops[SCENARIO_MAX_POPULATIONS];
    struct section_state kms_hosts[SCENARIO_MAX_HOSTS];
    unsigned expect_line;                             /* [expect] header */
    unsigned expect_lines[SCENARIO_MAX_EXPECTATIONS]; /* like keys[]: file line or LINE_SET */
    unsigned allowed_line;
};

/* scenario_sections.c */
void scenario_begin_section(struct parse_ctx *c, unsigned line, const char *label_text);
size_t scenario_find_population(const struct scenario *sc, const char *name);
void scenario_list_populations(const struct scenario *sc, char *out, size_t cap);

/* scenario_keys.c */
void scenario_assign(struct parse_ctx *c, enum section_kind kind, size_t pop, const char *key,
                     const char *value, unsigned line);
void scenario_section_label(const struct parse_ctx *c, enum section_kind kind, size_t pop,
                            char *out, size_t cap);
size_t scenario_spec_index(enum section_kind kind, const char *key);

/* scenario_values.c */
int scenario_set_value(const struct key_spec *spec, void *base, const char *value, char *problem,
                       size_t cap);
bool scenario_printable(const char *text);
bool scenario_valid_name(const char *name, size_t len);
bool scenario_valid_app_key(const char *key);
int scenario_parse_share(const char *text, double *out);
int scenario_parse_u64(const char *text, uint64_t *out);
bool scenario_trim_copy(const char *text, size_t len, char *out, size_t cap);

/* scenario_expect.c */
void scenario_assign_expect(struct parse_ctx *c, const char *key, const char *value, unsigned line);

/* scenario_check.c */
void scenario_finish(struct parse_ctx *c);

#endif
