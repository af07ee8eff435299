/*
 * The Prometheus text exposition format (version 0.0.4, what /metrics serves): HELP and TYPE lines,
 * samples with escaped labels, histograms as cumulative _bucket{le=...}, _sum and _count. Pure:
 * it builds text in memory; the HTTP server and the collectors of host, run and watch use it.
 * Each family's samples must follow its header before the next family starts (the format's rule).
 */
#ifndef KMSLOAD_METRICS_TEXT_H
#define KMSLOAD_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_HISTOGRAM_MAX_BOUNDS 24

struct metrics_text {
    char *buf; /* NUL-terminated text so far */
    size_t len, cap;
    /* Set at the first problem (out of memory, an invalid metric or label name); later calls do
     * nothing, so a collector renders without checking each call and looks once at the end. */
    bool failed;
    char error[128];
};

struct metrics_label {
    const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
    const char *value; /* any UTF-8 text: backslash, double quote and newline are escaped */
};

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/*
 * A histogram with fixed upper bounds (seconds, increasing): counts per bucket (not cumulative;
 * the writer accumulates), the sum and the count. Mergeable; observations above the last bound
 * count only in +Inf.
 */
struct metrics_histogram {
    const double *bounds;
    size_t n_bounds;
    uint64_t counts[METRICS_HISTOGRAM_MAX_BOUNDS + 1]; /* last: above every bound */
    double sum;
    uint64_t count;
};

/* Buckets for request latencies in seconds: 0.5 ms to 30 s. */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_n_bounds;

void metrics_text_init(struct metrics_text *mt);
void metrics_text_free(struct metrics_text *mt);

/* The "# HELP" and "# TYPE" lines that open a family. */
void metrics_text_family(struct metrics_text *mt, const char *name, enum metrics_type type,
                         const char *help);
/* One sample "name{labels} value". Integral values print without a fraction; NaN and ±Inf as the
 * format spells them. */
void metrics_text_sample(struct metrics_text *mt, const char *name,
                         const struct metrics_label *labels, size_t n_labels, double value);
/* The _bucket (cumulative, with le), _sum and _count samples of one histogram series. */
void metrics_text_histogram(struct metrics_text *mt, const char *name,
                            const struct metrics_label *labels, size_t n_labels,
                            const struct metrics_histogram *h);

bool metrics_name_valid(const char *name);
bool metrics_label_name_valid(const char *name);

void metrics_histogram_init(struct metrics_histogram *h, const double *bounds, size_t n_bounds);
void metrics_histogram_observe(struct metrics_histogram *h, double value);
/* Adds from into into (both must use the same bounds). */
void metrics_histogram_merge(struct metrics_histogram *into, const struct metrics_histogram *from);

#endif
