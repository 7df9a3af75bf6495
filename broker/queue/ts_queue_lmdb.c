/*  ts_queue_lmdb - the LMDB queue backend: environment, record format and
    storage primitives. The broker's jobs live in their own LMDB
    environment (broker.queue_path), apart from the data store. The
    databases and the primitives are described in ts_queue_lmdb.h; the
    queue operations are in ts_queue_lmdb_ops.c.

    A record (jobs, dead) is a fixed head in host byte order, as LMDB's
    own pages are:

        version (1) state (1) nids (2) receives (4) enqueued_at (8)
        visible_at (8) deadline (8) dead_at (8) owner_len (2) error_len (2)

    then owner, error, and each id as length (1) + bytes. Records read back
    are bounds-checked: a corrupt one is an error, never a crash.

    Durability: the environment is opened with MDB_NOSYNC. A commit writes
    its pages to the file at once, so they are in the OS page cache and
    survive a crash of the broker (SIGKILL included); ts_queue_sync
    (mdb_env_sync) flushes them to disk, once per broker loop wake. A
    power loss can thus lose the last wake's changes; on a filesystem
    that keeps the order of writes it cannot corrupt the file (LMDB's
    meta pages are written last), elsewhere LMDB makes no such promise
    for writes after the last sync. An exclusive lock file,
    broker.lock, keeps a second broker from opening the same directory. */

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
#include <sys/stat.h>
#include <unistd.h>

#define S_VERSION   1               //  record format
#define S_HEAD      44              //  fixed head of a record
#define S_IDX_LEN   16              //  time (8) | job id (8)
#define S_MAX_DBS   8               //  7 used

//  ---------------------------------------------------------------------
//  Errors and transactions

int
ts_queue_lmdb_fail (ts_queue_lmdb_t *self, int rc, char *err)
{
    if (rc == MDB_MAP_FULL)
        ts_errf (err, "queue: lmdb: %s; raise broker.queue_map_size_mb "
                 "(now %lld)", mdb_strerror (rc),
                 (long long) self->map_size_mb);
    else
    if (rc == ENOSPC)
        ts_errf (err, "queue: lmdb: %s (free disk space under "
                 "broker.queue_path)", mdb_strerror (rc));
    else
        ts_errf (err, "queue: lmdb: %s", mdb_strerror (rc));
    return TS_EBACKEND;
}

int
ts_queue_lmdb_begin (ts_queue_lmdb_t *self, bool write, MDB_txn **txn,
                     char *err)
{
    int rc = mdb_txn_begin (self->env, NULL, write? 0: MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize (self->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin (self->env, NULL, write? 0: MDB_RDONLY, txn);
    }
    if (rc) {
        *txn = NULL;
        return ts_queue_lmdb_fail (self, rc, err);
    }
    return 0;
}

int
ts_queue_lmdb_end (ts_queue_lmdb_t *self, MDB_txn *txn, int result,
                   char *err)
{
    if (result < 0) {
        mdb_txn_abort (txn);
        return result;
    }
    int rc = mdb_txn_commit (txn);
    return rc? ts_queue_lmdb_fail (self, rc, err): result;
}

//  ---------------------------------------------------------------------
//  Keys

static void
s_u64_put (unsigned char *buf, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        buf [i] = (unsigned char) (value & 0xff);
        value >>= 8;
    }
}

static uint64_t
s_u64_get (const unsigned char *buf)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | buf [i];
    return value;
}

static void
s_time_put (unsigned char *buf, int64_t time_ms)
{
    s_u64_put (buf, (uint64_t) time_ms ^ (UINT64_C (1) << 63));
}

static int64_t
s_time_get (const unsigned char *buf)
{
    uint64_t u = s_u64_get (buf) ^ (UINT64_C (1) << 63);
    int64_t time_ms;
    memcpy (&time_ms, &u, sizeof time_ms);
    return time_ms;
}

//  Puts (put) or deletes an index key time | job id. A key already gone
//  is not an error: the index may only ever be too small, never wrong.
int
ts_queue_lmdb_index (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                     bool put,
                     int64_t time_ms, uint64_t job_id, char *err)
{
    unsigned char buf [S_IDX_LEN];
    s_time_put (buf, time_ms);
    s_u64_put (buf + 8, job_id);
    MDB_val key = { sizeof buf, buf }, val = { 0, "" };
    int rc = put? mdb_put (txn, dbi, &key, &val, 0)
                : mdb_del (txn, dbi, &key, NULL);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

//  Appends an index key to self->keys. Returns 0 or TS_ENOMEM.
static int
s_collect (ts_queue_lmdb_t *self, const MDB_val *key, char *err)
{
    if (self->keys_n == self->keys_cap) {
        size_t cap = self->keys_cap? self->keys_cap * 2: 64;
        ts_queue_lmdb_key_t *keys = realloc (self->keys, cap * sizeof *keys);
        if (!keys) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
        self->keys = keys;
        self->keys_cap = cap;
    }
    ts_queue_lmdb_key_t *k = &self->keys [self->keys_n++];
    k->time_ms = s_time_get (key->mv_data);
    k->job_id = s_u64_get ((unsigned char *) key->mv_data + 8);
    return 0;
}

//  Collects into self->keys the index keys of dbi with time <= until_ms,
//  from the first. Returns 0 or an error.
int
ts_queue_lmdb_collect (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                       int64_t until_ms, char *err)
{
    self->keys_n = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    MDB_val key, val;
    int result = 0;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0 && result == 0) {
        if (key.mv_size != S_IDX_LEN) {
            ts_errf (err, "queue: corrupt index key");
            result = TS_EBACKEND;
            break;
        }
        if (s_time_get (key.mv_data) > until_ms)
            break;
        result = s_collect (self, &key, err);
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
        result = ts_queue_lmdb_fail (self, rc, err);
    return result;
}

//  Positions cursor on the first key of its index at or after from_ms.
//  Returns an LMDB code (MDB_NOTFOUND: none).
static int
s_seek (MDB_cursor *cursor, int64_t from_ms, MDB_val *key)
{
    unsigned char buf [S_IDX_LEN];
    s_time_put (buf, from_ms);
    memset (buf + 8, 0, 8);
    key->mv_size = sizeof buf;
    key->mv_data = buf;
    MDB_val val;
    int rc = mdb_cursor_get (cursor, key, &val, MDB_SET_RANGE);
    return rc == 0 && key->mv_size != S_IDX_LEN? MDB_CORRUPTED: rc;
}

int
ts_queue_lmdb_first_key (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                         int64_t from_ms, ts_queue_lmdb_key_t *key,
                         char *err)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    MDB_val k;
    rc = s_seek (cursor, from_ms, &k);
    if (rc == 0) {
        key->time_ms = s_time_get (k.mv_data);
        key->job_id = s_u64_get ((unsigned char *) k.mv_data + 8);
    }
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

int
ts_queue_lmdb_count_from (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                          int64_t from_ms, uint64_t *count, char *err)
{
    *count = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    MDB_val key, val;
    rc = s_seek (cursor, from_ms, &key);
    while (rc == 0) {
        (*count)++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND? 0: ts_queue_lmdb_fail (self, rc, err);
}

//  ---------------------------------------------------------------------
//  Records

static void
s_put16 (unsigned char *p, size_t value)
{
    uint16_t v = (uint16_t) value;
    memcpy (p, &v, 2);
}

static size_t
s_get16 (const unsigned char *p)
{
    uint16_t v;
    memcpy (&v, p, 2);
    return v;
}

//  Encodes job into the scratch buffer. Returns 0 or TS_ENOMEM.
static int
s_encode (ts_queue_lmdb_t *self, const ts_job_t *job, MDB_val *val, char *err)
{
    size_t owner_len = strnlen (job->owner, TS_QUEUE_OWNER_MAX);
    size_t error_len = strnlen (job->error, TS_ERRLEN - 1);
    size_t size = S_HEAD + owner_len + error_len;
    for (size_t i = 0; i < job->ids->n; i++)
        size += 1 + strlen (job->ids->items [i]);
    if (size > self->buf_size) {
        unsigned char *buf = realloc (self->buf, size);
        if (!buf) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
        self->buf = buf;
        self->buf_size = size;
    }
    unsigned char *p = self->buf;
    uint32_t receives = job->receives;
    p [0] = S_VERSION;
    p [1] = (unsigned char) job->state;
    s_put16 (p + 2, job->ids->n);
    memcpy (p + 4, &receives, 4);
    memcpy (p + 8, &job->enqueued_at_ms, 8);
    memcpy (p + 16, &job->visible_at_ms, 8);
    memcpy (p + 24, &job->deadline_ms, 8);
    memcpy (p + 32, &job->dead_at_ms, 8);
    s_put16 (p + 40, owner_len);
    s_put16 (p + 42, error_len);
    p += S_HEAD;
    memcpy (p, job->owner, owner_len);
    p += owner_len;
    memcpy (p, job->error, error_len);
    p += error_len;
    for (size_t i = 0; i < job->ids->n; i++) {
        size_t len = strlen (job->ids->items [i]);
        *p++ = (unsigned char) len;
        memcpy (p, job->ids->items [i], len);
        p += len;
    }
    val->mv_data = self->buf;
    val->mv_size = size;
    return 0;
}

//  Decodes a record of job_id into job. Returns 0, TS_EBACKEND (corrupt)
//  or TS_ENOMEM.
static int
s_decode (const MDB_val *val, uint64_t job_id, ts_job_t *job, char *err)
{
    const unsigned char *p = val->mv_data;
    size_t size = val->mv_size;
    ts_strlist_clear (job->ids);
    job->id = job_id;
    if (size < S_HEAD || p [0] != S_VERSION || p [1] > TS_JOB_DEAD)
        goto corrupt;
    size_t nids = s_get16 (p + 2);
    size_t owner_len = s_get16 (p + 40);
    size_t error_len = s_get16 (p + 42);
    if (owner_len > TS_QUEUE_OWNER_MAX || error_len >= TS_ERRLEN
    ||  S_HEAD + owner_len + error_len > size || nids == 0)
        goto corrupt;
    job->state = (ts_job_state_t) p [1];
    memcpy (&job->receives, p + 4, 4);
    memcpy (&job->enqueued_at_ms, p + 8, 8);
    memcpy (&job->visible_at_ms, p + 16, 8);
    memcpy (&job->deadline_ms, p + 24, 8);
    memcpy (&job->dead_at_ms, p + 32, 8);
    size_t at = S_HEAD;
    memcpy (job->owner, p + at, owner_len);
    job->owner [owner_len] = 0;
    at += owner_len;
    memcpy (job->error, p + at, error_len);
    job->error [error_len] = 0;
    at += error_len;
    for (size_t i = 0; i < nids; i++) {
        if (at >= size)
            goto corrupt;
        size_t len = p [at++];
        if (len > size - at
        ||  !ts_name_existing_n ((const char *) p + at, len))
            goto corrupt;
        if (ts_strlist_append_n (job->ids, (const char *) p + at, len)) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
        at += len;
    }
    if (at != size)
        goto corrupt;
    return 0;
corrupt:
    ts_errf (err, "queue: job %" PRIu64 ": corrupt record", job_id);
    return TS_EBACKEND;
}

//  Reads job_id from dbi (jobs or dead) into job. Returns 0,
//  TS_ENOTFOUND, TS_EBACKEND, TS_ENOMEM.
int
ts_queue_lmdb_read (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                    uint64_t job_id,
                    ts_job_t *job, char *err)
{
    unsigned char buf [8];
    s_u64_put (buf, job_id);
    MDB_val key = { sizeof buf, buf }, val;
    int rc = mdb_get (txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND) {
        ts_errf (err, "job %" PRIu64 " not found", job_id);
        return TS_ENOTFOUND;
    }
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    return s_decode (&val, job_id, job, err);
}

int
ts_queue_lmdb_read_first (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                          ts_job_t *job, char *err)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    if (rc == 0 && key.mv_size != 8)
        rc = MDB_CORRUPTED;
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    return s_decode (&val, s_u64_get (key.mv_data), job, err);
}

//  Writes job (put) or deletes it in dbi.
int
ts_queue_lmdb_write (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                     bool put,
                     const ts_job_t *job, char *err)
{
    unsigned char buf [8];
    s_u64_put (buf, job->id);
    MDB_val key = { sizeof buf, buf }, val;
    int rc = 0;
    if (put) {
        rc = s_encode (self, job, &val, err);
        if (rc)
            return rc;
        rc = mdb_put (txn, dbi, &key, &val, 0);
    }
    else {
        rc = mdb_del (txn, dbi, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

//  Removes the dedup entries that point at job.
int
ts_queue_lmdb_dedup_drop (ts_queue_lmdb_t *self, MDB_txn *txn,
                          const ts_job_t *job, char *err)
{
    for (size_t i = 0; i < job->ids->n; i++) {
        MDB_val key = { strlen (job->ids->items [i]), job->ids->items [i] };
        MDB_val val;
        int rc = mdb_get (txn, self->dedup, &key, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc == 0 && val.mv_size == 8 && s_u64_get (val.mv_data) == job->id)
            rc = mdb_del (txn, self->dedup, &key, NULL);
        if (rc)
            return ts_queue_lmdb_fail (self, rc, err);
    }
    return 0;
}

int
ts_queue_lmdb_holder (ts_queue_lmdb_t *self, MDB_txn *txn, const char *id,
                      uint64_t *job_id, char *err)
{
    *job_id = 0;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (txn, self->dedup, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        //  An entry whose job is gone (dropped as unreadable) is stale.
        MDB_val jkey = val, jval;
        rc = mdb_get (txn, self->jobs, &jkey, &jval);
        if (rc == 0)
            *job_id = s_u64_get (val.mv_data);
    }
    return rc == 0 || rc == MDB_NOTFOUND? 0
                                        : ts_queue_lmdb_fail (self, rc, err);
}

//  Removes the index key of a live job (ready or leases by its state).
int
ts_queue_lmdb_unindex (ts_queue_lmdb_t *self, MDB_txn *txn,
                       const ts_job_t *job, char *err)
{
    if (job->state == TS_JOB_LEASED)
        return ts_queue_lmdb_index (self, txn, self->leases, false,
                                    job->deadline_ms,
                                    job->id, err);
    return ts_queue_lmdb_index (self, txn, self->ready, false,
                                job->visible_at_ms,
                                job->id, err);
}

int
ts_queue_lmdb_drop_broken (ts_queue_lmdb_t *self, MDB_txn *txn,
                           MDB_dbi index, MDB_dbi records,
                           const ts_queue_lmdb_key_t *key, int rc, char *err)
{
    if (rc != TS_ENOTFOUND)
        ts_error ("queue: dropping job %" PRIu64 ": %s", key->job_id,
                  err? err: "unreadable");
    rc = ts_queue_lmdb_index (self, txn, index, false, key->time_ms,
                              key->job_id, err);
    if (rc)
        return rc;
    unsigned char buf [8];
    s_u64_put (buf, key->job_id);
    MDB_val k = { sizeof buf, buf };
    int mrc = mdb_del (txn, records, &k, NULL);
    return mrc && mrc != MDB_NOTFOUND? ts_queue_lmdb_fail (self, mrc, err): 0;
}

//  ---------------------------------------------------------------------
//  State changes inside a transaction

//  A live job becomes queued, visible at visible_at_ms.
int
ts_queue_lmdb_to_ready (ts_queue_lmdb_t *self, MDB_txn *txn, ts_job_t *job,
                        int64_t visible_at_ms, char *err)
{
    int rc = ts_queue_lmdb_unindex (self, txn, job, err);
    job->state = TS_JOB_QUEUED;
    job->deadline_ms = 0;
    job->visible_at_ms = visible_at_ms;
    if (rc == 0)
        rc = ts_queue_lmdb_index (self, txn, self->ready, true,
                                  visible_at_ms, job->id,
                                  err);
    return rc? rc: ts_queue_lmdb_write (self, txn, self->jobs, true, job, err);
}

//  A live job moves to the DLQ with error.
static int
s_to_dead (ts_queue_lmdb_t *self, MDB_txn *txn, ts_job_t *job, int64_t now_ms,
           const char *error, char *err)
{
    int rc = ts_queue_lmdb_unindex (self, txn, job, err);
    if (rc == 0)
        rc = ts_queue_lmdb_dedup_drop (self, txn, job, err);
    if (rc == 0)
        rc = ts_queue_lmdb_write (self, txn, self->jobs, false, job, err);
    job->state = TS_JOB_DEAD;
    job->deadline_ms = 0;
    job->dead_at_ms = now_ms;
    ts_strlcpy (job->error, error, sizeof job->error);
    if (rc == 0)
        rc = ts_queue_lmdb_index (self, txn, self->dead_at, true, now_ms,
                                  job->id, err);
    return rc? rc: ts_queue_lmdb_write (self, txn, self->dead, true, job, err);
}

//  A leased job failed: to the DLQ if it may not be retried or was
//  received max_receives times, else visible after delay_ms.
int
ts_queue_lmdb_fail_leased (ts_queue_lmdb_t *self, MDB_txn *txn,
                           ts_job_t *job, int64_t now_ms,
                           const char *error, bool retry,
                           int64_t delay_ms, char *err)
{
    if (!retry || job->receives >= self->policy->max_receives)
        return s_to_dead (self, txn, job, now_ms, error, err);
    ts_strlcpy (job->error, error, sizeof job->error);
    return ts_queue_lmdb_to_ready (self, txn, job, now_ms + delay_ms, err);
}

//  Queues a job of those ids not queued or leased. Returns the number of
//  ids queued (0: nothing, *job_id 0) or an error.
int
ts_queue_lmdb_push_txn (ts_queue_lmdb_t *self, MDB_txn *txn,
                        const char *const *ids,
                        size_t n, int64_t now_ms, uint64_t *job_id, char *err)
{
    *job_id = 0;
    MDB_val mkey = { 11, "next_job_id" }, mval;
    uint64_t next = 1;
    int rc = mdb_get (txn, self->meta, &mkey, &mval);
    if (rc == 0 && mval.mv_size == sizeof next)
        memcpy (&next, mval.mv_data, sizeof next);
    else
    if (rc != 0 && rc != MDB_NOTFOUND)
        return ts_queue_lmdb_fail (self, rc, err);
    ts_job_t *job = self->job;
    ts_strlist_clear (job->ids);
    unsigned char idbuf [8];
    s_u64_put (idbuf, next);
    //  A dedup entry per accepted id; NOOVERWRITE skips the ids queued or
    //  leased already and repeats within ids. An entry whose job is gone
    //  (dropped as unreadable, so its entries could not be found) is
    //  taken over: it must not keep its id from ever being queued again.
    for (size_t i = 0; i < n; i++) {
        MDB_val key = { strlen (ids [i]), (void *) ids [i] };
        MDB_val val = { sizeof idbuf, idbuf };
        rc = mdb_put (txn, self->dedup, &key, &val, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            if (val.mv_size == 8 && s_u64_get (val.mv_data) == next)
                continue;           //  a repeat within ids
            MDB_val jkey = val, jval;
            rc = val.mv_size == 8? mdb_get (txn, self->jobs, &jkey, &jval)
                                 : MDB_NOTFOUND;
            if (rc == 0)
                continue;           //  queued or leased: skip it
            val.mv_size = sizeof idbuf;
            val.mv_data = idbuf;
            if (rc == MDB_NOTFOUND)
                rc = mdb_put (txn, self->dedup, &key, &val, 0);
        }
        if (rc)
            return ts_queue_lmdb_fail (self, rc, err);
        if (ts_strlist_append (job->ids, ids [i])) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
    }
    if (job->ids->n == 0)
        return 0;
    job->id = next++;
    job->state = TS_JOB_QUEUED;
    job->receives = 0;
    job->enqueued_at_ms = job->visible_at_ms = now_ms;
    job->deadline_ms = job->dead_at_ms = 0;
    job->owner [0] = job->error [0] = 0;
    mval.mv_size = sizeof next;
    mval.mv_data = &next;
    rc = mdb_put (txn, self->meta, &mkey, &mval, 0);
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    rc = ts_queue_lmdb_index (self, txn, self->ready, true, now_ms, job->id,
                              err);
    if (rc == 0)
        rc = ts_queue_lmdb_write (self, txn, self->jobs, true, job, err);
    if (rc)
        return rc;
    *job_id = job->id;
    return (int) job->ids->n;
}

//  ---------------------------------------------------------------------
//  Clock steps

//  Moves the times of the jobs indexed in dbi (ready, leases or dead_at)
//  by delta_ms; counts them into *count. Dead jobs move too, so that
//  every stored time is on the same clock (a later open compares them
//  with its own).
static int
s_shift_index (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
               int64_t delta_ms, size_t *count, char *err)
{
    ts_job_state_t state = dbi == self->leases? TS_JOB_LEASED
                         : dbi == self->dead_at? TS_JOB_DEAD: TS_JOB_QUEUED;
    MDB_dbi records = state == TS_JOB_DEAD? self->dead: self->jobs;
    ts_job_t *job = self->job;
    int rc = ts_queue_lmdb_collect (self, txn, dbi, INT64_MAX, err);
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        const ts_queue_lmdb_key_t *key = &self->keys [i];
        rc = ts_queue_lmdb_read (self, txn, records, key->job_id, job, err);
        if (rc) {
            if (rc != TS_ENOMEM)
                rc = ts_queue_lmdb_drop_broken (self, txn, dbi, records,
                                                key, rc, err);
            continue;
        }
        rc = ts_queue_lmdb_index (self, txn, dbi, false, key->time_ms,
                                  key->job_id, err);
        int64_t *time_ms = state == TS_JOB_LEASED? &job->deadline_ms
                         : state == TS_JOB_DEAD? &job->dead_at_ms
                         : &job->visible_at_ms;
        if (job->state != state || *time_ms != key->time_ms)
            continue;               //  a stale key, now dropped
        job->enqueued_at_ms += delta_ms;
        if (state != TS_JOB_DEAD)
            job->visible_at_ms += delta_ms;
        if (state != TS_JOB_QUEUED)
            *time_ms += delta_ms;
        if (rc == 0)
            rc = ts_queue_lmdb_index (self, txn, dbi, true, *time_ms,
                                      job->id, err);
        if (rc == 0)
            rc = ts_queue_lmdb_write (self, txn, records, true, job, err);
        (*count)++;
    }
    return rc;
}

int
ts_queue_lmdb_shift (void *state, int64_t delta_ms, char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    size_t count = 0;
    rc = s_shift_index (self, txn, self->ready, delta_ms, &count, err);
    if (rc == 0)
        rc = s_shift_index (self, txn, self->leases, delta_ms, &count, err);
    if (rc == 0)
        rc = s_shift_index (self, txn, self->dead_at, delta_ms, &count, err);
    return ts_queue_lmdb_end (self, txn, rc? rc: (int) count, err);
}

//  The latest wall-clock time the queue is known to have seen: the newest
//  job's enqueue time or the latest death. INT64_MIN if there is none.
static int64_t
s_last_seen (ts_queue_lmdb_t *self)
{
    MDB_txn *txn;
    if (ts_queue_lmdb_begin (self, false, &txn, NULL))
        return INT64_MIN;
    int64_t seen = INT64_MIN;
    MDB_cursor *cursor;
    MDB_val key, val;
    if (mdb_cursor_open (txn, self->jobs, &cursor) == 0) {
        if (mdb_cursor_get (cursor, &key, &val, MDB_LAST) == 0
        &&  key.mv_size == 8
        &&  s_decode (&val, s_u64_get (key.mv_data), self->job, NULL) == 0)
            seen = self->job->enqueued_at_ms;
        mdb_cursor_close (cursor);
    }
    if (mdb_cursor_open (txn, self->dead_at, &cursor) == 0) {
        if (mdb_cursor_get (cursor, &key, &val, MDB_LAST) == 0
        &&  key.mv_size == S_IDX_LEN && s_time_get (key.mv_data) > seen)
            seen = s_time_get (key.mv_data);
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    return seen;
}

//  The clock is behind what the queue saw before this open (it stepped
//  back while the broker was down): moves the jobs' times back with it.
//  A failure is logged only: the jobs then wait for the clock, which is
//  better than a broker that cannot start.
static void
s_follow_clock (ts_queue_lmdb_t *self, int64_t now_ms)
{
    int64_t seen = s_last_seen (self);
    if (seen == INT64_MIN || now_ms >= seen - TS_QUEUE_CLOCK_SLACK_MS)
        return;
    char err [TS_ERRLEN];
    int rc = ts_queue_lmdb_shift (self, now_ms - seen, err);
    if (rc < 0)
        ts_error ("queue: the clock is %" PRId64 " ms behind the newest "
                  "job; cannot move the jobs' times back: %s",
                  seen - now_ms, err);
    else
        ts_warn ("queue: the clock is %" PRId64 " ms behind the newest "
                 "job; %d jobs moved back with it", seen - now_ms, rc);
}

//  ---------------------------------------------------------------------
//  Open and close

//  Leases held before this open end within TS_QUEUE_RESTART_LEASE_MS.
static int
s_shorten_leases (ts_queue_lmdb_t *self, int64_t now_ms, char *err)
{
    MDB_txn *txn;
    int rc = ts_queue_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    int64_t limit = now_ms + TS_QUEUE_RESTART_LEASE_MS;
    rc = ts_queue_lmdb_collect (self, txn, self->leases, INT64_MAX, err);
    size_t count = 0;
    ts_job_t *job = self->job;
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        const ts_queue_lmdb_key_t *key = &self->keys [i];
        if (key->time_ms <= limit)
            continue;
        rc = ts_queue_lmdb_read (self, txn, self->jobs, key->job_id, job, err);
        if (rc) {
            if (rc != TS_ENOMEM)    //  a readable job is never dropped
                rc = ts_queue_lmdb_drop_broken (self, txn, self->leases,
                                                self->jobs, key, rc, err);
            continue;
        }
        rc = ts_queue_lmdb_index (self, txn, self->leases, false, key->time_ms,
                                  key->job_id, err);
        if (job->state != TS_JOB_LEASED || job->deadline_ms != key->time_ms)
            continue;               //  a stale key, now dropped
        job->deadline_ms = limit;
        if (rc == 0)
            rc = ts_queue_lmdb_index (self, txn, self->leases, true, limit,
                                      job->id, err);
        if (rc == 0)
            rc = ts_queue_lmdb_write (self, txn, self->jobs, true, job, err);
        count++;
    }
    if (rc == 0 && count)
        ts_info ("queue: %zu leases from before the restart end within "
                 "%d s", count, TS_QUEUE_RESTART_LEASE_MS / 1000);
    return ts_queue_lmdb_end (self, txn, rc, err);
}

void *
ts_queue_lmdb_open (const ts_config_t *cfg, ts_queue_policy_t *policy,
                    int64_t now_ms, char *err)
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
    if (!self || !(self->job = ts_job_new ())
    ||  !(self->other = ts_job_new ())) {
        ts_errf (err, "queue: out of memory");
        if (self)
            ts_job_destroy (&self->job);
        free (self);
        return NULL;
    }
    self->lock_fd = -1;
    self->policy = policy;
    self->map_size_mb = ts_config_int (cfg, "broker.queue_map_size_mb");
    char lock_path [PATH_MAX];
    if (snprintf (lock_path, sizeof lock_path, "%s/broker.lock", path)
        >= (int) sizeof lock_path) {
        ts_errf (err, "broker.queue_path: path too long");
        ts_queue_lmdb_close (self);
        return NULL;
    }
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->lock_fd < 0 || flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ts_errf (err, "broker.queue_path: cannot lock %s: %s", lock_path,
                 errno == EWOULDBLOCK? "in use by another broker"
                                     : strerror (errno));
        ts_queue_lmdb_close (self);
        return NULL;
    }
    rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, S_MAX_DBS);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env,
                                  (size_t) self->map_size_mb * 1024 * 1024);
    if (rc == 0)
        rc = mdb_env_open (self->env, path, MDB_NOSYNC, 0640);
    if (rc) {
        ts_errf (err, "broker.queue_path: cannot open %s: %s", path,
                 mdb_strerror (rc));
        ts_queue_lmdb_close (self);
        return NULL;
    }
    MDB_txn *txn;
    if (ts_queue_lmdb_begin (self, true, &txn, err)) {
        ts_queue_lmdb_close (self);
        return NULL;
    }
    struct { const char *name; MDB_dbi *dbi; } dbs [] = {
        { "jobs", &self->jobs }, { "dead", &self->dead },
        { "ready", &self->ready }, { "leases", &self->leases },
        { "dead_at", &self->dead_at }, { "dedup", &self->dedup },
        { "meta", &self->meta } };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs [0] && rc == 0; i++)
        rc = mdb_dbi_open (txn, dbs [i].name, MDB_CREATE, dbs [i].dbi);
    if (rc)
        rc = ts_queue_lmdb_fail (self, rc, err);
    rc = ts_queue_lmdb_end (self, txn, rc, err);
    if (rc == 0)
        s_follow_clock (self, now_ms);
    if (rc == 0)
        rc = s_shorten_leases (self, now_ms, err);
    if (rc == 0 && mdb_env_sync (self->env, 1) != 0)
        ts_warn ("queue: cannot sync %s", path);
    if (rc) {
        ts_queue_lmdb_close (self);
        return NULL;
    }
    return self;
}

void
ts_queue_lmdb_close (void *state)
{
    ts_queue_lmdb_t *self = state;
    if (!self)
        return;
    if (self->env) {
        mdb_env_sync (self->env, 1);
        mdb_env_close (self->env);
    }
    if (self->lock_fd >= 0)
        close (self->lock_fd);      //  releases the flock
    ts_job_destroy (&self->job);
    ts_job_destroy (&self->other);
    free (self->buf);
    free (self->keys);
    free (self);
}

