/*  test_ts_proto_points - the columns of a query answer
    (common/ts_proto_points.c): history, forecast and baseline
    round-trip, measures are named once, in order of first appearance and
    only if a point uses them, and broken columns or an answer over the
    point limit are errors with a precise detail. Helpers in
    ts_proto_fixture.h. */

#include "ts_proto_fixture.h"
#include "ts_query.h"

#include <math.h>

//  ---------------------------------------------------------------------
//  Round trips

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

//  ---------------------------------------------------------------------
//  Errors

//  A reply with the given columns for history; forecast empty.
static void
s_raw_series (s_raw_t *raw, uint32_t nt, uint32_t nm, uint32_t nv,
              uint32_t m_index, uint32_t measures)
{
    s_raw_answer (raw, 9);
    msgpack_packer *pk = &raw->pk;
    s_raw_measures (raw, measures);
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
query_with_options_round_trips (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    assert_int_equal (ts_query_param (msg, "from", "now-24h", NULL), 0);
    assert_int_equal (ts_query_param (msg, "to", "1000", NULL), 0);
    assert_int_equal (ts_query_param (msg, "measure", "x", NULL), 0);
    assert_int_equal (ts_query_param (msg, "measure", "y", NULL), 0);
    assert_int_equal (ts_query_param (msg, "step", "5m", NULL), 0);
    assert_int_equal (ts_query_param (msg, "agg", "max", NULL), 0);
    assert_int_equal (ts_query_param (msg, "fill", "previous", NULL), 0);
    assert_int_equal (ts_query_param (msg, "max_points", "10", NULL), 0);
    assert_int_equal (ts_query_param (msg, "limit", "7", NULL), 0);
    assert_int_equal (ts_query_param (msg, "next", "q1.x", NULL), 0);
    s_check_round_trip (msg);
    //  One measure: a string, as v1 sends it.
    ts_msg_reset (msg, TS_OP_QUERY);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    ts_strlcpy (msg->measure, "x", sizeof msg->measure);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
query_options_given_as_strings_are_read_and_checked (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "query", 4);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "step");
    s_raw_str (&raw, "1h");
    s_raw_str (&raw, "agg");
    s_raw_str (&raw, "median");
    s_raw_str (&raw, "from");
    s_raw_str (&raw, "now-1h");
    s_raw_expect (&raw, TS_EPROTO, "agg: expected avg, min, max");

    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "fill");
    s_raw_str (&raw, "null");
    s_raw_expect (&raw, TS_EPROTO, "fill: 'null' needs step or max_points");

    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");
    s_raw_str (&raw, "a");
    s_raw_str (&raw, "measure");
    msgpack_pack_array (&raw.pk, 2);
    s_raw_str (&raw, "x");
    msgpack_pack_int (&raw.pk, 3);
    s_raw_expect (&raw, TS_EPROTO, "measure[1]");
}

static void
aggregated_reply_with_null_values_round_trips (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    msg->series.history->value [0] = NAN;
    msg->step_ms = 60000;
    msg->agg = TS_AGG_SUM;
    msg->fill = TS_FILL_NULL;
    ts_strlcpy (msg->next, "q1.0123456789abcdef.0.1.2.3", sizeof msg->next);
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    assert_true (isnan (copy->series.history->value [0]));
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (query_with_options_round_trips),
        cmocka_unit_test (query_options_given_as_strings_are_read_and_checked),
        cmocka_unit_test (aggregated_reply_with_null_values_round_trips),
        cmocka_unit_test (query_reply_with_two_measures_and_baseline_round_trips),
        cmocka_unit_test (query_reply_with_nil_baseline_round_trips),
        cmocka_unit_test (query_reply_names_measures_in_order_of_first_appearance),
        cmocka_unit_test (query_reply_names_only_the_measures_its_points_use),
        cmocka_unit_test (query_reply_with_many_measures_round_trips),
        cmocka_unit_test (decode_rejects_broken_series_columns),
        cmocka_unit_test (decode_rejects_reply_over_point_limit),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto_points", tests, NULL, NULL);
}
