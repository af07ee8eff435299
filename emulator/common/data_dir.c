#include "data_dir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KMSLOAD_DATADIR
#define KMSLOAD_DATADIR "/usr/local/share/kmsload"
#endif
#ifndef KMSLOAD_BIN_TO_DATADIR
#define KMSLOAD_BIN_TO_DATADIR "../share/kmsload"
#endif

/* The data directory relative to the program's own directory (/proc/self/exe), if it exists. */
static int beside_program(char *buf, size_t cap)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    char joined[1100], real[PATH_MAX];
    struct stat st;
    int w = snprintf(joined, sizeof joined, "%s/%s", exe, KMSLOAD_BIN_TO_DATADIR);
    if (w < 0 || (size_t)w >= sizeof joined || !realpath(joined, real) || stat(real, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return -1;
    w = snprintf(buf, cap, "%s", real);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

const char *data_dir(char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    if (beside_program(buf, cap) == 0)
        return buf;
    int w = snprintf(buf, cap, "%s", KMSLOAD_DATADIR);
    if (w < 0 || (size_t)w >= cap)
        buf[0] = '\0';
    return buf;
}

const char *data_dir_path(const char *name, char *buf, size_t cap)
{
    char dir[1024];
    data_dir(dir, sizeof dir);
    int w = snprintf(buf, cap, "%s/%s", dir, name);
    if (cap && (!dir[0] || w < 0 || (size_t)w >= cap))
        buf[0] = '\0';
    return buf;
}
