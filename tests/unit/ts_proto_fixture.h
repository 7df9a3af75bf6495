/*  ts_proto_fixture - what the unit tests of the wire codec share
    (tests/unit/test_ts_proto*.c): a round trip with a field-by-field
    comparison, a decode that must fail with a given code and detail,
    messages built with msgpack-c directly (the codec refuses to write
    malformed ones), and sample replies (query, stats, dlq). Header-only,
    static inline, so that each test compiles it alone. */

#ifndef TS_PROTO_FIXTURE_H_INCLUDED
#define TS_PROTO_FIXTURE_H_INCLUDED

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

//  Encodes msg, decodes it into a fresh message and returns that.
static inline ts_msg_t *
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

static inline void
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

static inline void
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
    assert_int_equal (a->from_rel, b->from_rel);
    assert_int_equal (a->to_rel, b->to_rel);
    assert_int_equal (a->measures->n, b->measures->n);
    for (size_t i = 0; i < a->measures->n; i++)
        assert_string_equal (a->measures->items [i], b->measures->items [i]);
    assert_int_equal (a->step_ms, b->step_ms);
    assert_int_equal (a->agg, b->agg);
    assert_int_equal (a->max_points, b->max_points);
    assert_int_equal (a->fill, b->fill);
    if (a->has_from)
        assert_int_equal (a->from_ms, b->from_ms);
    if (a->has_to)
        assert_int_equal (a->to_ms, b->to_ms);
    assert_int_equal (a->ids->n, b->ids->n);
    for (size_t i = 0; i < a->ids->n; i++)
        assert_string_equal (a->ids->items [i], b->ids->items [i]);
    assert_string_equal (a->source, b->source);
    assert_int_equal (a->sources->n, b->sources->n);
    for (size_t i = 0; i < a->sources->n; i++)
        assert_string_equal (a->sources->items [i], b->sources->items [i]);
    assert_int_equal (a->job, b->job);
    assert_int_equal (a->credit, b->credit);
    assert_int_equal (a->retry, b->retry);
    assert_int_equal (a->retry_after_ms, b->retry_after_ms);
    assert_int_equal (a->priority, b->priority);
    assert_true (a->skip_fetched_since_ms == b->skip_fetched_since_ms);
    assert_string_equal (a->kind, b->kind);
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
    assert_int_equal (a->stats.has_staleness, b->stats.has_staleness);
    assert_memory_equal (&a->stats.staleness, &b->stats.staleness,
                         sizeof a->stats.staleness);
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
    assert_int_equal (a->with_fetch, b->with_fetch);
    assert_int_equal (a->has_fetches, b->has_fetches);
    assert_int_equal (a->fetches_n, b->fetches_n);
    for (size_t i = 0; i < a->fetches_n; i++) {
        const ts_id_status_t *x = &a->fetches [i], *y = &b->fetches [i];
        assert_true (x->ok_ms == y->ok_ms && x->attempt_ms == y->attempt_ms
                  && x->error_ms == y->error_ms
                  && x->not_found_until_ms == y->not_found_until_ms);
        assert_string_equal (x->error, y->error);
        assert_string_equal (x->kind, y->kind);
        assert_int_equal (x->stale, y->stale);
    }
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
    assert_int_equal (a->enc, b->enc);
    assert_int_equal (a->series.has_baseline, b->series.has_baseline);
    if (a->series.has_baseline)
        assert_int_equal (a->series.baseline_ms, b->series.baseline_ms);
    s_assert_points_equal (a->series.history, b->series.history);
    s_assert_points_equal (a->series.forecast, b->series.forecast);
}

static inline void
s_check_round_trip (const ts_msg_t *msg)
{
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    ts_msg_destroy (&copy);
}

//  Decodes size bytes; asserts the code and that err contains expect.
static inline void
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

static inline void
s_raw_init (s_raw_t *raw)
{
    msgpack_sbuffer_init (&raw->sbuf);
    msgpack_packer_init (&raw->pk, &raw->sbuf, msgpack_sbuffer_write);
}

static inline void
s_raw_str (s_raw_t *raw, const char *s)
{
    msgpack_pack_str_with_body (&raw->pk, s, strlen (s));
}

//  Starts {"v": 1, "op": op, ...} with extra more fields to come.
static inline void
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
static inline void
s_raw_reply (s_raw_t *raw, size_t extra)
{
    s_raw_init (raw);
    msgpack_pack_map (&raw->pk, 2 + extra);
    s_raw_str (raw, "v");
    msgpack_pack_int (&raw->pk, 1);
    s_raw_str (raw, "status");
    msgpack_pack_int (&raw->pk, 200);
}

//  Starts a query answer of fields fields in all: v, status 200, id
//  "s1", from 0, to 100, baseline nil, and fields - 6 more to come.
static inline void
s_raw_answer (s_raw_t *raw, size_t fields)
{
    s_raw_init (raw);
    msgpack_packer *pk = &raw->pk;
    msgpack_pack_map (pk, fields);
    s_raw_str (raw, "v");        msgpack_pack_int (pk, 1);
    s_raw_str (raw, "status");   msgpack_pack_int (pk, 200);
    s_raw_str (raw, "id");       s_raw_str (raw, "s1");
    s_raw_str (raw, "from");     msgpack_pack_int (pk, 0);
    s_raw_str (raw, "to");       msgpack_pack_int (pk, 100);
    s_raw_str (raw, "baseline"); msgpack_pack_nil (pk);
}

//  Packs "measures": ["m0", "m1", ...], n names.
static inline void
s_raw_measures (s_raw_t *raw, uint32_t n)
{
    s_raw_str (raw, "measures");
    msgpack_pack_array (&raw->pk, n);
    for (uint32_t i = 0; i < n; i++) {
        char name [16];
        snprintf (name, sizeof (name), "m%u", i);
        s_raw_str (raw, name);
    }
}

static inline void
s_raw_expect (s_raw_t *raw, int code, const char *expect)
{
    s_expect_error (raw->sbuf.data, raw->sbuf.size, TS_PROTO_MAX_REQUEST,
                    code, expect);
    msgpack_sbuffer_destroy (&raw->sbuf);
}

//  Decodes raw (then freed) into a new message, asserting success.
static inline ts_msg_t *
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

//  A query reply with two measures across history and forecast.
static inline ts_msg_t *
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

//  A stats reply with two workers, as the broker sends it.
static inline ts_msg_t *
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
static inline ts_msg_t *
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

#endif
