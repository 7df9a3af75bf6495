/*  ts_route_series - GET /v1/series/{id} as HTTP answers it: the query
    read from the URL (ts_params_query), its encoding (format= or Accept:
    ts_accept; JSON by ts_json, CSV by ts_csv), the answer from ts_api
    (the answer cache, the store, read-through), and what HTTP adds to
    it: freshness headers (Age, Cache-Control, ETag, 304 on If-None-
    Match), Retry-After on a 202, X-Next on a CSV page, Vary: Accept,
    and large answers produced in parts as the client reads them. Part of
    ts_route (the route table names it). */

#include "ts_route_series.h"
#include "ts_accept.h"
#include "ts_csv.h"
#include "ts_fresh.h"
#include "ts_params.h"

#include <stdio.h>
#include <stdlib.h>

//  The request being answered and where its answer goes.
typedef struct {
    ts_api_t             *api;      //  the request handler
    const ts_route_req_t *req;      //  the request
    const ts_target_t    *url;      //  its parsed target
    ts_msg_t             *msg;      //  the query, read from url
    ts_msg_t             *reply;    //  ts_api's reply; NULL once taken
                                    //  by a produced body
    ts_reply_t           *out;      //  the HTTP answer
} s_call_t;

//  An answer over S_STREAM_POINTS points is encoded a part of
//  S_PART_POINTS points (about 60 KB of JSON) at a time as the client
//  takes it, never whole: a million points are 75 MB of JSON, which the
//  gateway would otherwise hold besides the points. Smaller answers are
//  encoded whole, and may be cached (the cache keeps no entry this large
//  anyway: gateway.cache_mb / 8 is 4 MB by default, about 55,000 points).
#define S_STREAM_POINTS     65536
#define S_PART_POINTS       800

//  A produced GET /v1/series answer: the reply holding its points, how
//  far it has been written (ts_json_series_part, ts_csv_series_part) and
//  in which encoding.
typedef struct {
    ts_msg_t *reply;
    size_t    at;
    bool      csv;
} s_series_parts_t;

static int
s_series_produce (void *arg, ts_json_t *part)
{
    s_series_parts_t *parts = (s_series_parts_t *) arg;
    if (parts->csv)
        return ts_csv_series_part (part, parts->reply, &parts->at,
                                   S_PART_POINTS);
    return ts_json_series_part (part, parts->reply, &parts->at,
                                S_PART_POINTS);
}

static void
s_series_free (void *arg)
{
    s_series_parts_t *parts = (s_series_parts_t *) arg;
    if (parts) {
        ts_msg_destroy (&parts->reply);
        free (parts);
    }
}

//  Encodes a query answer as GET /v1/series returns it (as JSON, or as
//  CSV), or declines one over S_STREAM_POINTS
//  (s_query_answer then produces it in parts).
static int
s_encode_as (const ts_msg_t *reply, bool csv, char **data, size_t *size)
{
    if (reply->series.history->n + reply->series.forecast->n
        > S_STREAM_POINTS)
        return TS_ETOOBIG;
    ts_json_t *json = ts_json_new ();
    if (!json || (csv? ts_csv_series (json, reply)
                     : ts_json_series (json, reply)) != 0) {
        ts_json_destroy (&json);
        return TS_ENOMEM;
    }
    *data = ts_json_detach (json, size);
    ts_json_destroy (&json);
    return *data? 0: TS_ENOMEM;
}

//  The freshness headers of a 200 query answer (ts_fresh.h): Age,
//  Cache-Control and, for an answer encoded whole, ETag. Returns true if
//  the client's If-None-Match names that ETag: the answer is then a 304
//  without a body.
static bool
s_fresh_headers (s_call_t *call, bool whole)
{
    const ts_msg_t *reply = call->reply;
    if (!reply->has_fresh)
        return false;
    //  As ts_api judged the answer (reply->fresh): not judged again.
    char age [24], cc [TS_FRESH_CC_MAX], etag [TS_FRESH_ETAG_MAX];
    ts_fresh_headers (ts_api_fresh (call->api), &reply->fresh, age,
                      sizeof age, cc);
    if (age [0])
        ts_reply_header (call->out, "Age", age);
    ts_reply_header (call->out, "Cache-Control", cc);
    if (!whole || !reply->fresh.etag)
        return false;
    ts_reply_header (call->out, "ETag",
                     ts_fresh_etag (reply->fresh.etag, etag));
    return call->req->if_none_match
        && ts_fresh_etag_matches (call->req->if_none_match,
                                  call->req->if_none_match_len, etag);
}

static int
s_encode_series (const ts_msg_t *reply, char **data, size_t *size)
{
    return s_encode_as (reply, false, data, size);
}

static int
s_encode_csv (const ts_msg_t *reply, char **data, size_t *size)
{
    return s_encode_as (reply, true, data, size);
}

//  Runs call->msg (a query) through the gateway's answer path
//  (ts_api_query: the store or the answer cache) and puts the encoded
//  answer, or the error, in call->out. The encoded answer becomes the
//  body as it is (no copy); one encode declined becomes a produced body
//  that owns call->reply. Returns the status.
static int
s_query_answer (s_call_t *call, char format, ts_api_encode_fn *encode)
{
    char *data = NULL;
    size_t size = 0;
    int status = ts_api_query_rt (call->api, call->msg, format, encode,
                                  call->reply, &data, &size, call->req->wait);
    if (status == TS_API_PARK)
        return TS_ROUTE_PARK;
    if (status == 202) {
        //  Read-through: the fetch is pending; whole seconds, at least 1.
        char seconds [24];
        snprintf (seconds, sizeof seconds, "%llu", (unsigned long long)
                  ((call->reply->retry_after_ms + 999) / 1000));
        ts_reply_adopt (call->out, data, size);
        ts_reply_header (call->out, "Retry-After", seconds);
        return 202;
    }
    if (status != 200)
        return ts_reply_error (call->out, call->reply->status,
                               call->reply->error [0]? call->reply->error
                                                     : "error",
                               call->reply->detail);
    //  A CSV body has no room for the next page's token (ts_api does not
    //  cache CSV pages, so the reply always holds it).
    if (format == 'c' && call->reply->next [0])
        ts_reply_header (call->out, "X-Next", call->reply->next);
    if (s_fresh_headers (call, data != NULL)) {
        free (data);
        return ts_reply_set_text (call->out, 304, ts_reply_type (call->out),
                                  "");
    }
    if (data) {
        ts_reply_adopt (call->out, data, size);
        return 200;
    }
    s_series_parts_t *parts = calloc (1, sizeof *parts);
    if (!parts)
        return ts_reply_error (call->out, 500, "internal", "out of memory");
    parts->reply = call->reply;
    parts->csv = format == 'c';
    call->reply = NULL;
    ts_reply_set_producer (call->out, s_series_produce, s_series_free,
                           parts);
    return 200;
}

static int
s_series (s_call_t *call)
{
    char err [TS_ERRLEN] = "";
    ts_accept_t as;
    int status = ts_accept_series (ts_target_param (call->url, "format"),
                                   call->req->accept, call->req->accept_len,
                                   &as, err);
    if (status)
        return ts_reply_error (call->out, status, status == 406
                               ? "not_acceptable": "bad_request", err);
    ts_msg_reset (call->msg, TS_OP_QUERY);
    if (ts_params_query (call->url, ts_target_segment (call->url, 2),
                         call->msg, err))
        return ts_reply_error (call->out, 400, "bad_request", err);
    if (as == TS_ACCEPT_JSON) {
        status = s_query_answer (call, 'j', s_encode_series);
        ts_reply_header (call->out, "Vary", "Accept");
        return status;
    }
    status = s_query_answer (call, 'c', s_encode_csv);
    if (status == 200 || status == 202)
        ts_reply_set_type (call->out, TS_REPLY_CSV);
    ts_reply_header (call->out, "Vary", "Accept");
    return status;
}

int
ts_route_series (ts_api_t *api, const ts_route_req_t *req,
                 const ts_target_t *url, ts_msg_t *msg, ts_msg_t **reply_p,
                 ts_reply_t *out)
{
    s_call_t call = {
        .api = api, .req = req, .url = url, .msg = msg, .reply = *reply_p,
        .out = out };
    int status = s_series (&call);
    *reply_p = call.reply;
    return status;
}
