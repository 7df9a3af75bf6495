/*  test_ts_api_fresh - freshness of query answers through the request
    handler: fetched_ms, stale, last_error and age in the reply (read and
    reused from the answer cache, whose entry a fetch mark voids), the
    negative cached upstream 404, and stale-if-error serving forecast
    points expired within its window. The fetch status is written with
    the store's marks (ts_store_ids_mark), as a worker writes it. */

#include "ts_api_fixture.h"

//  Runs self->req through ts_api_query (msgpack, cached) and decodes the
//  answer into self->reply; the ETag of the answer in *etag. Returns the
//  status.
static int
s_run (fixture_t *self, uint64_t *etag)
{
    char *data = NULL;
    size_t size = 0;
    int status = ts_api_query (self->api, self->req, 'm', ts_msg_encode,
                               self->reply, &data, &size);
    if (etag)
        *etag = self->reply->fresh.etag;
    if (status == 200) {
        char err [TS_ERRLEN] = "";
        assert_int_equal (ts_msg_decode (self->reply, data, size, 1 << 24,
                                         err), 0);
    }
    free (data);
    return status;
}

static void
s_mark (fixture_t *self, const char *id, int64_t at_ms, bool ok,
        int64_t not_found_until_ms)
{
    ts_store_mark_t mark = {
        .id = id, .at_ms = at_ms, .ok = ok, .kind = ok? NULL: "http_503",
        .detail = ok? NULL: "upstream answered 503",
        .not_found_until_ms = not_found_until_ms };
    if (not_found_until_ms) {
        mark.kind = "http_404";
        mark.detail = "upstream answered 404";
    }
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_ids_mark (self->base->store, &mark, 1, err),
                      0);
}

static void
api_never_fetched_id_is_stale_without_age (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    int64_t now = ts_now_ms ();
    s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, NULL), 200);
    assert_true (self->reply->has_fresh);
    assert_true (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.fetched_ms, 0);
    assert_int_equal (self->reply->fresh.age_s, -1);
    assert_int_equal (self->reply->fresh.error_ms, 0);
}

static void
api_fetched_id_is_fresh_and_reused_with_its_age (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    int64_t now = ts_now_ms ();
    s_mark (self, "a", now - 10000, true, 0);
    s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
    uint64_t etag = 0, again = 0;
    assert_int_equal (s_run (self, &etag), 200);
    assert_true (self->reply->has_fresh);
    assert_false (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.fetched_ms, now - 10000);
    assert_in_range (self->reply->fresh.age_s, 9, 11);
    assert_true (etag != 0);
    //  From the cache: the same answer and ETag, the age of now.
    ts_cache_stats_t before, after;
    ts_api_cache_stats (self->api, &before);
    s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, &again), 200);
    ts_api_cache_stats (self->api, &after);
    assert_int_equal (after.hits, before.hits + 1);
    assert_true (again == etag);
    assert_false (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.fetched_ms, now - 10000);
    assert_in_range (self->reply->fresh.age_s, 9, 11);
}

static void
api_failure_after_success_is_stale_with_last_error (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    int64_t now = ts_now_ms ();
    s_mark (self, "a", now - 20000, true, 0);
    s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
    uint64_t fresh_etag = 0, etag = 0;
    assert_int_equal (s_run (self, &fresh_etag), 200);
    assert_false (self->reply->fresh.stale);
    //  The failure's mark voids the cached answer: never a fresh look.
    s_mark (self, "a", now - 5000, false, 0);
    s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, &etag), 200);
    assert_true (etag != fresh_etag);
    assert_true (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.fetched_ms, now - 20000);
    assert_int_equal (self->reply->fresh.error_ms, now - 5000);
    assert_string_equal (self->reply->fresh.error_kind, "http_503");
    assert_string_equal (self->reply->fresh.error, "upstream answered 503");
}

static void
api_upstream_404_is_answered_within_its_ttl (void **state)
{
    fixture_t *self = *state;
    s_register (self, "gone");
    int64_t now = ts_now_ms ();
    s_mark (self, "gone", now - 1000, false, now + 60000);
    s_query (self, "gone", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, NULL), 404);
    assert_string_equal (self->reply->error, "upstream_not_found");
    assert_non_null (strstr (self->reply->detail, "upstream answered 404"));
    //  The TTL over: answered again, stale and failing.
    s_mark (self, "gone", now - 500, false, now - 100);
    assert_int_equal (s_run (self, NULL), 200);
    assert_true (self->reply->fresh.stale);
    assert_string_equal (self->reply->fresh.error_kind, "http_404");
}

//  Replaces the fixture's store and handler by ones of extra_yaml.
static void
s_reconfigure (fixture_t *self, const char *extra_yaml)
{
    ts_testutil_t *base = ts_testutil_new (16, extra_yaml);
    assert_non_null (base);
    char err [TS_ERRLEN] = "";
    ts_api_destroy (&self->api);
    ts_testutil_destroy (&self->base);
    self->base = base;
    self->api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (self->api);
}

//  A forecast of one point written 'ago_s' seconds after its TTL ran out
//  (store.forecast_ttl_s, 604800 s by default): expired at now - ago_s.
static void
s_old_forecast (fixture_t *self, const char *id, int64_t now, int ago_s)
{
    ts_points_t *forecast = ts_points_new ();
    ts_points_t *history = ts_points_new ();
    assert_int_equal (ts_points_append (forecast, now + HOUR_MS, "v", 1.5),
                      0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_write (self->base->store, id, history,
                                      forecast,
                                      now - 604800000LL - ago_s * 1000LL,
                                      err), 0);
    ts_points_destroy (&forecast);
    ts_points_destroy (&history);
}

static void
api_stale_if_error_serves_expired_forecast_in_its_window (void **state)
{
    fixture_t *self = *state;
    s_reconfigure (self,
                   "gateway:\n  stale_if_error_s: 600\n  cache_mb: 0\n");
    s_register (self, "a");
    s_register (self, "b");
    int64_t now = ts_now_ms ();
    s_old_forecast (self, "a", now, 100);      //  expired 100 s ago
    s_old_forecast (self, "b", now, 1000);     //  expired 1000 s ago
    s_mark (self, "a", now - 200000, true, 0);
    s_mark (self, "b", now - 2000000, true, 0);
    s_query (self, "a", now - HOUR_MS, now + 2 * HOUR_MS);
    assert_int_equal (s_run (self, NULL), 200);
    assert_int_equal (self->reply->series.forecast->n, 0);  //  not failing
    //  Failing: the expired forecast comes back, marked.
    s_mark (self, "a", now - 1000, false, 0);
    assert_int_equal (s_run (self, NULL), 200);
    assert_int_equal (self->reply->series.forecast->n, 1);
    assert_true (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.error_ms, now - 1000);
    //  Beyond the window: not served, still marked.
    s_mark (self, "b", now - 1000, false, 0);
    s_query (self, "b", now - HOUR_MS, now + 2 * HOUR_MS);
    assert_int_equal (s_run (self, NULL), 200);
    assert_int_equal (self->reply->series.forecast->n, 0);
    assert_true (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.error_ms, now - 1000);
}


static void
api_stale_while_revalidate_asks_one_refresh_in_its_window (void **state)
{
    fixture_t *self = *state;
    //  rate(1 minute), no grace: fetched 2 minutes ago is overdue since
    //  about a minute, within the 600 s window; 20 minutes ago is past it.
    s_reconfigure (self,
        "broker:\n  schedule: \"rate(1 minute)\"\n"
        "gateway:\n  stale_grace_s: 0\n  stale_while_revalidate_s: 600\n"
        "  broker_endpoint: inproc://test-ts-api-fresh-none\n");
    s_register (self, "a");
    s_register (self, "old");
    s_register (self, "new");
    int64_t now = ts_now_ms ();
    s_mark (self, "a", now - 120000, true, 0);
    s_mark (self, "old", now - 1200000, true, 0);
    s_mark (self, "new", now, true, 0);
    ts_flight_t *flights = ts_api_flights (self->api);
    assert_non_null (flights);
    //  Fresh: no refresh.
    s_query (self, "new", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, NULL), 200);
    assert_false (self->reply->fresh.stale);
    assert_int_equal (ts_flight_size (flights), 0);
    //  Stale past the window: answered stale, no refresh.
    s_query (self, "old", now - HOUR_MS, now + HOUR_MS);
    assert_int_equal (s_run (self, NULL), 200);
    assert_true (self->reply->fresh.stale);
    assert_int_equal (ts_flight_size (flights), 0);
    //  Stale within it: answered at once, stale, and one refresh asked,
    //  however many queries (single flight); from the cache too.
    for (int i = 0; i < 3; i++) {
        s_query (self, "a", now - HOUR_MS, now + HOUR_MS);
        assert_int_equal (s_run (self, NULL), 200);
        assert_true (self->reply->fresh.stale);
        assert_int_equal (self->reply->fresh.fetched_ms, now - 120000);
        assert_int_equal (ts_flight_size (flights), 1);
    }
}

int
main (void)
{
    ts_log_set_level (TS_LOG_WARN);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (
            api_never_fetched_id_is_stale_without_age, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            api_fetched_id_is_fresh_and_reused_with_its_age, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            api_failure_after_success_is_stale_with_last_error, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            api_upstream_404_is_answered_within_its_ttl, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            api_stale_if_error_serves_expired_forecast_in_its_window,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            api_stale_while_revalidate_asks_one_refresh_in_its_window,
            s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
