/*  ts_grafana - the Grafana JSON data source endpoints. See ts_grafana.h.

    Bodies are read with jansson; answers are written with the gateway's
    JSON writer into the reply. Every query goes through ts_api_handle,
    so a target obeys every rule a GET /v1/series does (ids, ranges,
    gateway.max_points). */

#include "ts_grafana.h"
#include "ts_params.h"
#include "ts_query.h"
#include "ts_duration.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  How a query's targets are shaped: Grafana's interval and width.
typedef struct {
    int64_t     step_ms;        //  intervalMs; 0 not given
    uint32_t    max_points;     //  maxDataPoints; 0 not given
} s_shape_t;

//  ts_params_object, its error answered into out (400, or 500 out of
//  memory). Returns 0 or that status.
static int
s_body (const char *body, size_t size, json_t **root, ts_reply_t *out)
{
    char err [TS_ERRLEN] = "";
    int rc = ts_params_object (body, size, root, err);
    if (rc == TS_EINVAL)
        return ts_reply_error (out, 400, "bad_request", err);
    if (rc)
        return ts_reply_error (out, 500, "internal", "out of memory");
    return 0;
}

//  Writes one search answer: "name" or {"label":"name","value":"name"}.
static void
s_name (ts_json_t *json, const char *name, size_t *written,
        ts_grafana_names_t style)
{
    ts_json_raw (json, (*written)++? ",": "");
    if (style == TS_GRAFANA_NAMES)
        ts_json_str (json, name);
    else {
        ts_json_raw (json, style == TS_GRAFANA_LABELS? "{\"label\":"
                                                     : "{\"__text\":");
        ts_json_str (json, name);
        ts_json_raw (json, style == TS_GRAFANA_LABELS? ",\"value\":"
                                                     : ",\"__value\":");
        ts_json_str (json, name);
        ts_json_raw (json, "}");
    }
}

//  True if name is among the first n names of list.
static bool
s_listed (char **list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (list [i], name) == 0)
            return true;
    return false;
}

//  "ID:PREFIX": writes the measures of id (its default query range)
//  starting with prefix as "ID:MEASURE". Returns false if id is not a
//  registered id (nothing written).
static bool
s_search_measures (ts_api_t *api, const char *id, const char *prefix,
                   ts_grafana_names_t style, ts_json_t *json,
                   size_t *written)
{
    if (!ts_name_existing (id))
        return false;
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    bool found = false;
    if (msg && reply) {
        ts_strlcpy (msg->id, id, sizeof msg->id);
        found = ts_api_handle (api, msg, reply) == 200;
    }
    const ts_points_t *parts [2] = { found? reply->series.history: NULL,
                                     found? reply->series.forecast: NULL };
    for (size_t p = 0; p < 2 && parts [p]; p++)
        for (size_t i = 0; i < parts [p]->n_measures
                           && *written < TS_GRAFANA_SEARCH_MAX; i++) {
            const char *measure = parts [p]->measures [i];
            if (strncmp (measure, prefix, strlen (prefix)) != 0
            ||  (p == 1 && s_listed (parts [0]->measures,
                                     parts [0]->n_measures, measure)))
                continue;
            char name [2 * TS_NAME_MAX + 2];
            snprintf (name, sizeof name, "%s:%s", id, measure);
            s_name (json, name, written, style);
        }
    ts_msg_destroy (&msg);
    ts_msg_destroy (&reply);
    return found;
}

//  Writes the registered ids holding text, page by page of the registry.
//  Returns 200, or ts_api's error status (detail in err).
static int
s_search_ids (ts_api_t *api, const char *text, ts_grafana_names_t style,
              ts_json_t *json, size_t *written, char *err)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_LS);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    int status = msg && reply? 200: 500;
    size_t read = 0;
    char after [TS_NAME_MAX + 1] = "";
    while (status == 200 && *written < TS_GRAFANA_SEARCH_MAX
           && read < TS_GRAFANA_SEARCH_SCAN) {
        ts_msg_reset (msg, TS_OP_IDS_LS);
        ts_strlcpy (msg->after, after, sizeof msg->after);
        msg->limit = TS_PROTO_IDS_PAGE;
        status = ts_api_handle (api, msg, reply);
        if (status != 200) {
            ts_errf (err, "%s", reply->detail);
            break;
        }
        for (size_t i = 0; i < reply->ids->n
                           && *written < TS_GRAFANA_SEARCH_MAX; i++)
            if (strstr (reply->ids->items [i], text))
                s_name (json, reply->ids->items [i], written, style);
        read += reply->ids->n;
        if (!reply->next [0])
            break;
        ts_strlcpy (after, reply->next, sizeof after);
    }
    if (status == 500 && !*err)
        ts_errf (err, "out of memory");
    ts_msg_destroy (&msg);
    ts_msg_destroy (&reply);
    return status;
}

//  The search text of a body (root): metric (simpod's /metrics), else
//  target (simple-json's /search), else payload.target (simpod's
//  /variable); absent or null: "". Returns 0 or 400 (detail in err).
static int
s_search_text (json_t *root, char *text, size_t size, char *err)
{
    const char *key = "target";
    json_t *holder = root;
    if (json_object_get (root, "metric"))
        key = "metric";
    else
    if (!json_object_get (root, "target")
    &&  json_is_object (json_object_get (root, "payload"))) {
        holder = json_object_get (root, "payload");
        key = "payload.target";
    }
    json_t *value = json_object_get (holder, holder == root? key: "target");
    text [0] = 0;
    if (value && !json_is_null (value) && !json_is_string (value)) {
        ts_errf (err, "%s: expected a string", key);
        return 400;
    }
    if (json_is_string (value))
        ts_strlcpy (text, json_string_value (value), size);
    return 0;
}

int
ts_grafana_search (ts_api_t *api, const char *body, size_t size,
                   ts_grafana_names_t style, ts_reply_t *out)
{
    char err [TS_ERRLEN] = "";
    json_t *root = NULL;
    int status = s_body (body, size, &root, out);
    if (status)
        return status;
    char text [2 * TS_NAME_MAX + 2];
    status = s_search_text (root, text, sizeof text, err);
    json_decref (root);
    if (status)
        return ts_reply_error (out, 400, "bad_request", err);

    ts_json_t *json = ts_reply_json (out);
    ts_json_raw (json, "[");
    size_t written = 0;
    char *colon = strrchr (text, ':');
    bool measures = false;
    if (colon) {
        *colon = 0;
        measures = s_search_measures (api, text, colon + 1, style, json,
                                      &written);
        *colon = ':';
    }
    if (!measures) {
        status = s_search_ids (api, text, style, json, &written, err);
        if (status != 200)
            return ts_reply_error (out, status, status == 500? "internal":
                                   "unavailable", err);
    }
    ts_json_raw (json, "]");
    return 200;
}

int
ts_grafana_annotations (const char *body, size_t size, ts_reply_t *out)
{
    json_t *root = NULL;
    int status = s_body (body, size, &root, out);
    json_decref (root);
    if (status)
        return status;
    return ts_reply_set_text (out, 200, TS_REPLY_JSON, "[]");
}

//  ---------------------------------------------------------------------
//  /query

//  Reads range.from / range.to (RFC 3339 text as Grafana sends, or epoch
//  ms numbers) into base. Returns 0 or 400 (detail in err).
static int
s_range (json_t *root, ts_msg_t *base, char *err)
{
    json_t *range = json_object_get (root, "range");
    if (!range || json_is_null (range))
        return 0;
    if (!json_is_object (range)) {
        ts_errf (err, "range: expected an object {\"from\",\"to\"}");
        return 400;
    }
    const char *names [2] = { "from", "to" };
    bool *has [2] = { &base->has_from, &base->has_to };
    int64_t *ms [2] = { &base->from_ms, &base->to_ms };
    for (int i = 0; i < 2; i++) {
        json_t *value = json_object_get (range, names [i]);
        char name [16];
        snprintf (name, sizeof name, "range.%s", names [i]);
        if (json_is_string (value)) {
            if (ts_params_time (name, json_string_value (value), ms [i], err))
                return 400;
            *has [i] = true;
        }
        else
        if (json_is_integer (value)) {
            *ms [i] = json_integer_value (value);
            *has [i] = true;
        }
        else
        if (value && !json_is_null (value)) {
            ts_errf (err, "%s: expected an RFC 3339 time or epoch ms", name);
            return 400;
        }
    }
    return 0;
}

//  Reads the non-negative whole number name of root (absent or null: 0)
//  into *value, at most max. Returns 0 or 400 (detail in err).
static int
s_count (json_t *root, const char *name, int64_t max, int64_t *value,
         char *err)
{
    json_t *item = json_object_get (root, name);
    *value = 0;
    if (!item || json_is_null (item))
        return 0;
    double number = json_number_value (item);
    if (!json_is_number (item) || !(number >= 0) || number > (double) max
    ||  number != floor (number)) {
        ts_errf (err, "%s: expected a whole number from 0 to %lld", name,
                 (long long) max);
        return 400;
    }
    *value = (int64_t) number;
    return 0;
}

//  The aggregate a target asks for: payload.agg, else data.agg (older
//  simpod versions), else avg (ts_query_agg names them). Returns 0 or
//  400 (detail in err).
static int
s_agg (json_t *target, size_t t, ts_agg_t *agg, char *err)
{
    *agg = TS_AGG_AVG;
    const char *holders [2] = { "payload", "data" };
    for (int h = 0; h < 2; h++) {
        json_t *value = json_object_get (json_object_get (target,
                                                          holders [h]),
                                         "agg");
        if (!value || json_is_null (value))
            continue;
        const char *text = json_string_value (value);
        char detail [TS_ERRLEN] = "";
        if (text && ts_query_agg (text, agg, detail) == 0)
            return 0;
        ts_errf (err, "targets[%zu].%s.agg: expected avg, min, max, sum, "
                 "count, first or last", t, holders [h]);
        return 400;
    }
    return 0;
}

//  Fills msg (a query) for a target: its range from base, and Grafana's
//  interval as the step, its width as max_points and agg, when the panel
//  gave an interval or a width (a query with neither is raw points).
static void
s_shape_query (ts_msg_t *msg, const ts_msg_t *base, const s_shape_t *shape,
               ts_agg_t agg)
{
    msg->has_from = base->has_from;
    msg->from_ms = base->from_ms;
    msg->has_to = base->has_to;
    msg->to_ms = base->to_ms;
    msg->step_ms = shape->step_ms;
    msg->max_points = shape->max_points;
    msg->agg = shape->step_ms || shape->max_points? agg: TS_AGG_NONE;
}

//  Asks ts_api for target (text): as an id, and if that id is not
//  registered and the text holds ':', as ID:MEASURE split at the last
//  ':'. Returns the status; reply holds the answer or the error.
static int
s_ask (ts_api_t *api, const char *text, const ts_msg_t *base,
       const s_shape_t *shape, ts_agg_t agg, ts_msg_t *msg,
       ts_msg_t *reply)
{
    const char *colon = strrchr (text, ':');
    size_t id_len = strlen (text);
    int status = 404;
    if (ts_name_existing (text)) {
        ts_msg_reset (msg, TS_OP_QUERY);
        s_shape_query (msg, base, shape, agg);
        ts_strlcpy (msg->id, text, sizeof msg->id);
        status = ts_api_handle (api, msg, reply);
        if (status != 404 || !colon)
            return status;
    }
    if (!colon || colon == text || !colon [1]) {
        char err [TS_ERRLEN];
        ts_name_errf (err, "target", text, id_len);
        ts_msg_set_error (reply, 400, "bad_request", err);
        return 400;
    }
    ts_msg_reset (msg, TS_OP_QUERY);
    s_shape_query (msg, base, shape, agg);
    id_len = (size_t) (colon - text);
    if (id_len >= sizeof msg->id || !ts_name_existing_n (text, id_len)
    ||  !ts_name_existing (colon + 1)) {
        char err [TS_ERRLEN];
        ts_errf (err, "target '%.80s': expected ID or ID:MEASURE, each "
                 TS_NAME_RULE, text);
        ts_msg_set_error (reply, 400, "bad_request", err);
        return 400;
    }
    memcpy (msg->id, text, id_len);
    msg->id [id_len] = 0;
    ts_strlcpy (msg->measure, colon + 1, sizeof msg->measure);
    return ts_api_handle (api, msg, reply);
}

//  The index of measure in pts's table, or -1.
static int
s_measure_at (const ts_points_t *pts, const char *measure)
{
    for (size_t i = 0; i < pts->n_measures; i++)
        if (strcmp (pts->measures [i], measure) == 0)
            return (int) i;
    return -1;
}

//  Writes the datapoints of measure (history, then forecast):
//  [value,ms],...
static void
s_datapoints (ts_json_t *json, const ts_series_t *series, const char *measure)
{
    const ts_points_t *parts [2] = { series->history, series->forecast };
    size_t written = 0;
    for (int p = 0; p < 2; p++) {
        int at = s_measure_at (parts [p], measure);
        for (size_t i = 0; at >= 0 && i < parts [p]->n; i++) {
            if (parts [p]->measure [i] != (uint16_t) at)
                continue;
            ts_json_raw (json, written++? ",[": "[");
            ts_json_double (json, parts [p]->value [i]);
            ts_json_raw (json, ",");
            ts_json_int (json, parts [p]->time_ms [i]);
            ts_json_raw (json, "]");
        }
    }
}

//  One timeserie per measure of the answer: {"target":"ID:MEASURE",
//  "datapoints":[...]}. *written counts the array's items so far.
static void
s_timeseries (ts_json_t *json, const ts_msg_t *reply, size_t *written)
{
    const ts_points_t *parts [2] = { reply->series.history,
                                     reply->series.forecast };
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < parts [p]->n_measures; i++) {
            const char *measure = parts [p]->measures [i];
            if (p == 1 && s_measure_at (parts [0], measure) >= 0)
                continue;
            char name [2 * TS_NAME_MAX + 2];
            snprintf (name, sizeof name, "%s:%s", reply->id, measure);
            ts_json_raw (json, (*written)++? ",{\"target\":": "{\"target\":");
            ts_json_str (json, name);
            ts_json_raw (json, ",\"datapoints\":[");
            s_datapoints (json, &reply->series, measure);
            ts_json_raw (json, "]}");
        }
}

//  A table: {"type":"table","columns":[Time, Measure, Value, Part],
//  "rows":[[ms,"measure",value,"history"|"forecast"],...]}.
static void
s_table (ts_json_t *json, const ts_msg_t *reply, size_t *written)
{
    ts_json_raw (json, (*written)++? ",": "");
    ts_json_raw (json, "{\"type\":\"table\",\"columns\":["
                 "{\"text\":\"Time\",\"type\":\"time\"},"
                 "{\"text\":\"Measure\",\"type\":\"string\"},"
                 "{\"text\":\"Value\",\"type\":\"number\"},"
                 "{\"text\":\"Part\",\"type\":\"string\"}],\"rows\":[");
    const ts_points_t *parts [2] = { reply->series.history,
                                     reply->series.forecast };
    size_t rows = 0;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < parts [p]->n; i++) {
            ts_json_raw (json, rows++? ",[": "[");
            ts_json_int (json, parts [p]->time_ms [i]);
            ts_json_raw (json, ",");
            ts_json_str (json, ts_points_measure (parts [p], i));
            ts_json_raw (json, ",");
            ts_json_double (json, parts [p]->value [i]);
            ts_json_raw (json, p? ",\"forecast\"]": ",\"history\"]");
        }
    ts_json_raw (json, "]}");
}

//  Reads the query's own fields (range, intervalMs, maxDataPoints) and
//  checks targets. Returns 0 or 400 (detail in err).
static int
s_query_head (json_t *root, ts_msg_t *base, s_shape_t *shape, char *err)
{
    int64_t step = 0, points = 0;
    json_t *targets = json_object_get (root, "targets");
    if (!json_is_array (targets)) {
        ts_errf (err, "targets: expected a list of {\"target\":...}");
        return 400;
    }
    if (json_array_size (targets) > TS_GRAFANA_TARGETS_MAX) {
        ts_errf (err, "targets: %zu targets, over the limit of %d",
                 json_array_size (targets), TS_GRAFANA_TARGETS_MAX);
        return 400;
    }
    if (s_range (root, base, err)
    ||  s_count (root, "intervalMs", TS_DURATION_MAX_MS, &step, err)
    ||  s_count (root, "maxDataPoints", TS_PROTO_MAX_POINTS, &points, err))
        return 400;
    shape->step_ms = step;
    shape->max_points = (uint32_t) points;
    return 0;
}

//  Answers target t of the query into json; *points counts the points
//  of the targets so far. Returns 200 or the error status (answered into
//  out).
static int
s_query_target (ts_api_t *api, json_t *target, size_t t,
                const ts_msg_t *base, const s_shape_t *shape, ts_msg_t *msg,
                ts_msg_t *reply, ts_json_t *json, size_t *written,
                size_t *points, ts_reply_t *out)
{
    char err [TS_ERRLEN] = "";
    if (!json_is_object (target)) {
        ts_errf (err, "targets[%zu]: expected an object", t);
        return ts_reply_error (out, 400, "bad_request", err);
    }
    if (json_is_true (json_object_get (target, "hide")))
        return 200;
    const char *text = json_string_value (json_object_get (target, "target"));
    if (!text) {
        ts_errf (err, "targets[%zu].target: expected a string", t);
        return ts_reply_error (out, 400, "bad_request", err);
    }
    const char *type = json_string_value (json_object_get (target, "type"));
    ts_agg_t agg;
    if (s_agg (target, t, &agg, err))
        return ts_reply_error (out, 400, "bad_request", err);
    int status = s_ask (api, text, base, shape, agg, msg, reply);
    if (status != 200) {
        ts_errf (err, "targets[%zu] '%.80s': %s", t, text,
                 reply->detail [0]? reply->detail: reply->error);
        return ts_reply_error (out, status, reply->error [0]? reply->error:
                               "error", err);
    }
    *points += reply->series.history->n + reply->series.forecast->n;
    if (*points > TS_GRAFANA_POINTS_MAX) {
        ts_errf (err, "targets[0..%zu] hold over %d points in all: ask for "
                 "fewer targets, a shorter range or fewer maxDataPoints", t,
                 TS_GRAFANA_POINTS_MAX);
        return ts_reply_error (out, 413, "too_big", err);
    }
    if (type && strcmp (type, "table") == 0)
        s_table (json, reply, written);
    else
        s_timeseries (json, reply, written);
    return 200;
}

int
ts_grafana_query (ts_api_t *api, const char *body, size_t size,
                  ts_reply_t *out)
{
    char err [TS_ERRLEN] = "";
    json_t *root = NULL;
    int status = s_body (body, size, &root, out);
    if (status)
        return status;
    ts_msg_t *base = ts_msg_new (TS_OP_QUERY);
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    s_shape_t shape = { 0, 0 };
    if (!base || !msg || !reply)
        status = ts_reply_error (out, 500, "internal", "out of memory");
    else
    if (s_query_head (root, base, &shape, err))
        status = ts_reply_error (out, 400, "bad_request", err);
    else {
        ts_json_t *json = ts_reply_json (out);
        ts_json_raw (json, "[");
        size_t written = 0, points = 0;
        json_t *targets = json_object_get (root, "targets");
        status = 200;
        for (size_t t = 0; status == 200 && t < json_array_size (targets);
             t++)
            status = s_query_target (api, json_array_get (targets, t), t,
                                     base, &shape, msg, reply, json,
                                     &written, &points, out);
        if (status == 200)
            ts_json_raw (json, "]");
    }
    ts_msg_destroy (&base);
    ts_msg_destroy (&msg);
    ts_msg_destroy (&reply);
    json_decref (root);
    return status;
}
