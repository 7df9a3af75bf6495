/*  tscache-demo-upstream - a demo and test upstream HTTP API.

    Serves deterministic five-minute series for any valid id, in the two
    document layouts tscache maps (upstream.format.layout):

      GET  /rows/{id}?from=&to=     [{"time": ms, "value": v, "humidity": h}, ...]
      GET  /columns/{id}?from=&to=  open-meteo style: {"hourly": {"time":
                                    ["2024-11-24T00:05:00Z", ...], "value":
                                    [...], "humidity": [...]}, ...}
      GET  /local/{id}?from=&to=    /columns with local times without a
                                    zone and "utc_offset_seconds" (Open-
                                    Meteo with &timezone=), see
                                    tools/ts_demo_shapes.h
      GET  /positional/{id}?from=&to=  [[ms, value, humidity], ...]
      GET  /healthz                 200 "ok"
      GET  /control                 current behaviour and request counter
      POST /control                 {"latency_ms": N, "fail_rate": P,
                                     "mode": "ok|500|429|404|401|timeout|
                                     malformed|truncated|oversized",
                                     "now_ms": N|null, "history_days": D,
                                     "local_offset_s": N (/local's offset,
                                     default 3600), "local_offset_field":
                                     B (false: /local leaves it out),
                                     "null_markers": B
                                     (/local and /positional values as
                                     strings, every 5th humidity "n/a",
                                     every 7th value ""), "pages": {...},
                                     "rate_limit": N, "retry_after_s": S,
                                     "reset_log": true}

    A server-side rate limit (ts_demo_rate.h): with "rate_limit" N > 0,
    at most N data requests are served in any sliding 1000 ms window, the
    next ones are answered 429 with "Retry-After: S" ("retry_after_s",
    default 1; 0 sends a bare 429, also in mode 429). Every data request
    is logged from the last "reset_log": GET /control reports under
    "rate" the counts per second, the peak in any 1000 ms window
    ("peak_1s"), and the arrival and 429 times, so tests measure how fast
    tscache fetched.

    Every answer for the same (id, now) is byte-identical, so tests compare
    the gateway's answers with a direct fetch from here; /control lets them
    make the upstream slow, failing or broken while the pipeline runs.

    The series: base = floor(now / 300000) * 300000; times are base -
    k * 300000 for k = 288..1 (the past day) and base + k * 300000 for k =
    1..288 (the next day); base itself is not served. With history_days
    D (POST /control or --history-days, 1 to 3660, default 1) the past
    reaches back D days (k = 288 * D..1), for tests of backfill windows. from/to (epoch ms or
    RFC 3339) keep only times in [from, to]. The value of (id, measure,
    time) is

        slot   = floor(time / 300000) mod 288
        phase  = 2 pi * (fnv1a(id "/" measure) mod 1000) / 1000
        offset = (fnv1a(id) mod 100) / 10
        v      = round4(20 + 10 * sin(2 pi * slot / 288 + phase) + offset)

    with fnv1a the 64-bit FNV-1a hash of the bytes and round4 rounding to 4
    decimals; values are written with "%.4f" in both layouts.

    Failures are deterministic: data request k, counted from start or from
    the last fail_rate change, is answered 500 when floor(k * P) > floor((k
    - 1) * P), so P = 0.5 fails every second request. The key check
    (--require-key-env: header x-api-key, and with --key-param a query
    parameter too) covers the data routes only; /healthz and /control
    stay open. A wrong key in the query parameter is quoted back in the
    401 answer, as some real APIs do, and mode 401 answers every data
    request that way: tests use it to check that tscache never passes an
    upstream's echo of its key on to logs or the DLQ. GET /control
    reports "requests", the number of data requests seen, so tests can
    tell whether a cache went upstream.

    "pages" serves the series in pages, in the style of a real API:
    {"style": "off|page|offset|cursor|next|link", "size": N, "fail_page":
    N, "host": "http://HOST:PORT"|null} - ?page=&per_page=, ?offset=&
    limit=, a "next_cursor" sent back as ?cursor=, a relative next URL in
    "links.next", or an absolute one in a Link header; page fail_page
    answered 500; host the origin next links name (a client must refuse
    it). The styles, bodies and rules are in tscache-demo-pages.h.

    OAuth2 (a token endpoint, bearer tokens required on the data routes,
    tokens revoked) is switched on by --oauth2-* options and /control
    keys described in ts_demo_auth.h; POST /rows/{id} and POST
    /columns/{id} take from and to in a JSON or form body
    (ts_demo_post.h).

    It logs no requests: it writes nothing to stderr but libmicrohttpd's
    own errors, so the keys it is sent appear in no log of its own.

    One process, libmicrohttpd with a thread per connection (keep-alive
    friendly); behaviour lives in one mutex-guarded struct. This file
    routes the requests and keeps that behaviour; the series and its
    documents are made in ts_demo_series.c, the command line and --help
    text read in ts_demo_args.c. This is a tool, not part of the
    pipeline: it is never linked into the other binaries. */

#include "ts_common.h"
#include "ts_demo_shapes.h"
#include "ts_demo_rate.h"
#include "ts_demo_args.h"
#include "ts_demo_auth.h"
#include "ts_demo_post.h"
#include "ts_demo_series.h"
#include "tscache-demo-pages.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#define S_CONTROL_MAX   65536       //  largest /control body we read
#define S_TIMEOUT_MS    60000       //  how long "timeout" mode stalls

typedef enum {
    S_MODE_OK, S_MODE_500, S_MODE_429, S_MODE_TIMEOUT, S_MODE_MALFORMED,
    S_MODE_TRUNCATED, S_MODE_OVERSIZED, S_MODE_404, S_MODE_401
} s_mode_t;

static const char *s_mode_names [] = {
    "ok", "500", "429", "timeout", "malformed", "truncated", "oversized",
    "404", "401"
};
#define S_MODES (sizeof (s_mode_names) / sizeof (s_mode_names [0]))

//  Behaviour, changed by options at start and by POST /control.
typedef struct {
    int64_t  now_ms;            //  pinned clock, or -1 for real time
    int64_t  latency_ms;        //  sleep before each data answer
    double   fail_rate;         //  fraction of data requests answered 500
    s_mode_t mode;              //  how data requests are answered
    uint64_t counter;           //  data requests since fail_rate was set
    uint64_t requests;          //  data requests since start
    int64_t  history_days;      //  days of past served
    ts_demo_shapes_t shapes;    //  /local and /positional
    demo_pages_t pages;         //  how answers are paged
    uint64_t posts;             //  of them POSTs (ts_demo_post.h)
} s_behaviour_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_behaviour_t s_state = { -1, 0, 0, S_MODE_OK, 0, 0, 1,
                                  TS_DEMO_SHAPES_DEFAULT,
                                  { DEMO_PAGES_OFF, 100, 0, "" }, 0 };
static char *s_api_key = NULL;             //  required x-api-key, or NULL
static const char *s_key_param = NULL;     //  query parameter that must
                                           //  hold it too, or NULL
static atomic_bool s_stopping = false;     //  set on shutdown; ends sleeps
static volatile sig_atomic_t s_signalled = 0;

//  Per-request context: the /control body as it arrives.
typedef struct {
    char  *body;                //  bytes received so far
    size_t len;                 //  number of bytes
    bool   too_big;             //  body went over S_CONTROL_MAX
} s_request_t;

//  Marks a GET whose headers have been seen (see s_handle).
static s_request_t s_get_seen;

//  ---------------------------------------------------------------------
//  HTTP

//  Sleeps ms milliseconds, or less if the server is stopping.
static void
s_sleep_ms (int64_t ms)
{
    int64_t until = ts_mono_ms () + ms;
    while (!atomic_load (&s_stopping)) {
        int64_t left = until - ts_mono_ms ();
        if (left <= 0)
            break;
        if (left > 50)
            left = 50;
        struct timespec ts = { 0, (long) left * 1000000L };
        nanosleep (&ts, NULL);
    }
}

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned int status, const char *type,
         char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, body, mode);
    if (!response) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const char *retry_after = ts_demo_rate_retry_after ();
    if (status == MHD_HTTP_TOO_MANY_REQUESTS && retry_after)
        MHD_add_response_header (response, "Retry-After", retry_after);
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  Answers {"error": text} with status.
static enum MHD_Result
s_reply_error (struct MHD_Connection *conn, unsigned int status,
               const char *text)
{
    json_t *json = json_pack ("{s:s}", "error", text);
    char *body = json? json_dumps (json, JSON_COMPACT): NULL;
    json_decref (json);
    if (!body)
        return MHD_NO;
    return s_reply (conn, status, "application/json", body, strlen (body),
                    MHD_RESPMEM_MUST_FREE);
}

//  Reads the from/to query parameter; absent keeps *ms. Returns 0 or -1.
static int
s_time_arg (struct MHD_Connection *conn, const char *name, int64_t *ms)
{
    const char *text = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, name);
    if (!text || !*text)
        return 0;
    if (ts_time_parse (text, ms) == 0
    ||  ts_time_parse_iso (text, strlen (text), ms) == 0)
        return 0;
    return -1;
}

//  Answers 401 for a wrong key in the query parameter, quoting it back.
static enum MHD_Result
s_reply_wrong_param (struct MHD_Connection *conn, const char *given)
{
    char text [512];
    snprintf (text, sizeof text, "wrong key '%.400s' in query parameter %s",
              given? given: "", s_key_param);
    return s_reply_error (conn, MHD_HTTP_UNAUTHORIZED, text);
}

//  A query argument, NULL if absent.
static const char *
s_query (struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, name);
}

//  Answers one page of the series (times, n) as now.pages says
//  (tscache-demo-pages.h): the rows wrapped in {"data": ...} with the
//  style's members, or the columns object with them beside "hourly";
//  the link style's bare document with a Link header.
static enum MHD_Result
s_serve_page (struct MHD_Connection *conn, const s_behaviour_t *now,
              bool columns, const char *id, const int64_t *times, size_t n)
{
    char path [300];
    snprintf (path, sizeof path, "/%s/%s", columns? "columns": "rows", id);
    demo_pages_args_t args = {
        .page = s_query (conn, "page"), .per_page = s_query (conn, "per_page"),
        .offset = s_query (conn, "offset"), .limit = s_query (conn, "limit"),
        .cursor = s_query (conn, "cursor"), .after = s_query (conn, "after"),
        .path = path, .from = s_query (conn, "from"),
        .to = s_query (conn, "to"),
        .host = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Host") };
    demo_page_t page;
    const char *error = NULL;
    int rc = demo_pages_cut (&now->pages, n, &args, &page, &error);
    if (rc == 0 && page.fail)
        rc = -3;
    char *doc = NULL, *body = NULL;
    size_t len = 0;
    if (rc == 0 && !(doc = ts_demo_series_document (columns, id,
                                                   times + page.start,
                                                   page.count, &len)))
        rc = -2;
    if (rc == 0 && !(body = demo_pages_wrap (&page, columns, doc, &len)))
        rc = -2;
    free (doc);
    free (page.members);
    enum MHD_Result result;
    if (rc == -1)
        result = s_reply_error (conn, MHD_HTTP_BAD_REQUEST, error);
    else
    if (rc == -3)
        result = s_reply_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                "demo failure of this page (fail_page)");
    else
    if (rc != 0)
        result = s_reply_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                "out of memory");
    else {
        struct MHD_Response *response = MHD_create_response_from_buffer (
            len, body, MHD_RESPMEM_MUST_FREE);
        if (!response) {
            free (body);
            free (page.link);
            return MHD_NO;
        }
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 "application/json");
        if (page.link)
            MHD_add_response_header (response, "Link", page.link);
        result = MHD_queue_response (conn, MHD_HTTP_OK, response);
        MHD_destroy_response (response);
        body = NULL;
    }
    free (body);
    free (page.link);
    return result;
}

//  Answers a data request; shape: 0 rows, 1 columns, or a
//  ts_demo_shape_t; body (len bytes) is a POST's, NULL for a GET.
static enum MHD_Result
s_serve_series (struct MHD_Connection *conn, int shape, const char *id,
                const char *body, size_t len)
{
    if (!ts_demo_auth_check (conn))
        return s_reply (conn, MHD_HTTP_UNAUTHORIZED, "application/json",
                        "{\"error\": \"invalid_token\"}", 26,
                        MHD_RESPMEM_PERSISTENT);
    const char *given = s_key_param? MHD_lookup_connection_value (conn,
        MHD_GET_ARGUMENT_KIND, s_key_param): NULL;
    if (s_api_key) {
        const char *key = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "x-api-key");
        if (!key || !ts_secure_equal (key, strlen (key), s_api_key, strlen (s_api_key)))
            return s_reply_error (conn, MHD_HTTP_UNAUTHORIZED, "missing or wrong x-api-key");
        if (s_key_param && (!given || !ts_secure_equal (given, strlen (given),
                                                        s_api_key, strlen (s_api_key))))
            return s_reply_wrong_param (conn, given);
    }
    if (!ts_name_existing (id))
        return s_reply_error (conn, MHD_HTTP_BAD_REQUEST, "invalid id");
    int64_t from_ms = INT64_MIN;
    int64_t to_ms = INT64_MAX;
    if (s_time_arg (conn, "from", &from_ms) || s_time_arg (conn, "to", &to_ms)
    ||  (body && ts_demo_post_times (body, len, &from_ms, &to_ms)))
        return s_reply_error (conn, MHD_HTTP_BAD_REQUEST,
                              "from/to must be epoch ms or RFC 3339");

    pthread_mutex_lock (&s_lock);
    s_behaviour_t now = s_state;
    s_state.counter++;
    s_state.requests++;
    s_state.posts += body? 1: 0;
    pthread_mutex_unlock (&s_lock);
    if (!ts_demo_rate_admit (ts_now_ms ()))
        return s_reply_error (conn, MHD_HTTP_TOO_MANY_REQUESTS,
                              "rate limit exceeded");
    //  Request k of a run fails when floor(k * P) steps up: exactly a
    //  fraction P of requests, evenly spread, the same on every run.
    uint64_t k = now.counter + 1;
    bool fail = floor ((double) k * now.fail_rate)
              > floor ((double) (k - 1) * now.fail_rate);

    if (now.latency_ms > 0)
        s_sleep_ms (now.latency_ms);
    if (now.mode == S_MODE_TIMEOUT)
        s_sleep_ms (S_TIMEOUT_MS);
    if (fail || now.mode == S_MODE_500)
        return s_reply_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "demo failure");
    if (now.mode == S_MODE_429)
        return s_reply_error (conn, MHD_HTTP_TOO_MANY_REQUESTS, "slow down");
    if (now.mode == S_MODE_404)
        return s_reply_error (conn, MHD_HTTP_NOT_FOUND, "unknown id");
    if (now.mode == S_MODE_401)
        return s_key_param? s_reply_wrong_param (conn, given)
             : s_reply_error (conn, MHD_HTTP_UNAUTHORIZED, "missing or wrong x-api-key");
    if (now.mode == S_MODE_MALFORMED) {
        static char malformed [] = "<html>this is not JSON {\"time\": [1,,";
        return s_reply (conn, MHD_HTTP_OK, "application/json", malformed,
                        strlen (malformed), MHD_RESPMEM_PERSISTENT);
    }
    if (now.mode == S_MODE_OVERSIZED) {
        size_t oversized_len = 0;
        const char *oversized = ts_demo_series_oversized (&oversized_len);
        if (!oversized)
            return s_reply_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return s_reply (conn, MHD_HTTP_OK, "application/json",
                        (char *) oversized, oversized_len,
                        MHD_RESPMEM_PERSISTENT);
    }
    int64_t *times = malloc ((size_t) (now.history_days + 1) * TS_DEMO_SLOTS
                             * sizeof *times);
    int64_t clock_ms = now.now_ms >= 0? now.now_ms: ts_now_ms ();
    size_t n = times? ts_demo_series_times (clock_ms, now.history_days, from_ms,
                                             to_ms, times): 0;
    if (times && now.pages.style != DEMO_PAGES_OFF && shape <= 1) {
        enum MHD_Result result = s_serve_page (conn, &now, shape == 1, id,
                                               times, n);
        free (times);
        return result;
    }
    len = 0;
    char *doc = !times? NULL
               : shape > 1
               ? ts_demo_shapes_document (shape, &now.shapes,
                                          ts_demo_series_value, id,
                                          times, n, &len)
               : ts_demo_series_document (shape == 1, id, times, n, &len);
    free (times);
    if (!doc)
        return s_reply_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (now.mode == S_MODE_TRUNCATED)
        len /= 2;
    return s_reply (conn, MHD_HTTP_OK, "application/json", doc, len,
                    MHD_RESPMEM_MUST_FREE);
}

//  Answers the current behaviour as JSON.
static enum MHD_Result
s_reply_state (struct MHD_Connection *conn)
{
    pthread_mutex_lock (&s_lock);
    s_behaviour_t now = s_state;
    pthread_mutex_unlock (&s_lock);
    json_t *json = json_pack ("{s:I, s:f, s:s, s:I, s:I}",
                              "latency_ms", (json_int_t) now.latency_ms,
                              "fail_rate", now.fail_rate,
                              "mode", s_mode_names [now.mode],
                              "requests", (json_int_t) now.requests,
                              "history_days", (json_int_t) now.history_days);
    if (json) {
        json_object_set_new (json, "now_ms", now.now_ms >= 0
                             ? json_integer (now.now_ms): json_null ());
        ts_demo_shapes_state (json, &now.shapes);
        json_object_set_new (json, "pages", json_pack ("{s:s, s:I, s:I, s:s?}",
            "style", demo_pages_styles [now.pages.style],
            "size", (json_int_t) now.pages.size,
            "fail_page", (json_int_t) now.pages.fail_page,
            "host", *now.pages.host? now.pages.host: NULL));
        if (ts_demo_rate_report (json) != 0) {
            json_decref (json);
            json = NULL;
        }
        json_object_set_new (json, "posts", json_integer ((json_int_t)
                                                          now.posts));
        ts_demo_auth_state (json);
    }
    char *body = json? json_dumps (json, JSON_COMPACT): NULL;
    json_decref (json);
    if (!body)
        return MHD_NO;
    return s_reply (conn, MHD_HTTP_OK, "application/json", body, strlen (body),
                    MHD_RESPMEM_MUST_FREE);
}

//  Applies a /control body. Returns NULL, or the reason it was refused.
static const char *
s_control (const char *body, size_t len)
{
    json_error_t jerr;
    json_t *json = json_loadb (body? body: "", len, 0, &jerr);
    if (!json_is_object (json)) {
        json_decref (json);
        return "body must be a JSON object";
    }
    s_behaviour_t next;
    bool reset_counter = false;
    pthread_mutex_lock (&s_lock);
    next = s_state;
    pthread_mutex_unlock (&s_lock);
    const char *reason = NULL;
    json_t *item;
    if ((item = json_object_get (json, "latency_ms"))) {
        if (!json_is_integer (item) || json_integer_value (item) < 0
        ||  json_integer_value (item) > 600000)
            reason = "latency_ms must be an integer from 0 to 600000";
        else
            next.latency_ms = json_integer_value (item);
    }
    if ((item = json_object_get (json, "fail_rate"))) {
        double p = json_number_value (item);
        if (!json_is_number (item) || !(p >= 0 && p <= 1))
            reason = "fail_rate must be a number from 0 to 1";
        else {
            next.fail_rate = p;
            reset_counter = true;
        }
    }
    if ((item = json_object_get (json, "mode"))) {
        size_t m = 0;
        while (json_is_string (item) && m < S_MODES
           &&  strcmp (json_string_value (item), s_mode_names [m]) != 0)
            m++;
        if (!json_is_string (item) || m == S_MODES)
            reason = "mode must be ok, 500, 429, 404, 401, timeout, "
                     "malformed, truncated or oversized";
        else
            next.mode = (s_mode_t) m;
    }
    if ((item = json_object_get (json, "history_days"))) {
        if (!json_is_integer (item) || json_integer_value (item) < 1
        ||  json_integer_value (item) > TS_DEMO_HISTORY_DAYS_MAX)
            reason = "history_days must be an integer from 1 to 3660";
        else
            next.history_days = json_integer_value (item);
    }
    if ((item = json_object_get (json, "pages"))) {
        const char *why = demo_pages_control (item, &next.pages);
        if (why)
            reason = why;
    }
    if ((item = json_object_get (json, "now_ms"))) {
        if (json_is_null (item))
            next.now_ms = -1;
        else
        if (json_is_integer (item) && json_integer_value (item) >= 0)
            next.now_ms = json_integer_value (item);
        else
            reason = "now_ms must be epoch ms or null";
    }
    const char *shapes_reason = ts_demo_shapes_control (json, &next.shapes);
    if (!reason)
        reason = ts_demo_rate_control (json);
    if (!reason)
        reason = ts_demo_auth_control (json);
    json_decref (json);
    if (shapes_reason)
        return shapes_reason;
    if (reason)
        return reason;
    //  The oversized answer is built now, not on the first fetch, so
    //  that building it (slow in a sanitizer build) cannot run into the
    //  fetcher's timeout and turn "too big" into "too slow".
    if (next.mode == S_MODE_OVERSIZED) {
        size_t oversized_len;
        ts_demo_series_oversized (&oversized_len);
    }
    pthread_mutex_lock (&s_lock);
    next.requests = s_state.requests;
    next.posts = s_state.posts;
    next.counter = reset_counter? 0: s_state.counter;
    s_state = next;
    pthread_mutex_unlock (&s_lock);
    return NULL;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    bool post = strcmp (method, "POST") == 0;
    bool control = strcmp (url, "/control") == 0;
    bool token = strcmp (url, "/oauth/token") == 0;
    bool rows = strncmp (url, "/rows/", 6) == 0;
    bool columns = strncmp (url, "/columns/", 9) == 0;
    if (post && (control || token || rows || columns)) {
        s_request_t *request = *con_cls;
        if (!request) {
            request = calloc (1, sizeof (s_request_t));
            if (!request)
                return MHD_NO;
            *con_cls = request;
            return MHD_YES;
        }
        if (*upload_data_size > 0) {
            if (request->len + *upload_data_size > S_CONTROL_MAX)
                request->too_big = true;
            else {
                char *grown = realloc (request->body, request->len + *upload_data_size);
                if (!grown)
                    return MHD_NO;
                memcpy (grown + request->len, upload_data, *upload_data_size);
                request->body = grown;
                request->len += *upload_data_size;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (request->too_big)
            return s_reply_error (conn, 413, "body too large");
        if (token)
            return ts_demo_auth_token (conn, request->body? request->body: "",
                                       request->len);
        if (rows || columns)
            return s_serve_series (conn, columns, url + (rows? 6: 9),
                                   request->body? request->body: "",
                                   request->len);
        const char *reason = s_control (request->body, request->len);
        if (reason)
            return s_reply_error (conn, MHD_HTTP_BAD_REQUEST, reason);
        return s_reply_state (conn);
    }
    if (!get)
        return s_reply_error (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    //  Answer on the second call: libmicrohttpd closes the connection
    //  after a response queued on the first call (before it has the whole
    //  request), which would cost every fetch a new TCP connection.
    if (!*con_cls) {
        *con_cls = &s_get_seen;
        return MHD_YES;
    }
    if (strcmp (url, "/healthz") == 0) {
        static char ok [] = "ok\n";
        return s_reply (conn, MHD_HTTP_OK, "text/plain", ok, strlen (ok),
                        MHD_RESPMEM_PERSISTENT);
    }
    if (strcmp (url, "/control") == 0)
        return s_reply_state (conn);
    if (strncmp (url, "/rows/", 6) == 0)
        return s_serve_series (conn, 0, url + 6, NULL, 0);
    if (strncmp (url, "/columns/", 9) == 0)
        return s_serve_series (conn, 1, url + 9, NULL, 0);
    const char *id;
    int shape = ts_demo_shapes_route (url, &id);
    if (shape)
        return s_serve_series (conn, shape, id, NULL, 0);
    return s_reply_error (conn, MHD_HTTP_NOT_FOUND, "not found");
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    s_request_t *request = *con_cls;
    if (request == &s_get_seen)
        *con_cls = NULL;
    else
    if (request) {
        free (request->body);
        free (request);
        *con_cls = NULL;
    }
}

//  ---------------------------------------------------------------------
//  main

static void
s_on_signal (int sig)
{
    s_signalled = 1;
}

//  Fills addr from a numeric address and port; adds MHD_USE_IPv6 to
//  flags for IPv6. Returns 0 or -1.
static int
s_sockaddr (const char *text, uint16_t port, struct sockaddr_storage *addr,
            unsigned int *flags)
{
    memset (addr, 0, sizeof (*addr));
    struct sockaddr_in *in4 = (struct sockaddr_in *) addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) addr;
    if (inet_pton (AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons (port);
        return 0;
    }
    if (inet_pton (AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons (port);
        *flags |= MHD_USE_IPv6;
        return 0;
    }
    return -1;
}

int
main (int argc, char *argv [])
{
    ts_demo_args_t args = { 8090, "127.0.0.1", s_state.now_ms,
                            s_state.latency_ms, s_state.history_days,
                            s_state.fail_rate, NULL, NULL };
    int exit_code = ts_demo_args_parse (argc, argv, &args);
    if (exit_code >= 0)
        return exit_code;
    int64_t port = args.port;
    const char *bind_addr = args.bind_addr;
    s_state.now_ms = args.now_ms;
    s_state.latency_ms = args.latency_ms;
    s_state.history_days = args.history_days;
    s_state.fail_rate = args.fail_rate;
    s_api_key = args.api_key;
    s_key_param = args.key_param;
    if (s_key_param && !s_api_key)
        return ts_demo_args_die ("--key-param needs --require-key-env", NULL);
    const char *auth_error = ts_demo_auth_ready ();
    if (auth_error)
        return ts_demo_args_die (auth_error, NULL);

    struct sockaddr_storage addr;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION
                       | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                       | MHD_USE_ERROR_LOG;
    if (s_sockaddr (bind_addr, (uint16_t) port, &addr, &flags) != 0)
        return ts_demo_args_die ("--bind needs a numeric IPv4 or IPv6 address", bind_addr);

    struct sigaction sa;
    memset (&sa, 0, sizeof (sa));
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);

    struct MHD_Daemon *daemon = MHD_start_daemon (flags, (uint16_t) port,
        NULL, NULL, s_handle, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 4096,
        MHD_OPTION_END);
    if (!daemon)
        return ts_demo_args_die ("cannot listen on", bind_addr);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        port = info->port;
    bool v6 = strchr (bind_addr, ':') != NULL;
    printf ("listening on http://%s%s%s:%d\n",
            v6? "[": "", bind_addr, v6? "]": "", (int) port);
    fflush (stdout);

    while (!s_signalled) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep (&ts, NULL);
    }
    atomic_store (&s_stopping, true);
    MHD_stop_daemon (daemon);
    ts_demo_series_free ();
    free (s_api_key);
    ts_demo_auth_destroy ();
    return 0;
}
