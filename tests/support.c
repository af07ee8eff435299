#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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

pid_t support_spawn(struct support_children *ch, const char *binary, const char *const *args,
                    int out_fd, int err_fd)
{
    return support_spawn_limited(ch, binary, args, out_fd, err_fd, 0);
}

pid_t support_spawn_limited(struct support_children *ch, const char *binary,
                            const char *const *args, int out_fd, int err_fd,
                            unsigned long max_open_files)
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
