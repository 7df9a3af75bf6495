/*  ts_queue_lmdb_ops - the queue operations of the LMDB backend, built on
    the primitives of ts_queue_lmdb.h, and the ts_queue_lmdb_ops table
    that ts_queue.c dispatches to.

    Each operation is one transaction: a read transaction for lookups,
    stats and DLQ listing, one write transaction for every change. A write
    transaction that turns out to change nothing is aborted, so that an
    idle broker does not touch the file. Walks that change the database
    they walk first collect the index keys, then change each job. */

#include "ts_queue_lmdb.h"
#include "ts_log.h"

#include <inttypes.h>
#include <string.h>

//  Copies the scratch job into out (may be NULL) after a successful call.
static int
s_give (ts_queue_lmdb_t *self, int rc, ts_job_t *out, char *err)
{
    if (rc == 0 && out && ts_job_copy (out, self->job) != 0) {
        ts_errf (err, "queue: out of memory");
        rc = TS_ENOMEM;
    }
    return rc;
}

static int
s_push (void *state, const char *const *ids, size_t n, int64_t now_ms,
        uint64_t *job_id, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    uint64_t id = 0;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = ts_queue_lmdb_push_txn (self, txn, ids, n, now_ms, &id, err);
    if (rc == 0) {
        mdb_txn_abort (txn);        //  nothing new: leave the file alone
        return 0;
    }
    rc = ts_queue_lmdb_end (self, txn, rc, err);
    if (rc > 0 && job_id)
        *job_id = id;
    return rc;
}

//  Finds the first ready key visible at now_ms, dropping keys whose job
//  is gone or unreadable. Leaves the job in self->job.
static int
s_first_visible (ts_queue_lmdb_t *self, MDB_txn *txn, int64_t now_ms,
                 char *err)
{
    while (true) {
        ts_queue_lmdb_key_t key;
        int rc = ts_queue_lmdb_first_key (self, txn, self->ready, INT64_MIN,
                                          &key, err);
        if (rc == 0 && key.time_ms > now_ms)
            rc = TS_ENOTFOUND;
        if (rc == TS_ENOTFOUND)
            ts_errf (err, "no job visible");
        if (rc)
            return rc;
        rc = ts_queue_lmdb_read (self, txn, self->jobs, key.job_id,
                                 self->job, err);
        if (rc == 0 && self->job->state == TS_JOB_QUEUED
        &&  self->job->visible_at_ms == key.time_ms)
            return 0;
        if (rc == 0)                //  stale key: the job is elsewhere
            rc = ts_queue_lmdb_index (self, txn, self->ready, false,
                                      key.time_ms, key.job_id, err);
        else
        if (rc != TS_ENOMEM)
            rc = ts_queue_lmdb_drop_broken (self, txn, self->ready,
                                            self->jobs, &key, rc, err);
        if (rc)
            return rc;
    }
}

static int
s_lease (void *state, const char *owner, int64_t now_ms, ts_job_t *out,
         char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = s_first_visible (self, txn, now_ms, err);
    if (rc == TS_ENOTFOUND) {
        //  Commit: stale keys may have been dropped on the way.
        ts_queue_lmdb_end (self, txn, 0, NULL);
        return rc;
    }
    ts_job_t *job = self->job;
    if (rc == 0)
        rc = ts_queue_lmdb_index (self, txn, self->ready, false,
                                  job->visible_at_ms, job->id, err);
    job->state = TS_JOB_LEASED;
    job->receives++;
    job->deadline_ms = now_ms + self->policy->visibility_ms;
    ts_strlcpy (job->owner, owner, sizeof job->owner);
    if (rc == 0)
        rc = ts_queue_lmdb_index (self, txn, self->leases, true,
                                  job->deadline_ms, job->id, err);
    if (rc == 0)
        rc = ts_queue_lmdb_write (self, txn, self->jobs, true, job, err);
    return s_give (self, ts_queue_lmdb_end (self, txn, rc, err), out, err);
}

static int
s_ack (void *state, uint64_t job_id, ts_job_t *out, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    ts_job_t *job = self->job;
    rc = ts_queue_lmdb_read (self, txn, self->jobs, job_id, job, err);
    if (rc == 0)
        rc = ts_queue_lmdb_unindex (self, txn, job, err);
    if (rc == 0)
        rc = ts_queue_lmdb_dedup_drop (self, txn, job, err);
    if (rc == 0)
        rc = ts_queue_lmdb_write (self, txn, self->jobs, false, job, err);
    return s_give (self, ts_queue_lmdb_end (self, txn, rc, err), out, err);
}

//  Reads job_id into self->job and checks that it is leased.
static int
s_read_leased (ts_queue_lmdb_t *self, MDB_txn *txn, uint64_t job_id,
               char *err)
{
    int rc = ts_queue_lmdb_read (self, txn, self->jobs, job_id, self->job,
                                 err);
    if (rc == 0 && self->job->state != TS_JOB_LEASED) {
        ts_errf (err, "job %" PRIu64 " is not leased", job_id);
        rc = TS_ENOTFOUND;
    }
    return rc;
}

static int
s_nack (void *state, uint64_t job_id, const char *detail, bool retry,
        int64_t retry_after_ms, int64_t now_ms, ts_job_t *out, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    ts_job_t *job = self->job;
    rc = s_read_leased (self, txn, job_id, err);
    if (rc == 0) {
        int64_t delay = ts_queue_policy_delay_ms (self->policy,
                                                  job->receives,
                                                  retry_after_ms);
        rc = ts_queue_lmdb_fail_leased (self, txn, job, now_ms, detail,
                                        retry, delay, err);
    }
    return s_give (self, ts_queue_lmdb_end (self, txn, rc, err), out, err);
}

static int
s_unlease (void *state, uint64_t job_id, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    ts_job_t *job = self->job;
    rc = s_read_leased (self, txn, job_id, err);
    if (rc == 0) {
        if (job->receives > 0)
            job->receives--;
        rc = ts_queue_lmdb_to_ready (self, txn, job, job->visible_at_ms,
                                     err);
    }
    return ts_queue_lmdb_end (self, txn, rc, err);
}

//  Fails the leased jobs of the collected lease keys (self->keys) whose
//  owner is owner (any owner if NULL) with error, visible at once.
//  Appends each to moves. Returns how many, or an error.
static int
s_fail_collected (ts_queue_lmdb_t *self, MDB_txn *txn, const char *owner,
                  int64_t now_ms, const char *error, ts_queue_moves_t *moves,
                  char *err)
{
    int count = 0;
    ts_job_t *job = self->job;
    for (size_t i = 0; i < self->keys_n; i++) {
        const ts_queue_lmdb_key_t *key = &self->keys [i];
        int rc = s_read_leased (self, txn, key->job_id, err);
        if (rc == 0 && job->deadline_ms != key->time_ms)
            rc = TS_ENOTFOUND;      //  stale key of an older lease
        if (rc == TS_ENOTFOUND)
            rc = ts_queue_lmdb_index (self, txn, self->leases, false,
                                      key->time_ms, key->job_id, err);
        else
        if (rc && rc != TS_ENOMEM)
            rc = ts_queue_lmdb_drop_broken (self, txn, self->leases,
                                            self->jobs, key, rc, err);
        else
        if (rc == 0 && (!owner || strcmp (job->owner, owner) == 0)) {
            rc = ts_queue_lmdb_fail_leased (self, txn, job, now_ms, error,
                                            true, 0, err);
            if (rc == 0)
                rc = ts_queue_moves_add (moves, job);
            count++;
        }
        if (rc)
            return rc;
    }
    return count;
}

static int
s_release_owner (void *state, const char *owner, int64_t now_ms,
                 ts_queue_moves_t *moves, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = ts_queue_lmdb_collect (self, txn, self->leases, INT64_MAX, err);
    if (rc == 0)
        rc = s_fail_collected (self, txn, owner, now_ms, "worker lost",
                               moves, err);
    return ts_queue_lmdb_end (self, txn, rc, err);
}

//  Deletes DLQ entries that died at or before until_ms; counts them.
static int
s_purge_dead (ts_queue_lmdb_t *self, MDB_txn *txn, int64_t until_ms,
              size_t *purged, char *err)
{
    int rc = ts_queue_lmdb_collect (self, txn, self->dead_at, until_ms, err);
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        rc = ts_queue_lmdb_drop_broken (self, txn, self->dead_at, self->dead,
                                        &self->keys [i], TS_ENOTFOUND, err);
        (*purged)++;
    }
    return rc;
}

static int
s_expire (void *state, int64_t now_ms, ts_queue_moves_t *moves,
          size_t *purged, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    *purged = 0;
    rc = ts_queue_lmdb_collect (self, txn, self->leases, now_ms, err);
    size_t keys = self->keys_n;
    int expired = rc? rc: s_fail_collected (self, txn, NULL, now_ms,
                                            "visibility timeout expired",
                                            moves, err);
    rc = expired < 0? expired: 0;
    if (rc == 0)
        rc = s_purge_dead (self, txn,
                           now_ms - self->policy->dlq_retention_ms, purged,
                           err);
    if (rc == 0 && keys == 0 && *purged == 0) {
        mdb_txn_abort (txn);        //  nothing changed
        return 0;
    }
    rc = ts_queue_lmdb_end (self, txn, rc, err);
    if (rc < 0)
        *purged = 0;
    return rc < 0? rc: expired;
}

static int
s_lookup (void *state, uint64_t job_id, ts_job_t *job, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = ts_queue_lmdb_read (self, txn, self->jobs, job_id, job, err);
    if (rc == TS_ENOTFOUND)
        rc = ts_queue_lmdb_read (self, txn, self->dead, job_id, job, err);
    mdb_txn_abort (txn);
    return rc;
}

static int
s_holders (void *state, const char *const *ids, size_t n, uint64_t *jobs,
           char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, false, &txn, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = ts_queue_lmdb_holder (self, txn, ids [i], &jobs [i], err);
    if (txn)
        mdb_txn_abort (txn);
    return rc;
}

static int64_t
s_next_wakeup (void *state, int64_t now_ms)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    if (ts_queue_lmdb_begin (self, false, &txn, NULL))
        return -1;
    ts_queue_lmdb_key_t lease, ready;
    int64_t deadline = ts_queue_lmdb_first_key (self, txn, self->leases,
                                                INT64_MIN, &lease, NULL) == 0
                     ? lease.time_ms: -1;
    int64_t visible = ts_queue_lmdb_first_key (self, txn, self->ready,
                                               now_ms + 1, &ready, NULL) == 0
                    ? ready.time_ms: -1;
    mdb_txn_abort (txn);
    if (deadline < 0 || (visible >= 0 && visible < deadline))
        return visible;
    return deadline;
}

static int
s_stats (void *state, int64_t now_ms, ts_queue_stats_t *stats, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_stat ready, leases, dead;
    int mrc = mdb_stat (txn, self->ready, &ready);
    if (mrc == 0)
        mrc = mdb_stat (txn, self->leases, &leases);
    if (mrc == 0)
        mrc = mdb_stat (txn, self->dead, &dead);
    rc = mrc? ts_queue_lmdb_fail (self, mrc, err): 0;
    uint64_t delayed = 0;
    if (rc == 0)
        rc = ts_queue_lmdb_count_from (self, txn, self->ready, now_ms + 1,
                                       &delayed, err);
    if (rc == 0) {
        stats->delayed = delayed;
        stats->queued = ready.ms_entries > delayed
                      ? ready.ms_entries - delayed: 0;
        stats->leased = leases.ms_entries;
        stats->dlq = dead.ms_entries;
        rc = ts_queue_lmdb_read_first (self, txn, self->jobs, self->job, err);
        if (rc == 0 && now_ms > self->job->enqueued_at_ms)
            stats->oldest_age_ms = now_ms - self->job->enqueued_at_ms;
        if (rc == TS_ENOTFOUND)
            rc = 0;
    }
    mdb_txn_abort (txn);
    return rc;
}

static int
s_dlq_each (void *state, ts_queue_each_fn *fn, void *arg, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = ts_queue_lmdb_collect (self, txn, self->dead_at, INT64_MAX, err);
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        rc = ts_queue_lmdb_read (self, txn, self->dead,
                                 self->keys [i].job_id, self->job, err);
        if (rc == TS_ENOTFOUND)
            rc = 0;                 //  stale index key
        else
        if (rc == 0)
            rc = fn (self->job, arg);
    }
    mdb_txn_abort (txn);
    return rc;
}

//  True if job holds one of the n ids.
static bool
s_holds_any (const ts_job_t *job, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ts_strlist_contains (job->ids, ids [i]))
            return true;
    return false;
}

static int
s_dlq_redrive (void *state, const char *const *ids, size_t n,
               int64_t now_ms, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = ts_queue_lmdb_collect (self, txn, self->dead_at, INT64_MAX, err);
    int requeued = 0;
    ts_job_t *dead = self->other;
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        const ts_queue_lmdb_key_t *key = &self->keys [i];
        rc = ts_queue_lmdb_read (self, txn, self->dead, key->job_id, dead,
                                 err);
        if (rc == 0 && n > 0 && !s_holds_any (dead, ids, n))
            continue;
        if (rc == TS_ENOMEM)
            break;
        //  Redriven, gone or unreadable: the entry leaves the DLQ.
        int read_rc = rc;
        rc = ts_queue_lmdb_drop_broken (self, txn, self->dead_at, self->dead,
                                        key, read_rc? read_rc: TS_ENOTFOUND,
                                        err);
        uint64_t job_id;
        const char *const *items = (const char *const *) dead->ids->items;
        if (rc == 0 && read_rc == 0)
            rc = ts_queue_lmdb_push_txn (self, txn, items, dead->ids->n,
                                         now_ms, &job_id, err);
        if (rc > 0) {
            requeued++;
            rc = 0;
        }
    }
    return ts_queue_lmdb_end (self, txn, rc < 0? rc: requeued, err);
}

static int
s_dlq_purge (void *state, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    MDB_stat st;
    int mrc = mdb_stat (txn, self->dead, &st);
    if (mrc == 0)
        mrc = mdb_drop (txn, self->dead, 0);
    if (mrc == 0)
        mrc = mdb_drop (txn, self->dead_at, 0);
    rc = mrc? ts_queue_lmdb_fail (self, mrc, err): (int) st.ms_entries;
    return ts_queue_lmdb_end (self, txn, rc, err);
}

static int
s_sync (void *state, char *err)
{
    ts_queue_lmdb_t *self = state;
    int rc = mdb_env_sync (self->env, 1);
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

const ts_queue_ops_t ts_queue_lmdb_ops = {
    .name = "lmdb",
    .open = ts_queue_lmdb_open,
    .close = ts_queue_lmdb_close,
    .push = s_push,
    .lease = s_lease,
    .ack = s_ack,
    .nack = s_nack,
    .unlease = s_unlease,
    .release_owner = s_release_owner,
    .expire = s_expire,
    .lookup = s_lookup,
    .holders = s_holders,
    .next_wakeup = s_next_wakeup,
    .stats = s_stats,
    .dlq_each = s_dlq_each,
    .dlq_redrive = s_dlq_redrive,
    .dlq_purge = s_dlq_purge,
    .sync = s_sync,
    .shift = ts_queue_lmdb_shift,
};
