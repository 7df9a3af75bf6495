/*  ts_map - turns an upstream JSON document into points, as described by
    upstream.format.* (see ts_map.h for the two layouts).

    The document is parsed whole with jansson, the dotted path is walked,
    then every row (or every index of the parallel columns) becomes one
    point per measure. Every failure names where it happened, in the
    document's own terms ("hourly.time[3]: ..."), because that text ends up
    in a worker log next to a failed job and is all an operator has to fix
    a format config. Points are appended to the caller's list; on any error
    the list is cut back to its entry length, so a half-read document is
    never stored.

    The caller bounds the document size (upstream.max_body_bytes); this
    module does no I/O and reads no clock. */

#include "ts_map.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef enum { S_LAYOUT_ROWS, S_LAYOUT_COLUMNS } s_layout_t;
typedef enum { S_UNIT_MS, S_UNIT_S, S_UNIT_ISO } s_unit_t;

struct _ts_map_t {
    s_layout_t    layout;       //  rows or columns
    s_unit_t      unit;         //  how the time field is read
    char         *path;         //  dotted path to the rows/columns, "" = root
    char         *time_field;   //  name of the time field or column
    ts_strlist_t *measures;     //  measure names, parallel to fields
    ts_strlist_t *fields;       //  document field holding each measure
};

//  Largest |ms| we accept, about 292 million years: keeps s -> ms
//  conversion and llround clear of int64 overflow.
#define S_TIME_LIMIT_MS 9.0e18

//  Longest numeric string we try to read as a number.
#define S_NUMTEXT_MAX 64

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
            ts_errf (err, "upstream.format.measures: invalid measure name '%.*s'",
                     TS_NAME_MAX, names->items [i]);
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
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Helpers

static const char *
s_type_name (const json_t *json)
{
    switch (json_typeof (json)) {
        case JSON_OBJECT:  return "object";
        case JSON_ARRAY:   return "array";
        case JSON_STRING:  return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL:    return "real";
        case JSON_TRUE:    return "true";
        case JSON_FALSE:   return "false";
        case JSON_NULL:    return "null";
    }
    return "unknown";
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

//  Reads a JSON value as a number: integer, real, or numeric string.
//  Returns 0, or TS_EINVAL.
static int
s_number_from_json (const json_t *json, double *value)
{
    if (json_is_integer (json)) {
        *value = (double) json_integer_value (json);
        return 0;
    }
    if (json_is_real (json)) {
        *value = json_real_value (json);
        return isfinite (*value)? 0: TS_EINVAL;
    }
    if (json_is_string (json))
        return s_number_from_text (json_string_value (json),
                                   json_string_length (json), value);
    return TS_EINVAL;
}

//  Reads a time value per the configured unit. loc names the value for
//  the error detail. Returns 0 and sets *ms, or TS_EPROTO.
static int
s_time_from_json (const ts_map_t *self, const json_t *json, const char *loc,
                  int64_t *ms, char *err)
{
    if (json_is_null (json)) {
        ts_errf (err, "%s: time is null", loc);
        return TS_EPROTO;
    }
    if (self->unit == S_UNIT_ISO) {
        if (!json_is_string (json)) {
            ts_errf (err, "%s: expected an ISO 8601 string, got %s",
                     loc, s_type_name (json));
            return TS_EPROTO;
        }
        if (ts_time_parse_iso (json_string_value (json),
                               json_string_length (json), ms) != 0) {
            ts_errf (err, "%s: bad ISO 8601 time '%.40s'",
                     loc, json_string_value (json));
            return TS_EPROTO;
        }
        return 0;
    }
    //  Epoch numbers: take integers exactly, reals and strings via double
    if (json_is_integer (json)) {
        json_int_t n = json_integer_value (json);
        double limit = self->unit == S_UNIT_S? S_TIME_LIMIT_MS / 1000: S_TIME_LIMIT_MS;
        if ((double) n > limit || (double) n < -limit) {
            ts_errf (err, "%s: time %lld out of range", loc, (long long) n);
            return TS_EPROTO;
        }
        *ms = self->unit == S_UNIT_S? (int64_t) n * 1000: (int64_t) n;
        return 0;
    }
    double d = 0;
    if (s_number_from_json (json, &d) != 0) {
        if (json_is_string (json))
            ts_errf (err, "%s: expected an epoch number, got string '%.40s'",
                     loc, json_string_value (json));
        else
            ts_errf (err, "%s: expected an epoch number, got %s",
                     loc, s_type_name (json));
        return TS_EPROTO;
    }
    if (self->unit == S_UNIT_S)
        d *= 1000;
    if (!(fabs (d) <= S_TIME_LIMIT_MS)) {
        ts_errf (err, "%s: time out of range", loc);
        return TS_EPROTO;
    }
    *ms = (int64_t) llround (d);
    return 0;
}

//  Reads a measure value; JSON null sets *skip. Returns 0 or TS_EPROTO.
static int
s_value_from_json (const json_t *json, const char *loc,
                   double *value, bool *skip, char *err)
{
    *skip = false;
    if (json_is_null (json)) {
        *skip = true;
        return 0;
    }
    if (s_number_from_json (json, value) == 0)
        return 0;
    if (json_is_string (json))
        ts_errf (err, "%s: expected a number, got string '%.40s'",
                 loc, json_string_value (json));
    else
        ts_errf (err, "%s: expected a number, got %s", loc, s_type_name (json));
    return TS_EPROTO;
}

//  Walks the dotted path from root. Returns the node or NULL with err.
static json_t *
s_walk_path (const char *path, json_t *root, char *err)
{
    json_t *node = root;
    const char *p = path;
    while (*p) {
        const char *dot = strchr (p, '.');
        size_t len = dot? (size_t) (dot - p): strlen (p);
        json_t *next = NULL;
        if (json_is_object (node) && len > 0) {
            char key [256];
            if (len < sizeof (key)) {
                memcpy (key, p, len);
                key [len] = 0;
                next = json_object_get (node, key);
            }
        }
        if (!next) {
            ts_errf (err, "path '%.*s' not found", (int) (p - path + len), path);
            return NULL;
        }
        node = next;
        p += len;
        if (*p == '.')
            p++;
    }
    return node;
}

//  Appends a point, or names the failure.
static int
s_append (ts_points_t *out, int64_t ms, const char *measure, double value,
          char *err)
{
    int rc = ts_points_append (out, ms, measure, value);
    if (rc != 0)
        ts_errf (err, "cannot append point: %s", ts_strerror (rc));
    return rc;
}

static int
s_parse_rows (const ts_map_t *self, const json_t *rows, const char *where,
              ts_points_t *out, char *err)
{
    if (!json_is_array (rows)) {
        ts_errf (err, "%s: expected an array of rows, got %s",
                 where, s_type_name (rows));
        return TS_EPROTO;
    }
    char loc [TS_ERRLEN];
    size_t n = json_array_size (rows);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get (rows, i);
        if (!json_is_object (row)) {
            ts_errf (err, "%s[%zu]: expected an object, got %s",
                     where, i, s_type_name (row));
            return TS_EPROTO;
        }
        const json_t *jtime = json_object_get (row, self->time_field);
        snprintf (loc, sizeof (loc), "%s[%zu].%s", where, i, self->time_field);
        if (!jtime) {
            ts_errf (err, "%s: missing", loc);
            return TS_EPROTO;
        }
        int64_t ms = 0;
        int rc = s_time_from_json (self, jtime, loc, &ms, err);
        if (rc != 0)
            return rc;
        for (size_t m = 0; m < self->measures->n; m++) {
            const json_t *jvalue = json_object_get (row, self->fields->items [m]);
            if (!jvalue)
                continue;       //  upstreams omit fields they have no value for
            snprintf (loc, sizeof (loc), "%s[%zu].%s",
                      where, i, self->fields->items [m]);
            double value = 0;
            bool skip = false;
            rc = s_value_from_json (jvalue, loc, &value, &skip, err);
            if (rc != 0)
                return rc;
            if (!skip && (rc = s_append (out, ms, self->measures->items [m],
                                         value, err)) != 0)
                return rc;
        }
    }
    return 0;
}

//  Returns the named column of an object, or NULL with err.
static const json_t *
s_column (const json_t *columns, const char *where, const char *field,
          char *err)
{
    const json_t *column = json_object_get (columns, field);
    if (!column)
        ts_errf (err, "%s: column '%s' not found", where, field);
    else
    if (!json_is_array (column)) {
        ts_errf (err, "%s.%s: expected an array, got %s",
                 where, field, s_type_name (column));
        column = NULL;
    }
    return column;
}

static int
s_parse_columns (const ts_map_t *self, const json_t *columns,
                 const char *where, ts_points_t *out, char *err)
{
    if (!json_is_object (columns)) {
        ts_errf (err, "%s: expected an object of columns, got %s",
                 where, s_type_name (columns));
        return TS_EPROTO;
    }
    const json_t *times = s_column (columns, where, self->time_field, err);
    if (!times)
        return TS_EPROTO;
    size_t n = json_array_size (times);
    size_t nm = self->measures->n;
    const json_t **values = calloc (nm, sizeof (json_t *));
    if (!values) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    int rc = 0;
    for (size_t m = 0; m < nm; m++) {
        values [m] = s_column (columns, where, self->fields->items [m], err);
        if (!values [m]) {
            rc = TS_EPROTO;
            goto done;
        }
        if (json_array_size (values [m]) != n) {
            ts_errf (err, "%s: columns '%s' (%zu) and '%s' (%zu) differ in length",
                     where, self->time_field, n, self->fields->items [m],
                     json_array_size (values [m]));
            rc = TS_EPROTO;
            goto done;
        }
    }
    char loc [TS_ERRLEN];
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf (loc, sizeof (loc), "%s.%s[%zu]", where, self->time_field, i);
        int64_t ms = 0;
        rc = s_time_from_json (self, json_array_get (times, i), loc, &ms, err);
        for (size_t m = 0; m < nm && rc == 0; m++) {
            snprintf (loc, sizeof (loc), "%s.%s[%zu]",
                      where, self->fields->items [m], i);
            double value = 0;
            bool skip = false;
            rc = s_value_from_json (json_array_get (values [m], i), loc,
                                    &value, &skip, err);
            if (rc == 0 && !skip)
                rc = s_append (out, ms, self->measures->items [m], value, err);
        }
    }
done:
    free (values);
    return rc;
}

int
ts_map_parse (const ts_map_t *self, const char *doc, size_t len,
              ts_points_t *out, char *err)
{
    assert (self);
    assert (out);
    if (!doc)
        len = 0;
    size_t entry_n = out->n;
    json_error_t jerr;
    json_t *root = json_loadb (doc? doc: "", len, 0, &jerr);
    if (!root) {
        ts_errf (err, "not JSON: %s at line %d column %d",
                 jerr.text, jerr.line, jerr.column);
        return TS_EPROTO;
    }
    int rc = TS_EPROTO;
    json_t *node = s_walk_path (self->path, root, err);
    if (node) {
        const char *where = *self->path? self->path: "document";
        if (self->layout == S_LAYOUT_ROWS)
            rc = s_parse_rows (self, node, where, out, err);
        else
            rc = s_parse_columns (self, node, where, out, err);
    }
    json_decref (root);
    if (rc != 0)
        out->n = entry_n;
    return rc;
}
