/* Where kmsload's shipped data lives (products.ini, scenarios/, reports/). */
#ifndef KMSLOAD_DATA_DIR_H
#define KMSLOAD_DATA_DIR_H

#include <stddef.h>

/*
 * Writes the data directory to buf: PROGRAM_DIR/../share/kmsload when it exists beside the
 * running program (an installed tree works under any prefix, also after being moved or unpacked
 * from a package), else the directory configured at build time (CMAKE_INSTALL_PREFIX). Returns
 * buf, or "" when it does not fit.
 */
const char *data_dir(char *buf, size_t cap);

/* data_dir()/name in buf ("scenarios", "reports", "products.ini"); "" when it does not fit. */
const char *data_dir_path(const char *name, char *buf, size_t cap);

#endif
