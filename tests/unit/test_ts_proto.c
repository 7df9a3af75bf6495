/*  test_ts_proto - the msgpack codec: every message round-trips, and every
    kind of bad input (truncated, oversized, wrong-typed, unknown op, bad
    version, trailing bytes, invalid names, broken columns) is an error
    with a precise detail. A deterministic mutation loop feeds thousands of
    damaged encodings to the decoder, which must answer without crashing.

    Malformed messages are built here with msgpack-c directly, since the
    codec refuses to write them. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>

#include "ts_proto.h"

//  ---------------------------------------------------------------------
//  Helpers

//  Encodes msg, decodes it into a fresh message and returns that.
static ts_msg_t *
s_round_trip (const ts_msg_t *msg)
{
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    ts_msg_t *copy = ts_msg_new (TS_OP_PING);
    assert_non_null (copy);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (copy, data, size, TS_PROTO_MAX_REQUEST, err);
    if (rc)
        fail_msg ("decode failed: %s", err);
    free (data);
    return copy;
}

static void
s_assert_points_equal (const ts_points_t *a, const ts_points_t *b)
{
    assert_int_equal (a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal (a->pts [i].time_ms, b->pts [i].time_ms);
        assert_string_equal (a->pts [i].measure, b->pts [i].measure);
        assert_memory_equal (&a->pts [i].value, &b->pts [i].value,
                             sizeof (double));
    }
}

static void
s_assert_msg_equal (const ts_msg_t *a, const ts_msg_t *b)
{
    assert_int_equal (a->op, b->op);
    assert_int_equal (a->status, b->status);
    assert_string_equal (a->error, b->error);
    assert_string_equal (a->detail, b->detail);
    assert_string_equal (a->id, b->id);
    assert_string_equal (a->measure, b->measure);
    assert_int_equal (a->has_from, b->has_from);
    assert_int_equal (a->has_to, b->has_to);
    if (a->has_from)
        assert_int_equal (a->from_ms, b->from_ms);
    if (a->has_to)
        assert_int_equal (a->to_ms, b->to_ms);
    assert_int_equal (a->ids->n, b->ids->n);
    for (size_t i = 0; i < a->ids->n; i++)
        assert_string_equal (a->ids->items [i], b->ids->items [i]);
    assert_int_equal (a->job, b->job);
    assert_int_equal (a->credit, b->credit);
    assert_int_equal (a->count, b->count);
    assert_int_equal (a->has_series, b->has_series);
    assert_int_equal (a->series.has_baseline, b->series.has_baseline);
    if (a->series.has_baseline)
        assert_int_equal (a->series.baseline_ms, b->series.baseline_ms);
    s_assert_points_equal (a->series.history, b->series.history);
    s_assert_points_equal (a->series.forecast, b->series.forecast);
}

static void
s_check_round_trip (const ts_msg_t *msg)
{
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    ts_msg_destroy (&copy);
}

//  Decodes size bytes; asserts the code and that err contains expect.
static void
s_expect_error (const void *data, size_t size, size_t max_size,
                int code, const char *expect)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    assert_non_null (msg);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (msg, data, size, max_size, err);
    if (rc != code)
        fail_msg ("expected rc %d, got %d (%s)", code, rc, err);
    if (expect && !strstr (err, expect))
        fail_msg ("expected detail containing \"%s\", got \"%s\"",
                  expect, err);
    ts_msg_destroy (&msg);
}

//  A message under construction with msgpack-c directly.
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer  pk;
} s_raw_t;

static void
s_raw_init (s_raw_t *raw)
{
    msgpack_sbuffer_init (&raw->sbuf);
    msgpack_packer_init (&raw->pk, &raw->sbuf, msgpack_sbuffer_write);
}

static void
s_raw_str (s_raw_t *raw, const char *s)
{
    msgpack_pack_str_with_body (&raw->pk, s, strlen (s));
}

//  Starts {"v": 1, "op": op, ...} with extra more fields to come.
static void
s_raw_request (s_raw_t *raw, const char *op, size_t extra)
{
    s_raw_init (raw);
    msgpack_pack_map (&raw->pk, 2 + extra);
    s_raw_str (raw, "v");
    msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "op");
    s_raw_str (raw, op);
}

static void
s_raw_expect (s_raw_t *raw, int code, const char *expect)
{
    s_expect_error (raw->sbuf.data, raw->sbuf.size, TS_PROTO_MAX_REQUEST,
                    code, expect);
    msgpack_sbuffer_destroy (&raw->sbuf);
}

//  A query reply with two measures across history and forecast.
static ts_msg_t *
s_query_reply (bool with_history)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    assert_non_null (msg);
    msg->status = 200;
    ts_strlcpy (msg->id, "test-run", sizeof (msg->id));
    msg->has_series = true;
    msg->has_from = msg->has_to = true;
    msg->from_ms = 1732406400000;
    msg->to_ms = 1732492800000;
    ts_series_t *series = &msg->series;
    if (with_history) {
        assert_int_equal (ts_points_append (series->history, 1732406400000,
                                            "temp", 21.5), 0);
        assert_int_equal (ts_points_append (series->history, 1732406400000,
                                            "wind", -3.25), 0);
        assert_int_equal (ts_points_append (series->history, 1732410000000,
                                            "temp", 22.0), 0);
        series->has_baseline = true;
        series->baseline_ms = 1732410000000;
    }
    assert_int_equal (ts_points_append (series->forecast, 1732413600000,
                                        "wind", 1e-3), 0);
    assert_int_equal (ts_points_append (series->forecast, 1732417200000,
                                        "temp", 1e300), 0);
    return msg;
}

//  ---------------------------------------------------------------------
//  Round trips

static void
every_request_op_round_trips (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    assert_non_null (msg);
    for (int op = TS_OP_PING; op < TS_OP_COUNT_; op++) {
        ts_msg_reset (msg, (ts_op_t) op);
        switch (op) {
            case TS_OP_QUERY:
                ts_strlcpy (msg->id, "station:42.temp", sizeof (msg->id));
                msg->has_from = msg->has_to = true;
                msg->from_ms = -5;
                msg->to_ms = 1732492800000;
                ts_strlcpy (msg->measure, "temp", sizeof (msg->measure));
                break;
            case TS_OP_IDS_ADD:
            case TS_OP_HYDRATE:
            case TS_OP_JOB:
                assert_int_equal (ts_strlist_append (msg->ids, "a"), 0);
                assert_int_equal (ts_strlist_append (msg->ids, "b-2_x.y"),
                                  0);
                msg->job = op == TS_OP_JOB? UINT64_MAX: 0;
                break;
            case TS_OP_IDS_RM:
                ts_strlcpy (msg->id, "gone", sizeof (msg->id));
                break;
            case TS_OP_READY:
                msg->credit = 16;
                break;
            case TS_OP_DONE:
                msg->job = 7;
                break;
            case TS_OP_FAILED:
                msg->job = 8;
                ts_strlcpy (msg->detail, "upstream answered 502",
                            sizeof (msg->detail));
                break;
            default:
                break;
        }
        s_check_round_trip (msg);
    }
    ts_msg_destroy (&msg);
}

static void
query_without_range_or_measure_round_trips (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    ts_strlcpy (msg->id, "x", sizeof (msg->id));
    s_check_round_trip (msg);
    msg->has_to = true;
    msg->to_ms = 0;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
ok_error_and_list_replies_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 200);
    s_check_round_trip (msg);

    ts_msg_set_ok (msg, 202);
    msg->count = 12345678901ULL;
    s_check_round_trip (msg);

    ts_msg_set_ok (msg, 200);
    for (int i = 0; i < 100; i++) {
        char id [16];
        snprintf (id, sizeof (id), "id-%d", i);
        assert_int_equal (ts_strlist_append (msg->ids, id), 0);
    }
    s_check_round_trip (msg);

    ts_msg_set_error (msg, 400, "bad_range", "from > to");
    s_check_round_trip (msg);
    ts_msg_set_error (msg, 503, "unavailable", NULL);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
query_reply_with_two_measures_and_baseline_round_trips (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    assert_true (copy->series.has_baseline);
    assert_string_equal (copy->series.history->pts [1].measure, "wind");
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

static void
query_reply_with_nil_baseline_round_trips (void **state)
{
    ts_msg_t *msg = s_query_reply (false);
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    assert_false (copy->series.has_baseline);
    ts_msg_destroy (&copy);

    //  An empty answer still says it is one
    ts_points_clear (msg->series.forecast);
    copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    assert_true (copy->has_series);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

static void
query_reply_names_measures_in_order_of_first_appearance (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&unpacked, data, size, &off),
                      MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *root = &unpacked.data;
    const msgpack_object *measures = NULL, *history = NULL;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr [i];
        if (kv->key.via.str.size == 8
        &&  memcmp (kv->key.via.str.ptr, "measures", 8) == 0)
            measures = &kv->val;
        if (kv->key.via.str.size == 7
        &&  memcmp (kv->key.via.str.ptr, "history", 7) == 0)
            history = &kv->val;
    }
    assert_non_null (measures);
    assert_int_equal (measures->via.array.size, 2);
    assert_memory_equal (measures->via.array.ptr [0].via.str.ptr, "temp", 4);
    assert_memory_equal (measures->via.array.ptr [1].via.str.ptr, "wind", 4);
    //  Values are always float64, even the integral 22.0
    assert_non_null (history);
    const msgpack_object *v = &history->via.map.ptr [2].val;
    assert_int_equal (v->via.array.ptr [2].type, MSGPACK_OBJECT_FLOAT64);
    msgpack_unpacked_destroy (&unpacked);
    free (data);
    ts_msg_destroy (&msg);
}

static void
query_reply_with_many_measures_round_trips (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    msg->status = 200;
    msg->has_series = msg->has_from = msg->has_to = true;
    ts_strlcpy (msg->id, "many", sizeof (msg->id));
    for (int i = 0; i < 2000; i++) {
        char name [16];
        snprintf (name, sizeof (name), "m%d", i % 40);
        assert_int_equal (ts_points_append (msg->series.history, i, name,
                                            i * 0.5), 0);
    }
    msg->series.has_baseline = true;
    msg->series.baseline_ms = 1999;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
decode_accepts_integer_values_and_ignores_unknown_keys (void **state)
{
    s_raw_t raw;
    s_raw_init (&raw);
    msgpack_packer *pk = &raw.pk;
    msgpack_pack_map (pk, 10);
    s_raw_str (&raw, "future");
    msgpack_pack_array (pk, 1);
    msgpack_pack_map (pk, 0);
    s_raw_str (&raw, "v");        msgpack_pack_int (pk, 1);
    s_raw_str (&raw, "status");   msgpack_pack_int (pk, 200);
    s_raw_str (&raw, "id");       s_raw_str (&raw, "s1");
    s_raw_str (&raw, "from");     msgpack_pack_int (pk, 0);
    s_raw_str (&raw, "to");       msgpack_pack_int (pk, 100);
    s_raw_str (&raw, "baseline"); msgpack_pack_int (pk, 10);
    s_raw_str (&raw, "measures");
    msgpack_pack_array (pk, 1);   s_raw_str (&raw, "value");
    s_raw_str (&raw, "history");
    msgpack_pack_map (pk, 4);
    s_raw_str (&raw, "t"); msgpack_pack_array (pk, 2);
    msgpack_pack_int (pk, 5); msgpack_pack_int (pk, 10);
    s_raw_str (&raw, "m"); msgpack_pack_array (pk, 2);
    msgpack_pack_int (pk, 0); msgpack_pack_int (pk, 0);
    s_raw_str (&raw, "v"); msgpack_pack_array (pk, 2);
    msgpack_pack_int (pk, -7); msgpack_pack_float (pk, 2.5f);
    s_raw_str (&raw, "unit"); s_raw_str (&raw, "celsius");
    s_raw_str (&raw, "forecast");
    msgpack_pack_map (pk, 3);
    s_raw_str (&raw, "t"); msgpack_pack_array (pk, 0);
    s_raw_str (&raw, "m"); msgpack_pack_array (pk, 0);
    s_raw_str (&raw, "v"); msgpack_pack_array (pk, 0);

    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                            TS_PROTO_MAX_REQUEST, err);
    if (rc)
        fail_msg ("decode failed: %s", err);
    assert_int_equal (msg->op, TS_OP_REPLY);
    assert_true (msg->has_series);
    assert_int_equal (msg->series.history->n, 2);
    assert_true (msg->series.history->pts [0].value == -7.0);
    assert_true (msg->series.history->pts [1].value == 2.5);
    assert_string_equal (msg->series.history->pts [1].measure, "value");
    assert_int_equal (msg->series.baseline_ms, 10);
    ts_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&raw.sbuf);
}

static void
decode_reuses_a_message_and_resets_it_first (void **state)
{
    ts_msg_t *reply = s_query_reply (true);
    ts_msg_t *msg = s_round_trip (reply);
    ts_msg_t *ping = ts_msg_new (TS_OP_PING);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (ping, &data, &size), 0);
    char err [TS_ERRLEN];
    assert_int_equal (ts_msg_decode (msg, data, size, size, err), 0);
    s_assert_msg_equal (ping, msg);
    free (data);
    ts_msg_destroy (&ping);
    ts_msg_destroy (&msg);
    ts_msg_destroy (&reply);
}

static void
op_names_match_the_wire (void **state)
{
    assert_string_equal (ts_op_name (TS_OP_QUERY), "query");
    assert_string_equal (ts_op_name (TS_OP_IDS_ADD), "ids_add");
    assert_string_equal (ts_op_name (TS_OP_HEARTBEAT), "heartbeat");
    assert_string_equal (ts_op_name (TS_OP_COUNT_), "?");
    assert_string_equal (ts_op_name ((ts_op_t) -1), "?");
}

//  ---------------------------------------------------------------------
//  Errors

static void
decode_rejects_every_truncation (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    for (size_t cut = 1; cut < size; cut++)
        s_expect_error (data, cut, TS_PROTO_MAX_REQUEST, TS_EPROTO,
                        "truncated message");
    s_expect_error (data, 0, TS_PROTO_MAX_REQUEST, TS_EPROTO,
                    "empty message");
    free (data);
    ts_msg_destroy (&msg);
}

static void
decode_rejects_oversized_message (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    s_expect_error (data, size, size - 1, TS_ETOOBIG, "over the limit");
    free (data);
    ts_msg_destroy (&msg);
}

static void
decode_rejects_trailing_bytes (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    char buf [64];
    memcpy (buf, data, size);
    buf [size] = (char) 0xc0;
    buf [size + 1] = 0x01;
    s_expect_error (buf, size + 2, sizeof (buf), TS_EPROTO,
                    "2 trailing bytes after the message");
    free (data);
    ts_msg_destroy (&msg);
}

static void
decode_rejects_non_map (void **state)
{
    const uint8_t array [] = { 0x92, 0x01, 0x02 };
    s_expect_error (array, sizeof (array), 100, TS_EPROTO,
                    "message is not a map (got an array)");
    const uint8_t nil [] = { 0xc0 };
    s_expect_error (nil, 1, 100, TS_EPROTO, "not a map (got nil)");
    const uint8_t invalid [] = { 0x81, 0xc1, 0x01 };
    s_expect_error (invalid, sizeof (invalid), 100, TS_EPROTO,
                    "invalid msgpack byte 0xc1 at offset 1");
}

static void
decode_rejects_bad_or_missing_version (void **state)
{
    s_raw_t raw;
    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 2);
    s_raw_str (&raw, "v");
    msgpack_pack_int (&raw.pk, 2);
    s_raw_str (&raw, "op");
    s_raw_str (&raw, "ping");
    s_raw_expect (&raw, TS_EPROTO, "unsupported protocol version 2");

    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 1);
    s_raw_str (&raw, "op");
    s_raw_str (&raw, "ping");
    s_raw_expect (&raw, TS_EPROTO, "missing field 'v'");

    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 2);
    s_raw_str (&raw, "v");
    s_raw_str (&raw, "1");
    s_raw_str (&raw, "op");
    s_raw_str (&raw, "ping");
    s_raw_expect (&raw, TS_EPROTO, "field 'v': expected an integer");
}

static void
decode_rejects_unknown_op (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "x", 0);
    s_raw_expect (&raw, TS_EPROTO, "unknown op 'x'");
    s_raw_request (&raw, "reply", 0);
    s_raw_expect (&raw, TS_EPROTO, "unknown op 'reply'");

    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 2);
    s_raw_str (&raw, "v");
    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "op");
    msgpack_pack_int (&raw.pk, 3);
    s_raw_expect (&raw, TS_EPROTO, "field 'op': expected a string");
}

static void
decode_rejects_op_and_status_together_or_neither (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "ping", 1);
    s_raw_str (&raw, "status");
    msgpack_pack_int (&raw.pk, 200);
    s_raw_expect (&raw, TS_EPROTO, "both 'op' and 'status'");

    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 1);
    s_raw_str (&raw, "v");
    msgpack_pack_int (&raw.pk, 1);
    s_raw_expect (&raw, TS_EPROTO, "neither 'op' nor 'status'");
}

static void
decode_rejects_wrong_types (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "from");
    s_raw_str (&raw, "yesterday");
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'from': expected an integer, got a string");

    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "to");
    msgpack_pack_uint64 (&raw.pk, UINT64_MAX);
    s_raw_expect (&raw, TS_EPROTO, "field 'to': integer out of range");

    s_raw_request (&raw, "query", 1);
    s_raw_str (&raw, "id");
    msgpack_pack_double (&raw.pk, 1.0);
    s_raw_expect (&raw, TS_EPROTO, "field 'id': expected a string");

    s_raw_request (&raw, "done", 1);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, -1);
    s_raw_expect (&raw, TS_EPROTO, "field 'job': expected a non-negative");

    s_raw_request (&raw, "ids_add", 1);
    s_raw_str (&raw, "ids");
    s_raw_str (&raw, "a");
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': expected an array");

    s_raw_request (&raw, "hydrate", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 2);
    s_raw_str (&raw, "a");
    msgpack_pack_nil (&raw.pk);
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': item 1: expected a string");

    s_raw_request (&raw, "failed", 2);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "detail");
    msgpack_pack_true (&raw.pk);
    s_raw_expect (&raw, TS_EPROTO, "field 'detail': expected a string");

    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 2);
    s_raw_str (&raw, "v");
    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "status");
    s_raw_str (&raw, "200");
    s_raw_expect (&raw, TS_EPROTO, "field 'status': expected an integer");
}

static void
decode_rejects_missing_required_fields (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "query", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'id'");
    s_raw_request (&raw, "ids_add", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'ids'");
    s_raw_request (&raw, "ready", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'credit'");
    s_raw_request (&raw, "job", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'job'");
    s_raw_request (&raw, "failed", 1);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, 1);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'detail'");
}

static void
decode_rejects_invalid_names (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "query", 1);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a b");
    s_raw_expect (&raw, TS_EPROTO, "field 'id': not a valid name");

    s_raw_request (&raw, "ids_rm", 1);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "");
    s_raw_expect (&raw, TS_EPROTO, "field 'id': not a valid name");

    char long_id [TS_NAME_MAX + 2];
    memset (long_id, 'a', sizeof (long_id) - 1);
    long_id [sizeof (long_id) - 1] = 0;
    s_raw_request (&raw, "ids_rm", 1);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, long_id);
    s_raw_expect (&raw, TS_EPROTO, "field 'id': not a valid name");

    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "ok");
    s_raw_str (&raw, "measure");
    s_raw_str (&raw, "temp/../x");
    s_raw_expect (&raw, TS_EPROTO, "field 'measure': not a valid name");

    s_raw_request (&raw, "ids_add", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 2);
    s_raw_str (&raw, "fine");
    msgpack_pack_str_with_body (&raw.pk, "nul\0id", 6);
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': item 1: not a valid name");
}

static void
decode_rejects_lists_over_limit (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "ids_add", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, TS_PROTO_MAX_IDS + 1);
    for (int i = 0; i <= TS_PROTO_MAX_IDS; i++)
        s_raw_str (&raw, "a");
    s_raw_expect (&raw, TS_ETOOBIG, "10001 ids, over the limit of 10000");

    s_raw_request (&raw, "hydrate", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': expected at least 1 id");

    s_raw_request (&raw, "ready", 1);
    s_raw_str (&raw, "credit");
    msgpack_pack_int (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'credit': 0 is not in 1..10000");

    s_raw_request (&raw, "ready", 1);
    s_raw_str (&raw, "credit");
    msgpack_pack_int (&raw.pk, 10001);
    s_raw_expect (&raw, TS_EPROTO, "not in 1..10000");
}

static void
decode_rejects_duplicate_keys (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "ids_rm", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "b");
    s_raw_expect (&raw, TS_EPROTO, "duplicate key 'id'");
}

//  A reply with the given columns for history; forecast empty.
static void
s_raw_series (s_raw_t *raw, uint32_t nt, uint32_t nm, uint32_t nv,
              uint32_t m_index, uint32_t measures)
{
    s_raw_init (raw);
    msgpack_packer *pk = &raw->pk;
    msgpack_pack_map (pk, 9);
    s_raw_str (raw, "v");        msgpack_pack_int (pk, 1);
    s_raw_str (raw, "status");   msgpack_pack_int (pk, 200);
    s_raw_str (raw, "id");       s_raw_str (raw, "s1");
    s_raw_str (raw, "from");     msgpack_pack_int (pk, 0);
    s_raw_str (raw, "to");       msgpack_pack_int (pk, 100);
    s_raw_str (raw, "baseline"); msgpack_pack_nil (pk);
    s_raw_str (raw, "measures");
    msgpack_pack_array (pk, measures);
    for (uint32_t i = 0; i < measures; i++) {
        char name [16];
        snprintf (name, sizeof (name), "m%u", i);
        s_raw_str (raw, name);
    }
    s_raw_str (raw, "history");
    msgpack_pack_map (pk, 3);
    s_raw_str (raw, "t"); msgpack_pack_array (pk, nt);
    for (uint32_t i = 0; i < nt; i++)
        msgpack_pack_int (pk, 0);
    s_raw_str (raw, "m"); msgpack_pack_array (pk, nm);
    for (uint32_t i = 0; i < nm; i++)
        msgpack_pack_uint32 (pk, m_index);
    s_raw_str (raw, "v"); msgpack_pack_array (pk, nv);
    for (uint32_t i = 0; i < nv; i++)
        msgpack_pack_int (pk, 0);
    s_raw_str (raw, "forecast");
    msgpack_pack_map (pk, 3);
    s_raw_str (raw, "t"); msgpack_pack_array (pk, 0);
    s_raw_str (raw, "m"); msgpack_pack_array (pk, 0);
    s_raw_str (raw, "v"); msgpack_pack_array (pk, 0);
}

static void
decode_rejects_broken_series_columns (void **state)
{
    s_raw_t raw;
    s_raw_series (&raw, 3, 3, 2, 0, 1);
    s_raw_expect (&raw, TS_EPROTO, "field 'history': 't', 'm' and 'v' "
                  "have different lengths (3, 3, 2)");
    s_raw_series (&raw, 2, 2, 2, 1, 1);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'history.m': index 1 out of range (1 measures)");
    s_raw_series (&raw, 1, 1, 1, 0, 0);
    s_raw_expect (&raw, TS_EPROTO, "index 0 out of range (0 measures)");
    s_raw_series (&raw, 1, 1, 1, 0, 1025);
    s_raw_expect (&raw, TS_ETOOBIG, "1025 measures, over the limit");

    //  A series field without the rest
    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 3);
    s_raw_str (&raw, "v");        msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "status");   msgpack_pack_int (&raw.pk, 200);
    s_raw_str (&raw, "baseline"); msgpack_pack_nil (&raw.pk);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'id'");
}

static void
decode_rejects_reply_over_point_limit (void **state)
{
    s_raw_t raw;
    uint32_t n = TS_PROTO_MAX_POINTS + 1;
    s_raw_series (&raw, n, n, n, 0, 1);
    s_expect_error (raw.sbuf.data, raw.sbuf.size, raw.sbuf.size,
                    TS_ETOOBIG, "1000001 points, over the limit of 1000000");
    msgpack_sbuffer_destroy (&raw.sbuf);
}

static void
decode_rejects_huge_counts_without_allocating_them (void **state)
{
    //  array32 claiming 4 billion items, map32 likewise
    const uint8_t array [] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
    s_expect_error (array, sizeof (array), 100, TS_EPROTO,
                    "truncated message");
    const uint8_t map [] = { 0x81, 0xa1, 0x76, 0xdf, 0x7f, 0xff, 0xff,
                             0xff };
    s_expect_error (map, sizeof (map), 100, TS_EPROTO, "truncated message");
    const uint8_t str [] = { 0xdb, 0xff, 0xff, 0xff, 0xf0, 0x41 };
    s_expect_error (str, sizeof (str), 100, TS_EPROTO, "truncated message");
}

static void
decode_rejects_deep_nesting (void **state)
{
    uint8_t deep [100];
    memset (deep, 0x91, sizeof (deep));
    deep [sizeof (deep) - 1] = 0x01;
    s_expect_error (deep, sizeof (deep), 1000, TS_EPROTO,
                    "nested deeper than");
}

static void
error_detail_longer_than_the_buffer_is_cut (void **state)
{
    char detail [1000];
    memset (detail, 'x', sizeof (detail) - 1);
    detail [sizeof (detail) - 1] = 0;
    s_raw_t raw;
    s_raw_init (&raw);
    msgpack_pack_map (&raw.pk, 3);
    s_raw_str (&raw, "v");      msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "status"); msgpack_pack_int (&raw.pk, 500);
    s_raw_str (&raw, "detail"); s_raw_str (&raw, detail);
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN];
    assert_int_equal (ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                                     TS_PROTO_MAX_REQUEST, err), 0);
    assert_int_equal (strlen (msg->detail), TS_ERRLEN - 1);
    ts_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&raw.sbuf);
}

//  ---------------------------------------------------------------------
//  Mutation loop

static uint64_t
s_rand (uint64_t *state)
{
    //  xorshift64*: deterministic and good enough to pick bytes
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

static void
decode_survives_random_mutations (void **state)
{
    //  Seeds: one valid encoding of each kind
    char *seeds [8];
    size_t sizes [8];
    size_t nseeds = 0;
    ts_msg_t *msg = s_query_reply (true);
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_destroy (&msg);
    msg = ts_msg_new (TS_OP_QUERY);
    ts_strlcpy (msg->id, "test-run", sizeof (msg->id));
    msg->has_from = msg->has_to = true;
    msg->from_ms = 1732406400000;
    msg->to_ms = 1732492800000;
    ts_strlcpy (msg->measure, "temp", sizeof (msg->measure));
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_reset (msg, TS_OP_JOB);
    msg->job = 99;
    ts_strlist_append (msg->ids, "a");
    ts_strlist_append (msg->ids, "b");
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_set_error (msg, 404, "not_found", "unknown id 'x'");
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;

    uint64_t rng = 0x5eed1234abcdULL;
    char err [TS_ERRLEN];
    uint8_t buf [1024];
    size_t ok = 0, failed = 0;
    for (int round = 0; round < 20000; round++) {
        size_t which = s_rand (&rng) % nseeds;
        size_t size = sizes [which];
        assert_true (size <= sizeof (buf));
        memcpy (buf, seeds [which], size);
        int edits = 1 + (int) (s_rand (&rng) % 4);
        for (int e = 0; e < edits; e++) {
            uint64_t r = s_rand (&rng);
            size_t at = (size_t) (r >> 8) % (size? size: 1);
            switch (r % 4) {
                case 0:         //  flip a bit
                    buf [at] ^= (uint8_t) (1u << ((r >> 40) % 8));
                    break;
                case 1:         //  random byte
                    buf [at] = (uint8_t) (r >> 32);
                    break;
                case 2:         //  truncate
                    size = at;
                    break;
                default:        //  interesting byte (lengths, formats)
                    {
                        static const uint8_t magic [] = {
                            0x00, 0x7f, 0x80, 0x8f, 0x9f, 0xbf, 0xc0,
                            0xc1, 0xcb, 0xcf, 0xd3, 0xdb, 0xdd, 0xdf, 0xff
                        };
                        buf [at] = magic [(r >> 32) % sizeof (magic)];
                    }
                    break;
            }
        }
        int rc = ts_msg_decode (msg, buf, size, sizeof (buf), err);
        assert_true (rc == 0 || rc == TS_EPROTO || rc == TS_ETOOBIG);
        if (rc == 0)
            ok++;
        else {
            assert_true (err [0] != 0);
            failed++;
        }
    }
    //  Both outcomes happen: the loop exercises more than the scanner
    assert_true (ok > 0);
    assert_true (failed > 0);
    for (size_t i = 0; i < nseeds; i++)
        free (seeds [i]);
    ts_msg_destroy (&msg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (every_request_op_round_trips),
        cmocka_unit_test (query_without_range_or_measure_round_trips),
        cmocka_unit_test (ok_error_and_list_replies_round_trip),
        cmocka_unit_test (query_reply_with_two_measures_and_baseline_round_trips),
        cmocka_unit_test (query_reply_with_nil_baseline_round_trips),
        cmocka_unit_test (query_reply_names_measures_in_order_of_first_appearance),
        cmocka_unit_test (query_reply_with_many_measures_round_trips),
        cmocka_unit_test (decode_accepts_integer_values_and_ignores_unknown_keys),
        cmocka_unit_test (decode_reuses_a_message_and_resets_it_first),
        cmocka_unit_test (op_names_match_the_wire),
        cmocka_unit_test (decode_rejects_every_truncation),
        cmocka_unit_test (decode_rejects_oversized_message),
        cmocka_unit_test (decode_rejects_trailing_bytes),
        cmocka_unit_test (decode_rejects_non_map),
        cmocka_unit_test (decode_rejects_bad_or_missing_version),
        cmocka_unit_test (decode_rejects_unknown_op),
        cmocka_unit_test (decode_rejects_op_and_status_together_or_neither),
        cmocka_unit_test (decode_rejects_wrong_types),
        cmocka_unit_test (decode_rejects_missing_required_fields),
        cmocka_unit_test (decode_rejects_invalid_names),
        cmocka_unit_test (decode_rejects_lists_over_limit),
        cmocka_unit_test (decode_rejects_duplicate_keys),
        cmocka_unit_test (decode_rejects_broken_series_columns),
        cmocka_unit_test (decode_rejects_reply_over_point_limit),
        cmocka_unit_test (decode_rejects_huge_counts_without_allocating_them),
        cmocka_unit_test (decode_rejects_deep_nesting),
        cmocka_unit_test (error_detail_longer_than_the_buffer_is_cut),
        cmocka_unit_test (decode_survives_random_mutations),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto", tests, NULL, NULL);
}
