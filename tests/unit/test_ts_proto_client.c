/*  test_ts_proto_client - the client dialogue of the wire codec
    (common/ts_proto_client.c): requests (query, ids_ls paging, hydrate,
    dlq_redrive, job_state) and replies (ok, error, lists, stats with
    workers, dlq entries, job states) round-trip, the bytes match
    docs/protocol.md, and malformed paging, job, stats and dlq fields are
    errors with a precise detail. Helpers in ts_proto_fixture.h. */

#include "ts_proto_fixture.h"

//  ---------------------------------------------------------------------
//  Round trips

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

//  ids_add's source and the ids_ls reply's sources (docs/protocol.md
//  5.3, 5.5); sources not matching ids one to one are refused.
static void
ids_add_source_and_ids_ls_sources_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_ADD);
    assert_int_equal (ts_strlist_append (msg->ids, "a"), 0);
    s_check_round_trip (msg);
    ts_strlcpy (msg->source, "weather", sizeof msg->source);
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);

    msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 200);
    assert_int_equal (ts_strlist_append (msg->ids, "a"), 0);
    assert_int_equal (ts_strlist_append (msg->ids, "b"), 0);
    assert_int_equal (ts_strlist_append (msg->sources, "weather"), 0);
    assert_int_equal (ts_strlist_append (msg->sources, "prices"), 0);
    s_check_round_trip (msg);
    //  One name short: the decoder refuses it.
    ts_strlist_clear (msg->sources);
    assert_int_equal (ts_strlist_append (msg->sources, "weather"), 0);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    ts_msg_t *copy = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode (copy, data, size, TS_PROTO_MAX_REQUEST,
                                     err), TS_EPROTO);
    assert_string_equal (err, "field 'sources': 1 names for 2 ids");
    free (data);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

//  ids_show and its reply: id, source and the fetch map (docs/protocol.md
//  5.20); a reply without the fetch map has none.
static void
ids_show_and_its_fetch_reply_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_SHOW);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    ts_msg_t *copy = s_round_trip (msg);
    assert_int_equal (copy->op, TS_OP_IDS_SHOW);
    assert_string_equal (copy->id, "a");
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);

    msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 200);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    ts_strlcpy (msg->source, "weather", sizeof msg->source);
    msg->has_fetch = true;
    msg->fetch = (ts_id_status_t) {
        .ok_ms = 1000, .attempt_ms = 3000, .error_ms = 3000,
        .error = "id=a: upstream HTTP 404", .kind = "http_404",
        .not_found_until_ms = 303000 };
    copy = s_round_trip (msg);
    assert_true (copy->has_fetch);
    assert_string_equal (copy->id, "a");
    assert_string_equal (copy->source, "weather");
    assert_int_equal (copy->fetch.ok_ms, 1000);
    assert_int_equal (copy->fetch.attempt_ms, 3000);
    assert_int_equal (copy->fetch.error_ms, 3000);
    assert_string_equal (copy->fetch.error, "id=a: upstream HTTP 404");
    assert_string_equal (copy->fetch.kind, "http_404");
    assert_int_equal (copy->fetch.not_found_until_ms, 303000);
    ts_msg_destroy (&copy);
    msg->has_fetch = false;
    copy = s_round_trip (msg);
    assert_false (copy->has_fetch);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);
}

//  ids_ls with "fetch": true, and its reply's fetches (docs/protocol.md
//  5.5): one map per id, stale included; as many as ids, else refused.
static void
ids_ls_with_fetch_and_its_fetches_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_IDS_LS);
    msg->limit = 2;
    msg->with_fetch = true;
    s_check_round_trip (msg);
    msg->with_fetch = false;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);

    msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 200);
    ts_strlist_append (msg->ids, "a");
    ts_strlist_append (msg->ids, "b");
    ts_strlist_append (msg->sources, "weather");
    ts_strlist_append (msg->sources, "weather");
    ts_id_status_t a = { .ok_ms = 1000, .attempt_ms = 3000,
                         .error_ms = 3000, .error = "id=a: upstream HTTP 503",
                         .kind = "http_503", .stale = true };
    ts_id_status_t b = { 0 };
    assert_int_equal (ts_msg_add_fetch (msg, &a), 0);
    assert_int_equal (ts_msg_add_fetch (msg, &b), 0);
    s_check_round_trip (msg);
    ts_msg_t *copy = s_round_trip (msg);
    assert_true (copy->has_fetches && copy->fetches_n == 2);
    assert_true (copy->fetches [0].stale && !copy->fetches [1].stale);
    assert_string_equal (copy->fetches [0].kind, "http_503");
    ts_msg_destroy (&copy);

    //  One fetch for two ids: refused.
    msg->fetches_n = 1;
    char *data = NULL;
    size_t size = 0;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    ts_msg_t *bad = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode (bad, data, size, 1 << 20, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "fetches"));
    free (data);
    ts_msg_destroy (&bad);
    ts_msg_destroy (&msg);

    //  {"v":1,"op":"ids_ls","fetch":1}
    const char number [] = "\x83\xa1" "v" "\x01\xa2" "op" "\xa6" "ids_ls"
                           "\xa5" "fetch" "\x01";
    s_expect_error (number, sizeof number - 1, 1024, TS_EPROTO, "fetch");
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
stats_reply_with_staleness_round_trips_and_bad_ones_are_refused (void **state)
{
    ts_msg_t *msg = s_stats_reply ();
    ts_staleness_t *st = &msg->stats.staleness;
    msg->stats.has_staleness = true;
    *st = (ts_staleness_t) { .at_ms = 1732406400000LL, .registered = 10,
                             .never = 2, .max_age_ms = 4000000, .n = 3,
                             .le_ms = { 60000, 3600000, 86400000 },
                             .counts = { 5, 7, 8 } };
    s_check_round_trip (msg);
    //  Each broken rule: the reply does not decode.
    struct { size_t n; int64_t le1; uint64_t c1, never; } bad [] = {
        { 0, 3600000, 7, 2 },           //  no bounds
        { 3, 60000, 7, 2 },             //  bounds not going up
        { 3, 3600000, 4, 2 },           //  counts going down
        { 3, 3600000, 9, 2 },           //  more than registered - never
        { 3, 3600000, 7, 11 },          //  never > registered
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_staleness_t keep = *st;
        st->n = bad [i].n;
        st->le_ms [1] = bad [i].le1;
        st->counts [1] = bad [i].c1;
        st->never = bad [i].never;
        char *data;
        size_t size;
        assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
        ts_msg_t *back = ts_msg_new (TS_OP_REPLY);
        char err [TS_ERRLEN] = "";
        print_message ("case %zu\n", i);
        assert_int_equal (ts_msg_decode (back, data, size, SIZE_MAX, err),
                          TS_EPROTO);
        assert_non_null (strstr (err, "staleness"));
        ts_msg_destroy (&back);
        free (data);
        *st = keep;
    }
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
dlq_redrive_by_jobs_round_trips_and_not_with_ids (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_msg_add_job (msg, 7), 0);
    assert_int_equal (ts_msg_add_job (msg, 12), 0);
    ts_msg_t *copy = s_round_trip (msg);
    assert_int_equal (copy->jobs_n, 2);
    assert_int_equal (copy->jobs [1], 12);
    assert_int_equal (copy->ids->n, 0);
    ts_msg_destroy (&copy);
    //  ids and jobs together: refused.
    ts_strlist_append (msg->ids, "a");
    char *data = NULL;
    size_t size = 0;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    char err [TS_ERRLEN] = "";
    ts_msg_t *in = ts_msg_new (TS_OP_REPLY);
    assert_int_equal (ts_msg_decode (in, data, size, TS_PROTO_MAX_REQUEST,
                                     err), TS_EPROTO);
    assert_non_null (strstr (err, "not both"));
    free (data);
    ts_msg_destroy (&in);
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

//  Read-through (docs/protocol.md 5.6, 6): hydrate's optional priority
//  and a 202 query reply's retry_after_ms; a priority that is not a
//  boolean is refused.
static void
hydrate_priority_and_query_retry_after_round_trip (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_HYDRATE);
    assert_int_equal (ts_strlist_append (msg->ids, "a"), 0);
    s_check_round_trip (msg);
    msg->priority = true;
    s_check_round_trip (msg);
    s_assert_bytes (msg, "84 a1 76 01 a2 6f 70 a7 68 79 64 72 61 74 65 "
                    "a3 69 64 73 91 a1 61 a8 70 72 69 6f 72 69 74 79 c3");
    //  skip_fetched_since: epoch ms; 0 is not sent.
    msg->skip_fetched_since_ms = 1733550000123LL;
    s_check_round_trip (msg);
    ts_msg_t *copy = s_round_trip (msg);
    assert_true (copy->skip_fetched_since_ms == 1733550000123LL);
    ts_msg_destroy (&copy);
    ts_msg_destroy (&msg);

    msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 202);
    msg->retry_after_ms = 1000;
    s_check_round_trip (msg);
    ts_msg_destroy (&msg);

    //  {"v":1,"op":"hydrate","ids":["a"],"priority":1}
    const char bad [] = "\x84\xa1" "v" "\x01\xa2" "op" "\xa7" "hydrate"
                        "\xa3" "ids" "\x91\xa1" "a" "\xa8" "priority"
                        "\x01";
    msg = ts_msg_new (TS_OP_PING);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode (msg, bad, sizeof bad - 1, 1024, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "priority"));
    ts_msg_destroy (&msg);

    //  {"v":1,"op":"hydrate","ids":["a"],"skip_fetched_since":-1}, then
    //  "1" (a string)
    const char negative [] = "\x84\xa1" "v" "\x01\xa2" "op" "\xa7" "hydrate"
                             "\xa3" "ids" "\x91\xa1" "a"
                             "\xb2" "skip_fetched_since" "\xff";
    s_expect_error (negative, sizeof negative - 1, 1024, TS_EPROTO,
                    "skip_fetched_since");
    const char text [] = "\x84\xa1" "v" "\x01\xa2" "op" "\xa7" "hydrate"
                         "\xa3" "ids" "\x91\xa1" "a"
                         "\xb2" "skip_fetched_since" "\xa1" "1";
    s_expect_error (text, sizeof text - 1, 1024, TS_EPROTO,
                    "skip_fetched_since");
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

//  ---------------------------------------------------------------------
//  Errors

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

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (query_without_range_or_measure_round_trips),
        cmocka_unit_test (ok_error_and_list_replies_round_trip),
        cmocka_unit_test (ids_add_source_and_ids_ls_sources_round_trip),
        cmocka_unit_test (stats_reply_with_workers_round_trips),
        cmocka_unit_test (stats_reply_with_staleness_round_trips_and_bad_ones_are_refused),
        cmocka_unit_test (dlq_reply_round_trips_with_and_without_entries),
        cmocka_unit_test (add_helpers_grow_and_reset_frees_them),
        cmocka_unit_test (dlq_redrive_without_ids_round_trips),
        cmocka_unit_test (dlq_redrive_by_jobs_round_trips_and_not_with_ids),
        cmocka_unit_test (decode_ignores_unknown_keys_in_stats_and_dlq),
        cmocka_unit_test (ids_ls_pages_round_trip_with_cursor_limit_and_next),
        cmocka_unit_test (hydrate_priority_and_query_retry_after_round_trip),
        cmocka_unit_test (hydrate_reply_names_the_job_of_each_id),
        cmocka_unit_test (job_state_request_and_reply_round_trip),
        cmocka_unit_test (decode_rejects_bad_paging_and_job_fields),
        cmocka_unit_test (decode_rejects_malformed_stats),
        cmocka_unit_test (decode_rejects_malformed_dlq),
        cmocka_unit_test (ids_show_and_its_fetch_reply_round_trip),
        cmocka_unit_test (ids_ls_with_fetch_and_its_fetches_round_trip),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_proto_client", tests, NULL, NULL);
}
