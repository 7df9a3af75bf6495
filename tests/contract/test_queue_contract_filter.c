/*  test_queue_contract_filter - leases that pass over jobs
    (ts_queue_lease_filtered over the backend's lease with an accept
    function), run against each backend of ts_queue_fixture.h: skipped
    jobs keep their place and later jobs are leased past them, STOP ends
    the call for every owner, only visible jobs are asked about, and a
    budget kept by the accept function holds across owners. The broker
    meters each source's rate limit this way (ts_broker_rate.c). */

#include "ts_queue_fixture.h"

//  An accept function over jobs of one id each: skips ids starting with
//  skip (if set), stops at stop (if set), takes at most budget jobs
//  (then STOP), and notes every id it was asked about.
typedef struct {
    char        skip;           //  first letter of ids to skip, or 0
    const char *stop;           //  id to stop at, or NULL
    int         budget;         //  jobs it may still take; < 0: no limit
    char        asked [256];    //  ids asked about, comma-separated
} s_filter_t;

static ts_queue_accept_t
s_filter (const ts_job_t *job, void *arg)
{
    s_filter_t *f = arg;
    const char *id = job->ids->items [0];
    size_t len = strlen (f->asked);
    snprintf (f->asked + len, sizeof f->asked - len, "%s%s", len? ",": "",
              id);
    if (f->stop && strcmp (id, f->stop) == 0)
        return TS_QUEUE_STOP;
    if (f->skip && id [0] == f->skip)
        return TS_QUEUE_SKIP;
    if (f->budget == 0)
        return TS_QUEUE_STOP;
    if (f->budget > 0)
        f->budget--;
    return TS_QUEUE_TAKE;
}

//  Leases with filter f for the owners named (credit each) into jobs;
//  returns the count, writing the ids leased into out, comma-separated.
static int
s_lease_filtered (fixture_t *fx, const char *const *owners, size_t n,
                  uint32_t credit, s_filter_t *f, int64_t now_ms, char *out,
                  size_t size)
{
    ts_queue_grant_t grants [4];
    ts_job_t *jobs [8];
    assert_true (n <= 4);
    for (size_t i = 0; i < n; i++)
        grants [i] = (ts_queue_grant_t) { owners [i], credit, i };
    for (size_t i = 0; i < 8; i++)
        assert_non_null (jobs [i] = ts_job_new ());
    char err [TS_ERRLEN] = "";
    int got = ts_queue_lease_filtered (fx->queue, grants, n, s_filter, f,
                                       now_ms, jobs, 8, err);
    if (got < 0)
        fail_msg ("lease: %s", err);
    out [0] = 0;
    for (int i = 0; i < got; i++) {
        size_t len = strlen (out);
        assert_int_equal (jobs [i]->state, TS_JOB_LEASED);
        snprintf (out + len, size - len, "%s%s", i? ",": "",
                  jobs [i]->ids->items [0]);
    }
    for (size_t i = 0; i < 8; i++)
        ts_job_destroy (&jobs [i]);
    return got;
}

static void
queue_lease_filtered_leases_past_skipped_jobs_which_keep_their_place
    (void **state)
{
    fixture_t *fx = *state;
    const char *names [] = { "a1", "b1", "a2", "b2", "a3" };
    uint64_t ids [5];
    for (int i = 0; i < 5; i++)
        ids [i] = s_push1 (fx->queue, names [i], T0 + i);
    const char *w [] = { "w1" };
    s_filter_t f = { 'a', NULL, -1, "" };
    char leased [128];
    assert_int_equal (s_lease_filtered (fx, w, 1, 8, &f, T0 + 10, leased,
                                        sizeof leased), 2);
    assert_string_equal (leased, "b1,b2");
    assert_string_equal (f.asked, "a1,b1,a2,b2,a3");
    //  The skipped jobs are untouched: queued, never received, and
    //  leased in their old order once taken.
    assert_int_equal (ts_queue_lookup (fx->queue, ids [0], fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_QUEUED);
    assert_int_equal (fx->job->receives, 0);
    assert_int_equal (fx->job->visible_at_ms, T0);
    ts_queue_stats_t stats = s_stats (fx, T0 + 10);
    assert_int_equal (stats.queued, 3);
    assert_int_equal (stats.leased, 2);
    assert_int_equal (s_lease (fx, "w1", T0 + 10), ids [0]);
    assert_int_equal (s_lease (fx, "w1", T0 + 10), ids [2]);
    assert_int_equal (s_lease (fx, "w1", T0 + 10), ids [4]);
}

static void
queue_lease_filtered_stop_ends_the_call_for_every_owner (void **state)
{
    fixture_t *fx = *state;
    const char *names [] = { "a", "b", "c", "d", "e" };
    for (int i = 0; i < 5; i++)
        s_push1 (fx->queue, names [i], T0 + i);
    const char *w [] = { "w1", "w2", "w3" };
    s_filter_t f = { 0, "c", -1, "" };
    char leased [128];
    assert_int_equal (s_lease_filtered (fx, w, 3, 2, &f, T0 + 10, leased,
                                        sizeof leased), 2);
    assert_string_equal (leased, "a,b");
    //  Nothing after the stop was asked about.
    assert_null (strstr (f.asked, "d"));
    assert_int_equal (s_stats (fx, T0 + 10).queued, 3);
}

static void
queue_lease_filtered_budget_holds_across_owners (void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 6; i++) {
        char id [8];
        snprintf (id, sizeof id, "x%d", i);
        s_push1 (fx->queue, id, T0 + i);
    }
    const char *w [] = { "w1", "w2" };
    s_filter_t f = { 0, NULL, 3, "" };
    char leased [128];
    //  Credit for 8 jobs, budget for 3: oldest first, then none.
    assert_int_equal (s_lease_filtered (fx, w, 2, 4, &f, T0 + 10, leased,
                                        sizeof leased), 3);
    assert_string_equal (leased, "x0,x1,x2");
    f.asked [0] = 0;
    assert_int_equal (s_lease_filtered (fx, w, 2, 4, &f, T0 + 10, leased,
                                        sizeof leased), 0);
    assert_string_equal (f.asked, "x3");
    f.budget = 1;
    assert_int_equal (s_lease_filtered (fx, w, 2, 4, &f, T0 + 10, leased,
                                        sizeof leased), 1);
    assert_string_equal (leased, "x3");
    ts_queue_stats_t stats = s_stats (fx, T0 + 10);
    assert_int_equal (stats.leased, 4);
    assert_int_equal (stats.queued, 2);
}

static void
queue_lease_filtered_asks_only_about_visible_jobs (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    s_push1 (fx->queue, "b", T0);
    //  a fails and waits out its backoff: not visible, not asked about.
    assert_int_equal (s_lease (fx, "w1", T0), a);
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 503", true, 60000,
                                     T0, fx->job, NULL), 0);
    const char *w [] = { "w1" };
    s_filter_t f = { 'b', NULL, -1, "" };
    char leased [128];
    assert_int_equal (s_lease_filtered (fx, w, 1, 4, &f, T0 + 1, leased,
                                        sizeof leased), 0);
    assert_string_equal (f.asked, "b");
    //  A call that leased nothing wrote nothing.
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_queue_sync (fx->queue, err), 0);
    assert_int_equal (s_lease_filtered (fx, w, 1, 4, &f, T0 + 2, leased,
                                        sizeof leased), 0);
    assert_false (ts_queue_dirty (fx->queue));
    //  Without a filter (ts_queue_lease_many) every visible job is taken.
    assert_int_equal (s_lease (fx, "w1", T0 + 2), a + 1);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (queue_lease_filtered_leases_past_skipped_jobs_which_keep_their_place),
        T (queue_lease_filtered_stop_ends_the_call_for_every_owner),
        T (queue_lease_filtered_budget_holds_across_owners),
        T (queue_lease_filtered_asks_only_about_visible_jobs),
    };
#undef T
    return s_run_per_backend ("queue contract: filtered leases", tests,
                              sizeof tests / sizeof tests [0]);
}
