#include "scenario_locate.h"
#include "data_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The shipped scenario directories, in the order they are looked at: the installed copy (beside
 * the program, else under the configured prefix), then the source tree's. */
struct library_dirs {
    char installed[1024];
    const char *dirs[2];
};

static size_t library_dirs(struct library_dirs *l)
{
    size_t n = 0;
    if (*data_dir_path("scenarios", l->installed, sizeof l->installed))
        l->dirs[n++] = l->installed;
#ifdef KMSLOAD_SOURCE_SCENARIOS
    l->dirs[n++] = KMSLOAD_SOURCE_SCENARIOS;
#endif
    return n;
}

/* A bare name: no directory part; "smoke" or "smoke.ini". */
static int is_bare_name(const char *path)
{
    return path[0] && path[0] != '.' && !strchr(path, '/');
}

const char *scenario_locate(const char *path, char *buf, size_t cap)
{
    if (access(path, F_OK) == 0 || path[0] == '/')
        return path;
    char dir[1024];
    if (*data_dir(dir, sizeof dir) && (size_t)snprintf(buf, cap, "%s/%s", dir, path) < cap &&
        access(buf, R_OK) == 0)
        return buf;
    if (is_bare_name(path)) {
        size_t len = strlen(path);
        const char *ext = len > 4 && strcmp(path + len - 4, ".ini") == 0 ? "" : ".ini";
        struct library_dirs l;
        size_t n = library_dirs(&l);
        for (size_t i = 0; i < n; i++)
            if ((size_t)snprintf(buf, cap, "%s/%s%s", l.dirs[i], path, ext) < cap &&
                access(buf, R_OK) == 0)
                return buf;
    }
    return path;
}

int scenario_library_dir(char *buf, size_t cap)
{
    struct library_dirs l;
    size_t n = library_dirs(&l);
    for (size_t i = 0; i < n; i++) {
        if (access(l.dirs[i], R_OK | X_OK) == 0 &&
            (size_t)snprintf(buf, cap, "%s", l.dirs[i]) < cap)
            return 0;
    }
    return -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct scenario_entry *)a)->name,
                  ((const struct scenario_entry *)b)->name);
}

/* The first sentence of the file's top comment ("; smoke: a fast check." -> "a fast check."),
 * continued over the next comment lines when the first one stops mid-sentence. */
static void read_purpose(const char *path, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ';' && *p != '#')
            break; /* the comment on top is over */
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\r\n")] = '\0';
        if (!*p) {
            if (used)
                break; /* a blank comment line ends the paragraph */
            continue;
        }
        size_t name_len = strlen(name);
        if (used == 0 && strncmp(p, name, name_len) == 0 && p[name_len] == ':') {
            p += name_len + 1;
            while (*p == ' ')
                p++;
        }
        int w = snprintf(out + used, cap - used, "%s%s", used ? " " : "", p);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
        char last = out[used - 1];
        if (last == '.' || last == '?' || last == '!')
            break;
    }
    fclose(f);
}

/* Whether the file says "clock = real" (or "clock: real"): keys are never indented, and a
 * value ends at a space or a comment. */
static int says_real_clock(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int real = 0;
    while (!real && fgets(line, sizeof line, f)) {
        if (strncmp(line, "clock", 5) != 0)
            continue;
        const char *p = line + 5;
        p += strspn(p, " \t");
        if (*p != '=' && *p != ':')
            continue;
        p++;
        p += strspn(p, " \t");
        real = strncmp(p, "real", 4) == 0 && strchr(" \t;#\r\n", p[4]) != NULL && p[4];
    }
    fclose(f);
    return real;
}

int scenario_library_list(struct scenario_entry *out, size_t cap, char *dir, size_t dir_cap)
{
    if (scenario_library_dir(dir, dir_cap) != 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < cap) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || len - 4 >= sizeof out[n].name || strcmp(de->d_name + len - 4, ".ini") != 0)
            continue;
        snprintf(out[n].name, sizeof out[n].name, "%.*s", (int)(len - 4), de->d_name);
        char path[1024];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
            continue;
        read_purpose(path, out[n].name, out[n].purpose, sizeof out[n].purpose);
        out[n].real_clock = says_real_clock(path);
        n++;
    }
    closedir(d);
    qsort(out, n, sizeof *out, by_name);
    return (int)n;
}
