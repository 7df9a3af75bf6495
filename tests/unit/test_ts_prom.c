/*  test_ts_prom - the Prometheus text exposition: HELP and TYPE lines,
    label and help escaping, values that read back exactly, histograms
    with cumulative buckets ending at +Inf and their _sum and _count, and
    a text that stops at its cap on a whole line. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ts_prom.h"

static void
family_writes_help_then_type (void **state)
{
    ts_prom_t *prom = ts_prom_new (4096);
    ts_prom_family (prom, "tscache_jobs", "gauge", "Jobs by state.");
    ts_prom_sample (prom, "tscache_jobs", NULL, 0, 3);
    assert_string_equal (ts_prom_text (prom, NULL),
                         "# HELP tscache_jobs Jobs by state.\n"
                         "# TYPE tscache_jobs gauge\n"
                         "tscache_jobs 3\n");
    assert_int_equal (ts_prom_error (prom), 0);
    ts_prom_destroy (&prom);
    assert_null (prom);
}

static void
sample_escapes_backslash_quote_and_newline_in_label_values (void **state)
{
    ts_prom_t *prom = ts_prom_new (4096);
    const char *labels [] = { "route", "a\\b\"c\nd", "api", "http" };
    ts_prom_sample (prom, "x_total", labels, 2, 1);
    assert_string_equal (ts_prom_text (prom, NULL),
                         "x_total{route=\"a\\\\b\\\"c\\nd\",api=\"http\"} 1\n");
    ts_prom_destroy (&prom);
}

static void
family_escapes_backslash_and_newline_in_help_but_not_quotes (void **state)
{
    ts_prom_t *prom = ts_prom_new (4096);
    ts_prom_family (prom, "x", "counter", "a \"b\" c\\d\ne");
    assert_string_equal (ts_prom_text (prom, NULL),
                         "# HELP x a \"b\" c\\\\d\\ne\n# TYPE x counter\n");
    ts_prom_destroy (&prom);
}

static void
sample_writes_values_that_read_back_exactly (void **state)
{
    ts_prom_t *prom = ts_prom_new (4096);
    ts_prom_sample (prom, "a", NULL, 0, 0.1);
    ts_prom_sample (prom, "b", NULL, 0, 1.0 / 0.0);
    ts_prom_sample (prom, "c", NULL, 0, -1.0 / 0.0);
    ts_prom_sample (prom, "d", NULL, 0, 0.0 / 0.0);
    ts_prom_sample (prom, "e", NULL, 0, 9007199254740992.0);
    ts_prom_sample (prom, "f", NULL, 0, -2.5);
    ts_prom_sample (prom, "g", NULL, 0, 1e300);
    assert_string_equal (ts_prom_text (prom, NULL),
                         "a 0.1\nb +Inf\nc -Inf\nd NaN\n"
                         "e 9007199254740992\nf -2.5\ng 1e+300\n");
    ts_prom_destroy (&prom);
}

static void
histogram_buckets_are_cumulative_and_end_at_inf (void **state)
{
    static const double bounds [] = { 0.1, 1, 2.5 };
    ts_prom_hist_t hist;
    ts_prom_hist_init (&hist, bounds, 3);
    ts_prom_hist_observe (&hist, 0.05);
    ts_prom_hist_observe (&hist, 0.1);      //  on a bound: that bucket
    ts_prom_hist_observe (&hist, 2);
    ts_prom_hist_observe (&hist, 7);        //  above all: +Inf only
    ts_prom_hist_observe (&hist, -1);       //  counts as 0
    assert_int_equal (ts_prom_hist_count (&hist), 5);
    ts_prom_t *prom = ts_prom_new (4096);
    const char *labels [] = { "route", "query" };
    ts_prom_family (prom, "q_seconds", "histogram", "Query latency.");
    ts_prom_histogram (prom, "q_seconds", labels, 1, &hist);
    assert_string_equal (ts_prom_text (prom, NULL),
        "# HELP q_seconds Query latency.\n"
        "# TYPE q_seconds histogram\n"
        "q_seconds_bucket{route=\"query\",le=\"0.1\"} 3\n"
        "q_seconds_bucket{route=\"query\",le=\"1\"} 3\n"
        "q_seconds_bucket{route=\"query\",le=\"2.5\"} 4\n"
        "q_seconds_bucket{route=\"query\",le=\"+Inf\"} 5\n"
        "q_seconds_sum{route=\"query\"} 9.15\n"
        "q_seconds_count{route=\"query\"} 5\n");
    ts_prom_destroy (&prom);
}

static void
histogram_without_labels_has_le_alone (void **state)
{
    static const double bounds [] = { 1 };
    ts_prom_hist_t hist;
    ts_prom_hist_init (&hist, bounds, 1);
    ts_prom_t *prom = ts_prom_new (4096);
    ts_prom_histogram (prom, "h", NULL, 0, &hist);
    assert_string_equal (ts_prom_text (prom, NULL),
                         "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
                         "h_sum 0\nh_count 0\n");
    ts_prom_destroy (&prom);
}

static void
text_stops_at_its_cap_on_a_whole_line (void **state)
{
    ts_prom_t *prom = ts_prom_new (20);
    ts_prom_sample (prom, "abc", NULL, 0, 1);           //  6 bytes
    ts_prom_sample (prom, "abcdefgh", NULL, 0, 12);     //  12: 18
    ts_prom_sample (prom, "x", NULL, 0, 1);             //  4: over
    ts_prom_sample (prom, "y", NULL, 0, 1);             //  dropped too
    size_t size;
    assert_string_equal (ts_prom_text (prom, &size), "abc 1\nabcdefgh 12\n");
    assert_int_equal (size, 18);
    assert_int_equal (ts_prom_error (prom), TS_ETOOBIG);
    ts_prom_reset (prom);
    assert_int_equal (ts_prom_error (prom), 0);
    assert_string_equal (ts_prom_text (prom, &size), "");
    assert_int_equal (size, 0);
    ts_prom_destroy (&prom);
}

static void
text_grows_past_its_first_allocation (void **state)
{
    ts_prom_t *prom = ts_prom_new (1 << 20);
    for (int i = 0; i < 2000; i++)
        ts_prom_sample (prom, "tscache_something_long_total", NULL, 0, i);
    size_t size;
    const char *text = ts_prom_text (prom, &size);
    assert_int_equal (ts_prom_error (prom), 0);
    assert_true (size > 4096);
    assert_non_null (strstr (text, "tscache_something_long_total 1999\n"));
    ts_prom_destroy (&prom);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (family_writes_help_then_type),
        cmocka_unit_test (sample_escapes_backslash_quote_and_newline_in_label_values),
        cmocka_unit_test (family_escapes_backslash_and_newline_in_help_but_not_quotes),
        cmocka_unit_test (sample_writes_values_that_read_back_exactly),
        cmocka_unit_test (histogram_buckets_are_cumulative_and_end_at_inf),
        cmocka_unit_test (histogram_without_labels_has_le_alone),
        cmocka_unit_test (text_stops_at_its_cap_on_a_whole_line),
        cmocka_unit_test (text_grows_past_its_first_allocation),
    };
    return cmocka_run_group_tests_name ("ts_prom", tests, NULL, NULL);
}
