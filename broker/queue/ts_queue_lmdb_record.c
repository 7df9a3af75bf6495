/*  ts_queue_lmdb_record - the record of a job in the LMDB queue backend
    (the jobs and dead tables, see ts_queue_lmdb.c): encodes a ts_job_t,
    decodes and checks one read back, reads and writes one by job id.
    Internal to the backend (ts_queue_lmdb.h).

    A record is a fixed head in host byte order, as LMDB's own pages are:

        version (1) state (1) nids (2) receives (4) enqueued_at (8)
        visible_at (8) deadline (8) dead_at (8) owner_len (2) error_len (2)

    then owner, error, and each id as length (1) + bytes; a version 2
    record (a job with a request id) ends with the rid as length (1) +
    bytes. A version 3 record (a job with a source or a window) has the
    rid (length 0 if none), then the source as length (1) + bytes, then
    from_ms (8) and to_ms (8). A version 4 record (a priority job) is
    version 3 then flags (1): 1 priority. Each record is written in the
    oldest
    version that holds it: a queue of jobs without a source or a window
    reads back in a broker that predates them, and one without rids in a
    broker that predates rids.
    Records read back are bounds-checked: a corrupt one is an error,
    never a crash. */

#include "ts_queue_lmdb.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_VERSION   1               //  record format without a rid
#define S_VERSION_RID 2             //  record format ending with a rid
#define S_VERSION_ATTRS 3           //  ... then a source and a window
#define S_VERSION_FLAGS 4           //  ... then flags (1): S_FLAG_*
#define S_FLAG_PRIORITY 1           //  a priority job
#define S_HEAD      44              //  fixed head of a record

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
    size_t rid_len = strnlen (job->rid, TS_RID_MAX);
    size_t source_len = strnlen (job->source, TS_NAME_MAX);
    bool flags = job->priority;
    bool attrs = flags || source_len || job->from_ms || job->to_ms;
    int version = flags? S_VERSION_FLAGS: attrs? S_VERSION_ATTRS
                : rid_len? S_VERSION_RID: S_VERSION;
    size_t size = S_HEAD + owner_len + error_len
                + (version != S_VERSION? 1 + rid_len: 0)
                + (attrs? 1 + source_len + 16: 0) + (flags? 1: 0);
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
        p += 16;
    }
    if (flags)
        *p = S_FLAG_PRIORITY;
    val->mv_data = self->buf;
    val->mv_size = size;
    return 0;
}

int
ts_queue_lmdb_decode (const MDB_val *val, uint64_t job_id, ts_job_t *job,
                      char *err)
{
    const unsigned char *p = val->mv_data;
    size_t size = val->mv_size;
    ts_strlist_clear (job->ids);
    job->id = job_id;
    job->rid [0] = job->source [0] = 0;
    job->from_ms = job->to_ms = 0;
    job->priority = false;
    if (size < S_HEAD || p [0] < S_VERSION || p [0] > S_VERSION_FLAGS
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
    if (p [0] >= S_VERSION_ATTRS) {
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
    if (p [0] >= S_VERSION_FLAGS) {
        if (at >= size || (p [at] & ~S_FLAG_PRIORITY))
            goto corrupt;
        job->priority = (p [at++] & S_FLAG_PRIORITY) != 0;
    }
    if (at != size)
        goto corrupt;
    return 0;
corrupt:
    ts_errf (err, "queue: job %" PRIu64 ": corrupt record", job_id);
    return TS_EBACKEND;
}

int
ts_queue_lmdb_read (ts_queue_lmdb_t *self, MDB_dbi dbi, uint64_t job_id,
                    ts_job_t *job, char *err)
{
    unsigned char buf [8];
    ts_lmdb_u64_put (buf, job_id);
    MDB_val key = { sizeof buf, buf }, val;
    int rc = mdb_get (self->txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND) {
        ts_errf (err, "job %" PRIu64 " not found", job_id);
        return TS_ENOTFOUND;
    }
    return rc? ts_queue_lmdb_fail (self, rc, err)
             : ts_queue_lmdb_decode (&val, job_id, job, err);
}

int
ts_queue_lmdb_write (ts_queue_lmdb_t *self, MDB_dbi dbi, bool put,
                     uint64_t job_id, const ts_job_t *job, char *err)
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
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}
