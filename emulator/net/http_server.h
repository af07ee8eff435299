/*
 * A small HTTP/1.1 server for the monitoring pages, bounded in everything a client controls:
 * GET and HEAD only, no request bodies, one request read at a time (pipelined requests wait in
 * the kernel until the answer before them is taken), a request head of at most max_head bytes
 * that must be whole within head_timeout of its first byte, an answer the client must take
 * within write_timeout, a cap on requests per connection and on connections (the connection
 * silent the longest makes room for a newcomer), and accept() failures (out of descriptors)
 * handled by pausing and learning how many connections fit, reported at most once per period.
 *
 * libevent's evhttp (2.1) buffers pipelined requests and answers without limit and logs every
 * failed accept(); this server keeps a connection's memory to one request head and one answer.
 */
#ifndef KMSLOAD_HTTP_SERVER_H
#define KMSLOAD_HTTP_SERVER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A problem worth an operator's attention, already rate-limited (at most once per period). */
typedef void (*http_warn_fn)(const char *message, void *arg);

struct http_server_config {
    unsigned max_connections;     /* open at once (default 64) */
    size_t max_head;              /* request line and headers (default 8192 bytes) */
    unsigned max_requests;        /* per connection, then it is closed (default 100) */
    struct timeval head_timeout;  /* first byte to the whole head (default 5 s) */
    struct timeval idle_timeout;  /* between requests on a kept-alive connection (15 s) */
    struct timeval write_timeout; /* an answer not taken by the client this long (10 s) */
    struct timeval accept_pause;  /* stop accepting this long after accept() fails (250 ms) */
    struct timeval warn_interval; /* at most one message per interval (10 s) */
    http_warn_fn warn;            /* NULL: failures are only counted */
    void *warn_arg;
};

void http_server_config_default(struct http_server_config *cfg);

struct http_server_stats {
    uint64_t connections;   /* accepted */
    uint64_t evicted;       /* closed to make room (cap reached or out of descriptors) */
    uint64_t requests;      /* answered */
    uint64_t refused;       /* bad, too large or too slow requests, unsupported methods */
    uint64_t accept_pauses; /* accept() failures */
    unsigned open;          /* connections open now */
    unsigned cap;           /* connections admitted now (lower than configured after EMFILE) */
};

struct http_server;
struct http_request;

/*
 * Called once per request, on the server's loop. It answers with http_reply, now or later (the
 * request stays valid until answered or abandoned; see http_request_on_abandon).
 */
typedef void (*http_handler_fn)(struct http_request *req, void *arg);

/* Binds sa (port 0: a free port) and serves on base. NULL with a message on failure. */
struct http_server *http_server_start(struct event_base *base, const struct sockaddr *sa,
                                      socklen_t sa_len, const struct http_server_config *cfg,
                                      http_handler_fn handler, void *arg, char *err,
                                      size_t err_len);
/* The address bound, with its real port. */
const struct sockaddr *http_server_addr(const struct http_server *srv);
void http_server_get_stats(const struct http_server *srv, struct http_server_stats *out);
/* Closes the listener and every connection (pending requests are abandoned first). NULL fine. */
void http_server_stop(struct http_server *srv);

/* The request: "/metrics", the query without '?' ("" when none), HEAD or GET. */
const char *http_request_path(const struct http_request *req);
const char *http_request_query(const struct http_request *req);
bool http_request_is_head(const struct http_request *req);
/*
 * Looks up key in the query string ("target=a&module=b"), percent-decoding the value into out.
 * Returns 1 when found, 0 when absent, -1 when the value is malformed or longer than cap - 1.
 */
int http_query_get(const char *query, const char *key, char *out, size_t cap);

/*
 * Answers req and forgets it: status line, Content-Type, Content-Length, the optional extra
 * header lines (each ending in "\r\n"), the body (left out for HEAD). req is invalid afterwards.
 */
void http_reply(struct http_request *req, int status, const char *content_type,
                const char *extra_headers, const void *body, size_t len);
/*
 * For a request answered later: fn(arg) runs if the connection closes (client gone, server
 * stopping) before http_reply; req is invalid from then on and must not be answered.
 */
void http_request_on_abandon(struct http_request *req, void (*fn)(void *arg), void *arg);

#endif
