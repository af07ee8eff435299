#include "scenario_input.h"

#include "ini_lines.h"
#include "value_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCENARIO_INPUT_MAX (1u << 20) /* as scenario_load: no scenario is larger */

/* Standard input, whole (at most SCENARIO_INPUT_MAX bytes). */
static char *read_stdin(char *err, size_t err_len)
{
    size_t cap = 65536, n = 0;
    char *text = malloc(cap + 1);
    while (text) {
        size_t got = fread(text + n, 1, cap - n, stdin);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= SCENARIO_INPUT_MAX) {
                snprintf(err, err_len, "stdin: larger than 1 MiB, which no scenario is");
                free(text);
                return NULL;
            }
            char *bigger = realloc(text, cap * 2 + 1);
            if (!bigger)
                free(text);
            text = bigger;
            cap *= 2;
        }
    }
    if (!text) {
        snprintf(err, err_len, "stdin: out of memory");
        return NULL;
    }
    if (ferror(stdin)) {
        snprintf(err, err_len, "stdin: cannot read the scenario");
        free(text);
        return NULL;
    }
    /* As a file by path is refused (ini_lines_read_file): text after a NUL would be lost. */
    if (memchr(text, '\0', n)) {
        snprintf(err, err_len, "stdin: contains NUL bytes; a scenario is a text file");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The scenario's text: the file or standard input (or, with only --population, a [scenario]
 * section), then one section per --population. NULL with a message in err. */
static char *input_text(const char *path, const char *const *populations, size_t n_populations,
                        char *err, size_t err_len)
{
    char *base = NULL;
    if (!path) {
        base = strdup("[scenario]\nname = cli\n");
    } else if (strcmp(path, "-") == 0) {
        if (!(base = read_stdin(err, err_len)))
            return NULL;
    } else if (ini_lines_read_file(path, SCENARIO_INPUT_MAX, &base) != 0) {
        int e = errno;
        snprintf(err, err_len, "%s: cannot read the scenario: %s", path,
                 e == EFBIG    ? "file is larger than 1 MiB, which no scenario is"
                 : e == EILSEQ ? "file contains NUL bytes; a scenario is a text file"
                               : strerror(e));
        return NULL;
    }
    size_t len = base ? strlen(base) : 0, cap = len + 2 + n_populations * 160;
    char *text = base ? realloc(base, cap) : NULL;
    if (!text) {
        free(base);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (len && text[len - 1] != '\n')
        text[len++] = '\n';
    for (size_t i = 0; i < n_populations; i++) {
        const char *spec = populations[i], *c1 = strchr(spec, ':'),
                   *c2 = strchr(c1 + 1, ':'); /* checked by the caller */
        len += (size_t)snprintf(text + len, cap - len,
                                "[population %.*s]\nproduct = %.*s\nmachines = %s\n",
                                (int)(c1 - spec), spec, (int)(c2 - c1 - 1), c1 + 1, c2 + 1);
    }
    text[len] = '\0';
    return text;
}

int scenario_load_input(struct scenario *sc, const char *path, const char *const *populations,
                        size_t n_populations, const char *const *sets, size_t n_sets, char *err,
                        size_t err_len)
{
    if (path && strcmp(path, "-") != 0 && n_populations == 0)
        return scenario_load(sc, path, sets, n_sets, err, err_len);
    char *text = input_text(path, populations, n_populations, err, err_len);
    const char *origin = !path ? "--population" : strcmp(path, "-") == 0 ? "stdin" : path;
    int rc = !text || scenario_parse(sc, text, origin, sets, n_sets, err, err_len) ? -1 : 0;
    free(text);
    return rc;
}

/* A message for people in err; returns -1. */
static int input_error(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* --population NAME:PRODUCT:MACHINES: a population without a scenario file. Names and products
 * are plain words (they become an INI section and value); the scenario parser checks the rest.
 * Moved from cmd/run_options.c (issue 18): the check belongs with the sections it becomes. */
int scenario_population_check(const char *spec, char *err, size_t err_len)
{
    const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ':'))
        return input_error(err, err_len,
                           "--population \"%s\": expected NAME:PRODUCT:MACHINES, e.g. "
                           "clients:win10-pro:30",
                           spec);
    for (const char *p = spec; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == ':'))
            return input_error(err, err_len,
                               "--population \"%s\": names and products are letters, digits, "
                               "'-', '_' and '.'",
                               spec);
    unsigned long n;
    if (c1 == spec || c2 == c1 + 1 || value_parse_uint(c2 + 1, 1, 10000000, &n))
        return input_error(err, err_len,
                           "--population \"%s\": expected NAME:PRODUCT:MACHINES with MACHINES "
                           "1..10000000",
                           spec);
    return 0;
}

/*
 * "K/N", or "auto/N" with K from $JOB_COMPLETION_INDEX (set by Kubernetes for the pods of an
 * Indexed Job). Returns 0, or -1 with a message for people in err.
 * Moved from cmd/run_options.c (issue 18): which part of the scenario's fleet a run takes.
 */
int scenario_shard_parse(const char *text, unsigned *k, unsigned *n, char *err, size_t err_len)
{
    char *slash = strchr(text, '/');
    unsigned long a, b;
    char left[32];
    if (!slash || (size_t)(slash - text) >= sizeof left) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    memcpy(left, text, (size_t)(slash - text));
    left[slash - text] = '\0';
    if (value_parse_uint(slash + 1, 1, 65536, &b)) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    if (strcmp(left, "auto") == 0) {
        const char *index = getenv("JOB_COMPLETION_INDEX");
        if (!index || !*index) {
            snprintf(err, err_len,
                     "--shard %s: JOB_COMPLETION_INDEX is not set (Kubernetes sets it in the pods "
                     "of an Indexed Job); give the shard as K/N instead",
                     text);
            return -1;
        }
        if (value_parse_uint(index, 0, ~0UL, &a)) {
            snprintf(err, err_len, "--shard %s: JOB_COMPLETION_INDEX=\"%s\" is not a number", text,
                     index);
            return -1;
        }
        if (a >= b) {
            snprintf(err, err_len,
                     "--shard %s: JOB_COMPLETION_INDEX=%lu is out of range 0..%lu (the Job's "
                     "completions must equal N)",
                     text, a, b - 1);
            return -1;
        }
    } else if (value_parse_uint(left, 0, 65535, &a) || a >= b) {
        snprintf(err, err_len, "--shard \"%s\": expected K/N with 0 <= K < N, or auto/N", text);
        return -1;
    }
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}
