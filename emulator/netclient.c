#include "netclient.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct net_client {
    struct event_base *base;
    struct net_client_params params;
    struct bufferevent *bev;
    struct event *deadline;
    size_t next_addr;
    bool started_connecting;
    bool connected;
    bool finished;
    bool broken; /* idle connection the host closed or wrote to: not reusable */
    int last_errno;
    char peer[NET_ADDR_TEXT];
    struct timespec started, ended;
    struct kms_request request;
    uint8_t w_req[16];
    struct exchange ex;
    net_client_done_fn done;
    void *arg;
};

struct event_base *net_event_base_new(void)
{
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base ? base : event_base_new();
}

int net_take_pdu(struct evbuffer *input, uint8_t *pdu, struct proto_err *err)
{
    size_t avail = evbuffer_get_length(input);
    if (avail < RPC_HEADER_LEN)
        return 0;
    int frame = rpc_frame_length(evbuffer_pullup(input, RPC_HEADER_LEN), avail, err);
    if (frame <= 0 || (size_t)frame > avail)
        return frame < 0 ? frame : 0;
    evbuffer_remove(input, pdu, (size_t)frame);
    return frame;
}

static uint64_t timespec_diff_us(const struct timespec *a, const struct timespec *b)
{
    return (uint64_t)((b->tv_sec - a->tv_sec) * 1000000LL + (b->tv_nsec - a->tv_nsec) / 1000);
}

static void finish(struct net_client *c)
{
    if (c->finished)
        return;
    c->finished = true;
    clock_gettime(CLOCK_MONOTONIC, &c->ended);
    if (c->deadline)
        event_del(c->deadline);
    /* A connection ready for another call keeps reading, so that a host closing it is noticed. */
    if (c->bev && c->ex.state != EXCHANGE_IDLE)
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    c->done(c, &c->ex.result, c->arg);
}

static void fail(struct net_client *c, enum kms_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct net_client *c, enum kms_outcome outcome, const char *fmt, ...)
{
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    exchange_fail(&c->ex, outcome, detail);
    finish(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct net_client *c = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    uint8_t pdu[RPC_MAX_PDU], out[RPC_MAX_PDU];
    if (c->finished) {
        c->broken = true; /* nothing is due from an idle connection */
        bufferevent_disable(bev, EV_READ);
        return;
    }
    while (!c->finished) {
        struct proto_err err = {0};
        int frame = net_take_pdu(input, pdu, &err);
        if (frame == 0)
            return; /* wait for the rest of the PDU */
        if (frame < 0) {
            exchange_fail(&c->ex, KMS_OUTCOME_PROTOCOL_ERROR, err.detail);
            c->ex.result.err.code = err.code;
            finish(c);
            return;
        }
        size_t out_len = 0;
        enum exchange_step step =
            exchange_receive(&c->ex, pdu, (size_t)frame, out, sizeof out, &out_len);
        if (step == EXCHANGE_SEND) {
            bufferevent_write(bev, out, out_len);
        } else {
            finish(c);
            return;
        }
    }
}

static void try_next_address(struct net_client *c);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct net_client *c = arg;
    (void)bev;
    if (c->finished) {
        c->broken = true; /* an idle connection was closed: it will not be reused */
        bufferevent_disable(bev, EV_READ | EV_WRITE);
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        uint8_t out[RPC_MAX_PDU];
        size_t len = 0;
        struct proto_err err = {0};
        c->connected = true;
        if (exchange_begin(&c->ex, &c->params.options, &c->request, c->w_req, out, sizeof out, &len,
                           &err)) {
            fail(c, KMS_OUTCOME_PROTOCOL_ERROR, "cannot encode the request: %s", err.detail);
            return;
        }
        bufferevent_write(c->bev, out, len);
        return;
    }
    int e = EVUTIL_SOCKET_ERROR();
    if (!c->connected) {
        c->last_errno = e;
        try_next_address(c);
        return;
    }
    if (what & BEV_EVENT_EOF)
        fail(c, KMS_OUTCOME_CLOSED, "host %s closed the connection before answering", c->peer);
    else if (e == ECONNRESET || e == EPIPE)
        fail(c, KMS_OUTCOME_RESET, "connection to %s reset", c->peer);
    else
        fail(c, KMS_OUTCOME_RESET, "connection to %s failed: %s", c->peer,
             evutil_socket_error_to_string(e));
}

static void try_next_address(struct net_client *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    while (c->next_addr < c->params.addrs->n) {
        size_t i = c->next_addr++;
        const struct sockaddr *sa = (const struct sockaddr *)&c->params.addrs->addr[i];
        net_addr_format(sa, c->peer, sizeof c->peer);
        c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!c->bev) {
            fail(c, KMS_OUTCOME_REFUSED, "cannot create a socket");
            return;
        }
        bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
        bufferevent_enable(c->bev, EV_READ);
        if (bufferevent_socket_connect(c->bev, sa, (int)c->params.addrs->len[i]) == 0)
            return; /* on_event reports the outcome */
        c->last_errno = EVUTIL_SOCKET_ERROR();
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    fail(c, KMS_OUTCOME_REFUSED, "cannot connect to %s: %s", c->peer,
         c->last_errno ? evutil_socket_error_to_string(c->last_errno) : "no address");
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct net_client *c = arg;
    (void)fd, (void)what;
    if (!c->started_connecting) {
        /* First run: connecting here, not in net_client_start, keeps the done callback from
         * running before the caller has the client pointer. */
        c->started_connecting = true;
        evtimer_add(c->deadline, &c->params.timeout);
        try_next_address(c);
        return;
    }
    double seconds = (double)c->params.timeout.tv_sec + c->params.timeout.tv_usec / 1e6;
    if (!c->connected)
        fail(c, KMS_OUTCOME_TIMEOUT, "no connection to %s within %.3g s", c->peer, seconds);
    else
        fail(c, KMS_OUTCOME_TIMEOUT, "host %s did not answer within %.3g s", c->peer, seconds);
}

struct net_client *net_client_start(struct event_base *base, const struct net_client_params *p,
                                    const struct kms_request *req, const uint8_t w_req[16],
                                    net_client_done_fn done, void *arg)
{
    struct net_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->params = *p;
    c->request = *req;
    memcpy(c->w_req, w_req, 16);
    c->done = done;
    c->arg = arg;
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    c->deadline = evtimer_new(base, on_deadline, c);
    if (!c->deadline) {
        free(c);
        return NULL;
    }
    struct timeval now = {0, 0};
    evtimer_add(c->deadline, &now);
    return c;
}

int net_client_send_next(struct net_client *c, const struct kms_request *req,
                         const uint8_t w_req[16], net_client_done_fn done, void *arg)
{
    if (!c->finished || c->broken || !c->bev || c->ex.state != EXCHANGE_IDLE)
        return -1;
    uint8_t out[RPC_MAX_PDU];
    size_t len = 0;
    c->request = *req;
    memcpy(c->w_req, w_req, 16);
    if (exchange_next_request(&c->ex, &c->request, c->w_req, out, sizeof out, &len, NULL) != 0)
        return -1;
    c->done = done;
    c->arg = arg;
    c->finished = false;
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    evtimer_add(c->deadline, &c->params.timeout);
    bufferevent_enable(c->bev, EV_READ);
    bufferevent_write(c->bev, out, len);
    return 0;
}

void net_client_free(struct net_client *c)
{
    if (!c)
        return;
    if (c->bev && c->params.abortive_close && c->connected) {
        struct linger lg = {1, 0};
        setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->deadline)
        event_free(c->deadline);
    free(c);
}

const char *net_client_peer(const struct net_client *c)
{
    return c->peer;
}

uint64_t net_client_elapsed_us(const struct net_client *c)
{
    return timespec_diff_us(&c->started, &c->ended);
}
