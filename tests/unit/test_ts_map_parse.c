/*  test_ts_map_parse - the event parser of ts_map
    (common/ingest/ts_map_parse.c): rows and columns at a dotted path,
    fields and columns in any order, documents that are not what the
    mapping expects (not JSON, truncated, path missing or of the wrong
    type, columns of unequal length, invalid UTF-8, deep nesting, trailing
    garbage), a mutation loop, and the columnar output (each measure name
    once per list). Failing documents must leave the caller's list exactly
    as it was. Helpers in ts_map_fixture.h. */

#include "ts_map_fixture.h"

//  ---------------------------------------------------------------------
//  Rows and columns

static void
map_reads_rows_with_default_measure (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1.5},"
        " {\"time\": 1732410000000, \"value\": -2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.5);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", -2.0);
    ts_points_destroy (&pts);
}

static void
map_reads_rows_with_two_measures (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_two,
        "[{\"time\": 1732406400000, \"value\": 1.5, \"hum\": 80, \"x\": {}},"
        " {\"time\": 1732410000000, \"value\": 2.25, \"hum\": 81.5}]");
    assert_int_equal (pts->n, 4);
    s_assert_point (pts, 0, NOV24, "value", 1.5);
    s_assert_point (pts, 1, NOV24, "humidity", 80.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "value", 2.25);
    s_assert_point (pts, 3, NOV24 + HOUR, "humidity", 81.5);
    ts_points_destroy (&pts);
}

static void
map_skips_measure_missing_from_a_row (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_two,
        "[{\"time\": 1732406400000, \"hum\": 80},"
        " {\"time\": 1732410000000, \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "humidity", 80.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_reads_open_meteo_columns (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo,
        "{\"latitude\": 52.52, \"longitude\": 13.41,"
        " \"hourly_units\": {\"time\": \"iso8601\", \"temperature_2m\": \"°C\"},"
        " \"hourly\": {"
        "   \"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\", \"2024-11-24T02:00\"],"
        "   \"temperature_2m\": [3.1, 2.8, 2.5],"
        "   \"relative_humidity_2m\": [88, 90, 91]}}");
    assert_int_equal (pts->n, 6);
    s_assert_point (pts, 0, NOV24, "temperature", 3.1);
    s_assert_point (pts, 1, NOV24, "humidity", 88.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "temperature", 2.8);
    s_assert_point (pts, 3, NOV24 + HOUR, "humidity", 90.0);
    s_assert_point (pts, 4, NOV24 + 2 * HOUR, "temperature", 2.5);
    s_assert_point (pts, 5, NOV24 + 2 * HOUR, "humidity", 91.0);
    ts_points_destroy (&pts);
}

static void
map_reads_columns_with_epoch_ms (void **state)
{
    ts_points_t *pts = s_parse_ok (s_columns_ms,
        "{\"hourly\": {\"time\": [1732406400000, 1732410000000],"
        " \"value\": [1, 2]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_follows_nested_dotted_path (void **state)
{
    ts_points_t *pts = s_parse_ok (s_nested,
        "{\"data\": {\"series\": {\"rows\": ["
        "  {\"time\": \"2024-11-24T00:00:00Z\", \"v\": 0.5},"
        "  {\"time\": \"2024-11-24T02:00:00+01:00\", \"v\": 0.75}]}}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "level", 0.5);
    s_assert_point (pts, 1, NOV24 + HOUR, "level", 0.75);
    ts_points_destroy (&pts);
}

static void
map_appends_after_points_already_in_the_list (void **state)
{
    ts_map_t *map = s_map_new (s_rows_default);
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 1, "old", 1), 0);
    const char *doc = "[{\"time\": 1732406400000, \"value\": 9}]";
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_map_parse (map, doc, strlen (doc), pts, err), 0);
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, 1, "old", 1.0);
    s_assert_point (pts, 1, NOV24, "value", 9.0);
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
}

static void
map_reads_empty_documents_as_no_points (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default, "[]");
    assert_int_equal (pts->n, 0);
    ts_points_destroy (&pts);
    pts = s_parse_ok (s_open_meteo,
        "{\"hourly\": {\"time\": [], \"temperature_2m\": [],"
        " \"relative_humidity_2m\": []}}");
    assert_int_equal (pts->n, 0);
    ts_points_destroy (&pts);
}

//  ---------------------------------------------------------------------
//  Bad documents

static void
map_rejects_text_that_is_not_json (void **state)
{
    s_parse_fails (s_rows_default, "<html>oops</html>", "not JSON: ");
    s_parse_fails (s_rows_default, "", "not JSON: ");
}

static void
map_rejects_truncated_json (void **state)
{
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1.5}, {\"time\": 17324",
        "not JSON: ");
}

static void
map_rejects_missing_path (void **state)
{
    s_parse_fails (s_open_meteo, "{\"daily\": {}}", "path 'hourly' not found");
    s_parse_fails (s_nested, "{\"data\": {\"series\": []}}",
                   "path 'data.series.rows' not found");
    s_parse_fails (s_nested, "{\"data\": {\"other\": 1}}",
                   "path 'data.series' not found");
}

static void
map_rejects_wrong_type_at_path (void **state)
{
    s_parse_fails (s_open_meteo, "{\"hourly\": [1, 2]}",
                   "hourly: expected an object of columns, got array");
    s_parse_fails (s_rows_default, "{\"time\": 1}",
                   "document: expected an array of rows, got object");
    s_parse_fails (s_rows_default, "[1]",
                   "document[0]: expected an object, got integer");
}

static void
map_rejects_columns_of_unequal_length (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\"],"
        " \"temperature_2m\": [1], \"relative_humidity_2m\": [3, 4]}}",
        "hourly: columns 'time' (2) and 'temperature_2m' (1) differ in length");
}

static void
map_rejects_missing_measure_column (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\"], \"temperature_2m\": [1]}}",
        "hourly: column 'relative_humidity_2m' not found");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"temperature_2m\": [1], \"relative_humidity_2m\": [1]}}",
        "hourly: column 'time' not found");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": \"x\", \"temperature_2m\": [1],"
        " \"relative_humidity_2m\": [1]}}",
        "hourly.time: expected an array, got string");
}

//  ---------------------------------------------------------------------
//  Streaming: order of fields, hostile input

static void
map_reads_row_fields_in_any_order (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_two,
        "[{\"hum\": 80, \"x\": [1, {\"time\": 5}], \"value\": 1.5,"
        "  \"time\": 1732406400000},"
        " {\"value\": 2.25, \"time\": 1732410000000, \"hum\": null}]");
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "value", 1.5);
    s_assert_point (pts, 1, NOV24, "humidity", 80.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "value", 2.25);
    ts_points_destroy (&pts);
}

static void
map_reads_columns_in_any_order (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo,
        "{\"hourly\": {"
        "   \"relative_humidity_2m\": [88, 90],"
        "   \"other\": [[1, 2], {\"time\": []}],"
        "   \"temperature_2m\": [3.1, null],"
        "   \"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\"]},"
        " \"daily\": {\"time\": [1]}}");
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "temperature", 3.1);
    s_assert_point (pts, 1, NOV24, "humidity", 88.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "humidity", 90.0);
    ts_points_destroy (&pts);
}

static void
map_finds_path_after_other_keys (void **state)
{
    ts_points_t *pts = s_parse_ok (s_nested,
        "{\"meta\": {\"data\": 1}, \"data\": {\"rows\": 1, \"series\": {"
        "  \"x\": {\"rows\": 2}, \"rows\": ["
        "  {\"time\": \"2024-11-24T00:00:00Z\", \"v\": 0.5}]}}}");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24, "level", 0.5);
    ts_points_destroy (&pts);
}

static void
map_reads_a_field_that_is_both_time_and_measure (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    measures:\n      stamp: time\n      value: value\n",
        "[{\"value\": 3, \"time\": 1732406400000}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "stamp", (double) NOV24);
    s_assert_point (pts, 1, NOV24, "value", 3.0);
    ts_points_destroy (&pts);
}

static void
map_takes_the_first_of_repeated_keys (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1, \"value\": {}}]");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    ts_points_destroy (&pts);
    pts = s_parse_ok (s_columns_ms,
        "{\"hourly\": {\"time\": [1732406400000], \"value\": [2],"
        " \"value\": \"x\"}, \"hourly\": 5}");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_rejects_invalid_utf8 (void **state)
{
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1, \"note\": \"caf\xc3\"}]",
        "not JSON: ");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\xff\"],"
        " \"temperature_2m\": [1], \"relative_humidity_2m\": [1]}}",
        "not JSON: ");
    s_parse_fails (s_rows_default, "[{\"ti\xe9me\": 1}]", "not JSON: ");
}

static void
map_rejects_deep_nesting (void **state)
{
    size_t depth = 100000;
    char *doc = malloc (2 * depth + 1);
    assert_non_null (doc);
    memset (doc, '[', depth);
    memset (doc + depth, ']', depth);
    doc [2 * depth] = 0;
    s_parse_fails (s_rows_default, doc, "nested");
    s_parse_fails (s_open_meteo, doc, "nested");
    //  Deep but within the limit, outside what the mapping reads
    memcpy (doc, "{\"x\": ", 6);
    memset (doc + 6, '[', 500);
    memset (doc + 506, ']', 500);
    snprintf (doc + 1006, 64, ", \"hourly\": 1}");
    s_parse_fails (s_open_meteo, doc,
                   "hourly: expected an object of columns, got integer");
    free (doc);
}

static void
map_rejects_trailing_garbage (void **state)
{
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1}] x", "not JSON: ");
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1}] []", "not JSON: ");
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1}]\n\n  ]", "at line 3 column 3");
}

static void
map_reports_the_fault_a_row_by_row_reading_meets_first (void **state)
{
    //  Missing time ranks before a bad value in the same row
    s_parse_fails (s_rows_default,
        "[{\"value\": \"x\"}]", "document[0].time: missing");
    //  Column value at index 1 before column time at index 2
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\", \"z\"],"
        " \"temperature_2m\": [1, 2, 3], \"relative_humidity_2m\": [1, true, 3]}}",
        "hourly.relative_humidity_2m[1]: expected a number, got true");
    //  Structure before values
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"z\"], \"temperature_2m\": [1]}}",
        "hourly: column 'relative_humidity_2m' not found");
    //  A syntax error anywhere before everything
    s_parse_fails (s_rows_default,
        "[{\"value\": 1}, {\"time\": 1732406400000, \"value\": 2},,]",
        "not JSON: ");
}

//  Mutates doc at random (fixed seed) and checks every result is either
//  success or TS_EPROTO with a detail, and that the list is never damaged.
static void
s_mutate_and_parse (const char *yaml, const char *valid, int rounds)
{
    static const char alphabet [] =
        "{}[],:\"\\ 0123456789.eE+-ntrufalsx\n\t\xc3\xa9\xff\x80";
    ts_map_t *map = s_map_new (yaml);
    size_t valid_len = strlen (valid);
    size_t size = valid_len * 3 + 16;
    char *doc = malloc (size);
    assert_non_null (doc);
    uint32_t seed = 20241124;
    int ok = 0, failed = 0;
    for (int round = 0; round < rounds; round++) {
        memcpy (doc, valid, valid_len);
        size_t len = valid_len;
        int edits = 1 + (int) ((seed = seed * 1103515245 + 12345) >> 16) % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245 + 12345;
            uint32_t r = seed >> 8;
            size_t pos = len? (r >> 3) % len: 0;
            char c = alphabet [(r >> 13) % (sizeof (alphabet) - 1)];
            switch (r % 6) {
                case 0:         //  replace a byte
                    if (len)
                        doc [pos] = c;
                    break;
                case 1:         //  delete a byte
                    if (len) {
                        memmove (doc + pos, doc + pos + 1, len - pos - 1);
                        len--;
                    }
                    break;
                case 2:         //  insert a byte
                    memmove (doc + pos + 1, doc + pos, len - pos);
                    doc [pos] = c;
                    len++;
                    break;
                case 3:         //  truncate
                    len = pos;
                    break;
                case 4: {       //  repeat a span (nesting, repeated keys)
                    size_t span = (r >> 20) % 24;
                    if (pos + span <= len && len + span < size) {
                        memmove (doc + pos + span, doc + pos, len - pos);
                        len += span;
                    }
                    break;
                }
                case 5:         //  swap two bytes
                    if (len) {
                        size_t other = (r >> 11) % len;
                        char t = doc [pos];
                        doc [pos] = doc [other];
                        doc [other] = t;
                    }
                    break;
            }
        }
        ts_points_t *pts = ts_points_new ();
        assert_non_null (pts);
        assert_int_equal (ts_points_append (pts, 42, "old", 4.5), 0);
        char err [TS_ERRLEN] = "";
        int rc = ts_map_parse (map, doc, len, pts, err);
        if (rc == 0)
            ok++;
        else {
            if (rc != TS_EPROTO)
                fail_msg ("round %d: %s (%s)", round, ts_strerror (rc), err);
            assert_true (strlen (err) > 0);
            assert_int_equal (pts->n, 1);
            failed++;
        }
        assert_int_equal (pts->time_ms [0], 42);
        assert_string_equal (ts_points_measure (pts, 0), "old");
        assert_true (pts->value [0] == 4.5);
        ts_points_destroy (&pts);
    }
    //  The loop must exercise both outcomes to mean anything
    assert_true (ok > 0);
    assert_true (failed > 0);
    free (doc);
    ts_map_destroy (&map);
}

static void
map_survives_mutated_documents (void **state)
{
    s_mutate_and_parse (s_rows_two,
        "[{\"time\": 1732406400000, \"value\": 1.5, \"hum\": \"80\", \"x\": {\"a\": [1]}},"
        " {\"hum\": null, \"time\": \"1732410000000\", \"value\": -2e3},"
        " {\"time\": 1732413600000.5, \"value\": 0, \"note\": \"caf\xc3\xa9\"}]",
        5000);
    s_mutate_and_parse (s_open_meteo,
        "{\"latitude\": 52.52, \"hourly_units\": {\"time\": \"iso8601\"},"
        " \"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00:00Z\","
        " \"2024-11-24T02:00+01:00\"], \"temperature_2m\": [3.1, null, \"2.5\"],"
        " \"relative_humidity_2m\": [88, 90, 91], \"rain\": [[0], {}, 1]}}",
        5000);
}

//  ---------------------------------------------------------------------
//  Columnar output: names once per list

static void
map_holds_each_measure_name_once_per_list (void **state)
{
    ts_map_t *map = s_map_new (s_rows_two);
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 1, "humidity", 0.5), 0);
    const char *doc = "[{\"time\": 1732406400000, \"value\": 1, \"hum\": 2},"
                      " {\"time\": 1732410000000, \"value\": 3, \"hum\": 4}]";
    char err [TS_ERRLEN] = "";
    for (int i = 0; i < 2; i++)
        assert_int_equal (ts_map_parse (map, doc, strlen (doc), pts, err), 0);
    assert_int_equal (pts->n, 9);
    assert_int_equal (pts->n_measures, 2);
    assert_string_equal (pts->measures [0], "humidity");
    assert_string_equal (pts->measures [1], "value");
    s_assert_point (pts, 1, NOV24, "value", 1.0);
    s_assert_point (pts, 2, NOV24, "humidity", 2.0);
    s_assert_point (pts, 8, NOV24 + HOUR, "humidity", 4.0);
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
}

static void
map_adds_no_name_for_a_document_that_fails_before_its_first_point (
    void **state)
{
    ts_map_t *map = s_map_new (s_rows_two);
    ts_points_t *pts = ts_points_new ();
    const char *doc = "[{\"value\": 1}]";
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_map_parse (map, doc, strlen (doc), pts, err),
                      TS_EPROTO);
    assert_int_equal (pts->n, 0);
    assert_int_equal (pts->n_measures, 0);
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (map_reads_rows_with_default_measure),
        cmocka_unit_test (map_reads_rows_with_two_measures),
        cmocka_unit_test (map_skips_measure_missing_from_a_row),
        cmocka_unit_test (map_reads_open_meteo_columns),
        cmocka_unit_test (map_reads_columns_with_epoch_ms),
        cmocka_unit_test (map_follows_nested_dotted_path),
        cmocka_unit_test (map_appends_after_points_already_in_the_list),
        cmocka_unit_test (map_reads_empty_documents_as_no_points),
        cmocka_unit_test (map_rejects_text_that_is_not_json),
        cmocka_unit_test (map_rejects_truncated_json),
        cmocka_unit_test (map_rejects_missing_path),
        cmocka_unit_test (map_rejects_wrong_type_at_path),
        cmocka_unit_test (map_rejects_columns_of_unequal_length),
        cmocka_unit_test (map_rejects_missing_measure_column),
        cmocka_unit_test (map_reads_row_fields_in_any_order),
        cmocka_unit_test (map_reads_columns_in_any_order),
        cmocka_unit_test (map_finds_path_after_other_keys),
        cmocka_unit_test (map_reads_a_field_that_is_both_time_and_measure),
        cmocka_unit_test (map_takes_the_first_of_repeated_keys),
        cmocka_unit_test (map_rejects_invalid_utf8),
        cmocka_unit_test (map_rejects_deep_nesting),
        cmocka_unit_test (map_rejects_trailing_garbage),
        cmocka_unit_test (
            map_reports_the_fault_a_row_by_row_reading_meets_first),
        cmocka_unit_test (map_survives_mutated_documents),
        cmocka_unit_test (map_holds_each_measure_name_once_per_list),
        cmocka_unit_test (
            map_adds_no_name_for_a_document_that_fails_before_its_first_point),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_map_parse", tests, NULL, NULL);
}
