/* Addresses: parsing "host[:port]" targets, resolving them, printing socket addresses. */
#ifndef KMSLOAD_NET_H
#define KMSLOAD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_MAX_ADDRS 8
#define NET_HOST_MAX 256
#define NET_ADDR_TEXT 64
#define KMS_DEFAULT_PORT 1688

struct net_addrs {
    struct sockaddr_storage addr[NET_MAX_ADDRS];
    socklen_t len[NET_MAX_ADDRS];
    size_t n;
};

/*
 * Splits "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 literal into host and port
 * (default_port when absent). Returns 0, or -1 with a message naming the problem.
 */
int net_parse_target(const char *spec, uint16_t default_port, char *host, size_t host_cap,
                     uint16_t *port, char *err, size_t err_len);
/* Resolves host (AF_UNSPEC, every address in getaddrinfo order). Returns 0 or -1 with a message. */
int net_resolve(const char *host, uint16_t port, bool passive, struct net_addrs *out, char *err,
                size_t err_len);
enum net_target_status { NET_TARGET_OK, NET_TARGET_BAD, NET_TARGET_UNRESOLVED };
/* A target "HOST[:PORT]" (default port 1688) resolved into out, *loopback saying whether every
 * address is on loopback. offline: nothing is resolved (out empty), only an address literal can
 * say loopback. NET_TARGET_BAD (the text) or NET_TARGET_UNRESOLVED come with a message. */
int net_target_resolve(const char *text, bool offline, struct net_addrs *out, bool *loopback,
                       char *err, size_t err_len);
/* A listener "ADDR[:PORT]" (default port 1688; 0: a free port) checked without resolving it.
 * Returns 0, or -1 with a message. */
int net_listen_check(const char *text, char *err, size_t err_len);
/* The listeners' addresses (passive), at most NET_MAX_ADDRS in all. Returns 0, or -1 with a
 * message. */
int net_listen_resolve(const char *const *specs, size_t n, struct net_addrs *out, char *err,
                       size_t err_len);
/* "127.0.0.1:1688" or "[::1]:1688". */
void net_addr_format(const struct sockaddr *sa, char *out, size_t cap);
bool net_addr_is_loopback(const struct sockaddr *sa);

#endif
