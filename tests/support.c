#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t support_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void support_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            support_remove_tree(child);
        else
            unlink(child);
    }
    closedir(d);
    rmdir(path);
}

char *support_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    cr_assert_not_null(buf);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static pid_t spawn_child(struct support_children *ch, const char *binary, const char *const *args,
                         int out_fd, int err_fd, unsigned long max_open_files,
                         const char *const *env);

pid_t support_spawn(struct support_children *ch, const char *binary, const char *const *args,
                    int out_fd, int err_fd)
{
    return spawn_child(ch, binary, args, out_fd, err_fd, 0, NULL);
}

pid_t support_spawn_limited(struct support_children *ch, const char *binary,
                            const char *const *args, int out_fd, int err_fd,
                            unsigned long max_open_files)
{
    return spawn_child(ch, binary, args, out_fd, err_fd, max_open_files, NULL);
}

static pid_t spawn_child(struct support_children *ch, const char *binary, const char *const *args,
                         int out_fd, int err_fd, unsigned long max_open_files,
                         const char *const *env)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = (char *)binary;
    for (size_t i = 0; args[i] && n < 39; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int slot = -1;
    for (int i = 0; i < SUPPORT_MAX_CHILDREN && slot < 0; i++)
        if (ch->pid[i] == 0)
            slot = i;
    cr_assert_geq(slot, 0, "too many children");
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* die with the test process, whatever happens to it */
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        signal(SIGPIPE, SIG_DFL);
        if (max_open_files) {
            struct rlimit rl = {max_open_files, max_open_files};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(126);
        }
        for (size_t i = 0; env && env[i]; i++)
            if ((strchr(env[i], '=') ? putenv((char *)env[i]) : unsetenv(env[i])) != 0)
                _exit(126);
        execv(binary, argv);
        _exit(127);
    }
    ch->pid[slot] = pid;
    return pid;
}

static void forget(struct support_children *ch, pid_t pid)
{
    for (int i = 0; i < SUPPORT_MAX_CHILDREN; i++)
        if (ch->pid[i] == pid)
            ch->pid[i] = 0;
}

int support_wait(struct support_children *ch, pid_t pid, unsigned timeout_ms, int *status)
{
    uint64_t end = support_now_ms() + timeout_ms;
    for (;;) {
        if (waitpid(pid, status, WNOHANG) == pid)
            break;
        if (support_now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            forget(ch, pid);
            return -1;
        }
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
    forget(ch, pid);
    return 0;
}

void support_kill_all(struct support_children *ch)
{
    for (int i = 0; i < SUPPORT_MAX_CHILDREN; i++) {
        if (ch->pid[i] > 0) {
            kill(ch->pid[i], SIGKILL);
            waitpid(ch->pid[i], NULL, 0);
            ch->pid[i] = 0;
        }
    }
}

void support_scratch_init(struct support_scratch *s, const char *name)
{
    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/kmsload-%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(s->dir), "mkdtemp %s: %s", s->dir, strerror(errno));
}

void support_scratch_fini(struct support_scratch *s)
{
    support_kill_all(&s->children);
    if (s->dir[0])
        support_remove_tree(s->dir);
    s->dir[0] = '\0';
}

void support_scratch_path(struct support_scratch *s, const char *what, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s.%u", s->dir, what, s->seq++);
    cr_assert(n > 0 && (size_t)n < cap, "path too long: %s/%s", s->dir, what);
}

void support_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0, "cannot write %s: %s", path, strerror(errno));
}

char *support_slurp_in(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return support_slurp(path, NULL);
}

void support_write_in(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    support_write_file(path, text);
}

bool support_exists_in(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

void support_start(struct support_scratch *s, struct support_child *c, const char *const *args,
                   unsigned flags)
{
    support_scratch_path(s, "stdout", c->out, sizeof c->out);
    if (flags & SUPPORT_ERR_TO_OUT)
        snprintf(c->err, sizeof c->err, "%s", c->out);
    else
        support_scratch_path(s, "stderr", c->err, sizeof c->err);
    int out_fd = open(c->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(out_fd, 0, "%s: %s", c->out, strerror(errno));
    int err_fd = out_fd;
    if (!(flags & SUPPORT_ERR_TO_OUT)) {
        err_fd = open(c->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        cr_assert_geq(err_fd, 0, "%s: %s", c->err, strerror(errno));
    }
    c->pid = spawn_child(&s->children, KMSLOAD_BINARY, args, out_fd, err_fd, 0, s->env);
    close(out_fd);
    if (err_fd != out_fd)
        close(err_fd);
}

int support_finish(struct support_scratch *s, struct support_child *c, unsigned timeout_ms)
{
    int status = 0;
    cr_assert_eq(support_wait(&s->children, c->pid, timeout_ms, &status), 0,
                 "kmsload did not end within %u ms", timeout_ms);
    if (WIFSIGNALED(status))
        cr_log_warn("kmsload died of signal %d", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct support_result support_run(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                  const char *const *args)
{
    struct support_child c;
    support_start(s, &c, args, flags);
    struct support_result r = {support_finish(s, &c, timeout_ms), NULL, NULL};
    r.out = support_slurp(c.out, NULL);
    r.err = (flags & SUPPORT_ERR_TO_OUT) ? strdup("") : support_slurp(c.err, NULL);
    cr_assert(r.out && r.err, "cannot read %s or %s", c.out, c.err);
    return r;
}

struct support_result support_runl(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                   const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct support_result r = support_runv(s, timeout_ms, flags, first, ap);
    va_end(ap);
    return r;
}

struct support_result support_runv(struct support_scratch *s, unsigned timeout_ms, unsigned flags,
                                   const char *first, va_list ap)
{
    const char *args[40];
    size_t n = 0;
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        cr_assert_lt(n, sizeof args / sizeof args[0] - 1, "too many arguments");
        args[n++] = a;
    }
    args[n] = NULL;
    return support_run(s, timeout_ms, flags, args);
}

void support_result_free(struct support_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

bool support_read_line(int fd, char *line, size_t cap, unsigned timeout_ms)
{
    size_t n = 0;
    uint64_t end = support_now_ms() + timeout_ms;
    while (n + 1 < cap) {
        uint64_t now = support_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
            break;
        char ch;
        if (read(fd, &ch, 1) <= 0)
            break;
        if (ch == '\n') {
            line[n] = '\0';
            return true;
        }
        line[n++] = ch;
    }
    line[n] = '\0';
    return false;
}

void support_host_start(struct support_scratch *s, struct support_host *h, const char *const *extra)
{
    memset(h, 0, sizeof *h);
    const char *args[24] = {"host", "--listen", "127.0.0.1:0"};
    size_t n = 3;
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    char err_path[128];
    support_scratch_path(s, "host-err", err_path, sizeof err_path);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    cr_assert_geq(err_fd, 0);
    h->pid = support_spawn(&s->children, KMSLOAD_BINARY, args, fds[1], err_fd);
    close(fds[1]);
    close(err_fd);
    h->out_pipe = fds[0];
    char line[256];
    cr_assert(support_read_line(h->out_pipe, line, sizeof line, 5000),
              "host printed no line: \"%s\"", line);
    const char prefix[] = "kmsload host: listening on 127.0.0.1:";
    cr_assert(strncmp(line, prefix, sizeof prefix - 1) == 0, "first line: \"%s\"", line);
    h->port = (uint16_t)atoi(line + sizeof prefix - 1);
    cr_assert_neq(h->port, 0, "port in \"%s\"", line);
    snprintf(h->target, sizeof h->target, "127.0.0.1:%u", h->port);
}

void support_host_stop(struct support_scratch *s, struct support_host *h)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGINT);
    int status;
    support_wait(&s->children, h->pid, 5000, &status);
    close(h->out_pipe);
    h->pid = 0;
}

char *support_http(unsigned port, const char *method, const char *path, unsigned timeout_ms,
                   int *status, char *headers, size_t headers_cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    cr_assert_eq(send(fd, req, (size_t)n, 0), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    uint64_t end = support_now_ms() + timeout_ms;
    for (;;) {
        uint64_t now = support_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert(now < end && poll(&p, 1, (int)(end - now)) > 0, "no complete answer in %u ms",
                  timeout_ms);
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    cr_assert_eq(sscanf(buf, "HTTP/1.%*d %d", status), 1, "status line: %.80s", buf);
    char *blank = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(blank, "no end of headers");
    if (headers)
        snprintf(headers, headers_cap, "%.*s", (int)(blank - buf), buf);
    char *body = strdup(blank + 4);
    free(buf);
    return body;
}
