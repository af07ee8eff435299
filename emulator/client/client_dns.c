#include "client_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Listed as a client prefers them (dns_srv_lookup already keeps them so). */
static int by_preference(const void *pa, const void *pb)
{
    return dns_srv_compare(pa, pb);
}

struct dns_srv_set *client_dns_lookup(const struct dns_srv_query *q, bool preferred_first,
                                      enum dns_srv_status *status, char *err, size_t err_len)
{
    struct dns_srv_set *set = malloc(sizeof *set);
    if (!set) {
        *status = DNS_SRV_FAILED;
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    *status = dns_srv_lookup(q, set, err, err_len);
    if (*status == DNS_SRV_OK && preferred_first)
        qsort(set->rec, set->n, sizeof set->rec[0], by_preference);
    return set;
}

void client_host_name(const char *host, uint16_t port, char *out, size_t cap)
{
    snprintf(out, cap, strchr(host, ':') ? "[%.256s]:%u" : "%.256s:%u", host, port);
}
