/*
 * `kmsload coverage` against `kmsload host --host-key ...` on loopback: the refused groups and
 * the advice in words, --require and the exit status, --markdown, an unreachable host.
 */
#include "coverage_main.h"
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KMSLOAD_BINARY
#error "KMSLOAD_BINARY must name the kmsload program"
#endif

static struct support_scratch cc;

static void cc_init(void)
{
    support_scratch_init(&cc, "coverage");
}

static void cc_fini(void)
{
    support_scratch_fini(&cc);
}

TestSuite(coverage_cli, .init = cc_init, .fini = cc_fini, .timeout = 60);

/* Starts `kmsload host` with the given host keys on a free loopback port. */
static void cc_host(struct support_host *h, const char *keys)
{
    support_host_start(&cc, h, (const char *const[]){"--host-key", keys, NULL});
}

/* Runs `kmsload coverage` with args (after the subcommand), stderr with stdout; returns the exit
 * status and the output (caller frees). */
static int cc_run(const char *const *args, char **out)
{
    const char *argv[16] = {"coverage"};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct support_result r = support_run(&cc, 30000, SUPPORT_ERR_TO_OUT, argv);
    free(r.err);
    *out = r.out;
    return r.status;
}

static json_t *cc_group(json_t *root, const char *key)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(root, "groups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "group")), key) == 0)
            return g;
    }
    cr_assert_fail("no group %s", key);
    return NULL;
}

static const char *cc_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

Test(coverage_cli, a_2012_r2_host_refuses_server_2016_and_newer_with_advice)
{
    struct support_host host;
    cc_host(&host, "ws2012r2");
    const char *target = host.target;
    char *out;
    const char *args[] = {target, "--json", "--require", "ws2012r2,ws2012,win81", NULL};
    cr_expect_eq(cc_run(args, &out), 0, "%s", out);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", jerr.text, out);
    cr_expect_eq(json_integer_value(json_object_get(root, "build")), 9600);
    cr_expect_str_eq(cc_str(root, "host_os"), "Windows Server 2012 R2");
    json_t *keys = json_object_get(root, "host_keys");
    cr_expect_eq(json_array_size(keys), 1);
    cr_expect_str_eq(cc_str(json_array_get(keys, 0), "key"), "ws2012r2");
    static const char *const refused[] = {"ws2016", "ws2019", "ws2022", "ws2025"};
    for (size_t i = 0; i < 4; i++) {
        json_t *g = cc_group(root, refused[i]);
        cr_expect_str_eq(cc_str(g, "result"), "refused", "%s", refused[i]);
        cr_expect_str_eq(cc_str(g, "hresult"), "0xC004F042");
        cr_expect(strstr(cc_str(g, "advice"), "CSVLK"), "%s", cc_str(g, "advice"));
    }
    cr_expect(strstr(cc_str(cc_group(root, "ws2016"), "advice"), "needs KB3172614 first"));
    cr_expect(strstr(cc_str(cc_group(root, "ws2019"), "advice"), "needs KB4467695 first"));
    cr_expect(strstr(cc_str(cc_group(root, "ws2025"), "advice"), "cannot carry it"));
    cr_expect_str_eq(cc_str(cc_group(root, "ws2012r2"), "result"), "activated");
    cr_expect_str_eq(cc_str(cc_group(root, "vista"), "result"), "activated");
    json_decref(root);
    free(out);
    /* Requiring a refused group fails with exit 1 and says which; text mode has the advice. */
    const char *args2[] = {target, "--require", "ws2016", NULL};
    cr_expect_eq(cc_run(args2, &out), 1, "%s", out);
    cr_expect(strstr(out, "required product group Windows Server 2016 is refused"), "%s", out);
    cr_expect(strstr(out, "Windows Server 2016 clients: install a Windows Server 2016 CSVLK; this "
                          "host runs Windows Server 2012 R2 (build 9600), which needs KB3172614 "
                          "first"),
              "%s", out);
    free(out);
    kill(host.pid, SIGTERM);
}

Test(coverage_cli, a_2022_key_host_refuses_server_2025_and_counts_grow_by_one)
{
    char md[128];
    struct support_host host;
    cc_host(&host, "ws2022,office2021");
    const char *target = host.target;
    snprintf(md, sizeof md, "%s/coverage.md", cc.dir);
    char *out;
    const char *args[] = {target, "--json", "--markdown", md, NULL};
    cr_expect_eq(cc_run(args, &out), 0, "%s", out);
    json_t *root = json_loads(out, 0, NULL);
    cr_assert_not_null(root, "%s", out);
    cr_expect_eq(json_integer_value(json_object_get(root, "build")), 20348);
    json_t *g = cc_group(root, "ws2025");
    cr_expect_str_eq(cc_str(g, "result"), "refused");
    cr_expect(strstr(cc_str(g, "advice"), "install a Windows Server 2025 CSVLK; this host runs "
                                          "Windows Server 2022 (build 20348), which needs "
                                          "KB5034765 first"),
              "%s", cc_str(g, "advice"));
    cr_expect_str_eq(cc_str(cc_group(root, "ws2022"), "result"), "activated");
    cr_expect_str_eq(cc_str(cc_group(root, "office2021"), "result"), "activated");
    cr_expect_str_eq(cc_str(cc_group(root, "office2024"), "result"), "refused");
    json_decref(root);
    free(out);
    char *text = support_slurp(md, NULL);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "| Windows Server 2025 | refused: 0xC004F042"), "%s", text);
    cr_expect(strstr(text, "- Host OS: Windows Server 2022 (build 20348)"), "%s", text);
    free(text);
    /* A second run: every application keeps its one CMID, so the counts stay at 1. */
    const char *again[] = {target, "--json", NULL};
    cr_expect_eq(cc_run(again, &out), 0);
    root = json_loads(out, 0, NULL);
    cr_assert_not_null(root);
    size_t i;
    json_array_foreach(json_object_get(root, "groups"), i, g)
    {
        if (strcmp(cc_str(g, "result"), "activated") == 0)
            cr_expect_eq(json_integer_value(json_object_get(g, "count")), 1, "%s",
                         cc_str(g, "group"));
    }
    json_decref(root);
    free(out);
    kill(host.pid, SIGTERM);
}

Test(coverage_cli, usage_and_unreachable)
{
    char *out;
    const char *none[] = {NULL};
    cr_expect_eq(cc_run(none, &out), 2);
    free(out);
    const char *bad[] = {"127.0.0.1:1", "--require", "nope", NULL};
    cr_expect_eq(cc_run(bad, &out), 2);
    cr_expect(strstr(out, "\"nope\""), "%s", out);
    free(out);
    /* Port 1 on loopback: nothing listens there. */
    const char *down[] = {"--timeout", "2s", "-t", "127.0.0.1:1", NULL};
    cr_expect_eq(cc_run(down, &out), 3, "%s", out);
    cr_expect(strstr(out, "cannot reach the host"), "%s", out);
    free(out);
}

Test(coverage_cli, a_run_that_measures_coverage_says_it_in_the_same_words)
{
    char out_dir[128], md[128], *out;
    snprintf(out_dir, sizeof out_dir, "%s/run", cc.dir);
    snprintf(md, sizeof md, "%s/summary.md", cc.dir);
    const char *argv[] = {"run",          KMSLOAD_SOURCE_DIR "/scenarios/host-key-coverage.ini",
                          "--out",        out_dir,
                          "--summary-md", md,
                          "--no-report",  NULL};
    struct support_result r = support_run(&cc, 30000, SUPPORT_ERR_TO_OUT, argv);
    free(r.err);
    out = r.out;
    cr_expect(r.status == 0, "%s", out);
    static const char advice[] = "Windows Server 2025 clients: install a Windows Server 2025 "
                                 "CSVLK; this host runs Windows Server 2019 (build 17763), which "
                                 "needs KB5034768 first";
    cr_expect(strstr(out, advice), "console: %s", out);
    free(out);
    char path[160];
    snprintf(path, sizeof path, "%s/coverage.md", out_dir);
    char *cov = support_slurp(path, NULL), *sum = support_slurp(md, NULL);
    cr_assert(cov && sum);
    cr_expect(strstr(cov, advice), "%s", cov);
    cr_expect(strstr(cov, "| Windows Server 2022 | refused: 0xC004F042"), "%s", cov);
    cr_expect(
        strstr(cov, "| Office LTSC 2021 | the key covers it (count 2 — clients activate at 5)"),
        "%s", cov);
    cr_expect(strstr(cov, "host keys: Windows Server 2019, "), "%s", cov);
    cr_expect(strstr(sum, "### Host key coverage") && strstr(sum, advice), "%s", sum);
    free(cov);
    free(sum);
}

Test(coverage_cli, options_follow_the_flag_vocabulary)
{
    struct coverage_options o;
    char err[512];
    char *a[] = {"coverage",  "-t",         "kms.example.test:1700",
                 "--timeout", "2s",         "--require",
                 "ws2025",    "--markdown", "-",
                 "--json",    NULL};
    cr_assert_eq(coverage_options_parse(10, a, &o, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(o.host, "kms.example.test");
    cr_expect_eq(o.port, 1700);
    cr_expect_eq(o.timeout_us, 2000000);
    cr_expect_str_eq(o.require, "ws2025");
    cr_expect(o.json);
    char *b[] = {"coverage", "-t", "a.example", "b.example", NULL};
    cr_expect_eq(coverage_options_parse(4, b, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "given twice"), "%s", err);
    char *c[] = {"coverage", NULL};
    cr_expect_eq(coverage_options_parse(1, c, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "missing the target"), "%s", err);
}

/* Genuine or impossible (issue 19 item 4): a host that activates every group needs two Windows
 * host keys at once, which no KMS host holds; ws2022 + office2021 is what a real host carries. */
Test(coverage_cli, a_host_that_activates_everything_is_not_genuine)
{
    struct support_host all, real;
    support_host_start(&cc, &all, NULL);
    cc_host(&real, "ws2022,office2021");
    char *out;
    cr_assert_eq(cc_run((const char *const[]){"--target", all.target, "--json", NULL}, &out), 0);
    json_t *root = json_loads(out, 0, NULL);
    cr_assert_not_null(root, "%s", out);
    cr_expect(json_is_false(json_object_get(root, "genuine")), "%s", out);
    bool exclusive = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(root, "findings"), i, f)
    {
        exclusive |= strcmp(json_string_value(json_object_get(f, "kind")), "exclusive-keys") == 0;
    }
    cr_expect(exclusive, "%s", out);
    /* The default host checks client time, as genuine hosts do: one request dated 5 h ago. */
    cr_expect(strstr(json_string_value(json_object_get(root, "clock")), "checks client time"), "%s",
              out);
    json_decref(root);
    free(out);
    cr_assert_eq(cc_run((const char *const[]){"--target", real.target, "--json", NULL}, &out), 0);
    root = json_loads(out, 0, NULL);
    cr_assert_not_null(root, "%s", out);
    cr_expect(json_is_true(json_object_get(root, "genuine")), "%s", out);
    cr_expect_eq(json_array_size(json_object_get(root, "findings")), 0, "%s", out);
    json_decref(root);
    free(out);
    support_host_stop(&cc, &all);
    /* A host that follows client time says so in the text too. */
    struct support_host client;
    support_host_start(&cc, &client, (const char *const[]){"--clock", "client", NULL});
    cr_assert_eq(cc_run((const char *const[]){"--target", client.target, NULL}, &out), 0);
    cr_expect(strstr(out, "clock:        follows client time"), "%s", out);
    free(out);
    support_host_stop(&cc, &client);
    support_host_stop(&cc, &real);
}
