/* `kmsload scenarios` (and `kmsload run --list`): the shipped scenarios with their purpose. */
#ifndef KMSLOAD_SCENARIOS_MAIN_H
#define KMSLOAD_SCENARIOS_MAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Prints the list to f; returns 0, or 2 (with a message on stderr) when there is none. */
int scenarios_print(FILE *f, const char *command);

/* The command line of `kmsload scenarios`: nothing but --help. */
struct scenarios_options {
    bool help;
};

/* Parses argv (argv[0] is "scenarios"). Returns 0, or -1 with a message in err. */
int scenarios_options_parse(int argc, char **argv, struct scenarios_options *opt, char *err,
                            size_t err_len);
/* Prints the list; returns the exit status. */
int scenarios_execute(const struct scenarios_options *opt);

/* The --help text. */
extern const char scenarios_usage[];

#endif
