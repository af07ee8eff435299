#include "scenario_input.h"

#include "ini_lines.h"

#include <errno.h>
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
