/*  test_store_contract_docs - what every store configuration keeps for
    whole documents and queries (common/store/ts_store.h), run against
    each configuration of ts_store_fixture.h: capabilities, ts_store_write
    and ts_store_write_batch, the one read of a query (ts_store_read),
    change stamps and reopening. Per-role calls are in
    test_store_contract.c; threads and processes at once in
    test_store_contract_procs.c. */

#include "ts_store_fixture.h"

static void
store_caps_are_those_of_its_configuration (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (ts_store_caps (fx->store) & (ALL_CAPS | HISTORY_CAPS),
                      fx->backend->caps);
    unsigned roles [] = { TS_STORE_REGISTRY, TS_STORE_HISTORY,
                          TS_STORE_FORECAST };
    bool dyn = fx->backend->dynamodb;
    const char *names [] = { dyn? "dynamodb": "lmdb",
                             fx->backend->timestream? "timestream":
                             fx->backend->influxdb? "influxdb": "lmdb",
                             dyn? "dynamodb": "lmdb" };
    for (size_t i = 0; i < 3; i++)
        assert_string_equal (ts_store_role_backend (fx->store, roles [i]),
                             names [i]);
    if (dyn) {
        //  DynamoDB deletes expired items itself (its TTL).
        assert_true (ts_store_caps (fx->store) & TS_STORE_CAP_TTL);
        assert_string_equal (ts_store_backend (fx->store),
                             "registry=dynamodb history=lmdb "
                             "forecast=dynamodb");
    }
    else if (fx->backend->timestream)
        assert_string_equal (ts_store_backend (fx->store),
                             "registry=lmdb history=timestream "
                             "forecast=lmdb");
    else if (fx->backend->influxdb)
        assert_string_equal (ts_store_backend (fx->store),
                             "registry=lmdb history=influxdb "
                             "forecast=lmdb");
    else if (!fx->backend->roles [0])
        assert_string_equal (ts_store_backend (fx->store), "lmdb");
}

//  --- one fetched document ----------------------------------------------

static void
write_lands_history_and_forecast_of_a_document_together (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    int64_t now_ms = 1000000;
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", now_ms - 3000, 1000, 3, 1.0);
    s_fill (forecast, "value", now_ms, 1000, 4, 2.0);
    s_fill (forecast, "other", now_ms, 1000, 4, 3.0);
    assert_int_equal (ts_store_write (fx->store, "doc", history, forecast,
                                      now_ms, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "doc", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], now_ms - 3000);
    assert_true (out->value [2] == (double) (now_ms - 1000));
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (fx->store, "doc", "other",
                      FOREVER_FROM, FOREVER_TO, now_ms, out, err), 0);
    assert_int_equal (out->n, 4);
    assert_true (out->value [3] == 3.0 * (double) (now_ms + 3000));
    //  The forecast expires store.forecast_ttl_s after now_ms.
    int64_t expires_ms = now_ms + TTL_S * 1000;
    assert_int_equal (s_forecast_count (fx->store, "doc", expires_ms - 1), 8);
    assert_int_equal (s_forecast_count (fx->store, "doc", expires_ms), 0);
    //  Nothing leaks into the history of another id.
    assert_int_equal (s_count (fx->store, "do"), 0);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_upserts_history_and_replaces_the_forecast (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", 1000, 100, 5, 1.0);      //  1000 .. 1400
    s_fill (forecast, "value", 2000, 100, 10, 1.0);    //  2000 .. 2900
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), 0);
    //  The next run: history overlaps and moves on, the forecast shrinks.
    ts_points_clear (history);
    ts_points_clear (forecast);
    s_fill (history, "value", 1300, 100, 5, 2.0);      //  1300 .. 1700
    s_fill (forecast, "value", 2500, 100, 2, 2.0);     //  2500 .. 2600
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), 0);
    //  The same document twice leaves what one write leaves.
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 8);                       //  1000 .. 1700
    assert_true (out->value [2] == 1200.0);             //  first run's
    assert_true (out->value [3] == 2600.0);             //  upserted
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_int_equal (out->time_ms [0], 2500);
    assert_true (out->value [1] == 5200.0);

    //  Empty lists: the forecast is cleared, history stays.
    ts_points_clear (history);
    ts_points_clear (forecast);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), 0);
    assert_int_equal (s_forecast_count (fx->store, "a", 0), 0);
    assert_int_equal (s_count (fx->store, "a"), 8);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_with_an_invalid_argument_stores_nothing (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (forecast, "value", 5000, 100, 3, 1.0);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), 0);

    //  A bad measure in the forecast: the valid history is not written
    //  either, and the previous forecast stays.
    s_fill (history, "value", 1000, 100, 3, 1.0);
    ts_points_clear (forecast);
    s_fill (forecast, "value", 6000, 100, 2, 1.0);
    assert_int_equal (ts_points_append (forecast, 7000, "bad measure", 1.0),
                      0);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), TS_EINVAL);
    assert_non_null (strstr (err, "invalid measure 'bad measure'"));
    assert_int_equal (s_count (fx->store, "a"), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], 5000);

    //  A bad measure in the history, or a bad id: same.
    ts_points_clear (forecast);
    assert_int_equal (ts_points_append (history, 2000, "x/y", 1.0), 0);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      0, err), TS_EINVAL);
    assert_int_equal (s_forecast_count (fx->store, "a", 0), 3);
    ts_points_clear (history);
    assert_int_equal (ts_store_write (fx->store, "a b", history, forecast,
                                      0, err), TS_EINVAL);
    assert_string_equal (err, "invalid id 'a b': use " TS_NAME_RULE);
    assert_int_equal (ts_store_write (fx->store, "a", NULL, forecast,
                                      0, err), TS_EINVAL);
    //  A NULL forecast is no error: it leaves the forecast as it is
    //  (a backfill's window job writes history only).
    s_fill (history, "value", 3000, 100, 2, 2.0);
    assert_int_equal (ts_store_write (fx->store, "a", history, NULL,
                                      0, err), 0);
    assert_int_equal (s_count (fx->store, "a"), 2);
    assert_int_equal (s_forecast_count (fx->store, "a", 0), 3);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_batch_lands_every_document_in_one_call (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "b", "c", "d" };
    ts_points_t *history [4], *forecast [4];
    ts_store_doc_t docs [4];
    for (int i = 0; i < 4; i++) {
        history [i] = ts_points_new ();
        forecast [i] = ts_points_new ();
        s_fill (history [i], "value", 1000, 100, (size_t) (i + 1), 1.0);
        s_fill (forecast [i], "value", 9000, 100, (size_t) (i + 2), 1.0);
        docs [i] = (ts_store_doc_t) { ids [i], history [i], forecast [i], 0 };
    }
    //  "d" had a forecast: the batch replaces it with its (empty) one.
    ts_points_clear (forecast [3]);
    assert_int_equal (ts_store_forecast_replace (fx->store, "d", history [3],
                                                 0, err), 0);
    assert_int_equal (ts_store_write_batch (fx->store, docs, 4, 0, err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_count (fx->store, ids [i]), i + 1);
        assert_int_equal (s_forecast_count (fx->store, ids [i], 0), i + 2);
    }
    assert_int_equal (s_count (fx->store, "d"), 4);
    assert_int_equal (s_forecast_count (fx->store, "d", 0), 0);
    //  The same batch again leaves what one leaves.
    assert_int_equal (ts_store_write_batch (fx->store, docs, 4, 0, err), 0);
    assert_int_equal (s_count (fx->store, "c"), 3);
    assert_int_equal (s_forecast_count (fx->store, "c", 0), 4);
    //  Nothing to write is not an error.
    assert_int_equal (ts_store_write_batch (fx->store, NULL, 0, 0, err), 0);
    for (int i = 0; i < 4; i++) {
        ts_points_destroy (&history [i]);
        ts_points_destroy (&forecast [i]);
    }
}

static void
write_batch_with_one_invalid_document_stores_none (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *good = ts_points_new ();
    ts_points_t *bad = ts_points_new ();
    ts_points_t *empty = ts_points_new ();
    s_fill (good, "value", 1000, 100, 3, 1.0);
    assert_int_equal (ts_points_append (bad, 2000, "no good", 1.0), 0);
    ts_store_doc_t docs [] = {
        { "a", good, empty, 0 }, { "b", bad, empty, 0 },
        { "c", good, empty, 0 }
    };
    assert_int_equal (ts_store_write_batch (fx->store, docs, 3, 0, err),
                      TS_EINVAL);
    assert_string_equal (err, "document 2 of 3: invalid measure 'no good': "
                         "use " TS_NAME_RULE);
    docs [1].id = "b/";
    docs [1].history = good;
    assert_int_equal (ts_store_write_batch (fx->store, docs, 3, 0, err),
                      TS_EINVAL);
    assert_string_equal (err, "document 2 of 3: invalid id 'b/': use "
                         TS_NAME_RULE);
    //  A bad forecast of the last document stops the first one's history.
    docs [1].id = "b";
    docs [2].forecast = bad;
    assert_int_equal (ts_store_write_batch (fx->store, docs, 3, 0, err),
                      TS_EINVAL);
    assert_int_equal (s_count (fx->store, "a"), 0);
    assert_int_equal (s_count (fx->store, "c"), 0);
    ts_points_destroy (&good);
    ts_points_destroy (&bad);
    ts_points_destroy (&empty);
}

//  --- one query ---------------------------------------------------------

static void
read_of_an_id_not_registered_reads_no_points (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_store_answer_t ans = s_answer_new ();
    ts_store_query_t q = { "nobody", NULL, FOREVER_FROM, FOREVER_TO, 0,
                           1000 };
    ans.exists = true;
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_false (ans.exists);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    //  Points of an id that is not registered are not read either.
    s_put (fx->store, "loose", 0, 1, 5);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 10, 1, 5, 1.0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "loose", pts, 0,
                                                 err), 0);
    q.id = "loose";
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_false (ans.exists);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    //  Registered, they are.
    s_add (fx->store, "loose");
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_true (ans.exists);
    assert_int_equal (ans.history->n, 5);
    assert_int_equal (ans.forecast->n, 5);
    //  Removed, they are gone.
    assert_int_equal (ts_store_ids_remove (fx->store, "loose", err), 0);
    s_answer_clear (&ans);
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_false (ans.exists);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    ts_points_destroy (&pts);
    s_answer_destroy (&ans);
}

static void
read_answers_history_and_forecast_of_the_range (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    int64_t now_ms = 100;
    s_add (fx->store, "a");
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", 0, 10, 10, 1.0);         //  0 .. 90
    s_fill (history, "other", 0, 10, 10, 2.0);
    s_fill (forecast, "value", 100, 10, 10, 3.0);      //  100 .. 190
    s_fill (forecast, "other", 100, 10, 10, 4.0);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      now_ms, err), 0);
    s_put (fx->store, "ab", 0, 1, 50);

    ts_store_answer_t ans = s_answer_new ();
    ts_store_query_t q = { "a", NULL, 20, 150, now_ms, 1000 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_true (ans.exists);
    assert_int_equal (ans.history->n, 16);              //  20 .. 90, two
    assert_int_equal (ans.history->time_ms [0], 20);
    assert_int_equal (ans.history->time_ms [15], 90);
    assert_int_equal (ans.forecast->n, 12);             //  100 .. 150, two
    assert_int_equal (ans.forecast->time_ms [0], 100);
    assert_int_equal (ans.forecast->time_ms [11], 150);
    assert_true (ans.forecast->value [11] == 450.0);    //  "value" after
                                                        //  "other"
    //  One measure; from == to.
    s_answer_clear (&ans);
    q = (ts_store_query_t) { "a", "other", 90, 100, now_ms, 1000 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.history->n, 1);
    assert_int_equal (ans.forecast->n, 1);
    assert_true (ans.history->value [0] == 180.0);
    assert_true (ans.forecast->value [0] == 400.0);
    s_answer_clear (&ans);
    q = (ts_store_query_t) { "a", NULL, 150, 150, now_ms, 1000 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.history->n, 0);
    assert_int_equal (ans.forecast->n, 2);
    //  Expired at now_ms: the forecast is not read, history is.
    s_answer_clear (&ans);
    q = (ts_store_query_t) { "a", NULL, FOREVER_FROM, FOREVER_TO,
                             now_ms + TTL_S * 1000, 1000 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_true (ans.exists);
    assert_int_equal (ans.history->n, 20);
    assert_int_equal (ans.forecast->n, 0);
    q.now_ms--;
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.forecast->n, 20);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
    s_answer_destroy (&ans);
}

static void
read_with_max_is_too_big_past_it_and_exact_at_it (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_add (fx->store, "a");
    s_put (fx->store, "a", 0, 10, 10);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 100, 10, 30, 1.0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);
    ts_store_answer_t ans = s_answer_new ();
    //  max counts history points only.
    ts_store_query_t q = { "a", NULL, FOREVER_FROM, FOREVER_TO, 0, 10 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.history->n, 10);
    assert_int_equal (ans.forecast->n, 30);
    s_answer_clear (&ans);
    q.max = 9;
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), TS_ETOOBIG);
    assert_true (ans.history->n <= 9);
    //  A range or a measure that holds no more than max is fine.
    s_answer_clear (&ans);
    q = (ts_store_query_t) { "a", NULL, 10, 90, 0, 9 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.history->n, 9);
    s_answer_clear (&ans);
    q = (ts_store_query_t) { "a", "other", FOREVER_FROM, FOREVER_TO, 0, 0 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    ts_points_destroy (&pts);
    s_answer_destroy (&ans);
}

static void
read_checks_its_arguments (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_store_answer_t ans = s_answer_new ();
    ts_store_query_t q = { "a b", NULL, 0, 10, 0, 10 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), TS_EINVAL);
    assert_string_equal (err, "invalid id 'a b': use " TS_NAME_RULE);
    q = (ts_store_query_t) { "a", "x y", 0, 10, 0, 10 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), TS_EINVAL);
    q = (ts_store_query_t) { "a", NULL, 11, 10, 0, 10 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), TS_EINVAL);
    assert_non_null (strstr (err, "from_ms > to_ms"));
    q = (ts_store_query_t) { NULL, NULL, 0, 10, 0, 10 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), TS_EINVAL);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    s_answer_destroy (&ans);
}

//  --- change stamps -----------------------------------------------------

//  Reads the stamp of id; fails the test on error.
static ts_store_stamp_t
s_stamp (ts_store_t *store, const char *id)
{
    ts_store_stamp_t stamp;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_stamp (store, id, &stamp, err);
    if (rc)
        fail_msg ("stamp %s: %s", id, err);
    return stamp;
}

static void
stamp_changes_with_every_change_of_that_id_only (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_store_stamp_t a0;
    if (!(ts_store_caps (fx->store) & TS_STORE_CAP_STAMPS)) {
        //  No stamps: the call says so rather than making one up.
        assert_int_equal (ts_store_stamp (fx->store, "a", &a0, err),
                          TS_EINVAL);
        return;
    }
    //  Nothing recorded yet.
    a0 = s_stamp (fx->store, "a");
    assert_int_equal (a0.version, 0);
    assert_true (a0.expires_ms == INT64_MAX);
    assert_int_equal (ts_store_stamp (fx->store, "a b", &a0, err),
                      TS_EINVAL);

    const char *ids [] = { "a", "b" };
    assert_int_equal (ts_store_ids_add (fx->store, ids, 2, NULL, err), 0);
    ts_store_stamp_t a1 = s_stamp (fx->store, "a");
    ts_store_stamp_t b1 = s_stamp (fx->store, "b");
    assert_true (a1.version > 0);
    assert_true (a1.expires_ms == INT64_MAX);

    //  A document with a forecast: the stamp carries its expiry.
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", 1000, 100, 2, 1.0);
    s_fill (forecast, "value", 9000, 100, 2, 1.0);
    assert_int_equal (ts_store_write (fx->store, "a", history, forecast,
                                      5000, err), 0);
    ts_store_stamp_t a2 = s_stamp (fx->store, "a");
    assert_true (a2.version != a1.version);
    assert_true (a2.expires_ms == 5000 + TTL_S * 1000);
    assert_true (s_stamp (fx->store, "b").version == b1.version);

    //  History alone keeps the forecast's expiry; an empty forecast has
    //  none; a re-add of a registered id changes nothing.
    s_put (fx->store, "a", 2000, 100, 1);
    ts_store_stamp_t a3 = s_stamp (fx->store, "a");
    assert_true (a3.version != a2.version);
    assert_true (a3.expires_ms == a2.expires_ms);
    ts_points_clear (forecast);
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", forecast,
                                                 6000, err), 0);
    ts_store_stamp_t a4 = s_stamp (fx->store, "a");
    assert_true (a4.version != a3.version);
    assert_true (a4.expires_ms == INT64_MAX);
    assert_int_equal (ts_store_ids_add (fx->store, ids, 1, NULL, err), 0);
    assert_true (s_stamp (fx->store, "a").version == a4.version);

    //  A batch and a removal change it too, so an answer kept for the id
    //  is not reused.
    ts_store_doc_t doc = { "a", history, forecast, 0 };
    assert_int_equal (ts_store_write_batch (fx->store, &doc, 1, 7000, err),
                      0);
    ts_store_stamp_t a5 = s_stamp (fx->store, "a");
    assert_true (a5.version != a4.version);
    assert_int_equal (ts_store_ids_remove (fx->store, "a", err), 0);
    ts_store_stamp_t a6 = s_stamp (fx->store, "a");
    assert_true (a6.version != a5.version && a6.version != 0);
    assert_true (s_stamp (fx->store, "b").version == b1.version);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

//  --- lifetime ----------------------------------------------------------

static void
store_keeps_data_after_reopen (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_add (fx->store, "kept");
    s_put (fx->store, "kept", -50, 25, 5);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 500, 1, 2, 1.0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "kept", pts,
                                                 0, err), 0);
    s_reopen (fx);
    bool exists = false;
    assert_int_equal (ts_store_ids_exists (fx->store, "kept", &exists,
                                           err), 0);
    assert_true (exists);
    assert_int_equal (s_count (fx->store, "kept"), 5);
    assert_int_equal (s_forecast_count (fx->store, "kept", 0), 2);
    ts_points_destroy (&pts);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (store_caps_are_those_of_its_configuration),
        T (write_lands_history_and_forecast_of_a_document_together),
        T (write_upserts_history_and_replaces_the_forecast),
        T (write_with_an_invalid_argument_stores_nothing),
        T (write_batch_lands_every_document_in_one_call),
        T (write_batch_with_one_invalid_document_stores_none),
        T (read_of_an_id_not_registered_reads_no_points),
        T (read_answers_history_and_forecast_of_the_range),
        T (read_with_max_is_too_big_past_it_and_exact_at_it),
        T (read_checks_its_arguments),
        T (stamp_changes_with_every_change_of_that_id_only),
        T (store_keeps_data_after_reopen),
    };
#undef T
    return s_run_per_backend ("store contract docs", tests,
                              sizeof tests / sizeof tests [0]);
}
