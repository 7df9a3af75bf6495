/*  test_ts_reply - one HTTP answer as a route gives it: status, content
    type, extra headers (refusing header injection), a body written or
    adopted without a copy, JSON errors, and the stream mark. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_reply.h"

static void
reply_starts_as_an_empty_200_json_answer (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    assert_non_null (reply);
    assert_int_equal (ts_reply_status (reply), 200);
    assert_string_equal (ts_reply_type (reply), TS_REPLY_JSON);
    size_t size = 1;
    ts_reply_headers (reply, &size);
    assert_int_equal (size, 0);
    ts_reply_body (reply, &size);
    assert_int_equal (size, 0);
    assert_false (ts_reply_is_stream (reply, NULL, NULL));
    assert_false (ts_reply_failed (reply));
    size_t len = 0;
    assert_null (ts_reply_header_value (reply, "Allow", &len));
    ts_reply_destroy (&reply);
    assert_null (reply);
    ts_reply_destroy (&reply);
}

static void
reply_carries_any_content_type_and_extra_headers (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    const char *types [] = { TS_REPLY_CSV, TS_REPLY_HTML, TS_REPLY_TEXT,
                             TS_REPLY_PROMETHEUS, TS_REPLY_EVENTS };
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++) {
        ts_reply_set_type (reply, types [i]);
        assert_string_equal (ts_reply_type (reply), types [i]);
    }
    assert_int_equal (ts_reply_header (reply, "Allow", "GET, POST"), 0);
    assert_int_equal (ts_reply_header (reply, "Cache-Control", "no-cache"),
                      0);
    size_t size = 0;
    const char *headers = ts_reply_headers (reply, &size);
    assert_int_equal (size, strlen ("Allow: GET, POST\r\n"
                                    "Cache-Control: no-cache\r\n"));
    assert_memory_equal (headers, "Allow: GET, POST\r\nCache-Control: "
                         "no-cache\r\n", size);
    size_t len = 0;
    const char *value = ts_reply_header_value (reply, "cache-control", &len);
    assert_non_null (value);
    assert_int_equal (len, 8);
    assert_memory_equal (value, "no-cache", 8);
    assert_null (ts_reply_header_value (reply, "Vary", &len));
    ts_reply_reset (reply);
    ts_reply_headers (reply, &size);
    assert_int_equal (size, 0);
    assert_string_equal (ts_reply_type (reply), TS_REPLY_JSON);
    ts_reply_destroy (&reply);
}

static void
reply_header_refuses_line_breaks_and_bad_names (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    assert_int_equal (ts_reply_header (reply, "X-A", "1\r\nSet-Cookie: x"),
                      TS_EINVAL);
    assert_int_equal (ts_reply_header (reply, "X-A", "1\n"), TS_EINVAL);
    assert_int_equal (ts_reply_header (reply, "X A", "1"), TS_EINVAL);
    assert_int_equal (ts_reply_header (reply, "X:A", "1"), TS_EINVAL);
    assert_int_equal (ts_reply_header (reply, "", "1"), TS_EINVAL);
    size_t size = 1;
    ts_reply_headers (reply, &size);
    assert_int_equal (size, 0);
    assert_false (ts_reply_failed (reply));
    ts_reply_destroy (&reply);
}

static void
reply_adopts_a_buffer_as_its_body_without_copying (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    ts_json_raw (ts_reply_json (reply), "{\"old\":1}");
    char *data = malloc (5);
    memcpy (data, "a,b\n", 4);
    ts_reply_adopt (reply, data, 4);
    size_t size = 0;
    assert_ptr_equal (ts_reply_body (reply, &size), data);
    assert_int_equal (size, 4);
    assert_string_equal (ts_reply_text (reply), "a,b\n");
    //  Writing again drops the adopted body.
    ts_json_raw (ts_reply_json (reply), "{}");
    assert_string_equal (ts_reply_text (reply), "{}");
    //  An adopted body is freed by reset and destroy (no leak under asan).
    ts_reply_adopt (reply, strdup ("x"), 1);
    ts_reply_reset (reply);
    ts_reply_body (reply, &size);
    assert_int_equal (size, 0);
    ts_reply_adopt (reply, strdup ("y"), 1);
    ts_reply_destroy (&reply);
}

static void
reply_error_writes_json_and_keeps_headers (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    ts_reply_set_type (reply, TS_REPLY_CSV);
    ts_reply_adopt (reply, strdup ("a,b"), 3);
    ts_reply_header (reply, "Allow", "GET");
    assert_int_equal (ts_reply_error (reply, 405, "method_not_allowed",
                                      "use GET"), 405);
    assert_int_equal (ts_reply_status (reply), 405);
    assert_string_equal (ts_reply_type (reply), TS_REPLY_JSON);
    assert_string_equal (ts_reply_text (reply),
                         "{\"error\":\"method_not_allowed\","
                         "\"detail\":\"use GET\"}");
    size_t len = 0;
    assert_non_null (ts_reply_header_value (reply, "Allow", &len));
    ts_reply_destroy (&reply);
}

static void
reply_set_text_sets_status_type_and_body (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    assert_int_equal (ts_reply_set_text (reply, 200, TS_REPLY_PROMETHEUS,
                                         "up 1\n"), 200);
    assert_string_equal (ts_reply_type (reply), TS_REPLY_PROMETHEUS);
    assert_string_equal (ts_reply_text (reply), "up 1\n");
    ts_reply_destroy (&reply);
}

static void
s_open (void *arg, const ts_reply_sink_t *sink)
{
    (void) arg;
    (void) sink;
}

static void
reply_stream_mark_carries_its_open_callback (void **state)
{
    ts_reply_t *reply = ts_reply_new ();
    int arg = 0;
    ts_json_raw (ts_reply_json (reply), "retry: 1000\n\n");
    ts_reply_set_stream (reply, s_open, &arg);
    ts_reply_open_fn *open = NULL;
    void *got = NULL;
    assert_true (ts_reply_is_stream (reply, &open, &got));
    assert_ptr_equal (open, s_open);
    assert_ptr_equal (got, &arg);
    assert_string_equal (ts_reply_type (reply), TS_REPLY_EVENTS);
    //  An error is not a stream.
    ts_reply_error (reply, 500, "internal", "x");
    assert_false (ts_reply_is_stream (reply, NULL, NULL));
    ts_reply_set_stream (reply, s_open, &arg);
    ts_reply_reset (reply);
    assert_false (ts_reply_is_stream (reply, NULL, NULL));
    ts_reply_destroy (&reply);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test (name)
        T (reply_starts_as_an_empty_200_json_answer),
        T (reply_carries_any_content_type_and_extra_headers),
        T (reply_header_refuses_line_breaks_and_bad_names),
        T (reply_adopts_a_buffer_as_its_body_without_copying),
        T (reply_error_writes_json_and_keeps_headers),
        T (reply_set_text_sets_status_type_and_body),
        T (reply_stream_mark_carries_its_open_callback),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_reply", tests, NULL, NULL);
}
