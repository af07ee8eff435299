/* Usage errors of the subcommands: one format for every "bad flag" message. */
#ifndef KMSLOAD_USAGE_H
#define KMSLOAD_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints "kmsload COMMAND: MESSAGE" and the --help hint to stderr, for bad usage. */
void usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a message for people into err (an options parser's error); returns -1. */
int usage_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The message for getopt_long's ':' (missing value) or '?' (unknown option) result c, naming the
 * option as written in argv; returns -1.
 */
int usage_getopt_error(int c, char **argv, char *err, size_t err_len);

/*
 * "Did you mean": the candidate closest to word by edit distance (a swap of two neighbouring
 * letters counts one), or NULL when none is close enough to be a typing slip ("rnu" -> "run",
 * "prodcut" -> "product").
 */
const char *usage_nearest(const char *word, const char *const *candidates, size_t n);

struct option;
/*
 * After an option parser failed on getopt_long's result c: for an unknown option ('?'), adds
 * the closest long option of longopts to err (`unknown option "--prodcut" (did you mean
 * --product?)`). Returns -1, for `return usage_suggest_option(...)`.
 */
int usage_suggest_option(int c, char **argv, const struct option *longopts, char *err,
                         size_t err_len);

/* Checks a --metrics [ADDR:]PORT value (host, run); returns 0, or -1 with a message in err. */
int usage_check_metrics(const char *spec, char *err, size_t err_len);

struct event_base;
struct metrics_http;
struct metrics_http_options;
/*
 * Starts the --metrics pages of command (on base, or a thread of its own when base is NULL) with
 * its accept() failures reported on stderr as "kmsload COMMAND: metrics: ...", and one loud line
 * when they listen beyond loopback (no authentication). NULL after printing why it failed.
 */
struct metrics_http *usage_start_metrics(const char *command, struct event_base *base,
                                         struct metrics_http_options *o);

/*
 * One flag vocabulary across the subcommands: -t/--target is the host to talk to, --timeout a
 * timeout, --catalog FILE the product catalogue, --products LIST the host's KMS IDs. Old
 * spellings keep working with a note on stderr.
 */
/* True when value reads as a duration ("5s", "500ms", "2m"): an old "-t DUR" for --timeout. */
bool usage_looks_like_duration(const char *value);
/* Prints "kmsload COMMAND: note: NOTE" on stderr when note is not NULL. */
void usage_note(const char *command, const char *note);
/* The one HOST[:PORT] target after the options (getopt's optind), or -t's (*target when set):
 * missing, given twice or followed by another argument is an error. Splits it into host and port
 * (1688 by default). Returns 0, or -1 with a message. */
int usage_target(int argc, char **argv, const char **target, char *host, size_t host_cap,
                 uint16_t *port, char *err, size_t err_len);
#define USAGE_NOTE_T_TIMEOUT                                                                       \
    "-t DURATION for the timeout is deprecated: -t means --target in every subcommand; use "       \
    "--timeout DURATION"
#define USAGE_NOTE_PRODUCTS_FILE                                                                   \
    "--products FILE is deprecated: the catalogue file is --catalog FILE in every subcommand "     \
    "(--products is the host's list of KMS IDs)"

#endif
