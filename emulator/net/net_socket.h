/* Socket helpers shared by the client (netclient) and the host (host_server). */
#ifndef KMSLOAD_NET_SOCKET_H
#define KMSLOAD_NET_SOCKET_H

#include <event2/event.h>

/* An event base tuned for many short connections: epoll changes are batched per loop iteration
 * (a connection's add/modify/delete often cancel out), saving system calls. */
struct event_base *net_event_base_new(void);

/* A non-blocking, close-on-exec TCP socket of family; -1 with errno set. */
evutil_socket_t net_socket_new(int family);

/* Makes close() send RST instead of FIN (SO_LINGER 0): no TIME_WAIT for thousands of short
 * connections a second, and an abrupt end for a connection that is dropped on purpose. */
void net_socket_reset_on_close(evutil_socket_t fd);

#endif
