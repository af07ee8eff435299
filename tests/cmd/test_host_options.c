/* `kmsload host` options parsed in-process. */
#include "host_main.h"

#include <criterion/criterion.h>
#include <string.h>

static int parse(int argc, char **argv, struct host_options *o, char *err)
{
    err[0] = '\0';
    return host_options_parse(argc, argv, o, err, 512);
}

Test(host_options, defaults)
{
    struct host_options o;
    char err[512];
    char *argv[] = {"host", NULL};
    cr_assert_eq(parse(1, argv, &o, err), 0, "%s", err);
    cr_expect_eq(o.n_listen, 0);
    cr_expect_not(o.clock_client);
    cr_expect_eq(o.activation_minutes, 120);
    cr_expect_eq(o.renewal_minutes, 10080);
    cr_expect(o.ndr64 && o.btfn);
    cr_expect_not(o.strict);
    cr_expect_eq(o.max_connections, 10000);
    cr_expect_eq(o.idle_timeout_us, 30000000);
    cr_expect_eq(o.pdu_timeout_us, 5000000);
    cr_expect_eq(o.clock_step_us, 0, "0: the renewal interval + 1 day");
    cr_expect_eq(o.build, 0, "chosen at start: 17763, 7601 without NDR64, or by the host keys");
    cr_expect_eq(o.seed, 1);
    cr_expect_null(o.host_keys);
    cr_expect_not(o.list_host_keys);
}

Test(host_options, host_keys_and_products_exclude_each_other)
{
    struct host_options o;
    char err[512];
    char *keys[] = {"host", "--host-key", "ws2012r2,office2016", "--list-host-keys", NULL};
    cr_assert_eq(parse(4, keys, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.host_keys, "ws2012r2,office2016");
    cr_expect(o.list_host_keys);
    char *both[] = {"host", "--host-key", "ws2022", "--products", "win10", NULL};
    cr_expect_eq(parse(5, both, &o, err), -1);
    cr_expect(strstr(err, "give one"), "%s", err);
}

Test(host_options, every_flag)
{
    struct host_options o;
    char err[512];
    char *argv[] = {"host",
                    "-l",
                    "127.0.0.1:0",
                    "--listen",
                    "[::1]:1688",
                    "--clock",
                    "client",
                    "--products",
                    "win10",
                    "--catalog",
                    "p.ini",
                    "-A",
                    "15m",
                    "-R",
                    "30d",
                    "--ndr64",
                    "off",
                    "--btfn",
                    "off",
                    "--strict",
                    "--max-connections",
                    "5",
                    "--idle-timeout",
                    "2s",
                    "--pdu-timeout",
                    "1500ms",
                    "--clock-step",
                    "2d",
                    "--fault",
                    "drop=0.5",
                    "--log",
                    "-",
                    "--state",
                    "s.json",
                    "--build",
                    "20348",
                    "--seed",
                    "9",
                    NULL};
    cr_assert_eq(parse((int)(sizeof argv / sizeof argv[0]) - 1, argv, &o, err), 0, "%s", err);
    cr_expect_eq(o.n_listen, 2);
    cr_expect_str_eq(o.listen[1], "[::1]:1688");
    cr_expect(o.clock_client);
    cr_expect_str_eq(o.products, "win10");
    cr_expect_str_eq(o.catalog_file, "p.ini");
    cr_expect_eq(o.activation_minutes, 15);
    cr_expect_eq(o.renewal_minutes, 30 * 1440);
    cr_expect_not(o.ndr64);
    cr_expect_not(o.btfn);
    cr_expect(o.strict);
    cr_expect_eq(o.max_connections, 5);
    cr_expect_eq(o.idle_timeout_us, 2000000);
    cr_expect_eq(o.pdu_timeout_us, 1500000);
    cr_expect_eq(o.clock_step_us, 2 * 86400000000LL);
    cr_expect_gt(o.faults.probability[HOST_FAULT_DROP], 0.49);
    cr_expect_str_eq(o.log_path, "-");
    cr_expect_str_eq(o.state_path, "s.json");
    cr_expect_eq(o.build, 20348);
    cr_expect_eq(o.seed, 9);
}

Test(host_options, usage_errors_name_the_option)
{
    static const struct {
        const char *a1, *a2, *needle;
    } cases[] = {
        {"--clock", "sometimes", "--clock"},
        {"--fault", "explode=1", "explode"},
        {"--activation-interval", "5m", "--activation-interval"},
        {"--renewal-interval", "31d", "--renewal-interval"},
        {"--ndr64", "maybe", "--ndr64"},
        {"--btfn", "maybe", "--btfn"},
        {"--max-connections", "0", "--max-connections"},
        {"--idle-timeout", "0", "--idle-timeout"},
        {"--pdu-timeout", "0", "--pdu-timeout"},
        {"--pdu-timeout", "soon", "--pdu-timeout"},
        {"--clock-step", "-1d", "--clock-step"},
        {"--build", "12", "--build"},
        {"--seed", "x", "--seed"},
        {"--listen", "[::1", "--listen"},
        {"--listen", NULL, "--listen"},
        {"--bogus", NULL, "--bogus"},
        {"surplus", NULL, "surplus"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct host_options o;
        char err[512];
        char *argv[] = {"host", (char *)cases[i].a1, (char *)cases[i].a2, NULL};
        cr_expect_eq(parse(cases[i].a2 ? 3 : 2, argv, &o, err), -1, "%s accepted", cases[i].a1);
        cr_expect_not_null(strstr(err, cases[i].needle), "%s: \"%s\"", cases[i].a1, err);
    }
}
