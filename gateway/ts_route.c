/*  ts_route - the gateway's HTTP routes: request in, status and JSON out.
    See ts_route.h for the route table.

    Each route turns the URL and body into a ts_msg_t request, lets ts_api
    answer it, and writes the reply as JSON with ts_json. jansson is used
    only to read request bodies; answers are written as text.

    Paths of the replaced service's API (ts_seed_owns) go to ts_seed
    before tscache's own key check: that API answered a missing key, a
    wrong method and an unknown path its own way, and ts_seed copies it.

    API keys are compared in constant time against every configured key
    (no early exit), so timing tells nothing about which key or how much
    of it matched. The whole header value is compared, with its length. */

#include "ts_route.h"
#include "ts_forward.h"
#include "ts_seed.h"
#include "ts_target.h"
#include "ts_log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _ts_route_t {
    ts_api_t     *api;      //  borrowed request handler
    ts_strlist_t *keys;     //  accepted API keys
    ts_seed_t    *seed;     //  the replaced service's paths
};

//  Splits text at commas and newlines into trimmed, non-empty keys.
static int
s_parse_keys (ts_strlist_t *keys, const char *text)
{
    const char *p = text;
    while (p && *p) {
        size_t len = strcspn (p, ",\n");
        const char *start = p;
        const char *end = p + len;
        while (start < end && (*start == ' ' || *start == '\t'
                               || *start == '\r'))
            start++;
        while (end > start && (end [-1] == ' ' || end [-1] == '\t'
                               || end [-1] == '\r'))
            end--;
        if (end > start && ts_strlist_append_n (keys, start,
                                                (size_t) (end - start)))
            return TS_ENOMEM;
        p += len;
        if (*p)
            p++;
    }
    return 0;
}

ts_route_t *
ts_route_new (ts_api_t *api, const ts_config_t *cfg, const char *keys,
              char *err)
{
    ts_route_t *self = calloc (1, sizeof (ts_route_t));
    if (!self || !(self->keys = ts_strlist_new ())
    ||  s_parse_keys (self->keys, keys)
    ||  !(self->seed = ts_seed_new (api, cfg, err))) {
        ts_errf (err, "out of memory");
        ts_route_destroy (&self);
        return NULL;
    }
    if (self->keys->n == 0) {
        ts_errf (err, "no API key given");
        ts_route_destroy (&self);
        return NULL;
    }
    self->api = api;
    return self;
}

void
ts_route_destroy (ts_route_t **self_p)
{
    if (self_p && *self_p) {
        ts_route_t *self = *self_p;
        if (self->keys)
            for (size_t i = 0; i < self->keys->n; i++) {
                volatile char *p = self->keys->items [i];
                while (*p)
                    *p++ = 0;
            }
        ts_strlist_destroy (&self->keys);
        ts_seed_destroy (&self->seed);
        free (self);
        *self_p = NULL;
    }
}

size_t
ts_route_keys (const ts_route_t *self)
{
    return self->keys->n;
}

//  True if req carries an accepted key: the whole x-security-token value
//  (token_len bytes, NUL bytes included; trailing blanks are HTTP's, not
//  the value's), else if bearer, an "Authorization: Bearer KEY" value.
//  Every key is compared, in constant time.
static bool
s_authorized (ts_route_t *self, const ts_route_req_t *req, bool bearer)
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
    bool ok = false;
    for (size_t i = 0; i < self->keys->n; i++) {
        const char *key = self->keys->items [i];
        ok |= ts_secure_equal (token, len, key, strlen (key));
    }
    return ok;
}

static int
s_reply_error (ts_json_t *body, const ts_msg_t *reply)
{
    return ts_json_error (body, reply->status,
                          reply->error [0]? reply->error: "error",
                          reply->detail);
}

//  Reads the optional time parameter name. Returns 0 (and sets *has and
//  *ms) or TS_EINVAL with the detail in err.
static int
s_time_param (const ts_target_t *url, const char *name, bool *has,
              int64_t *ms, char *err)
{
    const char *text = ts_target_param (url, name);
    *has = false;
    if (!text || !*text)
        return 0;
    if (ts_time_parse (text, ms)) {
        ts_errf (err, "%s: expected epoch milliseconds or an RFC 3339 time,"
                 " got '%.40s'", name, text);
        return TS_EINVAL;
    }
    *has = true;
    return 0;
}

//  Reads the optional measure parameter into msg. Returns 0 or TS_EINVAL.
static int
s_measure_param (const ts_target_t *url, ts_msg_t *msg, char *err)
{
    const char *measure = ts_target_param (url, "measure");
    if (!measure || !*measure)
        return 0;
    if (!ts_name_existing (measure)) {
        ts_name_errf (err, "measure", measure, strlen (measure));
        return TS_EINVAL;
    }
    ts_strlcpy (msg->measure, measure, sizeof msg->measure);
    return 0;
}

//  Fills a query request from the URL. Returns 0 or TS_EINVAL (err).
static int
s_build_query (const ts_target_t *url, const char *id, ts_msg_t *query,
               char *err)
{
    if (!ts_name_existing (id)) {
        ts_name_errf (err, "id", id, strlen (id));
        return TS_EINVAL;
    }
    ts_strlcpy (query->id, id, sizeof query->id);
    int rc = s_time_param (url, "from", &query->has_from, &query->from_ms,
                           err);
    if (rc == 0)
        rc = s_time_param (url, "to", &query->has_to, &query->to_ms, err);
    if (rc == 0)
        rc = s_measure_param (url, query, err);
    return rc;
}

//  Runs query through the gateway's answer path (ts_api_query: the store
//  or the answer cache) and puts the encoded answer, or the error, in
//  body. Returns the status.
static int
s_query_answer (ts_route_t *self, const ts_msg_t *query, char format,
                ts_api_encode_fn *encode, ts_msg_t *reply, ts_json_t *body)
{
    char *data = NULL;
    size_t size = 0;
    if (ts_api_query (self->api, query, format, encode, reply, &data,
                      &size) != 200)
        return s_reply_error (body, reply);
    ts_json_reset (body);
    int rc = ts_json_raw_n (body, data, size);
    free (data);
    if (rc)
        return ts_json_error (body, 500, "internal", "out of memory");
    return 200;
}

//  Encodes a query answer as GET /v1/series returns it.
static int
s_encode_series (const ts_msg_t *reply, char **data, size_t *size)
{
    ts_json_t *json = ts_json_new ();
    if (!json || ts_json_series (json, reply) != 0) {
        ts_json_destroy (&json);
        return TS_ENOMEM;
    }
    *data = ts_json_detach (json, size);
    ts_json_destroy (&json);
    return *data? 0: TS_ENOMEM;
}

//  GET /v1/series/{id}
static int
s_series (ts_route_t *self, const ts_target_t *url, const char *id,
          ts_msg_t *query, ts_msg_t *reply, ts_json_t *body)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (query, TS_OP_QUERY);
    if (s_build_query (url, id, query, err))
        return ts_json_error (body, 400, "bad_request", err);
    return s_query_answer (self, query, 'j', s_encode_series, reply, body);
}

//  True if the body is absent or only white space.
static bool
s_body_empty (const ts_route_req_t *req)
{
    for (size_t i = 0; req->body && i < req->body_size; i++) {
        char c = req->body [i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

//  Reads {"ids":["a",...]} from the request body into ids. If optional,
//  no body, {} and an empty list are fine and leave ids empty. Returns 0,
//  TS_EINVAL or TS_ENOMEM with the detail in err.
static int
s_body_ids (const ts_route_req_t *req, bool optional, ts_strlist_t *ids,
            char *err)
{
    if (optional && s_body_empty (req))
        return 0;
    if (!req->body || req->body_size == 0) {
        ts_errf (err, "missing body: expected {\"ids\":[...]}");
        return TS_EINVAL;
    }
    json_error_t jerr;
    json_t *root = json_loadb (req->body, req->body_size,
                               JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ts_errf (err, "bad JSON body: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return TS_EINVAL;
    }
    int rc = 0;
    json_t *list = json_is_object (root)? json_object_get (root, "ids"):
                                          NULL;
    if (optional && json_is_object (root) && !list)
        ;                       //  {}: no ids given
    else
    if (!json_is_array (list)) {
        ts_errf (err, "body must be a JSON object {\"ids\":[...]}");
        rc = TS_EINVAL;
    }
    else
    if (json_array_size (list) == 0 && !optional) {
        ts_errf (err, "ids: empty list");
        rc = TS_EINVAL;
    }
    else
    if (json_array_size (list) > TS_PROTO_MAX_IDS) {
        ts_errf (err, "ids: %zu ids, over the limit of %d",
                 json_array_size (list), TS_PROTO_MAX_IDS);
        rc = TS_EINVAL;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size (list); i++) {
        json_t *item = json_array_get (list, i);
        const char *id = json_string_value (item);
        if (!id) {
            ts_errf (err, "ids[%zu]: expected a string", i);
            rc = TS_EINVAL;
        }
        else
        if (!ts_name_existing_n (id, json_string_length (item))) {
            char detail [TS_ERRLEN];
            ts_name_errf (detail, "id", id, json_string_length (item));
            ts_errf (err, "ids[%zu]: %s", i, detail);
            rc = TS_EINVAL;
        }
        else
        if (ts_strlist_append (ids, id)) {
            ts_errf (err, "out of memory");
            rc = TS_ENOMEM;
        }
    }
    json_decref (root);
    return rc;
}

//  Resets msg to op and reads the ids of the request body into it (see
//  s_body_ids). Returns 0, or the status of the error written to body.
static int
s_ids_request (const ts_route_req_t *req, ts_op_t op, bool optional,
               ts_msg_t *msg, ts_json_t *body)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (msg, op);
    int rc = s_body_ids (req, optional, msg->ids, err);
    if (rc)
        return ts_json_error (body, rc == TS_ENOMEM? 500: 400,
                              rc == TS_ENOMEM? "internal": "bad_request",
                              err);
    return 0;
}

//  POST /v1/ids and POST /v1/hydrate (forwarded)
static int
s_post_ids (ts_route_t *self, const ts_route_req_t *req, ts_op_t op,
            ts_msg_t *msg, ts_msg_t *reply, ts_json_t *body)
{
    int status = s_ids_request (req, op, false, msg, body);
    if (status)
        return status;
    if (ts_api_forwarded (op))
        return TS_ROUTE_FORWARD;
    if (ts_api_handle (self->api, msg, reply) != 200)
        return s_reply_error (body, reply);
    ts_json_reset (body);
    ts_json_answer (body, msg, reply);
    return 200;
}

//  Reads ?after=&limit= of GET /v1/ids into msg. Returns 0 or TS_EINVAL
//  with the detail in err.
static int
s_page_params (const ts_target_t *url, ts_msg_t *msg, char *err)
{
    const char *after = ts_target_param (url, "after");
    if (after && *after) {
        if (!ts_name_existing (after)) {
            ts_name_errf (err, "after", after, strlen (after));
            return TS_EINVAL;
        }
        ts_strlcpy (msg->after, after, sizeof msg->after);
    }
    const char *limit = ts_target_param (url, "limit");
    if (limit && *limit) {
        char *end = NULL;
        unsigned long n = strtoul (limit, &end, 10);
        if (*limit < '0' || *limit > '9' || *end || n < 1
        ||  n > TS_PROTO_IDS_PAGE) {
            ts_errf (err, "limit: expected 1 to %d, got '%.40s'",
                     TS_PROTO_IDS_PAGE, limit);
            return TS_EINVAL;
        }
        msg->limit = (uint32_t) n;
    }
    return 0;
}

//  GET /v1/ids?after=&limit=
static int
s_ids_ls (ts_route_t *self, const ts_target_t *url, ts_msg_t *msg,
          ts_msg_t *reply, ts_json_t *body)
{
    char err [TS_ERRLEN] = "";
    ts_msg_reset (msg, TS_OP_IDS_LS);
    if (s_page_params (url, msg, err))
        return ts_json_error (body, 400, "bad_request", err);
    if (ts_api_handle (self->api, msg, reply) != 200)
        return s_reply_error (body, reply);
    ts_json_reset (body);
    ts_json_answer (body, msg, reply);
    return 200;
}

//  DELETE /v1/ids/{id}
static int
s_ids_rm (ts_route_t *self, const char *id, ts_msg_t *msg, ts_msg_t *reply,
          ts_json_t *body)
{
    char err [TS_ERRLEN] = "";
    if (!ts_name_existing (id)) {
        ts_name_errf (err, "id", id, strlen (id));
        return ts_json_error (body, 400, "bad_request", err);
    }
    ts_msg_reset (msg, TS_OP_IDS_RM);
    ts_strlcpy (msg->id, id, sizeof msg->id);
    if (ts_api_handle (self->api, msg, reply) != 200)
        return s_reply_error (body, reply);
    ts_json_reset (body);
    ts_json_answer (body, msg, reply);
    return 200;
}

//  POST /v1/dlq/redrive (body optional): forwarded.
static int
s_dlq_redrive (const ts_route_req_t *req, ts_msg_t *msg, ts_json_t *body)
{
    int status = s_ids_request (req, TS_OP_DLQ_REDRIVE, true, msg, body);
    return status? status: TS_ROUTE_FORWARD;
}

//  A route that is only forwarded, with nothing to read: GET /v1/stats,
//  GET /v1/dlq, DELETE /v1/dlq.
static int
s_forward_op (ts_msg_t *msg, ts_op_t op)
{
    ts_msg_reset (msg, op);
    return TS_ROUTE_FORWARD;
}

static int
s_not_allowed (ts_json_t *body, const char **allow, const char *methods)
{
    char detail [TS_ERRLEN];
    ts_errf (detail, "method not allowed here; use %s", methods);
    if (allow)
        *allow = methods;
    return ts_json_error (body, 405, "method_not_allowed", detail);
}

//  Dispatches an authorized request. msg and reply are scratch messages.
//  Returns the status with the answer in body, or TS_ROUTE_FORWARD with
//  the request to forward in msg.
static int
s_dispatch (ts_route_t *self, const ts_route_req_t *req,
            const ts_target_t *url, ts_msg_t *msg, ts_msg_t *reply,
            ts_json_t *body, const char **allow)
{
    size_t n = ts_target_segments (url);
    const char *s0 = ts_target_segment (url, 0);
    const char *s1 = ts_target_segment (url, 1);
    const char *method = req->method;
    bool v1 = n >= 2 && strcmp (s0, "v1") == 0;

    if (v1 && n == 3 && strcmp (s1, "series") == 0) {
        if (strcmp (method, "GET"))
            return s_not_allowed (body, allow, "GET");
        return s_series (self, url, ts_target_segment (url, 2), msg, reply,
                         body);
    }
    if (v1 && n == 2 && strcmp (s1, "ids") == 0) {
        if (strcmp (method, "GET") == 0)
            return s_ids_ls (self, url, msg, reply, body);
        if (strcmp (method, "POST") == 0)
            return s_post_ids (self, req, TS_OP_IDS_ADD, msg, reply, body);
        return s_not_allowed (body, allow, "GET, POST");
    }
    if (v1 && n == 3 && strcmp (s1, "ids") == 0) {
        if (strcmp (method, "DELETE"))
            return s_not_allowed (body, allow, "DELETE");
        return s_ids_rm (self, ts_target_segment (url, 2), msg, reply, body);
    }
    if (v1 && n == 2 && strcmp (s1, "hydrate") == 0) {
        if (strcmp (method, "POST"))
            return s_not_allowed (body, allow, "POST");
        return s_post_ids (self, req, TS_OP_HYDRATE, msg, reply, body);
    }
    if (v1 && n == 2 && strcmp (s1, "stats") == 0) {
        if (strcmp (method, "GET"))
            return s_not_allowed (body, allow, "GET");
        return s_forward_op (msg, TS_OP_STATS);
    }
    if (v1 && n == 2 && strcmp (s1, "dlq") == 0) {
        if (strcmp (method, "GET") == 0)
            return s_forward_op (msg, TS_OP_DLQ_LS);
        if (strcmp (method, "DELETE") == 0)
            return s_forward_op (msg, TS_OP_DLQ_PURGE);
        return s_not_allowed (body, allow, "GET, DELETE");
    }
    if (v1 && n == 3 && strcmp (s1, "dlq") == 0
    &&  strcmp (ts_target_segment (url, 2), "redrive") == 0) {
        if (strcmp (method, "POST"))
            return s_not_allowed (body, allow, "POST");
        return s_dlq_redrive (req, msg, body);
    }
    return ts_json_error (body, 404, "not_found", "no such route");
}

//  An answer that ran out of memory while being written becomes a 500.
static int
s_checked (ts_json_t *body, int status)
{
    if (ts_json_failed (body)) {
        ts_error ("out of memory writing an answer");
        status = ts_json_error (body, 500, "internal", "out of memory");
        if (ts_json_failed (body))
            ts_json_reset (body);
    }
    return status;
}

int
ts_route_start (ts_route_t *self, const ts_route_req_t *req,
                ts_json_t *body, const char **allow, ts_msg_t **forward)
{
    char err [TS_ERRLEN] = "";
    *forward = NULL;
    if (allow)
        *allow = NULL;
    ts_json_reset (body);

    ts_target_t *url = NULL;
    int rc = ts_target_parse (req->target, &url, err);
    if (rc == TS_ENOMEM)
        return ts_json_error (body, 500, "internal", "out of memory");
    if (rc)
        return ts_json_error (body, 400, "bad_request", err);

    int status;
    ts_msg_t *msg = NULL;
    ts_msg_t *reply = NULL;
    if (ts_target_segments (url) == 1
    &&  strcmp (ts_target_segment (url, 0), "healthz") == 0) {
        if (strcmp (req->method, "GET") == 0) {
            ts_json_raw (body, "{\"status\":\"ok\"}");
            status = 200;
        }
        else
            status = s_not_allowed (body, allow, "GET");
    }
    else
    if (ts_seed_owns (self->seed, url))
        //  The seed's key is its x-security-token only, and its paths
        //  never read a body (nor refuse a large one).
        status = ts_seed_handle (self->seed, url, req->method,
                                 s_authorized (self, req, false), body);
    else
    if (!s_authorized (self, req, true))
        status = ts_json_error (body, 401, "unauthorized",
                                "missing or wrong API key: send "
                                "x-security-token: KEY or Authorization: "
                                "Bearer KEY");
    else
    if (req->body_too_big) {
        ts_errf (err, "request body over %d bytes", TS_ROUTE_MAX_BODY);
        status = ts_json_error (body, 413, "too_big", err);
    }
    else
    if (!(msg = ts_msg_new (TS_OP_QUERY))
    ||  !(reply = ts_msg_new (TS_OP_REPLY)))
        status = ts_json_error (body, 500, "internal", "out of memory");
    else
        status = s_dispatch (self, req, url, msg, reply, body, allow);

    if (status == TS_ROUTE_FORWARD) {
        if (ts_api_forward_check (self->api, msg, reply))
            status = s_reply_error (body, reply);
        else {
            *forward = msg;
            msg = NULL;
        }
    }
    ts_msg_destroy (&msg);
    ts_msg_destroy (&reply);
    ts_target_destroy (&url);
    return s_checked (body, status);
}

int
ts_route_finish (const ts_msg_t *forward, const ts_msg_t *reply,
                 ts_json_t *body)
{
    //  hydrate answers 202; the others 200, and nothing else is theirs.
    bool ok = forward->op == TS_OP_HYDRATE
            ? reply->status >= 200 && reply->status < 300
            : reply->status == 200;
    if (!ok)
        return s_checked (body, s_reply_error (body, reply));
    ts_json_reset (body);
    if (ts_json_answer (body, forward, reply) == TS_EINVAL)
        return ts_json_error (body, 500, "internal", "no answer for op");
    return s_checked (body, reply->status);
}

int
ts_route_handle (ts_route_t *self, const ts_route_req_t *req,
                 ts_json_t *body, const char **allow)
{
    ts_msg_t *forward = NULL;
    int status = ts_route_start (self, req, body, allow, &forward);
    if (!forward)
        return status;
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    if (reply) {
        ts_forward_call (ts_api_broker_endpoint (self->api),
                         ts_api_broker_timeout (self->api), forward, reply);
        status = ts_route_finish (forward, reply, body);
    }
    else
        status = ts_json_error (body, 500, "internal", "out of memory");
    ts_msg_destroy (&reply);
    ts_msg_destroy (&forward);
    return status;
}

const char *
ts_route_libraries (void)
{
    static char text [32];
    if (!*text)
        snprintf (text, sizeof text, "jansson %s", jansson_version_str ());
    return text;
}
