#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *text, uint16_t *port)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno || v < 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int net_parse_target(const char *spec, uint16_t default_port, char *host, size_t host_cap,
                     uint16_t *port, char *err, size_t err_len)
{
    const char *host_start = spec, *host_end, *port_text = NULL;
    *port = default_port;
    if (*spec == '\0') {
        snprintf(err, err_len, "empty target address");
        return -1;
    }
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close) {
            snprintf(err, err_len, "target \"%s\": '[' without a closing ']'", spec);
            return -1;
        }
        host_start = spec + 1;
        host_end = close;
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0') {
            snprintf(err, err_len, "target \"%s\": expected ':PORT' after ']'", spec);
            return -1;
        }
    } else {
        const char *colon = strchr(spec, ':');
        if (colon && strchr(colon + 1, ':')) {
            host_end = spec + strlen(spec); /* bare IPv6 literal, no port */
        } else if (colon) {
            host_end = colon;
            port_text = colon + 1;
        } else {
            host_end = spec + strlen(spec);
        }
    }
    size_t host_len = (size_t)(host_end - host_start);
    if (host_len == 0) {
        snprintf(err, err_len, "target \"%s\" has no host", spec);
        return -1;
    }
    if (host_len >= host_cap) {
        snprintf(err, err_len, "target host name is longer than %zu characters", host_cap - 1);
        return -1;
    }
    if (port_text && (parse_port(port_text, port) || *port == 0)) {
        snprintf(err, err_len, "target \"%s\": port \"%s\" is not a number 1..65535", spec,
                 port_text);
        return -1;
    }
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    return 0;
}

int net_resolve(const char *host, uint16_t port, bool passive, struct net_addrs *out, char *err,
                size_t err_len)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port_text[8];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(port_text, sizeof port_text, "%u", port);
    int rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    out->n = 0;
    for (struct addrinfo *ai = res; ai && out->n < NET_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out->addr[0])
            continue;
        memcpy(&out->addr[out->n], ai->ai_addr, ai->ai_addrlen);
        out->len[out->n] = ai->ai_addrlen;
        out->n++;
    }
    freeaddrinfo(res);
    if (out->n == 0) {
        snprintf(err, err_len, "\"%s\" has no TCP address", host);
        return -1;
    }
    return 0;
}

void net_addr_format(const struct sockaddr *sa, char *out, size_t cap)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        snprintf(out, cap, "[%s]:%u", text, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
        snprintf(out, cap, "%s:%u", text, ntohs(in4->sin_port));
    } else {
        snprintf(out, cap, "(address family %d)", sa->sa_family);
    }
}

bool net_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            return in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

/* "ADDR:PORT" with port 0 allowed (a free port): the spec without ":0", and whether it had it. */
static bool listen_spec(const char *text, char *spec, size_t cap)
{
    const char *colon = strrchr(text, ':');
    bool zero_port = colon && strcmp(colon, ":0") == 0;
    int keep = zero_port ? (int)(colon - text) : (int)cap - 1;
    snprintf(spec, cap, "%.*s", keep, text);
    return zero_port;
}

int net_listen_check(const char *text, char *err, size_t err_len)
{
    char spec[NET_HOST_MAX + 8], host[NET_HOST_MAX];
    uint16_t port;
    listen_spec(text, spec, sizeof spec);
    return net_parse_target(spec, KMS_DEFAULT_PORT, host, sizeof host, &port, err, err_len);
}

int net_listen_resolve(const char *const *specs, size_t n, struct net_addrs *out, char *err,
                       size_t err_len)
{
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        char spec[NET_HOST_MAX + 8], hostname[NET_HOST_MAX];
        uint16_t port;
        struct net_addrs addrs;
        bool zero_port = listen_spec(specs[i], spec, sizeof spec);
        if (net_parse_target(spec, KMS_DEFAULT_PORT, hostname, sizeof hostname, &port, err,
                             err_len) ||
            net_resolve(hostname, zero_port ? 0 : port, true, &addrs, err, err_len))
            return -1;
        for (size_t a = 0; a < addrs.n && out->n < NET_MAX_ADDRS; a++) {
            out->addr[out->n] = addrs.addr[a];
            out->len[out->n++] = addrs.len[a];
        }
    }
    return 0;
}

int net_target_resolve(const char *text, bool offline, struct net_addrs *out, bool *loopback,
                       char *err, size_t err_len)
{
    char hostname[NET_HOST_MAX];
    uint16_t port;
    if (net_parse_target(text, KMS_DEFAULT_PORT, hostname, sizeof hostname, &port, err, err_len))
        return NET_TARGET_BAD;
    if (offline) {
        /* No name is resolved (an address literal still says loopback). */
        struct in6_addr a6;
        struct in_addr a4;
        out->n = 0;
        *loopback = (inet_pton(AF_INET, hostname, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
                    (inet_pton(AF_INET6, hostname, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
        return NET_TARGET_OK;
    }
    if (net_resolve(hostname, port, false, out, err, err_len))
        return NET_TARGET_UNRESOLVED;
    *loopback = true;
    for (size_t i = 0; i < out->n; i++)
        if (!net_addr_is_loopback((struct sockaddr *)&out->addr[i]))
            *loopback = false;
    return NET_TARGET_OK;
}
