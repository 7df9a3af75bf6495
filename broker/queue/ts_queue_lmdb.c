/*  ts_queue_lmdb - the LMDB queue backend: the storage primitives of
    ts_queue_backend.h over the broker's own LMDB environment
    (broker.queue_path), apart from the data store. It takes no decision
    about a job: ts_queue.c does.

    Named databases (BE = big-endian, so byte order is numeric order):

        jobs     job id (8 BE)              -> record   queued and leased
        dead     job id (8 BE)              -> record   dead-lettered
        ready    visible_at (8) | job id    -> ""       queued jobs
        ready_high the same, for queued priority jobs (read-through):
                 leased before any job of ready
        ready_low  the same, for queued jobs with a window of their own
                 (backfill chunks): leased only when no job of ready is
        leases   deadline (8) | job id      -> ""       leased jobs
        dead_at  dead_at (8) | job id       -> ""       dead jobs
        dedup    series id [NUL from (8) to (8)] -> job id (8 BE), live
                 jobs; the window part only for a job with a window
                 (ts_lmdb_time_put), so a default-window key is the id
        meta     name                       -> int64 (host order):
                 "next_job_id", "clock_ms", "total_done", ...
        fetched  series id                  -> int64 (host order): when
                 a job holding it was last acked
        filled   series id                  -> fill record: version (1)
                 then the fields of ts_fill_t in their order, host order
                 (5 x int64, 4 x uint32): how far its history is filled

    Index times are epoch ms, 8 bytes BE with the sign bit flipped
    (ts_lmdb_time_put). A batch is one LMDB transaction. The record of a
    job (jobs, dead) is encoded and checked in ts_queue_lmdb_record.c;
    the tables kept per series id (dedup, fetched, filled) are read and
    written in ts_queue_lmdb_ids.c. This file holds the jobs' indexes,
    the batches, the job primitives and the scans, and opens the
    environment; ts_queue_lmdb.h is what the three files share.
    An index key whose record is gone, unreadable or elsewhere is dropped
    by the next write batch that walks over it, so one bad record cannot
    block the queue.

    Durability: the environment is opened with MDB_NOSYNC. A commit writes
    its pages to the file at once, so they are in the OS page cache and
    survive a crash of the broker (SIGKILL included); sync (mdb_env_sync)
    flushes them to disk when the broker says (broker.queue_sync_ms). A power
    loss can thus lose the changes not yet synced; on a filesystem that keeps
    the order of writes it cannot corrupt the file (LMDB's meta pages are
    written last). Not MDB_WRITEMAP, although it saves the copy of every
    page: with it and without a sync per commit, LMDB no longer promises a
    consistent file after a power loss, and a write into its sparse file on a
    full disk is a SIGBUS, not an error. An exclusive lock file, broker.lock,
    keeps a second broker from opening the same directory. */

#include "ts_queue_lmdb.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define S_IDX_LEN   16              //  time (8) | job id (8)

//  ---------------------------------------------------------------------
//  Indexes

//  The lanes of queued jobs, leased in this order.
enum { S_HIGH, S_DEFAULT, S_LOW, S_LANES };

//  The lane a queued job waits in: a priority job (read-through) in the
//  high one (ready_high), before every other; a job with a window of
//  its own, a backfill chunk, in the low one (ready_low), after every
//  visible job of the default window.
static int
s_lane (const ts_job_t *job)
{
    return job->priority? S_HIGH: job->from_ms || job->to_ms? S_LOW
                                                             : S_DEFAULT;
}

//  The index of state; of a queued job, that of lane.
static MDB_dbi
s_index_of (ts_queue_lmdb_t *self, ts_job_state_t state, int lane)
{
    return state == TS_JOB_LEASED? self->leases
         : state == TS_JOB_DEAD? self->dead_at
         : lane == S_HIGH? self->ready_high
         : lane == S_LOW? self->ready_low: self->ready;
}

static MDB_dbi
s_records_of (ts_queue_lmdb_t *self, ts_job_state_t state)
{
    return state == TS_JOB_DEAD? self->dead: self->jobs;
}

//  Puts (put) or deletes the index key time | job id. A key already gone
//  is not an error: an index may only ever be too small, never wrong.
static int
s_index (ts_queue_lmdb_t *self, MDB_dbi dbi, bool put, int64_t time_ms,
         uint64_t job_id, char *err)
{
    unsigned char buf [S_IDX_LEN];
    ts_lmdb_time_put (buf, time_ms);
    ts_lmdb_u64_put (buf + 8, job_id);
    MDB_val key = { sizeof buf, buf }, val = { 0, "" };
    int rc = put? mdb_put (self->txn, dbi, &key, &val, 0)
                : mdb_del (self->txn, dbi, &key, NULL);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

//  Positions cursor on the first key of its index at or after from
//  (time, then job id). Returns an LMDB code (MDB_NOTFOUND: none).
static int
s_seek_key (MDB_cursor *cursor, const ts_queue_lmdb_key_t *from, MDB_val *key)
{
    unsigned char buf [S_IDX_LEN];
    ts_lmdb_time_put (buf, from->time_ms);
    ts_lmdb_u64_put (buf + 8, from->job_id);
    key->mv_size = sizeof buf;
    key->mv_data = buf;
    MDB_val val;
    int rc = mdb_cursor_get (cursor, key, &val, MDB_SET_RANGE);
    return rc == 0 && key->mv_size != S_IDX_LEN? MDB_CORRUPTED: rc;
}

//  Positions cursor on the first key of its index at or after from_ms.
static int
s_seek (MDB_cursor *cursor, int64_t from_ms, MDB_val *key)
{
    ts_queue_lmdb_key_t from = { from_ms, 0 };
    return s_seek_key (cursor, &from, key);
}

//  Collects into self->keys up to max keys of index dbi with time <=
//  until_ms, in order, from the first key after *after (NULL: from the
//  first key).
static int
s_collect (ts_queue_lmdb_t *self, MDB_dbi dbi,
           const ts_queue_lmdb_key_t *after, int64_t until_ms, size_t max,
           char *err)
{
    self->keys_n = 0;
    MDB_cursor *cursor = NULL;
    int rc = ts_queue_lmdb_cursor (self, dbi, &cursor, err);
    if (rc)
        return rc;
    MDB_val key, val;
    int result = 0;
    ts_queue_lmdb_key_t from = { INT64_MIN, 0 };
    if (after && after->job_id < UINT64_MAX)
        from = (ts_queue_lmdb_key_t) { after->time_ms, after->job_id + 1 };
    else
    if (after)
        from = (ts_queue_lmdb_key_t) { after->time_ms + 1, 0 };
    rc = s_seek_key (cursor, &from, &key);
    while (rc == 0 && self->keys_n < max) {
        int64_t time_ms = ts_lmdb_time_get (key.mv_data);
        if (time_ms > until_ms)
            break;
        if (self->keys_n == self->keys_cap) {
            size_t cap = self->keys_cap? self->keys_cap * 2: 64;
            ts_queue_lmdb_key_t *keys = realloc (self->keys,
                                                 cap * sizeof *keys);
            if (!keys) {
                ts_errf (err, "queue: out of memory");
                result = TS_ENOMEM;
                break;
            }
            self->keys = keys;
            self->keys_cap = cap;
        }
        ts_queue_lmdb_key_t *k = &self->keys [self->keys_n++];
        k->time_ms = time_ms;
        k->job_id = ts_lmdb_u64_get ((unsigned char *) key.mv_data + 8);
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
        if (rc == 0 && key.mv_size != S_IDX_LEN)
            rc = MDB_CORRUPTED;
    }
    if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
        result = ts_queue_lmdb_fail (self, rc, err);
    return result;
}

//  Reads the job of index key k of state into self->job. A key whose job
//  is gone, unreadable or in another place is stale: a write batch drops
//  it (and an unreadable record, logged). Returns 0, TS_ENOTFOUND for a
//  stale key, or an error.
static int
s_read_key (ts_queue_lmdb_t *self, ts_job_state_t state, int lane,
            const ts_queue_lmdb_key_t *k, char *err)
{
    MDB_dbi records = s_records_of (self, state);
    char why [TS_ERRLEN] = "";
    int rc = ts_queue_lmdb_read (self, records, k->job_id, self->job, why);
    if (rc == 0 && ts_queue_place (self->job).state == state
    &&  ts_queue_place (self->job).time_ms == k->time_ms
    &&  (state != TS_JOB_QUEUED || s_lane (self->job) == lane))
        return 0;
    if (rc == TS_ENOMEM) {
        ts_errf (err, "%s", why);
        return rc;
    }
    if (!self->write)
        return TS_ENOTFOUND;
    if (rc != 0 && rc != TS_ENOTFOUND) {
        ts_error ("queue: dropping job %" PRIu64 ": %s", k->job_id, why);
        rc = ts_queue_lmdb_write (self, records, false, k->job_id, NULL, err);
        if (rc)
            return rc;
    }
    rc = s_index (self, s_index_of (self, state, lane), false, k->time_ms,
                  k->job_id, err);
    return rc? rc: TS_ENOTFOUND;
}

//  ---------------------------------------------------------------------
//  Batches and named values

int
ts_queue_lmdb_cursor (ts_queue_lmdb_t *self, MDB_dbi dbi,
                      MDB_cursor **cursor, char *err)
{
    assert (self->txn);
    assert (dbi < sizeof self->cursors / sizeof self->cursors [0]);
    if (!self->cursors [dbi]) {
        int rc = mdb_cursor_open (self->txn, dbi, &self->cursors [dbi]);
        if (rc) {
            self->cursors [dbi] = NULL;
            return ts_queue_lmdb_fail (self, rc, err);
        }
    }
    *cursor = self->cursors [dbi];
    return 0;
}

//  Closes the batch's cursors, before it ends (a read batch's cursors
//  outlive it otherwise).
static void
s_cursors_close (ts_queue_lmdb_t *self)
{
    for (size_t i = 0; i < sizeof self->cursors / sizeof self->cursors [0];
         i++)
        if (self->cursors [i]) {
            mdb_cursor_close (self->cursors [i]);
            self->cursors [i] = NULL;
        }
}

static int
s_begin (void *state, bool write, char *err)
{
    ts_queue_lmdb_t *self = state;
    assert (!self->txn);
    self->write = write;
    return ts_lmdb_begin (&self->lmdb, write, &self->txn, err);
}

static int
s_commit (void *state, char *err)
{
    ts_queue_lmdb_t *self = state;
    s_cursors_close (self);
    MDB_txn *txn = self->txn;
    self->txn = NULL;
    return ts_lmdb_commit (&self->lmdb, txn, err);
}

static void
s_abort (void *state)
{
    ts_queue_lmdb_t *self = state;
    s_cursors_close (self);
    ts_lmdb_abort (&self->lmdb, self->txn);
    self->txn = NULL;
}

static int
s_meta_get (void *state, const char *name, int64_t *value, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_val key = { strlen (name), (void *) name }, val;
    int rc = mdb_get (self->txn, self->meta, &key, &val);
    if (rc == MDB_NOTFOUND || (rc == 0 && val.mv_size != sizeof *value))
        return TS_ENOTFOUND;
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    memcpy (value, val.mv_data, sizeof *value);
    return 0;
}

static int
s_meta_put (void *state, const char *name, int64_t value, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_val key = { strlen (name), (void *) name };
    MDB_val val = { sizeof value, &value };
    int rc = mdb_put (self->txn, self->meta, &key, &val, 0);
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

//  ---------------------------------------------------------------------
//  Jobs

static int
s_put (void *state, ts_job_t *job, char *err)
{
    ts_queue_lmdb_t *self = state;
    int64_t next = 1;
    int rc = s_meta_get (self, "next_job_id", &next, err);
    if (rc && rc != TS_ENOTFOUND)
        return rc;
    job->id = (uint64_t) (next > 0? next: 1);
    rc = s_meta_put (self, "next_job_id", (int64_t) job->id + 1, err);
    unsigned char idbuf [8];
    ts_lmdb_u64_put (idbuf, job->id);
    unsigned char buf [TS_QUEUE_LMDB_DEDUP_KEY_MAX];
    for (size_t i = 0; i < job->ids->n && rc == 0; i++) {
        MDB_val key = ts_queue_lmdb_dedup_key (buf, job->ids->items [i],
                                               job->from_ms, job->to_ms);
        MDB_val val = { sizeof idbuf, idbuf };
        int mrc = mdb_put (self->txn, self->dedup, &key, &val, 0);
        if (mrc)
            rc = ts_queue_lmdb_fail (self, mrc, err);
    }
    if (rc == 0)
        rc = s_index (self, s_index_of (self, TS_JOB_QUEUED, s_lane (job)),
                      true, job->visible_at_ms, job->id,
                      err);
    return rc? rc: ts_queue_lmdb_write (self, self->jobs, true, job->id, job,
                                        err);
}

//  Leases up to max visible jobs of one lane into jobs,
//  passing over those accept skips; sets *stop when accept says stop.
//  Returns how many, or an error.
static int
s_lease_lane (ts_queue_lmdb_t *self, int lane, const char *owner,
              int64_t now_ms, int64_t deadline_ms, size_t max,
              ts_queue_accept_fn *accept, void *arg, ts_job_t **jobs,
              bool *stop, char *err)
{
    MDB_dbi ready = s_index_of (self, TS_JOB_QUEUED, lane);
    size_t got = 0;
    ts_queue_lmdb_key_t after;
    bool walked = false;
    //  Key by key in time order, each batch of keys after the last one
    //  looked at: leased keys leave the index, skipped and stale ones are
    //  passed over.
    while (got < max && !*stop) {
        size_t want = max - got;
        if (accept && want < 64)
            want = 64;              //  skips are likely: read ahead
        int rc = s_collect (self, ready, walked? &after: NULL, now_ms, want,
                            err);
        if (rc)
            return rc;
        if (self->keys_n == 0)
            break;
        for (size_t i = 0; i < self->keys_n && got < max; i++) {
            const ts_queue_lmdb_key_t *k = &self->keys [i];
            after = *k;
            walked = true;
            rc = s_read_key (self, TS_JOB_QUEUED, lane, k, err);
            if (rc == TS_ENOTFOUND)
                continue;
            ts_job_t *job = self->job;
            ts_queue_accept_t verdict = rc == 0 && accept
                                      ? accept (job, arg): TS_QUEUE_TAKE;
            if (verdict == TS_QUEUE_SKIP)
                continue;
            if (verdict == TS_QUEUE_STOP) {
                *stop = true;
                break;
            }
            if (rc == 0)
                rc = s_index (self, ready, false, k->time_ms, k->job_id,
                              err);
            job->state = TS_JOB_LEASED;
            job->receives++;
            job->deadline_ms = deadline_ms;
            ts_strlcpy (job->owner, owner, sizeof job->owner);
            if (rc == 0)
                rc = s_index (self, self->leases, true, deadline_ms, job->id,
                              err);
            if (rc == 0)
                rc = ts_queue_lmdb_write (self, self->jobs, true, job->id,
                                          job, err);
            if (rc == 0 && ts_job_copy (jobs [got], job) != 0) {
                ts_errf (err, "queue: out of memory");
                rc = TS_ENOMEM;
            }
            if (rc)
                return rc;
            got++;
        }
    }
    return (int) got;
}

//  Priority jobs first, then the default window's; window jobs only
//  when none of those is visible (or accept passed over the rest).
static int
s_lease (void *state, const char *owner, int64_t now_ms, int64_t deadline_ms,
         size_t max, ts_queue_accept_fn *accept, void *arg, ts_job_t **jobs,
         char *err)
{
    ts_queue_lmdb_t *self = state;
    bool stop = false;
    int got = 0;
    for (int lane = S_HIGH; lane < S_LANES && (size_t) got < max && !stop;
         lane++) {
        int more = s_lease_lane (self, lane, owner, now_ms, deadline_ms,
                                 max - (size_t) got, accept, arg, jobs + got,
                                 &stop, err);
        if (more < 0)
            return more;
        got += more;
    }
    return got;
}

static int
s_get (void *state, uint64_t job_id, ts_job_t *job, char *err)
{
    ts_queue_lmdb_t *self = state;
    int rc = ts_queue_lmdb_read (self, self->jobs, job_id, job, err);
    if (rc == TS_ENOTFOUND)
        rc = ts_queue_lmdb_read (self, self->dead, job_id, job, err);
    return rc;
}

static int
s_update (void *state, const ts_job_t *job, const ts_queue_place_t *was,
          char *err)
{
    ts_queue_lmdb_t *self = state;
    ts_queue_place_t now = ts_queue_place (job);
    assert (was->state != TS_JOB_DEAD || now.state == TS_JOB_DEAD);
    //  A queued job's lane may have changed (a bump to priority): its
    //  key goes from whichever lane holds it.
    int lane = s_lane (job);
    int rc = 0;
    for (int l = S_HIGH; l < S_LANES && rc == 0; l++)
        if (l == lane || was->state == TS_JOB_QUEUED)
            rc = s_index (self, s_index_of (self, was->state, l), false,
                          was->time_ms, job->id, err);
    if (rc == 0 && was->state != TS_JOB_DEAD && now.state == TS_JOB_DEAD) {
        rc = ts_queue_lmdb_dedup_drop (self, job, err);
        if (rc == 0)
            rc = ts_queue_lmdb_write (self, self->jobs, false, job->id, NULL,
                                      err);
    }
    if (rc == 0)
        rc = s_index (self, s_index_of (self, now.state, lane), true,
                      now.time_ms, job->id, err);
    return rc? rc: ts_queue_lmdb_write (self, s_records_of (self, now.state),
                                        true, job->id, job, err);
}

static int
s_remove (void *state, const ts_job_t *job, char *err)
{
    ts_queue_lmdb_t *self = state;
    ts_queue_place_t place = ts_queue_place (job);
    int rc = s_index (self, s_index_of (self, place.state, s_lane (job)),
                      false, place.time_ms, job->id, err);
    if (rc == 0 && place.state != TS_JOB_DEAD)
        rc = ts_queue_lmdb_dedup_drop (self, job, err);
    return rc? rc: ts_queue_lmdb_write (self, s_records_of (self, place.state),
                                        false, job->id, NULL, err);
}

static int
s_purge (void *state, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_stat st;
    int rc = mdb_stat (self->txn, self->dead, &st);
    if (rc == 0)
        rc = mdb_drop (self->txn, self->dead, 0);
    if (rc == 0)
        rc = mdb_drop (self->txn, self->dead_at, 0);
    return rc? ts_queue_lmdb_fail (self, rc, err): (int) st.ms_entries;
}

//  ---------------------------------------------------------------------
//  Lookups

//  How many indexes state has: queued jobs three lanes (ready_high,
//  ready, ready_low), the others one.
static int
s_lanes (ts_job_state_t st)
{
    return st == TS_JOB_QUEUED? S_LANES: 1;
}

static int
s_scan (void *state, ts_job_state_t st, int64_t until_ms,
        ts_queue_scan_fn *fn, void *arg, char *err)
{
    ts_queue_lmdb_t *self = state;
    int rc = 0;
    for (int lane = 0; lane < s_lanes (st) && rc == 0; lane++) {
        rc = s_collect (self, s_index_of (self, st, lane), NULL, until_ms,
                        SIZE_MAX, err);
        for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
            rc = s_read_key (self, st, lane, &self->keys [i], err);
            if (rc == 0)
                rc = fn (self->job, arg);
            else
            if (rc == TS_ENOTFOUND)
                rc = 0;
        }
    }
    return rc;
}

static int
s_first (void *state, ts_job_state_t st, int64_t from_ms, int64_t *time_ms,
         char *err)
{
    ts_queue_lmdb_t *self = state;
    bool found = false;
    for (int lane = 0; lane < s_lanes (st); lane++) {
        MDB_cursor *cursor = NULL;
        int rc = ts_queue_lmdb_cursor (self, s_index_of (self, st, lane),
                                       &cursor, err);
        if (rc)
            return rc;
        MDB_val key;
        rc = s_seek (cursor, from_ms, &key);
        if (rc == 0) {
            int64_t first = ts_lmdb_time_get (key.mv_data);
            if (!found || first < *time_ms)
                *time_ms = first;
            found = true;
        }
        if (rc && rc != MDB_NOTFOUND)
            return ts_queue_lmdb_fail (self, rc, err);
    }
    return found? 0: TS_ENOTFOUND;
}

static int
s_count (void *state, ts_job_state_t st, int64_t from_ms, uint64_t *count,
         char *err)
{
    ts_queue_lmdb_t *self = state;
    *count = 0;
    for (int lane = 0; lane < s_lanes (st); lane++) {
        MDB_dbi dbi = s_index_of (self, st, lane);
        if (from_ms == INT64_MIN) {
            MDB_stat stat;
            int rc = mdb_stat (self->txn, st == TS_JOB_DEAD? self->dead: dbi,
                               &stat);
            if (rc)
                return ts_queue_lmdb_fail (self, rc, err);
            *count += stat.ms_entries;
            continue;
        }
        MDB_cursor *cursor = NULL;
        int rc = ts_queue_lmdb_cursor (self, dbi, &cursor, err);
        if (rc)
            return rc;
        MDB_val key, val;
        rc = s_seek (cursor, from_ms, &key);
        while (rc == 0) {
            (*count)++;
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
        }
        if (rc != MDB_NOTFOUND)
            return ts_queue_lmdb_fail (self, rc, err);
    }
    return 0;
}

static int
s_oldest (void *state, int64_t *enqueued_at_ms, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_cursor *cursor = NULL;
    int rc = ts_queue_lmdb_cursor (self, self->jobs, &cursor, err);
    if (rc)
        return rc;
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    if (rc == 0 && key.mv_size != 8)
        rc = MDB_CORRUPTED;
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    rc = ts_queue_lmdb_decode (&val, ts_lmdb_u64_get (key.mv_data), self->job,
                               err);
    if (rc == 0)
        *enqueued_at_ms = self->job->enqueued_at_ms;
    return rc;
}

//  ---------------------------------------------------------------------
//  Open and close

static void
s_close (void *state)
{
    ts_queue_lmdb_t *self = state;
    if (!self)
        return;
    s_abort (self);
    ts_lmdb_close (&self->lmdb, true);
    if (self->lock_fd >= 0)
        close (self->lock_fd);      //  releases the flock
    ts_job_destroy (&self->job);
    free (self->buf);
    free (self->keys);
    free (self);
}

static void *
s_open (const ts_config_t *cfg, char *err)
{
    const char *path = ts_config_str (cfg, "broker.queue_path");
    if (!path || !*path) {
        ts_errf (err, "broker.queue_path: must not be empty");
        return NULL;
    }
    int rc = ts_mkdirs (path, 0750);
    if (rc) {
        ts_errf (err, "broker.queue_path: cannot create %s: %s", path,
                 strerror (rc));
        return NULL;
    }
    ts_queue_lmdb_t *self = calloc (1, sizeof *self);
    if (!self || !(self->job = ts_job_new ())) {
        ts_errf (err, "queue: out of memory");
        free (self);
        return NULL;
    }
    self->lock_fd = -1;
    self->lmdb.what = "queue";
    self->lmdb.key_path = "broker.queue_path";
    self->lmdb.key_map = "broker.queue_map_size_mb";
    self->lmdb.map_size_mb = ts_config_int (cfg, "broker.queue_map_size_mb");
    char lock_path [PATH_MAX];
    if (snprintf (lock_path, sizeof lock_path, "%s/broker.lock", path)
        >= (int) sizeof lock_path) {
        ts_errf (err, "broker.queue_path: path too long");
        s_close (self);
        return NULL;
    }
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->lock_fd < 0 || flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ts_errf (err, "broker.queue_path: cannot lock %s: %s", lock_path,
                 errno == EWOULDBLOCK? "in use by another broker"
                                     : strerror (errno));
        s_close (self);
        return NULL;
    }
    ts_lmdb_db_t dbs [] = {
        { "jobs", &self->jobs }, { "dead", &self->dead },
        { "ready", &self->ready }, { "ready_low", &self->ready_low },
        { "ready_high", &self->ready_high },
        { "leases", &self->leases },
        { "dead_at", &self->dead_at }, { "dedup", &self->dedup },
        { "meta", &self->meta }, { "fetched", &self->fetched },
        { "filled", &self->filled } };
    rc = ts_lmdb_open (&self->lmdb, path, TS_QUEUE_LMDB_DBS, 0, MDB_NOSYNC,
                       err);
    if (rc == 0)
        rc = ts_lmdb_dbs_open (&self->lmdb, dbs, sizeof dbs / sizeof dbs [0],
                               err);
    if (rc) {
        s_close (self);
        return NULL;
    }
    return self;
}

static int
s_sync (void *state, char *err)
{
    ts_queue_lmdb_t *self = state;
    int rc = mdb_env_sync (self->lmdb.env, 1);
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

const ts_queue_backend_t ts_queue_lmdb = {
    .name = "lmdb",
    .open = s_open,
    .close = s_close,
    .sync = s_sync,
    .begin = s_begin,
    .commit = s_commit,
    .abort = s_abort,
    .meta_get = s_meta_get,
    .meta_put = s_meta_put,
    .put = s_put,
    .lease = s_lease,
    .get = s_get,
    .update = s_update,
    .remove = s_remove,
    .purge = s_purge,
    .holder = ts_queue_lmdb_holder,
    .scan = s_scan,
    .first = s_first,
    .count = s_count,
    .oldest = s_oldest,
    .fetched_put = ts_queue_lmdb_fetched_put,
    .fetched_get = ts_queue_lmdb_fetched_get,
    .fill_put = ts_queue_lmdb_fill_put,
    .fill_get = ts_queue_lmdb_fill_get,
};
