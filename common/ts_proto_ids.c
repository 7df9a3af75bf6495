/*  ts_proto_ids - the registry's fetch statuses on the wire: the
    "fetch" map of an ids_show reply (with its "id" and "source"), and
    the "fetches" array of an ids_ls reply asked with "fetch": true, one
    map per id of the page with the same keys and "stale". Every key of
    a map is always written (0 and "" mean none). See docs/protocol.md
    5.5 and 5.20. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"

#define S_STATUS_KEYS   6           //  ok ... not_found_until

//  Packs the six status keys of fetch (the map's header is the caller's).
static int
s_pack_status (msgpack_packer *pk, const ts_id_status_t *fetch)
{
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ok"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, fetch->ok_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "attempt"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, fetch->attempt_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "error_at"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, fetch->error_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "error"));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, fetch->error));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "kind"));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, fetch->kind));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "not_found_until"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, fetch->not_found_until_ms));
    return 0;
nomem:
    return -1;
}

//  Reads a status map named name (e.g. "fetch", "fetches[3]") into
//  fetch; with_stale: its "stale" too (a list entry).
static int
s_get_status (ts_proto_dec_t *dec, const char *name,
              const msgpack_object *obj, bool with_stale,
              ts_id_status_t *fetch)
{
    static const char *const keys [] = {
        "ok", "attempt", "error_at", "error", "kind", "not_found_until",
        "stale" };
    const msgpack_object *val [S_STATUS_KEYS + 1];
    size_t n = with_stale? S_STATUS_KEYS + 1: S_STATUS_KEYS;
    int rc = ts_proto_get_record (dec, name, obj, keys, n, val);
    int64_t *times [] = { &fetch->ok_ms, &fetch->attempt_ms,
                          &fetch->error_ms };
    char field [64];
    for (int i = 0; rc == 0 && i < 3; i++)
        if (val [i]) {
            snprintf (field, sizeof field, "%s.%s", name, keys [i]);
            rc = ts_proto_get_int64 (dec, field, val [i], times [i]);
        }
    if (rc == 0 && val [3]) {
        snprintf (field, sizeof field, "%s.error", name);
        rc = ts_proto_get_text (dec, field, val [3], fetch->error,
                                sizeof fetch->error, true);
    }
    if (rc == 0 && val [4]) {
        snprintf (field, sizeof field, "%s.kind", name);
        rc = ts_proto_get_text (dec, field, val [4], fetch->kind,
                                sizeof fetch->kind, true);
    }
    if (rc == 0 && val [5]) {
        snprintf (field, sizeof field, "%s.not_found_until", name);
        rc = ts_proto_get_int64 (dec, field, val [5],
                                 &fetch->not_found_until_ms);
    }
    if (rc == 0 && with_stale && val [6]) {
        if (val [6]->type != MSGPACK_OBJECT_BOOLEAN) {
            snprintf (field, sizeof field, "%s.stale", name);
            return ts_proto_type_error (dec, field, "a boolean", val [6]);
        }
        fetch->stale = val [6]->via.boolean;
    }
    return rc;
}

size_t
ts_proto_ids_fields (const ts_msg_t *self)
{
    return (self->has_fetch? 3: 0) + (self->has_fetches? 1: 0);
}

int
ts_proto_encode_ids (msgpack_packer *pk, const ts_msg_t *self)
{
    if (self->has_fetch) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "id"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->id));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "source"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->source));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "fetch"));
        TS_PROTO_TRY (msgpack_pack_map (pk, S_STATUS_KEYS));
        TS_PROTO_TRY (s_pack_status (pk, &self->fetch));
    }
    if (self->has_fetches) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "fetches"));
        TS_PROTO_TRY (msgpack_pack_array (pk, self->fetches_n));
        for (size_t i = 0; i < self->fetches_n; i++) {
            const ts_id_status_t *fetch = &self->fetches [i];
            TS_PROTO_TRY (msgpack_pack_map (pk, S_STATUS_KEYS + 1));
            TS_PROTO_TRY (s_pack_status (pk, fetch));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "stale"));
            TS_PROTO_TRY (fetch->stale? msgpack_pack_true (pk)
                                      : msgpack_pack_false (pk));
        }
    }
    return 0;
nomem:
    return -1;
}

//  The ids_show answer: the fetch map; id and source must be there too.
static int
s_decode_fetch (ts_proto_dec_t *dec, const msgpack_object *obj,
                ts_msg_t *self)
{
    int rc = s_get_status (dec, "fetch", obj, false, &self->fetch);
    const msgpack_object *id = rc == 0? ts_proto_field (dec, F_ID, true,
                                                        &rc): NULL;
    if (id)
        rc = ts_proto_get_name (dec, "id", id, self->id);
    const msgpack_object *source = dec->field [F_SOURCE];
    if (rc == 0 && source && !(source->type == MSGPACK_OBJECT_STR
                               && source->via.str.size == 0))
        rc = ts_proto_get_name (dec, "source", source, self->source);
    self->has_fetch = rc == 0;
    return rc;
}

//  An ids_ls answer's fetches: one map per id, as many as ids.
static int
s_decode_fetches (ts_proto_dec_t *dec, const msgpack_object *obj,
                  ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = ts_proto_get_array (dec, "fetches", obj, TS_PROTO_IDS_PAGE,
                                 &array);
    if (rc)
        return rc;
    if (array->size != self->ids->n) {
        ts_errf (dec->err, "field 'fetches': %u entries for %zu ids",
                 (unsigned) array->size, self->ids->n);
        return TS_EPROTO;
    }
    self->fetches = calloc (ts_proto_capacity (array->size),
                            sizeof (ts_id_status_t));
    if (!self->fetches)
        return TS_ENOMEM;
    for (uint32_t i = 0; i < array->size; i++) {
        char name [32];
        snprintf (name, sizeof name, "fetches[%u]", (unsigned) i);
        if ((rc = s_get_status (dec, name, &array->ptr [i], true,
                                &self->fetches [i])))
            return rc;
        self->fetches_n = i + 1;
    }
    self->has_fetches = true;
    return 0;
}

int
ts_proto_decode_ids (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    if ((obj = dec->field [F_FETCH]))
        rc = s_decode_fetch (dec, obj, self);
    if (rc == 0 && (obj = dec->field [F_FETCHES]))
        rc = s_decode_fetches (dec, obj, self);
    return rc;
}
