/*  ts_store_influxdb_text - the InfluxDB backend's text work, pure (no
    I/O, no clock): names escaped for line protocol, identifiers and
    string literals quoted for InfluxQL, the lines of a put, the InfluxQL
    of a read and of a delete, /query answers into points and error
    answers into their message. Declared in ts_store_influxdb.h.

    Every name is escaped or quoted, whatever rule it was checked by:
    ids stored before TS_NAME_RULE may start with '-', measures come
    from the config. A control character cannot be carried by either
    language and is refused; so is a backslash in line protocol, which
    InfluxDB 1.x and 2.x read back differently (InfluxQL quotes it). The deduplicated order of a put's points
    and the shortest decimal of a value are the Timestream backend's
    (ts_tms_records, ts_tms_value_text). */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_influxdb.h"
#include "ts_store_timestream.h"

//  ---------------------------------------------------------------------
//  Escaping and quoting

static bool
s_has_control (const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

//  Appends s to buf at *at with a backslash before each byte of special.
static int
s_escape_with (const char *s, const char *special, char *buf, size_t size,
               size_t *at)
{
    if (!*s || s_has_control (s))
        return TS_EINVAL;
    size_t len = *at;
    for (; *s; s++) {
        bool esc = strchr (special, *s) != NULL;
        if (len + (esc? 2: 1) >= size)
            return TS_ETOOBIG;
        if (esc)
            buf [len++] = '\\';
        buf [len++] = *s;
    }
    buf [len] = 0;
    *at = len;
    return 0;
}

int
ts_ifx_escape (ts_ifx_part_t part, const char *name, char *buf, size_t size,
               size_t *at)
{
    //  InfluxDB 1.x keeps a tag value's "\\" as two backslashes, 2.x as
    //  one: a backslash would not read back the same everywhere.
    if (strchr (name, '\\'))
        return TS_EINVAL;
    return s_escape_with (name, part == TS_IFX_MEASUREMENT? ", ": ",= ",
                          buf, size, at);
}

//  name between quote characters, quote and '\' escaped by '\'.
static int
s_quote (const char *name, char quote, char *buf, size_t size)
{
    if (size < 3)
        return TS_ETOOBIG;
    char special [3] = { quote, '\\', 0 };
    buf [0] = quote;
    size_t at = 1;
    int rc = s_escape_with (name, special, buf, size - 1, &at);
    if (rc)
        return rc;
    buf [at++] = quote;
    buf [at] = 0;
    return 0;
}

int
ts_ifx_ident (const char *name, char *buf, size_t size)
{
    return s_quote (name, '"', buf, size);
}

int
ts_ifx_literal (const char *name, char *buf, size_t size)
{
    return s_quote (name, '\'', buf, size);
}

//  ---------------------------------------------------------------------
//  InfluxQL

void
ts_ifx_clamp (int64_t *from_ms, int64_t *to_ms)
{
    if (*from_ms < TS_IFX_MIN_MS)
        *from_ms = TS_IFX_MIN_MS;
    if (*to_ms > TS_IFX_MAX_MS)
        *to_ms = TS_IFX_MAX_MS;
    if (*from_ms > *to_ms)
        *from_ms = *to_ms;
}

//  The quoted measurement and id literal of a statement.
static int
s_names (const char *measurement, const char *id, char *meas, char *lit)
{
    int rc = ts_ifx_ident (measurement, meas, TS_IFX_NAME_MAX * 2 + 3);
    if (rc == 0)
        rc = ts_ifx_literal (id, lit, TS_NAME_MAX * 2 + 3);
    return rc;
}

int
ts_ifx_select (const char *measurement, const char *id, const char *measure,
               int64_t from_ms, int64_t to_ms, size_t limit, char *buf)
{
    char meas [TS_IFX_NAME_MAX * 2 + 3], lit [TS_NAME_MAX * 2 + 3];
    char field [TS_NAME_MAX * 2 + 3] = "*";
    int rc = s_names (measurement, id, meas, lit);
    if (rc == 0 && measure)
        rc = ts_ifx_ident (measure, field, sizeof field);
    if (rc)
        return rc;
    ts_ifx_clamp (&from_ms, &to_ms);
    char tail [32] = "";
    if (limit)
        snprintf (tail, sizeof tail, " LIMIT %zu", limit);
    int n = snprintf (buf, TS_IFX_QUERY_MAX, "SELECT %s::field FROM %s "
                      "WHERE \"id\" = %s AND time >= %" PRId64 "ms AND "
                      "time <= %" PRId64 "ms ORDER BY time ASC%s", field,
                      meas, lit, from_ms, to_ms, tail);
    return n < 0 || n >= TS_IFX_QUERY_MAX? TS_ETOOBIG: 0;
}

int
ts_ifx_drop (const char *measurement, const char *id, char *buf)
{
    char meas [TS_IFX_NAME_MAX * 2 + 3], lit [TS_NAME_MAX * 2 + 3];
    int rc = s_names (measurement, id, meas, lit);
    if (rc)
        return rc;
    int n = snprintf (buf, TS_IFX_QUERY_MAX, "DROP SERIES FROM %s WHERE "
                      "\"id\" = %s", meas, lit);
    return n < 0 || n >= TS_IFX_QUERY_MAX? TS_ETOOBIG: 0;
}

//  ---------------------------------------------------------------------
//  Lines

void
ts_ifx_lines_destroy (ts_ifx_lines_t **self_p)
{
    if (self_p && *self_p) {
        ts_ifx_lines_t *self = *self_p;
        free (self->time_ms);
        free (self->fields);
        free (self->start);
        free (self->text);
        free (self);
        *self_p = NULL;
    }
}

//  A growing text buffer.
typedef struct {
    char  *data;
    size_t len, cap;
} s_text_t;

static int
s_reserve (s_text_t *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return 0;
    size_t cap = t->cap? t->cap: 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *data = realloc (t->data, cap);
    if (!data)
        return TS_ENOMEM;
    t->data = data;
    t->cap = cap;
    return 0;
}

//  Appends name escaped for part.
static int
s_text_escape (s_text_t *t, ts_ifx_part_t part, const char *name)
{
    size_t len = strlen (name);
    if (s_reserve (t, len * 2 + 1))
        return TS_ENOMEM;
    return ts_ifx_escape (part, name, t->data, t->cap, &t->len);
}

static int
s_text_add (s_text_t *t, const char *fmt, ...)
{
    char piece [64];
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (piece, sizeof piece, fmt, args);
    va_end (args);
    if (n < 0 || (size_t) n >= sizeof piece || s_reserve (t, (size_t) n))
        return TS_ENOMEM;
    memcpy (t->data + t->len, piece, (size_t) n + 1);
    t->len += (size_t) n;
    return 0;
}

//  The first point of pts InfluxDB cannot hold named in err: a value
//  not finite (TS_EINVAL), a time outside its range (TS_EBACKEND, as a
//  refused point); 0 if there is none.
static int
s_check_points (const char *id, const ts_points_t *pts, char *err)
{
    for (size_t i = 0; i < pts->n; i++) {
        char text [TS_TMS_NUMLEN];
        if (ts_tms_value_text (pts->value [i], text)) {
            ts_errf (err, "store.influxdb: id '%s' measure '%s' time %"
                     PRId64 ": a float field cannot hold %s", id,
                     ts_points_measure (pts, i), pts->time_ms [i], text);
            return TS_EINVAL;
        }
        if (pts->time_ms [i] < TS_IFX_MIN_MS
        ||  pts->time_ms [i] > TS_IFX_MAX_MS) {
            ts_errf (err, "store.influxdb: id '%s' measure '%s' time %"
                     PRId64 ": outside the times InfluxDB holds (%" PRId64
                     " .. %" PRId64 " ms)", id, ts_points_measure (pts, i),
                     pts->time_ms [i], TS_IFX_MIN_MS, TS_IFX_MAX_MS);
            return TS_EBACKEND;
        }
    }
    return 0;
}

//  Appends the lines of records idx[0 .. n) (by time, then measure) to
//  t, their times and starts to self.
static int
s_build (ts_ifx_lines_t *self, s_text_t *t, const char *measurement,
         const char *id, const ts_points_t *pts, const size_t *idx,
         size_t n, char *err)
{
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        size_t i = idx [k];
        bool first = k == 0 || pts->time_ms [idx [k - 1]] != pts->time_ms [i];
        if (first) {
            self->time_ms [self->n] = pts->time_ms [i];
            self->start [self->n++] = t->len;
            rc = s_text_escape (t, TS_IFX_MEASUREMENT, measurement);
            if (rc == 0)
                rc = s_text_add (t, ",id=");
            if (rc == 0)
                rc = s_text_escape (t, TS_IFX_KEY, id);
            if (rc == 0)
                rc = s_text_add (t, " ");
        }
        else
            rc = s_text_add (t, ",");
        self->fields [self->n - 1]++;
        char value [TS_TMS_NUMLEN];
        ts_tms_value_text (pts->value [i], value);
        if (rc == 0)
            rc = s_text_escape (t, TS_IFX_KEY, ts_points_measure (pts, i));
        if (rc == 0)
            rc = s_text_add (t, "=%s", value);
        bool last = k + 1 == n || pts->time_ms [idx [k + 1]] != pts->time_ms [i];
        if (rc == 0 && last)
            rc = s_text_add (t, " %" PRId64 "\n", pts->time_ms [i]);
        if (rc == TS_EINVAL)
            ts_errf (err, "store.influxdb: id '%s' measure '%s': a name line "
                     "protocol cannot carry (empty or a control character)",
                     id, ts_points_measure (pts, i));
    }
    return rc;
}

int
ts_ifx_lines (const char *measurement, const char *id, const ts_points_t *pts,
              ts_ifx_lines_t **out, char *err)
{
    *out = NULL;
    int rc = s_check_points (id, pts, err);
    if (rc)
        return rc;
    size_t n = 0;
    size_t *idx = pts->n? ts_tms_records (pts, &n): NULL;
    ts_ifx_lines_t *self = calloc (1, sizeof *self);
    s_text_t t = { NULL, 0, 0 };
    if (self) {
        self->time_ms = calloc (n + 1, sizeof *self->time_ms);
        self->start = calloc (n + 1, sizeof *self->start);
        self->fields = calloc (n + 1, sizeof *self->fields);
    }
    if (!self || !self->time_ms || !self->start || !self->fields
    ||  (pts->n && !idx)
    ||  s_reserve (&t, 0))
        rc = TS_ENOMEM;
    if (rc == 0)
        rc = s_build (self, &t, measurement, id, pts, idx, n, err);
    free (idx);
    if (rc) {
        if (rc == TS_ENOMEM)
            ts_errf (err, "store.influxdb: out of memory");
        free (t.data);
        ts_ifx_lines_destroy (&self);
        return rc;
    }
    t.data [t.len] = 0;
    self->start [self->n] = t.len;
    self->text = t.data;
    *out = self;
    return 0;
}

void
ts_ifx_line_measures (const ts_ifx_lines_t *lines, size_t i,
                      const ts_points_t *pts, char *buf, size_t size)
{
    size_t len = 0;
    buf [0] = 0;
    for (size_t p = 0; p < pts->n && len + 1 < size; p++) {
        if (pts->time_ms [p] != lines->time_ms [i])
            continue;
        const char *m = ts_points_measure (pts, p);
        //  Each measure once: skip one already named.
        bool seen = false;
        for (size_t q = 0; q < p && !seen; q++)
            seen = pts->time_ms [q] == lines->time_ms [i]
                && pts->measure [q] == pts->measure [p];
        if (seen)
            continue;
        int n = snprintf (buf + len, size - len, "%s%s", len? ",": "", m);
        if (n < 0 || (size_t) n >= size - len)
            break;
        len += (size_t) n;
    }
}

//  ---------------------------------------------------------------------
//  Answers

const char *
ts_ifx_answer_error (const json_t *answer)
{
    const char *top = json_string_value (json_object_get (answer, "error"));
    if (top)
        return top;
    size_t i;
    json_t *result;
    json_array_foreach (json_object_get (answer, "results"), i, result) {
        const char *text = json_string_value (json_object_get (result,
                                                               "error"));
        if (text)
            return text;
    }
    return NULL;
}

//  Appends the rows of one series; TS_ETOOBIG past max points in out.
static int
s_series_points (const json_t *series, size_t max, ts_points_t *out,
                 char *err)
{
    const json_t *columns = json_object_get (series, "columns");
    const json_t *values = json_object_get (series, "values");
    size_t ncol = json_array_size (columns);
    if (!json_is_array (columns) || ncol < 1 || (values
    &&  !json_is_array (values))) {
        ts_errf (err, "store.influxdb: query: a series without columns");
        return TS_EPROTO;
    }
    size_t r;
    json_t *row;
    json_array_foreach (values, r, row) {
        json_t *time = json_array_get (row, 0);
        if (!json_is_array (row) || !json_is_integer (time)) {
            ts_errf (err, "store.influxdb: query: row %zu has no integer "
                     "time (epoch=ms)", r);
            return TS_EPROTO;
        }
        for (size_t c = 1; c < ncol; c++) {
            json_t *cell = json_array_get (row, c);
            if (!cell || json_is_null (cell))
                continue;
            const char *name = json_string_value (json_array_get (columns,
                                                                  c));
            if (!name || !json_is_number (cell)) {
                ts_errf (err, "store.influxdb: query: field '%s' at time %"
                         PRId64 " is not a number", name? name: "?",
                         (int64_t) json_integer_value (time));
                return TS_EPROTO;
            }
            if (out->n >= max)
                return TS_ETOOBIG;
            if (ts_points_append (out, json_integer_value (time), name,
                                  json_number_value (cell))) {
                ts_errf (err, "store.influxdb: out of memory");
                return TS_ENOMEM;
            }
        }
    }
    return 0;
}

int
ts_ifx_answer_points (const json_t *answer, size_t max, ts_points_t *out,
                      char *err)
{
    if (!json_is_object (answer)) {
        ts_errf (err, "store.influxdb: query: answer is not a JSON object");
        return TS_EPROTO;
    }
    const char *error = ts_ifx_answer_error (answer);
    if (error) {
        ts_errf (err, "store.influxdb: query: %s", error);
        return TS_EBACKEND;
    }
    const json_t *results = json_object_get (answer, "results");
    if (!json_is_array (results)) {
        ts_errf (err, "store.influxdb: query: answer has no results");
        return TS_EPROTO;
    }
    size_t i, s;
    json_t *result, *series;
    json_array_foreach (results, i, result) {
        json_array_foreach (json_object_get (result, "series"), s, series) {
            int rc = s_series_points (series, max, out, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void
ts_ifx_error_text (const char *body, size_t len, char *buf, size_t size)
{
    json_t *doc = body? json_loadb (body, len, 0, NULL): NULL;
    const char *text = json_string_value (json_object_get (doc, "error"));
    if (!text)
        text = json_string_value (json_object_get (doc, "message"));
    if (text)
        snprintf (buf, size, "%s", text);
    else {
        size_t n = 0;
        for (size_t i = 0; body && i < len && n + 1 < size; i++)
            buf [n++] = body [i] >= 0x20 && body [i] < 0x7f? body [i]: ' ';
        while (n && buf [n - 1] == ' ')
            n--;
        buf [n] = 0;
    }
    json_decref (doc);
}

bool
ts_ifx_partial (int http_status, const char *message)
{
    if (http_status == 422)
        return true;
    return http_status == 400 && message
        && (strstr (message, "partial write")
         || strstr (message, "unable to parse")
         || strstr (message, "field type conflict")
         || strstr (message, "invalid"));
}
