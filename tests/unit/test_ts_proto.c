/*  test_ts_proto - the message and its framing (common/ts_proto.c and
    ts_proto_codec.c): every request op round-trips, each dialogue takes
    only its own messages, and every kind of bad input (truncated,
    oversized, wrong-typed, unknown op, bad version, trailing bytes,
    invalid names, duplicate keys, deep nesting) is an error with a
    precise detail. A deterministic mutation loop feeds thousands of
    damaged encodings to the decoder, which must answer without crashing.

    The client dialogue's messages are tested in test_ts_proto_client.c,
    the worker dialogue's in test_ts_proto_worker.c, the columns of a
    query answer in test_ts_proto_points.c; the helpers they share are in
    ts_proto_fixture.h. */

#include "ts_proto_fixture.h"

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
            case TS_OP_IDS_SHOW:
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
            case TS_OP_RELEASE:
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

//  ---------------------------------------------------------------------
//  Dialogues

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
    if (op != TS_OP_DLQ_REDRIVE)            //  ids or jobs there, not both
        ts_msg_add_job (msg, 1);
    msg->job = 1;
    msg->credit = 1;
    assert_int_equal (ts_msg_encode (msg, data, size), 0);
    ts_msg_destroy (&msg);
}

static void
each_dialogue_takes_only_its_own_messages (void **state)
{
    //  C: client ops; R: replies; W: worker to broker; B: broker to worker;
    //  N: change notices.
    const char *takers [TS_OP_COUNT_] = {
        [TS_OP_REPLY] = "R", [TS_OP_PING] = "C", [TS_OP_QUERY] = "C",
        [TS_OP_IDS_ADD] = "C", [TS_OP_IDS_RM] = "C", [TS_OP_IDS_LS] = "C",
        [TS_OP_HYDRATE] = "C", [TS_OP_READY] = "W", [TS_OP_JOB] = "B",
        [TS_OP_DONE] = "W", [TS_OP_FAILED] = "W", [TS_OP_HEARTBEAT] = "WB",
        [TS_OP_STATS] = "C", [TS_OP_DLQ_LS] = "C", [TS_OP_DLQ_REDRIVE] = "C",
        [TS_OP_DLQ_PURGE] = "C", [TS_OP_JOB_STATE] = "C",
        [TS_OP_NOTICE] = "N", [TS_OP_RELEASE] = "W", [TS_OP_IDS_SHOW] = "C"
    };
    const struct { ts_dialogue_t dialogue; char letter; } dialogues [] = {
        { TS_DIALOGUE_CLIENT, 'C' }, { TS_DIALOGUE_REPLIES, 'R' },
        { TS_DIALOGUE_WORKER, 'W' }, { TS_DIALOGUE_BROKER, 'B' },
        { TS_DIALOGUE_NOTICE, 'N' }
    };
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    for (int op = TS_OP_REPLY; op < TS_OP_COUNT_; op++) {
        char *data = NULL;
        size_t size = 0;
        s_encode_op ((ts_op_t) op, &data, &size);
        for (size_t d = 0; d < 5; d++) {
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

//  ---------------------------------------------------------------------
//  Decoding

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
    assert_string_equal (ts_op_name (TS_OP_NOTICE), "notice");
    assert_string_equal (ts_job_status_name (TS_JOB_STATUS_DELAYED),
                         "delayed");
    assert_string_equal (ts_job_status_name (TS_JOB_STATUS_COUNT_), "?");
    assert_string_equal (ts_op_name (TS_OP_COUNT_), "?");
    assert_string_equal (ts_op_name ((ts_op_t) -1), "?");
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
                  "from: expected epoch milliseconds, an RFC 3339 time or now");

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

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (every_request_op_round_trips),
        cmocka_unit_test (each_dialogue_takes_only_its_own_messages),
        cmocka_unit_test (dialogue_refusal_names_the_op_and_the_dialogue),
        cmocka_unit_test (decode_accepts_integer_values_and_ignores_unknown_keys),
        cmocka_unit_test (decode_reuses_a_message_and_resets_it_first),
        cmocka_unit_test (op_names_match_the_wire),
        cmocka_unit_test (decode_takes_a_stored_name_with_a_leading_dash),
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
        cmocka_unit_test (decode_rejects_huge_counts_without_allocating_them),
        cmocka_unit_test (decode_rejects_deep_nesting),
        cmocka_unit_test (decode_counts_the_top_level_map_as_nesting_level_one),
        cmocka_unit_test (error_detail_longer_than_the_buffer_is_cut),
        cmocka_unit_test (decode_survives_random_mutations),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto", tests, NULL, NULL);
}
