/*  test_queue_contract_batch - the batch calls of the queue
    (broker/queue/ts_queue.h), run against each backend of
    ts_queue_fixture.h: ts_queue_lease_many shares the credit of several
    owners as single leases would, in one batch, and ts_queue_ack_many
    acks each known job once in one call. The broker leases
    (ts_queue_lease_filtered, lease_many with an accept function) and
    acks this way once per wake (ts_broker_workers.c). The single calls
    are in test_queue_contract.c. */

#include "ts_queue_fixture.h"

static void
queue_lease_many_shares_credit_as_single_leases_would (void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 6; i++) {
        char id [16];
        snprintf (id, sizeof id, "j%d", i);
        s_push1 (fx->queue, id, T0);
    }
    //  a has 3 credit, b 1 and was served longer ago: a takes two, then
    //  on the tie b (served least recently), then a again.
    ts_queue_grant_t grants [] = { { "a", 3, 5 }, { "b", 1, 1 } };
    ts_job_t *jobs [10];
    for (int i = 0; i < 10; i++)
        assert_non_null (jobs [i] = ts_job_new ());
    assert_int_equal (ts_queue_lease_many (fx->queue, grants, 2, T0, jobs, 10,
                                           NULL), 4);
    const char *owners [] = { "a", "a", "b", "a" };
    for (int i = 0; i < 4; i++) {
        assert_string_equal (jobs [i]->owner, owners [i]);
        assert_int_equal (jobs [i]->id, (uint64_t) i + 1);
        assert_int_equal (jobs [i]->state, TS_JOB_LEASED);
        assert_int_equal (jobs [i]->receives, 1);
        assert_int_equal (jobs [i]->deadline_ms, T0 + VISIBILITY);
    }
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.leased, 4);
    assert_int_equal (stats.queued, 2);
    //  max bounds a call; a partial batch when fewer jobs are visible.
    ts_queue_grant_t more [] = { { "c", 5, 0 } };
    assert_int_equal (ts_queue_lease_many (fx->queue, more, 1, T0, jobs, 1,
                                           NULL), 1);
    assert_int_equal (ts_queue_lease_many (fx->queue, more, 1, T0, jobs, 10,
                                           NULL), 1);
    assert_int_equal (jobs [0]->id, 6);
    assert_int_equal (ts_queue_lease_many (fx->queue, more, 1, T0, jobs, 10,
                                           NULL), 0);
    //  No credit, no grant: nothing leased.
    s_push1 (fx->queue, "late", T0);
    ts_queue_grant_t none [] = { { "d", 0, 0 } };
    assert_int_equal (ts_queue_lease_many (fx->queue, none, 1, T0, jobs, 10,
                                           NULL), 0);
    assert_int_equal (ts_queue_lease_many (fx->queue, NULL, 0, T0, jobs, 10,
                                           NULL), 0);
    //  A bad owner anywhere: nothing leased.
    ts_queue_grant_t bad [] = { { "ok", 1, 0 }, { "", 1, 0 } };
    assert_int_equal (ts_queue_lease_many (fx->queue, bad, 2, T0, jobs, 10,
                                           NULL), TS_EINVAL);
    assert_int_equal (s_stats (fx, T0).queued, 1);
    for (int i = 0; i < 10; i++)
        ts_job_destroy (&jobs [i]);
}

static void
queue_ack_many_acks_each_known_id_once_in_one_call (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    uint64_t d = s_push1 (fx->queue, "d", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (s_lease (fx, "w", T0), b);
    assert_int_equal (s_lease (fx, "w", T0), c);
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 404", false, 0, T0,
                                     NULL, NULL), 0);
    assert_int_equal (ts_queue_ack (fx->queue, b, NULL, NULL), 0);
    //  a leased, 999 unknown, a again, b acked already, c dead, d queued.
    uint64_t ids [] = { a, 999, a, b, c, d };
    ts_job_t *jobs [6];
    int rcs [6];
    for (int i = 0; i < 6; i++)
        assert_non_null (jobs [i] = ts_job_new ());
    assert_int_equal (ts_queue_ack_many (fx->queue, ids, 6, jobs, rcs, NULL),
                      2);
    int want [] = { 0, TS_ENOTFOUND, TS_ENOTFOUND, TS_ENOTFOUND,
                    TS_ENOTFOUND, 0 };
    for (int i = 0; i < 6; i++)
        assert_int_equal (rcs [i], want [i]);
    assert_int_equal (jobs [0]->state, TS_JOB_LEASED);
    assert_string_equal (jobs [0]->owner, "w");
    assert_int_equal (jobs [5]->state, TS_JOB_QUEUED);
    assert_true (ts_queue_acked (fx->queue, a));
    assert_true (ts_queue_acked (fx->queue, d));
    assert_false (ts_queue_acked (fx->queue, 999));
    assert_false (ts_queue_acked (fx->queue, c));
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.done, 3);
    assert_int_equal (stats.queued + stats.leased, 0);
    assert_int_equal (stats.dlq, 1);
    //  The ids are free again; without rcs and jobs the count says it all.
    const char *ad [] = { "a", "d" };
    assert_int_equal (ts_queue_push (fx->queue, ad, 2, T0, NULL, NULL), 2);
    uint64_t again [] = { 999, 1000 };
    assert_int_equal (ts_queue_ack_many (fx->queue, again, 2, NULL, NULL,
                                         NULL), 0);
    assert_int_equal (ts_queue_ack_many (fx->queue, NULL, 0, NULL, NULL,
                                         NULL), 0);
    for (int i = 0; i < 6; i++)
        ts_job_destroy (&jobs [i]);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (queue_lease_many_shares_credit_as_single_leases_would),
        T (queue_ack_many_acks_each_known_id_once_in_one_call),
    };
#undef T
    return s_run_per_backend ("queue contract: batch calls", tests,
                              sizeof tests / sizeof tests [0]);
}
