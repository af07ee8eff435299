#include "http_server.h"

#include "conn_list.h"
#include "net.h"
#include "net_socket.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum conn_state {
    CONN_IDLE,     /* waiting for a request's first byte */
    CONN_HEAD,     /* reading a request head; its deadline runs */
    CONN_HANDLING, /* the handler has the request; nothing is read */
    CONN_WRITING,  /* the answer is going out; nothing is read */
    CONN_CLOSING,  /* answered with Connection: close; draining until the client closes */
};

struct http_request {
    struct http_conn *conn;
    bool head;   /* HEAD: no body in the answer */
    bool keep;   /* keep the connection after this answer */
    char *path;  /* into conn->head */
    char *query; /* into conn->head, "" when none */
    void (*abandon)(void *arg);
    void *abandon_arg;
};

struct http_conn {
    struct http_server *srv;
    struct bufferevent *bev;
    struct event *timer; /* idle or head deadline, or the closing grace period */
    enum conn_state state;
    unsigned requests;       /* answered on this connection */
    struct http_request req; /* the one in the handler's hands (state CONN_HANDLING) */
    char *head;              /* max_head + 1 bytes: the request head being handled */
    struct conn_link link;   /* in the server's connections, by activity */
};

struct http_server {
    struct event_base *base;
    struct http_server_config cfg;
    http_handler_fn handler;
    void *arg;
    struct evconnlistener *listener;
    struct sockaddr_storage bound;
    struct conn_list conns;
    struct http_server_stats stats;
    unsigned configured_cap; /* from the configuration and the open-file limit */
    struct event *resume_accepting;
    bool paused; /* accepting paused after accept() failed, until resume_accepting fires */
    uint64_t last_warn_us;
    unsigned failures_unreported;
};

/* Grace for a client to read a final answer before its connection is closed for good. */
#define CLOSING_GRACE_MS 2000

void http_server_config_default(struct http_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_connections = 64;
    cfg->max_head = 8192;
    cfg->max_requests = 100;
    cfg->head_timeout.tv_sec = 5;
    cfg->idle_timeout.tv_sec = 15;
    cfg->write_timeout.tv_sec = 10;
    cfg->accept_pause.tv_usec = 250000;
    cfg->warn_interval.tv_sec = 10;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct http_conn *conn_of(struct conn_link *link)
{
    return link ? CONN_LIST_ENTRY(link, struct http_conn, link) : NULL;
}

static void conn_free(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    if (c->state == CONN_HANDLING && c->req.abandon) {
        void (*fn)(void *) = c->req.abandon;
        c->req.abandon = NULL;
        fn(c->req.abandon_arg);
    }
    conn_list_remove(&srv->conns, &c->link);
    srv->stats.open = srv->conns.count;
    if (srv->stats.cap < srv->configured_cap && srv->stats.open < srv->stats.cap / 2)
        srv->stats.cap = srv->configured_cap; /* the load went down: learn again if need be */
    if (c->timer)
        event_free(c->timer);
    if (c->bev)
        bufferevent_free(c->bev);
    free(c->head);
    free(c);
}

/*
 * The connection to close for a newcomer: one that never completed a request (a trickling or
 * silent client) before one that did (a scraper between scrapes), the least recent first; one
 * whose request is being handled last of all.
 */
static struct http_conn *eviction_victim(struct http_server *srv)
{
    for (struct conn_link *l = srv->conns.idlest; l; l = l->newer) {
        struct http_conn *c = conn_of(l);
        if (c->requests == 0 && (c->state == CONN_IDLE || c->state == CONN_HEAD))
            return c;
    }
    for (struct conn_link *l = srv->conns.idlest; l; l = l->newer) {
        struct http_conn *c = conn_of(l);
        if (c->state == CONN_IDLE || c->state == CONN_HEAD || c->state == CONN_CLOSING)
            return c;
    }
    return conn_of(srv->conns.idlest);
}

static void arm_timer(struct http_conn *c, const struct timeval *tv)
{
    event_add(c->timer, tv);
}

static void process_input(struct http_conn *c);

/* Answered with Connection: close: no more writing; read and drop what the client still sends
 * (closing with unread input would reset the connection and could destroy the answer in
 * flight), until it closes or the grace period ends. */
static void start_closing(struct http_conn *c)
{
    c->state = CONN_CLOSING;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    evbuffer_drain(bufferevent_get_input(c->bev),
                   evbuffer_get_length(bufferevent_get_input(c->bev)));
    bufferevent_enable(c->bev, EV_READ);
    struct timeval grace = {CLOSING_GRACE_MS / 1000, (CLOSING_GRACE_MS % 1000) * 1000};
    arm_timer(c, &grace);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd, (void)what;
    if (c->state == CONN_HEAD)
        c->srv->stats.refused++; /* too slow: the deadline ran from its first byte */
    conn_free(c);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

/* The answer to a request this server refuses itself; the connection then closes. */
static void refuse(struct http_conn *c, int status, const char *extra, const char *why)
{
    c->srv->stats.refused++;
    event_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
    c->state = CONN_HANDLING;
    c->req.conn = c;
    c->req.keep = false;
    c->req.abandon = NULL;
    char body[256];
    int n = snprintf(body, sizeof body, "%s\n", why);
    http_reply(&c->req, status, "text/plain; charset=utf-8", extra, body, (size_t)n);
}

static bool token_in(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Parses the head in c->head (NUL-terminated, ends with an empty line) and hands it on. */
static void handle_head(struct http_conn *c, size_t len)
{
    char *head = c->head;
    if (memchr(head, '\0', len)) {
        refuse(c, 400, NULL, "bad request: NUL byte in the request head");
        return;
    }
    char *line_end = strchr(head, '\n'); /* the head ends with an empty line: there is one */
    char *rest = line_end + 1;
    if (line_end > head && line_end[-1] == '\r')
        line_end--;
    *line_end = '\0';
    /* "METHOD SP target SP HTTP/x.y" */
    char *sp1 = strchr(head, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ')) {
        refuse(c, 400, NULL, "bad request line");
        return;
    }
    *sp1 = *sp2 = '\0';
    const char *method = head, *version = sp2 + 1;
    char *target = sp1 + 1;
    bool http10 = strcmp(version, "HTTP/1.0") == 0;
    if (!http10 && strcmp(version, "HTTP/1.1") != 0) {
        if (strncmp(version, "HTTP/", 5) == 0)
            refuse(c, 505, NULL, "HTTP/1.0 and HTTP/1.1 only");
        else
            refuse(c, 400, NULL, "bad request line");
        return;
    }
    bool keep = !http10, body = false;
    for (char *line = rest; *line && *line != '\r' && *line != '\n';) {
        char *end = strchr(line, '\n');
        char *next = end ? end + 1 : line + strlen(line);
        if (end) {
            *end = '\0';
            if (end > line && end[-1] == '\r')
                end[-1] = '\0';
        }
        char *colon = strchr(line, ':');
        if (line[0] == ' ' || line[0] == '\t' || !colon || colon == line) {
            refuse(c, 400, NULL, "bad header line");
            return;
        }
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (strcasecmp(line, "Connection") == 0) {
            if (token_in(value, "close"))
                keep = false;
            else if (token_in(value, "keep-alive"))
                keep = true;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            body = true;
        } else if (strcasecmp(line, "Content-Length") == 0) {
            if (strspn(value, "0") != strlen(value) || !*value)
                body = true;
        }
        line = next;
    }
    bool get = strcmp(method, "GET") == 0, head_req = strcmp(method, "HEAD") == 0;
    if (!get && !head_req) {
        refuse(c, 405, "Allow: GET, HEAD\r\n", "only GET and HEAD");
        return;
    }
    if (body) {
        refuse(c, 413, NULL, "a request body is not accepted here");
        return;
    }
    /* Absolute form "http://host/path": the path alone. */
    if (strncasecmp(target, "http://", 7) == 0) {
        char *slash = strchr(target + 7, '/');
        target = slash ? slash : (char *)"/";
    }
    if (target[0] != '/') {
        refuse(c, 400, NULL, "bad request target");
        return;
    }
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    char *frag = strchr(q ? q : target, '#');
    if (frag)
        *frag = '\0';
    c->state = CONN_HANDLING;
    c->req.conn = c;
    c->req.head = head_req;
    c->req.keep = keep;
    c->req.path = target;
    c->req.query = q ? q : (char *)"";
    c->req.abandon = NULL;
    c->req.abandon_arg = NULL;
    c->srv->handler(&c->req, c->srv->arg);
}

/* Reads at most one request head from the input and handles it. */
static void process_input(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    /* Blank lines before a request are allowed (RFC 9112 §2.2). */
    for (;;) {
        unsigned char first[2];
        ssize_t got = evbuffer_copyout(in, first, 2);
        if (got >= 1 && first[0] == '\n')
            evbuffer_drain(in, 1);
        else if (got == 2 && first[0] == '\r' && first[1] == '\n')
            evbuffer_drain(in, 2);
        else
            break;
    }
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return;
    if (c->state == CONN_IDLE) {
        c->state = CONN_HEAD;
        arm_timer(c, &srv->cfg.head_timeout); /* from the first byte; more bytes do not extend it */
    }
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    size_t head_len = 0;
    if (end.pos >= 0)
        head_len = (size_t)end.pos + 4;
    struct evbuffer_ptr lf = evbuffer_search(in, "\n\n", 2, NULL);
    if (lf.pos >= 0 && (head_len == 0 || (size_t)lf.pos + 2 < head_len))
        head_len = (size_t)lf.pos + 2;
    if (head_len == 0 || head_len > srv->cfg.max_head) {
        if (head_len > srv->cfg.max_head || len >= srv->cfg.max_head)
            refuse(c, 431, NULL, "request head too large");
        return; /* wait for the rest (the watermark stops reading at max_head) */
    }
    evbuffer_remove(in, c->head, head_len);
    c->head[head_len] = '\0';
    event_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
    handle_head(c, head_len);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (c->state == CONN_CLOSING) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->state == CONN_IDLE || c->state == CONN_HEAD)
        process_input(c);
}

/* The answer is out: next request, or close. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (c->state != CONN_WRITING)
        return;
    c->requests++;
    c->srv->stats.requests++;
    if (!c->req.keep) {
        start_closing(c);
        return;
    }
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    c->state = CONN_IDLE;
    conn_list_touch(&c->srv->conns, &c->link);
    arm_timer(c, &c->srv->cfg.idle_timeout);
    bufferevent_enable(c->bev, EV_READ);
    process_input(c); /* a pipelined request already read */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if ((what & BEV_EVENT_TIMEOUT) && c->state == CONN_WRITING)
        c->srv->stats.refused++; /* the client did not take its answer */
    conn_free(c);
}

void http_reply(struct http_request *req, int status, const char *content_type,
                const char *extra_headers, const void *body, size_t len)
{
    struct http_conn *c = req->conn;
    struct http_server *srv = c->srv;
    if (c->requests + 1 >= srv->cfg.max_requests)
        req->keep = false;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Connection: %s\r\n%s\r\n",
                        status, reason_phrase(status), content_type, len,
                        req->keep ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    if (!req->head && len)
        evbuffer_add(out, body, len);
    req->abandon = NULL;
    c->state = CONN_WRITING;
    bufferevent_set_timeouts(c->bev, NULL, &srv->cfg.write_timeout);
    bufferevent_enable(c->bev, EV_WRITE);
}

void http_request_on_abandon(struct http_request *req, void (*fn)(void *arg), void *arg)
{
    req->abandon = fn;
    req->abandon_arg = arg;
}

const char *http_request_path(const struct http_request *req)
{
    return req->path;
}

const char *http_request_query(const struct http_request *req)
{
    return req->query;
}

bool http_request_is_head(const struct http_request *req)
{
    return req->head;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int http_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t o = 0;
            for (size_t i = kl + 1; i < n; i++) {
                int ch = (unsigned char)p[i];
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%') {
                    int hi = i + 2 < n ? hex_value(p[i + 1]) : -1;
                    int lo = i + 2 < n ? hex_value(p[i + 2]) : -1;
                    if (hi < 0 || lo < 0)
                        return -1;
                    ch = hi * 16 + lo;
                    i += 2;
                }
                if (ch == 0 || o + 1 >= cap)
                    return -1;
                out[o++] = (char)ch;
            }
            out[o] = '\0';
            return 1;
        }
        if (n == kl && strncmp(p, key, kl) == 0) {
            if (cap == 0)
                return -1;
            out[0] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void set_accepting(struct http_server *srv, bool on)
{
    if (on)
        evconnlistener_enable(srv->listener);
    else
        evconnlistener_disable(srv->listener);
}

static void on_resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *srv = arg;
    (void)fd, (void)what;
    srv->paused = false;
    set_accepting(srv, true);
}

/*
 * accept() failed (libevent retries the transient failures itself): typically out of
 * descriptors, where the listener would be ready again at once and spin. Close a connection so
 * the next newcomer finds a descriptor, admit no more than are open now (so the descriptors
 * left stay for the KMS side), pause, and say so at most once per interval with a count.
 */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct http_server *srv = arg;
    int e = EVUTIL_SOCKET_ERROR();
    (void)listener;
    srv->stats.accept_pauses++;
    srv->failures_unreported++;
    bool out_of_fds = e == EMFILE || e == ENFILE;
    if (out_of_fds && srv->conns.idlest) {
        srv->stats.evicted++;
        conn_free(eviction_victim(srv));
        srv->stats.cap = srv->stats.open > 0 ? srv->stats.open : 1;
    }
    set_accepting(srv, false);
    srv->paused = true;
    evtimer_add(srv->resume_accepting, &srv->cfg.accept_pause);
    uint64_t now = mono_us();
    uint64_t interval = (uint64_t)srv->cfg.warn_interval.tv_sec * 1000000u +
                        (uint64_t)srv->cfg.warn_interval.tv_usec;
    if (!srv->cfg.warn || (srv->last_warn_us && now - srv->last_warn_us < interval))
        return;
    char msg[320];
    snprintf(msg, sizeof msg,
             "metrics: cannot accept connections: %s; accepting paused for %ld ms each time "
             "(%u time%s since the last message), %u connection%s admitted%s",
             strerror(e),
             (long)(srv->cfg.accept_pause.tv_sec * 1000 + srv->cfg.accept_pause.tv_usec / 1000),
             srv->failures_unreported, srv->failures_unreported == 1 ? "" : "s", srv->stats.cap,
             srv->stats.cap == 1 ? "" : "s",
             out_of_fds ? "; raise the open-file limit (ulimit -n)" : "");
    srv->cfg.warn(msg, srv->cfg.warn_arg);
    srv->last_warn_us = now;
    srv->failures_unreported = 0;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct http_server *srv = arg;
    (void)listener, (void)sa, (void)socklen;
    srv->stats.connections++;
    if (srv->stats.open >= srv->stats.cap && srv->conns.idlest) {
        srv->stats.evicted++;
        conn_free(eviction_victim(srv));
        /* Full: one newcomer per loop iteration, so the connections just admitted get their
         * requests read before a flood of newcomers pushes them out. */
        if (!srv->paused) {
            set_accepting(srv, false);
            event_active(srv->resume_accepting, EV_TIMEOUT, 1);
        }
    }
    struct http_conn *c = calloc(1, sizeof *c);
    if (c) {
        c->srv = srv;
        c->head = malloc(srv->cfg.max_head + 1);
        c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
        c->timer = evtimer_new(srv->base, on_timer, c);
    }
    if (!c || !c->head || !c->bev || !c->timer) {
        if (c && c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c) {
            if (c->timer)
                event_free(c->timer);
            free(c->head);
            free(c);
        }
        return;
    }
    c->state = CONN_IDLE;
    conn_list_add(&srv->conns, &c->link);
    srv->stats.open = srv->conns.count;
    /* Reading stops once a head's worth is buffered: memory per connection stays bounded
     * however much the client sends. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, srv->cfg.max_head);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ);
    arm_timer(c, &srv->cfg.idle_timeout);
}

/* No more connections than a quarter of the open-file limit: the rest stay for the KMS side. */
static unsigned fit_descriptors(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    rlim_t quarter = rl.rlim_cur / 4;
    if (quarter < 1)
        quarter = 1;
    return quarter < want ? (unsigned)quarter : want;
}

struct http_server *http_server_start(struct event_base *base, const struct sockaddr *sa,
                                      socklen_t sa_len, const struct http_server_config *cfg,
                                      http_handler_fn handler, void *arg, char *err, size_t err_len)
{
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    srv->base = base;
    srv->cfg = *cfg;
    conn_list_init(&srv->conns);
    if (srv->cfg.max_head < 64)
        srv->cfg.max_head = 64;
    if (srv->cfg.max_requests == 0)
        srv->cfg.max_requests = 1;
    srv->handler = handler;
    srv->arg = arg;
    srv->configured_cap = fit_descriptors(cfg->max_connections ? cfg->max_connections : 1);
    srv->stats.cap = srv->configured_cap;
    srv->resume_accepting = evtimer_new(base, on_resume_accepting, srv);
    char text[NET_ADDR_TEXT];
    net_addr_format(sa, text, sizeof text);
    evutil_socket_t fd = net_socket_new(sa->sa_family);
    int one = 1;
    if (!srv->resume_accepting || fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, sa, sa_len) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", text, strerror(errno));
        if (fd >= 0)
            close(fd);
        http_server_stop(srv);
        return NULL;
    }
    srv->listener = evconnlistener_new(base, on_accept, srv,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
    if (!srv->listener) {
        snprintf(err, err_len, "cannot listen on %s: %s", text, strerror(errno));
        close(fd);
        http_server_stop(srv);
        return NULL;
    }
    evconnlistener_set_error_cb(srv->listener, on_accept_error);
    socklen_t len = sizeof srv->bound;
    getsockname(fd, (struct sockaddr *)&srv->bound, &len);
    return srv;
}

const struct sockaddr *http_server_addr(const struct http_server *srv)
{
    return (const struct sockaddr *)&srv->bound;
}

void http_server_get_stats(const struct http_server *srv, struct http_server_stats *out)
{
    *out = srv->stats;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->listener)
        evconnlistener_free(srv->listener);
    while (srv->conns.latest)
        conn_free(conn_of(srv->conns.latest));
    if (srv->resume_accepting)
        event_free(srv->resume_accepting);
    free(srv);
}
