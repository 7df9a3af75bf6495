/*  ts_route - the gateway's HTTP routes: request in, status and JSON out.

    Everything of the HTTP front end except the sockets: authentication,
    routing, parameter and body checks, turning a request into a ts_msg_t
    for ts_api_handle and the reply into JSON. ts_http feeds it requests
    it has read; the unit tests feed it requests directly.

    Routes (every answer is application/json):
        GET    /healthz                       200 {"status":"ok"}, no key
        GET    /v1/series/{id}?from=&to=&measure=
        GET    /timeSeries-data?identifier=&startDate=&endDate=&measure=
        GET    /v1/ids                        {"ids":[...]}
        POST   /v1/ids          {"ids":[..]}  {"added":n}
        DELETE /v1/ids/{id}                   {"id":..,"removed":true}
        POST   /v1/hydrate      {"ids":[..]}  202 {"queued":n}
        GET    /v1/stats                      {"queued":n,"delayed":n,
               "leased":n,"dlq":n,"done":n,"failed":n,"retried":n,
               "dead_lettered":n,"oldest_age_ms":n,
               "workers":[{"name":..,"credit":n,"leased":n}]}
        GET    /v1/dlq                        {"jobs":[{"job":n,"ids":[..],
               "receives":n,"dead_at":ms,"error":".."}]}
        POST   /v1/dlq/redrive  [{"ids":[..]}] {"requeued":n}; no body,
               {} or no ids: every entry
        DELETE /v1/dlq                        {"purged":n}
    Every route but /healthz needs "x-security-token: KEY" or
    "Authorization: Bearer KEY" (401 otherwise). Errors are
    {"error":"<code>","detail":"<text>"}: 400 bad_request, 401
    unauthorized, 404 not_found, 405 method_not_allowed, 413 too_big, and
    the ts_api codes (503 unavailable when the broker does not answer
    stats and dlq routes). Times in parameters are epoch milliseconds or
    RFC 3339. */

#ifndef TS_ROUTE_H_INCLUDED
#define TS_ROUTE_H_INCLUDED

#include "ts_api.h"
#include "ts_json.h"

#define TS_ROUTE_MAX_BODY (1 << 20)     //  request body limit, bytes

//  One HTTP request as the routes see it. Everything is borrowed.
typedef struct {
    const char *method;         //  "GET", "POST", ...
    const char *target;         //  raw request target "/v1/ids?x=1"
    const char *token;          //  x-security-token header, or NULL
    size_t      token_len;      //  bytes in token (it may hold a NUL)
    const char *authorization;  //  Authorization header, or NULL
    size_t      authorization_len;  //  bytes in authorization
    const char *body;           //  request body (not NUL-terminated)
    size_t      body_size;      //  bytes in body
    bool        body_too_big;   //  body was over TS_ROUTE_MAX_BODY
} ts_route_req_t;

typedef struct _ts_route_t ts_route_t;

//  Creates the routes over api (borrowed). keys is the API key text: keys
//  separated by commas or newlines, white space around each ignored.
//  Returns NULL with TS_EAUTH reason in err if keys holds no key.
ts_route_t *ts_route_new (ts_api_t *api, const char *keys, char *err);

//  Frees the routes (and wipes the keys); sets *self_p to NULL. Safe on
//  NULL.
void ts_route_destroy (ts_route_t **self_p);

//  Number of API keys accepted.
size_t ts_route_keys (const ts_route_t *self);

//  Answers req: writes the JSON body into body (reset first) and returns
//  the HTTP status. For 405, *allow (if allow is not NULL) is set to the
//  static value of the Allow header; otherwise to NULL. Returns 500 with
//  nothing in body if out of memory while writing.
int ts_route_handle (ts_route_t *self, const ts_route_req_t *req,
                     ts_json_t *body, const char **allow);

#endif
