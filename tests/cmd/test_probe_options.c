/* `kmsload probe` options parsed in-process. */
#include "probe.h"

#include <criterion/criterion.h>
#include <string.h>

static int parse(int argc, char **argv, struct probe_options *o, char *err)
{
    err[0] = '\0';
    return probe_options_parse(argc, argv, o, err, 512);
}

Test(probe_options, defaults_and_target)
{
    struct probe_options o;
    char err[512];
    char *argv[] = {"probe", "[::1]:1700", NULL};
    cr_assert_eq(parse(2, argv, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.host, "::1");
    cr_expect_eq(o.port, 1700);
    cr_expect_str_eq(o.send.request.product, "win10-pro");
    cr_expect_str_eq(o.send.request.workstation, "kmsload-probe");
    cr_expect_eq(o.send.request.n_policy, -1);
    cr_expect_eq(o.send.request.license_status, 2);
    cr_expect_eq(o.send.request.binding_expiration, 43200);
    cr_expect_eq(o.send.timeout_us, 10000000);
    cr_expect(o.send.exchange.offer_ndr64 && o.send.exchange.offer_btfn);
    char *plain[] = {"probe", "kms.example", NULL};
    cr_assert_eq(parse(2, plain, &o, err), 0, "%s", err);
    cr_expect_eq(o.port, 1688);
}

Test(probe_options, every_flag)
{
    struct probe_options o;
    char err[512];
    char *argv[] = {"probe",
                    "-p",
                    "office2021",
                    "--app",
                    "a",
                    "--kms",
                    "k",
                    "--sku",
                    "s",
                    "--products",
                    "p.ini",
                    "-P",
                    "5",
                    "--cmid",
                    "c",
                    "--cmid-prev",
                    "d",
                    "-w",
                    "ws",
                    "-n",
                    "3",
                    "--license-status",
                    "6",
                    "--binding-expiration",
                    "0",
                    "--vm",
                    "--clock-skew",
                    "-4h01m",
                    "--ndr64",
                    "off",
                    "--btfn",
                    "off",
                    "--alter-context",
                    "-t",
                    "250ms",
                    "--json",
                    "127.0.0.1",
                    NULL};
    cr_assert_eq(parse((int)(sizeof argv / sizeof argv[0]) - 1, argv, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.send.request.product, "office2021");
    cr_expect_str_eq(o.send.request.app, "a");
    cr_expect_str_eq(o.send.request.kms, "k");
    cr_expect_str_eq(o.send.request.sku, "s");
    cr_expect_str_eq(o.products_file, "p.ini");
    cr_expect_eq(o.send.request.protocol, 5);
    cr_expect_str_eq(o.send.request.cmid, "c");
    cr_expect_str_eq(o.send.request.cmid_prev, "d");
    cr_expect_str_eq(o.send.request.workstation, "ws");
    cr_expect_eq(o.send.request.n_policy, 3);
    cr_expect_eq(o.send.request.license_status, 6);
    cr_expect_eq(o.send.request.binding_expiration, 0);
    cr_expect(o.send.request.vm);
    cr_expect_eq(o.send.request.clock_skew_us, -(4 * 3600 + 60) * 1000000LL);
    cr_expect_not(o.send.exchange.offer_ndr64);
    cr_expect_not(o.send.exchange.offer_btfn);
    cr_expect(o.send.exchange.alter_context);
    cr_expect_eq(o.send.timeout_us, 250000);
    cr_expect(o.json);
    cr_expect_str_eq(o.host, "127.0.0.1");
}

Test(probe_options, list_products_needs_no_target)
{
    struct probe_options o;
    char err[512];
    char *argv[] = {"probe", "--list-products", NULL};
    cr_assert_eq(parse(2, argv, &o, err), 0, "%s", err);
    cr_expect(o.list_products);
}

Test(probe_options, usage_errors_name_the_option)
{
    static const struct {
        const char *a1, *a2, *needle;
    } cases[] = {
        {"--protocol", "9", "--protocol"},
        {"--clock-skew", "soon", "--clock-skew"},
        {"--n-policy", "-1", "--n-policy"},
        {"--license-status", "7", "--license-status"},
        {"--binding-expiration", "x", "--binding-expiration"},
        {"--ndr64", "maybe", "--ndr64"},
        {"--btfn", "maybe", "--btfn"},
        {"--timeout", "0", "--timeout"},
        {"--bogus", NULL, "--bogus"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct probe_options o;
        char err[512];
        char *argv[] = {"probe", (char *)cases[i].a1, (char *)cases[i].a2, "127.0.0.1", NULL};
        if (!cases[i].a2)
            argv[2] = "127.0.0.1", argv[3] = NULL;
        cr_expect_eq(parse(cases[i].a2 ? 4 : 3, argv, &o, err), -1, "%s accepted", cases[i].a1);
        cr_expect_not_null(strstr(err, cases[i].needle), "%s: \"%s\"", cases[i].a1, err);
    }
    struct probe_options o;
    char err[512];
    char *none[] = {"probe", NULL};
    cr_expect_eq(parse(1, none, &o, err), -1);
    cr_expect_not_null(strstr(err, "HOST"), "%s", err);
    char *two[] = {"probe", "a", "b", NULL};
    cr_expect_eq(parse(3, two, &o, err), -1);
    cr_expect_not_null(strstr(err, "\"b\""), "%s", err);
    char *empty[] = {"probe", "", NULL};
    cr_expect_eq(parse(2, empty, &o, err), -1);
    cr_expect_neq(err[0], '\0');
}

Test(probe_options, product_given_and_host_key_list)
{
    struct probe_options o;
    char err[512];
    char *kms_only[] = {"probe", "127.0.0.1", "--kms", "ws2012r2", NULL};
    cr_assert_eq(parse(4, kms_only, &o, err), 0, "%s", err);
    cr_expect_not(o.send.product_given, "--kms alone: the group picks the product");
    char *both[] = {"probe", "127.0.0.1", "--product", "win10-pro", "--kms", "ws2012r2", NULL};
    cr_assert_eq(parse(6, both, &o, err), 0, "%s", err);
    cr_expect(o.send.product_given);
    char *keys[] = {"probe", "--list-host-keys", NULL};
    cr_assert_eq(parse(2, keys, &o, err), 0, "%s", err);
    cr_expect(o.list_host_keys);
}

Test(probe_options, one_flag_vocabulary_with_old_spellings_noted)
{
    struct probe_options o;
    char err[512];
    /* -t is the target, as in run and coverage; --catalog the catalogue file, as in host. */
    char *a[] = {"probe", "-t", "kms.example.test:1700", "--catalog", "p.ini", NULL};
    cr_assert_eq(parse(5, a, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.host, "kms.example.test");
    cr_expect_eq(o.port, 1700);
    cr_expect_str_eq(o.products_file, "p.ini");
    cr_expect_null(o.deprecated);
    char *b[] = {"probe", "--target", "[::1]", "--timeout", "2s", NULL};
    cr_assert_eq(parse(5, b, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.host, "::1");
    cr_expect_eq(o.send.timeout_us, 2000000);
    cr_expect_null(o.deprecated);
    /* The old spellings still work, with a note. */
    char *c[] = {"probe", "-t", "1500ms", "127.0.0.1", NULL};
    cr_assert_eq(parse(4, c, &o, err), 0, "%s", err);
    cr_expect_eq(o.send.timeout_us, 1500000);
    cr_expect_str_eq(o.host, "127.0.0.1");
    cr_expect_str_eq(o.deprecated, "-t DURATION for the timeout is deprecated: -t means --target "
                                   "in every subcommand; use --timeout DURATION");
    char *d[] = {"probe", "--products", "old.ini", "127.0.0.1", NULL};
    cr_assert_eq(parse(4, d, &o, err), 0, "%s", err);
    cr_expect_str_eq(o.products_file, "old.ini");
    cr_expect_str_eq(o.deprecated, "--products FILE is deprecated: the catalogue file is --catalog "
                                   "FILE in every subcommand (--products is the host's list of "
                                   "KMS IDs)");
    /* Both a HOST argument and -t: refused, naming both. */
    char *e[] = {"probe", "-t", "a.example", "b.example", NULL};
    cr_expect_eq(parse(4, e, &o, err), -1);
    cr_expect_str_eq(err, "the target given twice: \"b.example\" and -t \"a.example\"");
    char *f[] = {"probe", "--json", NULL};
    cr_expect_eq(parse(2, f, &o, err), -1);
    cr_expect_str_eq(err, "missing the target HOST[:PORT] (or -t HOST[:PORT])");
}
