/*  test_ts_api - the gateway's request handler against a temporary LMDB
    store: query rules (404, bad range, defaults, merge, size limit),
    registry ops, and forwarding of hydrate, stats and the dlq ops to a
    broker played by a thread with a REP socket on inproc. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "../../gateway/ts_api.h"
#include "ts_store_backend.h"
#include "ts_testutil.h"
#include "ts_fakebroker.h"

#define HOUR_MS     3600000LL
#define BROKER      "inproc://test-ts-api-broker"

typedef struct {
    ts_testutil_t *base;        //  temporary directory, config, store
    ts_api_t      *api;         //  handler under test
    ts_msg_t      *req;         //  request scratch
    ts_msg_t      *reply;       //  reply scratch
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    *state = self;
    self->base = ts_testutil_new (16,
                                  "gateway:\n"
                                  "  max_points: 20\n"
                                  "  broker_endpoint: " BROKER "\n");
    if (!self->base)
        return -1;
    char err [TS_ERRLEN] = "";
    self->api = ts_api_new (self->base->cfg, self->base->store, err);
    if (!self->api) {
        fprintf (stderr, "setup: %s\n", err);
        return -1;
    }
    self->req = ts_msg_new (TS_OP_PING);
    self->reply = ts_msg_new (TS_OP_REPLY);
    return self->req && self->reply? 0: -1;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_msg_destroy (&self->req);
    ts_msg_destroy (&self->reply);
    ts_api_destroy (&self->api);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

static void
s_register (fixture_t *self, const char *id)
{
    const char *ids [] = { id };
    assert_int_equal (ts_store_ids_add (self->base->store, ids, 1, NULL,
                                        NULL), 0);
}

static void
s_query (fixture_t *self, const char *id, int64_t from, int64_t to)
{
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, id, sizeof self->req->id);
    self->req->has_from = self->req->has_to = true;
    self->req->from_ms = from;
    self->req->to_ms = to;
}

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

static void
api_query_without_stamps_reuses_answers_for_cache_stale_ms (void **state)
{
    fixture_t *self = *state;
    ts_testutil_t *base = ts_testutil_new (16, "gateway:\n"
                                               "  cache_stale_ms: 60000\n");
    assert_non_null (base);
    ts_config_t *registry_cfg;
    s_split_store (base, &registry_cfg);
    char err [TS_ERRLEN] = "";
    ts_api_t *api = ts_api_new (base->cfg, base->store, err);
    assert_non_null (api);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (base->store, ids, 1, NULL, NULL), 0);
    ts_points_t *history = ts_points_new ();
    ts_points_append (history, 1000, "value", 1.5);
    assert_int_equal (ts_store_history_put (base->store, "a", history,
                                            NULL), 0);
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
    ts_points_destroy (&history);
    ts_store_destroy (&base->store);
    ts_config_destroy (&registry_cfg);
    ts_testutil_destroy (&base);
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
api_ids_add_counts_only_new_ids (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "b");
    ts_strlist_append (self->req->ids, "a");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 2);
    ts_strlist_append (self->req->ids, "c");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 1);

    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 3);
    assert_string_equal (self->reply->ids->items [0], "a");
    assert_string_equal (self->reply->ids->items [2], "c");
}

static void
api_ids_add_rejects_invalid_and_empty_lists (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    ts_strlist_append (self->req->ids, "ok");
    ts_strlist_append (self->req->ids, "not ok");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->error, "bad_request");
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 0);
}

static void
api_ids_rm_answers_404_for_unknown_id (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    assert_string_equal (self->reply->error, "not_found");
}

static void
api_ids_ls_answers_pages_with_a_cursor (void **state)
{
    fixture_t *self = *state;
    const char *ids [] = { "e", "d", "c", "b", "a" };
    assert_int_equal (ts_store_ids_add (self->base->store, ids, 5, NULL,
                                        NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    self->req->limit = 2;
    const char *want [] = { "a", "b", "c", "d", "e" };
    size_t seen = 0;
    for (int page = 0; page < 3; page++) {
        assert_int_equal (ts_api_handle (self->api, self->req, self->reply),
                          200);
        for (size_t i = 0; i < self->reply->ids->n; i++)
            assert_string_equal (self->reply->ids->items [i],
                                 want [seen++]);
        if (page < 2)
            assert_string_equal (self->reply->next, want [seen - 1]);
        else
            assert_string_equal (self->reply->next, "");
        ts_strlcpy (self->req->after, self->reply->next,
                    sizeof self->req->after);
    }
    assert_int_equal (seen, 5);
    //  After alone pages with the largest limit.
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    ts_strlcpy (self->req->after, "b", sizeof self->req->after);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 3);
    assert_string_equal (self->reply->next, "");
    self->req->limit = TS_PROTO_IDS_PAGE + 1;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
}

static void
api_ids_ls_without_paging_answers_413_past_one_page (void **state)
{
    fixture_t *self = *state;
    //  One page fits, so a client that predates paging sees every id.
    char names [TS_PROTO_IDS_PAGE + 1][16];
    const char *ids [TS_PROTO_IDS_PAGE + 1];
    for (int i = 0; i <= TS_PROTO_IDS_PAGE; i++) {
        snprintf (names [i], sizeof names [i], "i%05d", i);
        ids [i] = names [i];
    }
    assert_int_equal (ts_store_ids_add (self->base->store, ids,
                                        TS_PROTO_IDS_PAGE, NULL, NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, TS_PROTO_IDS_PAGE);
    assert_string_equal (self->reply->next, "");
    //  One more: never a silently partial list.
    assert_int_equal (ts_store_ids_add (self->base->store,
                                        ids + TS_PROTO_IDS_PAGE, 1, NULL,
                                        NULL), 0);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 413);
    assert_string_equal (self->reply->error, "too_big");
    assert_non_null (strstr (self->reply->detail, "a page at a time"));
    self->req->limit = TS_PROTO_IDS_PAGE;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_string_equal (self->reply->next, "i09999");
}

static void
api_refuses_new_ids_with_a_leading_dash_but_serves_stored_ones (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "-x");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->detail,
                         "invalid id '-x': use " TS_NAME_RULE);
    //  Not registered: invalid wherever it is named.
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, "-x", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "-x", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->detail,
                         "invalid id '-x': use " TS_NAME_RULE);

    //  Registered before the rule (written by the backend itself).
    ts_store_destroy (&self->base->store);
    char err [TS_ERRLEN] = "";
    void *raw = ts_store_lmdb_ops.open (self->base->cfg, err);
    assert_non_null (raw);
    const char *old [] = { "-old" };
    assert_int_equal (ts_store_lmdb_ops.ids_add (raw, old, 1, NULL, err), 0);
    ts_store_lmdb_ops.close (raw);
    self->base->store = ts_store_new (self->base->cfg, err);
    assert_non_null (self->base->store);
    ts_api_destroy (&self->api);
    self->api = ts_api_new (self->base->cfg, self->base->store, err);

    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 1);
    assert_string_equal (self->reply->ids->items [0], "-old");
    s_query (self, "-old", 0, HOUR_MS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "-old", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
}

static void
api_ids_rm_deletes_the_data_and_counts_one (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_points_t *history = ts_points_new ();
    ts_points_append (history, 1000, "value", 1);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 1);
    //  Registered again, the id has nothing stored.
    s_register (self, "a");
    s_query (self, "a", 0, 5000);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    ts_points_destroy (&history);
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

static void
api_hydrate_answers_404_naming_the_first_unknown_id (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "x1");
    ts_strlist_append (self->req->ids, "x2");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    assert_non_null (strstr (self->reply->detail, "'x1'"));
}

static void
api_hydrate_answers_503_when_the_broker_is_silent (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    ts_api_set_broker_timeout (self->api, 100);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    assert_string_equal (self->reply->error, "unavailable");
    assert_string_equal (self->reply->detail, "broker did not answer");
    //  A second try fails the same way: nothing of the first one is
    //  left in the way.
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    ts_fakebroker_destroy (&broker);
}

//  Plays the broker: answers each hydrate with 202 and count = ids.
static void *
s_broker_thread (void *args)
{
    zsock_t *rep = args;
    for (int i = 0; i < 2; i++) {
        zframe_t *frame = zframe_recv (rep);
        if (!frame)
            break;
        ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
        char err [TS_ERRLEN];
        int rc = ts_msg_decode (msg, zframe_data (frame), zframe_size (frame),
                                TS_PROTO_MAX_REQUEST, err);
        size_t n = rc == 0 && msg->op == TS_OP_HYDRATE? msg->ids->n: 0;
        ts_msg_set_ok (msg, 202);
        msg->count = n;
        char *data;
        size_t size;
        ts_msg_encode (msg, &data, &size);
        zsock_send (rep, "b", data, size);
        free (data);
        ts_msg_destroy (&msg);
        zframe_destroy (&frame);
    }
    return NULL;
}

static void
api_hydrate_passes_on_the_broker_reply (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_register (self, "b");
    zsock_t *rep = zsock_new_rep ("@" BROKER);
    assert_non_null (rep);
    pthread_t thread;
    pthread_create (&thread, NULL, s_broker_thread, rep);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "b");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    pthread_join (thread, NULL);
    zsock_unbind (rep, "%s", BROKER);       //  now, not when reaped
    zsock_destroy (&rep);
}

static void
api_passes_on_the_jobs_of_a_hydrate_and_their_states (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_register (self, "b");
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "b");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    assert_int_equal (self->reply->jobs_n, 2);
    assert_int_equal (self->reply->jobs [0], 100);
    assert_int_equal (self->reply->jobs [1], 101);

    ts_msg_reset (self->req, TS_OP_JOB_STATE);
    ts_msg_add_job (self->req, 100);
    ts_msg_add_job (self->req, 101);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_JOB_STATE);
    assert_true (self->reply->has_states);
    assert_int_equal (self->reply->states_n, 2);
    assert_int_equal (self->reply->states [0].job, 100);
    assert_int_equal (self->reply->states [0].status, TS_JOB_STATUS_DONE);
    assert_int_equal (self->reply->states [1].status, TS_JOB_STATUS_DEAD);
    assert_string_equal (self->reply->states [1].error, "HTTP 404");
    ts_fakebroker_destroy (&broker);
}

static void
api_forwards_stats_and_passes_the_reply_on (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_STATS);
    ts_msg_t *expect = ts_msg_new (TS_OP_REPLY);
    ts_fakebroker_stats (expect);
    const ts_stats_t *got = &self->reply->stats;
    assert_true (self->reply->has_stats);
    assert_int_equal (got->queued, expect->stats.queued);
    assert_int_equal (got->done, expect->stats.done);
    assert_int_equal (got->dead_lettered, expect->stats.dead_lettered);
    assert_int_equal (got->oldest_age_ms, expect->stats.oldest_age_ms);
    assert_int_equal (got->workers_n, 2);
    assert_string_equal (got->workers [1].name, "0a1c");
    assert_int_equal (got->workers [1].credit, 16);
    ts_msg_destroy (&expect);
    ts_fakebroker_destroy (&broker);
}

static void
api_forwards_dlq_ls_redrive_and_purge (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);

    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_dlq);
    assert_int_equal (self->reply->dlq_n, 2);
    assert_int_equal (self->reply->dlq [1].job, 9);
    assert_int_equal (self->reply->dlq [1].ids->n, 2);
    assert_string_equal (self->reply->dlq [1].error, "HTTP 404: \"no\"");

    //  Redrive needs no registered ids: the series may be gone by now
    ts_msg_reset (self->req, TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_fakebroker_last_ids (broker), 0);
    ts_strlist_append (self->req->ids, "gone");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_fakebroker_last_ids (broker), 1);
    assert_int_equal (self->reply->count, 1);

    ts_msg_reset (self->req, TS_OP_DLQ_PURGE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_PURGE);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_fakebroker_requests (broker), 4);
    ts_fakebroker_destroy (&broker);
}

static void
api_dlq_redrive_rejects_invalid_ids_before_asking_the_broker (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_DLQ_REDRIVE);
    ts_strlist_append (self->req->ids, "ok");
    ts_strlist_append (self->req->ids, "not/ok");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_non_null (strstr (self->reply->detail, "not/ok"));
    assert_int_equal (ts_fakebroker_requests (broker), 0);
    ts_fakebroker_destroy (&broker);
}

static void
api_answers_502_when_the_broker_reply_lacks_its_payload (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_BARE);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_string_equal (self->reply->error, "bad_gateway");
    assert_non_null (strstr (self->reply->detail, "without 'stats'"));
    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "without 'dlq'"));
    ts_msg_reset (self->req, TS_OP_JOB_STATE);
    ts_msg_add_job (self->req, 1);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "without 'states'"));
    //  A bare 200 is all a purge needs
    ts_msg_reset (self->req, TS_OP_DLQ_PURGE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 0);

    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_GARBAGE);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "bad reply from broker"));
    //  The next call works
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    ts_fakebroker_destroy (&broker);
}

static void
api_broker_ops_answer_503_when_the_broker_is_silent (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    ts_api_set_broker_timeout (self->api, 100);
    ts_op_t ops [] = { TS_OP_STATS, TS_OP_DLQ_LS, TS_OP_DLQ_REDRIVE,
                       TS_OP_DLQ_PURGE };
    for (size_t i = 0; i < sizeof ops / sizeof ops [0]; i++) {
        ts_msg_reset (self->req, ops [i]);
        assert_int_equal (ts_api_handle (self->api, self->req, self->reply),
                          503);
        assert_string_equal (self->reply->error, "unavailable");
    }
    ts_fakebroker_destroy (&broker);
}

static void
api_answers_502_for_a_two_frame_broker_reply_then_works_again (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_TWO_FRAMES);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_string_equal (self->reply->error, "bad_gateway");
    assert_non_null (strstr (self->reply->detail,
                             "one body frame after the delimiter, got 2"));
    //  The next call gets its own answer.
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_stats);
    ts_fakebroker_destroy (&broker);
}

static void
api_late_broker_answer_is_not_taken_for_the_next_one (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    //  The stats request is held past its deadline; the broker answers
    //  it only when the dlq_ls request comes, just before answering that.
    ts_fakebroker_hold (broker, 2);
    ts_api_set_broker_timeout (self->api, 200);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    ts_api_set_broker_timeout (self->api, 5000);
    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_dlq);
    assert_false (self->reply->has_stats);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    ts_fakebroker_destroy (&broker);
}

typedef struct {
    ts_api_t *api;              //  shared handler
    ts_op_t   op;               //  op to forward
    int       status;           //  the answer's status
} s_call_t;

static void *
s_call_thread (void *args)
{
    s_call_t *call = args;
    ts_msg_t *req = ts_msg_new (call->op);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    call->status = ts_api_handle (call->api, req, reply);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
    return NULL;
}

static void
api_calls_from_two_threads_wait_for_the_broker_side_by_side (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    //  The broker answers neither call until both are waiting: calls made
    //  one after the other would see the first one time out.
    ts_fakebroker_hold (broker, 2);
    ts_api_set_broker_timeout (self->api, 5000);
    s_call_t calls [2] = { { self->api, TS_OP_STATS, 0 },
                           { self->api, TS_OP_DLQ_LS, 0 } };
    pthread_t threads [2];
    for (int i = 0; i < 2; i++)
        pthread_create (&threads [i], NULL, s_call_thread, &calls [i]);
    for (int i = 0; i < 2; i++)
        pthread_join (threads [i], NULL);
    assert_int_equal (calls [0].status, 200);
    assert_int_equal (calls [1].status, 200);
    ts_fakebroker_destroy (&broker);
}

static void
api_lists_the_ops_it_forwards_to_the_broker (void **state)
{
    for (int op = TS_OP_REPLY; op < TS_OP_COUNT_; op++) {
        bool broker = op == TS_OP_HYDRATE || op == TS_OP_STATS
                   || op == TS_OP_DLQ_LS || op == TS_OP_DLQ_REDRIVE
                   || op == TS_OP_DLQ_PURGE || op == TS_OP_JOB_STATE;
        assert_int_equal (ts_api_forwarded ((ts_op_t) op), broker);
    }
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
        T (api_query_answers_with_the_cache_off),
        T (api_query_without_stamps_reuses_answers_for_cache_stale_ms),
        T (api_ids_add_counts_only_new_ids),
        T (api_ids_add_rejects_invalid_and_empty_lists),
        T (api_ids_rm_answers_404_for_unknown_id),
        T (api_ids_ls_answers_pages_with_a_cursor),
        T (api_ids_ls_without_paging_answers_413_past_one_page),
        T (api_refuses_new_ids_with_a_leading_dash_but_serves_stored_ones),
        T (api_ids_rm_deletes_the_data_and_counts_one),
        T (api_rejects_ops_it_does_not_serve),
        T (api_hydrate_answers_404_naming_the_first_unknown_id),
        T (api_hydrate_answers_503_when_the_broker_is_silent),
        T (api_hydrate_passes_on_the_broker_reply),
        T (api_passes_on_the_jobs_of_a_hydrate_and_their_states),
        T (api_forwards_stats_and_passes_the_reply_on),
        T (api_forwards_dlq_ls_redrive_and_purge),
        T (api_dlq_redrive_rejects_invalid_ids_before_asking_the_broker),
        T (api_answers_502_when_the_broker_reply_lacks_its_payload),
        T (api_broker_ops_answer_503_when_the_broker_is_silent),
        T (api_answers_502_for_a_two_frame_broker_reply_then_works_again),
        T (api_late_broker_answer_is_not_taken_for_the_next_one),
        T (api_calls_from_two_threads_wait_for_the_broker_side_by_side),
        T (api_lists_the_ops_it_forwards_to_the_broker),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_api", tests, NULL, NULL);
}
