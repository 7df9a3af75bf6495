/*  test_ts_proto_worker - the worker dialogue of the wire codec
    (common/ts_proto_worker.c): ready, failed (retry and retry_after_ms,
    their defaults and limits), heartbeat (the broker's boot id), the ids
    a done or failed lists written, and the broker's change notice.
    Helpers in ts_proto_fixture.h. */

#include "ts_proto_fixture.h"

//  ---------------------------------------------------------------------
//  Round trips and errors

static void
encode_into_reuses_the_callers_buffer_and_decode_reuses_its_zone (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_JOB);
    ts_msg_t *in = ts_msg_new (TS_OP_REPLY);
    char *buf = NULL, *once = NULL;
    size_t cap = 0, size = 0, once_size = 0;
    char err [TS_ERRLEN];
    for (int i = 0; i < 3; i++) {
        ts_msg_reset (msg, TS_OP_JOB);
        msg->job = (uint64_t) i + 1;
        ts_strlist_append (msg->ids, i == 1? "a-longer-id-than-the-first": "a");
        assert_int_equal (ts_msg_encode_into (msg, &buf, &cap, &size), 0);
        assert_true (size > 0 && size <= cap);
        //  The same bytes as ts_msg_encode.
        assert_int_equal (ts_msg_encode (msg, &once, &once_size), 0);
        assert_int_equal (size, once_size);
        assert_memory_equal (buf, once, size);
        free (once);
        //  Decoded by one message again and again: its zone is kept.
        assert_int_equal (ts_msg_decode_in (in, TS_DIALOGUE_BROKER, buf, size,
                                            TS_PROTO_MAX_REQUEST, err), 0);
        assert_int_equal (in->job, (uint64_t) i + 1);
        assert_string_equal (in->ids->items [0], msg->ids->items [0]);
        assert_non_null (in->zone);
    }
    //  A larger message grows the buffer.
    for (int k = 0; k < 200; k++)
        ts_strlist_append (msg->ids, "another-id-of-the-same-job");
    assert_int_equal (ts_msg_encode_into (msg, &buf, &cap, &size), 0);
    assert_true (cap >= size && size > 200 * 26);
    free (buf);
    ts_msg_destroy (&msg);
    ts_msg_destroy (&in);
}

static void
job_and_hydrate_carry_a_request_id_and_a_bad_one_is_refused (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_JOB);
    msg->job = 9;
    ts_strlist_append (msg->ids, "a");
    ts_strlcpy (msg->rid, "req-1.x:y", sizeof msg->rid);
    ts_msg_t *copy = s_round_trip (msg);
    assert_string_equal (copy->rid, "req-1.x:y");
    assert_int_equal (copy->job, 9);
    ts_msg_destroy (&copy);
    //  A reply echoes it; without one, no "rid" is written.
    ts_msg_set_ok (msg, 202);
    ts_strlcpy (msg->rid, "req-2", sizeof msg->rid);
    copy = s_round_trip (msg);
    assert_string_equal (copy->rid, "req-2");
    ts_msg_destroy (&copy);
    ts_msg_reset (msg, TS_OP_HYDRATE);
    ts_strlist_append (msg->ids, "a");
    copy = s_round_trip (msg);
    assert_string_equal (copy->rid, "");
    ts_msg_destroy (&copy);

    const char *bad [] = { "", "two words", "\xc3\xa9",
        "12345678901234567890123456789012345678901234567890123456789012345" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_raw_t raw;
        s_raw_request (&raw, "hydrate", 2);
        s_raw_str (&raw, "ids");
        msgpack_pack_array (&raw.pk, 1);
        s_raw_str (&raw, "a");
        s_raw_str (&raw, "rid");
        s_raw_str (&raw, bad [i]);
        char err [TS_ERRLEN] = "";
        assert_int_equal (ts_msg_decode (msg, raw.sbuf.data, raw.sbuf.size,
                                         TS_PROTO_MAX_REQUEST, err),
                          TS_EPROTO);
        assert_non_null (strstr (err, "field 'rid'"));
        msgpack_sbuffer_destroy (&raw.sbuf);
    }
    ts_msg_destroy (&msg);
}

static void
job_carries_its_source_and_window_and_bad_ones_are_refused (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_JOB);
    msg->job = 4;
    ts_strlist_append (msg->ids, "a");
    //  Neither: no "source", "from" or "to" on the wire.
    ts_msg_t *copy = s_round_trip (msg);
    assert_string_equal (copy->source, "");
    assert_false (copy->has_from || copy->has_to);
    ts_msg_destroy (&copy);
    ts_strlcpy (msg->source, "prices", sizeof msg->source);
    msg->has_from = msg->has_to = true;
    msg->from_ms = -86400000;
    msg->to_ms = 1732406400000;
    copy = s_round_trip (msg);
    assert_string_equal (copy->source, "prices");
    assert_true (copy->has_from && copy->has_to);
    assert_int_equal (copy->from_ms, -86400000);
    assert_int_equal (copy->to_ms, 1732406400000);
    ts_msg_destroy (&copy);

    //  from without to, from not before to, a source that is no name
    struct { const char *key; int64_t from, to; const char *source;
             const char *says; } bad [] = {
        { "from", 5, 0, NULL, "give both or neither" },
        { "both", 5, 5, NULL, "is not before 'to'" },
        { NULL, 0, 0, "two words", "field 'source'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_raw_t raw;
        size_t fields = 3 + (bad [i].key? (strcmp (bad [i].key, "both")
                                          == 0? 2: 1): 0);
        s_raw_request (&raw, "job", fields);
        s_raw_str (&raw, "job");
        msgpack_pack_int (&raw.pk, 1);
        s_raw_str (&raw, "ids");
        msgpack_pack_array (&raw.pk, 1);
        s_raw_str (&raw, "a");
        if (bad [i].key) {
            s_raw_str (&raw, "from");
            msgpack_pack_int64 (&raw.pk, bad [i].from);
            if (strcmp (bad [i].key, "both") == 0) {
                s_raw_str (&raw, "to");
                msgpack_pack_int64 (&raw.pk, bad [i].to);
            }
        }
        s_raw_str (&raw, "source");
        s_raw_str (&raw, bad [i].source? bad [i].source: "ok");
        char err [TS_ERRLEN] = "";
        ts_msg_t *got = ts_msg_new (TS_OP_PING);
        assert_int_equal (ts_msg_decode (got, raw.sbuf.data, raw.sbuf.size,
                                         TS_PROTO_MAX_REQUEST, err),
                          TS_EPROTO);
        assert_non_null (strstr (err, bad [i].says));
        ts_msg_destroy (&got);
        msgpack_sbuffer_destroy (&raw.sbuf);
    }
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
    //  The failure's kind, when the worker names it.
    ts_strlcpy (msg->kind, "http_429", sizeof msg->kind);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);
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

    s_raw_request (&raw, "failed", 2);
    s_raw_str (&raw, "job");    msgpack_pack_int (&raw.pk, 1);
    s_raw_str (&raw, "kind");
    s_raw_str (&raw, "a_kind_of_failure_longer_than_31_bytes");
    s_raw_expect (&raw, TS_EPROTO, "field 'kind'");

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

//  msg encodes to exactly the size bytes of example.
static void
s_expect_bytes (const ts_msg_t *msg, const unsigned char *example,
                size_t size)
{
    char *bytes;
    size_t len;
    assert_int_equal (ts_msg_encode (msg, &bytes, &len), 0);
    assert_int_equal (len, size);
    assert_memory_equal (bytes, example, size);
    free (bytes);
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
    s_expect_bytes (beat, example, sizeof example);
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
done_and_failed_list_the_ids_written_absent_is_told_apart (void **state)
{
    ts_msg_t *done = ts_msg_new (TS_OP_DONE);
    done->job = 9;
    //  Absent: a worker that predates the list (every id of the job).
    ts_msg_t *copy = s_round_trip (done);
    assert_false (copy->has_written);
    assert_int_equal (copy->written->n, 0);
    ts_msg_destroy (&copy);
    //  Empty: nothing was written.
    done->has_written = true;
    copy = s_round_trip (done);
    assert_true (copy->has_written);
    assert_int_equal (copy->written->n, 0);
    ts_msg_destroy (&copy);
    ts_strlist_append (done->written, "a");
    ts_strlist_append (done->written, "b");
    copy = s_round_trip (done);
    assert_true (copy->has_written);
    assert_int_equal (copy->written->n, 2);
    assert_string_equal (copy->written->items [1], "b");
    //  A reset forgets the list.
    ts_msg_reset (copy, TS_OP_DONE);
    assert_false (copy->has_written);
    assert_int_equal (copy->written->n, 0);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&done);

    ts_msg_t *failed = ts_msg_new (TS_OP_FAILED);
    failed->job = 9;
    ts_strlcpy (failed->detail, "HTTP 503", sizeof failed->detail);
    failed->has_written = true;
    ts_strlist_append (failed->written, "a");
    copy = s_round_trip (failed);
    assert_true (copy->has_written);
    assert_string_equal (copy->written->items [0], "a");
    assert_string_equal (copy->detail, "HTTP 503");
    ts_msg_destroy (&copy);
    ts_msg_destroy (&failed);

    //  Names are checked like any id list.
    s_raw_t raw;
    s_raw_request (&raw, "done", 2);
    s_raw_str (&raw, "job");
    msgpack_pack_int (&raw.pk, 5);
    s_raw_str (&raw, "written");
    msgpack_pack_array (&raw.pk, 1);
    s_raw_str (&raw, "bad id");
    s_expect_error (raw.sbuf.data, raw.sbuf.size, TS_PROTO_MAX_REQUEST,
                    TS_EPROTO, "written");
    msgpack_sbuffer_destroy (&raw.sbuf);
}

static void
notice_encodes_as_documented_and_decodes_on_a_subscriber_only (void **state)
{
    //  The example of docs/protocol.md section 5.18, byte for byte.
    static const unsigned char example [] = {
        0x85, 0xa1, 0x76, 0x01, 0xa2, 0x6f, 0x70, 0xa6, 0x6e, 0x6f, 0x74,
        0x69, 0x63, 0x65, 0xa4, 0x62, 0x6f, 0x6f, 0x74, 0xcf, 0x12, 0x34,
        0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0xa3, 0x73, 0x65, 0x71, 0x2a,
        0xa3, 0x69, 0x64, 0x73, 0x92, 0xa8, 0x74, 0x65, 0x73, 0x74, 0x2d,
        0x72, 0x75, 0x6e, 0xa1, 0x62 };
    static const char *const ids [] = { "test-run", "b" };
    char *buf = NULL;
    size_t cap = 0, size = 0;
    assert_int_equal (ts_msg_encode_notice (&buf, &cap, &size,
                                            0x123456789abcdef0ULL, 42, ids,
                                            2), 0);
    assert_int_equal (size, sizeof example);
    assert_memory_equal (buf, example, sizeof example);
    ts_msg_t *msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_NOTICE, buf, size,
                                        TS_PROTO_MAX_REQUEST, err), 0);
    assert_int_equal (msg->op, TS_OP_NOTICE);
    assert_true (msg->boot == 0x123456789abcdef0ULL);
    assert_int_equal (msg->seq, 42);
    assert_int_equal (msg->ids->n, 2);
    assert_string_equal (msg->ids->items [0], "test-run");
    //  Not a worker's or a client's message.
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_WORKER, buf, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_CLIENT, buf, size,
                                        TS_PROTO_MAX_REQUEST, err),
                      TS_EDIALOGUE);
    //  The buffer is reused: a heartbeat (no ids) in the same one.
    char *was = buf;
    assert_int_equal (ts_msg_encode_notice (&buf, &cap, &size, 7, 44, NULL,
                                            0), 0);
    assert_ptr_equal (buf, was);
    assert_int_equal (ts_msg_decode_in (msg, TS_DIALOGUE_NOTICE, buf, size,
                                        TS_PROTO_MAX_REQUEST, err), 0);
    assert_int_equal (msg->seq, 44);
    assert_int_equal (msg->ids->n, 0);
    free (buf);
    //  ts_msg_encode writes the same message.
    ts_msg_t *notice = ts_msg_new (TS_OP_NOTICE);
    notice->boot = 1;
    notice->seq = 3;
    ts_strlist_append (notice->ids, "a");
    s_check_round_trip (notice);
    ts_msg_destroy (&notice);
    ts_msg_destroy (&msg);

    //  seq is required.
    s_raw_t raw;
    s_raw_request (&raw, "notice", 2);
    s_raw_str (&raw, "boot");
    msgpack_pack_int (&raw.pk, 5);
    s_raw_str (&raw, "ids");
    msgpack_pack_array (&raw.pk, 0);
    s_expect_error (raw.sbuf.data, raw.sbuf.size, TS_PROTO_MAX_REQUEST,
                    TS_EPROTO, "seq");
    msgpack_sbuffer_destroy (&raw.sbuf);
}

static void
release_encodes_as_documented_and_needs_its_job_list (void **state)
{
    ts_msg_t *release = ts_msg_new (TS_OP_RELEASE);
    assert_int_equal (ts_msg_add_job (release, 42), 0);
    assert_int_equal (ts_msg_add_job (release, 43), 0);
    //  The example of docs/protocol.md section 5.19, byte for byte.
    static const unsigned char example [] = {
        0x83, 0xa1, 0x76, 0x01, 0xa2, 0x6f, 0x70, 0xa7, 0x72, 0x65, 0x6c,
        0x65, 0x61, 0x73, 0x65, 0xa4, 0x6a, 0x6f, 0x62, 0x73, 0x92, 0x2a,
        0x2b };
    s_expect_bytes (release, example, sizeof example);
    ts_msg_t *copy = s_round_trip (release);
    assert_int_equal (copy->op, TS_OP_RELEASE);
    assert_int_equal (copy->jobs_n, 2);
    assert_true (copy->jobs [0] == 42 && copy->jobs [1] == 43);
    ts_msg_destroy (&copy);
    //  No jobs: "take no more" alone.
    ts_msg_reset (release, TS_OP_RELEASE);
    copy = s_round_trip (release);
    assert_int_equal (copy->op, TS_OP_RELEASE);
    assert_int_equal (copy->jobs_n, 0);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&release);

    //  The list is required, and holds job ids.
    s_raw_t raw;
    s_raw_request (&raw, "release", 0);
    s_expect_error (raw.sbuf.data, raw.sbuf.size, TS_PROTO_MAX_REQUEST,
                    TS_EPROTO, "jobs");
    msgpack_sbuffer_destroy (&raw.sbuf);
    s_raw_request (&raw, "release", 1);
    s_raw_str (&raw, "jobs");
    msgpack_pack_array (&raw.pk, 1);
    s_raw_str (&raw, "7");
    s_expect_error (raw.sbuf.data, raw.sbuf.size, TS_PROTO_MAX_REQUEST,
                    TS_EPROTO, "jobs");
    msgpack_sbuffer_destroy (&raw.sbuf);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (failed_defaults_to_retry_when_the_fields_are_absent),
        cmocka_unit_test (job_and_hydrate_carry_a_request_id_and_a_bad_one_is_refused),
        cmocka_unit_test (encode_into_reuses_the_callers_buffer_and_decode_reuses_its_zone),
        cmocka_unit_test (job_carries_its_source_and_window_and_bad_ones_are_refused),
        cmocka_unit_test (decode_rejects_bad_retry_fields_and_redrive_ids),
        cmocka_unit_test (decode_accepts_ready_with_no_credit_and_failed_without_detail),
        cmocka_unit_test (heartbeat_carries_the_broker_boot_id_when_given),
        cmocka_unit_test (done_and_failed_list_the_ids_written_absent_is_told_apart),
        cmocka_unit_test (notice_encodes_as_documented_and_decodes_on_a_subscriber_only),
        cmocka_unit_test (release_encodes_as_documented_and_needs_its_job_list),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto_worker", tests, NULL, NULL);
}
