/*  ts_proto - the msgpack wire protocol of tscache (docs/protocol.md).

    Every message is one ZeroMQ frame holding one msgpack map with "v": 1.
    Requests carry "op"; replies carry "status" (HTTP-like: 200 ok, 202
    accepted, 400 bad request, 401, 404 unknown id, 413 too big, 500, 503).
    One struct, ts_msg_t, holds any message; ts_msg_encode and
    ts_msg_decode convert it. Servers and clients never touch msgpack.

    Three dialogues use it:
    - clients <-> gateway (REQ -> ROUTER): ping, query, ids_add, ids_rm,
      ids_ls, hydrate; and their replies.
    - gateway/CLI <-> broker control (REQ -> ROUTER): hydrate, ping.
    - workers <-> broker (DEALER -> ROUTER): ready (credit), job, done,
      failed, heartbeat.

    The decoder bounds-checks everything: a truncated, oversized or
    wrong-typed message is TS_EPROTO or TS_ETOOBIG with a detail that the
    server sends back in an error reply. */

#ifndef TS_PROTO_H_INCLUDED
#define TS_PROTO_H_INCLUDED

#include "ts_common.h"
#include "ts_points.h"

#define TS_PROTO_VERSION   1
#define TS_PROTO_MAX_IDS   10000        //  ids in one message
#define TS_PROTO_MAX_REQUEST (1 << 20)  //  bytes; servers reject larger
#define TS_PROTO_MAX_POINTS 1000000     //  points in one reply

typedef enum {
    TS_OP_REPLY = 0,    //  a reply (has status, no "op" on the wire)
    TS_OP_PING,         //  "ping"      -> 200
    TS_OP_QUERY,        //  "query"     id, from, to, [measure] -> series
    TS_OP_IDS_ADD,      //  "ids_add"   ids -> 200, count = ids new
    TS_OP_IDS_RM,       //  "ids_rm"    id -> 200 or 404
    TS_OP_IDS_LS,       //  "ids_ls"    -> 200, ids
    TS_OP_HYDRATE,      //  "hydrate"   ids -> 202, count = jobs queued
    TS_OP_READY,        //  "ready"     worker -> broker: credit = free slots
    TS_OP_JOB,          //  "job"       broker -> worker: job, ids
    TS_OP_DONE,         //  "done"      worker -> broker: job
    TS_OP_FAILED,       //  "failed"    worker -> broker: job, detail
    TS_OP_HEARTBEAT,    //  "heartbeat" either way
    TS_OP_COUNT_        //  number of ops (not an op)
} ts_op_t;

typedef struct {
    ts_op_t  op;                        //  TS_OP_REPLY for replies
    int      status;                    //  replies: 200, 202, 400, ...
    char     error [64];                //  replies >= 400: code, "bad_request"
    char     detail [TS_ERRLEN];        //  replies >= 400, failed: text
    char     id [TS_NAME_MAX + 1];      //  query, ids_rm; query reply
    char     measure [TS_NAME_MAX + 1]; //  query: "" means every measure
    bool     has_from;                  //  query: from given
    bool     has_to;                    //  query: to given
    int64_t  from_ms;                   //  query and its reply
    int64_t  to_ms;                     //  query and its reply
    ts_strlist_t *ids;                  //  ids_add, hydrate, job, ids_ls
                                        //  reply; owned, never NULL
    uint64_t job;                       //  job, done, failed: job id
    uint32_t credit;                    //  ready: jobs the worker can take
    uint64_t count;                     //  replies: ids added, jobs queued
    bool     has_series;                //  reply carries a query answer
    ts_series_t series;                 //  query reply: owned lists,
                                        //  never NULL
} ts_msg_t;

//  Returns a zeroed message of op with empty lists, or NULL (no memory).
ts_msg_t *ts_msg_new (ts_op_t op);

//  Frees the message and what it owns; sets *self_p to NULL. Safe on NULL.
void ts_msg_destroy (ts_msg_t **self_p);

//  Clears the message back to ts_msg_new (op) state, keeping allocations.
void ts_msg_reset (ts_msg_t *self, ts_op_t op);

//  Wire name of op ("query"), or "?" for an unknown value.
const char *ts_op_name (ts_op_t op);

//  Encodes self into a malloc'd buffer: *data (caller frees with free())
//  and *size. Returns 0 or TS_ENOMEM.
//  A query reply is written columnar (see docs/protocol.md): "measures"
//  names each distinct measure once, and "history"/"forecast" each hold
//  "t" (times), "m" (measure indexes) and "v" (values) arrays.
int ts_msg_encode (const ts_msg_t *self, char **data, size_t *size);

//  Decodes size bytes into self (reset first). Returns 0; TS_ETOOBIG if
//  size > max_size or a list is over its limit; TS_EPROTO if the bytes are
//  not one msgpack map of this protocol (truncated, trailing bytes, wrong
//  types, unknown op, bad version, invalid id or measure name). err gets
//  the detail ("field 'from': expected an integer").
int ts_msg_decode (ts_msg_t *self, const void *data, size_t size,
                   size_t max_size, char *err);

//  Helpers that build a reply into self (reset first).
void ts_msg_set_error (ts_msg_t *self, int status, const char *error,
                       const char *detail);
void ts_msg_set_ok (ts_msg_t *self, int status);

#endif
