#include "dns_fixture.h"

#include "dns_srv.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A port free for both UDP and TCP on 127.0.0.1 (dnsmasq listens on both). */
static uint16_t free_port(void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        if (u < 0 || bind(u, (struct sockaddr *)&a, sizeof a) ||
            getsockname(u, (struct sockaddr *)&a, &len)) {
            if (u >= 0)
                close(u);
            continue;
        }
        int t = socket(AF_INET, SOCK_STREAM, 0);
        int ok = t >= 0 && bind(t, (struct sockaddr *)&a, sizeof a) == 0;
        if (t >= 0)
            close(t);
        close(u);
        if (ok)
            return ntohs(a.sin_port);
    }
    cr_assert_fail("no free loopback port for dnsmasq");
    return 0;
}

void dns_fixture_start(struct dns_fixture *f, struct support_scratch *s, const char *zone,
                       const char *const *records)
{
    struct support_children *ch = &s->children;
    cr_assert_eq(access(DNSMASQ_BINARY, X_OK), 0,
                 DNSMASQ_BINARY " is missing: install dnsmasq-base (.ci/setup does)");
    memset(f, 0, sizeof *f);
    char err_path[256];
    support_scratch_path(s, "dnsmasq-err", err_path, sizeof err_path);
    for (int attempt = 0; attempt < 5; attempt++) {
        f->port = free_port();
        char port_opt[32], local_opt[300];
        snprintf(port_opt, sizeof port_opt, "--port=%u", f->port);
        snprintf(local_opt, sizeof local_opt, "--local=/%s/", zone);
        /* Foreground, loopback only, nothing read from the machine (no resolv.conf, no
         * /etc/hosts, no config file), no cache so a changed record is seen at once, and as the
         * user running the test (dnsmasq drops to "nobody" by default, which needs root). */
        const char *args[40] = {
            "--no-daemon", port_opt,     "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--conf-file=/dev/null",      "--cache-size=0",
            "--pid-file=", local_opt};
        size_t n = 10;
        if (geteuid() == 0)
            args[n++] = "--user=root";
        for (size_t i = 0; records && records[i] && n < 39; i++)
            args[n++] = records[i];
        args[n] = NULL;
        int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        cr_assert_geq(err_fd, 0);
        f->pid = support_spawn(ch, DNSMASQ_BINARY, args, err_fd, err_fd);
        close(err_fd);
        snprintf(f->server, sizeof f->server, "127.0.0.1:%u", f->port);
        /* Ready when it answers a query for the zone (any answer, NXDOMAIN included). */
        uint64_t end = support_now_ms() + 5000;
        while (support_now_ms() < end) {
            struct dns_srv_set set;
            char err[256];
            struct dns_srv_query q = {
                .domain = zone, .dns_server = f->server, .timeout_us = 200000};
            if (dns_srv_lookup(&q, &set, err, sizeof err) != DNS_SRV_FAILED)
                return;
            int status;
            if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
                /* It exited: perhaps the port was taken meanwhile; try another. */
                for (int i = 0; i < SUPPORT_MAX_CHILDREN; i++)
                    if (ch->pid[i] == f->pid)
                        ch->pid[i] = 0;
                f->pid = 0;
                break;
            }
            usleep(20000);
        }
        dns_fixture_stop(f, s);
    }
    char *text = support_slurp(err_path, NULL);
    cr_assert_fail("dnsmasq did not start: %s", text ? text : "(no output)");
}

void dns_fixture_stop(struct dns_fixture *f, struct support_scratch *s)
{
    if (f->pid <= 0)
        return;
    kill(f->pid, SIGTERM);
    int status;
    support_wait(&s->children, f->pid, 3000, &status);
    f->pid = 0;
}

int dns_fixture_silent(char *spec, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    snprintf(spec, cap, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}
