/*  test_store_contract_scan - ts_store_history_scan for every store
    configuration of ts_store_fixture.h: the points a scan visits are
    those ts_store_history_range reads, forward and reverse, across the
    chunks of a backend without a walk of its own (more points than
    TS_STORE_SCAN_CHUNK), with a measure filter, stopped by the visitor,
    and with the visitor's error passed back. */

#include "ts_store_fixture.h"

//  Collects what a scan visits; stops after stop_after points if set,
//  or fails with fail_with.
typedef struct {
    ts_points_t *seen;
    size_t       stop_after;
    int          fail_with;
    bool         descending;        //  times never went up
    bool         ascending;         //  times never went down
} s_visit_t;

static int
s_visit (void *arg, int64_t time_ms, const char *measure, double value)
{
    s_visit_t *visit = arg;
    size_t n = visit->seen->n;
    if (n && time_ms > visit->seen->time_ms [n - 1])
        visit->descending = false;
    if (n && time_ms < visit->seen->time_ms [n - 1])
        visit->ascending = false;
    assert_int_equal (ts_points_append (visit->seen, time_ms, measure, value),
                      0);
    if (visit->fail_with)
        return visit->fail_with;
    if (visit->stop_after && visit->seen->n == visit->stop_after)
        return 1;
    return 0;
}

static s_visit_t
s_visit_new (void)
{
    s_visit_t visit = { ts_points_new (), 0, 0, true, true };
    assert_non_null (visit.seen);
    return visit;
}

//  Asserts that a and b hold the same points, in any order of measures
//  at one time (both are sorted here).
static void
s_assert_same (ts_points_t *a, ts_points_t *b)
{
    assert_int_equal (ts_points_sort (a), 0);
    assert_int_equal (ts_points_sort (b), 0);
    assert_int_equal (a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal (a->time_ms [i], b->time_ms [i]);
        assert_string_equal (ts_points_measure (a, i),
                             ts_points_measure (b, i));
        assert_true (a->value [i] == b->value [i]);
    }
}

//  Puts, for id "s", measure "a" at 0, 10, ..., and "b" at every third
//  of those times: more points than one chunk of a chunked scan.
#define S_N  (TS_STORE_SCAN_CHUNK + 700)
static void
s_put_two_measures (ts_store_t *store)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    for (int64_t i = 0; i < S_N; i++) {
        assert_int_equal (ts_points_append (pts, i * 10, "a", (double) i), 0);
        if (i % 3 == 0)
            assert_int_equal (ts_points_append (pts, i * 10, "b", -i), 0);
    }
    char err [TS_ERRLEN] = "";
    if (ts_store_history_put (store, "s", pts, err))
        fail_msg ("history_put: %s", err);
    ts_points_destroy (&pts);
}

static void
history_scan_visits_what_history_range_reads (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_put_two_measures (fx->store);
    const struct { const char *measure; int64_t from, to; } cases [] = {
        { NULL, FOREVER_FROM, FOREVER_TO },
        { NULL, 10, 40000 },                //  both ends on points
        { NULL, 15, 39995 },                //  between points
        { "b", FOREVER_FROM, FOREVER_TO },
        { "a", 20000, 20000 },              //  one time
        { NULL, 1, 9 },                     //  no point
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases [0]; c++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            ts_points_t *want = ts_points_new ();
            assert_int_equal (ts_store_history_range (fx->store, "s",
                                  cases [c].measure, cases [c].from,
                                  cases [c].to, want, err), 0);
            s_visit_t visit = s_visit_new ();
            int rc = ts_store_history_scan (fx->store, "s", cases [c].measure,
                                            cases [c].from, cases [c].to,
                                            reverse, s_visit, &visit, err);
            if (rc)
                fail_msg ("case %zu: %s", c, err);
            assert_true (reverse? visit.descending: visit.ascending);
            s_assert_same (visit.seen, want);
            ts_points_destroy (&visit.seen);
            ts_points_destroy (&want);
        }
    }
}

static void
history_scan_stops_when_the_visitor_says_so (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_put_two_measures (fx->store);
    //  Forward from 100: the first five points; reverse up to 100: the
    //  newest point at or before it ("previous value" reads).
    s_visit_t visit = s_visit_new ();
    visit.stop_after = 5;
    assert_int_equal (ts_store_history_scan (fx->store, "s", "a", 100,
                                             FOREVER_TO, false, s_visit,
                                             &visit, err), 0);
    assert_int_equal (visit.seen->n, 5);
    assert_int_equal (visit.seen->time_ms [0], 100);
    assert_int_equal (visit.seen->time_ms [4], 140);
    ts_points_clear (visit.seen);
    visit.stop_after = 1;
    assert_int_equal (ts_store_history_scan (fx->store, "s", "b", FOREVER_FROM,
                                             100, true, s_visit, &visit,
                                             err), 0);
    assert_int_equal (visit.seen->n, 1);
    assert_int_equal (visit.seen->time_ms [0], 90);
    ts_points_destroy (&visit.seen);
}

static void
history_scan_passes_back_the_visitors_error (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_put_two_measures (fx->store);
    for (int reverse = 0; reverse < 2; reverse++) {
        s_visit_t visit = s_visit_new ();
        visit.fail_with = TS_ENOMEM;
        assert_int_equal (ts_store_history_scan (fx->store, "s", NULL,
                                                 FOREVER_FROM, FOREVER_TO,
                                                 reverse, s_visit, &visit,
                                                 err), TS_ENOMEM);
        assert_int_equal (visit.seen->n, 1);
        ts_points_destroy (&visit.seen);
    }
}

static void
history_scan_of_an_unknown_id_visits_nothing_and_checks_arguments
    (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    s_visit_t visit = s_visit_new ();
    assert_int_equal (ts_store_history_scan (fx->store, "never", NULL,
                                             FOREVER_FROM, FOREVER_TO, false,
                                             s_visit, &visit, err), 0);
    assert_int_equal (ts_store_history_scan (fx->store, "never", "m", 0, 10,
                                             true, s_visit, &visit, err), 0);
    assert_int_equal (visit.seen->n, 0);
    assert_int_equal (ts_store_history_scan (fx->store, "s", NULL, 10, 0,
                                             false, s_visit, &visit, err),
                      TS_EINVAL);
    assert_int_equal (ts_store_history_scan (fx->store, "bad id", NULL, 0,
                                             10, false, s_visit, &visit,
                                             err), TS_EINVAL);
    ts_points_destroy (&visit.seen);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (history_scan_visits_what_history_range_reads),
        T (history_scan_stops_when_the_visitor_says_so),
        T (history_scan_passes_back_the_visitors_error),
        T (history_scan_of_an_unknown_id_visits_nothing_and_checks_arguments),
    };
#undef T
    return s_run_per_backend ("store contract scan", tests,
                              sizeof tests / sizeof tests [0]);
}
