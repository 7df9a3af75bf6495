/*  ts_queue_lmdb - the LMDB queue backend: the storage primitives of
    ts_queue_backend.h over the broker's own LMDB environment
    (broker.queue_path), apart from the data store. It takes no decision
    about a job: ts_queue.c does.

    Named databases (BE = big-endian, so byte order is numeric order):

        jobs     job id (8 BE)              -> record   queued and leased
        dead     job id (8 BE)              -> record   dead-lettered
        ready    visible_at (8) | job id    -> ""       queued jobs
        leases   deadline (8) | job id      -> ""       leased jobs
        dead_at  dead_at (8) | job id       -> ""       dead jobs
        dedup    series id                  -> job id (8 BE), live jobs
        meta     name                       -> int64 (host order):
                 "next_job_id", "clock_ms", "total_done", ...
        fetched  series id                  -> int64 (host order): when
                 a job holding it was last acked

    Index times are epoch ms, 8 bytes BE with the sign bit flipped
    (ts_lmdb_time_put). A batch is one LMDB transaction. A record (jobs,
    dead) is a fixed head in host byte order, as LMDB's own pages are:

        version (1) state (1) nids (2) receives (4) enqueued_at (8)
        visible_at (8) deadline (8) dead_at (8) owner_len (2) error_len (2)

    then owner, error, and each id as length (1) + bytes; a version 2
    record (a job with a request id) ends with the rid as length (1) +
    bytes. A version 3 record (a job with a source or a window) has the
    rid (length 0 if none), then the source as length (1) + bytes, then
    from_ms (8) and to_ms (8). Each record is written in the oldest
    version that holds it: a queue of jobs without a source or a window
    reads back in a broker that predates them, and one without rids in a
    broker that predates rids.
    Records read back are bounds-checked: a corrupt one is an error,
    never a crash.
    An index key whose record is gone, unreadable or elsewhere is dropped
    by the next write batch that walks over it, so one bad record cannot
    block the queue.

    Durability: the environment is opened with MDB_NOSYNC. A commit writes
    its pages to the file at once, so they are in the OS page cache and
    survive a crash of the broker (SIGKILL included); sync (mdb_env_sync)
    flushes them to disk, once per broker loop wake. A power loss can thus
    lose the last wake's changes; on a filesystem that keeps the order of
    writes it cannot corrupt the file (LMDB's meta pages are written
    last). An exclusive lock file, broker.lock, keeps a second broker from
    opening the same directory. */

#include "ts_queue_backend.h"
#include "ts_lmdb.h"
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

#define S_VERSION   1               //  record format without a rid
#define S_VERSION_RID 2             //  record format ending with a rid
#define S_VERSION_ATTRS 3           //  ... then a source and a window
#define S_HEAD      44              //  fixed head of a record
#define S_IDX_LEN   16              //  time (8) | job id (8)
#define S_MAX_DBS   16              //  8 used

//  An index key, decoded.
typedef struct {
    int64_t  time_ms;
    uint64_t job_id;
} s_key_t;

typedef struct {
    ts_lmdb_t lmdb;                 //  the environment
    MDB_dbi  jobs, dead, ready, leases, dead_at, dedup, meta, fetched;
    int      lock_fd;               //  holds the flock on broker.lock
    MDB_txn *txn;                   //  the open batch, or NULL
    bool     write;                 //  it is a write batch
    ts_job_t *job;                  //  scratch: record read
    unsigned char *buf;             //  scratch: encoded record
    size_t   buf_size;
    s_key_t *keys;                  //  scratch: collected index keys
    size_t   keys_n, keys_cap;
} s_lmdb_t;

static int
s_fail (s_lmdb_t *self, int rc, char *err)
{
    return ts_lmdb_fail (&self->lmdb, rc, err);
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
s_encode (s_lmdb_t *self, const ts_job_t *job, MDB_val *val, char *err)
{
    size_t owner_len = strnlen (job->owner, TS_QUEUE_OWNER_MAX);
    size_t error_len = strnlen (job->error, TS_ERRLEN - 1);
    size_t rid_len = strnlen (job->rid, TS_RID_MAX);
    size_t source_len = strnlen (job->source, TS_NAME_MAX);
    bool attrs = source_len || job->from_ms || job->to_ms;
    int version = attrs? S_VERSION_ATTRS: rid_len? S_VERSION_RID: S_VERSION;
    size_t size = S_HEAD + owner_len + error_len
                + (version != S_VERSION? 1 + rid_len: 0)
                + (attrs? 1 + source_len + 16: 0);
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
    p [0] = (unsigned char) version;
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
    if (version != S_VERSION) {
        *p++ = (unsigned char) rid_len;
        memcpy (p, job->rid, rid_len);
        p += rid_len;
    }
    if (attrs) {
        *p++ = (unsigned char) source_len;
        memcpy (p, job->source, source_len);
        p += source_len;
        memcpy (p, &job->from_ms, 8);
        memcpy (p + 8, &job->to_ms, 8);
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
    job->rid [0] = job->source [0] = 0;
    job->from_ms = job->to_ms = 0;
    if (size < S_HEAD || p [0] < S_VERSION || p [0] > S_VERSION_ATTRS
    ||  p [1] > TS_JOB_DEAD)
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
    if (p [0] >= S_VERSION_RID) {
        size_t len = at < size? p [at++]: 0;
        if (len > size - at
        ||  (len && !ts_rid_valid_n ((const char *) p + at, len)))
            goto corrupt;
        memcpy (job->rid, p + at, len);
        job->rid [len] = 0;
        at += len;
    }
    if (p [0] == S_VERSION_ATTRS) {
        size_t len = at < size? p [at++]: 0;
        if (len > size - at || 16 > size - at - len
        ||  (len && !ts_name_valid_n ((const char *) p + at, len)))
            goto corrupt;
        memcpy (job->source, p + at, len);
        job->source [len] = 0;
        at += len;
        memcpy (&job->from_ms, p + at, 8);
        memcpy (&job->to_ms, p + at + 8, 8);
        at += 16;
    }
    if (at != size)
        goto corrupt;
    return 0;
corrupt:
    ts_errf (err, "queue: job %" PRIu64 ": corrupt record", job_id);
    return TS_EBACKEND;
}

//  Reads job_id from dbi (jobs or dead). Returns 0, TS_ENOTFOUND,
//  TS_EBACKEND (also for a corrupt record), TS_ENOMEM.
static int
s_read (s_lmdb_t *self, MDB_dbi dbi, uint64_t job_id, ts_job_t *job,
        char *err)
{
    unsigned char buf [8];
    ts_lmdb_u64_put (buf, job_id);
    MDB_val key = { sizeof buf, buf }, val;
    int rc = mdb_get (self->txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND) {
        ts_errf (err, "job %" PRIu64 " not found", job_id);
        return TS_ENOTFOUND;
    }
    return rc? s_fail (self, rc, err): s_decode (&val, job_id, job, err);
}

//  Writes job (put) into dbi, or deletes its record (a record already
//  gone is not an error).
static int
s_write (s_lmdb_t *self, MDB_dbi dbi, bool put, uint64_t job_id,
         const ts_job_t *job, char *err)
{
    unsigned char buf [8];
    ts_lmdb_u64_put (buf, job_id);
    MDB_val key = { sizeof buf, buf }, val;
    int rc;
    if (put) {
        rc = s_encode (self, job, &val, err);
        if (rc)
            return rc;
        rc = mdb_put (self->txn, dbi, &key, &val, 0);
    }
    else {
        rc = mdb_del (self->txn, dbi, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc? s_fail (self, rc, err): 0;
}

//  ---------------------------------------------------------------------
//  Indexes

static MDB_dbi
s_index_of (s_lmdb_t *self, ts_job_state_t state)
{
    return state == TS_JOB_LEASED? self->leases
         : state == TS_JOB_DEAD? self->dead_at: self->ready;
}

static MDB_dbi
s_records_of (s_lmdb_t *self, ts_job_state_t state)
{
    return state == TS_JOB_DEAD? self->dead: self->jobs;
}

//  Puts (put) or deletes the index key time | job id. A key already gone
//  is not an error: an index may only ever be too small, never wrong.
static int
s_index (s_lmdb_t *self, MDB_dbi dbi, bool put, int64_t time_ms,
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
    return rc? s_fail (self, rc, err): 0;
}

//  Positions cursor on the first key of its index at or after from_ms.
//  Returns an LMDB code (MDB_NOTFOUND: none).
static int
s_seek (MDB_cursor *cursor, int64_t from_ms, MDB_val *key)
{
    unsigned char buf [S_IDX_LEN];
    ts_lmdb_time_put (buf, from_ms);
    memset (buf + 8, 0, 8);
    key->mv_size = sizeof buf;
    key->mv_data = buf;
    MDB_val val;
    int rc = mdb_cursor_get (cursor, key, &val, MDB_SET_RANGE);
    return rc == 0 && key->mv_size != S_IDX_LEN? MDB_CORRUPTED: rc;
}

//  Collects into self->keys up to max keys of index dbi with time <=
//  until_ms, in order.
static int
s_collect (s_lmdb_t *self, MDB_dbi dbi, int64_t until_ms, size_t max,
           char *err)
{
    self->keys_n = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, dbi, &cursor);
    if (rc)
        return s_fail (self, rc, err);
    MDB_val key, val;
    int result = 0;
    rc = s_seek (cursor, INT64_MIN, &key);
    while (rc == 0 && self->keys_n < max) {
        int64_t time_ms = ts_lmdb_time_get (key.mv_data);
        if (time_ms > until_ms)
            break;
        if (self->keys_n == self->keys_cap) {
            size_t cap = self->keys_cap? self->keys_cap * 2: 64;
            s_key_t *keys = realloc (self->keys, cap * sizeof *keys);
            if (!keys) {
                ts_errf (err, "queue: out of memory");
                result = TS_ENOMEM;
                break;
            }
            self->keys = keys;
            self->keys_cap = cap;
        }
        s_key_t *k = &self->keys [self->keys_n++];
        k->time_ms = time_ms;
        k->job_id = ts_lmdb_u64_get ((unsigned char *) key.mv_data + 8);
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
        if (rc == 0 && key.mv_size != S_IDX_LEN)
            rc = MDB_CORRUPTED;
    }
    mdb_cursor_close (cursor);
    if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
        result = s_fail (self, rc, err);
    return result;
}

//  Reads the job of index key k of state into self->job. A key whose job
//  is gone, unreadable or in another place is stale: a write batch drops
//  it (and an unreadable record, logged). Returns 0, TS_ENOTFOUND for a
//  stale key, or an error.
static int
s_read_key (s_lmdb_t *self, ts_job_state_t state, const s_key_t *k,
            char *err)
{
    MDB_dbi records = s_records_of (self, state);
    char why [TS_ERRLEN] = "";
    int rc = s_read (self, records, k->job_id, self->job, why);
    if (rc == 0 && ts_queue_place (self->job).state == state
    &&  ts_queue_place (self->job).time_ms == k->time_ms)
        return 0;
    if (rc == TS_ENOMEM) {
        ts_errf (err, "%s", why);
        return rc;
    }
    if (!self->write)
        return TS_ENOTFOUND;
    if (rc != 0 && rc != TS_ENOTFOUND) {
        ts_error ("queue: dropping job %" PRIu64 ": %s", k->job_id, why);
        rc = s_write (self, records, false, k->job_id, NULL, err);
        if (rc)
            return rc;
    }
    rc = s_index (self, s_index_of (self, state), false, k->time_ms,
                  k->job_id, err);
    return rc? rc: TS_ENOTFOUND;
}

//  Removes the dedup entries that point at job.
static int
s_dedup_drop (s_lmdb_t *self, const ts_job_t *job, char *err)
{
    for (size_t i = 0; i < job->ids->n; i++) {
        MDB_val key = { strlen (job->ids->items [i]), job->ids->items [i] };
        MDB_val val;
        int rc = mdb_get (self->txn, self->dedup, &key, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc == 0 && val.mv_size == 8
        &&  ts_lmdb_u64_get (val.mv_data) == job->id)
            rc = mdb_del (self->txn, self->dedup, &key, NULL);
        if (rc)
            return s_fail (self, rc, err);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Batches and named values

static int
s_begin (void *state, bool write, char *err)
{
    s_lmdb_t *self = state;
    assert (!self->txn);
    self->write = write;
    return ts_lmdb_begin (&self->lmdb, write, &self->txn, err);
}

static int
s_commit (void *state, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn = self->txn;
    self->txn = NULL;
    return ts_lmdb_commit (&self->lmdb, txn, err);
}

static void
s_abort (void *state)
{
    s_lmdb_t *self = state;
    ts_lmdb_abort (&self->lmdb, self->txn);
    self->txn = NULL;
}

static int
s_meta_get (void *state, const char *name, int64_t *value, char *err)
{
    s_lmdb_t *self = state;
    MDB_val key = { strlen (name), (void *) name }, val;
    int rc = mdb_get (self->txn, self->meta, &key, &val);
    if (rc == MDB_NOTFOUND || (rc == 0 && val.mv_size != sizeof *value))
        return TS_ENOTFOUND;
    if (rc)
        return s_fail (self, rc, err);
    memcpy (value, val.mv_data, sizeof *value);
    return 0;
}

static int
s_meta_put (void *state, const char *name, int64_t value, char *err)
{
    s_lmdb_t *self = state;
    MDB_val key = { strlen (name), (void *) name };
    MDB_val val = { sizeof value, &value };
    int rc = mdb_put (self->txn, self->meta, &key, &val, 0);
    return rc? s_fail (self, rc, err): 0;
}

//  ---------------------------------------------------------------------
//  Jobs

static int
s_put (void *state, ts_job_t *job, char *err)
{
    s_lmdb_t *self = state;
    int64_t next = 1;
    int rc = s_meta_get (self, "next_job_id", &next, err);
    if (rc && rc != TS_ENOTFOUND)
        return rc;
    job->id = (uint64_t) (next > 0? next: 1);
    rc = s_meta_put (self, "next_job_id", (int64_t) job->id + 1, err);
    unsigned char idbuf [8];
    ts_lmdb_u64_put (idbuf, job->id);
    for (size_t i = 0; i < job->ids->n && rc == 0; i++) {
        MDB_val key = { strlen (job->ids->items [i]), job->ids->items [i] };
        MDB_val val = { sizeof idbuf, idbuf };
        int mrc = mdb_put (self->txn, self->dedup, &key, &val, 0);
        if (mrc)
            rc = s_fail (self, mrc, err);
    }
    if (rc == 0)
        rc = s_index (self, self->ready, true, job->visible_at_ms, job->id,
                      err);
    return rc? rc: s_write (self, self->jobs, true, job->id, job, err);
}

static int
s_lease (void *state, const char *owner, int64_t now_ms, int64_t deadline_ms,
         size_t max, ts_job_t **jobs, char *err)
{
    s_lmdb_t *self = state;
    size_t got = 0;
    bool stale = true;
    //  Again while keys turned out stale: fewer jobs than keys were found.
    while (got < max && stale) {
        stale = false;
        int rc = s_collect (self, self->ready, now_ms, max - got, err);
        if (rc)
            return rc;
        if (self->keys_n == 0)
            break;
        for (size_t i = 0; i < self->keys_n; i++) {
            const s_key_t *k = &self->keys [i];
            rc = s_read_key (self, TS_JOB_QUEUED, k, err);
            if (rc == TS_ENOTFOUND) {
                stale = true;
                continue;
            }
            ts_job_t *job = self->job;
            if (rc == 0)
                rc = s_index (self, self->ready, false, k->time_ms,
                              k->job_id, err);
            job->state = TS_JOB_LEASED;
            job->receives++;
            job->deadline_ms = deadline_ms;
            ts_strlcpy (job->owner, owner, sizeof job->owner);
            if (rc == 0)
                rc = s_index (self, self->leases, true, deadline_ms, job->id,
                              err);
            if (rc == 0)
                rc = s_write (self, self->jobs, true, job->id, job, err);
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

static int
s_get (void *state, uint64_t job_id, ts_job_t *job, char *err)
{
    s_lmdb_t *self = state;
    int rc = s_read (self, self->jobs, job_id, job, err);
    if (rc == TS_ENOTFOUND)
        rc = s_read (self, self->dead, job_id, job, err);
    return rc;
}

static int
s_update (void *state, const ts_job_t *job, const ts_queue_place_t *was,
          char *err)
{
    s_lmdb_t *self = state;
    ts_queue_place_t now = ts_queue_place (job);
    assert (was->state != TS_JOB_DEAD || now.state == TS_JOB_DEAD);
    int rc = s_index (self, s_index_of (self, was->state), false,
                      was->time_ms, job->id, err);
    if (rc == 0 && was->state != TS_JOB_DEAD && now.state == TS_JOB_DEAD) {
        rc = s_dedup_drop (self, job, err);
        if (rc == 0)
            rc = s_write (self, self->jobs, false, job->id, NULL, err);
    }
    if (rc == 0)
        rc = s_index (self, s_index_of (self, now.state), true, now.time_ms,
                      job->id, err);
    return rc? rc: s_write (self, s_records_of (self, now.state), true,
                            job->id, job, err);
}

static int
s_remove (void *state, const ts_job_t *job, char *err)
{
    s_lmdb_t *self = state;
    ts_queue_place_t place = ts_queue_place (job);
    int rc = s_index (self, s_index_of (self, place.state), false,
                      place.time_ms, job->id, err);
    if (rc == 0 && place.state != TS_JOB_DEAD)
        rc = s_dedup_drop (self, job, err);
    return rc? rc: s_write (self, s_records_of (self, place.state), false,
                            job->id, NULL, err);
}

static int
s_purge (void *state, char *err)
{
    s_lmdb_t *self = state;
    MDB_stat st;
    int rc = mdb_stat (self->txn, self->dead, &st);
    if (rc == 0)
        rc = mdb_drop (self->txn, self->dead, 0);
    if (rc == 0)
        rc = mdb_drop (self->txn, self->dead_at, 0);
    return rc? s_fail (self, rc, err): (int) st.ms_entries;
}

//  ---------------------------------------------------------------------
//  Last fetches

static int
s_fetched_put (void *state, const char *id, int64_t time_ms, char *err)
{
    s_lmdb_t *self = state;
    MDB_val key = { strlen (id), (void *) id };
    MDB_val val = { sizeof time_ms, &time_ms };
    int rc = mdb_put (self->txn, self->fetched, &key, &val, 0);
    return rc? s_fail (self, rc, err): 0;
}

static int
s_fetched_get (void *state, const char *id, int64_t *time_ms, char *err)
{
    s_lmdb_t *self = state;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (self->txn, self->fetched, &key, &val);
    if (rc == MDB_NOTFOUND || (rc == 0 && val.mv_size != sizeof *time_ms))
        return TS_ENOTFOUND;
    if (rc)
        return s_fail (self, rc, err);
    memcpy (time_ms, val.mv_data, sizeof *time_ms);
    return 0;
}

//  ---------------------------------------------------------------------
//  Lookups

static int
s_holder (void *state, const char *id, uint64_t *job_id, char *err)
{
    s_lmdb_t *self = state;
    *job_id = 0;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (self->txn, self->dedup, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        //  An entry whose job is gone (dropped as unreadable) is stale.
        MDB_val jkey = val, jval;
        rc = mdb_get (self->txn, self->jobs, &jkey, &jval);
        if (rc == 0)
            *job_id = ts_lmdb_u64_get (val.mv_data);
    }
    return rc == 0 || rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
}

static int
s_scan (void *state, ts_job_state_t st, int64_t until_ms,
        ts_queue_scan_fn *fn, void *arg, char *err)
{
    s_lmdb_t *self = state;
    int rc = s_collect (self, s_index_of (self, st), until_ms, SIZE_MAX,
                        err);
    for (size_t i = 0; i < self->keys_n && rc == 0; i++) {
        rc = s_read_key (self, st, &self->keys [i], err);
        if (rc == 0)
            rc = fn (self->job, arg);
        else
        if (rc == TS_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

static int
s_first (void *state, ts_job_state_t st, int64_t from_ms, int64_t *time_ms,
         char *err)
{
    s_lmdb_t *self = state;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, s_index_of (self, st), &cursor);
    if (rc)
        return s_fail (self, rc, err);
    MDB_val key;
    rc = s_seek (cursor, from_ms, &key);
    if (rc == 0)
        *time_ms = ts_lmdb_time_get (key.mv_data);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    return rc? s_fail (self, rc, err): 0;
}

static int
s_count (void *state, ts_job_state_t st, int64_t from_ms, uint64_t *count,
         char *err)
{
    s_lmdb_t *self = state;
    *count = 0;
    MDB_dbi dbi = s_index_of (self, st);
    if (from_ms == INT64_MIN) {
        MDB_stat stat;
        int rc = mdb_stat (self->txn, st == TS_JOB_DEAD? self->dead: dbi,
                           &stat);
        if (rc)
            return s_fail (self, rc, err);
        *count = stat.ms_entries;
        return 0;
    }
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, dbi, &cursor);
    if (rc)
        return s_fail (self, rc, err);
    MDB_val key, val;
    rc = s_seek (cursor, from_ms, &key);
    while (rc == 0) {
        (*count)++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
}

static int
s_oldest (void *state, int64_t *enqueued_at_ms, char *err)
{
    s_lmdb_t *self = state;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, self->jobs, &cursor);
    if (rc)
        return s_fail (self, rc, err);
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    mdb_cursor_close (cursor);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    if (rc == 0 && key.mv_size != 8)
        rc = MDB_CORRUPTED;
    if (rc)
        return s_fail (self, rc, err);
    rc = s_decode (&val, ts_lmdb_u64_get (key.mv_data), self->job, err);
    if (rc == 0)
        *enqueued_at_ms = self->job->enqueued_at_ms;
    return rc;
}

//  ---------------------------------------------------------------------
//  Open and close

static void
s_close (void *state)
{
    s_lmdb_t *self = state;
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
    s_lmdb_t *self = calloc (1, sizeof *self);
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
        { "ready", &self->ready }, { "leases", &self->leases },
        { "dead_at", &self->dead_at }, { "dedup", &self->dedup },
        { "meta", &self->meta }, { "fetched", &self->fetched } };
    rc = ts_lmdb_open (&self->lmdb, path, S_MAX_DBS, 0, MDB_NOSYNC, err);
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
    s_lmdb_t *self = state;
    int rc = mdb_env_sync (self->lmdb.env, 1);
    return rc? s_fail (self, rc, err): 0;
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
    .holder = s_holder,
    .scan = s_scan,
    .first = s_first,
    .count = s_count,
    .oldest = s_oldest,
    .fetched_put = s_fetched_put,
    .fetched_get = s_fetched_get,
};
