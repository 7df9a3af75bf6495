/*  fuzz_map - upstream documents through the JSON mapper
    (common/ingest/ts_map*.c), under the format configs the unit tests
    use (tests/unit/ts_map_fixture.h), since each walks the document
    another way.

    The first byte picks the spec:
        0  rows, time in ms, value from value (the config's default)
        1  rows, two measures (value, humidity from hum)
        2  columns under hourly, ISO 8601 times (Open-Meteo's layout)
        3  rows, epoch seconds in field ts
        4  rows under the nested path data.series.rows, ISO 8601
        5  columns under hourly, times in ms, two measures from one field
        6  positional rows under data, ISO times at index 2 in Europe/
           Berlin, two measures at 0 and 1, null markers "" and "n/a"
        7  Open-Meteo with local times: columns under hourly, the offset
           from utc_offset_seconds, bounds that drop points
        8  rows, ISO times in the zone named by meta.tz, bounds that
           reject the document
    and the rest is the document. A parse into a list that holds a
    point already must leave it as it was on failure (ts_map.h: nothing
    half-read is stored) and only append on success. */

#include <stdio.h>

#include "fuzz.h"
#include "ts_map.h"

static const char *const s_value [] = { "value" };
static const char *const s_two [] = { "value", "humidity" };
static const char *const s_two_fields [] = { "value", "hum" };
static const char *const s_meteo [] = { "temperature", "humidity" };
static const char *const s_meteo_fields [] = { "temperature_2m",
                                               "relative_humidity_2m" };
static const char *const s_level [] = { "level" };
static const char *const s_level_fields [] = { "v" };
static const char *const s_same_fields [] = { "value", "value" };
static const char *const s_index_fields [] = { "0", "1" };
static const char *const s_markers [] = { "", "n/a" };

static const ts_map_spec_t s_specs [] = {
    { .origin = "rows", .layout = TS_MAP_ROWS, .path = "",
      .time_field = "time", .time_unit = TS_MAP_TIME_MS,
      .measures = s_value, .fields = s_value, .n_measures = 1 },
    { .origin = "two", .layout = TS_MAP_ROWS, .time_field = "time",
      .time_unit = TS_MAP_TIME_MS, .measures = s_two,
      .fields = s_two_fields, .n_measures = 2 },
    { .origin = "meteo", .layout = TS_MAP_COLUMNS, .path = "hourly",
      .time_field = "time", .time_unit = TS_MAP_TIME_ISO8601,
      .measures = s_meteo, .fields = s_meteo_fields, .n_measures = 2 },
    { .origin = "seconds", .layout = TS_MAP_ROWS, .path = "",
      .time_field = "ts", .time_unit = TS_MAP_TIME_S, .measures = s_value,
      .fields = s_value, .n_measures = 1 },
    { .origin = "nested", .layout = TS_MAP_ROWS, .path = "data.series.rows",
      .time_field = "time", .time_unit = TS_MAP_TIME_ISO8601,
      .measures = s_level, .fields = s_level_fields, .n_measures = 1 },
    { .origin = "columns", .layout = TS_MAP_COLUMNS, .path = "hourly",
      .time_field = "time", .time_unit = TS_MAP_TIME_MS, .measures = s_two,
      .fields = s_same_fields, .n_measures = 2 },
    { .origin = "positional", .layout = TS_MAP_POSITIONAL, .path = "data",
      .time_unit = TS_MAP_TIME_ISO8601, .measures = s_two,
      .fields = s_index_fields, .n_measures = 2, .time_index = 2,
      .zone = "Europe/Berlin", .null_values = s_markers,
      .n_null_values = 2 },
    { .origin = "local", .layout = TS_MAP_COLUMNS, .path = "hourly",
      .time_field = "time", .time_unit = TS_MAP_TIME_ISO8601,
      .measures = s_meteo, .fields = s_meteo_fields, .n_measures = 2,
      .offset_field = "utc_offset_seconds", .time_min = "1971-01-01",
      .time_max = "100y", .drop_out_of_bounds = true },
    { .origin = "zoned", .layout = TS_MAP_ROWS, .path = "rows",
      .time_field = "time", .time_unit = TS_MAP_TIME_ISO8601,
      .measures = s_value, .fields = s_value, .n_measures = 1,
      .zone_field = "meta.tz", .time_min = "now-3650d",
      .time_max = "now+365d" },
};
#define S_SPECS (sizeof s_specs / sizeof s_specs [0])

static ts_map_t *s_maps [S_SPECS];

static void
s_cleanup (void)
{
    for (size_t i = 0; i < S_SPECS; i++)
        ts_map_destroy (&s_maps [i]);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    char err [TS_ERRLEN];
    for (size_t i = 0; i < S_SPECS; i++)
        if (!(s_maps [i] = ts_map_new (&s_specs [i], err))) {
            fprintf (stderr, "fuzz_map: spec %zu: %s\n", i, err);
            exit (1);
        }
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned spec;
    if (!fuzz_mode (&data, &size, S_SPECS, &spec))
        return 0;
    const ts_map_t *map = s_maps [spec];
    ts_points_t *pts = ts_points_new ();
    if (!pts || ts_points_append (pts, 42, "old", 4.5) != 0) {
        ts_points_destroy (&pts);
        return 0;
    }
    char err [TS_ERRLEN] = "";
    ts_map_report_t report;
    int rc = ts_map_parse_report (map, (const char *) data, size,
                                  1732406400000LL, pts, &report, err);
    if (rc != 0 && rc != TS_ENOMEM
    &&  (pts->n != 1 || pts->time_ms [0] != 42 || !*err))
        abort ();                   //  a failed parse left points behind
    if (rc == 0 && (pts->n < 1 || report.points != pts->n - 1
                 || report.shape || report.kept > TS_MAP_WARNINGS_MAX))
        abort ();
    ts_points_destroy (&pts);
    return 0;
}
