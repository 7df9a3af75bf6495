/*  test_ts_proto_compact - the compact encoding of a query answer
    (common/ts_proto_points.c, docs/protocol.md 6.3): the query key
    "enc", exact round trips (irregular and duplicate times, several
    measures, nulls, float32 and float64 values, times that wrap), its
    size against the columns, the byte example of docs/protocol.md 10,
    and broken compact lists as errors with a precise detail. Helpers in
    ts_proto_fixture.h. */

#include <math.h>

#include "ts_proto_fixture.h"

#define S_STEP 300000
#define S_T0   1732406400000LL

//  A 200 query reply of id "s1", empty, in encoding enc.
static ts_msg_t *
s_reply (ts_enc_t enc)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    assert_non_null (msg);
    msg->status = 200;
    msg->enc = enc;
    ts_strlcpy (msg->id, "s1", sizeof msg->id);
    msg->has_series = msg->has_from = msg->has_to = true;
    msg->from_ms = S_T0;
    msg->to_ms = S_T0 + 86400000;
    return msg;
}

//  The day of 288 points, 5 minutes apart, 4 decimals: the benchmark's.
static ts_msg_t *
s_day_reply (ts_enc_t enc)
{
    ts_msg_t *msg = s_reply (enc);
    for (int i = 0; i < 288; i++)
        assert_int_equal (ts_points_append (msg->series.history,
                          S_T0 + (int64_t) i * S_STEP, "value",
                          round ((20 + 5 * sin (i / 20.0)) * 1e4) / 1e4), 0);
    msg->series.has_baseline = true;
    msg->series.baseline_ms = S_T0 + 287LL * S_STEP;
    return msg;
}

//  The value of key in map, or NULL.
static const msgpack_object *
s_get (const msgpack_object *map, const char *key)
{
    assert_int_equal (map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR
        &&  kv->key.via.str.size == strlen (key)
        &&  memcmp (kv->key.via.str.ptr, key, strlen (key)) == 0)
            return &kv->val;
    }
    return NULL;
}

static size_t
s_size (const ts_msg_t *msg)
{
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    free (data);
    return size;
}

//  The decoded top-level map of msg's encoding, for looking at the wire.
static const msgpack_object *
s_wire (const ts_msg_t *msg, msgpack_unpacked *unpacked, char **data)
{
    size_t size;
    assert_int_equal (ts_msg_encode (msg, data, &size), 0);
    msgpack_unpacked_init (unpacked);
    assert_int_equal (msgpack_unpack_next (unpacked, *data, size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    return &unpacked->data;
}

//  ---------------------------------------------------------------------
//  The query key "enc"

static void
query_enc_round_trips_and_defaults_to_columns (void **state)
{
    ts_msg_t *query = ts_msg_new (TS_OP_QUERY);
    ts_strlcpy (query->id, "s1", sizeof query->id);
    ts_msg_t *copy = s_round_trip (query);
    assert_int_equal (copy->enc, TS_ENC_COLUMNS);
    ts_msg_destroy (&copy);
    query->enc = TS_ENC_COMPACT;
    copy = s_round_trip (query);
    assert_int_equal (copy->op, TS_OP_QUERY);
    assert_int_equal (copy->enc, TS_ENC_COMPACT);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&query);

    //  "columns" said out loud is the default
    s_raw_t raw;
    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");  s_raw_str (&raw, "s1");
    s_raw_str (&raw, "enc"); s_raw_str (&raw, "columns");
    copy = s_raw_decode (&raw);
    assert_int_equal (copy->enc, TS_ENC_COLUMNS);
    ts_msg_destroy (&copy);
    assert_string_equal (ts_enc_name (TS_ENC_COMPACT), "compact");
    assert_string_equal (ts_enc_name (TS_ENC_COUNT_), "?");
}

static void
query_with_unknown_enc_is_an_error_naming_it (void **state)
{
    s_raw_t raw;
    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");  s_raw_str (&raw, "s1");
    s_raw_str (&raw, "enc"); s_raw_str (&raw, "zip");
    s_raw_expect (&raw, TS_EPROTO, "field 'enc': unknown encoding 'zip' "
                  "(use columns or compact)");
    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");  s_raw_str (&raw, "s1");
    s_raw_str (&raw, "enc"); s_raw_str (&raw, "a\nb");
    s_raw_expect (&raw, TS_EPROTO, "field 'enc': unknown encoding (use");
    s_raw_request (&raw, "query", 2);
    s_raw_str (&raw, "id");  s_raw_str (&raw, "s1");
    s_raw_str (&raw, "enc"); msgpack_pack_int (&raw.pk, 2);
    s_raw_expect (&raw, TS_EPROTO, "field 'enc': expected a string");
}

//  ---------------------------------------------------------------------
//  Round trips

static void
compact_reply_with_two_measures_round_trips (void **state)
{
    ts_msg_t *msg = s_query_reply (true);
    msg->enc = TS_ENC_COMPACT;
    ts_msg_t *copy = s_round_trip (msg);
    s_assert_msg_equal (msg, copy);
    assert_int_equal (copy->enc, TS_ENC_COMPACT);
    ts_msg_destroy (&copy);

    //  Empty lists, no baseline
    ts_points_clear (msg->series.history);
    ts_points_clear (msg->series.forecast);
    msg->series.has_baseline = false;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

//  Irregular steps, a gap, and several measures at one time (deltas of
//  0), in runs and alone.
static void
compact_reply_with_irregular_and_duplicate_times_round_trips (void **state)
{
    ts_msg_t *msg = s_reply (TS_ENC_COMPACT);
    ts_points_t *h = msg->series.history;
    int64_t t = S_T0;
    for (int i = 0; i < 500; i++) {
        int measures = i < 100? 1: i < 200? 2: 40;
        for (int m = 0; m < measures; m++) {
            char name [16];
            snprintf (name, sizeof name, "m%d", m);
            assert_int_equal (ts_points_append (h, t, name, i + m / 8.0), 0);
        }
        t += i % 7 == 3? 1: i == 250? 86400000: i % 5 == 0? 17: S_STEP;
    }
    assert_int_equal (ts_points_append (msg->series.forecast, t + 1,
                                        "m3", 0.25), 0);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

static void
compact_values_are_exact_and_null_is_nil (void **state)
{
    static const double values [] = {
        0.5, -0.0, 0.0, 0.1, 1e300, -1e-300, 16777216.0, 16777217.0,
        3.4028234663852886e38, 1e39, INFINITY, -INFINITY, NAN, 21.5137
    };
    size_t n = sizeof values / sizeof values [0];
    ts_msg_t *msg = s_reply (TS_ENC_COMPACT);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (ts_points_append (msg->series.history,
                          S_T0 + (int64_t) i, "v", values [i]), 0);
    ts_msg_t *copy = s_round_trip (msg);
    assert_int_equal (copy->series.history->n, n);
    for (size_t i = 0; i < n; i++) {
        double v = copy->series.history->value [i];
        if (isnan (values [i]))
            assert_true (isnan (v));
        else
            assert_memory_equal (&v, &values [i], sizeof v);
    }
    ts_msg_destroy (&copy);

    //  On the wire: float32 where exact, float64 else, nil for null
    static const msgpack_object_type types [] = {
        MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT32,
        MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64,
        MSGPACK_OBJECT_FLOAT64, MSGPACK_OBJECT_FLOAT64,
        MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64,
        MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64,
        MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT32,
        MSGPACK_OBJECT_NIL, MSGPACK_OBJECT_FLOAT64
    };
    msgpack_unpacked unpacked;
    char *data;
    const msgpack_object *top = s_wire (msg, &unpacked, &data);
    const msgpack_object *history = s_get (top, "history");
    assert_non_null (history);
    assert_null (s_get (history, "m"));
    const msgpack_object *v = s_get (history, "v");
    assert_int_equal (v->via.array.size, n);
    for (size_t i = 0; i < n; i++)
        if (v->via.array.ptr [i].type != types [i])
            fail_msg ("value %zu: type %d, expected %d", i,
                      v->via.array.ptr [i].type, types [i]);
    //  One step: the first time, then [1, n - 1]
    const msgpack_object *t = s_get (history, "t");
    assert_int_equal (t->via.array.size, 2);
    assert_int_equal (t->via.array.ptr [1].type, MSGPACK_OBJECT_ARRAY);
    msgpack_unpacked_destroy (&unpacked);
    free (data);
    ts_msg_destroy (&msg);
}

//  Times far apart: deltas wrap modulo 2^64 and still round-trip.
static void
compact_times_at_the_int64_ends_round_trip (void **state)
{
    ts_msg_t *msg = s_reply (TS_ENC_COMPACT);
    ts_points_t *h = msg->series.history;
    assert_int_equal (ts_points_append (h, INT64_MIN, "v", 1), 0);
    assert_int_equal (ts_points_append (h, -1, "v", 2), 0);
    assert_int_equal (ts_points_append (h, INT64_MAX, "v", 3), 0);
    assert_int_equal (ts_points_append (h, 0, "v", 4), 0);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Sizes

static void
compact_day_is_under_half_the_columns (void **state)
{
    ts_msg_t *columns = s_day_reply (TS_ENC_COLUMNS);
    ts_msg_t *compact = s_day_reply (TS_ENC_COMPACT);
    size_t a = s_size (columns), b = s_size (compact);
    print_message ("288 points, one measure: columns %zu bytes, compact "
                   "%zu bytes\n", a, b);
    assert_true (b <= a / 2);
    //  Times: the first, then one run [300000, 287]; no "m"
    msgpack_unpacked unpacked;
    char *data;
    const msgpack_object *history =
        s_get (s_wire (compact, &unpacked, &data), "history");
    assert_null (s_get (history, "m"));
    const msgpack_object *t = s_get (history, "t");
    assert_int_equal (t->via.array.size, 2);
    assert_int_equal (t->via.array.ptr [0].via.i64, S_T0);
    const msgpack_object *run = &t->via.array.ptr [1];
    assert_int_equal (run->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (run->via.array.ptr [0].via.u64, S_STEP);
    assert_int_equal (run->via.array.ptr [1].via.u64, 287);
    msgpack_unpacked_destroy (&unpacked);
    free (data);
    s_check_round_trip (compact);
    ts_msg_destroy (&columns);
    ts_msg_destroy (&compact);
}

//  docs/protocol.md 10: the compact example, byte for byte.
static void
compact_example_of_the_docs_is_exact (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    msg->status = 200;
    msg->enc = TS_ENC_COMPACT;
    ts_strlcpy (msg->id, "s1", sizeof msg->id);
    msg->has_series = msg->has_from = msg->has_to = true;
    msg->from_ms = 1732406400000;
    msg->to_ms = 1732408200000;
    ts_points_t *h = msg->series.history;
    assert_int_equal (ts_points_append (h, 1732406400000, "temp", 21.5), 0);
    assert_int_equal (ts_points_append (h, 1732406700000, "temp", 21.75), 0);
    assert_int_equal (ts_points_append (h, 1732407000000, "temp", NAN), 0);
    assert_int_equal (ts_points_append (h, 1732407300000, "temp", 0.1), 0);
    assert_int_equal (ts_points_append (h, 1732408200000, "temp", 22), 0);
    msg->series.has_baseline = true;
    msg->series.baseline_ms = 1732408200000;
    static const char hex [] =
        "8aa17601a6737461747573ccc8a26964a27331a466726f6dcf000001935b77"
        "d400a2746fcf000001935b934b40a8626173656c696e65cf000001935b934b"
        "40a86d6561737572657391a474656d70a3656e63a7636f6d70616374a76869"
        "73746f727982a17493cf000001935b77d40092ce000493e003ce000dbba0a1"
        "7695ca41ac0000ca41ae0000c0cb3fb999999999999aca41b00000a8666f72"
        "656361737482a17490a17690";
    char expect [sizeof hex / 2];
    size_t len = 0;
    for (const char *p = hex; *p; ) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned byte;
        assert_int_equal (sscanf (p, "%2x", &byte), 1);
        expect [len++] = (char) byte;
        p += 2;
    }
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    if (size != len || memcmp (data, expect, len) != 0) {
        char got [1024] = "";
        for (size_t i = 0; i < size && 2 * i + 2 < sizeof got; i++)
            snprintf (got + 2 * i, 3, "%02x", (unsigned char) data [i]);
        fail_msg ("encoded %zu bytes: %s", size, got);
    }
    free (data);
    ts_msg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Errors

//  A compact reply whose history has the items t (int64, or [d, k] when
//  the item is negative: -k), an "m" of nm zeros (none if nm < 0) and
//  nv values; measures names.
static void
s_raw_compact (s_raw_t *raw, const int64_t *t, size_t nt, int nm,
               uint32_t nv, uint32_t measures, const char *enc)
{
    s_raw_answer (raw, 10);
    msgpack_packer *pk = &raw->pk;
    s_raw_str (raw, "enc");      s_raw_str (raw, enc);
    s_raw_measures (raw, measures);
    s_raw_str (raw, "history");
    msgpack_pack_map (pk, nm < 0? 2: 3);
    s_raw_str (raw, "t"); msgpack_pack_array (pk, nt);
    for (size_t i = 0; i < nt; i++)
        if (i > 0 && t [i] < 0) {
            msgpack_pack_array (pk, 2);
            msgpack_pack_int (pk, 10);
            msgpack_pack_int64 (pk, -t [i]);
        }
        else
            msgpack_pack_int64 (pk, t [i]);
    if (nm >= 0) {
        s_raw_str (raw, "m"); msgpack_pack_array (pk, (uint32_t) nm);
        for (int i = 0; i < nm; i++)
            msgpack_pack_int (pk, 0);
    }
    s_raw_str (raw, "v"); msgpack_pack_array (pk, nv);
    for (uint32_t i = 0; i < nv; i++)
        msgpack_pack_nil (pk);
    s_raw_str (raw, "forecast");
    msgpack_pack_map (pk, 2);
    s_raw_str (raw, "t"); msgpack_pack_array (pk, 0);
    s_raw_str (raw, "v"); msgpack_pack_array (pk, 0);
}

static void
decode_reads_and_rejects_compact_lists (void **state)
{
    s_raw_t raw;
    int64_t ok [] = { 1000, 5, -3, 7 };     //  1000, 1005, 1015.., 1042
    s_raw_compact (&raw, ok, 4, -1, 6, 1, "compact");
    ts_msg_t *msg = s_raw_decode (&raw);
    static const int64_t want [] = { 1000, 1005, 1015, 1025, 1035, 1042 };
    assert_int_equal (msg->series.history->n, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal (msg->series.history->time_ms [i], want [i]);
        assert_true (isnan (msg->series.history->value [i]));
    }
    ts_msg_destroy (&msg);

    s_raw_compact (&raw, ok, 4, -1, 5, 1, "compact");
    s_raw_expect (&raw, TS_EPROTO, "field 'history.t': more times than "
                  "the 5 values");
    s_raw_compact (&raw, ok, 4, -1, 7, 1, "compact");
    s_raw_expect (&raw, TS_EPROTO, "field 'history.t': 6 times for 7 "
                  "values");
    s_raw_compact (&raw, ok, 0, -1, 1, 1, "compact");
    s_raw_expect (&raw, TS_EPROTO, "field 'history.t': 0 items for 1 "
                  "values");
    s_raw_compact (&raw, ok, 4, -1, 6, 2, "compact");
    s_raw_expect (&raw, TS_EPROTO, "missing field 'history.m' (the reply "
                  "names 2 measures)");
    s_raw_compact (&raw, ok, 4, 5, 6, 2, "compact");
    s_raw_expect (&raw, TS_EPROTO, "field 'history': 'm' and 'v' have "
                  "different lengths (5, 6)");
    s_raw_compact (&raw, ok, 4, -1, 6, 0, "compact");
    s_raw_expect (&raw, TS_EPROTO, "(the reply names 0 measures)");
    int64_t long_run [] = { 1000, -3 };     //  [10, 3]: 4 times
    s_raw_compact (&raw, long_run, 2, -1, 3, 1, "compact");
    s_raw_expect (&raw, TS_EPROTO, "more times than the 3 values");

    //  Hand-made: a run of 0 points, a run of 3 items, a string
    static const struct {
        const char *bytes;
        size_t      len;
        const char *expect;
    } bad [] = {
        { "\x92\x0a\x00", 3, "item 1: a run of 0 points" },
        { "\x93\x0a\x01\x02", 4, "a run is [delta, count], got 3 items" },
        { "\xa1x", 2, "expected an integer or [delta, count], got a string" },
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad [0]; b++) {
        s_raw_answer (&raw, 10);
        msgpack_packer *pk = &raw.pk;
        s_raw_str (&raw, "enc");      s_raw_str (&raw, "compact");
        s_raw_str (&raw, "measures"); msgpack_pack_array (pk, 1);
        s_raw_str (&raw, "m0");
        s_raw_str (&raw, "history");  msgpack_pack_map (pk, 2);
        s_raw_str (&raw, "t");        msgpack_pack_array (pk, 2);
        msgpack_pack_int (pk, 1000);
        msgpack_sbuffer_write (&raw.sbuf, bad [b].bytes, bad [b].len);
        s_raw_str (&raw, "v");        msgpack_pack_array (pk, 3);
        for (int i = 0; i < 3; i++)
            msgpack_pack_double (pk, i);
        s_raw_str (&raw, "forecast"); msgpack_pack_map (pk, 2);
        s_raw_str (&raw, "t");        msgpack_pack_array (pk, 0);
        s_raw_str (&raw, "v");        msgpack_pack_array (pk, 0);
        s_raw_expect (&raw, TS_EPROTO, bad [b].expect);
    }

    //  A reply in an encoding this build does not know
    s_raw_compact (&raw, ok, 4, -1, 6, 1, "delta2");
    s_raw_expect (&raw, TS_EPROTO, "unknown encoding 'delta2'");
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (query_enc_round_trips_and_defaults_to_columns),
        cmocka_unit_test (query_with_unknown_enc_is_an_error_naming_it),
        cmocka_unit_test (compact_reply_with_two_measures_round_trips),
        cmocka_unit_test (compact_reply_with_irregular_and_duplicate_times_round_trips),
        cmocka_unit_test (compact_values_are_exact_and_null_is_nil),
        cmocka_unit_test (compact_times_at_the_int64_ends_round_trip),
        cmocka_unit_test (compact_day_is_under_half_the_columns),
        cmocka_unit_test (compact_example_of_the_docs_is_exact),
        cmocka_unit_test (decode_reads_and_rejects_compact_lists),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto_compact", tests, NULL,
                                        NULL);
}
