/* `--list-host-keys` (host and probe): the host keys of the catalogue, what each activates and
 * which host OSes can carry it. */
#ifndef KMSLOAD_HOST_KEY_LIST_H
#define KMSLOAD_HOST_KEY_LIST_H

#include "catalog.h"

#include <stdio.h>

void host_key_list_print(FILE *out, const struct catalog *cat);

#endif
