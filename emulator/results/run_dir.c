/* A run's output directory: events.csv, summary.json, junit.xml. */
#include "run_dir.h"

#include "atomic_file.h"
#include "errmsg.h"
#include "events_csv.h"
#include "junit_xml.h"
#include "summary_json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_BUFFER (1u << 20)
#define EVENTS_NAME "events.csv"
#define SUMMARY_NAME "summary.json"
#define JUNIT_NAME "junit.xml"

#define set_err errmsg_set

/* ---- directory ---- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: creates every missing component; fails when one exists and is not a directory. */
int run_dir_mkdir_p(const char *dir, char *err, size_t err_len)
{
    char path[sizeof((struct run_dir *)0)->dir];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path) {
        set_err(err, err_len, "output directory name %s", len ? "too long" : "empty");
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            set_err(err, err_len, "cannot create output directory %s: %s", path, strerror(errno));
            return -1;
        }
        if (!is_dir(path)) {
            set_err(err, err_len, "cannot create output directory %s: %s", path,
                    "a file of that name exists and is not a directory");
            return -1;
        }
        path[i] = saved;
    }
    return 0;
}

static int join_path(char *out, size_t cap, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, cap, "%s/%s%s", dir, name, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void run_dir_new_id(char id[RUN_ID_LEN + 1])
{
    uint8_t b[RUN_ID_LEN / 2];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x =
            (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 40;
        _Static_assert(sizeof b == sizeof x, "one 64-bit value fills the id");
        memcpy(b, &x, sizeof b);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
}

/* The files of a run, as run_dir_move_previous moves them. */
static const char *const RUN_FILES[] = {EVENTS_NAME,  SUMMARY_NAME, JUNIT_NAME,
                                        "index.html", "charts",     "coverage.md"};

/* The earlier run's id (from its summary.json), or a time stamp when it has none. */
static void previous_id(const char *dir, char *out, size_t cap)
{
    char path[600];
    json_t *root = NULL;
    char ignored[256];
    if (join_path(path, sizeof path, dir, SUMMARY_NAME, "") == 0)
        root = summary_json_load(path, ignored, sizeof ignored);
    const char *id = json_string_value(json_object_get(root, "run_id"));
    if (id && strspn(id, "0123456789abcdef") == strlen(id) && strlen(id) <= RUN_ID_LEN)
        snprintf(out, cap, "%s", id);
    else
        snprintf(out, cap, "%lld", (long long)time(NULL));
    json_decref(root);
}

int run_dir_move_previous(const char *dir, char *moved_to, size_t cap, char *err, size_t err_len)
{
    char from[600], to[700], id[32];
    moved_to[0] = '\0';
    bool any = false;
    for (size_t i = 0; i < sizeof RUN_FILES / sizeof RUN_FILES[0]; i++)
        any = any ||
              (join_path(from, sizeof from, dir, RUN_FILES[i], "") == 0 && access(from, F_OK) == 0);
    if (!any)
        return 0;
    previous_id(dir, id, sizeof id);
    if ((size_t)snprintf(moved_to, cap, "%s/previous-%s", dir, id) >= cap) {
        moved_to[0] = '\0';
        set_err(err, err_len, "output directory name too long");
        return -1;
    }
    if (mkdir(moved_to, 0777) != 0 && errno != EEXIST) {
        set_err(err, err_len, "cannot create %s: %s", moved_to, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof RUN_FILES / sizeof RUN_FILES[0]; i++) {
        if (join_path(from, sizeof from, dir, RUN_FILES[i], "") != 0 || access(from, F_OK) != 0)
            continue;
        snprintf(to, sizeof to, "%s/%s", moved_to, RUN_FILES[i]);
        if (rename(from, to) != 0) {
            set_err(err, err_len, "cannot move %s to %s: %s", from, to, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* ---- pruning previous-* folders ---- */

struct previous_entry {
    char name[256];
    struct timespec mtime;
};

/* A folder dir/name/ holding a kmsload run's files (summary.json or events.csv), not a link. */
static bool is_previous_run(const char *dir, const char *name, struct timespec *mtime)
{
    char path[1100], file[1200];
    struct stat st;
    if (strncmp(name, "previous-", 9) != 0 || name[9] == '\0' ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    *mtime = st.st_mtim;
    return (join_path(file, sizeof file, path, SUMMARY_NAME, "") == 0 && access(file, F_OK) == 0) ||
           (join_path(file, sizeof file, path, EVENTS_NAME, "") == 0 && access(file, F_OK) == 0);
}

/* rm -r path without following symbolic links. */
static int remove_tree(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        set_err(err, err_len, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            set_err(err, err_len, "cannot read %s: %s", path, strerror(errno));
            return -1;
        }
        const struct dirent *de;
        char child[1200];
        int rc = 0;
        while (rc == 0 && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (join_path(child, sizeof child, path, de->d_name, "") != 0) {
                set_err(err, err_len, "cannot remove %s: name too long", path);
                rc = -1;
            } else {
                rc = remove_tree(child, err, err_len);
            }
        }
        closedir(d);
        if (rc != 0)
            return -1;
        if (rmdir(path) != 0) {
            set_err(err, err_len, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (unlink(path) != 0) {
        set_err(err, err_len, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Newest first: a previous-* folder's mtime is when the run's files were moved into it. */
static int newest_first(const void *a, const void *b)
{
    const struct previous_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return strcmp(y->name, x->name);
}

int run_dir_prune_previous(const char *dir, unsigned long keep, unsigned *removed, char *err,
                           size_t err_len)
{
    *removed = 0;
    DIR *d = opendir(dir);
    if (!d) {
        set_err(err, err_len, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    struct previous_entry *list = NULL;
    size_t n = 0, cap = 0;
    const struct dirent *de;
    struct timespec mtime;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (strlen(de->d_name) >= sizeof list->name || !is_previous_run(dir, de->d_name, &mtime))
            continue;
        if (n == cap) {
            size_t grown = cap ? 2 * cap : 16;
            struct previous_entry *more = realloc(list, grown * sizeof *list);
            if (!more) {
                set_err(err, err_len, "out of memory");
                rc = -1;
                break;
            }
            list = more;
            cap = grown;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", de->d_name);
        list[n++].mtime = mtime;
    }
    closedir(d);
    if (rc == 0 && n > keep) {
        qsort(list, n, sizeof *list, newest_first);
        char path[1100];
        for (size_t i = keep; i < n && rc == 0; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, list[i].name);
            rc = remove_tree(path, err, err_len);
            if (rc == 0)
                (*removed)++;
        }
    }
    free(list);
    return rc;
}

/* events.csv created afresh: never through a planted file or symlink. */
static FILE *create_events(struct run_dir *r, char *err, size_t err_len)
{
    char path[sizeof r->dir + 32];
    if (join_path(path, sizeof path, r->dir, EVENTS_NAME, "") != 0) {
        set_err(err, err_len, "output directory name too long");
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        set_err(err, err_len, "cannot open %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    r->events_buf = malloc(EVENTS_BUFFER);
    if (r->events_buf)
        setvbuf(f, r->events_buf, _IOFBF, EVENTS_BUFFER);
    if (events_csv_write_header(f) != 0 || fflush(f) != 0) {
        set_err(err, err_len, "cannot write %s: %s", path, strerror(errno));
        fclose(f);
        free(r->events_buf);
        r->events_buf = NULL;
        return NULL;
    }
    return f;
}

int run_dir_open(struct run_dir *r, const char *dir, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (!dir || strlen(dir) >= sizeof r->dir) {
        set_err(err, err_len, "output directory name %s", dir ? "too long" : "missing");
        return -1;
    }
    if (run_dir_mkdir_p(dir, err, err_len) != 0)
        return -1;
    memcpy(r->dir, dir, strlen(dir) + 1);
    /* "out/" and "out" name the same directory. */
    size_t len = strlen(r->dir);
    while (len > 1 && r->dir[len - 1] == '/')
        r->dir[--len] = '\0';
    if (run_dir_move_previous(r->dir, r->previous, sizeof r->previous, err, err_len) != 0)
        return -1;
    run_dir_new_id(r->run_id);
    r->events = create_events(r, err, err_len);
    return r->events ? 0 : -1;
}

int run_dir_event(struct run_dir *r, const struct run_event *ev)
{
    if (!r->events)
        return -1;
    r->rows++;
    return events_csv_write_row(r->events, ev, r->run_id);
}

void run_dir_flush(struct run_dir *r)
{
    if (r->events)
        fflush(r->events);
}

/* Closes events.csv durably. */
static int events_close(struct run_dir *r, char *err, size_t err_len)
{
    if (!r->events)
        return 0;
    int rc = 0;
    if (fflush(r->events) != 0 || ferror(r->events)) {
        set_err(err, err_len, "cannot write %s/%s: %s", r->dir, EVENTS_NAME, strerror(errno));
        rc = -1;
    } else if (fsync(fileno(r->events)) != 0 && errno != EINVAL) {
        set_err(err, err_len, "cannot sync %s/%s: %s", r->dir, EVENTS_NAME, strerror(errno));
        rc = -1;
    }
    if (fclose(r->events) != 0 && rc == 0) {
        set_err(err, err_len, "cannot close %s/%s: %s", r->dir, EVENTS_NAME, strerror(errno));
        rc = -1;
    }
    r->events = NULL;
    free(r->events_buf);
    r->events_buf = NULL;
    return rc;
}

/* NAME in the run directory, atomically. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len, char *err,
                        size_t err_len)
{
    char path[600];
    if (join_path(path, sizeof path, dir, name, "") != 0) {
        set_err(err, err_len, "output directory name too long");
        return -1;
    }
    return atomic_file_write(path, data, len, 0666, err, err_len);
}

/* ---- text for JSON and XML ---- */

/* text as NAME in the run directory, atomically; the message in msg on failure. */
static int write_file(const struct run_dir *r, const char *name, char *text, size_t len, char *msg,
                      size_t msg_len)
{
    if (!text) {
        set_err(msg, msg_len, "cannot build %s/%s: out of memory", r->dir, name);
        return -1;
    }
    int rc = write_atomic(r->dir, name, text, len, msg, msg_len);
    free(text);
    return rc;
}

/* summary.json's text, newline-terminated (NULL when out of memory). */
static char *summary_text(const struct run_info *info, const struct run_tally *t,
                          const struct expect_result *results, size_t n_results, size_t *len)
{
    json_t *root = summary_json_build(info, t, results, n_results);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!text)
        return NULL;
    *len = strlen(text);
    char *with_nl = realloc(text, *len + 2);
    if (with_nl) {
        text = with_nl;
        text[(*len)++] = '\n';
        text[*len] = '\0';
    }
    return text;
}

int run_dir_finish(struct run_dir *r, const struct run_info *info, const struct run_tally *t,
                   const struct expect_result *results, size_t n_results, char *err, size_t err_len)
{
    if (r->dir[0] == '\0') {
        set_err(err, err_len, "the output directory was never opened");
        return -1;
    }
    /* Every file is attempted; a file that could not be written fails the verdict of those
     * written after it, and the first problem is the one reported. */
    struct run_info run = *info;
    if (!run.run_id)
        run.run_id = r->run_id;
    char first[1024] = "";
    int rc = events_close(r, first, sizeof first);
    if (rc != 0)
        run.write_error = first;
    size_t len = 0;
    char *text = summary_text(&run, t, results, n_results, &len);
    char msg[1024];
    if (write_file(r, SUMMARY_NAME, text, len, msg, sizeof msg) != 0) {
        if (rc == 0)
            snprintf(first, sizeof first, "%s", msg);
        run.write_error = first;
        rc = -1;
    }
    char *xml = junit_xml_build(&run, results, n_results, &len);
    if (write_file(r, JUNIT_NAME, xml, len, msg, sizeof msg) != 0) {
        if (rc == 0)
            snprintf(first, sizeof first, "%s", msg);
        rc = -1;
    }
    if (rc != 0)
        set_err(err, err_len, "%s", first);
    return rc;
}

static void sink_event(void *ctx, const struct run_event *ev)
{
    run_dir_event(ctx, ev);
}

static void sink_flush(void *ctx)
{
    run_dir_flush(ctx);
}

struct run_event_sink run_dir_sink(struct run_dir *r)
{
    return (struct run_event_sink){.event = sink_event, .flush = sink_flush, .ctx = r};
}

void run_dir_prune_said(const char *who, const char *dir, unsigned long keep_previous, FILE *msg)
{
    unsigned removed = 0;
    char why[1024];
    /* A folder that cannot be removed must not cost tonight's run: said, and the run goes on. */
    if (run_dir_prune_previous(dir, keep_previous, &removed, why, sizeof why))
        fprintf(msg, "%s: warning: --keep-previous: %s\n", who, why);
    if (removed)
        fprintf(msg, "%s: removed %u earlier run%s from %s/previous-* (--keep-previous %lu)\n", who,
                removed, removed == 1 ? "" : "s", dir, keep_previous);
}

int run_dir_open_kept(struct run_dir *r, const char *dir, unsigned long keep_previous, FILE *msg,
                      char *err, size_t err_len)
{
    if (run_dir_open(r, dir, err, err_len))
        return -1;
    if (r->previous[0])
        fprintf(msg, "kmsload run: %s held an earlier run: its files are now in %s\n", dir,
                r->previous);
    run_dir_prune_said("kmsload run", dir, keep_previous, msg);
    return 0;
}
