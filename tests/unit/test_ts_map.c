/*  test_ts_map - the map spec (common/ingest/ts_map.c): read from
    upstream.format.* or built by hand, as a push-ingest process or a CSV
    import would, checked (a bad spec names its origin) and compiled into
    a mapping that does not keep the spec's strings.

    The event parser is tested in test_ts_map_parse.c, the reading of
    values and times in test_ts_map_read.c; the helpers they share are in
    ts_map_fixture.h. */

#include "ts_map_fixture.h"

//  ---------------------------------------------------------------------
//  A spec built by hand (a push-ingest process or a CSV import)

static void
map_reads_a_document_by_a_spec_built_by_hand (void **state)
{
    const char *measures [] = { "temperature", "humidity" };
    const char *fields [] = { "tc", "h" };
    ts_map_spec_t spec = {
        .origin = "push.format", .layout = TS_MAP_COLUMNS, .path = "data",
        .time_field = "t", .time_unit = TS_MAP_TIME_S,
        .measures = measures, .fields = fields, .n_measures = 2 };
    char err [TS_ERRLEN] = "";
    ts_map_t *map = ts_map_new (&spec, err);
    if (!map)
        fail_msg ("map: %s", err);
    const char *doc = "{\"data\": {\"t\": [1732406400, 1732410000],"
                      " \"h\": [80, null], \"tc\": [1.5, 2.5]}}";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_map_parse (map, doc, strlen (doc), pts, err), 0);
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "temperature", 1.5);
    s_assert_point (pts, 1, NOV24, "humidity", 80.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "temperature", 2.5);
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
}

static void
map_spec_strings_need_not_outlive_the_map (void **state)
{
    char measure [16] = "value", field [16] = "v", time_field [16] = "ts";
    const char *measures [] = { measure };
    const char *fields [] = { field };
    ts_map_spec_t spec = {
        .layout = TS_MAP_ROWS, .time_field = time_field,
        .time_unit = TS_MAP_TIME_MS, .measures = measures, .fields = fields,
        .n_measures = 1 };
    char err [TS_ERRLEN] = "";
    ts_map_t *map = ts_map_new (&spec, err);
    assert_non_null (map);
    memset (measure, 'x', sizeof measure - 1);
    memset (field, 'x', sizeof field - 1);
    memset (time_field, 'x', sizeof time_field - 1);
    const char *doc = "[{\"ts\": 1732406400000, \"v\": 7}]";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_map_parse (map, doc, strlen (doc), pts, err), 0);
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24, "value", 7.0);
    ts_points_destroy (&pts);
    ts_map_destroy (&map);
}

//  ts_map_new refuses spec with an error containing detail.
static void
s_spec_fails (const ts_map_spec_t *spec, const char *detail)
{
    char err [TS_ERRLEN] = "";
    ts_map_t *map = ts_map_new (spec, err);
    assert_null (map);
    if (!strstr (err, detail))
        fail_msg ("error '%s' does not contain '%s'", err, detail);
}

static void
map_new_names_the_origin_of_a_bad_spec (void **state)
{
    const char *measures [] = { "value", "value" };
    const char *fields [] = { "v", "" };
    ts_map_spec_t spec = {
        .origin = "csv", .layout = TS_MAP_ROWS, .time_field = "t",
        .measures = measures, .fields = fields, .n_measures = 1 };
    spec.time_field = "";
    s_spec_fails (&spec, "csv.time_field: must not be empty");
    spec.time_field = "t";
    spec.n_measures = 0;
    s_spec_fails (&spec, "csv.measures: needs at least one measure");
    spec.n_measures = 2;
    s_spec_fails (&spec, "csv.measures: measure 'value' has an empty field");
    fields [1] = "w";
    s_spec_fails (&spec, "csv.measures: measure 'value' is named twice");
    measures [1] = "bad name";
    s_spec_fails (&spec, "csv.measures: ");
    s_spec_fails (&spec, "bad name");
    spec.n_measures = 1;
    spec.layout = (ts_map_layout_t) 7;
    s_spec_fails (&spec, "csv.layout: unknown layout 7");
    spec.layout = TS_MAP_ROWS;
    spec.time_unit = (ts_map_time_t) 9;
    spec.origin = NULL;
    s_spec_fails (&spec, "map.time_unit: unknown unit 9");
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
    ts_map_spec_t spec;
    assert_int_equal (ts_map_spec_from_config (&spec, cfg, err), 0);
    ts_map_t *map = ts_map_new (&spec, err);
    assert_null (map);
    assert_non_null (strstr (err, "bad name"));
    ts_config_destroy (&cfg);
}

//  ---------------------------------------------------------------------
//  A spec from the configuration

static void
map_spec_from_config_reads_upstream_format (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n  format:\n    layout: columns\n    path: hourly\n"
        "    time_field: ts\n    time_unit: s\n"
        "    measures:\n      temp: t2m\n      hum: rh\n", "test.yaml", err);
    assert_non_null (cfg);
    ts_map_spec_t spec;
    assert_int_equal (ts_map_spec_from_config (&spec, cfg, err), 0);
    assert_string_equal (spec.origin, "upstream.format");
    assert_int_equal (spec.layout, TS_MAP_COLUMNS);
    assert_string_equal (spec.path, "hourly");
    assert_string_equal (spec.time_field, "ts");
    assert_int_equal (spec.time_unit, TS_MAP_TIME_S);
    assert_int_equal (spec.n_measures, 2);
    assert_string_equal (spec.measures [0], "temp");
    assert_string_equal (spec.fields [0], "t2m");
    assert_string_equal (spec.measures [1], "hum");
    assert_string_equal (spec.fields [1], "rh");
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (map_new_rejects_invalid_measure_name),
        cmocka_unit_test (map_reads_a_document_by_a_spec_built_by_hand),
        cmocka_unit_test (map_spec_strings_need_not_outlive_the_map),
        cmocka_unit_test (map_new_names_the_origin_of_a_bad_spec),
        cmocka_unit_test (map_spec_from_config_reads_upstream_format),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_map", tests, NULL, NULL);
}
