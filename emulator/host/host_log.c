#include "host_log.h"

#include "csv_cell.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char host_log_header[] =
    "time,peer,hresult,application,n_policy,count,workstation,cmid,client_time,vm,"
    "license_status,minutes_to_expiration,sku_id,kms_id,protocol\n";

int host_log_open(struct host_log *log, const char *path, const struct catalog *catalog, char *err,
                  size_t err_len)
{
    log->catalog = catalog;
    if (strcmp(path, "-") == 0) {
        log->file = stdout;
        fputs(host_log_header, log->file);
        return 0;
    }
    struct stat st;
    bool fresh = stat(path, &st) != 0 || st.st_size == 0;
    log->file = fopen(path, "a");
    if (!log->file) {
        snprintf(err, err_len, "cannot open log %s: %s", path, strerror(errno));
        return -1;
    }
    if (fresh)
        fputs(host_log_header, log->file);
    return 0;
}

/* CSV field: quoted, neutralised for spreadsheets (workstation names are chosen by clients). */
static void csv_text(FILE *f, const char *s)
{
    csv_cell_write(f, s, (size_t)-1, true);
}

void host_log_request(const struct host_request_record *rec, const char *peer, void *arg)
{
    struct host_log *log = arg;
    FILE *f = log->file;
    char t[24], g[GUID_TEXT_LEN + 1], ws[200];
    if (!f)
        return;
    filetime_format(rec->host_time, t);
    fprintf(f, "%s,%s,0x%08X,", t, peer, rec->hresult);
    fputs(rec->app >= 0 ? log->catalog->apps[rec->app].key : "", f);
    if (!rec->decoded) {
        fputs(",,,,,,,,,,,\n", f);
        return;
    }
    const struct kms_request *r = &rec->request;
    fprintf(f, ",%u,", r->n_policy);
    if (rec->hresult == 0)
        fprintf(f, "%u", rec->count);
    fputc(',', f);
    kms_request_workstation(r, ws, sizeof ws);
    csv_text(f, ws);
    guid_format(&r->cmid, g);
    fprintf(f, ",%s,", g);
    filetime_format(r->client_time, t);
    fprintf(f, "%s,%u,%u,%u,", t, r->vm_info, r->license_status, r->binding_expiration);
    guid_format(&r->sku_id, g);
    fprintf(f, "%s,", g);
    guid_format(&r->kms_id, g);
    fprintf(f, "%s,%u.%u\n", g, r->major, r->minor);
}

void host_log_close(struct host_log *log)
{
    if (log->file && log->file != stdout)
        fclose(log->file);
    else if (log->file)
        fflush(log->file);
    log->file = NULL;
}
