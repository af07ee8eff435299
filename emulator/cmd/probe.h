/* `kmsload probe`: one activation request against a host, decoded for a person or a program. */
#ifndef KMSLOAD_PROBE_H
#define KMSLOAD_PROBE_H

#include "net.h"
#include "probe_send.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command line of `kmsload probe`, checked but not acted on. */
struct probe_options {
    bool help;
    char host[NET_HOST_MAX];
    uint16_t port;
    /* The request's fields and the exchange's, parsed straight into what client/ sends (names
     * and GUIDs are checked against the catalogue there); host and port are set at execution. */
    struct probe_send_options send;
    const char *products_file; /* --catalog FILE (or the deprecated --products FILE) */
    const char *target;        /* HOST[:PORT], the argument or -t/--target */
    const char *deprecated;    /* an old spelling was used: the note for stderr, or NULL */
    bool json;
    bool list_products;
    bool list_host_keys;
};

/* Parses argv (argv[0] is "probe") into opt. Returns 0, or -1 with a message in err. */
int probe_options_parse(int argc, char **argv, struct probe_options *opt, char *err,
                        size_t err_len);

/* Sends the request opt describes and prints the answer; returns the exit status. */
int probe_execute(const struct probe_options *opt);

/* The --help text. */
extern const char probe_usage[];

#endif
