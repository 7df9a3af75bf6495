/*  ts_params - reads a gateway HTTP request's query parameters and JSON
    body into a ts_msg_t. See ts_params.h. jansson reads the bodies; the
    routes (ts_route) decide which function a route calls and answer its
    errors. */

#include "ts_params.h"
#include "ts_query.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int
ts_params_time (const char *name, const char *text, int64_t *ms, char *err)
{
    if (ts_time_parse (text, ms)) {
        ts_errf (err, "%s: expected epoch milliseconds or an RFC 3339 time,"
                 " got '%.40s'", name, text);
        return TS_EINVAL;
    }
    return 0;
}

int
ts_params_query (const ts_target_t *url, const char *id, ts_msg_t *query,
                 char *err)
{
    if (!ts_name_existing (id)) {
        ts_name_errf (err, "id", id, strlen (id));
        return TS_EINVAL;
    }
    ts_strlcpy (query->id, id, sizeof query->id);
    //  Every parameter in the order given, read by the one parser of
    //  query parameters (ts_query); measure may repeat, the others not;
    //  names it does not know are ignored (docs/http-api.md).
    size_t n = ts_target_params (url);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const char *text = ts_target_param_at (url, i, &name);
        if (strcmp (name, "measure") && *text
        &&  ts_target_param_last (url, name) != text) {
            ts_errf (err, "%.40s: given more than once", name);
            return TS_EINVAL;
        }
        int rc = ts_query_param (query, name, text, err);
        if (rc < 0)
            return rc;
    }
    return ts_query_check (query, err);
}

int
ts_params_page (const ts_target_t *url, ts_msg_t *msg, char *err)
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
    const char *fetch = ts_target_param (url, "fetch");
    if (fetch && *fetch) {
        if (strcmp (fetch, "true") != 0 && strcmp (fetch, "false") != 0) {
            ts_errf (err, "fetch: expected true or false, got '%.40s'",
                     fetch);
            return TS_EINVAL;
        }
        msg->with_fetch = strcmp (fetch, "true") == 0;
    }
    return 0;
}

//  True if the body is absent or only white space.
static bool
s_body_empty (const char *body, size_t size)
{
    for (size_t i = 0; body && i < size; i++) {
        char c = body [i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

//  Parses body (size bytes) as JSON, duplicate keys refused. Returns the
//  root, or NULL with "bad JSON body: ... (line L, column C)" in err.
static json_t *
s_load (const char *body, size_t size, char *err)
{
    json_error_t jerr;
    json_t *root = json_loadb (body, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        ts_errf (err, "bad JSON body: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
    return root;
}

int
ts_params_ids (const char *body, size_t size, bool optional,
               ts_strlist_t *ids, json_t **root_p, char *err)
{
    if (root_p)
        *root_p = NULL;
    if (optional && s_body_empty (body, size))
        return 0;
    if (!body || size == 0) {
        ts_errf (err, "missing body: expected {\"ids\":[...]}");
        return TS_EINVAL;
    }
    json_t *root = s_load (body, size, err);
    if (!root)
        return TS_EINVAL;
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
    if (rc == 0 && root_p)
        *root_p = root;
    else
        json_decref (root);
    return rc;
}

int
ts_params_source (const json_t *root, char *source, char *err)
{
    source [0] = '\0';
    json_t *value = json_object_get (root, "source");
    int rc = 0;
    if (value && !json_is_null (value)) {
        const char *text = json_string_value (value);
        if (!text || !ts_name_valid_n (text, json_string_length (value))) {
            char detail [TS_ERRLEN];
            if (text)
                ts_name_errf (detail, "source", text,
                              json_string_length (value));
            ts_errf (err, "source: %s", text? detail: "expected a string");
            rc = TS_EINVAL;
        }
        else
            ts_strlcpy (source, text, TS_NAME_MAX + 1);
    }
    return rc;
}

int
ts_params_object (const char *body, size_t size, json_t **root, char *err)
{
    if (s_body_empty (body, size)) {
        *root = json_object ();
        return *root? 0: TS_ENOMEM;
    }
    if (!(*root = s_load (body, size, err)))
        return TS_EINVAL;
    if (!json_is_object (*root)) {
        json_decref (*root);
        *root = NULL;
        ts_errf (err, "body must be a JSON object");
        return TS_EINVAL;
    }
    return 0;
}

int
ts_params_flag (const json_t *root, const char *key, bool *value, char *err)
{
    *value = false;
    json_t *flag = json_object_get (root, key);
    int rc = 0;
    if (flag && json_is_boolean (flag))
        *value = json_is_true (flag);
    else
    if (flag && !json_is_null (flag)) {
        ts_errf (err, "%s: expected true or false", key);
        rc = TS_EINVAL;
    }
    return rc;
}

int
ts_params_body_time (const json_t *root, const char *key, int64_t *ms,
                     char *err)
{
    *ms = 0;
    json_t *value = json_object_get (root, key);
    int rc = 0;
    if (json_is_integer (value))
        *ms = json_integer_value (value);
    else
    if (json_is_string (value))
        rc = ts_time_parse (json_string_value (value), ms)? TS_EINVAL: 0;
    else
    if (value && !json_is_null (value))
        rc = TS_EINVAL;
    if (rc || *ms < 0) {
        ts_errf (err, "%s: expected epoch milliseconds (not negative) or "
                 "an RFC 3339 time", key);
        *ms = 0;
        rc = TS_EINVAL;
    }
    return rc;
}

int
ts_params_jobs (const json_t *root, ts_msg_t *msg, char *err)
{
    json_t *jobs = json_object_get (root, "jobs");
    int rc = 0;
    if (jobs && !json_is_null (jobs)
    &&  (!json_is_array (jobs) || json_array_size (jobs) == 0
         || json_array_size (jobs) > TS_PROTO_MAX_JOBS)) {
        ts_errf (err, "jobs: expected a list of 1 to %d job numbers",
                 TS_PROTO_MAX_JOBS);
        rc = TS_EINVAL;
    }
    for (size_t i = 0; rc == 0 && json_is_array (jobs)
                       && i < json_array_size (jobs); i++) {
        json_t *item = json_array_get (jobs, i);
        if (!json_is_integer (item) || json_integer_value (item) < 1) {
            ts_errf (err, "jobs[%zu]: expected a job number", i);
            rc = TS_EINVAL;
        }
        else
        if (ts_msg_add_job (msg, (uint64_t) json_integer_value (item))) {
            ts_errf (err, "out of memory");
            rc = TS_ENOMEM;
        }
    }
    return rc;
}

int
ts_params_job_list (const ts_target_t *url, ts_msg_t *msg, char *err)
{
    const char *list = ts_target_param (url, "jobs");
    if (!list || !*list) {
        ts_errf (err, "jobs: give job numbers, e.g. jobs=12,13");
        return TS_EINVAL;
    }
    for (const char *p = list; ; p++) {
        size_t len = strcspn (p, ",");
        char number [24];
        uint64_t job = 0;
        bool ok = len > 0 && len < sizeof number
               && strspn (p, "0123456789") == len;
        if (ok) {
            memcpy (number, p, len);
            number [len] = 0;
            errno = 0;
            job = strtoull (number, NULL, 10);
            ok = errno != ERANGE && job >= 1;
        }
        if (!ok) {
            ts_errf (err, "jobs: '%.*s' is not a job number",
                     (int) (len > 40? 40: len), p);
            return TS_EINVAL;
        }
        if (msg->jobs_n >= TS_PROTO_MAX_JOBS) {
            ts_errf (err, "jobs: at most %d job numbers", TS_PROTO_MAX_JOBS);
            return TS_EINVAL;
        }
        if (ts_msg_add_job (msg, job)) {
            ts_errf (err, "out of memory");
            return TS_ENOMEM;
        }
        p += len;
        if (!*p)
            break;
    }
    return 0;
}
