/*  ts_proto_fresh - the freshness keys of a query reply on the wire:
    "fetched_ms" (epoch ms or nil), "stale" (bool), "last_error" ({"at",
    "kind", "detail"}, only when the last attempt failed after the last
    success) and, last of the whole reply, "age" (seconds or nil). "age"
    is always packed as a 9-byte int64 so that a reply reused from the
    gateway's answer cache gets its age set in place (ts_msg_patch_age)
    instead of being encoded again. See docs/protocol.md 6. */

#include <string.h>

#include "ts_proto_codec.h"

size_t
ts_proto_fresh_fields (const ts_msg_t *self)
{
    return self->fresh.error_ms? 4: 3;
}

int
ts_proto_encode_fresh (msgpack_packer *pk, const ts_msg_t *self)
{
    const ts_freshness_t *fresh = &self->fresh;
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "fetched_ms"));
    if (fresh->fetched_ms)
        TS_PROTO_TRY (msgpack_pack_int64 (pk, fresh->fetched_ms));
    else
        TS_PROTO_TRY (msgpack_pack_nil (pk));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "stale"));
    TS_PROTO_TRY (fresh->stale? msgpack_pack_true (pk)
                              : msgpack_pack_false (pk));
    if (fresh->error_ms) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "last_error"));
        TS_PROTO_TRY (msgpack_pack_map (pk, 3));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "at"));
        TS_PROTO_TRY (msgpack_pack_int64 (pk, fresh->error_ms));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "kind"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, fresh->error_kind));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "detail"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, fresh->error));
    }
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "age"));
    if (fresh->fetched_ms) {
        //  msgpack_pack_int64 picks the shortest form: write the fixed one.
        unsigned char buf [9] = { 0xd3 };
        uint64_t age = (uint64_t) (fresh->age_s > 0? fresh->age_s: 0);
        for (int i = 0; i < 8; i++)
            buf [1 + i] = (unsigned char) (age >> (56 - 8 * i));
        TS_PROTO_TRY (pk->callback (pk->data, (const char *) buf,
                                    sizeof buf));
    }
    else
        TS_PROTO_TRY (msgpack_pack_nil (pk));
    return 0;
nomem:
    return -1;
}

int
ts_msg_patch_age (char *data, size_t size, int64_t age_s)
{
    static const unsigned char key [4] = { 0xa3, 'a', 'g', 'e' };
    if (!data || size < 13
    ||  memcmp (data + size - 13, key, sizeof key) != 0
    ||  (unsigned char) data [size - 9] != 0xd3)
        return TS_EINVAL;
    uint64_t age = (uint64_t) (age_s > 0? age_s: 0);
    for (int i = 0; i < 8; i++)
        data [size - 8 + i] = (char) (unsigned char) (age >> (56 - 8 * i));
    return 0;
}

int
ts_proto_decode_fresh (ts_proto_dec_t *dec, ts_msg_t *self)
{
    const msgpack_object *stale = dec->field [F_STALE];
    if (!stale)
        return 0;
    ts_freshness_t *fresh = &self->fresh;
    if (stale->type != MSGPACK_OBJECT_BOOLEAN)
        return ts_proto_type_error (dec, "stale", "a boolean", stale);
    fresh->stale = stale->via.boolean;
    int rc;
    const msgpack_object *obj = dec->field [F_FETCHED_MS];
    if (obj && obj->type != MSGPACK_OBJECT_NIL
    &&  (rc = ts_proto_get_int64 (dec, "fetched_ms", obj,
                                  &fresh->fetched_ms)))
        return rc;
    fresh->age_s = -1;
    obj = dec->field [F_AGE];
    if (obj && obj->type != MSGPACK_OBJECT_NIL
    &&  (rc = ts_proto_get_int64 (dec, "age", obj, &fresh->age_s)))
        return rc;
    if ((obj = dec->field [F_LAST_ERROR])) {
        static const char *const keys [] = { "at", "kind", "detail" };
        const msgpack_object *val [3];
        if ((rc = ts_proto_get_record (dec, "last_error", obj, keys, 3, val)))
            return rc;
        if (!val [0] || !val [1] || !val [2]) {
            ts_errf (dec->err, "field 'last_error': needs at, kind and "
                     "detail");
            return TS_EPROTO;
        }
        if ((rc = ts_proto_get_int64 (dec, "last_error.at", val [0],
                                      &fresh->error_ms))
        ||  (rc = ts_proto_get_text (dec, "last_error.kind", val [1],
                                     fresh->error_kind,
                                     sizeof fresh->error_kind, true))
        ||  (rc = ts_proto_get_text (dec, "last_error.detail", val [2],
                                     fresh->error, sizeof fresh->error,
                                     true)))
            return rc;
    }
    self->has_fresh = true;
    return 0;
}
