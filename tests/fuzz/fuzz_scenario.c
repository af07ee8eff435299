/*
 * libFuzzer target: scenario files and --set overrides (scenario_parse). The input is a scenario
 * text; a line "%%" ends it, and each following line is one --set override (at most 16). Seeds:
 * tests/fuzz/corpus/fuzz_scenario (the shipped scenarios, some with overrides).
 *
 * Oracle: never a crash, leak or hang; a refused input leaves a one-line message naming the
 * origin and an empty scenario; an accepted one has a population, a name that stays inside out/
 * (no '/', '\', control character or leading '.'), and the same scenario again when parsed twice.
 */
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_SETS 16

static struct scenario first, second;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL inside ends the text early, as it would for a C string */
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    char *split = strstr(text, "\n%%\n");
    if (split) {
        *split = '\0';
        char *line = split + 4;
        while (line && *line && n_sets < MAX_SETS) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            sets[n_sets++] = line;
            line = nl ? nl + 1 : NULL;
        }
    }
    char err[1024] = "";
    int rc = scenario_parse(&first, text, "fuzz.ini", sets, n_sets, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -1);
        FUZZ_ASSERT(err[0] != '\0');
        FUZZ_ASSERT(strchr(err, '\n') == NULL);
        FUZZ_ASSERT(strncmp(err, "fuzz.ini", 8) == 0 || strncmp(err, "--set: ", 7) == 0);
        FUZZ_ASSERT(first.n_pops == 0);
    } else {
        FUZZ_ASSERT(first.n_pops >= 1 && first.n_pops <= SCENARIO_MAX_POPULATIONS);
        FUZZ_ASSERT(first.name[0] != '\0' && first.name[0] != '.');
        for (const char *p = first.name; *p; p++)
            FUZZ_ASSERT(*p != '/' && *p != '\\' && (unsigned char)*p >= 0x20 && *p != 0x7f);
        FUZZ_ASSERT(first.duration_us > 0);
        char err2[1024] = "";
        FUZZ_ASSERT(scenario_parse(&second, text, "fuzz.ini", sets, n_sets, err2, sizeof err2) ==
                    0);
        /* Field by field: the struct's padding and the bytes past each string's end are not
         * part of the result. */
        FUZZ_ASSERT(strcmp(first.name, second.name) == 0);
        FUZZ_ASSERT(first.duration_us == second.duration_us && first.seed == second.seed);
        FUZZ_ASSERT(first.n_pops == second.n_pops && first.n_expects == second.n_expects);
        for (size_t i = 0; i < first.n_pops; i++) {
            FUZZ_ASSERT(strcmp(first.pops[i].name, second.pops[i].name) == 0);
            FUZZ_ASSERT(first.pops[i].machines == second.pops[i].machines);
        }
    }
    free(text);
    return 0;
}
