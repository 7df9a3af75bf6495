/*  test_ts_map - upstream documents to points, by config.

    Each test builds its mapping from YAML text, as an operator would write
    it, and checks the points or the error detail. Failing documents must
    leave the caller's list exactly as it was. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_map.h"

#define NOV24 1732406400000LL   //  2024-11-24T00:00:00Z
#define HOUR  3600000LL

static ts_map_t *
s_map_new (const char *yaml)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (yaml, "test.yaml", err);
    if (!cfg)
        fail_msg ("config: %s", err);
    ts_map_t *map = ts_map_new (cfg, err);
    if (!map)
        fail_msg ("map: %s", err);
    ts_config_destroy (&cfg);
    return map;
}

//  Parses doc with the mapping of yaml into a fresh list; returns the list
//  (caller destroys) and asserts success.
static ts_points_t *
s_parse_ok (const char *yaml, const char *doc)
{
    ts_map_t *map = s_map_new (yaml);
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    char err [TS_ERRLEN] = "";
    int rc = ts_map_parse (map, doc, strlen (doc), pts, err);
    if (rc != 0)
        fail_msg ("parse: %s (%s)", ts_strerror (rc), err);
    ts_map_destroy (&map);
    return pts;
}

//  Parses a bad doc into a list holding one point already; asserts
//  TS_EPROTO, that the list is unchanged and that err contains detail.
static void
s_parse_fails (const char *yaml, const char *doc, const char *detail)
{
    ts_map_t *map = s_map_new (yaml);
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    assert_int_equal (ts_points_append (pts, 42, "old", 4.5), 0);
    char err [TS_ERRLEN] = "";
    int rc = ts_map_parse (map, doc, strlen (doc), pts, err);
    assert_int_equal (rc, TS_EPROTO);
    if (!strstr (err, detail))
        fail_msg ("detail '%s' does not contain '%s'", err, detail);
    assert_int_equal (pts->n, 1);
    assert_int_equal (pts->time_ms [0], 42);
    assert_string_equal (ts_points_measure (pts, 0), "old");
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
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

static const char *s_rows_default = "log:\n  level: error\n";

static const char *s_rows_two =
    "upstream:\n"
    "  format:\n"
    "    measures:\n"
    "      value: value\n"
    "      humidity: hum\n";

static const char *s_open_meteo =
    "upstream:\n"
    "  format:\n"
    "    layout: columns\n"
    "    path: hourly\n"
    "    time_unit: iso8601\n"
    "    measures:\n"
    "      temperature: temperature_2m\n"
    "      humidity: relative_humidity_2m\n";

static const char *s_rows_seconds =
    "upstream:\n"
    "  format:\n"
    "    time_field: ts\n"
    "    time_unit: s\n";

static const char *s_nested =
    "upstream:\n"
    "  format:\n"
    "    path: data.series.rows\n"
    "    time_unit: iso8601\n"
    "    measures:\n"
    "      level: v\n";

static const char *s_columns_ms =
    "upstream:\n"
    "  format:\n"
    "    layout: columns\n"
    "    path: hourly\n";

//  ---------------------------------------------------------------------

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
map_reads_epoch_seconds_including_fractions (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_seconds,
        "[{\"ts\": 1732406400, \"value\": 1},"
        " {\"ts\": 1732406400.25, \"value\": 2},"
        " {\"ts\": \"1732410000\", \"value\": 3}]");
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    s_assert_point (pts, 1, NOV24 + 250, "value", 2.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "value", 3.0);
    ts_points_destroy (&pts);
}

static void
map_rounds_fractional_epoch_milliseconds (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000.6, \"value\": 1},"
        " {\"time\": 1732406400000.4, \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24 + 1, "value", 1.0);
    s_assert_point (pts, 1, NOV24, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_accepts_numeric_strings (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": \"1732406400000\", \"value\": \"1.25\"},"
        " {\"time\": 1732410000000, \"value\": \" -3e2 \"}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.25);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", -300.0);
    ts_points_destroy (&pts);
}

//  Values and times are read exactly as strtod and strtoll read them, on
//  the fast paths (short decimals, integers) and off them (exponents, 16+
//  digits, long times).
static void
map_reads_numbers_exactly_as_strtod (void **state)
{
    const char *tokens [] = {
        "0", "-0", "0.0", "-0.000", "1.5", "-2", "21.1234", "0.0012",
        "1.500", "123456789012345", "1234567890123456", "0.1", "0.3",
        "9007199254740993", "1e5", "-1.5E-3", "2.675", "1e-310",
        "0.000000000000000000001", "0.00000000000000000000001",
        "99999999999999.95", "3.14159265358979", "-7.000000000000001"
    };
    size_t n = sizeof tokens / sizeof tokens [0];
    //  Plus generated decimals of 0 to 8 places and 1 to 17 digits.
    char generated [2000][40];
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (size_t i = 0; i < 2000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int places = (int) (x % 9);
        unsigned long long digits = (x >> 8) % 100000000000000000ULL;
        digits >>= (x >> 3) % 40;
        //  The digits with a point before the last places of them, and
        //  leading zeros where there are fewer digits than that.
        char body [40];
        snprintf (body, sizeof body, "%0*llu", places + 1, digits);
        size_t whole = strlen (body) - (size_t) places;
        snprintf (generated [i], sizeof generated [i], "%s%.*s%s%s",
                  (x & 4)? "-": "", (int) whole, body, places? ".": "",
                  body + whole);
    }
    //  One document: each token as a value, and as a time where integer.
    size_t cap = 64 * (n + 2000) + 16;
    char *doc = malloc (cap);
    size_t used = 0;
    used += (size_t) snprintf (doc + used, cap - used, "[");
    for (size_t i = 0; i < n + 2000; i++) {
        const char *t = i < n? tokens [i]: generated [i - n];
        used += (size_t) snprintf (doc + used, cap - used,
                                   "%s{\"time\": %zu, \"value\": %s}",
                                   i? ",": "", 1000 + i, t);
    }
    snprintf (doc + used, cap - used, "]");
    ts_points_t *pts = s_parse_ok (s_rows_default, doc);
    assert_int_equal (pts->n, n + 2000);
    for (size_t i = 0; i < n + 2000; i++) {
        const char *t = i < n? tokens [i]: generated [i - n];
        double want = strtod (t, NULL);
        if (memcmp (&want, &pts->value [i], sizeof want) != 0)
            fail_msg ("%s read as %.17g, strtod reads %.17g", t,
                      pts->value [i], want);
        assert_int_equal (pts->time_ms [i], 1000 + (int64_t) i);
    }
    ts_points_destroy (&pts);
    free (doc);

    //  Times: 18 digits take the digit loop, 19 strtoll; both exact.
    pts = s_parse_ok (s_rows_default,
        "[{\"time\": -1732406400000, \"value\": 1},"
        " {\"time\": 0, \"value\": 2}]");
    assert_int_equal (pts->time_ms [0], -1732406400000LL);
    assert_int_equal (pts->time_ms [1], 0);
    ts_points_destroy (&pts);
}

static void
map_skips_null_values (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo,
        "{\"hourly\": {"
        "   \"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\"],"
        "   \"temperature_2m\": [null, 2.8],"
        "   \"relative_humidity_2m\": [88, null]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "humidity", 88.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "temperature", 2.8);
    ts_points_destroy (&pts);

    pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": null},"
        " {\"time\": 1732410000000, \"value\": 7}]");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24 + HOUR, "value", 7.0);
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
map_rejects_time_of_wrong_type (void **state)
{
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1}, {\"time\": true, \"value\": 1}]",
        "document[1].time: expected an epoch number, got true");
    s_parse_fails (s_rows_default, "[{\"time\": \"yesterday\", \"value\": 1}]",
        "document[0].time: expected an epoch number, got string 'yesterday'");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [1732406400], \"temperature_2m\": [1],"
        " \"relative_humidity_2m\": [2]}}",
        "hourly.time[0]: expected an ISO 8601 string, got integer");
}

static void
map_rejects_missing_or_null_time (void **state)
{
    s_parse_fails (s_rows_default, "[{\"value\": 1}]",
                   "document[0].time: missing");
    s_parse_fails (s_rows_default, "[{\"time\": null, \"value\": 1}]",
                   "document[0].time: time is null");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", null],"
        " \"temperature_2m\": [1, 2], \"relative_humidity_2m\": [3, 4]}}",
        "hourly.time[1]: time is null");
}

static void
map_rejects_bad_iso_time (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-13-45T99:00\"],"
        " \"temperature_2m\": [1, 2], \"relative_humidity_2m\": [3, 4]}}",
        "hourly.time[1]: bad ISO 8601 time '2024-13-45T99:00'");
}

static void
map_rejects_object_as_value (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\","
        " \"2024-11-24T02:00\", \"2024-11-24T03:00\"],"
        " \"temperature_2m\": [1, 2, 3, {\"c\": 4}],"
        " \"relative_humidity_2m\": [1, 2, 3, 4]}}",
        "hourly.temperature_2m[3]: expected a number, got object");
    s_parse_fails (s_rows_two,
        "[{\"time\": 1732406400000, \"value\": 1, \"hum\": [1]}]",
        "document[0].hum: expected a number, got array");
}

static void
map_rejects_strings_that_are_not_numbers (void **state)
{
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"n/a\"}]",
                   "document[0].value: expected a number, got string 'n/a'");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"nan\"}]",
                   "expected a number");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"1.5x\"}]",
                   "expected a number");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"\"}]",
                   "expected a number");
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

static void
map_rejects_times_out_of_range (void **state)
{
    s_parse_fails (s_rows_seconds, "[{\"ts\": 1e300, \"value\": 1}]",
                   "document[0].ts: time out of range");
    s_parse_fails (s_rows_seconds, "[{\"ts\": 9000000000000000000, \"value\": 1}]",
                   "document[0].ts: time 9000000000000000000 out of range");
}

static void
map_new_rejects_invalid_measure_name (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n  format:\n    measures:\n      \"bad name\": value\n",
        "test.yaml", err);
    if (!cfg)
        return;         //  the config already refused it: fine as well
    ts_map_t *map = ts_map_new (cfg, err);
    assert_null (map);
    assert_non_null (strstr (err, "bad name"));
    ts_config_destroy (&cfg);
}

//  ---------------------------------------------------------------------
//  Streaming: order of fields, precision, hostile input

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
map_reads_numbers_as_strtod_does (void **state)
{
    const char *texts [] = {
        "0.1", "-0.0", "1.7976931348623157e308", "2.2250738585072014e-308",
        "4.9e-324", "123456789012345678901", "9007199254740993",
        "0.30000000000000004", "1e-400", "3.14159265358979323846264338"
    };
    for (size_t i = 0; i < sizeof (texts) / sizeof (texts [0]); i++) {
        char doc [256];
        snprintf (doc, sizeof (doc),
                  "[{\"time\": 1732406400000, \"value\": %s}]", texts [i]);
        ts_points_t *pts = s_parse_ok (s_rows_default, doc);
        assert_int_equal (pts->n, 1);
        assert_true (pts->value [0] == strtod (texts [i], NULL));
        ts_points_destroy (&pts);
    }
}

static void
map_reads_large_integer_times_exactly (void **state)
{
    //  Beyond 2^53: a double would round these
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": 8999999999999999999, \"value\": 1},"
        " {\"time\": -9007199254740993, \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, 8999999999999999999LL, "value", 1.0);
    s_assert_point (pts, 1, -9007199254740993LL, "value", 2.0);
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
map_rejects_huge_numbers (void **state)
{
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": 1e400}]",
                   "document[0].value: number 1e400 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": -2E+999}]",
                   "document[0].value: number -2E+999 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": 99999999999999999999, \"value\": 1}]",
                   "document[0].time: time 99999999999999999999 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": -1e999, \"value\": 1}]",
                   "document[0].time: time out of range");
    char doc [512] = "[{\"time\": 1732406400000, \"value\": 1";
    size_t len = strlen (doc);
    memset (doc + len, '0', 200);
    snprintf (doc + len + 200, sizeof (doc) - len - 200, "}]");
    s_parse_fails (s_rows_default, doc, "document[0].value: number too long");
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

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (map_reads_rows_with_default_measure),
        cmocka_unit_test (map_reads_rows_with_two_measures),
        cmocka_unit_test (map_skips_measure_missing_from_a_row),
        cmocka_unit_test (map_reads_open_meteo_columns),
        cmocka_unit_test (map_reads_columns_with_epoch_ms),
        cmocka_unit_test (map_reads_epoch_seconds_including_fractions),
        cmocka_unit_test (map_rounds_fractional_epoch_milliseconds),
        cmocka_unit_test (map_accepts_numeric_strings),
        cmocka_unit_test (map_reads_numbers_exactly_as_strtod),
        cmocka_unit_test (map_skips_null_values),
        cmocka_unit_test (map_follows_nested_dotted_path),
        cmocka_unit_test (map_appends_after_points_already_in_the_list),
        cmocka_unit_test (map_reads_empty_documents_as_no_points),
        cmocka_unit_test (map_rejects_text_that_is_not_json),
        cmocka_unit_test (map_rejects_truncated_json),
        cmocka_unit_test (map_rejects_missing_path),
        cmocka_unit_test (map_rejects_wrong_type_at_path),
        cmocka_unit_test (map_rejects_time_of_wrong_type),
        cmocka_unit_test (map_rejects_missing_or_null_time),
        cmocka_unit_test (map_rejects_bad_iso_time),
        cmocka_unit_test (map_rejects_object_as_value),
        cmocka_unit_test (map_rejects_strings_that_are_not_numbers),
        cmocka_unit_test (map_rejects_columns_of_unequal_length),
        cmocka_unit_test (map_rejects_missing_measure_column),
        cmocka_unit_test (map_rejects_times_out_of_range),
        cmocka_unit_test (map_new_rejects_invalid_measure_name),
        cmocka_unit_test (map_reads_row_fields_in_any_order),
        cmocka_unit_test (map_reads_columns_in_any_order),
        cmocka_unit_test (map_finds_path_after_other_keys),
        cmocka_unit_test (map_reads_numbers_as_strtod_does),
        cmocka_unit_test (map_reads_large_integer_times_exactly),
        cmocka_unit_test (map_reads_a_field_that_is_both_time_and_measure),
        cmocka_unit_test (map_takes_the_first_of_repeated_keys),
        cmocka_unit_test (map_rejects_huge_numbers),
        cmocka_unit_test (map_rejects_invalid_utf8),
        cmocka_unit_test (map_rejects_deep_nesting),
        cmocka_unit_test (map_rejects_trailing_garbage),
        cmocka_unit_test (map_reports_the_fault_a_row_by_row_reading_meets_first),
        cmocka_unit_test (map_survives_mutated_documents),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_map", tests, NULL, NULL);
}
