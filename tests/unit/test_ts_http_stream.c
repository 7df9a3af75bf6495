/*  test_ts_http_stream - answers too large to hold encoded whole: a
    GET /v1/series over the streaming threshold is produced a part at a
    time (ts_route, ts_json_series_part), and a connection writes a
    produced body as chunks, one part in memory at a time
    (ts_http_conn over a socketpair). The parts, put together, are byte
    for byte the answer ts_json_series writes. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ts_log.h"
#include "../../gateway/ts_route.h"
#include "../../gateway/ts_http_conn.h"
#include "ts_testutil.h"

#define KEY         "demo"
#define ROUTE_BROKER "inproc://test-ts-http-stream-nobody"
#define BIG_POINTS  70000           //  over the route's threshold (65,536)
#define T0_MS       1700000000000LL

//  --- the route produces a large answer in parts ---------------------

//  Runs a produced reply's parts into one text (NULL-terminated, freed by
//  the caller); *parts gets how many parts it took.
static char *
s_run_producer (ts_reply_t *reply, size_t *parts)
{
    ts_reply_producer_t producer;
    assert_true (ts_reply_take_producer (reply, &producer));
    assert_false (ts_reply_is_produced (reply));
    ts_json_t *all = ts_json_new ();
    ts_json_t *part = ts_json_new ();
    assert_non_null (all);
    assert_non_null (part);
    *parts = 0;
    int rc = 0;
    while (rc == 0 && *parts < 100000) {
        ts_json_reset (part);
        rc = producer.produce (producer.arg, part);
        assert_true (rc == 0 || rc == 1);
        ts_json_raw_n (all, ts_json_data (part), ts_json_size (part));
        (*parts)++;
    }
    assert_int_equal (rc, 1);
    producer.free (producer.arg);
    size_t size = 0;
    char *text = ts_json_detach (all, &size);
    ts_json_destroy (&all);
    ts_json_destroy (&part);
    return text;
}

static void
test_large_series_is_produced (void **state)
{
    ts_testutil_t *base = ts_testutil_new (64,
        "gateway:\n"
        "  broker_endpoint: " ROUTE_BROKER "\n");
    assert_non_null (base);
    char err [TS_ERRLEN] = "";
    ts_api_t *api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (api);
    ts_route_t *route = ts_route_new (api, base->cfg, KEY "\n", err);
    assert_non_null (route);
    ts_reply_t *out = ts_reply_new ();
    assert_non_null (out);

    const char *ids [] = { "big", "small" };
    assert_int_equal (ts_store_ids_add (base->store, ids, 2, NULL, err), 0);
    ts_points_t *pts = ts_points_new ();
    for (int i = 0; i < BIG_POINTS; i++)
        assert_int_equal (ts_points_append (pts, T0_MS + i * 1000LL,
                                            i % 2? "b": "a", i * 0.5), 0);
    assert_int_equal (ts_store_history_put (base->store, "big", pts, err), 0);
    ts_points_clear (pts);
    for (int i = 0; i < 10; i++)
        ts_points_append (pts, T0_MS + i * 1000LL, "a", i);
    assert_int_equal (ts_store_history_put (base->store, "small", pts, err),
                      0);
    ts_points_destroy (&pts);

    char target [160];
    snprintf (target, sizeof target, "/v1/series/big?from=%lld&to=%lld",
              (long long) T0_MS, (long long) (T0_MS + BIG_POINTS * 1000LL));
    ts_route_req_t req = { .method = "GET", .target = target,
                           .token = KEY, .token_len = strlen (KEY) };
    assert_int_equal (ts_route_handle (route, &req, out), 200);
    assert_true (ts_reply_is_produced (out));
    assert_string_equal (ts_reply_type (out), TS_REPLY_JSON);
    size_t parts = 0;
    char *text = s_run_producer (out, &parts);
    assert_true (parts > 10);           //  in parts, not whole

    json_error_t jerr;
    json_t *doc = json_loads (text, 0, &jerr);
    assert_non_null (doc);
    assert_string_equal (json_string_value (json_object_get (doc, "id")),
                         "big");
    json_t *points = json_object_get (doc, "points");
    assert_int_equal (json_array_size (points), BIG_POINTS);
    for (size_t i = 0; i < BIG_POINTS; i += 997) {
        json_t *p = json_array_get (points, i);
        assert_int_equal (json_integer_value (json_object_get (p, "time")),
                          T0_MS + (int64_t) i * 1000);
        assert_string_equal (json_string_value (json_object_get (p,
                             "measure")), i % 2? "b": "a");
    }
    json_decref (doc);
    free (text);

    //  A small answer is still one encoded body.
    snprintf (target, sizeof target, "/v1/series/small?from=%lld&to=%lld",
              (long long) T0_MS, (long long) (T0_MS + 60000));
    assert_int_equal (ts_route_handle (route, &req, out), 200);
    assert_false (ts_reply_is_produced (out));
    doc = json_loads (ts_reply_text (out), 0, &jerr);
    assert_non_null (doc);
    assert_int_equal (json_array_size (json_object_get (doc, "points")), 10);
    json_decref (doc);

    //  A reset (or destroy) frees a producer nobody took.
    snprintf (target, sizeof target, "/v1/series/big?from=%lld&to=%lld",
              (long long) T0_MS, (long long) (T0_MS + BIG_POINTS * 1000LL));
    assert_int_equal (ts_route_handle (route, &req, out), 200);
    assert_true (ts_reply_is_produced (out));
    ts_reply_reset (out);
    assert_false (ts_reply_is_produced (out));
    assert_int_equal (ts_route_handle (route, &req, out), 200);

    ts_reply_destroy (&out);
    ts_route_destroy (&route);
    ts_api_destroy (&api);
    ts_testutil_destroy (&base);
}

//  The parts of ts_json_series_part, whatever their size, are the whole
//  answer of ts_json_series.
static void
test_series_parts_match_whole (void **state)
{
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    assert_non_null (reply);
    ts_strlcpy (reply->id, "x", sizeof reply->id);
    reply->from_ms = 1;
    reply->to_ms = 99;
    for (int n_history = 0; n_history <= 3; n_history += 3)
    for (int n_forecast = 0; n_forecast <= 2; n_forecast += 2) {
        ts_points_clear (reply->series.history);
        ts_points_clear (reply->series.forecast);
        for (int i = 0; i < n_history; i++)
            ts_points_append (reply->series.history, i, "h", i / 3.0);
        for (int i = 0; i < n_forecast; i++)
            ts_points_append (reply->series.forecast, 10 + i, "f", i);
        reply->series.has_baseline = n_history > 0;
        reply->series.baseline_ms = n_history - 1;
        ts_json_t *whole = ts_json_new ();
        assert_int_equal (ts_json_series (whole, reply), 0);
        for (size_t max = 1; max <= 6; max++) {
            ts_json_t *parts = ts_json_new ();
            size_t at = 0;
            int rc = 0, calls = 0;
            while (rc == 0 && calls++ < 20)
                rc = ts_json_series_part (parts, reply, &at, max);
            assert_int_equal (rc, 1);
            assert_string_equal (ts_json_data (parts), ts_json_data (whole));
            //  Once complete, a further call adds nothing.
            assert_int_equal (ts_json_series_part (parts, reply, &at, max), 1);
            assert_string_equal (ts_json_data (parts), ts_json_data (whole));
            ts_json_destroy (&parts);
        }
        ts_json_destroy (&whole);
    }
    ts_msg_destroy (&reply);
}

//  --- a connection writes a produced body ----------------------------

typedef struct {
    int  parts;         //  parts to write
    int  written;       //  parts written
    bool freed;         //  the free callback ran
    bool fail;          //  the last part fails
} s_toy_t;

static int
s_toy_produce (void *arg, ts_json_t *part)
{
    s_toy_t *toy = arg;
    if (toy->fail && toy->written == toy->parts - 1)
        return TS_ENOMEM;
    char text [32];
    snprintf (text, sizeof text, "part%d;", toy->written);
    ts_json_raw (part, text);
    return ++toy->written == toy->parts? 1: 0;
}

static void
s_toy_free (void *arg)
{
    ((s_toy_t *) arg)->freed = true;
}

//  Answers a toy produced body on one end of a socketpair and reads
//  everything the other end gets until the connection has nothing more
//  to write. Returns the bytes read (freed by the caller); *rc gets the
//  last ts_http_conn_* result.
static char *
s_serve (s_toy_t *toy, bool head, bool http10, int *rc)
{
    int fds [2];
    assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), 0);
    fcntl (fds [0], F_SETFL, O_NONBLOCK);
    ts_h1_limits_t limits = { 0 };
    ts_http_conn_t *conn = ts_http_conn_new (fds [0], &limits);
    assert_non_null (conn);
    ts_reply_t *reply = ts_reply_new ();
    ts_reply_set_producer (reply, s_toy_produce, s_toy_free, toy);
    *rc = ts_http_conn_answer (conn, "Date: x\r\n", reply, head, false,
                               http10);
    assert_false (ts_reply_is_produced (reply));   //  the connection has it
    ts_reply_destroy (&reply);  //  the connection owns the producer now
    for (int i = 0; *rc == 0 && ts_http_conn_waiting (conn) && i < 1000; i++)
        *rc = ts_http_conn_flush (conn);
    ts_http_conn_destroy (&conn);       //  closes fds [0]
    assert_true (toy->freed);
    size_t cap = 65536, len = 0;
    char *got = calloc (1, cap);
    ssize_t n;
    while ((n = read (fds [1], got + len, cap - 1 - len)) > 0)
        len += (size_t) n;
    close (fds [1]);
    return got;
}

static void
test_conn_writes_chunks (void **state)
{
    s_toy_t toy = { .parts = 3 };
    int rc = -1;
    char *got = s_serve (&toy, false, false, &rc);
    assert_int_equal (rc, 0);
    assert_non_null (strstr (got, "HTTP/1.1 200 OK\r\n"));
    assert_non_null (strstr (got, "Transfer-Encoding: chunked\r\n"));
    assert_null (strstr (got, "Content-Length"));
    const char *body = strstr (got, "\r\n\r\n");
    assert_non_null (body);
    assert_string_equal (body + 4,
        "6\r\npart0;\r\n6\r\npart1;\r\n6\r\npart2;\r\n0\r\n\r\n");
    free (got);
}

static void
test_conn_http10_closes (void **state)
{
    s_toy_t toy = { .parts = 2 };
    int rc = -1;
    char *got = s_serve (&toy, false, true, &rc);
    assert_int_equal (rc, 0);
    assert_null (strstr (got, "Transfer-Encoding"));
    assert_null (strstr (got, "Content-Length"));
    assert_non_null (strstr (got, "Connection: close\r\n"));
    const char *body = strstr (got, "\r\n\r\n");
    assert_string_equal (body + 4, "part0;part1;");
    free (got);
}

static void
test_conn_head_has_no_body (void **state)
{
    s_toy_t toy = { .parts = 2 };
    int rc = -1;
    char *got = s_serve (&toy, true, false, &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (toy.written, 0);
    const char *body = strstr (got, "\r\n\r\n");
    assert_string_equal (body + 4, "");
    free (got);
}

//  A producer that fails cuts the connection: the client gets no
//  last chunk, so it cannot take the answer for whole.
static void
test_conn_producer_failure_cuts (void **state)
{
    s_toy_t toy = { .parts = 3, .fail = true };
    int rc = 0;
    char *got = s_serve (&toy, false, false, &rc);
    assert_int_equal (rc, -1);
    assert_null (strstr (got, "0\r\n\r\n"));
    free (got);
}

//  A slow client: the connection holds one part at a time, whatever the
//  body's size, and the client gets every part in order.
typedef struct {
    int parts;
    int written;
} s_big_t;

static int
s_big_produce (void *arg, ts_json_t *part)
{
    s_big_t *big = arg;
    char text [1024];
    memset (text, 'a' + big->written % 26, sizeof text - 1);
    text [sizeof text - 1] = 0;
    ts_json_raw (part, text);
    return ++big->written == big->parts? 1: 0;
}

static void
s_big_free (void *arg)
{
}

static void
test_conn_slow_client (void **state)
{
    int fds [2];
    assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), 0);
    fcntl (fds [0], F_SETFL, O_NONBLOCK);
    fcntl (fds [1], F_SETFL, O_NONBLOCK);
    int small = 4096;
    setsockopt (fds [0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ts_h1_limits_t limits = { 0 };
    ts_http_conn_t *conn = ts_http_conn_new (fds [0], &limits);
    ts_reply_t *reply = ts_reply_new ();
    s_big_t big = { .parts = 2000 };        //  2 MB of body
    ts_reply_set_producer (reply, s_big_produce, s_big_free, &big);
    assert_int_equal (ts_http_conn_answer (conn, "", reply, false, false,
                                           false), 0);
    ts_reply_destroy (&reply);
    size_t cap = 4 << 20, len = 0, max_held = 0;
    char *got = malloc (cap);
    for (int i = 0; i < 1000000 && (ts_http_conn_waiting (conn)
                                    || len == 0); i++) {
        ssize_t n = read (fds [1], got + len, 1500);
        if (n > 0)
            len += (size_t) n;
        assert_int_equal (ts_http_conn_flush (conn), 0);
        if (conn->out_cap > max_held)
            max_held = conn->out_cap;
    }
    assert_false (ts_http_conn_waiting (conn));
    ssize_t n;
    while ((n = read (fds [1], got + len, cap - len)) > 0)
        len += (size_t) n;
    assert_int_equal (big.written, 2000);
    assert_true (max_held <= 8192);         //  one 1 KB part, framed
    //  The body: 2000 chunks of 1023 bytes (3ff), then the last chunk.
    const char *body = memmem (got, len, "\r\n\r\n", 4) + 4;
    for (int k = 0; k < 2000; k++) {
        assert_memory_equal (body, "3ff\r\n", 5);
        assert_int_equal (body [5], 'a' + k % 26);
        body += 5 + 1023 + 2;
    }
    assert_memory_equal (body, "0\r\n\r\n", 5);
    assert_int_equal ((size_t) (body + 5 - got), len);
    free (got);
    ts_http_conn_destroy (&conn);
    close (fds [1]);
}

int
main (void)
{
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_series_parts_match_whole),
        cmocka_unit_test (test_large_series_is_produced),
        cmocka_unit_test (test_conn_writes_chunks),
        cmocka_unit_test (test_conn_http10_closes),
        cmocka_unit_test (test_conn_head_has_no_body),
        cmocka_unit_test (test_conn_producer_failure_cuts),
        cmocka_unit_test (test_conn_slow_client),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
