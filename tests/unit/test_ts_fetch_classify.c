/*  test_ts_fetch_classify - the worker's retry policy
    (ts_fetch_classify, the verdicts of a job, Retry-After). The
    classifier is pure, so most tests are tables: libcurl codes, HTTP
    statuses and Retry-After values in, (retry, retry_after_ms, detail)
    out. The fetcher itself is tested in test_ts_fetch.c. */

#include "ts_fetch_fixture.h"

#define NOW_MS  1732406400000LL     //  2024-11-24T00:00:00Z
#define HOUR_MS TS_FETCH_RETRY_AFTER_MAX_MS

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
    //  A cause that says it already (the OAuth2 token's) is not repeated.
    ts_fetch_verdict_fail (&verdict, "c", false, "OAuth2 token",
                           "token endpoint HTTP 401: invalid_client "
                           "(not retried)");
    assert_string_equal (verdict.detail, "id=c: OAuth2 token: token endpoint "
                         "HTTP 401: invalid_client (not retried)");
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
    //  The 429 of b names the job's kind: the broker slows the source.
    assert_string_equal (job.kind, "http_429");

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
classify_names_the_kind_of_each_failure (void **state)
{
    static const struct {
        long        status;         //  0: a libcurl failure of code
        int         code;
        bool        connected;
        const char *kind;           //  NULL: no failure
    } cases [] = {
        { 200, 0, true, NULL },
        { 0, CURLE_OPERATION_TIMEDOUT, true, "timeout" },
        { 0, CURLE_OPERATION_TIMEDOUT, false, "connect" },
        { 0, CURLE_COULDNT_CONNECT, false, "transport" },
        { 0, CURLE_FILESIZE_EXCEEDED, true, "too_big" },
        { 0, CURLE_WRITE_ERROR, true, "memory" },
        { 301, 0, true, "http_3xx" },
        { 404, 0, true, "http_4xx" },
        { 408, 0, true, "http_4xx" },
        { 429, 0, true, "http_429" },
        { 503, 0, true, "http_5xx" },
        { 100, 0, true, "http_other" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        ts_fetch_result_t res = cases [i].status
            ? s_http_result (cases [i].status, 0, "")
            : s_curl_result (cases [i].code, cases [i].connected, "boom");
        ts_fetch_verdict_t verdict;
        ts_fetch_classify (&s_opts, &res, "a", &verdict);
        print_message ("case %zu\n", i);
        if (!cases [i].kind) {
            assert_null (verdict.kind);
            continue;
        }
        assert_string_equal (verdict.kind, cases [i].kind);
        bool listed = false;
        for (size_t k = 0; ts_fetch_kinds [k]; k++)
            listed |= strcmp (ts_fetch_kinds [k], verdict.kind) == 0;
        assert_true (listed);
    }
    ts_fetch_verdict_t verdict;
    ts_fetch_verdict_fail (&verdict, "a", true, "store", "full");
    assert_string_equal (verdict.kind, "worker");
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
        cmocka_unit_test (classify_names_the_kind_of_each_failure),
        cmocka_unit_test (retry_after_parses_seconds_and_http_dates),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_fetch_classify", tests, NULL, NULL);
}
