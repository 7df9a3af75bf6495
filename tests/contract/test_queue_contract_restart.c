/*  test_queue_contract_restart - what every queue backend keeps across a
    close and a reopen, a SIGKILL and a step of the wall clock: jobs,
    their states, the next job id and the totals of ts_queue_stats survive, leases held before a
    restart end within TS_QUEUE_RESTART_LEASE_MS, a second open of the
    same queue is refused, and stored times move back with a clock that
    stepped back. Run against each backend of ts_queue_fixture.h. */

#include "ts_queue_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void
queue_reopen_keeps_queued_leased_and_dead_jobs_and_the_next_id (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    uint64_t d = s_push1 (fx->queue, "d", T0);
    s_lease (fx, "w", T0);                          //  a: ends T0 + 10 s
    s_lease (fx, "w", T0);                          //  b: too
    s_lease (fx, "w", T0);                          //  c: dead
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 404", false, 0, T0,
                                     NULL, NULL), 0);
    //  Restart 1 s later: the leases are kept (far ones are shortened, see
    //  queue_reopen_ends_far_leases_within_ten_seconds).
    int64_t now = T0 + 1000;
    s_reopen (fx, now);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_LEASED);
    assert_int_equal (fx->job->deadline_ms, T0 + VISIBILITY);
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_int_equal (fx->job->deadline_ms, T0 + VISIBILITY);
    assert_int_equal (ts_queue_lookup (fx->queue, c, fx->job, NULL), 0);
    assert_int_equal (fx->job->state, TS_JOB_DEAD);
    assert_string_equal (fx->job->error, "HTTP 404");
    assert_int_equal (s_lease (fx, "w", now), d);
    assert_true (s_push1 (fx->queue, "e", now) > d);
    //  A worker that outlived the broker acks its job.
    assert_int_equal (ts_queue_ack (fx->queue, b, NULL, NULL), 0);
    //  Sizes and totals come from the file.
    ts_queue_stats_t stats = s_stats (fx, now);
    assert_int_equal (stats.done, 1);
    assert_int_equal (stats.failed, 1);
    assert_int_equal (stats.dead_lettered, 1);
    assert_int_equal (stats.leased, 2);
    assert_int_equal (stats.queued, 1);
    assert_int_equal (stats.dlq, 1);
}

static void
queue_keeps_a_jobs_source_and_window_through_retry_redrive_and_reopen (
    void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a" }, *more [] = { "b" }, *plain [] = { "c" };
    ts_queue_attrs_t attrs = { "req-1", "prices", T0 - 86400000, T0,
                               false };
    uint64_t a, b, c;
    assert_int_equal (ts_queue_push_attrs (fx->queue, ids, 1, &attrs, T0, &a,
                                           err), 1);
    //  Leased, failed with retry (before the others are queued: a job
    //  with a window of its own is leased after those without one).
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 500", true, 0, T0,
                                     NULL, NULL), 0);
    //  A source without a rid, and a job with neither.
    ts_queue_attrs_t source_only = { .source = "weather" };
    assert_int_equal (ts_queue_push_attrs (fx->queue, more, 1, &source_only,
                                           T0, &b, err), 1);
    assert_int_equal (ts_queue_push_attrs (fx->queue, plain, 1, NULL, T0, &c,
                                           err), 1);
    //  Leased again after a reopen: the same attributes.
    s_reopen (fx, T0 + 1000);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_string_equal (fx->job->rid, "req-1");
    assert_string_equal (fx->job->source, "prices");
    assert_int_equal (fx->job->from_ms, T0 - 86400000);
    assert_int_equal (fx->job->to_ms, T0);
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_string_equal (fx->job->rid, "");
    assert_string_equal (fx->job->source, "weather");
    assert_int_equal (fx->job->from_ms, 0);
    assert_int_equal (ts_queue_lookup (fx->queue, c, fx->job, NULL), 0);
    assert_string_equal (fx->job->source, "");
    assert_int_equal (fx->job->to_ms, 0);
    //  Dead-lettered and redriven: a new job with the same attributes.
    //  (b and c were visible first.)
    int64_t later = T0 + 3600000;
    assert_int_equal (s_lease (fx, "w", later), b);
    assert_int_equal (s_lease (fx, "w", later), c);
    assert_int_equal (s_lease (fx, "w", later), a);
    assert_string_equal (fx->job->source, "prices");
    assert_int_equal (ts_queue_nack (fx->queue, a, "HTTP 404", false, 0,
                                     later, NULL, NULL), 0);
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, ids, 1, later, NULL),
                      1);
    //  (ts_queue_holders names default-window jobs: lease it instead.)
    uint64_t redriven = s_lease (fx, "w", later);
    assert_true (redriven > c);
    assert_int_equal (ts_queue_lookup (fx->queue, redriven, fx->job, NULL),
                      0);
    assert_string_equal (fx->job->source, "prices");
    assert_int_equal (fx->job->from_ms, T0 - 86400000);
    assert_int_equal (fx->job->to_ms, T0);
    //  Bad attributes are refused, nothing queued.
    const char *d [] = { "d" };
    ts_queue_attrs_t bad [] = {
        { .source = "two words" },
        { .from_ms = T0, .to_ms = T0 },
        { .from_ms = 5 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (ts_queue_push_attrs (fx->queue, d, 1, &bad [i], T0,
                                               NULL, err), TS_EINVAL);
}

static void
queue_reopen_ends_far_leases_within_ten_seconds (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    fx->visibility_s = 120;
    s_config (fx, 3, NULL);
    s_open (fx, T0 - 200000);
    uint64_t a = s_push1 (fx->queue, "a", T0 - 200000);
    uint64_t b = s_push1 (fx->queue, "b", T0 - 200000);
    assert_int_equal (s_lease (fx, "w", T0 - 115000), a);  //  ends T0 + 5 s
    assert_int_equal (s_lease (fx, "w", T0), b);
    s_reopen (fx, T0);
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_int_equal (fx->job->deadline_ms, T0 + TS_QUEUE_RESTART_LEASE_MS);
    assert_int_equal (fx->job->owner [0], 'w');
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->deadline_ms, T0 + 5000);
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0), T0 + 5000);
    assert_int_equal (ts_queue_expire (fx->queue, T0 + 10000, NULL, NULL,
                                       NULL, NULL), 2);
}

static void
queue_keeps_a_job_pushed_by_a_process_killed_right_after (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    int fds [2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds [0]);
        char err [TS_ERRLEN];
        ts_queue_t *queue = ts_queue_new (fx->cfg, T0, err);
        const char *ids [] = { "survivor" };
        if (!queue || ts_queue_push (queue, ids, 1, T0, NULL, err) != 1)
            _exit (1);
        //  No sync, no close: tell the parent, which kills us.
        if (write (fds [1], "p", 1) != 1)
            _exit (1);
        while (true)
            pause ();
    }
    close (fds [1]);
    char byte;
    assert_int_equal (read (fds [0], &byte, 1), 1);
    close (fds [0]);
    assert_int_equal (kill (pid, SIGKILL), 0);
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    s_open (fx, T0);
    assert_int_equal (s_lease (fx, "w", T0), 1);
    assert_string_equal (fx->job->ids->items [0], "survivor");
    //  The dedup entry survived too.
    const char *ids [] = { "survivor" };
    assert_int_equal (ts_queue_push (fx->queue, ids, 1, T0, NULL, NULL), 0);
}

static void
queue_refuses_a_second_open_of_the_same_directory (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    assert_null (ts_queue_new (fx->cfg, T0, err));
    assert_non_null (strstr (err, "in use"));
}

static void
queue_keeps_jobs_visible_and_delays_short_when_the_clock_goes_back (
    void **state)
{
    fixture_t *fx = *state;
    const int64_t back = T0 - 3600000;          //  the clock steps 1 h back
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    uint64_t d = s_push1 (fx->queue, "d", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (s_lease (fx, "w", T0), b);
    assert_int_equal (s_lease (fx, "w", T0), c);
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 404", false, 0, T0,
                                     NULL, NULL), 0);
    assert_int_equal (ts_queue_nack (fx->queue, b, "HTTP 503", true, 0, T0,
                                     fx->job, NULL), 0);
    int64_t delay = fx->job->visible_at_ms - T0;
    assert_true (delay >= BASE / 2 && delay <= BASE);
    //  The job queued before the step is still visible at once.
    assert_int_equal (s_lease (fx, "w", back), d);
    //  The retry waits its delay, not the hour the clock went back.
    assert_int_equal (ts_queue_next_wakeup (fx->queue, back), back + delay);
    assert_int_equal (ts_queue_lease (fx->queue, "w", back + delay - 1,
                                      NULL, NULL), TS_ENOTFOUND);
    assert_int_equal (s_lease (fx, "w", back + delay), b);
    //  The lease held across the step keeps its length.
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->deadline_ms, back + VISIBILITY);
    assert_int_equal (ts_queue_expire (fx->queue, back + VISIBILITY, NULL,
                                       NULL, NULL, NULL), 2);
    ts_queue_stats_t stats = s_stats (fx, back + VISIBILITY);
    assert_int_equal (stats.queued, 2);
    assert_int_equal (stats.oldest_age_ms, VISIBILITY);
    //  Every time moved, the DLQ's too: a restart on the new clock finds
    //  nothing ahead of it and moves nothing a second time.
    s_reopen (fx, back + VISIBILITY);
    assert_int_equal (ts_queue_lookup (fx->queue, c, fx->job, NULL), 0);
    assert_int_equal (fx->job->dead_at_ms, back);
    assert_int_equal (ts_queue_lookup (fx->queue, b, fx->job, NULL), 0);
    assert_int_equal (fx->job->deadline_ms, back + delay + VISIBILITY);
}

static void
queue_reopen_after_the_clock_went_back_keeps_jobs_visible (void **state)
{
    fixture_t *fx = *state;
    const int64_t back = T0 - 3600000;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    s_reopen (fx, back);
    assert_int_equal (s_lease (fx, "w", back), b);
    //  The lease from before the restart ends within ten seconds still.
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_true (fx->job->deadline_ms <= back + TS_QUEUE_RESTART_LEASE_MS);
    assert_true (fx->job->deadline_ms >= back);
}

static void
queue_totals_survive_a_reopen_and_count_on_from_there (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    s_push1 (fx->queue, "c", T0);
    s_push1 (fx->queue, "d", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), 0);
    assert_int_equal (s_lease (fx, "w", T0), b);
    assert_int_equal (ts_queue_nack (fx->queue, b, "HTTP 503", true, 0, T0,
                                     NULL, NULL), 0);             //  retried
    s_lease (fx, "x", T0);                                          //  c
    assert_int_equal (ts_queue_release_owner (fx->queue, "x", T0, NULL, NULL,
                                              NULL), 1);           //  retried
    s_lease (fx, "y", T0);
    assert_int_equal (ts_queue_expire (fx->queue, T0 + VISIBILITY, NULL,
                                       NULL, NULL, NULL), 1);      //  retried
    //  An ack of a job that is not there counts nothing.
    assert_int_equal (ts_queue_ack (fx->queue, a, NULL, NULL), TS_ENOTFOUND);
    s_reopen (fx, T0 + VISIBILITY);
    ts_queue_stats_t stats = s_stats (fx, T0 + VISIBILITY);
    assert_int_equal (stats.done, 1);
    assert_int_equal (stats.failed, 3);
    assert_int_equal (stats.retried, 3);
    assert_int_equal (stats.dead_lettered, 0);
    //  And go on from there, across a second reopen.
    uint64_t next = s_lease (fx, "w", T0 + 2 * VISIBILITY);
    assert_int_equal (ts_queue_nack (fx->queue, next, "HTTP 404", false, 0,
                                     T0 + 2 * VISIBILITY, NULL, NULL), 0);
    s_reopen (fx, T0 + 2 * VISIBILITY);
    stats = s_stats (fx, T0 + 2 * VISIBILITY);
    assert_int_equal (stats.failed, 4);
    assert_int_equal (stats.dead_lettered, 1);
    assert_int_equal (stats.done, 1);
}

static void
queue_ack_marks_its_ids_fetched_and_the_times_survive_a_reopen (void **state)
{
    fixture_t *fx = *state;
    const char *ids [] = { "a", "b", "c" };
    int64_t times [3] = { -1, -1, -1 };
    assert_int_equal (ts_queue_last_fetch (fx->queue, ids, 3, times, NULL),
                      0);
    assert_int_equal (times [0], 0);
    assert_int_equal (times [2], 0);
    uint64_t job = 0;
    assert_int_equal (ts_queue_push (fx->queue, ids, 2, T0, &job, NULL), 2);
    s_push1 (fx->queue, "c", T0);
    assert_int_equal (s_lease (fx, "w", T0 + 500), job);
    //  A failure is no fetch.
    uint64_t c = s_lease (fx, "w", T0 + 500);
    assert_int_equal (ts_queue_nack (fx->queue, c, "HTTP 503", false, 0,
                                     T0 + 700, NULL, NULL), 0);
    assert_int_equal (ts_queue_ack (fx->queue, job, NULL, NULL), 0);
    s_reopen (fx, T0 + 1000);
    assert_int_equal (ts_queue_last_fetch (fx->queue, ids, 3, times, NULL),
                      0);
    //  The ack is marked at the latest time the queue was given before it.
    assert_int_equal (times [0], T0 + 700);
    assert_int_equal (times [1], T0 + 700);
    assert_int_equal (times [2], 0);
    //  The next ack of an id moves its time on.
    uint64_t again = s_push1 (fx->queue, "a", T0 + 2000);
    assert_int_equal (s_lease (fx, "w", T0 + 2000), again);
    assert_int_equal (ts_queue_ack (fx->queue, again, NULL, NULL), 0);
    assert_int_equal (ts_queue_last_fetch (fx->queue, ids, 1, times, NULL),
                      0);
    assert_int_equal (times [0], T0 + 2000);
    //  A clock given just before the ack is the ack's time.
    uint64_t later = s_push1 (fx->queue, "b", T0 + 3000);
    assert_int_equal (s_lease (fx, "w", T0 + 3000), later);
    ts_queue_clock (fx->queue, T0 + 3456);
    assert_int_equal (ts_queue_ack (fx->queue, later, NULL, NULL), 0);
    assert_int_equal (ts_queue_last_fetch (fx->queue, ids + 1, 1, times,
                                           NULL), 0);
    assert_int_equal (times [0], T0 + 3456);
    const char *bad [] = { "a b" };
    assert_int_equal (ts_queue_last_fetch (fx->queue, bad, 1, times, NULL),
                      TS_EINVAL);
}

static void
queue_keeps_fill_records_and_marks_an_ids_first_fetch_new (void **state)
{
    fixture_t *fx = *state;
    const char *ids [] = { "a", "b" };
    ts_fill_t fills [2];
    bool found [2] = { true, true };
    assert_int_equal (ts_queue_fill_get (fx->queue, ids, 2, fills, found,
                                         NULL), 0);
    assert_false (found [0]);
    assert_true (fills [0].filled_to_ms == 0 && fills [0].flags == 0);
    //  "a" fetched a first time: its record is made, marked new.
    uint64_t job = s_push1 (fx->queue, "a", T0);
    assert_int_equal (s_lease (fx, "w", T0), job);
    assert_int_equal (ts_queue_ack (fx->queue, job, NULL, NULL), 0);
    assert_int_equal (ts_queue_fill_get (fx->queue, ids, 2, fills, found,
                                         NULL), 0);
    assert_true (found [0]);
    assert_int_equal (fills [0].flags, TS_FILL_NEW);
    assert_false (found [1]);
    //  The planner's values are kept as given, across a reopen.
    fills [0] = (ts_fill_t) { T0 - 1000, T0, T0 - 900, T0 - 500, T0 - 800,
                              2, 3, 1, 0 };
    fills [1] = (ts_fill_t) { 1, 2, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal (ts_queue_fill_put (fx->queue, ids, 2, fills, NULL), 0);
    s_reopen (fx, T0 + 1000);
    ts_fill_t back [2];
    assert_int_equal (ts_queue_fill_get (fx->queue, ids, 2, back, found,
                                         NULL), 0);
    assert_memory_equal (&back [0], &fills [0], sizeof back [0]);
    assert_memory_equal (&back [1], &fills [1], sizeof back [1]);
    //  A later fetch of "a" is not its first: not marked new again.
    job = s_push1 (fx->queue, "a", T0 + 2000);
    assert_int_equal (s_lease (fx, "w", T0 + 2000), job);
    assert_int_equal (ts_queue_ack (fx->queue, job, NULL, NULL), 0);
    assert_int_equal (ts_queue_fill_get (fx->queue, ids, 1, back, NULL,
                                         NULL), 0);
    assert_int_equal (back [0].flags, 0);
    const char *bad [] = { "a b" };
    assert_int_equal (ts_queue_fill_put (fx->queue, bad, 1, fills, NULL),
                      TS_EINVAL);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (queue_reopen_keeps_queued_leased_and_dead_jobs_and_the_next_id),
        T (queue_reopen_ends_far_leases_within_ten_seconds),
        T (queue_keeps_a_jobs_source_and_window_through_retry_redrive_and_reopen),
        T (queue_totals_survive_a_reopen_and_count_on_from_there),
        T (queue_ack_marks_its_ids_fetched_and_the_times_survive_a_reopen),
        T (queue_keeps_fill_records_and_marks_an_ids_first_fetch_new),
        T (queue_keeps_a_job_pushed_by_a_process_killed_right_after),
        T (queue_refuses_a_second_open_of_the_same_directory),
        T (queue_keeps_jobs_visible_and_delays_short_when_the_clock_goes_back),
        T (queue_reopen_after_the_clock_went_back_keeps_jobs_visible),
    };
#undef T
    return s_run_per_backend ("queue contract restart", tests,
                              sizeof tests / sizeof tests [0]);
}
