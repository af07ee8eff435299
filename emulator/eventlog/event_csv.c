/*
 * CSV logs through libcsv, fed line by line (quoted fields may span lines, as a rendered
 * Message does): Get-WinEvent | Export-Csv, or `kmsload host --log` (told apart by its header).
 */
#include "errmsg.h"
#include "event_reader_parts.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_COLUMNS 32
#define CSV_FIELD_MAX 4096
#define CSV_LINE_MAX 65536

/* Columns of `kmsload host --log` (emulator/server/host_log.c writes them) that are read. */
enum host_col {
    HC_TIME,
    HC_HRESULT,
    HC_APP,
    HC_N_POLICY,
    HC_COUNT,
    HC_WORKSTATION,
    HC_CMID,
    HC_CLIENT_TIME,
    HC_VM,
    HC_LICENSE,
    HC_MINUTES,
    HC_SKU,
    HC_N
};
static const char *const host_cols[HC_N] = {"time",
                                            "hresult",
                                            "application",
                                            "n_policy",
                                            "count",
                                            "workstation",
                                            "cmid",
                                            "client_time",
                                            "vm",
                                            "license_status",
                                            "minutes_to_expiration",
                                            "sku_id"};

/* Export-Csv columns. */
enum ps_col { PC_TIME, PC_ID, PC_PROPERTIES, PC_MESSAGE, PC_N };
static const char *const ps_cols[PC_N] = {"TimeCreated", "Id", "Properties", "Message"};

struct csv_state {
    struct reader_ctx *c;
    char *fields[CSV_COLUMNS];
    size_t n;
    bool field_too_long;
    long record_line; /* line where the current record started, 0: none started */
    long line;
    uint64_t record; /* data records seen (the header is not one) */
    bool header_done;
    bool host_log;
    int col[HC_N]; /* HC_N > PC_N */ /* column index of each known column, -1 absent */
};

static void on_field(void *data, size_t len, void *arg)
{
    struct csv_state *s = arg;
    if (s->record_line == 0)
        s->record_line = s->line;
    if (s->n >= CSV_COLUMNS)
        return;
    if (len >= CSV_FIELD_MAX) {
        s->field_too_long = true;
        len = CSV_FIELD_MAX - 1;
    }
    memcpy(s->fields[s->n], data, len);
    s->fields[s->n][len] = '\0';
    s->n++;
}

static const char *col(const struct csv_state *s, int which)
{
    int i = s->col[which];
    return i >= 0 && (size_t)i < s->n ? s->fields[i] : NULL;
}

static int header(struct csv_state *s)
{
    struct reader_ctx *c = s->c;
    if (s->n == 1 && strncmp(s->fields[0], "#TYPE", 5) == 0)
        return 0; /* Windows PowerShell 5.1's type line, before the header */
    s->host_log =
        s->n > 1 && strcmp(s->fields[0], "time") == 0 && strcmp(s->fields[1], "peer") == 0;
    const char *const *names = s->host_log ? host_cols : ps_cols;
    int count = s->host_log ? HC_N : PC_N;
    for (int k = 0; k < count; k++) {
        s->col[k] = -1;
        for (size_t i = 0; i < s->n; i++)
            if (strcasecmp(s->fields[i], names[k]) == 0)
                s->col[k] = (int)i;
    }
    s->header_done = true;
    if (s->host_log) {
        c->stats->format = EVENT_FORMAT_HOST_LOG;
        for (int k = 0; k < HC_N; k++)
            if (s->col[k] < 0)
                return errmsg_set(c->err, c->err_len,
                                  "%s: line %ld: a kmsload host --log header without the \"%s\" "
                                  "column",
                                  c->name, s->line, host_cols[k]);
        return 0;
    }
    if (s->col[PC_TIME] < 0 || (s->col[PC_PROPERTIES] < 0 && s->col[PC_MESSAGE] < 0))
        return errmsg_set(c->err, c->err_len,
                          "%s: line %ld: not an event log export: a CSV export needs a "
                          "TimeCreated column and a Properties or Message column (see the "
                          "README for the Export-Csv command), or the header of kmsload host "
                          "--log",
                          c->name, s->line);
    return 0;
}

static int host_row(struct csv_state *s)
{
    struct reader_ctx *c = s->c;
    const char *n_policy = col(s, HC_N_POLICY);
    if (!n_policy || !*n_policy) { /* a request the host could not decode: no fields logged */
        c->stats->undecoded++;
        return 0;
    }
    int app = -1;
    const char *app_key = col(s, HC_APP);
    if (app_key && *app_key) {
        const struct catalog_app *a = catalog_find_app(c->cat, app_key);
        if (a)
            app = (int)(a - c->cat->apps);
    }
    long count = -1;
    const char *count_text = col(s, HC_COUNT);
    if (count_text && *count_text) {
        char *end;
        count = strtol(count_text, &end, 10);
        if (*end || count < 0 || count > 100000) {
            reader_bad(c, s->record, s->record_line, "count \"%.20s\" is not a number", count_text);
            return 0;
        }
    }
    const char *values[KMS_EVENT_FIELDS] = {
        col(s, HC_HRESULT),     n_policy,      col(s, HC_WORKSTATION), col(s, HC_CMID),
        col(s, HC_CLIENT_TIME), col(s, HC_VM), col(s, HC_LICENSE),     col(s, HC_MINUTES),
        col(s, HC_SKU)};
    for (int i = 0; i < KMS_EVENT_FIELDS; i++)
        if (!values[i]) {
            reader_bad(c, s->record, s->record_line, "%zu columns where the header has more", s->n);
            return 0;
        }
    return reader_event(c, s->record, s->record_line, col(s, HC_TIME), values, KMS_EVENT_FIELDS,
                        app, count);
}

static int ps_row(struct csv_state *s)
{
    struct reader_ctx *c = s->c;
    const char *id = col(s, PC_ID);
    if (id && *id && strtol(id, NULL, 10) != KMS_EVENT_ID) {
        c->stats->other_ids++;
        return 0;
    }
    const char *props = col(s, PC_PROPERTIES);
    if (props && strncmp(props, "System.", 7) == 0) {
        reader_bad(c, s->record, s->record_line,
                   "Properties holds a type name (\"%.40s\"): export the values joined, "
                   "@{n='Properties';e={$_.Properties.Value -join ','}} (see the README)",
                   props);
        return 0;
    }
    const char *value = props && *props ? props : col(s, PC_MESSAGE);
    if (!value) {
        reader_bad(c, s->record, s->record_line, "%zu columns where the header has more", s->n);
        return 0;
    }
    return reader_event(c, s->record, s->record_line, col(s, PC_TIME), &value, 1, -1, -1);
}

static void on_record(int term, void *arg)
{
    (void)term;
    struct csv_state *s = arg;
    struct reader_ctx *c = s->c;
    if (c->stopped || c->err[0]) {
        s->n = 0;
        return;
    }
    if (s->n == 1 && s->fields[0][0] == '\0') { /* a blank line */
    } else if (!s->header_done) {
        if (header(s) != 0)
            c->stopped = true;
    } else {
        s->record++;
        c->stats->records++;
        if (s->field_too_long)
            reader_bad(c, s->record, s->record_line, "a field longer than %d bytes",
                       CSV_FIELD_MAX - 1);
        else if (s->host_log)
            host_row(s);
        else
            ps_row(s);
    }
    s->n = 0;
    s->field_too_long = false;
    s->record_line = 0;
}

/* The next line (with its newline) into line; its length, 0 at the end, -1 when too long (the
 * rest of it is skipped). */
static long next_line(struct event_input *in, char *line)
{
    size_t n = 0;
    bool too_long = false;
    for (;;) {
        size_t have = event_input_fill(in, 1);
        if (have == 0)
            break;
        const char *p = in->buf + in->pos;
        const char *nl = memchr(p, '\n', have);
        size_t take = nl ? (size_t)(nl - p) + 1 : have;
        if (n + take > CSV_LINE_MAX)
            too_long = true;
        else
            memcpy(line + n, p, take);
        n = too_long ? n : n + take;
        in->pos += take;
        if (nl)
            break;
    }
    return too_long ? -1 : (long)n;
}

static int no_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

int event_read_csv(struct event_input *in, struct reader_ctx *c)
{
    struct csv_state *s = calloc(1, sizeof *s);
    char *line = malloc(CSV_LINE_MAX);
    char *store = malloc((size_t)CSV_COLUMNS * CSV_FIELD_MAX);
    struct csv_parser p;
    if (!s || !line || !store ||
        csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(s);
        free(line);
        free(store);
        return errmsg_set(c->err, c->err_len, "%s: out of memory", c->name);
    }
    csv_set_space_func(&p, no_space);
    for (int i = 0; i < CSV_COLUMNS; i++)
        s->fields[i] = store + (size_t)i * CSV_FIELD_MAX;
    s->c = c;
    c->err[0] = '\0';
    long n;
    while (!c->stopped && (n = next_line(in, line)) != 0) {
        s->line++;
        if (n < 0) {
            reader_bad(c, s->record + 1, s->line, "a line longer than %d bytes", CSV_LINE_MAX);
            csv_free(&p);
            csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
            csv_set_space_func(&p, no_space);
            s->n = 0;
            s->record_line = 0;
            continue;
        }
        if (csv_parse(&p, line, (size_t)n, on_field, on_record, s) != (size_t)n) {
            reader_bad(c, s->record + 1, s->record_line ? s->record_line : s->line,
                       "malformed CSV (%s)", csv_strerror(csv_error(&p)));
            csv_free(&p);
            csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
            csv_set_space_func(&p, no_space);
            s->n = 0;
            s->field_too_long = false;
            s->record_line = 0;
        }
    }
    if (!c->stopped && csv_fini(&p, on_field, on_record, s) != 0)
        reader_bad(c, s->record + 1, s->record_line ? s->record_line : s->line,
                   "the last record is cut short (an open quote at the end of the file)");
    csv_free(&p);
    int rc = 0;
    if (c->stopped)
        rc = -1;
    else if (!s->header_done)
        rc = errmsg_set(c->err, c->err_len, "%s: no header line", c->name);
    free(store);
    free(line);
    free(s);
    return rc;
}
