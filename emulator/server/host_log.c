#include "host_log.h"

#include "csv_cell.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char host_log_header[] =
    "time,peer,hresult,application,n_policy,count,workstation,cmid,client_time,vm,"
    "license_status,minutes_to_expiration,sku_id,kms_id,protocol,note\n";

/* The longest row: fixed fields, a peer and a neutralised, quoted workstation name. */
#define ROW_MAX 2048

int host_log_open(struct host_log *log, const char *path, const struct catalog *catalog, char *err,
                  size_t err_len)
{
    memset(log, 0, sizeof *log);
    log->fd = -1;
    log->catalog = catalog;
    snprintf(log->path, sizeof log->path, "%s", path);
    log->buf = malloc(HOST_LOG_BUFFER);
    if (!log->buf) {
        snprintf(err, err_len, "cannot open log %s: out of memory", path);
        return -1;
    }
    bool fresh = true;
    if (strcmp(path, "-") == 0) {
        snprintf(log->path, sizeof log->path, "standard output");
        log->fd = STDOUT_FILENO;
    } else {
        log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        struct stat st;
        if (log->fd < 0 || fstat(log->fd, &st) != 0) {
            snprintf(err, err_len, "cannot open log %s: %s", path, strerror(errno));
            if (log->fd >= 0)
                close(log->fd);
            log->fd = -1;
            free(log->buf);
            log->buf = NULL;
            return -1;
        }
        log->owns_fd = true;
        fresh = st.st_size == 0;
    }
    if (fresh) {
        memcpy(log->buf, host_log_header, sizeof host_log_header - 1);
        log->len = sizeof host_log_header - 1;
    }
    return 0;
}

struct row {
    char text[ROW_MAX];
    size_t len;
};

static void row_add(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void row_add(struct row *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n < sizeof r->text - r->len ? (size_t)n : sizeof r->text - r->len - 1;
}

/* A quoted cell, neutralised for spreadsheets (workstation names are chosen by clients). */
static void row_text(struct row *r, const char *s)
{
    char safe[4 * 200 + 2];
    csv_cell_neutralise(s, 200, safe, sizeof safe);
    row_add(r, "\"");
    for (const char *p = safe; *p; p++)
        row_add(r, *p == '"' ? "\"\"" : "%c", *p);
    row_add(r, "\"");
}

int host_log_flush(struct host_log *log, char *err, size_t err_len)
{
    if (log->fd < 0 || log->len == 0)
        return 0;
    /* Where the file ends before the write, so that a partial write can be taken back. */
    off_t before = lseek(log->fd, 0, SEEK_END);
    const char *p = log->buf;
    size_t left = log->len;
    int e = 0;
    while (left > 0) {
        ssize_t n = write(log->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    uint64_t rows = log->rows_pending;
    size_t written = (size_t)(p - log->buf);
    log->len = 0;
    log->rows_pending = 0;
    if (e == 0)
        return 0;
    if (written > 0 && before >= 0)
        (void)!ftruncate(log->fd, before); /* no torn row: the part that went out goes */
    log->rows_dropped += rows;
    if (!log->first_error)
        log->first_error = e;
    if (log->error_reported)
        return 0;
    log->error_reported = true;
    snprintf(err, err_len,
             "cannot write log %s: %s; %llu row%s lost, rows that cannot be written are counted "
             "and the total is reported at stop",
             log->path, strerror(e), (unsigned long long)rows, rows == 1 ? "" : "s");
    return -1;
}

static void row_append(struct host_log *log, const struct row *r)
{
    if (log->len + r->len > HOST_LOG_BUFFER) {
        char ignored[16];
        host_log_flush(log, ignored, sizeof ignored); /* a first failure is reported later */
    }
    memcpy(log->buf + log->len, r->text, r->len);
    log->len += r->len;
    log->rows_pending++;
}

void host_log_request(const struct host_request_record *rec, const char *peer, void *arg)
{
    struct host_log *log = arg;
    char t[24], g[GUID_TEXT_LEN + 1], ws[200];
    if (log->fd < 0)
        return;
    struct row r;
    r.len = 0;
    filetime_format(rec->host_time, t);
    row_add(&r, "%s,%s,0x%08X,%s", t, peer, rec->hresult,
            rec->app >= 0 ? log->catalog->apps[rec->app].key : "");
    if (!rec->decoded) {
        row_add(&r, ",,,,,,,,,,,,");
        if (rec->convention)
            row_text(&r, rec->convention);
        row_add(&r, "\n");
        row_append(log, &r);
        return;
    }
    const struct kms_request *q = &rec->request;
    row_add(&r, ",%u,", q->n_policy);
    if (rec->hresult == 0)
        row_add(&r, "%u", rec->count);
    row_add(&r, ",");
    kms_request_workstation(q, ws, sizeof ws);
    row_text(&r, ws);
    guid_format(&q->cmid, g);
    row_add(&r, ",%s,", g);
    filetime_format(q->client_time, t);
    row_add(&r, "%s,%u,%u,%u,", t, q->vm_info, q->license_status, q->binding_expiration);
    guid_format(&q->sku_id, g);
    row_add(&r, "%s,", g);
    guid_format(&q->kms_id, g);
    row_add(&r, "%s,%u.%u,", g, q->major, q->minor);
    if (rec->convention)
        row_text(&r, rec->convention);
    row_add(&r, "\n");
    r.text[r.len - 1] = '\n'; /* even if cut short (it cannot be), the row stays one whole line */
    row_append(log, &r);
}

int host_log_close(struct host_log *log, char *err, size_t err_len)
{
    int rc = 0;
    if (log->fd >= 0) {
        char first[600];
        host_log_flush(log, first, sizeof first);
        if (log->owns_fd && close(log->fd) != 0 && !log->first_error)
            log->first_error = errno; /* e.g. NFS reporting a failed write only now */
        if (log->first_error) {
            snprintf(err, err_len, "log %s: %llu row%s not written (%s)", log->path,
                     (unsigned long long)log->rows_dropped, log->rows_dropped == 1 ? "" : "s",
                     strerror(log->first_error));
            rc = -1;
        }
    }
    log->fd = -1;
    free(log->buf);
    log->buf = NULL;
    return rc;
}
