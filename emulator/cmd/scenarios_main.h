/* `kmsload scenarios` (and `kmsload run --list`): the shipped scenarios with their purpose. */
#ifndef KMSLOAD_SCENARIOS_MAIN_H
#define KMSLOAD_SCENARIOS_MAIN_H

#include <stdio.h>

/* Prints the list to f; returns 0, or 2 (with a message on stderr) when there is none. */
int scenarios_print(FILE *f, const char *command);

/* Runs the subcommand; argv[0] is "scenarios". Returns the exit status. */
int scenarios_main(int argc, char **argv);

#endif
