/*  ts_proto_points - the columns of a query answer on the wire: the
    distinct measure names once ("measures"), then for history and for
    forecast the arrays "t" (times), "m" (measure indexes) and "v"
    (values; nil for none, NaN in a list), and the baseline. A reply of
    a million points costs no allocation per point either way (the measure table is a small linear
    array). Every encode and decode of points is here, in one file, in
    both encodings (docs/protocol.md 6.3): "columns" (v1: every time in
    full, every measure index, float64 values) and "compact" (the first
    time in full, then deltas, a run of one step as [step, count]; no
    "m" when the reply names one measure; float32 where that is exact,
    nil for null). See ts_proto_codec.h. */

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"

static const char *s_enc_names [TS_ENC_COUNT_] = { "columns", "compact" };

const char *
ts_enc_name (ts_enc_t enc)
{
    if ((int) enc < 0 || enc >= TS_ENC_COUNT_)
        return "?";
    return s_enc_names [enc];
}

int
ts_proto_get_enc (ts_proto_dec_t *dec, const msgpack_object *obj,
                  ts_enc_t *enc)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, "enc", "a string", obj);
    const char *text = obj->via.str.ptr;
    uint32_t len = obj->via.str.size;
    for (int e = 0; e < TS_ENC_COUNT_; e++)
        if (strlen (s_enc_names [e]) == len
        &&  memcmp (s_enc_names [e], text, len) == 0) {
            *enc = (ts_enc_t) e;
            return 0;
        }
    //  Name the value if it is short printable text, as sent.
    bool printable = len <= 32;
    for (uint32_t i = 0; printable && i < len; i++)
        printable = text [i] >= 0x20 && text [i] < 0x7f;
    if (printable)
        ts_errf (dec->err, "field 'enc': unknown encoding '%.*s' (use "
                 "columns or compact)", (int) len, text);
    else
        ts_errf (dec->err, "field 'enc': unknown encoding (use columns or "
                 "compact)");
    return TS_EPROTO;
}

//  Distinct measure names of a reply, in order of first appearance
//  across history and then forecast, and for each list the wire index of
//  each of its own measure indices. The names point into the lists;
//  nothing is copied. A list's table may hold names no point of it uses
//  any more (after the merge rule dropped points): only used ones are
//  sent.
typedef struct {
    const char **names;         //  n names sent, in wire order
    size_t       n;
    uint32_t    *map [2];       //  per list: its index -> wire index + 1
} s_mtable_t;

static void
s_mtable_fini (s_mtable_t *self)
{
    free (self->names);
    free (self->map [0]);
    free (self->map [1]);
    memset (self, 0, sizeof *self);
}

//  Builds the table for history (list 0) and forecast (list 1).
static int
s_mtable_init (s_mtable_t *self, const ts_points_t *lists [2])
{
    memset (self, 0, sizeof *self);
    size_t total = lists [0]->n_measures + lists [1]->n_measures;
    self->names = malloc ((total? total: 1) * sizeof (char *));
    if (!self->names)
        return TS_ENOMEM;
    for (int l = 0; l < 2; l++) {
        const ts_points_t *points = lists [l];
        self->map [l] = calloc (points->n_measures? points->n_measures: 1,
                                sizeof (uint32_t));
        if (!self->map [l]) {
            s_mtable_fini (self);
            return TS_ENOMEM;
        }
        size_t seen = 0;
        for (size_t i = 0; i < points->n && seen < points->n_measures; i++) {
            uint16_t m = points->measure [i];
            if (self->map [l][m])
                continue;
            seen++;
            const char *name = points->measures [m];
            size_t wire = self->n;
            for (size_t k = 0; k < self->n; k++)
                if (strcmp (self->names [k], name) == 0) {
                    wire = k;
                    break;
                }
            if (wire == self->n)
                self->names [self->n++] = name;
            self->map [l][m] = (uint32_t) wire + 1;
        }
    }
    return 0;
}

//  Writes "m": [...], the wire measure index of each point.
static int
s_pack_m (msgpack_packer *pk, const ts_points_t *points, const uint32_t *map)
{
    if (ts_proto_pack_cstr (pk, "m") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++) {
        assert (map [points->measure [i]]);
        if (msgpack_pack_uint32 (pk, map [points->measure [i]] - 1))
            return -1;
    }
    return 0;
}

//  Writes {"t": [...], "m": [...], "v": [...]} for one point list.
static int
s_pack_points (msgpack_packer *pk, const ts_points_t *points,
               const uint32_t *map)
{
    if (msgpack_pack_map (pk, 3)
    ||  ts_proto_pack_cstr (pk, "t") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++)
        if (msgpack_pack_int64 (pk, points->time_ms [i]))
            return -1;
    if (s_pack_m (pk, points, map)
    ||  ts_proto_pack_cstr (pk, "v") || msgpack_pack_array (pk, points->n))
        return -1;
    //  NaN (no value: fill=null) is nil.
    for (size_t i = 0; i < points->n; i++)
        if (isnan (points->value [i])? msgpack_pack_nil (pk)
                                     : msgpack_pack_double (pk,
                                                            points->value [i]))
            return -1;
    return 0;
}

//  Bytes of the msgpack integer v as msgpack_pack_int64 writes it.
static size_t
s_int_size (int64_t v)
{
    if (v >= -32 && v <= 127)
        return 1;
    if (v >= 0)
        return v <= 0xff? 2: v <= 0xffff? 3: v <= 0xffffffffLL? 5: 9;
    return v >= -128? 2: v >= -32768? 3: v >= INT32_MIN? 5: 9;
}

//  Time i of points minus time i - 1, modulo 2^64 (docs/protocol.md 6.3:
//  a decoder adds deltas the same way; sorted times never wrap).
static inline int64_t
s_delta (const ts_points_t *points, size_t i)
{
    return (int64_t) ((uint64_t) points->time_ms [i]
                    - (uint64_t) points->time_ms [i - 1]);
}

//  The deltas from point i on (1 <= i < n): sets *k to how many of them
//  equal delta i, and returns true if [delta, k] is shorter on the wire
//  than k plain deltas.
static bool
s_time_run (const ts_points_t *points, size_t i, size_t *k)
{
    int64_t d = s_delta (points, i);
    size_t run = 1;
    while (i + run < points->n && s_delta (points, i + run) == d)
        run++;
    *k = run;
    return run > 1 && 1 + s_int_size (d) + s_int_size ((int64_t) run)
                      < run * s_int_size (d);
}

//  A value compact: nil for null (NaN), float32 if that is exact, else
//  float64.
static int
s_pack_value (msgpack_packer *pk, double value)
{
    if (isnan (value))
        return msgpack_pack_nil (pk);
    if (isinf (value) || fabs (value) <= FLT_MAX) {
        float narrow = (float) value;
        if ((double) narrow == value)
            return msgpack_pack_float (pk, narrow);
    }
    return msgpack_pack_double (pk, value);
}

//  Writes {"t": [...], ["m": [...],] "v": [...]} compact for one list:
//  "t" is the first time, then per following point its delta or, for a
//  run of equal deltas where that is shorter, [delta, count].
static int
s_pack_compact (msgpack_packer *pk, const ts_points_t *points,
                const uint32_t *map, bool with_m)
{
    size_t items = points->n? 1: 0;
    for (size_t i = 1, k; i < points->n; i += k)
        if (!s_time_run (points, i, &k))
            items += k;
        else
            items++;
    if (msgpack_pack_map (pk, with_m? 3: 2)
    ||  ts_proto_pack_cstr (pk, "t") || msgpack_pack_array (pk, items))
        return -1;
    if (points->n && msgpack_pack_int64 (pk, points->time_ms [0]))
        return -1;
    for (size_t i = 1, k; i < points->n; i += k) {
        if (s_time_run (points, i, &k)) {
            if (msgpack_pack_array (pk, 2)
            ||  msgpack_pack_int64 (pk, s_delta (points, i))
            ||  msgpack_pack_uint64 (pk, k))
                return -1;
        }
        else
        for (size_t j = i; j < i + k; j++)
            if (msgpack_pack_int64 (pk, s_delta (points, j)))
                return -1;
    }
    if ((with_m && s_pack_m (pk, points, map))
    ||  ts_proto_pack_cstr (pk, "v") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++)
        if (s_pack_value (pk, points->value [i]))
            return -1;
    return 0;
}

size_t
ts_proto_series_fields (ts_enc_t enc)
{
    return enc == TS_ENC_COLUMNS? 7: 8;
}

//  One list in encoding enc.
static int
s_pack_list (msgpack_packer *pk, const ts_points_t *points,
             const uint32_t *map, const s_mtable_t *mtable, ts_enc_t enc)
{
    if (enc == TS_ENC_COMPACT)
        return s_pack_compact (pk, points, map, mtable->n > 1);
    return s_pack_points (pk, points, map);
}

int
ts_proto_encode_series (msgpack_packer *pk, const ts_msg_t *self,
                        ts_enc_t enc)
{
    const ts_series_t *series = &self->series;
    s_mtable_t mtable;
    const ts_points_t *lists [2] = { series->history, series->forecast };
    if (s_mtable_init (&mtable, lists))
        return -1;
    int rc = -1;
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "id"));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->id));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "from"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, self->from_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "to"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, self->to_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "baseline"));
    if (series->has_baseline)
        TS_PROTO_TRY (msgpack_pack_int64 (pk, series->baseline_ms));
    else
        TS_PROTO_TRY (msgpack_pack_nil (pk));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "measures"));
    TS_PROTO_TRY (msgpack_pack_array (pk, mtable.n));
    for (size_t i = 0; i < mtable.n; i++)
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, mtable.names [i]));
    if (enc != TS_ENC_COLUMNS) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "enc"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, ts_enc_name (enc)));
    }
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "history"));
    TS_PROTO_TRY (s_pack_list (pk, series->history, mtable.map [0], &mtable,
                               enc));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "forecast"));
    TS_PROTO_TRY (s_pack_list (pk, series->forecast, mtable.map [1],
                               &mtable, enc));
    rc = 0;
nomem:
    s_mtable_fini (&mtable);
    return rc;
}

//  Wire index -> a list's own measure index + 1, filled on first use.
typedef struct {
    uint32_t own [TS_PROTO_MAX_MEASURES];
} s_mmap_t;

//  Point i's measure: wire index obj (a "m" item), into points->measure.
static int
s_get_measure (ts_proto_dec_t *dec, const char *mname,
               const msgpack_object *obj,
               const msgpack_object_array *measures, s_mmap_t *map,
               ts_points_t *points, size_t i)
{
    uint64_t index = 0;
    if (obj && ts_proto_get_uint64 (dec, mname, obj, &index))
        return TS_EPROTO;
    if (index >= measures->size) {
        ts_errf (dec->err, "field '%s': index %llu out of range "
                 "(%u measures)", mname, (unsigned long long) index,
                 (unsigned) measures->size);
        return TS_EPROTO;
    }
    if (!map->own [index]) {
        const msgpack_object *measure = &measures->ptr [index];
        uint16_t own;
        int rc = ts_points_measure_index (points, measure->via.str.ptr,
                                          measure->via.str.size, &own);
        if (rc)
            return rc;
        map->own [index] = (uint32_t) own + 1;
    }
    points->measure [i] = (uint16_t) (map->own [index] - 1);
    return 0;
}

//  A value: a number, or nil (null: NaN).
static int
s_get_value (ts_proto_dec_t *dec, const char *name, const msgpack_object *v,
             double *value)
{
    switch (v->type) {
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            *value = v->via.f64;
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            *value = (double) v->via.u64;
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            *value = (double) v->via.i64;
            return 0;
        case MSGPACK_OBJECT_NIL:
            *value = NAN;           //  no value (a bucket without one)
            return 0;
        default:
            ts_errf (dec->err, "field '%s.v': expected a number or nil, "
                     "got %s", name, ts_proto_type_name (v->type));
            return TS_EPROTO;
    }
}

static int
s_get_points (ts_proto_dec_t *dec, const char *name,
              const msgpack_object_array *col [3],
              const msgpack_object_array *measures, ts_points_t *points)
{
    uint32_t n = col [0]->size;
    ts_points_clear (points);
    if (ts_points_reserve (points, n))
        return TS_ENOMEM;
    s_mmap_t map = { { 0 } };
    char tname [16], mname [16];
    snprintf (tname, sizeof (tname), "%s.t", name);
    snprintf (mname, sizeof (mname), "%s.m", name);
    for (uint32_t i = 0; i < n; i++) {
        int rc;
        if (ts_proto_get_int64 (dec, tname, &col [0]->ptr [i],
                                &points->time_ms [i]))
            return TS_EPROTO;
        if ((rc = s_get_measure (dec, mname, &col [1]->ptr [i], measures,
                                 &map, points, i))
        ||  (rc = s_get_value (dec, name, &col [2]->ptr [i],
                               &points->value [i])))
            return rc;
    }
    points->n = n;
    return 0;
}

//  One of "history" / "forecast": checks its shape and sets its columns
//  "t", "m" and "v". Compact: "m" may be absent (col [1] NULL) and "t"
//  has its own length.
static int
s_check_points (ts_proto_dec_t *dec, const char *name,
                const msgpack_object *obj,
                const msgpack_object_array *col [3], bool compact)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return ts_proto_type_error (dec, name, "a map", obj);
    static const char *keys [3] = { "t", "m", "v" };
    for (int i = 0; i < 3; i++) {
        const msgpack_object *array = ts_proto_map_get (obj, keys [i]);
        col [i] = NULL;
        if (!array && i == 1 && compact)
            continue;
        if (!array) {
            ts_errf (dec->err, "missing field '%s.%s'", name, keys [i]);
            return TS_EPROTO;
        }
        if (array->type != MSGPACK_OBJECT_ARRAY) {
            ts_errf (dec->err, "field '%s.%s': expected an array, got %s",
                     name, keys [i], ts_proto_type_name (array->type));
            return TS_EPROTO;
        }
        col [i] = &array->via.array;
    }
    if (!compact
    &&  (col [0]->size != col [1]->size || col [0]->size != col [2]->size)) {
        ts_errf (dec->err, "field '%s': 't', 'm' and 'v' have different "
                 "lengths (%u, %u, %u)", name, (unsigned) col [0]->size,
                 (unsigned) col [1]->size, (unsigned) col [2]->size);
        return TS_EPROTO;
    }
    if (col [1] && col [1]->size != col [2]->size) {
        ts_errf (dec->err, "field '%s': 'm' and 'v' have different lengths "
                 "(%u, %u)", name, (unsigned) col [1]->size,
                 (unsigned) col [2]->size);
        return TS_EPROTO;
    }
    return 0;
}

//  A compact delta: any msgpack integer, taken modulo 2^64.
static int
s_get_delta (ts_proto_dec_t *dec, const char *tname,
             const msgpack_object *obj, uint64_t *delta)
{
    if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  obj->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return ts_proto_type_error (dec, tname, "an integer or [delta, "
                                    "count]", obj);
    *delta = obj->via.u64;      //  i64 and u64 share their bits
    return 0;
}

//  The compact "t" of n points into points->time_ms.
static int
s_get_compact_times (ts_proto_dec_t *dec, const char *tname,
                     const msgpack_object_array *t, uint32_t n,
                     ts_points_t *points)
{
    if (n == 0 || t->size == 0) {
        if (n == t->size)
            return 0;
        ts_errf (dec->err, "field '%s': %u items for %u values", tname,
                 (unsigned) t->size, (unsigned) n);
        return TS_EPROTO;
    }
    if (ts_proto_get_int64 (dec, tname, &t->ptr [0], &points->time_ms [0]))
        return TS_EPROTO;
    uint64_t at = (uint64_t) points->time_ms [0];
    uint32_t count = 1;
    for (uint32_t item = 1; item < t->size; item++) {
        const msgpack_object *obj = &t->ptr [item];
        uint64_t delta = 0, run = 1;
        if (obj->type == MSGPACK_OBJECT_ARRAY) {
            const msgpack_object_array *pair = &obj->via.array;
            if (pair->size != 2) {
                ts_errf (dec->err, "field '%s': item %u: a run is [delta, "
                         "count], got %u items", tname, (unsigned) item,
                         (unsigned) pair->size);
                return TS_EPROTO;
            }
            if (s_get_delta (dec, tname, &pair->ptr [0], &delta)
            ||  ts_proto_get_uint64 (dec, tname, &pair->ptr [1], &run))
                return TS_EPROTO;
            if (run == 0) {
                ts_errf (dec->err, "field '%s': item %u: a run of 0 "
                         "points", tname, (unsigned) item);
                return TS_EPROTO;
            }
        }
        else
        if (s_get_delta (dec, tname, obj, &delta))
            return TS_EPROTO;
        if (run > n - count) {
            ts_errf (dec->err, "field '%s': more times than the %u values",
                     tname, (unsigned) n);
            return TS_EPROTO;
        }
        for (uint64_t k = 0; k < run; k++) {
            at += delta;
            points->time_ms [count++] = (int64_t) at;
        }
    }
    if (count != n) {
        ts_errf (dec->err, "field '%s': %u times for %u values", tname,
                 (unsigned) count, (unsigned) n);
        return TS_EPROTO;
    }
    return 0;
}

static int
s_get_compact (ts_proto_dec_t *dec, const char *name,
               const msgpack_object_array *col [3],
               const msgpack_object_array *measures, ts_points_t *points)
{
    uint32_t n = col [2]->size;
    ts_points_clear (points);
    if (ts_points_reserve (points, n))
        return TS_ENOMEM;
    char tname [16], mname [16];
    snprintf (tname, sizeof (tname), "%s.t", name);
    snprintf (mname, sizeof (mname), "%s.m", name);
    if (!col [1] && n && measures->size != 1) {
        ts_errf (dec->err, "missing field '%s' (the reply names %u "
                 "measures)", mname, (unsigned) measures->size);
        return TS_EPROTO;
    }
    int rc = s_get_compact_times (dec, tname, col [0], n, points);
    if (rc)
        return rc;
    s_mmap_t map = { { 0 } };
    for (uint32_t i = 0; i < n; i++)
        if ((rc = s_get_measure (dec, mname, col [1]? &col [1]->ptr [i]: NULL,
                                 measures, &map, points, i))
        ||  (rc = s_get_value (dec, name, &col [2]->ptr [i],
                               &points->value [i])))
            return rc;
    points->n = n;
    return 0;
}

//  The query answer part of a reply: id, from, to, baseline, measures,
//  history, forecast (all required once any of them is present).
int
ts_proto_decode_series (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *id = ts_proto_field (dec, F_ID, true, &rc);
    const msgpack_object *from = ts_proto_field (dec, F_FROM, true, &rc);
    const msgpack_object *to = ts_proto_field (dec, F_TO, true, &rc);
    const msgpack_object *baseline =
        ts_proto_field (dec, F_BASELINE, true, &rc);
    const msgpack_object *measures =
        ts_proto_field (dec, F_MEASURES, true, &rc);
    const msgpack_object *history = ts_proto_field (dec, F_HISTORY, true, &rc);
    const msgpack_object *forecast =
        ts_proto_field (dec, F_FORECAST, true, &rc);
    if (rc)
        return rc;
    const msgpack_object *enc = dec->field [F_ENC];
    self->enc = TS_ENC_COLUMNS;
    if (enc && (rc = ts_proto_get_enc (dec, enc, &self->enc)))
        return rc;
    if ((rc = ts_proto_get_name (dec, "id", id, self->id))
    ||  (rc = ts_proto_get_int64 (dec, "from", from, &self->from_ms))
    ||  (rc = ts_proto_get_int64 (dec, "to", to, &self->to_ms)))
        return rc;
    self->has_from = self->has_to = true;
    if (baseline->type != MSGPACK_OBJECT_NIL) {
        if ((rc = ts_proto_get_int64 (dec, "baseline", baseline,
                               &self->series.baseline_ms)))
            return rc;
        self->series.has_baseline = true;
    }

    if (measures->type != MSGPACK_OBJECT_ARRAY)
        return ts_proto_type_error (dec, "measures", "an array", measures);
    const msgpack_object_array *table = &measures->via.array;
    if (table->size > TS_PROTO_MAX_MEASURES) {
        ts_errf (dec->err, "field 'measures': %u measures, over the limit "
                 "of %d", (unsigned) table->size, TS_PROTO_MAX_MEASURES);
        return TS_ETOOBIG;
    }
    for (uint32_t i = 0; i < table->size; i++) {
        const msgpack_object *name = &table->ptr [i];
        if (name->type != MSGPACK_OBJECT_STR
        ||  !ts_name_existing_n (name->via.str.ptr, name->via.str.size)) {
            ts_errf (dec->err, "field 'measures': item %u: not a valid "
                     "name (use " TS_NAME_RULE ")", (unsigned) i);
            return TS_EPROTO;
        }
        for (uint32_t j = 0; j < i; j++)
            if (table->ptr [j].via.str.size == name->via.str.size
            &&  memcmp (table->ptr [j].via.str.ptr, name->via.str.ptr,
                        name->via.str.size) == 0) {
                ts_errf (dec->err, "field 'measures': item %u repeats "
                         "item %u", (unsigned) i, (unsigned) j);
                return TS_EPROTO;
            }
    }

    const msgpack_object_array *hcol [3], *fcol [3];
    bool compact = self->enc == TS_ENC_COMPACT;
    if ((rc = s_check_points (dec, "history", history, hcol, compact))
    ||  (rc = s_check_points (dec, "forecast", forecast, fcol, compact)))
        return rc;
    uint64_t total = (uint64_t) hcol [2]->size + fcol [2]->size;
    if (total > TS_PROTO_MAX_POINTS) {
        ts_errf (dec->err, "reply holds %llu points, over the limit of %d",
                 (unsigned long long) total, TS_PROTO_MAX_POINTS);
        return TS_ETOOBIG;
    }
    if (compact
    && ((rc = s_get_compact (dec, "history", hcol, table,
                             self->series.history))
    ||  (rc = s_get_compact (dec, "forecast", fcol, table,
                             self->series.forecast))))
        return rc;
    if (!compact
    && ((rc = s_get_points (dec, "history", hcol, table,
                            self->series.history))
    ||  (rc = s_get_points (dec, "forecast", fcol, table,
                            self->series.forecast))))
        return rc;
    self->has_series = true;
    return 0;
}
