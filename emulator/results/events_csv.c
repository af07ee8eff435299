/* events.csv: the column table, the row writer and the streaming reader (see events_csv.h). */
#include "events_csv.h"

#include "csv_cell.h"
#include "hresult.h"
#include "wintypes.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_T_S 1e10   /* beyond any run: a malformed time */
#define MAX_FIELDS 256 /* a row with more is not one of ours */
#define NO_COLUMN ((size_t)-1)

/* ---- writing ---- */

/* One text field: neutralised for spreadsheets, quoted (RFC 4180) when it needs it. */
static void csv_text(FILE *f, const char *s, size_t max)
{
    csv_cell_write(f, s, max, false);
}

static bool has_status(const struct run_event *ev)
{
    enum kms_outcome o = ev->outcome;
    return o == KMS_OUTCOME_ACTIVATED || o == KMS_OUTCOME_BELOW_THRESHOLD ||
           o == KMS_OUTCOME_HOST_ERROR || o == KMS_OUTCOME_RPC_FAULT || ev->hresult != 0;
}

static const char *status_text(const struct run_event *ev)
{
    if (ev->outcome == KMS_OUTCOME_RPC_FAULT)
        return rpc_fault_name(ev->hresult);
    return ev->hresult == 0 ? "S_OK" : hresult_name(ev->hresult);
}

static void w_seq(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%" PRIu64, ev->seq);
}
static void w_wall(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%.6f", ev->wall_s);
}
static void w_sim(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%.6f", (double)ev->sim_us / 1e6);
}
static void w_client_time(FILE *f, const struct run_event *ev)
{
    char when[32];
    if (ev->client_time != 0) {
        filetime_format(ev->client_time, when);
        fputs(when, f);
    }
}
static void w_machine(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%" PRIu32, ev->machine);
}
static void w_cmid(FILE *f, const struct run_event *ev)
{
    char cmid[GUID_TEXT_LEN + 1];
    guid_format(&ev->cmid, cmid);
    fputs(cmid, f);
}
static void w_population(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->population, 256);
}
static void w_host(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->host ? ev->host : "", 256);
}
static void w_application(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->app_key, 256);
}
static void w_product(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->product_key, 256);
}
static void w_protocol(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%u", ev->protocol);
}
static void w_ndr(FILE *f, const struct run_event *ev)
{
    fputs(ev->ndr == RPC_NDR64 ? "ndr64" : "ndr32", f);
}
static void w_n_policy(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%u", ev->n_policy);
}
static void w_outcome(FILE *f, const struct run_event *ev)
{
    fputs(kms_outcome_name(ev->outcome), f);
}
static void w_hresult(FILE *f, const struct run_event *ev)
{
    if (has_status(ev))
        fprintf(f, "0x%08" PRIX32, ev->hresult);
}
static void w_hresult_name(FILE *f, const struct run_event *ev)
{
    if (has_status(ev))
        csv_text(f, status_text(ev), 256);
}
static void w_count(FILE *f, const struct run_event *ev)
{
    if (ev->count >= 0)
        fprintf(f, "%" PRId64, ev->count);
}
static void w_expected_lo(FILE *f, const struct run_event *ev)
{
    if (ev->model_checked)
        fprintf(f, "%u", ev->expected_lo);
}
static void w_expected_hi(FILE *f, const struct run_event *ev)
{
    if (ev->model_checked)
        fprintf(f, "%u", ev->expected_hi);
}
static void w_model(FILE *f, const struct run_event *ev)
{
    fputs(!ev->model_checked ? "-" : ev->model_agrees ? "agree" : "DISAGREE", f);
}
static void w_latency(FILE *f, const struct run_event *ev)
{
    fprintf(f, "%" PRIu64, ev->latency_us);
}
static void w_epid(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->epid, sizeof ev->epid);
}
static void w_hwid(FILE *f, const struct run_event *ev)
{
    char hw[2 * sizeof ev->hwid + 1];
    if (ev->has_hwid) {
        hex_format(ev->hwid, sizeof ev->hwid, hw);
        fputs(hw, f);
    }
}
static void w_detail(FILE *f, const struct run_event *ev)
{
    csv_text(f, ev->detail, sizeof ev->detail);
}

/* ---- parsing one field ---- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_time(const char *s, double *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0 || v > MAX_T_S)
        return false;
    *out = v;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 2 * n hex digits into n bytes; every digit checked before any is used. */
static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++)
        if (hex_digit(s[i]) < 0)
            return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
    return true;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool p_seq(const char *s, struct events_row *r)
{
    return parse_u64(s, UINT64_MAX, &r->ev.seq);
}
static bool p_wall(const char *s, struct events_row *r)
{
    return parse_time(s, &r->ev.wall_s);
}
static bool p_sim(const char *s, struct events_row *r)
{
    double d;
    if (!parse_time(s, &d))
        return false;
    r->ev.sim_us = llround(d * 1e6);
    return true;
}
/* "YYYY-MM-DD HH:MM:SS" as filetime_format writes it, or empty. */
static bool p_client_time(const char *s, struct events_row *r)
{
    int y, mo, d, h, mi, sec, used = 0;
    if (!*s)
        return true;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
        s[used] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 60 || y < 1601)
        return false;
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    r->ev.client_time = filetime_from_unix(t, 0);
    return true;
}
static bool p_machine(const char *s, struct events_row *r)
{
    uint64_t v;
    if (!parse_u64(s, UINT32_MAX, &v))
        return false;
    r->ev.machine = (uint32_t)v;
    return true;
}
static bool p_cmid(const char *s, struct events_row *r)
{
    return guid_parse(s, &r->ev.cmid) == 0;
}
static bool p_population(const char *s, struct events_row *r)
{
    copy_text(r->population, sizeof r->population, s);
    return true;
}
static bool p_host(const char *s, struct events_row *r)
{
    copy_text(r->host, sizeof r->host, s);
    return true;
}
static bool p_application(const char *s, struct events_row *r)
{
    copy_text(r->app, sizeof r->app, s);
    return true;
}
static bool p_product(const char *s, struct events_row *r)
{
    copy_text(r->product, sizeof r->product, s);
    return true;
}
static bool p_protocol(const char *s, struct events_row *r)
{
    uint64_t v;
    if (!parse_u64(s, 255, &v))
        return false;
    r->ev.protocol = (unsigned)v;
    return true;
}
static bool p_ndr(const char *s, struct events_row *r)
{
    r->ev.ndr = strcmp(s, "ndr64") == 0 ? RPC_NDR64 : RPC_NDR32;
    return strcmp(s, "ndr64") == 0 || strcmp(s, "ndr32") == 0;
}
static bool p_n_policy(const char *s, struct events_row *r)
{
    uint64_t v;
    if (!parse_u64(s, UINT32_MAX, &v))
        return false;
    r->ev.n_policy = (unsigned)v;
    return true;
}
static bool p_outcome(const char *s, struct events_row *r)
{
    return kms_outcome_parse(s, &r->ev.outcome);
}
static bool p_hresult(const char *s, struct events_row *r)
{
    uint8_t b[4];
    if (!*s)
        return true;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !parse_hex(s + 2, b, 4))
        return false;
    r->ev.hresult = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    r->has_status = true;
    return true;
}
static bool p_hresult_name(const char *s, struct events_row *r)
{
    copy_text(r->status_name, sizeof r->status_name, s);
    return true;
}
static bool p_count(const char *s, struct events_row *r)
{
    uint64_t v;
    if (!*s)
        return true; /* count stays -1 */
    if (!parse_u64(s, UINT32_MAX, &v))
        return false;
    r->ev.count = (int64_t)v;
    return true;
}
/* The model's range: empty when the model did not judge (checked against "model" afterwards). */
static bool p_expected(const char *s, unsigned *out, unsigned *given)
{
    uint64_t v;
    if (!*s)
        return true;
    if (!parse_u64(s, UINT32_MAX, &v))
        return false;
    *out = (unsigned)v;
    ++*given;
    return true;
}
static bool p_expected_lo(const char *s, struct events_row *r)
{
    return p_expected(s, &r->ev.expected_lo, &r->range_given);
}
static bool p_expected_hi(const char *s, struct events_row *r)
{
    return p_expected(s, &r->ev.expected_hi, &r->range_given);
}
static bool p_model(const char *s, struct events_row *r)
{
    r->ev.model_checked = strcmp(s, "-") != 0;
    r->ev.model_agrees = strcmp(s, "agree") == 0;
    return strcmp(s, "-") == 0 || strcmp(s, "agree") == 0 || strcmp(s, "DISAGREE") == 0;
}
static bool p_latency(const char *s, struct events_row *r)
{
    return parse_u64(s, UINT64_MAX, &r->ev.latency_us);
}
static bool p_epid(const char *s, struct events_row *r)
{
    copy_text(r->ev.epid, sizeof r->ev.epid, s);
    return true;
}
static bool p_hwid(const char *s, struct events_row *r)
{
    if (!*s)
        return true;
    r->ev.has_hwid = parse_hex(s, r->ev.hwid, sizeof r->ev.hwid);
    return r->ev.has_hwid;
}
static void w_failover(FILE *f, const struct run_event *ev)
{
    fputs(ev->failover ? "next-host" : "", f);
}
static bool p_failover(const char *s, struct events_row *r)
{
    r->ev.failover = strcmp(s, "next-host") == 0;
    return r->ev.failover || !*s;
}
static bool p_detail(const char *s, struct events_row *r)
{
    copy_text(r->ev.detail, sizeof r->ev.detail, s);
    return true;
}
/* The run's id: hex digits, at most 64. */
static bool p_run(const char *s, struct events_row *r)
{
    size_t n = strlen(s);
    copy_text(r->run_id, sizeof r->run_id, s);
    return n < sizeof r->run_id && strspn(s, "0123456789abcdef") == n;
}

/* ---- the table: the one place that lists the columns ---- */

struct events_column {
    const char *name;
    void (*write)(FILE *f, const struct run_event *ev); /* NULL: the run id */
    bool (*parse)(const char *text, struct events_row *row);
    bool optional; /* files written before the column was added lack it */
};

static const struct events_column columns[] = {
    {"seq", w_seq, p_seq, false},
    {"wall_s", w_wall, p_wall, false},
    {"sim_s", w_sim, p_sim, false},
    {"client_time", w_client_time, p_client_time, false},
    {"machine", w_machine, p_machine, false},
    {"cmid", w_cmid, p_cmid, false},
    {"population", w_population, p_population, false},
    {"application", w_application, p_application, false},
    {"product", w_product, p_product, false},
    {"protocol", w_protocol, p_protocol, false},
    {"ndr", w_ndr, p_ndr, false},
    {"n_policy", w_n_policy, p_n_policy, false},
    {"outcome", w_outcome, p_outcome, false},
    {"hresult", w_hresult, p_hresult, false},
    {"hresult_name", w_hresult_name, p_hresult_name, false},
    {"count", w_count, p_count, false},
    {"expected_lo", w_expected_lo, p_expected_lo, false},
    {"expected_hi", w_expected_hi, p_expected_hi, false},
    {"model", w_model, p_model, false},
    {"latency_us", w_latency, p_latency, false},
    {"epid", w_epid, p_epid, false},
    {"hwid", w_hwid, p_hwid, false},
    /* The KMS host asked (several hosts per run: --target dns:DOMAIN, [host NAME]); "" when
     * discovery found none, and in runs written before the column existed. */
    {"host", w_host, p_host, true},
    /* "next-host": this attempt got no answer and the contact went on to the next host. */
    {"failover", w_failover, p_failover, true},
    {"detail", w_detail, p_detail, false},
    {"run", NULL, p_run, true},
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

int events_csv_write_header(FILE *f)
{
    for (size_t i = 0; i < N_COLUMNS; i++)
        fprintf(f, "%s%s", i ? "," : "", columns[i].name);
    putc('\n', f);
    return ferror(f) ? -1 : 0;
}

size_t events_csv_columns(void)
{
    return N_COLUMNS;
}

int events_csv_write_row(FILE *f, const struct run_event *ev, const char *run_id)
{
    for (size_t i = 0; i < N_COLUMNS; i++) {
        if (i)
            putc(',', f);
        if (columns[i].write)
            columns[i].write(f, ev);
        else
            csv_text(f, run_id, 64);
    }
    putc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* ---- reading ---- */

struct events_csv_reader {
    FILE *f;
    bool own_file;
    char name[1024];
    struct csv_parser parser;
    char *line; /* one physical line, at most EVENTS_CSV_LINE_MAX bytes */
    unsigned long record_line, next_line;
    /* the record being assembled: fields back to back, each NUL-terminated */
    char *rec;
    size_t rec_len;
    size_t field_at[MAX_FIELDS];
    size_t n_fields;
    bool overflow; /* more fields or bytes than a row can have */
    bool record_done;
    bool cut_short;
    size_t header_fields;
    size_t column_at[N_COLUMNS]; /* the file's field index of each column */
};

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && err_len)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

static void on_field(void *data, size_t len, void *arg)
{
    struct events_csv_reader *r = arg;
    if (r->n_fields == MAX_FIELDS || r->rec_len + len + 1 > EVENTS_CSV_RECORD_MAX) {
        r->overflow = true;
        return;
    }
    r->field_at[r->n_fields++] = r->rec_len;
    memcpy(r->rec + r->rec_len, data, len);
    r->rec_len += len;
    r->rec[r->rec_len++] = '\0';
}

static void on_record(int terminator, void *arg)
{
    struct events_csv_reader *r = arg;
    (void)terminator;
    r->record_done = true;
}

/* Spaces are data: libcsv would trim them from unquoted fields. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/*
 * One physical line into r->line (newline kept). Returns its length, 0 at the end of the file,
 * -1 with a message: too long, a NUL byte, or a read error (never taken for the end).
 */
static long read_line(struct events_csv_reader *r, char *err, size_t err_len)
{
    size_t n = 0;
    int c;
    errno = 0;
    while ((c = getc(r->f)) != EOF) {
        if (c == '\0')
            return fail(err, err_len, "%s:%lu: NUL byte (not a text file?)", r->name, r->next_line);
        if (n == EVENTS_CSV_LINE_MAX)
            return fail(err, err_len,
                        "%s:%lu: line longer than %d bytes (not a kmsload "
                        "events.csv?)",
                        r->name, r->next_line, EVENTS_CSV_LINE_MAX);
        r->line[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (ferror(r->f))
        return fail(err, err_len, "%s:%lu: cannot read: %s", r->name, r->next_line,
                    strerror(errno ? errno : EIO));
    return (long)n;
}

/* The next record into r->rec: 1, 0 at the end (r->cut_short when mid-record), or -1. */
static int next_record(struct events_csv_reader *r, char *err, size_t err_len)
{
    r->rec_len = r->n_fields = 0;
    r->overflow = r->record_done = false;
    r->record_line = r->next_line;
    bool started = false;
    while (!r->record_done) {
        long n = read_line(r, err, err_len);
        if (n < 0)
            return -1;
        if (n == 0 || r->line[n - 1] != '\n') {
            /* The writer ends every row with a newline: anything else was cut short. */
            r->cut_short = started || n > 0;
            return 0;
        }
        started = true;
        r->next_line++;
        if (csv_parse(&r->parser, r->line, (size_t)n, on_field, on_record, r) != (size_t)n)
            return fail(err, err_len, "%s:%lu: malformed CSV (%s)", r->name, r->record_line,
                        csv_strerror(csv_error(&r->parser)));
        if (r->overflow)
            return fail(err, err_len, "%s:%lu: a row longer than %d fields or %d bytes", r->name,
                        r->record_line, MAX_FIELDS, EVENTS_CSV_RECORD_MAX);
    }
    return 1;
}

static const char *field(const struct events_csv_reader *r, size_t i)
{
    return r->rec + r->field_at[i];
}

/* The header: where each column of the table is. */
static int read_header(struct events_csv_reader *r, char *err, size_t err_len)
{
    int rc = next_record(r, err, err_len);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(err, err_len, "%s:1: empty file (no header line)", r->name);
    r->header_fields = r->n_fields;
    for (size_t k = 0; k < N_COLUMNS; k++) {
        size_t i = 0;
        while (i < r->n_fields && strcmp(field(r, i), columns[k].name) != 0)
            i++;
        if (i == r->n_fields && columns[k].optional)
            i = NO_COLUMN;
        else if (i == r->n_fields)
            return fail(err, err_len,
                        "%s:1: missing column \"%s\" in the header (not a kmsload events.csv?)",
                        r->name, columns[k].name);
        r->column_at[k] = i;
    }
    return 0;
}

struct events_csv_reader *events_csv_open_stream(FILE *f, const char *name, char *err,
                                                 size_t err_len)
{
    struct events_csv_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fail(err, err_len, "%s: out of memory", name);
        return NULL;
    }
    r->f = f;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->next_line = 1;
    r->line = malloc(EVENTS_CSV_LINE_MAX + 1);
    r->rec = malloc(EVENTS_CSV_RECORD_MAX);
    if (!r->line || !r->rec || csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fail(err, err_len, "%s: out of memory", name);
        free(r->line);
        free(r->rec);
        free(r);
        return NULL;
    }
    csv_set_space_func(&r->parser, no_space);
    if (read_header(r, err, err_len) != 0) {
        events_csv_close(r);
        return NULL;
    }
    return r;
}

struct events_csv_reader *events_csv_open(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fail(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct events_csv_reader *r = events_csv_open_stream(f, path, err, err_len);
    if (!r) {
        fclose(f);
        return NULL;
    }
    r->own_file = true;
    return r;
}

int events_csv_next(struct events_csv_reader *r, struct events_row *row, char *err, size_t err_len)
{
    int rc = next_record(r, err, err_len);
    if (rc <= 0)
        return rc;
    if (r->n_fields != r->header_fields)
        return fail(err, err_len, "%s:%lu: %zu fields where the header has %zu", r->name,
                    r->record_line, r->n_fields, r->header_fields);
    memset(row, 0, sizeof *row);
    row->ev.count = -1;
    row->ev.app = -1;
    row->ev.population_index = -1;
    for (size_t k = 0; k < N_COLUMNS; k++) {
        if (r->column_at[k] == NO_COLUMN)
            continue;
        const char *text = field(r, r->column_at[k]);
        if (!columns[k].parse(text, row))
            return fail(err, err_len, "%s:%lu: column %s: \"%.64s\" is not a valid value", r->name,
                        r->record_line, columns[k].name, text);
    }
    if (row->ev.model_checked && row->range_given != 2)
        return fail(err, err_len, "%s:%lu: column expected_lo: the model judged, but no range",
                    r->name, r->record_line);
    row->ev.population = row->population;
    row->ev.host = row->host;
    row->ev.host_index = -1; /* the reader knows no host set */
    row->ev.app_key = row->app;
    row->ev.product_key = row->product;
    return 1;
}

const char *events_csv_text(const struct events_csv_reader *r, const char *column)
{
    for (size_t k = 0; k < N_COLUMNS; k++)
        if (strcmp(columns[k].name, column) == 0)
            return r->column_at[k] < r->n_fields ? field(r, r->column_at[k]) : "";
    return NULL;
}

size_t events_csv_field_count(const struct events_csv_reader *r)
{
    return r->n_fields;
}

unsigned long events_csv_line(const struct events_csv_reader *r)
{
    return r->record_line;
}

bool events_csv_cut_short(const struct events_csv_reader *r)
{
    return r->cut_short;
}

void events_csv_close(struct events_csv_reader *r)
{
    if (!r)
        return;
    if (r->own_file)
        fclose(r->f);
    csv_free(&r->parser);
    free(r->line);
    free(r->rec);
    free(r);
}
