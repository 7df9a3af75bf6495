/*  test_ts_store_timestream - the Timestream backend's pure parts, with no
    network (ts_store_timestream_text.c, the answer parsing of
    ts_store_timestream_call.c): the SQL of a range, hostile ids and
    clamped ranges in it, the records of a put and their WriteRecords
    bodies, rejected records into an error text, every scalar type parsed
    by its ColumnInfo, a Query page into points, DescribeEndpoints
    answers and versions. The requests are test_ts_store_timestream_calls;
    the backend against a whole Timestream fixture is the contract suite's
    (configuration timestream). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_timestream.h"

#define SQL_HEAD "SELECT measure_name, to_milliseconds(time) AS time_ms, " \
    "coalesce(measure_value::double, try_cast(measure_value::varchar AS " \
    "double)) AS value FROM "

//  --- SQL ---------------------------------------------------------------

static void
sql_is_the_designed_text_with_and_without_measure_and_limit (void **state)
{
    char sql [TS_TMS_SQL_MAX];
    assert_int_equal (ts_tms_sql ("TimeSeriesDB", "hist", "a.b", NULL,
                                  -5, 1700000000000LL, 0, sql), 0);
    assert_string_equal (sql, SQL_HEAD "\"TimeSeriesDB\".\"hist\" WHERE "
        "identifier = 'a.b' AND time BETWEEN from_milliseconds(-5) AND "
        "from_milliseconds(1700000000000) ORDER BY time, measure_name");
    assert_int_equal (ts_tms_sql ("db1", "t-1.x", "id", "temp", 0, 10, 21,
                                  sql), 0);
    assert_string_equal (sql, SQL_HEAD "\"db1\".\"t-1.x\" WHERE "
        "identifier = 'id' AND time BETWEEN from_milliseconds(0) AND "
        "from_milliseconds(10) AND measure_name = 'temp' ORDER BY time, "
        "measure_name LIMIT 21");
}

static void
sql_doubles_quotes_of_hostile_ids_measures_and_names (void **state)
{
    char sql [TS_TMS_SQL_MAX];
    assert_int_equal (ts_tms_sql ("d\"b", "t\"\"", "a' OR '1'='1",
                                  "m'; DROP TABLE x; --", 1, 2, 0, sql), 0);
    assert_string_equal (sql, SQL_HEAD "\"d\"\"b\".\"t\"\"\"\"\" WHERE "
        "identifier = 'a'' OR ''1''=''1' AND time BETWEEN "
        "from_milliseconds(1) AND from_milliseconds(2) AND measure_name = "
        "'m''; DROP TABLE x; --' ORDER BY time, measure_name");
    //  Too long for the buffer: refused, never cut.
    char id [TS_TMS_SQL_MAX];
    memset (id, '\'', sizeof id - 1);
    id [sizeof id - 1] = 0;
    assert_int_equal (ts_tms_sql ("db1", "t1x", id, NULL, 0, 1, 0, sql),
                      TS_ETOOBIG);
}

static void
sql_clamps_the_range_to_what_nanosecond_times_hold (void **state)
{
    char sql [TS_TMS_SQL_MAX];
    assert_int_equal (ts_tms_sql ("db1", "t1x", "a", NULL, INT64_MIN,
                                  INT64_MAX, 0, sql), 0);
    assert_non_null (strstr (sql, "BETWEEN from_milliseconds(-9223372036854)"
                             " AND from_milliseconds(9223372036854) "));
    int64_t from = INT64_MAX - 1, to = INT64_MAX;
    ts_tms_clamp (&from, &to);
    assert_true (from == 9223372036854LL && to == 9223372036854LL);
    from = INT64_MIN;
    to = -9223372036855LL;
    ts_tms_clamp (&from, &to);
    assert_true (from == -9223372036854LL && to == -9223372036854LL);
    from = -9223372036854LL;
    to = 9223372036854LL;
    ts_tms_clamp (&from, &to);
    assert_true (from == -9223372036854LL && to == 9223372036854LL);
}

//  --- records -----------------------------------------------------------

static void
records_keep_the_last_of_equal_points_by_time_then_measure (void **state)
{
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 200, "v", 1.0), 0);   //  0
    assert_int_equal (ts_points_append (pts, 100, "v", 2.0), 0);   //  1
    assert_int_equal (ts_points_append (pts, 200, "w", 3.0), 0);   //  2
    assert_int_equal (ts_points_append (pts, 200, "v", 4.0), 0);   //  3
    assert_int_equal (ts_points_append (pts, 200, "v", 5.0), 0);   //  4
    size_t n = 0;
    size_t *idx = ts_tms_records (pts, &n);
    assert_non_null (idx);
    assert_int_equal (n, 3);
    assert_int_equal (idx [0], 1);
    assert_int_equal (idx [1], 4);
    assert_int_equal (idx [2], 2);
    free (idx);
    ts_points_clear (pts);
    assert_null (ts_tms_records (pts, &n));
    assert_int_equal (n, 0);
    ts_points_destroy (&pts);
}

static void
values_are_the_shortest_text_that_reads_back (void **state)
{
    char buf [TS_TMS_NUMLEN];
    double values [] = { 0.0, -0.0, 1.5, 0.1, 1.0 / 3, 1e300, -2.5e-308,
                         4.9e-324, 1.7976931348623157e308, 1700000000000.0,
                         -9223372036854775808.0 };
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        assert_int_equal (ts_tms_value_text (values [i], buf), 0);
        assert_true (strtod (buf, NULL) == values [i]);
        assert_true (strlen (buf) <= 24);
    }
    ts_tms_value_text (0.1, buf);
    assert_string_equal (buf, "0.1");
    ts_tms_value_text (1700000000000.0, buf);
    assert_string_equal (buf, "1.7e+12");
    assert_int_equal (ts_tms_value_text (NAN, buf), TS_EINVAL);
    assert_string_equal (buf, "NaN");
    assert_int_equal (ts_tms_value_text (-INFINITY, buf), TS_EINVAL);
    assert_string_equal (buf, "-Infinity");
}

static void
write_body_has_the_common_attributes_and_one_version (void **state)
{
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, -1500, "temp", 1.5), 0);
    assert_int_equal (ts_points_append (pts, 1700000000000LL, "rain", 0.1),
                      0);
    size_t idx [] = { 1, 0 };
    int rc = 99;
    char err [TS_ERRLEN] = "";
    json_t *body = ts_tms_write_body ("db1", "t1x", "a.b", 1733400000123456,
                                      pts, idx, 2, &rc, err);
    assert_non_null (body);
    assert_int_equal (rc, 0);
    char *text = json_dumps (body, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"CommonAttributes\":{\"Dimensions\":"
        "[{\"Name\":\"identifier\",\"Value\":\"a.b\"}],\"MeasureValueType\":"
        "\"DOUBLE\",\"TimeUnit\":\"MILLISECONDS\",\"Version\":"
        "1733400000123456},\"DatabaseName\":\"db1\",\"Records\":["
        "{\"MeasureName\":\"rain\",\"MeasureValue\":\"0.1\",\"Time\":"
        "\"1700000000000\"},{\"MeasureName\":\"temp\",\"MeasureValue\":"
        "\"1.5\",\"Time\":\"-1500\"}],\"TableName\":\"t1x\"}");
    free (text);
    json_decref (body);
    //  A value DOUBLE cannot hold names its point.
    pts->value [0] = INFINITY;
    assert_null (ts_tms_write_body ("db1", "t1x", "a.b", 1, pts, idx, 2,
                                    &rc, err));
    assert_int_equal (rc, TS_EINVAL);
    assert_string_equal (err, "store.timestream: id 'a.b' measure 'temp' "
                         "time -1500: a DOUBLE measure cannot hold Infinity");
    ts_points_destroy (&pts);
}

static void
rejected_records_become_one_line_each_and_one_error_text (void **state)
{
    ts_points_t *pts = ts_points_new ();
    for (int i = 0; i < 5; i++)
        assert_int_equal (ts_points_append (pts, i * 1000, "v", i), 0);
    size_t idx [] = { 4, 3, 2 };        //  a request of points 4, 3, 2
    const char *body = "{\"__type\":\"com.amazonaws.timestream.v20181101#"
        "RejectedRecordsException\",\"message\":\"One or more records have "
        "been rejected.\",\"RejectedRecords\":[{\"RecordIndex\":0,\"Reason\":"
        "\"The record timestamp is outside the time range [2024-01-01T00:00:"
        "00Z, 2024-01-02T00:15:00Z) of the data ingestion window.\"},"
        "{\"RecordIndex\":2,\"Reason\":\"A record with the same time and "
        "dimensions exists with a higher version.\",\"ExistingVersion\":7}]}";
    ts_strlist_t *lines = ts_strlist_new ();
    assert_int_equal (ts_tms_rejected_parse (body, strlen (body), "a", pts,
                                             idx, 3, lines), 2);
    assert_string_equal (lines->items [0], "id 'a' measure 'v' time 4000: "
        "The record timestamp is outside the time range [2024-01-01T00:00:"
        "00Z, 2024-01-02T00:15:00Z) of the data ingestion window.");
    assert_string_equal (lines->items [1], "id 'a' measure 'v' time 2000: "
        "A record with the same time and dimensions exists with a higher "
        "version. (existing version 7)");
    char err [TS_ERRLEN];
    ts_tms_rejected_errf (err, lines, 150);
    assert_non_null (strstr (err, "store.timestream: 2 of 150 records "
                             "rejected: id 'a' measure 'v' time 4000: "));
    //  More than fit: the rest counted.
    for (int i = 0; i < 10; i++)
        assert_int_equal (ts_strlist_append (lines, "id 'a' measure 'v' "
                          "time 1: duplicate"), 0);
    ts_tms_rejected_errf (err, lines, 150);
    assert_true (strlen (err) < TS_ERRLEN);
    assert_non_null (strstr (err, "12 of 150 records rejected"));
    assert_non_null (strstr (err, "more)"));
    //  Not a list of rejected records, or an index out of the request.
    ts_strlist_clear (lines);
    assert_int_equal (ts_tms_rejected_parse ("{}", 2, "a", pts, idx, 3,
                                             lines), TS_EPROTO);
    const char *bad = "{\"RejectedRecords\":[{\"RecordIndex\":3}]}";
    assert_int_equal (ts_tms_rejected_parse (bad, strlen (bad), "a", pts,
                                             idx, 3, lines), TS_EPROTO);
    assert_int_equal (ts_tms_rejected_parse (NULL, 0, "a", pts, idx, 3,
                                             lines), TS_EPROTO);
    ts_strlist_destroy (&lines);
    ts_points_destroy (&pts);
}

//  --- scalars -----------------------------------------------------------

static ts_tms_scalar_t
s_scalar (const char *type, const char *text)
{
    ts_tms_scalar_t s;
    int rc = ts_tms_scalar_parse (ts_tms_type (type), text, &s);
    if (rc)
        fail_msg ("%s '%s' not parsed", type, text? text: "(null)");
    return s;
}

static bool
s_refused (const char *type, const char *text)
{
    ts_tms_scalar_t s;
    return ts_tms_scalar_parse (ts_tms_type (type), text, &s) == TS_EPROTO;
}

static void
scalars_of_every_timestream_type_are_parsed_by_their_type (void **state)
{
    assert_string_equal (s_scalar ("VARCHAR", "a b").text, "a b");
    assert_true (s_scalar ("BOOLEAN", "true").boolean);
    assert_false (s_scalar ("BOOLEAN", "false").boolean);
    assert_true (s_refused ("BOOLEAN", "1"));
    assert_true (s_scalar ("BIGINT", "-9223372036854775808").integer
                 == INT64_MIN);
    assert_true (s_refused ("BIGINT", "9223372036854775808"));
    assert_true (s_refused ("BIGINT", "1.5"));
    assert_true (s_refused ("BIGINT", ""));
    assert_int_equal (s_scalar ("INTEGER", "-2147483648").integer,
                      INT32_MIN);
    assert_true (s_refused ("INTEGER", "2147483648"));
    assert_true (s_scalar ("DOUBLE", "1.5").real == 1.5);
    assert_true (s_scalar ("DOUBLE", "-1.0E-5").real == -1.0e-5);
    assert_true (isnan (s_scalar ("DOUBLE", "NaN").real));
    assert_true (s_scalar ("DOUBLE", "Infinity").real == INFINITY);
    assert_true (s_scalar ("DOUBLE", "-Infinity").real == -INFINITY);
    assert_true (s_refused ("DOUBLE", "inf"));
    assert_true (s_refused ("DOUBLE", "1x"));
    assert_true (s_scalar ("TIMESTAMP", "1970-01-01 00:00:00.000000000")
                 .integer == 0);
    assert_true (s_scalar ("TIMESTAMP", "2023-11-14 22:13:20.123456789")
                 .integer == 1700000000123456789LL);
    assert_true (s_scalar ("TIMESTAMP", "1969-12-31 23:59:59.999").integer
                 == -1000000);
    assert_true (s_refused ("TIMESTAMP", "2023-11-14T22:13:20"));
    assert_true (s_refused ("TIMESTAMP", "2300-01-01 00:00:00"));
    assert_int_equal (s_scalar ("DATE", "2023-11-14").integer, 19675);
    assert_int_equal (s_scalar ("DATE", "1969-12-31").integer, -1);
    assert_true (s_refused ("DATE", "2023-13-01"));
    assert_true (s_scalar ("TIME", "01:02:03.5").integer
                 == 3723500000000LL);
    assert_true (s_refused ("TIME", "24:00:00"));
    assert_true (s_scalar ("INTERVAL_DAY_TO_SECOND", "1 00:00:01.000000000")
                 .integer == 86401000000000LL);
    assert_true (s_scalar ("INTERVAL_DAY_TO_SECOND", "-0 00:00:00.001")
                 .integer == -1000000);
    assert_true (s_refused ("INTERVAL_DAY_TO_SECOND", "1 day"));
    //  One sign, the interval's (a second one overflowed: fuzz_timestream).
    assert_true (s_refused ("INTERVAL_DAY_TO_SECOND",
                            "--9223372036854771 02:02:04.000000001"));
    assert_true (s_refused ("INTERVAL_YEAR_TO_MONTH",
                            "--999999999999999999-1"));
    assert_int_equal (s_scalar ("INTERVAL_YEAR_TO_MONTH", "1-2").integer, 14);
    assert_int_equal (s_scalar ("INTERVAL_YEAR_TO_MONTH", "-0-3").integer,
                      -3);
    assert_true (s_refused ("INTERVAL_YEAR_TO_MONTH", "1-12"));
    //  UNKNOWN holds only null; null is null of any type.
    assert_true (s_refused ("UNKNOWN", "x"));
    assert_true (s_scalar ("UNKNOWN", NULL).null);
    assert_true (s_scalar ("DOUBLE", NULL).null);
    assert_true (s_refused ("NO_SUCH_TYPE", "1"));
    assert_int_equal (ts_tms_type ("INTERVAL_YEAR_TO_MONTH"),
                      TS_TMS_INTERVAL_YEAR_TO_MONTH);
}

//  --- a Query page ------------------------------------------------------

static json_t *
s_json (const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads (text, 0, &jerr);
    if (!doc)
        fail_msg ("bad test JSON: %s", jerr.text);
    return doc;
}

static void
page_points_read_columns_by_name_and_skip_null_values (void **state)
{
    json_t *page = s_json ("{\"QueryId\":\"q\",\"NextToken\":\"n1\","
        "\"ColumnInfo\":[{\"Name\":\"value\",\"Type\":{\"ScalarType\":"
        "\"DOUBLE\"}},{\"Name\":\"measure_name\",\"Type\":{\"ScalarType\":"
        "\"VARCHAR\"}},{\"Name\":\"time_ms\",\"Type\":{\"ScalarType\":"
        "\"BIGINT\"}}],\"Rows\":["
        "{\"Data\":[{\"ScalarValue\":\"1.5\"},{\"ScalarValue\":\"v\"},"
        "{\"ScalarValue\":\"-5\"}]},"
        "{\"Data\":[{\"NullValue\":true},{\"ScalarValue\":\"v\"},"
        "{\"ScalarValue\":\"6\"}]},"
        "{\"Data\":[{\"ScalarValue\":\"2\"},{\"ScalarValue\":\"w\"},"
        "{\"ScalarValue\":\"7\"}]}]}");
    ts_points_t *out = ts_points_new ();
    const char *next = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_tms_page_points (page, SIZE_MAX, out, &next, err),
                      0);
    assert_string_equal (next, "n1");
    assert_int_equal (out->n, 2);
    assert_true (out->time_ms [0] == -5 && out->value [0] == 1.5);
    assert_string_equal (ts_points_measure (out, 1), "w");
    //  Past max: TS_ETOOBIG, max points kept.
    ts_points_clear (out);
    assert_int_equal (ts_tms_page_points (page, 1, out, &next, err),
                      TS_ETOOBIG);
    assert_int_equal (out->n, 1);
    json_decref (page);

    //  An empty page with a token; a last page without one.
    ts_points_clear (out);
    page = s_json ("{\"QueryId\":\"q\",\"NextToken\":\"n2\",\"Rows\":[],"
                   "\"ColumnInfo\":[]}");
    assert_int_equal (ts_tms_page_points (page, 10, out, &next, err), 0);
    assert_string_equal (next, "n2");
    json_decref (page);
    page = s_json ("{\"QueryId\":\"q\",\"Rows\":[]}");
    assert_int_equal (ts_tms_page_points (page, 10, out, &next, err), 0);
    assert_null (next);
    assert_int_equal (out->n, 0);
    json_decref (page);

    //  Columns not as asked, a row not of its columns, no Rows.
    page = s_json ("{\"ColumnInfo\":[{\"Name\":\"value\",\"Type\":"
        "{\"ScalarType\":\"VARCHAR\"}},{\"Name\":\"measure_name\",\"Type\":"
        "{\"ScalarType\":\"VARCHAR\"}},{\"Name\":\"time_ms\",\"Type\":"
        "{\"ScalarType\":\"BIGINT\"}}],\"Rows\":[{\"Data\":[]}]}");
    assert_int_equal (ts_tms_page_points (page, 10, out, &next, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "ColumnInfo"));
    json_decref (page);
    page = s_json ("{\"ColumnInfo\":[{\"Name\":\"value\",\"Type\":"
        "{\"ScalarType\":\"DOUBLE\"}},{\"Name\":\"measure_name\",\"Type\":"
        "{\"ScalarType\":\"VARCHAR\"}},{\"Name\":\"time_ms\",\"Type\":"
        "{\"ScalarType\":\"BIGINT\"}}],\"Rows\":[{\"Data\":[{\"ScalarValue\":"
        "\"1\"},{\"ScalarValue\":\"v\"},{\"ScalarValue\":\"soon\"}]}]}");
    assert_int_equal (ts_tms_page_points (page, 10, out, &next, err),
                      TS_EPROTO);
    json_decref (page);
    page = s_json ("{\"QueryId\":\"q\"}");
    assert_int_equal (ts_tms_page_points (page, 10, out, &next, err),
                      TS_EPROTO);
    json_decref (page);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
}

//  --- DescribeEndpoints, versions --------------------------------------

static void
endpoint_answers_give_a_url_and_a_period (void **state)
{
    char url [128], err [TS_ERRLEN] = "";
    int64_t period = 0;
    const char *ok = "{\"Endpoints\":[{\"Address\":\"ingest-cell2.timestream"
                     ".us-east-1.amazonaws.com\",\"CachePeriodInMinutes\":"
                     "1440}]}";
    assert_int_equal (ts_tms_endpoint_parse (ok, strlen (ok), "https", url,
                      sizeof url, &period, err), 0);
    assert_string_equal (url, "https://ingest-cell2.timestream.us-east-1."
                         "amazonaws.com");
    assert_true (period == 1440 * 60000LL);
    const char *port = "{\"Endpoints\":[{\"Address\":\"127.0.0.1:4567\","
                       "\"CachePeriodInMinutes\":0}]}";
    assert_int_equal (ts_tms_endpoint_parse (port, strlen (port), "http",
                      url, sizeof url, &period, err), 0);
    assert_string_equal (url, "http://127.0.0.1:4567");
    assert_true (period == 60000);
    const char *bad [] = {
        "{\"Endpoints\":[]}", "{}", "not json",
        "{\"Endpoints\":[{\"Address\":\"evil.example/x\"}]}",
        "{\"Endpoints\":[{\"Address\":\"user@host\"}]}",
        "{\"Endpoints\":[{\"Address\":\"\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal (ts_tms_endpoint_parse (bad [i], strlen (bad [i]),
                          "https", url, sizeof url, &period, err),
                          TS_EPROTO);
    assert_non_null (strstr (err, "DescribeEndpoints"));
}

static void
versions_increase_strictly_whatever_the_clock (void **state)
{
    int64_t a = ts_tms_version (5000000);
    int64_t b = ts_tms_version (5000000);
    int64_t c = ts_tms_version (4000000);
    assert_true (b > a && c > b);
    int64_t d = ts_tms_version (c + 1000);
    assert_true (d == c + 1000);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (sql_is_the_designed_text_with_and_without_measure_and_limit),
        cmocka_unit_test (sql_doubles_quotes_of_hostile_ids_measures_and_names),
        cmocka_unit_test (sql_clamps_the_range_to_what_nanosecond_times_hold),
        cmocka_unit_test (records_keep_the_last_of_equal_points_by_time_then_measure),
        cmocka_unit_test (values_are_the_shortest_text_that_reads_back),
        cmocka_unit_test (write_body_has_the_common_attributes_and_one_version),
        cmocka_unit_test (rejected_records_become_one_line_each_and_one_error_text),
        cmocka_unit_test (scalars_of_every_timestream_type_are_parsed_by_their_type),
        cmocka_unit_test (page_points_read_columns_by_name_and_skip_null_values),
        cmocka_unit_test (endpoint_answers_give_a_url_and_a_period),
        cmocka_unit_test (versions_increase_strictly_whatever_the_clock),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
