/* Target addresses: host[:port] parsing, resolution and the loopback check (net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

static void expect_target(const char *spec, const char *host, uint16_t port)
{
    char h[NET_HOST_MAX], err[160];
    uint16_t p;
    cr_assert_eq(net_parse_target(spec, 1688, h, sizeof h, &p, err, sizeof err), 0, "%s: %s", spec,
                 err);
    cr_assert_str_eq(h, host, "%s", spec);
    cr_assert_eq(p, port, "%s", spec);
}

Test(net_target, targets)
{
    expect_target("kms.example.com", "kms.example.com", 1688);
    expect_target("kms.example.com:11688", "kms.example.com", 11688);
    expect_target("127.0.0.1:1688", "127.0.0.1", 1688);
    expect_target("[::1]:1689", "::1", 1689);
    expect_target("[::1]", "::1", 1688);
    expect_target("fe80::1", "fe80::1", 1688);
}

Test(net_target, bad_targets_name_the_problem)
{
    char h[NET_HOST_MAX], err[160];
    uint16_t p;
    cr_assert_eq(net_parse_target("", 1688, h, sizeof h, &p, err, sizeof err), -1);
    cr_assert_eq(net_parse_target("[::1", 1688, h, sizeof h, &p, err, sizeof err), -1);
    cr_assert(strstr(err, "']'"), "%s", err);
    cr_assert_eq(net_parse_target("host:99999", 1688, h, sizeof h, &p, err, sizeof err), -1);
    cr_assert(strstr(err, "99999"), "%s", err);
    cr_assert_eq(net_parse_target("host:0", 1688, h, sizeof h, &p, err, sizeof err), -1);
    cr_assert_eq(net_parse_target(":1688", 1688, h, sizeof h, &p, err, sizeof err), -1);
    cr_assert(strstr(err, "no host"), "%s", err);
    cr_assert_eq(net_parse_target("[::1]x", 1688, h, sizeof h, &p, err, sizeof err), -1);
}

Test(net_target, resolve_and_loopback)
{
    struct net_addrs addrs;
    char err[160], text[NET_ADDR_TEXT];
    cr_assert_eq(net_resolve("127.0.0.1", 1688, false, &addrs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(addrs.n, 1);
    net_addr_format((struct sockaddr *)&addrs.addr[0], text, sizeof text);
    cr_assert_str_eq(text, "127.0.0.1:1688");
    cr_assert(net_addr_is_loopback((struct sockaddr *)&addrs.addr[0]));
    cr_assert_eq(net_resolve("::1", 1689, false, &addrs, err, sizeof err), 0, "%s", err);
    net_addr_format((struct sockaddr *)&addrs.addr[0], text, sizeof text);
    cr_assert_str_eq(text, "[::1]:1689");
    cr_assert(net_addr_is_loopback((struct sockaddr *)&addrs.addr[0]));
    struct sockaddr_in remote = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.1", &remote.sin_addr);
    cr_assert_not(net_addr_is_loopback((struct sockaddr *)&remote));
    cr_assert_eq(net_resolve("no-such-host.invalid", 1688, false, &addrs, err, sizeof err), -1);
    cr_assert(strstr(err, "no-such-host.invalid"), "%s", err);
}

Test(net_target, listeners_port_zero_means_a_free_port)
{
    char err[160];
    cr_assert_eq(net_listen_check("127.0.0.1:0", err, sizeof err), 0, "%s", err);
    cr_assert_eq(net_listen_check("[::1]:1690", err, sizeof err), 0, "%s", err);
    cr_assert_neq(net_listen_check("127.0.0.1:70000", err, sizeof err), 0);
    static const char *const specs[] = {"127.0.0.1:0", "127.0.0.1"};
    struct net_addrs addrs;
    cr_assert_eq(net_listen_resolve(specs, 2, &addrs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(addrs.n, 2);
    const struct sockaddr_in *a0 = (const struct sockaddr_in *)&addrs.addr[0];
    const struct sockaddr_in *a1 = (const struct sockaddr_in *)&addrs.addr[1];
    cr_assert_eq(ntohs(a0->sin_port), 0, "port 0 stays 0: the system picks a free one");
    cr_assert_eq(ntohs(a1->sin_port), 1688, "no port: the KMS port");
}

Test(net_target, offline_only_an_address_literal_says_loopback)
{
    char err[160];
    struct net_addrs a;
    bool loopback = false;
    cr_assert_eq(net_target_resolve("127.0.0.2:1688", true, &a, &loopback, err, sizeof err),
                 NET_TARGET_OK);
    cr_assert(loopback);
    cr_assert_eq(a.n, 0, "offline: nothing resolved");
    cr_assert_eq(net_target_resolve("[::1]", true, &a, &loopback, err, sizeof err), NET_TARGET_OK);
    cr_assert(loopback);
    cr_assert_eq(net_target_resolve("localhost", true, &a, &loopback, err, sizeof err),
                 NET_TARGET_OK);
    cr_assert_not(loopback, "a name is not resolved offline, so it is not known to be loopback");
    cr_assert_eq(net_target_resolve("10.0.0.1:99999", true, &a, &loopback, err, sizeof err),
                 NET_TARGET_BAD);
    cr_assert_eq(net_target_resolve("127.0.0.1:1690", false, &a, &loopback, err, sizeof err),
                 NET_TARGET_OK, "%s", err);
    cr_assert(loopback);
    cr_assert_geq(a.n, 1);
}
