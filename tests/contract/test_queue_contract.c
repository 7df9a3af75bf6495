/*  test_queue_contract - the job life cycle every queue backend keeps
    (broker/queue/ts_queue.h over ts_queue_backend.h), run against each
    backend of ts_queue_fixture.h: FIFO leases, dedup, acks, retries with
    backoff and jitter, the dead-letter queue (max receives, not worth
    retrying, retention, redrive, purge), lease expiry and lost owners,
    stats and argument checks. The batch calls (ts_queue_lease_many,
    ts_queue_ack_many) are in test_queue_contract_batch.c, filtered
    leases in test_queue_contract_filter.c, restarts and clock steps in
    test_queue_contract_restart.c; one backend's internals in tests/unit
    (test_ts_queue.c for LMDB). */

#include "ts_queue_fixture.h"
static void
queue_leases_jobs_in_fifo_order (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    uint64_t c = s_push1 (fx->queue, "c", T0 + 1);
    assert_true (a < b && b < c);
    assert_int_equal (s_lease (fx, "w1", T0 + 2), a);
    assert_string_equal (fx->job->ids->items [0], "a");
    assert_int_equal (fx->job->state, TS_JOB_LEASED);
    assert_int_equal (fx->job->receives, 1);
    assert_int_equal (fx->job->deadline_ms, T0 + 2 + VISIBILITY);
    assert_string_equal (fx->job->owner, "w1");
    assert_int_equal (s_lease (fx, "w2", T0 + 2), b);
    assert_int_equal (s_lease (fx, "w1", T0 + 2), c);
    assert_int_equal (ts_queue_lease (fx->queue, "w1", T0 + 2, fx->job, NULL),
                      TS_ENOTFOUND);
}

static void
queue_push_skips_ids_queued_or_leased_but_not_dead (void **state)
{
    fixture_t *fx = *state;
    const char *ids [] = { "a", "b", "a" };
    uint64_t job_id;
    assert_int_equal (ts_queue_push (fx->queue, ids, 3, T0, &job_id, NULL), 2);
    assert_int_equal (ts_queue_lookup (fx->queue, job_id, fx->job, NULL), 0);
    assert_int_equal (fx->job->ids->n, 2);
    //  Queued: nothing new.
    assert_int_equal (ts_queue_push (fx->queue, ids, 2, T0, &job_id, NULL), 0);
    assert_int_equal (job_id, 0);
    //  Leased: still nothing new; only "c" is queued.
    uint64_t ab = s_lease (fx, "w", T0);
    const char *more [] = { "b", "c" };
    assert_int_equal (ts_queue_push (fx->queue, more, 2, T0, &job_id, NULL),
                      1);
    //  Dead: the ids can be queued again.
    assert_int_equal (ts_queue_nack (fx->queue, ab, "HTTP 404", false, 0, T0,
                                     fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_int_equal (ts_queue_push (fx->queue, ids, 3, T0, &job_id, NULL), 2);
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.dlq, 1);
}

static void
queue_push_many_queues_runs_of_ids_in_one_batch (void **state)
{
    fixture_t *fx = *state;
    //  Runs of two: {a, b}, {c, a}, {d, e}, {b}. The second run's "a" and
    //  the last run's "b" are held by the first run's job: the second job
    //  holds "c" alone, the last run queues nothing.
    const char *ids [] = { "a", "b", "c", "a", "d", "e", "b" };
    uint64_t jobs [4] = { 9, 9, 9, 9 };
    ts_queue_attrs_t attrs = { .rid = "r-1", .source = "s" };
    assert_int_equal (ts_queue_push_many (fx->queue, ids, 7, 2, &attrs, T0,
                                          jobs, NULL), 3);
    assert_true (jobs [0] && jobs [1] && jobs [2]);
    assert_int_equal (jobs [3], 0);             //  "b" already queued
    assert_int_equal (ts_queue_lookup (fx->queue, jobs [1], fx->job, NULL), 0);
    assert_int_equal (fx->job->ids->n, 1);
    assert_string_equal (fx->job->ids->items [0], "c");
    assert_string_equal (fx->job->rid, "r-1");
    assert_string_equal (fx->job->source, "s");
    //  Leased in the order of the runs.
    assert_int_equal (s_lease (fx, "w", T0), jobs [0]);
    assert_int_equal (s_lease (fx, "w", T0), jobs [1]);
    assert_int_equal (s_lease (fx, "w", T0), jobs [2]);
    //  Again: every id is held, nothing queued; job_ids may be NULL.
    assert_int_equal (ts_queue_push_many (fx->queue, ids, 7, 3, NULL, T0,
                                          NULL, NULL), 0);
    //  All or nothing: a bad id anywhere queues none of the others.
    const char *bad [] = { "f", "g", "no spaces" };
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_queue_push_many (fx->queue, bad, 3, 1, NULL, T0,
                                          jobs, err), TS_EINVAL);
    assert_true (*err);
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.queued, 0);
    assert_int_equal (stats.leased, 3);
}

//  Pushes id alone with the window [from, to] (both 0: the default);
//  returns how many ids the job took.
static int
s_push_window (fixture_t *fx, const char *id, int64_t from, int64_t to,
               uint64_t *job_id)
{
    const char *ids [] = { id };
    ts_queue_attrs_t attrs = { .from_ms = from, .to_ms = to };
    return ts_queue_push_attrs (fx->queue, ids, 1, &attrs, T0, job_id, NULL);
}

static void
queue_dedups_by_id_and_window (void **state)
{
    fixture_t *fx = *state;
    uint64_t day1, day2, again, plain, hydrate;
    //  Two chunks of one id: both queued.
    assert_int_equal (s_push_window (fx, "a", 1000, 2000, &day1), 1);
    assert_int_equal (s_push_window (fx, "a", 2000, 3000, &day2), 1);
    assert_true (day1 && day2 && day1 != day2);
    //  The same chunk again: deduplicated.
    assert_int_equal (s_push_window (fx, "a", 1000, 2000, &again), 0);
    assert_int_equal (again, 0);
    //  A scheduled fetch and a hydrate (default window): one job, beside
    //  the chunks.
    assert_int_equal (s_push_window (fx, "a", 0, 0, &plain), 1);
    assert_int_equal (s_push_window (fx, "a", 0, 0, &hydrate), 0);
    uint64_t holder = 9;
    const char *ids [] = { "a" };
    assert_int_equal (ts_queue_holders (fx->queue, ids, 1, &holder, NULL), 0);
    assert_int_equal (holder, plain);
    //  The default window's job is leased first, then the chunks,
    //  oldest first.
    assert_int_equal (s_lease (fx, "w", T0), plain);
    //  Leased still holds its window; acked or dead no longer does.
    assert_int_equal (s_lease (fx, "w", T0), day1);
    assert_int_equal (s_push_window (fx, "a", 1000, 2000, &again), 0);
    assert_int_equal (ts_queue_ack (fx->queue, day1, fx->job, NULL), 0);
    assert_true (fx->job->from_ms == 1000 && fx->job->to_ms == 2000);
    assert_int_equal (s_push_window (fx, "a", 1000, 2000, &again), 1);
    assert_int_equal (s_lease (fx, "w", T0), day2);
    assert_int_equal (ts_queue_nack (fx->queue, day2, "HTTP 404", false, 0,
                                     T0, NULL, NULL), 0);
    assert_int_equal (s_push_window (fx, "a", 2000, 3000, &again), 1);
    //  The window job's ack is no fetch of the present.
    int64_t last = -1;
    assert_int_equal (ts_queue_last_fetch (fx->queue, ids, 1, &last, NULL),
                      0);
    assert_int_equal (last, 0);
    //  A window that is not one is refused.
    assert_int_equal (s_push_window (fx, "a", 3000, 3000, &again), TS_EINVAL);
}

static void
queue_leases_window_jobs_after_visible_default_window_jobs (void **state)
{
    fixture_t *fx = *state;
    uint64_t chunk, older, tick;
    assert_int_equal (s_push_window (fx, "a", 1000, 2000, &chunk), 1);
    //  Queued later (and a retry visible earlier) still goes first.
    const char *ids [] = { "b" };
    assert_int_equal (ts_queue_push (fx->queue, ids, 1, T0 + 5, &tick, NULL),
                      1);
    assert_int_equal (s_push_window (fx, "c", 1000, 2000, &older), 1);
    //  Before tick is visible the chunk goes; after, tick first.
    ts_queue_stats_t stats = s_stats (fx, T0 + 5);
    assert_int_equal (stats.queued, 3);
    assert_int_equal (s_lease (fx, "w", T0 + 5), tick);
    assert_int_equal (s_lease (fx, "w", T0 + 5), chunk);
    assert_int_equal (s_lease (fx, "w", T0 + 5), older);
    assert_int_equal (ts_queue_lease (fx->queue, "w", T0 + 5, fx->job, NULL),
                      TS_ENOTFOUND);
    //  A chunk that failed waits its backoff in its own lane, and counts
    //  as delayed.
    assert_int_equal (ts_queue_nack (fx->queue, chunk, "HTTP 500", true,
                                     60000, T0 + 5, NULL, NULL), 0);
    stats = s_stats (fx, T0 + 5);
    assert_int_equal (stats.delayed, 1);
    assert_int_equal (stats.queued, 0);
    assert_int_equal (ts_queue_lease (fx->queue, "w", T0 + 6, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (s_lease (fx, "w", T0 + 60005), chunk);
}

static void
queue_holders_name_the_live_job_of_each_id (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ab [] = { "a", "b" };
    uint64_t first;
    assert_int_equal (ts_queue_push (fx->queue, ab, 2, T0, &first, NULL), 2);
    //  "b" is skipped for the first job, "c" goes into a new one.
    const char *bc [] = { "b", "c", "-old" };
    uint64_t second;
    assert_int_equal (ts_queue_push (fx->queue, bc, 3, T0, &second, NULL),
                      2);
    const char *ids [] = { "a", "b", "c", "-old", "never" };
    uint64_t jobs [5] = { 9, 9, 9, 9, 9 };
    assert_int_equal (ts_queue_holders (fx->queue, ids, 5, jobs, err), 0);
    assert_int_equal (jobs [0], first);
    assert_int_equal (jobs [1], first);
    assert_int_equal (jobs [2], second);
    assert_int_equal (jobs [3], second);
    assert_int_equal (jobs [4], 0);
    //  Leased still holds; dead and acked do not.
    assert_int_equal (s_lease (fx, "w", T0), first);
    assert_int_equal (ts_queue_holders (fx->queue, ids, 1, jobs, err), 0);
    assert_int_equal (jobs [0], first);
    assert_int_equal (ts_queue_nack (fx->queue, first, "HTTP 404", false, 0,
                                     T0, NULL, NULL), 0);
    assert_int_equal (ts_queue_ack (fx->queue, second, NULL, NULL), 0);
    assert_int_equal (ts_queue_holders (fx->queue, ids, 4, jobs, err), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal (jobs [i], 0);
    const char *bad [] = { "a b" };
    assert_int_equal (ts_queue_holders (fx->queue, bad, 1, jobs, err),
                      TS_EINVAL);
}

static void
queue_remembers_acks_apart_from_dead_jobs_that_left (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    assert_false (ts_queue_acked (fx->queue, a));
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), 0);
    assert_true (ts_queue_acked (fx->queue, a));
    //  b dies and is purged: gone from the queue, but not acked.
    assert_int_equal (s_lease (fx, "w", T0), b);
    assert_int_equal (ts_queue_nack (fx->queue, b, "HTTP 404", false, 0, T0,
                                     NULL, NULL), 0);
    assert_int_equal (ts_queue_dlq_purge (fx->queue, NULL), 1);
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_false (ts_queue_acked (fx->queue, b));
    assert_false (ts_queue_acked (fx->queue, 0));
    assert_false (ts_queue_acked (fx->queue, a + TS_QUEUE_ACKED_MEMORY));
    //  A failed ack remembers nothing; the memory ends with the handle.
    assert_int_equal (ts_queue_ack (fx->queue, 999, NULL, NULL),
                      TS_ENOTFOUND);
    assert_false (ts_queue_acked (fx->queue, 999));
    s_reopen (fx, T0);
    assert_false (ts_queue_acked (fx->queue, a));
}

static void
queue_ack_forgets_the_job_and_frees_its_ids (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (ts_queue_ack (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->id, a);
    assert_string_equal (fx->job->owner, "w");
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), TS_ENOTFOUND);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (ts_queue_ack (fx->queue, 999, NULL, NULL), TS_ENOTFOUND);
    uint64_t again = s_push1 (fx->queue, "a", T0);
    assert_true (again > a);
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.done, 1);
    assert_int_equal (stats.queued, 1);
    assert_int_equal (stats.leased, 0);
}

static void
queue_ack_works_from_any_owner_and_for_queued_jobs (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    assert_int_equal (s_lease (fx, "old-worker", T0), a);
    //  Acks carry no owner: whoever reports it, it is done.
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), 0);
    //  A queued job (e.g. requeued after a restart) can be acked too.
    assert_int_equal (ts_queue_ack (fx->queue, b, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_QUEUED);
    assert_int_equal (ts_queue_lease (fx->queue, "w", T0, NULL, NULL),
                      TS_ENOTFOUND);
    //  A dead job stays dead.
    uint64_t c = s_push1 (fx->queue, "c", T0);
    s_lease (fx, "w", T0);
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 400", false, 0, T0,
                                     NULL, NULL), 0);
    assert_int_equal (ts_queue_ack (fx->queue, c, NULL, NULL), TS_ENOTFOUND);
    assert_int_equal (s_stats (fx, T0).dlq, 1);
}

static void
queue_nack_retries_after_a_jittered_exponential_backoff (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    s_config (fx, 6, NULL);
    s_open (fx, T0);
    //  Several jobs, so that the jitter draws several values. The clock
    //  only goes forward (a step back moves the queue's times).
    int64_t now = T0;
    for (int round = 0; round < 20; round++) {
        char id [16];
        snprintf (id, sizeof id, "id%d", round);
        uint64_t job_id = s_push1 (fx->queue, id, now);
        for (uint32_t receive = 1; receive <= 5; receive++) {
            assert_int_equal (s_lease (fx, "w", now), job_id);
            assert_int_equal (fx->job->receives, receive);
            assert_int_equal (ts_queue_nack (fx->queue, job_id, "HTTP 503",
                                             true, 0, now, fx->job, NULL), 0);
            assert_int_equal (fx->job->state, TS_JOB_QUEUED);
            assert_string_equal (fx->job->error, "HTTP 503");
            int64_t backoff = (int64_t) BASE << (receive - 1);
            if (backoff > MAX_DELAY)
                backoff = MAX_DELAY;
            int64_t delay = fx->job->visible_at_ms - now;
            assert_in_range (delay, backoff / 2, backoff);
            //  Not visible before its time; the queue asks to be woken.
            assert_int_equal (ts_queue_next_wakeup (fx->queue, now),
                              fx->job->visible_at_ms);
            ts_queue_stats_t stats = s_stats (fx, now);
            assert_int_equal (stats.delayed, 1);
            assert_int_equal (stats.queued, 0);
            assert_int_equal (ts_queue_lease (fx->queue, "w",
                                              fx->job->visible_at_ms - 1,
                                              NULL, NULL), TS_ENOTFOUND);
            now = fx->job->visible_at_ms;
        }
        assert_int_equal (s_lease (fx, "w", now), job_id);
        assert_int_equal (ts_queue_ack (fx->queue, job_id, NULL, NULL), 0);
    }
    ts_queue_stats_t stats = s_stats (fx, now);
    assert_int_equal (stats.retried, 100);
    assert_int_equal (stats.failed, 100);
    assert_int_equal (stats.done, 20);
}

static void
queue_nack_honours_a_longer_retry_after (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    s_lease (fx, "w", T0);
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 429", true, 30000,
                                     T0, fx->job, NULL), 0);
    assert_int_equal (fx->job->visible_at_ms, T0 + 30000);
    //  A shorter Retry-After than the backoff: the backoff wins.
    s_lease (fx, "w", T0 + 30000);
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 429", true, 1,
                                     T0 + 30000, fx->job, NULL), 0);
    assert_in_range (fx->job->visible_at_ms - (T0 + 30000), BASE, 2 * BASE);
    //  An absurd one is capped.
    s_lease (fx, "w", fx->job->visible_at_ms);
    assert_int_equal (fx->job->receives, 3);
    ts_queue_destroy (&fx->queue);
    s_config (fx, 10, NULL);
    s_open (fx, T0);
    int64_t now = T0 + 100000;
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 429", true,
                                     INT64_C (1) << 50, now, fx->job, NULL),
                      0);
    assert_int_equal (fx->job->visible_at_ms,
                      now + TS_QUEUE_RETRY_AFTER_MAX_MS);
}

static void
queue_nack_of_a_non_retryable_failure_dead_letters_at_once (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    s_lease (fx, "w", T0);
    assert_int_equal (ts_queue_nack (fx->queue, a, "upstream HTTP 404", false,
                                     0, T0 + 5, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_int_equal (fx->job->receives, 1);
    assert_int_equal (fx->job->dead_at_ms, T0 + 5);
    assert_string_equal (fx->job->error, "upstream HTTP 404");
    assert_int_equal (ts_queue_nack (fx->queue, a, "again", true, 0, T0,
                                     NULL, NULL), TS_ENOTFOUND);
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.dlq, 1);
    assert_int_equal (stats.dead_lettered, 1);
    assert_int_equal (stats.failed, 1);
    assert_int_equal (stats.retried, 0);
    assert_int_equal (stats.oldest_age_ms, 0);
}

static void
queue_dead_letters_after_max_receives_with_error_and_receives (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    int64_t now = T0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_lease (fx, "w", now), a);
        assert_int_equal (ts_queue_nack (fx->queue, a, i < 2? "timeout":
                                         "id=a: invalid document", true, 0,
                                         now, fx->job, NULL), 0);
        now = fx->job->visible_at_ms;
    }
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_int_equal (fx->job->receives, 3);
    assert_string_equal (fx->job->error, "id=a: invalid document");
    assert_int_equal (ts_queue_next_wakeup (fx->queue, now), -1);
    assert_int_equal (ts_queue_lease (fx->queue, "w", now + 100000, NULL,
                                      NULL), TS_ENOTFOUND);
}

static void
queue_expired_lease_is_visible_at_once (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    s_lease (fx, "w", T0);
    s_lease (fx, "w", T0 + 500);
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0 + 500),
                      T0 + VISIBILITY);
    size_t purged = 99;
    assert_int_equal (ts_queue_expire (fx->queue, T0 + VISIBILITY - 1, NULL,
                                       NULL, &purged, NULL), 0);
    assert_int_equal (purged, 0);
    assert_int_equal (ts_queue_expire (fx->queue, T0 + VISIBILITY, NULL, NULL,
                                       NULL, NULL), 1);
    ts_queue_stats_t stats = s_stats (fx, T0 + VISIBILITY);
    assert_int_equal (stats.queued, 1);
    assert_int_equal (stats.leased, 1);
    assert_int_equal (stats.retried, 1);
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0 + VISIBILITY),
                      T0 + 500 + VISIBILITY);
    assert_int_equal (s_lease (fx, "w2", T0 + VISIBILITY), a);
    assert_int_equal (fx->job->receives, 2);
    assert_string_equal (fx->job->error, "visibility timeout expired");
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_string_equal (fx->job->owner, "w");
}

static void
s_collect_report (const ts_job_t *job, void *arg)
{
    ts_strlist_t *seen = arg;
    char line [320];
    snprintf (line, sizeof line, "%s:%d:%s", job->ids->items [0],
              (int) job->state, job->error);
    assert_int_equal (ts_strlist_append (seen, line), 0);
}

static void
queue_expired_lease_at_max_receives_is_dead_lettered (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    int64_t now = T0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_lease (fx, "w", now), a);
        now += VISIBILITY;
        ts_strlist_t *seen = ts_strlist_new ();
        assert_int_equal (ts_queue_expire (fx->queue, now, s_collect_report,
                                           seen, NULL, NULL), 1);
        assert_int_equal (seen->n, 1);
        char want [64];
        snprintf (want, sizeof want, "a:%d:visibility timeout expired",
                  i < 2? TS_JOB_QUEUED: TS_JOB_DEAD);
        assert_string_equal (seen->items [0], want);
        ts_strlist_destroy (&seen);
    }
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_int_equal (fx->job->receives, 3);
}

static void
queue_release_owner_requeues_only_its_leases (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    s_lease (fx, "dead", T0);
    s_lease (fx, "alive", T0);
    s_lease (fx, "dead", T0);
    ts_strlist_t *seen = ts_strlist_new ();
    assert_int_equal (ts_queue_release_owner (fx->queue, "dead", T0 + 10,
                                              s_collect_report, seen, NULL),
                      2);
    assert_int_equal (seen->n, 2);
    ts_strlist_destroy (&seen);
    assert_int_equal (ts_queue_release_owner (fx->queue, "nobody", T0 + 10,
                                              NULL, NULL, NULL), 0);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_QUEUED);
    assert_int_equal (fx->job->visible_at_ms, T0 + 10);
    assert_string_equal (fx->job->error, "worker lost");
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_LEASED);
    assert_int_equal (ts_queue_lookup (fx->queue, c, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_QUEUED);
    ts_queue_stats_t stats = s_stats (fx, T0 + 10);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.leased, 1);
    assert_int_equal (stats.failed, 2);
}

static void
queue_unlease_puts_the_job_back_without_counting_a_receive (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    s_config (fx, 1, NULL);
    s_open (fx, T0);
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (ts_queue_unlease (fx->queue, a, NULL), 0);
    assert_int_equal (ts_queue_unlease (fx->queue, a, NULL), TS_ENOTFOUND);
    //  Back at the head, and with max_receives 1 still leasable.
    assert_int_equal (s_lease (fx, "w", T0 + 1), a);
    assert_int_equal (fx->job->receives, 1);
    assert_int_equal (s_lease (fx, "w", T0 + 1), b);
    assert_int_equal (s_stats (fx, T0).failed, 0);
}

static void
queue_release_hands_back_a_job_of_its_owner_at_once (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    s_config (fx, 1, NULL);
    s_open (fx, T0);
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0 + 1);
    assert_int_equal (s_lease (fx, "w1", T0 + 2), a);
    //  Only its owner hands it back, and only while leased.
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_queue_release (fx->queue, a, "w2", NULL, err),
                      TS_ENOTFOUND);
    assert_non_null (strstr (err, "not leased to w2"));
    assert_int_equal (ts_queue_release (fx->queue, a, "", NULL, NULL),
                      TS_EINVAL);
    assert_int_equal (ts_queue_release (fx->queue, a, "w1", fx->job, NULL),
                      0);
    assert_int_equal (fx->job->state, TS_JOB_QUEUED);
    assert_int_equal (fx->job->receives, 0);
    assert_int_equal (ts_queue_release (fx->queue, a, "w1", NULL, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (ts_queue_release (fx->queue, b, "w1", NULL, NULL),
                      TS_ENOTFOUND);
    //  Visible at once, ahead of b, and with max_receives 1 not dead:
    //  a hand-back is no failure.
    assert_int_equal (s_lease (fx, "w2", T0 + 3), a);
    assert_int_equal (fx->job->receives, 1);
    ts_queue_stats_t stats = s_stats (fx, T0 + 3);
    assert_int_equal (stats.failed, 0);
    assert_int_equal (stats.dlq, 0);
    assert_int_equal (stats.leased, 1);
    assert_int_equal (stats.queued, 1);
}

static int
s_collect_dlq (const ts_job_t *job, void *arg)
{
    ts_strlist_t *seen = arg;
    char line [320];
    snprintf (line, sizeof line, "%s/%u/%s", job->ids->items [0],
              job->receives, job->error);
    return ts_strlist_append (seen, line);
}

//  Pushes id, leases it and nacks it as not retryable at now_ms.
static uint64_t
s_kill (fixture_t *fx, const char *id, int64_t now_ms)
{
    uint64_t job_id = s_push1 (fx->queue, id, now_ms);
    assert_int_equal (s_lease (fx, "w", now_ms), job_id);
    char error [64];
    snprintf (error, sizeof error, "id=%s: HTTP 400", id);
    assert_int_equal (ts_queue_nack (fx->queue, job_id, error, false, 0,
                                     now_ms, NULL, NULL), 0);
    return job_id;
}

static void
queue_dlq_lists_redrives_by_id_and_all_and_purges (void **state)
{
    fixture_t *fx = *state;
    s_kill (fx, "x", T0 + 2);
    s_kill (fx, "y", T0 + 1);
    s_kill (fx, "z", T0 + 3);
    ts_strlist_t *seen = ts_strlist_new ();
    assert_int_equal (ts_queue_dlq_each (fx->queue, s_collect_dlq, seen,
                                         NULL), 0);
    assert_int_equal (seen->n, 3);
    assert_string_equal (seen->items [0], "y/1/id=y: HTTP 400");
    assert_string_equal (seen->items [1], "x/1/id=x: HTTP 400");
    assert_string_equal (seen->items [2], "z/1/id=z: HTTP 400");
    ts_strlist_destroy (&seen);

    //  By id: a new job with receives reset; unknown ids match nothing.
    const char *ids [] = { "x", "nope" };
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, ids, 2, T0 + 10,
                                            NULL), 1);
    assert_int_equal (s_stats (fx, T0 + 10).dlq, 2);
    assert_int_equal (s_lease (fx, "w", T0 + 10) > 3, true);
    assert_string_equal (fx->job->ids->items [0], "x");
    assert_int_equal (fx->job->receives, 1);
    assert_int_equal (fx->job->enqueued_at_ms, T0 + 10);

    //  All: y is queued again already, so its entry is just dropped.
    s_push1 (fx->queue, "y", T0 + 10);
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, NULL, 0, T0 + 20,
                                            NULL), 1);
    ts_queue_stats_t stats = s_stats (fx, T0 + 20);
    assert_int_equal (stats.dlq, 0);
    assert_int_equal (stats.queued, 2);

    //  Purge (after the queue is drained, so s_kill leases its own job).
    while (ts_queue_lease (fx->queue, "w", T0 + 30, fx->job, NULL) == 0)
        assert_int_equal (ts_queue_ack (fx->queue, fx->job->id, NULL, NULL),
                          0);
    s_kill (fx, "p", T0 + 30);
    s_kill (fx, "q", T0 + 30);
    assert_int_equal (ts_queue_dlq_purge (fx->queue, NULL), 2);
    assert_int_equal (ts_queue_dlq_purge (fx->queue, NULL), 0);
    assert_int_equal (s_stats (fx, T0 + 30).dlq, 0);
    const char *bad [] = { "bad id" };
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, bad, 1, T0, NULL),
                      TS_EINVAL);
}

static void
queue_dlq_redrives_jobs_by_number (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_kill (fx, "a", T0 + 1);
    uint64_t b = s_kill (fx, "b", T0 + 2);
    uint64_t live = s_push1 (fx->queue, "c", T0 + 3);
    //  b alone; a live job, an unknown one and b again are passed over.
    uint64_t jobs [] = { b, live, 999999, b };
    assert_int_equal (ts_queue_dlq_redrive_jobs (fx->queue, jobs, 4, T0 + 10,
                                                 NULL), 1);
    ts_queue_stats_t stats = s_stats (fx, T0 + 10);
    assert_int_equal (stats.dlq, 1);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    //  The new job of b, with its attributes and receives reset.
    assert_int_equal (s_lease (fx, "w", T0 + 10), live);
    uint64_t again = s_lease (fx, "w", T0 + 10);
    assert_true (again > live);
    assert_string_equal (fx->job->ids->items [0], "b");
    assert_int_equal (fx->job->receives, 1);
    //  An id live again: the entry just leaves the DLQ.
    s_push1 (fx->queue, "a", T0 + 11);
    assert_int_equal (ts_queue_dlq_redrive_jobs (fx->queue, &a, 1, T0 + 12,
                                                 NULL), 0);
    assert_int_equal (s_stats (fx, T0 + 12).dlq, 0);
    assert_int_equal (ts_queue_dlq_redrive_jobs (fx->queue, NULL, 0, T0 + 12,
                                                 NULL), 0);
}

static void
queue_expire_purges_dlq_entries_past_retention (void **state)
{
    fixture_t *fx = *state;
    uint64_t old = s_kill (fx, "old", T0);
    uint64_t young = s_kill (fx, "young", T0 + 1000);
    size_t purged = 0;
    assert_int_equal (ts_queue_expire (fx->queue, T0 + RETENTION - 1, NULL,
                                       NULL, &purged, NULL), 0);
    assert_int_equal (purged, 0);
    assert_int_equal (ts_queue_expire (fx->queue, T0 + RETENTION, NULL, NULL,
                                       &purged, NULL), 0);
    assert_int_equal (purged, 1);
    assert_int_equal (ts_queue_lookup (fx->queue, old, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (ts_queue_lookup (fx->queue, young, fx->job, NULL), 0);
    assert_int_equal (s_stats (fx, T0 + RETENTION).dlq, 1);
}

static void
queue_stats_count_sizes_totals_and_oldest_age (void **state)
{
    fixture_t *fx = *state;
    ts_queue_stats_t stats = s_stats (fx, T0);
    assert_int_equal (stats.queued + stats.delayed + stats.leased + stats.dlq
                      + stats.done + stats.failed, 0);
    assert_int_equal (stats.oldest_age_ms, 0);
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0 + 100);
    s_push1 (fx->queue, "c", T0 + 200);
    s_push1 (fx->queue, "d", T0 + 300);
    s_lease (fx, "w", T0 + 1000);       //  a
    s_lease (fx, "w", T0 + 1000);       //  b
    assert_int_equal (ts_queue_nack (fx->queue, b, "HTTP 500", true, 0,
                                     T0 + 1000, NULL, NULL), 0);
    stats = s_stats (fx, T0 + 1000);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.delayed, 1);
    assert_int_equal (stats.leased, 1);
    assert_int_equal (stats.dlq, 0);
    assert_int_equal (stats.failed, 1);
    assert_int_equal (stats.retried, 1);
    assert_int_equal (stats.oldest_age_ms, 1000);
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), 0);
    stats = s_stats (fx, T0 + 1000);
    assert_int_equal (stats.done, 1);
    assert_int_equal (stats.oldest_age_ms, 900);
}

static void
queue_rejects_bad_arguments (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *bad [] = { "ok", "not ok" };
    assert_int_equal (ts_queue_push (fx->queue, bad, 2, T0, NULL, err),
                      TS_EINVAL);
    assert_string_equal (err, "invalid id 'not ok': use " TS_NAME_RULE);
    assert_int_equal (ts_queue_push (fx->queue, bad, 0, T0, NULL, err),
                      TS_EINVAL);
    assert_int_equal (ts_queue_push (fx->queue, NULL, 1, T0, NULL, err),
                      TS_EINVAL);
    s_push1 (fx->queue, "ok", T0);
    assert_int_equal (ts_queue_lease (fx->queue, "", T0, NULL, err),
                      TS_EINVAL);
    char owner [TS_QUEUE_OWNER_MAX + 2];
    memset (owner, 'o', sizeof owner - 1);
    owner [sizeof owner - 1] = 0;
    assert_int_equal (ts_queue_lease (fx->queue, owner, T0, NULL, err),
                      TS_EINVAL);
    owner [TS_QUEUE_OWNER_MAX] = 0;
    assert_int_equal (ts_queue_lease (fx->queue, owner, T0, fx->job, err), 0);
    assert_string_equal (fx->job->owner, owner);
    assert_int_equal (ts_queue_release_owner (fx->queue, owner, T0, NULL,
                                              NULL, err), 1);
}

//  Pushes id; asserts that it was queued (its dedup entry was free).
static void
s_requeue_ok (fixture_t *fx, const char *id, int64_t now_ms)
{
    const char *ids [] = { id };
    uint64_t job_id = 0;
    if (ts_queue_push (fx->queue, ids, 1, now_ms, &job_id, NULL) != 1)
        fail_msg ("id '%s' cannot be queued again", id);
}

static void
queue_ids_can_be_queued_again_after_every_way_a_job_ends (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    s_config (fx, 1, NULL);
    s_open (fx, T0);
    int64_t now = T0;
    //  Dead after an expired lease, after a lost owner, after a nack.
    uint64_t a = s_push1 (fx->queue, "a", now);
    uint64_t b = s_push1 (fx->queue, "b", now);
    uint64_t c = s_push1 (fx->queue, "c", now);
    s_lease (fx, "w1", now);
    s_lease (fx, "w2", now);
    s_lease (fx, "w3", now);
    assert_int_equal (ts_queue_release_owner (fx->queue, "w2", now, NULL,
                                              NULL, NULL), 1);
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 503", true, 0, now,
                                     NULL, NULL), 0);
    now += VISIBILITY;
    assert_int_equal (ts_queue_expire (fx->queue, now, NULL, NULL, NULL,
                                       NULL), 1);
    assert_int_equal (s_stats (fx, now).dlq, 3);
    s_requeue_ok (fx, "a", now);
    s_requeue_ok (fx, "b", now);
    s_requeue_ok (fx, "c", now);
    //  Acked while queued, acked after a restart.
    assert_int_equal (ts_queue_ack (fx->queue, a + 3, NULL, NULL), 0);
    s_requeue_ok (fx, "a", now);
    s_lease (fx, "w", now);
    s_reopen (fx, now);
    assert_int_equal (ts_queue_ack (fx->queue, b + 3, NULL, NULL), 0);
    s_requeue_ok (fx, "b", now);
    //  Redriven, then done: free again; purged: no entry.
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, NULL, 0, now, NULL),
                      0);                   //  a, b, c are all live
    assert_int_equal (s_stats (fx, now).dlq, 0);
    ts_queue_stats_t stats = s_stats (fx, now);
    for (uint64_t n = 0; n < stats.queued + stats.leased; n++) {
        char err [TS_ERRLEN];
        if (ts_queue_lease (fx->queue, "w", now, fx->job, err) == 0)
            assert_int_equal (ts_queue_nack (fx->queue, fx->job->id, "x",
                                             false, 0, now, NULL, NULL), 0);
    }
    assert_int_equal (s_stats (fx, now).dlq, 3);
    const char *ids [] = { "b" };
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, ids, 1, now, NULL), 1);
    s_lease (fx, "w", now);
    assert_int_equal (ts_queue_ack (fx->queue, fx->job->id, NULL, NULL), 0);
    s_requeue_ok (fx, "b", now);
    assert_int_equal (ts_queue_dlq_purge (fx->queue, NULL), 2);
    s_requeue_ok (fx, "a", now);
    s_requeue_ok (fx, "c", now);
    stats = s_stats (fx, now);
    assert_int_equal (stats.queued, 3);
    assert_int_equal (stats.leased + stats.delayed + stats.dlq, 0);
    (void) a;
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (queue_leases_jobs_in_fifo_order),
        T (queue_push_skips_ids_queued_or_leased_but_not_dead),
        T (queue_push_many_queues_runs_of_ids_in_one_batch),
        T (queue_dedups_by_id_and_window),
        T (queue_leases_window_jobs_after_visible_default_window_jobs),
        T (queue_holders_name_the_live_job_of_each_id),
        T (queue_remembers_acks_apart_from_dead_jobs_that_left),
        T (queue_ack_forgets_the_job_and_frees_its_ids),
        T (queue_ack_works_from_any_owner_and_for_queued_jobs),
        T (queue_nack_retries_after_a_jittered_exponential_backoff),
        T (queue_nack_honours_a_longer_retry_after),
        T (queue_nack_of_a_non_retryable_failure_dead_letters_at_once),
        T (queue_dead_letters_after_max_receives_with_error_and_receives),
        T (queue_expired_lease_is_visible_at_once),
        T (queue_expired_lease_at_max_receives_is_dead_lettered),
        T (queue_release_owner_requeues_only_its_leases),
        T (queue_unlease_puts_the_job_back_without_counting_a_receive),
        T (queue_release_hands_back_a_job_of_its_owner_at_once),
        T (queue_dlq_lists_redrives_by_id_and_all_and_purges),
        T (queue_dlq_redrives_jobs_by_number),
        T (queue_expire_purges_dlq_entries_past_retention),
        T (queue_stats_count_sizes_totals_and_oldest_age),
        T (queue_rejects_bad_arguments),
        T (queue_ids_can_be_queued_again_after_every_way_a_job_ends),
    };
#undef T
    return s_run_per_backend ("queue contract", tests,
                              sizeof tests / sizeof tests [0]);
}
