/*
 * A real DNS server for the discovery tests: dnsmasq on a free loopback port serving
 * _vlmcs._tcp SRV and A records, and `kmsload host` instances on free ports to point them at.
 * Both are children tracked in a support_children set, so a suite's fini kills them even when
 * an assertion fails (and the kernel does if the test process dies).
 */
#ifndef KMSLOAD_DNS_FIXTURE_H
#define KMSLOAD_DNS_FIXTURE_H

#include "support.h"

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
void dns_fixture_start(struct dns_fixture *f, struct support_children *ch, const char *tmp_dir,
                       const char *zone, const char *const *records);
void dns_fixture_stop(struct dns_fixture *f, struct support_children *ch);

struct host_fixture {
    pid_t pid;
    int out_pipe;
    uint16_t port;
};

/* Starts `kmsload host --listen 127.0.0.1:0 EXTRA...` and learns its port. */
void host_fixture_start(struct host_fixture *h, struct support_children *ch, const char *tmp_dir,
                        const char *const *extra);
/* SIGINT, then waits (bounded) for it to exit. */
void host_fixture_stop(struct host_fixture *h, struct support_children *ch);

#endif
