/*
 * Runs one client exchange (exchange.h) over a TCP connection on a libevent base: connects to
 * each address in turn, frames whole RPC PDUs from the stream, enforces a deadline, and
 * classifies network failures (refused, reset, closed, timeout).
 */
#ifndef KMSLOAD_NETCLIENT_H
#define KMSLOAD_NETCLIENT_H

#include "client_session.h"
#include "net.h"
#include "net_socket.h"

#include <event2/event.h>
#include <sys/time.h>

struct net_client;

/* Called once when the exchange ends; the callback may free the client. */
typedef void (*net_client_done_fn)(struct net_client *client,
                                   const struct client_session_result *res, void *arg);

struct net_client_params {
    const struct net_addrs *addrs; /* tried in order until one connects */
    struct timeval timeout;        /* for the whole attempt: connect, bind, request */
    struct client_session_options options;
    /* Close with RST (SO_LINGER 0) once the exchange is over: a load generator opening thousands
     * of connections a second would otherwise run out of ports to TIME_WAIT. */
    bool abortive_close;
};

/* Starts connecting; returns NULL on allocation failure. */
struct net_client *net_client_start(struct event_base *base, const struct net_client_params *p,
                                    const struct kms_request *req, const uint8_t w_req[16],
                                    net_client_done_fn done, void *arg);
/*
 * Sends another request on a connection whose previous exchange ended with the connection usable
 * (an answer or an HRESULT; not a fault, failure or a host that closed it meanwhile). Returns 0,
 * or -1 when the connection cannot be reused (free it and start a new one).
 */
int net_client_send_next(struct net_client *client, const struct kms_request *req,
                         const uint8_t w_req[16], net_client_done_fn done, void *arg);
void net_client_free(struct net_client *client);

/* The address that was connected to (or last tried), as text. */
const char *net_client_peer(const struct net_client *client);
/* Microseconds from start to the end of the exchange. */
uint64_t net_client_elapsed_us(const struct net_client *client);

#endif
