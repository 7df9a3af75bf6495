/*  test_ts_json - the gateway's JSON text writer: string escaping,
    shortest round-trip doubles, null for non-finite values, growth and
    hand-over of the buffer. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_json.h"

static void
json_escapes_quotes_backslashes_and_control_characters (void **state)
{
    ts_json_t *json = ts_json_new ();
    assert_non_null (json);
    assert_int_equal (ts_json_str (json, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f/é"),
                      0);
    assert_string_equal (ts_json_data (json),
                         "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f"
                         "\\u007f/é\"");
    ts_json_reset (json);
    ts_json_str (json, "");
    ts_json_raw (json, ",");
    ts_json_str (json, NULL);
    assert_string_equal (ts_json_data (json), "\"\",null");
    ts_json_destroy (&json);
    assert_null (json);
}

static void
json_error_replaces_the_text_with_an_error_answer (void **state)
{
    ts_json_t *json = ts_json_new ();
    assert_non_null (json);
    ts_json_raw (json, "{\"partial\":");
    assert_int_equal (ts_json_error (json, 400, "bad_request",
                                     "id 'a\"b' is invalid"), 400);
    assert_string_equal (ts_json_data (json),
                         "{\"error\":\"bad_request\","
                         "\"detail\":\"id 'a\\\"b' is invalid\"}");
    ts_json_destroy (&json);
}

static void
json_replaces_bytes_that_are_not_utf8 (void **state)
{
    ts_json_t *json = ts_json_new ();
    //  Stray continuation, bad lead, overlong '/', surrogate, cut sequence;
    //  then a 4-byte sequence that is fine.
    ts_json_str (json, "a\x80" "b\xff" "c\xc0\xaf" "d\xed\xa0\x80"
                       "e\xe2\x82");
    assert_string_equal (ts_json_data (json),
                         "\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd"
                         "\\ufffd\\ufffde\\ufffd\\ufffd\"");
    ts_json_reset (json);
    ts_json_str (json, "\xf0\x9f\x98\x80 \xe2\x82\xac");
    assert_string_equal (ts_json_data (json),
                         "\"\xf0\x9f\x98\x80 \xe2\x82\xac\"");
    ts_json_destroy (&json);
}

static void
s_assert_round_trip (double value)
{
    char buf [40];
    assert_true (ts_json_format_double (value, buf, sizeof buf));
    assert_true (strtod (buf, NULL) == value);
    //  Never more digits than needed: %.17g is only used when %.15g fails.
    char short_form [40];
    snprintf (short_form, sizeof short_form, "%.15g", value);
    if (strtod (short_form, NULL) == value)
        assert_string_equal (buf, short_form);
}

static void
json_prints_doubles_that_read_back_exactly (void **state)
{
    double values [] = { 0.0, 1.0, -2.5, 0.1, 0.1 + 0.2, 1.0 / 3.0, 1e300,
                         -1e-300, 5e-324, 123456789012345678.0,
                         1.7976931348623157e308, 42.125 };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++)
        s_assert_round_trip (values [i]);

    char buf [40];
    ts_json_format_double (0.1, buf, sizeof buf);
    assert_string_equal (buf, "0.1");
    ts_json_format_double (0.1 + 0.2, buf, sizeof buf);
    assert_string_equal (buf, "0.30000000000000004");
    ts_json_format_double (100.0, buf, sizeof buf);
    assert_string_equal (buf, "100");

    ts_json_t *json = ts_json_new ();
    ts_json_double (json, 2.5);
    ts_json_raw (json, " ");
    ts_json_int (json, INT64_MIN);
    assert_string_equal (ts_json_data (json), "2.5 -9223372036854775808");
    ts_json_destroy (&json);
}

//  The reference the fast decimal path must agree with: "%.15g" if it
//  reads back, else "%.17g".
static void
s_assert_like_printf (double value)
{
    char expected [40], got [40];
    snprintf (expected, sizeof expected, "%.15g", value);
    if (strtod (expected, NULL) != value)
        snprintf (expected, sizeof expected, "%.17g", value);
    assert_true (ts_json_format_double (value, got, sizeof got));
    assert_string_equal (got, expected);
    ts_json_t *json = ts_json_new ();
    ts_json_double (json, value);
    assert_string_equal (ts_json_data (json), expected);
    ts_json_destroy (&json);
}

static void
json_prints_doubles_as_printf_would (void **state)
{
    //  Edges of the fast path: where %g changes notation, 15 digits, a
    //  rounding that carries into a 16th digit, negative values, zero.
    double edges [] = { 1e-4, 9.99999e-5, 0.00012345, 1e15, 999999999999999.0,
                        999999999999999.6, 99999999999999.95, 123456.7890123,
                        -0.0, -1e-4, -42.0, 0.5, 1234567.125, 2.675,
                        1.0000000000000002, 0.30000000000000004, 7e14 };
    for (size_t i = 0; i < sizeof edges / sizeof edges [0]; i++)
        s_assert_like_printf (edges [i]);
    //  Values as series hold them (0 to 6 decimals, several magnitudes),
    //  then arbitrary bit patterns.
    uint64_t state64 = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 200000; i++) {
        state64 ^= state64 << 13; state64 ^= state64 >> 7;
        state64 ^= state64 << 17;
        int decimals = (int) (state64 % 7);
        double scale = 1;
        for (int d = 0; d < decimals; d++)
            scale *= 10;
        double value = (double) ((int64_t) (state64 >> 20) % 100000000)
                     / scale;
        s_assert_like_printf (value);
        double bits;
        memcpy (&bits, &state64, sizeof bits);
        if (isfinite (bits))
            s_assert_like_printf (bits);
    }
}

//  In a series the writer starts each value's search at the decimals of
//  the value before: every order of decimals must still print as
//  printf would (more, fewer, none, 17 digits, out of range).
static void
json_series_values_print_as_printf_whatever_came_before (void **state)
{
    double values [] = { 12.3456, 1.5, 100, 0.0001, 21.458333333333332,
                         2.675, 12.3456, 7e14, 1e15, 0.30000000000000004,
                         -3.25, 1e-5, 42, 123456.7890123, 0.5 };
    size_t n = sizeof values / sizeof values [0];
    uint64_t state64 = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 2000; round++) {
        ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
        assert_non_null (reply);
        double order [64];
        for (size_t i = 0; i < n; i++) {
            state64 ^= state64 << 13; state64 ^= state64 >> 7;
            state64 ^= state64 << 17;
            order [i] = round == 0? values [i]: values [state64 % n];
            ts_points_append (reply->series.history, (int64_t) i, "v",
                              order [i]);
        }
        ts_json_t *json = ts_json_new ();
        assert_int_equal (ts_json_series (json, reply), 0);
        const char *at = ts_json_data (json);
        for (size_t i = 0; i < n; i++) {
            at = strstr (at, "\"value\":");
            assert_non_null (at);
            at += strlen ("\"value\":");
            char expected [40];
            snprintf (expected, sizeof expected, "%.15g", order [i]);
            if (strtod (expected, NULL) != order [i])
                snprintf (expected, sizeof expected, "%.17g", order [i]);
            size_t len = strcspn (at, ",");
            if (len != strlen (expected) || strncmp (at, expected, len)) {
                print_error ("value %zu: got %.*s, expected %s\n", i,
                             (int) len, at, expected);
                fail ();
            }
        }
        ts_json_destroy (&json);
        ts_msg_destroy (&reply);
    }
}

static void
json_prints_unsigned_counters_in_full (void **state)
{
    ts_json_t *json = ts_json_new ();
    ts_json_uint (json, 0);
    ts_json_raw (json, ",");
    ts_json_uint (json, UINT64_MAX);
    assert_string_equal (ts_json_data (json), "0,18446744073709551615");
    ts_json_destroy (&json);
}

//  Integers two digits at a time: every length, the edges of each.
static void
json_prints_integers_as_printf_would (void **state)
{
    ts_json_t *json = ts_json_new ();
    uint64_t state64 = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < 100000; i++) {
        state64 ^= state64 << 13; state64 ^= state64 >> 7;
        state64 ^= state64 << 17;
        int64_t value = i < 2000? i - 1000
                      : (int64_t) (state64 >> (state64 % 64));
        if (i % 3 == 0)
            value = -value;
        char expected [32];
        snprintf (expected, sizeof expected, "%lld", (long long) value);
        ts_json_reset (json);
        ts_json_int (json, value);
        assert_string_equal (ts_json_data (json), expected);
    }
    ts_json_reset (json);
    ts_json_int (json, INT64_MAX);
    assert_string_equal (ts_json_data (json), "9223372036854775807");
    ts_json_destroy (&json);
}

static void
json_writes_null_for_nan_and_infinity (void **state)
{
    ts_json_t *json = ts_json_new ();
    ts_json_double (json, NAN);
    ts_json_raw (json, ",");
    ts_json_double (json, INFINITY);
    ts_json_raw (json, ",");
    ts_json_double (json, -INFINITY);
    assert_string_equal (ts_json_data (json), "null,null,null");
    char buf [40];
    assert_false (ts_json_format_double (NAN, buf, sizeof buf));
    assert_string_equal (buf, "null");
    ts_json_destroy (&json);
}

static void
json_grows_past_its_first_buffer (void **state)
{
    ts_json_t *json = ts_json_new ();
    for (int i = 0; i < 10000; i++) {
        ts_json_raw (json, i? ",": "[");
        ts_json_int (json, i);
    }
    ts_json_raw (json, "]");
    assert_false (ts_json_failed (json));
    assert_int_equal (ts_json_size (json), strlen (ts_json_data (json)));
    assert_memory_equal (ts_json_data (json), "[0,1,2,", 7);
    assert_non_null (strstr (ts_json_data (json), ",9999]"));
    ts_json_destroy (&json);
}

static void
json_detach_hands_over_the_text_and_leaves_it_empty (void **state)
{
    ts_json_t *json = ts_json_new ();
    ts_json_raw (json, "{\"a\":1}");
    size_t size = 0;
    char *text = ts_json_detach (json, &size);
    assert_non_null (text);
    assert_int_equal (size, 7);
    assert_string_equal (text, "{\"a\":1}");
    free (text);
    assert_int_equal (ts_json_size (json), 0);
    assert_string_equal (ts_json_data (json), "");
    ts_json_raw (json, "[]");
    assert_string_equal (ts_json_data (json), "[]");
    ts_json_destroy (&json);
}

static void
json_series_writes_history_then_forecast_with_sources (void **state)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    assert_non_null (reply);
    ts_strlcpy (reply->id, "s-1", sizeof reply->id);
    reply->from_ms = 0;
    reply->to_ms = 900;
    ts_points_append (reply->series.history, 100, "value", 1.5);
    ts_points_append (reply->series.forecast, 600, "value", NAN);
    reply->series.has_baseline = true;
    reply->series.baseline_ms = 100;
    ts_json_t *json = ts_json_new ();
    assert_int_equal (ts_json_series (json, reply), 0);
    assert_string_equal (ts_json_data (json),
        "{\"id\":\"s-1\",\"from\":0,\"to\":900,\"baseline\":100,\"points\":["
        "{\"time\":100,\"measure\":\"value\",\"value\":1.5,\"source\":\"history\"},"
        "{\"time\":600,\"measure\":\"value\",\"value\":null,\"source\":\"forecast\"}]}");
    ts_json_reset (json);
    ts_points_clear (reply->series.history);
    ts_points_clear (reply->series.forecast);
    reply->series.has_baseline = false;
    assert_int_equal (ts_json_series (json, reply), 0);
    assert_non_null (strstr (ts_json_data (json), "\"baseline\":null,\"points\":[]}"));
    ts_json_destroy (&json);
    ts_msg_destroy (&reply);
}

static void
json_stats_and_dlq_write_every_field (void **state)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    reply->stats.queued = 3;
    reply->stats.dead_lettered = 18446744073709551615ULL;
    reply->stats.oldest_age_ms = 42;
    assert_int_equal (ts_msg_add_worker (reply, "ab01", 7, 2), 0);
    ts_json_t *json = ts_json_new ();
    assert_int_equal (ts_json_stats (json, &reply->stats), 0);
    assert_string_equal (ts_json_data (json),
        "{\"queued\":3,\"delayed\":0,\"leased\":0,\"dlq\":0,\"done\":0,"
        "\"failed\":0,\"retried\":0,\"dead_lettered\":18446744073709551615,"
        "\"oldest_age_ms\":42,\"workers\":[{\"name\":\"ab01\",\"credit\":7,"
        "\"leased\":2}]}");
    ts_strlist_t *ids = ts_strlist_new ();
    ts_strlist_append (ids, "a");
    ts_strlist_append (ids, "b");
    assert_int_equal (ts_msg_add_dlq (reply, 9, ids, 3, 1000, "id=a: \"bad\""), 0);
    ts_json_reset (json);
    assert_int_equal (ts_json_dlq (json, reply), 0);
    assert_string_equal (ts_json_data (json),
        "{\"jobs\":[{\"job\":9,\"ids\":[\"a\",\"b\"],\"receives\":3,"
        "\"dead_at\":1000,\"error\":\"id=a: \\\"bad\\\"\"}]}");
    ts_strlist_destroy (&ids);
    ts_json_destroy (&json);
    ts_msg_destroy (&reply);
}

//  The answer to a request of op, as JSON text (static buffer). The
//  request names the id "x1".
static const char *
s_answer (ts_op_t op, const ts_msg_t *reply)
{
    static char text [512];
    ts_msg_t *req = ts_msg_new (op);
    ts_strlcpy (req->id, "x1", sizeof req->id);
    ts_json_t *json = ts_json_new ();
    assert_int_equal (ts_json_answer (json, req, reply), 0);
    ts_strlcpy (text, ts_json_data (json), sizeof text);
    ts_json_destroy (&json);
    ts_msg_destroy (&req);
    return text;
}

static void
json_answer_writes_each_op_as_the_http_api_does (void **state)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (reply, 200);
    assert_string_equal (s_answer (TS_OP_PING, reply), "{\"status\":\"ok\"}");
    reply->count = 2;
    assert_string_equal (s_answer (TS_OP_IDS_ADD, reply), "{\"added\":2}");
    assert_string_equal (s_answer (TS_OP_DLQ_REDRIVE, reply),
                         "{\"requeued\":2}");
    assert_string_equal (s_answer (TS_OP_DLQ_PURGE, reply), "{\"purged\":2}");
    assert_string_equal (s_answer (TS_OP_IDS_RM, reply),
                         "{\"id\":\"x1\",\"removed\":true}");
    ts_strlist_append (reply->ids, "a");
    ts_strlist_append (reply->ids, "b");
    assert_string_equal (s_answer (TS_OP_IDS_LS, reply),
                         "{\"ids\":[\"a\",\"b\"],\"next\":null}");
    ts_strlcpy (reply->next, "b", sizeof reply->next);
    assert_string_equal (s_answer (TS_OP_IDS_LS, reply),
                         "{\"ids\":[\"a\",\"b\"],\"next\":\"b\"}");
    ts_msg_set_ok (reply, 202);
    reply->count = 1;
    ts_msg_add_job (reply, 7);
    ts_msg_add_job (reply, 7);
    assert_string_equal (s_answer (TS_OP_HYDRATE, reply),
                         "{\"queued\":1,\"jobs\":[7,7]}");
    ts_msg_set_ok (reply, 200);
    ts_msg_add_state (reply, 7, TS_JOB_STATUS_DEAD, 3, "HTTP 404");
    assert_string_equal (s_answer (TS_OP_JOB_STATE, reply),
                         "{\"jobs\":[{\"job\":7,\"state\":\"dead\","
                         "\"receives\":3,\"error\":\"HTTP 404\"}]}");
    ts_json_t *json = ts_json_new ();
    ts_msg_t *ready = ts_msg_new (TS_OP_READY);
    assert_int_equal (ts_json_answer (json, ready, reply), TS_EINVAL);
    ts_msg_destroy (&ready);
    ts_json_destroy (&json);
    ts_msg_destroy (&reply);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (json_escapes_quotes_backslashes_and_control_characters),
        cmocka_unit_test (json_error_replaces_the_text_with_an_error_answer),
        cmocka_unit_test (json_replaces_bytes_that_are_not_utf8),
        cmocka_unit_test (json_prints_doubles_that_read_back_exactly),
        cmocka_unit_test (json_prints_doubles_as_printf_would),
        cmocka_unit_test (json_series_values_print_as_printf_whatever_came_before),
        cmocka_unit_test (json_prints_unsigned_counters_in_full),
        cmocka_unit_test (json_prints_integers_as_printf_would),
        cmocka_unit_test (json_writes_null_for_nan_and_infinity),
        cmocka_unit_test (json_grows_past_its_first_buffer),
        cmocka_unit_test (json_detach_hands_over_the_text_and_leaves_it_empty),
        cmocka_unit_test (json_series_writes_history_then_forecast_with_sources),
        cmocka_unit_test (json_stats_and_dlq_write_every_field),
        cmocka_unit_test (json_answer_writes_each_op_as_the_http_api_does),
    };
    return cmocka_run_group_tests_name ("ts_json", tests, NULL, NULL);
}
