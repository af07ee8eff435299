/*
 * ConvertTo-Json output: an array of events (or one event). jansson has no streaming parser, so
 * each array element is cut out of the stream by a small scanner (strings, escapes and nesting)
 * and parsed alone: memory is the largest element (at most JSON_ELEMENT_MAX), never the file.
 */
#include "errmsg.h"
#include "event_reader_parts.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define JSON_ELEMENT_MAX (1024 * 1024)
#define JSON_VALUES 16

struct json_scan {
    struct event_input *in;
    long line;
    char *buf;
    size_t len;
};

/* The next byte, or -1 at the end. */
static int next_byte(struct json_scan *s)
{
    if (s->in->pos >= s->in->len && event_input_fill(s->in, 1) == 0)
        return -1;
    char ch = s->in->buf[s->in->pos++];
    if (ch == '\n')
        s->line++;
    return (unsigned char)ch;
}

static int next_nonspace(struct json_scan *s)
{
    int ch;
    while ((ch = next_byte(s)) == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
        ;
    return ch;
}

/*
 * Collects one value starting with first into s->buf (whitespace outside strings left out).
 * Returns the byte after it that is not part of it (for scalars: the delimiter) or 0 when the
 * value ended on its closing quote or bracket; -1 at the end of the input inside the value; -2
 * when it is too large. Works on the input buffer directly: this loop sees every byte of a
 * ConvertTo-Json export, which is mostly indentation.
 */
static int collect(struct json_scan *s, int first)
{
    s->len = 0;
    int depth = 0;
    bool in_string = false, escaped = false;
    struct event_input *in = s->in;
    int ch = first;
    for (;;) {
        if (ch < 0)
            return -1;
        bool blank = ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
        if (!in_string && depth == 0 && s->len > 0 &&
            (blank || ch == ',' || ch == ']' || ch == '}'))
            return ch; /* the end of a scalar */
        if (in_string || !blank) {
            if (s->len + 1 >= JSON_ELEMENT_MAX)
                return -2;
            s->buf[s->len++] = (char)ch;
        }
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"') {
                in_string = false;
                if (depth == 0)
                    return 0; /* a string scalar ends at its closing quote */
            }
        } else if (ch == '"')
            in_string = true;
        else if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth <= 0)
            return 0;
        /* The next byte: straight from the buffer while it lasts. */
        if (in->pos < in->len) {
            ch = (unsigned char)in->buf[in->pos++];
            if (ch == '\n')
                s->line++;
        } else
            ch = next_byte(s);
    }
}

/* A property value as text: strings as they are, numbers in decimal, {"Value": x} unwrapped. */
static const char *value_text(json_t *v, char *tmp, size_t cap)
{
    if (json_is_object(v)) {
        json_t *inner = json_object_get(v, "Value");
        if (!inner)
            inner = json_object_get(v, "value");
        v = inner;
    }
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, cap, "%lld", (long long)json_integer_value(v));
        return tmp;
    }
    if (json_is_real(v)) {
        snprintf(tmp, cap, "%.0f", json_real_value(v));
        return tmp;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "1" : "0";
    return "";
}

/* TimeCreated: "2026-12-07T23:18:38Z", "/Date(ms)/", or {"value": "/Date(ms)/", ...}. */
static const char *time_text(json_t *ev)
{
    json_t *t = json_object_get(ev, "TimeCreated");
    if (json_is_object(t)) {
        json_t *v = json_object_get(t, "value");
        t = v ? v : json_object_get(t, "DateTime");
    }
    return json_is_string(t) ? json_string_value(t) : NULL;
}

static void element(struct reader_ctx *c, const char *text, size_t len, uint64_t record, long line)
{
    c->stats->records++;
    json_error_t jerr;
    json_t *ev = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!ev) {
        reader_bad(c, record, line + jerr.line - 1, "malformed JSON (%s)", jerr.text);
        return;
    }
    if (!json_is_object(ev)) {
        reader_bad(c, record, line, "not an object");
        json_decref(ev);
        return;
    }
    json_t *id = json_object_get(ev, "Id");
    if (json_is_integer(id) && json_integer_value(id) != KMS_EVENT_ID) {
        c->stats->other_ids++;
        json_decref(ev);
        return;
    }
    const char *values[JSON_VALUES];
    char tmp[JSON_VALUES][24];
    size_t n = 0;
    json_t *props = json_object_get(ev, "Properties");
    if (json_is_array(props)) {
        for (size_t i = 0; i < json_array_size(props) && n < JSON_VALUES; i++) {
            values[n] = value_text(json_array_get(props, i), tmp[n], sizeof tmp[n]);
            n++;
        }
    } else if (json_is_string(props)) {
        values[n++] = json_string_value(props);
    }
    json_t *msg = json_object_get(ev, "Message");
    if (n < KMS_EVENT_FIELDS && n != 1 && json_is_string(msg)) {
        values[0] = json_string_value(msg);
        n = 1;
    }
    reader_event(c, record, line, time_text(ev), values, n, -1, -1);
    json_decref(ev);
}

int event_read_json(struct event_input *in, struct reader_ctx *c)
{
    struct json_scan s = {.in = in, .line = 1, .buf = malloc(JSON_ELEMENT_MAX), .len = 0};
    if (!s.buf)
        return errmsg_set(c->err, c->err_len, "%s: out of memory", c->name);
    int rc = 0;
    uint64_t record = 0;
    int ch = next_nonspace(&s);
    bool array = ch == '[';
    if (array)
        ch = next_nonspace(&s);
    if (array && ch == ']')
        ch = -3; /* an empty array: no events */
    while (ch >= 0) {
        long line = s.line;
        record++;
        int after = collect(&s, ch);
        if (after == -1) {
            rc = errmsg_set(c->err, c->err_len,
                            "%s: line %ld: the file ends inside record %llu (truncated?); the "
                            "%llu event%s before it were read",
                            c->name, s.line, (unsigned long long)record,
                            (unsigned long long)c->stats->events, c->stats->events == 1 ? "" : "s");
            break;
        }
        if (after == -2) {
            rc = errmsg_set(c->err, c->err_len,
                            "%s: line %ld: record %llu is larger than %d bytes: not an event",
                            c->name, line, (unsigned long long)record, JSON_ELEMENT_MAX);
            break;
        }
        element(c, s.buf, s.len, record, line);
        if (c->stopped) {
            rc = -1;
            break;
        }
        if (!array)
            break;
        int sep = after > 0 && after != ' ' && after != '\n' && after != '\r' && after != '\t'
                      ? after
                      : next_nonspace(&s);
        if (sep == ']')
            break;
        if (sep != ',') {
            rc = errmsg_set(c->err, c->err_len,
                            sep < 0 ? "%s: line %ld: the file ends after record %llu without the "
                                      "closing ] (truncated?)"
                                    : "%s: line %ld: malformed JSON: expected , or ] after "
                                      "record %llu",
                            c->name, s.line, (unsigned long long)record);
            break;
        }
        ch = next_nonspace(&s);
        if (ch < 0) {
            rc = errmsg_set(c->err, c->err_len,
                            "%s: line %ld: the file ends after record %llu without the closing "
                            "] (truncated?)",
                            c->name, s.line, (unsigned long long)record);
        }
    }
    free(s.buf);
    return rc;
}
