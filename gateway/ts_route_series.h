/*  ts_route_series - GET /v1/series/{id}: the route that answers a
    series query over HTTP, as JSON or CSV (docs/http-api.md "Series
    queries", "CSV", "Freshness of series answers"). ts_route calls it;
    it holds no state of its own. */

#ifndef TS_ROUTE_SERIES_H_INCLUDED
#define TS_ROUTE_SERIES_H_INCLUDED

#include "ts_api.h"
#include "ts_reply.h"
#include "ts_route.h"
#include "ts_target.h"

//  Answers GET /v1/series/{id} of req (url: its parsed target, segment 2
//  the id) into out: reads the query into msg (a scratch message),
//  answers it with ts_api_query_rt into *reply_p (a scratch reply) and
//  writes the body and headers. An answer over 65,536 points is produced
//  in parts: it then owns the reply, and *reply_p is set to NULL (the
//  caller makes a new one). Returns the HTTP status, or TS_ROUTE_PARK
//  when read-through parked the request (req->wait is set: nothing
//  written; call again when it resumes).
int ts_route_series (ts_api_t *api, const ts_route_req_t *req,
                     const ts_target_t *url, ts_msg_t *msg,
                     ts_msg_t **reply_p, ts_reply_t *out);

#endif
