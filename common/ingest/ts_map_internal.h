/*  ts_map_internal - what the parts of ts_map share; not for callers.

    ts_map is one module (ts_map.h is its whole contract) written as three
    files, one job each:

      ts_map.c        the map spec (from config, checked) compiled into a
                      mapping: path components and the fields to read
      ts_map_parse.c  the event parser: follows the path, then reads rows
                      or columns and appends points to the caller's list
      ts_map_read.c   reading one value - a time or a measure's number -
                      and recording a fault of the document where it is
      ts_map_zone.c   times without a zone (the spec's zone, or one the
                      document names: found before the parse), time
                      bounds, and the report's warnings

    Only ts_map*.c include this header. */

#ifndef TS_MAP_INTERNAL_H_INCLUDED
#define TS_MAP_INTERNAL_H_INCLUDED

#include "ts_map.h"
#include "ts_tz.h"

//  A document field the mapping reads: the time field and each distinct
//  measure field (one field may be both).
typedef struct {
    const char *name;           //  field name, borrowed from the map
    size_t      len;            //  its length
    bool        is_time;        //  true for the time field
    size_t      measure;        //  first measure read from it, or SIZE_MAX
} ts_map_field_t;

//  A compiled spec.
struct _ts_map_t {
    ts_map_layout_t layout;     //  rows or columns
    ts_map_time_t   unit;       //  how the time field is read
    char           *path;       //  dotted path to the rows/columns, "" root
    char           *time_field; //  name of the time field or column
    ts_strlist_t   *measures;   //  measure names, parallel to fields
    size_t         *measure_len;    //  length of each measure name
    ts_strlist_t   *fields;     //  document field holding each measure
    size_t          ncomps;     //  number of path components
    size_t         *comp_off;   //  offset of each component in path
    size_t         *comp_len;   //  length of each component
    size_t          nslots;     //  distinct fields read, time field first
    ts_map_field_t *slots;      //  nslots fields
    size_t         *measure_slot;   //  slot of each measure's field
    size_t         *slot_index; //  positional: the row index of each slot
    char           *origin;     //  the spec's origin, for messages
    const ts_tz_t  *zone;       //  zone of times without one (cached by
                                //  ts_tz); NULL: UTC
    char           *offset_field;   //  path of the document's offset, or
                                    //  NULL
    char           *zone_field; //  path of the document's zone, or NULL
    ts_strlist_t   *null_values;    //  strings meaning no value
    ts_time_bound_t time_min;   //  bounds on times
    ts_time_bound_t time_max;
    bool            drop;       //  drop points out of bounds
};

//  A time the bounds dropped (in a column of times; no time read can be
//  this).
#define TS_MAP_TIME_DROPPED INT64_MIN

//  What a JSON value is.
typedef enum {
    TS_MAP_KIND_NULL, TS_MAP_KIND_TRUE, TS_MAP_KIND_FALSE,
    TS_MAP_KIND_NUMBER, TS_MAP_KIND_STRING, TS_MAP_KIND_OBJECT,
    TS_MAP_KIND_ARRAY
} ts_map_kind_t;

//  Where the parser is.
typedef enum {
    TS_MAP_MODE_PATH,   //  walking the path to the rows or columns
    TS_MAP_MODE_ROWS,   //  in the array of rows, between rows
    TS_MAP_MODE_ROW,    //  in one row object
    TS_MAP_MODE_PROW,   //  in one positional row array
    TS_MAP_MODE_COLS,   //  in the object of columns, between columns
    TS_MAP_MODE_COLUMN, //  in one column array the mapping reads
    TS_MAP_MODE_DONE    //  read or failed: the rest is only checked
} ts_map_mode_t;

//  One field of the current row.
typedef struct {
    size_t  stamp;      //  row index + 1 once the field is set in that row
    bool    null;       //  the value was null
    bool    dropped;    //  the time was out of bounds, dropped
    int64_t ms;         //  as a time (time field)
    double  value;      //  as a value (measure fields)
} ts_map_cell_t;

//  One column of the object of columns.
typedef struct {
    bool        seen;   //  the key was met
    const char *type;   //  type of its value if not an array, else NULL
    size_t      n;      //  values read
    size_t      cap;    //  allocated values
    int64_t    *ms;     //  times (time field)
    double     *values; //  values, NaN for null (measure fields)
} ts_map_column_t;

//  State of one document's parse.
typedef struct {
    const ts_map_t  *map;
    ts_points_t     *out;
    uint16_t        *measure_index; //  each measure's index in out
    bool             indexed;   //  measure_index looked up (done at the
                                //  document's first point)
    const char      *where;     //  path, or "document" for the root
    ts_map_mode_t    mode;
    size_t           depth;     //  arrays and objects open
    size_t           level;     //  path components matched
    size_t           path_depth;    //  depth of the values looked at
    bool             pending;   //  the next value there is the one matched
    size_t           tdepth;    //  depth inside the rows array or columns
    size_t           index;     //  rows begun
    size_t           slot;      //  slot of the current key, or SIZE_MAX
    size_t           element;   //  positional: elements of the row seen
    size_t           column;    //  slot of the column being read
    ts_map_cell_t   *cells;     //  nslots cells (rows)
    ts_map_column_t *columns;   //  nslots columns (columns)
    int              fatal;     //  TS_ENOMEM or TS_EPROTO: parse cancelled
    bool             failed;    //  err holds a fault of the document
    size_t           err_index; //  its rank: 0 structure, else index + 1
    size_t           err_order; //  then 0 row, 1 time, 2 + measure
    char             err [TS_ERRLEN];
    int64_t          now_ms;    //  for bounds relative to now
    int64_t          time_lo_ms;    //  the bounds at now_ms, INT64_MIN
    int64_t          time_hi_ms;    //  and INT64_MAX where unset
    ts_map_report_t *report;    //  the caller's, or a scratch one
    const ts_tz_t   *tz;        //  the document's zone, or NULL: offset_s
    int32_t          offset_s;  //  the document's fixed offset
    const char      *no_zone;   //  why times without a zone cannot be
                                //  read (the field is missing), or NULL
    bool             iso_day_set;   //  iso_day holds a valid date
    char             iso_day [10];  //  the date of the last ISO time read
                                    //  by the quick path (YYYY-MM-DD)
    int64_t          iso_day_ms;    //  its midnight, UTC
} ts_map_state_t;

//  Records a fault of the document unless one ranked before it is held:
//  index 0 for structure, else row or column index + 1; then order 0 for
//  the row, 1 for the time, 2 + measure for a measure.
void ts_map_fail (ts_map_state_t *self, size_t index, size_t order,
                  const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Stops the parse with rc (TS_ENOMEM, or TS_EPROTO for input we refuse
//  to walk) and detail. Returns 0, which cancels the yajl parse.
int ts_map_fatal (ts_map_state_t *self, int rc, const char *detail);

//  "null", "integer", "string", ... for a detail. text/len: the number's
//  token (integer or real), else unused.
const char *ts_map_kind_name (ts_map_kind_t kind, const char *text,
                              size_t len);

//  Names a field of row or column index in loc (TS_ERRLEN bytes):
//  "hourly.time[3]" for columns, "document[3].time" for rows.
void ts_map_loc (const ts_map_state_t *self, size_t slot, size_t index,
                 char *loc);

//  Reads the time value of slot at row or column index into *ms, as the
//  spec's unit says. On a fault records it and returns -1.
int ts_map_read_time (ts_map_state_t *self, size_t slot, size_t index,
                      ts_map_kind_t kind, const char *text, size_t len,
                      int64_t *ms);

//  Reads a measure value of slot at row or column index; null sets
//  *null. On a fault records it and returns -1.
int ts_map_read_value (ts_map_state_t *self, size_t slot, size_t index,
                       ts_map_kind_t kind, const char *text, size_t len,
                       double *value, bool *null);

//  ts_map_zone.c: finds the zone of the document's times without one
//  (the spec's, or the one offset_field or zone_field names) before the
//  parse. Returns 0; a field that is missing is not an error here (it
//  sets no_zone, and the first time needing it fails), one of the wrong
//  type or an unknown zone is: -1 with the fault recorded.
int ts_map_zone_find (ts_map_state_t *self, const char *doc, size_t len);

//  Reads an ISO 8601 time: with a zone as it says, without in the
//  document's zone. Returns 0 and sets *ms, TS_EINVAL if it does not
//  parse, or TS_ENOTFOUND if it has no zone and the document none
//  (self->no_zone says why).
int ts_map_zone_time (ts_map_state_t *self, const char *text, size_t len,
                      int64_t *ms);

//  Checks a time read from slot at index (text/len as in the document)
//  against the bounds. Returns 0 if within; 1 if out and dropped (the
//  warning recorded); -1 if out and the document fails (fault recorded).
int ts_map_zone_bounds (ts_map_state_t *self, size_t slot, size_t index,
                        ts_map_kind_t kind, const char *text, size_t len,
                        int64_t ms);

//  Records a warning: counted, its text kept while there is room.
void ts_map_warn (ts_map_state_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
