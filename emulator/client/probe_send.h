/*
 * One probe, as `kmsload probe` sends it: the request a spec describes, sent once, its outcome
 * and the probe's exit status. Here, below cmd, so the command only parses options and prints.
 */
#ifndef KMSLOAD_PROBE_SEND_H
#define KMSLOAD_PROBE_SEND_H

#include "catalog.h"
#include "client_exchange.h"
#include "client_request.h"
#include "client_session.h"
#include "kms_message.h"

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

/* What to send, and where. */
struct probe_send_options {
    const char *host;
    uint16_t port;
    struct client_request_spec request; /* filled by the command line directly */
    bool product_given; /* --product was given (else --kms GROUP picks the product) */
    struct client_session_options exchange;
    int64_t timeout_us;
};

/* What came back. */
struct probe_sent {
    struct kms_request req;
    const char *product; /* the edition's (or group's) name */
    struct client_outcome out;
    int exit_status;
};

/*
 * Builds the request and sends it once. Returns 0; 1 when the exchange failed (err says how, s is
 * still filled: the outcome says unreachable); -1 when the request cannot be built (err names the
 * field: a usage error).
 */
int probe_send(const struct probe_send_options *o, const struct catalog *cat, struct probe_sent *s,
               char *err, size_t err_len);

#endif
