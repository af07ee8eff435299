/*
 * The one way kmsload's commands talk to a KMS host outside a load run: one exchange (connect,
 * bind, request, decode) on an event base, alone or several at once, each ending in a decoded
 * outcome. The request IV is drawn here; the connection and its deadline are net/netclient's.
 */
#ifndef KMSLOAD_CLIENT_EXCHANGE_H
#define KMSLOAD_CLIENT_EXCHANGE_H

#include "client_session.h"
#include "net.h"
#include "netclient.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How one exchange ended. */
struct client_outcome {
    struct client_session_result result; /* outcome, count, ePID, HRESULT, checks or the error */
    uint64_t elapsed_us;                 /* from the start, connection included */
    char peer[NET_ADDR_TEXT];            /* the address connected to (or last tried); "" if none */
    bool started;                        /* false: never sent (no address, out of memory) */
};

/* Exchanges over addrs with the default RPC offer, each bounded by timeout_us. */
void client_params(struct net_client_params *p, const struct net_addrs *addrs, int64_t timeout_us);

/* An exchange in flight (client_call_start). */
struct client_call;
typedef void (*client_done_fn)(const struct client_outcome *out, void *arg);

/*
 * Starts one exchange on base; done is called once, from the loop, when it ends (the call is
 * freed after done returns). Returns NULL when out of memory (done is not called).
 */
struct client_call *client_call_start(struct event_base *base, const struct net_client_params *p,
                                      const struct kms_request *req, client_done_fn done,
                                      void *arg);
/* Drops an exchange still in flight without calling its done (shutting down). */
void client_call_cancel(struct client_call *call);

/* client_exchange_on: the loop was broken (a signal, a stop) before the exchange ended. */
#define CLIENT_INTERRUPTED 1

/*
 * One exchange on base, dispatching it until the exchange ends. Returns 0 with out filled,
 * CLIENT_INTERRUPTED when something broke the loop first (the exchange is dropped), or -1 with
 * a message (out of memory).
 */
int client_exchange_on(struct event_base *base, const struct net_client_params *p,
                       const struct kms_request *req, struct client_outcome *out, char *err,
                       size_t err_len);

/*
 * One exchange with host:port (resolved here) on a loop of its own. Always fills out: a name
 * that does not resolve ends as KMS_OUTCOME_DNS_ERROR with the reason in out->result.err.detail.
 * Returns 0, or -1 with a message when no exchange could be run (no event loop, out of memory).
 */
int client_exchange(const char *host, uint16_t port, const struct net_client_params *p,
                    const struct kms_request *req, struct client_outcome *out, char *err,
                    size_t err_len);

/* One exchange of a batch: where to (addrs->n 0: skipped, out->started stays false), what. */
struct client_batch_item {
    const struct net_addrs *addrs;
    const struct kms_request *req;
    struct client_outcome out;
};

/*
 * Every item's exchange at once on one loop of its own, each bounded by p's timeout (p->addrs is
 * ignored). Returns 0 when every exchange ended, or -1 with a message (no event loop).
 */
int client_exchange_batch(struct client_batch_item *items, size_t n,
                          const struct net_client_params *p, char *err, size_t err_len);

#endif
