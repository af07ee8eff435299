#include "client_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_srv_set *client_dns_lookup(const struct dns_srv_query *q, enum dns_srv_status *status,
                                      char *err, size_t err_len)
{
    struct dns_srv_set *set = malloc(sizeof *set);
    if (!set) {
        *status = DNS_SRV_FAILED;
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    *status = dns_srv_lookup(q, set, err, err_len);
    return set;
}

void client_host_name(const char *host, uint16_t port, char *out, size_t cap)
{
    snprintf(out, cap, strchr(host, ':') ? "[%.256s]:%u" : "%.256s:%u", host, port);
}
