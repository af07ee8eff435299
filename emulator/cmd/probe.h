/* `kmsload probe`: one activation request against a host, decoded for a person or a program. */
#ifndef KMSLOAD_PROBE_H
#define KMSLOAD_PROBE_H

#include "client_session.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of `kmsload probe` (documented in --help and README). */
enum probe_exit {
    PROBE_EXIT_ACTIVATED = 0,
    PROBE_EXIT_BELOW_THRESHOLD = 1,
    PROBE_EXIT_USAGE = 2,
    PROBE_EXIT_UNREACHABLE = 3,
    PROBE_EXIT_HOST_ERROR = 4,
    PROBE_EXIT_PROTOCOL_ERROR = 5,
};

/* The command line of `kmsload probe`, checked but not acted on. */
struct probe_options {
    bool help;
    char host[NET_HOST_MAX];
    uint16_t port;
    const char *product;
    const char *app, *kms, *sku; /* overrides: catalogue names or GUIDs (checked at execution) */
    const char *products_file;   /* --catalog FILE (or the deprecated --products FILE) */
    const char *target;          /* HOST[:PORT], the argument or -t/--target */
    const char *deprecated;      /* an old spelling was used: the note for stderr, or NULL */
    unsigned long protocol;      /* 0 = product default */
    const char *cmid, *cmid_prev;
    const char *workstation;
    long n_policy; /* -1 = product default */
    unsigned long license_status;
    unsigned long binding_expiration;
    bool vm;
    int64_t clock_skew_us;
    struct client_session_options exchange;
    int64_t timeout_us;
    bool json;
    bool list_products;
    bool list_host_keys;
    bool product_given; /* --product was given (else --kms GROUP picks the product) */
};

/* Parses argv (argv[0] is "probe") into opt. Returns 0, or -1 with a message in err. */
int probe_options_parse(int argc, char **argv, struct probe_options *opt, char *err,
                        size_t err_len);

/* Sends the request opt describes and prints the answer; returns the exit status. */
int probe_execute(const struct probe_options *opt);

/* The --help text. */
extern const char probe_usage[];

#endif
