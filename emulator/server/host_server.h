/*
 * The reference host on the network: libevent listeners, one host_session per connection,
 * an idle timeout, a cap on concurrent connections and fault injection. Embeddable: start it on
 * any event base (the load engine and the tests do) and stop it cleanly.
 */
#ifndef KMSLOAD_HOST_SERVER_H
#define KMSLOAD_HOST_SERVER_H

#include "host.h"
#include "host_faults.h"
#include "net.h"

#include <event2/event.h>
#include <sys/time.h>

#define HOST_SERVER_MAX_LISTENERS NET_MAX_ADDRS

/* Called after every KMS request with what the host did; peer is "addr:port". */
typedef void (*host_request_log_fn)(const struct host_request_record *rec, const char *peer,
                                    void *arg);

/* Called once per request when its answer went out or its fault happened instead: the fault,
 * whether latency was injected, and the microseconds since the request was read whole. */
typedef void (*host_answered_fn)(enum host_fault fault, bool delayed, uint64_t latency_us,
                                 void *arg);

/* A problem worth an operator's attention (e.g. accept() failing), already rate-limited. */
typedef void (*host_server_warn_fn)(const char *message, void *arg);

struct host_server_config {
    struct net_addrs listen; /* every address gets a listener (port 0: a free port) */
    /* Concurrent connections (default 10000); when full, the connection silent the longest is
     * closed to admit a newcomer (counted in stats.connections_rejected). */
    unsigned max_connections;
    struct timeval idle_timeout; /* close connections silent this long (default 30 s) */
    struct timeval pdu_timeout;  /* a PDU must be whole this long after its first byte (5 s) */
    struct timeval accept_pause; /* stop accepting this long after accept() fails (250 ms) */
    host_server_warn_fn warn;    /* NULL: failures are only counted */
    void *warn_arg;
    struct host_faults faults;
    host_request_log_fn log;
    void *log_arg;
    host_answered_fn answered; /* optional (metrics) */
    void *answered_arg;
};

void host_server_config_default(struct host_server_config *cfg);

struct host_server;

/* Binds and listens. Returns NULL with a message in err (e.g. address in use). */
struct host_server *host_server_start(struct event_base *base, struct kms_host *host,
                                      const struct host_server_config *cfg, char *err,
                                      size_t err_len);
/* Number of listeners and the address each one is bound to (with the real port). */
size_t host_server_listener_count(const struct host_server *srv);
const struct sockaddr *host_server_listener_addr(const struct host_server *srv, size_t i);
uint16_t host_server_port(const struct host_server *srv);
unsigned host_server_open_connections(const struct host_server *srv);
/* Closes listeners and every connection, frees the server. */
void host_server_stop(struct host_server *srv);

#endif
