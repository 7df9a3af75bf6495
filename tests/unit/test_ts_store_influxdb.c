/*  test_ts_store_influxdb - the InfluxDB backend's pure parts, with no
    network (ts_store_influxdb_text.c): line protocol escaping and
    InfluxQL quoting of hostile names, the lines of a put, the InfluxQL
    of a read and of a delete, /query answers into points (typed values,
    nulls, errors) and which write errors are partial. The backend
    against a real influxd is the contract suite's (configuration
    influxdb) and tests/integration/test_influxdb. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_influxdb.h"

//  --- escaping and quoting ----------------------------------------------

static const char *
s_escaped (ts_ifx_part_t part, const char *name, char *buf, size_t size)
{
    size_t at = 0;
    buf [0] = 0;
    int rc = ts_ifx_escape (part, name, buf, size, &at);
    return rc? NULL: buf;
}

static void
escape_marks_every_separator_of_line_protocol (void **state)
{
    char buf [256];
    assert_string_equal (s_escaped (TS_IFX_KEY, "x=1,id=other", buf,
                                    sizeof buf), "x\\=1\\,id\\=other");
    assert_string_equal (s_escaped (TS_IFX_KEY, "a b", buf, sizeof buf),
                         "a\\ b");
    assert_string_equal (s_escaped (TS_IFX_KEY, "-old:id.x", buf,
                                    sizeof buf), "-old:id.x");
    //  A measurement keeps '=' (only ',' and space end it).
    assert_string_equal (s_escaped (TS_IFX_MEASUREMENT, "h=1,x y", buf,
                                    sizeof buf), "h=1\\,x\\ y");
    //  Refused: empty, newline, other controls, backslash.
    assert_null (s_escaped (TS_IFX_KEY, "", buf, sizeof buf));
    assert_null (s_escaped (TS_IFX_KEY, "a\nhistory,id=b v=1 1", buf,
                            sizeof buf));
    assert_null (s_escaped (TS_IFX_KEY, "a\tb", buf, sizeof buf));
    assert_null (s_escaped (TS_IFX_KEY, "a\\", buf, sizeof buf));
    assert_null (s_escaped (TS_IFX_MEASUREMENT, "m\\", buf, sizeof buf));
    //  Too small: TS_ETOOBIG, nothing past at.
    size_t at = 0;
    char small [4] = "";
    assert_int_equal (ts_ifx_escape (TS_IFX_KEY, "a,b", small, sizeof small,
                                     &at), TS_ETOOBIG);
    assert_int_equal (at, 0);
}

static void
quoting_escapes_quotes_and_backslashes_of_influxql (void **state)
{
    char buf [128];
    assert_int_equal (ts_ifx_ident ("history", buf, sizeof buf), 0);
    assert_string_equal (buf, "\"history\"");
    assert_int_equal (ts_ifx_ident ("a\"; DROP DATABASE x; \\", buf,
                                    sizeof buf), 0);
    assert_string_equal (buf, "\"a\\\"; DROP DATABASE x; \\\\\"");
    assert_int_equal (ts_ifx_literal ("x' OR \"id\" =~ /.*/ OR 'a", buf,
                                      sizeof buf), 0);
    assert_string_equal (buf, "'x\\' OR \"id\" =~ /.*/ OR \\'a'");
    assert_int_equal (ts_ifx_literal ("a\\' --", buf, sizeof buf), 0);
    assert_string_equal (buf, "'a\\\\\\' --'");
    assert_int_equal (ts_ifx_literal ("a\nb", buf, sizeof buf),
                      TS_EINVAL);
    assert_int_equal (ts_ifx_ident ("abcdef", buf, 5), TS_ETOOBIG);
}

//  --- InfluxQL ----------------------------------------------------------

static void
select_is_the_designed_text_with_and_without_measure_and_limit (void **state)
{
    char q [TS_IFX_QUERY_MAX];
    assert_int_equal (ts_ifx_select ("history", "a.b", NULL, -5,
                                     1700000000000LL, 0, q), 0);
    assert_string_equal (q, "SELECT *::field FROM \"history\" WHERE \"id\" = "
                         "'a.b' AND time >= -5ms AND time <= 1700000000000ms "
                         "ORDER BY time ASC");
    assert_int_equal (ts_ifx_select ("h", "x' OR '1'='1", "te\"mp", 0, 10, 21,
                                     q), 0);
    assert_string_equal (q, "SELECT \"te\\\"mp\"::field FROM \"h\" WHERE "
                         "\"id\" = 'x\\' OR \\'1\\'=\\'1' AND time >= 0ms AND "
                         "time <= 10ms ORDER BY time ASC LIMIT 21");
    //  Clamped to what InfluxDB holds.
    assert_int_equal (ts_ifx_select ("h", "i", NULL, INT64_MIN, INT64_MAX, 0,
                                     q), 0);
    assert_non_null (strstr (q, "time >= -9223372036853ms AND time <= "
                                "9223372036853ms"));
    assert_int_equal (ts_ifx_drop ("history", "-old", q), 0);
    assert_string_equal (q, "DROP SERIES FROM \"history\" WHERE \"id\" = "
                         "'-old'");
}

//  --- lines -------------------------------------------------------------

static void
lines_group_one_time_per_line_last_point_wins (void **state)
{
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 2000, "m2", 2), 0);
    assert_int_equal (ts_points_append (pts, 1000, "m1", 1.5), 0);
    assert_int_equal (ts_points_append (pts, 1000, "x=1,id=other", 3), 0);
    assert_int_equal (ts_points_append (pts, 1000, "m1", 1.25), 0);
    assert_int_equal (ts_points_append (pts, -5, "m1", 1e300), 0);
    ts_ifx_lines_t *lines = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_ifx_lines ("history", "-a b", pts, &lines, err), 0);
    assert_int_equal (lines->n, 3);
    assert_string_equal (lines->text,
        "history,id=-a\\ b m1=1e+300 -5\n"
        "history,id=-a\\ b m1=1.25,x\\=1\\,id\\=other=3 1000\n"
        "history,id=-a\\ b m2=2 2000\n");
    assert_int_equal (lines->fields [1], 2);
    assert_int_equal (lines->time_ms [2], 2000);
    assert_int_equal (lines->start [3], strlen (lines->text));
    char measures [64];
    ts_ifx_line_measures (lines, 1, pts, measures, sizeof measures);
    assert_string_equal (measures, "m1,x=1,id=other");
    ts_ifx_lines_destroy (&lines);
    assert_null (lines);

    //  What InfluxDB cannot hold is named.
    ts_points_clear (pts);
    assert_int_equal (ts_points_append (pts, 7, "m", NAN), 0);
    assert_int_equal (ts_ifx_lines ("history", "a", pts, &lines, err),
                      TS_EINVAL);
    assert_string_equal (err, "store.influxdb: id 'a' measure 'm' time 7: a "
                         "float field cannot hold NaN");
    ts_points_clear (pts);
    assert_int_equal (ts_points_append (pts, INT64_MAX, "m", 1), 0);
    assert_int_equal (ts_ifx_lines ("history", "a", pts, &lines, err),
                      TS_EBACKEND);
    assert_non_null (strstr (err, "time 9223372036854775807: outside"));
    ts_points_clear (pts);
    assert_int_equal (ts_points_append (pts, 1, "m\\", 1), 0);
    assert_int_equal (ts_ifx_lines ("history", "a", pts, &lines, err),
                      TS_EINVAL);
    assert_non_null (strstr (err, "a name line protocol cannot carry"));
    assert_null (lines);
    ts_points_destroy (&pts);
}

//  --- answers -----------------------------------------------------------

static int
s_parse (const char *text, size_t max, ts_points_t *out, char *err)
{
    json_t *doc = json_loads (text, 0, NULL);
    assert_non_null (doc);
    int rc = ts_ifx_answer_points (doc, max, out, err);
    json_decref (doc);
    return rc;
}

static void
answer_rows_become_points_nulls_skipped (void **state)
{
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_parse ("{\"results\":[{\"statement_id\":0,\"series\":"
        "[{\"name\":\"history\",\"columns\":[\"time\",\"a\",\"b\"],"
        "\"values\":[[1000,1.5,null],[2000,2,-3e-5],[3000,null,null]]}]}]}",
        10, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], 1000);
    assert_string_equal (ts_points_measure (out, 0), "a");
    assert_true (out->value [0] == 1.5);
    assert_string_equal (ts_points_measure (out, 1), "a");
    assert_true (out->value [1] == 2);          //  an integer field
    assert_string_equal (ts_points_measure (out, 2), "b");
    assert_true (out->value [2] == -3e-5);
    //  No series: no points.
    ts_points_clear (out);
    assert_int_equal (s_parse ("{\"results\":[{\"statement_id\":0}]}", 10,
                               out, err), 0);
    assert_int_equal (out->n, 0);
    //  max reached with another to come.
    assert_int_equal (s_parse ("{\"results\":[{\"series\":[{\"columns\":"
        "[\"time\",\"a\"],\"values\":[[1,1],[2,2]]}]}]}", 1, out, err),
        TS_ETOOBIG);
    ts_points_destroy (&out);
}

static void
answer_errors_and_bad_shapes_are_reported (void **state)
{
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_parse ("{\"results\":[{\"statement_id\":0,\"error\":"
        "\"database not found: x\"}]}", 10, out, err), TS_EBACKEND);
    assert_string_equal (err, "store.influxdb: query: database not found: x");
    assert_int_equal (s_parse ("{\"error\":\"error parsing query\"}", 10, out,
                               err), TS_EBACKEND);
    assert_int_equal (s_parse ("{\"results\":[{\"series\":[{\"columns\":"
        "[\"time\",\"a\"],\"values\":[[1,\"text\"]]}]}]}", 10, out, err),
        TS_EPROTO);
    assert_string_equal (err, "store.influxdb: query: field 'a' at time 1 is "
                         "not a number");
    assert_int_equal (s_parse ("{\"results\":[{\"series\":[{\"columns\":"
        "[\"time\",\"a\"],\"values\":[[\"2025-01-01T00:00:00Z\",1]]}]}]}",
        10, out, err), TS_EPROTO);
    assert_int_equal (s_parse ("[]", 10, out, err), TS_EPROTO);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
}

static void
write_errors_give_their_text_and_partial_ones_are_told (void **state)
{
    char buf [256];
    const char *partial = "{\"error\":\"partial write: field type conflict: "
        "input field \\\"n\\\" on measurement \\\"history\\\" is type float, "
        "already exists as type integer dropped=1\"}";
    ts_ifx_error_text (partial, strlen (partial), buf, sizeof buf);
    assert_string_equal (buf, "partial write: field type conflict: input "
        "field \"n\" on measurement \"history\" is type float, already "
        "exists as type integer dropped=1");
    assert_true (ts_ifx_partial (400, buf));
    const char *v2 = "{\"code\":\"unprocessable entity\",\"message\":"
        "\"failure writing points\"}";
    ts_ifx_error_text (v2, strlen (v2), buf, sizeof buf);
    assert_string_equal (buf, "failure writing points");
    assert_true (ts_ifx_partial (422, buf));
    assert_true (ts_ifx_partial (400, "unable to parse 'x': bad timestamp"));
    assert_false (ts_ifx_partial (404, "database not found: \"x\""));
    assert_false (ts_ifx_partial (401, "authorization failed"));
    ts_ifx_error_text ("<html>Bad\r\nGateway</html>", 26, buf, sizeof buf);
    assert_string_equal (buf, "<html>Bad  Gateway</html>");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (escape_marks_every_separator_of_line_protocol),
        cmocka_unit_test (quoting_escapes_quotes_and_backslashes_of_influxql),
        cmocka_unit_test (select_is_the_designed_text_with_and_without_measure_and_limit),
        cmocka_unit_test (lines_group_one_time_per_line_last_point_wins),
        cmocka_unit_test (answer_rows_become_points_nulls_skipped),
        cmocka_unit_test (answer_errors_and_bad_shapes_are_reported),
        cmocka_unit_test (write_errors_give_their_text_and_partial_ones_are_told),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
