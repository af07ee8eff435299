/* A run's output directory: events.csv, summary.json, junit.xml. */
#include "run_dir.h"

#include "csv_cell.h"

#include "hresult.h"
#include "wintypes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENTS_BUFFER (1u << 20)
#define EVENTS_NAME "events.csv"
#define SUMMARY_NAME "summary.json"
#define JUNIT_NAME "junit.xml"

static const char EVENTS_HEADER[] =
    "seq,wall_s,sim_s,client_time,machine,cmid,population,application,product,protocol,ndr,"
    "n_policy,outcome,hresult,hresult_name,count,expected_lo,expected_hi,model,latency_us,epid,"
    "hwid,detail\n";

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- directory ---- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: creates every missing component; fails when one exists and is not a directory. */
static int mkdir_p(const char *dir, char *err, size_t err_len)
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

/* ---- events.csv ---- */

static size_t bounded_len(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

/* One text field: neutralised for spreadsheets, quoted with doubled quotes (RFC 4180) when it
 * needs it. */
static void csv_text(FILE *f, const char *s, size_t max)
{
    csv_cell_write(f, s, max, false);
}

static bool outcome_has_status(enum kms_outcome outcome)
{
    return outcome == KMS_OUTCOME_ACTIVATED || outcome == KMS_OUTCOME_BELOW_THRESHOLD ||
           outcome == KMS_OUTCOME_HOST_ERROR || outcome == KMS_OUTCOME_RPC_FAULT;
}

static const char *event_status_name(enum kms_outcome outcome, uint32_t code)
{
    if (outcome == KMS_OUTCOME_RPC_FAULT)
        return rpc_fault_name(code);
    if (code == 0)
        return "S_OK";
    return hresult_name(code);
}

int run_dir_open(struct run_dir *r, const char *dir, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (!dir || strlen(dir) >= sizeof r->dir) {
        set_err(err, err_len, "output directory name %s", dir ? "too long" : "missing");
        return -1;
    }
    if (mkdir_p(dir, err, err_len) != 0)
        return -1;
    memcpy(r->dir, dir, strlen(dir) + 1);
    /* "out/" and "out" name the same directory. */
    size_t len = strlen(r->dir);
    while (len > 1 && r->dir[len - 1] == '/')
        r->dir[--len] = '\0';

    char path[sizeof r->dir + 32];
    if (join_path(path, sizeof path, r->dir, EVENTS_NAME, "") != 0) {
        set_err(err, err_len, "output directory name too long");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        set_err(err, err_len, "cannot open %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    r->events_buf = malloc(EVENTS_BUFFER);
    if (r->events_buf)
        setvbuf(f, r->events_buf, _IOFBF, EVENTS_BUFFER);
    r->events = f;
    fputs(EVENTS_HEADER, f);
    if (fflush(f) != 0) {
        set_err(err, err_len, "cannot write %s: %s", path, strerror(errno));
        fclose(f);
        free(r->events_buf);
        r->events = NULL;
        r->events_buf = NULL;
        return -1;
    }
    return 0;
}

int run_dir_event(struct run_dir *r, const struct run_event *ev)
{
    FILE *f = r->events;
    if (!f)
        return -1;
    char cmid[GUID_TEXT_LEN + 1], when[32] = "";
    guid_format(&ev->cmid, cmid);
    if (ev->client_time != 0)
        filetime_format(ev->client_time, when);
    fprintf(f, "%" PRIu64 ",%.6f,%.6f,%s,%" PRIu32 ",%s,", ev->seq, ev->wall_s,
            (double)ev->sim_us / 1e6, when, ev->machine, cmid);
    csv_text(f, ev->population, 256);
    putc(',', f);
    csv_text(f, ev->app_key, 256);
    putc(',', f);
    csv_text(f, ev->product_key, 256);
    fprintf(f, ",%u,%s,%u,%s,", ev->protocol, ev->ndr == RPC_NDR64 ? "ndr64" : "ndr32",
            ev->n_policy, kms_outcome_name(ev->outcome));
    if (outcome_has_status(ev->outcome) || ev->hresult != 0) {
        fprintf(f, "0x%08" PRIX32 ",", ev->hresult);
        csv_text(f, event_status_name(ev->outcome, ev->hresult), 256);
    } else {
        putc(',', f);
    }
    putc(',', f);
    if (ev->count >= 0)
        fprintf(f, "%" PRId64, ev->count);
    if (ev->model_checked)
        fprintf(f, ",%u,%u,%s,", ev->expected_lo, ev->expected_hi,
                ev->model_agrees ? "agree" : "DISAGREE");
    else
        fputs(",,,-,", f);
    fprintf(f, "%" PRIu64 ",", ev->latency_us);
    csv_text(f, ev->epid, sizeof ev->epid);
    putc(',', f);
    if (ev->has_hwid) {
        char hw[2 * sizeof ev->hwid + 1];
        hex_format(ev->hwid, sizeof ev->hwid, hw);
        fputs(hw, f);
    }
    putc(',', f);
    csv_text(f, ev->detail, sizeof ev->detail);
    putc('\n', f);
    r->rows++;
    return ferror(f) ? -1 : 0;
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

/* ---- atomic files ---- */

int run_dir_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int run_dir_write_atomic(const char *path, const char *data, size_t len, char *err, size_t err_len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        set_err(err, err_len, "file name too long: %s", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        set_err(err, err_len, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (run_dir_write_all(fd, data, len) != 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        set_err(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        set_err(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, err_len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* Best effort: the file itself is complete either way. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
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
    return run_dir_write_atomic(path, data, len, err, err_len);
}

/* ---- text for JSON and XML ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return need + 1;
}

/* A JSON string of s (at most max bytes); bytes that are not UTF-8 become '?'. */
static json_t *jstr(const char *s, size_t max)
{
    size_t n = bounded_len(s, max);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0) {
            copy[o++] = '?';
            i++;
            continue;
        }
        memcpy(copy + o, u + i, k);
        o += k;
        i += k;
    }
    copy[o] = '\0';
    json_t *j = json_stringn(copy, o);
    free(copy);
    return j;
}

static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jint(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void run_dir_markup_text(FILE *f, const char *s, size_t max)
{
    size_t n = bounded_len(s, max);
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
            (k == 3 && c == 0xEF && u[i + 1] == 0xBF && u[i + 2] >= 0xBE)) {
            putc('?', f); /* not representable in XML 1.0 */
            i += k ? k : 1;
            continue;
        }
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '\n':
            fputs("&#10;", f);
            break;
        case '\r':
            fputs("&#13;", f);
            break;
        case '\t':
            fputs("&#9;", f);
            break;
        default:
            fwrite(u + i, 1, k, f);
            break;
        }
        i += k;
    }
}

/* ---- summary.json ---- */

static const char *pop_name(const struct run_info *info, size_t i, char *buf, size_t cap)
{
    const struct scenario *sc = info->scenario;
    if (sc && i < sc->n_pops && sc->pops[i].name[0])
        return sc->pops[i].name;
    snprintf(buf, cap, "population %zu", i + 1);
    return buf;
}

static int cmp_hresult(const void *a, const void *b)
{
    const struct tally_hresult *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->code < y->code ? -1 : x->code > y->code;
}

static json_t *expected_value(unsigned lo, unsigned hi, bool lower)
{
    if (lo > hi) /* the model could not judge this point */
        return json_null();
    return json_integer(lower ? lo : hi);
}

static json_t *summary_applications(const struct run_tally *t)
{
    json_t *apps = json_object();
    for (size_t i = 0; i < TALLY_MAX_APPS; i++) {
        const struct tally_app *a = &t->apps[i];
        if (!a->seen)
            continue;
        bool has_count = a->n_timeline > 0 || a->timeline_skipped > 0;
        json_t *ja = json_object();
        json_object_set_new(ja, "requests", jint(a->requests));
        json_object_set_new(ja, "max_count", has_count ? json_integer(a->max_count) : json_null());
        json_object_set_new(ja, "final_count",
                            has_count ? json_integer(a->last_count) : json_null());
        json_t *tl = json_array();
        for (size_t k = 0; k < a->n_timeline; k++) {
            const struct tally_point *p = &a->timeline[k];
            json_t *jp = json_object();
            json_object_set_new(jp, "sim_s", jreal((double)p->sim_us / 1e6));
            json_object_set_new(jp, "wall_s", jreal(p->wall_s));
            json_object_set_new(jp, "count", json_integer(p->count));
            json_object_set_new(jp, "expected_lo",
                                expected_value(p->expected_lo, p->expected_hi, true));
            json_object_set_new(jp, "expected_hi",
                                expected_value(p->expected_lo, p->expected_hi, false));
            json_array_append_new(tl, jp);
        }
        json_object_set_new(ja, "timeline", tl);
        json_object_set_new(ja, "timeline_points_skipped", jint(a->timeline_skipped));
        json_object_set_new(apps, a->key, ja);
    }
    return apps;
}

static json_t *summary_populations(const struct run_info *info, const struct run_tally *t)
{
    json_t *pops = json_object();
    for (size_t i = 0; i < t->n_pops; i++) {
        const struct tally_population *p = &t->pops[i];
        char buf[32];
        json_t *jp = json_object();
        json_object_set_new(jp, "machines", json_integer(p->machines));
        json_object_set_new(jp, "requests", jint(p->requests));
        json_object_set_new(jp, "activated_responses", jint(p->activated_responses));
        json_object_set_new(jp, "activated_machines", json_integer(p->activated_machines));
        json_t *fa = json_null();
        if (p->crossed) {
            fa = json_object();
            json_object_set_new(fa, "request", jint(p->first_activation_seq));
            json_object_set_new(fa, "sim_s", jreal((double)p->first_activation_sim_us / 1e6));
            json_object_set_new(fa, "wall_s", jreal(p->first_activation_wall_s));
            json_object_set_new(fa, "count", json_integer(p->first_activation_count));
            json_object_set_new(fa, "machine", json_integer(p->first_activation_machine));
        }
        json_object_set_new(jp, "first_activation", fa);
        json_object_set_new(pops, pop_name(info, i, buf, sizeof buf), jp);
    }
    return pops;
}

static json_t *summary_model(const struct run_tally *t)
{
    json_t *jm = json_object();
    json_object_set_new(jm, "checked", jint(t->model_checked));
    json_object_set_new(jm, "mismatches", jint(t->model_mismatches));
    json_t *fm = json_null();
    if (t->has_first_mismatch) {
        const struct run_event *m = &t->first_mismatch;
        char cmid[GUID_TEXT_LEN + 1];
        guid_format(&m->cmid, cmid);
        fm = json_object();
        json_object_set_new(fm, "request", jint(m->seq));
        json_object_set_new(fm, "sim_s", jreal((double)m->sim_us / 1e6));
        json_object_set_new(fm, "machine", json_integer(m->machine));
        json_object_set_new(fm, "cmid", json_string(cmid));
        json_object_set_new(fm, "population", jstr(m->population, 256));
        json_object_set_new(fm, "application", jstr(m->app_key, 256));
        json_object_set_new(fm, "count", m->count >= 0 ? json_integer(m->count) : json_null());
        json_object_set_new(fm, "expected_lo", json_integer(m->expected_lo));
        json_object_set_new(fm, "expected_hi", json_integer(m->expected_hi));
        json_object_set_new(fm, "reason", jstr(m->model_reason, sizeof m->model_reason));
    }
    json_object_set_new(jm, "first_mismatch", fm);
    return jm;
}

static json_t *summary_latency(const struct histogram *h)
{
    json_t *jl = json_object();
    json_object_set_new(jl, "count", jint(h->count));
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
    if (h->count == 0) {
        const char *names[] = {"min", "mean", "p50", "p90", "p99", "p999", "max"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            json_object_set_new(jl, names[i], json_null());
        return jl;
    }
    json_object_set_new(jl, "min", jint(h->min));
    json_object_set_new(jl, "mean", jreal(histogram_mean(h)));
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        json_object_set_new(jl, qs[i].name, jint(histogram_quantile(h, qs[i].q)));
    json_object_set_new(jl, "max", jint(h->max));
    return jl;
}

static json_t *summary_json(const struct run_info *info, const struct run_tally *t,
                            const struct expect_result *results, size_t n_results)
{
    const struct scenario *sc = info->scenario;
    json_t *root = json_object();
    if (!root)
        return NULL;
    json_object_set_new(root, "kmsload",
                        jstr(info->kmsload_version ? info->kmsload_version : "unknown", 64));
    json_t *js = json_object();
    json_object_set_new(js, "name", jstr(sc ? sc->name : "", SCENARIO_NAME_MAX));
    json_object_set_new(js, "path", jstr(sc ? sc->path : "", sizeof sc->path));
    json_object_set_new(js, "description", jstr(sc ? sc->description : "", SCENARIO_TEXT_MAX));
    json_object_set_new(root, "scenario", js);
    json_object_set_new(root, "target", jstr(info->target ? info->target : "", 512));
    json_object_set_new(root, "embedded_host", json_boolean(info->embedded_host));
    json_object_set_new(
        root, "clock", json_string(sc && sc->clock == SCENARIO_CLOCK_VIRTUAL ? "virtual" : "real"));
    json_object_set_new(root, "seed", jint(info->seed));
    json_t *shard = json_object();
    json_object_set_new(shard, "index", json_integer(info->shard_index));
    json_object_set_new(shard, "count", json_integer(info->shard_count ? info->shard_count : 1));
    json_object_set_new(root, "shard", shard);
    json_object_set_new(root, "started_at",
                        info->started_at ? jstr(info->started_at, 64) : json_null());
    json_object_set_new(root, "interrupted", json_boolean(info->interrupted));
    json_object_set_new(
        root, "interrupt_reason",
        info->interrupted
            ? jstr(info->interrupt_reason ? info->interrupt_reason : "interrupted", 256)
            : json_null());
    json_object_set_new(root, "wall_seconds", jreal(info->wall_seconds));
    json_object_set_new(root, "simulated_seconds", jreal((double)info->sim_us / 1e6));
    json_object_set_new(root, "requests", jint(t->requests));
    json_object_set_new(
        root, "throughput",
        jreal(info->wall_seconds > 0 ? (double)t->requests / info->wall_seconds : 0.0));

    json_t *outcomes = json_object();
    for (size_t i = 0; i < KMS_OUTCOME__COUNT; i++)
        json_object_set_new(outcomes, kms_outcome_name((enum kms_outcome)i), jint(t->outcomes[i]));
    json_object_set_new(root, "outcomes", outcomes);

    struct tally_hresult sorted[TALLY_MAX_HRESULTS];
    size_t nh = t->n_hresults < TALLY_MAX_HRESULTS ? t->n_hresults : TALLY_MAX_HRESULTS;
    memcpy(sorted, t->hresults, nh * sizeof sorted[0]);
    qsort(sorted, nh, sizeof sorted[0], cmp_hresult);
    json_t *hr = json_array();
    uint64_t tabled = 0;
    for (size_t i = 0; i < nh; i++) {
        char code[16];
        snprintf(code, sizeof code, "0x%08" PRIX32, sorted[i].code);
        json_t *jh = json_object();
        json_object_set_new(jh, "code", json_string(code));
        json_object_set_new(jh, "name", json_string(status_name(sorted[i].code)));
        json_object_set_new(jh, "n", jint(sorted[i].n));
        json_array_append_new(hr, jh);
        tabled += sorted[i].n;
    }
    uint64_t all = t->outcomes[KMS_OUTCOME_HOST_ERROR] + t->outcomes[KMS_OUTCOME_RPC_FAULT];
    if (all > tabled) { /* codes beyond the table's room */
        json_t *jh = json_object();
        json_object_set_new(jh, "code", json_null());
        json_object_set_new(jh, "name", json_string("other codes"));
        json_object_set_new(jh, "n", jint(all - tabled));
        json_array_append_new(hr, jh);
    }
    json_object_set_new(root, "hresults", hr);
    json_object_set_new(root, "latency_us", summary_latency(&t->latency));
    json_object_set_new(root, "applications", summary_applications(t));
    json_object_set_new(root, "populations", summary_populations(info, t));
    json_object_set_new(root, "model", summary_model(t));

    json_t *ex = json_array();
    bool passed = true;
    for (size_t i = 0; i < n_results; i++) {
        const struct expect_result *r = &results[i];
        const struct scenario_expectation *e = r->expectation;
        json_t *je = json_object();
        json_object_set_new(je, "expectation", jstr(e ? e->text : "", sizeof e->text));
        json_object_set_new(je, "line", json_integer(e ? e->line : 0));
        json_object_set_new(je, "passed", json_boolean(r->passed));
        json_object_set_new(je, "observed", jstr(r->observed, sizeof r->observed));
        json_array_append_new(ex, je);
        passed = passed && r->passed;
    }
    json_object_set_new(root, "expectations", ex);
    json_object_set_new(root, "passed", json_boolean(passed));
    return root;
}

/* ---- junit.xml ---- */

static char *junit_xml(const struct run_info *info, const struct expect_result *results,
                       size_t n_results, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    const struct scenario *sc = info->scenario;
    const char *name = sc && sc->name[0] ? sc->name : "run";
    size_t failures = 0;
    for (size_t i = 0; i < n_results; i++)
        failures += !results[i].passed;
    size_t tests = n_results + (info->interrupted ? 1 : 0);
    failures += info->interrupted ? 1 : 0;
    double secs = isfinite(info->wall_seconds) ? info->wall_seconds : 0.0;
    const char *reason = info->interrupt_reason ? info->interrupt_reason : "interrupted";

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", tests, failures,
            secs);
    fputs("  <testsuite name=\"kmsload: ", f);
    run_dir_markup_text(f, name, SCENARIO_NAME_MAX);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
            tests, failures, secs);
    fputs("    <properties>\n", f);
    fputs("      <property name=\"target\" value=\"", f);
    run_dir_markup_text(f, info->target, 512);
    fprintf(f, "\"/>\n      <property name=\"seed\" value=\"%" PRIu64 "\"/>\n", info->seed);
    if (sc) {
        fputs("      <property name=\"scenario\" value=\"", f);
        run_dir_markup_text(f, sc->path, sizeof sc->path);
        fputs("\"/>\n", f);
    }
    fputs("    </properties>\n", f);
    for (size_t i = 0; i < n_results; i++) {
        const struct expect_result *r = &results[i];
        const struct scenario_expectation *e = r->expectation;
        fputs("    <testcase classname=\"kmsload.", f);
        run_dir_markup_text(f, name, SCENARIO_NAME_MAX);
        fputs("\" name=\"", f);
        run_dir_markup_text(f, e ? e->text : "", e ? sizeof e->text : 1);
        fputs("\" time=\"0\">\n", f);
        if (r->passed) {
            fputs("      <system-out>", f);
        } else {
            fputs("      <failure message=\"", f);
            run_dir_markup_text(f, r->observed, sizeof r->observed);
            fputs("\"/>\n      <system-out>", f);
        }
        if (e)
            fprintf(f, "line %u: ", e->line);
        run_dir_markup_text(f, r->observed, sizeof r->observed);
        fputs("</system-out>\n    </testcase>\n", f);
    }
    if (info->interrupted) {
        fputs("    <testcase classname=\"kmsload.", f);
        run_dir_markup_text(f, name, SCENARIO_NAME_MAX);
        fputs("\" name=\"run completed\" time=\"0\">\n      <failure message=\"interrupted: ", f);
        run_dir_markup_text(f, reason, 256);
        fputs("\"/>\n    </testcase>\n", f);
        fputs("    <system-out>The run was interrupted (", f);
        run_dir_markup_text(f, reason, 256);
        fputs(") before its end: the expectations were evaluated on what it had done by "
              "then.</system-out>\n",
              f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int run_dir_finish(struct run_dir *r, const struct run_info *info, const struct run_tally *t,
                   const struct expect_result *results, size_t n_results, char *err, size_t err_len)
{
    if (r->dir[0] == '\0') {
        set_err(err, err_len, "the output directory was never opened");
        return -1;
    }
    /* Every file is attempted; the first problem is the one reported. */
    char first[1024] = "";
    int rc = events_close(r, first, sizeof first);

    json_t *root = summary_json(info, t, results, n_results);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    char msg[1024];
    if (!text) {
        if (rc == 0)
            snprintf(first, sizeof first, "cannot build %s/%s: out of memory", r->dir,
                     SUMMARY_NAME);
        rc = -1;
    } else {
        size_t n = strlen(text);
        char *with_nl = realloc(text, n + 2);
        if (with_nl) {
            text = with_nl;
            text[n++] = '\n';
            text[n] = '\0';
        }
        if (write_atomic(r->dir, SUMMARY_NAME, text, n, msg, sizeof msg) != 0) {
            if (rc == 0)
                snprintf(first, sizeof first, "%s", msg);
            rc = -1;
        }
        free(text);
    }

    size_t xml_len = 0;
    char *xml = junit_xml(info, results, n_results, &xml_len);
    if (!xml) {
        if (rc == 0)
            snprintf(first, sizeof first, "cannot build %s/%s: out of memory", r->dir, JUNIT_NAME);
        rc = -1;
    } else {
        if (write_atomic(r->dir, JUNIT_NAME, xml, xml_len, msg, sizeof msg) != 0) {
            if (rc == 0)
                snprintf(first, sizeof first, "%s", msg);
            rc = -1;
        }
        free(xml);
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
