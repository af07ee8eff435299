#include "metrics_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,   0.5,   1,      2.5,   5,    10,    30};
const size_t metrics_latency_n_bounds = sizeof metrics_latency_bounds / sizeof(double);

void metrics_text_init(struct metrics_text *mt)
{
    memset(mt, 0, sizeof *mt);
}

void metrics_text_free(struct metrics_text *mt)
{
    free(mt->buf);
    memset(mt, 0, sizeof *mt);
}

static void fail(struct metrics_text *mt, const char *fmt, ...)
{
    if (mt->failed)
        return;
    mt->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mt->error, sizeof mt->error, fmt, ap);
    va_end(ap);
}

static bool reserve(struct metrics_text *mt, size_t more)
{
    if (mt->failed)
        return false;
    if (mt->len + more + 1 <= mt->cap)
        return true;
    size_t cap = mt->cap ? mt->cap : 4096;
    while (cap < mt->len + more + 1)
        cap *= 2;
    char *grown = realloc(mt->buf, cap);
    if (!grown) {
        fail(mt, "out of memory");
        return false;
    }
    mt->buf = grown;
    mt->cap = cap;
    return true;
}

static void put(struct metrics_text *mt, const char *s, size_t n)
{
    if (!reserve(mt, n))
        return;
    memcpy(mt->buf + mt->len, s, n);
    mt->len += n;
    mt->buf[mt->len] = '\0';
}

static void puts_(struct metrics_text *mt, const char *s)
{
    put(mt, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
        return 0; /* overlong */
    if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
        return 0; /* surrogate */
    if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
        return 0;
    if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
        return 0;
    return n;
}

/*
 * Escapes text for a label value (quote too) or a HELP line. Label values come from the network
 * (a real host's ePID): bytes that are not UTF-8 or are control characters become '?', so a
 * scraper never rejects the page because of one odd answer.
 */
static void put_escaped(struct metrics_text *mt, const char *text, bool quote)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t n = utf8_sequence(s);
        if (*s == '\\')
            put(mt, "\\\\", 2);
        else if (*s == '\n')
            put(mt, "\\n", 2);
        else if (*s == '"' && quote)
            put(mt, "\\\"", 2);
        else if (n == 0 || *s < 0x20 || *s == 0x7f)
            put(mt, "?", 1);
        else
            put(mt, (const char *)s, n);
        s += n ? n : 1;
    }
}

bool metrics_name_valid(const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':'))
            return false;
    return true;
}

bool metrics_label_name_valid(const char *name)
{
    if (!metrics_name_valid(name) || strchr(name, ':') || strncmp(name, "__", 2) == 0)
        return false;
    return true;
}

static void format_value(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "NaN");
    else if (isinf(v))
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%.15g", v); /* 15 digits: exact for timestamps, no binary noise */
}

void metrics_text_family(struct metrics_text *mt, const char *name, enum metrics_type type,
                         const char *help)
{
    if (!metrics_name_valid(name)) {
        fail(mt, "invalid metric name \"%s\"", name ? name : "(null)");
        return;
    }
    static const char *const types[] = {"counter", "gauge", "histogram"};
    puts_(mt, "# HELP ");
    puts_(mt, name);
    puts_(mt, " ");
    put_escaped(mt, help ? help : "", false);
    puts_(mt, "\n# TYPE ");
    puts_(mt, name);
    puts_(mt, " ");
    puts_(mt, types[type]);
    puts_(mt, "\n");
}

static void put_labels(struct metrics_text *mt, const struct metrics_label *labels, size_t n,
                       const char *le)
{
    if (n == 0 && !le)
        return;
    puts_(mt, "{");
    for (size_t i = 0; i < n; i++) {
        if (!metrics_label_name_valid(labels[i].name) || strcmp(labels[i].name, "le") == 0) {
            fail(mt, "invalid label name \"%s\"", labels[i].name ? labels[i].name : "(null)");
            return;
        }
        if (i)
            puts_(mt, ",");
        puts_(mt, labels[i].name);
        puts_(mt, "=\"");
        put_escaped(mt, labels[i].value ? labels[i].value : "", true);
        puts_(mt, "\"");
    }
    if (le) {
        puts_(mt, n ? ",le=\"" : "le=\"");
        puts_(mt, le);
        puts_(mt, "\"");
    }
    puts_(mt, "}");
}

static void sample(struct metrics_text *mt, const char *name, const char *suffix,
                   const struct metrics_label *labels, size_t n_labels, const char *le,
                   double value)
{
    if (!metrics_name_valid(name)) {
        fail(mt, "invalid metric name \"%s\"", name ? name : "(null)");
        return;
    }
    char text[64];
    puts_(mt, name);
    puts_(mt, suffix);
    put_labels(mt, labels, n_labels, le);
    format_value(value, text, sizeof text);
    puts_(mt, " ");
    puts_(mt, text);
    puts_(mt, "\n");
}

void metrics_text_sample(struct metrics_text *mt, const char *name,
                         const struct metrics_label *labels, size_t n_labels, double value)
{
    sample(mt, name, "", labels, n_labels, NULL, value);
}

void metrics_text_histogram(struct metrics_text *mt, const char *name,
                            const struct metrics_label *labels, size_t n_labels,
                            const struct metrics_histogram *h)
{
    uint64_t cumulative = 0;
    char le[64];
    for (size_t i = 0; i < h->n_bounds; i++) {
        cumulative += h->counts[i];
        snprintf(le, sizeof le, "%g", h->bounds[i]);
        sample(mt, name, "_bucket", labels, n_labels, le, (double)cumulative);
    }
    sample(mt, name, "_bucket", labels, n_labels, "+Inf", (double)h->count);
    sample(mt, name, "_sum", labels, n_labels, NULL, h->sum);
    sample(mt, name, "_count", labels, n_labels, NULL, (double)h->count);
}

void metrics_histogram_init(struct metrics_histogram *h, const double *bounds, size_t n_bounds)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n_bounds < METRICS_HISTOGRAM_MAX_BOUNDS ? n_bounds : METRICS_HISTOGRAM_MAX_BOUNDS;
}

void metrics_histogram_observe(struct metrics_histogram *h, double value)
{
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum += value;
    h->count++;
}

void metrics_histogram_merge(struct metrics_histogram *into, const struct metrics_histogram *from)
{
    for (size_t i = 0; i <= into->n_bounds && i <= METRICS_HISTOGRAM_MAX_BOUNDS; i++)
        into->counts[i] += from->counts[i];
    into->sum += from->sum;
    into->count += from->count;
}
