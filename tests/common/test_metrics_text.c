/* The Prometheus text format writer: family headers, escaping, histograms, name checks. */
#include "metrics_text.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

Test(metrics_text, counter_family_with_help_type_and_labels)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    metrics_text_family(&mt, "kmsload_x_total", METRICS_COUNTER, "Things seen.");
    struct metrics_label l[] = {{"application", "windows"}, {"hresult", "0xC004F042"}};
    metrics_text_sample(&mt, "kmsload_x_total", l, 2, 42);
    metrics_text_sample(&mt, "kmsload_x_total", NULL, 0, 7);
    cr_assert_not(mt.failed, "%s", mt.error);
    cr_assert_str_eq(mt.buf, "# HELP kmsload_x_total Things seen.\n"
                             "# TYPE kmsload_x_total counter\n"
                             "kmsload_x_total{application=\"windows\",hresult=\"0xC004F042\"} 42\n"
                             "kmsload_x_total 7\n");
    cr_assert_eq(mt.len, strlen(mt.buf));
    metrics_text_free(&mt);
}

Test(metrics_text, label_values_and_help_are_escaped)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    metrics_text_family(&mt, "g", METRICS_GAUGE, "back\\slash\nnew \"quoted\"");
    struct metrics_label l = {"v", "a\"b\\c\nd"};
    metrics_text_sample(&mt, "g", &l, 1, 1);
    cr_assert_not(mt.failed, "%s", mt.error);
    /* HELP escapes backslash and newline only; label values also the double quote. */
    cr_assert_str_eq(mt.buf, "# HELP g back\\\\slash\\nnew \"quoted\"\n"
                             "# TYPE g gauge\n"
                             "g{v=\"a\\\"b\\\\c\\nd\"} 1\n");
    metrics_text_free(&mt);
}

Test(metrics_text, bytes_from_the_network_never_break_the_page)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    /* Invalid UTF-8 (lone continuation, overlong, truncated) and control characters become '?';
     * valid multi-byte characters stay. */
    struct metrics_label l = {"epid", "a\x80"
                                      "b\xc0\xaf"
                                      "c\x01\x7f"
                                      "\xc3\xa9"
                                      "\xe2\x82"};
    metrics_text_sample(&mt, "m", &l, 1, 1);
    cr_assert_not(mt.failed, "%s", mt.error);
    cr_assert_str_eq(mt.buf, "m{epid=\"a?b??c??\xc3\xa9??\"} 1\n");
    metrics_text_free(&mt);
}

Test(metrics_text, values_integral_fractional_and_special)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    metrics_text_sample(&mt, "a", NULL, 0, 0);
    metrics_text_sample(&mt, "b", NULL, 0, 18446744073709.0);
    metrics_text_sample(&mt, "c", NULL, 0, 0.00125);
    metrics_text_sample(&mt, "d", NULL, 0, NAN);
    metrics_text_sample(&mt, "e", NULL, 0, INFINITY);
    metrics_text_sample(&mt, "f", NULL, 0, -INFINITY);
    metrics_text_sample(&mt, "g", NULL, 0, 1796082783.25);
    cr_assert_str_eq(mt.buf, "a 0\nb 18446744073709\nc 0.00125\nd NaN\ne +Inf\nf -Inf\n"
                             "g 1796082783.25\n");
    metrics_text_free(&mt);
}

Test(metrics_text, histogram_buckets_are_cumulative_with_inf_sum_and_count)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    struct metrics_histogram h;
    metrics_histogram_init(&h, bounds, 3);
    const double obs[] = {0.0005, 0.001, 0.002, 0.05, 0.05, 7};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        metrics_histogram_observe(&h, obs[i]);
    struct metrics_text mt;
    metrics_text_init(&mt);
    metrics_text_family(&mt, "lat_seconds", METRICS_HISTOGRAM, "Latency.");
    struct metrics_label l = {"app", "w"};
    metrics_text_histogram(&mt, "lat_seconds", &l, 1, &h);
    cr_assert_not(mt.failed, "%s", mt.error);
    /* le is an upper bound included in its bucket: 0.001 counts in le="0.001". */
    cr_assert_str_eq(mt.buf, "# HELP lat_seconds Latency.\n"
                             "# TYPE lat_seconds histogram\n"
                             "lat_seconds_bucket{app=\"w\",le=\"0.001\"} 2\n"
                             "lat_seconds_bucket{app=\"w\",le=\"0.01\"} 3\n"
                             "lat_seconds_bucket{app=\"w\",le=\"0.1\"} 5\n"
                             "lat_seconds_bucket{app=\"w\",le=\"+Inf\"} 6\n"
                             "lat_seconds_sum{app=\"w\"} 7.1035\n"
                             "lat_seconds_count{app=\"w\"} 6\n");
    metrics_text_free(&mt);
}

Test(metrics_text, histograms_merge)
{
    struct metrics_histogram a, b;
    metrics_histogram_init(&a, metrics_latency_bounds, metrics_latency_n_bounds);
    metrics_histogram_init(&b, metrics_latency_bounds, metrics_latency_n_bounds);
    metrics_histogram_observe(&a, 0.0001);
    metrics_histogram_observe(&b, 0.0001);
    metrics_histogram_observe(&b, 100);
    metrics_histogram_merge(&a, &b);
    cr_assert_eq(a.count, 3);
    cr_assert_eq(a.counts[0], 2);
    cr_assert_eq(a.counts[metrics_latency_n_bounds], 1);
    cr_assert_float_eq(a.sum, 100.0002, 1e-9);
}

Test(metrics_text, invalid_names_fail_the_page_with_a_message)
{
    const char *bad_metrics[] = {"", "1abc", "a-b", "a b", "a{b}"};
    for (size_t i = 0; i < sizeof bad_metrics / sizeof bad_metrics[0]; i++) {
        struct metrics_text mt;
        metrics_text_init(&mt);
        metrics_text_sample(&mt, bad_metrics[i], NULL, 0, 1);
        cr_expect(mt.failed, "metric name \"%s\" accepted", bad_metrics[i]);
        cr_expect(strstr(mt.error, "invalid metric name") != NULL, "%s", mt.error);
        metrics_text_free(&mt);
    }
    const char *bad_labels[] = {"", "__reserved", "a:b", "le", "9x", "a-b"};
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        struct metrics_text mt;
        metrics_text_init(&mt);
        struct metrics_label l = {bad_labels[i], "v"};
        metrics_text_sample(&mt, "ok", &l, 1, 1);
        cr_expect(mt.failed, "label name \"%s\" accepted", bad_labels[i]);
        /* After the first failure nothing more is written. */
        size_t len = mt.len;
        metrics_text_sample(&mt, "ok", NULL, 0, 1);
        cr_expect_eq(mt.len, len);
        metrics_text_free(&mt);
    }
    cr_assert(metrics_name_valid("kmsload_host:rate5m"));
    cr_assert(metrics_label_name_valid("_private"));
    cr_assert_not(metrics_label_name_valid("a:b"));
}

Test(metrics_text, large_pages_grow)
{
    struct metrics_text mt;
    metrics_text_init(&mt);
    metrics_text_family(&mt, "big", METRICS_GAUGE, "Many series.");
    char value[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(value, sizeof value, "%d", i);
        struct metrics_label l = {"i", value};
        metrics_text_sample(&mt, "big", &l, 1, i);
    }
    cr_assert_not(mt.failed);
    cr_assert(strstr(mt.buf, "big{i=\"4999\"} 4999\n") != NULL);
    cr_assert_eq(strlen(mt.buf), mt.len);
    metrics_text_free(&mt);
}
