/* Command-line value parsing and target addresses. */
#include "net.h"
#include "value_parse.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

Test(value_parse, durations)
{
    int64_t us;
    char err[160];
    cr_assert_eq(value_parse_duration("90", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, 90000000);
    cr_assert_eq(value_parse_duration("250ms", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, 250000);
    cr_assert_eq(value_parse_duration("3h59m", false, &us, err, sizeof err), 0);
    cr_assert_eq(us, (3 * 3600 + 59 * 60) * 1000000LL);
    cr_assert_eq(value_parse_duration("-4h01m", true, &us, err, sizeof err), 0);
    cr_assert_eq(us, -(4 * 3600 + 60) * 1000000LL);
    cr_assert_eq(value_parse_duration("+1d12h", true, &us, err, sizeof err), 0);
    cr_assert_eq(us, 36 * 3600 * 1000000LL);
}

Test(value_parse, bad_durations_name_the_problem)
{
    int64_t us;
    char err[160];
    cr_assert_eq(value_parse_duration("-4h", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "sign"), "%s", err);
    cr_assert_eq(value_parse_duration("4x", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "unknown unit"), "%s", err);
    cr_assert_eq(value_parse_duration("h", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "not a duration"), "%s", err);
    cr_assert_eq(value_parse_duration("99999999999999999d", false, &us, err, sizeof err), -1);
    cr_assert(strstr(err, "too large"), "%s", err);
}

Test(value_parse, switches_and_numbers)
{
    bool v = false;
    unsigned long n;
    cr_assert_eq(value_parse_switch("on", &v), 0);
    cr_assert(v);
    cr_assert_eq(value_parse_switch("OFF", &v), 0);
    cr_assert_not(v);
    cr_assert_eq(value_parse_switch("maybe", &v), -1);
    cr_assert_eq(value_parse_uint("6", 4, 6, &n), 0);
    cr_assert_eq(n, 6);
    cr_assert_eq(value_parse_uint("7", 4, 6, &n), -1);
    cr_assert_eq(value_parse_uint("-1", 0, 6, &n), -1);
    cr_assert_eq(value_parse_uint("5x", 0, 6, &n), -1);
}

Test(value_parse, duration_formatting)
{
    char out[32];
    value_format_duration(120000, out, sizeof out);
    cr_assert_str_eq(out, "120 ms");
    value_format_duration((4 * 3600 + 60) * 1000000LL, out, sizeof out);
    cr_assert_str_eq(out, "4h01m00s");
    value_format_duration(-(7 * 86400) * 1000000LL, out, sizeof out);
    cr_assert_str_eq(out, "-7d00h00m");
}

static void expect_target(const char *spec, const char *host, uint16_t port)
{
    char h[NET_HOST_MAX], err[160];
    uint16_t p;
    cr_assert_eq(net_parse_target(spec, 1688, h, sizeof h, &p, err, sizeof err), 0, "%s: %s", spec,
                 err);
    cr_assert_str_eq(h, host, "%s", spec);
    cr_assert_eq(p, port, "%s", spec);
}

Test(value_parse, targets)
{
    expect_target("kms.example.com", "kms.example.com", 1688);
    expect_target("kms.example.com:11688", "kms.example.com", 11688);
    expect_target("127.0.0.1:1688", "127.0.0.1", 1688);
    expect_target("[::1]:1689", "::1", 1689);
    expect_target("[::1]", "::1", 1688);
    expect_target("fe80::1", "fe80::1", 1688);
}

Test(value_parse, bad_targets_name_the_problem)
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

Test(value_parse, resolve_and_loopback)
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
