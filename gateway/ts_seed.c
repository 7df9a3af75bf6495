/*  ts_seed - the replaced service's HTTP API, answered as it answered.
    See ts_seed.h for the paths and answers.

    The seed's Lambda (TypeScript) decided in this order, and so does
    ts_seed_handle: the key (a failed check threw, and its catch answered
    400 with JSON.stringify(JSON.stringify(error)), which is the 4 bytes
    "{}" for an Error), then method GET and path /timeSeries-data (else
    400 with a plain text body), then queryStringParameters (null, i.e.
    no parameter at all, threw: "{}" again), then the three parameters
    (400 with a JSON string whose template literal rendered the parameter
    object as [object Object]). The prefix root has no method in the
    seed's API Gateway, which answers it 403 before any Lambda runs.

    From there on the seed's answer came out of Timestream and DynamoDB
    (hours rounded by ago(Nh), seconds precision, SQL built from the id,
    AWS errors as bodies); tscache answers from its own store through
    ts_api_query, with exact millisecond ranges, validated ids and the
    forecast strictly after the newest history point, and reports its own
    errors as {"error","detail"} JSON. */

#include "ts_seed.h"
#include "ts_params.h"

#include <stdlib.h>
#include <string.h>

#define S_ROUTE "timeSeries-data"   //  the one path the seed served

struct _ts_seed_t {
    ts_api_t     *api;          //  borrowed request handler
    ts_strlist_t *prefix;       //  segments of gateway.seed_path_prefix
    ts_strlist_t *measures;     //  upstream.format.measures names, in order
};

//  Appends the segments of path ("/a/b") to list. Returns 0 or TS_ENOMEM.
static int
s_split_path (ts_strlist_t *list, const char *path)
{
    const char *p = path;
    while (*p == '/') {
        p++;
        size_t len = strcspn (p, "/");
        if (len > 0 && ts_strlist_append_n (list, p, len))
            return TS_ENOMEM;
        p += len;
    }
    return 0;
}

ts_seed_t *
ts_seed_new (ts_api_t *api, const ts_config_t *cfg, char *err)
{
    ts_seed_t *self = calloc (1, sizeof (ts_seed_t));
    const ts_strlist_t *names = NULL, *fields = NULL;
    ts_config_map (cfg, "upstream.format.measures", &names, &fields);
    bool ok = self && (self->prefix = ts_strlist_new ())
           && (self->measures = ts_strlist_new ())
           && s_split_path (self->prefix,
                            ts_config_str (cfg, "gateway.seed_path_prefix"))
              == 0;
    for (size_t i = 0; ok && i < names->n; i++)
        ok = ts_strlist_append (self->measures, names->items [i]) == 0;
    if (!ok) {
        ts_errf (err, "out of memory");
        ts_seed_destroy (&self);
        return NULL;
    }
    self->api = api;
    return self;
}

void
ts_seed_destroy (ts_seed_t **self_p)
{
    if (self_p && *self_p) {
        ts_seed_t *self = *self_p;
        ts_strlist_destroy (&self->prefix);
        ts_strlist_destroy (&self->measures);
        free (self);
        *self_p = NULL;
    }
}

//  True if url starts with the prefix's segments (there is a prefix).
static bool
s_under_prefix (const ts_seed_t *self, const ts_target_t *url)
{
    size_t n = self->prefix->n;
    if (n == 0 || ts_target_segments (url) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp (ts_target_segment (url, i), self->prefix->items [i]))
            return false;
    return true;
}

bool
ts_seed_owns (const ts_seed_t *self, const ts_target_t *url)
{
    const char *first = ts_target_segment (url, 0);
    return s_under_prefix (self, url) || (first && !strcmp (first, S_ROUTE));
}

//  Writes text as the whole body (application/json, as API Gateway sent
//  it) and returns status.
static int
s_text (ts_reply_t *out, int status, const char *text)
{
    return ts_reply_set_text (out, status, TS_REPLY_JSON, text);
}

//  True if the Lambda would have seen exactly the path /timeSeries-data:
//  the route right at the root or right under the prefix, with no
//  trailing '/' (API Gateway passes that on, and the Lambda compared the
//  path with ===).
static bool
s_is_route (const ts_seed_t *self, const ts_target_t *url)
{
    size_t n = ts_target_segments (url);
    size_t at = s_under_prefix (self, url)? self->prefix->n: 0;
    return n == at + 1 && strcmp (ts_target_segment (url, at), S_ROUTE) == 0
        && !ts_target_trailing_slash (url);
}

//  Writes one row: {"identifier":id,"cpu":"value","time":ms}.
static void
s_write_row (ts_json_t *body, const char *id, const ts_points_t *pts,
             size_t i)
{
    char value [40];
    ts_json_raw (body, "{\"identifier\":");
    ts_json_str (body, id);
    ts_json_raw (body, ",\"cpu\":");
    if (ts_json_format_double (pts->value [i], value, sizeof value))
        ts_json_str (body, value);
    else
        ts_json_raw (body, "null");
    ts_json_raw (body, ",\"time\":");
    ts_json_int (body, pts->time_ms [i]);
    ts_json_raw (body, "}");
}

//  Encodes a query answer as the seed did: history newest first, then
//  the forecast ascending. A ts_api_encode_fn.
static int
s_encode_rows (const ts_msg_t *reply, char **data, size_t *size)
{
    ts_json_t *body = ts_json_new ();
    if (!body)
        return TS_ENOMEM;
    ts_json_raw (body, "{\"historicalRows\":[");
    const ts_points_t *history = reply->series.history;
    const ts_points_t *forecast = reply->series.forecast;
    for (size_t i = history->n; i > 0; i--) {
        if (i < history->n)
            ts_json_raw (body, ",");
        s_write_row (body, reply->id, history, i - 1);
    }
    ts_json_raw (body, "],\"futureRows\":[");
    for (size_t i = 0; i < forecast->n; i++) {
        if (i)
            ts_json_raw (body, ",");
        s_write_row (body, reply->id, forecast, i);
    }
    ts_json_raw (body, "]}");
    *data = ts_json_detach (body, size);
    ts_json_destroy (&body);
    return *data? 0: TS_ENOMEM;
}

//  Fills query from the parameters (identifier, startDate and endDate
//  present and not empty). Returns 0, or TS_EINVAL with the detail in
//  *error and err.
static int
s_build_query (ts_seed_t *self, const ts_target_t *url, ts_msg_t *query,
               const char **error, char *err)
{
    const char *id = ts_target_param_last (url, "identifier");
    const char *measure = ts_target_param_last (url, "measure");
    *error = "bad_request";
    if (!ts_name_existing (id)) {
        char detail [TS_ERRLEN];
        ts_name_errf (detail, "id", id, id? strlen (id): 0);
        ts_errf (err, "identifier: %s", detail);
        return TS_EINVAL;
    }
    ts_msg_reset (query, TS_OP_QUERY);
    ts_strlcpy (query->id, id, sizeof query->id);
    query->has_from = query->has_to = true;
    if (ts_params_time ("startDate", ts_target_param_last (url, "startDate"),
                &query->from_ms, err)
    ||  ts_params_time ("endDate", ts_target_param_last (url, "endDate"),
                &query->to_ms, err))
        return TS_EINVAL;
    if (query->from_ms > query->to_ms) {
        *error = "bad_range";
        ts_errf (err, "startDate (%lld) is after endDate (%lld)",
                 (long long) query->from_ms, (long long) query->to_ms);
        return TS_EINVAL;
    }
    if (!measure || !*measure)
        measure = self->measures->n? self->measures->items [0]: "";
    for (size_t i = 0; i < self->measures->n; i++)
        if (strcmp (self->measures->items [i], measure) == 0) {
            ts_strlcpy (query->measure, measure, sizeof query->measure);
            return 0;
        }
    ts_errf (err, "measure: '%.40s' is not one of upstream.format.measures",
             measure);
    return TS_EINVAL;
}

//  GET /timeSeries-data with every parameter given: the rows (the
//  encoded answer as it is, no copy), or a JSON error.
static int
s_rows (ts_seed_t *self, const ts_target_t *url, ts_reply_t *out)
{
    char err [TS_ERRLEN] = "";
    const char *error = NULL;
    ts_msg_t *query = ts_msg_new (TS_OP_QUERY);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    int status;
    char *data = NULL;
    size_t size = 0;
    if (!query || !reply)
        status = ts_reply_error (out, 500, "internal", "out of memory");
    else
    if (s_build_query (self, url, query, &error, err))
        status = ts_reply_error (out, 400, error, err);
    else {
        status = ts_api_query (self->api, query, 't', s_encode_rows, reply,
                               &data, &size);
        if (status == 404)
            //  Not registered: the seed had no registry, only no data.
            status = s_text (out, 200,
                             "{\"historicalRows\":[],\"futureRows\":[]}");
        else
        if (status != 200)
            status = ts_reply_error (out, reply->status,
                                     reply->error [0]? reply->error: "error",
                                     reply->detail);
        else {
            ts_reply_adopt (out, data, size);
            data = NULL;
        }
    }
    free (data);
    ts_msg_destroy (&query);
    ts_msg_destroy (&reply);
    return status;
}

int
ts_seed_handle (ts_seed_t *self, const ts_target_t *url, const char *method,
                bool authorized, ts_reply_t *out)
{
    if (s_under_prefix (self, url)
    &&  ts_target_segments (url) == self->prefix->n)
        return s_text (out, 403, TS_SEED_BODY_NO_METHOD);
    if (!authorized)
        return s_text (out, 400, TS_SEED_BODY_NO_KEY);
    if (strcmp (method, "GET") || !s_is_route (self, url))
        return s_text (out, 400, TS_SEED_BODY_ONLY_GET);
    if (ts_target_params (url) == 0)
        return s_text (out, 400, TS_SEED_BODY_NO_KEY);
    const char *names [] = { "identifier", "startDate", "endDate" };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        const char *value = ts_target_param_last (url, names [i]);
        if (!value || !*value)
            return s_text (out, 400, TS_SEED_BODY_MISSING);
    }
    return s_rows (self, url, out);
}
