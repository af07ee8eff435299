#include "host_server.h"

#include "host_session.h"
#include "netclient.h"

#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * One client connection on a raw non-blocking socket with a single persistent read event whose
 * timeout is the idle timeout: every answer fits one send, so the host needs no stream buffers
 * and each activation costs the fewest system calls.
 */
struct host_conn {
    struct host_server *srv;
    evutil_socket_t fd;
    struct event *io;    /* EV_READ | EV_PERSIST, timing out after the idle timeout */
    struct event *delay; /* latency fault: answer held back until it fires */
    struct host_session session;
    uint8_t in[2 * RPC_MAX_PDU];
    size_t in_len;
    uint8_t held[RPC_MAX_PDU];
    size_t held_len;
    enum host_fault held_fault;
    uint64_t held_since_us; /* when the held request was read whole (answered hook) */
    bool stalled;
    char peer[NET_ADDR_TEXT];
    struct host_conn *prev, *next;
};

struct host_server {
    struct event_base *base;
    struct kms_host *host;
    struct host_server_config cfg;
    struct evconnlistener *listeners[HOST_SERVER_MAX_LISTENERS];
    struct sockaddr_storage bound[HOST_SERVER_MAX_LISTENERS];
    size_t n_listeners;
    struct host_conn *conns;
    unsigned n_conns;
    struct pcg32 fault_rng;
};

void host_server_config_default(struct host_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_connections = 10000;
    cfg->idle_timeout.tv_sec = 30;
}

static uint16_t sockaddr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static void conn_free(struct host_conn *c)
{
    struct host_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    if (c->delay)
        event_free(c->delay);
    if (c->io)
        event_free(c->io);
    evutil_closesocket(c->fd);
    free(c);
}

static void conn_reset(struct host_conn *c)
{
    /* SO_LINGER with a zero timeout makes close() send RST instead of FIN. */
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_free(c);
}

/* Answers are far below the socket buffer: a send takes them whole or the client is gone. */
static bool conn_send(struct host_conn *c, const uint8_t *data, size_t len)
{
    return send(c->fd, data, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* Sends an answer, applying the request's fault. Returns false when c was freed. */
static bool deliver(struct host_conn *c, uint8_t *pdu, size_t len, enum host_fault fault)
{
    switch (fault) {
    case HOST_FAULT_DROP:
        conn_free(c);
        return false;
    case HOST_FAULT_RESET:
        conn_reset(c);
        return false;
    case HOST_FAULT_STALL:
        /* Keep the connection and never answer; reading goes on (input is discarded) so the
         * peer's close and the idle timeout still end it instead of leaking a slot. */
        c->stalled = true;
        return true;
    case HOST_FAULT_GARBLE:
        for (size_t i = RPC_HEADER_LEN; i < len; i += 7)
            pdu[i] ^= 0x5a; /* keep the header so the client reads a whole, wrong PDU */
        break;
    case HOST_FAULT_WRONG_CALL_ID:
        pdu[12] ^= 0x01;
        break;
    case HOST_FAULT_TRUNCATE:
        conn_send(c, pdu, len / 2); /* then close: the half goes out before the FIN */
        conn_free(c);
        return false;
    case HOST_FAULT_NONE:
    case HOST_FAULT__COUNT:
        break;
    }
    if (!conn_send(c, pdu, len)) {
        conn_free(c);
        return false;
    }
    return true;
}

static void process_input(struct host_conn *c);

static uint64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Tells the answered hook about a request whose answer (or fault) is about to happen. */
static void report_answer(struct host_server *srv, enum host_fault fault, bool delayed,
                          uint64_t since_us)
{
    if (srv->cfg.answered) {
        uint64_t now = monotonic_us();
        srv->cfg.answered(fault, delayed, now > since_us ? now - since_us : 0,
                          srv->cfg.answered_arg);
    }
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    struct host_conn *c = arg;
    (void)fd, (void)what;
    size_t len = c->held_len;
    c->held_len = 0;
    report_answer(c->srv, c->held_fault, true, c->held_since_us);
    if (!deliver(c, c->held, len, c->held_fault))
        return;
    event_add(c->io, &c->srv->cfg.idle_timeout);
    process_input(c); /* PDUs that arrived meanwhile */
}

/* Answers every whole PDU in the input buffer. Returns with c possibly freed. */
static void process_input(struct host_conn *c)
{
    struct host_server *srv = c->srv;
    uint8_t out[RPC_MAX_PDU];
    while (!c->stalled && c->held_len == 0 && c->in_len >= RPC_HEADER_LEN) {
        struct proto_err err = {0};
        int frame = rpc_frame_length(c->in, c->in_len, &err);
        if (frame < 0) {
            conn_free(c); /* not an RPC stream: close, keep serving everyone else */
            return;
        }
        if ((size_t)frame > c->in_len)
            return;
        uint64_t read_us = srv->cfg.answered ? monotonic_us() : 0;
        struct host_request_record rec;
        bool is_request = false;
        size_t out_len = 0;
        enum host_action action =
            host_session_feed(srv->host, &c->session, c->in, (size_t)frame, out, sizeof out,
                              &out_len, &rec, &is_request, &err);
        bool was_request = c->in[2] == RPC_REQUEST;
        memmove(c->in, c->in + frame, c->in_len - (size_t)frame);
        c->in_len -= (size_t)frame;
        if (action == HOST_ACTION_CLOSE) {
            conn_free(c);
            return;
        }
        if (is_request && srv->cfg.log && was_request && out[2] != RPC_FAULT)
            srv->cfg.log(&rec, c->peer, srv->cfg.log_arg);
        enum host_fault fault = HOST_FAULT_NONE;
        int64_t delay_us = 0;
        if (is_request) {
            fault = host_faults_draw(&srv->cfg.faults, &srv->fault_rng);
            delay_us = host_faults_latency(&srv->cfg.faults, &srv->fault_rng);
        }
        if (delay_us > 0) {
            if (!c->delay)
                c->delay = evtimer_new(srv->base, on_delay, c);
            memcpy(c->held, out, out_len);
            c->held_len = out_len;
            c->held_fault = fault;
            c->held_since_us = read_us;
            event_del(c->io); /* one call at a time, as a KMS client makes them */
            struct timeval tv = {(time_t)(delay_us / 1000000), (suseconds_t)(delay_us % 1000000)};
            evtimer_add(c->delay, &tv);
            return;
        }
        if (is_request)
            report_answer(srv, fault, false, read_us);
        if (!deliver(c, out, out_len, fault))
            return;
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct host_conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_free(c); /* idle too long */
        return;
    }
    ssize_t n = recv(fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_free(c); /* EOF or error: the connection is over */
        return;
    }
    if (c->stalled) {
        c->in_len = 0;
        return;
    }
    /* Frames are capped at RPC_MAX_PDU and the buffer holds two, so a full buffer always
     * starts with a whole PDU (or garbage, which closes the connection). */
    c->in_len += (size_t)n;
    process_input(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct host_server *srv = arg;
    (void)socklen;
    srv->host->stats.connections++;
    if (srv->n_conns >= srv->cfg.max_connections) {
        srv->host->stats.connections_rejected++;
        evutil_closesocket(fd);
        return;
    }
    struct host_conn *c = malloc(sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    memset(c, 0, offsetof(struct host_conn, in));
    c->in_len = 0;
    c->held_len = 0;
    c->held_fault = HOST_FAULT_NONE;
    c->stalled = false;
    c->prev = c->next = NULL;
    c->srv = srv;
    c->fd = fd;
    c->io = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_io, c);
    if (!c->io) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    net_addr_format(sa, c->peer, sizeof c->peer);
    /* The BIND_ACK names the port the client reached: the listener's own. */
    uint16_t port = 0;
    for (size_t i = 0; i < srv->n_listeners; i++)
        if (srv->listeners[i] == listener)
            port = sockaddr_port((const struct sockaddr *)&srv->bound[i]);
    host_session_init(&c->session, port);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    event_add(c->io, &srv->cfg.idle_timeout);
}

struct host_server *host_server_start(struct event_base *base, struct kms_host *host,
                                      const struct host_server_config *cfg, char *err,
                                      size_t err_len)
{
    struct host_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    srv->base = base;
    srv->host = host;
    srv->cfg = *cfg;
    pcg32_seed(&srv->fault_rng, host->cfg.seed, 0x6661756c74);
    for (size_t i = 0; i < cfg->listen.n && i < HOST_SERVER_MAX_LISTENERS; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen.addr[i];
        char text[NET_ADDR_TEXT];
        net_addr_format(sa, text, sizeof text);
        evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM, 0);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            (sa->sa_family == AF_INET6 &&
             setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
            bind(fd, sa, cfg->listen.len[i]) != 0 || evutil_make_socket_nonblocking(fd) != 0) {
            snprintf(err, err_len, "cannot listen on %s: %s", text, strerror(errno));
            if (fd >= 0)
                close(fd);
            host_server_stop(srv);
            return NULL;
        }
        srv->listeners[srv->n_listeners] = evconnlistener_new(
            base, on_accept, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, SOMAXCONN, fd);
        if (!srv->listeners[srv->n_listeners]) {
            snprintf(err, err_len, "cannot listen on %s: %s", text, strerror(errno));
            close(fd);
            host_server_stop(srv);
            return NULL;
        }
        socklen_t len = sizeof srv->bound[0];
        getsockname(fd, (struct sockaddr *)&srv->bound[srv->n_listeners], &len);
        srv->n_listeners++;
    }
    if (srv->n_listeners == 0) {
        snprintf(err, err_len, "no address to listen on");
        host_server_stop(srv);
        return NULL;
    }
    return srv;
}

size_t host_server_listener_count(const struct host_server *srv)
{
    return srv->n_listeners;
}

const struct sockaddr *host_server_listener_addr(const struct host_server *srv, size_t i)
{
    return i < srv->n_listeners ? (const struct sockaddr *)&srv->bound[i] : NULL;
}

uint16_t host_server_port(const struct host_server *srv)
{
    return srv->n_listeners ? sockaddr_port((const struct sockaddr *)&srv->bound[0]) : 0;
}

unsigned host_server_open_connections(const struct host_server *srv)
{
    return srv->n_conns;
}

void host_server_stop(struct host_server *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_free(srv->listeners[i]);
    while (srv->conns)
        conn_free(srv->conns);
    free(srv);
}
