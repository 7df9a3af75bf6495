/*  test_ts_queue - what the queue contract suite
    (tests/contract/test_queue_contract.c) does not cover: the LMDB
    backend's own behaviour (a full map names its config key, a corrupt
    record is dropped without blocking the queue or waking the broker),
    the shared LMDB helper (common/ts_lmdb: key order, errors), the
    backoff function and the job value. Each test gets a fresh temporary
    directory, removed afterwards. Times are fixed epoch milliseconds
    passed to the queue. */

#include "../contract/ts_queue_fixture.h"
#include "../../broker/queue/ts_queue_backend.h"
#include "../../common/ts_lmdb.h"

//  The LMDB backend's entry in the fixture's table, and where it keeps
//  the queue of fx (fills path, size bytes).
#define S_LMDB  ((void *) &s_backends [0])

static void
s_path (const fixture_t *fx, char *path, size_t size)
{
    snprintf (path, size, "%s/queue", fx->dir);
}

static void
queue_full_map_names_the_config_key (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    char text [512], path [128], err [TS_ERRLEN] = "";
    s_path (fx, path, sizeof path);
    snprintf (text, sizeof text, "broker:\n  queue_path: %s\n"
              "  queue_map_size_mb: 1\n", path);
    ts_config_destroy (&fx->cfg);
    fx->cfg = ts_config_load_text (text, "test.yaml", err);
    assert_non_null (fx->cfg);
    s_open (fx, T0);
    //  1000 ids of 100 bytes per job: a 1 MiB map fills within 10 jobs.
    char **ids = calloc (1000, sizeof *ids);
    assert_non_null (ids);
    int rc = 0;
    for (int job = 0; job < 20 && rc >= 0; job++) {
        for (int i = 0; i < 1000; i++) {
            ids [i] = malloc (128);
            assert_non_null (ids [i]);
            snprintf (ids [i], 128, "%04d-%04d-%-90s", job, i, "x");
            for (char *p = ids [i]; *p; p++)
                if (*p == ' ')
                    *p = 'y';
        }
        rc = ts_queue_push (fx->queue, (const char *const *) ids, 1000, T0,
                            NULL, err);
        for (int i = 0; i < 1000; i++)
            free (ids [i]);
    }
    free (ids);
    assert_int_equal (rc, TS_EBACKEND);
    assert_non_null (strstr (err, "broker.queue_map_size_mb"));
    //  Reads still work; a larger map lets writes go on.
    assert_int_equal (ts_queue_lookup (fx->queue, 1, fx->job, NULL), 0);
    ts_queue_destroy (&fx->queue);
    snprintf (text, sizeof text, "broker:\n  queue_path: %s\n"
              "  queue_map_size_mb: 4\n", path);
    ts_config_destroy (&fx->cfg);
    fx->cfg = ts_config_load_text (text, "test.yaml", err);
    assert_non_null (fx->cfg);
    s_open (fx, T0);
    assert_int_equal (s_lease (fx, "w", T0), 1);
    assert_int_equal (ts_queue_ack (fx->queue, 1, NULL, NULL), 0);
}

//  With the queue closed, puts val (NULL: deletes) under key in the
//  named database db of the queue's LMDB environment.
static void
s_lmdb_edit (fixture_t *fx, const char *db, const void *key, size_t len,
             const char *val)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { len, (void *) key };
    MDB_val v = { val? strlen (val): 0, (void *) val };
    char path [128];
    s_path (fx, path, sizeof path);
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 8), 0);
    assert_int_equal (mdb_env_set_mapsize (env, 16 << 20), 0);
    assert_int_equal (mdb_env_open (env, path, 0, 0640), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, db, 0, &dbi), 0);
    if (val)
        assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
    else
        assert_int_equal (mdb_del (txn, dbi, &k, NULL), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

//  Overwrites the jobs record of job_id with bytes that do not decode,
//  with the queue closed.
static void
s_corrupt_record (fixture_t *fx, uint64_t job_id)
{
    unsigned char key [8];
    ts_lmdb_u64_put (key, job_id);
    s_lmdb_edit (fx, "jobs", key, sizeof key, "bad");
}

static void
queue_reopen_of_a_queue_without_a_stored_clock_follows_a_step_back (
    void **state)
{
    fixture_t *fx = *state;
    const int64_t back = T0 - 3600000;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    ts_queue_destroy (&fx->queue);
    //  As a queue written before the clock was stored.
    s_lmdb_edit (fx, "meta", "clock_ms", 8, NULL);
    s_open (fx, back);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL), 0);
    assert_int_equal (fx->job->enqueued_at_ms, back);
    assert_int_equal (s_lease (fx, "w", back), a);
}

static void
queue_push_requeues_the_ids_of_a_job_dropped_as_corrupt (void **state)
{
    fixture_t *fx = *state;
    const char *ab [] = { "a", "b" };
    uint64_t broken;
    assert_int_equal (ts_queue_push (fx->queue, ab, 2, T0, &broken, NULL), 2);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    ts_queue_destroy (&fx->queue);
    s_corrupt_record (fx, broken);
    s_open (fx, T0);
    //  The unreadable job is dropped on the way to the next one ...
    assert_int_equal (s_lease (fx, "w", T0), c);
    //  ... and its ids do not stay blocked by their dedup entries.
    uint64_t job_id;
    assert_int_equal (ts_queue_push (fx->queue, ab, 2, T0, &job_id, NULL), 2);
    assert_int_equal (s_lease (fx, "w", T0), job_id);
    //  A live job's ids stay deduplicated.
    assert_int_equal (ts_queue_push (fx->queue, ab, 2, T0, NULL, NULL), 0);
}

static void
queue_lease_drops_a_corrupt_window_job_of_the_low_lane (void **state)
{
    fixture_t *fx = *state;
    const char *a [] = { "a" };
    ts_queue_attrs_t window = { .from_ms = 1000, .to_ms = 2000 };
    uint64_t broken, chunk;
    assert_int_equal (ts_queue_push_attrs (fx->queue, a, 1, &window, T0,
                                           &broken, NULL), 1);
    ts_queue_destroy (&fx->queue);
    s_corrupt_record (fx, broken);
    s_open (fx, T0);
    uint64_t c = s_push1 (fx->queue, "c", T0);
    //  Credit for two: c, and the unreadable chunk is dropped from its
    //  lane on the way (in the batch that leases c), its window freed.
    ts_queue_grant_t grant = { "w", 2, 0 };
    ts_job_t *jobs [2] = { ts_job_new (), ts_job_new () };
    assert_int_equal (ts_queue_lease_many (fx->queue, &grant, 1, T0, jobs, 2,
                                           NULL), 1);
    assert_int_equal (jobs [0]->id, c);
    ts_job_destroy (&jobs [0]);
    ts_job_destroy (&jobs [1]);
    assert_int_equal (ts_queue_push_attrs (fx->queue, a, 1, &window, T0,
                                           &chunk, NULL), 1);
    assert_int_equal (s_lease (fx, "w", T0), chunk);
    assert_true (fx->job->from_ms == 1000 && fx->job->to_ms == 2000);
}

//  A lease batch whose only change is the drop of an unreadable job (or
//  of an index key whose record is gone) leases nothing; the drop must
//  be stored all the same, not thrown away with the batch (else it is
//  made, and logged, again on every dispatch).
static void
queue_lease_stores_a_drop_even_when_it_leases_nothing (void **state)
{
    fixture_t *fx = *state;
    uint64_t broken = s_push1 (fx->queue, "a", T0);
    uint64_t gone = s_push1 (fx->queue, "b", T0);
    ts_queue_destroy (&fx->queue);
    s_corrupt_record (fx, broken);
    unsigned char key [8];
    ts_lmdb_u64_put (key, gone);
    s_lmdb_edit (fx, "jobs", key, sizeof key, NULL);   //  a stale key
    s_open (fx, T0);
    assert_int_not_equal (ts_queue_lookup (fx->queue, broken, fx->job, NULL),
                          0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_queue_lease (fx->queue, "w", T0, fx->job, err),
                      TS_ENOTFOUND);
    //  Both are dropped for good: gone, the queue is empty now ...
    assert_int_equal (ts_queue_lookup (fx->queue, broken, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (s_stats (fx, T0).queued, 0);
    //  ... and after a reopen.
    ts_queue_destroy (&fx->queue);
    s_open (fx, T0);
    assert_int_equal (s_stats (fx, T0).queued, 0);
    //  Their ids can be queued again.
    assert_true (s_push1 (fx->queue, "a", T0) > gone);
}

//  The same for a corrupt lease alone: the first write batch that meets
//  it (the open's check of the leases, else the expiry at its deadline)
//  changes nothing else, and its drop is stored: the broker is not woken
//  for it again and again (before: every millisecond, with an ERROR).
static void
queue_a_corrupt_lease_dropped_alone_is_stored (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    ts_queue_destroy (&fx->queue);
    s_corrupt_record (fx, a);
    s_open (fx, T0 + 1);
    ts_queue_expire (fx->queue, T0 + VISIBILITY + 1, NULL, NULL, NULL, NULL);
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0 + VISIBILITY + 1),
                      -1);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL),
                      TS_ENOTFOUND);
}

static void
queue_expire_drops_a_corrupt_lease_instead_of_waking_for_it (void **state)
{
    fixture_t *fx = *state;
    uint64_t a = s_push1 (fx->queue, "a", T0);
    uint64_t b = s_push1 (fx->queue, "b", T0);
    assert_int_equal (s_lease (fx, "w", T0), a);
    assert_int_equal (s_lease (fx, "w", T0 + 1), b);
    ts_queue_destroy (&fx->queue);
    s_corrupt_record (fx, a);
    s_open (fx, T0 + 2);
    //  The corrupt lease is dropped (by the open's check of the leases,
    //  stored), so the broker is not woken for it; b ends as usual.
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0 + 2),
                      T0 + 1 + VISIBILITY);
    assert_int_equal (ts_queue_expire (fx->queue, T0 + VISIBILITY + 1, NULL,
                                       NULL, NULL, NULL), 1);
    assert_int_equal (ts_queue_next_wakeup (fx->queue, T0 + VISIBILITY + 1),
                      -1);
    assert_int_equal (ts_queue_lookup (fx->queue, a, fx->job, NULL),
                      TS_ENOTFOUND);
    assert_int_equal (s_lease (fx, "w", T0 + VISIBILITY + 1), b);
    //  Its id can be queued again.
    assert_int_equal (s_push1 (fx->queue, "a", T0 + VISIBILITY + 1) > b,
                      true);
}

static void
queue_keeps_a_jobs_request_id_through_lease_restart_and_redrive (
    void **state)
{
    fixture_t *fx = *state;
    const char *a [] = { "a" }, *b [] = { "b" };
    uint64_t with, without;
    assert_int_equal (ts_queue_push_rid (fx->queue, a, 1, "req-1", T0, &with,
                                         NULL), 1);
    assert_int_equal (ts_queue_push_rid (fx->queue, b, 1, NULL, T0, &without,
                                         NULL), 1);
    assert_int_equal (ts_queue_push_rid (fx->queue, b, 1, "bad rid", T0,
                                         NULL, NULL), TS_EINVAL);
    //  Kept on disk: a version 2 record with it, a version 1 without.
    ts_queue_destroy (&fx->queue);
    s_open (fx, T0);
    assert_int_equal (s_lease (fx, "w", T0), with);
    assert_string_equal (fx->job->rid, "req-1");
    assert_int_equal (s_lease (fx, "w", T0), without);
    assert_string_equal (fx->job->rid, "");
    //  Dead-lettered (not retried), then redriven: still its request's.
    assert_int_equal (ts_queue_nack (fx->queue, with, "gone", false, 0, T0,
                                     NULL, NULL), 0);
    assert_int_equal (ts_queue_dlq_redrive (fx->queue, a, 1, T0, NULL), 1);
    uint64_t again = s_lease (fx, "w", T0);
    assert_true (again > without);
    assert_string_equal (fx->job->rid, "req-1");
}

static void
lmdb_keys_sort_numerically_and_round_trip (void **state)
{
    int64_t times [] = { INT64_MIN, -1000, -1, 0, 1, T0, INT64_MAX };
    unsigned char prev [TS_LMDB_TIME_LEN], buf [TS_LMDB_TIME_LEN];
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++) {
        ts_lmdb_time_put (buf, times [i]);
        assert_int_equal (ts_lmdb_time_get (buf), times [i]);
        if (i > 0)
            assert_true (memcmp (prev, buf, sizeof buf) < 0);
        memcpy (prev, buf, sizeof buf);
    }
    ts_lmdb_u64_put (buf, UINT64_C (0x0102030405060708));
    assert_int_equal (buf [0], 1);
    assert_int_equal (buf [7], 8);
    assert_int_equal (ts_lmdb_u64_get (buf), UINT64_C (0x0102030405060708));
}

static void
lmdb_errors_name_the_config_keys (void **state)
{
    fixture_t *fx = *state;
    ts_lmdb_t lmdb = { .what = "test", .key_path = "x.path",
                       .key_map = "x.map_size_mb", .map_size_mb = 7 };
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_lmdb_fail (&lmdb, MDB_MAP_FULL, err), TS_EBACKEND);
    assert_non_null (strstr (err, "store full"));
    assert_non_null (strstr (err, "raise x.map_size_mb (now 7)"));
    assert_int_equal (ts_lmdb_open (&lmdb, "", 1, 0, 0, err), TS_EBACKEND);
    assert_string_equal (err, "x.path: must not be empty");
    //  A file where the directory should be.
    char path [128];
    snprintf (path, sizeof path, "%s/file", fx->dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fclose (file);
    snprintf (path, sizeof path, "%s/file/env", fx->dir);
    assert_int_equal (ts_lmdb_open (&lmdb, path, 1, 0, 0, err), TS_EBACKEND);
    assert_non_null (strstr (err, "x.path: cannot create"));
    assert_null (lmdb.env);
    //  A working environment: begin, end with an error aborts, commit.
    snprintf (path, sizeof path, "%s/env", fx->dir);
    assert_int_equal (ts_lmdb_open (&lmdb, path, 2, 0, MDB_NOSYNC, err), 0);
    MDB_dbi dbi;
    ts_lmdb_db_t dbs [] = { { "one", &dbi } };
    assert_int_equal (ts_lmdb_dbs_open (&lmdb, dbs, 1, err), 0);
    MDB_txn *txn;
    assert_int_equal (ts_lmdb_begin (&lmdb, true, &txn, err), 0);
    MDB_val key = { 1, "k" }, val = { 1, "v" };
    assert_int_equal (mdb_put (txn, dbi, &key, &val, 0), 0);
    assert_int_equal (ts_lmdb_end (&lmdb, txn, TS_EINVAL, err), TS_EINVAL);
    assert_int_equal (ts_lmdb_begin (&lmdb, false, &txn, err), 0);
    assert_int_equal (mdb_get (txn, dbi, &key, &val), MDB_NOTFOUND);
    ts_lmdb_abort (&lmdb, txn);
    assert_int_equal (ts_lmdb_begin (&lmdb, true, &txn, err), 0);
    assert_int_equal (mdb_put (txn, dbi, &key, &val, 0), 0);
    assert_int_equal (ts_lmdb_end (&lmdb, txn, 3, err), 3);
    assert_int_equal (ts_lmdb_begin (&lmdb, false, &txn, err), 0);
    assert_int_equal (mdb_get (txn, dbi, &key, &val), 0);
    ts_lmdb_abort (&lmdb, txn);
    ts_lmdb_close (&lmdb, true);
    ts_lmdb_close (&lmdb, true);
}

static void
queue_backoff_never_overflows_and_caps_retry_after (void **state)
{
    ts_queue_policy_t policy = {
        .retry_base_ms = 3600000, .retry_max_ms = 86400000, .rng = 42 };
    for (uint32_t receives = 1; receives < 70; receives++) {
        int64_t delay = ts_queue_policy_delay_ms (&policy, receives, 0);
        assert_in_range (delay, 1800000, 86400000);
    }
    int64_t delay = ts_queue_policy_delay_ms (&policy, UINT32_MAX, 0);
    assert_in_range (delay, 43200000, 86400000);
    policy.retry_base_ms = 1;
    policy.retry_max_ms = 1;
    assert_in_range (ts_queue_policy_delay_ms (&policy, UINT32_MAX, 0), 1, 1);
    assert_int_equal (ts_queue_policy_delay_ms (&policy, 3, INT64_MAX),
                      TS_QUEUE_RETRY_AFTER_MAX_MS);
    //  retry_base_ms above retry_max_ms: the maximum wins.
    policy.retry_base_ms = 5000;
    policy.retry_max_ms = 100;
    assert_in_range (ts_queue_policy_delay_ms (&policy, 1, 0), 50, 100);
}

static void
job_ids_text_joins_ids_and_marks_a_cut (void **state)
{
    ts_job_t *job = ts_job_new ();
    assert_non_null (job);
    char buf [16];
    assert_string_equal (ts_job_ids_text (job, buf, sizeof buf), "");
    ts_strlist_append (job->ids, "alpha");
    ts_strlist_append (job->ids, "beta");
    assert_string_equal (ts_job_ids_text (job, buf, sizeof buf),
                         "alpha,beta");
    ts_strlist_append (job->ids, "gamma-delta");
    assert_string_equal (ts_job_ids_text (job, buf, sizeof buf),
                         "alpha,beta,g...");
    ts_job_t *copy = ts_job_new ();
    job->receives = 7;
    assert_int_equal (ts_job_copy (copy, job), 0);
    assert_int_equal (copy->receives, 7);
    assert_int_equal (copy->ids->n, 3);
    assert_true (copy->ids != job->ids);
    ts_job_destroy (&copy);
    ts_job_destroy (&job);
    ts_job_destroy (&job);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_prestate_setup_teardown (name, s_setup, \
                    s_teardown, S_LMDB)
    const struct CMUnitTest tests [] = {
        T (queue_full_map_names_the_config_key),
        T (queue_push_requeues_the_ids_of_a_job_dropped_as_corrupt),
        T (queue_expire_drops_a_corrupt_lease_instead_of_waking_for_it),
        T (queue_lease_drops_a_corrupt_window_job_of_the_low_lane),
        T (queue_lease_stores_a_drop_even_when_it_leases_nothing),
        T (queue_a_corrupt_lease_dropped_alone_is_stored),
        T (queue_reopen_of_a_queue_without_a_stored_clock_follows_a_step_back),
        T (lmdb_errors_name_the_config_keys),
        T (queue_keeps_a_jobs_request_id_through_lease_restart_and_redrive),
        cmocka_unit_test (lmdb_keys_sort_numerically_and_round_trip),
        cmocka_unit_test (queue_backoff_never_overflows_and_caps_retry_after),
        cmocka_unit_test (job_ids_text_joins_ids_and_marks_a_cut),
    };
#undef T
    return cmocka_run_group_tests_name ("ts_queue", tests, NULL, NULL);
}
