/*  ts_store_timestream_text - the Timestream backend's text work, pure (no
    I/O, no clock but the version counter): the SQL of a range query, the
    records of a put and their WriteRecords bodies, a
    RejectedRecordsException into an error text, scalars parsed by their
    ColumnInfo type and a Query page into points. Declared in
    ts_store_timestream.h; tested by tests/unit/test_ts_store_timestream.c. */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_timestream.h"

//  ---------------------------------------------------------------------
//  SQL

void
ts_tms_clamp (int64_t *from_ms, int64_t *to_ms)
{
    if (*from_ms < TS_TMS_MIN_MS)
        *from_ms = TS_TMS_MIN_MS;
    if (*from_ms > TS_TMS_MAX_MS)
        *from_ms = TS_TMS_MAX_MS;
    if (*to_ms < TS_TMS_MIN_MS)
        *to_ms = TS_TMS_MIN_MS;
    if (*to_ms > TS_TMS_MAX_MS)
        *to_ms = TS_TMS_MAX_MS;
}

//  Appends text to buf (at *len, TS_TMS_SQL_MAX bytes) with every quote
//  character doubled; false if it does not fit.
static bool
s_append_quoted (char *buf, size_t *len, const char *text, char quote)
{
    for (const char *p = text; *p; p++) {
        size_t need = *p == quote? 2: 1;
        if (*len + need >= TS_TMS_SQL_MAX)
            return false;
        buf [(*len)++] = *p;
        if (*p == quote)
            buf [(*len)++] = quote;
    }
    buf [*len] = 0;
    return true;
}

static bool
s_append (char *buf, size_t *len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static bool
s_append (char *buf, size_t *len, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (buf + *len, TS_TMS_SQL_MAX - *len, fmt, args);
    va_end (args);
    if (n < 0 || (size_t) n >= TS_TMS_SQL_MAX - *len)
        return false;
    *len += (size_t) n;
    return true;
}

int
ts_tms_sql (const char *db, const char *table, const char *id,
            const char *measure, int64_t from_ms, int64_t to_ms,
            size_t limit, char *buf)
{
    ts_tms_clamp (&from_ms, &to_ms);
    size_t len = 0;
    buf [0] = 0;
    bool ok = s_append (buf, &len, "SELECT measure_name, "
                        "to_milliseconds(time) AS time_ms, "
                        "coalesce(measure_value::double, "
                        "try_cast(measure_value::varchar AS double)) AS value "
                        "FROM \"")
           && s_append_quoted (buf, &len, db, '"')
           && s_append (buf, &len, "\".\"")
           && s_append_quoted (buf, &len, table, '"')
           && s_append (buf, &len, "\" WHERE " TS_TMS_DIMENSION " = '")
           && s_append_quoted (buf, &len, id, '\'')
           && s_append (buf, &len, "' AND time BETWEEN from_milliseconds(%"
                        PRId64 ") AND from_milliseconds(%" PRId64 ")",
                        from_ms, to_ms);
    if (ok && measure)
        ok = s_append (buf, &len, " AND measure_name = '")
          && s_append_quoted (buf, &len, measure, '\'')
          && s_append (buf, &len, "'");
    if (ok)
        ok = s_append (buf, &len, " ORDER BY time, measure_name");
    if (ok && limit)
        ok = s_append (buf, &len, " LIMIT %zu", limit);
    return ok? 0: TS_ETOOBIG;
}

//  ---------------------------------------------------------------------
//  Records

int
ts_tms_value_text (double value, char *buf)
{
    if (!isfinite (value)) {
        snprintf (buf, TS_TMS_NUMLEN, "%s", isnan (value)? "NaN":
                  value > 0? "Infinity": "-Infinity");
        return TS_EINVAL;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf (buf, TS_TMS_NUMLEN, "%.*g", digits, value);
        if (strtod (buf, NULL) == value)
            break;
    }
    return 0;
}

//  The list ts_tms_records sorts (qsort has no context argument).
static _Thread_local const ts_points_t *s_sort_pts;

//  By time, then measure index, then position (the last of equal points
//  comes last).
static int
s_record_cmp (const void *a, const void *b)
{
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    const ts_points_t *pts = s_sort_pts;
    if (pts->time_ms [i] != pts->time_ms [j])
        return pts->time_ms [i] < pts->time_ms [j]? -1: 1;
    if (pts->measure [i] != pts->measure [j])
        return pts->measure [i] < pts->measure [j]? -1: 1;
    return i < j? -1: i > j;
}

size_t *
ts_tms_records (const ts_points_t *pts, size_t *n)
{
    *n = 0;
    size_t *idx = pts->n? malloc (pts->n * sizeof *idx): NULL;
    if (!idx)
        return NULL;
    for (size_t i = 0; i < pts->n; i++)
        idx [i] = i;
    s_sort_pts = pts;
    qsort (idx, pts->n, sizeof *idx, s_record_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < pts->n; i++) {
        size_t next = i + 1 < pts->n? idx [i + 1]: SIZE_MAX;
        if (next != SIZE_MAX && pts->time_ms [next] == pts->time_ms [idx [i]]
        &&  pts->measure [next] == pts->measure [idx [i]])
            continue;           //  a later equal point follows: it wins
        idx [kept++] = idx [i];
    }
    *n = kept;
    return idx;
}

json_t *
ts_tms_write_body (const char *db, const char *table, const char *id,
                   int64_t version, const ts_points_t *pts,
                   const size_t *idx, size_t n, int *rc, char *err)
{
    *rc = TS_ENOMEM;
    json_t *records = json_array ();
    for (size_t k = 0; records && k < n; k++) {
        size_t i = idx [k];
        char value [TS_TMS_NUMLEN], time [24];
        if (ts_tms_value_text (pts->value [i], value)) {
            ts_errf (err, "store.timestream: id '%s' measure '%s' time %"
                     PRId64 ": a DOUBLE measure cannot hold %s", id,
                     ts_points_measure (pts, i), pts->time_ms [i], value);
            json_decref (records);
            *rc = TS_EINVAL;
            return NULL;
        }
        snprintf (time, sizeof time, "%" PRId64, pts->time_ms [i]);
        if (json_array_append_new (records, json_pack ("{ssssss}",
                "MeasureName", ts_points_measure (pts, i),
                "MeasureValue", value, "Time", time))) {
            json_decref (records);
            records = NULL;
        }
    }
    //  Members in the order AWS's SDKs write them (required ones first),
    //  so that the body is byte for byte theirs.
    json_t *body = records? json_pack ("{sssssos{s[{ssss}]sssssI}}",
        "DatabaseName", db, "TableName", table, "Records", records,
        "CommonAttributes",
        "Dimensions", "Name", TS_TMS_DIMENSION, "Value", id,
        "MeasureValueType", "DOUBLE", "TimeUnit", "MILLISECONDS",
        "Version", (json_int_t) version): NULL;
    if (!body)
        ts_errf (err, "store.timestream: out of memory");
    else
        *rc = 0;
    return body;
}

int
ts_tms_rejected_parse (const char *body, size_t len, const char *id,
                       const ts_points_t *pts, const size_t *idx, size_t n,
                       ts_strlist_t *lines)
{
    json_t *doc = body? json_loadb (body, len, 0, NULL): NULL;
    json_t *rejected = json_object_get (doc, "RejectedRecords");
    int count = 0;
    int rc = json_array_size (rejected)? 0: TS_EPROTO;
    for (size_t k = 0; rc == 0 && k < json_array_size (rejected); k++) {
        json_t *rec = json_array_get (rejected, k);
        json_t *index = json_object_get (rec, "RecordIndex");
        if (!json_is_integer (index) || json_integer_value (index) < 0
        ||  (size_t) json_integer_value (index) >= n) {
            rc = TS_EPROTO;
            break;
        }
        size_t i = idx [json_integer_value (index)];
        const char *reason = json_string_value (json_object_get (rec,
                                                                 "Reason"));
        json_t *existing = json_object_get (rec, "ExistingVersion");
        char line [640], version [48] = "";
        if (json_is_integer (existing))
            snprintf (version, sizeof version, " (existing version %" PRId64
                      ")", (int64_t) json_integer_value (existing));
        snprintf (line, sizeof line, "id '%s' measure '%s' time %" PRId64
                  ": %.300s%s", id, ts_points_measure (pts, i),
                  pts->time_ms [i], reason? reason: "no reason given",
                  version);
        if (ts_strlist_append (lines, line))
            rc = TS_ENOMEM;
        else
            count++;
    }
    json_decref (doc);
    return rc? rc: count;
}

void
ts_tms_rejected_errf (char *err, const ts_strlist_t *lines, size_t records)
{
    char text [TS_ERRLEN];
    int len = snprintf (text, sizeof text, "store.timestream: %zu of %zu "
                        "records rejected: ", lines->n, records);
    size_t shown = 0;
    //  Room kept for " (and N more)".
    const size_t tail = 24;
    for (size_t i = 0; i < lines->n; i++) {
        size_t need = strlen (lines->items [i]) + (shown? 2: 0);
        if ((size_t) len + need + tail >= sizeof text)
            break;
        len += snprintf (text + len, sizeof text - (size_t) len, "%s%s",
                         shown? "; ": "", lines->items [i]);
        shown++;
    }
    if (shown < lines->n)
        snprintf (text + len, sizeof text - (size_t) len, "%s(and %zu more)",
                  shown? " ": "", lines->n - shown);
    ts_errf (err, "%s", text);
}

//  ---------------------------------------------------------------------
//  Scalars

static const char *const s_type_names [] = {
    "", "VARCHAR", "BOOLEAN", "BIGINT", "INTEGER", "DOUBLE", "TIMESTAMP",
    "DATE", "TIME", "INTERVAL_DAY_TO_SECOND", "INTERVAL_YEAR_TO_MONTH",
    "UNKNOWN" };

ts_tms_type_t
ts_tms_type (const char *name)
{
    for (size_t i = 1; name && i < sizeof s_type_names / sizeof *s_type_names;
         i++)
        if (strcmp (name, s_type_names [i]) == 0)
            return (ts_tms_type_t) i;
    return TS_TMS_UNKNOWN_TYPE;
}

//  Reads exactly width digits at *p into *out; advances *p.
static bool
s_digits (const char **p, int width, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < width; i++) {
        if ((*p) [i] < '0' || (*p) [i] > '9')
            return false;
        v = v * 10 + ((*p) [i] - '0');
    }
    *p += width;
    *out = v;
    return true;
}

//  Reads a decimal integer of 1 to 18 digits, optionally signed.
static bool
s_integer (const char **p, int64_t *out)
{
    bool neg = **p == '-';
    if (neg)
        (*p)++;
    int64_t v = 0;
    int n = 0;
    while (**p >= '0' && **p <= '9' && n < 18) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = neg? -v: v;
    return n > 0 && !(**p >= '0' && **p <= '9');
}

//  "[-]YYYY-MM-DD" into days.
static bool
s_date (const char **p, int64_t *days)
{
    int64_t y, m, d;
    bool neg = **p == '-';
    if (neg)
        (*p)++;
    if (!s_digits (p, 4, &y) || *(*p)++ != '-' || !s_digits (p, 2, &m)
    ||  *(*p)++ != '-' || !s_digits (p, 2, &d) || m < 1 || m > 12
    ||  d < 1 || d > 31)
        return false;
    *days = ts_days_from_civil (neg? -y: y, (int) m, (int) d);
    return true;
}

//  "HH:MM:SS[.f{1,9}]" into nanoseconds.
static bool
s_clock (const char **p, int64_t *ns)
{
    int64_t h, m, s, frac = 0;
    if (!s_digits (p, 2, &h) || *(*p)++ != ':' || !s_digits (p, 2, &m)
    ||  *(*p)++ != ':' || !s_digits (p, 2, &s) || h > 23 || m > 59 || s > 60)
        return false;
    if (**p == '.') {
        (*p)++;
        int n = 0;
        while (**p >= '0' && **p <= '9' && n < 9) {
            frac = frac * 10 + (**p - '0');
            (*p)++;
            n++;
        }
        if (n == 0)
            return false;
        for (; n < 9; n++)
            frac *= 10;
    }
    *ns = ((h * 60 + m) * 60 + s) * INT64_C (1000000000) + frac;
    return true;
}

int
ts_tms_scalar_parse (ts_tms_type_t type, const char *text,
                     ts_tms_scalar_t *out)
{
    memset (out, 0, sizeof *out);
    out->type = type;
    if (!text) {
        out->null = true;
        return type == TS_TMS_UNKNOWN_TYPE? TS_EPROTO: 0;
    }
    const char *p = text;
    int64_t a = 0, b = 0;
    switch (type) {
        case TS_TMS_VARCHAR:
            out->text = text;
            return 0;
        case TS_TMS_BOOLEAN:
            if (strcmp (text, "true") && strcmp (text, "false"))
                return TS_EPROTO;
            out->boolean = text [0] == 't';
            return 0;
        case TS_TMS_BIGINT:
        case TS_TMS_INTEGER: {
            if (!*text || *text == ' ')
                return TS_EPROTO;
            char *end;
            errno = 0;
            long long v = strtoll (text, &end, 10);
            if (errno || *end || (type == TS_TMS_INTEGER
                                  && (v < INT32_MIN || v > INT32_MAX)))
                return TS_EPROTO;
            out->integer = v;
            return 0;
        }
        case TS_TMS_DOUBLE: {
            if (strcmp (text, "NaN") == 0)
                out->real = NAN;
            else if (strcmp (text, "Infinity") == 0)
                out->real = INFINITY;
            else if (strcmp (text, "-Infinity") == 0)
                out->real = -INFINITY;
            else {
                char *end;
                if (!*text || *text == ' ' || strpbrk (text, "iInN"))
                    return TS_EPROTO;
                out->real = strtod (text, &end);
                if (*end)
                    return TS_EPROTO;
            }
            return 0;
        }
        case TS_TMS_TIMESTAMP:
            //  ns since the epoch in int64: 1677-09-21 .. 2262-04-11.
            if (!s_date (&p, &a) || *p++ != ' ' || !s_clock (&p, &b) || *p
            ||  a < -106751 || a > 106750)
                return TS_EPROTO;
            out->integer = a * INT64_C (86400000000000) + b;
            return 0;
        case TS_TMS_DATE:
            if (!s_date (&p, &a) || *p)
                return TS_EPROTO;
            out->integer = a;
            return 0;
        case TS_TMS_TIME:
            if (!s_clock (&p, &b) || *p)
                return TS_EPROTO;
            out->integer = b;
            return 0;
        case TS_TMS_INTERVAL_DAY_TO_SECOND: {
            bool neg = *p == '-';
            if (neg)
                p++;
            //  The sign is the interval's; the days after it have none.
            if (!s_integer (&p, &a) || a < 0 || a > 106750 || *p++ != ' '
            ||  !s_clock (&p, &b) || *p)
                return TS_EPROTO;
            out->integer = (a * INT64_C (86400000000000) + b) * (neg? -1: 1);
            return 0;
        }
        case TS_TMS_INTERVAL_YEAR_TO_MONTH: {
            bool neg = *p == '-';
            if (neg)
                p++;
            if (!s_integer (&p, &a) || *p++ != '-' || !s_integer (&p, &b)
            ||  *p || a < 0 || b < 0 || b > 11 || a > INT64_C (100000000000))
                return TS_EPROTO;
            out->integer = (a * 12 + b) * (neg? -1: 1);
            return 0;
        }
        default:
            return TS_EPROTO;           //  UNKNOWN holds only null
    }
}

//  ---------------------------------------------------------------------
//  A Query page

//  The index of column name in info and its type; -1 if absent.
static int
s_column (const json_t *info, const char *name, ts_tms_type_t *type)
{
    for (size_t i = 0; i < json_array_size (info); i++) {
        const json_t *col = json_array_get (info, i);
        const char *n = json_string_value (json_object_get (col, "Name"));
        if (n && strcmp (n, name) == 0) {
            *type = ts_tms_type (json_string_value (json_object_get (
                json_object_get (col, "Type"), "ScalarType")));
            return (int) i;
        }
    }
    return -1;
}

//  The scalar of datum, of type.
static int
s_datum (const json_t *datum, ts_tms_type_t type, ts_tms_scalar_t *out)
{
    if (json_is_true (json_object_get (datum, "NullValue")))
        return ts_tms_scalar_parse (type, NULL, out);
    const char *text = json_string_value (json_object_get (datum,
                                                           "ScalarValue"));
    return text? ts_tms_scalar_parse (type, text, out): TS_EPROTO;
}

int
ts_tms_page_points (const json_t *page, size_t max, ts_points_t *out,
                    const char **next, char *err)
{
    *next = json_string_value (json_object_get (page, "NextToken"));
    const json_t *rows = json_object_get (page, "Rows");
    if (!json_is_array (rows)) {
        ts_errf (err, "store.timestream: Query: answer without Rows");
        return TS_EPROTO;
    }
    if (json_array_size (rows) == 0)
        return 0;
    const json_t *info = json_object_get (page, "ColumnInfo");
    ts_tms_type_t tm, tt, tv;
    int cm = s_column (info, "measure_name", &tm);
    int ct = s_column (info, "time_ms", &tt);
    int cv = s_column (info, "value", &tv);
    if (cm < 0 || ct < 0 || cv < 0 || tm != TS_TMS_VARCHAR
    ||  (tt != TS_TMS_BIGINT && tt != TS_TMS_TIMESTAMP)
    ||  (tv != TS_TMS_DOUBLE && tv != TS_TMS_BIGINT
         && tv != TS_TMS_INTEGER)) {
        ts_errf (err, "store.timestream: Query: answer's ColumnInfo lacks "
                 "measure_name VARCHAR, time_ms BIGINT or value DOUBLE");
        return TS_EPROTO;
    }
    for (size_t r = 0; r < json_array_size (rows); r++) {
        const json_t *data = json_object_get (json_array_get (rows, r),
                                              "Data");
        ts_tms_scalar_t m, t, v;
        if (s_datum (json_array_get (data, (size_t) cm), tm, &m)
        ||  s_datum (json_array_get (data, (size_t) ct), tt, &t)
        ||  s_datum (json_array_get (data, (size_t) cv), tv, &v)
        ||  m.null || t.null) {
            ts_errf (err, "store.timestream: Query: row %zu of a page is "
                     "not of its ColumnInfo", r);
            return TS_EPROTO;
        }
        if (v.null)
            continue;           //  a record the value column cannot read
        if (!ts_name_existing (m.text))
            continue;           //  a measure tscache could not have written
        if (out->n >= max)
            return TS_ETOOBIG;
        int64_t time_ms = tt == TS_TMS_TIMESTAMP? t.integer / 1000000
                                                : t.integer;
        double value = tv == TS_TMS_DOUBLE? v.real: (double) v.integer;
        int rc = ts_points_append (out, time_ms, m.text, value);
        if (rc) {
            ts_errf (err, "store.timestream: %s", rc == TS_ETOOBIG?
                     "too many measures": "out of memory");
            return rc == TS_ETOOBIG? TS_EBACKEND: rc;
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Versions

int64_t
ts_tms_version (int64_t now_us)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int64_t last;
    pthread_mutex_lock (&lock);
    int64_t version = now_us > last? now_us: last + 1;
    last = version;
    pthread_mutex_unlock (&lock);
    return version;
}
