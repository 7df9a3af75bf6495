/*  test_queue_contract_priority - the queue's high lane (a priority push:
    a query's read-through fetch), run against each backend of
    ts_queue_fixture.h: a priority job is leased before every visible job
    of the default window and of the backfill lane, however old; a
    priority push of an id already queued at default priority is
    deduplicated (one job, one fetch) and bumps that job to the high
    lane; a leased job is not bumped and a priority push of its id
    queues nothing; the priority survives a reopen and a retry; stats
    count the high lane. */

#include "ts_queue_fixture.h"

//  Pushes id alone, with priority or not; returns how many ids the job
//  took, its id in *job_id.
static int
s_push_prio (fixture_t *fx, const char *id, bool priority, int64_t now_ms,
             uint64_t *job_id)
{
    const char *ids [] = { id };
    ts_queue_attrs_t attrs = { .priority = priority };
    return ts_queue_push_attrs (fx->queue, ids, 1, &attrs, now_ms, job_id,
                                NULL);
}

static void
queue_leases_priority_jobs_before_every_other_lane (void **state)
{
    fixture_t *fx = *state;
    uint64_t old, chunk, urgent;
    assert_int_equal (s_push_prio (fx, "old", false, T0, &old), 1);
    const char *ids [] = { "c" };
    ts_queue_attrs_t window = { .from_ms = 1000, .to_ms = 2000 };
    assert_int_equal (ts_queue_push_attrs (fx->queue, ids, 1, &window, T0,
                                           &chunk, NULL), 1);
    assert_int_equal (s_push_prio (fx, "urgent", true, T0 + 10, &urgent), 1);
    assert_int_equal (ts_queue_lookup (fx->queue, urgent, fx->job, NULL), 0);
    assert_true (fx->job->priority);
    ts_queue_stats_t stats = s_stats (fx, T0 + 10);
    assert_int_equal (stats.queued, 3);
    assert_int_equal (s_lease (fx, "w", T0 + 10), urgent);
    assert_true (fx->job->priority);
    assert_int_equal (s_lease (fx, "w", T0 + 10), old);
    assert_false (fx->job->priority);
    assert_int_equal (s_lease (fx, "w", T0 + 10), chunk);
}

static void
queue_priority_push_of_a_queued_id_bumps_its_job (void **state)
{
    fixture_t *fx = *state;
    uint64_t first, tick, again;
    assert_int_equal (s_push_prio (fx, "first", false, T0, &first), 1);
    assert_int_equal (s_push_prio (fx, "a", false, T0 + 1, &tick), 1);
    //  Deduplicated: no new job, one fetch...
    assert_int_equal (s_push_prio (fx, "a", true, T0 + 2, &again), 0);
    assert_int_equal (again, 0);
    const char *ids [] = { "a" };
    uint64_t holder = 0;
    assert_int_equal (ts_queue_holders (fx->queue, ids, 1, &holder, NULL), 0);
    assert_int_equal (holder, tick);
    //  ... but that job now goes first, and is counted once.
    ts_queue_stats_t stats = s_stats (fx, T0 + 2);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (s_lease (fx, "w", T0 + 2), tick);
    assert_true (fx->job->priority);
    assert_int_equal (s_lease (fx, "w", T0 + 2), first);
    assert_int_equal (ts_queue_lease (fx->queue, "w", T0 + 2, fx->job, NULL),
                      TS_ENOTFOUND);
}

static void
queue_priority_push_of_a_leased_id_queues_nothing (void **state)
{
    fixture_t *fx = *state;
    uint64_t tick, again, other;
    assert_int_equal (s_push_prio (fx, "a", false, T0, &tick), 1);
    assert_int_equal (s_lease (fx, "w", T0), tick);
    //  Being fetched already: nothing to queue or bump.
    assert_int_equal (s_push_prio (fx, "a", true, T0 + 1, &again), 0);
    assert_int_equal (ts_queue_lookup (fx->queue, tick, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_LEASED);
    assert_false (fx->job->priority);
    //  A retried priority job keeps its lane.
    assert_int_equal (s_push_prio (fx, "b", true, T0 + 1, &other), 1);
    assert_int_equal (s_lease (fx, "w", T0 + 1), other);
    assert_int_equal (ts_queue_nack (fx->queue, other, "HTTP 500", true, 0,
                                     T0 + 1, NULL, NULL), 0);
    assert_int_equal (s_push_prio (fx, "c", false, T0 + 2, NULL), 1);
    assert_int_equal (s_lease (fx, "w", T0 + 600000), other);
    assert_true (fx->job->priority);
}

static void
queue_priority_survives_a_reopen (void **state)
{
    fixture_t *fx = *state;
    uint64_t plain, urgent, bumped;
    assert_int_equal (s_push_prio (fx, "plain", false, T0, &plain), 1);
    assert_int_equal (s_push_prio (fx, "bumped", false, T0 + 1, &bumped), 1);
    assert_int_equal (s_push_prio (fx, "urgent", true, T0 + 2, &urgent), 1);
    assert_int_equal (s_push_prio (fx, "bumped", true, T0 + 3, NULL), 0);
    s_reopen (fx, T0 + 4);
    assert_int_equal (s_lease (fx, "w", T0 + 4), bumped);
    assert_int_equal (s_lease (fx, "w", T0 + 4), urgent);
    assert_int_equal (s_lease (fx, "w", T0 + 4), plain);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (queue_leases_priority_jobs_before_every_other_lane),
        T (queue_priority_push_of_a_queued_id_bumps_its_job),
        T (queue_priority_push_of_a_leased_id_queues_nothing),
        T (queue_priority_survives_a_reopen),
    };
#undef T
    return s_run_per_backend ("queue contract: priority", tests,
                              sizeof tests / sizeof tests [0]);
}
