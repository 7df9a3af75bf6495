/*  ts_proto - the msgpack wire protocol of tscache (docs/protocol.md).

    Every message is one ZeroMQ frame holding one msgpack map with "v": 1.
    Requests carry "op"; replies carry "status" (HTTP-like: 200 ok, 202
    accepted, 400 bad request, 401, 404 unknown id, 413 too big, 500, 503).
    One struct, ts_msg_t, holds any message; ts_msg_encode and
    ts_msg_decode convert it. Servers and clients never touch msgpack.

    Three dialogues use it, and each socket takes only its own
    (ts_msg_decode_in refuses another dialogue's op unread, TS_EDIALOGUE):
    - clients -> gateway, and gateway or CLI -> broker control (REQ or
      DEALER -> ROUTER, TS_DIALOGUE_CLIENT): ping, query, ids_add,
      ids_rm, ids_ls, hydrate, stats, dlq_ls, dlq_redrive, dlq_purge,
      job_state (the broker serves ping, hydrate, stats, dlq_*,
      job_state); replies back (TS_DIALOGUE_REPLIES).
    - workers -> broker (DEALER -> ROUTER, TS_DIALOGUE_WORKER): ready
      (credit), done, failed, heartbeat, release; broker -> workers
      (TS_DIALOGUE_BROKER): job, heartbeat.

    The codec is one module in several files, cut by job (see
    ts_proto_codec.h): the message and entry points (ts_proto.c), msgpack
    primitives, the client dialogue, the worker dialogue, and the columns
    of a query answer.

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
#define TS_PROTO_MAX_WORKERS 10000      //  workers in one stats reply
#define TS_PROTO_MAX_BOUNDS 32          //  bounds of a stats staleness
#define TS_PROTO_MAX_DLQ   100000       //  entries in one dlq_ls reply
#define TS_PROTO_MAX_RETRY_AFTER_MS 31536000000LL  //  failed: one year
#define TS_PROTO_MAX_JOBS  10000        //  job ids in one message
#define TS_PROTO_KIND_MAX  31           //  failed: longest kind, bytes
#define TS_PROTO_IDS_PAGE  10000        //  ids_ls: default and largest
                                        //  limit
#define TS_PROTO_NOT_CLIENT_OP "not_client_op"  //  error of a 400 answer to
                                        //  a message of another dialogue

typedef enum {
    TS_OP_REPLY = 0,    //  a reply (has status, no "op" on the wire)
    TS_OP_PING,         //  "ping"      -> 200
    TS_OP_QUERY,        //  "query"     id, from, to, [measure] -> series
    TS_OP_IDS_ADD,      //  "ids_add"   ids -> 200, count = ids new
    TS_OP_IDS_RM,       //  "ids_rm"    id -> 200 or 404
    TS_OP_IDS_LS,       //  "ids_ls"    [after], [limit] -> 200, ids,
                        //              [next]
    TS_OP_HYDRATE,      //  "hydrate"   ids -> 202, count = jobs queued,
                        //              jobs = the job of each id
    TS_OP_READY,        //  "ready"     worker -> broker: credit = free slots
                        //              (0: introduces the worker only)
    TS_OP_JOB,          //  "job"       broker -> worker: job, ids
    TS_OP_DONE,         //  "done"      worker -> broker: job, [written]
    TS_OP_FAILED,       //  "failed"    worker -> broker: job, [detail]
                        //              ("" if absent), retry,
                        //              [retry_after_ms], [written],
                        //              [kind]
    TS_OP_HEARTBEAT,    //  "heartbeat" either way
    TS_OP_STATS,        //  "stats"     -> 200, stats (broker; gateway
                        //              forwards)
    TS_OP_DLQ_LS,       //  "dlq_ls"    -> 200, dlq entries
    TS_OP_DLQ_REDRIVE,  //  "dlq_redrive" [ids] -> 200, count = jobs
                        //              requeued (no ids: every entry)
    TS_OP_DLQ_PURGE,    //  "dlq_purge" -> 200, count = entries deleted
    TS_OP_JOB_STATE,    //  "job_state" jobs -> 200, states (broker;
                        //              gateway forwards)
    TS_OP_NOTICE,       //  "notice"    broker PUB -> gateways: boot, seq,
                        //              ids written (none: a heartbeat)
    TS_OP_RELEASE,      //  "release"   worker -> broker: jobs handed back
                        //              (may be none); credit becomes 0
    TS_OP_IDS_SHOW,     //  "ids_show"  id -> 200 (id, source, fetch) or
                        //              404
    TS_OP_COUNT_        //  number of ops (not an op)
} ts_op_t;

//  One worker as the broker sees it (stats reply).
typedef struct {
    char     name [64];                 //  routing id as hex (truncated)
    uint32_t credit;                    //  jobs it asked for, not yet sent
    uint32_t leased;                    //  jobs it holds
} ts_worker_stat_t;

//  How long ago the registered ids were last fetched (stats reply,
//  optional): a histogram of ages from one sweep of the registry.
typedef struct {
    int64_t  at_ms;                     //  when the sweep ended, epoch ms
    uint64_t registered;                //  registered ids it walked
    uint64_t never;                     //  of them, never fetched
    int64_t  max_age_ms;                //  age of the stalest fetched id
                                        //  at at_ms; 0 if none
    size_t   n;                         //  bounds, 1..TS_PROTO_MAX_BOUNDS
    int64_t  le_ms [TS_PROTO_MAX_BOUNDS];   //  ascending upper bounds, ms
    uint64_t counts [TS_PROTO_MAX_BOUNDS];  //  fetched ids whose age is at
                                        //  most le_ms [i] (cumulative)
} ts_staleness_t;

//  The broker's counters (stats reply). Sizes are current; totals count
//  since the broker's queue was created (they survive a restart).
typedef struct {
    uint64_t queued;                    //  jobs ready for a worker now
    uint64_t delayed;                   //  jobs waiting out a retry backoff
    uint64_t leased;                    //  jobs held by workers
    uint64_t dlq;                       //  jobs in the dead-letter queue
    uint64_t done;                      //  total: jobs reported done
    uint64_t failed;                    //  total: failed reports, expired
                                        //  leases and lost workers
    uint64_t retried;                   //  total: jobs put back to retry
    uint64_t dead_lettered;             //  total: jobs moved to the DLQ
    int64_t  oldest_age_ms;             //  age of the oldest queued,
                                        //  delayed or leased job; 0 if none
    ts_worker_stat_t *workers;          //  connected workers, owned
    size_t   workers_n;                 //  number of workers
    bool     has_staleness;             //  staleness given
    ts_staleness_t staleness;           //  see above
} ts_stats_t;

//  One dead-lettered job (dlq_ls reply).
typedef struct {
    uint64_t      job;                  //  job id
    ts_strlist_t *ids;                  //  its series ids, owned
    uint32_t      receives;             //  times it was leased
    int64_t       dead_at_ms;           //  when it moved to the DLQ
    char          error [TS_ERRLEN];    //  its last error
} ts_dlq_entry_t;

//  Where a job is (job_state reply). Append only.
typedef enum {
    TS_JOB_STATUS_UNKNOWN = 0,          //  "unknown": not in the queue and
                                        //  no ack remembered (see
                                        //  docs/protocol.md)
    TS_JOB_STATUS_QUEUED,               //  "queued": visible, waiting
    TS_JOB_STATUS_DELAYED,              //  "delayed": waiting out a retry
                                        //  backoff
    TS_JOB_STATUS_LEASED,               //  "leased": a worker has it
    TS_JOB_STATUS_DONE,                 //  "done": acked, its ids stored
    TS_JOB_STATUS_DEAD,                 //  "dead": dead-lettered
    TS_JOB_STATUS_COUNT_
} ts_job_status_t;

//  Wire name of a job status ("queued"), or "?" for an unknown value.
const char *ts_job_status_name (ts_job_status_t status);

//  An id's fetch status (ids_show reply; the store's ts_store_status_t,
//  common/store/ts_store.h): times in epoch ms, 0 and "" for none.
typedef struct {
    int64_t ok_ms;                      //  last successful fetch
    int64_t attempt_ms;                 //  last fetch that ended
    int64_t error_ms;                   //  last failure after ok_ms
    char    error [TS_ERRLEN];          //  its detail
    char    kind [TS_PROTO_KIND_MAX + 1];   //  its kind, e.g. "http_404"
    int64_t not_found_until_ms;         //  upstream 404 remembered until
    bool    stale;                      //  ids_ls reply: stale by its
                                        //  source's schedule (ids_show
                                        //  says it in its freshness)
} ts_id_status_t;

//  One job's state (job_state reply).
typedef struct {
    uint64_t        job;                //  job id
    ts_job_status_t status;             //  where it is
    uint32_t        receives;           //  times leased so far
    char            error [TS_ERRLEN];  //  last failure, "" if none
} ts_job_info_t;

//  How a query reply carries its points (query key "enc",
//  docs/protocol.md 6.3). Append only.
typedef enum {
    TS_ENC_COLUMNS = 0,                 //  "columns": "t", "m" and "v"
                                        //  arrays (the default, v1)
    TS_ENC_COMPACT,                     //  "compact": times as a start and
                                        //  deltas (runs of one step as
                                        //  [step, count]), no "m" with one
                                        //  measure, values float32 where
                                        //  exact, nil for null (NaN)
    TS_ENC_COUNT_
} ts_enc_t;

//  Wire name of an encoding ("compact"), or "?" for an unknown value.
const char *ts_enc_name (ts_enc_t enc);

//  Aggregate of a query with a step (docs/protocol.md 5.2): the value of
//  each bucket from the points in it. Append only.
typedef enum {
    TS_AGG_NONE = 0,                    //  no aggregation (raw points)
    TS_AGG_AVG,                         //  "avg": mean (the default with a
                                        //  step)
    TS_AGG_MIN,                         //  "min"
    TS_AGG_MAX,                         //  "max"
    TS_AGG_SUM,                         //  "sum"
    TS_AGG_COUNT,                       //  "count": number of points
    TS_AGG_FIRST,                       //  "first": the earliest point's
    TS_AGG_LAST,                        //  "last": the newest point's
    TS_AGG_COUNT_
} ts_agg_t;

//  What an aggregated query answers for a bucket with no point. Append
//  only. (Not ts_fill_t: that name is the queue's backfill record.)
typedef enum {
    TS_FILL_NONE = 0,                   //  "none": the bucket is left out
    TS_FILL_NULL,                       //  "null": value NaN (JSON null,
                                        //  msgpack nil)
    TS_FILL_PREVIOUS,                   //  "previous": the last value
                                        //  before it, read from before
                                        //  the range if need be
    TS_FILL_COUNT_
} ts_fill_mode_t;

//  Most measures one query names.
#define TS_PROTO_MAX_QUERY_MEASURES 64

//  How fresh a query answer is (docs/protocol.md 6, gateway/ts_fresh.h):
//  "fetched_ms", "stale", "last_error" and "age" on the wire.
typedef struct {
    int64_t  fetched_ms;                //  last successful fetch; 0 never
                                        //  (wire: nil)
    bool     stale;                     //  the stale rule's verdict
    int64_t  age_s;                     //  seconds since fetched_ms; -1
                                        //  never (wire: nil)
    int64_t  error_ms;                  //  last_error.at: the last attempt
                                        //  failed after fetched_ms; 0 none
    char     error_kind [TS_PROTO_KIND_MAX + 1];    //  last_error.kind
    char     error [TS_ERRLEN];         //  last_error.detail
    uint64_t etag;                      //  not on the wire: hash of the
                                        //  encoded answer (ts_fresh); 0
                                        //  none
    int64_t  stale_at_ms;               //  not on the wire: when it goes
                                        //  stale by age (ts_fresh); 0
                                        //  never fetched, INT64_MAX never
} ts_freshness_t;

typedef struct {
    ts_op_t  op;                        //  TS_OP_REPLY for replies
    char     rid [TS_RID_MAX + 1];      //  any message: the request id
                                        //  ("rid", optional; "" none):
                                        //  client requests to the broker,
                                        //  their replies, job
    int      status;                    //  replies: 200, 202, 400, ...
    char     error [64];                //  replies >= 400: code, "bad_request"
    char     detail [TS_ERRLEN];        //  replies >= 400, failed: text
    char     id [TS_NAME_MAX + 1];      //  query, ids_rm; query reply
    char     measure [TS_NAME_MAX + 1]; //  query: "" means every measure
                                        //  (or the several of measures)
    ts_strlist_t *measures;             //  query: every measure asked
                                        //  ("measure" repeated, or an
                                        //  array); when it holds one,
                                        //  measure holds it too; empty:
                                        //  measure alone says (a v1
                                        //  request). Owned, never NULL
    bool     from_rel;                  //  query: from_ms is an offset
    bool     to_rel;                    //  from now ("now-24h"), resolved
                                        //  by ts_query_resolve
    int64_t  step_ms;                   //  query and its reply: bucket
                                        //  width, ms; 0: none (raw)
    ts_agg_t agg;                       //  query and reply: aggregate
                                        //  (TS_AGG_NONE: avg with a step)
    uint32_t max_points;                //  query: most buckets wanted,
                                        //  sets the step; 0: not given
    ts_fill_mode_t fill;                   //  query and reply: empty buckets
    char     source [TS_NAME_MAX + 1];  //  job: the upstream source of its
                                        //  ids ("source", optional; ""
                                        //  the first source); ids_add:
                                        //  the source the ids are
                                        //  registered to ("" the first)
    bool     has_from;                  //  query, job: from given
    bool     has_to;                    //  query, job: to given
    int64_t  from_ms;                   //  query and its reply; job: the
    int64_t  to_ms;                     //  window to fetch (has_from and
                                        //  has_to: both or neither)
    ts_strlist_t *ids;                  //  ids_add, hydrate, job, ids_ls
                                        //  reply; owned, never NULL
    ts_strlist_t *sources;              //  ids_ls reply: the source of
                                        //  each of ids (parallel; empty
                                        //  if the answer has none);
                                        //  owned, never NULL
    char     after [TS_NAME_MAX + 1];   //  ids_ls: list ids after this
                                        //  one; "" from the first
    uint32_t limit;                     //  ids_ls: most ids to answer;
                                        //  query: most points (or
                                        //  buckets) of a page; 0 when
                                        //  not given
    char     next [TS_NAME_MAX + 1];    //  ids_ls reply: cursor of the
                                        //  next page; "" on the last;
                                        //  query and its reply: the page
                                        //  token (ts_query.h, < 100
                                        //  bytes)
    uint64_t *jobs;                     //  hydrate reply: job of each id;
                                        //  job_state: jobs asked;
                                        //  release: jobs handed back;
                                        //  owned
    size_t   jobs_n;                    //  number of jobs
    uint64_t job;                       //  job, done, failed: job id
    uint32_t credit;                    //  ready: jobs the worker can take
    bool     retry;                     //  failed: worth retrying (true
                                        //  after new/reset, and when
                                        //  absent on the wire)
    uint64_t retry_after_ms;            //  failed: upstream asked to wait;
                                        //  a 202 query reply: ask again
                                        //  after this long (read-through)
    bool     priority;                  //  hydrate: a priority fetch
                                        //  ("priority", optional; false
                                        //  when absent)
    int64_t  skip_fetched_since_ms;     //  hydrate: ids fetched (acked)
                                        //  at or after this epoch ms are
                                        //  not queued ("skip_fetched_
                                        //  since", optional; 0: none)
    char     kind [TS_PROTO_KIND_MAX + 1];  //  failed: the failure's kind
                                        //  (the worker's ts_fetch_kinds,
                                        //  e.g. "http_429"); "" not given
    uint64_t boot;                      //  heartbeat, notice: the broker
                                        //  process that sent it; 0 not
                                        //  given
    bool     has_written;               //  done, failed: "written" given
    ts_strlist_t *written;              //  done, failed: the ids this run
                                        //  stored; owned, never NULL
    uint64_t seq;                       //  notice: number of its first id
                                        //  (heartbeat: of the next id)
                                        //  this long (0: no advice; at
                                        //  most TS_PROTO_MAX_RETRY_AFTER_MS)
    uint64_t count;                     //  replies: ids added, jobs queued
    ts_enc_t enc;                       //  query: the reply encoding
                                        //  asked ("enc"); query reply:
                                        //  the encoding of its points
                                        //  (ts_msg_encode writes it)
    bool     has_series;                //  reply carries a query answer
    ts_series_t series;                 //  query reply: owned lists,
                                        //  never NULL
    bool     has_fresh;                 //  query reply: freshness given
    ts_freshness_t fresh;               //  query reply: see above
    bool     has_stats;                 //  reply carries stats
    ts_stats_t stats;                   //  stats reply
    bool     has_dlq;                   //  reply carries dlq entries
    ts_dlq_entry_t *dlq;                //  dlq_ls reply: entries, owned
    size_t   dlq_n;                     //  number of entries
    bool     has_fetch;                 //  ids_show reply: id, source
                                        //  and fetch given
    ts_id_status_t fetch;               //  ids_show reply: id's fetch
                                        //  status
    bool     with_fetch;                //  ids_ls: "fetch": true asks
                                        //  each id's fetch status
    bool     has_fetches;               //  ids_ls reply: fetches given
    ts_id_status_t *fetches;            //  ids_ls reply: one per id,
                                        //  owned
    size_t   fetches_n;                 //  number of fetches
    bool     has_states;                //  reply carries job states
    ts_job_info_t *states;              //  job_state reply: owned
    size_t   states_n;                  //  number of states
    void    *zone;                      //  private: the decoder's msgpack
                                        //  zone, kept from one decode to
                                        //  the next (cleared, not freed)
} ts_msg_t;

//  Appends a job id to self->jobs. Returns 0 or TS_ENOMEM.
int ts_msg_add_job (ts_msg_t *self, uint64_t job);

//  Appends a job state to self (sets has_states). Returns 0 or
//  TS_ENOMEM.
int ts_msg_add_state (ts_msg_t *self, uint64_t job, ts_job_status_t status,
                      uint32_t receives, const char *error);

//  Appends a copy of fetch to self->fetches (sets has_fetches): the
//  status of the ids_ls reply's next id. Returns 0 or TS_ENOMEM.
int ts_msg_add_fetch (ts_msg_t *self, const ts_id_status_t *fetch);

//  Appends a worker to self->stats (sets has_stats). Returns 0 or
//  TS_ENOMEM.
int ts_msg_add_worker (ts_msg_t *self, const char *name, uint32_t credit,
                       uint32_t leased);

//  Appends a dead-letter entry (ids copied) to self (sets has_dlq).
//  Returns 0 or TS_ENOMEM.
int ts_msg_add_dlq (ts_msg_t *self, uint64_t job, const ts_strlist_t *ids,
                    uint32_t receives, int64_t dead_at_ms, const char *error);

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
//  A reply whose enc is TS_ENC_COMPACT is written compact instead (see
//  docs/protocol.md 6.3).
int ts_msg_encode (const ts_msg_t *self, char **data, size_t *size);

//  As ts_msg_encode, into *buf: a buffer of *cap bytes that the caller
//  keeps between calls (NULL and 0 at first; grown with realloc, freed
//  by the caller with free()), so that a sender of one small message
//  after another allocates nothing once it is warm (the broker's jobs).
//  *size gets the bytes written. Returns 0 or TS_ENOMEM (*buf stays
//  valid).
int ts_msg_encode_into (const ts_msg_t *self, char **buf, size_t *cap,
                        size_t *size);

//  As ts_msg_encode, but a query answer is written compact whatever
//  self->enc says (the gateway's encoder for a query that asked "enc":
//  "compact"; a ts_api_encode_fn).
int ts_msg_encode_compact (const ts_msg_t *self, char **data, size_t *size);

//  The dialogues (docs/protocol.md 4): which messages a socket takes.
typedef enum {
    TS_DIALOGUE_CLIENT,     //  a gateway's or the broker's control socket:
                            //  client requests (ping, query, ids_add,
                            //  ids_rm, ids_ls, hydrate, stats, dlq_ls,
                            //  dlq_redrive, dlq_purge, job_state)
    TS_DIALOGUE_REPLIES,    //  a client: replies only
    TS_DIALOGUE_WORKER,     //  the broker's worker socket: what workers
                            //  send (ready, done, failed, heartbeat,
                            //  release)
    TS_DIALOGUE_BROKER,     //  a worker: what the broker sends (job,
                            //  heartbeat)
    TS_DIALOGUE_NOTICE      //  a gateway's SUB socket: the broker's change
                            //  notices (notice)
} ts_dialogue_t;

//  True if a socket of dialogue takes messages of op (TS_OP_REPLY: a
//  reply).
bool ts_dialogue_accepts (ts_dialogue_t dialogue, ts_op_t op);

//  Decodes size bytes into self (reset first) as ts_msg_decode does, but
//  only a message of dialogue: a message of another (a job on a client
//  socket, a request where a reply is due, ...) is TS_EDIALOGUE, with
//  err naming it ("op 'job' is not a client operation"), and its fields
//  are not decoded.
int ts_msg_decode_in (ts_msg_t *self, ts_dialogue_t dialogue,
                      const void *data, size_t size, size_t max_size,
                      char *err);

//  Decodes size bytes into self (reset first), whatever its dialogue. Returns 0; TS_ETOOBIG if
//  size > max_size or a list is over its limit; TS_EPROTO if the bytes are
//  not one msgpack map of this protocol (truncated, trailing bytes, wrong
//  types, unknown op, bad version, a name that fails ts_name_existing:
//  the stricter ts_name_valid is for the server to apply). err gets
//  the detail ("field 'from': expected an integer").
int ts_msg_decode (ts_msg_t *self, const void *data, size_t size,
                   size_t max_size, char *err);

//  Encodes a notice (docs/protocol.md 5.18) of the n ids at ids, numbered
//  from seq, of the broker process boot, into *buf: a buffer of *cap
//  bytes that the caller keeps between calls (NULL and 0 at first; grown
//  with realloc, freed by the caller with free()), so that a publisher
//  allocates nothing once it is warm. *size gets the bytes written.
//  n == 0 is a notice heartbeat. Returns 0 or TS_ENOMEM (*buf stays
//  valid).
int ts_msg_encode_notice (char **buf, size_t *cap, size_t *size,
                          uint64_t boot, uint64_t seq,
                          const char *const *ids, size_t n);

//  Sets the "age" of an encoded query reply (data, size bytes, as
//  ts_msg_encode made it with has_fresh and a fetched_ms) to age_s, in
//  place: an answer reused from a cache says its age now. Returns 0, or
//  TS_EINVAL (nothing changed) if data does not end with an int64 "age".
int ts_msg_patch_age (char *data, size_t size, int64_t age_s);

//  Helpers that build a reply into self (reset first).
void ts_msg_set_error (ts_msg_t *self, int status, const char *error,
                       const char *detail);
void ts_msg_set_ok (ts_msg_t *self, int status);

#endif
