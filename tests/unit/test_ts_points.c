/*  test_ts_points - point lists, the split rule and the merge rule.

    The split rule decides what a fetch writes to history and what replaces
    the forecast; the merge rule decides what a query answers. Both are
    pure, so every case pins "now" and the points by hand. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ts_points.h"

#define T0   1732406400000LL    //  2024-11-24T00:00:00Z
#define STEP 300000LL           //  five minutes

static ts_points_t *
s_points (void)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    return pts;
}

static void
s_add (ts_points_t *pts, int64_t time_ms, const char *measure, double value)
{
    assert_int_equal (ts_points_append (pts, time_ms, measure, value), 0);
}

static void
s_assert_point (const ts_points_t *pts, size_t i, int64_t time_ms,
                const char *measure, double value)
{
    assert_true (i < pts->n);
    assert_int_equal (pts->time_ms [i], time_ms);
    assert_string_equal (ts_points_measure (pts, i), measure);
    assert_true (pts->value [i] == value);
}

//  A series as the store would hand it over: n history points from
//  hist_from and n forecast points from fc_from, both STEP apart.
static ts_series_t
s_series (int64_t hist_from, size_t nh, int64_t fc_from, size_t nf)
{
    ts_series_t series = { s_points (), s_points (), true, -1 };
    for (size_t i = 0; i < nh; i++)
        s_add (series.history, hist_from + (int64_t) i * STEP, "value", (double) i);
    for (size_t i = 0; i < nf; i++)
        s_add (series.forecast, fc_from + (int64_t) i * STEP, "value", 100.0 + i);
    return series;
}

static void
s_series_free (ts_series_t *series)
{
    ts_points_destroy (&series->history);
    ts_points_destroy (&series->forecast);
}

//  ---------------------------------------------------------------------

static void
points_append_keeps_time_measure_and_value (void **state)
{
    ts_points_t *pts = s_points ();
    s_add (pts, T0, "value", 1.5);
    s_add (pts, T0 + STEP, "humidity", -0.25);
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, T0, "value", 1.5);
    s_assert_point (pts, 1, T0 + STEP, "humidity", -0.25);
    ts_points_clear (pts);
    assert_int_equal (pts->n, 0);
    assert_int_equal (ts_points_reserve (pts, 1000), 0);
    assert_true (pts->cap >= 1000);
    ts_points_destroy (&pts);
    assert_null (pts);
    ts_points_destroy (&pts);
}

static void
points_append_rejects_long_measure (void **state)
{
    char name [TS_NAME_MAX + 2];
    memset (name, 'm', sizeof (name) - 1);
    name [sizeof (name) - 1] = 0;
    ts_points_t *pts = s_points ();
    assert_int_equal (ts_points_append (pts, T0, name, 1), TS_ETOOBIG);
    assert_int_equal (pts->n, 0);
    name [TS_NAME_MAX] = 0;         //  exactly TS_NAME_MAX is fine
    assert_int_equal (ts_points_append (pts, T0, name, 1), 0);
    assert_int_equal (strlen (ts_points_measure (pts, 0)), TS_NAME_MAX);
    ts_points_destroy (&pts);
}

static void
points_sort_orders_by_time_then_measure (void **state)
{
    ts_points_t *pts = s_points ();
    s_add (pts, T0 + STEP, "value", 4);
    s_add (pts, T0, "value", 2);
    s_add (pts, T0 + STEP, "humidity", 3);
    s_add (pts, T0, "humidity", 1);
    ts_points_sort (pts);
    s_assert_point (pts, 0, T0, "humidity", 1);
    s_assert_point (pts, 1, T0, "value", 2);
    s_assert_point (pts, 2, T0 + STEP, "humidity", 3);
    s_assert_point (pts, 3, T0 + STEP, "value", 4);
    ts_points_destroy (&pts);
}

static void
split_puts_point_at_now_into_forecast (void **state)
{
    ts_points_t *all = s_points ();
    ts_points_t *history = s_points ();
    ts_points_t *forecast = s_points ();
    s_add (all, T0, "value", 1);
    assert_int_equal (ts_points_split (all, T0, history, forecast), 0);
    assert_int_equal (history->n, 0);
    assert_int_equal (forecast->n, 1);
    s_assert_point (forecast, 0, T0, "value", 1);
    ts_points_destroy (&all);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
split_puts_points_before_now_into_history (void **state)
{
    ts_points_t *all = s_points ();
    ts_points_t *history = s_points ();
    ts_points_t *forecast = s_points ();
    s_add (all, T0 - 1, "value", 1);
    s_add (all, T0 - STEP, "value", 2);
    assert_int_equal (ts_points_split (all, T0, history, forecast), 0);
    assert_int_equal (history->n, 2);
    assert_int_equal (forecast->n, 0);
    ts_points_destroy (&all);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
split_keeps_order_of_the_input (void **state)
{
    ts_points_t *all = s_points ();
    ts_points_t *history = s_points ();
    ts_points_t *forecast = s_points ();
    s_add (all, T0 + 2 * STEP, "value", 1);
    s_add (all, T0 - STEP, "value", 2);
    s_add (all, T0 + STEP, "humidity", 3);
    s_add (all, T0 - 2 * STEP, "value", 4);
    s_add (all, T0, "value", 5);
    assert_int_equal (ts_points_split (all, T0, history, forecast), 0);
    assert_int_equal (history->n, 2);
    s_assert_point (history, 0, T0 - STEP, "value", 2);
    s_assert_point (history, 1, T0 - 2 * STEP, "value", 4);
    assert_int_equal (forecast->n, 3);
    s_assert_point (forecast, 0, T0 + 2 * STEP, "value", 1);
    s_assert_point (forecast, 1, T0 + STEP, "humidity", 3);
    s_assert_point (forecast, 2, T0, "value", 5);
    ts_points_destroy (&all);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
split_of_empty_input_gives_empty_lists (void **state)
{
    ts_points_t *all = s_points ();
    ts_points_t *history = s_points ();
    ts_points_t *forecast = s_points ();
    assert_int_equal (ts_points_split (all, T0, history, forecast), 0);
    assert_int_equal (history->n, 0);
    assert_int_equal (forecast->n, 0);
    ts_points_destroy (&all);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
merge_without_history_keeps_all_forecast_and_has_no_baseline (void **state)
{
    ts_series_t series = s_series (0, 0, T0, 5);
    ts_series_merge (&series);
    assert_false (series.has_baseline);
    assert_int_equal (series.forecast->n, 5);
    s_assert_point (series.forecast, 0, T0, "value", 100);
    s_assert_point (series.forecast, 4, T0 + 4 * STEP, "value", 104);
    s_series_free (&series);
}

static void
merge_without_forecast_sets_baseline_from_newest_history (void **state)
{
    ts_series_t series = s_series (T0, 4, 0, 0);
    ts_series_merge (&series);
    assert_true (series.has_baseline);
    assert_int_equal (series.baseline_ms, T0 + 3 * STEP);
    assert_int_equal (series.history->n, 4);
    assert_int_equal (series.forecast->n, 0);
    s_series_free (&series);
}

static void
merge_drops_forecast_when_history_is_newer_than_all_of_it (void **state)
{
    ts_series_t series = s_series (T0, 10, T0 + STEP, 3);
    ts_series_merge (&series);
    assert_true (series.has_baseline);
    assert_int_equal (series.baseline_ms, T0 + 9 * STEP);
    assert_int_equal (series.history->n, 10);
    assert_int_equal (series.forecast->n, 0);
    s_series_free (&series);
}

static void
merge_drops_forecast_point_equal_to_baseline_and_keeps_the_next (void **state)
{
    //  history T0 .. T0+2*STEP; forecast T0+STEP .. T0+5*STEP
    ts_series_t series = s_series (T0, 3, T0 + STEP, 5);
    ts_series_merge (&series);
    assert_true (series.has_baseline);
    assert_int_equal (series.baseline_ms, T0 + 2 * STEP);
    assert_int_equal (series.forecast->n, 3);
    s_assert_point (series.forecast, 0, T0 + 3 * STEP, "value", 102);
    s_assert_point (series.forecast, 1, T0 + 4 * STEP, "value", 103);
    s_assert_point (series.forecast, 2, T0 + 5 * STEP, "value", 104);
    s_series_free (&series);
}

static void
merge_baseline_is_newest_time_over_every_measure (void **state)
{
    ts_series_t series = s_series (T0, 0, T0, 0);
    s_add (series.history, T0, "humidity", 1);
    s_add (series.history, T0, "value", 2);
    s_add (series.history, T0 + STEP, "humidity", 3);
    s_add (series.forecast, T0 + STEP, "value", 4);
    s_add (series.forecast, T0 + 2 * STEP, "humidity", 5);
    s_add (series.forecast, T0 + 2 * STEP, "value", 6);
    ts_series_merge (&series);
    assert_true (series.has_baseline);
    assert_int_equal (series.baseline_ms, T0 + STEP);
    assert_int_equal (series.forecast->n, 2);
    s_assert_point (series.forecast, 0, T0 + 2 * STEP, "humidity", 5);
    s_assert_point (series.forecast, 1, T0 + 2 * STEP, "value", 6);
    s_series_free (&series);
}

static void
merge_of_range_wholly_in_the_past_returns_history_only (void **state)
{
    //  the store has no forecast points in a past range
    ts_series_t series = s_series (T0 - 100 * STEP, 12, 0, 0);
    ts_series_merge (&series);
    assert_true (series.has_baseline);
    assert_int_equal (series.baseline_ms, T0 - 89 * STEP);
    assert_int_equal (series.history->n, 12);
    assert_int_equal (series.forecast->n, 0);
    s_series_free (&series);
}

static void
merge_of_range_wholly_in_the_future_returns_forecast_only (void **state)
{
    ts_series_t series = s_series (0, 0, T0 + 100 * STEP, 7);
    ts_series_merge (&series);
    assert_false (series.has_baseline);
    assert_int_equal (series.history->n, 0);
    assert_int_equal (series.forecast->n, 7);
    s_assert_point (series.forecast, 6, T0 + 106 * STEP, "value", 106);
    s_series_free (&series);
}

//  --- the columnar layout ---------------------------------------------

static void
points_hold_each_measure_name_once (void **state)
{
    ts_points_t *pts = s_points ();
    for (int k = 0; k < 1000; k++) {
        s_add (pts, T0 + k * STEP, "temp", k);
        s_add (pts, T0 + k * STEP, "wind", -k);
    }
    assert_int_equal (pts->n, 2000);
    assert_int_equal (pts->n_measures, 2);
    assert_string_equal (pts->measures [0], "temp");
    assert_string_equal (pts->measures [1], "wind");
    s_assert_point (pts, 1999, T0 + 999 * STEP, "wind", -999);
    ts_points_destroy (&pts);
}

static void
points_find_names_among_many_measures (void **state)
{
    //  Past the linear scan: the hash table must find every name again.
    ts_points_t *pts = s_points ();
    char name [32];
    for (int round = 0; round < 3; round++)
        for (int m = 0; m < 300; m++) {
            snprintf (name, sizeof name, "m%03d", m);
            s_add (pts, T0 + round, name, m);
        }
    assert_int_equal (pts->n_measures, 300);
    for (size_t i = 0; i < pts->n; i++) {
        snprintf (name, sizeof name, "m%03d", (int) pts->value [i]);
        assert_string_equal (ts_points_measure (pts, i), name);
    }
    uint16_t index;
    assert_int_equal (ts_points_measure_index (pts, "m123xyz", 4, &index), 0);
    assert_int_equal (index, 123);
    assert_int_equal (pts->n_measures, 300);
    ts_points_destroy (&pts);
}

static void
points_refuse_a_measure_over_the_table_limit (void **state)
{
    ts_points_t *pts = s_points ();
    char name [32];
    for (int m = 0; m < TS_POINTS_MEASURES_MAX; m++) {
        snprintf (name, sizeof name, "m%d", m);
        s_add (pts, T0, name, m);
    }
    assert_int_equal (ts_points_append (pts, T0, "one-more", 0), TS_ETOOBIG);
    assert_int_equal (ts_points_append (pts, T0, "m7", 1), 0);
    assert_int_equal (pts->n, TS_POINTS_MEASURES_MAX + 1);
    char long_name [TS_NAME_MAX + 2];
    memset (long_name, 'a', sizeof long_name - 1);
    long_name [sizeof long_name - 1] = 0;
    assert_int_equal (ts_points_append (pts, T0, long_name, 0), TS_ETOOBIG);
    ts_points_destroy (&pts);
}

static void
points_clear_forgets_measures_and_release_frees_columns (void **state)
{
    ts_points_t *pts = s_points ();
    s_add (pts, T0, "temp", 1);
    ts_points_clear (pts);
    assert_int_equal (pts->n, 0);
    assert_int_equal (pts->n_measures, 0);
    s_add (pts, T0, "wind", 2);
    assert_string_equal (pts->measures [0], "wind");
    ts_points_release (pts);
    assert_int_equal (pts->n, 0);
    assert_null (pts->time_ms);
    s_add (pts, T0 + STEP, "temp", 3);
    s_assert_point (pts, 0, T0 + STEP, "temp", 3);
    ts_points_destroy (&pts);
}

static void
points_append_from_another_list_by_name (void **state)
{
    ts_points_t *a = s_points (), *b = s_points ();
    s_add (a, T0, "wind", 1);
    s_add (a, T0, "temp", 2);
    s_add (b, T0, "temp", 3);
    assert_int_equal (ts_points_append_from (b, a, 0), 0);
    assert_int_equal (ts_points_append_from (b, a, 1), 0);
    assert_int_equal (b->n_measures, 2);
    s_assert_point (b, 1, T0, "wind", 1);
    s_assert_point (b, 2, T0, "temp", 2);
    assert_int_equal (b->measure [0], b->measure [2]);
    ts_points_destroy (&a);
    ts_points_destroy (&b);
}

static void
sort_orders_by_time_then_name_and_keeps_equal_points_in_order (void **state)
{
    ts_points_t *pts = s_points ();
    s_add (pts, T0 + STEP, "b", 1);
    s_add (pts, T0, "b", 2);
    s_add (pts, T0 + STEP, "a", 3);
    s_add (pts, T0 + STEP, "b", 4);
    assert_false (ts_points_sorted (pts));
    assert_int_equal (ts_points_sort (pts), 0);
    assert_true (ts_points_sorted (pts));
    s_assert_point (pts, 0, T0, "b", 2);
    s_assert_point (pts, 1, T0 + STEP, "a", 3);
    s_assert_point (pts, 2, T0 + STEP, "b", 1);
    s_assert_point (pts, 3, T0 + STEP, "b", 4);
    ts_points_destroy (&pts);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (points_append_keeps_time_measure_and_value),
        cmocka_unit_test (points_append_rejects_long_measure),
        cmocka_unit_test (points_sort_orders_by_time_then_measure),
        cmocka_unit_test (split_puts_point_at_now_into_forecast),
        cmocka_unit_test (split_puts_points_before_now_into_history),
        cmocka_unit_test (split_keeps_order_of_the_input),
        cmocka_unit_test (split_of_empty_input_gives_empty_lists),
        cmocka_unit_test (merge_without_history_keeps_all_forecast_and_has_no_baseline),
        cmocka_unit_test (merge_without_forecast_sets_baseline_from_newest_history),
        cmocka_unit_test (merge_drops_forecast_when_history_is_newer_than_all_of_it),
        cmocka_unit_test (merge_drops_forecast_point_equal_to_baseline_and_keeps_the_next),
        cmocka_unit_test (merge_baseline_is_newest_time_over_every_measure),
        cmocka_unit_test (merge_of_range_wholly_in_the_past_returns_history_only),
        cmocka_unit_test (merge_of_range_wholly_in_the_future_returns_forecast_only),
        cmocka_unit_test (points_hold_each_measure_name_once),
        cmocka_unit_test (points_find_names_among_many_measures),
        cmocka_unit_test (points_refuse_a_measure_over_the_table_limit),
        cmocka_unit_test (points_clear_forgets_measures_and_release_frees_columns),
        cmocka_unit_test (points_append_from_another_list_by_name),
        cmocka_unit_test (sort_orders_by_time_then_name_and_keeps_equal_points_in_order),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_points", tests, NULL, NULL);
}
