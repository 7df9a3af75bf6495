/*  test_ts_store_dynamodb - the DynamoDB backend's item layout, with no
    network (ts_store_dynamodb_item.c): sort keys of times and their
    slots, numbers as DynamoDB writes them back, values, a forecast's
    items, and the seed's items read back. The backend's requests run
    against dynalite in the store contract suites. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ts_store_dynamodb.h"

static int64_t
s_ms (const char *text)
{
    int64_t ms = 42;
    assert_true (ts_dyn_time_ms (text, &ms));
    return ms;
}

static void
times_round_trip_through_sort_keys_of_both_slots (void **state)
{
    const int64_t times [] = { 0, 1, 999, 1000, 1500, -1, -1500, -999,
                               1732406400123LL, INT64_MAX, INT64_MIN };
    char buf [TS_DYN_NUMLEN];
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++)
        for (int slot = 0; slot < 2; slot++) {
            ts_dyn_time_text (times [i], slot, buf);
            assert_true (s_ms (buf) == times [i]);
        }
    ts_dyn_time_text (-1500, 1, buf);
    assert_string_equal (buf, "-1.5001");
    ts_dyn_time_text (1732406400123LL, 0, buf);
    assert_string_equal (buf, "1732406400.1230");
}

static void
numbers_as_dynamodb_returns_them_parse (void **state)
{
    //  The seed's integer seconds, normalized and exponent forms.
    assert_true (s_ms ("1654152221") == 1654152221000LL);
    assert_true (s_ms ("1.5") == 1500);
    assert_true (s_ms ("1.5E+3") == 1500000);
    assert_true (s_ms ("15e-1") == 1500);
    assert_true (s_ms ("-0.0015") == -1);
    assert_true (s_ms ("0") == 0);
    assert_true (s_ms ("000.1230") == 123);
    int64_t ms = 0;
    assert_false (ts_dyn_time_ms (TS_DYN_HEAD_TIME, &ms));
    assert_false (ts_dyn_time_ms ("9223372036854776", &ms));
    assert_false (ts_dyn_time_ms ("abc", &ms));
    assert_false (ts_dyn_time_ms ("", &ms));
    assert_false (ts_dyn_time_ms ("1.2.3", &ms));
    char a [64], b [64];
    assert_true (ts_dyn_number_canon ("1.0000", a, sizeof a));
    assert_true (ts_dyn_number_canon ("1", b, sizeof b));
    assert_string_equal (a, b);
    assert_true (ts_dyn_number_canon ("0.001E3", b, sizeof b));
    assert_string_equal (a, b);
    assert_true (ts_dyn_number_canon ("1.0001", b, sizeof b));
    assert_string_not_equal (a, b);
    assert_true (ts_dyn_number_canon ("-0.000", a, sizeof a));
    assert_true (ts_dyn_number_canon ("0", b, sizeof b));
    assert_string_equal (a, b);
}

static void
range_bounds_hold_both_slots_of_their_edges (void **state)
{
    const int64_t times [] = { 0, 1500, -1500, INT64_MAX, INT64_MIN };
    char lo [TS_DYN_NUMLEN], hi [TS_DYN_NUMLEN], key [TS_DYN_NUMLEN];
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++) {
        ts_dyn_bound_text (times [i], false, lo);
        ts_dyn_bound_text (times [i], true, hi);
        for (int slot = 0; slot < 2; slot++) {
            ts_dyn_time_text (times [i], slot, key);
            assert_true (strtod (lo, NULL) <= strtod (key, NULL));
            assert_true (strtod (key, NULL) <= strtod (hi, NULL));
        }
    }
    //  Exactly, where doubles cannot tell: the ends of int64.
    ts_dyn_bound_text (INT64_MIN, false, lo);
    assert_string_equal (lo, "-9223372036854775.809");
    ts_dyn_time_text (INT64_MIN, 1, key);
    assert_string_equal (key, "-9223372036854775.8081");
    ts_dyn_bound_text (INT64_MAX, true, hi);
    assert_string_equal (hi, "9223372036854775.808");
    ts_dyn_bound_text (1500, false, lo);
    assert_string_equal (lo, "1.499");
    ts_dyn_bound_text (-1500, false, lo);
    assert_string_equal (lo, "-1.501");
    ts_dyn_bound_text (-1500, true, hi);
    assert_string_equal (hi, "-1.499");
}

static void
values_are_written_shortest_and_checked (void **state)
{
    char buf [TS_DYN_NUMLEN];
    assert_int_equal (ts_dyn_value_text (1.5, buf), 0);
    assert_string_equal (buf, "1.5");
    assert_int_equal (ts_dyn_value_text (0.1, buf), 0);
    assert_string_equal (buf, "0.1");
    assert_int_equal (ts_dyn_value_text (1.0 / 3, buf), 0);
    assert_true (strtod (buf, NULL) == 1.0 / 3);
    assert_int_equal (ts_dyn_value_text (0, buf), 0);
    assert_int_equal (ts_dyn_value_text (NAN, buf), TS_EINVAL);
    assert_int_equal (ts_dyn_value_text (INFINITY, buf), TS_EINVAL);
    assert_int_equal (ts_dyn_value_text (1e200, buf), TS_EINVAL);
    assert_int_equal (ts_dyn_value_text (1e-200, buf), TS_EINVAL);
}

static void
a_forecast_is_one_item_per_time_with_the_last_of_equal_points
    (void **state)
{
    ts_points_t *pts = ts_points_new ();
    ts_points_append (pts, 2000, "value", 2);
    ts_points_append (pts, 1000, "value", 1);
    ts_points_append (pts, 1000, "cpu", 10);
    ts_points_append (pts, 2000, "value", 22);
    json_t *requests = json_array (), *keys = json_array ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_dyn_forecast_items ("a", pts, 3, 61500, requests,
                                             keys, err), 0);
    assert_int_equal (json_array_size (requests), 2);
    assert_string_equal (json_string_value (json_array_get (keys, 0)),
                         "1.0001");
    json_t *item = json_object_get (json_object_get (
        json_array_get (requests, 1), "PutRequest"), "Item");
    char *text = json_dumps (item, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal (text,
        "{\"expiry\":{\"N\":\"62\"},\"expiry_ms\":{\"N\":\"61500\"},"
        "\"gen\":{\"N\":\"3\"},\"identifier\":{\"S\":\"a\"},"
        "\"time\":{\"N\":\"2.0001\"},\"value\":{\"N\":\"22\"}}");
    free (text);
    item = json_object_get (json_object_get (
        json_array_get (requests, 0), "PutRequest"), "Item");
    assert_non_null (json_object_get (item, "m_cpu"));

    //  Read back: generation 3 only, unexpired, in range, by measure.
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_dyn_item_points (item, 3, NULL, 0, 5000, 0, out),
                      0);
    assert_int_equal (out->n, 2);
    assert_int_equal (ts_dyn_item_points (item, 2, NULL, 0, 5000, 0, out),
                      0);
    assert_int_equal (ts_dyn_item_points (item, 3, NULL, 0, 5000, 61500,
                                          out), 0);
    assert_int_equal (ts_dyn_item_points (item, 3, NULL, 1001, 5000, 0,
                                          out), 0);
    assert_int_equal (ts_dyn_item_points (item, 3, "cpu", 0, 5000, 0, out),
                      0);
    assert_int_equal (out->n, 3);
    assert_int_equal (ts_dyn_item_count (item), 2);
    assert_false (ts_dyn_item_expired (item, 61499));
    assert_true (ts_dyn_item_expired (item, 61500));

    //  A value DynamoDB cannot hold is named, nothing else is checked.
    ts_points_append (pts, 3000, "value", NAN);
    assert_int_equal (ts_dyn_forecast_items ("a", pts, 4, 0, requests, keys,
                                             err), TS_EINVAL);
    assert_non_null (strstr (err, "value nan of value at 3000 ms"));
    json_decref (requests);
    json_decref (keys);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
the_seeds_items_read_as_measure_value (void **state)
{
    //  As the seed writes them: integer seconds, value as a string or a
    //  number, expiry in seconds; no gen: read when the id has no head.
    json_t *item = json_loads ("{\"identifier\":{\"S\":\"2549\"},"
        "\"time\":{\"N\":\"1654152221\"},\"value\":{\"S\":\"1.50\"},"
        "\"expiry\":{\"N\":\"1654200000\"}}", 0, NULL);
    assert_non_null (item);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_dyn_item_points (item, 0, NULL, INT64_MIN,
                      INT64_MAX, 1654199999999LL, out), 0);
    assert_int_equal (out->n, 1);
    assert_true (out->time_ms [0] == 1654152221000LL);
    assert_string_equal (ts_points_measure (out, 0), "value");
    assert_true (out->value [0] == 1.5);
    assert_true (ts_dyn_item_expired (item, 1654200000000LL));
    //  Not read beside a generation of tscache's.
    assert_int_equal (ts_dyn_item_points (item, 1, NULL, INT64_MIN,
                      INT64_MAX, 0, out), 0);
    assert_int_equal (out->n, 1);
    //  A head holds no points; odd attributes are ignored.
    json_t *head = json_loads ("{\"identifier\":{\"S\":\"a\"},"
        "\"time\":{\"N\":\"-1E+100\"},\"head_gen\":{\"N\":\"1\"}}", 0, NULL);
    assert_int_equal (ts_dyn_item_count (head), 0);
    assert_int_equal (ts_dyn_item_points (head, 0, NULL, INT64_MIN,
                      INT64_MAX, 0, out), 0);
    json_object_set_new (item, "m_a b", json_pack ("{ss}", "N", "1"));
    json_object_set_new (item, "other", json_pack ("{ss}", "N", "1"));
    assert_int_equal (ts_dyn_item_count (item), 1);
    json_decref (head);
    json_decref (item);
    ts_points_destroy (&out);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (times_round_trip_through_sort_keys_of_both_slots),
        cmocka_unit_test (numbers_as_dynamodb_returns_them_parse),
        cmocka_unit_test (range_bounds_hold_both_slots_of_their_edges),
        cmocka_unit_test (values_are_written_shortest_and_checked),
        cmocka_unit_test (
            a_forecast_is_one_item_per_time_with_the_last_of_equal_points),
        cmocka_unit_test (the_seeds_items_read_as_measure_value),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
