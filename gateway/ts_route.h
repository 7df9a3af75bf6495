/*  ts_route - the gateway's HTTP routes: request in, ts_reply_t out.

    Everything of the HTTP front end except the sockets: authentication,
    routing, parameter and body checks, turning a request into a ts_msg_t
    for ts_api and the reply into an answer (ts_reply_t: status, content
    type, headers, body). ts_http feeds it requests it has read and writes
    the answers out; the unit tests feed it requests directly.

    A request the gateway answers itself is answered at once
    (ts_route_start). One the broker answers (hydrate, stats, dlq) comes
    back from ts_route_start as the ts_msg_t to forward, its checks
    passed (ts_api_forward_check); the caller forwards it without
    blocking (ts_client) and, when the reply comes, ts_route_finish
    writes the answer. ts_route_handle does both in one blocking call,
    over the same two functions, so the JSON is the same either way.

    Routes, one table in ts_route.c (method, path pattern, auth rule,
    handler); every answer below is application/json but for CSV
    series; docs/openapi.yaml describes them all:
        GET    /  GET /ui/{file}              the built-in page (ts_ui.h),
               no key; with gateway.ui false unknown paths (401, 404)
        GET    /v1/key                        {"name":..,"role":"read"|
               "admin"}: the calling key's (never the key)
        GET    /healthz                       200 {"status":"ok"}, no key:
               the process is alive
        GET    /readyz                        200 or 503 {"status":"ready"|
               "not_ready","not_ready":[..],"checks":{..}}, no key: the
               store roles are open and the broker answers (ts_ready.h)
        GET    /metrics                       200 text/plain; version=0.0.4:
               the pipeline's figures in Prometheus text (ts_metrics.h,
               docs/metrics.md); the broker's come from a stats request
               (tscache_broker_up 0 if it does not answer); open unless
               gateway.metrics_auth; never from the answer cache
        GET    /v1/series/{id}?from=&to=&measure=[&format=json|csv]
               the series as JSON, or as CSV (text/csv; charset=utf-8,
               ts_csv.h) for format=csv or an Accept that prefers
               text/csv; 406 not_acceptable for an Accept naming
               neither (ts_accept.h); Vary: Accept. With read-through
               (gateway.read_through) an id without data waits for its
               fetch, then 202 with Retry-After and {"pending":true,...}
               if still empty
        GET    /v1/ids?after=&limit=          {"ids":[...],"next":ID|null}:
               at most limit (1..10000, default 10000) ids after after,
               ascending; next is the after of the next page, null on
               the last; without after and limit, 413 if more than
               10000 ids are registered
        POST   /v1/ids          {"ids":[..]}  {"added":n}
        GET    /v1/ids/{id}                   {"id":..,"source":..,
               "registered":true,"fetched_at":T|null,"last_attempt":
               T|null,"last_error":{"at":T,"kind":..,"detail":..}|null,
               "not_found_until":T|null} (ts_json.h; 404 if the id is
               not registered)
        DELETE /v1/ids/{id}                   {"id":..,"removed":true}
        POST   /v1/hydrate      {"ids":[..],"priority":false}
                                              202 {"queued":n,"jobs":[..]}:
               jobs holds the job id of each id, in order; "priority":
               true queues them in the broker's high lane (read-through)
        GET    /v1/stats                      {"queued":n,"delayed":n,
               "leased":n,"dlq":n,"done":n,"failed":n,"retried":n,
               "dead_lettered":n,"oldest_age_ms":n,
               "workers":[{"name":..,"credit":n,"leased":n}]}
        GET    /v1/dlq                        {"jobs":[{"job":n,"ids":[..],
               "receives":n,"dead_at":ms,"error":".."}]}
        POST   /v1/dlq/redrive  [{"ids":[..]} or {"jobs":[..]}]
               {"requeued":n}: those holding one of the ids, or those
               jobs; no body, {} or no ids: every entry
        DELETE /v1/dlq                        {"purged":n}
        GET    /grafana/  POST /grafana/search, /grafana/metrics,
               /grafana/variable, /grafana/query, /grafana/annotations:
               Grafana's JSON data source plugins (ts_grafana.h), a read
               key
    Auth rules: /healthz and /readyz are open (TS_ROUTE_OPEN), for
    probes that hold no key, and so are the page's files (no data);
    /metrics too, or needs a key with gateway.metrics_auth
    (TS_ROUTE_METRICS); the /v1 routes, and any
    path no route knows, need "x-security-token: KEY" or "Authorization:
    Bearer KEY" (TS_ROUTE_KEY: 401 otherwise, checked before 404, 405 and
    413), and a key whose role is read gets 403 forbidden on the routes
    that change state (POST and DELETE of /v1/ids, POST /v1/hydrate,
    DELETE /v1/dlq, POST /v1/dlq/redrive: ts_api_op_role); the seed's paths have their own rule (TS_ROUTE_SEED, below). A
    known path with another method is 405 with an Allow header naming the
    path's methods. Errors are {"error":"<code>","detail":"<text>"}: 400
    bad_request, 401 unauthorized, 403 forbidden, 404 not_found, 405 method_not_allowed,
    413 too_big, and the ts_api codes (503 unavailable when the broker
    does not answer stats and dlq routes). Times in parameters are epoch
    milliseconds or RFC 3339.

    The replaced service's API (ts_seed): any method on a path whose first
    segment is timeSeries-data, and on gateway.seed_path_prefix and every
    path under it, is answered as that service answered, status codes and
    bodies included:
        GET    /timeSeries-data?identifier=&startDate=&endDate=[&measure=]
               200 {"historicalRows":[{"identifier","cpu","time"}..],
               "futureRows":[..]}
    Its key is x-security-token only, and a missing or wrong key is its
    400 "{}", not 401; see ts_seed.h for every answer. */

#ifndef TS_ROUTE_H_INCLUDED
#define TS_ROUTE_H_INCLUDED

#include "ts_api.h"
#include "ts_h1.h"
#include "ts_json.h"
#include "ts_keys.h"
#include "ts_reply.h"

#define TS_ROUTE_MAX_BODY (1 << 20)     //  request body limit, bytes

//  One HTTP request as the routes see it. Everything is borrowed.
//  Header values are given with their length, so a value holding a NUL
//  byte is compared whole ("KEY\0" is not KEY).
typedef struct {
    const char *method;         //  "GET", "POST", ...
    const char *target;         //  raw request target "/v1/ids?x=1"
    const char *token;          //  x-security-token header value, or NULL
    size_t      token_len;      //  bytes in token (it may hold a NUL)
    const char *authorization;  //  Authorization header value, or NULL
    size_t      authorization_len;  //  bytes in authorization
    const char *if_none_match;  //  If-None-Match value, or NULL
    size_t      if_none_match_len;  //  bytes in if_none_match
    const char *accept;         //  Accept header value, or NULL
    size_t      accept_len;     //  bytes in accept
    const char *body;           //  request body (not NUL-terminated)
    size_t      body_size;      //  bytes in body
    bool        body_too_big;   //  body was over TS_ROUTE_MAX_BODY
    ts_api_wait_t *wait;        //  a front end that can park a query
                                //  (read-through, ts_api_query_rt), its
                                //  wait; NULL: queries never wait
    ts_msg_t  **scratch;        //  two messages (request, reply) the
                                //  caller keeps between requests, reused
                                //  instead of made and freed for each
                                //  (NULL entries are made); one handed
                                //  on (a forward, an answer produced in
                                //  parts) comes back NULL. NULL: made
                                //  per request. Not borrowed: the caller
                                //  destroys what it holds
} ts_route_req_t;

//  The request h1 holds (after TS_H1_REQUEST), as the routes see it:
//  every field borrowed from h1, valid until ts_h1_next.
void ts_route_req_of (ts_route_req_t *req, const ts_h1_t *h1);

typedef struct _ts_route_t ts_route_t;

//  Creates the routes over api (borrowed), with the replaced service's
//  paths configured from cfg (gateway.seed_path_prefix and
//  upstream.format.measures, copied). keys is the API key text
//  (ts_keys.h), a line each: "NAME ROLE KEY" is a key named NAME
//  (logged, never the key) with ROLE read or admin; any other line holds
//  admin keys separated by commas, named "default", "default-2", ... (the
//  single key of gateway.api_key_env / api_key_file). White space around
//  each is ignored. Returns NULL with the reason in err if keys holds no key or
//  out of memory.
ts_route_t *ts_route_new (ts_api_t *api, const ts_config_t *cfg,
                          const char *keys, char *err);

//  Frees the routes (and wipes the keys); sets *self_p to NULL. Safe on
//  NULL.
void ts_route_destroy (ts_route_t **self_p);

//  Number of API keys accepted.
size_t ts_route_keys (ts_route_t *self);

//  Replaces the API keys (text as for ts_route_new) while the routes
//  serve (ts_keys_set): the requests checked from now on use the new
//  ones; the old are wiped. Thread-safe against the key checks of every
//  HTTP loop. Sets
//  *changed if the keys differ. Returns 0, TS_ENOTFOUND (keys holds no
//  key: nothing changed) or TS_ENOMEM.
int ts_route_set_keys (ts_route_t *self, const char *keys, bool *changed);

//  Key names are at most 64 bytes (gateway.api_keys_file); a buffer of
//  this size holds one and its NUL.
#define TS_ROUTE_KEY_NAME TS_KEYS_NAME

//  Copies the name of the API key req carries to name (size bytes) and
//  returns true, or returns false if req carries no accepted key: for
//  the access log. Thread-safe against ts_route_set_keys.
bool ts_route_key_name (ts_route_t *self, const ts_route_req_t *req,
                        char *name, size_t size);

//  Who may call a route.
typedef enum {
    TS_ROUTE_OPEN,      //  anyone (GET /healthz, GET /readyz)
    TS_ROUTE_KEY,       //  an API key, x-security-token or Bearer
    TS_ROUTE_SEED,      //  the replaced service's rule (ts_seed.h)
    TS_ROUTE_METRICS    //  GET /metrics: OPEN, or KEY with
                        //  gateway.metrics_auth (ts_route_auth answers
                        //  which)
} ts_route_auth_t;

//  The auth rule of a request target's path: that of its row in the
//  route table (/metrics: TS_ROUTE_OPEN or TS_ROUTE_KEY, never
//  TS_ROUTE_METRICS), TS_ROUTE_KEY for a path no route knows (or one
//  that does not parse).
ts_route_auth_t ts_route_auth (const ts_route_t *self, const char *target);

//  What ts_route_start returns for a request to forward.
#define TS_ROUTE_FORWARD    0
//  What it returns for a query to park (read-through: req->wait).
#define TS_ROUTE_PARK       TS_API_PARK

//  Answers req, or hands it back to be forwarded. Answered: writes the
//  answer into out (reset first; a 405 carries its Allow header) and
//  returns its status. The body is JSON but for the replaced service's
//  plain text 400 (ts_seed.h), which that service also sent as
//  application/json. A query answer is the encoded answer itself
//  (ts_reply_adopt, no copy). Returns 500 if out of memory while writing.
//  Parked (GET /v1/series of an id without data, read-through, with
//  req->wait and its may_wait): returns TS_ROUTE_PARK, out empty, and
//  req->wait says what for and until when (ts_api_query_rt); the caller
//  asks again with wait->resumed once ts_api_waiting is false. A query
//  whose fetch is still pending then is 202 with "Retry-After: S"
//  (seconds) and the empty answer with "pending": true.
//  Forwarded (an op of ts_api_forwarded whose checks passed): returns
//  TS_ROUTE_FORWARD with *forward set to the request for the broker (the
//  caller frees it with ts_msg_destroy, after ts_route_finish);
//  otherwise *forward is NULL.
int ts_route_start (ts_route_t *self, const ts_route_req_t *req,
                    ts_reply_t *out, ts_msg_t **forward);

//  Writes the answer to a forwarded request (forward, as ts_route_start
//  gave it for the request target target) from its reply (the broker's,
//  or ts_client's 502/503) into out (reset first) and returns the HTTP
//  status: the route's JSON for a 200 (202 for hydrate):
//  {"queued":n,"jobs":[..]}, the stats, the dlq, {"requeued":n},
//  {"purged":n} (ts_json_answer); {"error","detail"} with the reply's
//  status otherwise. GET /metrics answers its page, 200 whatever the
//  reply (see above). 500 if out of memory.
int ts_route_finish (ts_route_t *self, const char *target,
                     const ts_msg_t *forward, const ts_msg_t *reply,
                     ts_reply_t *out);

//  Answers req in one blocking call: ts_route_start, and for a request
//  to forward a round trip to the broker (up to
//  gateway.broker_timeout_ms) and ts_route_finish. Returns the status
//  with the answer in out, as ts_route_start. For callers without an
//  event loop (unit tests).
int ts_route_handle (ts_route_t *self, const ts_route_req_t *req,
                     ts_reply_t *out);

//  "jansson VERSION, xxhash VERSION" as loaded at run time (static
//  text), for
//  ts_version_use.
const char *ts_route_libraries (void);

#endif
