/*  test_ts_csv - a query answer as CSV: the header, both time columns,
    history then forecast, null values empty, RFC 4180 quoting, and the
    parts of a produced answer byte for byte the whole. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_csv.h"

static ts_msg_t *
s_reply (void)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    assert_non_null (reply);
    ts_points_append (reply->series.history, 1732406400000, "cpu", 12.5);
    ts_points_append (reply->series.history, 1732406460123, "cpu", NAN);
    ts_points_append (reply->series.forecast, 1732406520000, "cpu", -0.25);
    return reply;
}

static void
csv_writes_header_and_one_record_a_point (void **state)
{
    ts_msg_t *reply = s_reply ();
    ts_json_t *out = ts_json_new ();
    assert_int_equal (ts_csv_series (out, reply), 0);
    assert_string_equal (ts_json_data (out),
        "time,time_ms,measure,value,part\r\n"
        "2024-11-24T00:00:00.000Z,1732406400000,cpu,12.5,history\r\n"
        "2024-11-24T00:01:00.123Z,1732406460123,cpu,,history\r\n"
        "2024-11-24T00:02:00.000Z,1732406520000,cpu,-0.25,forecast\r\n");
    ts_json_destroy (&out);
    ts_msg_destroy (&reply);
}

static void
csv_of_no_points_is_the_header_line (void **state)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    ts_json_t *out = ts_json_new ();
    assert_int_equal (ts_csv_series (out, reply), 0);
    assert_string_equal (ts_json_data (out), TS_CSV_HEADER);
    ts_json_destroy (&out);
    ts_msg_destroy (&reply);
}

static void
csv_parts_are_the_whole_answer (void **state)
{
    ts_msg_t *reply = s_reply ();
    ts_json_t *whole = ts_json_new ();
    ts_json_t *parts = ts_json_new ();
    assert_int_equal (ts_csv_series (whole, reply), 0);
    size_t at = 0;
    int rc, calls = 0;
    while ((rc = ts_csv_series_part (parts, reply, &at, 1)) == 0)
        calls++;
    assert_int_equal (rc, 1);
    assert_int_equal (calls, 2);
    assert_string_equal (ts_json_data (parts), ts_json_data (whole));
    //  Once complete, another call adds nothing.
    assert_int_equal (ts_csv_series_part (parts, reply, &at, 1), 1);
    assert_string_equal (ts_json_data (parts), ts_json_data (whole));
    ts_json_destroy (&whole);
    ts_json_destroy (&parts);
    ts_msg_destroy (&reply);
}

static void
csv_field_quotes_as_rfc_4180_says (void **state)
{
    ts_json_t *out = ts_json_new ();
    ts_csv_field (out, "plain.name:1");
    ts_json_raw (out, "|");
    ts_csv_field (out, "a,b");
    ts_json_raw (out, "|");
    ts_csv_field (out, "say \"hi\"");
    ts_json_raw (out, "|");
    ts_csv_field (out, "two\r\nlines");
    assert_string_equal (ts_json_data (out),
        "plain.name:1|\"a,b\"|\"say \"\"hi\"\"\"|\"two\r\nlines\"");
    ts_json_destroy (&out);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (csv_writes_header_and_one_record_a_point),
        cmocka_unit_test (csv_of_no_points_is_the_header_line),
        cmocka_unit_test (csv_parts_are_the_whole_answer),
        cmocka_unit_test (csv_field_quotes_as_rfc_4180_says),
    };
    return cmocka_run_group_tests_name ("ts_csv", tests, NULL, NULL);
}
