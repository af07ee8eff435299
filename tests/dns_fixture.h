/*
 * A real DNS server for the discovery tests: dnsmasq on a free loopback port serving
 * _vlmcs._tcp SRV and A records (point them at support_host_start's hosts). It is a child of the
 * suite's scratch, so the suite's fini kills it even when an assertion fails (and the kernel
 * does if the test process dies).
 */
#ifndef KMSLOAD_DNS_FIXTURE_H
#define KMSLOAD_DNS_FIXTURE_H

#include "support.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DNSMASQ_BINARY "/usr/sbin/dnsmasq"

struct dns_fixture {
    pid_t pid;
    uint16_t port;
    char server[32]; /* "127.0.0.1:PORT", for --dns-server */
};

/*
 * Starts dnsmasq answering for the zone (e.g. "example.test": names under it that are not in
 * records get NXDOMAIN) with extra options such as
 * "--srv-host=_vlmcs._tcp.example.test,h1.example.test,1688,0,60" and
 * "--host-record=h1.example.test,127.0.0.1" (NULL-terminated). Waits until it answers (at most 5
 * s); fails the test with dnsmasq's own message when it cannot start.
 */
void dns_fixture_start(struct dns_fixture *f, struct support_scratch *s, const char *zone,
                       const char *const *records);
void dns_fixture_stop(struct dns_fixture *f, struct support_scratch *s);
/* A DNS server that reads nothing and answers nothing: a bound loopback UDP socket (the caller
 * closes the returned fd); its "127.0.0.1:PORT" in spec. */
int dns_fixture_silent(char *spec, size_t cap);

#endif
