/*  ts_map - turns an upstream JSON document into points, as described by
    config (upstream.format.*), not by code.

    Two layouts:
    - rows:    an array of objects, one per timestamp:
               [{"time": 1732406400000, "value": 1.5}, ...]
    - columns: an object of parallel arrays:
               {"time": [...], "temperature_2m": [...], ...}
    format.path is a dotted path from the document root to that array or
    object ("" for the root, "hourly" for {"hourly": {...}}, "data.rows").
    format.time_field names the time field; format.time_unit says how to
    read it: "ms" or "s" (epoch numbers, or numeric strings) or "iso8601"
    (strings, no zone meaning UTC). format.measures maps each measure name
    to the field holding its values (default value: value).

    A value that is JSON null is skipped (upstreams use it for gaps). A
    number, or a string holding a number, is taken. Anything else - wrong
    types, missing fields, columns of unequal length, unparsable times -
    fails the whole document with TS_EPROTO and a detail naming where
    ("hourly.temperature_2m[3]: expected a number, got an object"), so the
    job fails and is retried; nothing half-read is stored.

    Used by workers. Pure: no I/O. */

#ifndef TS_MAP_H_INCLUDED
#define TS_MAP_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"

typedef struct _ts_map_t ts_map_t;

//  Builds a mapping from upstream.format.* of cfg. Returns NULL with the
//  reason in err if a measure name is invalid.
ts_map_t *ts_map_new (const ts_config_t *cfg, char *err);

//  Frees the mapping; sets *self_p to NULL. Safe on NULL.
void ts_map_destroy (ts_map_t **self_p);

//  Parses doc (len bytes of JSON) and appends its points to out, in
//  document order. Returns 0, TS_EPROTO (detail in err), or TS_ENOMEM.
//  On error out is left as it was on entry.
int ts_map_parse (const ts_map_t *self, const char *doc, size_t len,
                  ts_points_t *out, char *err);

//  "yajl VERSION" as loaded at run time (static text), for
//  ts_version_use.
const char *ts_map_libraries (void);

#endif
