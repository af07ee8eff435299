#include "netclient.h"

#include "net_socket.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Room for a whole PDU plus the start of the next one (hosts may pipeline nothing, but a
 * garbling host may send anything). */
#define NET_CLIENT_INBUF (2 * RPC_MAX_PDU)

/*
 * One connection on a raw non-blocking socket with a single libevent event: the conversation
 * is strictly request/answer and every PDU fits one send, so no stream buffering is needed and
 * each activation costs the fewest system calls (a load generator opens thousands a second).
 */
struct net_client {
    struct event_base *base;
    struct net_client_params params;
    evutil_socket_t fd;
    struct event *io; /* EV_WRITE while connecting, then EV_READ | EV_PERSIST */
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
    struct client_session ex;
    uint8_t in[NET_CLIENT_INBUF];
    size_t in_len;
    net_client_done_fn done;
    void *arg;
};

static uint64_t timespec_diff_us(const struct timespec *a, const struct timespec *b)
{
    return (uint64_t)((b->tv_sec - a->tv_sec) * 1000000LL + (b->tv_nsec - a->tv_nsec) / 1000);
}

static void close_socket(struct net_client *c)
{
    if (c->io) {
        event_free(c->io);
        c->io = NULL;
    }
    if (c->fd >= 0) {
        evutil_closesocket(c->fd);
        c->fd = -1;
    }
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
    if (c->io && c->ex.state != CLIENT_SESSION_IDLE)
        event_del(c->io);
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
    client_session_fail(&c->ex, outcome, detail);
    finish(c);
}

/* Every PDU is far below the socket buffer, so a send either takes it whole or the peer is
 * gone: returns 0 or the errno (EMSGSIZE for a partial send). Never fails the exchange itself,
 * so callers decide while the client is certainly still alive. */
static int send_pdu(struct net_client *c, const uint8_t *pdu, size_t len)
{
    ssize_t n = send(c->fd, pdu, len, MSG_NOSIGNAL);
    if (n == (ssize_t)len)
        return 0;
    return n < 0 ? errno : EMSGSIZE;
}

static void try_next_address(struct net_client *c);

static void on_readable(struct net_client *c)
{
    { /* one recv per readiness event: epoll reports again if more is waiting */
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            event_del(c->io); /* before fail(): the done callback may free c */
            if (c->finished)
                c->broken = true;
            else if (n == 0)
                fail(c, KMS_OUTCOME_CLOSED, "host %s closed the connection before answering",
                     c->peer);
            else if (e == ECONNRESET || e == EPIPE)
                fail(c, KMS_OUTCOME_RESET, "connection to %s reset", c->peer);
            else
                fail(c, KMS_OUTCOME_RESET, "connection to %s failed: %s", c->peer, strerror(e));
            return;
        }
        if (c->finished) {
            c->broken = true; /* nothing is due from an idle connection */
            event_del(c->io);
            return;
        }
        c->in_len += (size_t)n;
        /* Hand every whole PDU to the exchange. */
        while (!c->finished && c->in_len >= RPC_HEADER_LEN) {
            struct proto_err err = {0};
            int frame = rpc_frame_length(c->in, c->in_len, &err);
            if (frame < 0) {
                client_session_fail(&c->ex, KMS_OUTCOME_PROTOCOL_ERROR, err.detail);
                c->ex.result.err.code = err.code;
                finish(c);
                return;
            }
            if ((size_t)frame > c->in_len)
                break; /* the rest of the PDU is still on its way */
            uint8_t out[RPC_MAX_PDU];
            size_t out_len = 0;
            enum client_session_step step =
                client_session_receive(&c->ex, c->in, (size_t)frame, out, sizeof out, &out_len);
            memmove(c->in, c->in + frame, c->in_len - (size_t)frame);
            c->in_len -= (size_t)frame;
            if (step == CLIENT_SESSION_DONE) {
                finish(c);
                return;
            }
            int e = send_pdu(c, out, out_len);
            if (e) {
                fail(c, KMS_OUTCOME_RESET, "sending to %s failed: %s", c->peer, strerror(e));
                return;
            }
        }
        if (c->in_len == sizeof c->in) {
            fail(c, KMS_OUTCOME_PROTOCOL_ERROR, "host %s sent more than a PDU can hold", c->peer);
            return;
        }
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct net_client *c = arg;
    (void)fd;
    if (!c->connected && (what & EV_WRITE)) {
        /* Connected (or refused): the first send tells which, without asking the socket. */
        uint8_t out[RPC_MAX_PDU];
        size_t len = 0;
        struct proto_err err = {0};
        if (client_session_begin(&c->ex, &c->params.options, &c->request, c->w_req, out, sizeof out,
                                 &len, &err)) {
            fail(c, KMS_OUTCOME_PROTOCOL_ERROR, "cannot encode the request: %s", err.detail);
            return;
        }
        int e = send_pdu(c, out, len);
        if (e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH || e == ETIMEDOUT) {
            c->last_errno = e; /* the connect failed: try the next address */
            try_next_address(c);
            return;
        }
        if (e) {
            fail(c, KMS_OUTCOME_RESET, "sending to %s failed: %s", c->peer, strerror(e));
            return;
        }
        c->connected = true;
        event_del(c->io);
        event_assign(c->io, c->base, c->fd, EV_READ | EV_PERSIST, on_io, c);
        event_add(c->io, NULL);
        return;
    }
    if (what & EV_READ)
        on_readable(c);
}

static void try_next_address(struct net_client *c)
{
    close_socket(c);
    while (c->next_addr < c->params.addrs->n) {
        size_t i = c->next_addr++;
        const struct sockaddr *sa = (const struct sockaddr *)&c->params.addrs->addr[i];
        net_addr_format(sa, c->peer, sizeof c->peer);
        c->fd = net_socket_new(sa->sa_family);
        if (c->fd < 0) {
            c->last_errno = errno;
            continue;
        }
        if (connect(c->fd, sa, c->params.addrs->len[i]) != 0 && errno != EINPROGRESS) {
            c->last_errno = errno;
            close_socket(c);
            continue;
        }
        c->io = event_new(c->base, c->fd, EV_WRITE, on_io, c);
        if (!c->io) {
            fail(c, KMS_OUTCOME_LOCAL_ERROR, "out of memory");
            return;
        }
        event_add(c->io, NULL);
        return; /* on_io reports the outcome */
    }
    if (!c->peer[0]) /* not one address was tried */
        fail(c, KMS_OUTCOME_DNS_ERROR, "no address to connect to");
    else
        fail(c, kms_outcome_of_connect_errno(c->last_errno), "cannot connect to %s: %s", c->peer,
             c->last_errno ? strerror(c->last_errno) : "no address");
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
    struct net_client *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, offsetof(struct net_client, in)); /* the input buffer needs no clearing */
    c->in_len = 0;
    c->fd = -1;
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
    if (!c->finished || c->broken || c->fd < 0 || c->ex.state != CLIENT_SESSION_IDLE)
        return -1;
    uint8_t out[RPC_MAX_PDU];
    size_t len = 0;
    c->request = *req;
    memcpy(c->w_req, w_req, 16);
    if (client_session_next_request(&c->ex, &c->request, c->w_req, out, sizeof out, &len, NULL) !=
        0)
        return -1;
    c->done = done;
    c->arg = arg;
    c->finished = false;
    c->in_len = 0;
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    evtimer_add(c->deadline, &c->params.timeout);
    if (send_pdu(c, out, len) != 0) {
        /* The host dropped the idle connection meanwhile: nothing was reported, start anew. */
        event_del(c->deadline);
        c->finished = true;
        c->broken = true;
        return -1;
    }
    return 0;
}

void net_client_free(struct net_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0 && c->params.abortive_close && c->connected)
        net_socket_reset_on_close(c->fd);
    close_socket(c);
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
