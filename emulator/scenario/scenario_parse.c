/*
 * Scenario files (format: scenarios/README.md). INI through inih, fed line by line by ini_lines so
 * that every message carries its line. Each value is checked as it is read; what depends on the
 * whole file (required keys, references from [expect] to populations, leave and arrivals
 * defaults) is checked once the file and the --set overrides have been applied, since sections
 * may come in any order and overrides replace values. The first mistake stops the parse and is
 * reported as "FILE:LINE: [section] key: problem (got "value")" ("--set: ..." for an override).
 * This file drives the parse and applies the --set overrides; the other parts are listed in
 * scenario_parts.h.
 */
#include "scenario.h"
#include "scenario_parts.h"

#include "ini_lines.h"
#include "value_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A scenario is a few KiB; a file this large is almost certainly the wrong file. */
#define SCENARIO_FILE_MAX (1024 * 1024)

static int on_section(void *user, unsigned line, const char *label)
{
    struct parse_ctx *c = user;
    scenario_begin_section(c, line, label);
    return c->diag.failed;
}

static int on_value(void *user, unsigned line, const char *key, const char *value)
{
    struct parse_ctx *c = user;
    if (!c->any_header)
        scenario_fail(&c->diag, line,
                      "%s: key outside any section (the file starts with [scenario], [host], "
                      "[population NAME] or [expect])",
                      key);
    else
        scenario_assign(c, c->kind, c->pop, key, value, line);
    return c->diag.failed;
}

static void on_line_error(void *user, unsigned line, const char *message)
{
    struct parse_ctx *c = user;
    scenario_fail(&c->diag, line, "%s", message);
}

static void apply_override(struct parse_ctx *c, const char *text)
{
    const char *eq = strchr(text, '=');
    char lhs[256], value[STAGES_TEXT_MAX];
    if (!eq || !scenario_trim_copy(text, (size_t)(eq - text), lhs, sizeof lhs) || !lhs[0] ||
        !scenario_trim_copy(eq + 1, strlen(eq + 1), value, sizeof value)) {
        scenario_fail(&c->diag, LINE_SET,
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
            scenario_assign(c, sections[i].kind, 0, lhs + len, value, LINE_SET);
            return;
        }
    }
    if (strncmp(lhs, "population", 10) == 0 && isspace((unsigned char)lhs[10])) {
        const char *name = lhs + 10;
        while (isspace((unsigned char)*name))
            name++;
        const char *dot = strchr(name, '.');
        char pop_name[SCENARIO_NAME_MAX];
        if (!dot || !dot[1] ||
            !scenario_trim_copy(name, (size_t)(dot - name), pop_name, sizeof pop_name)) {
            scenario_fail(&c->diag, LINE_SET, "\"%.200s\": expected \"population NAME.key=value\"",
                          text);
            return;
        }
        size_t pop = scenario_find_population(c->sc, pop_name);
        if (pop == (size_t)-1) {
            char known[SCENARIO_MAX_POPULATIONS * SCENARIO_NAME_MAX];
            scenario_list_populations(c->sc, known, sizeof known);
            scenario_fail(
                &c->diag, LINE_SET,
                "[population %s] %s: there is no population \"%s\" in this scenario (it has: %s) "
                "(got \"%.200s\")",
                pop_name, dot + 1, pop_name, known, value);
            return;
        }
        scenario_assign(c, SEC_POPULATION, pop, dot + 1, value, LINE_SET);
        return;
    }
    scenario_assign(c, SEC_SCENARIO, 0, lhs, value, LINE_SET);
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
        .reconnaissance = true,
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
    c->diag.origin = origin;
    static const struct ini_lines_handlers handlers = {
        .on_section = on_section,
        .on_value = on_value,
        .on_error = on_line_error,
        .header_example = "[section]",
    };
    if (!text)
        scenario_fail(&c->diag, 0, "no scenario text");
    else
        ini_lines_parse(text, &handlers, c);
    for (size_t i = 0; i < n_overrides && !c->diag.failed; i++)
        apply_override(c, overrides[i] ? overrides[i] : "");
    if (!c->diag.failed)
        scenario_finish(c);
    int rc = 0;
    if (c->diag.failed) {
        if (err && err_len)
            snprintf(err, err_len, "%s", c->diag.err);
        *sc = (struct scenario){0};
        rc = -1;
    }
    free(c);
    return rc;
}

int scenario_load(struct scenario *sc, const char *path, const char *const *overrides,
                  size_t n_overrides, char *err, size_t err_len)
{
    char *text;
    if (ini_lines_read_file(path, SCENARIO_FILE_MAX, &text) != 0) {
        int e = errno;
        *sc = (struct scenario){0};
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot read the scenario: %s%s", path,
                     e == EFBIG    ? "file is larger than 1 MiB, which no scenario is"
                     : e == EILSEQ ? "file contains NUL bytes; a scenario is a text file"
                                   : strerror(e),
                     /* a bare name was looked up among the shipped scenarios too */
                     e == ENOENT && !strchr(path, '/')
                         ? " (nor is it a shipped scenario: 'kmsload scenarios' lists them)"
                         : "");
        return -1;
    }
    int rc = scenario_parse(sc, text, path, overrides, n_overrides, err, err_len);
    free(text);
    return rc;
}
