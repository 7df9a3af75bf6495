/*  ts_map - turns an upstream JSON document into points, as a map spec
    describes it, not code.

    The spec (ts_map_spec_t) says what to read from a document. Its caller
    builds it: the worker from config (upstream.format.*, see
    ts_map_spec_from_config), a push-ingest process or a CSV import from
    their own input. ts_map_new checks it and compiles it into a mapping
    that parses any number of documents.

    Two layouts:
    - rows:    an array of objects, one per timestamp:
               [{"time": 1732406400000, "value": 1.5}, ...]
    - columns: an object of parallel arrays:
               {"time": [...], "temperature_2m": [...], ...}
    path is a dotted path from the document root to that array or object
    ("" for the root, "hourly" for {"hourly": {...}}, "data.rows").
    time_field names the time field; time_unit says how to read it: ms or
    s (epoch numbers, or numeric strings) or ISO 8601 (strings, no zone
    meaning UTC). Each measure name is read from a field of the document
    (config default: value from value).

    A value that is JSON null is skipped (upstreams use it for gaps). A
    number, or a string holding a number, is taken. Anything else - wrong
    types, missing fields, columns of unequal length, unparsable times -
    fails the whole document with TS_EPROTO and a detail naming where
    ("hourly.temperature_2m[3]: expected a number, got an object"), so the
    job fails and is retried; nothing half-read is stored.

    Points go straight into the caller's columnar list: each measure's
    index in that list is looked up once per document, then every point
    is appended by index.

    Used by the ingest path (ts_ingest). Pure: no I/O. */

#ifndef TS_MAP_H_INCLUDED
#define TS_MAP_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"

//  How the points sit in the document.
typedef enum {
    TS_MAP_ROWS,                //  an array of objects, one per time
    TS_MAP_COLUMNS              //  an object of parallel arrays
} ts_map_layout_t;

//  How the time field is read.
typedef enum {
    TS_MAP_TIME_MS,             //  epoch milliseconds (number or string)
    TS_MAP_TIME_S,              //  epoch seconds (number or string)
    TS_MAP_TIME_ISO8601         //  ISO 8601 string, no zone meaning UTC
} ts_map_time_t;

//  What to read from a document. Every pointer is borrowed: it need only
//  live until ts_map_new returns, which copies what it keeps.
typedef struct {
    const char        *origin;      //  names the spec in errors, e.g.
                                    //  "upstream.format"; NULL: "map"
    ts_map_layout_t    layout;      //  rows or columns
    const char        *path;        //  dotted path to the rows or
                                    //  columns; "" or NULL: the root
    const char        *time_field;  //  field holding the time, not empty
    ts_map_time_t      time_unit;   //  how the time field is read
    const char *const *measures;    //  n_measures measure names, each
                                    //  passing ts_name_valid, distinct
    const char *const *fields;      //  the field holding each measure's
                                    //  values (not empty; two measures
                                    //  may read one field)
    size_t             n_measures;  //  at least 1
} ts_map_spec_t;

typedef struct _ts_map_t ts_map_t;

//  Fills spec from upstream.format.* of cfg: origin "upstream.format",
//  the strings borrowed from cfg (spec lives as long as cfg). Returns 0,
//  or TS_ECONFIG with "upstream.format.KEY: reason" in err for a value
//  the config's own checks would have refused.
int ts_map_spec_from_config (ts_map_spec_t *spec, const ts_config_t *cfg,
                             char *err);

//  Checks spec and compiles it into a mapping. Returns NULL with the
//  reason in err, naming the spec's origin ("upstream.format.measures:
//  measure name ..."), if a measure name is invalid or repeated, a field
//  or the time field is empty, there is no measure or layout or unit is
//  unknown; or "out of memory".
ts_map_t *ts_map_new (const ts_map_spec_t *spec, char *err);

//  Frees the mapping; sets *self_p to NULL. Safe on NULL.
void ts_map_destroy (ts_map_t **self_p);

//  Parses doc (len bytes of JSON) and appends its points to out, in
//  document order. Returns 0, TS_EPROTO (detail in err), or TS_ENOMEM.
//  On error out's points are as they were on entry (its table of measure
//  names may have gained the spec's names, which no point then uses).
int ts_map_parse (const ts_map_t *self, const char *doc, size_t len,
                  ts_points_t *out, char *err);

//  "yajl VERSION" as loaded at run time (static text), for
//  ts_version_use.
const char *ts_map_libraries (void);

#endif
