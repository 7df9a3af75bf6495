/*  ts_api - the gateway's request handler, shared by both front ends.

    The ZeroMQ front end decodes a msgpack request into a ts_msg_t; the
    HTTP front end builds one from the URL and body. Both call
    ts_api_handle, which answers from the store (query, ids_*) or forwards
    to the broker's control socket (hydrate, stats, dlq_ls, dlq_redrive,
    dlq_purge, job_state), and both turn the reply
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
        502 bad_gateway (the broker's answer was not a reply, or a 200
            to stats / dlq_ls without its stats / dlq)
        503 unavailable (broker did not answer)

    Threads: ts_api_handle may be called from several threads at once (the
    HTTP thread pool and the ZeroMQ loop). The store is thread-safe; the
    broker REQ socket is used under a mutex. */

#ifndef TS_API_H_INCLUDED
#define TS_API_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_proto.h"
#include "ts_store.h"
#include "ts_cache.h"

#define TS_API_DEFAULT_SPAN_MS   (24 * 3600 * 1000LL)  //  from/to defaults
#define TS_API_BROKER_TIMEOUT_MS 3000                   //  broker forward

typedef struct _ts_api_t ts_api_t;

//  Creates a handler over store (borrowed: must outlive the handler) with
//  gateway.max_points and gateway.broker_endpoint from cfg. The broker
//  socket is connected on first use. Returns NULL (reason in err) if out
//  of memory.
ts_api_t *ts_api_new (const ts_config_t *cfg, ts_store_t *store, char *err);

//  Closes the broker socket and frees the handler; sets *self_p to NULL.
//  Safe on NULL.
void ts_api_destroy (ts_api_t **self_p);

//  Sets how long a forwarded request waits for the broker (default
//  TS_API_BROKER_TIMEOUT_MS). For tests.
void ts_api_set_broker_timeout (ts_api_t *self, int timeout_ms);

//  Encodes a 200 query answer for ts_api_query into a new buffer (*data,
//  freed by the caller). Returns 0 or TS_ENOMEM.
typedef int (ts_api_encode_fn) (const ts_msg_t *reply, char **data,
                                size_t *size);

//  Answers a query request as ts_api_handle does and encodes a 200 answer
//  with encode; format is one byte naming that encoding (e.g. 'j' JSON,
//  'm' msgpack), since answers are cached per encoding. A query that
//  gives both from and to is answered from the answer cache
//  (gateway.cache_mb) while the store's stamp of its id is unchanged
//  (ts_store_stamp), and a fresh 200 answer to one is put there.
//  Returns the status: on 200, *data and *size hold the encoded answer
//  (the caller frees it) and reply may be left empty; otherwise *data is
//  NULL and reply holds the error.
int ts_api_query (ts_api_t *self, const ts_msg_t *req, char format,
                  ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                  size_t *size);

//  Answer cache counters (all zero if the cache is off).
void ts_api_cache_stats (ts_api_t *self, ts_cache_stats_t *stats);

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
//  - hydrate: every id must be registered (404 naming the first unknown
//    one); the request goes to the broker, whose reply (202, count = jobs
//    queued, jobs = the job of each id) is passed on; 503 if it does not
//    answer in time.
//  - job_state: forwarded like stats; states = where each job is.
//  - stats, dlq_ls, dlq_purge: forwarded to the broker as they are; its
//    reply is passed on (stats: has_stats; dlq_ls: has_dlq; dlq_purge:
//    count = entries deleted); 503 if it does not answer in time, 502 if
//    a 200 lacks its stats or dlq.
//  - dlq_redrive: ids optional (none: every entry), each a valid name
//    (400), not necessarily registered; forwarded like stats; count =
//    jobs requeued.
//  Returns reply->status.
int ts_api_handle (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply);

#endif
