/* `kmsload host`: runs the reference KMS host until SIGINT/SIGTERM. */
#ifndef KMSLOAD_HOST_MAIN_H
#define KMSLOAD_HOST_MAIN_H

#include "host_faults.h"
#include "host_server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command line of `kmsload host`, checked but not acted on. */
struct host_options {
    bool help;
    const char *listen[HOST_SERVER_MAX_LISTENERS]; /* --listen ADDR:PORT as given */
    size_t n_listen;                               /* 0: 127.0.0.1:1688 */
    bool clock_client;                             /* --clock client */
    const char *products;                          /* --products LIST (checked at execution) */
    const char *host_keys;                         /* --host-key LIST (checked at execution) */
    bool list_host_keys;                           /* --list-host-keys */
    const char *catalog_file;
    unsigned activation_minutes, renewal_minutes;
    bool ndr64, btfn, strict;
    unsigned long max_connections;
    int64_t idle_timeout_us;
    int64_t pdu_timeout_us;
    int64_t clock_step_us;
    /* --clock-step; 0: the renewal interval + 1 day */ /* --pdu-timeout: a PDU whole this long
                                                           after its first byte */
    struct host_faults faults;                          /* --fault SPEC, parsed */
    const char *log_path, *state_path;
    const char *metrics;       /* --metrics [ADDR:]PORT (checked), NULL: no /metrics */
    unsigned long build, seed; /* build 0: chosen by NDR64 and the host keys */
};

/* Parses argv (argv[0] is "host") into opt. Returns 0, or -1 with a message in err. */
int host_options_parse(int argc, char **argv, struct host_options *opt, char *err, size_t err_len);

/* Runs the host as opt says until SIGINT/SIGTERM; returns the exit status (0 clean stop,
 * 2 usage, 1 failure to start). */
int host_execute(const struct host_options *opt);

/* The --help text. */
extern const char host_usage[];

#endif
