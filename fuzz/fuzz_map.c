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

static const ts_map_spec_t s_specs [] = {
    { "rows", TS_MAP_ROWS, "", "time", TS_MAP_TIME_MS, s_value, s_value, 1 },
    { "two", TS_MAP_ROWS, NULL, "time", TS_MAP_TIME_MS, s_two, s_two_fields, 2 },
    { "meteo", TS_MAP_COLUMNS, "hourly", "time", TS_MAP_TIME_ISO8601,
      s_meteo, s_meteo_fields, 2 },
    { "seconds", TS_MAP_ROWS, "", "ts", TS_MAP_TIME_S, s_value, s_value, 1 },
    { "nested", TS_MAP_ROWS, "data.series.rows", "time", TS_MAP_TIME_ISO8601,
      s_level, s_level_fields, 1 },
    { "columns", TS_MAP_COLUMNS, "hourly", "time", TS_MAP_TIME_MS,
      s_two, s_same_fields, 2 },
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
    int rc = ts_map_parse (map, (const char *) data, size, pts, err);
    if (rc != 0 && rc != TS_ENOMEM
    &&  (pts->n != 1 || pts->time_ms [0] != 42 || !*err))
        abort ();                   //  a failed parse left points behind
    if (rc == 0 && pts->n < 1)
        abort ();
    ts_points_destroy (&pts);
    return 0;
}
