/*  ts_map_parse - the event parser of ts_map: one document to points
    (see ts_map.h for the three layouts).

    The document is read in one pass with yajl's event parser; no tree is
    built. A small state machine follows the dotted path from the root,
    then reads what it finds there:

    - rows: the time and measure fields of a row are kept in one cell per
      field until the row's object closes (fields come in any order), then
      the row's points are appended in measure order. Positional rows
      are read the same way, an element's index standing for its key;
      there a measure missing from a row is a fault (a short row means
      the indexes are wrong), where rows of objects just lack the point.
    - columns: the time column and each measure column are collected into
      arrays as they stream in (in any order; a null value is kept as NaN,
      which no accepted number can be), and zipped into points when the
      object of columns closes, after the length checks.

    Values are read in ts_map_read.c, times without a zone and time
    bounds in ts_map_zone.c (which also finds a zone the document names
    before this parse begins). Points go into the caller's
    columnar list by index: the spec's measure names are looked up in the
    list once per document, at its first point (ts_points_measure_index),
    and every point is appended by that index (ts_points_append_at). Per
    point nothing is allocated beyond the growth of the caller's list and
    of the column arrays.

    Every failure names where it happened, in the document's own terms
    ("hourly.time[3]: ..."), because that text ends up in a worker log next
    to a failed job and is all an operator has to fix a format config.
    When a document has several faults, the one reported is the one a
    row-by-row reading meets first: structure (path, container types,
    missing or unequal columns) before values, then by row index, the
    time before the measures, measures in spec order. A syntax error
    anywhere wins over all of those, so parsing goes on to the end after
    a fault. Where a key repeats in one object, its first occurrence
    counts. Numbers and strings the mapping does not read are only checked
    for syntax. On any error the caller's list is cut back to its entry
    length, so a half-read document is never stored.

    The caller bounds the document size (upstream.max_body_bytes); this
    module does no I/O and reads no clock. Part of the ts_map module: see
    ts_map_internal.h. */

#include "ts_map_internal.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_version.h>

//  Deepest nesting of arrays and objects we accept.
#define S_DEPTH_MAX 1024

//  First allocation of a column array, in values.
#define S_COLUMN_MIN 256

//  Slot of a positional row's element, or SIZE_MAX if not read.
static size_t
s_slot_at (const ts_map_t *map, size_t element)
{
    for (size_t slot = 0; slot < map->nslots; slot++)
        if (map->slot_index [slot] == element)
            return slot;
    return SIZE_MAX;
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

//  Looks up each measure's index in the caller's list, once per document
//  (at its first point, so a document that fails before leaves the list's
//  names as they were). Returns 0 or the ts_points error.
static int
s_index (ts_map_state_t *self)
{
    const ts_map_t *map = self->map;
    for (size_t m = 0; m < map->measures->n; m++) {
        int rc = ts_points_measure_index (self->out, map->measures->items [m],
                                          map->measure_len [m],
                                          &self->measure_index [m]);
        if (rc)
            return rc;
    }
    self->indexed = true;
    return 0;
}

//  Appends a point; on failure stops the parse.
static int
s_append (ts_map_state_t *self, int64_t ms, size_t measure, double value)
{
    int rc = self->indexed? 0: s_index (self);
    if (rc == 0)
        rc = ts_points_append_at (self->out, ms,
                                  self->measure_index [measure], value);
    if (rc != 0) {
        char detail [TS_ERRLEN];
        snprintf (detail, sizeof (detail), "cannot append point: %s",
                  ts_strerror (rc));
        return ts_map_fatal (self, rc == TS_ENOMEM? TS_ENOMEM: TS_EPROTO,
                             detail);
    }
    return 1;
}

//  ---------------------------------------------------------------------
//  Path

static void
s_path_not_found (ts_map_state_t *self)
{
    const ts_map_t *map = self->map;
    ts_map_fail (self, 0, 0, "path '%.*s' not found",
                 (int) (map->comp_off [self->level] + map->comp_len [self->level]),
                 map->path);
    self->mode = TS_MAP_MODE_DONE;
}

static void
s_path_key (ts_map_state_t *self, const char *key, size_t len)
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
s_path_value (ts_map_state_t *self, ts_map_kind_t kind)
{
    if (!self->pending)
        return false;
    self->pending = false;
    if (self->level == self->map->ncomps)
        return true;
    if (kind == TS_MAP_KIND_OBJECT)
        self->path_depth = self->depth + 1;
    else
        s_path_not_found (self);
    return false;
}

//  ---------------------------------------------------------------------
//  Rows

static int
s_row_value (ts_map_state_t *self, ts_map_kind_t kind, const char *text,
             size_t len)
{
    size_t slot = self->slot;
    self->slot = SIZE_MAX;
    ts_map_cell_t *cell = &self->cells [slot];
    size_t row = self->index - 1;
    if (cell->stamp == self->index)
        return 1;                       //  repeated key: first one counts
    cell->stamp = self->index;
    cell->dropped = false;
    const ts_map_field_t *field = &self->map->slots [slot];
    if (field->is_time)
        cell->dropped = ts_map_read_time (self, slot, row, kind, text, len,
                                          &cell->ms) == 1;
    if (field->measure != SIZE_MAX)
        ts_map_read_value (self, slot, row, kind, text, len, &cell->value,
                           &cell->null);
    return 1;
}

static int
s_row_end (ts_map_state_t *self)
{
    const ts_map_t *map = self->map;
    size_t row = self->index - 1;
    self->mode = TS_MAP_MODE_ROWS;
    char loc [TS_ERRLEN];
    if (self->cells [0].stamp != self->index) {
        ts_map_loc (self, 0, row, loc);
        ts_map_fail (self, row + 1, 1, "%s: missing", loc);
    }
    for (size_t m = 0; map->layout == TS_MAP_POSITIONAL
                    && m < map->measures->n; m++) {
        size_t slot = map->measure_slot [m];
        if (self->cells [slot].stamp != self->index) {
            ts_map_loc (self, slot, row, loc);
            ts_map_fail (self, row + 1, 2 + m, "%s: missing (the row has "
                         "%zu elements; measure '%s' reads index %zu)", loc,
                         self->element, map->measures->items [m],
                         map->slot_index [slot]);
        }
    }
    if (self->failed) {
        self->mode = TS_MAP_MODE_DONE;       //  later rows cannot rank before
        return 1;
    }
    int64_t ms = self->cells [0].ms;
    for (size_t m = 0; m < map->measures->n; m++) {
        const ts_map_cell_t *cell = &self->cells [map->measure_slot [m]];
        if (cell->stamp != self->index || cell->null)
            continue;
        if (self->cells [0].dropped)
            self->report->dropped++;
        else
        if (!s_append (self, ms, m, cell->value))
            return 0;
    }
    return 1;
}

//  ---------------------------------------------------------------------
//  Columns

static int
s_column_value (ts_map_state_t *self, ts_map_kind_t kind, const char *text,
                size_t len)
{
    size_t slot = self->column;
    ts_map_column_t *column = &self->columns [slot];
    const ts_map_field_t *field = &self->map->slots [slot];
    if (column->n == column->cap) {
        size_t cap = column->cap? column->cap * 2: S_COLUMN_MIN;
        if (field->is_time) {
            int64_t *ms = realloc (column->ms, cap * sizeof (int64_t));
            if (!ms)
                return ts_map_fatal (self, TS_ENOMEM, "out of memory");
            column->ms = ms;
        }
        if (field->measure != SIZE_MAX) {
            double *values = realloc (column->values, cap * sizeof (double));
            if (!values)
                return ts_map_fatal (self, TS_ENOMEM, "out of memory");
            column->values = values;
        }
        column->cap = cap;
    }
    size_t i = column->n++;
    if (field->is_time) {
        int rc = ts_map_read_time (self, slot, i, kind, text, len,
                                   &column->ms [i]);
        if (rc != 0)
            column->ms [i] = rc == 1? TS_MAP_TIME_DROPPED: 0;
    }
    if (field->measure != SIZE_MAX) {
        bool null = false;
        if (ts_map_read_value (self, slot, i, kind, text, len,
                               &column->values [i], &null) != 0 || null)
            column->values [i] = NAN;
    }
    return 1;
}

static void
s_column_begin (ts_map_state_t *self, ts_map_kind_t kind, const char *text,
                size_t len)
{
    size_t slot = self->slot;
    self->slot = SIZE_MAX;
    ts_map_column_t *column = &self->columns [slot];
    if (column->seen)
        return;                         //  repeated key: first one counts
    column->seen = true;
    if (kind == TS_MAP_KIND_ARRAY) {
        self->mode = TS_MAP_MODE_COLUMN;
        self->column = slot;
    }
    else
        column->type = ts_map_kind_name (kind, text, len);
}

//  Checks a column is there and is an array; records the fault if not.
static bool
s_column_ok (ts_map_state_t *self, size_t slot)
{
    const ts_map_column_t *column = &self->columns [slot];
    const char *name = self->map->slots [slot].name;
    if (!column->seen)
        ts_map_fail (self, 0, 0, "%s: column '%s' not found", self->where,
                     name);
    else
    if (column->type)
        ts_map_fail (self, 0, 0, "%s.%s: expected an array, got %s",
                     self->where, name, column->type);
    return column->seen && !column->type;
}

//  The object of columns closed: check the columns, then zip them.
static int
s_columns_end (ts_map_state_t *self)
{
    const ts_map_t *map = self->map;
    size_t nm = map->measures->n;
    self->mode = TS_MAP_MODE_DONE;
    if (!s_column_ok (self, 0))
        return 1;
    size_t n = self->columns [0].n;
    for (size_t m = 0; m < nm; m++) {
        size_t slot = map->measure_slot [m];
        if (!s_column_ok (self, slot))
            return 1;
        if (self->columns [slot].n != n) {
            ts_map_fail (self, 0, 0, "%s: columns '%s' (%zu) and '%s' (%zu) differ in length",
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
        return ts_map_fatal (self, TS_ENOMEM,
                             "cannot append point: out of memory");
    const int64_t *ms = self->columns [0].ms;
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < nm; m++) {
            double value = self->columns [map->measure_slot [m]].values [i];
            if (isnan (value))
                continue;
            if (ms [i] == TS_MAP_TIME_DROPPED)
                self->report->dropped++;
            else
            if (!s_append (self, ms [i], m, value))
                return 0;
        }
    return 1;
}

//  ---------------------------------------------------------------------
//  Events

//  The rows array or the columns object (or something else) was reached.
static void
s_target (ts_map_state_t *self, ts_map_kind_t kind, const char *text,
          size_t len)
{
    if (self->map->layout != TS_MAP_COLUMNS) {
        if (kind == TS_MAP_KIND_ARRAY) {
            self->mode = TS_MAP_MODE_ROWS;
            self->tdepth = self->depth + 1;
            return;
        }
        ts_map_fail (self, 0, 0, "%s: expected an array of rows, got %s",
                     self->where, ts_map_kind_name (kind, text, len));
    }
    else {
        if (kind == TS_MAP_KIND_OBJECT) {
            self->mode = TS_MAP_MODE_COLS;
            self->tdepth = self->depth + 1;
            self->slot = SIZE_MAX;
            return;
        }
        ts_map_fail (self, 0, 0, "%s: expected an object of columns, got %s",
                     self->where, ts_map_kind_name (kind, text, len));
    }
    self->mode = TS_MAP_MODE_DONE;
}

//  Any value, or the start of an array or object, at the current depth.
static int
s_value (ts_map_state_t *self, ts_map_kind_t kind, const char *text,
         size_t len)
{
    switch (self->mode) {
        case TS_MAP_MODE_PATH:
            if (self->depth == self->path_depth && s_path_value (self, kind))
                s_target (self, kind, text, len);
            break;
        case TS_MAP_MODE_ROWS:
            if (self->depth == self->tdepth) {
                size_t row = self->index++;
                bool positional = self->map->layout == TS_MAP_POSITIONAL;
                if (kind == TS_MAP_KIND_OBJECT && !positional) {
                    self->mode = TS_MAP_MODE_ROW;
                    self->slot = SIZE_MAX;
                }
                else
                if (kind == TS_MAP_KIND_ARRAY && positional) {
                    self->mode = TS_MAP_MODE_PROW;
                    self->element = 0;
                }
                else {
                    ts_map_fail (self, row + 1, 0, "%s[%zu]: expected %s, got %s%s",
                                 self->where, row, positional? "an array": "an object",
                                 ts_map_kind_name (kind, text, len),
                                 kind == TS_MAP_KIND_ARRAY? " (rows of [time, "
                                 "value, ...] are layout positional)": "");
                    self->mode = TS_MAP_MODE_DONE;
                }
            }
            break;
        case TS_MAP_MODE_ROW:
            if (self->depth == self->tdepth + 1 && self->slot != SIZE_MAX)
                return s_row_value (self, kind, text, len);
            break;
        case TS_MAP_MODE_PROW:
            if (self->depth == self->tdepth + 1) {
                self->slot = s_slot_at (self->map, self->element++);
                if (self->slot != SIZE_MAX)
                    return s_row_value (self, kind, text, len);
            }
            break;
        case TS_MAP_MODE_COLS:
            if (self->depth == self->tdepth && self->slot != SIZE_MAX)
                s_column_begin (self, kind, text, len);
            break;
        case TS_MAP_MODE_COLUMN:
            if (self->depth == self->tdepth + 1)
                return s_column_value (self, kind, text, len);
            break;
        case TS_MAP_MODE_DONE:
            break;
    }
    return 1;
}

//  An array or object closed; depth is already the enclosing one.
static int
s_close (ts_map_state_t *self)
{
    switch (self->mode) {
        case TS_MAP_MODE_PATH:
            if (self->path_depth > 0 && self->depth == self->path_depth - 1)
                s_path_not_found (self);
            break;
        case TS_MAP_MODE_ROWS:
            if (self->depth == self->tdepth - 1)
                self->mode = TS_MAP_MODE_DONE;
            break;
        case TS_MAP_MODE_ROW:
        case TS_MAP_MODE_PROW:
            if (self->depth == self->tdepth)
                return s_row_end (self);
            break;
        case TS_MAP_MODE_COLUMN:
            if (self->depth == self->tdepth)
                self->mode = TS_MAP_MODE_COLS;
            break;
        case TS_MAP_MODE_COLS:
            if (self->depth == self->tdepth - 1)
                return s_columns_end (self);
            break;
        case TS_MAP_MODE_DONE:
            break;
    }
    return 1;
}

static int
s_on_key (void *ctx, const unsigned char *key, size_t len)
{
    ts_map_state_t *self = ctx;
    const char *text = (const char *) key;
    switch (self->mode) {
        case TS_MAP_MODE_PATH:
            if (self->depth == self->path_depth)
                s_path_key (self, text, len);
            break;
        case TS_MAP_MODE_ROW:
            if (self->depth == self->tdepth + 1)
                self->slot = s_slot_of (self->map, text, len);
            break;
        case TS_MAP_MODE_COLS:
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
    return s_value (ctx, TS_MAP_KIND_NULL, NULL, 0);
}

static int
s_on_boolean (void *ctx, int value)
{
    return s_value (ctx, value? TS_MAP_KIND_TRUE: TS_MAP_KIND_FALSE, NULL, 0);
}

static int
s_on_number (void *ctx, const char *text, size_t len)
{
    return s_value (ctx, TS_MAP_KIND_NUMBER, text, len);
}

static int
s_on_string (void *ctx, const unsigned char *text, size_t len)
{
    return s_value (ctx, TS_MAP_KIND_STRING, (const char *) text, len);
}

static int
s_open (ts_map_state_t *self, ts_map_kind_t kind)
{
    if (!s_value (self, kind, NULL, 0))
        return 0;
    if (++self->depth > S_DEPTH_MAX) {
        char detail [TS_ERRLEN];
        snprintf (detail, sizeof (detail),
                  "not JSON: arrays and objects nested over %d deep",
                  S_DEPTH_MAX);
        return ts_map_fatal (self, TS_EPROTO, detail);
    }
    return 1;
}

static int
s_on_start_map (void *ctx)
{
    return s_open (ctx, TS_MAP_KIND_OBJECT);
}

static int
s_on_start_array (void *ctx)
{
    return s_open (ctx, TS_MAP_KIND_ARRAY);
}

static int
s_on_end (void *ctx)
{
    ts_map_state_t *self = ctx;
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
    return ts_map_parse_report (self, doc, len, ts_now_ms (), out, NULL,
                                err);
}

int
ts_map_parse_report (const ts_map_t *self, const char *doc, size_t len,
                     int64_t now_ms, ts_points_t *out,
                     ts_map_report_t *report, char *err)
{
    assert (self);
    assert (out);
    if (!doc) {
        doc = "";
        len = 0;
    }
    ts_map_report_t scratch;
    if (!report)
        report = &scratch;
    memset (report, 0, sizeof *report);
    size_t entry_n = out->n;
    ts_map_state_t parse = {
        .map = self,
        .out = out,
        .where = *self->path? self->path: "document",
        .mode = TS_MAP_MODE_PATH,
        .pending = true,
        .slot = SIZE_MAX,
        .now_ms = now_ms,
        .time_lo_ms = self->time_min.set
                    ? ts_time_bound_at (&self->time_min, now_ms): INT64_MIN,
        .time_hi_ms = self->time_max.set
                    ? ts_time_bound_at (&self->time_max, now_ms): INT64_MAX,
        .report = report
    };
    int rc = 0;
    bool syntax = false;
    yajl_handle parser = NULL;
    ts_map_zone_find (&parse, doc, len);
    if (self->layout != TS_MAP_COLUMNS)
        parse.cells = calloc (self->nslots, sizeof (ts_map_cell_t));
    else
        parse.columns = calloc (self->nslots, sizeof (ts_map_column_t));
    parse.measure_index = calloc (self->measures->n, sizeof (uint16_t));
    if ((parse.cells || parse.columns) && parse.measure_index)
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
        syntax = true;
    }
    else
    if (parse.failed) {
        ts_errf (err, "%s", parse.err);
        rc = TS_EPROTO;
    }
    else
    if (parse.mode != TS_MAP_MODE_DONE) {
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
    free (parse.measure_index);
    if (rc != 0)
        out->n = entry_n;
    report->shape = rc == TS_EPROTO && !syntax;
    report->points = out->n - entry_n;
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
