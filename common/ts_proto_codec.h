/*  ts_proto_codec - what the files of the wire codec share; not for use
    outside common/ts_proto*.c (the public contract is ts_proto.h).

    The codec is cut by job:
        ts_proto.c          the message (ts_msg_t), the dialogues, and the
                            entry points: encode, decode, which dialogue
                            file handles an op
        ts_proto_codec.c    msgpack primitives: the structural pre-scan,
                            typed field readers with limits, packers
        ts_proto_client.c   the client dialogue: requests of clients
                            (query, ids_*, hydrate, stats, dlq_*,
                            job_state) and every reply
        ts_proto_worker.c   the worker dialogue: ready, job, done, failed,
                            heartbeat; and the broker's change notices
        ts_proto_points.c   the columns of a query answer (measures once,
                            times, measure indexes, values), in either
                            encoding (columns, compact)
        ts_proto_query.c    a query's options (step, agg, fill, paging)
        ts_proto_ids.c      the registry's fetch statuses in replies
                            (ids_show's fetch, ids_ls's fetches)

    Decoding: ts_proto.c reads the top-level map into a ts_proto_dec_t
    (each known key's value, or NULL), checks version, op and dialogue,
    then hands the fields to the dialogue's decoder. Every reader fills
    dec->err (TS_ERRLEN) and returns TS_EPROTO or TS_ETOOBIG on a bad
    value, TS_ENOMEM if out of memory. Encoding: every packer returns 0,
    or -1 if the buffer could not grow. */

#ifndef TS_PROTO_CODEC_H_INCLUDED
#define TS_PROTO_CODEC_H_INCLUDED

#include "ts_proto.h"

#include <msgpack.h>

#define TS_PROTO_MAX_DEPTH     16      //  nested maps/arrays in one message
#define TS_PROTO_MAX_MEASURES  1024    //  distinct measures in one query
                                       //  reply
#define TS_PROTO_MAX_CREDIT    10000   //  ready: largest credit
#define TS_PROTO_MIN_STATUS    100
#define TS_PROTO_MAX_STATUS    599

//  msgpack_pack_* return 0 or -1 (the sbuffer could not grow).
#define TS_PROTO_TRY(expr) do { if ((expr) != 0) goto nomem; } while (0)

//  Keys the decoder knows. Any other key is ignored.
typedef enum {
    F_V, F_OP, F_STATUS, F_ERROR, F_DETAIL, F_ID, F_FROM, F_TO, F_MEASURE,
    F_IDS, F_JOB, F_CREDIT, F_COUNT, F_BASELINE, F_MEASURES, F_HISTORY,
    F_FORECAST, F_RETRY, F_RETRY_AFTER, F_STATS, F_DLQ, F_AFTER, F_LIMIT,
    F_NEXT, F_JOBS, F_STATES, F_BOOT, F_WRITTEN, F_SEQ, F_RID, F_SOURCE,
    F_KIND, F_SOURCES, F_FETCH, F_STEP, F_AGG, F_MAX_POINTS, F_FILL,
    F_STEP_MS, F_PRIORITY, F_FETCHED_MS, F_STALE, F_LAST_ERROR, F_AGE,
    F_ENC, F_SKIP_FETCHED_SINCE, F_FETCHES,
    F_COUNT_
} ts_proto_field_t;

//  Decoder state: the fields found in the top-level map, and err.
typedef struct {
    const msgpack_object *field [F_COUNT_];     //  value of each key, or
                                                //  NULL
    char *err;                      //  detail of the first problem
    bool any;                       //  any dialogue's message
    ts_dialogue_t dialogue;         //  else only this one's
} ts_proto_dec_t;

//  Wire names of ops, job states and keys, indexed by their enums.
extern const char *ts_proto_op_names [TS_OP_COUNT_];
extern const char *ts_proto_status_names [TS_JOB_STATUS_COUNT_];
extern const char *ts_proto_field_names [F_COUNT_];

//  Items an array of n items has room for (grown in steps).
size_t ts_proto_capacity (size_t n);

//  ---------------------------------------------------------------------
//  ts_proto_codec.c: primitives

//  Walks one msgpack object from the start of data without building it.
//  Sets *end to the offset just after it. Returns 0 or TS_EPROTO
//  (truncated, invalid byte, nested too deep).
int ts_proto_scan (const uint8_t *data, size_t size, size_t *end, char *err);

//  "a string", "an integer", ... for details.
const char *ts_proto_type_name (msgpack_object_type type);

//  Writes "field 'name': expected EXPECTED, got TYPE"; returns TS_EPROTO.
int ts_proto_type_error (ts_proto_dec_t *dec, const char *name,
                         const char *expected, const msgpack_object *obj);

//  The value of field, or NULL; a required field that is absent sets
//  *rc to TS_EPROTO (detail in dec->err).
const msgpack_object *ts_proto_field (ts_proto_dec_t *dec,
                                      ts_proto_field_t field, bool required,
                                      int *rc);

//  Typed readers of one value named name (for details).
int ts_proto_get_int64 (ts_proto_dec_t *dec, const char *name,
                        const msgpack_object *obj, int64_t *value);
int ts_proto_get_uint64 (ts_proto_dec_t *dec, const char *name,
                         const msgpack_object *obj, uint64_t *value);
int ts_proto_get_uint32 (ts_proto_dec_t *dec, const char *name,
                         const msgpack_object *obj, uint32_t *value);
//  A name (id, measure) that passes ts_name_existing.
int ts_proto_check_name (ts_proto_dec_t *dec, const char *name,
                         const msgpack_object *obj);
int ts_proto_get_name (ts_proto_dec_t *dec, const char *name,
                       const msgpack_object *obj, char *dest);
//  Text into dest (size bytes); cut to fit if truncate, else TS_ETOOBIG.
//  Packs "rid" and the message's request id, if it has one (the caller
//  counted the key in its map). Returns 0, or -1 out of memory.
int ts_proto_pack_rid (msgpack_packer *pk, const ts_msg_t *self);

int ts_proto_get_text (ts_proto_dec_t *dec, const char *name,
                       const msgpack_object *obj, char *dest, size_t size,
                       bool truncate);
//  A list of at least min and at most TS_PROTO_MAX_IDS names.
int ts_proto_get_ids (ts_proto_dec_t *dec, const char *name,
                      const msgpack_object *obj, size_t min,
                      ts_strlist_t *ids);
//  A list of at least min and at most TS_PROTO_MAX_JOBS job ids, into
//  self->jobs.
int ts_proto_get_jobs (ts_proto_dec_t *dec, const char *name,
                       const msgpack_object *obj, size_t min,
                       ts_msg_t *self);
//  The value of key in a map object, or NULL.
const msgpack_object *ts_proto_map_get (const msgpack_object *map,
                                        const char *key);
//  A map whose keys keys [0..n) land in vals (NULL if absent); other
//  keys are ignored.
int ts_proto_get_record (ts_proto_dec_t *dec, const char *name,
                         const msgpack_object *obj, const char *const *keys,
                         size_t n, const msgpack_object **vals);
//  An array of at most max items.
int ts_proto_get_array (ts_proto_dec_t *dec, const char *name,
                        const msgpack_object *obj, uint32_t max,
                        const msgpack_object_array **array);

//  Packers.
int ts_proto_pack_cstr (msgpack_packer *pk, const char *s);
int ts_proto_pack_ids (msgpack_packer *pk, const ts_strlist_t *ids);
int ts_proto_pack_jobs (msgpack_packer *pk, const ts_msg_t *self);
int ts_proto_pack_uint_field (msgpack_packer *pk, const char *key,
                              uint64_t value);

//  ---------------------------------------------------------------------
//  ts_proto_client.c: the client dialogue and replies

//  Fields (besides "v" and "op") of a client request, and their packing.
size_t ts_proto_client_fields (const ts_msg_t *self);
int ts_proto_client_pack (msgpack_packer *pk, const ts_msg_t *self);
//  Reads the fields of a client request of op self->op.
int ts_proto_client_decode (ts_proto_dec_t *dec, ts_msg_t *self);
//  A whole reply map, and the fields of one.
//  A query answer is written in encoding enc.
int ts_proto_encode_reply (msgpack_packer *pk, const ts_msg_t *self,
                           ts_enc_t enc);
int ts_proto_decode_reply (ts_proto_dec_t *dec, ts_msg_t *self);

//  ---------------------------------------------------------------------
//  ts_proto_query.c: a query's options

//  Packs "from"/"to" (key): an integer, or "now+Nms"/"now-Nms" if
//  relative.
int ts_proto_pack_time (msgpack_packer *pk, const char *key, int64_t ms,
                        bool relative);
//  Packs step, agg, max_points, fill, limit, next: those given.
int ts_proto_pack_query_options (msgpack_packer *pk, const ts_msg_t *self);
//  Reads every field of a query but id.
int ts_proto_decode_query (ts_proto_dec_t *dec, ts_msg_t *self);
//  Reads "agg" and "fill" (query or reply), those given.
int ts_proto_decode_agg_fill (ts_proto_dec_t *dec, ts_msg_t *self);

//  ---------------------------------------------------------------------
//  ts_proto_worker.c: the worker dialogue

//  True for the ops of the worker dialogue (either way) and notice.
bool ts_proto_worker_op (ts_op_t op);
size_t ts_proto_worker_fields (const ts_msg_t *self);
int ts_proto_worker_pack (msgpack_packer *pk, const ts_msg_t *self);
int ts_proto_worker_decode (ts_proto_dec_t *dec, ts_msg_t *self);

//  ---------------------------------------------------------------------
//  ts_proto_points.c: query answer columns

//  Map entries a query answer takes in a reply (id, from, to, baseline,
//  measures, history, forecast; and enc unless columns).
size_t ts_proto_series_fields (ts_enc_t enc);
//  Packs them, the points in encoding enc.
int ts_proto_encode_series (msgpack_packer *pk, const ts_msg_t *self,
                            ts_enc_t enc);
//  Reads them into self->series (sets has_series and self->enc).
int ts_proto_decode_series (ts_proto_dec_t *dec, ts_msg_t *self);
//  Reads the query key "enc" (a name of ts_enc_t) into *enc.
int ts_proto_get_enc (ts_proto_dec_t *dec, const msgpack_object *obj,
                      ts_enc_t *enc);

//  ---------------------------------------------------------------------
//  ts_proto_ids.c: fetch statuses in replies

//  Map entries ts_proto_encode_ids packs for self: id, source and fetch
//  (has_fetch), fetches (has_fetches).
size_t ts_proto_ids_fields (const ts_msg_t *self);
int ts_proto_encode_ids (msgpack_packer *pk, const ts_msg_t *self);
//  Reads "fetch" (with id and source) and "fetches" (after the ids),
//  those given.
int ts_proto_decode_ids (ts_proto_dec_t *dec, ts_msg_t *self);

//  ---------------------------------------------------------------------
//  ts_proto_fresh.c: the freshness of a query reply

//  Map entries ts_proto_encode_fresh packs for self: 3, or 4 with
//  last_error.
size_t ts_proto_fresh_fields (const ts_msg_t *self);
//  Packs "fetched_ms", "stale", "last_error" (if self->fresh.error_ms)
//  and, last, "age": an int64 always 9 bytes long (0xd3 and 8 bytes), or
//  nil, so that ts_msg_patch_age can set it in an encoded reply.
int ts_proto_encode_fresh (msgpack_packer *pk, const ts_msg_t *self);
//  Reads them into self->fresh (sets has_fresh) when "stale" is present.
int ts_proto_decode_fresh (ts_proto_dec_t *dec, ts_msg_t *self);

#endif
