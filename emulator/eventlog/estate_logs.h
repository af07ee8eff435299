/* Reading `kmsload fleet`'s LOGs, in the order given, into one fleet: each file's format told
 * apart, its skipped records reported on stderr (the first few of each file, then a count), a
 * line per file on stdout unless quiet. */
#ifndef KMSLOAD_ESTATE_LOGS_H
#define KMSLOAD_ESTATE_LOGS_H

#include "estate_import.h"
#include "estate_json.h"

#include <stdbool.h>
#include <stddef.h>

/* Reads inputs[i].path ("-": standard input) into fleet, filling each input's stats, rc and
 * message. Returns 0, or -1 when a file could not be opened (stderr says which; the others are
 * still read). */
int estate_read_logs(struct estate *fleet, struct estate_input *inputs, size_t n_inputs,
                     bool quiet);

#endif
