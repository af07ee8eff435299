#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int atomic_file_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 64 unpredictable bits for a temporary name: from the kernel, else the clock and the stack. */
static uint64_t random_suffix(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
        return r;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&ts ^
        (uint64_t)getpid() << 32;
    return r;
}

/* Creates a fresh temporary file for path; returns its descriptor or -1 (errno set). */
static int create_temporary(const char *path, mode_t mode, char *tmp, size_t cap)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        if ((size_t)snprintf(tmp, cap, "%s" ATOMIC_FILE_TMP_INFIX "%016llx", path,
                             (unsigned long long)random_suffix()) >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static int set_err(char *err, size_t err_len, const char *what, const char *path, int e)
{
    if (err && err_len)
        snprintf(err, err_len, "%s %s: %s", what, path, strerror(e));
    errno = e;
    return -1;
}

/* fsync of the directory holding path, so that the rename itself survives a crash. */
static int sync_directory(const char *path, char *err, size_t err_len)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return set_err(err, err_len, "cannot open the directory of", path, errno);
    /* Some file systems cannot sync a directory (EINVAL): the file itself is complete. */
    int rc = fsync(dfd) != 0 && errno != EINVAL ? errno : 0;
    close(dfd);
    return rc ? set_err(err, err_len, "cannot sync the directory of", path, rc) : 0;
}

int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
                      size_t err_len)
{
    char tmp[4096];
    int fd = create_temporary(path, mode, tmp, sizeof tmp);
    if (fd < 0)
        return set_err(err, err_len, "cannot create a temporary file for", path, errno);
    int e = 0;
    if (atomic_file_write_all(fd, data, len) != 0 || (fsync(fd) != 0 && errno != EINVAL))
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e != 0) {
        unlink(tmp);
        return set_err(err, err_len, "cannot write", tmp, e);
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return set_err(err, err_len, "cannot rename the temporary file over", path, e);
    }
    return sync_directory(path, err, err_len);
}
