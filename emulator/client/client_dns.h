/*
 * dns:DOMAIN targets: the hosts a domain publishes as _vlmcs._tcp SRV records (net/dns_srv),
 * looked up into a set this module allocates, so no command keeps a large set of its own.
 */
#ifndef KMSLOAD_CLIENT_DNS_H
#define KMSLOAD_CLIENT_DNS_H

#include "dns_srv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Looks q up. Returns the set (free() it), the records in the order a client prefers them
 * (dns_srv_compare), with *status DNS_SRV_OK or, on NONE and FAILED, the name asked and the
 * reason in err; NULL only when out of memory (err says so, status FAILED).
 */
struct dns_srv_set *client_dns_lookup(const struct dns_srv_query *q, enum dns_srv_status *status,
                                      char *err, size_t err_len);

/* A host as the commands name it: "kms.example.com:1688", "[2001:db8::1]:1688". */
void client_host_name(const char *host, uint16_t port, char *out, size_t cap);

#endif
