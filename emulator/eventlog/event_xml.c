/* wevtutil's XML, through libxml2's streaming reader (one <Event> in memory at a time). */
#include "errmsg.h"
#include "event_reader_parts.h"

#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_VALUES 16
#define XML_VALUE_MAX 1024

/*
 * wevtutil prints bare <Event> elements one after another, which is not one XML document: the
 * input is served inside a root element of our own (after the file's XML declaration, if any, so
 * that an already wrapped export works too).
 */
static const char xml_open[] = "<kmsload-events>";
static const char xml_close[] = "</kmsload-events>";

struct xml_feed {
    struct event_input *in;
    int stage; /* 0: open tag, 1: the file, 2: close tag, 3: done */
    size_t off;
};

static int feed_read(void *arg, char *buf, int len)
{
    struct xml_feed *x = arg;
    size_t cap = (size_t)len, n = 0;
    while (n < cap && x->stage < 3) {
        const char *src = x->stage == 0 ? xml_open : x->stage == 2 ? xml_close : NULL;
        if (src) {
            size_t left = strlen(src) - x->off, k = left < cap - n ? left : cap - n;
            memcpy(buf + n, src + x->off, k);
            n += k;
            x->off += k;
            if (x->off == strlen(src)) {
                x->stage++;
                x->off = 0;
            }
        } else {
            size_t k = event_input_read(x->in, buf + n, cap - n);
            if (k == 0)
                x->stage = 2;
            n += k;
        }
    }
    return (int)n;
}

static int feed_close(void *arg)
{
    (void)arg;
    return 0;
}

/* Drops a leading XML declaration (it would come after our root element otherwise). */
static void skip_declaration(struct event_input *in)
{
    size_t have = event_input_fill(in, 4096);
    const char *p = in->buf + in->pos, *end = p + have;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (end - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '?' && q[1] == '>') {
                in->pos = (size_t)(q + 2 - in->buf);
                break;
            }
    }
}

struct xml_event {
    char id[32];
    char time[64];
    char values[XML_VALUES][XML_VALUE_MAX];
    size_t n;
    char message[XML_VALUE_MAX * 2];
    bool too_long;
    char *capture; /* the text being collected, NULL none */
    size_t capture_cap;
};

static void capture_append(struct xml_event *e, const char *text)
{
    if (!e->capture || !text)
        return;
    size_t have = strlen(e->capture), add = strlen(text);
    if (have + add >= e->capture_cap) {
        e->too_long = true;
        add = e->capture_cap - 1 - have;
    }
    memcpy(e->capture + have, text, add);
    e->capture[have + add] = '\0';
}

static void start_capture(struct xml_event *e, char *where, size_t cap)
{
    where[0] = '\0';
    e->capture = where;
    e->capture_cap = cap;
}

struct xml_errors {
    char first[300];
    int line;
};

static void on_error(void *arg, const char *msg, xmlParserSeverities severity,
                     xmlTextReaderLocatorPtr loc)
{
    struct xml_errors *x = arg;
    if (x->first[0] ||
        (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR))
        return;
    snprintf(x->first, sizeof x->first, "%s", msg);
    size_t n = strlen(x->first);
    while (n > 0 && (x->first[n - 1] == '\n' || x->first[n - 1] == ' '))
        x->first[--n] = '\0';
    x->line = xmlTextReaderLocatorLineNumber(loc);
}

static void finish_event(struct reader_ctx *c, struct xml_event *e, uint64_t record, long line)
{
    long id = -1;
    if (e->id[0]) {
        char *end;
        id = strtol(e->id, &end, 10);
        if (*end && *end != ' ')
            id = -2;
    }
    if (id != KMS_EVENT_ID) {
        if (id == -1)
            reader_bad(c, record, line, "event without an EventID");
        else
            c->stats->other_ids++;
        return;
    }
    if (e->too_long) {
        reader_bad(c, record, line, "a value longer than %d bytes", XML_VALUE_MAX - 1);
        return;
    }
    const char *values[XML_VALUES];
    size_t n = e->n;
    for (size_t i = 0; i < n; i++)
        values[i] = e->values[i];
    if (n < KMS_EVENT_FIELDS && e->message[0]) { /* no usable EventData: the rendered message */
        values[0] = e->message;
        n = 1;
    }
    reader_event(c, record, line, e->time[0] ? e->time : NULL, values, n, -1, -1);
}

int event_read_xml(struct event_input *in, struct reader_ctx *c)
{
    skip_declaration(in);
    struct xml_feed feed = {.in = in, .stage = 0, .off = 0};
    /* No network, no entity substitution, no DTD loading: a log is data, not instructions. */
    xmlTextReaderPtr r = xmlReaderForIO(feed_read, feed_close, &feed, c->name, "UTF-8",
                                        XML_PARSE_NONET | XML_PARSE_COMPACT | XML_PARSE_NOBLANKS);
    if (!r)
        return errmsg_set(c->err, c->err_len, "%s: cannot start the XML reader", c->name);
    struct xml_errors errors = {.first = "", .line = 0};
    xmlTextReaderSetErrorHandler(r, on_error, &errors);
    struct xml_event *e = calloc(1, sizeof *e);
    if (!e) {
        xmlFreeTextReader(r);
        return errmsg_set(c->err, c->err_len, "%s: out of memory", c->name);
    }
    bool in_event = false, in_system = false, in_data = false;
    int event_depth = 0;
    uint64_t record = 0;
    long line = 0;
    int rc;
    while ((rc = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        const char *local = (const char *)xmlTextReaderConstLocalName(r);
        int depth = xmlTextReaderDepth(r);
        if (type == XML_READER_TYPE_ELEMENT) {
            bool empty = xmlTextReaderIsEmptyElement(r);
            if (!in_event && strcmp(local, "Event") == 0) {
                memset(e, 0, sizeof *e);
                in_event = !empty;
                event_depth = depth;
                record++;
                c->stats->records++;
                line = xmlTextReaderGetParserLineNumber(r);
                if (empty)
                    reader_bad(c, record, line, "empty <Event/>");
                continue;
            }
            if (!in_event)
                continue;
            e->capture = NULL;
            if (strcmp(local, "System") == 0)
                in_system = !empty;
            else if (strcmp(local, "EventData") == 0 || strcmp(local, "UserData") == 0)
                in_data = !empty;
            else if (in_system && strcmp(local, "EventID") == 0 && !empty)
                start_capture(e, e->id, sizeof e->id);
            else if (in_system && strcmp(local, "TimeCreated") == 0) {
                xmlChar *t = xmlTextReaderGetAttribute(r, BAD_CAST "SystemTime");
                if (t) {
                    snprintf(e->time, sizeof e->time, "%s", (const char *)t);
                    xmlFree(t);
                }
            } else if (in_data && strcmp(local, "Data") == 0) {
                if (e->n < XML_VALUES) {
                    e->values[e->n][0] = '\0';
                    if (!empty)
                        start_capture(e, e->values[e->n], XML_VALUE_MAX);
                    e->n++;
                }
            } else if (strcmp(local, "Message") == 0 && !empty)
                start_capture(e, e->message, sizeof e->message);
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                   type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            if (in_event)
                capture_append(e, (const char *)xmlTextReaderConstValue(r));
        } else if (type == XML_READER_TYPE_END_ELEMENT && in_event) {
            e->capture = NULL;
            if (depth == event_depth && strcmp(local, "Event") == 0) {
                in_event = in_system = in_data = false;
                finish_event(c, e, record, line);
                if (c->stopped)
                    break;
            } else if (strcmp(local, "System") == 0)
                in_system = false;
            else if (strcmp(local, "EventData") == 0 || strcmp(local, "UserData") == 0)
                in_data = false;
        }
    }
    int result = 0;
    if (c->stopped)
        result = -1;
    else if (rc != 0) {
        long at = errors.line > 0 ? errors.line : xmlTextReaderGetParserLineNumber(r);
        const char *why = errors.first[0] ? errors.first : "parse error";
        if (in_event) /* where the unfinished event began says more than where parsing stopped */
            result =
                errmsg_set(c->err, c->err_len,
                           "%s: line %ld: record %llu is cut short, the file may be "
                           "truncated (malformed XML at line %ld: %s); the %llu event%s "
                           "before it were read",
                           c->name, line, (unsigned long long)record, at, why,
                           (unsigned long long)c->stats->events, c->stats->events == 1 ? "" : "s");
        else
            result = errmsg_set(c->err, c->err_len,
                                "%s: line %ld: malformed XML (%s); the %llu event%s before it "
                                "were read",
                                c->name, at, why, (unsigned long long)c->stats->events,
                                c->stats->events == 1 ? "" : "s");
    }
    free(e);
    xmlFreeTextReader(r);
    return result;
}
