/*  test_ts_api_readthru - read-through in the request handler
    (ts_api_query_rt, ts_api_revalidate): a query of a registered id
    without data parks on a fetch, concurrent queries join it and the
    broker gets one priority hydrate; the change notice ends the wait and
    the resumed query answers 202 with retry_after_ms while still empty;
    an id with data is answered at once, and so is an id fetched with
    success that holds nothing and one whose fetch failed (no fetch:
    the broker retries it), while a negatively cached upstream 404 is a
    404; a broker that refuses the fetch ends the wait
    too, and so does one that skips it as fetched since the query read
    the store (the hydrate names that time), but a late refusal of one
    fetch leaves the next flight of the same id waiting. The broker is a
    fake on inproc. */

#define BROKER_RT   "inproc://test-ts-api-readthru-broker"

#include "ts_api_fixture.h"

#define S_YAML_RT   "gateway:\n" \
                    "  max_points: 20\n" \
                    "  read_through: registered\n" \
                    "  read_through_wait_ms: 5000\n" \
                    "  broker_endpoint: " BROKER_RT "\n"

static int
s_setup_rt (void **state)
{
    return s_setup_yaml (state, S_YAML_RT);
}

//  The same with a broker answer timeout short enough to wait out.
static int
s_setup_rt_short (void **state)
{
    return s_setup_yaml (state, S_YAML_RT "  broker_timeout_ms: 300\n");
}

//  ts_api_query_rt of id over [0, 5000] with wait; the encoded answer
//  is freed here.
static int
s_query_rt (fixture_t *self, const char *id, ts_api_wait_t *wait)
{
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, id, sizeof self->req->id);
    self->req->has_from = self->req->has_to = true;
    self->req->from_ms = 0;
    self->req->to_ms = 5000;
    ts_msg_reset (self->reply, TS_OP_REPLY);
    char *data = NULL;
    size_t size = 0;
    int status = ts_api_query_rt (self->api, self->req, 'm', ts_msg_encode,
                                  self->reply, &data, &size, wait);
    if (status == TS_API_PARK)
        assert_null (data);
    free (data);
    return status;
}

static bool
s_requests_are (ts_fakebroker_t *broker, size_t n)
{
    for (int i = 0; i < 200 && ts_fakebroker_requests (broker) < n; i++)
        zclock_sleep (10);
    return ts_fakebroker_requests (broker) == n;
}

//  True once wait's flight has ended (within 2 s).
static bool
s_wait_ends (fixture_t *self, const ts_api_wait_t *wait)
{
    for (int i = 0; i < 200; i++) {
        if (!ts_api_waiting (self->api, wait, ts_mono_ms ()))
            return true;
        zclock_sleep (10);
    }
    return false;
}

static void
readthru_concurrent_queries_share_one_priority_fetch (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    assert_non_null (broker);
    s_register (self, "a");
    ts_api_wait_t one = { .may_wait = true }, two = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &one), TS_API_PARK);
    assert_int_equal (s_query_rt (self, "a", &two), TS_API_PARK);
    assert_int_equal (one.flight, two.flight);
    assert_string_equal (one.id, "a");
    assert_true (one.until_ms > ts_mono_ms ());
    assert_true (s_requests_are (broker, 1));
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_HYDRATE);
    //  It names the time the first query read the store.
    int64_t skip = ts_fakebroker_last_skip (broker);
    assert_true (skip > ts_now_ms () - 10000 && skip <= ts_now_ms ());
    //  A revalidation while it is in flight joins it too.
    assert_int_equal (ts_api_revalidate (self->api, "a"), 1);
    zclock_sleep (50);
    assert_int_equal (ts_fakebroker_requests (broker), 1);

    //  The change notice of a ends the wait of both.
    int64_t now = ts_mono_ms ();
    assert_true (ts_api_waiting (self->api, &one, now));
    ts_api_noticed (self->api, "b");
    assert_true (ts_api_waiting (self->api, &one, now));
    ts_api_noticed (self->api, "a");
    assert_false (ts_api_waiting (self->api, &one, now));
    assert_false (ts_api_waiting (self->api, &two, now));

    //  Resumed and still empty: 202 with retry_after_ms, no new fetch.
    one.resumed = true;
    assert_int_equal (s_query_rt (self, "a", &one), 202);
    assert_int_equal (self->reply->retry_after_ms, TS_API_RETRY_AFTER_MS);
    zclock_sleep (50);
    assert_int_equal (ts_fakebroker_requests (broker), 1);
    ts_fakebroker_destroy (&broker);
}

static void
readthru_answers_an_id_with_data_at_once (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    s_register (self, "a");
    ts_points_t *history = ts_points_new ();
    ts_points_append (history, 1000, "value", 1.5);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    ts_points_destroy (&history);
    ts_api_wait_t wait = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &wait), 200);
    assert_int_equal (self->reply->series.history->n, 1);
    //  Unknown ids stay 404 with read_through registered.
    assert_int_equal (s_query_rt (self, "zz", &wait), 404);
    //  Without a wait (a caller that cannot park): 202 at once.
    s_register (self, "b");
    ts_api_wait_t now = { .may_wait = false };
    assert_int_equal (s_query_rt (self, "b", &now), 202);
    assert_true (s_requests_are (broker, 1));
    ts_fakebroker_destroy (&broker);
}

static void
readthru_only_never_attempted_ids_are_fetched (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    char err [TS_ERRLEN] = "";
    //  Fetched with success, nothing in [0, 5000]: an answer like any.
    s_register (self, "a");
    ts_store_mark_t ok = { .id = "a", .at_ms = ts_now_ms (), .ok = true };
    assert_int_equal (ts_store_ids_mark (self->base->store, &ok, 1, err), 0);
    ts_api_wait_t wait = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &wait), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    //  The upstream answered 404, cached for a minute: 404, no fetch.
    s_register (self, "b");
    int64_t now = ts_now_ms ();
    assert_int_equal (ts_store_ids_failed (self->base->store, "b", now,
                                           "not_found", "404", now + 60000,
                                           err), 0);
    assert_int_equal (s_query_rt (self, "b", &wait), 404);
    assert_string_equal (self->reply->error, "upstream_not_found");
    zclock_sleep (50);
    assert_int_equal (ts_fakebroker_requests (broker), 0);
    //  Failed, never fetched with success: left to the broker's retries,
    //  the answer says the error.
    s_register (self, "c");
    assert_int_equal (ts_store_ids_failed (self->base->store, "c", now,
                                           "http_503", "503", 0, err), 0);
    assert_int_equal (s_query_rt (self, "c", &wait), 200);
    assert_true (self->reply->fresh.stale);
    assert_string_equal (self->reply->fresh.error_kind, "http_503");
    zclock_sleep (50);
    assert_int_equal (ts_fakebroker_requests (broker), 0);
    //  An upstream 404 whose negative cache ran out: fetched again.
    s_register (self, "e");
    assert_int_equal (ts_store_ids_failed (self->base->store, "e", now - 2,
                                           "not_found", "404", now - 1,
                                           err), 0);
    ts_api_wait_t e_wait = { .may_wait = false };
    assert_int_equal (s_query_rt (self, "e", &e_wait), 202);
    assert_true (s_requests_are (broker, 1));
    //  Never attempted: fetched.
    s_register (self, "d");
    ts_api_wait_t now_wait = { .may_wait = false };
    assert_int_equal (s_query_rt (self, "d", &now_wait), 202);
    assert_true (s_requests_are (broker, 2));
    ts_fakebroker_destroy (&broker);
}

static void
readthru_refused_fetch_ends_the_wait (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_GARBAGE);
    s_register (self, "a");
    ts_api_wait_t wait = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &wait), TS_API_PARK);
    assert_true (s_wait_ends (self, &wait));
    //  The next query asks again.
    assert_int_equal (ts_api_revalidate (self->api, "a"), 0);
    assert_int_equal (ts_api_revalidate (self->api, "-bad id"), TS_EINVAL);
    ts_fakebroker_destroy (&broker);
}

//  The broker skipped the fetch (the id's job was acked after the query
//  read): no notice will come, so the wait ends at once, and the hydrate
//  carried the read's time.
static void
readthru_fetch_skipped_as_fetched_since_ends_the_wait (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SKIPPED);
    s_register (self, "a");
    int64_t before = ts_now_ms ();
    ts_api_wait_t wait = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &wait), TS_API_PARK);
    int64_t after = ts_now_ms ();
    assert_true (s_wait_ends (self, &wait));
    assert_int_equal (ts_fakebroker_requests (broker), 1);
    int64_t skip = ts_fakebroker_last_skip (broker);
    assert_true (skip >= before && skip <= after);
    //  A revalidation asks without it: the id is stale, whatever came.
    assert_int_equal (ts_api_revalidate (self->api, "a"), 0);
    assert_true (s_requests_are (broker, 2));
    assert_true (ts_fakebroker_last_skip (broker) == 0);
    ts_fakebroker_destroy (&broker);
}

//  The first fetch's hydrate goes unanswered; its flight ends with the
//  id's change notice (a scheduled fetch wrote it), and the next query
//  starts a second flight, whose hydrate is queued. The first hydrate's
//  timeout (503) then ends only its own flight: the second one's
//  queries keep waiting for their notice.
static void
readthru_late_refusal_leaves_the_next_flight_waiting (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER_RT);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    s_register (self, "a");
    ts_api_wait_t first = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &first), TS_API_PARK);
    assert_int_equal (ts_fakebroker_wait_requests (broker, 1, 2000), 1);
    ts_api_noticed (self->api, "a");
    assert_false (ts_api_waiting (self->api, &first, ts_mono_ms ()));

    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    ts_api_wait_t second = { .may_wait = true };
    assert_int_equal (s_query_rt (self, "a", &second), TS_API_PARK);
    assert_int_not_equal (second.flight, first.flight);
    assert_int_equal (ts_fakebroker_wait_requests (broker, 2, 2000), 2);
    //  Past the first hydrate's timeout (300 ms), with room to spare.
    zclock_sleep (700);
    assert_true (ts_api_waiting (self->api, &second, ts_mono_ms ()));
    ts_api_noticed (self->api, "a");
    assert_false (ts_api_waiting (self->api, &second, ts_mono_ms ()));
    ts_fakebroker_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (
            readthru_concurrent_queries_share_one_priority_fetch,
            s_setup_rt, s_teardown),
        cmocka_unit_test_setup_teardown (
            readthru_answers_an_id_with_data_at_once, s_setup_rt,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            readthru_only_never_attempted_ids_are_fetched, s_setup_rt,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            readthru_refused_fetch_ends_the_wait, s_setup_rt, s_teardown),
        cmocka_unit_test_setup_teardown (
            readthru_fetch_skipped_as_fetched_since_ends_the_wait,
            s_setup_rt, s_teardown),
        cmocka_unit_test_setup_teardown (
            readthru_late_refusal_leaves_the_next_flight_waiting,
            s_setup_rt_short, s_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests (tests, NULL, NULL);
}
