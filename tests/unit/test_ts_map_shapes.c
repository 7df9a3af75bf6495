/*  test_ts_map_shapes - the document shapes of ts_map (ts_map.h): times
    without a zone (a fixed zone, a tz database zone with summer time, an
    offset or zone named by the document), positional rows, numeric
    strings and null markers, plausibility bounds on times (reject the
    document or drop the point, with a hint at the unit), the parse
    report (counts, warnings, shape or syntax), and the config errors of
    these keys naming file, line and key. Helpers in ts_map_fixture.h. */

#include "ts_map_fixture.h"

#define MIN   60000LL

//  Parses doc with the mapping of yaml at now_ms into a fresh list;
//  returns the list (caller destroys), the rc in *rc, err and report.
static ts_points_t *
s_parse_at (const char *yaml, const char *doc, int64_t now_ms, int *rc,
            ts_map_report_t *report, char *err)
{
    ts_map_t *map = s_map_new (yaml);
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    *rc = ts_map_parse_report (map, doc, strlen (doc), now_ms, pts, report,
                               err);
    ts_map_destroy (&map);
    return pts;
}

//  Asserts that the document fails as a shape error whose detail holds
//  detail.
static void
s_shape_fails (const char *yaml, const char *doc, const char *detail)
{
    int rc;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = s_parse_at (yaml, doc, NOV24, &rc, &report, err);
    assert_int_equal (rc, TS_EPROTO);
    if (!strstr (err, detail))
        fail_msg ("detail '%s' does not contain '%s'", err, detail);
    assert_true (report.shape);
    assert_int_equal (pts->n, 0);
    ts_points_destroy (&pts);
}

//  Asserts that loading yaml and making its spec fails with detail.
static void
s_spec_fails (const char *yaml, const char *detail)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (yaml, "test.yaml", err);
    if (cfg) {
        ts_map_spec_t spec;
        assert_int_equal (ts_map_spec_from_config (&spec, cfg, err),
                          TS_ECONFIG);
        ts_config_destroy (&cfg);
    }
    if (!strstr (err, detail))
        fail_msg ("error '%s' does not contain '%s'", err, detail);
}

//  ---------------------------------------------------------------------
//  Times without a zone

static const char *const s_open_meteo_local =
    "upstream:\n"
    "  format:\n"
    "    layout: columns\n"
    "    path: hourly\n"
    "    time_unit: iso8601\n"
    "    offset_field: utc_offset_seconds\n"
    "    measures:\n"
    "      temperature: temperature_2m\n";

static void
map_reads_local_times_with_the_documents_offset (void **state)
{
    //  Open-Meteo with &timezone=Europe/Berlin: local times, no zone.
    ts_points_t *pts = s_parse_ok (s_open_meteo_local,
        "{\"latitude\": 52.52, \"utc_offset_seconds\": 3600,"
        " \"timezone\": \"Europe/Berlin\","
        " \"hourly\": {\"time\": [\"2024-11-24T01:00\", \"2024-11-24T02:00\"],"
        "   \"temperature_2m\": [1.5, 2.5]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "temperature", 1.5);
    s_assert_point (pts, 1, NOV24 + HOUR, "temperature", 2.5);
    ts_points_destroy (&pts);
}

static void
map_reads_the_offset_field_wherever_it_is (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo_local,
        "{\"hourly\": {\"time\": [\"2024-11-23T18:00\"],"
        "   \"temperature_2m\": [3]},"
        " \"meta\": {\"utc_offset_seconds\": 1},"
        " \"utc_offset_seconds\": -21600}");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24, "temperature", 3.0);
    ts_points_destroy (&pts);
}

static void
map_keeps_the_zone_a_time_carries (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo_local,
        "{\"utc_offset_seconds\": 3600,"
        " \"hourly\": {\"time\": [\"2024-11-24T00:00Z\","
        "   \"2024-11-24T03:00+02:00\", \"2024-11-24T03:00\"],"
        "   \"temperature_2m\": [1, 2, 3]}}");
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "temperature", 1.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "temperature", 2.0);
    s_assert_point (pts, 2, NOV24 + 2 * HOUR, "temperature", 3.0);
    ts_points_destroy (&pts);
}

static void
map_reads_times_in_a_fixed_offset_zone (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    time_unit: iso8601\n"
        "    zone: \"-05:30\"\n",
        "[{\"time\": \"2024-11-23T18:30:00\", \"value\": 1},"
        " {\"time\": \"2024-11-23 19:30\", \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_reads_berlin_times_across_summer_time (void **state)
{
    //  2024-03-31: 02:00 CET -> 03:00 CEST; 2024-10-27: 03:00 CEST ->
    //  02:00 CET. Epoch of 2024-03-31T00:00Z and 2024-10-27T00:00Z.
    const int64_t mar31 = 1711843200000LL, oct27 = 1729987200000LL;
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    time_unit: iso8601\n"
        "    zone: Europe/Berlin\n",
        "[{\"time\": \"2024-03-31T01:00\", \"value\": 1},"
        " {\"time\": \"2024-03-31T03:00\", \"value\": 2},"
        " {\"time\": \"2024-03-31T02:30\", \"value\": 3},"
        " {\"time\": \"2024-10-27T02:30\", \"value\": 4},"
        " {\"time\": \"2024-10-27T03:30\", \"value\": 5},"
        " {\"time\": \"2024-07-01T12:00\", \"value\": 6},"
        " {\"time\": \"2090-07-01T12:00\", \"value\": 7},"
        " {\"time\": \"2090-12-01T12:00\", \"value\": 8}]");
    assert_int_equal (pts->n, 8);
    s_assert_point (pts, 0, mar31, "value", 1.0);           //  CET
    s_assert_point (pts, 1, mar31 + HOUR, "value", 2.0);    //  CEST
    //  In the gap: read with the offset before it (CET)
    s_assert_point (pts, 2, mar31 + HOUR + 30 * MIN, "value", 3.0);
    //  Twice on the clock: the first (CEST)
    s_assert_point (pts, 3, oct27 + 30 * MIN, "value", 4.0);
    s_assert_point (pts, 4, oct27 + 2 * HOUR + 30 * MIN, "value", 5.0);
    s_assert_point (pts, 5, 1719835200000LL - 2 * HOUR, "value", 6.0);
    //  Past the file's transitions: its POSIX rule
    s_assert_point (pts, 6, 3802593600000LL - 2 * HOUR, "value", 7.0);
    s_assert_point (pts, 7, 3815812800000LL - HOUR, "value", 8.0);
    ts_points_destroy (&pts);
}

static void
map_reads_the_zone_the_document_names (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    layout: columns\n    path: hourly\n"
        "    time_unit: iso8601\n    zone_field: timezone\n",
        "{\"timezone\": \"America/New_York\","
        " \"hourly\": {\"time\": [\"2024-11-23T19:00\", \"2024-07-01T08:00\"],"
        "   \"value\": [1, 2]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.0);           //  EST, -5 h
    s_assert_point (pts, 1, 1719835200000LL, "value", 2.0); //  EDT, -4 h
    ts_points_destroy (&pts);
}

static void
map_reads_a_date_alone_as_its_midnight (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    layout: columns\n    path: daily\n"
        "    time_unit: iso8601\n    offset_field: utc_offset_seconds\n",
        "{\"utc_offset_seconds\": 3600, \"daily\": {"
        " \"time\": [\"2024-11-24\", \"2024-11-25\"], \"value\": [1, 2]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24 - HOUR, "value", 1.0);
    s_assert_point (pts, 1, NOV24 + 23 * HOUR, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_fails_a_local_time_when_the_document_names_no_zone (void **state)
{
    s_shape_fails (s_open_meteo_local,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00Z\", \"2024-11-24T01:00\"],"
        "   \"temperature_2m\": [1, 2]}}",
        "hourly.time[1]: time '2024-11-24T01:00' has no zone and the "
        "document no 'utc_offset_seconds' (upstream.format.offset_field)");
}

static void
map_rejects_a_bad_offset_or_zone_field (void **state)
{
    s_shape_fails (s_open_meteo_local,
        "{\"utc_offset_seconds\": \"east\", \"hourly\": {\"time\": [],"
        " \"temperature_2m\": []}}",
        "utc_offset_seconds: expected an offset in seconds from UTC "
        "(upstream.format.offset_field), got string 'east'");
    s_shape_fails (s_open_meteo_local,
        "{\"utc_offset_seconds\": {}, \"hourly\": {\"time\": [],"
        " \"temperature_2m\": []}}", "got object");
    s_shape_fails (s_open_meteo_local,
        "{\"utc_offset_seconds\": 90000, \"hourly\": {\"time\": [],"
        " \"temperature_2m\": []}}", "got integer 90000");
    const char *zone_field =
        "upstream:\n  format:\n    time_unit: iso8601\n    path: rows\n"
        "    zone_field: meta.tz\n";
    s_shape_fails (zone_field,
        "{\"meta\": {\"tz\": \"Mars/Olympus_Mons\"}, \"rows\": []}",
        "meta.tz: unknown time zone 'Mars/Olympus_Mons'");
    s_shape_fails (zone_field,
        "{\"meta\": {\"tz\": \"../../etc/passwd\"}, \"rows\": []}",
        "meta.tz: '../../etc/passwd' is not a time zone");
}

//  ---------------------------------------------------------------------
//  Positional rows

static void
map_reads_a_top_level_array_of_time_value_pairs (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    layout: positional\n    time_unit: s\n",
        "[[1732406400, 1.5], [1732410000, \"2.5\"], [1732413600, null]]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.5);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", 2.5);
    ts_points_destroy (&pts);
}

static const char *const s_positional =
    "upstream:\n"
    "  format:\n"
    "    layout: positional\n"
    "    path: data\n"
    "    time_index: 2\n"
    "    time_unit: iso8601\n"
    "    measures:\n"
    "      open: 0\n"
    "      close: 1\n";

static void
map_reads_positional_rows_by_index (void **state)
{
    ts_points_t *pts = s_parse_ok (s_positional,
        "{\"data\": [[10, 11, \"2024-11-24T00:00Z\", \"ignored\", [1]],"
        "            [12, 13.5, \"2024-11-24T01:00Z\"]]}");
    assert_int_equal (pts->n, 4);
    s_assert_point (pts, 0, NOV24, "open", 10.0);
    s_assert_point (pts, 1, NOV24, "close", 11.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "open", 12.0);
    s_assert_point (pts, 3, NOV24 + HOUR, "close", 13.5);
    ts_points_destroy (&pts);
}

static void
map_rejects_positional_rows_of_the_wrong_shape (void **state)
{
    s_shape_fails (s_positional,
        "{\"data\": [[10, 11, \"2024-11-24T00:00Z\"], [12, 13]]}",
        "data[1][2]: missing");
    s_shape_fails (s_positional, "{\"data\": [[10, 11, 5]]}",
        "data[0][2]: expected an ISO 8601 string, got integer");
    //  The time ranks before the measures: it is missing here
    s_shape_fails (s_positional,
        "{\"data\": [[10, \"2024-11-24T00:00Z\"]]}",
        "data[0][2]: missing");
    s_shape_fails (s_positional,
        "{\"data\": [[\"2024-11-24T00:00Z\"]]}",
        "data[0][2]: missing");
    s_shape_fails (s_positional,
        "{\"data\": [{\"time\": 1}]}",
        "data[0]: expected an array, got object");
    s_shape_fails (s_positional, "{\"data\": {}}",
        "data: expected an array of rows, got object");
}

static void
map_hints_at_positional_for_rows_of_arrays (void **state)
{
    s_shape_fails (s_rows_default, "[[1732406400000, 1]]",
        "document[0]: expected an object, got array (rows of [time, value, "
        "...] are layout positional)");
}

//  ---------------------------------------------------------------------
//  Numeric strings and null markers

static const char *const s_markers =
    "upstream:\n"
    "  format:\n"
    "    time_unit: s\n"
    "    null_values: [\"\", \"n/a\", \"-\"]\n"
    "    measures:\n"
    "      value: v\n"
    "      humidity: h\n";

static void
map_skips_null_markers_and_reports_them (void **state)
{
    int rc;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = s_parse_at (s_markers,
        "[{\"time\": \"1732406400\", \"v\": \"1.25\", \"h\": \"n/a\"},"
        " {\"time\": 1732410000, \"v\": \"\", \"h\": 80},"
        " {\"time\": 1732413600, \"v\": null, \"h\": \"-\"},"
        " {\"time\": 1732417200, \"v\": \" 7 \", \"h\": 81}]",
        NOV24, &rc, &report, err);
    assert_int_equal (rc, 0);
    assert_int_equal (pts->n, 4);
    s_assert_point (pts, 0, NOV24, "value", 1.25);
    s_assert_point (pts, 1, NOV24 + HOUR, "humidity", 80.0);
    s_assert_point (pts, 2, NOV24 + 3 * HOUR, "value", 7.0);
    s_assert_point (pts, 3, NOV24 + 3 * HOUR, "humidity", 81.0);
    assert_false (report.shape);
    assert_int_equal (report.points, 4);
    assert_int_equal (report.nulls, 1);
    assert_int_equal (report.null_markers, 3);
    assert_int_equal (report.warnings, 3);
    assert_int_equal (report.kept, 3);
    assert_string_equal (report.warning [0], "document[0].h: 'n/a' is a "
                         "null value (upstream.format.null_values): no point");
    ts_points_destroy (&pts);
}

static void
map_skips_null_markers_in_columns (void **state)
{
    ts_points_t *pts = s_parse_ok (
        "upstream:\n  format:\n    layout: columns\n    path: hourly\n"
        "    time_unit: iso8601\n    null_values: [\"n/a\"]\n",
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00Z\", \"2024-11-24T01:00Z\"],"
        " \"value\": [\"n/a\", \"3.5\"]}}");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24 + HOUR, "value", 3.5);
    ts_points_destroy (&pts);
}

static void
map_refuses_a_marker_that_is_not_configured (void **state)
{
    s_shape_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": \"n/a\"}]",
        "document[0].value: expected a number, got string 'n/a'");
}

//  ---------------------------------------------------------------------
//  Plausible times

static void
map_refuses_epoch_ms_read_as_seconds_by_default (void **state)
{
    s_shape_fails (s_rows_seconds,
        "[{\"ts\": 1732406400, \"value\": 1},"
        " {\"ts\": 1732406400000, \"value\": 2}]",
        "document[1].ts: 1732406400000 s is year 56867, outside "
        "upstream.format.time_max (now+100y): is the time unit ms?");
}

static void
map_refuses_epoch_seconds_read_as_ms_by_default (void **state)
{
    s_shape_fails (s_rows_default,
        "[{\"time\": 1732406400, \"value\": 1}]",
        "document[0].time: 1732406400 ms is 1970-01-21T01:13:26.400Z, "
        "outside upstream.format.time_min (1971-01-01): is the time unit "
        "s?");
}

static void
map_applies_bounds_relative_to_now (void **state)
{
    const char *yaml =
        "upstream:\n  format:\n    layout: columns\n    path: hourly\n"
        "    time_unit: iso8601\n    time_min: 2d\n    time_max: now+1d\n";
    const char *doc =
        "{\"hourly\": {\"time\": [\"2024-11-22T00:00Z\", \"2024-11-25T01:00Z\"],"
        " \"value\": [1, 2]}}";
    int rc;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    //  At NOV24 the first is 2 days back (in), the second 25 h ahead (out)
    ts_points_t *pts = s_parse_at (yaml, doc, NOV24, &rc, &report, err);
    assert_int_equal (rc, TS_EPROTO);
    assert_string_equal (err, "hourly.time[1]: '2024-11-25T01:00Z' is "
                         "2024-11-25T01:00:00.000Z, outside "
                         "upstream.format.time_max (now+1d)");
    ts_points_destroy (&pts);
    //  Two hours later the second is in, the first out, below
    pts = s_parse_at (yaml, doc, NOV24 + 2 * HOUR, &rc, &report, err);
    assert_int_equal (rc, TS_EPROTO);
    assert_non_null (strstr (err, "hourly.time[0]: '2024-11-22T00:00Z' is "
                             "2024-11-22T00:00:00.000Z, outside "
                             "upstream.format.time_min (now-2d)"));
    ts_points_destroy (&pts);
    //  A wider lower bound takes both
    pts = s_parse_at (
        "upstream:\n  format:\n    layout: columns\n    path: hourly\n"
        "    time_unit: iso8601\n    time_min: now-3d\n    time_max: 1d\n",
        doc, NOV24 + 2 * HOUR, &rc, &report, err);
    assert_int_equal (rc, 0);
    assert_int_equal (pts->n, 2);
    ts_points_destroy (&pts);
}

static void
map_drops_points_out_of_bounds_when_asked (void **state)
{
    const char *yaml =
        "upstream:\n  format:\n    time_unit: s\n"
        "    time_min: \"2024-01-01\"\n    time_max: \"2025-01-01T00:00:00Z\"\n"
        "    out_of_bounds: drop_point\n"
        "    measures:\n      value: v\n      humidity: h\n";
    int rc;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = s_parse_at (yaml,
        "[{\"ts\": 0, \"time\": 1732406400, \"v\": 1, \"h\": 2},"
        " {\"time\": 1732406400000, \"v\": 3, \"h\": null},"
        " {\"time\": 1600000000, \"v\": 4, \"h\": 5},"
        " {\"time\": 1732410000, \"v\": 6}]", NOV24, &rc, &report, err);
    assert_int_equal (rc, 0);
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    s_assert_point (pts, 1, NOV24, "humidity", 2.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "value", 6.0);
    assert_int_equal (report.dropped_times, 2);
    assert_int_equal (report.dropped, 3);
    assert_int_equal (report.warnings, 2);
    assert_string_equal (report.warning [0], "document[1].time: "
                         "1732406400000 s is year 56867, outside "
                         "upstream.format.time_max (2025-01-01T00:00:00Z): "
                         "is the time unit ms?: dropped");
    assert_non_null (strstr (report.warning [1], "document[2].time: "
                             "1600000000 s is 2020-09-13T12:26:40.000Z, "
                             "outside upstream.format.time_min (2024-01-01)"));
    ts_points_destroy (&pts);

    //  Columns too
    pts = s_parse_at (
        "upstream:\n  format:\n    layout: columns\n    time_max: 1d\n"
        "    out_of_bounds: drop_point\n",
        "{\"time\": [1732406400000, 1832406400000], \"value\": [1, 2]}",
        NOV24, &rc, &report, err);
    assert_int_equal (rc, 0);
    assert_int_equal (pts->n, 1);
    assert_int_equal (report.dropped, 1);
    ts_points_destroy (&pts);
}

static void
map_reports_shape_errors_apart_from_syntax_errors (void **state)
{
    int rc;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = s_parse_at (s_rows_default, "[{\"time\": 1,",
                                   NOV24, &rc, &report, err);
    assert_int_equal (rc, TS_EPROTO);
    assert_false (report.shape);
    ts_points_destroy (&pts);
    pts = s_parse_at (s_rows_default, "{\"rows\": []}", NOV24, &rc, &report,
                      err);
    assert_int_equal (rc, TS_EPROTO);
    assert_true (report.shape);
    ts_points_destroy (&pts);
    pts = s_parse_at (s_rows_default, "[]", NOV24, &rc, &report, err);
    assert_int_equal (rc, 0);
    assert_false (report.shape);
    ts_points_destroy (&pts);
}

//  ---------------------------------------------------------------------
//  Config

static void
spec_names_file_line_and_key_for_bad_shapes (void **state)
{
    s_spec_fails ("upstream:\n  format:\n    layout: positional\n"
                  "    measures:\n      temp: temperature\n",
                  "test.yaml:4: upstream.format.measures: layout positional "
                  "reads measure 'temp' from a row index (0, 1, ...), not "
                  "'temperature'");
    s_spec_fails ("upstream:\n  format:\n    layout: positional\n"
                  "    measures:\n      temp: 0\n",
                  "measure 'temp' reads index 0, which is "
                  "upstream.format.time_index");
    s_spec_fails ("upstream:\n  format:\n    offset_field: a\n"
                  "    zone_field: b\n",
                  "test.yaml:4: upstream.format.zone_field: set "
                  "upstream.format.offset_field or zone_field, not both");
    s_spec_fails ("upstream:\n  format:\n    zone: Europe/Berln\n",
                  "test.yaml:3: upstream.format.zone: unknown time zone "
                  "'Europe/Berln'");
    s_spec_fails ("upstream:\n  format:\n    zone: Europe/Berlin\n"
                  "    offset_field: utc_offset_seconds\n",
                  "test.yaml:3: upstream.format.zone: the document names "
                  "the zone");
    s_spec_fails ("upstream:\n  format:\n    zone: \"../x\"\n",
                  "test.yaml:3: upstream.format.zone: '../x' is not a time "
                  "zone");
    s_spec_fails ("upstream:\n  format:\n    time_min: 10 days\n",
                  "test.yaml:3: upstream.format.time_min: must be off, a "
                  "duration");
    s_spec_fails ("upstream:\n  format:\n    time_min: \"2030-01-01\"\n"
                  "    time_max: \"2020-01-01\"\n",
                  "upstream.format.time_max: must be after "
                  "upstream.format.time_min");
    s_spec_fails ("upstream:\n  format:\n    out_of_bounds: ignore\n",
                  "test.yaml:3: upstream.format.out_of_bounds: must be one "
                  "of: reject_document, drop_point");
}

static void
spec_by_hand_checks_positional_fields (void **state)
{
    const char *measures [] = { "value" };
    const char *fields [] = { "x" };
    ts_map_spec_t spec = {
        .origin = "push", .layout = TS_MAP_POSITIONAL,
        .measures = measures, .fields = fields, .n_measures = 1 };
    char err [TS_ERRLEN] = "";
    assert_null (ts_map_new (&spec, err));
    assert_string_equal (err, "push.measures: measure 'value' needs a row "
                         "index other than the time's, not 'x'");
    fields [0] = "1";
    spec.time_max = "soon";
    assert_null (ts_map_new (&spec, err));
    assert_non_null (strstr (err, "push.time_max: must be off"));
    spec.time_max = NULL;
    ts_map_t *map = ts_map_new (&spec, err);
    assert_non_null (map);
    ts_map_destroy (&map);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (map_reads_local_times_with_the_documents_offset),
        cmocka_unit_test (map_reads_the_offset_field_wherever_it_is),
        cmocka_unit_test (map_keeps_the_zone_a_time_carries),
        cmocka_unit_test (map_reads_times_in_a_fixed_offset_zone),
        cmocka_unit_test (map_reads_berlin_times_across_summer_time),
        cmocka_unit_test (map_reads_the_zone_the_document_names),
        cmocka_unit_test (map_reads_a_date_alone_as_its_midnight),
        cmocka_unit_test (map_fails_a_local_time_when_the_document_names_no_zone),
        cmocka_unit_test (map_rejects_a_bad_offset_or_zone_field),
        cmocka_unit_test (map_reads_a_top_level_array_of_time_value_pairs),
        cmocka_unit_test (map_reads_positional_rows_by_index),
        cmocka_unit_test (map_rejects_positional_rows_of_the_wrong_shape),
        cmocka_unit_test (map_hints_at_positional_for_rows_of_arrays),
        cmocka_unit_test (map_skips_null_markers_and_reports_them),
        cmocka_unit_test (map_skips_null_markers_in_columns),
        cmocka_unit_test (map_refuses_a_marker_that_is_not_configured),
        cmocka_unit_test (map_refuses_epoch_ms_read_as_seconds_by_default),
        cmocka_unit_test (map_refuses_epoch_seconds_read_as_ms_by_default),
        cmocka_unit_test (map_applies_bounds_relative_to_now),
        cmocka_unit_test (map_drops_points_out_of_bounds_when_asked),
        cmocka_unit_test (map_reports_shape_errors_apart_from_syntax_errors),
        cmocka_unit_test (spec_names_file_line_and_key_for_bad_shapes),
        cmocka_unit_test (spec_by_hand_checks_positional_fields),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_map_shapes", tests, NULL, NULL);
}
