/*
 * Long SRV answers from a real DNS server (dnsmasq on loopback): every record is ranked by
 * priority and weight before any is left out, so backups published before the preferred hosts
 * never hide them, and the true record count is reported with what was left out. Two live
 * `kmsload host` instances at priority 0 and many dead backups at priority 100 (ports nothing
 * listens on), served from a dnsmasq configuration file.
 */
#include "dns_fixture.h"
#include "dns_srv.h"
#include "support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct support_scratch sr;

static void sr_init(void)
{
    support_scratch_init(&sr, "srv");
}

static void sr_fini(void)
{
    support_scratch_fini(&sr);
}

TestSuite(srv_ranking, .init = sr_init, .fini = sr_fini, .timeout = 90);

/* A loopback port nothing listens on. */
static unsigned sr_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

struct sr_zone {
    struct support_host h1, h2;
    struct dns_fixture dns;
};

/*
 * n_backups dead records at priority 100 (weight 100: heavier than the live ones) written
 * before the two live hosts at priority 0, so an answer in configuration order lists the
 * backups first.
 */
static void sr_zone_start(struct sr_zone *z, unsigned n_backups)
{
    /* Hosts following client time: run's virtual clock dates requests days ahead. */
    const char *const clock[] = {"--clock", "client", NULL};
    support_host_start(&sr, &z->h1, clock);
    support_host_start(&sr, &z->h2, clock);
    char conf[128];
    support_scratch_path(&sr, "zone.conf", conf, sizeof conf);
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    unsigned dead = sr_dead_port();
    for (unsigned i = 0; i < n_backups; i++)
        fprintf(f, "srv-host=_vlmcs._tcp.example.test,backup%u.example.test,%u,100,100\n", i, dead);
    fprintf(f, "srv-host=_vlmcs._tcp.example.test,h1.example.test,%u,0,60\n", z->h1.port);
    fprintf(f, "srv-host=_vlmcs._tcp.example.test,h2.example.test,%u,0,20\n", z->h2.port);
    for (unsigned i = 0; i < n_backups; i++)
        fprintf(f, "host-record=backup%u.example.test,127.0.0.1\n", i);
    fprintf(f, "host-record=h1.example.test,127.0.0.1\nhost-record=h2.example.test,127.0.0.1\n");
    fclose(f);
    char opt[160];
    snprintf(opt, sizeof opt, "--conf-file=%s", conf);
    const char *const records[] = {opt, NULL};
    dns_fixture_start(&z->dns, &sr, "example.test", records);
}

/* Runs kmsload to completion; status, stdout and stderr (malloc'd). */
static int sr_run(const char *const *args, char **out, char **err)
{
    struct support_result r = support_run(&sr, 60000, 0, args);
    *out = r.out;
    *err = r.err;
    return r.status;
}

Test(srv_ranking, the_lookup_ranks_every_record_and_counts_them_all)
{
    struct sr_zone z;
    sr_zone_start(&z, 300);
    static struct dns_srv_set set;
    char err[256];
    struct dns_srv_query q = {.domain = "example.test", .dns_server = z.dns.server};
    cr_assert_eq(dns_srv_lookup(&q, &set, err, sizeof err), DNS_SRV_OK, "%s", err);
    cr_expect_eq(set.total, 302, "the answer held 302 records, reported %zu", set.total);
    cr_assert_eq(set.n, DNS_SRV_MAX);
    cr_expect_str_eq(set.rec[0].target, "h1.example.test", "priority 0, the heavier first");
    cr_expect_str_eq(set.rec[1].target, "h2.example.test");
    for (size_t i = 1; i < set.n; i++)
        cr_expect_leq(dns_srv_compare(&set.rec[i - 1], &set.rec[i]), 0, "rank %zu", i);
    cr_expect_eq(set.left_out_priority_min, 100);
    cr_expect_eq(set.left_out_priority_max, 100);
    cr_expect_eq(set.rec[0].addrs.n, 1, "the kept records have their addresses");
}

Test(srv_ranking, discover_lists_the_preferred_hosts_and_says_what_it_left_out)
{
    struct sr_zone z;
    sr_zone_start(&z, 20);
    char *out, *err;
    const char *args[] = {"discover", "example.test", "--dns-server", z.dns.server,
                          "--json",   "--timeout",    "1s",           NULL};
    sr_run(args, &out, &err);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "%s / %s", out, err);
    cr_expect_eq(json_integer_value(json_object_get(root, "records")), 22);
    cr_expect_eq(json_integer_value(json_object_get(root, "left_out")), 22 - DNS_SRV_MAX);
    json_t *hosts = json_object_get(root, "hosts");
    cr_assert_eq(json_array_size(hosts), DNS_SRV_MAX);
    const char *first = json_string_value(json_object_get(json_array_get(hosts, 0), "target"));
    const char *second = json_string_value(json_object_get(json_array_get(hosts, 1), "target"));
    cr_expect_str_eq(first, "h1.example.test", "%s", out);
    cr_expect_str_eq(second, "h2.example.test", "%s", out);
    cr_expect(json_is_true(json_object_get(json_array_get(hosts, 0), "answers")), "%s", out);
    json_decref(root);
    free(out);
    free(err);

    const char *text_args[] = {
        "discover", "example.test", "--dns-server", z.dns.server, "--timeout", "1s", NULL};
    sr_run(text_args, &out, &err);
    cr_expect(strstr(out, "_vlmcs._tcp.example.test: 22 records") != NULL, "%s", out);
    cr_expect(strstr(out, "6 left out (priority 100..100)") != NULL, "%s", out);
    free(out);
    free(err);
}

Test(srv_ranking, run_uses_the_preferred_hosts_not_the_first_listed)
{
    struct sr_zone z;
    sr_zone_start(&z, 20);
    char scenario[128], dir[128];
    support_scratch_path(&sr, "small.ini", scenario, sizeof scenario);
    support_scratch_path(&sr, "run", dir, sizeof dir);
    FILE *f = fopen(scenario, "w");
    cr_assert_not_null(f);
    fputs("[scenario]\nname = small\nclock = virtual\nduration = 1d\n"
          "[population clients]\nproduct = win10-pro\nmachines = 30\njoin_over = 1h\n",
          f);
    fclose(f);
    char *out, *err;
    const char *args[] = {"run",          scenario,     "--target", "dns:example.test",
                          "--dns-server", z.dns.server, "--out",    dir,
                          "--no-report",  "-q",         NULL};
    int rc = sr_run(args, &out, &err);
    cr_expect_eq(rc, 0, "the preferred hosts answer: exit %d\n%s\n%s", rc, out, err);
    cr_expect(strstr(err, "has 22 records; the 8 most preferred are used, 14 left out "
                          "(priority 100..100)") != NULL,
              "%s", err);
    free(out);
    free(err);
}
