/*  ts_fetch - concurrent HTTP requests (GET, POST) for a worker, over
    libcurl's multi interface.

    The caller adds requests (a URL, or a method, URL, body and headers
    of its own: ts_fetch_request_t; + a tag of its own), waits on
    ts_fetch_wait
    - which also watches one extra file descriptor, the worker's ZeroMQ
    socket - and collects completed requests with ts_fetch_next;
    ts_fetch_start sends newly added requests without waiting. At most
    max_active transfers run at once; more are queued in order. Easy
    handles are kept and reused, and the multi handle keeps connections
    alive between requests to the same host.

    Every transfer: GET or POST (the body as given, no "Expect:
    100-continue"), no redirects followed, http and https only, any
    Accept-Encoding curl supports, connect and total timeouts, the
    configured headers, and a cap on the (decoded) body size: a response
    whose Content-Length is over the cap is refused before its body, and
    a body that grows past the cap while streaming aborts the transfer;
    nothing past the cap is buffered. A response's Retry-After and Link
    headers are kept in its result (for the retry policy and for
    pagination, ts_pages). Headers, URLs and bodies may hold a secret
    (the upstream API key, opts.secret; an OAuth2 token or client
    secret): they are never logged, libcurl's verbose mode stays off, and
    they are wiped when freed. Error texts
    (libcurl's, which can quote the URL) and the upstream body quoted in
    a failure detail have the secret scrubbed (ts_redact_text) before
    anyone sees them.

    ts_fetch_classify (in ts_fetch_classify.c) turns a completed request
    into a verdict for the broker (failed or not, worth retrying, how
    long the upstream asked us to wait, a one-line detail); ts_fetch_verdict_merge folds the verdicts
    of a job's ids into the job's. Both are pure, so the retry policy is
    tested without a network:

      retried                          not retried
      -------------------------------  -------------------------------
      timeouts (connect or total)      HTTP 4xx other than 408 and 429
      resolve/connect/send/recv        HTTP 3xx (redirects are not
      errors, partial transfers,       followed: fix upstream.url)
      empty replies, TLS handshake     body over upstream.max_body_bytes
      HTTP 5xx, 408, 429 (Retry-After  bad URL, unsupported protocol,
      honoured, capped at 1 hour)      certificate or TLS setup errors
      bodies that are not JSON and     (the operator must act, then
      store errors (the worker's, see  redrive)
      ts_fetch_verdict_fail)           documents the mapping cannot
      anything not listed here         read: their shape (the worker's)

    Not thread-safe: one worker loop owns it. */

#ifndef TS_FETCH_H_INCLUDED
#define TS_FETCH_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_fetch_t ts_fetch_t;

typedef struct {
    size_t              max_active;         //  transfers at once, >= 1
    long                connect_timeout_ms; //  CURLOPT_CONNECTTIMEOUT_MS
    long                timeout_ms;         //  whole transfer
    size_t              max_body_bytes;     //  larger bodies fail
    const ts_strlist_t *headers;            //  "Name: value", may be NULL
    const char         *secret;             //  the API key, never shown;
                                            //  NULL if none; borrowed, must
                                            //  outlive the fetcher
} ts_fetch_opts_t;

//  The longest wait a Retry-After can ask for; longer advice is capped.
#define TS_FETCH_RETRY_AFTER_MAX_MS  (3600 * 1000)

//  One completed request. body, link and error are borrowed: valid until the
//  next ts_fetch_next or ts_fetch_destroy.
typedef struct {
    uint64_t    tag;            //  as given to ts_fetch_add
    int         rc;             //  0: a response arrived (any status);
                                //  TS_ETOOBIG: body over max_body_bytes;
                                //  TS_ENOMEM: no memory for the body;
                                //  TS_ETIMEOUT, TS_EUPSTREAM: no response
    int         curl_code;      //  libcurl's CURLcode (0: CURLE_OK)
    bool        connected;      //  a connection to the upstream was made
    long        status;         //  HTTP status if rc == 0
    int64_t     retry_after_ms; //  the response's Retry-After, relative,
                                //  0 if absent, unparsable or past
    const char *link;           //  the response's Link headers joined
                                //  by ", " (for pagination), NULL if
                                //  none
    const char *body;           //  response body (NUL-terminated)
    size_t      size;           //  body bytes
    const char *error;          //  rc != 0: what went wrong (without
                                //  opts.secret)
    int64_t     elapsed_ms;     //  from ts_fetch_add to completion
} ts_fetch_result_t;

//  What a failure means for the job that holds it.
typedef struct {
    bool     failed;            //  false: nothing went wrong
    bool     retry;             //  worth another attempt
    uint64_t retry_after_ms;    //  the upstream asked to wait this long
    size_t   failures;          //  ids that failed (after merging)
    const char *kind;           //  one of ts_fetch_kinds (static text):
                                //  a failure's kind, for the worker's
                                //  error counter; NULL if none failed
    char     detail [TS_ERRLEN];//  "id=x: upstream HTTP 404 (not retried)"
    long     http_status;       //  the upstream's HTTP status when it
                                //  answered with a failing one, else 0
                                //  (the id's fetch status: "http_404")
} ts_fetch_verdict_t;

//  The kinds of failure a verdict names, NULL-terminated:
//    timeout    no answer within upstream.timeout_ms (connected)
//    connect    no connection within upstream.connect_timeout_ms
//    transport  any other libcurl error (resolve, TLS, reset, ...)
//    too_big    body over upstream.max_body_bytes
//    memory     no memory for the body
//    http_3xx, http_4xx, http_429, http_5xx, http_other
//               the upstream answered that status
//    url, document, store, worker
//               found by the worker (ts_fetch_verdict_fail gives
//               "worker"; the caller names a closer kind)
//    auth       no OAuth2 token could be had for the request
extern const char *const ts_fetch_kinds [];

//  The index of kind in ts_fetch_kinds; that of "worker" for any other
//  text or NULL. The worker's counters by kind use it.
size_t ts_fetch_kind_index (const char *kind);

//  Returns a fetcher (headers are copied), or NULL with the reason in err.
ts_fetch_t *ts_fetch_new (const ts_fetch_opts_t *opts, char *err);

//  Aborts running transfers and frees everything; sets *self_p to NULL.
//  Safe on NULL.
void ts_fetch_destroy (ts_fetch_t **self_p);

//  Replaces the headers (copied; NULL for none) and the secret (borrowed,
//  as in opts) of the requests started from now on: a reload of the
//  upstream key or headers. Transfers running keep the headers they
//  started with (kept, then wiped and freed, until none runs). The
//  caller keeps the old secret alive until ts_fetch_pending is 0.
//  Returns 0, or TS_ENOMEM (nothing changed).
int ts_fetch_set_headers (ts_fetch_t *self, const ts_strlist_t *headers,
                          const char *secret);

//  One request for ts_fetch_add_request. Everything is copied.
typedef struct {
    const char         *method;     //  "GET" (also NULL) or "POST"
    const char         *url;        //  required
    const char         *body;       //  POST body (NUL-terminated), NULL
                                    //  or "" for an empty one; ignored
                                    //  by GET
    const ts_strlist_t *headers;    //  "Name: value" lines for this
                                    //  request only, after the fetcher's
                                    //  (an Authorization bearer token, a
                                    //  Content-Type); NULL for none
    bool                bare;       //  true: without the fetcher's
                                    //  headers (a token endpoint is sent
                                    //  none of the upstream's)
} ts_fetch_request_t;

//  Queues a GET of url (copied). Returns 0 or TS_ENOMEM.
int ts_fetch_add (ts_fetch_t *self, const char *url, uint64_t tag);

//  Queues req (copied: url, body and headers, each wiped when freed).
//  A request with headers of its own, or bare, is sent the fetcher's
//  headers as they are when it is added; any other, as they are when it
//  starts. Returns 0, TS_EINVAL for a method other than GET and POST, or
//  TS_ENOMEM.
int ts_fetch_add_request (ts_fetch_t *self, const ts_fetch_request_t *req,
                          uint64_t tag);

//  Waits up to timeout_ms for network activity or for extra_fd (if >= 0)
//  to be readable, then advances transfers. Returns early on either.
//  Returns 0, or TS_EUPSTREAM if libcurl failed (detail in err).
int ts_fetch_wait (ts_fetch_t *self, int extra_fd, int timeout_ms,
                   char *err);

//  Sends the requests added (by ts_fetch_add, or started from the queue
//  by ts_fetch_next) since libcurl last ran, without waiting: a request
//  only goes out when libcurl runs, so a caller that adds requests while
//  it still has completions to process calls this to get them going
//  meanwhile. Transfers it completes are taken with ts_fetch_next. Does
//  nothing if no request was added. Returns 0, or TS_EUPSTREAM if
//  libcurl failed (detail in err).
int ts_fetch_start (ts_fetch_t *self, char *err);

//  Takes the next completed request into *result. Returns true if there
//  was one.
bool ts_fetch_next (ts_fetch_t *self, ts_fetch_result_t *result);

//  Requests not yet completed (running + queued).
size_t ts_fetch_pending (ts_fetch_t *self);

//  ---------------------------------------------------------------------
//  Failure classification (pure: no I/O, no clock)

//  Classifies the completed request res for series id under the limits
//  of opts (named in details: upstream.timeout_ms, upstream.max_body_bytes
//  ...). A response with a 2xx status is no failure (verdict->failed
//  false); anything else fills the verdict as the table at the top says,
//  with a detail that names the id and the cause, e.g.
//  "id=x: timed out after 30000 ms (upstream.timeout_ms)", never the URL
//  and never opts->secret (scrubbed from the quoted body before it is
//  cut to length). Returns verdict->failed.
bool ts_fetch_classify (const ts_fetch_opts_t *opts,
                        const ts_fetch_result_t *res, const char *id,
                        ts_fetch_verdict_t *verdict);

//  Fills verdict with a failure of id found after the fetch (a document
//  that does not map, a store error) or before it (a URL that cannot be
//  built): retry says whether another attempt may help, what (e.g.
//  "invalid document") and why (the detail of the failing module, may
//  be NULL) make the detail "id=x: what: why".
void ts_fetch_verdict_fail (ts_fetch_verdict_t *verdict, const char *id,
                            bool retry, const char *what, const char *why);

//  Folds one id's verdict into the job's (start from a zeroed job
//  verdict). The job is retried only if every failure is retryable; its
//  retry_after_ms is the largest asked for; its detail is the first
//  failure that is not retryable, else the first failure, and its kind
//  that failure's, except that a job still retried with a 429 among its
//  failures is of kind "http_429" (the broker slows the source for it).
//  failures counts failed ids.
void ts_fetch_verdict_merge (ts_fetch_verdict_t *job,
                             const ts_fetch_verdict_t *one);

//  Parses an HTTP Retry-After value - delay-seconds ("120") or an
//  HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT") taken relative to now_ms -
//  into milliseconds, capped at TS_FETCH_RETRY_AFTER_MAX_MS. Returns 0
//  for NULL, empty, unparsable, negative or past values.
int64_t ts_fetch_retry_after_parse (const char *value, int64_t now_ms);

//  "libcurl VERSION" as loaded at run time (static text), for
//  ts_version_use.
const char *ts_fetch_libraries (void);

#endif
