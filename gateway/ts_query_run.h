/*  ts_query_run - the query engine of a query with options (several
    measures, step or max_points with agg and fill, limit and next): one
    pass over the store's history (ts_store_history_scan), merged with the
    forecast by the seed's rule (history up to its newest point, forecast
    after it), aggregated into buckets while the points go by (ts_agg),
    empty buckets filled, and cut into pages that are never empty, with
    a page token (ts_query.h) when a point follows.

    A query without options keeps today's path (ts_api: one
    ts_store_read, one snapshot); ts_api calls this one otherwise, after
    its own checks. Reads: existence, forecast, then history (the order
    of the store contract for several roles); not one snapshot. */

#ifndef TS_QUERY_RUN_H_INCLUDED
#define TS_QUERY_RUN_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"
#include "ts_store.h"

//  Whether req needs this engine (else today's one-read path answers).
bool ts_query_run_needed (const ts_msg_t *req);

//  Answers req (id and measures valid, the id registered: the caller
//  read its status; as received: relative times unresolved) over
//  [from_ms, to_ms] (resolved at now_ms, from <= to) into reply (reset
//  by the caller to 200; its id, range, series, step, agg, fill and next
//  are set here). At most max_points points or buckets in one answer
//  (gateway.max_points): more is a page when the client asked for paging
//  (limit or next), else TS_ETOOBIG. Returns 0; TS_EINVAL (a bad token,
//  a step too small for fill over the range) or TS_ETOOBIG with the
//  detail in err; or the store's code with its detail.
int ts_query_run (ts_store_t *store, const ts_msg_t *req, int64_t now_ms,
                  int64_t from_ms, int64_t to_ms, size_t max_points,
                  ts_msg_t *reply, char *err);

#endif
