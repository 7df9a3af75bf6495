/*  ts_map - turns an upstream JSON document into points, as described by
    upstream.format.* (see ts_map.h for the two layouts).

    The document is read in one pass with yajl's event parser; no tree is
    built. A small state machine follows the dotted path from the root,
    then reads what it finds there:

    - rows: the time and measure fields of a row are kept in one cell per
      field until the row's object closes (fields come in any order), then
      the row's points are appended in measure order.
    - columns: the time column and each measure column are collected into
      arrays as they stream in (in any order; a null value is kept as NaN,
      which no accepted number can be), and zipped into points when the
      object of columns closes, after the length checks.

    Numbers are read from their text: integer epoch times exactly, and
    everything else exactly as strtod reads it (decimals of up to 15
    digits by Clinger's exact fast path, the rest by strtod). Per point nothing is allocated beyond the growth of the
    caller's list and of the column arrays.

    Every failure names where it happened, in the document's own terms
    ("hourly.time[3]: ..."), because that text ends up in a worker log next
    to a failed job and is all an operator has to fix a format config.
    When a document has several faults, the one reported is the one a
    row-by-row reading meets first: structure (path, container types,
    missing or unequal columns) before values, then by row index, the
    time before the measures, measures in config order. A syntax error
    anywhere wins over all of those, so parsing goes on to the end after
    a fault. Where a key repeats in one object, its first occurrence
    counts. Numbers and strings the mapping does not read are only checked
    for syntax. Points are appended to the caller's list; on any error the
    list is cut back to its entry length, so a half-read document is never
    stored.

    The caller bounds the document size (upstream.max_body_bytes); this
    module does no I/O and reads no clock. */

#include "ts_map.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_version.h>

typedef enum { S_LAYOUT_ROWS, S_LAYOUT_COLUMNS } s_layout_t;
typedef enum { S_UNIT_MS, S_UNIT_S, S_UNIT_ISO } s_unit_t;

//  A document field the mapping reads: the time field and each distinct
//  measure field (one field may be both).
typedef struct {
    const char *name;           //  field name, borrowed from the map
    size_t      len;            //  its length
    bool        is_time;        //  true for the time field
    size_t      measure;        //  first measure read from it, or SIZE_MAX
} s_field_t;

struct _ts_map_t {
    s_layout_t    layout;       //  rows or columns
    s_unit_t      unit;         //  how the time field is read
    char         *path;         //  dotted path to the rows/columns, "" = root
    char         *time_field;   //  name of the time field or column
    ts_strlist_t *measures;     //  measure names, parallel to fields
    ts_strlist_t *fields;       //  document field holding each measure
    size_t        ncomps;       //  number of path components
    size_t       *comp_off;     //  offset of each component in path
    size_t       *comp_len;     //  length of each component
    size_t        nslots;       //  distinct fields read, time field first
    s_field_t    *slots;        //  nslots fields
    size_t       *measure_slot; //  slot of each measure's field
};

//  Largest |ms| we accept, about 292 million years: keeps s -> ms
//  conversion and llround clear of int64 overflow.
#define S_TIME_LIMIT_MS 9.0e18

//  Longest numeric string we try to read as a number.
#define S_NUMTEXT_MAX 64

//  Longest JSON number token we read (17 significant digits and an
//  exponent need about 25).
#define S_NUMTOKEN_MAX 128

//  Deepest nesting of arrays and objects we accept.
#define S_DEPTH_MAX 1024

//  Quoted strings in error details are cut to this many bytes.
#define S_QUOTE_MAX 40

//  First allocation of a column array, in values.
#define S_COLUMN_MIN 256

static int
s_setup_path (ts_map_t *self)
{
    size_t n = 0;
    for (const char *p = self->path; *p; ) {
        const char *dot = strchr (p, '.');
        p = dot? dot + 1: p + strlen (p);
        n++;
    }
    self->comp_off = calloc (n + 1, sizeof (size_t));
    self->comp_len = calloc (n + 1, sizeof (size_t));
    if (!self->comp_off || !self->comp_len)
        return TS_ENOMEM;
    //  Same walk as a lookup would do: "a.b" is a then b, a trailing dot
    //  ends the path, an empty component matches no key.
    const char *p = self->path;
    while (*p) {
        const char *dot = strchr (p, '.');
        size_t len = dot? (size_t) (dot - p): strlen (p);
        self->comp_off [self->ncomps] = (size_t) (p - self->path);
        self->comp_len [self->ncomps] = len;
        self->ncomps++;
        p += len;
        if (*p == '.')
            p++;
    }
    return 0;
}

static int
s_setup_slots (ts_map_t *self)
{
    size_t nm = self->measures->n;
    self->slots = calloc (nm + 1, sizeof (s_field_t));
    self->measure_slot = calloc (nm, sizeof (size_t));
    if (!self->slots || !self->measure_slot)
        return TS_ENOMEM;
    self->slots [0].name = self->time_field;
    self->slots [0].len = strlen (self->time_field);
    self->slots [0].is_time = true;
    self->slots [0].measure = SIZE_MAX;
    self->nslots = 1;
    for (size_t m = 0; m < nm; m++) {
        const char *field = self->fields->items [m];
        size_t slot = 0;
        while (slot < self->nslots && strcmp (self->slots [slot].name, field))
            slot++;
        if (slot == self->nslots) {
            self->slots [slot].name = field;
            self->slots [slot].len = strlen (field);
            self->slots [slot].measure = SIZE_MAX;
            self->nslots++;
        }
        if (self->slots [slot].measure == SIZE_MAX)
            self->slots [slot].measure = m;
        self->measure_slot [m] = slot;
    }
    return 0;
}

ts_map_t *
ts_map_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    ts_map_t *self = calloc (1, sizeof (ts_map_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    const char *layout = ts_config_str (cfg, "upstream.format.layout");
    if (strcmp (layout, "rows") == 0)
        self->layout = S_LAYOUT_ROWS;
    else
    if (strcmp (layout, "columns") == 0)
        self->layout = S_LAYOUT_COLUMNS;
    else {
        ts_errf (err, "upstream.format.layout: unknown layout '%s'", layout);
        goto failed;
    }
    const char *unit = ts_config_str (cfg, "upstream.format.time_unit");
    if (strcmp (unit, "ms") == 0)
        self->unit = S_UNIT_MS;
    else
    if (strcmp (unit, "s") == 0)
        self->unit = S_UNIT_S;
    else
    if (strcmp (unit, "iso8601") == 0)
        self->unit = S_UNIT_ISO;
    else {
        ts_errf (err, "upstream.format.time_unit: unknown unit '%s'", unit);
        goto failed;
    }
    const char *time_field = ts_config_str (cfg, "upstream.format.time_field");
    if (!time_field || !*time_field) {
        ts_errf (err, "upstream.format.time_field: must not be empty");
        goto failed;
    }
    const char *path = ts_config_str (cfg, "upstream.format.path");
    self->path = strdup (path? path: "");
    self->time_field = strdup (time_field);
    self->measures = ts_strlist_new ();
    self->fields = ts_strlist_new ();
    if (!self->path || !self->time_field || !self->measures || !self->fields) {
        ts_errf (err, "out of memory");
        goto failed;
    }
    const ts_strlist_t *names = NULL;
    const ts_strlist_t *values = NULL;
    ts_config_map (cfg, "upstream.format.measures", &names, &values);
    if (!names || !values || names->n == 0 || names->n != values->n) {
        ts_errf (err, "upstream.format.measures: needs at least one measure");
        goto failed;
    }
    for (size_t i = 0; i < names->n; i++) {
        if (!ts_name_valid (names->items [i])) {
            char detail [TS_ERRLEN];
            ts_name_errf (detail, "measure", names->items [i],
                          strlen (names->items [i]));
            ts_errf (err, "upstream.format.measures: %s", detail);
            goto failed;
        }
        if (!*values->items [i]) {
            ts_errf (err, "upstream.format.measures: measure '%s' has an empty field",
                     names->items [i]);
            goto failed;
        }
        if (ts_strlist_append (self->measures, names->items [i])
        ||  ts_strlist_append (self->fields, values->items [i])) {
            ts_errf (err, "out of memory");
            goto failed;
        }
    }
    if (s_setup_path (self) || s_setup_slots (self)) {
        ts_errf (err, "out of memory");
        goto failed;
    }
    return self;

failed:
    ts_map_destroy (&self);
    return NULL;
}

void
ts_map_destroy (ts_map_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_map_t *self = *self_p;
        free (self->path);
        free (self->time_field);
        ts_strlist_destroy (&self->measures);
        ts_strlist_destroy (&self->fields);
        free (self->comp_off);
        free (self->comp_len);
        free (self->slots);
        free (self->measure_slot);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Parse state

typedef enum {
    S_KIND_NULL, S_KIND_TRUE, S_KIND_FALSE, S_KIND_NUMBER, S_KIND_STRING,
    S_KIND_OBJECT, S_KIND_ARRAY
} s_kind_t;

typedef enum {
    S_MODE_PATH,        //  walking the path to the rows or columns
    S_MODE_ROWS,        //  in the array of rows, between rows
    S_MODE_ROW,         //  in one row object
    S_MODE_COLS,        //  in the object of columns, between columns
    S_MODE_COLUMN,      //  in one column array the mapping reads
    S_MODE_DONE         //  read or failed: the rest is only checked
} s_mode_t;

//  One field of the current row.
typedef struct {
    size_t  stamp;      //  row index + 1 once the field is set in that row
    bool    null;       //  the value was null
    int64_t ms;         //  as a time (time field)
    double  value;      //  as a value (measure fields)
} s_cell_t;

//  One column of the object of columns.
typedef struct {
    bool        seen;   //  the key was met
    const char *type;   //  type of its value if not an array, else NULL
    size_t      n;      //  values read
    size_t      cap;    //  allocated values
    int64_t    *ms;     //  times (time field)
    double     *values; //  values, NaN for null (measure fields)
} s_column_t;

typedef struct {
    const ts_map_t *map;
    ts_points_t    *out;
    const char     *where;      //  path, or "document" for the root
    s_mode_t        mode;
    size_t          depth;      //  arrays and objects open
    size_t          level;      //  path components matched
    size_t          path_depth; //  depth of the values being looked at
    bool            pending;    //  the next value there is the one matched
    size_t          tdepth;     //  depth inside the rows array or columns
    size_t          index;      //  rows begun
    size_t          slot;       //  slot of the current key, or SIZE_MAX
    size_t          column;     //  slot of the column being read
    s_cell_t       *cells;      //  nslots cells (rows)
    s_column_t     *columns;    //  nslots columns (columns)
    int             fatal;      //  TS_ENOMEM or TS_EPROTO: parse cancelled
    bool            failed;     //  err holds a fault of the document
    size_t          err_index;  //  its rank: 0 for structure, else index + 1
    size_t          err_order;  //  then 0 row, 1 time, 2 + measure
    char            err [TS_ERRLEN];
} s_parse_t;

//  Records a fault of the document unless one ranked before it is held.
static void
s_fail (s_parse_t *self, size_t index, size_t order, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_fail (s_parse_t *self, size_t index, size_t order, const char *fmt, ...)
{
    if (self->failed
    && (index > self->err_index
    ||  (index == self->err_index && order >= self->err_order)))
        return;
    self->failed = true;
    self->err_index = index;
    self->err_order = order;
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->err, sizeof (self->err), fmt, args);
    va_end (args);
}

//  Stops the parse: out of memory, or input we refuse to walk.
static int
s_fatal (s_parse_t *self, int rc, const char *detail)
{
    self->fatal = rc;
    snprintf (self->err, sizeof (self->err), "%s", detail);
    return 0;
}

static bool
s_is_integer (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text [i] == '.' || text [i] == 'e' || text [i] == 'E')
            return false;
    return true;
}

static const char *
s_kind_name (s_kind_t kind, const char *text, size_t len)
{
    switch (kind) {
        case S_KIND_NULL:   return "null";
        case S_KIND_TRUE:   return "true";
        case S_KIND_FALSE:  return "false";
        case S_KIND_NUMBER: return s_is_integer (text, len)? "integer": "real";
        case S_KIND_STRING: return "string";
        case S_KIND_OBJECT: return "object";
        case S_KIND_ARRAY:  return "array";
    }
    return "unknown";
}

//  Bytes of text to quote in a detail: up to S_QUOTE_MAX, never past a NUL.
static int
s_quote_len (const char *text, size_t len)
{
    const char *nul = memchr (text, 0, len);
    if (nul)
        len = (size_t) (nul - text);
    return (int) (len < S_QUOTE_MAX? len: S_QUOTE_MAX);
}

//  Names a field of row or column index: "hourly.time[3]" for columns,
//  "document[3].time" for rows.
static void
s_loc (const s_parse_t *self, size_t slot, size_t index, char *loc)
{
    const char *name = self->map->slots [slot].name;
    if (self->map->layout == S_LAYOUT_ROWS)
        snprintf (loc, TS_ERRLEN, "%s[%zu].%s", self->where, index, name);
    else
        snprintf (loc, TS_ERRLEN, "%s.%s[%zu]", self->where, name, index);
}

//  Reads a decimal number from text (len bytes): optional white space
//  around, sign, digits, fraction, exponent. No hex, no inf/nan.
//  Returns 0 and sets *value, or TS_EINVAL.
static int
s_number_from_text (const char *text, size_t len, double *value)
{
    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text [len - 1] == ' ' || text [len - 1] == '\t'))
        len--;
    if (len == 0 || len >= S_NUMTEXT_MAX)
        return TS_EINVAL;
    char buf [S_NUMTEXT_MAX];
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (c >= '0' && c <= '9')
            digit = true;
        else
        if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return TS_EINVAL;
        buf [i] = c;
    }
    buf [len] = 0;
    if (!digit)
        return TS_EINVAL;
    char *end = NULL;
    errno = 0;
    double d = strtod (buf, &end);
    if (end != buf + len || errno == ERANGE || !isfinite (d))
        return TS_EINVAL;
    *value = d;
    return 0;
}

//  Exact powers of ten as doubles, 10^0 to 10^22.
static const double s_pow10 [] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

//  The fast path of s_number_from_token for the numbers series hold: a
//  JSON number without exponent, -?digits(.digits)?, with at most 15
//  significant digits and 22 decimals. Its digits and 10^decimals are
//  then exact doubles, so their IEEE quotient is the correctly rounded
//  value of the decimal, which is what strtod returns (Clinger's fast
//  path), at a fraction of strtod's cost. Returns false where it does not
//  apply; the caller then uses strtod.
static bool
s_fast_decimal (const char *text, size_t len, double *value)
{
    size_t i = 0;
    bool negative = len > 0 && text [0] == '-';
    if (negative)
        i++;
    uint64_t digits = 0;
    int significant = 0, decimals = 0;
    bool dot = false, any = false;
    for (; i < len; i++) {
        char c = text [i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (dot)
                decimals++;
            if (digits == 0 && c == '0')
                continue;               //  a leading zero
            if (++significant > 15)
                return false;
            digits = digits * 10 + (uint64_t) (c - '0');
        }
        else
        if (c == '.' && !dot)
            dot = true;
        else
            return false;               //  an exponent
    }
    if (!any || decimals > 22)
        return false;
    double d = (double) digits / s_pow10 [decimals];
    *value = negative? -d: d;
    return true;
}

//  Reads a JSON number token (valid JSON syntax, len bytes) as strtod
//  would. Returns 0, TS_ETOOBIG if the token is over S_NUMTOKEN_MAX
//  bytes, or TS_EINVAL if its magnitude is beyond a double.
static int
s_number_from_token (const char *text, size_t len, double *value)
{
    if (s_fast_decimal (text, len, value))
        return 0;
    if (len > S_NUMTOKEN_MAX)
        return TS_ETOOBIG;
    char buf [S_NUMTOKEN_MAX + 1];
    memcpy (buf, text, len);
    buf [len] = 0;
    double d = strtod (buf, NULL);
    if (!isfinite (d))
        return TS_EINVAL;
    *value = d;
    return 0;
}

//  Reads a time value of the given slot and row or column index. On a
//  fault records it and returns -1.
static int
s_read_time (s_parse_t *self, size_t slot, size_t index, s_kind_t kind,
             const char *text, size_t len, int64_t *ms)
{
    const ts_map_t *map = self->map;
    char loc [TS_ERRLEN];
    if (kind == S_KIND_NULL) {
        s_loc (self, slot, index, loc);
        s_fail (self, index + 1, 1, "%s: time is null", loc);
        return -1;
    }
    if (map->unit == S_UNIT_ISO) {
        if (kind == S_KIND_STRING && ts_time_parse_iso (text, len, ms) == 0)
            return 0;
        s_loc (self, slot, index, loc);
        if (kind == S_KIND_STRING)
            s_fail (self, index + 1, 1, "%s: bad ISO 8601 time '%.*s'",
                    loc, s_quote_len (text, len), text);
        else
            s_fail (self, index + 1, 1, "%s: expected an ISO 8601 string, got %s",
                    loc, s_kind_name (kind, text, len));
        return -1;
    }
    //  Epoch numbers: take integers exactly, reals and strings via double
    if (kind == S_KIND_NUMBER && s_is_integer (text, len)) {
        char buf [S_NUMTOKEN_MAX + 1];
        long long n = 0;
        bool ok = len <= S_NUMTOKEN_MAX;
        bool negative = len > 0 && text [0] == '-';
        if (ok && len - negative <= 18) {
            //  Up to 18 digits cannot overflow: no need for strtoll.
            for (size_t i = negative; i < len; i++)
                n = n * 10 + (text [i] - '0');
            if (negative)
                n = -n;
        }
        else
        if (ok) {
            memcpy (buf, text, len);
            buf [len] = 0;
            errno = 0;
            n = strtoll (buf, NULL, 10);
            ok = errno == 0;
        }
        double limit = map->unit == S_UNIT_S? S_TIME_LIMIT_MS / 1000: S_TIME_LIMIT_MS;
        if (ok && (double) n <= limit && (double) n >= -limit) {
            *ms = map->unit == S_UNIT_S? (int64_t) n * 1000: (int64_t) n;
            return 0;
        }
        s_loc (self, slot, index, loc);
        s_fail (self, index + 1, 1, "%s: time %.*s out of range",
                loc, s_quote_len (text, len), text);
        return -1;
    }
    double d = 0;
    int rc = TS_EINVAL;
    if (kind == S_KIND_NUMBER)
        rc = s_number_from_token (text, len, &d);
    else
    if (kind == S_KIND_STRING)
        rc = s_number_from_text (text, len, &d);
    if (rc == 0 && map->unit == S_UNIT_S)
        d *= 1000;
    if (rc == 0 && fabs (d) <= S_TIME_LIMIT_MS) {
        *ms = (int64_t) llround (d);
        return 0;
    }
    s_loc (self, slot, index, loc);
    if (kind == S_KIND_STRING)
        s_fail (self, index + 1, 1, "%s: expected an epoch number, got string '%.*s'",
                loc, s_quote_len (text, len), text);
    else
    if (kind != S_KIND_NUMBER)
        s_fail (self, index + 1, 1, "%s: expected an epoch number, got %s",
                loc, s_kind_name (kind, text, len));
    else
    if (rc == TS_ETOOBIG)
        s_fail (self, index + 1, 1, "%s: number too long", loc);
    else
        s_fail (self, index + 1, 1, "%s: time out of range", loc);
    return -1;
}

//  Reads a measure value of the given slot and row or column index; null
//  sets *null. On a fault records it and returns -1.
static int
s_read_value (s_parse_t *self, size_t slot, size_t index, s_kind_t kind,
              const char *text, size_t len, double *value, bool *null)
{
    *null = kind == S_KIND_NULL;
    if (*null)
        return 0;
    int rc = TS_EINVAL;
    if (kind == S_KIND_NUMBER)
        rc = s_number_from_token (text, len, value);
    else
    if (kind == S_KIND_STRING)
        rc = s_number_from_text (text, len, value);
    if (rc == 0)
        return 0;
    char loc [TS_ERRLEN];
    s_loc (self, slot, index, loc);
    size_t order = 2 + self->map->slots [slot].measure;
    if (kind == S_KIND_STRING)
        s_fail (self, index + 1, order, "%s: expected a number, got string '%.*s'",
                loc, s_quote_len (text, len), text);
    else
    if (kind != S_KIND_NUMBER)
        s_fail (self, index + 1, order, "%s: expected a number, got %s",
                loc, s_kind_name (kind, text, len));
    else
    if (rc == TS_ETOOBIG)
        s_fail (self, index + 1, order, "%s: number too long", loc);
    else
        s_fail (self, index + 1, order, "%s: number %.*s out of range",
                loc, s_quote_len (text, len), text);
    return -1;
}

//  Slot of a key, or SIZE_MAX if the mapping does not read it.
static size_t
s_slot_of (const ts_map_t *map, const char *key, size_t len)
{
    for (size_t slot = 0; slot < map->nslots; slot++)
        if (map->slots [slot].len == len
        &&  memcmp (map->slots [slot].name, key, len) == 0)
            return slot;
    return SIZE_MAX;
}

//  Appends a point; on failure stops the parse.
static int
s_append (s_parse_t *self, int64_t ms, size_t measure, double value)
{
    int rc = ts_points_append (self->out, ms,
                               self->map->measures->items [measure], value);
    if (rc != 0) {
        char detail [TS_ERRLEN];
        snprintf (detail, sizeof (detail), "cannot append point: %s",
                  ts_strerror (rc));
        return s_fatal (self, rc == TS_ENOMEM? TS_ENOMEM: TS_EPROTO, detail);
    }
    return 1;
}

//  ---------------------------------------------------------------------
//  Path

static void
s_path_not_found (s_parse_t *self)
{
    const ts_map_t *map = self->map;
    s_fail (self, 0, 0, "path '%.*s' not found",
            (int) (map->comp_off [self->level] + map->comp_len [self->level]),
            map->path);
    self->mode = S_MODE_DONE;
}

static void
s_path_key (s_parse_t *self, const char *key, size_t len)
{
    const ts_map_t *map = self->map;
    size_t comp = self->level;
    if (map->comp_len [comp] > 0 && map->comp_len [comp] == len
    &&  memcmp (map->path + map->comp_off [comp], key, len) == 0) {
        self->pending = true;
        self->level++;
    }
}

//  A value at the level being looked at. Returns true if it is the target.
static bool
s_path_value (s_parse_t *self, s_kind_t kind)
{
    if (!self->pending)
        return false;
    self->pending = false;
    if (self->level == self->map->ncomps)
        return true;
    if (kind == S_KIND_OBJECT)
        self->path_depth = self->depth + 1;
    else
        s_path_not_found (self);
    return false;
}

//  ---------------------------------------------------------------------
//  Rows

static int
s_row_value (s_parse_t *self, s_kind_t kind, const char *text, size_t len)
{
    size_t slot = self->slot;
    self->slot = SIZE_MAX;
    s_cell_t *cell = &self->cells [slot];
    size_t row = self->index - 1;
    if (cell->stamp == self->index)
        return 1;                       //  repeated key: first one counts
    cell->stamp = self->index;
    const s_field_t *field = &self->map->slots [slot];
    if (field->is_time)
        s_read_time (self, slot, row, kind, text, len, &cell->ms);
    if (field->measure != SIZE_MAX)
        s_read_value (self, slot, row, kind, text, len, &cell->value, &cell->null);
    return 1;
}

static int
s_row_end (s_parse_t *self)
{
    const ts_map_t *map = self->map;
    size_t row = self->index - 1;
    self->mode = S_MODE_ROWS;
    if (self->cells [0].stamp != self->index) {
        char loc [TS_ERRLEN];
        s_loc (self, 0, row, loc);
        s_fail (self, row + 1, 1, "%s: missing", loc);
    }
    if (self->failed) {
        self->mode = S_MODE_DONE;       //  later rows cannot rank before
        return 1;
    }
    int64_t ms = self->cells [0].ms;
    for (size_t m = 0; m < map->measures->n; m++) {
        const s_cell_t *cell = &self->cells [map->measure_slot [m]];
        if (cell->stamp == self->index && !cell->null
        &&  !s_append (self, ms, m, cell->value))
            return 0;
    }
    return 1;
}

//  ---------------------------------------------------------------------
//  Columns

static int
s_column_value (s_parse_t *self, s_kind_t kind, const char *text, size_t len)
{
    size_t slot = self->column;
    s_column_t *column = &self->columns [slot];
    const s_field_t *field = &self->map->slots [slot];
    if (column->n == column->cap) {
        size_t cap = column->cap? column->cap * 2: S_COLUMN_MIN;
        if (field->is_time) {
            int64_t *ms = realloc (column->ms, cap * sizeof (int64_t));
            if (!ms)
                return s_fatal (self, TS_ENOMEM, "out of memory");
            column->ms = ms;
        }
        if (field->measure != SIZE_MAX) {
            double *values = realloc (column->values, cap * sizeof (double));
            if (!values)
                return s_fatal (self, TS_ENOMEM, "out of memory");
            column->values = values;
        }
        column->cap = cap;
    }
    size_t i = column->n++;
    if (field->is_time
    &&  s_read_time (self, slot, i, kind, text, len, &column->ms [i]) != 0)
        column->ms [i] = 0;
    if (field->measure != SIZE_MAX) {
        bool null = false;
        if (s_read_value (self, slot, i, kind, text, len,
                          &column->values [i], &null) != 0 || null)
            column->values [i] = NAN;
    }
    return 1;
}

static void
s_column_begin (s_parse_t *self, s_kind_t kind, const char *text, size_t len)
{
    size_t slot = self->slot;
    self->slot = SIZE_MAX;
    s_column_t *column = &self->columns [slot];
    if (column->seen)
        return;                         //  repeated key: first one counts
    column->seen = true;
    if (kind == S_KIND_ARRAY) {
        self->mode = S_MODE_COLUMN;
        self->column = slot;
    }
    else
        column->type = s_kind_name (kind, text, len);
}

//  Checks a column is there and is an array; records the fault if not.
static bool
s_column_ok (s_parse_t *self, size_t slot)
{
    const s_column_t *column = &self->columns [slot];
    const char *name = self->map->slots [slot].name;
    if (!column->seen)
        s_fail (self, 0, 0, "%s: column '%s' not found", self->where, name);
    else
    if (column->type)
        s_fail (self, 0, 0, "%s.%s: expected an array, got %s",
                self->where, name, column->type);
    return column->seen && !column->type;
}

//  The object of columns closed: check the columns, then zip them.
static int
s_columns_end (s_parse_t *self)
{
    const ts_map_t *map = self->map;
    size_t nm = map->measures->n;
    self->mode = S_MODE_DONE;
    if (!s_column_ok (self, 0))
        return 1;
    size_t n = self->columns [0].n;
    for (size_t m = 0; m < nm; m++) {
        size_t slot = map->measure_slot [m];
        if (!s_column_ok (self, slot))
            return 1;
        if (self->columns [slot].n != n) {
            s_fail (self, 0, 0, "%s: columns '%s' (%zu) and '%s' (%zu) differ in length",
                    self->where, map->time_field, n, map->fields->items [m],
                    self->columns [slot].n);
            return 1;
        }
    }
    if (self->failed)
        return 1;
    size_t count = 0;
    for (size_t m = 0; m < nm; m++) {
        const double *values = self->columns [map->measure_slot [m]].values;
        for (size_t i = 0; i < n; i++)
            count += !isnan (values [i]);
    }
    if (ts_points_reserve (self->out, self->out->n + count))
        return s_fatal (self, TS_ENOMEM, "cannot append point: out of memory");
    const int64_t *ms = self->columns [0].ms;
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < nm; m++) {
            double value = self->columns [map->measure_slot [m]].values [i];
            if (!isnan (value) && !s_append (self, ms [i], m, value))
                return 0;
        }
    return 1;
}

//  ---------------------------------------------------------------------
//  Events

//  The rows array or the columns object (or something else) was reached.
static void
s_target (s_parse_t *self, s_kind_t kind, const char *text, size_t len)
{
    if (self->map->layout == S_LAYOUT_ROWS) {
        if (kind == S_KIND_ARRAY) {
            self->mode = S_MODE_ROWS;
            self->tdepth = self->depth + 1;
            return;
        }
        s_fail (self, 0, 0, "%s: expected an array of rows, got %s",
                self->where, s_kind_name (kind, text, len));
    }
    else {
        if (kind == S_KIND_OBJECT) {
            self->mode = S_MODE_COLS;
            self->tdepth = self->depth + 1;
            self->slot = SIZE_MAX;
            return;
        }
        s_fail (self, 0, 0, "%s: expected an object of columns, got %s",
                self->where, s_kind_name (kind, text, len));
    }
    self->mode = S_MODE_DONE;
}

//  Any value, or the start of an array or object, at the current depth.
static int
s_value (s_parse_t *self, s_kind_t kind, const char *text, size_t len)
{
    switch (self->mode) {
        case S_MODE_PATH:
            if (self->depth == self->path_depth && s_path_value (self, kind))
                s_target (self, kind, text, len);
            break;
        case S_MODE_ROWS:
            if (self->depth == self->tdepth) {
                size_t row = self->index++;
                if (kind == S_KIND_OBJECT) {
                    self->mode = S_MODE_ROW;
                    self->slot = SIZE_MAX;
                }
                else {
                    s_fail (self, row + 1, 0, "%s[%zu]: expected an object, got %s",
                            self->where, row, s_kind_name (kind, text, len));
                    self->mode = S_MODE_DONE;
                }
            }
            break;
        case S_MODE_ROW:
            if (self->depth == self->tdepth + 1 && self->slot != SIZE_MAX)
                return s_row_value (self, kind, text, len);
            break;
        case S_MODE_COLS:
            if (self->depth == self->tdepth && self->slot != SIZE_MAX)
                s_column_begin (self, kind, text, len);
            break;
        case S_MODE_COLUMN:
            if (self->depth == self->tdepth + 1)
                return s_column_value (self, kind, text, len);
            break;
        case S_MODE_DONE:
            break;
    }
    return 1;
}

//  An array or object closed; depth is already the enclosing one.
static int
s_close (s_parse_t *self)
{
    switch (self->mode) {
        case S_MODE_PATH:
            if (self->path_depth > 0 && self->depth == self->path_depth - 1)
                s_path_not_found (self);
            break;
        case S_MODE_ROWS:
            if (self->depth == self->tdepth - 1)
                self->mode = S_MODE_DONE;
            break;
        case S_MODE_ROW:
            if (self->depth == self->tdepth)
                return s_row_end (self);
            break;
        case S_MODE_COLUMN:
            if (self->depth == self->tdepth)
                self->mode = S_MODE_COLS;
            break;
        case S_MODE_COLS:
            if (self->depth == self->tdepth - 1)
                return s_columns_end (self);
            break;
        case S_MODE_DONE:
            break;
    }
    return 1;
}

static int
s_on_key (void *ctx, const unsigned char *key, size_t len)
{
    s_parse_t *self = ctx;
    const char *text = (const char *) key;
    switch (self->mode) {
        case S_MODE_PATH:
            if (self->depth == self->path_depth)
                s_path_key (self, text, len);
            break;
        case S_MODE_ROW:
            if (self->depth == self->tdepth + 1)
                self->slot = s_slot_of (self->map, text, len);
            break;
        case S_MODE_COLS:
            if (self->depth == self->tdepth)
                self->slot = s_slot_of (self->map, text, len);
            break;
        default:
            break;
    }
    return 1;
}

static int
s_on_null (void *ctx)
{
    return s_value (ctx, S_KIND_NULL, NULL, 0);
}

static int
s_on_boolean (void *ctx, int value)
{
    return s_value (ctx, value? S_KIND_TRUE: S_KIND_FALSE, NULL, 0);
}

static int
s_on_number (void *ctx, const char *text, size_t len)
{
    return s_value (ctx, S_KIND_NUMBER, text, len);
}

static int
s_on_string (void *ctx, const unsigned char *text, size_t len)
{
    return s_value (ctx, S_KIND_STRING, (const char *) text, len);
}

static int
s_open (s_parse_t *self, s_kind_t kind)
{
    if (!s_value (self, kind, NULL, 0))
        return 0;
    if (++self->depth > S_DEPTH_MAX) {
        char detail [TS_ERRLEN];
        snprintf (detail, sizeof (detail),
                  "not JSON: arrays and objects nested over %d deep",
                  S_DEPTH_MAX);
        return s_fatal (self, TS_EPROTO, detail);
    }
    return 1;
}

static int
s_on_start_map (void *ctx)
{
    return s_open (ctx, S_KIND_OBJECT);
}

static int
s_on_start_array (void *ctx)
{
    return s_open (ctx, S_KIND_ARRAY);
}

static int
s_on_end (void *ctx)
{
    s_parse_t *self = ctx;
    self->depth--;
    return s_close (self);
}

static const yajl_callbacks s_callbacks = {
    .yajl_null        = s_on_null,
    .yajl_boolean     = s_on_boolean,
    .yajl_number      = s_on_number,
    .yajl_string      = s_on_string,
    .yajl_start_map   = s_on_start_map,
    .yajl_map_key     = s_on_key,
    .yajl_end_map     = s_on_end,
    .yajl_start_array = s_on_start_array,
    .yajl_end_array   = s_on_end
};

//  Names a syntax error, with line and column of where it was found.
static void
s_syntax_error (yajl_handle parser, const char *doc, size_t len,
                size_t offset, char *err)
{
    unsigned char *text = yajl_get_error (parser, 0, NULL, 0);
    char what [TS_ERRLEN] = "invalid JSON";
    if (text) {
        snprintf (what, sizeof (what), "%s", (const char *) text);
        yajl_free_error (parser, text);
    }
    size_t end = strlen (what);
    while (end > 0 && (what [end - 1] == '\n' || what [end - 1] == ' '
                   ||  what [end - 1] == '.'))
        what [--end] = 0;
    //  Position of the last byte read, as a text editor counts it
    if (offset > len)
        offset = len;
    size_t line = 1, column = 0;
    for (size_t i = 0; i < offset; i++) {
        if (doc [i] == '\n' && i + 1 < offset) {
            line++;
            column = 0;
        }
        else
            column++;
    }
    ts_errf (err, "not JSON: %s at line %zu column %zu", what, line, column);
}

int
ts_map_parse (const ts_map_t *self, const char *doc, size_t len,
              ts_points_t *out, char *err)
{
    assert (self);
    assert (out);
    if (!doc) {
        doc = "";
        len = 0;
    }
    size_t entry_n = out->n;
    s_parse_t parse = {
        .map = self,
        .out = out,
        .where = *self->path? self->path: "document",
        .mode = S_MODE_PATH,
        .pending = true,
        .slot = SIZE_MAX
    };
    int rc = 0;
    yajl_handle parser = NULL;
    if (self->layout == S_LAYOUT_ROWS)
        parse.cells = calloc (self->nslots, sizeof (s_cell_t));
    else
        parse.columns = calloc (self->nslots, sizeof (s_column_t));
    if (parse.cells || parse.columns)
        parser = yajl_alloc (&s_callbacks, NULL, &parse);
    if (!parser) {
        ts_errf (err, "out of memory");
        rc = TS_ENOMEM;
        goto done;
    }
    yajl_status status = yajl_parse (parser, (const unsigned char *) doc, len);
    size_t offset = status == yajl_status_error
                  ? yajl_get_bytes_consumed (parser): len;
    if (status == yajl_status_ok)
        status = yajl_complete_parse (parser);
    if (status == yajl_status_client_canceled) {
        ts_errf (err, "%s", parse.err);
        rc = parse.fatal;
    }
    else
    if (status != yajl_status_ok) {
        s_syntax_error (parser, doc, len, offset, err);
        rc = TS_EPROTO;
    }
    else
    if (parse.failed) {
        ts_errf (err, "%s", parse.err);
        rc = TS_EPROTO;
    }
    else
    if (parse.mode != S_MODE_DONE) {
        //  Cannot happen with complete JSON; kept as a guard
        ts_errf (err, "path '%s' not found", self->path);
        rc = TS_EPROTO;
    }
done:
    if (parser)
        yajl_free (parser);
    if (parse.columns)
        for (size_t slot = 0; slot < self->nslots; slot++) {
            free (parse.columns [slot].ms);
            free (parse.columns [slot].values);
        }
    free (parse.columns);
    free (parse.cells);
    if (rc != 0)
        out->n = entry_n;
    return rc;
}

const char *
ts_map_libraries (void)
{
    static char text [32];
    if (!*text) {
        int v = yajl_version ();
        snprintf (text, sizeof text, "yajl %d.%d.%d", v / 10000,
                  v / 100 % 100, v % 100);
    }
    return text;
}
