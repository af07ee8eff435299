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

void dns_fixture_start(struct dns_fixture *f, struct support_children *ch, const char *tmp_dir,
                       const char *zone, const char *const *records)
{
    cr_assert_eq(access(DNSMASQ_BINARY, X_OK), 0,
                 DNSMASQ_BINARY " is missing: install dnsmasq-base (.ci/setup does)");
    memset(f, 0, sizeof *f);
    char err_path[256];
    snprintf(err_path, sizeof err_path, "%s/dnsmasq.%d.err", tmp_dir, (int)getpid());
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
        dns_fixture_stop(f, ch);
    }
    char *text = support_slurp(err_path, NULL);
    cr_assert_fail("dnsmasq did not start: %s", text ? text : "(no output)");
}

void dns_fixture_stop(struct dns_fixture *f, struct support_children *ch)
{
    if (f->pid <= 0)
        return;
    kill(f->pid, SIGTERM);
    int status;
    support_wait(ch, f->pid, 3000, &status);
    f->pid = 0;
}

static bool read_line(int fd, char *line, size_t cap, unsigned timeout_ms)
{
    size_t n = 0;
    uint64_t end = support_now_ms() + timeout_ms;
    while (n + 1 < cap) {
        uint64_t now = support_now_ms();
        if (now >= end)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            break;
        char c;
        if (read(fd, &c, 1) <= 0)
            break;
        if (c == '\n') {
            line[n] = '\0';
            return true;
        }
        line[n++] = c;
    }
    line[n] = '\0';
    return false;
}

void host_fixture_start(struct host_fixture *h, struct support_children *ch, const char *tmp_dir,
                        const char *const *extra)
{
    memset(h, 0, sizeof *h);
    const char *args[24] = {"host", "--listen", "127.0.0.1:0"};
    size_t n = 3;
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    char err_path[256];
    snprintf(err_path, sizeof err_path, "%s/host.%d.err", tmp_dir, (int)getpid());
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    cr_assert_geq(err_fd, 0);
    h->pid = support_spawn(ch, KMSLOAD_BINARY, args, fds[1], err_fd);
    close(fds[1]);
    close(err_fd);
    h->out_pipe = fds[0];
    char line[256];
    cr_assert(read_line(h->out_pipe, line, sizeof line, 5000), "host printed no line: \"%s\"",
              line);
    const char prefix[] = "kmsload host: listening on 127.0.0.1:";
    cr_assert(strncmp(line, prefix, sizeof prefix - 1) == 0, "first line: \"%s\"", line);
    h->port = (uint16_t)atoi(line + sizeof prefix - 1);
    cr_assert_neq(h->port, 0, "port in \"%s\"", line);
}

void host_fixture_stop(struct host_fixture *h, struct support_children *ch)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGINT);
    int status;
    support_wait(ch, h->pid, 5000, &status);
    close(h->out_pipe);
    h->pid = 0;
}
