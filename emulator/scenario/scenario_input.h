/* `kmsload run`'s scenario as given on the command line: a file, standard input ("-"), or none,
 * each followed by one [population NAME] section per --population NAME:PRODUCT:MACHINES (with
 * no file, the populations are the whole scenario, named cli). */
#ifndef KMSLOAD_SCENARIO_INPUT_H
#define KMSLOAD_SCENARIO_INPUT_H

#include "scenario.h"

#include <stddef.h>

/* path: a file (already located), "-" or NULL; populations checked by the caller (two colons
 * each). Returns 0, or -1 with a message in err. */
int scenario_load_input(struct scenario *sc, const char *path, const char *const *populations,
                        size_t n_populations, const char *const *sets, size_t n_sets, char *err,
                        size_t err_len);

#endif
