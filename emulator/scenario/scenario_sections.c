/*
 * Scenario section headers: [scenario], [host], [expect], [population NAME] and [host NAME].
 */
#include "scenario_parts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t scenario_find_population(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_pops; i++) {
        if (strcmp(sc->pops[i].name, name) == 0)
            return i;
    }
    return (size_t)-1;
}

void scenario_list_populations(const struct scenario *sc, char *out, size_t cap)
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

static void population_defaults(struct scenario_population *p)
{
    *p = (struct scenario_population){
        .ndr64 = true,
        .license_status = 2,
        .leave_at_us = SCENARIO_NEVER,
    };
}

/* [population NAME]: label is the trimmed header text. */
static void begin_population(struct parse_ctx *c, unsigned line, const char *label)
{
    const char *name = label + 10;
    while (isspace((unsigned char)*name))
        name++;
    size_t len = strlen(name);
    if (!scenario_valid_name(name, len)) {
        scenario_fail(&c->diag, line,
                      "[%s]: expected [population NAME], NAME being 1..%d letters, digits, '-' or "
                      "'_'",
                      label, SCENARIO_NAME_MAX - 1);
        return;
    }
    size_t other = scenario_find_population(c->sc, name);
    if (other != (size_t)-1) {
        scenario_fail(&c->diag, line,
                      "[population %s]: a population of this name is already defined at line %u",
                      name, c->sc->pops[other].line);
        return;
    }
    if (c->sc->n_pops == SCENARIO_MAX_POPULATIONS) {
        scenario_fail(&c->diag, line, "[population %s]: more than %d populations", name,
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
}

/* [host NAME], one of several KMS hosts: label is the trimmed header text. */
static void begin_kms_host(struct parse_ctx *c, unsigned line, const char *label)
{
    const char *name = label + 4;
    while (isspace((unsigned char)*name))
        name++;
    size_t len = strlen(name);
    if (!scenario_valid_name(name, len)) {
        scenario_fail(&c->diag, line,
                      "[%s]: expected [host NAME], NAME being 1..%d letters, digits, '-' or '_'",
                      label, SCENARIO_NAME_MAX - 1);
        return;
    }
    for (size_t k = 0; k < c->sc->n_kms_hosts; k++)
        if (strcmp(c->sc->kms_hosts[k].name, name) == 0) {
            scenario_fail(&c->diag, line,
                          "[host %s]: a host of this name is already defined at line %u", name,
                          c->sc->kms_hosts[k].line);
            return;
        }
    if (c->sc->n_kms_hosts == SCENARIO_MAX_HOSTS) {
        scenario_fail(&c->diag, line, "[host %s]: more than %d hosts", name, SCENARIO_MAX_HOSTS);
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
}

/* Starts the section whose header text (between the brackets) is label. */
void scenario_begin_section(struct parse_ctx *c, unsigned line, const char *label_text)
{
    char label[SCENARIO_TEXT_MAX];
    if (!scenario_trim_copy(label_text, strlen(label_text), label, sizeof label))
        label[0] = '\0';
    c->any_header = true;
    c->kind = SEC_NONE;
    if (strcmp(label, "scenario") == 0 || strcmp(label, "host") == 0) {
        struct section_state *st = label[0] == 's' ? &c->scenario : &c->host;
        if (st->line) {
            scenario_fail(&c->diag, line, "[%s]: section given twice (first at line %u)", label,
                          st->line);
            return;
        }
        st->line = line;
        c->kind = label[0] == 's' ? SEC_SCENARIO : SEC_HOST;
        return;
    }
    if (strcmp(label, "expect") == 0) {
        if (c->expect_line) {
            scenario_fail(&c->diag, line, "[expect]: section given twice (first at line %u)",
                          c->expect_line);
            return;
        }
        c->expect_line = line;
        c->kind = SEC_EXPECT;
        return;
    }
    if (strncmp(label, "population", 10) == 0 &&
        (label[10] == '\0' || isspace((unsigned char)label[10]))) {
        begin_population(c, line, label);
        return;
    }
    if (strncmp(label, "host", 4) == 0 && isspace((unsigned char)label[4])) {
        begin_kms_host(c, line, label);
        return;
    }
    scenario_fail(&c->diag, line,
                  "[%s]: unknown section (expected [scenario], [host], [host NAME], [population "
                  "NAME] or [expect])",
                  label);
}
