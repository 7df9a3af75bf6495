/*  ts_map - turns an upstream JSON document into points, as a map spec
    describes it, not code.

    The spec (ts_map_spec_t) says what to read from a document. Its caller
    builds it: the worker from config (upstream.format.*, see
    ts_map_spec_from_config), a push-ingest process or a CSV import from
    their own input. ts_map_new checks it and compiles it into a mapping
    that parses any number of documents.

    Three layouts:
    - rows:       an array of objects, one per timestamp:
                  [{"time": 1732406400000, "value": 1.5}, ...]
    - columns:    an object of parallel arrays:
                  {"time": [...], "temperature_2m": [...], ...}
    - positional: an array of arrays, one per timestamp, the time and
                  each measure at a fixed index: [[1732406400, 1.5, 80],
                  ...]; time_index says where the time is, each measure's
                  field is its index ("1")
    path is a dotted path from the document root to that array or object
    ("" for the root, "hourly" for {"hourly": {...}}, "data.rows").
    time_field names the time field; time_unit says how to read it: ms or
    s (epoch numbers, or numeric strings) or ISO 8601 (strings; a date
    alone, "2024-11-24", is its midnight). Each measure name is read from
    a field of the document (config default: value from value).

    Times without a zone: an ISO 8601 time that carries a zone or offset
    ("...Z", "...+01:00") keeps it. One without is read in the spec's
    zone: a fixed zone (zone: "UTC", the default, "+01:00", or a tz
    database name such as "Europe/Berlin", read with its summer time by
    ts_tz, never through the process's TZ), or a zone the document names:
    offset_field, a dotted path to a number of seconds east of UTC
    (Open-Meteo's "utc_offset_seconds"), or zone_field, a path to a tz
    database name ("timezone": "Europe/Berlin"). Such a field may be
    anywhere in the document; a document whose field is missing fails
    at its first time without a zone. Epoch numbers are UTC by
    definition: no zone applies.

    A value that is JSON null, or a string of the spec's null_values (say
    "", "n/a", "-"), is skipped: no point (upstreams use them for gaps). A
    number, or a string holding a number, is taken. Anything else - wrong
    types, missing fields, columns of unequal length, unparsable times -
    fails the whole document with TS_EPROTO and a detail naming where
    ("hourly.temperature_2m[3]: expected a number, got an object");
    nothing half-read is stored.

    Plausible times: time_min and time_max (ts_time_bound_parse: "off",
    "now-3650d", "365d", "2000-01-01") bound every time after its zone is
    applied. A time outside fails the document (the default), naming the
    time and the bound, and hinting at the unit when a factor of 1000
    would have fit ("hourly.time[3]: 1732406400000 s is year 56868,
    outside upstream.format.time_max (now+100y): is the time unit ms?");
    with drop_out_of_bounds its points are dropped instead and reported.

    Every failure but a syntax error is the document's shape: the report
    says so (report.shape), since fetching the same document again cannot
    help, while a cut or garbled body might be whole on the next fetch.
    The report also counts what was skipped (nulls, null markers, points
    dropped) and keeps the first warnings' texts, for the worker's log and
    `tscache source test`.

    Points go straight into the caller's columnar list: each measure's
    index in that list is looked up once per document, then every point
    is appended by index.

    Used by the ingest path (ts_ingest). No clock (the caller passes
    now_ms); the only I/O is the first read of a tz database zone
    (ts_tz, cached). */

#ifndef TS_MAP_H_INCLUDED
#define TS_MAP_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"
#include "ts_duration.h"

//  How the points sit in the document.
typedef enum {
    TS_MAP_ROWS,                //  an array of objects, one per time
    TS_MAP_COLUMNS,             //  an object of parallel arrays
    TS_MAP_POSITIONAL           //  an array of arrays, one per time
} ts_map_layout_t;

//  How the time field is read.
typedef enum {
    TS_MAP_TIME_MS,             //  epoch milliseconds (number or string)
    TS_MAP_TIME_S,              //  epoch seconds (number or string)
    TS_MAP_TIME_ISO8601         //  ISO 8601 string; no zone: the spec's
} ts_map_time_t;

//  What to read from a document. Every pointer is borrowed: it need only
//  live until ts_map_new returns, which copies what it keeps.
typedef struct {
    const char        *origin;      //  names the spec in errors, e.g.
                                    //  "upstream.format"; NULL: "map"
    ts_map_layout_t    layout;      //  rows, columns or positional
    const char        *path;        //  dotted path to the rows or
                                    //  columns; "" or NULL: the root
    const char        *time_field;  //  field holding the time, not empty
                                    //  (unused by positional)
    ts_map_time_t      time_unit;   //  how the time field is read
    const char *const *measures;    //  n_measures measure names, each
                                    //  passing ts_name_valid, distinct
    const char *const *fields;      //  the field holding each measure's
                                    //  values (not empty; two measures
                                    //  may read one field); positional:
                                    //  its index in a row ("1")
    size_t             n_measures;  //  at least 1
    //  Zero or NULL below keeps the behaviour of a spec without them.
    size_t             time_index;  //  positional: index of the time
    const char        *zone;        //  zone of times without one (see
                                    //  ts_tz_check_name); NULL, "": UTC
    const char        *offset_field;//  dotted path to the document's
                                    //  offset, seconds east of UTC
    const char        *zone_field;  //  dotted path to its zone name; at
                                    //  most one of the two fields
    const char *const *null_values; //  strings meaning "no value"
    size_t             n_null_values;
    const char        *time_min;    //  lower bound on times, as
                                    //  ts_time_bound_parse (sign -1)
                                    //  reads it; NULL: none
    const char        *time_max;    //  upper bound (sign +1); NULL: none
    bool               drop_out_of_bounds;  //  drop such points and
                                    //  report them, instead of failing
                                    //  the document
} ts_map_spec_t;

//  Warnings a report keeps the text of (the rest are counted).
#define TS_MAP_WARNINGS_MAX 8

//  What one parse met, besides its points. Counts are of this document
//  alone.
typedef struct {
    bool   shape;               //  the parse failed on the document's
                                //  shape: JSON the spec cannot map (a
                                //  retry cannot help); false on success,
                                //  not-JSON and out of memory
    size_t points;              //  points appended (0 on failure)
    size_t nulls;               //  values skipped: JSON null
    size_t null_markers;        //  values skipped: one of null_values
    size_t dropped_times;       //  times out of bounds, dropped
    size_t dropped;             //  points they held, dropped
    size_t warnings;            //  null markers + dropped times
    size_t kept;                //  warnings whose text is in warning
    char   warning [TS_MAP_WARNINGS_MAX][TS_ERRLEN];   //  the first ones:
                                //  "hourly.time[3]: ...: dropped"
} ts_map_report_t;

typedef struct _ts_map_t ts_map_t;

//  Fills spec from upstream.format.* of cfg: origin "upstream.format",
//  the strings borrowed from cfg (spec lives as long as cfg; positional
//  with the default measures reads value from index 1). Returns 0, or
//  TS_ECONFIG with "FILE:LINE: upstream.format.KEY: reason" in err for a
//  value the config's own checks would have refused or keys that do not
//  go together: both offset_field and zone_field, a zone besides either,
//  a zone the tz database does not have, a positional measure whose
//  field is not an index or is the time_index.
int ts_map_spec_from_config (ts_map_spec_t *spec, const ts_config_t *cfg,
                             char *err);

//  Checks spec and compiles it into a mapping. Returns NULL with the
//  reason in err, naming the spec's origin ("upstream.format.measures:
//  measure name ..."), if a measure name is invalid or repeated, a field
//  or the time field is empty, there is no measure or layout or unit is
//  unknown, a positional field is not an index, a zone is unknown, both
//  zone fields are set or a time bound does not parse; or "out of
//  memory".
ts_map_t *ts_map_new (const ts_map_spec_t *spec, char *err);

//  Frees the mapping; sets *self_p to NULL. Safe on NULL.
void ts_map_destroy (ts_map_t **self_p);

//  Parses doc (len bytes of JSON) and appends its points to out, in
//  document order; time bounds relative to now are taken at now_ms.
//  report (may be NULL) is filled as its type says. Returns 0, TS_EPROTO
//  (detail in err; report->shape tells a shape from a syntax error), or
//  TS_ENOMEM. On error out's points are as they were on entry (its table
//  of measure names may have gained the spec's names, which no point
//  then uses).
int ts_map_parse_report (const ts_map_t *self, const char *doc, size_t len,
                         int64_t now_ms, ts_points_t *out,
                         ts_map_report_t *report, char *err);

//  ts_map_parse_report at the current time (ts_now_ms), without a
//  report.
int ts_map_parse (const ts_map_t *self, const char *doc, size_t len,
                  ts_points_t *out, char *err);

//  "yajl VERSION" as loaded at run time (static text), for
//  ts_version_use.
const char *ts_map_libraries (void);

#endif
