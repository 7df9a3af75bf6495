/*  test_ts_api - the gateway's request handler (gateway/ts_api.c)
    against a temporary LMDB store: query rules (404, bad range,
    defaults, merge, size limit), the answer cache, and ops it does not
    serve. Registry ops are tested in test_ts_api_ids.c, forwarding to
    the broker in test_ts_api_broker.c; the fixture they share is in
    ts_api_fixture.h. */

#include "ts_api_fixture.h"

static void
api_query_answers_404_for_unknown_id (void **state)
{
    fixture_t *self = *state;
    s_query (self, "nobody", 0, 10);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    assert_string_equal (self->reply->error, "not_found");
    assert_non_null (strstr (self->reply->detail, "nobody"));
    //  The id is judged first, whatever else is wrong with the query.
    s_query (self, "nobody", 11, 10);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    s_query (self, "nobody", 0, 10);
    ts_strlcpy (self->req->measure, "-m", sizeof self->req->measure);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    s_query (self, "-nobody", 11, 10);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->detail,
                         "invalid id '-nobody': use " TS_NAME_RULE);
}

static void
api_query_answers_400_when_from_is_after_to (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_query (self, "a", 11, 10);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->error, "bad_range");
}

static void
api_query_defaults_to_a_day_each_side_of_now (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    int64_t before = ts_now_ms ();
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    int64_t after = ts_now_ms ();
    assert_true (self->reply->has_series);
    assert_string_equal (self->reply->id, "a");
    assert_in_range (self->reply->from_ms, before - 24 * HOUR_MS,
                     after - 24 * HOUR_MS);
    assert_in_range (self->reply->to_ms, before + 24 * HOUR_MS,
                     after + 24 * HOUR_MS);
    assert_false (self->reply->series.has_baseline);
    assert_int_equal (self->reply->series.history->n, 0);
}

static void
api_query_applies_the_merge_rule (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    int64_t now = ts_now_ms ();
    int64_t base = now - now % HOUR_MS;
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    for (int i = 3; i >= 1; i--)
        ts_points_append (history, base - i * HOUR_MS, "value", i);
    //  Forecast from two hours back: the two at or before the newest
    //  history point (base - 1 h) must go.
    for (int i = -2; i <= 2; i++)
        ts_points_append (forecast, base + i * HOUR_MS, "value", 100 + i);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    assert_int_equal (ts_store_forecast_replace (self->base->store, "a",
                                                 forecast, now, NULL), 0);
    s_query (self, "a", base - 10 * HOUR_MS, base + 10 * HOUR_MS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    const ts_series_t *series = &self->reply->series;
    assert_int_equal (series->history->n, 3);
    assert_true (series->has_baseline);
    assert_int_equal (series->baseline_ms, base - HOUR_MS);
    assert_int_equal (series->forecast->n, 3);
    assert_int_equal (series->forecast->time_ms [0], base);
    assert_true (series->forecast->value [0] == 100);
    assert_int_equal (self->reply->from_ms, base - 10 * HOUR_MS);

    //  A range that ends before the history: forecast only, no baseline.
    s_query (self, "a", base + HOUR_MS, base + 2 * HOUR_MS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_false (self->reply->series.has_baseline);
    assert_int_equal (self->reply->series.forecast->n, 2);

    //  A measure filter that matches nothing.
    s_query (self, "a", base - 10 * HOUR_MS, base + 10 * HOUR_MS);
    ts_strlcpy (self->req->measure, "other", sizeof self->req->measure);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    assert_int_equal (self->reply->series.forecast->n, 0);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
api_query_answers_413_over_max_points (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_points_t *history = ts_points_new ();
    for (int i = 0; i < 21; i++)
        ts_points_append (history, 1000 + i, "value", i);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    s_query (self, "a", 0, 5000);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 413);
    assert_string_equal (self->reply->error, "too_big");
    assert_false (self->reply->has_series);
    s_query (self, "a", 0, 1019);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->series.history->n, 20);
    ts_points_destroy (&history);
}

//  ---------------------------------------------------------------------
//  The answer cache

//  Runs the query in self->req through ts_api_query (msgpack) and decodes
//  the answer into self->reply. Returns the status.
static int
s_query_cached (fixture_t *self)
{
    char *data = NULL;
    size_t size = 0;
    int status = ts_api_query (self->api, self->req, 'm', ts_msg_encode,
                               self->reply, &data, &size);
    if (status == 200) {
        assert_non_null (data);
        char err [TS_ERRLEN] = "";
        assert_int_equal (ts_msg_decode (self->reply, data, size,
                                         1 << 24, err), 0);
    }
    else
        assert_null (data);
    free (data);
    return status;
}

static uint64_t
s_hits (fixture_t *self)
{
    ts_cache_stats_t stats;
    ts_api_cache_stats (self->api, &stats);
    return stats.hits;
}

static void
api_query_answers_from_the_cache_until_the_id_changes (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_register (self, "b");
    ts_points_t *history = ts_points_new ();
    ts_points_append (history, 1000, "value", 1.5);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 1);
    assert_int_equal (s_hits (self), 0);
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 1);
    assert_int_equal (self->reply->series.history->n, 1);
    assert_true (self->reply->series.history->value [0] == 1.5);
    assert_int_equal (self->reply->from_ms, 0);
    assert_int_equal (self->reply->to_ms, 5000);

    //  Another range, measure or id is another answer.
    s_query (self, "a", 0, 5001);
    assert_int_equal (s_query_cached (self), 200);
    s_query (self, "a", 0, 5000);
    ts_strlcpy (self->req->measure, "other", sizeof self->req->measure);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    s_query (self, "b", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    assert_int_equal (s_hits (self), 1);

    //  A write to a (not to b) is seen at once.
    ts_points_append (history, 2000, "value", 2.5);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 2);
    s_query (self, "b", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 2);

    //  Without from or to the answer moves with the clock: never cached.
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, "b", sizeof self->req->id);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 2);

    //  Removal: 404, not the cached answer; errors are not cached.
    assert_int_equal (ts_store_ids_remove (self->base->store, "a", NULL), 0);
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 404);
    assert_string_equal (self->reply->error, "not_found");
    s_query (self, "a", 6000, 5000);
    assert_int_equal (s_query_cached (self), 404);
    assert_int_equal (s_hits (self), 2);
    ts_points_destroy (&history);
}

static void
api_cached_answer_drops_an_expired_forecast (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    int64_t ttl_ms = ts_config_int (self->base->cfg,
                                    "store.forecast_ttl_s") * 1000;
    int64_t now = ts_now_ms ();
    ts_points_t *forecast = ts_points_new ();
    ts_points_append (forecast, now + HOUR_MS, "value", 7);
    //  Written "ttl - 1 s ago": it expires 1 s from now, time enough for
    //  the first two queries even on a slow machine.
    assert_int_equal (ts_store_forecast_replace (self->base->store, "a",
                      forecast, now - ttl_ms + 1000, NULL), 0);
    s_query (self, "a", now, now + 2 * HOUR_MS);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.forecast->n, 1);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 1);
    zclock_sleep (1100);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.forecast->n, 0);
    assert_int_equal (s_hits (self), 1);
    ts_points_destroy (&forecast);
}

//  The default admission (gateway.cache_admit: second): a range is kept
//  from its second query and served from the third; ranges asked once
//  each (a moving "last hour") are never kept.
static void
api_cache_keeps_an_answer_from_its_second_query (void **state)
{
    fixture_t *self = *state;
    ts_testutil_t *base = ts_testutil_new (16, "gateway:\n"
                                               "  read_through: \"off\"\n");
    assert_non_null (base);
    char err [TS_ERRLEN] = "";
    ts_api_t *saved = self->api;
    self->api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (self->api);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (base->store, ids, 1, NULL, NULL), 0);
    ts_cache_stats_t stats;
    for (int i = 0; i < 10; i++) {
        s_query (self, "a", 1000 + i, 5000);
        assert_int_equal (s_query_cached (self), 200);
    }
    ts_api_cache_stats (self->api, &stats);
    assert_int_equal (stats.declined, 10);
    assert_int_equal (stats.entries, 0);
    for (int i = 0; i < 3; i++) {
        s_query (self, "a", 0, 5000);
        assert_int_equal (s_query_cached (self), 200);
        ts_api_cache_stats (self->api, &stats);
        assert_int_equal (stats.hits, i == 2);
        assert_int_equal (stats.entries, i > 0);
    }
    assert_int_equal (stats.declined, 11);
    ts_api_destroy (&self->api);
    self->api = saved;
    ts_testutil_destroy (&base);
}

//  Uses base's directory for a store whose registry lives in an LMDB
//  environment of its own (DIR/registry, config in *registry_cfg, which
//  the caller frees after the store): a store without change stamps.
static void
s_split_store (ts_testutil_t *base, ts_config_t **registry_cfg)
{
    char path [sizeof base->dir + 16];
    snprintf (path, sizeof path, "%s/registry", base->dir);
    *registry_cfg = ts_testutil_config (path, 16, NULL);
    assert_non_null (*registry_cfg);
    ts_store_destroy (&base->store);
    char err [TS_ERRLEN] = "";
    base->store = ts_store_new_with (&ts_store_lmdb_ops, *registry_cfg,
                                     &ts_store_lmdb_ops, base->cfg,
                                     &ts_store_lmdb_ops, base->cfg, err);
    if (!base->store)
        fail_msg ("%s", err);
    assert_false (ts_store_caps (base->store) & TS_STORE_CAP_STAMPS);
}

//  A base of config yaml over a store without stamps (s_split_store),
//  with id "a" registered and one history point at 1000; *history holds
//  that point for the caller to extend. s_split_base_destroy frees all.
static ts_testutil_t *
s_split_base (const char *yaml, ts_config_t **registry_cfg,
              ts_points_t **history)
{
    ts_testutil_t *base = ts_testutil_new (16, yaml);
    assert_non_null (base);
    s_split_store (base, registry_cfg);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (base->store, ids, 1, NULL, NULL), 0);
    *history = ts_points_new ();
    ts_points_append (*history, 1000, "value", 1.5);
    assert_int_equal (ts_store_history_put (base->store, "a", *history,
                                            NULL), 0);
    return base;
}

static void
s_split_base_destroy (ts_testutil_t **base, ts_config_t **registry_cfg,
                      ts_points_t **history)
{
    ts_points_destroy (history);
    ts_store_destroy (&(*base)->store);
    ts_config_destroy (registry_cfg);
    ts_testutil_destroy (base);
}

static void
api_query_without_stamps_reuses_answers_for_cache_stale_ms (void **state)
{
    fixture_t *self = *state;
    ts_config_t *registry_cfg;
    ts_points_t *history;
    ts_testutil_t *base = s_split_base ("gateway:\n"
                                        "  cache_admit: first\n"
                                        "  cache_stale_ms: 60000\n",
                                        &registry_cfg, &history);
    char err [TS_ERRLEN] = "";
    ts_api_t *api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (api);
    ts_api_t *saved = self->api;
    self->api = api;
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 1);
    //  A write is not seen while the answer is younger than 60 s.
    ts_points_append (history, 2000, "value", 2.5);
    assert_int_equal (ts_store_history_put (base->store, "a", history,
                                            NULL), 0);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 1);
    assert_int_equal (s_hits (self), 1);

    //  cache_stale_ms 0: a store without stamps is never answered from
    //  the cache.
    assert_int_equal (ts_config_set (base->cfg, "gateway.cache_stale_ms",
                                     "0", err), 0);
    self->api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (self->api);
    for (int i = 0; i < 2; i++) {
        assert_int_equal (s_query_cached (self), 200);
        assert_int_equal (self->reply->series.history->n, 2);
    }
    ts_cache_stats_t stats;
    ts_api_cache_stats (self->api, &stats);
    assert_int_equal (stats.hits + stats.misses, 0);
    ts_api_destroy (&self->api);
    self->api = saved;
    ts_api_destroy (&api);
    s_split_base_destroy (&base, &registry_cfg, &history);
}

//  A store without stamps: while change notices are heard, an answer is
//  reused until a notice of its id (gateway.cache_ttl_s at most), even
//  with gateway.cache_stale_ms 0; once they are not, stale_ms applies;
//  the gateway's own removal drops its answers of the id.
static void
api_query_without_stamps_reuses_answers_until_a_notice (void **state)
{
    fixture_t *self = *state;
    ts_config_t *registry_cfg;
    ts_points_t *history;
    ts_testutil_t *base = s_split_base ("gateway:\n"
                                        "  cache_admit: first\n"
                                        "  cache_stale_ms: 0\n"
                                        "  cache_ttl_s: 60\n",
                                        &registry_cfg, &history);
    char err [TS_ERRLEN] = "";
    ts_api_t *saved = self->api;
    self->api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (self->api);
    ts_cache_t *cache = ts_api_cache (self->api);
    assert_non_null (cache);
    s_query (self, "a", 0, 5000);
    //  Notices not heard and stale_ms 0: never from the cache.
    for (int i = 0; i < 2; i++)
        assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 0);
    //  Heard: reused, and a write without its notice is not seen.
    ts_cache_set_heard (cache, true);
    assert_int_equal (s_query_cached (self), 200);
    ts_points_append (history, 2000, "value", 2.5);
    assert_int_equal (ts_store_history_put (base->store, "a", history,
                                            NULL), 0);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 1);
    assert_int_equal (s_hits (self), 1);
    //  Its notice: read again, then reused again.
    ts_cache_drop_id (cache, "a");
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (self->reply->series.history->n, 2);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 2);
    //  Notices lost: everything read again, and not kept (stale_ms 0).
    ts_cache_set_heard (cache, false);
    ts_cache_drop_all (cache);
    for (int i = 0; i < 2; i++)
        assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 2);
    //  Heard again; the gateway's own ids_rm drops the id's answers.
    ts_cache_set_heard (cache, true);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_query_cached (self), 200);
    assert_int_equal (s_hits (self), 3);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply),
                      200);
    s_query (self, "a", 0, 5000);
    assert_int_equal (s_query_cached (self), 404);
    ts_api_destroy (&self->api);
    self->api = saved;
    s_split_base_destroy (&base, &registry_cfg, &history);
}

static void
api_query_answers_with_the_cache_off (void **state)
{
    fixture_t *self = *state;
    ts_testutil_t *base = ts_testutil_new (16, "gateway:\n"
                                               "  cache_mb: 0\n");
    assert_non_null (base);
    char err [TS_ERRLEN] = "";
    ts_api_t *api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (api);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (base->store, ids, 1, NULL, NULL), 0);
    s_query (self, "a", 0, 10);
    for (int i = 0; i < 2; i++) {
        char *data = NULL;
        size_t size = 0;
        assert_int_equal (ts_api_query (api, self->req, 'm', ts_msg_encode,
                                        self->reply, &data, &size), 200);
        assert_non_null (data);
        free (data);
    }
    ts_cache_stats_t stats;
    ts_api_cache_stats (api, &stats);
    assert_int_equal (stats.hits + stats.misses, 0);
    ts_api_destroy (&api);
    ts_testutil_destroy (&base);
}

static void
api_rejects_ops_it_does_not_serve (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_READY);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_non_null (strstr (self->reply->detail, "ready"));
    ts_msg_reset (self->req, TS_OP_PING);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (api_query_answers_404_for_unknown_id),
        T (api_query_answers_400_when_from_is_after_to),
        T (api_query_defaults_to_a_day_each_side_of_now),
        T (api_query_applies_the_merge_rule),
        T (api_query_answers_413_over_max_points),
        T (api_query_answers_from_the_cache_until_the_id_changes),
        T (api_cached_answer_drops_an_expired_forecast),
        T (api_cache_keeps_an_answer_from_its_second_query),
        T (api_query_answers_with_the_cache_off),
        T (api_query_without_stamps_reuses_answers_for_cache_stale_ms),
        T (api_query_without_stamps_reuses_answers_until_a_notice),
        T (api_rejects_ops_it_does_not_serve),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_api", tests, NULL, NULL);
}
