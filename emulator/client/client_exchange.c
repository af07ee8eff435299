#include "client_exchange.h"

#include "client_random.h"
#include "client_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client_call {
    struct net_client *client;
    client_done_fn done;
    void *arg;
};

void client_params(struct net_client_params *p, const struct net_addrs *addrs, int64_t timeout_us)
{
    memset(p, 0, sizeof *p);
    p->addrs = addrs;
    client_session_options_default(&p->options);
    p->timeout.tv_sec = (time_t)(timeout_us / 1000000);
    p->timeout.tv_usec = (suseconds_t)(timeout_us % 1000000);
}

static void on_call_done(struct net_client *client, const struct client_session_result *res,
                         void *arg)
{
    struct client_call *call = arg;
    struct client_outcome out = {.result = *res, .started = true};
    out.elapsed_us = net_client_elapsed_us(client);
    snprintf(out.peer, sizeof out.peer, "%s", net_client_peer(client));
    net_client_free(client);
    call->client = NULL;
    call->done(&out, call->arg);
    free(call);
}

struct client_call *client_call_start(struct event_base *base, const struct net_client_params *p,
                                      const struct kms_request *req, client_done_fn done, void *arg)
{
    struct client_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->done = done;
    call->arg = arg;
    uint8_t w_req[16];
    client_random_bytes(w_req, sizeof w_req); /* the request IV: fresh, not secret */
    call->client = net_client_start(base, p, req, w_req, on_call_done, call);
    if (!call->client) {
        free(call);
        return NULL;
    }
    return call;
}

void client_call_cancel(struct client_call *call)
{
    if (!call)
        return;
    if (call->client)
        net_client_free(call->client);
    free(call);
}

/* A synchronous exchange: its outcome and the loop it breaks when done. */
struct one_shot {
    struct event_base *base;
    struct client_outcome *out;
    bool done;
};

static void on_one_shot(const struct client_outcome *out, void *arg)
{
    struct one_shot *s = arg;
    *s->out = *out;
    s->done = true;
    event_base_loopbreak(s->base);
}

int client_exchange_on(struct event_base *base, const struct net_client_params *p,
                       const struct kms_request *req, struct client_outcome *out, char *err,
                       size_t err_len)
{
    struct one_shot s = {.base = base, .out = out};
    memset(out, 0, sizeof *out);
    struct client_call *call = client_call_start(base, p, req, on_one_shot, &s);
    if (!call) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    event_base_dispatch(base);
    if (!s.done) {
        client_call_cancel(call);
        return CLIENT_INTERRUPTED;
    }
    return 0;
}

/* An exchange that never ran: no address, no loop. */
static void not_sent(struct client_outcome *out, const char *why)
{
    memset(out, 0, sizeof *out);
    out->result.outcome = KMS_OUTCOME_DNS_ERROR;
    snprintf(out->result.err.detail, sizeof out->result.err.detail, "%.150s", why);
}

int client_exchange(const char *host, uint16_t port, const struct net_client_params *p,
                    const struct kms_request *req, struct client_outcome *out, char *err,
                    size_t err_len)
{
    struct net_addrs addrs;
    char why[512];
    if (net_resolve(host, port, false, &addrs, why, sizeof why)) {
        not_sent(out, why);
        return 0;
    }
    struct event_base *base = net_event_base_new();
    if (!base) {
        not_sent(out, "no event loop");
        snprintf(err, err_len, "cannot create an event loop");
        return -1;
    }
    struct net_client_params params = *p;
    params.addrs = &addrs;
    int rc = client_exchange_on(base, &params, req, out, err, err_len);
    if (rc)
        not_sent(out, "out of memory");
    event_base_free(base);
    return rc ? -1 : 0;
}

/* One batch item's exchange and the count of those still running. */
struct batch_call {
    struct client_batch_item *item;
    struct event_base *base;
    size_t *running;
};

static void on_batch_done(const struct client_outcome *out, void *arg)
{
    struct batch_call *b = arg;
    b->item->out = *out;
    if (--*b->running == 0)
        event_base_loopbreak(b->base);
}

int client_exchange_batch(struct client_batch_item *items, size_t n,
                          const struct net_client_params *p, char *err, size_t err_len)
{
    struct event_base *base = net_event_base_new();
    struct batch_call *calls = calloc(n ? n : 1, sizeof *calls);
    if (!base || !calls) {
        if (base)
            event_base_free(base);
        free(calls);
        snprintf(err, err_len, "cannot create an event loop");
        return -1;
    }
    size_t running = 0;
    for (size_t i = 0; i < n; i++) {
        memset(&items[i].out, 0, sizeof items[i].out);
        if (items[i].addrs->n == 0)
            continue;
        struct net_client_params params = *p;
        params.addrs = items[i].addrs;
        calls[i] = (struct batch_call){&items[i], base, &running};
        running++;
        if (!client_call_start(base, &params, items[i].req, on_batch_done, &calls[i]))
            running--;
    }
    if (running)
        event_base_dispatch(base);
    free(calls);
    event_base_free(base);
    return 0;
}
