/* `kmsload host`: runs the reference KMS host until SIGINT/SIGTERM. */
#ifndef KMSLOAD_HOST_MAIN_H
#define KMSLOAD_HOST_MAIN_H

/* Runs the subcommand; argv[0] is "host". Returns the exit status (0 clean stop, 2 usage,
 * 1 failure to start). */
int host_main(int argc, char **argv);

#endif
