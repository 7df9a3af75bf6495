/*  ts_demo_shapes - the demo upstream's documents of other shapes than
    its /rows and /columns, for the tests of upstream.format's document
    shapes (common/ingest/ts_map.h):

      /local/{id}       Open-Meteo with &timezone=: {"utc_offset_seconds":
                        3600, "timezone": "...", "hourly": {"time":
                        ["2024-11-24T01:05", ...], ...}}, local times
                        without a zone, offset local_offset_s
      /positional/{id}  [[ms, value, humidity], ...]

    With local_offset_field off, /local leaves "utc_offset_seconds" out
    (an upstream that stopped sending it: its times can no longer be
    placed). With null_markers on, values are written as numeric strings
    ("21.5000"), every 5th humidity as "n/a" and every 7th value as ""
    (counted from the first point served). The series and the values are
    the demo's own (tools/tscache-demo-upstream.c): the same (id, measure,
    time) has the same value in every shape. A tool, not part of the
    pipeline. */

#ifndef TS_DEMO_SHAPES_H_INCLUDED
#define TS_DEMO_SHAPES_H_INCLUDED

#include "ts_common.h"

#include <jansson.h>

//  The shapes served here.
typedef enum {
    TS_DEMO_LOCAL = 2,          //  (0 and 1 are the demo's rows, columns)
    TS_DEMO_POSITIONAL
} ts_demo_shape_t;

//  What POST /control sets for these shapes.
typedef struct {
    int64_t local_offset_s;     //  /local's utc_offset_seconds
    bool    local_offset_field; //  /local writes utc_offset_seconds
    bool    null_markers;       //  values as strings, some "n/a" or ""
} ts_demo_shapes_t;

#define TS_DEMO_SHAPES_DEFAULT { 3600, true, false }

//  The value of (id, measure, time): the demo's.
typedef double (ts_demo_value_fn) (const char *id, const char *measure,
                                   int64_t time_ms);

//  The shape a path starts with ("/local/", "/positional/"): sets *id to
//  what follows. Returns the shape, or 0 if none.
int ts_demo_shapes_route (const char *url, const char **id);

//  Writes the document of shape for id at times (n, ascending) into a
//  heap buffer (caller frees). Returns NULL if out of memory.
char *ts_demo_shapes_document (int shape, const ts_demo_shapes_t *opts,
                               ts_demo_value_fn *value, const char *id,
                               const int64_t *times, size_t n, size_t *len);

//  Applies the keys of a /control body it knows ("local_offset_s",
//  "local_offset_field", "null_markers") to *opts. Returns NULL or the reason a value is
//  refused.
const char *ts_demo_shapes_control (json_t *body, ts_demo_shapes_t *opts);

//  Adds the settings to a /control answer.
void ts_demo_shapes_state (json_t *state, const ts_demo_shapes_t *opts);

#endif
