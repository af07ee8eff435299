#include "host_server.h"

#include "conn_list.h"
#include "host_session.h"
#include "net_socket.h"

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
    struct event *io;    /* EV_READ | EV_PERSIST, timing out after the idle timeout, or sooner
                          * when a partial PDU's deadline comes first */
    struct event *delay; /* latency fault: answer held back until it fires */
    struct host_session session;
    uint8_t in[2 * RPC_MAX_PDU];
    size_t in_len;
    uint8_t held[RPC_MAX_PDU];
    size_t held_len;
    enum host_fault held_fault;
    uint64_t held_since_us; /* when the held request was read whole (answered hook) */
    bool stalled;
    uint64_t pdu_deadline_us; /* monotonic time a partial PDU must be whole by; 0: none */
    bool timer_is_deadline;   /* io's timeout was set from pdu_deadline_us, not the idle timeout */
    char peer[NET_ADDR_TEXT];
    struct conn_link link; /* in the server's connections, by activity */
};

struct host_server {
    struct event_base *base;
    struct kms_host *host;
    struct host_server_config cfg;
    struct evconnlistener *listeners[HOST_SERVER_MAX_LISTENERS];
    struct sockaddr_storage bound[HOST_SERVER_MAX_LISTENERS];
    size_t n_listeners;
    struct conn_list conns;
    unsigned fd_cap; /* connections that fit the descriptors left, learnt from EMFILE; 0: none */
    struct pcg32 fault_rng;
    struct event *resume_accepting; /* timer ending a pause after accept() failed */
    uint64_t last_warn_us;          /* when the last accept failure was reported; 0: never */
    unsigned pauses_unreported;     /* pauses since that report */
};

/* At most one message about failing accept() calls per this interval. */
#define ACCEPT_WARN_INTERVAL_US (10 * 1000000ULL)

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t timeval_us(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

static struct timeval us_timeval(uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    return tv;
}

void host_server_config_default(struct host_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_connections = 10000;
    cfg->idle_timeout.tv_sec = 30;
    cfg->pdu_timeout.tv_sec = 5;
    cfg->accept_pause.tv_usec = 250000;
}

static uint16_t sockaddr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static struct host_conn *idlest_conn(const struct host_server *srv)
{
    return srv->conns.idlest ? CONN_LIST_ENTRY(srv->conns.idlest, struct host_conn, link) : NULL;
}

static void conn_free(struct host_conn *c)
{
    struct host_server *srv = c->srv;
    conn_list_remove(&srv->conns, &c->link);
    if (srv->fd_cap && srv->conns.count < srv->fd_cap / 2)
        srv->fd_cap = 0; /* the load went down: descriptors may be back, learn again if not */
    if (c->delay)
        event_free(c->delay);
    if (c->io)
        event_free(c->io);
    evutil_closesocket(c->fd);
    free(c);
}

static void conn_reset(struct host_conn *c)
{
    net_socket_reset_on_close(c->fd);
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

static bool process_input(struct host_conn *c);

/*
 * Sets the read timeout: the idle timeout, or while a PDU is partly in, the time left until it
 * must be whole (a request trickled in a byte at a time may not hold a slot for longer). The
 * timeout of a persistent event restarts on every read, so it is set again only when what it
 * measures changes. Returns false when c was freed (its deadline had passed).
 */
static bool conn_arm(struct host_conn *c, bool force)
{
    struct host_server *srv = c->srv;
    if (c->held_len > 0)
        return true; /* reading is off until the held answer goes out (on_delay arms again) */
    if (c->stalled)
        c->in_len = 0; /* input is discarded: only the idle timeout applies */
    if (c->in_len == 0) {
        c->pdu_deadline_us = 0;
        if (force || c->timer_is_deadline) {
            c->timer_is_deadline = false;
            event_add(c->io, &srv->cfg.idle_timeout);
        }
        return true;
    }
    uint64_t now = mono_us(), idle = timeval_us(&srv->cfg.idle_timeout);
    if (c->pdu_deadline_us == 0)
        c->pdu_deadline_us = now + timeval_us(&srv->cfg.pdu_timeout);
    if (now >= c->pdu_deadline_us) {
        srv->host->stats.pdu_timeouts++;
        conn_free(c);
        return false;
    }
    uint64_t left = c->pdu_deadline_us - now;
    struct timeval tv = us_timeval(left < idle ? left : idle);
    c->timer_is_deadline = true;
    event_add(c->io, &tv);
    return true;
}

/* Tells the answered hook about a request whose answer (or fault) is about to happen. */
static void report_answer(struct host_server *srv, enum host_fault fault, bool delayed,
                          uint64_t since_us)
{
    if (srv->cfg.answered) {
        uint64_t now = mono_us();
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
    if (process_input(c)) /* PDUs that arrived meanwhile */
        conn_arm(c, true);
}

/* Answers every whole PDU in the input buffer. Returns false when c was freed. */
static bool process_input(struct host_conn *c)
{
    struct host_server *srv = c->srv;
    uint8_t out[RPC_MAX_PDU];
    while (!c->stalled && c->held_len == 0 && c->in_len >= RPC_HEADER_LEN) {
        struct proto_err err = {0};
        int frame = rpc_frame_length(c->in, c->in_len, &err);
        if (frame < 0) {
            conn_free(c); /* not an RPC stream: close, keep serving everyone else */
            return false;
        }
        if ((size_t)frame > c->in_len)
            return true;
        uint64_t read_us = srv->cfg.answered ? mono_us() : 0;
        struct host_request_record rec;
        bool is_request = false;
        size_t out_len = 0;
        enum host_action action =
            host_session_feed(srv->host, &c->session, c->in, (size_t)frame, out, sizeof out,
                              &out_len, &rec, &is_request, &err);
        bool was_request = c->in[2] == RPC_REQUEST;
        memmove(c->in, c->in + frame, c->in_len - (size_t)frame);
        c->in_len -= (size_t)frame;
        c->pdu_deadline_us = 0; /* the next PDU's clock starts with its own first byte */
        if (action == HOST_ACTION_CLOSE) {
            conn_free(c);
            return false;
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
            return true;
        }
        if (is_request)
            report_answer(srv, fault, false, read_us);
        if (!deliver(c, out, out_len, fault))
            return false;
    }
    return true;
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct host_conn *c = arg;
    if (what & EV_TIMEOUT) {
        if (c->timer_is_deadline)
            c->srv->host->stats.pdu_timeouts++; /* a PDU begun but not finished in time */
        conn_free(c);                           /* or idle too long */
        return;
    }
    ssize_t n = recv(fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_free(c); /* EOF or error: the connection is over */
        return;
    }
    conn_list_touch(&c->srv->conns, &c->link);
    if (c->stalled) {
        c->in_len = 0;
        return;
    }
    /* Frames are capped at RPC_MAX_PDU and the buffer holds two, so a full buffer always
     * starts with a whole PDU (or garbage, which closes the connection). */
    c->in_len += (size_t)n;
    if (process_input(c))
        conn_arm(c, false);
}

static void set_accepting(struct host_server *srv, bool on)
{
    for (size_t i = 0; i < srv->n_listeners; i++) {
        if (on)
            evconnlistener_enable(srv->listeners[i]);
        else
            evconnlistener_disable(srv->listeners[i]);
    }
}

static void on_resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    set_accepting(arg, true);
}

/*
 * accept() failed for a reason other than a client giving up (libevent retries those itself):
 * typically out of descriptors (EMFILE/ENFILE), where the listener would otherwise be ready
 * again at once and spin. Close the longest-silent connection so the next client finds a
 * descriptor, pause accepting briefly, and say so at most once per interval, with a count.
 */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct host_server *srv = arg;
    int e = EVUTIL_SOCKET_ERROR();
    (void)listener;
    srv->host->stats.accept_pauses++;
    srv->pauses_unreported++;
    bool out_of_fds = e == EMFILE || e == ENFILE;
    if (out_of_fds && srv->conns.idlest) {
        srv->host->stats.connections_rejected++;
        conn_free(idlest_conn(srv));
        /* From now on admit only this many, so the next client's accept() finds the descriptor
         * just freed and another closes to make room (as when --max-connections is reached). */
        srv->fd_cap = srv->conns.count > 0 ? srv->conns.count : 1;
    }
    set_accepting(srv, false);
    evtimer_add(srv->resume_accepting, &srv->cfg.accept_pause);
    uint64_t now = mono_us();
    if (!srv->cfg.warn || (srv->last_warn_us && now - srv->last_warn_us < ACCEPT_WARN_INTERVAL_US))
        return;
    char msg[320];
    snprintf(msg, sizeof msg,
             "cannot accept connections: %s; accepting paused for %ld ms each time "
             "(%u time%s since the last message)%s",
             strerror(e), (long)(timeval_us(&srv->cfg.accept_pause) / 1000), srv->pauses_unreported,
             srv->pauses_unreported == 1 ? "" : "s",
             out_of_fds ? "; raise the open-file limit (ulimit -n) or lower --max-connections"
                        : "");
    srv->cfg.warn(msg, srv->cfg.warn_arg);
    srv->last_warn_us = now;
    srv->pauses_unreported = 0;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct host_server *srv = arg;
    (void)socklen;
    srv->host->stats.connections++;
    /* Full: the connection silent the longest makes room, so that holding every slot open (idle
     * or trickling bytes) cannot lock newcomers out; a KMS exchange takes milliseconds. */
    unsigned cap = srv->cfg.max_connections;
    if (srv->fd_cap && srv->fd_cap < cap)
        cap = srv->fd_cap;
    if (srv->conns.count >= cap && srv->conns.idlest) {
        srv->host->stats.connections_rejected++;
        conn_free(idlest_conn(srv));
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
    c->pdu_deadline_us = 0;
    c->timer_is_deadline = false;
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
    conn_list_add(&srv->conns, &c->link);
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
    conn_list_init(&srv->conns);
    pcg32_seed(&srv->fault_rng, host->cfg.seed, 0x6661756c74);
    srv->resume_accepting = evtimer_new(base, on_resume_accepting, srv);
    if (!srv->resume_accepting) {
        snprintf(err, err_len, "out of memory");
        host_server_stop(srv);
        return NULL;
    }
    for (size_t i = 0; i < cfg->listen.n && i < HOST_SERVER_MAX_LISTENERS; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen.addr[i];
        char text[NET_ADDR_TEXT];
        net_addr_format(sa, text, sizeof text);
        evutil_socket_t fd = net_socket_new(sa->sa_family);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            (sa->sa_family == AF_INET6 &&
             setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
            bind(fd, sa, cfg->listen.len[i]) != 0) {
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
        evconnlistener_set_error_cb(srv->listeners[srv->n_listeners], on_accept_error);
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
    return srv->conns.count;
}

void host_server_stop(struct host_server *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_free(srv->listeners[i]);
    while (srv->conns.latest)
        conn_free(CONN_LIST_ENTRY(srv->conns.latest, struct host_conn, link));
    if (srv->resume_accepting)
        event_free(srv->resume_accepting);
    free(srv);
}
