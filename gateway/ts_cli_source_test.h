/*  ts_cli_source_test - `tscache source test NAME ID`: fetches one id from
    one source of the config now, as a worker would, without storing
    anything, and prints what happened: what Telegraf's --test is to its
    users.

    The request is the worker's, built by the worker's own modules
    (workers/ts_url, ts_fetch, ts_pages, ts_oauth2; common/ingest/ts_map):
    the URL (and a POST's body) from the source's templates with the
    window now - upstream.past_s .. now + upstream.future_s (or the one
    given), the headers of upstream.headers with the API key of
    upstream.api_key_env/_file, an OAuth2 bearer token asked of
    upstream.oauth2.token_url first if the source has one, and every page
    when upstream.pagination.mode is set. Each page is mapped by the
    source's upstream.format.* (ts_map_parse_report), and the points are
    cut at now into history and forecast (ts_points_split).

    Printed (ts_cli_source_print.c): the request (method, URL, headers,
    body) with every secret shown as *** (ts_redact_url,
    ts_redact_header; the API key, the client secret and the token
    scrubbed from any text), the token request if any, HTTP status,
    bytes and time of each page; then a table - TIME (RFC 3339 UTC), ROLE
    (history or forecast), a column per measure - and the mapping report
    (points, nulls, null markers, dropped, each warning's text). With
    json, one JSON object holding the same. A failure - a transfer or an
    HTTP status the worker would fail, a document that does not map,
    pagination, the token endpoint - prints the detail a worker puts in
    the DLQ ("id=x: upstream HTTP 500 (retried): ...") with what came
    before it.

    Exit codes (the CLI's): 0 fetched and mapped; 1 the fetch, token or
    mapping failed; 2 the source is not in the config (the error lists
    the sources), or its settings cannot be used (API key missing, a
    template that does not build). The one-shot fetch loop is bounded by
    upstream.connect_timeout_ms + upstream.timeout_ms per request. */

#ifndef TS_CLI_SOURCE_TEST_H_INCLUDED
#define TS_CLI_SOURCE_TEST_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"

#include <stdio.h>

#define TS_CLI_TEST_SHOWN_MAX   4096    //  longest URL or body shown

//  What to test.
typedef struct {
    const char *source;         //  the source's name
    const char *id;             //  the id (ts_name_valid)
    bool        has_from;       //  window start given (else now - past_s)
    int64_t     from_ms;
    bool        has_to;         //  window end given (else now + future_s)
    int64_t     to_ms;
    bool        json;           //  print one JSON object
} ts_cli_test_args_t;

//  One request made (the token's, or a page), as shown.
typedef struct {
    char    method [8];         //  GET or POST
    char    url [TS_CLI_TEST_SHOWN_MAX];    //  redacted
    bool    answered;           //  an HTTP answer came (status is set)
    long    status;
    size_t  bytes;              //  body bytes
    int64_t ms;                 //  from sent to complete
} ts_cli_test_call_t;

//  What a test did, for the printer. Every text is already redacted.
typedef struct {
    const char         *source;
    const char         *id;
    int64_t             now_ms;         //  where history ends
    int64_t             from_ms;        //  the window asked for
    int64_t             to_ms;
    bool                has_token;      //  an OAuth2 token was asked for
    ts_cli_test_call_t  token;          //  that request
    ts_strlist_t       *headers;        //  the first page's headers, shown
    char               *body;           //  the POST body shown, or NULL
    ts_cli_test_call_t *pages;          //  the pages requested, in order
    size_t              npages;
    ts_points_t        *history;        //  points before now
    ts_points_t        *forecast;       //  points at or after now
    ts_points_t        *all;            //  every point, document order
    size_t              nulls;          //  the mapping report, summed
    size_t              null_markers;   //  over the pages
    size_t              dropped;
    size_t              dropped_times;
    size_t              warnings_n;     //  warnings (texts kept or not)
    ts_strlist_t       *warnings;       //  the texts kept ("page 2: ...")
    bool                truncated;      //  max_pages reached, kept
    char                error [TS_ERRLEN * 2];  //  the failure, "" none
} ts_cli_test_t;

//  Runs the test of args on cfg (the whole config, as loaded) and
//  prints it to out (errors that stop it before any request to err).
//  Returns the exit code: 0, 1 or 2 as above.
int ts_cli_source_test (const ts_config_t *cfg,
                        const ts_cli_test_args_t *args, FILE *out,
                        FILE *err);

//  "libcurl VERSION, yajl VERSION, jansson VERSION": the libraries this
//  command brings to the CLI (static text), for ts_version_use.
const char *ts_cli_source_test_libraries (void);

//  Prints test as a text report (ts_cli_source_print.c). Returns 0, or
//  -1 (a write error).
int ts_cli_source_test_print (const ts_cli_test_t *test, FILE *out);

//  Prints test as one JSON object, {"source", "id", "window", "token",
//  "request", "pages", "points", "report", "warnings", "error"}
//  (ts_cli_source_print.c). Returns 0, or -1 (out of memory or a write
//  error).
int ts_cli_source_test_json (const ts_cli_test_t *test, FILE *out);

#endif
