/*  ts_map_fixture - what the unit tests of ts_map share
    (tests/unit/test_ts_map*.c): a mapping built from YAML text, as an
    operator would write it; a parse that must succeed, or fail with
    TS_EPROTO, a given detail and the caller's list left exactly as it
    was; a point check; and the YAML of the usual layouts. Header-only,
    static inline, so that each test compiles it alone. */

#ifndef TS_MAP_FIXTURE_H_INCLUDED
#define TS_MAP_FIXTURE_H_INCLUDED

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

static inline ts_map_t *
s_map_new (const char *yaml)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (yaml, "test.yaml", err);
    if (!cfg)
        fail_msg ("config: %s", err);
    ts_map_spec_t spec;
    if (ts_map_spec_from_config (&spec, cfg, err))
        fail_msg ("spec: %s", err);
    ts_map_t *map = ts_map_new (&spec, err);
    if (!map)
        fail_msg ("map: %s", err);
    ts_config_destroy (&cfg);
    return map;
}

//  Parses doc with the mapping of yaml into a fresh list; returns the list
//  (caller destroys) and asserts success.
static inline ts_points_t *
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
static inline void
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

static inline void
s_assert_point (const ts_points_t *pts, size_t i, int64_t time_ms,
                const char *measure, double value)
{
    assert_true (i < pts->n);
    assert_int_equal (pts->time_ms [i], time_ms);
    assert_string_equal (ts_points_measure (pts, i), measure);
    assert_true (pts->value [i] == value);
}

static const char *const s_rows_default = "log:\n  level: error\n";

//  Rows with no time bounds: any time the number reads as is taken.
static const char *const s_rows_unbounded =
    "upstream:\n"
    "  format:\n"
    "    time_min: \"off\"\n"
    "    time_max: \"off\"\n";

static const char *const s_rows_two =
    "upstream:\n"
    "  format:\n"
    "    measures:\n"
    "      value: value\n"
    "      humidity: hum\n";

static const char *const s_open_meteo =
    "upstream:\n"
    "  format:\n"
    "    layout: columns\n"
    "    path: hourly\n"
    "    time_unit: iso8601\n"
    "    measures:\n"
    "      temperature: temperature_2m\n"
    "      humidity: relative_humidity_2m\n";

static const char *const s_rows_seconds =
    "upstream:\n"
    "  format:\n"
    "    time_field: ts\n"
    "    time_unit: s\n";

static const char *const s_nested =
    "upstream:\n"
    "  format:\n"
    "    path: data.series.rows\n"
    "    time_unit: iso8601\n"
    "    measures:\n"
    "      level: v\n";

static const char *const s_columns_ms =
    "upstream:\n"
    "  format:\n"
    "    layout: columns\n"
    "    path: hourly\n";

#endif
