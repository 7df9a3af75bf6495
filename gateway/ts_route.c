/*  ts_route - the gateway's HTTP routes: request in, status and JSON out.
    See ts_route.h for the route table.

    Each route turns the URL and body into a ts_msg_t request (the
    parameters and JSON bodies are read by ts_params), lets ts_api answer
    it, and writes the reply as JSON with ts_json. The series route, with
    its CSV, freshness headers and answers produced in parts, is
    ts_route_series's; the Grafana routes are ts_grafana's. Answers are
    written as text; jansson and xxhash are only named here for their
    versions.

    Paths of the replaced service's API (ts_seed_owns) go to ts_seed
    before tscache's own key check: that API answered a missing key, a
    wrong method and an unknown path its own way, and ts_seed copies it.

    The API keys are a ts_keys set (parsing, reload swap, constant-time
    lookup: ts_keys.h); here is only which header carries the key. The
    whole header value is compared, with its length. */

#include "ts_route.h"
#include "ts_client.h"
#include "ts_grafana.h"
#include "ts_keys.h"
#include "ts_metrics.h"
#include "ts_params.h"
#include "ts_route_series.h"
#include "ts_seed.h"
#include "ts_target.h"
#include "ts_ui.h"
#include "ts_log.h"

#include <jansson.h>
#include <xxhash.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _ts_route_t {
    ts_api_t     *api;      //  borrowed request handler
    ts_keys_t    *keys;     //  the API keys, swapped on reload
    ts_seed_t    *seed;     //  the replaced service's paths
    bool          ui;               //  gateway.ui: the built-in page
    bool          metrics_auth;     //  gateway.metrics_auth: /metrics
                                    //  needs a key
};

void
ts_route_req_of (ts_route_req_t *req, const ts_h1_t *h1)
{
    *req = (ts_route_req_t) {
        .method = ts_h1_method (h1),
        .target = ts_h1_target (h1)
    };
    req->token = ts_h1_token (h1, &req->token_len);
    req->authorization = ts_h1_authorization (h1, &req->authorization_len);
    req->accept = ts_h1_accept (h1, &req->accept_len);
    req->body = ts_h1_body (h1, &req->body_size);
    req->if_none_match = ts_h1_if_none_match (h1, &req->if_none_match_len);
}

ts_route_t *
ts_route_new (ts_api_t *api, const ts_config_t *cfg, const char *keys,
              char *err)
{
    ts_route_t *self = calloc (1, sizeof (ts_route_t));
    if (!self || !(self->keys = ts_keys_new (keys))
    ||  !(self->seed = ts_seed_new (api, cfg, err))) {
        ts_errf (err, "out of memory");
        ts_route_destroy (&self);
        return NULL;
    }
    if (ts_keys_size (self->keys) == 0) {
        ts_errf (err, "no API key given");
        ts_route_destroy (&self);
        return NULL;
    }
    self->api = api;
    self->metrics_auth = ts_config_bool (cfg, "gateway.metrics_auth");
    self->ui = ts_config_bool (cfg, "gateway.ui");
    return self;
}

void
ts_route_destroy (ts_route_t **self_p)
{
    if (self_p && *self_p) {
        ts_route_t *self = *self_p;
        ts_keys_destroy (&self->keys);
        ts_seed_destroy (&self->seed);
        free (self);
        *self_p = NULL;
    }
}

size_t
ts_route_keys (ts_route_t *self)
{
    return ts_keys_size (self->keys);
}

int
ts_route_set_keys (ts_route_t *self, const char *keys, bool *changed)
{
    return ts_keys_set (self->keys, keys, changed);
}

//  True if req carries an accepted key: the whole x-security-token
//  value (token_len bytes, NUL bytes included; trailing blanks are
//  HTTP's, not the value's), else if bearer, an "Authorization: Bearer
//  KEY" value, looked up in the key set (ts_keys_lookup: every key
//  compared, in constant time). If found, the key's role goes to *role
//  and its name to name (name_size bytes), when they are not NULL.
static bool
s_key_of (ts_route_t *self, const ts_route_req_t *req, bool bearer,
          ts_role_t *role, char *name, size_t name_size)
{
    const char *token = req->token;
    size_t len = req->token_len;
    if (!token && bearer && req->authorization) {
        const char *a = req->authorization;
        const char *end = a + req->authorization_len;
        while (a < end && *a == ' ')
            a++;
        if (end - a >= 7 && strncasecmp (a, "Bearer ", 7) == 0) {
            token = a + 7;
            while (token < end && *token == ' ')
                token++;
            len = (size_t) (end - token);
        }
    }
    if (!token)
        return false;
    while (len > 0 && (token [len - 1] == ' ' || token [len - 1] == '\t'))
        len--;
    return ts_keys_lookup (self->keys, token, len, role, name, name_size);
}

static bool
s_authorized (ts_route_t *self, const ts_route_req_t *req, bool bearer)
{
    return s_key_of (self, req, bearer, NULL, NULL, 0);
}

bool
ts_route_key_name (ts_route_t *self, const ts_route_req_t *req,
                   char *name, size_t size)
{
    return s_key_of (self, req, true, NULL, name, size);
}

static int
s_reply_error (ts_reply_t *out, const ts_msg_t *reply)
{
    return ts_reply_error (out, reply->status,
                           reply->error [0]? reply->error: "error",
                           reply->detail);
}

//  One request on its way through a route: what the handler reads and
//  where it answers. msg and reply are scratch messages; a forwarded
//  request is left in msg.
typedef struct {
    ts_route_t           *self;     //  the routes
    const ts_route_req_t *req;      //  the request
    const ts_target_t    *url;      //  its parsed target
    ts_msg_t             *msg;      //  request for ts_api or the broker
    ts_msg_t             *reply;    //  ts_api's reply
    ts_reply_t           *out;      //  the HTTP answer
    const char           *route;    //  the route's pattern, once found
    ts_role_t             role;     //  the key's role (a keyed route)
    const char           *key_name; //  and its name
} s_call_t;

//  A route's handler: answers into call->out and returns the status, or
//  returns TS_ROUTE_FORWARD with the request to forward in call->msg.
typedef int (s_handler_fn) (s_call_t *call);

//  Resets msg to op and reads the ids of the request body into it (see
//  ts_params_ids); *root gets the parsed body, for its other keys (the
//  caller json_decrefs it). Returns 0, or the status of the error
//  written to out.
static int
s_ids_request (s_call_t *call, ts_op_t op, bool optional, json_t **root)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (call->msg, op);
    int rc = ts_params_ids (call->req->body, call->req->body_size,
                            optional, call->msg->ids, root, err);
    if (rc)
        return ts_reply_error (call->out, rc == TS_ENOMEM? 500: 400,
                               rc == TS_ENOMEM? "internal": "bad_request",
                               err);
    return 0;
}

//  Lets ts_api answer call->msg and writes its JSON answer.
static int
s_api_answer (s_call_t *call)
{
    if (ts_api_handle (call->self->api, call->msg, call->reply) != 200)
        return s_reply_error (call->out, call->reply);
    ts_json_answer (ts_reply_json (call->out), call->msg, call->reply);
    return 200;
}

//  GET /healthz
static int
s_healthz (s_call_t *call)
{
    return ts_reply_set_text (call->out, 200, TS_REPLY_JSON,
                              "{\"status\":\"ok\"}");
}

//  GET /readyz: 200 or 503, with what is (not) ready (ts_ready.h).
static int
s_readyz (s_call_t *call)
{
    return ts_ready_json (ts_api_ready (call->self->api), ts_mono_ms (),
                          ts_reply_json (call->out));
}

//  GET /v1/key: the calling key's name and role (never the key), so that
//  a client such as the built-in page can tell what it may do.
static int
s_key_info (s_call_t *call)
{
    ts_json_t *json = ts_reply_json (call->out);
    ts_json_raw (json, "{\"name\":");
    ts_json_str (json, call->key_name);
    ts_json_raw (json, ",\"role\":");
    ts_json_str (json, ts_role_name (call->role));
    ts_json_raw (json, "}");
    return 200;
}

//  GET / and GET /ui/{file}: the built-in page (ts_ui.h).
static int
s_ui (s_call_t *call)
{
    const char *name = ts_target_segments (call->url) == 0? ""
                     : ts_target_segment (call->url, 1);
    return ts_ui_answer (name, call->req->if_none_match,
                         call->req->if_none_match_len, call->out);
}

//  GET /v1/series/{id} (ts_route_series.h).
static int
s_series (s_call_t *call)
{
    return ts_route_series (call->self->api, call->req, call->url,
                            call->msg, &call->reply, call->out);
}

//  POST /v1/ids
static int
s_ids_add (s_call_t *call)
{
    char err [TS_ERRLEN] = "";
    json_t *root;
    int status = s_ids_request (call, TS_OP_IDS_ADD, false, &root);
    if (status)
        return status;
    int rc = ts_params_source (root, call->msg->source, err);
    json_decref (root);
    if (rc)
        return ts_reply_error (call->out, 400, "bad_request", err);
    return s_api_answer (call);
}

//  POST /v1/hydrate {"ids": [..], "priority": bool, "skip_fetched_since":
//  time}: forwarded.
static int
s_hydrate (s_call_t *call)
{
    json_t *root;
    int status = s_ids_request (call, TS_OP_HYDRATE, false, &root);
    if (status)
        return status;
    char err [TS_ERRLEN] = "";
    int rc = ts_params_flag (root, "priority", &call->msg->priority, err);
    if (rc == 0)
        rc = ts_params_body_time (root, "skip_fetched_since",
                                  &call->msg->skip_fetched_since_ms, err);
    json_decref (root);
    if (rc)
        return ts_reply_error (call->out, 400, "bad_request", err);
    return TS_ROUTE_FORWARD;
}

//  GET /v1/ids?after=&limit=
static int
s_ids_ls (s_call_t *call)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (call->msg, TS_OP_IDS_LS);
    if (ts_params_page (call->url, call->msg, err))
        return ts_reply_error (call->out, 400, "bad_request", err);
    return s_api_answer (call);
}

//  DELETE /v1/ids/{id} (op ids_rm), GET /v1/ids/{id} (ids_show)
static int
s_ids_one (s_call_t *call, ts_op_t op)
{
    char err [TS_ERRLEN] = "";
    const char *id = ts_target_segment (call->url, 2);
    if (!ts_name_existing (id)) {
        ts_name_errf (err, "id", id, strlen (id));
        return ts_reply_error (call->out, 400, "bad_request", err);
    }
    ts_msg_reset (call->msg, op);
    ts_strlcpy (call->msg->id, id, sizeof call->msg->id);
    return s_api_answer (call);
}

static int s_ids_rm (s_call_t *call) { return s_ids_one (call, TS_OP_IDS_RM); }
static int s_ids_show (s_call_t *call) { return s_ids_one (call, TS_OP_IDS_SHOW); }

//  POST /v1/dlq/redrive (body optional: {"ids":[..]} or {"jobs":[..]}):
//  forwarded.
static int
s_dlq_redrive (s_call_t *call)
{
    json_t *root;
    int status = s_ids_request (call, TS_OP_DLQ_REDRIVE, true, &root);
    if (status)
        return status;
    char err [TS_ERRLEN] = "";
    int rc = ts_params_jobs (root, call->msg, err);
    json_decref (root);
    if (rc == 0 && call->msg->ids->n && call->msg->jobs_n) {
        ts_errf (err, "give ids or jobs, not both");
        rc = TS_EINVAL;
    }
    if (rc)
        return ts_reply_error (call->out, rc == TS_ENOMEM? 500: 400,
                               rc == TS_ENOMEM? "internal": "bad_request",
                               err);
    return TS_ROUTE_FORWARD;
}

//  GET /v1/jobs?jobs=N,N,...: where those jobs are (the broker's
//  job_state), e.g. the jobs a hydrate answer named.
static int
s_job_state (s_call_t *call)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (call->msg, TS_OP_JOB_STATE);
    int rc = ts_params_job_list (call->url, call->msg, err);
    if (rc)
        return ts_reply_error (call->out, rc == TS_ENOMEM? 500: 400,
                               rc == TS_ENOMEM? "internal": "bad_request",
                               err);
    return TS_ROUTE_FORWARD;
}

//  Routes that are only forwarded, with nothing to read.
static int
s_forward_op (s_call_t *call, ts_op_t op)
{
    ts_msg_reset (call->msg, op);
    return TS_ROUTE_FORWARD;
}

static int s_stats (s_call_t *call) { return s_forward_op (call, TS_OP_STATS); }
//  GET /metrics: the broker's stats are asked for, the page is written
//  by ts_route_finish (s_metrics_page).
static int s_metrics (s_call_t *call) { return s_forward_op (call, TS_OP_STATS); }
static int s_dlq_ls (s_call_t *call) { return s_forward_op (call, TS_OP_DLQ_LS); }
static int s_dlq_purge (s_call_t *call) { return s_forward_op (call, TS_OP_DLQ_PURGE); }

//  GET /grafana/: the data source's "Save & test" (the key is checked).
static int
s_grafana_root (s_call_t *call)
{
    return ts_reply_set_text (call->out, 200, TS_REPLY_JSON,
                              "{\"status\":\"ok\"}");
}

//  POST /grafana/search and /grafana/metrics (ts_grafana.h).
static int
s_grafana_search (s_call_t *call)
{
    return ts_grafana_search (call->self->api, call->req->body,
                              call->req->body_size, TS_GRAFANA_NAMES,
                              call->out);
}

static int
s_grafana_metrics (s_call_t *call)
{
    return ts_grafana_search (call->self->api, call->req->body,
                              call->req->body_size, TS_GRAFANA_LABELS,
                              call->out);
}

//  POST /grafana/variable (simpod's template variable query).
static int
s_grafana_variable (s_call_t *call)
{
    return ts_grafana_search (call->self->api, call->req->body,
                              call->req->body_size, TS_GRAFANA_VARIABLES,
                              call->out);
}

//  POST /grafana/query
static int
s_grafana_query (s_call_t *call)
{
    return ts_grafana_query (call->self->api, call->req->body,
                             call->req->body_size, call->out);
}

//  POST /grafana/annotations: [] (tscache keeps none).
static int
s_grafana_annotations (s_call_t *call)
{
    return ts_grafana_annotations (call->req->body, call->req->body_size,
                                   call->out);
}

//  The seed's paths: any method, answered by ts_seed.
static int
s_seed (s_call_t *call)
{
    //  The seed's key is its x-security-token only, and its paths never
    //  read a body (nor refuse a large one).
    return ts_seed_handle (call->self->seed, call->url, call->req->method,
                           s_authorized (call->self, call->req, false),
                           call->out);
}

//  ---------------------------------------------------------------------
//  The route table: method, path pattern ("{x}" matches one segment),
//  auth rule, handler. The methods of one path are listed together, in
//  the order the Allow header names them. A path matched by no row is
//  404 (after the key check); a path matched with another method 405.
//  The seed's row matches the paths ts_seed_owns (its prefix is
//  configured), any method.

typedef struct {
    const char       *method;       //  "GET", ...; "*": any
    const char       *path;         //  pattern; NULL: the seed's paths
    ts_route_auth_t   auth;         //  who may call it
    ts_op_t           op;           //  what it asks: a key's role must be
                                    //  ts_api_op_role (op) or higher
    s_handler_fn     *handler;      //  the answer
} s_route_t;

static const s_route_t s_routes [] = {
    { "GET",    "/healthz",        TS_ROUTE_OPEN, TS_OP_PING,    s_healthz },
    { "GET",    "/readyz",         TS_ROUTE_OPEN, TS_OP_PING,    s_readyz },
    { "GET",    "/metrics",        TS_ROUTE_METRICS, TS_OP_STATS, s_metrics },
    //  The built-in page (ts_ui.h): open, it asks for a key itself.
    { "GET",    "/",               TS_ROUTE_OPEN, TS_OP_PING,    s_ui },
    { "GET",    "/ui/{file}",      TS_ROUTE_OPEN, TS_OP_PING,    s_ui },
    { "*",      NULL,              TS_ROUTE_SEED, TS_OP_QUERY,   s_seed },
    { "GET",    "/v1/key",         TS_ROUTE_KEY,  TS_OP_PING,    s_key_info },
    { "GET",    "/v1/series/{id}", TS_ROUTE_KEY,  TS_OP_QUERY,   s_series },
    { "GET",    "/v1/ids",         TS_ROUTE_KEY,  TS_OP_IDS_LS,  s_ids_ls },
    { "POST",   "/v1/ids",         TS_ROUTE_KEY,  TS_OP_IDS_ADD, s_ids_add },
    { "GET",    "/v1/ids/{id}",    TS_ROUTE_KEY,  TS_OP_IDS_SHOW, s_ids_show },
    { "DELETE", "/v1/ids/{id}",    TS_ROUTE_KEY,  TS_OP_IDS_RM,  s_ids_rm },
    { "POST",   "/v1/hydrate",     TS_ROUTE_KEY,  TS_OP_HYDRATE, s_hydrate },
    { "GET",    "/v1/jobs",        TS_ROUTE_KEY,  TS_OP_JOB_STATE, s_job_state },
    { "GET",    "/v1/stats",       TS_ROUTE_KEY,  TS_OP_STATS,   s_stats },
    { "GET",    "/v1/dlq",         TS_ROUTE_KEY,  TS_OP_DLQ_LS,  s_dlq_ls },
    { "DELETE", "/v1/dlq",         TS_ROUTE_KEY,  TS_OP_DLQ_PURGE,
      s_dlq_purge },
    { "POST",   "/v1/dlq/redrive", TS_ROUTE_KEY,  TS_OP_DLQ_REDRIVE,
      s_dlq_redrive },
    //  Grafana's JSON data source plugins (ts_grafana.h): read keys.
    { "GET",    "/grafana",        TS_ROUTE_KEY,  TS_OP_QUERY,   s_grafana_root },
    { "POST",   "/grafana/search", TS_ROUTE_KEY,  TS_OP_QUERY,   s_grafana_search },
    { "POST",   "/grafana/metrics", TS_ROUTE_KEY, TS_OP_QUERY,   s_grafana_metrics },
    { "POST",   "/grafana/variable", TS_ROUTE_KEY, TS_OP_QUERY,  s_grafana_variable },
    { "POST",   "/grafana/query",  TS_ROUTE_KEY,  TS_OP_QUERY,   s_grafana_query },
    { "POST",   "/grafana/annotations", TS_ROUTE_KEY, TS_OP_QUERY,
      s_grafana_annotations },
};
#define S_ROUTES (sizeof s_routes / sizeof s_routes [0])

//  True if url's path matches route's pattern.
static bool
s_path_matches (const ts_route_t *self, const s_route_t *route,
                const ts_target_t *url)
{
    if (!route->path)
        return ts_seed_owns (self->seed, url);
    if (route->handler == s_ui && !self->ui)
        return false;               //  gateway.ui off: no such path
    const char *p = route->path;
    size_t n = ts_target_segments (url);
    if (strcmp (p, "/") == 0)
        return n == 0;
    size_t i = 0;
    for (; *p == '/'; i++) {
        p++;
        size_t len = strcspn (p, "/");
        if (i >= n)
            return false;
        const char *segment = ts_target_segment (url, i);
        bool any = len >= 2 && p [0] == '{' && p [len - 1] == '}';
        if (!any && (strlen (segment) != len || strncmp (segment, p, len)))
            return false;
        p += len;
    }
    return i == n;
}

//  The auth rule of a row (NULL: a path no row knows): /metrics is open
//  or needs a key, as gateway.metrics_auth says.
static ts_route_auth_t
s_auth_of (const ts_route_t *self, const s_route_t *route)
{
    if (!route)
        return TS_ROUTE_KEY;
    if (route->auth == TS_ROUTE_METRICS)
        return self->metrics_auth? TS_ROUTE_KEY: TS_ROUTE_OPEN;
    return route->auth;
}

//  The first row whose path matches url, or NULL.
static const s_route_t *
s_find_path (const ts_route_t *self, const ts_target_t *url)
{
    for (size_t i = 0; i < S_ROUTES; i++)
        if (s_path_matches (self, &s_routes [i], url))
            return &s_routes [i];
    return NULL;
}

//  The row for method on the path of first (a row found by s_find_path),
//  or NULL; in allow, the methods of that path ("GET, POST").
static const s_route_t *
s_find_method (const ts_route_t *self, const s_route_t *first,
               const ts_target_t *url, const char *method, char *allow,
               size_t allow_size)
{
    const s_route_t *found = NULL;
    allow [0] = 0;
    size_t used = 0;
    for (const s_route_t *route = first; route < s_routes + S_ROUTES;
         route++) {
        if (!s_path_matches (self, route, url))
            continue;
        if (!found && (strcmp (route->method, "*") == 0
                       || strcmp (route->method, method) == 0))
            found = route;
        used += (size_t) snprintf (allow + used, allow_size - used, "%s%s",
                                   used? ", ": "", route->method);
        if (used >= allow_size)
            used = allow_size - 1;
    }
    return found;
}

ts_route_auth_t
ts_route_auth (const ts_route_t *self, const char *target)
{
    ts_target_t *url = NULL;
    char err [TS_ERRLEN];
    if (ts_target_parse (target, &url, err))
        return TS_ROUTE_KEY;
    const s_route_t *route = s_find_path (self, url);
    ts_target_destroy (&url);
    return s_auth_of (self, route);
}

//  405 with the Allow header.
static int
s_not_allowed (ts_reply_t *out, const char *methods)
{
    char detail [TS_ERRLEN];
    ts_errf (detail, "method not allowed here; use %s", methods);
    ts_reply_header (out, "Allow", methods);
    return ts_reply_error (out, 405, "method_not_allowed", detail);
}

//  Finds the route of the request and runs it, with its auth rule:
//  open and seed routes as they are; everything else (unknown paths
//  too) needs a key first, then a body within the limit, then a path
//  (404) and a method (405) of the table.
static int
s_dispatch (s_call_t *call)
{
    char err [TS_ERRLEN] = "";
    char allow [64];
    const s_route_t *first = s_find_path (call->self, call->url);
    ts_route_auth_t auth = s_auth_of (call->self, first);
    ts_role_t role = TS_ROLE_READ;
    char name [TS_ROUTE_KEY_NAME] = "";
    if (auth == TS_ROUTE_KEY
    &&  !s_key_of (call->self, call->req, true, &role, name, sizeof name))
        return ts_reply_error (call->out, 401, "unauthorized",
                               "missing or wrong API key: send "
                               "x-security-token: KEY or Authorization: "
                               "Bearer KEY");
    if (auth == TS_ROUTE_KEY && call->req->body_too_big) {
        ts_errf (err, "request body over %d bytes", TS_ROUTE_MAX_BODY);
        return ts_reply_error (call->out, 413, "too_big", err);
    }
    if (!first)
        return ts_reply_error (call->out, 404, "not_found", "no such route");
    const s_route_t *route = s_find_method (call->self, first, call->url,
                                            call->req->method, allow,
                                            sizeof allow);
    if (!route)
        return s_not_allowed (call->out, allow);
    if (auth == TS_ROUTE_KEY
    &&  ts_api_forbidden (role, name, route->op, call->reply))
        return s_reply_error (call->out, call->reply);
    call->route = route->path? route->path: "seed";
    call->role = role;
    call->key_name = name;
    return route->handler (call);
}

//  An answer that ran out of memory while being written becomes a 500.
static int
s_checked (ts_reply_t *out, int status)
{
    if (ts_reply_failed (out)) {
        ts_error ("out of memory writing an answer");
        ts_reply_reset (out);
        status = ts_reply_error (out, 500, "internal", "out of memory");
        if (ts_reply_failed (out))
            ts_reply_reset (out);
    }
    ts_reply_set_status (out, status);
    return status;
}

//  The most points a kept scratch reply may have held (about 1.5 MB of
//  point lists per HTTP thread).
#define S_SCRATCH_POINTS  65536

int
ts_route_start (ts_route_t *self, const ts_route_req_t *req,
                ts_reply_t *out, ts_msg_t **forward)
{
    char err [TS_ERRLEN] = "";
    *forward = NULL;
    ts_reply_reset (out);

    ts_target_t *url = NULL;
    int rc = ts_target_parse (req->target, &url, err);
    if (rc == TS_ENOMEM)
        return ts_reply_error (out, 500, "internal", "out of memory");
    if (rc)
        return ts_reply_error (out, 400, "bad_request", err);

    s_call_t call = { .self = self, .req = req, .url = url, .out = out };
    double start = ts_metrics_now ();
    int status;
    //  The caller's scratch messages (cleared), else new ones.
    ts_msg_t *own [2] = { NULL, NULL };
    ts_msg_t **scratch = req->scratch? req->scratch: own;
    if (scratch [0])
        ts_msg_reset (scratch [0], TS_OP_QUERY);
    else
        scratch [0] = ts_msg_new (TS_OP_QUERY);
    if (scratch [1])
        ts_msg_reset (scratch [1], TS_OP_REPLY);
    else
        scratch [1] = ts_msg_new (TS_OP_REPLY);
    call.msg = scratch [0];
    call.reply = scratch [1];
    if (!call.msg || !call.reply)
        status = ts_reply_error (out, 500, "internal", "out of memory");
    else
        status = s_dispatch (&call);
    //  Timed: what a route answered itself (not 401s, 404s, forwards).
    if (call.route && status != TS_ROUTE_FORWARD && status != TS_ROUTE_PARK)
        ts_metrics_request (ts_api_metrics (self->api), "http", call.route,
                            ts_metrics_now () - start);

    if (status == TS_ROUTE_FORWARD) {
        if (ts_api_forward_check (self->api, call.msg, call.reply))
            status = s_reply_error (out, call.reply);
        else {
            *forward = call.msg;
            call.msg = NULL;
        }
    }
    //  Kept for the next request, unless handed on (NULL), owned here, or
    //  holding an answer so large that its point lists would stay big.
    if (scratch == own
    ||  (call.reply && call.reply->series.history->n
                       + call.reply->series.forecast->n > S_SCRATCH_POINTS)) {
        ts_msg_destroy (&call.reply);
        if (scratch == own)
            ts_msg_destroy (&call.msg);
    }
    scratch [0] = call.msg;
    scratch [1] = call.reply;
    ts_target_destroy (&url);
    return status == TS_ROUTE_FORWARD || status == TS_ROUTE_PARK
         ? status: s_checked (out, status);
}

//  The GET /metrics page, the broker's figures from reply (a stats
//  answer; anything else: the broker did not answer, and the page says
//  so with tscache_broker_up 0, status 200 all the same).
static int
s_metrics_page (ts_route_t *self, const ts_msg_t *reply, ts_reply_t *out)
{
    ts_prom_t *prom = ts_prom_new (TS_METRICS_MAX_BYTES);
    if (!prom)
        return ts_reply_error (out, 500, "internal", "out of memory");
    ts_cache_stats_t cache;
    ts_api_cache_stats (self->api, &cache);
    bool answered = reply->status == 200 && reply->has_stats;
    int rc = ts_metrics_page (ts_api_metrics (self->api),
                              answered? &reply->stats: NULL,
                              ts_api_cache (self->api)? &cache: NULL, prom);
    int status;
    if (rc)
        status = ts_reply_error (out, 500, "internal", ts_strerror (rc));
    else {
        status = ts_reply_set_text (out, 200, TS_REPLY_PROMETHEUS,
                                    ts_prom_text (prom, NULL));
        ts_reply_header (out, "Cache-Control", "no-store");
    }
    ts_prom_destroy (&prom);
    return status;
}

//  True if target is a GET /metrics (ts_route_start forwarded it).
static bool
s_is_metrics (const ts_route_t *self, const char *target)
{
    ts_target_t *url = NULL;
    char err [TS_ERRLEN];
    if (!target || ts_target_parse (target, &url, err))
        return false;
    const s_route_t *route = s_find_path (self, url);
    ts_target_destroy (&url);
    return route && route->handler == s_metrics;
}

int
ts_route_finish (ts_route_t *self, const char *target,
                 const ts_msg_t *forward, const ts_msg_t *reply,
                 ts_reply_t *out)
{
    ts_reply_reset (out);
    if (forward->op == TS_OP_STATS && s_is_metrics (self, target))
        return s_checked (out, s_metrics_page (self, reply, out));
    //  hydrate answers 202; the others 200, and nothing else is theirs.
    bool ok = forward->op == TS_OP_HYDRATE
            ? reply->status >= 200 && reply->status < 300
            : reply->status == 200;
    if (!ok)
        return s_checked (out, s_reply_error (out, reply));
    if (ts_json_answer (ts_reply_json (out), forward, reply) == TS_EINVAL)
        return ts_reply_error (out, 500, "internal", "no answer for op");
    return s_checked (out, reply->status);
}

int
ts_route_handle (ts_route_t *self, const ts_route_req_t *req,
                 ts_reply_t *out)
{
    ts_msg_t *forward = NULL;
    int status = ts_route_start (self, req, out, &forward);
    if (!forward)
        return status;
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    if (reply) {
        ts_client_call (ts_api_broker_endpoint (self->api),
                        ts_api_broker_policy (self->api), forward, reply);
        status = ts_route_finish (self, req->target, forward, reply, out);
    }
    else
        status = ts_reply_error (out, 500, "internal", "out of memory");
    ts_msg_destroy (&reply);
    ts_msg_destroy (&forward);
    return status;
}

const char *
ts_route_libraries (void)
{
    static char text [64];
    if (!*text)
        snprintf (text, sizeof text, "jansson %s, xxhash %u.%u.%u",
                  jansson_version_str (), XXH_versionNumber () / 10000,
                  XXH_versionNumber () / 100 % 100,
                  XXH_versionNumber () % 100);
    return text;
}
