/*  ts_proto_worker - the worker dialogue of the wire codec: ready, done,
    failed, heartbeat and release from a worker to the broker's worker
    socket, job and heartbeat back (docs/protocol.md 5.7 to 5.11, 5.19
    and 8); and the change notices the broker publishes from what workers
    report written (5.18). See ts_proto_codec.h. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ts_proto_codec.h"

bool
ts_proto_worker_op (ts_op_t op)
{
    return op == TS_OP_READY || op == TS_OP_JOB || op == TS_OP_DONE
        || op == TS_OP_FAILED || op == TS_OP_HEARTBEAT
        || op == TS_OP_NOTICE || op == TS_OP_RELEASE;
}

size_t
ts_proto_worker_fields (const ts_msg_t *self)
{
    switch (self->op) {
        case TS_OP_READY:
        case TS_OP_RELEASE:
            return 1;
        case TS_OP_DONE:
            return 1 + (self->has_written? 1: 0);
        case TS_OP_JOB:
            return 2 + (self->source [0]? 1: 0)
                     + (self->has_from && self->has_to? 2: 0);
        case TS_OP_FAILED:
            return 3 + (self->retry_after_ms? 1: 0)
                     + (self->has_written? 1: 0);
        case TS_OP_NOTICE:
            return 3;
        case TS_OP_HEARTBEAT:
            return self->boot? 1: 0;
        default:
            return 0;
    }
}

int
ts_proto_worker_pack (msgpack_packer *pk, const ts_msg_t *self)
{
    switch (self->op) {
        case TS_OP_READY:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "credit"));
            TS_PROTO_TRY (msgpack_pack_uint32 (pk, self->credit));
            break;
        case TS_OP_JOB:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "job"));
            TS_PROTO_TRY (msgpack_pack_uint64 (pk, self->job));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
            TS_PROTO_TRY (ts_proto_pack_ids (pk, self->ids));
            if (self->source [0]) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "source"));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->source));
            }
            if (self->has_from && self->has_to) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "from"));
                TS_PROTO_TRY (msgpack_pack_int64 (pk, self->from_ms));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "to"));
                TS_PROTO_TRY (msgpack_pack_int64 (pk, self->to_ms));
            }
            break;
        case TS_OP_DONE:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "job"));
            TS_PROTO_TRY (msgpack_pack_uint64 (pk, self->job));
            if (self->has_written) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "written"));
                TS_PROTO_TRY (ts_proto_pack_ids (pk, self->written));
            }
            break;
        case TS_OP_FAILED:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "job"));
            TS_PROTO_TRY (msgpack_pack_uint64 (pk, self->job));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "detail"));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->detail));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "retry"));
            TS_PROTO_TRY (self->retry? msgpack_pack_true (pk)
                                     : msgpack_pack_false (pk));
            if (self->retry_after_ms) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "retry_after_ms"));
                TS_PROTO_TRY (msgpack_pack_uint64 (pk,
                                                   self->retry_after_ms));
            }
            if (self->has_written) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "written"));
                TS_PROTO_TRY (ts_proto_pack_ids (pk, self->written));
            }
            break;
        case TS_OP_NOTICE:
            TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "boot", self->boot));
            TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "seq", self->seq));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
            TS_PROTO_TRY (ts_proto_pack_ids (pk, self->ids));
            break;
        case TS_OP_RELEASE:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "jobs"));
            TS_PROTO_TRY (ts_proto_pack_jobs (pk, self));
            break;
        case TS_OP_HEARTBEAT:
            if (self->boot) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "boot"));
                TS_PROTO_TRY (msgpack_pack_uint64 (pk, self->boot));
            }
            break;
        default:
            break;
    }
    return 0;
nomem:
    return -1;
}

//  done, failed: the optional list of the ids the run wrote (may be
//  empty; absent is told apart, docs/protocol.md 5.9).
static int
s_decode_written (ts_proto_dec_t *dec, ts_msg_t *self)
{
    const msgpack_object *obj = dec->field [F_WRITTEN];
    if (!obj)
        return 0;
    self->has_written = true;
    return ts_proto_get_ids (dec, "written", obj, 0, self->written);
}

//  job: the optional source and window (docs/protocol.md 5.8).
static int
s_decode_job_attrs (ts_proto_dec_t *dec, ts_msg_t *self)
{
    const msgpack_object *obj;
    int rc = 0;
    if ((obj = dec->field [F_SOURCE])
    &&  (rc = ts_proto_get_name (dec, "source", obj, self->source)))
        return rc;
    const msgpack_object *from = dec->field [F_FROM];
    const msgpack_object *to = dec->field [F_TO];
    if (!from && !to)
        return 0;
    if (!from || !to) {
        ts_errf (dec->err, "fields 'from' and 'to': give both or neither");
        return TS_EPROTO;
    }
    if ((rc = ts_proto_get_int64 (dec, "from", from, &self->from_ms))
    ||  (rc = ts_proto_get_int64 (dec, "to", to, &self->to_ms)))
        return rc;
    if (self->from_ms >= self->to_ms) {
        ts_errf (dec->err, "field 'from': %" PRId64 " is not before 'to' %"
                 PRId64, self->from_ms, self->to_ms);
        return TS_EPROTO;
    }
    self->has_from = self->has_to = true;
    return 0;
}

//  notice: boot, seq and the ids (none in a heartbeat).
static int
s_decode_notice (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    if (!(obj = ts_proto_field (dec, F_BOOT, true, &rc))
    ||  (rc = ts_proto_get_uint64 (dec, "boot", obj, &self->boot)))
        return rc;
    if (!(obj = ts_proto_field (dec, F_SEQ, true, &rc))
    ||  (rc = ts_proto_get_uint64 (dec, "seq", obj, &self->seq)))
        return rc;
    if (!(obj = ts_proto_field (dec, F_IDS, true, &rc)))
        return rc;
    return ts_proto_get_ids (dec, "ids", obj, 0, self->ids);
}

//  failed: the optional detail, retry and retry_after_ms.
static int
s_decode_failed (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc;
    const msgpack_object *obj;
    //  Optional: the broker fills in a detail of its own.
    if ((obj = dec->field [F_DETAIL])
    &&  (rc = ts_proto_get_text (dec, "detail", obj, self->detail,
                                 sizeof (self->detail), true)))
        return rc;
    if ((obj = dec->field [F_RETRY])) {
        if (obj->type != MSGPACK_OBJECT_BOOLEAN)
            return ts_proto_type_error (dec, "retry", "a boolean", obj);
        self->retry = obj->via.boolean;
    }
    if ((obj = dec->field [F_RETRY_AFTER])) {
        if ((rc = ts_proto_get_uint64 (dec, "retry_after_ms", obj,
                                       &self->retry_after_ms)))
            return rc;
        if (self->retry_after_ms > (uint64_t) TS_PROTO_MAX_RETRY_AFTER_MS) {
            ts_errf (dec->err, "field 'retry_after_ms': %llu is over %lld "
                     "(one year)", (unsigned long long) self->retry_after_ms,
                     (long long) TS_PROTO_MAX_RETRY_AFTER_MS);
            return TS_EPROTO;
        }
    }
    return 0;
}

int
ts_proto_worker_decode (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    uint64_t credit;
    switch (self->op) {
        case TS_OP_READY:
            if (!(obj = ts_proto_field (dec, F_CREDIT, true, &rc)))
                return rc;
            if ((rc = ts_proto_get_uint64 (dec, "credit", obj, &credit)))
                return rc;
            //  0 introduces a worker without granting credit.
            if (credit > TS_PROTO_MAX_CREDIT) {
                ts_errf (dec->err, "field 'credit': %llu is not in 0..%d",
                         (unsigned long long) credit, TS_PROTO_MAX_CREDIT);
                return TS_EPROTO;
            }
            self->credit = (uint32_t) credit;
            return 0;
        case TS_OP_JOB:
        case TS_OP_DONE:
        case TS_OP_FAILED:
            if (!(obj = ts_proto_field (dec, F_JOB, true, &rc)))
                return rc;
            if ((rc = ts_proto_get_uint64 (dec, "job", obj, &self->job)))
                return rc;
            if (self->op != TS_OP_JOB && (rc = s_decode_written (dec, self)))
                return rc;
            if (self->op == TS_OP_FAILED)
                return s_decode_failed (dec, self);
            if (self->op == TS_OP_DONE)
                return 0;
            if (!(obj = ts_proto_field (dec, F_IDS, true, &rc)))
                return rc;
            if ((rc = ts_proto_get_ids (dec, "ids", obj, 1, self->ids)))
                return rc;
            return s_decode_job_attrs (dec, self);
        case TS_OP_HEARTBEAT:
            //  Optional: which broker process sent it (section 8.2).
            if ((obj = dec->field [F_BOOT]))
                return ts_proto_get_uint64 (dec, "boot", obj, &self->boot);
            return 0;
        case TS_OP_NOTICE:
            return s_decode_notice (dec, self);
        case TS_OP_RELEASE:
            //  Required, and may be empty: "no more jobs" alone.
            if (!(obj = ts_proto_field (dec, F_JOBS, true, &rc)))
                return rc;
            return ts_proto_get_jobs (dec, "jobs", obj, 0, self);
        default:
            return 0;
    }
}

int
ts_msg_encode_notice (char **buf, size_t *cap, size_t *size, uint64_t boot,
                      uint64_t seq, const char *const *ids, size_t n)
{
    //  The caller's buffer, kept between calls: msgpack's writer grows
    //  it with realloc and it is handed back grown.
    msgpack_sbuffer sbuf = { .size = 0, .data = *buf, .alloc = *cap };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 5);
    rc = rc || ts_proto_pack_uint_field (&pk, "v", TS_PROTO_VERSION);
    rc = rc || ts_proto_pack_cstr (&pk, "op")
            || ts_proto_pack_cstr (&pk, "notice");
    rc = rc || ts_proto_pack_uint_field (&pk, "boot", boot);
    rc = rc || ts_proto_pack_uint_field (&pk, "seq", seq);
    rc = rc || ts_proto_pack_cstr (&pk, "ids")
            || msgpack_pack_array (&pk, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = ts_proto_pack_cstr (&pk, ids [i]);
    *buf = sbuf.data;
    *cap = sbuf.alloc;
    *size = sbuf.size;
    return rc? TS_ENOMEM: 0;
}
