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
        assert_int_equal (a->time_ms [i], b->time_ms [i]);
        assert_string_equal (ts_points_measure (a, i), ts_points_measure (b, i));
        assert_memory_equal (&a->value [i], &b->value [i],
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
    assert_int_equal (a->retry, b->retry);
    assert_int_equal (a->retry_after_ms, b->retry_after_ms);
    assert_int_equal (a->count, b->count);
    assert_int_equal (a->has_stats, b->has_stats);
    assert_int_equal (a->stats.queued, b->stats.queued);
    assert_int_equal (a->stats.delayed, b->stats.delayed);
    assert_int_equal (a->stats.leased, b->stats.leased);
    assert_int_equal (a->stats.dlq, b->stats.dlq);
    assert_int_equal (a->stats.done, b->stats.done);
    assert_int_equal (a->stats.failed, b->stats.failed);
    assert_int_equal (a->stats.retried, b->stats.retried);
    assert_int_equal (a->stats.dead_lettered, b->stats.dead_lettered);
    assert_int_equal (a->stats.oldest_age_ms, b->stats.oldest_age_ms);
    assert_int_equal (a->stats.workers_n, b->stats.workers_n);
    for (size_t i = 0; i < a->stats.workers_n; i++) {
        assert_string_equal (a->stats.workers [i].name,
                             b->stats.workers [i].name);
        assert_int_equal (a->stats.workers [i].credit,
                          b->stats.workers [i].credit);
        assert_int_equal (a->stats.workers [i].leased,
                          b->stats.workers [i].leased);
    }
    assert_int_equal (a->has_dlq, b->has_dlq);
    assert_int_equal (a->dlq_n, b->dlq_n);
    for (size_t i = 0; i < a->dlq_n; i++) {
        const ts_dlq_entry_t *x = &a->dlq [i], *y = &b->dlq [i];
        assert_int_equal (x->job, y->job);
        assert_int_equal (x->ids->n, y->ids->n);
        for (size_t j = 0; j < x->ids->n; j++)
            assert_string_equal (x->ids->items [j], y->ids->items [j]);
        assert_int_equal (x->receives, y->receives);
        assert_int_equal (x->dead_at_ms, y->dead_at_ms);
        assert_string_equal (x->error, y->error);
    }
    assert_string_equal (a->after, b->after);
    assert_int_equal (a->limit, b->limit);
    assert_string_equal (a->next, b->next);
    assert_int_equal (a->jobs_n, b->jobs_n);
    for (size_t i = 0; i < a->jobs_n; i++)
        assert_int_equal (a->jobs [i], b->jobs [i]);
    assert_int_equal (a->has_states, b->has_states);
    assert_int_equal (a->states_n, b->states_n);
    for (size_t i = 0; i < a->states_n; i++) {
        assert_int_equal (a->states [i].job, b->states [i].job);
        assert_int_equal (a->states [i].status, b->states [i].status);
        assert_int_equal (a->states [i].receives, b->states [i].receives);
        assert_string_equal (a->states [i].error, b->states [i].error);
    }
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

//  Starts {"v": 1, "status": 200, ...} with extra more fields to come.
static void
s_raw_reply (s_raw_t *raw, size_t extra)
{
    s_raw_init (raw);
    msgpack_pack_map (&raw->pk, 2 + extra);
    s_raw_str (raw, "v");
    msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "status");
    msgpack_pack_int (&raw->pk, 200);
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
                ts_strlcpy (msg->detail, "upstream answered 429",
                            sizeof (msg->detail));
                msg->retry = false;
                msg->retry_after_ms = 30000;
                break;
            case TS_OP_DLQ_REDRIVE:
                assert_int_equal (ts_strlist_append (msg->ids, "x:1"), 0);
                break;
            case TS_OP_IDS_LS:
                ts_strlcpy (msg->after, "station-9", sizeof (msg->after));
                msg->limit = TS_PROTO_IDS_PAGE;
                break;
            case TS_OP_JOB_STATE:
                assert_int_equal (ts_msg_add_job (msg, 1), 0);
                assert_int_equal (ts_msg_add_job (msg, UINT64_MAX), 0);
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
    assert_string_equal (ts_points_measure (copy->series.history, 1), "wind");
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

//  A list's table may name a measure no point of it uses any more (the
//  merge rule dropped those points): the reply names only used ones.
static void
query_reply_names_only_the_measures_its_points_use (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    ts_points_t *fc = msg->series.forecast;
    assert_int_equal (ts_points_append (fc, 1732406400000, "rain", 1), 0);
    ts_series_merge (&msg->series);     //  drops the rain point
    assert_int_equal (fc->n_measures, 3);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    ts_msg_t *back = ts_msg_new (TS_OP_REPLY);
    assert_non_null (back);
    char err [TS_ERRLEN];
    assert_int_equal (ts_msg_decode (back, data, size, 64 << 20, err), 0);
    assert_int_equal (back->series.forecast->n, 2);
    assert_int_equal (back->series.history->n_measures
                      + back->series.forecast->n_measures, 4);
    for (size_t i = 0; i < back->series.forecast->n; i++)
        assert_string_not_equal (ts_points_measure (back->series.forecast, i),
                                 "rain");
    assert_null (memmem (data, size, "rain", 4));
    free (data);
    ts_msg_destroy (&back);
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

//  A stats reply with two workers, as the broker sends it.
static ts_msg_t *
s_stats_reply (void)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    assert_non_null (msg);
    ts_msg_set_ok (msg, 200);
    msg->has_stats = true;
    msg->stats.queued = 3;
    msg->stats.delayed = 1;
    msg->stats.leased = 2;
    msg->stats.dlq = 4;
    msg->stats.done = UINT64_MAX;
    msg->stats.failed = 9;
    msg->stats.retried = 5;
    msg->stats.dead_lettered = 4;
    msg->stats.oldest_age_ms = 125000;
    assert_int_equal (ts_msg_add_worker (msg, "006b8b4567", 14, 2), 0);
    assert_int_equal (ts_msg_add_worker (msg, "006b8b4568", UINT32_MAX, 0),
                      0);
    return msg;
}

//  A dlq_ls reply with two entries.
static ts_msg_t *
s_dlq_reply (void)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    assert_non_null (msg);
    ts_msg_set_ok (msg, 200);
    ts_strlist_t *ids = ts_strlist_new ();
    assert_int_equal (ts_strlist_append (ids, "station:1"), 0);
    assert_int_equal (ts_msg_add_dlq (msg, 41, ids, 3, 1732406400123,
                                      "upstream answered 503"), 0);
    assert_int_equal (ts_strlist_append (ids, "station:2"), 0);
    assert_int_equal (ts_msg_add_dlq (msg, UINT64_MAX, ids, 1, -1, ""), 0);
    ts_strlist_destroy (&ids);
    return msg;
}

static void
stats_reply_with_workers_round_trips (void **state)
{
    ts_msg_t *msg = s_stats_reply ();
    assert_true (msg->has_stats);
    assert_int_equal (msg->stats.workers_n, 2);
    s_check_round_trip (msg);

    //  No workers connected: an empty array, still a stats reply
    ts_msg_set_ok (msg, 200);
    msg->has_stats = true;
    msg->stats.queued = 1;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
dlq_reply_round_trips_with_and_without_entries (void **state)
{
    ts_msg_t *msg = s_dlq_reply ();
    assert_int_equal (msg->dlq_n, 2);
    assert_int_equal (msg->dlq [1].ids->n, 2);
    s_check_round_trip (msg);

    //  An empty DLQ is "dlq": [], so the client can tell it from a reply
    //  that carries no list
    ts_msg_set_ok (msg, 200);
    msg->has_dlq = true;
    ts_msg_t *copy = s_round_trip (msg);
    assert_true (copy->has_dlq);
    assert_int_equal (copy->dlq_n, 0);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

static void
add_helpers_grow_and_reset_frees_them (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    ts_strlist_t *ids = ts_strlist_new ();
    assert_int_equal (ts_strlist_append (ids, "a"), 0);
    char name [64];
    for (uint32_t i = 0; i < 300; i++) {
        snprintf (name, sizeof (name), "w%u", (unsigned) i);
        assert_int_equal (ts_msg_add_worker (msg, name, i, i + 1), 0);
        assert_int_equal (ts_msg_add_dlq (msg, i, ids, i, i, name), 0);
    }
    assert_int_equal (msg->stats.workers_n, 300);
    assert_int_equal (msg->dlq_n, 300);
    assert_string_equal (msg->stats.workers [299].name, "w299");
    assert_int_equal (msg->stats.workers [150].leased, 151);
    assert_string_equal (msg->dlq [299].error, "w299");
    assert_string_equal (msg->dlq [0].ids->items [0], "a");

    //  A name longer than the field is cut, never overflows
    char long_name [200];
    memset (long_name, 'f', sizeof (long_name) - 1);
    long_name [sizeof (long_name) - 1] = 0;
    assert_int_equal (ts_msg_add_worker (msg, long_name, 1, 1), 0);
    assert_int_equal (strlen (msg->stats.workers [300].name), 63);

    ts_msg_reset (msg, TS_OP_PING);
    assert_false (msg->has_stats);
    assert_false (msg->has_dlq);
    assert_int_equal (msg->stats.workers_n, 0);
    assert_int_equal (msg->dlq_n, 0);
    assert_null (msg->stats.workers);
    assert_null (msg->dlq);
    assert_true (msg->retry);

    //  Usable again after the reset; destroy frees what is left
    assert_int_equal (ts_msg_add_dlq (msg, 1, NULL, 1, 1, NULL), 0);
    assert_int_equal (msg->dlq [0].ids->n, 0);
    assert_string_equal (msg->dlq [0].error, "");
    ts_strlist_destroy (&ids);
    ts_msg_destroy (&msg);
}

static void
failed_defaults_to_retry_when_the_fields_are_absent (void **state)
{
    //  A failed from a worker that predates retry and retry_after_ms
    s_raw_t raw;
    s_raw_request (&raw, "failed", 2);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, 5);
    s_raw_str (&raw, "detail");
    s_raw_str (&raw, "timeout");
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    msg->retry = false;
    msg->retry_after_ms = 7;
    assert_int_equal (ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                                     TS_PROTO_MAX_REQUEST, err), 0);
    assert_int_equal (msg->op, TS_OP_FAILED);
    assert_true (msg->retry);
    assert_int_equal (msg->retry_after_ms, 0);
    msgpack_sbuffer_destroy (&raw.sbuf);

    //  retry true without advice, and the largest advice, round trip
    ts_msg_reset (msg, TS_OP_FAILED);
    msg->job = 5;
    s_check_round_trip (msg);
    msg->retry_after_ms = TS_PROTO_MAX_RETRY_AFTER_MS;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
dlq_redrive_without_ids_round_trips (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_DLQ_REDRIVE);
    ts_msg_t *copy = s_round_trip (msg);
    assert_int_equal (copy->op, TS_OP_DLQ_REDRIVE);
    assert_int_equal (copy->ids->n, 0);
    ts_msg_destroy (&copy);

    //  An explicit empty list means the same as none
    s_raw_t raw;
    s_raw_request (&raw, "dlq_redrive", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                                     TS_PROTO_MAX_REQUEST, err), 0);
    assert_int_equal (msg->op, TS_OP_DLQ_REDRIVE);
    assert_int_equal (msg->ids->n, 0);
    msgpack_sbuffer_destroy (&raw.sbuf);
    ts_msg_destroy (&msg);
}

static void
decode_ignores_unknown_keys_in_stats_and_dlq (void **state)
{
    s_raw_t raw;
    s_raw_reply (&raw, 2);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 11);
    const char *counters [] = {
        "queued", "delayed", "leased", "dlq", "done", "failed", "retried",
        "dead_lettered", "oldest_age_ms"
    };
    for (int i = 0; i < 9; i++) {
        s_raw_str (&raw, counters [i]);
        msgpack_pack_int (&raw.pk, i);
    }
    s_raw_str (&raw, "uptime_s");
    msgpack_pack_int (&raw.pk, 99);
    s_raw_str (&raw, "workers");
    msgpack_pack_array (&raw.pk, 1);
    msgpack_pack_map (&raw.pk, 4);
    s_raw_str (&raw, "host");   s_raw_str (&raw, "box one");
    s_raw_str (&raw, "leased"); msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "credit"); msgpack_pack_int (&raw.pk, 2);
    s_raw_str (&raw, "name");   s_raw_str (&raw, "ab12");
    s_raw_str (&raw, "dlq");
    msgpack_pack_array (&raw.pk, 1);
    msgpack_pack_map (&raw.pk, 6);
    s_raw_str (&raw, "error");    s_raw_str (&raw, "HTTP 404");
    s_raw_str (&raw, "dead_at");  msgpack_pack_int (&raw.pk, 10);
    s_raw_str (&raw, "receives"); msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 1);
    s_raw_str (&raw, "x");
    s_raw_str (&raw, "job");      msgpack_pack_int (&raw.pk, 77);
    s_raw_str (&raw, "status");   msgpack_pack_int (&raw.pk, 404);

    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                            TS_PROTO_MAX_REQUEST, err);
    if (rc)
        fail_msg ("decode failed: %s", err);
    assert_true (msg->has_stats);
    assert_int_equal (msg->stats.delayed, 1);
    assert_int_equal (msg->stats.oldest_age_ms, 8);
    assert_int_equal (msg->stats.workers_n, 1);
    assert_string_equal (msg->stats.workers [0].name, "ab12");
    assert_int_equal (msg->stats.workers [0].credit, 2);
    assert_int_equal (msg->stats.workers [0].leased, 1);
    assert_true (msg->has_dlq);
    assert_int_equal (msg->dlq_n, 1);
    assert_int_equal (msg->dlq [0].job, 77);
    assert_string_equal (msg->dlq [0].ids->items [0], "x");
    assert_string_equal (msg->dlq [0].error, "HTTP 404");
    ts_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&raw.sbuf);
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
    assert_true (msg->series.history->value [0] == -7.0);
    assert_true (msg->series.history->value [1] == 2.5);
    assert_string_equal (ts_points_measure (msg->series.history, 1), "value");
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
    assert_string_equal (ts_op_name (TS_OP_STATS), "stats");
    assert_string_equal (ts_op_name (TS_OP_DLQ_LS), "dlq_ls");
    assert_string_equal (ts_op_name (TS_OP_DLQ_REDRIVE), "dlq_redrive");
    assert_string_equal (ts_op_name (TS_OP_DLQ_PURGE), "dlq_purge");
    assert_string_equal (ts_op_name (TS_OP_JOB_STATE), "job_state");
    assert_string_equal (ts_job_status_name (TS_JOB_STATUS_DELAYED),
                         "delayed");
    assert_string_equal (ts_job_status_name (TS_JOB_STATUS_COUNT_), "?");
    assert_string_equal (ts_op_name (TS_OP_COUNT_), "?");
    assert_string_equal (ts_op_name ((ts_op_t) -1), "?");
}

//  Encodes msg and checks the bytes against hex ("83 a1 76 01 ..."), as
//  docs/protocol.md shows them.
static void
s_assert_bytes (const ts_msg_t *msg, const char *hex)
{
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    char text [1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < size && used + 4 < sizeof (text); i++)
        used += (size_t) snprintf (text + used, sizeof (text) - used,
                                   "%s%02x", i? " ": "",
                                   (unsigned char) data [i]);
    assert_string_equal (text, hex);
    free (data);
}

static void
ids_ls_pages_round_trip_with_cursor_limit_and_next (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_LS);
    //  Without paging fields: only v and op, as before paging existed.
    s_assert_bytes (msg, "82 a1 76 01 a2 6f 70 a6 69 64 73 5f 6c 73");
    ts_strlcpy (msg->after, "b", sizeof (msg->after));
    msg->limit = 2;
    s_check_round_trip (msg);
    s_assert_bytes (msg, "84 a1 76 01 a2 6f 70 a6 69 64 73 5f 6c 73 "
                    "a5 61 66 74 65 72 a1 62 a5 6c 69 6d 69 74 02");
    ts_msg_set_ok (msg, 200);
    assert_int_equal (ts_strlist_append (msg->ids, "c"), 0);
    assert_int_equal (ts_strlist_append (msg->ids, "d"), 0);
    msg->count = 2;
    ts_strlcpy (msg->next, "d", sizeof (msg->next));
    s_check_round_trip (msg);
    s_assert_bytes (msg, "85 a1 76 01 a6 73 74 61 74 75 73 cc c8 "
                    "a5 63 6f 75 6e 74 02 a3 69 64 73 92 a1 63 a1 64 "
                    "a4 6e 65 78 74 a1 64");
    ts_msg_destroy (&msg);
}

static void
hydrate_reply_names_the_job_of_each_id (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 202);
    msg->count = 1;
    assert_int_equal (ts_msg_add_job (msg, 7), 0);
    assert_int_equal (ts_msg_add_job (msg, 5), 0);
    s_check_round_trip (msg);
    s_assert_bytes (msg, "84 a1 76 01 a6 73 74 61 74 75 73 cc ca "
                    "a5 63 6f 75 6e 74 01 a4 6a 6f 62 73 92 07 05");
    ts_msg_destroy (&msg);
}

static void
job_state_request_and_reply_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_JOB_STATE);
    assert_int_equal (ts_msg_add_job (msg, 7), 0);
    assert_int_equal (ts_msg_add_job (msg, 5), 0);
    s_check_round_trip (msg);
    s_assert_bytes (msg, "83 a1 76 01 a2 6f 70 a9 6a 6f 62 5f 73 74 61 74 "
                    "65 a4 6a 6f 62 73 92 07 05");
    ts_msg_set_ok (msg, 200);
    assert_int_equal (msg->jobs_n, 0);
    assert_int_equal (ts_msg_add_state (msg, 7, TS_JOB_STATUS_DONE, 1, ""),
                      0);
    assert_int_equal (ts_msg_add_state (msg, 5, TS_JOB_STATUS_DEAD, 3,
                                        "HTTP 503"), 0);
    s_check_round_trip (msg);
    s_assert_bytes (msg, "83 a1 76 01 a6 73 74 61 74 75 73 cc c8 "
                    "a6 73 74 61 74 65 73 92 "
                    "84 a3 6a 6f 62 07 a5 73 74 61 74 65 a4 64 6f 6e 65 "
                    "a8 72 65 63 65 69 76 65 73 01 a5 65 72 72 6f 72 a0 "
                    "84 a3 6a 6f 62 05 a5 73 74 61 74 65 a4 64 65 61 64 "
                    "a8 72 65 63 65 69 76 65 73 03 a5 65 72 72 6f 72 "
                    "a8 48 54 54 50 20 35 30 33");
    //  Every state name round-trips.
    ts_msg_set_ok (msg, 200);
    for (int i = 0; i < TS_JOB_STATUS_COUNT_; i++)
        assert_int_equal (ts_msg_add_state (msg, (uint64_t) i + 1,
                                            (ts_job_status_t) i, 0, "x"), 0);
    s_check_round_trip (msg);
    //  An empty answer still says it carries states.
    ts_msg_set_ok (msg, 200);
    msg->has_states = true;
    ts_msg_t *copy = s_round_trip (msg);
    assert_true (copy->has_states);
    assert_int_equal (copy->states_n, 0);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

static void
decode_takes_a_stored_name_with_a_leading_dash (void **state)
{
    //  The server refuses to create such a name; the codec carries it.
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_RM);
    ts_strlcpy (msg->id, "-old", sizeof (msg->id));
    s_check_round_trip (msg);
    ts_msg_set_ok (msg, 200);
    assert_int_equal (ts_strlist_append (msg->ids, "-old"), 0);
    ts_strlcpy (msg->next, "-old", sizeof (msg->next));
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
decode_rejects_bad_paging_and_job_fields (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "ids_ls", 1);
    s_raw_str (&raw, "limit");
    msgpack_pack_uint32 (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'limit': 0 is not in 1..10000");

    s_raw_request (&raw, "ids_ls", 1);
    s_raw_str (&raw, "limit");
    msgpack_pack_uint32 (&raw.pk, TS_PROTO_IDS_PAGE + 1);
    s_raw_expect (&raw, TS_EPROTO, "field 'limit': 10001 is not in 1..10000");

    s_raw_request (&raw, "ids_ls", 1);
    s_raw_str (&raw, "after");
    s_raw_str (&raw, "a b");
    s_raw_expect (&raw, TS_EPROTO, "field 'after': not a valid name");

    s_raw_request (&raw, "job_state", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'jobs'");

    s_raw_request (&raw, "job_state", 1);
    s_raw_str (&raw, "jobs");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'jobs': expected at least 1 job");

    s_raw_request (&raw, "job_state", 1);
    s_raw_str (&raw, "jobs");
    msgpack_pack_array (&raw.pk, 2);
    msgpack_pack_uint32 (&raw.pk, 1);
    msgpack_pack_int32 (&raw.pk, -1);
    s_raw_expect (&raw, TS_EPROTO, "field 'jobs[1]'");

    s_raw_request (&raw, "job_state", 1);
    s_raw_str (&raw, "jobs");
    msgpack_pack_array (&raw.pk, TS_PROTO_MAX_JOBS + 1);
    for (int i = 0; i <= TS_PROTO_MAX_JOBS; i++)
        msgpack_pack_uint32 (&raw.pk, 1);
    s_raw_expect (&raw, TS_ETOOBIG, "over the limit of 10000");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "states");
    msgpack_pack_array (&raw.pk, 1);
    msgpack_pack_map (&raw.pk, 4);
    s_raw_str (&raw, "job");
    msgpack_pack_uint32 (&raw.pk, 1);
    s_raw_str (&raw, "state");
    s_raw_str (&raw, "finished");
    s_raw_str (&raw, "receives");
    msgpack_pack_uint32 (&raw.pk, 1);
    s_raw_str (&raw, "error");
    s_raw_str (&raw, "");
    s_raw_expect (&raw, TS_EPROTO, "field 'states[0].state': unknown state");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "states");
    msgpack_pack_array (&raw.pk, 1);
    msgpack_pack_map (&raw.pk, 1);
    s_raw_str (&raw, "job");
    msgpack_pack_uint32 (&raw.pk, 1);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'states[0].state'");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "next");
    s_raw_str (&raw, "");
    s_raw_expect (&raw, TS_EPROTO, "field 'next': not a valid name");
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
    s_raw_request (&raw, "failed", 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'job'");
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
    msgpack_pack_int (&raw.pk, 10001);
    s_raw_expect (&raw, TS_EPROTO, "field 'credit': 10001 is not in 0..10000");
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

//  Writes the eight counters and oldest_age_ms of a stats map, skipping
//  the one named skip (NULL: none) and writing bad in place of the one
//  named replace (NULL: none).
static void
s_raw_counters (s_raw_t *raw, const char *skip, const char *replace,
                void (*bad) (s_raw_t *))
{
    const char *names [] = {
        "queued", "delayed", "leased", "dlq", "done", "failed", "retried",
        "dead_lettered", "oldest_age_ms"
    };
    for (int i = 0; i < 9; i++) {
        if (skip && strcmp (skip, names [i]) == 0)
            continue;
        s_raw_str (raw, names [i]);
        if (replace && strcmp (replace, names [i]) == 0)
            bad (raw);
        else
            msgpack_pack_int (&raw->pk, 1);
    }
}

static void
s_bad_negative (s_raw_t *raw)
{
    msgpack_pack_int (&raw->pk, -1);
}

static void
s_bad_string (s_raw_t *raw)
{
    s_raw_str (raw, "1");
}

//  A stats reply whose one worker is the map written by worker.
static void
s_raw_stats_worker (s_raw_t *raw, void (*worker) (s_raw_t *))
{
    s_raw_reply (raw, 1);
    s_raw_str (raw, "stats");
    msgpack_pack_map (&raw->pk, 10);
    s_raw_counters (raw, NULL, NULL, NULL);
    s_raw_str (raw, "workers");
    msgpack_pack_array (&raw->pk, 1);
    worker (raw);
}

static void
s_worker_bad_name (s_raw_t *raw)
{
    msgpack_pack_map (&raw->pk, 3);
    s_raw_str (raw, "name");   s_raw_str (raw, "no spaces");
    s_raw_str (raw, "credit"); msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "leased"); msgpack_pack_int (&raw->pk, 1);
}

static void
s_worker_long_name (s_raw_t *raw)
{
    char name [65];
    memset (name, 'a', 64);
    name [64] = 0;
    msgpack_pack_map (&raw->pk, 3);
    s_raw_str (raw, "name");   s_raw_str (raw, name);
    s_raw_str (raw, "credit"); msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "leased"); msgpack_pack_int (&raw->pk, 1);
}

static void
s_worker_huge_credit (s_raw_t *raw)
{
    msgpack_pack_map (&raw->pk, 3);
    s_raw_str (raw, "name");   s_raw_str (raw, "w");
    s_raw_str (raw, "credit"); msgpack_pack_uint64 (&raw->pk, 1ULL << 32);
    s_raw_str (raw, "leased"); msgpack_pack_int (&raw->pk, 1);
}

static void
s_worker_no_leased (s_raw_t *raw)
{
    msgpack_pack_map (&raw->pk, 2);
    s_raw_str (raw, "name");   s_raw_str (raw, "w");
    s_raw_str (raw, "credit"); msgpack_pack_int (&raw->pk, 1);
}

static void
s_worker_twice_named (s_raw_t *raw)
{
    msgpack_pack_map (&raw->pk, 4);
    s_raw_str (raw, "name");   s_raw_str (raw, "w");
    s_raw_str (raw, "credit"); msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "leased"); msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "name");   s_raw_str (raw, "v");
}

static void
s_worker_not_a_map (s_raw_t *raw)
{
    s_raw_str (raw, "w");
}

static void
decode_rejects_malformed_stats (void **state)
{
    s_raw_t raw;
    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'stats': expected a map");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 9);
    s_raw_counters (&raw, "done", NULL, NULL);
    s_raw_str (&raw, "workers");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'stats.done'");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 9);
    s_raw_counters (&raw, NULL, NULL, NULL);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'stats.workers'");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 10);
    s_raw_counters (&raw, NULL, "queued", s_bad_negative);
    s_raw_str (&raw, "workers");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.queued': expected a non-negative integer");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 10);
    s_raw_counters (&raw, NULL, "oldest_age_ms", s_bad_string);
    s_raw_str (&raw, "workers");
    msgpack_pack_array (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.oldest_age_ms': expected an integer");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 10);
    s_raw_counters (&raw, NULL, NULL, NULL);
    s_raw_str (&raw, "workers");
    msgpack_pack_map (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers': expected an array");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "stats");
    msgpack_pack_map (&raw.pk, 10);
    s_raw_counters (&raw, NULL, NULL, NULL);
    s_raw_str (&raw, "workers");
    msgpack_pack_array (&raw.pk, TS_PROTO_MAX_WORKERS + 1);
    for (int i = 0; i <= TS_PROTO_MAX_WORKERS; i++)
        msgpack_pack_map (&raw.pk, 0);
    s_raw_expect (&raw, TS_ETOOBIG, "10001 items, over the limit of 10000");

    s_raw_stats_worker (&raw, s_worker_not_a_map);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers[0]': expected a map");
    s_raw_stats_worker (&raw, s_worker_bad_name);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers[0].name': not a valid name");
    s_raw_stats_worker (&raw, s_worker_long_name);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers[0].name': not a valid name");
    s_raw_stats_worker (&raw, s_worker_huge_credit);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers[0].credit': 4294967296 is over");
    s_raw_stats_worker (&raw, s_worker_no_leased);
    s_raw_expect (&raw, TS_EPROTO, "missing field 'stats.workers[0].leased'");
    s_raw_stats_worker (&raw, s_worker_twice_named);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'stats.workers[0]': duplicate key 'name'");
}

//  A dlq reply of one good entry then one entry written by entry.
static void
s_raw_dlq_entry (s_raw_t *raw, void (*entry) (s_raw_t *))
{
    s_raw_reply (raw, 1);
    s_raw_str (raw, "dlq");
    msgpack_pack_array (&raw->pk, 2);
    msgpack_pack_map (&raw->pk, 5);
    s_raw_str (raw, "job");      msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "ids");      msgpack_pack_array (&raw->pk, 1);
    s_raw_str (raw, "a");
    s_raw_str (raw, "receives"); msgpack_pack_int (&raw->pk, 3);
    s_raw_str (raw, "dead_at");  msgpack_pack_int (&raw->pk, 100);
    s_raw_str (raw, "error");    s_raw_str (raw, "HTTP 500");
    entry (raw);
}

//  Entry fields with one of them broken (which: 0..5).
static int s_broken_field;

static void
s_entry_broken (s_raw_t *raw)
{
    int which = s_broken_field;
    msgpack_pack_map (&raw->pk, which == 5? 4: 5);
    s_raw_str (raw, "job");
    if (which == 0)
        msgpack_pack_int (&raw->pk, -3);
    else
        msgpack_pack_int (&raw->pk, 2);
    s_raw_str (raw, "ids");
    if (which == 1)
        msgpack_pack_array (&raw->pk, 0);
    else
    if (which == 2) {
        msgpack_pack_array (&raw->pk, 1);
        s_raw_str (raw, "../etc");
    }
    else {
        msgpack_pack_array (&raw->pk, 1);
        s_raw_str (raw, "b");
    }
    s_raw_str (raw, "receives");
    if (which == 3)
        msgpack_pack_uint64 (&raw->pk, UINT64_MAX);
    else
        msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "dead_at");
    if (which == 4)
        msgpack_pack_double (&raw->pk, 1.5);
    else
        msgpack_pack_int (&raw->pk, 1);
    if (which != 5) {
        s_raw_str (raw, "error");
        msgpack_pack_nil (&raw->pk);
    }
}

static void
s_entry_with_text_error (s_raw_t *raw)
{
    msgpack_pack_map (&raw->pk, 5);
    s_raw_str (raw, "job");      msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "ids");      msgpack_pack_array (&raw->pk, 1);
    s_raw_str (raw, "a");
    s_raw_str (raw, "receives"); msgpack_pack_int (&raw->pk, 3);
    s_raw_str (raw, "dead_at");  msgpack_pack_int (&raw->pk, 100);
    s_raw_str (raw, "error");    msgpack_pack_int (&raw->pk, 500);
}

static void
decode_rejects_malformed_dlq (void **state)
{
    s_raw_t raw;
    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "dlq");
    msgpack_pack_map (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO, "field 'dlq': expected an array");

    s_raw_reply (&raw, 1);
    s_raw_str (&raw, "dlq");
    msgpack_pack_array (&raw.pk, TS_PROTO_MAX_DLQ + 1);
    for (int i = 0; i <= TS_PROTO_MAX_DLQ; i++)
        msgpack_pack_map (&raw.pk, 0);
    s_raw_expect (&raw, TS_ETOOBIG,
                  "field 'dlq': 100001 items, over the limit of 100000");

    static const char *expect [] = {
        "field 'dlq[1].job': expected a non-negative integer",
        "field 'dlq[1].ids': expected at least 1 id",
        "field 'dlq[1].ids': item 0: not a valid name",
        "field 'dlq[1].receives': 18446744073709551615 is over 4294967295",
        "field 'dlq[1].dead_at': expected an integer, got a float",
        "missing field 'dlq[1].error'"
    };
    for (int i = 0; i < 6; i++) {
        s_broken_field = i;
        s_raw_dlq_entry (&raw, s_entry_broken);
        s_raw_expect (&raw, TS_EPROTO, expect [i]);
    }
    s_raw_dlq_entry (&raw, s_entry_with_text_error);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'dlq[1].error': expected a string, got an integer");
}

static void
decode_rejects_bad_retry_fields_and_redrive_ids (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "failed", 3);
    s_raw_str (&raw, "job");    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "detail"); s_raw_str (&raw, "x");
    s_raw_str (&raw, "retry");  msgpack_pack_int (&raw.pk, 0);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'retry': expected a boolean, got an integer");

    s_raw_request (&raw, "failed", 3);
    s_raw_str (&raw, "job");    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "detail"); s_raw_str (&raw, "x");
    s_raw_str (&raw, "retry_after_ms");
    msgpack_pack_int (&raw.pk, -1000);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'retry_after_ms': expected a non-negative");

    s_raw_request (&raw, "failed", 3);
    s_raw_str (&raw, "job");    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "detail"); s_raw_str (&raw, "x");
    s_raw_str (&raw, "retry_after_ms");
    msgpack_pack_int64 (&raw.pk, TS_PROTO_MAX_RETRY_AFTER_MS + 1);
    s_raw_expect (&raw, TS_EPROTO,
                  "field 'retry_after_ms': 31536000001 is over");

    s_raw_request (&raw, "dlq_redrive", 1);
    s_raw_str (&raw, "ids");
    s_raw_str (&raw, "all");
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': expected an array");

    s_raw_request (&raw, "dlq_redrive", 1);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 1);
    s_raw_str (&raw, "a;b");
    s_raw_expect (&raw, TS_EPROTO, "field 'ids': item 0: not a valid name");
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

//  Decodes raw (then freed) into a new message, asserting success.
static ts_msg_t *
s_raw_decode (s_raw_t *raw)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (msg, raw->sbuf.data, raw->sbuf.size,
                            TS_PROTO_MAX_REQUEST, err);
    if (rc != 0)
        fail_msg ("expected a valid message, got %d (%s)", rc, err);
    msgpack_sbuffer_destroy (&raw->sbuf);
    return msg;
}

//  {"v": 1, "op": "ping", "x": levels - 1 nested arrays}: levels deep
//  with the top-level map as level 1; the innermost array holds 1, or
//  nothing if empty.
static void
s_raw_nested (s_raw_t *raw, int levels, bool empty)
{
    s_raw_request (raw, "ping", 1);
    s_raw_str (raw, "x");
    for (int i = 2; i < levels; i++)
        msgpack_pack_array (&raw->pk, 1);
    msgpack_pack_array (&raw->pk, empty? 0: 1);
    if (!empty)
        msgpack_pack_int (&raw->pk, 1);
}

static void
decode_counts_the_top_level_map_as_nesting_level_one (void **state)
{
    s_raw_t raw;
    s_raw_nested (&raw, 16, false);
    ts_msg_t *msg = s_raw_decode (&raw);
    assert_int_equal (msg->op, TS_OP_PING);
    ts_msg_destroy (&msg);
    s_raw_nested (&raw, 17, false);
    s_raw_expect (&raw, TS_EPROTO, "nested deeper than 16 levels");
    //  An empty container counts as a level too.
    s_raw_nested (&raw, 16, true);
    msg = s_raw_decode (&raw);
    ts_msg_destroy (&msg);
    s_raw_nested (&raw, 17, true);
    s_raw_expect (&raw, TS_EPROTO, "nested deeper than 16 levels");
}

static void
decode_accepts_ready_with_no_credit_and_failed_without_detail (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "ready", 1);
    s_raw_str (&raw, "credit");
    msgpack_pack_int (&raw.pk, 0);
    ts_msg_t *msg = s_raw_decode (&raw);
    assert_int_equal (msg->op, TS_OP_READY);
    assert_int_equal (msg->credit, 0);
    ts_msg_destroy (&msg);

    s_raw_request (&raw, "failed", 1);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, 7);
    msg = s_raw_decode (&raw);
    assert_int_equal (msg->op, TS_OP_FAILED);
    assert_int_equal (msg->job, 7);
    assert_string_equal (msg->detail, "");
    assert_true (msg->retry);
    ts_msg_destroy (&msg);
}

static void
heartbeat_carries_the_broker_boot_id_when_given (void **state)
{
    ts_msg_t *beat = ts_msg_new (TS_OP_HEARTBEAT);
    beat->boot = 0x123456789abcdef0ULL;
    ts_msg_t *copy = s_round_trip (beat);
    assert_int_equal (copy->op, TS_OP_HEARTBEAT);
    assert_true (copy->boot == 0x123456789abcdef0ULL);
    ts_msg_destroy (&copy);
    //  The example of docs/protocol.md section 5.11, byte for byte.
    static const unsigned char example [] = {
        0x83, 0xa1, 0x76, 0x01, 0xa2, 0x6f, 0x70, 0xa9, 0x68, 0x65, 0x61,
        0x72, 0x74, 0x62, 0x65, 0x61, 0x74, 0xa4, 0x62, 0x6f, 0x6f, 0x74,
        0xcf, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
    char *bytes;
    size_t len;
    assert_int_equal (ts_msg_encode (beat, &bytes, &len), 0);
    assert_int_equal (len, sizeof example);
    assert_memory_equal (bytes, example, sizeof example);
    free (bytes);
    //  Without one (a worker's heartbeat, an older broker): none on the
    //  wire, 0 decoded.
    beat->boot = 0;
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (beat, &data, &size), 0);
    assert_null (memmem (data, size, "boot", 4));
    free (data);
    copy = s_round_trip (beat);
    assert_int_equal (copy->boot, 0);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&beat);

    s_raw_t raw;
    s_raw_request (&raw, "heartbeat", 1);
    s_raw_str (&raw, "boot");
    s_raw_str (&raw, "not a number");
    char err [TS_ERRLEN] = "";
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    assert_int_equal (ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                                     TS_PROTO_MAX_REQUEST, err), TS_EPROTO);
    assert_non_null (strstr (err, "boot"));
    ts_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&raw.sbuf);
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
    char *seeds [12];
    size_t sizes [12];
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
    ts_msg_reset (msg, TS_OP_FAILED);
    msg->job = 12;
    msg->retry = false;
    msg->retry_after_ms = 60000;
    ts_strlcpy (msg->detail, "HTTP 429", sizeof (msg->detail));
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_reset (msg, TS_OP_DLQ_REDRIVE);
    ts_strlist_append (msg->ids, "station:1");
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_destroy (&msg);
    msg = s_stats_reply ();
    assert_int_equal (ts_msg_encode (msg, &seeds [nseeds], &sizes [nseeds]),
                      0);
    nseeds++;
    ts_msg_destroy (&msg);
    msg = s_dlq_reply ();
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

//  Encodes a message of op with the fields its decoder needs.
static void
s_encode_op (ts_op_t op, char **data, size_t *size)
{
    ts_msg_t *msg = ts_msg_new (op);
    assert_non_null (msg);
    if (op == TS_OP_REPLY)
        ts_msg_set_ok (msg, 200);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    ts_strlist_append (msg->ids, "a");
    ts_msg_add_job (msg, 1);
    msg->job = 1;
    msg->credit = 1;
    assert_int_equal (ts_msg_encode (msg, data, size), 0);
    ts_msg_destroy (&msg);
}

static void
each_dialogue_takes_only_its_own_messages (void **state)
{
    //  C: client ops; R: replies; W: worker to broker; B: broker to worker.
    const char *takers [TS_OP_COUNT_] = {
        [TS_OP_REPLY] = "R", [TS_OP_PING] = "C", [TS_OP_QUERY] = "C",
        [TS_OP_IDS_ADD] = "C", [TS_OP_IDS_RM] = "C", [TS_OP_IDS_LS] = "C",
        [TS_OP_HYDRATE] = "C", [TS_OP_READY] = "W", [TS_OP_JOB] = "B",
        [TS_OP_DONE] = "W", [TS_OP_FAILED] = "W", [TS_OP_HEARTBEAT] = "WB",
        [TS_OP_STATS] = "C", [TS_OP_DLQ_LS] = "C", [TS_OP_DLQ_REDRIVE] = "C",
        [TS_OP_DLQ_PURGE] = "C", [TS_OP_JOB_STATE] = "C"
    };
    const struct { ts_dialogue_t dialogue; char letter; } dialogues [] = {
        { TS_DIALOGUE_CLIENT, 'C' }, { TS_DIALOGUE_REPLIES, 'R' },
        { TS_DIALOGUE_WORKER, 'W' }, { TS_DIALOGUE_BROKER, 'B' }
    };
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    for (int op = TS_OP_REPLY; op < TS_OP_COUNT_; op++) {
        char *data = NULL;
        size_t size = 0;
        s_encode_op ((ts_op_t) op, &data, &size);
        for (size_t d = 0; d < 4; d++) {
            bool takes = strchr (takers [op], dialogues [d].letter) != NULL;
            assert_int_equal (ts_dialogue_accepts (dialogues [d].dialogue,
                                                   (ts_op_t) op), takes);
            char err [TS_ERRLEN] = "";
            int rc = ts_msg_decode_in (msg, dialogues [d].dialogue, data,
                                       size, TS_PROTO_MAX_REQUEST, err);
            if (takes) {
                if (rc)
                    fail_msg ("%s refused: %s", ts_op_name (op), err);
                assert_int_equal (msg->op, op);
            }
            else {
                assert_int_equal (rc, TS_EDIALOGUE);
                assert_int_equal (msg->op, TS_OP_REPLY);    //  reset
                assert_int_equal (msg->ids->n, 0);          //  unread
            }
        }
        free (data);
    }
    ts_msg_destroy (&msg);
}

static void
dialogue_refusal_names_the_op_and_the_dialogue (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    char *data = NULL;
    size_t size = 0;
    s_encode_op (TS_OP_JOB, &data, &size);
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_CLIENT, data, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    assert_string_equal (err, "op 'job' is not a client operation");
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_REPLIES, data, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    assert_string_equal (err, "op 'job' is not a reply");
    //  ts_msg_decode takes any dialogue's message.
    assert_int_equal (ts_msg_decode (msg, data, size, TS_PROTO_MAX_REQUEST,
                                     err), 0);
    free (data);
    s_encode_op (TS_OP_STATS, &data, &size);
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_WORKER, data, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    assert_string_equal (err, "op 'stats' is not a worker message");
    free (data);
    s_encode_op (TS_OP_REPLY, &data, &size);
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_CLIENT, data, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    assert_string_equal (err, "a reply is not a client operation");
    free (data);
    //  A malformed message is still malformed, whatever the dialogue.
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_CLIENT, "\xc1", 1,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EPROTO);
    ts_msg_destroy (&msg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (every_request_op_round_trips),
        cmocka_unit_test (each_dialogue_takes_only_its_own_messages),
        cmocka_unit_test (dialogue_refusal_names_the_op_and_the_dialogue),
        cmocka_unit_test (query_without_range_or_measure_round_trips),
        cmocka_unit_test (ok_error_and_list_replies_round_trip),
        cmocka_unit_test (query_reply_with_two_measures_and_baseline_round_trips),
        cmocka_unit_test (query_reply_with_nil_baseline_round_trips),
        cmocka_unit_test (query_reply_names_measures_in_order_of_first_appearance),
        cmocka_unit_test (query_reply_names_only_the_measures_its_points_use),
        cmocka_unit_test (query_reply_with_many_measures_round_trips),
        cmocka_unit_test (stats_reply_with_workers_round_trips),
        cmocka_unit_test (dlq_reply_round_trips_with_and_without_entries),
        cmocka_unit_test (add_helpers_grow_and_reset_frees_them),
        cmocka_unit_test (failed_defaults_to_retry_when_the_fields_are_absent),
        cmocka_unit_test (dlq_redrive_without_ids_round_trips),
        cmocka_unit_test (decode_ignores_unknown_keys_in_stats_and_dlq),
        cmocka_unit_test (decode_accepts_integer_values_and_ignores_unknown_keys),
        cmocka_unit_test (decode_reuses_a_message_and_resets_it_first),
        cmocka_unit_test (op_names_match_the_wire),
        cmocka_unit_test (ids_ls_pages_round_trip_with_cursor_limit_and_next),
        cmocka_unit_test (hydrate_reply_names_the_job_of_each_id),
        cmocka_unit_test (job_state_request_and_reply_round_trip),
        cmocka_unit_test (decode_takes_a_stored_name_with_a_leading_dash),
        cmocka_unit_test (decode_rejects_bad_paging_and_job_fields),
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
        cmocka_unit_test (decode_rejects_malformed_stats),
        cmocka_unit_test (decode_rejects_malformed_dlq),
        cmocka_unit_test (decode_rejects_bad_retry_fields_and_redrive_ids),
        cmocka_unit_test (decode_rejects_broken_series_columns),
        cmocka_unit_test (decode_rejects_reply_over_point_limit),
        cmocka_unit_test (decode_rejects_huge_counts_without_allocating_them),
        cmocka_unit_test (decode_rejects_deep_nesting),
        cmocka_unit_test (decode_counts_the_top_level_map_as_nesting_level_one),
        cmocka_unit_test (decode_accepts_ready_with_no_credit_and_failed_without_detail),
        cmocka_unit_test (heartbeat_carries_the_broker_boot_id_when_given),
        cmocka_unit_test (error_detail_longer_than_the_buffer_is_cut),
        cmocka_unit_test (decode_survives_random_mutations),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto", tests, NULL, NULL);
}
