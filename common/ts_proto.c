/*  ts_proto - the wire message and its dialogues (docs/protocol.md).

    The gateway, the broker, the workers and the CLI exchange ts_msg_t
    values; the ts_proto*.c files are the only ones that know they travel
    as one msgpack map per ZeroMQ frame. This file holds the message
    itself (life cycle, list helpers, names), which dialogue takes which
    op (ts_dialogue_accepts), and the entry points: ts_msg_encode writes
    "v" and "op" or the reply and lets the op's dialogue file write the
    rest; ts_msg_decode pre-scans the bytes (ts_proto_scan), reads the
    top-level map, checks version and op, refuses an op of another
    dialogue before reading any of its fields (ts_msg_decode_in), and
    lets the op's dialogue file read them. ts_proto_codec.h says which
    file does what.

    Decoding never trusts the bytes: see ts_proto_codec.c. It does not
    apply query semantics (defaults for from/to, from > to): those belong
    to the gateway. */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"

const char *ts_proto_op_names [TS_OP_COUNT_] = {
    "reply", "ping", "query", "ids_add", "ids_rm", "ids_ls", "hydrate",
    "ready", "job", "done", "failed", "heartbeat", "stats", "dlq_ls",
    "dlq_redrive", "dlq_purge", "job_state", "notice", "release",
    "ids_show"
};

const char *ts_proto_status_names [TS_JOB_STATUS_COUNT_] = {
    "unknown", "queued", "delayed", "leased", "done", "dead"
};

const char *ts_proto_field_names [F_COUNT_] = {
    "v", "op", "status", "error", "detail", "id", "from", "to", "measure",
    "ids", "job", "credit", "count", "baseline", "measures", "history",
    "forecast", "retry", "retry_after_ms", "stats", "dlq", "after", "limit",
    "next", "jobs", "states", "boot", "written", "seq", "rid",
    "source", "kind", "sources", "fetch", "step", "agg", "max_points",
    "fill", "step_ms", "priority", "fetched_ms", "stale", "last_error", "age",
    "enc", "skip_fetched_since", "fetches"
};

//  ---------------------------------------------------------------------
//  Messages

//  Slots allocated for an owned array of n items (workers, dlq): at least
//  8, else the next power of two. Appending one at a time therefore costs
//  amortised O(1) without a capacity field in the public struct.
size_t
ts_proto_capacity (size_t n)
{
    size_t cap = 8;
    while (cap < n)
        cap *= 2;
    return cap;
}

//  Makes room for item n of an array of n items sized by ts_proto_capacity.
//  Returns the array (perhaps moved), or NULL if out of memory (the array
//  is then unchanged).
static void *
s_grow (void *array, size_t n, size_t item_size)
{
    if (array && n + 1 <= ts_proto_capacity (n))
        return array;
    return realloc (array, ts_proto_capacity (n + 1) * item_size);
}

//  Frees the stats workers, the dlq entries, the jobs and the job states
//  (owned arrays).
static void
s_free_arrays (ts_msg_t *self)
{
    free (self->jobs);
    self->jobs = NULL;
    self->jobs_n = 0;
    free (self->states);
    self->states = NULL;
    self->states_n = 0;
    free (self->fetches);
    self->fetches = NULL;
    self->fetches_n = 0;
    free (self->stats.workers);
    self->stats.workers = NULL;
    self->stats.workers_n = 0;
    for (size_t i = 0; i < self->dlq_n; i++)
        ts_strlist_destroy (&self->dlq [i].ids);
    free (self->dlq);
    self->dlq = NULL;
    self->dlq_n = 0;
}

ts_msg_t *
ts_msg_new (ts_op_t op)
{
    ts_msg_t *self = calloc (1, sizeof (ts_msg_t));
    if (!self)
        return NULL;
    self->ids = ts_strlist_new ();
    self->written = ts_strlist_new ();
    self->sources = ts_strlist_new ();
    self->measures = ts_strlist_new ();
    self->series.history = ts_points_new ();
    self->series.forecast = ts_points_new ();
    if (!self->ids || !self->written || !self->sources || !self->measures
    ||  !self->series.history
    ||  !self->series.forecast) {
        ts_msg_destroy (&self);
        return NULL;
    }
    self->op = op;
    self->retry = true;
    return self;
}

void
ts_msg_destroy (ts_msg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_msg_t *self = *self_p;
        ts_strlist_destroy (&self->ids);
        ts_strlist_destroy (&self->written);
        ts_strlist_destroy (&self->sources);
        ts_strlist_destroy (&self->measures);
        ts_points_destroy (&self->series.history);
        ts_points_destroy (&self->series.forecast);
        s_free_arrays (self);
        if (self->zone)
            msgpack_zone_free (self->zone);
        free (self);
        *self_p = NULL;
    }
}

void
ts_msg_reset (ts_msg_t *self, ts_op_t op)
{
    assert (self);
    ts_strlist_t *ids = self->ids;
    ts_strlist_t *written = self->written;
    ts_strlist_t *sources = self->sources;
    ts_strlist_t *measures = self->measures;
    ts_points_t *history = self->series.history;
    ts_points_t *forecast = self->series.forecast;
    void *zone = self->zone;
    s_free_arrays (self);
    memset (self, 0, sizeof (ts_msg_t));
    self->zone = zone;
    self->op = op;
    self->retry = true;
    self->ids = ids;
    self->written = written;
    self->sources = sources;
    self->measures = measures;
    self->series.history = history;
    self->series.forecast = forecast;
    ts_strlist_clear (ids);
    ts_strlist_clear (written);
    ts_strlist_clear (sources);
    ts_strlist_clear (measures);
    ts_points_clear (history);
    ts_points_clear (forecast);
}

int
ts_msg_add_worker (ts_msg_t *self, const char *name, uint32_t credit,
                   uint32_t leased)
{
    assert (self);
    assert (name);
    size_t n = self->stats.workers_n;
    ts_worker_stat_t *workers = s_grow (self->stats.workers, n,
                                        sizeof (ts_worker_stat_t));
    if (!workers)
        return TS_ENOMEM;
    self->stats.workers = workers;
    ts_worker_stat_t *worker = &workers [n];
    memset (worker, 0, sizeof (*worker));
    ts_strlcpy (worker->name, name, sizeof (worker->name));
    worker->credit = credit;
    worker->leased = leased;
    self->stats.workers_n = n + 1;
    self->has_stats = true;
    return 0;
}

int
ts_msg_add_dlq (ts_msg_t *self, uint64_t job, const ts_strlist_t *ids,
                uint32_t receives, int64_t dead_at_ms, const char *error)
{
    assert (self);
    ts_strlist_t *copy = ts_strlist_new ();
    if (!copy)
        return TS_ENOMEM;
    for (size_t i = 0; ids && i < ids->n; i++)
        if (ts_strlist_append (copy, ids->items [i])) {
            ts_strlist_destroy (&copy);
            return TS_ENOMEM;
        }
    ts_dlq_entry_t *dlq = s_grow (self->dlq, self->dlq_n,
                                  sizeof (ts_dlq_entry_t));
    if (!dlq) {
        ts_strlist_destroy (&copy);
        return TS_ENOMEM;
    }
    self->dlq = dlq;
    ts_dlq_entry_t *entry = &dlq [self->dlq_n++];
    memset (entry, 0, sizeof (*entry));
    entry->job = job;
    entry->ids = copy;
    entry->receives = receives;
    entry->dead_at_ms = dead_at_ms;
    ts_strlcpy (entry->error, error? error: "", sizeof (entry->error));
    self->has_dlq = true;
    return 0;
}

int
ts_msg_add_job (ts_msg_t *self, uint64_t job)
{
    assert (self);
    uint64_t *jobs = s_grow (self->jobs, self->jobs_n, sizeof (uint64_t));
    if (!jobs)
        return TS_ENOMEM;
    self->jobs = jobs;
    self->jobs [self->jobs_n++] = job;
    return 0;
}

int
ts_msg_add_state (ts_msg_t *self, uint64_t job, ts_job_status_t status,
                  uint32_t receives, const char *error)
{
    assert (self);
    assert ((int) status >= 0 && status < TS_JOB_STATUS_COUNT_);
    ts_job_info_t *states = s_grow (self->states, self->states_n,
                                    sizeof (ts_job_info_t));
    if (!states)
        return TS_ENOMEM;
    self->states = states;
    ts_job_info_t *info = &states [self->states_n++];
    memset (info, 0, sizeof (*info));
    info->job = job;
    info->status = status;
    info->receives = receives;
    ts_strlcpy (info->error, error? error: "", sizeof (info->error));
    self->has_states = true;
    return 0;
}

int
ts_msg_add_fetch (ts_msg_t *self, const ts_id_status_t *fetch)
{
    assert (self);
    assert (fetch);
    ts_id_status_t *fetches = s_grow (self->fetches, self->fetches_n,
                                      sizeof (ts_id_status_t));
    if (!fetches)
        return TS_ENOMEM;
    self->fetches = fetches;
    self->fetches [self->fetches_n++] = *fetch;
    self->has_fetches = true;
    return 0;
}

const char *
ts_job_status_name (ts_job_status_t status)
{
    if ((int) status < 0 || status >= TS_JOB_STATUS_COUNT_)
        return "?";
    return ts_proto_status_names [status];
}

const char *
ts_op_name (ts_op_t op)
{
    if ((int) op < 0 || op >= TS_OP_COUNT_)
        return "?";
    return ts_proto_op_names [op];
}

void
ts_msg_set_error (ts_msg_t *self, int status, const char *error,
                  const char *detail)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    self->status = status;
    ts_strlcpy (self->error, error? error: "", sizeof (self->error));
    ts_strlcpy (self->detail, detail? detail: "", sizeof (self->detail));
}

void
ts_msg_set_ok (ts_msg_t *self, int status)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    self->status = status;
}

//  ---------------------------------------------------------------------
//  Encoding

//  One request map: "v", "op", then the fields of its dialogue's op.
static int
s_encode_request (msgpack_packer *pk, const ts_msg_t *self)
{
    bool worker = ts_proto_worker_op (self->op);
    size_t fields = 2 + (worker? ts_proto_worker_fields (self)
                               : ts_proto_client_fields (self))
                  + (self->rid [0]? 1: 0);
    TS_PROTO_TRY (msgpack_pack_map (pk, fields));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "v"));
    TS_PROTO_TRY (msgpack_pack_int (pk, TS_PROTO_VERSION));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "op"));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, ts_op_name (self->op)));
    TS_PROTO_TRY (ts_proto_pack_rid (pk, self));
    return worker? ts_proto_worker_pack (pk, self)
                 : ts_proto_client_pack (pk, self);
nomem:
    return -1;
}

//  Encodes self, a query answer in encoding enc, appending to sbuf.
static int
s_encode_to (const ts_msg_t *self, ts_enc_t enc, msgpack_sbuffer *sbuf)
{
    assert ((int) self->op >= 0 && self->op < TS_OP_COUNT_);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    int rc = self->op == TS_OP_REPLY? ts_proto_encode_reply (&pk, self, enc)
                                    : s_encode_request (&pk, self);
    return rc? TS_ENOMEM: 0;
}

//  Encodes self, a query answer in encoding enc, into a new buffer.
static int
s_encode (const ts_msg_t *self, ts_enc_t enc, char **data, size_t *size)
{
    assert (self);
    assert (data && size);
    *data = NULL;
    *size = 0;

    //  Size the buffer once for a query reply (about 19 bytes a point
    //  columnar, 10 compact) instead of letting it double its way up to
    //  many megabytes.
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    if (self->has_series) {
        size_t points = self->series.history->n + self->series.forecast->n;
        size_t estimate = 256 + (enc == TS_ENC_COMPACT? 10: 20) * points;
        sbuf.data = malloc (estimate);
        if (!sbuf.data)
            return TS_ENOMEM;
        sbuf.alloc = estimate;
    }
    if (s_encode_to (self, enc, &sbuf)) {
        msgpack_sbuffer_destroy (&sbuf);
        return TS_ENOMEM;
    }
    *size = sbuf.size;
    *data = msgpack_sbuffer_release (&sbuf);
    return 0;
}

int
ts_msg_encode (const ts_msg_t *self, char **data, size_t *size)
{
    return s_encode (self, self->enc, data, size);
}

int
ts_msg_encode_into (const ts_msg_t *self, char **buf, size_t *cap,
                    size_t *size)
{
    assert (self);
    assert (buf && cap && size);
    //  The caller's buffer: msgpack's writer grows it with realloc and
    //  it is handed back grown, whatever the outcome.
    msgpack_sbuffer sbuf = { .size = 0, .data = *buf, .alloc = *cap };
    int rc = s_encode_to (self, self->enc, &sbuf);
    *buf = sbuf.data;
    *cap = sbuf.alloc;
    *size = rc? 0: sbuf.size;
    return rc;
}

int
ts_msg_encode_compact (const ts_msg_t *self, char **data, size_t *size)
{
    return s_encode (self, TS_ENC_COMPACT, data, size);
}

//  ---------------------------------------------------------------------
//  Dialogues and decoding

bool
ts_dialogue_accepts (ts_dialogue_t dialogue, ts_op_t op)
{
    switch (op) {
        case TS_OP_REPLY:
            return dialogue == TS_DIALOGUE_REPLIES;
        case TS_OP_READY:
        case TS_OP_DONE:
        case TS_OP_FAILED:
        case TS_OP_RELEASE:
            return dialogue == TS_DIALOGUE_WORKER;
        case TS_OP_JOB:
            return dialogue == TS_DIALOGUE_BROKER;
        case TS_OP_NOTICE:
            return dialogue == TS_DIALOGUE_NOTICE;
        case TS_OP_HEARTBEAT:
            return dialogue == TS_DIALOGUE_WORKER
                || dialogue == TS_DIALOGUE_BROKER;
        default:
            return dialogue == TS_DIALOGUE_CLIENT && op > TS_OP_REPLY
                && op < TS_OP_COUNT_;
    }
}

//  Refuses a message of another dialogue than the decoder's: what (an
//  op name, or "reply") is named in the detail, as the dialogue calls
//  its messages.
static int
s_refuse (ts_proto_dec_t *dec, const char *what)
{
    static const char *kinds [] = {
        [TS_DIALOGUE_CLIENT] = "a client operation",
        [TS_DIALOGUE_REPLIES] = "a reply",
        [TS_DIALOGUE_WORKER] = "a worker message",
        [TS_DIALOGUE_BROKER] = "a message of the broker to a worker",
        [TS_DIALOGUE_NOTICE] = "a change notice"
    };
    if (strcmp (what, "reply") == 0)
        ts_errf (dec->err, "a reply is not %s", kinds [dec->dialogue]);
    else
        ts_errf (dec->err, "op '%s' is not %s", what, kinds [dec->dialogue]);
    return TS_EDIALOGUE;
}

static int
s_decode_request (ts_proto_dec_t *dec, ts_msg_t *self)
{
    const msgpack_object *op = dec->field [F_OP];
    if (op->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, "op", "a string", op);
    ts_op_t found = TS_OP_REPLY;
    for (int i = TS_OP_REPLY + 1; i < TS_OP_COUNT_; i++)
        if (strlen (ts_proto_op_names [i]) == op->via.str.size
        &&  memcmp (ts_proto_op_names [i], op->via.str.ptr,
                    op->via.str.size) == 0)
            found = (ts_op_t) i;
    if (found == TS_OP_REPLY) {
        //  Echo a printable, bounded form of what was sent
        char name [33];
        size_t len = op->via.str.size < 32? op->via.str.size: 32;
        for (size_t i = 0; i < len; i++) {
            char c = op->via.str.ptr [i];
            name [i] = (c >= 0x20 && c < 0x7f && c != '\'')? c: '?';
        }
        name [len] = 0;
        ts_errf (dec->err, "unknown op '%s'", name);
        return TS_EPROTO;
    }
    if (!dec->any && !ts_dialogue_accepts (dec->dialogue, found))
        return s_refuse (dec, ts_proto_op_names [found]);
    self->op = found;
    return ts_proto_worker_op (found)? ts_proto_worker_decode (dec, self)
                                     : ts_proto_client_decode (dec, self);
}

int
ts_proto_pack_rid (msgpack_packer *pk, const ts_msg_t *self)
{
    if (self->rid [0]) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "rid"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->rid));
    }
    return 0;
nomem:
    return -1;
}

//  The optional "rid" of any message: 1 to TS_RID_MAX characters of
//  [A-Za-z0-9._:-] (docs/protocol.md 3.4).
static int
s_decode_rid (ts_proto_dec_t *dec, ts_msg_t *self)
{
    const msgpack_object *obj = dec->field [F_RID];
    if (!obj)
        return 0;
    if (obj->type != MSGPACK_OBJECT_STR)
        return ts_proto_type_error (dec, "rid", "a string", obj);
    if (!ts_rid_valid_n (obj->via.str.ptr, obj->via.str.size)) {
        ts_errf (dec->err, "field 'rid': expected 1 to %d characters of "
                 "[A-Za-z0-9._:-]", TS_RID_MAX);
        return TS_EPROTO;
    }
    memcpy (self->rid, obj->via.str.ptr, obj->via.str.size);
    self->rid [obj->via.str.size] = 0;
    return 0;
}

static int
s_decode_map (ts_proto_dec_t *dec, const msgpack_object *root, ts_msg_t *self)
{
    if (root->type != MSGPACK_OBJECT_MAP) {
        ts_errf (dec->err, "message is not a map (got %s)",
                 ts_proto_type_name (root->type));
        return TS_EPROTO;
    }
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        for (int f = 0; f < F_COUNT_; f++)
            if (strlen (ts_proto_field_names [f]) == key->via.str.size
            &&  memcmp (ts_proto_field_names [f], key->via.str.ptr,
                        key->via.str.size) == 0) {
                if (dec->field [f]) {
                    ts_errf (dec->err, "duplicate key '%s'",
                             ts_proto_field_names [f]);
                    return TS_EPROTO;
                }
                dec->field [f] = &root->via.map.ptr [i].val;
                break;
            }
    }
    int rc = 0;
    const msgpack_object *version = ts_proto_field (dec, F_V, true, &rc);
    if (!version)
        return rc;
    int64_t v;
    if ((rc = ts_proto_get_int64 (dec, "v", version, &v)))
        return rc;
    if (v != TS_PROTO_VERSION) {
        ts_errf (dec->err, "unsupported protocol version %lld (this side "
                 "speaks %d)", (long long) v, TS_PROTO_VERSION);
        return TS_EPROTO;
    }
    if (dec->field [F_OP] && dec->field [F_STATUS]) {
        ts_errf (dec->err, "message has both 'op' and 'status'");
        return TS_EPROTO;
    }
    if ((rc = s_decode_rid (dec, self)))
        return rc;
    if (dec->field [F_OP])
        return s_decode_request (dec, self);
    if (dec->field [F_STATUS] && !dec->any
    &&  dec->dialogue != TS_DIALOGUE_REPLIES)
        return s_refuse (dec, "reply");
    if (dec->field [F_STATUS])
        return ts_proto_decode_reply (dec, self);
    ts_errf (dec->err, "message has neither 'op' nor 'status'");
    return TS_EPROTO;
}

//  Decodes a message of dialogue, or of any if any.
static int
s_decode (ts_msg_t *self, bool any, ts_dialogue_t dialogue, const void *data,
          size_t size, size_t max_size, char *err)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    if (size > max_size) {
        ts_errf (err, "message of %zu bytes, over the limit of %zu bytes",
                 size, max_size);
        return TS_ETOOBIG;
    }
    if (size == 0 || !data) {
        ts_errf (err, "empty message");
        return TS_EPROTO;
    }
    size_t end = 0;
    int rc = ts_proto_scan ((const uint8_t *) data, size, &end, err);
    if (rc)
        return rc;
    if (end < size) {
        ts_errf (err, "%zu trailing bytes after the message", size - end);
        return TS_EPROTO;
    }
    //  One zone per message, kept and cleared: a decode of a message
    //  that fits its first chunk allocates nothing. msgpack_unpack is
    //  the unpacking entry point that takes the caller's zone
    //  (msgpack_unpack_next makes a new zone every call).
    if (!self->zone
    &&  !(self->zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE))) {
        ts_errf (err, "out of memory decoding the message");
        return TS_ENOMEM;
    }
    msgpack_zone *zone = self->zone;
    msgpack_object obj;
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack (data, size, &offset, zone,
                                                &obj);
    if (ret == MSGPACK_UNPACK_SUCCESS && offset == size) {
        ts_proto_dec_t dec;
        memset (&dec, 0, sizeof (dec));
        dec.err = err;
        dec.any = any;
        dec.dialogue = dialogue;
        rc = s_decode_map (&dec, &obj, self);
    }
    else
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
        ts_errf (err, "out of memory decoding the message");
        rc = TS_ENOMEM;
    }
    else {
        ts_errf (err, "malformed msgpack");
        rc = TS_EPROTO;
    }
    msgpack_zone_clear (zone);
    if (rc)
        ts_msg_reset (self, TS_OP_REPLY);
    return rc;
}

int
ts_msg_decode (ts_msg_t *self, const void *data, size_t size,
               size_t max_size, char *err)
{
    return s_decode (self, true, TS_DIALOGUE_CLIENT, data, size, max_size,
                     err);
}

int
ts_msg_decode_in (ts_msg_t *self, ts_dialogue_t dialogue, const void *data,
                  size_t size, size_t max_size, char *err)
{
    return s_decode (self, false, dialogue, data, size, max_size, err);
}
