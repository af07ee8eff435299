/* The client's failure messages name what went wrong: no address at all is not "cannot connect
 * to : no address". */
#include "netclient.h"

#include <criterion/criterion.h>
#include <string.h>

static void on_done(struct net_client *client, const struct client_session_result *res, void *arg)
{
    (void)client;
    *(struct client_session_result *)arg = *res;
}

Test(netclient_messages, no_address_says_so)
{
    struct event_base *base = event_base_new();
    struct net_addrs none = {.n = 0};
    struct net_client_params p = {.addrs = &none, .timeout = {2, 0}};
    client_session_options_default(&p.options);
    struct kms_request req;
    memset(&req, 0, sizeof req);
    uint8_t w[16] = {0};
    struct client_session_result res;
    memset(&res, 0, sizeof res);
    res.err.detail[0] = '\0';
    struct net_client *c = net_client_start(base, &p, &req, w, on_done, &res);
    cr_assert_not_null(c);
    event_base_dispatch(base);
    cr_expect_str_eq(res.err.detail, "no address to connect to");
    net_client_free(c);
    event_base_free(base);
}
