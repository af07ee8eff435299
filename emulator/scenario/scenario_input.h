/* `kmsload run`'s scenario as given on the command line: a file, standard input ("-"), or none,
 * each followed by one [population NAME] section per --population NAME:PRODUCT:MACHINES (with
 * no file, the populations are the whole scenario, named cli), and the part of its fleet a
 * --shard takes. */
#ifndef KMSLOAD_SCENARIO_INPUT_H
#define KMSLOAD_SCENARIO_INPUT_H

#include "scenario.h"

#include <stddef.h>

/* path: a file (already located), "-" or NULL; populations checked by the caller (two colons
 * each). Returns 0, or -1 with a message in err. */
int scenario_load_input(struct scenario *sc, const char *path, const char *const *populations,
                        size_t n_populations, const char *const *sets, size_t n_sets, char *err,
                        size_t err_len);

/* --population NAME:PRODUCT:MACHINES: two colons, plain words (letters, digits, '-', '_', '.'),
 * MACHINES 1..10000000. Returns 0, or -1 with a message for people in err. */
int scenario_population_check(const char *spec, char *err, size_t err_len);

/* --shard "K/N" (0 <= K < N), or "auto/N" with K from $JOB_COMPLETION_INDEX (Kubernetes Indexed
 * Jobs). Returns 0 with *k and *n, or -1 with a message for people in err. */
int scenario_shard_parse(const char *text, unsigned *k, unsigned *n, char *err, size_t err_len);

#endif
