/*  ts_proto_codec - msgpack primitives of the wire codec: the structural
    pre-scan, typed field readers with their limits, and packers. See
    ts_proto_codec.h (internal to common/ts_proto*.c).

    Decoding never trusts the bytes. Before msgpack-c sees them,
    ts_proto_scan walks the message once, checking that every length and
    count fits in what is left and that nesting stays shallow. That
    bounds the memory msgpack-c may allocate to a small multiple of the
    message size, and tells "truncated" from "trailing bytes" precisely.
    Then every field is checked for presence, type and limits by the
    readers here; the first problem becomes a TS_EPROTO or TS_ETOOBIG
    with a detail for the error reply. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"

//  Reads a big-endian unsigned integer of width bytes at p.
static uint64_t
s_be (const uint8_t *p, size_t width)
{
    uint64_t value = 0;
    for (size_t i = 0; i < width; i++)
        value = (value << 8) | p [i];
    return value;
}

//  Walks one msgpack object from the start of data without building it.
//  Sets *end to the offset just after it. Returns 0 or TS_EPROTO
//  (truncated, invalid byte, nested too deep).
int
ts_proto_scan (const uint8_t *data, size_t size, size_t *end, char *err)
{
    uint64_t left [TS_PROTO_MAX_DEPTH + 1];    //  items still to read per
                                                //  level
    int depth = 0;
    left [0] = 1;
    size_t pos = 0;
    while (true) {
        while (depth >= 0 && left [depth] == 0)
            depth--;
        if (depth < 0)
            break;
        left [depth]--;
        if (pos >= size)
            goto truncated;
        uint8_t byte = data [pos++];
        size_t width = 0;           //  bytes of the length/count field
        uint64_t skip = 0;          //  payload bytes after it
        uint64_t items = 0;         //  items of a container
        bool container = false;
        if (byte <= 0x7f || byte >= 0xe0 || byte == 0xc0
        ||  byte == 0xc2 || byte == 0xc3)
            ;                       //  fixint, nil, bool
        else
        if (byte <= 0x8f) {
            container = true;
            items = 2 * (uint64_t) (byte & 0x0f);
        }
        else
        if (byte <= 0x9f) {
            container = true;
            items = byte & 0x0f;
        }
        else
        if (byte <= 0xbf)
            skip = byte & 0x1f;
        else
        switch (byte) {
            case 0xc4: case 0xd9: width = 1; break;         //  bin8, str8
            case 0xc5: case 0xda: width = 2; break;
            case 0xc6: case 0xdb: width = 4; break;
            case 0xc7: width = 1; skip = 1; break;          //  ext8 + type
            case 0xc8: width = 2; skip = 1; break;
            case 0xc9: width = 4; skip = 1; break;
            case 0xca: skip = 4; break;                     //  float32
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;          //  (u)int8
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                     //  fixext 1
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: container = true; width = 2; break;  //  array16
            case 0xdd: container = true; width = 4; break;
            case 0xde: container = true; width = 2; break;  //  map16
            case 0xdf: container = true; width = 4; break;
            default:
                ts_errf (err, "invalid msgpack byte 0x%02x at offset %zu",
                         byte, pos - 1);
                return TS_EPROTO;
        }
        if (width) {
            if (width > size - pos)
                goto truncated;
            uint64_t length = s_be (data + pos, width);
            pos += width;
            if (!container)
                skip += length;
            else
                items = (byte == 0xde || byte == 0xdf)? 2 * length: length;
        }
        if (skip > size - pos)
            goto truncated;
        pos += skip;
        //  The top-level map is level 1; a container at level depth + 1
        //  counts even when empty.
        if (container && depth == TS_PROTO_MAX_DEPTH) {
            ts_errf (err, "message nested deeper than %d levels",
                     TS_PROTO_MAX_DEPTH);
            return TS_EPROTO;
        }
        if (container && items > 0) {
            //  Each item takes at least one byte: a count beyond what is
            //  left can only be a cut message (or garbage).
            if (items > size - pos)
                goto truncated;
            left [++depth] = items;
        }
    }
    *end = pos;
    return 0;

truncated:
    ts_errf (err, "truncated message");
    return TS_EPROTO;
}

const char *
ts_proto_type_name (msgpack_object_type type)
{
    switch (type) {
        case MSGPACK_OBJECT_NIL:              return "nil";
        case MSGPACK_OBJECT_BOOLEAN:          return "a boolean";
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return "an integer";
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
        case MSGPACK_OBJECT_FLOAT32:          return "a float";
        case MSGPACK_OBJECT_FLOAT64:          return "a float";
        case MSGPACK_OBJECT_STR:              return "a string";
        case MSGPACK_OBJECT_ARRAY:            return "an array";
        case MSGPACK_OBJECT_MAP:              return "a map";
        case MSGPACK_OBJECT_BIN:              return "binary";
        case MSGPACK_OBJECT_EXT:              return "an extension";
    }
    return "unknown";
}

int
ts_proto_type_error (ts_proto_dec_t *dec, const char *name,
                     const char *expected, const msgpack_object *obj)
{
    ts_errf (dec->err, "field '%s': expected %s, got %s",
             name, expected, ts_proto_type_name (obj->type));
    return TS_EPROTO;
}

//  Returns the field, or NULL. A missing required field sets *rc and err
//  unless an earlier one did (the first missing field is reported).
const msgpack_object *
ts_proto_field (ts_proto_dec_t *dec, ts_proto_field_t field, bool required,
                int *rc)
{
    const msgpack_object *obj = dec->field [field];
    if (!obj && required && *rc == 0) {
        ts_errf (dec->err, "missing field '%s'", ts_proto_field_names [field]);
        *rc = TS_EPROTO;
    }
    return obj;
}

int
ts_proto_get_int64 (ts_proto_dec_t *dec, const char *name,
                    const msgpack_object *obj, int64_t *value)
{
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = obj->via.i64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX) {
            ts_errf (dec->err, "field '%s': integer out of range", name);
            return TS_EPROTO;
        }
        *value = (int64_t) obj->via.u64;
        return 0;
    }
    return ts_proto_type_error (dec, name, "an integer", obj);
}

int
ts_proto_get_uint64 (ts_proto_dec_t *dec, const char *name,
                     const msgpack_object *obj, uint64_t *value)
{
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *value = obj->via.u64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        ts_errf (dec->err, "field '%s': expected a non-negative integer",
                 name);
        return TS_EPROTO;
    }
    return ts_proto_type_error (dec, name, "a non-negative integer", obj);
}

//  A name (id or measure): a string that passes ts_name_existing. The
//  stricter ts_name_valid (no leading '-') is the server's to apply where
//  a name is created: the codec also carries ids stored before that rule.
int
ts_proto_check_name (ts_proto_dec_t *dec, const char *name,
                     const msgpack_object *obj)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, name, "a string", obj);
    if (!ts_name_existing_n (obj->via.str.ptr, obj->via.str.size)) {
        ts_errf (dec->err, "field '%s': not a valid name (use "
                 TS_NAME_RULE ")", name);
        return TS_EPROTO;
    }
    return 0;
}

int
ts_proto_get_name (ts_proto_dec_t *dec, const char *name,
                   const msgpack_object *obj, char *dest)
{
    int rc = ts_proto_check_name (dec, name, obj);
    if (rc == 0) {
        memcpy (dest, obj->via.str.ptr, obj->via.str.size);
        dest [obj->via.str.size] = 0;
    }
    return rc;
}

//  Copies a free-text string. If truncate is false, a string that does
//  not fit is an error; else it is cut.
int
ts_proto_get_text (ts_proto_dec_t *dec, const char *name,
                   const msgpack_object *obj, char *dest, size_t size,
                   bool truncate)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, name, "a string", obj);
    size_t len = obj->via.str.size;
    if (len >= size) {
        if (!truncate) {
            ts_errf (dec->err, "field '%s': longer than %zu bytes",
                     name, size - 1);
            return TS_EPROTO;
        }
        len = size - 1;
    }
    memcpy (dest, obj->via.str.ptr, len);
    dest [len] = 0;
    return 0;
}

//  A list of ids under name ("ids", "dlq[2].ids"), min..TS_PROTO_MAX_IDS
//  items, each a valid name.
int
ts_proto_get_ids (ts_proto_dec_t *dec, const char *name,
                  const msgpack_object *obj, size_t min, ts_strlist_t *ids)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return ts_proto_type_error (dec, name, "an array", obj);
    const msgpack_object_array *array = &obj->via.array;
    if (array->size > TS_PROTO_MAX_IDS) {
        ts_errf (dec->err, "field '%s': %u ids, over the limit of %d",
                 name, (unsigned) array->size, TS_PROTO_MAX_IDS);
        return TS_ETOOBIG;
    }
    if (array->size < min) {
        ts_errf (dec->err, "field '%s': expected at least %zu id",
                 name, min);
        return TS_EPROTO;
    }
    for (uint32_t i = 0; i < array->size; i++) {
        const msgpack_object *item = &array->ptr [i];
        if (item->type != MSGPACK_OBJECT_STR) {
            ts_errf (dec->err, "field '%s': item %u: expected a string, "
                     "got %s", name, (unsigned) i,
                     ts_proto_type_name (item->type));
            return TS_EPROTO;
        }
        if (!ts_name_existing_n (item->via.str.ptr, item->via.str.size)) {
            ts_errf (dec->err, "field '%s': item %u: not a valid name "
                     "(use " TS_NAME_RULE ")", name, (unsigned) i);
            return TS_EPROTO;
        }
        if (ts_strlist_append_n (ids, item->via.str.ptr, item->via.str.size))
            return TS_ENOMEM;
    }
    return 0;
}

//  Finds key in a map; NULL if absent.
const msgpack_object *
ts_proto_map_get (const msgpack_object *map, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len
        &&  memcmp (k->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}

int
ts_proto_get_uint32 (ts_proto_dec_t *dec, const char *name,
                     const msgpack_object *obj, uint32_t *value)
{
    uint64_t wide;
    int rc = ts_proto_get_uint64 (dec, name, obj, &wide);
    if (rc == 0 && wide > UINT32_MAX) {
        ts_errf (dec->err, "field '%s': %llu is over %lu", name,
                 (unsigned long long) wide, (unsigned long) UINT32_MAX);
        rc = TS_EPROTO;
    }
    if (rc == 0)
        *value = (uint32_t) wide;
    return rc;
}

//  A nested map (name for errors) whose n keys are all required: fills
//  vals in the order of keys. Unknown keys are ignored; a key given twice
//  is an error.
int
ts_proto_get_record (ts_proto_dec_t *dec, const char *name,
                     const msgpack_object *obj, const char *const *keys,
                     size_t n, const msgpack_object **vals)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return ts_proto_type_error (dec, name, "a map", obj);
    for (size_t k = 0; k < n; k++)
        vals [k] = NULL;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *key = &obj->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        for (size_t k = 0; k < n; k++)
            if (strlen (keys [k]) == key->via.str.size
            &&  memcmp (keys [k], key->via.str.ptr, key->via.str.size) == 0) {
                if (vals [k]) {
                    ts_errf (dec->err, "field '%s': duplicate key '%s'",
                             name, keys [k]);
                    return TS_EPROTO;
                }
                vals [k] = &obj->via.map.ptr [i].val;
                break;
            }
    }
    for (size_t k = 0; k < n; k++)
        if (!vals [k]) {
            ts_errf (dec->err, "missing field '%s.%s'", name, keys [k]);
            return TS_EPROTO;
        }
    return 0;
}

//  An array under name of at most max items: sets *array, or fails.
int
ts_proto_get_array (ts_proto_dec_t *dec, const char *name,
                    const msgpack_object *obj, uint32_t max,
                    const msgpack_object_array **array)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return ts_proto_type_error (dec, name, "an array", obj);
    if (obj->via.array.size > max) {
        ts_errf (dec->err, "field '%s': %u items, over the limit of %u",
                 name, (unsigned) obj->via.array.size, (unsigned) max);
        return TS_ETOOBIG;
    }
    *array = &obj->via.array;
    return 0;
}

//  A list of job ids under name: min..TS_PROTO_MAX_JOBS uints.
int
ts_proto_get_jobs (ts_proto_dec_t *dec, const char *name,
                   const msgpack_object *obj, size_t min, ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = ts_proto_get_array (dec, name, obj, TS_PROTO_MAX_JOBS, &array);
    if (rc)
        return rc;
    if (array->size < min) {
        ts_errf (dec->err, "field '%s': expected at least %zu job id",
                 name, min);
        return TS_EPROTO;
    }
    self->jobs = malloc (ts_proto_capacity (array->size) * sizeof (uint64_t));
    if (!self->jobs)
        return TS_ENOMEM;
    char field [48];
    for (uint32_t i = 0; i < array->size; i++) {
        snprintf (field, sizeof (field), "%s[%u]", name, (unsigned) i);
        if ((rc = ts_proto_get_uint64 (dec, field, &array->ptr [i],
                                &self->jobs [i])))
            return rc;
        self->jobs_n = i + 1;
    }
    return 0;
}

int
ts_proto_pack_cstr (msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body (pk, s, strlen (s));
}

int
ts_proto_pack_ids (msgpack_packer *pk, const ts_strlist_t *ids)
{
    if (msgpack_pack_array (pk, ids->n))
        return -1;
    for (size_t i = 0; i < ids->n; i++)
        if (ts_proto_pack_cstr (pk, ids->items [i]))
            return -1;
    return 0;
}

int
ts_proto_pack_jobs (msgpack_packer *pk, const ts_msg_t *self)
{
    if (msgpack_pack_array (pk, self->jobs_n))
        return -1;
    for (size_t i = 0; i < self->jobs_n; i++)
        if (msgpack_pack_uint64 (pk, self->jobs [i]))
            return -1;
    return 0;
}

int
ts_proto_pack_uint_field (msgpack_packer *pk, const char *key, uint64_t value)
{
    return ts_proto_pack_cstr (pk, key) || msgpack_pack_uint64 (pk, value);
}
