/*  test_store_contract_status - each id's fetch status in the registry
    (common/store/ts_store.h: ts_store_status_t, ts_store_ids_status,
    _mark, _failed, ts_store_doc_t.fetched_ms, ts_store_answer_t.status),
    run against each configuration of ts_store_fixture.h: a fresh id
    reads never fetched; a stored document marks it ok; a failure after
    that keeps ok_ms and records the error; a success clears it; a 404
    records not-found-until; a mark older than the last attempt and a
    mark of an unregistered id are ignored; a read answers the status
    with the points; removing the id removes its status, registering it
    again (to another source) keeps it. */

#include "ts_store_fixture.h"

//  The status of id (must be registered).
static ts_store_status_t
s_status (fixture_t *fx, const char *id)
{
    ts_store_status_t status;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_ids_status (fx->store, id, &status, err);
    if (rc)
        fail_msg ("ids_status %s: %s", id, err);
    return status;
}

static void
s_register (fixture_t *fx, const char *id, const char *source)
{
    char err [TS_ERRLEN] = "";
    const char *ids [] = { id };
    int rc = ts_store_ids_add_to (fx->store, ids, 1, source, NULL, err);
    if (rc)
        fail_msg ("ids_add_to %s: %s", id, err);
}

//  Stores one document of id with a point at time_ms, marked fetched at
//  fetched_ms (0: no mark).
static void
s_store (fixture_t *fx, const char *id, int64_t time_ms, int64_t fetched_ms)
{
    char err [TS_ERRLEN] = "";
    ts_points_t *h = ts_points_new (), *f = ts_points_new ();
    assert_non_null (h);
    assert_non_null (f);
    assert_int_equal (ts_points_append (h, time_ms, "value", 1.0), 0);
    ts_store_doc_t doc = { id, h, f, fetched_ms };
    int rc = ts_store_write_batch (fx->store, &doc, 1, fetched_ms, err);
    if (rc)
        fail_msg ("write %s: %s", id, err);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

static void
status_of_a_fresh_id_is_never_fetched (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_register (fx, "a", "");
    ts_store_status_t st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 0);
    assert_int_equal (st.attempt_ms, 0);
    assert_int_equal (st.error_ms, 0);
    assert_int_equal (st.not_found_until_ms, 0);
    assert_string_equal (st.error, "");
    assert_string_equal (st.kind, "");
    //  Not registered, or not a name.
    st.ok_ms = 5;
    assert_int_equal (ts_store_ids_status (fx->store, "ghost", &st, err),
                      TS_ENOTFOUND);
    assert_int_equal (st.ok_ms, 0);
    assert_int_equal (ts_store_ids_status (fx->store, "a b", &st, err),
                      TS_EINVAL);
    ts_store_mark_t bad = { .id = "a", .at_ms = 0, .ok = true };
    assert_int_equal (ts_store_ids_mark (fx->store, &bad, 1, err), TS_EINVAL);
}

static void
status_ok_then_failure_then_ok (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_register (fx, "a", "s1");
    s_register (fx, "b", "s1");
    //  A stored document marks its id, and only its id.
    s_store (fx, "a", 1000, 5000);
    ts_store_status_t st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 5000);
    assert_int_equal (st.attempt_ms, 5000);
    assert_int_equal (st.error_ms, 0);
    assert_int_equal (s_status (fx, "b").ok_ms, 0);
    //  A document without a mark (a window job's) leaves it alone.
    s_store (fx, "a", 2000, 0);
    assert_int_equal (s_status (fx, "a").ok_ms, 5000);

    //  A failure keeps ok_ms and records the error.
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 6000, "timeout",
                                           "no answer within 10 s", 0, err),
                      0);
    st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 5000);
    assert_int_equal (st.attempt_ms, 6000);
    assert_int_equal (st.error_ms, 6000);
    assert_string_equal (st.kind, "timeout");
    assert_string_equal (st.error, "no answer within 10 s");
    assert_int_equal (st.not_found_until_ms, 0);

    //  A mark older than the last attempt is ignored.
    s_store (fx, "a", 3000, 5500);
    st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 5000);
    assert_int_equal (st.error_ms, 6000);

    //  A success clears the error (by ts_store_ids_mark as well).
    ts_store_mark_t ok = { .id = "a", .at_ms = 7000, .ok = true };
    assert_int_equal (ts_store_ids_mark (fx->store, &ok, 1, err), 0);
    st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 7000);
    assert_int_equal (st.attempt_ms, 7000);
    assert_int_equal (st.error_ms, 0);
    assert_string_equal (st.kind, "");
    assert_string_equal (st.error, "");

    //  Several marks in one call; an unregistered id's is ignored.
    ts_store_mark_t marks [] = {
        { .id = "b", .at_ms = 8000, .ok = false, .kind = "http_500",
          .detail = "HTTP 500" },
        { .id = "ghost", .at_ms = 8000, .ok = true },
    };
    assert_int_equal (ts_store_ids_mark (fx->store, marks, 2, err), 0);
    st = s_status (fx, "b");
    assert_int_equal (st.ok_ms, 0);
    assert_int_equal (st.error_ms, 8000);
    assert_string_equal (st.kind, "http_500");
    bool exists = true;
    assert_int_equal (ts_store_ids_exists (fx->store, "ghost", &exists, err),
                      0);
    assert_false (exists);
}

static void
status_not_found_and_long_texts (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_register (fx, "a", "");
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 1000, "http_404",
                                           "HTTP 404 Not Found", 301000,
                                           err), 0);
    ts_store_status_t st = s_status (fx, "a");
    assert_int_equal (st.not_found_until_ms, 301000);
    assert_string_equal (st.kind, "http_404");
    //  Another failure that is not a 404 clears it.
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 2000, "http_503",
                                           "HTTP 503", 0, err), 0);
    assert_int_equal (s_status (fx, "a").not_found_until_ms, 0);
    //  Texts are cut to their fields, never overflow.
    char detail [600], kind [80];
    memset (detail, 'd', sizeof detail - 1);
    detail [sizeof detail - 1] = '\0';
    memset (kind, 'k', sizeof kind - 1);
    kind [sizeof kind - 1] = '\0';
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 3000, kind,
                                           detail, 0, err), 0);
    st = s_status (fx, "a");
    assert_int_equal (strlen (st.error), TS_ERRLEN - 1);
    assert_int_equal (strlen (st.kind), sizeof st.kind - 1);
    //  Success clears not-found too.
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 4000, "http_404",
                                           "HTTP 404", 9000, err), 0);
    s_store (fx, "a", 1000, 5000);
    st = s_status (fx, "a");
    assert_int_equal (st.not_found_until_ms, 0);
    assert_int_equal (st.ok_ms, 5000);
}

//  Collects the statuses a page read gives (ts_store_ids_page_status).
typedef struct {
    ts_store_status_t got [3];
    size_t            calls;
    int               fail;         //  returned from the first call
} s_seen_t;

static int
s_seen (void *arg, size_t k, const ts_store_status_t *status, char *err)
{
    s_seen_t *seen = arg;
    assert_true (k < 3);
    assert_int_equal (k, seen->calls);
    seen->got [k] = *status;
    seen->calls++;
    if (seen->fail) {
        snprintf (err, TS_ERRLEN, "stopped");
        return seen->fail;
    }
    return 0;
}

//  The registry's pages give each id's whole fetch status (the scheduler
//  leaves out ids whose 404 is negatively cached; ids_ls with fetch
//  answers them all), in the page's order, over pages, the same as
//  ts_store_ids_status; a visitor's error stops the read.
static void
status_comes_with_the_registry_pages (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *names [] = { "p-a", "p-b", "p-c" };
    for (int i = 0; i < 3; i++)
        s_register (fx, names [i], "");
    s_store (fx, "p-a", 1000, 5000);
    assert_int_equal (ts_store_ids_failed (fx->store, "p-b", 1000,
                                           "http_404", "HTTP 404", 301000,
                                           err), 0);
    assert_int_equal (ts_store_ids_failed (fx->store, "p-c", 1000,
                                           "http_503", "HTTP 503", 0, err),
                      0);
    ts_strlist_t *ids = ts_strlist_new ();
    ts_strlist_t *sources = ts_strlist_new ();
    char after [TS_NAME_MAX + 1] = "";
    bool more = true;
    size_t n = 0;
    while (more) {
        size_t before = ids->n;
        s_seen_t seen = { .calls = 0 };
        assert_int_equal (ts_store_ids_page_status (fx->store, after, 2, ids,
                                                    sources, s_seen, &seen,
                                                    &more, err), 0);
        assert_int_equal (sources->n, ids->n);
        assert_int_equal (seen.calls, ids->n - before);
        for (size_t k = before; k < ids->n; k++) {
            ts_store_status_t want = s_status (fx, ids->items [k]);
            const ts_store_status_t *got = &seen.got [k - before];
            assert_int_equal (got->ok_ms, want.ok_ms);
            assert_int_equal (got->attempt_ms, want.attempt_ms);
            assert_int_equal (got->error_ms, want.error_ms);
            assert_int_equal (got->not_found_until_ms,
                              want.not_found_until_ms);
            assert_string_equal (got->error, want.error);
            assert_string_equal (got->kind, want.kind);
            if (strcmp (ids->items [k], "p-a") == 0)
                assert_int_equal (got->ok_ms, 5000);
            if (strcmp (ids->items [k], "p-b") == 0) {
                assert_int_equal (got->not_found_until_ms, 301000);
                assert_string_equal (got->kind, "http_404");
            }
            if (strcmp (ids->items [k], "p-c") == 0) {
                assert_int_equal (got->not_found_until_ms, 0);
                assert_string_equal (got->error, "HTTP 503");
            }
            n++;
        }
        if (ids->n)
            ts_strlcpy (after, ids->items [ids->n - 1], sizeof after);
        assert_true (n <= 3);
    }
    assert_int_equal (n, 3);
    //  A visitor's error stops the read at once and is the answer; the
    //  ids read so far stay listed.
    ts_strlist_clear (ids);
    s_seen_t failing = { .fail = TS_ENOMEM };
    more = true;
    assert_int_equal (ts_store_ids_page_status (fx->store, "", 3, ids, NULL,
                                                s_seen, &failing, &more,
                                                err), TS_ENOMEM);
    assert_string_equal (err, "stopped");
    assert_int_equal (failing.calls, 1);
    assert_int_equal (ids->n, 1);
    assert_false (more);
    //  Without a visitor, the same page as before.
    ts_strlist_clear (ids);
    assert_int_equal (ts_store_ids_page_status (fx->store, "", 3, ids, NULL,
                                                NULL, NULL, &more, err), 0);
    assert_int_equal (ids->n, 3);
    ts_strlist_destroy (&ids);
    ts_strlist_destroy (&sources);
}

static void
status_is_read_with_a_query (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_register (fx, "a", "");
    s_store (fx, "a", 1000, 5000);
    assert_int_equal (ts_store_ids_failed (fx->store, "a", 6000, "timeout",
                                           "slow", 0, err), 0);
    ts_store_answer_t ans = { .history = ts_points_new (),
                              .forecast = ts_points_new () };
    assert_non_null (ans.history);
    assert_non_null (ans.forecast);
    ts_store_query_t q = { .id = "a", .from_ms = 0, .to_ms = 10000,
                           .now_ms = 6000, .max = 100 };
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_true (ans.exists);
    assert_int_equal (ans.history->n, 1);
    assert_int_equal (ans.status.ok_ms, 5000);
    assert_int_equal (ans.status.error_ms, 6000);
    assert_string_equal (ans.status.error, "slow");
    //  Not registered: no status.
    q.id = "ghost";
    assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
    assert_false (ans.exists);
    assert_int_equal (ans.status.ok_ms, 0);
    assert_string_equal (ans.status.error, "");
    ts_points_destroy (&ans.history);
    ts_points_destroy (&ans.forecast);
}

static void
status_goes_with_removal_and_stays_on_a_move (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_register (fx, "a", "s1");
    s_store (fx, "a", 1000, 5000);
    //  Registered again, to another source: kept.
    s_register (fx, "a", "s2");
    assert_int_equal (s_status (fx, "a").ok_ms, 5000);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (fx->store, ids, 1, NULL, err), 0);
    assert_int_equal (s_status (fx, "a").ok_ms, 5000);
    //  Removed: gone, and a new registration starts never fetched.
    assert_int_equal (ts_store_ids_remove (fx->store, "a", err), 0);
    ts_store_status_t st;
    assert_int_equal (ts_store_ids_status (fx->store, "a", &st, err),
                      TS_ENOTFOUND);
    s_register (fx, "a", "s1");
    st = s_status (fx, "a");
    assert_int_equal (st.ok_ms, 0);
    assert_int_equal (st.attempt_ms, 0);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (status_of_a_fresh_id_is_never_fetched),
        T (status_ok_then_failure_then_ok),
        T (status_not_found_and_long_texts),
        T (status_comes_with_the_registry_pages),
        T (status_is_read_with_a_query),
        T (status_goes_with_removal_and_stays_on_a_move),
    };
#undef T
    return s_run_per_backend ("store contract status", tests,
                              sizeof tests / sizeof tests [0]);
}
