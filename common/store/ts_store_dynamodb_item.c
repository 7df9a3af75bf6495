/*  ts_store_dynamodb_item - the DynamoDB backend's item layout: times and
    values as DynamoDB numbers, a forecast's points as items and items
    back as points (ts_store_dynamodb.h, docs/dynamodb.md). No I/O. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_dynamodb.h"

//  |t| of a time in ms, without overflow for INT64_MIN.
static uint64_t
s_abs (int64_t t)
{
    return t < 0? (uint64_t) -(t + 1) + 1: (uint64_t) t;
}

void
ts_dyn_time_text (int64_t time_ms, int slot, char *buf)
{
    uint64_t a = s_abs (time_ms);
    snprintf (buf, TS_DYN_NUMLEN, "%s%llu.%03u%d", time_ms < 0? "-": "",
              (unsigned long long) (a / 1000), (unsigned) (a % 1000),
              slot & 1);
}

void
ts_dyn_bound_text (int64_t time_ms, bool upper, char *buf)
{
    //  One millisecond out holds both slots of the edge time; at the ends
    //  of int64 (which cannot move out) the text itself goes one further.
    bool end = upper? time_ms == INT64_MAX: time_ms == INT64_MIN;
    if (!end)
        time_ms += upper? 1: -1;
    uint64_t a = s_abs (time_ms) + end;
    snprintf (buf, TS_DYN_NUMLEN, "%s%llu.%03u", time_ms < 0? "-": "",
              (unsigned long long) (a / 1000), (unsigned) (a % 1000));
}

//  Splits a number's text into sign, significant digits (no leading nor
//  trailing zeros) and the position of the decimal point among them
//  (value = 0.DIGITS * 10^point). False if text is not a number.
static bool
s_number_parts (const char *text, bool *neg, char *digits, size_t size,
                long *point)
{
    const char *p = text;
    *neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    size_t n = 0;
    long pos = 0;
    bool seen_point = false, any = false;
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return false;
        any = true;
        if (n == 0 && *p == '0') {      //  a leading zero
            if (seen_point)
                pos--;
            continue;
        }
        if (n + 1 >= size)
            return false;
        digits [n++] = *p;
        if (!seen_point)
            pos++;
    }
    if (!any)
        return false;
    if (*p == 'e' || *p == 'E') {
        char *end = NULL;
        long exp = strtol (p + 1, &end, 10);
        if (end == p + 1 || *end || exp > 1000 || exp < -1000)
            return false;
        pos += exp;
    }
    while (n > 0 && digits [n - 1] == '0')
        n--;
    digits [n] = 0;
    if (n == 0)
        *neg = false;
    *point = pos;
    return true;
}

bool
ts_dyn_time_ms (const char *text, int64_t *time_ms)
{
    char digits [64];
    bool neg = false;
    long point = 0;
    if (!s_number_parts (text, &neg, digits, sizeof digits, &point))
        return false;
    size_t n = strlen (digits);
    long k = n? point + 3: 0;          //  digits before the ms point
    if (k > 19)
        return false;
    uint64_t acc = 0;
    for (long i = 0; i < k; i++) {
        unsigned d = (size_t) i < n? (unsigned) (digits [i] - '0'): 0;
        if (acc > (UINT64_MAX - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    if (neg? acc > (uint64_t) INT64_MAX + 1: acc > (uint64_t) INT64_MAX)
        return false;
    *time_ms = neg? (int64_t) (0 - acc): (int64_t) acc;
    return true;
}

bool
ts_dyn_number_canon (const char *text, char *buf, size_t size)
{
    char digits [64];
    bool neg = false;
    long point = 0;
    if (!s_number_parts (text, &neg, digits, sizeof digits, &point))
        return false;
    if (!*digits)
        point = 0;
    snprintf (buf, size, "%s0.%se%ld", neg? "-": "", digits, point);
    return true;
}

int
ts_dyn_value_text (double value, char *buf)
{
    double mag = fabs (value);
    if (!isfinite (value) || (mag != 0 && (mag < 1e-130 || mag >= 9.99e125)))
        return TS_EINVAL;
    for (int precision = 15; precision <= 17; precision++) {
        snprintf (buf, TS_DYN_NUMLEN, "%.*g", precision, value);
        if (strtod (buf, NULL) == value)
            break;
    }
    return 0;
}

//  Sorts point indices of pts by time, then by position (the last of
//  equal points is applied last).
static int
s_by_time (const void *a, const void *b, void *pts)
{
    const int64_t *time_ms = ((const ts_points_t *) pts)->time_ms;
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    int64_t ti = time_ms [i], tj = time_ms [j];
    if (ti != tj)
        return ti < tj? -1: 1;
    return i < j? -1: i > j;
}

//  {"N": text} or {"S": text}.
static json_t *
s_attr (const char *type, const char *text)
{
    return json_pack ("{ss}", type, text);
}

//  The attribute name of measure into buf.
static void
s_measure_attr (const char *measure, char *buf, size_t size)
{
    if (strcmp (measure, "value") == 0)
        snprintf (buf, size, "value");
    else
        snprintf (buf, size, TS_DYN_MEASURE "%s", measure);
}

//  Sets expiry (epoch seconds, rounded up: the TTL attribute) and
//  expiry_ms of item. Returns 0 or TS_ENOMEM.
static int
s_set_expiry (json_t *item, int64_t expires_ms)
{
    char expiry [32], expiry_ms [32];
    int64_t expiry_s = expires_ms / 1000 + (expires_ms % 1000 > 0);
    snprintf (expiry, sizeof expiry, "%lld", (long long) expiry_s);
    snprintf (expiry_ms, sizeof expiry_ms, "%lld", (long long) expires_ms);
    return json_object_set_new (item, "expiry", s_attr ("N", expiry))
        || json_object_set_new (item, "expiry_ms", s_attr ("N", expiry_ms))?
           TS_ENOMEM: 0;
}

json_t *
ts_dyn_head_request (const char *id, int64_t gen, int64_t expires_ms)
{
    char gen_text [32];
    snprintf (gen_text, sizeof gen_text, "%lld", (long long) gen);
    json_t *item = json_pack ("{s{ss}s{ss}s{ss}}", "identifier", "S", id,
                              "time", "N", TS_DYN_HEAD_TIME,
                              "head_gen", "N", gen_text);
    if (!item || s_set_expiry (item, expires_ms)) {
        json_decref (item);
        return NULL;
    }
    return json_pack ("{s{so}}", "PutRequest", "Item", item);
}

int
ts_dyn_forecast_items (const char *id, const ts_points_t *pts,
                       int64_t gen, int64_t expires_ms,
                       json_t *requests, json_t *keys, char *err)
{
    if (pts->n == 0)
        return 0;
    size_t *order = malloc (pts->n * sizeof *order);
    if (!order) {
        ts_errf (err, "store.dynamodb: out of memory");
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < pts->n; i++)
        order [i] = i;
    qsort_r (order, pts->n, sizeof *order, s_by_time, (void *) pts);
    char gen_text [32];
    snprintf (gen_text, sizeof gen_text, "%lld", (long long) gen);
    int rc = 0;
    json_t *item = NULL;
    for (size_t k = 0; k < pts->n && rc == 0; k++) {
        size_t i = order [k];
        if (!item || pts->time_ms [i] != pts->time_ms [order [k - 1]]) {
            char time_text [TS_DYN_NUMLEN];
            ts_dyn_time_text (pts->time_ms [i], (int) (gen & 1), time_text);
            item = json_pack ("{s{ss}s{ss}s{ss}}",
                              "identifier", "S", id, "time", "N", time_text,
                              "gen", "N", gen_text);
            if (!item || s_set_expiry (item, expires_ms)
            ||  json_array_append_new (requests,
                    json_pack ("{s{so}}", "PutRequest", "Item", item))
            ||  json_array_append_new (keys, json_string (time_text))) {
                rc = TS_ENOMEM;
                break;
            }
        }
        char value [TS_DYN_NUMLEN], name [TS_NAME_MAX + 8];
        const char *measure = ts_points_measure (pts, i);
        if (ts_dyn_value_text (pts->value [i], value)) {
            ts_errf (err, "store.dynamodb: %s: value %g of %s at %lld ms "
                     "is not a number DynamoDB can hold", id,
                     pts->value [i], measure, (long long) pts->time_ms [i]);
            rc = TS_EINVAL;
            break;
        }
        s_measure_attr (measure, name, sizeof name);
        if (json_object_set_new (item, name, s_attr ("N", value)))
            rc = TS_ENOMEM;
    }
    if (rc == TS_ENOMEM)
        ts_errf (err, "store.dynamodb: out of memory");
    free (order);
    return rc;
}

int64_t
ts_dyn_attr_int (const json_t *item, const char *name, int64_t fallback)
{
    const char *text = json_string_value (
        json_object_get (json_object_get (item, name), "N"));
    if (!text)
        return fallback;
    char *end = NULL;
    long long v = strtoll (text, &end, 10);
    return end != text && *end == 0? (int64_t) v: fallback;
}

bool
ts_dyn_item_expired (const json_t *item, int64_t now_ms)
{
    int64_t expiry_ms = ts_dyn_attr_int (item, "expiry_ms", INT64_MIN);
    if (expiry_ms == INT64_MIN) {
        int64_t expiry = ts_dyn_attr_int (item, "expiry", INT64_MIN);
        if (expiry == INT64_MIN)
            return false;
        expiry_ms = expiry > INT64_MAX / 1000? INT64_MAX:
                    expiry < INT64_MIN / 1000? INT64_MIN + 1: expiry * 1000;
    }
    return expiry_ms <= now_ms;
}

//  A number or string attribute's value; false if it is neither.
static bool
s_attr_double (const json_t *attr, double *value)
{
    const char *text = json_string_value (json_object_get (attr, "N"));
    if (!text)
        text = json_string_value (json_object_get (attr, "S"));
    if (!text)
        return false;
    char *end = NULL;
    *value = strtod (text, &end);
    return end != text && *end == 0;
}

//  The measure an attribute holds, or NULL.
static const char *
s_attr_measure (const char *name)
{
    if (strcmp (name, "value") == 0)
        return "value";
    size_t len = strlen (TS_DYN_MEASURE);
    if (strncmp (name, TS_DYN_MEASURE, len) == 0
    &&  ts_name_existing (name + len))
        return name + len;
    return NULL;
}

size_t
ts_dyn_item_count (const json_t *item)
{
    if (json_object_get (item, "head_gen"))
        return 0;
    size_t n = 0;
    const char *name;
    json_t *attr;
    json_object_foreach ((json_t *) item, name, attr)
        n += s_attr_measure (name) != NULL;
    return n;
}

int
ts_dyn_item_points (const json_t *item, int64_t gen, const char *measure,
                    int64_t from_ms, int64_t to_ms, int64_t now_ms,
                    ts_points_t *out)
{
    if (json_object_get (item, "head_gen")
    ||  ts_dyn_attr_int (item, "gen", 0) != gen
    ||  ts_dyn_item_expired (item, now_ms))
        return 0;
    int64_t time_ms = 0;
    const char *time_text = json_string_value (
        json_object_get (json_object_get (item, "time"), "N"));
    if (!time_text || !ts_dyn_time_ms (time_text, &time_ms)
    ||  time_ms < from_ms || time_ms > to_ms)
        return 0;
    const char *name;
    json_t *attr;
    json_object_foreach ((json_t *) item, name, attr) {
        const char *m = s_attr_measure (name);
        double value = 0;
        if (!m || (measure && strcmp (m, measure) != 0)
        ||  !s_attr_double (attr, &value))
            continue;
        int rc = ts_points_append (out, time_ms, m, value);
        if (rc)
            return rc;
    }
    return 0;
}
