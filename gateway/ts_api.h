/*  ts_api - the gateway's request handler, shared by both front ends.

    The ZeroMQ front end decodes a msgpack request into a ts_msg_t; the
    HTTP front end builds one from the URL and body. Both let this module
    answer what the gateway answers itself (ts_api_handle, ts_api_query:
    query, ids_*, ping, from the store), check what they forward to the
    broker's control socket (ts_api_forward_check: hydrate, stats,
    dlq_ls, dlq_redrive, dlq_purge, job_state), and turn the reply
    ts_msg_t back into their own encoding. So every rule (defaults,
    range checks, the merge, limits, status codes) lives here once.

    Status codes and error names in replies:
        200 ok (stats, dlq_* as the broker answers); 202 accepted
            (hydrate)
        400 bad_request (bad id, measure, op, empty id list),
            bad_range (from > to)
        404 not_found (id not registered)
        413 too_big (answer over gateway.max_points; an ids_ls without
            after and limit while more than one page of ids is
            registered)
        500 internal (store failed)
        502 bad_gateway (the broker's answer was not one frame holding
            a reply, or a 200 to stats / dlq_ls / job_state without its
            stats / dlq / states)
        503 unavailable (broker did not answer)

    Forwarding: the ops the broker answers are listed once
    (ts_api_forwarded), and the checks before forwarding
    (ts_api_forward_check) are public, so that the front ends, which
    forward asynchronously with ts_client, apply exactly the rules
    ts_api_handle applies synchronously; ts_client judges the broker's
    answer (502, 503) for both.

    Threads: ts_api_handle may be called from several threads at once.
    The store and the answer cache are thread-safe; a forwarded call has
    a connection of its own for its round trip (ts_client_call), so
    calls to a silent broker wait side by side, each up to
    gateway.broker_timeout_ms, not one behind the other. The front ends
    do not call it for forwarded ops: it blocks. */

#ifndef TS_API_H_INCLUDED
#define TS_API_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_proto.h"
#include "ts_store.h"
#include "ts_cache.h"
#include "ts_client.h"
#include "ts_ready.h"
#include "ts_metrics.h"
#include "ts_fresh.h"
#include "ts_flight.h"

#define TS_API_DEFAULT_SPAN_MS   (24 * 3600 * 1000LL)  //  from/to defaults
#define TS_API_FLIGHT_MS        30000  //  a fetch in flight, at most
#define TS_API_RETRY_AFTER_MS   1000   //  a 202 query answer: ask again
                                       //  after this long
#define TS_API_PARK             1      //  ts_api_query_rt: park the query
#define TS_API_MAX_BROKER_REPLY  ((size_t) 256 << 20)  //  bytes: a dlq_ls
                                                       //  can list many

typedef struct _ts_api_t ts_api_t;

//  Creates a handler over store (borrowed: must outlive the handler) with
//  gateway.max_points, gateway.broker_endpoint,
//  gateway.broker_timeout_ms, gateway.cache_mb, gateway.cache_stale_ms,
//  gateway.cache_ttl_s, gateway.cache_stamps and gateway.broker_ready_ms
//  from cfg, and the gateway's CURVE keys toward the broker
//  (security.gateway_cert, security.broker_cert) unless security.mode is
//  plain. Returns NULL (reason in err) if a key file cannot be read or
//  out of memory.
ts_api_t *ts_api_new (const ts_config_t *cfg, ts_store_t *store, char *err);

//  Frees the handler; sets *self_p to NULL. Safe on NULL.
void ts_api_destroy (ts_api_t **self_p);

//  Sets how long a forwarded request waits for the broker (default
//  gateway.broker_timeout_ms). For tests; call before any request, and
//  before a front end reads it to make its forwarder.
void ts_api_set_broker_timeout (ts_api_t *self, int timeout_ms);

//  How long a forwarded request waits for the broker, in ms.
int ts_api_broker_timeout (const ts_api_t *self);

//  How forwarded requests wait for the broker (ts_client): peer
//  "broker", the broker timeout, no retries (borrowed).
const ts_client_policy_t *ts_api_broker_policy (const ts_api_t *self);

//  gateway.broker_endpoint (borrowed).
const char *ts_api_broker_endpoint (const ts_api_t *self);

//  Encodes a 200 query answer for ts_api_query into a new buffer (*data,
//  freed by the caller). Returns 0, TS_ENOMEM, or TS_ETOOBIG to decline
//  an answer too large to hold encoded whole, which its caller then
//  encodes in parts from the points left in reply.
typedef int (ts_api_encode_fn) (const ts_msg_t *reply, char **data,
                                size_t *size);

//  Answers a query request as ts_api_handle does and encodes a 200 answer
//  with encode; format is one byte naming that encoding (e.g. 'j' JSON,
//  'm' msgpack columns, 'k' msgpack compact), since answers are cached
//  per encoding. A query that
//  gives both from and to is answered from the answer cache
//  (gateway.cache_mb) while the store's stamp of its id is unchanged
//  (ts_store_stamp), and a fresh 200 answer to one is put there. A store
//  without stamps (ts_store_caps, or gateway.cache_stamps: ignore) has
//  its answers reused until a change notice of their id (ts_notice), for
//  at most gateway.cache_ttl_s after they were read while notices are
//  heard in order, else gateway.cache_stale_ms (0: never). No answer is
//  reused longer than gateway.cache_ttl_s.
//  Returns the status: on 200, *data and *size hold the encoded answer
//  (the caller frees it) and reply may be left empty, or, if encode
//  declined it (TS_ETOOBIG), *data is NULL, reply holds the answer's
//  points and nothing is cached; otherwise *data is NULL and reply holds
//  the error.
int ts_api_query (ts_api_t *self, const ts_msg_t *req, char format,
                  ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                  size_t *size);

//  The stale rule (gateway.stale_*, the sources' schedules), for the
//  front ends' headers. Borrowed: lives as long as the handler.
ts_fresh_t *ts_api_fresh (ts_api_t *self);
//  gateway.read_through
typedef enum {
    TS_API_RT_OFF,              //  answer what is there
    TS_API_RT_REGISTERED,       //  fetch a registered id without data
    TS_API_RT_ANY               //  also register and fetch an id that
                                //  matches gateway.read_through_pattern
} ts_api_rt_t;

//  A query's read-through wait, kept by the front end that parks it.
typedef struct {
    bool     may_wait;          //  in: the front end can park the query
    bool     resumed;           //  in: it was parked and is asked again
    uint64_t flight;            //  out (TS_API_PARK): the fetch it waits
                                //  for (ts_flight)
    int64_t  until_ms;          //  out (TS_API_PARK): monotonic deadline
    char     id [TS_NAME_MAX + 1];  //  out (TS_API_PARK): the query's id
} ts_api_wait_t;

//  ts_api_query with read-through (gateway.read_through; wait NULL or
//  read-through off: exactly ts_api_query). A 200 answer without any
//  point (the id has no data: never fetched) starts a priority fetch of
//  the id (ts_api_revalidate: one per id in flight), or joins the one in
//  flight; with read_through any, a 404 for a valid id that matches
//  gateway.read_through_pattern registers the id to the first source
//  first. Then:
//  - wait->may_wait, not resumed, gateway.read_through_wait_ms > 0:
//    returns TS_API_PARK (*data NULL) with wait->flight and
//    wait->until_ms set. The front end parks the query, without
//    blocking, until ts_api_waiting turns false (the fetch's change
//    notice, the broker refusing it, or the deadline; ts_flight_watch
//    wakes it), and asks again with wait->resumed set;
//  - otherwise (resumed, may not wait, or the fetch could not be sent):
//    returns 202 with the empty answer encoded in *data: reply->status
//    202 and reply->retry_after_ms TS_API_RETRY_AFTER_MS (JSON answers
//    carry "pending": true and "retry_after_ms").
//  An answer with points is 200 as ever; an empty answer is never put in
//  the answer cache while read-through is on.
int ts_api_query_rt (ts_api_t *self, const ts_msg_t *req, char format,
                     ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                     size_t *size, ts_api_wait_t *wait);

//  True while a query parked with wait (TS_API_PARK) should still wait
//  at now_ms (monotonic): its fetch is in flight and its deadline has
//  not passed. Thread-safe.
bool ts_api_waiting (ts_api_t *self, const ts_api_wait_t *wait,
                     int64_t now_ms);

//  The read-through flight table (watch it to wake parked queries); NULL
//  if gateway.read_through is off. Borrowed: lives as long as the
//  handler.
ts_flight_t *ts_api_flights (ts_api_t *self);

//  The change notice of id was heard (ts_notice): its fetch in flight,
//  if any, is done. Thread-safe.
void ts_api_noticed (ts_api_t *self, const char *id);

//  The answer cache, for the change notice subscriber (ts_notice); NULL
//  if gateway.cache_mb is 0. Borrowed: lives as long as the handler.
ts_cache_t *ts_api_cache (ts_api_t *self);

//  The gateway's readiness (GET /readyz; gateway.broker_ready_ms); the
//  front ends tell it when the broker answers. Borrowed: lives as long
//  as the handler.
ts_ready_t *ts_api_ready (ts_api_t *self);

//  The gateway's request figures (GET /metrics), which both front ends
//  count into. Borrowed: lives as long as the handler.
ts_metrics_t *ts_api_metrics (ts_api_t *self);

//  Answer cache counters (all zero if the cache is off).
void ts_api_cache_stats (ts_api_t *self, ts_cache_stats_t *stats);

//  Read-through's refresh trigger, for stale-while-revalidate: asks the
//  broker for one priority fetch of id (a hydrate with "priority": true)
//  without waiting for anything. Single flight: while a fetch of id asked
//  by this gateway (a query's read-through, or an earlier call) is in
//  flight, until the change notice of id, the broker refusing it, or
//  TS_API_FLIGHT_MS, no other is asked. Never blocks: the hydrate is sent
//  by the read-through thread. Thread-safe. id must be a registered,
//  valid name (the broker refuses others: the flight then ends).
//  Returns 0 if a fetch was asked for now, 1 if one was in flight
//  already, TS_EINVAL if id is not a valid name or read-through is off
//  (gateway.read_through: off), TS_ENOMEM.
int ts_api_revalidate (ts_api_t *self, const char *id);

//  The least role (ts_curve.h) a client's key needs to send op: admin for
//  the ops that change state (ids_add, ids_rm, hydrate, dlq_redrive,
//  dlq_purge), read for every other (ping, query, ids_ls, stats,
//  job_state, dlq_ls). The one list of it, for the ZeroMQ and the HTTP
//  front ends.
ts_role_t ts_api_op_role (ts_op_t op);

//  Checks that a client whose key is name (borrowed) with role may send
//  op. Returns 0 if so; else fills reply with 403 forbidden ("key 'NAME'
//  (read) may not ids_add: it needs an admin key") and returns 403.
int ts_api_forbidden (ts_role_t role, const char *name, ts_op_t op,
                      ts_msg_t *reply);

//  True if the broker answers op, so the gateway forwards it: hydrate,
//  stats, job_state, dlq_ls, dlq_redrive, dlq_purge.
bool ts_api_forwarded (ts_op_t op);

//  What the gateway checks before forwarding req (a forwarded op):
//  hydrate needs 1 or more ids, all registered (400; 404 naming the first
//  unknown one); dlq_redrive's ids must be valid names (400). Returns 0
//  if req may go to the broker; otherwise reply (reset) holds the error
//  and its status is returned.
int ts_api_forward_check (ts_api_t *self, const ts_msg_t *req,
                          ts_msg_t *reply);

//  Answers req into reply (reset first). Ops: ping, query, ids_add,
//  ids_rm, ids_ls, hydrate, stats, dlq_ls, dlq_redrive, dlq_purge,
//  job_state; any other op gets 400.
//  Ids: ids_add takes only names that pass ts_name_valid; query,
//  hydrate and ids_rm also take a name that only passes ts_name_existing
//  (a leading '-') if it is registered, and answer 400 for it otherwise.
//  - query: id must be registered (404); from defaults to now - 24 h, to
//    to now + 24 h; from > to is 400 bad_range; measure "" means every
//    measure. The reply carries id, from, to and the merged series
//    (ts_series_merge); over gateway.max_points points is 413.
//  - ids_add: count = ids that were new. ids_rm: 404 if not registered.
//  - ids_ls: at most limit ids (1..TS_PROTO_IDS_PAGE, default the most)
//    after the cursor after ("": from the first), ascending, and in next
//    the cursor of the next page if more follow. Without after and
//    limit (a client that predates paging) the whole registry, or 413 if
//    it holds more than TS_PROTO_IDS_PAGE ids.
//  - forwarded ops (ts_api_forwarded): ts_api_forward_check, then the
//    request goes to the broker in one blocking round trip
//    (ts_client_call: 502 for a malformed answer, 503 if none within
//    the broker timeout). hydrate: 202, count = jobs queued, jobs = the job of each
//    id; stats: has_stats; dlq_ls: has_dlq; job_state: has_states (where
//    each job is); dlq_redrive: ids optional (none: every entry), count
//    = jobs requeued; dlq_purge: count = entries deleted.
//  Returns reply->status.
int ts_api_handle (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply);

#endif
