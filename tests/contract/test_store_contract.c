/*  test_store_contract - what every store configuration keeps per role
    (common/store/ts_store.h), run against each configuration of
    ts_store_fixture.h: the registry and its cursor, argument checks,
    history ranges, limits and upserts, forecast replacement and expiry.
    Whole documents, one-query reads, stamps and reopening are in
    test_store_contract_docs.c; threads and processes at once in
    test_store_contract_procs.c; one backend's internals in tests/unit
    (test_ts_store.c for LMDB). */

#include "ts_store_fixture.h"

//  --- registry ----------------------------------------------------------

static void
registry_adds_lists_checks_and_removes_ids (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "b", "a", "b" };
    size_t added = 99;
    assert_int_equal (ts_store_ids_add (fx->store, ids, 3, &added, err), 0);
    assert_int_equal (added, 2);
    assert_int_equal (ts_store_ids_add (fx->store, ids, 2, &added, err), 0);
    assert_int_equal (added, 0);

    ts_strlist_t *list = ts_strlist_new ();
    assert_non_null (list);
    s_walk (fx->store, 3, list, 10);
    assert_int_equal (list->n, 2);
    assert_true (s_find (list, "a") >= 0);
    assert_true (s_find (list, "b") >= 0);

    bool exists = false;
    assert_int_equal (ts_store_ids_exists (fx->store, "a", &exists, err), 0);
    assert_true (exists);
    assert_int_equal (ts_store_ids_exists (fx->store, "c", &exists, err), 0);
    assert_false (exists);

    assert_int_equal (ts_store_ids_remove (fx->store, "a", err), 0);
    assert_int_equal (ts_store_ids_remove (fx->store, "a", err),
                      TS_ENOTFOUND);
    assert_int_equal (ts_store_ids_remove (fx->store, "never", err),
                      TS_ENOTFOUND);
    assert_int_equal (ts_store_ids_exists (fx->store, "a", &exists, err), 0);
    assert_false (exists);
    ts_strlist_clear (list);
    s_walk (fx->store, 3, list, 10);
    assert_int_equal (list->n, 1);
    assert_string_equal (list->items [0], "b");
    ts_strlist_destroy (&list);
}

static void
ids_page_of_an_empty_registry_is_empty_and_checks_its_arguments
    (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_strlist_t *page = ts_strlist_new ();
    bool more = true;
    assert_int_equal (ts_store_ids_page (fx->store, NULL, 5, page, &more,
                                         err), 0);
    assert_int_equal (page->n, 0);
    assert_false (more);
    more = true;
    assert_int_equal (ts_store_ids_page (fx->store, "", 1, page, &more,
                                         err), 0);
    assert_int_equal (page->n, 0);
    assert_false (more);
    s_add (fx->store, "a");
    assert_int_equal (ts_store_ids_page (fx->store, "a b", 1, page, &more,
                                         err), TS_EINVAL);
    assert_int_equal (ts_store_ids_page (fx->store, "a/..", 1, page, &more,
                                         err), TS_EINVAL);
    assert_int_equal (ts_store_ids_page (fx->store, NULL, 0, page, &more,
                                         err), TS_EINVAL);
    assert_int_equal (page->n, 0);
    ts_strlist_destroy (&page);
}

#define CURSOR_IDS  13

static void
ids_page_walks_every_id_once_at_every_limit (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    char names [CURSOR_IDS][16];
    const char *ids [CURSOR_IDS];
    for (int i = 0; i < CURSOR_IDS; i++) {
        snprintf (names [i], sizeof names [i], "id%d", (i * 5) % CURSOR_IDS);
        ids [i] = names [i];
    }
    assert_int_equal (ts_store_ids_add (fx->store, ids, CURSOR_IDS, NULL,
                                        err), 0);
    ts_strlist_t *list = ts_strlist_new ();
    for (size_t limit = 1; limit <= CURSOR_IDS + 2; limit++) {
        ts_strlist_clear (list);
        size_t pages = s_walk (fx->store, limit, list, 2 * CURSOR_IDS + 2);
        assert_int_equal (list->n, CURSOR_IDS);
        for (int i = 0; i < CURSOR_IDS; i++)
            assert_true (s_find (list, names [i]) >= 0);
        assert_true (pages >= (CURSOR_IDS + limit - 1) / limit);
    }
    //  The order is stable while the registry does not change: a walk a
    //  page at a time lists what the walk of one page listed.
    ts_strlist_t *one = ts_strlist_new ();
    s_walk (fx->store, CURSOR_IDS, one, 2 * CURSOR_IDS + 2);
    ts_strlist_clear (list);
    s_walk (fx->store, 1, list, 2 * CURSOR_IDS + 2);
    assert_int_equal (one->n, list->n);
    for (size_t i = 0; i < list->n; i++)
        assert_string_equal (one->items [i], list->items [i]);
    ts_strlist_destroy (&one);
    ts_strlist_destroy (&list);
}

static void
ids_page_goes_on_after_an_id_that_was_removed (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "ab", "b", "c", "d", "e" };
    assert_int_equal (ts_store_ids_add (fx->store, ids, 6, NULL, err), 0);
    ts_strlist_t *list = ts_strlist_new ();
    bool more = false;
    assert_int_equal (ts_store_ids_page (fx->store, NULL, 2, list, &more,
                                         err), 0);
    assert_int_equal (list->n, 2);
    assert_true (more);
    //  The page's last id goes; the walk goes on after it.
    char after [TS_NAME_MAX + 1];
    ts_strlcpy (after, list->items [1], sizeof after);
    assert_int_equal (ts_store_ids_remove (fx->store, after, err), 0);
    for (int pages = 0; more; pages++) {
        assert_true (pages < 10);
        size_t before = list->n;
        assert_int_equal (ts_store_ids_page (fx->store, after, 2, list,
                                             &more, err), 0);
        assert_true (list->n - before <= 2);
        if (list->n > before)
            ts_strlcpy (after, list->items [list->n - 1], sizeof after);
        else
            assert_false (more);
    }
    assert_int_equal (list->n, 6);
    for (int i = 0; i < 6; i++)
        assert_true (s_find (list, ids [i]) >= 0);
    ts_strlist_destroy (&list);
}

static void
ids_page_lists_each_lasting_id_once_while_others_come_and_go
    (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    //  "s*" stay throughout; "t*" are there at the start and removed one
    //  a page; "n*" are added one a page. Names interleave in any order.
    const char *stay [] = { "s1", "a-s2", "zz-s3", "m.s4", "s5", "b:s6",
                            "s7" };
    const char *gone [] = { "t1", "a-t2", "zz-t3", "m.t4", "t5" };
    const char *fresh [] = { "n1", "a-n2", "zz-n3", "m.n4", "n5", "0n6" };
    size_t nstay = 7, ngone = 5, nfresh = 6;
    assert_int_equal (ts_store_ids_add (fx->store, stay, nstay, NULL, err),
                      0);
    assert_int_equal (ts_store_ids_add (fx->store, gone, ngone, NULL, err),
                      0);
    for (size_t limit = 1; limit <= 4; limit++) {
        ts_strlist_t *list = ts_strlist_new ();
        char after [TS_NAME_MAX + 1] = "";
        bool more = true;
        size_t pages = 0, changes = 0;
        while (more) {
            assert_true (pages++ < 40);
            size_t before = list->n;
            assert_int_equal (ts_store_ids_page (fx->store, after, limit,
                                                 list, &more, err), 0);
            assert_true (list->n - before <= limit);
            if (more)
                assert_true (list->n > before);
            if (list->n > before)
                ts_strlcpy (after, list->items [list->n - 1], sizeof after);
            //  Between pages: one id goes, one comes.
            if (changes < ngone) {
                assert_int_equal (ts_store_ids_remove (fx->store,
                                  gone [changes], err), 0);
            }
            if (changes < nfresh) {
                assert_int_equal (ts_store_ids_add (fx->store,
                                  &fresh [changes], 1, NULL, err), 0);
            }
            changes++;
        }
        //  Every lasting id once; none twice; none never registered.
        for (size_t i = 0; i < nstay; i++)
            assert_true (s_find (list, stay [i]) >= 0);
        for (size_t i = 0; i < ngone; i++)
            s_find (list, gone [i]);
        for (size_t i = 0; i < nfresh; i++)
            s_find (list, fresh [i]);
        assert_true (list->n <= nstay + ngone + nfresh);
        //  Back to the start for the next limit.
        for (size_t i = 0; i < nfresh; i++)
            ts_store_ids_remove (fx->store, fresh [i], NULL);
        assert_int_equal (ts_store_ids_add (fx->store, gone, ngone, NULL,
                                            err), 0);
        ts_strlist_destroy (&list);
    }
}

static void
registry_remove_deletes_history_and_forecast_of_that_id_only (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "a.b", "ab" };
    assert_int_equal (ts_store_ids_add (fx->store, ids, 3, NULL, err), 0);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 100, 10, 5, 1.0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (ts_store_history_put (fx->store, ids [i], pts,
                                                err), 0);
        assert_int_equal (ts_store_forecast_replace (fx->store, ids [i],
                                                     pts, 0, err), 0);
    }
    assert_int_equal (ts_store_ids_remove (fx->store, "a", err), 0);

    //  Everywhere: a query of the removed id reads no points.
    ts_store_answer_t ans = s_answer_new ();
    ts_store_query_t q = { "a", NULL, FOREVER_FROM, FOREVER_TO, 0, 1000 };
    ans.exists = true;
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_false (ans.exists);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    s_answer_destroy (&ans);
    //  Its points are deleted where the store can delete (FORGET); else
    //  they stay stored (Timestream: until its retention ages them out).
    bool forget = ts_store_caps (fx->store) & TS_STORE_CAP_FORGET;
    assert_int_equal (s_count (fx->store, "a"), forget? 0: 5);
    if (forget)
        assert_int_equal (s_forecast_count (fx->store, "a", 0), 0);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal (s_count (fx->store, ids [i]), 5);
        assert_int_equal (s_forecast_count (fx->store, ids [i], 0), 5);
    }
    //  Registered again, the id starts empty where the store deletes;
    //  else its kept history shows again.
    s_add (fx->store, "a");
    assert_int_equal (s_count (fx->store, "a"), forget? 0: 5);
    if (forget)
        assert_int_equal (s_forecast_count (fx->store, "a", 0), 0);
    ts_points_destroy (&pts);
}

static void
store_rejects_invalid_ids_measures_and_ranges (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "good", "bad id" };
    size_t added = 99;
    assert_int_equal (ts_store_ids_add (fx->store, ids, 2, &added, err),
                      TS_EINVAL);
    assert_string_equal (err, "invalid id 'bad id': use " TS_NAME_RULE);
    assert_int_equal (added, 0);
    bool exists = true;
    assert_int_equal (ts_store_ids_exists (fx->store, "good", &exists, err),
                      0);
    assert_false (exists);
    const char *dash [] = { "-x" };
    assert_int_equal (ts_store_ids_add (fx->store, dash, 1, NULL, err),
                      TS_EINVAL);

    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 0, 1, 3, 1.0);
    assert_int_equal (ts_store_history_put (fx->store, "", pts, err),
                      TS_EINVAL);
    assert_int_equal (ts_store_history_put (fx->store, NULL, pts, err),
                      TS_EINVAL);
    assert_int_equal (ts_store_forecast_replace (fx->store, "a/../b", pts,
                                                 0, err), TS_EINVAL);
    assert_string_equal (err, "invalid id 'a/../b': use " TS_NAME_RULE);
    assert_int_equal (ts_store_ids_remove (fx->store, "x y", err),
                      TS_EINVAL);
    assert_int_equal (ts_store_ids_exists (fx->store, "x'", &exists, err),
                      TS_EINVAL);

    //  One bad measure fails the whole put.
    assert_int_equal (ts_points_append (pts, 5, "bad measure", 1.0), 0);
    assert_int_equal (ts_store_history_put (fx->store, "good", pts, err),
                      TS_EINVAL);
    assert_non_null (strstr (err, "invalid measure 'bad measure'"));
    assert_int_equal (ts_store_forecast_replace (fx->store, "good", pts, 0,
                                                 err), TS_EINVAL);
    assert_int_equal (s_count (fx->store, "good"), 0);
    assert_int_equal (s_forecast_count (fx->store, "good", 0), 0);

    ts_points_clear (pts);
    assert_int_equal (ts_store_history_range (fx->store, "good", "a b",
                      0, 10, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_history_range (fx->store, "good", NULL,
                      11, 10, pts, err), TS_EINVAL);
    assert_non_null (strstr (err, "from_ms > to_ms"));
    assert_int_equal (ts_store_history_range_max (fx->store, "a b", NULL,
                      0, 10, 5, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_forecast_range (fx->store, "good", NULL,
                      11, 10, 0, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_forecast_range (fx->store, "a;b", NULL,
                      0, 10, 0, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_forecast_range (fx->store, "good", "x/y",
                      0, 10, 0, pts, err), TS_EINVAL);
    assert_int_equal (pts->n, 0);
    ts_points_destroy (&pts);
}

//  --- history -----------------------------------------------------------

static void
history_range_includes_both_boundaries (void **state)
{
    fixture_t *fx = *state;
    s_put (fx->store, "a", 0, 10, 10);          //  0, 10, ..., 90
    char err [TS_ERRLEN] = "";
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL, 20, 50,
                                              out, err), 0);
    assert_int_equal (out->n, 4);
    assert_int_equal (out->time_ms [0], 20);
    assert_int_equal (out->time_ms [3], 50);
    assert_string_equal (ts_points_measure (out, 0), "value");
    assert_true (out->value [3] == 50.0);

    //  Empty ranges: between points, before the first, after the last.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL, 21, 29,
                                              out, err), 0);
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL,
                      FOREVER_FROM, -1, out, err), 0);
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL,
                      91, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 0);
    //  from == to: the one point there, or none.
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL, 90, 90,
                                              out, err), 0);
    assert_int_equal (out->n, 1);
    assert_int_equal (out->time_ms [0], 90);
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL, 0, 0,
                                              out, err), 0);
    assert_int_equal (out->n, 2);
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL, 15, 15,
                                              out, err), 0);
    assert_int_equal (ts_store_history_range (fx->store, "nobody", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 2);
    ts_points_destroy (&out);
}

static void
history_range_filters_by_measure (void **state)
{
    fixture_t *fx = *state;
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "temp", 0, 10, 5, 1.0);
    s_fill (pts, "tempo", 0, 10, 5, 2.0);
    s_fill (pts, "rain", 0, 10, 5, 3.0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "a", "temp",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 5);
    for (size_t i = 0; i < out->n; i++) {
        assert_string_equal (ts_points_measure (out, i), "temp");
        assert_true (out->value [i] == (double) out->time_ms [i]);
    }
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (fx->store, "a", "tempo",
                      10, 20, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_true (out->value [1] == 40.0);
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (fx->store, "a", "snow",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (ts_store_history_range (fx->store, "a", "te",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_orders_by_time_then_measure (void **state)
{
    fixture_t *fx = *state;
    ts_points_t *pts = ts_points_new ();
    //  Put in a scrambled order.
    s_fill (pts, "b", 30, -10, 4, 1.0);
    s_fill (pts, "ab", 0, 10, 4, 1.0);
    s_fill (pts, "a", 30, -10, 4, 1.0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (fx->store, "s", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "s", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 12);
    const char *order [] = { "a", "ab", "b" };
    for (size_t i = 0; i < out->n; i++) {
        assert_int_equal (out->time_ms [i], (int64_t) (i / 3) * 10);
        assert_string_equal (ts_points_measure (out, i), order [i % 3]);
    }
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_sorts_negative_times_before_positive (void **state)
{
    fixture_t *fx = *state;
    //  The far ends of int64 only where the history holds any time
    //  (ALLTIME); elsewhere a put of them fails and names them, and the
    //  rest of the test runs on the times between.
    bool alltime = ts_store_caps (fx->store) & TS_STORE_CAP_ALLTIME;
    int64_t times [] = { 5, -1, INT64_MIN, 0, -1000000000000LL, INT64_MAX,
                         1, -5 };
    ts_points_t *pts = ts_points_new ();
    char err [TS_ERRLEN] = "";
    if (!alltime) {
        assert_int_equal (ts_points_append (pts, INT64_MAX, "v", 1.0), 0);
        assert_int_equal (ts_store_history_put (fx->store, "far", pts, err),
                          TS_EBACKEND);
        assert_non_null (strstr (err, "time 9223372036854775807"));
        assert_int_equal (s_count (fx->store, "far"), 0);
        ts_points_clear (pts);
    }
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++)
        if (alltime || (times [i] != INT64_MIN && times [i] != INT64_MAX))
            assert_int_equal (ts_points_append (pts, times [i], "v", 1.0), 0);
    assert_int_equal (ts_store_history_put (fx->store, "n", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "n", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    int64_t expect [] = { INT64_MIN, -1000000000000LL, -5, -1, 0, 1, 5,
                          INT64_MAX };
    size_t first = alltime? 0: 1, n = alltime? 8: 6;
    assert_int_equal (out->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (out->time_ms [i], expect [first + i]);

    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (fx->store, "n", NULL, -5, 0,
                                              out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], -5);
    assert_int_equal (out->time_ms [2], 0);
    //  The far ends, each alone (where they are held).
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (fx->store, "n", NULL,
                      INT64_MIN, INT64_MIN, out, err), 0);
    assert_int_equal (ts_store_history_range (fx->store, "n", NULL,
                      INT64_MAX, INT64_MAX, out, err), 0);
    assert_int_equal (out->n, alltime? 2: 0);
    if (alltime) {
        assert_true (out->time_ms [0] == INT64_MIN);
        assert_true (out->time_ms [1] == INT64_MAX);
    }
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_max_stops_at_the_limit (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 1000, 100, 10, 1.0);
    s_fill (pts, "other", 1000, 100, 10, 1.0);
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    //  Exactly at the limit: all of them.
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 20, out, err), 0);
    assert_int_equal (out->n, 20);
    //  One over: stops there, holding the first max.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 19, out, err), TS_ETOOBIG);
    assert_int_equal (out->n, 19);
    assert_int_equal (out->time_ms [0], 1000);
    assert_int_equal (out->time_ms [18], 1900);
    assert_non_null (strstr (err, "more than 19 points"));
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 1, out, err), TS_ETOOBIG);
    assert_int_equal (out->n, 1);
    //  Only the points asked for count: one measure, a shorter range.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", "value",
                      FOREVER_FROM, FOREVER_TO, 10, out, err), 0);
    assert_int_equal (out->n, 10);
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      1000, 1100, 4, out, err), 0);
    assert_int_equal (out->n, 4);
    //  Nothing in range is fine even with a limit of 0.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      5000, 6000, 0, out, err), 0);
    assert_int_equal (ts_store_history_range_max (fx->store, "nobody", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (ts_store_history_range_max (fx->store, "a", NULL,
                      1000, 1000, 0, out, err), TS_ETOOBIG);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_put_twice_keeps_one_point_with_newest_value (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 100, "value", 1.5), 0);
    assert_int_equal (ts_points_append (pts, 100, "other", 7.0), 0);
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);
    assert_int_equal (s_count (fx->store, "a"), 2);

    pts->value [0] = 2.5;
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "a", "value",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 1);
    assert_true (out->value [0] == 2.5);
    assert_int_equal (s_count (fx->store, "a"), 2);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_put_keeps_the_last_of_equal_points_in_one_list (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 200, "value", 1.0), 0);
    assert_int_equal (ts_points_append (pts, 100, "value", 2.0), 0);
    assert_int_equal (ts_points_append (pts, 200, "value", 3.0), 0);
    assert_int_equal (ts_points_append (pts, 200, "other", 4.0), 0);
    assert_int_equal (ts_store_history_put (fx->store, "a", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], 100);
    assert_string_equal (ts_points_measure (out, 1), "other");
    assert_string_equal (ts_points_measure (out, 2), "value");
    assert_true (out->value [2] == 3.0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_ranges_of_prefixed_ids_do_not_mix (void **state)
{
    fixture_t *fx = *state;
    s_put (fx->store, "a", 0, 1, 3);
    s_put (fx->store, "a.b", 0, 1, 5);
    s_put (fx->store, "ab", 0, 1, 7);
    //  The earliest time the history holds (ALLTIME: any).
    s_put (fx->store, "a-", ts_store_caps (fx->store) & TS_STORE_CAP_ALLTIME?
           INT64_MIN: -1000000000000LL, 1, 2);
    assert_int_equal (s_count (fx->store, "a"), 3);
    assert_int_equal (s_count (fx->store, "a.b"), 5);
    assert_int_equal (s_count (fx->store, "ab"), 7);
    assert_int_equal (s_count (fx->store, "a-"), 2);
    assert_int_equal (s_count (fx->store, "a."), 0);
    assert_int_equal (s_count (fx->store, "b"), 0);
}

//  --- forecast ----------------------------------------------------------

static void
forecast_replace_drops_points_not_in_new_set (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 1000, 100, 10, 1.0);     //  1000 .. 1900
    s_fill (pts, "other", 1000, 100, 10, 1.0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);
    ts_points_clear (pts);
    s_fill (pts, "value", 1500, 100, 3, 2.0);      //  1500 .. 1700
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (out->time_ms [i], 1500 + 100 * (int64_t) i);
        assert_string_equal (ts_points_measure (out, i), "value");
        assert_true (out->value [i] == 2.0 * out->time_ms [i]);
    }
    //  Inclusive bounds, from == to and the measure filter hold for
    //  forecasts too.
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (fx->store, "a", "value",
                      1600, 1700, 0, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      1700, 1700, 0, out, err), 0);
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      1701, 1799, 0, out, err), 0);
    assert_int_equal (ts_store_forecast_range (fx->store, "a", "other",
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 3);

    //  An empty set clears the forecast; history is untouched.
    s_put (fx->store, "a", 1000, 1, 4);
    ts_points_clear (pts);
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);
    assert_int_equal (s_forecast_count (fx->store, "a", 0), 0);
    assert_int_equal (s_count (fx->store, "a"), 4);
    //  And the forecast of another id is untouched by all of it.
    assert_int_equal (s_forecast_count (fx->store, "a.b", 0), 0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
forecast_hides_expired_points_and_expire_removes_them (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    int64_t now_ms = 1000000;
    int64_t expires_ms = now_ms + TTL_S * 1000;
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", now_ms, 1000, 5, 1.0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "old", pts,
                                                 now_ms, err), 0);
    assert_int_equal (ts_store_forecast_replace (fx->store, "new", pts,
                                                 expires_ms, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (fx->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms - 1, out, err), 0);
    assert_int_equal (out->n, 5);
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (fx->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms, out, err), 0);
    assert_int_equal (out->n, 0);

    size_t removed = 99;
    assert_int_equal (ts_store_expire (fx->store, expires_ms - 1, &removed,
                                       err), 0);
    assert_int_equal (removed, 0);
    assert_int_equal (ts_store_expire (fx->store, expires_ms, &removed,
                                       err), 0);
    assert_int_equal (removed, 5);
    assert_int_equal (ts_store_expire (fx->store, expires_ms, &removed,
                                       err), 0);
    assert_int_equal (removed, 0);
    assert_int_equal (ts_store_expire (fx->store, expires_ms, NULL, err), 0);

    //  Gone from the store, not only hidden: an early "now" sees nothing.
    assert_int_equal (ts_store_forecast_range (fx->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 0);
    assert_int_equal (ts_store_forecast_range (fx->store, "new", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms, out, err), 0);
    assert_int_equal (out->n, 5);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
forecast_keeps_points_sorted_and_the_last_of_equal_times (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    ts_points_append (pts, 3000, "value", 3);
    ts_points_append (pts, 1000, "value", 1);
    ts_points_append (pts, 2000, "value", 2);
    ts_points_append (pts, 1000, "alpha", 10);
    ts_points_append (pts, 2000, "value", 22);      //  replaces 2
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);
    //  Twice: what one replace leaves.
    assert_int_equal (ts_store_forecast_replace (fx->store, "a", pts, 0,
                                                 err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (fx->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 4);
    assert_int_equal (out->time_ms [0], 1000);
    assert_string_equal (ts_points_measure (out, 0), "alpha");
    assert_string_equal (ts_points_measure (out, 1), "value");
    assert_int_equal (out->time_ms [2], 2000);
    assert_true (out->value [2] == 22);
    assert_int_equal (out->time_ms [3], 3000);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (registry_adds_lists_checks_and_removes_ids),
        T (ids_page_of_an_empty_registry_is_empty_and_checks_its_arguments),
        T (ids_page_walks_every_id_once_at_every_limit),
        T (ids_page_goes_on_after_an_id_that_was_removed),
        T (ids_page_lists_each_lasting_id_once_while_others_come_and_go),
        T (registry_remove_deletes_history_and_forecast_of_that_id_only),
        T (store_rejects_invalid_ids_measures_and_ranges),
        T (history_range_includes_both_boundaries),
        T (history_range_filters_by_measure),
        T (history_range_orders_by_time_then_measure),
        T (history_range_sorts_negative_times_before_positive),
        T (history_range_max_stops_at_the_limit),
        T (history_put_twice_keeps_one_point_with_newest_value),
        T (history_put_keeps_the_last_of_equal_points_in_one_list),
        T (history_ranges_of_prefixed_ids_do_not_mix),
        T (forecast_replace_drops_points_not_in_new_set),
        T (forecast_hides_expired_points_and_expire_removes_them),
        T (forecast_keeps_points_sorted_and_the_last_of_equal_times),
    };
#undef T
    return s_run_per_backend ("store contract", tests,
                              sizeof tests / sizeof tests [0]);
}
