/*  test_ts_fetch - the fetcher and the worker's retry policy.

    The classifier is pure, so most tests are tables: libcurl codes, HTTP
    statuses and Retry-After values in, (retry, retry_after_ms, detail)
    out. The fetcher itself is tested against a small HTTP server on
    loopback run by a thread of this test: connection reuse, the body cap
    while streaming and from Content-Length, Retry-After and the total
    timeout. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../workers/ts_fetch.h"

#define NOW_MS  1732406400000LL     //  2024-11-24T00:00:00Z
#define HOUR_MS TS_FETCH_RETRY_AFTER_MAX_MS

static const ts_fetch_opts_t s_opts = {
    .max_active = 4,
    .connect_timeout_ms = 5000,
    .timeout_ms = 30000,
    .max_body_bytes = 16777216,
    .headers = NULL
};

//  A result of a transfer that ended with code (no response).
static ts_fetch_result_t
s_curl_result (int code, bool connected, const char *error)
{
    ts_fetch_result_t res;
    memset (&res, 0, sizeof res);
    res.curl_code = code;
    res.connected = connected;
    res.rc = code == CURLE_OPERATION_TIMEDOUT? TS_ETIMEOUT
           : code == CURLE_FILESIZE_EXCEEDED? TS_ETOOBIG: TS_EUPSTREAM;
    res.error = error;
    res.body = "";
    return res;
}

//  A result of a response with status and body.
static ts_fetch_result_t
s_http_result (long status, int64_t retry_after_ms, const char *body)
{
    ts_fetch_result_t res;
    memset (&res, 0, sizeof res);
    res.status = status;
    res.connected = true;
    res.retry_after_ms = retry_after_ms;
    res.body = body;
    res.size = strlen (body);
    return res;
}

//  ---------------------------------------------------------------------
//  Classifier

static void
classify_decides_each_libcurl_error (void **state)
{
    static const struct {
        int         code;
        bool        connected;
        bool        retry;
        const char *detail;         //  the whole detail
    } cases [] = {
        { CURLE_OPERATION_TIMEDOUT, true, true,
          "id=a: timed out after 30000 ms (upstream.timeout_ms)" },
        { CURLE_OPERATION_TIMEDOUT, false, true,
          "id=a: no connection within 5000 ms (upstream.connect_timeout_ms)" },
        { CURLE_COULDNT_RESOLVE_HOST, false, true, "id=a: upstream: boom" },
        { CURLE_COULDNT_CONNECT, false, true, "id=a: upstream: boom" },
        { CURLE_SEND_ERROR, true, true, "id=a: upstream: boom" },
        { CURLE_RECV_ERROR, true, true, "id=a: upstream: boom" },
        { CURLE_PARTIAL_FILE, true, true, "id=a: upstream: boom" },
        { CURLE_GOT_NOTHING, true, true, "id=a: upstream: boom" },
        { CURLE_SSL_CONNECT_ERROR, true, true, "id=a: upstream: boom" },
        { CURLE_HTTP2_STREAM, true, true, "id=a: upstream: boom" },
        { CURLE_WEIRD_SERVER_REPLY, true, true, "id=a: upstream: boom" },
        { CURLE_BAD_CONTENT_ENCODING, true, true, "id=a: upstream: boom" },
        { CURLE_WRITE_ERROR, true, true,
          "id=a: worker out of memory for the response" },
        { CURLE_OUT_OF_MEMORY, true, true,
          "id=a: worker out of memory for the response" },
        { CURLE_FILESIZE_EXCEEDED, true, false,
          "id=a: response over upstream.max_body_bytes (16777216 bytes; "
          "not retried)" },
        { CURLE_URL_MALFORMAT, false, false,
          "id=a: upstream: boom (not retried)" },
        { CURLE_UNSUPPORTED_PROTOCOL, false, false,
          "id=a: upstream: boom (not retried)" },
        { CURLE_PEER_FAILED_VERIFICATION, true, false,
          "id=a: upstream: boom (not retried)" },
        { CURLE_SSL_CACERT_BADFILE, false, false,
          "id=a: upstream: boom (not retried)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        ts_fetch_result_t res = s_curl_result (cases [i].code,
                                               cases [i].connected, "boom");
        ts_fetch_verdict_t verdict;
        print_message ("curl code %d\n", cases [i].code);
        assert_true (ts_fetch_classify (&s_opts, &res, "a", &verdict));
        assert_true (verdict.failed);
        assert_int_equal (verdict.retry, cases [i].retry);
        assert_int_equal (verdict.retry_after_ms, 0);
        assert_int_equal (verdict.failures, 1);
        assert_string_equal (verdict.detail, cases [i].detail);
    }
}

static void
classify_uses_the_shorter_limit_when_no_connection_was_made (void **state)
{
    ts_fetch_opts_t opts = s_opts;
    opts.timeout_ms = 500;
    ts_fetch_result_t res = s_curl_result (CURLE_OPERATION_TIMEDOUT, false,
                                           "x");
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&opts, &res, "a", &verdict));
    assert_string_equal (verdict.detail, "id=a: no connection within 500 ms "
                         "(upstream.connect_timeout_ms)");
}

static void
classify_names_the_cap_of_a_body_cut_while_streaming (void **state)
{
    //  The write callback stops the transfer: rc says why, whatever the
    //  code libcurl reports for it.
    ts_fetch_opts_t opts = s_opts;
    opts.max_body_bytes = 1048576;
    ts_fetch_result_t res = s_curl_result (CURLE_WRITE_ERROR, true, "x");
    res.rc = TS_ETOOBIG;
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&opts, &res, "big", &verdict));
    assert_false (verdict.retry);
    assert_string_equal (verdict.detail, "id=big: response over "
                         "upstream.max_body_bytes (1048576 bytes; not retried)");
}

static void
classify_decides_each_http_status (void **state)
{
    static const struct {
        long        status;
        bool        failed;
        bool        retry;
        const char *detail;
    } cases [] = {
        { 200, false, false, "" },
        { 203, false, false, "" },
        { 204, false, false, "" },
        { 299, false, false, "" },
        { 500, true, true, "id=a: upstream HTTP 500" },
        { 502, true, true, "id=a: upstream HTTP 502" },
        { 503, true, true, "id=a: upstream HTTP 503" },
        { 504, true, true, "id=a: upstream HTTP 504" },
        { 599, true, true, "id=a: upstream HTTP 599" },
        { 429, true, true, "id=a: upstream HTTP 429" },
        { 408, true, true, "id=a: upstream HTTP 408" },
        { 400, true, false, "id=a: upstream HTTP 400 (not retried)" },
        { 401, true, false, "id=a: upstream HTTP 401 (not retried)" },
        { 403, true, false, "id=a: upstream HTTP 403 (not retried)" },
        { 404, true, false, "id=a: upstream HTTP 404 (not retried)" },
        { 410, true, false, "id=a: upstream HTTP 410 (not retried)" },
        { 422, true, false, "id=a: upstream HTTP 422 (not retried)" },
        { 301, true, false, "id=a: upstream HTTP 301 (redirects are not "
                            "followed, see upstream.url; not retried)" },
        { 304, true, false, "id=a: upstream HTTP 304 (redirects are not "
                            "followed, see upstream.url; not retried)" },
        { 100, true, true, "id=a: upstream HTTP 100 (unexpected status)" },
        { 600, true, true, "id=a: upstream HTTP 600 (unexpected status)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        ts_fetch_result_t res = s_http_result (cases [i].status, 0, "");
        ts_fetch_verdict_t verdict;
        print_message ("status %ld\n", cases [i].status);
        assert_int_equal (ts_fetch_classify (&s_opts, &res, "a", &verdict),
                          cases [i].failed);
        assert_int_equal (verdict.failed, cases [i].failed);
        assert_int_equal (verdict.retry, cases [i].retry);
        assert_string_equal (verdict.detail, cases [i].detail);
    }
}

static void
classify_honours_retry_after_on_retried_statuses_only (void **state)
{
    static const struct {
        long     status;
        int64_t  retry_after_ms;        //  as ts_fetch_next reports it
        uint64_t expect_ms;             //  verdict
    } cases [] = {
        { 429, 1000, 1000 },
        { 429, 0, 0 },
        { 429, -5000, 0 },
        { 429, HOUR_MS, HOUR_MS },
        { 429, HOUR_MS + 1, HOUR_MS },
        { 429, INT64_MAX, HOUR_MS },
        { 503, 120000, 120000 },
        { 500, 2000, 2000 },
        { 404, 1000, 0 },
        { 400, 1000, 0 },
        { 200, 1000, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        ts_fetch_result_t res = s_http_result (cases [i].status,
                                               cases [i].retry_after_ms, "");
        ts_fetch_verdict_t verdict;
        print_message ("status %ld, Retry-After %lld ms\n", cases [i].status,
                       (long long) cases [i].retry_after_ms);
        ts_fetch_classify (&s_opts, &res, "a", &verdict);
        assert_int_equal (verdict.retry_after_ms, cases [i].expect_ms);
    }
    ts_fetch_result_t res = s_http_result (429, 1000, "");
    ts_fetch_verdict_t verdict;
    ts_fetch_classify (&s_opts, &res, "a", &verdict);
    assert_string_equal (verdict.detail,
                         "id=a: upstream HTTP 429, Retry-After 1000 ms");
}

static void
classify_quotes_the_start_of_an_error_body (void **state)
{
    ts_fetch_result_t res = s_http_result (404, 0,
                                           "{\"error\":\"unknown id\"}\n");
    ts_fetch_verdict_t verdict;
    ts_fetch_classify (&s_opts, &res, "x", &verdict);
    assert_string_equal (verdict.detail, "id=x: upstream HTTP 404 "
                         "(not retried): {\"error\":\"unknown id\"}");

    //  Control bytes are masked, a long body is cut.
    char body [200];
    memset (body, 'b', sizeof body - 1);
    body [sizeof body - 1] = 0;
    body [0] = '\x1b';
    body [1] = '\n';
    res = s_http_result (500, 0, body);
    ts_fetch_classify (&s_opts, &res, "x", &verdict);
    assert_non_null (strstr (verdict.detail, "id=x: upstream HTTP 500: ? bbb"));
    assert_non_null (strstr (verdict.detail, "b..."));
    assert_null (strchr (verdict.detail, '\x1b'));
    assert_true (strlen (verdict.detail) < 120);
}

static void
classify_keeps_details_within_the_error_length (void **state)
{
    char id [TS_NAME_MAX + 1];
    memset (id, 'i', TS_NAME_MAX);
    id [TS_NAME_MAX] = 0;
    char body [1000];
    memset (body, 'z', sizeof body - 1);
    body [sizeof body - 1] = 0;
    ts_fetch_result_t res = s_http_result (503, 0, body);
    ts_fetch_verdict_t verdict;
    ts_fetch_classify (&s_opts, &res, id, &verdict);
    assert_true (strlen (verdict.detail) < TS_ERRLEN);
    assert_true (verdict.retry);
}

static void
classify_never_shows_the_secret_an_upstream_echoes (void **state)
{
    ts_fetch_opts_t opts = s_opts;
    opts.secret = "Zq9/s3cr3t+k3y";
    ts_fetch_verdict_t verdict;
    ts_fetch_result_t res = s_http_result (401, 0,
        "{\"error\":\"wrong key 'Zq9/s3cr3t+k3y'\"}");
    ts_fetch_classify (&opts, &res, "a", &verdict);
    assert_string_equal (verdict.detail, "id=a: upstream HTTP 401 "
                         "(not retried): {\"error\":\"wrong key '***'\"}");
    //  Echoed percent-encoded, and where the quote is cut: not even the
    //  first characters of the key show.
    char body [256];
    for (size_t at = 40; at < 70; at++) {
        memset (body, '.', at);
        snprintf (body + at, sizeof body - at, "Zq9%%2Fs3cr3t%%2Bk3y and more");
        res = s_http_result (500, 0, body);
        ts_fetch_classify (&opts, &res, "a", &verdict);
        assert_null (strstr (verdict.detail, "Zq9"));
        assert_true (strlen (verdict.detail) < 120);
    }
}

static void
classify_never_shows_the_secret_in_a_libcurl_error (void **state)
{
    ts_fetch_opts_t opts = s_opts;
    opts.secret = "s3cr3t";
    ts_fetch_verdict_t verdict;
    ts_fetch_result_t res = s_curl_result (CURLE_URL_MALFORMAT, false,
                                           "bad URL http://h/?k=s3cr3t");
    ts_fetch_classify (&opts, &res, "a", &verdict);
    assert_string_equal (verdict.detail, "id=a: upstream: bad URL "
                         "http://h/?k=*** (not retried)");
}

static void
verdict_fail_names_id_stage_and_cause (void **state)
{
    ts_fetch_verdict_t verdict;
    ts_fetch_verdict_fail (&verdict, "a", true, "invalid document",
                           "[3].time: expected a number");
    assert_true (verdict.failed);
    assert_true (verdict.retry);
    assert_int_equal (verdict.failures, 1);
    assert_string_equal (verdict.detail,
                         "id=a: invalid document: [3].time: expected a number");
    ts_fetch_verdict_fail (&verdict, "b", false, "cannot build the URL", NULL);
    assert_false (verdict.retry);
    assert_string_equal (verdict.detail,
                         "id=b: cannot build the URL (not retried)");
}

static void
merge_retries_a_job_only_if_every_failure_is_retryable (void **state)
{
    ts_fetch_verdict_t job, one;
    memset (&job, 0, sizeof job);
    ts_fetch_verdict_t ok;
    memset (&ok, 0, sizeof ok);
    ts_fetch_verdict_merge (&job, &ok);
    assert_false (job.failed);

    ts_fetch_result_t res = s_http_result (503, 2000, "");
    ts_fetch_classify (&s_opts, &res, "a", &one);
    ts_fetch_verdict_merge (&job, &one);
    res = s_http_result (429, 7000, "");
    ts_fetch_classify (&s_opts, &res, "b", &one);
    ts_fetch_verdict_merge (&job, &one);
    ts_fetch_verdict_merge (&job, &ok);
    assert_true (job.failed);
    assert_true (job.retry);
    assert_int_equal (job.retry_after_ms, 7000);
    assert_int_equal (job.failures, 2);
    assert_string_equal (job.detail, "id=a: upstream HTTP 503, Retry-After "
                         "2000 ms");

    res = s_http_result (404, 0, "");
    ts_fetch_classify (&s_opts, &res, "c", &one);
    ts_fetch_verdict_merge (&job, &one);
    res = s_http_result (410, 0, "");
    ts_fetch_classify (&s_opts, &res, "d", &one);
    ts_fetch_verdict_merge (&job, &one);
    res = s_http_result (500, 0, "");
    ts_fetch_classify (&s_opts, &res, "e", &one);
    ts_fetch_verdict_merge (&job, &one);
    assert_false (job.retry);
    assert_int_equal (job.retry_after_ms, 7000);
    assert_int_equal (job.failures, 5);
    assert_string_equal (job.detail, "id=c: upstream HTTP 404 (not retried)");
}

static void
retry_after_parses_seconds_and_http_dates (void **state)
{
    static const struct {
        const char *value;
        int64_t     ms;
    } cases [] = {
        { "1", 1000 },
        { "120", 120000 },
        { " 30 \r\n", 30000 },
        { "0", 0 },
        { "3600", HOUR_MS },
        { "3601", HOUR_MS },
        { "99999999999999999999999", HOUR_MS },
        { "", 0 },
        { "   ", 0 },
        { "soon", 0 },
        { "-5", 0 },
        { "1.5", 0 },
        { "12abc", 0 },
        //  IMF-fixdate, RFC 850 and asctime, 90 s after NOW_MS
        { "Sun, 24 Nov 2024 00:01:30 GMT", 90000 },
        { "Sunday, 24-Nov-24 00:01:30 GMT", 90000 },
        { "Sun Nov 24 00:01:30 2024", 90000 },
        { "Sat, 23 Nov 2024 23:59:00 GMT", 0 },     //  past
        { "Sun, 24 Nov 2024 00:00:00 GMT", 0 },     //  now
        { "Mon, 25 Nov 2024 00:00:00 GMT", HOUR_MS },
        { "Fri, 31 Dec 9999 23:59:59 GMT", HOUR_MS },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        print_message ("Retry-After '%s'\n", cases [i].value);
        assert_int_equal (ts_fetch_retry_after_parse (cases [i].value, NOW_MS),
                          cases [i].ms);
    }
    assert_int_equal (ts_fetch_retry_after_parse (NULL, NOW_MS), 0);
}

//  ---------------------------------------------------------------------
//  The fetcher against a loopback server

typedef struct {
    int          listener;          //  listening socket
    int          port;
    pthread_t    thread;
    atomic_bool  stop;              //  set to end the thread
    atomic_int   accepted;          //  connections accepted
    atomic_int   requests;          //  requests read
} s_server_t;

static void
s_send_all (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

//  Serves requests of one connection until the client closes it.
//    /ok          200, 2 bytes, keep-alive
//    /429         429 with Retry-After: 7, keep-alive
//    /stream      200 with no length, 100000 bytes, then close
//    /declared    200 with Content-Length: 100000 (body never sent)
//    /stall       no answer until the client gives up
static void
s_serve_connection (s_server_t *self, int fd)
{
    char buf [4096];
    size_t used = 0;
    while (!atomic_load (&self->stop)) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll (&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv (fd, buf + used, sizeof buf - 1 - used, 0);
        if (n <= 0)
            return;
        used += (size_t) n;
        buf [used] = 0;
        char *end = strstr (buf, "\r\n\r\n");
        if (!end)
            continue;
        atomic_fetch_add (&self->requests, 1);
        char path [64] = "";
        sscanf (buf, "GET %63s", path);
        size_t rest = used - (size_t) (end + 4 - buf);
        memmove (buf, end + 4, rest);
        used = rest;
        if (strcmp (path, "/ok") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/429") == 0) {
            const char *r = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                            "Content-Length: 9\r\n\r\nslow down";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/stream") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            s_send_all (fd, r, strlen (r));
            char chunk [1000];
            memset (chunk, 'x', sizeof chunk);
            for (int i = 0; i < 100; i++)
                s_send_all (fd, chunk, sizeof chunk);
            return;
        }
        else
        if (strcmp (path, "/declared") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/stall") != 0) {
            const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            s_send_all (fd, r, strlen (r));
        }
    }
}

static void *
s_server_run (void *arg)
{
    s_server_t *self = (s_server_t *) arg;
    while (!atomic_load (&self->stop)) {
        struct pollfd p = { self->listener, POLLIN, 0 };
        if (poll (&p, 1, 50) <= 0)
            continue;
        int fd = accept (self->listener, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add (&self->accepted, 1);
        s_serve_connection (self, fd);
        close (fd);
    }
    return NULL;
}

static int
server_setup (void **state)
{
    s_server_t *self = calloc (1, sizeof (s_server_t));
    assert_non_null (self);
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (self->listener >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (self->listener, (struct sockaddr *) &addr,
                            sizeof addr), 0);
    assert_int_equal (listen (self->listener, 8), 0);
    socklen_t len = sizeof addr;
    assert_int_equal (getsockname (self->listener, (struct sockaddr *) &addr,
                                   &len), 0);
    self->port = ntohs (addr.sin_port);
    assert_int_equal (pthread_create (&self->thread, NULL, s_server_run,
                                      self), 0);
    *state = self;
    return 0;
}

static int
server_teardown (void **state)
{
    s_server_t *self = (s_server_t *) *state;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    close (self->listener);
    free (self);
    return 0;
}

//  Fetches path from the server; the fetcher's result is copied to *res
//  (body and error stay valid until the fetcher is used again).
static void
s_fetch_one (ts_fetch_t *fetch, s_server_t *server, const char *path,
             ts_fetch_result_t *res)
{
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", server->port, path);
    assert_int_equal (ts_fetch_add (fetch, url, 42), 0);
    int64_t deadline = ts_mono_ms () + 5000;
    while (ts_mono_ms () < deadline) {
        char err [TS_ERRLEN];
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        if (ts_fetch_next (fetch, res)) {
            assert_int_equal (res->tag, 42);
            return;
        }
    }
    fail_msg ("no answer for %s", path);
}

static ts_fetch_t *
s_fetch_new (size_t max_body_bytes, long timeout_ms)
{
    ts_fetch_opts_t opts = s_opts;
    opts.max_body_bytes = max_body_bytes;
    opts.timeout_ms = timeout_ms;
    char err [TS_ERRLEN];
    ts_fetch_t *fetch = ts_fetch_new (&opts, err);
    assert_non_null (fetch);
    return fetch;
}

static void
fetch_reuses_one_connection_for_requests_in_turn (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    for (int i = 0; i < 3; i++) {
        s_fetch_one (fetch, server, "/ok", &res);
        assert_int_equal (res.rc, 0);
        assert_int_equal (res.status, 200);
        assert_int_equal (res.size, 2);
        assert_string_equal (res.body, "ok");
        assert_true (res.connected);
    }
    assert_int_equal (ts_fetch_pending (fetch), 0);
    ts_fetch_destroy (&fetch);
    assert_null (fetch);
    assert_int_equal (atomic_load (&server->requests), 3);
    assert_int_equal (atomic_load (&server->accepted), 1);
}

static void
fetch_aborts_a_streamed_body_at_the_cap (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (10000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/stream", &res);
    assert_int_equal (res.rc, TS_ETOOBIG);
    assert_true (res.size <= 10000);
    ts_fetch_verdict_t verdict;
    ts_fetch_opts_t opts = s_opts;
    opts.max_body_bytes = 10000;
    assert_true (ts_fetch_classify (&opts, &res, "s", &verdict));
    assert_false (verdict.retry);
    assert_string_equal (verdict.detail, "id=s: response over "
                         "upstream.max_body_bytes (10000 bytes; not retried)");
    //  The fetcher goes on after an aborted transfer.
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.rc, 0);
    assert_string_equal (res.body, "ok");
    ts_fetch_destroy (&fetch);
}

static void
fetch_refuses_a_declared_length_over_the_cap (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (10000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/declared", &res);
    assert_int_equal (res.rc, TS_ETOOBIG);
    assert_int_equal (res.size, 0);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "d", &verdict));
    assert_false (verdict.retry);
    ts_fetch_destroy (&fetch);
}

static void
fetch_reports_retry_after_of_a_429 (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/429", &res);
    assert_int_equal (res.rc, 0);
    assert_int_equal (res.status, 429);
    assert_int_equal (res.retry_after_ms, 7000);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "r", &verdict));
    assert_true (verdict.retry);
    assert_int_equal (verdict.retry_after_ms, 7000);
    assert_string_equal (verdict.detail, "id=r: upstream HTTP 429, "
                         "Retry-After 7000 ms: slow down");
    //  The next response on the reused handle has no Retry-After.
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.retry_after_ms, 0);
    ts_fetch_destroy (&fetch);
}

static void
fetch_times_out_a_silent_upstream (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 300);
    ts_fetch_result_t res;
    int64_t started = ts_mono_ms ();
    s_fetch_one (fetch, server, "/stall", &res);
    int64_t took = ts_mono_ms () - started;
    assert_int_equal (res.rc, TS_ETIMEOUT);
    assert_int_equal (res.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_true (res.connected);
    assert_true (took >= 250 && took < 3000);
    ts_fetch_verdict_t verdict;
    ts_fetch_opts_t opts = s_opts;
    opts.timeout_ms = 300;
    assert_true (ts_fetch_classify (&opts, &res, "t", &verdict));
    assert_true (verdict.retry);
    assert_string_equal (verdict.detail,
                         "id=t: timed out after 300 ms (upstream.timeout_ms)");
    ts_fetch_destroy (&fetch);
}

static void
fetch_start_sends_added_requests_without_waiting (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    char err [TS_ERRLEN];
    //  Nothing added: nothing to do.
    assert_int_equal (ts_fetch_start (fetch, err), 0);
    //  A first request opens the connection the next one reuses.
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.status, 200);

    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok", server->port);
    assert_int_equal (ts_fetch_add (fetch, url, 7), 0);
    assert_int_equal (ts_fetch_start (fetch, err), 0);
    //  The request reaches the server with no ts_fetch_wait.
    int64_t deadline = ts_mono_ms () + 3000;
    while (atomic_load (&server->requests) < 2 && ts_mono_ms () < deadline) {
        struct timespec pause = { 0, 5 * 1000000L };
        nanosleep (&pause, NULL);
    }
    assert_int_equal (atomic_load (&server->requests), 2);
    deadline = ts_mono_ms () + 3000;
    bool done = false;
    while (!done && ts_mono_ms () < deadline) {
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        done = ts_fetch_next (fetch, &res);
    }
    assert_true (done);
    assert_int_equal (res.tag, 7);
    assert_string_equal (res.body, "ok");
    assert_int_equal (atomic_load (&server->accepted), 1);
    ts_fetch_destroy (&fetch);
}

static void
fetch_reports_a_refused_connection_as_retryable (void **state)
{
    //  A port nobody listens on: bind one, close it, use it.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname (fd, (struct sockaddr *) &addr, &len);
    close (fd);
    s_server_t closed = { .port = ntohs (addr.sin_port) };
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, &closed, "/ok", &res);
    assert_int_equal (res.rc, TS_EUPSTREAM);
    assert_int_equal (res.curl_code, CURLE_COULDNT_CONNECT);
    assert_false (res.connected);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "c", &verdict));
    assert_true (verdict.retry);
    assert_non_null (strstr (verdict.detail, "id=c: upstream: "));
    ts_fetch_destroy (&fetch);
}

static void
fetch_scrubs_the_secret_from_libcurl_errors (void **state)
{
    //  libcurl quotes an unsupported scheme in its error text.
    ts_fetch_opts_t opts = s_opts;
    opts.secret = "k3ysecret";
    char err [TS_ERRLEN];
    ts_fetch_t *fetch = ts_fetch_new (&opts, err);
    assert_non_null (fetch);
    assert_int_equal (ts_fetch_add (fetch, "k3ysecret://h/x", 7), 0);
    ts_fetch_result_t res;
    bool done = false;
    int64_t deadline = ts_mono_ms () + 5000;
    while (!done && ts_mono_ms () < deadline) {
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        done = ts_fetch_next (fetch, &res);
    }
    assert_true (done);
    assert_int_equal (res.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    assert_non_null (strstr (res.error, "***"));
    assert_null (strstr (res.error, "k3ysecret"));
    ts_fetch_destroy (&fetch);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (classify_decides_each_libcurl_error),
        cmocka_unit_test (classify_uses_the_shorter_limit_when_no_connection_was_made),
        cmocka_unit_test (classify_names_the_cap_of_a_body_cut_while_streaming),
        cmocka_unit_test (classify_decides_each_http_status),
        cmocka_unit_test (classify_honours_retry_after_on_retried_statuses_only),
        cmocka_unit_test (classify_quotes_the_start_of_an_error_body),
        cmocka_unit_test (classify_keeps_details_within_the_error_length),
        cmocka_unit_test (classify_never_shows_the_secret_an_upstream_echoes),
        cmocka_unit_test (classify_never_shows_the_secret_in_a_libcurl_error),
        cmocka_unit_test (verdict_fail_names_id_stage_and_cause),
        cmocka_unit_test (merge_retries_a_job_only_if_every_failure_is_retryable),
        cmocka_unit_test (retry_after_parses_seconds_and_http_dates),
        cmocka_unit_test_setup_teardown (fetch_reuses_one_connection_for_requests_in_turn,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_aborts_a_streamed_body_at_the_cap,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_refuses_a_declared_length_over_the_cap,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_reports_retry_after_of_a_429,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_times_out_a_silent_upstream,
                                         server_setup, server_teardown),
        cmocka_unit_test (fetch_reports_a_refused_connection_as_retryable),
        cmocka_unit_test (fetch_scrubs_the_secret_from_libcurl_errors),
        cmocka_unit_test_setup_teardown (fetch_start_sends_added_requests_without_waiting,
                                         server_setup, server_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_fetch", tests, NULL, NULL);
}
