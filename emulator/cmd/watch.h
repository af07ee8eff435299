/* `kmsload watch`: probes a production KMS host at an interval and exports its answers. */
#ifndef KMSLOAD_WATCH_H
#define KMSLOAD_WATCH_H

/* Runs the subcommand; argv[0] is "watch". Returns the exit status (0, or 2 for bad usage). */
int watch_main(int argc, char **argv);

#endif
