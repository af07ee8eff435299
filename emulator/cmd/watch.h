/* `kmsload watch`: probes a production KMS host at an interval and exports its answers. */
#ifndef KMSLOAD_WATCH_H
#define KMSLOAD_WATCH_H

#include "wintypes.h"

/* Runs the subcommand; argv[0] is "watch". Returns the exit status (0, or 2 for bad usage). */
int watch_main(int argc, char **argv);

/*
 * The client machine ID watch sends for an application: a version-4-shaped GUID from SHA-256 of
 * the seed and the application key, the same on every run with the same seed, so a host counts
 * each application's probe once, ever.
 */
void watch_stable_cmid(const char *seed, const char *application, struct guid *out);

#endif
