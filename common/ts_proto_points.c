/*  ts_proto_points - the columns of a query answer on the wire: the
    distinct measure names once ("measures"), then for history and for
    forecast the arrays "t" (times), "m" (measure indexes) and "v"
    (values; nil for none, NaN in a list), and the baseline. A reply of a million points costs no
    allocation per point either way (the measure table is a small linear
    array). Every encode and decode of points is here, in one file. See
    ts_proto_codec.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"

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
    if (ts_proto_pack_cstr (pk, "m") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++) {
        assert (map [points->measure [i]]);
        if (msgpack_pack_uint32 (pk, map [points->measure [i]] - 1))
            return -1;
    }
    if (ts_proto_pack_cstr (pk, "v") || msgpack_pack_array (pk, points->n))
        return -1;
    //  NaN (no value: fill=null) is nil.
    for (size_t i = 0; i < points->n; i++)
        if (isnan (points->value [i])? msgpack_pack_nil (pk)
                                     : msgpack_pack_double (pk,
                                                            points->value [i]))
            return -1;
    return 0;
}

int
ts_proto_encode_series (msgpack_packer *pk, const ts_msg_t *self)
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
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "history"));
    TS_PROTO_TRY (s_pack_points (pk, series->history, mtable.map [0]));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "forecast"));
    TS_PROTO_TRY (s_pack_points (pk, series->forecast, mtable.map [1]));
    rc = 0;
nomem:
    s_mtable_fini (&mtable);
    return rc;
}

//  One of "history" / "forecast": checks shape and counts its points.
static int
s_check_points (ts_proto_dec_t *dec, const char *name,
                const msgpack_object *obj, const msgpack_object_array *col [3])
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return ts_proto_type_error (dec, name, "a map", obj);
    static const char *keys [3] = { "t", "m", "v" };
    for (int i = 0; i < 3; i++) {
        const msgpack_object *array = ts_proto_map_get (obj, keys [i]);
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
    if (col [0]->size != col [1]->size || col [0]->size != col [2]->size) {
        ts_errf (dec->err, "field '%s': 't', 'm' and 'v' have different "
                 "lengths (%u, %u, %u)", name, (unsigned) col [0]->size,
                 (unsigned) col [1]->size, (unsigned) col [2]->size);
        return TS_EPROTO;
    }
    return 0;
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
    //  Wire index -> the list's own index + 1, filled on first use.
    uint32_t map [TS_PROTO_MAX_MEASURES] = { 0 };
    char tname [16], mname [16];
    snprintf (tname, sizeof (tname), "%s.t", name);
    snprintf (mname, sizeof (mname), "%s.m", name);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *t = &col [0]->ptr [i];
        const msgpack_object *m = &col [1]->ptr [i];
        const msgpack_object *v = &col [2]->ptr [i];

        if (ts_proto_get_int64 (dec, tname, t, &points->time_ms [i]))
            return TS_EPROTO;

        uint64_t index;
        if (ts_proto_get_uint64 (dec, mname, m, &index))
            return TS_EPROTO;
        if (index >= measures->size) {
            ts_errf (dec->err, "field '%s': index %llu out of range "
                     "(%u measures)", mname, (unsigned long long) index,
                     (unsigned) measures->size);
            return TS_EPROTO;
        }
        if (!map [index]) {
            const msgpack_object *measure = &measures->ptr [index];
            uint16_t own;
            int rc = ts_points_measure_index (points, measure->via.str.ptr,
                                              measure->via.str.size, &own);
            if (rc)
                return rc;
            map [index] = (uint32_t) own + 1;
        }
        points->measure [i] = (uint16_t) (map [index] - 1);
        double *value = &points->value [i];

        switch (v->type) {
            case MSGPACK_OBJECT_FLOAT32:
            case MSGPACK_OBJECT_FLOAT64:
                *value = v->via.f64;
                break;
            case MSGPACK_OBJECT_POSITIVE_INTEGER:
                *value = (double) v->via.u64;
                break;
            case MSGPACK_OBJECT_NEGATIVE_INTEGER:
                *value = (double) v->via.i64;
                break;
            case MSGPACK_OBJECT_NIL:
                *value = NAN;           //  a bucket without a value
                break;
            default:
                ts_errf (dec->err, "field '%s.v': expected a number, got %s",
                         name, ts_proto_type_name (v->type));
                return TS_EPROTO;
        }
    }
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
    if ((rc = s_check_points (dec, "history", history, hcol))
    ||  (rc = s_check_points (dec, "forecast", forecast, fcol)))
        return rc;
    uint64_t total = (uint64_t) hcol [0]->size + fcol [0]->size;
    if (total > TS_PROTO_MAX_POINTS) {
        ts_errf (dec->err, "reply holds %llu points, over the limit of %d",
                 (unsigned long long) total, TS_PROTO_MAX_POINTS);
        return TS_ETOOBIG;
    }
    if ((rc = s_get_points (dec, "history", hcol, table,
                            self->series.history))
    ||  (rc = s_get_points (dec, "forecast", fcol, table,
                            self->series.forecast)))
        return rc;
    self->has_series = true;
    return 0;
}
