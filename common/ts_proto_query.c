/*  ts_proto_query - the query request's options on the wire (docs/
    protocol.md 5.2): from/to as integers or strings, measure as a name
    or an array, step, agg, max_points, fill, limit, next; and the
    reply's echo of agg and fill. Strings are read by ts_query_param, the
    parser HTTP uses too. See ts_proto_codec.h. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ts_proto_codec.h"
#include "ts_duration.h"
#include "ts_query.h"

//  "from"/"to": an integer as given, or a relative time as a string
//  "now+Nms" / "now-Nms" (ts_query_time reads it back).
int
ts_proto_pack_time (msgpack_packer *pk, const char *key, int64_t ms, bool relative)
{
    if (ts_proto_pack_cstr (pk, key))
        return -1;
    if (!relative)
        return msgpack_pack_int64 (pk, ms);
    char text [48];
    snprintf (text, sizeof text, "now%c%" PRIu64 "ms", ms < 0? '-': '+',
              ms < 0? 0 - (uint64_t) ms: (uint64_t) ms);
    return ts_proto_pack_cstr (pk, text);
}

//  step, agg, max_points, fill, limit, next of a query, those given.
int
ts_proto_pack_query_options (msgpack_packer *pk, const ts_msg_t *self)
{
    if (self->step_ms
    &&  (ts_proto_pack_cstr (pk, "step")
    ||   msgpack_pack_int64 (pk, self->step_ms)))
        return -1;
    if (self->agg
    &&  (ts_proto_pack_cstr (pk, "agg")
    ||   ts_proto_pack_cstr (pk, ts_agg_name (self->agg))))
        return -1;
    if (self->max_points
    &&  ts_proto_pack_uint_field (pk, "max_points", self->max_points))
        return -1;
    if (self->fill
    &&  (ts_proto_pack_cstr (pk, "fill")
    ||   ts_proto_pack_cstr (pk, ts_fill_name (self->fill))))
        return -1;
    if (self->limit && ts_proto_pack_uint_field (pk, "limit", self->limit))
        return -1;
    if (self->next [0]
    &&  (ts_proto_pack_cstr (pk, "next")
    ||   ts_proto_pack_cstr (pk, self->next)))
        return -1;
    return 0;
}

//  A string field's text into buf (size bytes), for ts_query_param.
static int
s_get_string (ts_proto_dec_t *dec, const char *name,
              const msgpack_object *obj, char *buf, size_t size)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, name, "a string", obj);
    if (obj->via.str.size == 0 || obj->via.str.size >= size
    ||  memchr (obj->via.str.ptr, 0, obj->via.str.size)) {
        ts_errf (dec->err, "field '%s': expected 1 to %zu characters",
                 name, size - 1);
        return TS_EPROTO;
    }
    memcpy (buf, obj->via.str.ptr, obj->via.str.size);
    buf [obj->via.str.size] = 0;
    return 0;
}

//  One query option given as a string, read by ts_query_param (the
//  same rules as HTTP); its error becomes the decoder's.
static int
s_query_text (ts_proto_dec_t *dec, ts_msg_t *self, const char *name,
              const msgpack_object *obj)
{
    char text [TS_NAME_MAX + 1];
    int rc = s_get_string (dec, name, obj, text, sizeof text);
    if (rc == 0 && (rc = ts_query_param (self, name, text, dec->err)) != 0)
        rc = rc == TS_ENOMEM? TS_ENOMEM: TS_EPROTO;
    return rc;
}

//  "agg" and "fill" of a query or its reply, those given.
int
ts_proto_decode_agg_fill (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    if ((obj = dec->field [F_AGG]))
        rc = s_query_text (dec, self, "agg", obj);
    if (rc == 0 && (obj = dec->field [F_FILL]))
        rc = s_query_text (dec, self, "fill", obj);
    return rc;
}

//  "from"/"to": an integer (epoch ms) or a string (ts_query_time).
static int
s_decode_time (ts_proto_dec_t *dec, ts_msg_t *self, const char *name,
               const msgpack_object *obj)
{
    if (obj->type == MSGPACK_OBJECT_STR)
        return s_query_text (dec, self, name, obj);
    bool from = name [0] == 'f';
    int rc = ts_proto_get_int64 (dec, name, obj,
                                 from? &self->from_ms: &self->to_ms);
    if (rc == TS_EPROTO && obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        ts_errf (dec->err, "field '%s': expected an integer (epoch ms) or "
                 "a string (RFC 3339, now-24h), got %s", name,
                 ts_proto_type_name (obj->type));
    if (rc == 0) {
        if (from)
            self->has_from = true;
        else
            self->has_to = true;
    }
    return rc;
}

//  "measure": a name or an array of names.
static int
s_decode_measures (ts_proto_dec_t *dec, ts_msg_t *self,
                   const msgpack_object *obj)
{
    if (obj->type == MSGPACK_OBJECT_STR)
        return ts_proto_get_name (dec, "measure", obj, self->measure)
            || ts_query_add_measure (self, self->measure,
                                     strlen (self->measure), dec->err)?
               TS_EPROTO: 0;
    const msgpack_object_array *array = NULL;
    int rc = ts_proto_get_array (dec, "measure", obj,
                                 TS_PROTO_MAX_QUERY_MEASURES, &array);
    for (uint32_t i = 0; rc == 0 && array && i < array->size; i++) {
        const msgpack_object *item = &array->ptr [i];
        char name [32];
        snprintf (name, sizeof name, "measure[%u]", (unsigned) i);
        if ((rc = ts_proto_check_name (dec, name, item)) == 0
        &&  (rc = ts_query_add_measure (self, item->via.str.ptr,
                                        item->via.str.size, dec->err)))
            rc = rc == TS_ENOMEM? TS_ENOMEM: TS_EPROTO;
    }
    return rc;
}

//  A count option (max_points, limit): an integer 1..TS_QUERY_MAX_LIMIT.
static int
s_decode_count (ts_proto_dec_t *dec, const char *name,
                const msgpack_object *obj, uint32_t *value)
{
    int rc = ts_proto_get_uint32 (dec, name, obj, value);
    if (rc == 0 && (*value < 1 || *value > TS_QUERY_MAX_LIMIT)) {
        ts_errf (dec->err, "field '%s': %u is not in 1..%d", name,
                 (unsigned) *value, TS_QUERY_MAX_LIMIT);
        rc = TS_EPROTO;
    }
    return rc;
}

//  The fields of a query (docs/protocol.md 5.2).
int
ts_proto_decode_query (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    if ((obj = dec->field [F_FROM]) && (rc = s_decode_time (dec, self,
                                                           "from", obj)))
        return rc;
    if ((obj = dec->field [F_TO]) && (rc = s_decode_time (dec, self, "to",
                                                         obj)))
        return rc;
    if ((obj = dec->field [F_MEASURE])
    &&  (rc = s_decode_measures (dec, self, obj)))
        return rc;
    if ((obj = dec->field [F_STEP])) {
        if (obj->type == MSGPACK_OBJECT_STR)
            rc = s_query_text (dec, self, "step", obj);
        else
        if ((rc = ts_proto_get_int64 (dec, "step", obj, &self->step_ms)) == 0
        &&  (self->step_ms <= 0 || self->step_ms > TS_DURATION_MAX_MS)) {
            ts_errf (dec->err, "field 'step': %" PRId64 " ms is not in 1.."
                     "%" PRId64, self->step_ms, TS_DURATION_MAX_MS);
            rc = TS_EPROTO;
        }
        if (rc)
            return rc;
    }
    if ((rc = ts_proto_decode_agg_fill (dec, self)))
        return rc;
    if ((obj = dec->field [F_MAX_POINTS])
    &&  (rc = s_decode_count (dec, "max_points", obj, &self->max_points)))
        return rc;
    if ((obj = dec->field [F_LIMIT])
    &&  (rc = s_decode_count (dec, "limit", obj, &self->limit)))
        return rc;
    if ((obj = dec->field [F_NEXT])
    &&  (rc = ts_proto_get_name (dec, "next", obj, self->next)))
        return rc;
    if (ts_query_check (self, dec->err))
        return TS_EPROTO;
    return 0;
}

