/*  test_ts_queue - the broker's job queue: dedup, FIFO, leases, attempts. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ts_log.h"
#include "../../broker/ts_queue.h"

static uint64_t
s_push1 (ts_queue_t *queue, const char *id, int64_t now)
{
    const char *ids [] = { id };
    uint64_t job_id = 0;
    assert_int_equal (ts_queue_push (queue, ids, 1, now, &job_id), 1);
    return job_id;
}

static void
queue_leases_jobs_in_fifo_order (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    assert_non_null (queue);
    uint64_t a = s_push1 (queue, "a", 0);
    uint64_t b = s_push1 (queue, "b", 0);
    uint64_t c = s_push1 (queue, "c", 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w1", 0, &job), 0);
    assert_int_equal (job->id, a);
    assert_string_equal (job->ids->items [0], "a");
    assert_string_equal (job->owner, "w1");
    assert_int_equal (job->attempts, 1);
    assert_int_equal (job->deadline_ms, 1000);
    assert_int_equal (ts_queue_lease (queue, "w2", 0, &job), 0);
    assert_int_equal (job->id, b);
    assert_int_equal (ts_queue_lease (queue, "w1", 0, &job), 0);
    assert_int_equal (job->id, c);
    assert_int_equal (ts_queue_lease (queue, "w1", 0, &job), TS_ENOTFOUND);
    ts_queue_destroy (&queue);
    assert_null (queue);
}

static void
queue_push_skips_ids_already_queued_or_leased (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    const char *ids [] = { "a", "b", "a" };
    uint64_t job_id;
    assert_int_equal (ts_queue_push (queue, ids, 3, 0, &job_id), 2);
    assert_int_equal (job_id, 1);
    //  All queued already: nothing new.
    assert_int_equal (ts_queue_push (queue, ids, 2, 0, &job_id), 0);
    assert_int_equal (job_id, 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (job->ids->n, 2);
    //  Leased: still deduplicated; a new id is queued alone.
    const char *more [] = { "b", "c" };
    assert_int_equal (ts_queue_push (queue, more, 2, 0, &job_id), 1);
    assert_int_equal (job_id, 2);
    //  Once done, the ids can be queued again.
    assert_int_equal (ts_queue_ack (queue, 1), 0);
    assert_int_equal (ts_queue_push (queue, ids, 3, 0, NULL), 2);
    ts_queue_stats_t stats;
    ts_queue_stats (queue, &stats);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.leased, 0);
    assert_int_equal (stats.done, 1);
    ts_queue_destroy (&queue);
}

static void
queue_requeues_leases_past_their_deadline (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    s_push1 (queue, "b", 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (ts_queue_lease (queue, "w", 500, &job), 0);
    assert_int_equal (ts_queue_next_deadline (queue), 1000);
    assert_int_equal (ts_queue_expire (queue, 999), 0);
    assert_int_equal (ts_queue_expire (queue, 1000), 1);
    ts_queue_stats_t stats;
    ts_queue_stats (queue, &stats);
    assert_int_equal (stats.queued, 1);
    assert_int_equal (stats.leased, 1);
    assert_int_equal (stats.failed, 1);
    assert_int_equal (ts_queue_next_deadline (queue), 1500);
    //  The expired job is leased again, its second attempt.
    assert_int_equal (ts_queue_lease (queue, "w2", 1000, &job), 0);
    assert_int_equal (job->id, a);
    assert_int_equal (job->attempts, 2);
    //  A late report from the first owner is an unknown lease for it, but
    //  the job itself is leased again; the broker checks owners.
    assert_string_equal (ts_queue_lookup (queue, a)->owner, "w2");
    ts_queue_destroy (&queue);
}

static void
queue_drops_job_after_max_attempts (void **state)
{
    ts_log_set_level (-1);         //  the drop is logged as an error
    ts_queue_t *queue = ts_queue_new (3, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    const ts_job_t *job;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
        assert_int_equal (job->attempts, i);
        assert_int_equal (ts_queue_nack (queue, a, "upstream HTTP 503", 0), 0);
    }
    assert_null (ts_queue_lookup (queue, a));
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), TS_ENOTFOUND);
    ts_queue_stats_t stats;
    ts_queue_stats (queue, &stats);
    assert_int_equal (stats.failed, 3);
    assert_int_equal (stats.dropped, 1);
    assert_int_equal (stats.queued + stats.leased, 0);
    //  Dropped ids can be queued again.
    s_push1 (queue, "a", 0);
    ts_queue_destroy (&queue);
    ts_log_set_level (TS_LOG_INFO);
}

static void
queue_nack_requeues_at_the_tail (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    uint64_t b = s_push1 (queue, "b", 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (ts_queue_nack (queue, a, NULL, 0), 0);
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (job->id, b);
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (job->id, a);
    ts_queue_destroy (&queue);
}

static void
queue_release_owner_requeues_only_its_leases (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    uint64_t b = s_push1 (queue, "b", 0);
    uint64_t c = s_push1 (queue, "c", 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "dead", 0, &job), 0);
    assert_int_equal (ts_queue_lease (queue, "alive", 0, &job), 0);
    assert_int_equal (ts_queue_lease (queue, "dead", 0, &job), 0);
    assert_int_equal (ts_queue_release_owner (queue, "dead", 10), 2);
    assert_int_equal (ts_queue_release_owner (queue, "nobody", 10), 0);
    assert_null (ts_queue_lookup (queue, a)->owner);
    assert_string_equal (ts_queue_lookup (queue, b)->owner, "alive");
    assert_null (ts_queue_lookup (queue, c)->owner);
    ts_queue_stats_t stats;
    ts_queue_stats (queue, &stats);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.leased, 1);
    ts_queue_destroy (&queue);
}

static void
queue_unlease_puts_job_back_first_without_an_attempt (void **state)
{
    ts_queue_t *queue = ts_queue_new (1, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    s_push1 (queue, "b", 0);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (ts_queue_unlease (queue, a), 0);
    assert_int_equal (ts_queue_unlease (queue, a), TS_ENOTFOUND);
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (job->id, a);
    assert_int_equal (job->attempts, 1);
    ts_queue_destroy (&queue);
}

static void
queue_ack_of_unknown_job_is_harmless (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    uint64_t a = s_push1 (queue, "a", 0);
    assert_int_equal (ts_queue_ack (queue, 999), TS_ENOTFOUND);
    assert_int_equal (ts_queue_nack (queue, 999, "x", 0), TS_ENOTFOUND);
    //  Queued but not leased: not ackable either.
    assert_int_equal (ts_queue_ack (queue, a), TS_ENOTFOUND);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    assert_int_equal (ts_queue_ack (queue, a), 0);
    assert_int_equal (ts_queue_ack (queue, a), TS_ENOTFOUND);
    ts_queue_stats_t stats;
    ts_queue_stats (queue, &stats);
    assert_int_equal (stats.done, 1);
    assert_int_equal (stats.queued + stats.leased, 0);
    assert_int_equal (ts_queue_next_deadline (queue), -1);
    ts_queue_destroy (&queue);
}

static void
queue_destroy_frees_queued_and_leased_jobs (void **state)
{
    ts_queue_t *queue = ts_queue_new (3, 1000);
    const char *ids [] = { "a", "b", "c" };
    assert_int_equal (ts_queue_push (queue, ids, 2, 0, NULL), 2);
    assert_int_equal (ts_queue_push (queue, ids + 2, 1, 0, NULL), 1);
    const ts_job_t *job;
    assert_int_equal (ts_queue_lease (queue, "w", 0, &job), 0);
    ts_queue_destroy (&queue);
    ts_queue_destroy (&queue);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (queue_leases_jobs_in_fifo_order),
        cmocka_unit_test (queue_push_skips_ids_already_queued_or_leased),
        cmocka_unit_test (queue_requeues_leases_past_their_deadline),
        cmocka_unit_test (queue_drops_job_after_max_attempts),
        cmocka_unit_test (queue_nack_requeues_at_the_tail),
        cmocka_unit_test (queue_release_owner_requeues_only_its_leases),
        cmocka_unit_test (queue_unlease_puts_job_back_first_without_an_attempt),
        cmocka_unit_test (queue_ack_of_unknown_job_is_harmless),
        cmocka_unit_test (queue_destroy_frees_queued_and_leased_jobs),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_queue", tests, NULL, NULL);
}
