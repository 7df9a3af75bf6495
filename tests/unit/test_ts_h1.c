/*  test_ts_h1 - HTTP/1.1 request framing: requests read whole however the
    bytes are split, pipelined requests one at a time, and every limit and
    syntax error answered with its status and JSON error code. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_h1.h"

//  Small limits, so tests stay short.
static const ts_h1_limits_t s_limits = {
    .max_target = 64,
    .max_header_line = 64,
    .max_header_bytes = 200,
    .max_headers = 5,
    .max_body = 100,
    .max_blank = 4
};

static ts_h1_t *
s_new (void)
{
    ts_h1_t *h1 = ts_h1_new (&s_limits);
    assert_non_null (h1);
    return h1;
}

//  Feeds text whole; returns the event (and the bytes used in *used).
static ts_h1_event_t
s_feed (ts_h1_t *h1, const char *text, size_t *used)
{
    size_t ignored;
    return ts_h1_feed (h1, text, strlen (text), used? used: &ignored);
}

//  Feeds text and expects an error with status and code.
static void
s_expect_error (const char *text, int status, const char *error)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, text, NULL), TS_H1_ERROR);
    assert_int_equal (ts_h1_status (h1), status);
    assert_string_equal (ts_h1_error (h1), error);
    assert_true (strlen (ts_h1_detail (h1)) > 0);
    //  Feeding more changes nothing.
    size_t used = 1;
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\n\r\n", &used),
                      TS_H1_ERROR);
    assert_int_equal (used, 0);
    ts_h1_destroy (&h1);
    assert_null (h1);
}

static void
h1_reads_a_get_with_its_target_and_key_headers (void **state)
{
    ts_h1_t *h1 = s_new ();
    const char *text = "GET /v1/ids?x=1 HTTP/1.1\r\nHost: a\r\n"
                       "X-Security-Token: key \t\r\n"
                       "authorization: Bearer k2\r\n\r\n";
    size_t used = 0;
    assert_int_equal (s_feed (h1, text, &used), TS_H1_REQUEST);
    assert_int_equal (used, strlen (text));
    assert_string_equal (ts_h1_method (h1), "GET");
    assert_string_equal (ts_h1_target (h1), "/v1/ids?x=1");
    size_t len = 0;
    assert_string_equal (ts_h1_token (h1, &len), "key");
    assert_int_equal (len, 3);
    assert_string_equal (ts_h1_authorization (h1, &len), "Bearer k2");
    assert_int_equal (len, 9);
    size_t size = 1;
    assert_null (ts_h1_body (h1, &size));
    assert_int_equal (size, 0);
    assert_true (ts_h1_keep_alive (h1));
    assert_false (ts_h1_is_head (h1));
    assert_false (ts_h1_is_http10 (h1));
    ts_h1_destroy (&h1);
}

static void
h1_reports_absent_and_empty_key_headers_apart (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\nx-security-token:\r\n"
                                  "\r\n", NULL), TS_H1_REQUEST);
    size_t len = 9;
    assert_string_equal (ts_h1_token (h1, &len), "");
    assert_int_equal (len, 0);
    assert_null (ts_h1_authorization (h1, &len));
    ts_h1_destroy (&h1);
}

static void
h1_joins_accept_fields_into_one_list (void **state)
{
    ts_h1_t *h1 = s_new ();
    size_t len = 9;
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\nAccept: text/csv \r\n"
                                  "accept: */*;q=0.1\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    assert_string_equal (ts_h1_accept (h1, &len), "text/csv, */*;q=0.1");
    assert_int_equal (len, 19);
    ts_h1_next (h1);
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    assert_null (ts_h1_accept (h1, &len));
    ts_h1_destroy (&h1);
}

static void
h1_keeps_the_first_request_id_of_a_request (void **state)
{
    ts_h1_t *h1 = s_new ();
    size_t len = 9;
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\nX-Request-Id: abc-1 \r\n"
                                  "x-request-id: second\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    assert_string_equal (ts_h1_request_id (h1, &len), "abc-1");
    assert_int_equal (len, 5);
    ts_h1_next (h1);
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    assert_null (ts_h1_request_id (h1, &len));
    ts_h1_destroy (&h1);
}

static void
h1_reads_a_request_fed_one_byte_at_a_time (void **state)
{
    ts_h1_t *h1 = s_new ();
    const char *text = "POST /v1/ids HTTP/1.1\r\nHost: a\r\n"
                       "x-security-token: secret\r\n"
                       "Content-Length: 11\r\n\r\n{\"ids\":[1]}";
    size_t n = strlen (text);
    for (size_t i = 0; i + 1 < n; i++) {
        size_t used = 0;
        assert_int_equal (ts_h1_feed (h1, text + i, 1, &used), TS_H1_MORE);
        assert_int_equal (used, 1);
    }
    size_t used = 0;
    assert_int_equal (ts_h1_feed (h1, text + n - 1, 1, &used),
                      TS_H1_REQUEST);
    assert_int_equal (used, 1);
    size_t len = 0, size = 0;
    assert_string_equal (ts_h1_token (h1, &len), "secret");
    assert_int_equal (len, 6);
    const char *body = ts_h1_body (h1, &size);
    assert_int_equal (size, 11);
    assert_memory_equal (body, "{\"ids\":[1]}", 11);
    ts_h1_destroy (&h1);
}

static void
h1_decodes_a_chunked_body (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, "POST /x HTTP/1.1\r\nHost: a\r\n"
                                  "Transfer-Encoding: Chunked\r\n\r\n"
                                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    size_t size = 0;
    const char *body = ts_h1_body (h1, &size);
    assert_int_equal (size, 5);
    assert_memory_equal (body, "abcde", 5);
    ts_h1_destroy (&h1);
}

static void
h1_stops_after_each_pipelined_request (void **state)
{
    ts_h1_t *h1 = s_new ();
    const char *first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    const char *second = "POST /b HTTP/1.1\r\nHost: a\r\n"
                         "Content-Length: 2\r\n\r\nhi";
    const char *third = "GET /c HTTP/1.1\r\nHost: a\r\n\r\n";
    char text [256];
    snprintf (text, sizeof text, "%s%s%s", first, second, third);
    size_t used = 0, at = 0;
    assert_int_equal (s_feed (h1, text, &used), TS_H1_REQUEST);
    assert_int_equal (used, strlen (first));
    assert_string_equal (ts_h1_target (h1), "/a");
    //  Not moved on until told.
    assert_int_equal (s_feed (h1, text + used, &used), TS_H1_REQUEST);
    assert_int_equal (used, 0);
    ts_h1_next (h1);
    at = strlen (first);
    assert_int_equal (s_feed (h1, text + at, &used), TS_H1_REQUEST);
    assert_int_equal (used, strlen (second));
    assert_string_equal (ts_h1_method (h1), "POST");
    assert_string_equal (ts_h1_target (h1), "/b");
    size_t size = 0;
    assert_memory_equal (ts_h1_body (h1, &size), "hi", 2);
    ts_h1_next (h1);
    at += used;
    assert_int_equal (s_feed (h1, text + at, &used), TS_H1_REQUEST);
    assert_string_equal (ts_h1_target (h1), "/c");
    assert_null (ts_h1_body (h1, &size));
    ts_h1_destroy (&h1);
}

static void
h1_reads_the_same_pipeline_however_the_bytes_are_split (void **state)
{
    const char *text =
        "GET /a?x=1 HTTP/1.1\r\nHost: a\r\nx-security-token: k1\r\n\r\n"
        "\r\nPOST /b HTTP/1.1\r\nAuthorization: Bearer k2\r\n"
        "Content-Length: 5\r\n\r\nhello"
        "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\nab\r\n1;ext=1\r\nc\r\n0\r\nTrailer: x\r\n\r\n";
    const char *targets [] = { "/a?x=1", "/b", "/c" };
    const char *bodies [] = { "", "hello", "abc" };
    size_t n = strlen (text);
    srand (12345);      //  fixed seed: the same splits every run
    for (int round = 0; round < 500; round++) {
        ts_h1_t *h1 = s_new ();
        size_t at = 0, seen = 0;
        while (at < n) {
            size_t len = 1 + (size_t) rand () % 24;
            if (len > n - at)
                len = n - at;
            size_t off = 0;
            while (off < len) {
                size_t used = 0;
                ts_h1_event_t event = ts_h1_feed (h1, text + at + off,
                                                  len - off, &used);
                assert_int_not_equal (event, TS_H1_ERROR);
                off += used;
                if (event == TS_H1_MORE)
                    break;
                assert_true (seen < 3);
                assert_string_equal (ts_h1_target (h1), targets [seen]);
                size_t size = 0;
                const char *body = ts_h1_body (h1, &size);
                assert_int_equal (size, strlen (bodies [seen]));
                if (size)
                    assert_memory_equal (body, bodies [seen], size);
                size_t token_len = 0;
                if (seen == 0)
                    assert_string_equal (ts_h1_token (h1, &token_len), "k1");
                else
                    assert_null (ts_h1_token (h1, &token_len));
                seen++;
                ts_h1_next (h1);
            }
            at += len;
        }
        assert_int_equal (seen, 3);
        ts_h1_destroy (&h1);
    }
}

static void
h1_answers_an_overlong_target_414 (void **state)
{
    char text [256];
    snprintf (text, sizeof text, "GET /%065d HTTP/1.1\r\n\r\n", 0);
    s_expect_error (text, 414, "uri_too_long");
    //  Even before the line ends.
    snprintf (text, sizeof text, "GET /%065d", 0);
    s_expect_error (text, 414, "uri_too_long");
    //  A target of exactly the limit is fine.
    ts_h1_t *h1 = s_new ();
    snprintf (text, sizeof text, "GET /%063d HTTP/1.1\r\n\r\n", 0);
    assert_int_equal (s_feed (h1, text, NULL), TS_H1_REQUEST);
    ts_h1_destroy (&h1);
}

static void
h1_answers_too_many_or_too_large_headers_431 (void **state)
{
    s_expect_error ("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n"
                    "e: 5\r\nf: 6\r\n\r\n", 431, "headers_too_large");
    char text [512];
    snprintf (text, sizeof text, "GET / HTTP/1.1\r\nx: %070d\r\n\r\n", 0);
    s_expect_error (text, 431, "headers_too_large");
    snprintf (text, sizeof text, "GET / HTTP/1.1\r\na: %050d\r\nb: %050d\r\n"
              "c: %050d\r\nd: %050d\r\n\r\n", 0, 0, 0, 0);
    s_expect_error (text, 431, "headers_too_large");
}

static void
h1_answers_an_oversized_body_413_announced_or_sent (void **state)
{
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
                    413, "too_big");
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                    413, "too_big");
    char text [512];
    snprintf (text, sizeof text, "POST / HTTP/1.1\r\nTransfer-Encoding: "
              "chunked\r\n\r\n32\r\n%050d\r\n32\r\n%050d\r\n1\r\nx\r\n", 0, 0);
    s_expect_error (text, 413, "too_big");
}

static void
h1_answers_a_bad_content_length_400 (void **state)
{
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                    400, "bad_request");
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                    400, "bad_request");
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: "
                    "99999999999999999999999\r\n\r\n", 400, "bad_request");
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\n", 400, "bad_request");
    s_expect_error ("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n", 400, "bad_request");
}

static void
h1_answers_an_unknown_transfer_encoding_501 (void **state)
{
    s_expect_error ("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"
                    "{}", 501, "not_implemented");
    s_expect_error ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                    501, "not_implemented");
    s_expect_error ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n"
                    "\r\n", 501, "not_implemented");
}

static void
h1_tolerates_a_few_empty_lines_then_answers_400 (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, "\r\n", NULL), TS_H1_MORE);
    assert_false (ts_h1_started (h1));
    assert_int_equal (s_feed (h1, "\r\nGET / HTTP/1.1\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    ts_h1_destroy (&h1);

    s_expect_error ("\r\n\r\n\r\n", 400, "bad_request");
    h1 = s_new ();
    assert_int_equal (s_feed (h1, "\n\n\n\n", NULL), TS_H1_MORE);
    assert_int_equal (s_feed (h1, "\n", NULL), TS_H1_ERROR);
    assert_int_equal (ts_h1_status (h1), 400);
    ts_h1_destroy (&h1);
}

static void
h1_answers_malformed_syntax_400 (void **state)
{
    s_expect_error ("G@T / HTTP/1.1\r\n\r\n", 400, "bad_request");
    s_expect_error ("GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                    400, "bad_request");
    s_expect_error ("GET /a b c HTTP/1.1\r\n\r\n", 400, "bad_request");
    s_expect_error ("GET / HTTP/1.1\r\nx-security-token: a\r\n"
                    "X-Security-Token: b\r\n\r\n", 400, "bad_request");
    s_expect_error ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "zz\r\n", 400, "bad_request");
}

static void
h1_feeds_a_nul_in_a_header_value_as_an_error_not_a_value (void **state)
{
    ts_h1_t *h1 = s_new ();
    const char text [] = "GET / HTTP/1.1\r\nx-security-token: key\0\r\n\r\n";
    size_t used = 0;
    assert_int_equal (ts_h1_feed (h1, text, sizeof text - 1, &used),
                      TS_H1_ERROR);
    assert_int_equal (ts_h1_status (h1), 400);
    ts_h1_destroy (&h1);
}

static void
h1_answers_other_versions_505_and_connect_501 (void **state)
{
    s_expect_error ("GET / HTTP/2.0\r\n\r\n", 505,
                    "http_version_not_supported");
    s_expect_error ("CONNECT a:443 HTTP/1.1\r\n\r\n", 501, "not_implemented");
}

static void
h1_asks_for_100_continue_once_before_a_body (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, "POST / HTTP/1.1\r\nExpect: 100-continue"
                                  "\r\nContent-Length: 2\r\n\r\n", NULL),
                      TS_H1_MORE);
    assert_true (ts_h1_take_continue (h1));
    assert_false (ts_h1_take_continue (h1));
    assert_int_equal (s_feed (h1, "{}", NULL), TS_H1_REQUEST);
    ts_h1_next (h1);
    //  No body, no Continue.
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\nExpect: 100-continue"
                                  "\r\n\r\n", NULL), TS_H1_REQUEST);
    assert_false (ts_h1_take_continue (h1));
    ts_h1_destroy (&h1);
}

static void
h1_follows_keep_alive_rules_of_each_version (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (s_feed (h1, "GET / HTTP/1.1\r\nConnection: close\r\n"
                                  "\r\n", NULL), TS_H1_REQUEST);
    assert_false (ts_h1_keep_alive (h1));
    ts_h1_destroy (&h1);
    h1 = s_new ();
    assert_int_equal (s_feed (h1, "HEAD / HTTP/1.0\r\n\r\n", NULL),
                      TS_H1_REQUEST);
    assert_false (ts_h1_keep_alive (h1));
    assert_true (ts_h1_is_head (h1));
    assert_true (ts_h1_is_http10 (h1));
    ts_h1_destroy (&h1);
    h1 = s_new ();
    assert_int_equal (s_feed (h1, "GET / HTTP/1.0\r\nConnection: keep-alive"
                                  "\r\n\r\n", NULL), TS_H1_REQUEST);
    assert_true (ts_h1_keep_alive (h1));
    ts_h1_destroy (&h1);
}

static void
h1_calls_a_cut_request_an_error_and_an_idle_close_not (void **state)
{
    ts_h1_t *h1 = s_new ();
    assert_int_equal (ts_h1_eof (h1), TS_H1_MORE);
    assert_int_equal (s_feed (h1, "GET / HT", NULL), TS_H1_MORE);
    assert_true (ts_h1_started (h1));
    assert_int_equal (ts_h1_eof (h1), TS_H1_ERROR);
    assert_int_equal (ts_h1_status (h1), 400);
    ts_h1_destroy (&h1);
}

static void
h1_names_the_reason_of_each_status (void **state)
{
    assert_string_equal (ts_h1_reason (200), "OK");
    assert_string_equal (ts_h1_reason (414), "URI Too Long");
    assert_string_equal (ts_h1_reason (431),
                         "Request Header Fields Too Large");
    assert_string_equal (ts_h1_reason (799), "Unknown");
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (h1_reads_a_get_with_its_target_and_key_headers),
        cmocka_unit_test (h1_reports_absent_and_empty_key_headers_apart),
        cmocka_unit_test (h1_reads_a_request_fed_one_byte_at_a_time),
        cmocka_unit_test (h1_keeps_the_first_request_id_of_a_request),
        cmocka_unit_test (h1_joins_accept_fields_into_one_list),
        cmocka_unit_test (h1_decodes_a_chunked_body),
        cmocka_unit_test (h1_stops_after_each_pipelined_request),
        cmocka_unit_test (h1_reads_the_same_pipeline_however_the_bytes_are_split),
        cmocka_unit_test (h1_answers_an_overlong_target_414),
        cmocka_unit_test (h1_answers_too_many_or_too_large_headers_431),
        cmocka_unit_test (h1_answers_an_oversized_body_413_announced_or_sent),
        cmocka_unit_test (h1_answers_a_bad_content_length_400),
        cmocka_unit_test (h1_answers_an_unknown_transfer_encoding_501),
        cmocka_unit_test (h1_tolerates_a_few_empty_lines_then_answers_400),
        cmocka_unit_test (h1_answers_malformed_syntax_400),
        cmocka_unit_test (h1_feeds_a_nul_in_a_header_value_as_an_error_not_a_value),
        cmocka_unit_test (h1_answers_other_versions_505_and_connect_501),
        cmocka_unit_test (h1_asks_for_100_continue_once_before_a_body),
        cmocka_unit_test (h1_follows_keep_alive_rules_of_each_version),
        cmocka_unit_test (h1_calls_a_cut_request_an_error_and_an_idle_close_not),
        cmocka_unit_test (h1_names_the_reason_of_each_status),
    };
    return cmocka_run_group_tests_name ("ts_h1", tests, NULL, NULL);
}
