/*  ts_queue_lmdb_ids - the tables the LMDB queue backend keeps per
    series id (see ts_queue_lmdb.c for all its tables):

        dedup    series id [NUL from (8) to (8)] -> job id (8 BE) of the
                 live job holding it for that window
        fetched  series id -> int64 (host order): when a job holding it
                 was last acked
        filled   series id -> fill record: version (1) then the fields
                 of ts_fill_t in their order, host order (5 x int64,
                 4 x uint32): how far its history is filled

    The dedup key, dropping a job's dedup entries, and the primitives
    holder, fetched_* and fill_* of ts_queue_backend.h. Internal to the
    backend (ts_queue_lmdb.h); which job holds what is decided in
    ts_queue_machine.c. */

#include "ts_queue_lmdb.h"

#include <string.h>

#define S_FILL_VERSION 1            //  fill record format
#define S_FILL_SIZE (1 + 5 * 8 + 4 * 4)

//  ---------------------------------------------------------------------
//  Dedup

//  The dedup key of id for the window [from_ms, to_ms] into buf (of
//  TS_QUEUE_LMDB_DEDUP_KEY_MAX bytes): the id, and for a window other
//  than the default one a NUL (never in an id) and the two times.
MDB_val
ts_queue_lmdb_dedup_key (unsigned char *buf, const char *id,
                         int64_t from_ms, int64_t to_ms)
{
    size_t len = strnlen (id, TS_NAME_MAX);
    memcpy (buf, id, len);
    if (from_ms || to_ms) {
        buf [len++] = 0;
        ts_lmdb_time_put (buf + len, from_ms);
        ts_lmdb_time_put (buf + len + 8, to_ms);
        len += 16;
    }
    return (MDB_val) { len, buf };
}

//  Removes the dedup entries that point at job.
int
ts_queue_lmdb_dedup_drop (ts_queue_lmdb_t *self, const ts_job_t *job,
                          char *err)
{
    unsigned char buf [TS_QUEUE_LMDB_DEDUP_KEY_MAX];
    for (size_t i = 0; i < job->ids->n; i++) {
        MDB_val key = ts_queue_lmdb_dedup_key (buf, job->ids->items [i],
                                               job->from_ms, job->to_ms);
        MDB_val val;
        int rc = mdb_get (self->txn, self->dedup, &key, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc == 0 && val.mv_size == 8
        &&  ts_lmdb_u64_get (val.mv_data) == job->id)
            rc = mdb_del (self->txn, self->dedup, &key, NULL);
        if (rc)
            return ts_queue_lmdb_fail (self, rc, err);
    }
    return 0;
}

int
ts_queue_lmdb_holder (void *state, const char *id, int64_t from_ms,
                      int64_t to_ms, uint64_t *job_id, char *err)
{
    ts_queue_lmdb_t *self = state;
    *job_id = 0;
    unsigned char buf [TS_QUEUE_LMDB_DEDUP_KEY_MAX];
    MDB_val key = ts_queue_lmdb_dedup_key (buf, id, from_ms, to_ms), val;
    int rc = mdb_get (self->txn, self->dedup, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        //  An entry whose job is gone (dropped as unreadable) is stale.
        MDB_val jkey = val, jval;
        rc = mdb_get (self->txn, self->jobs, &jkey, &jval);
        if (rc == 0)
            *job_id = ts_lmdb_u64_get (val.mv_data);
    }
    return rc == 0 || rc == MDB_NOTFOUND? 0
         : ts_queue_lmdb_fail (self, rc, err);
}

//  ---------------------------------------------------------------------
//  Last fetches

int
ts_queue_lmdb_fetched_put (void *state, const char *id, int64_t time_ms,
                           char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_val key = { strlen (id), (void *) id };
    MDB_val val = { sizeof time_ms, &time_ms };
    int rc = mdb_put (self->txn, self->fetched, &key, &val, 0);
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

int
ts_queue_lmdb_fetched_get (void *state, const char *id, int64_t *time_ms,
                           char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (self->txn, self->fetched, &key, &val);
    if (rc == MDB_NOTFOUND || (rc == 0 && val.mv_size != sizeof *time_ms))
        return TS_ENOTFOUND;
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    memcpy (time_ms, val.mv_data, sizeof *time_ms);
    return 0;
}

//  ---------------------------------------------------------------------
//  Fill records

int
ts_queue_lmdb_fill_put (void *state, const char *id, const ts_fill_t *fill,
                        char *err)
{
    ts_queue_lmdb_t *self = state;
    unsigned char buf [S_FILL_SIZE];
    unsigned char *p = buf;
    *p++ = S_FILL_VERSION;
    const int64_t times [5] = { fill->filled_from_ms, fill->filled_to_ms,
        fill->gap_from_ms, fill->gap_to_ms, fill->next_ms };
    const uint32_t counts [4] = { fill->queued, fill->done, fill->failed,
                                  fill->flags };
    memcpy (p, times, sizeof times);
    memcpy (p + sizeof times, counts, sizeof counts);
    MDB_val key = { strlen (id), (void *) id };
    MDB_val val = { sizeof buf, buf };
    int rc = mdb_put (self->txn, self->filled, &key, &val, 0);
    return rc? ts_queue_lmdb_fail (self, rc, err): 0;
}

int
ts_queue_lmdb_fill_get (void *state, const char *id, ts_fill_t *fill,
                        char *err)
{
    ts_queue_lmdb_t *self = state;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (self->txn, self->filled, &key, &val);
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    if (rc)
        return ts_queue_lmdb_fail (self, rc, err);
    const unsigned char *p = val.mv_data;
    if (val.mv_size != S_FILL_SIZE || p [0] != S_FILL_VERSION) {
        ts_errf (err, "queue: id %s: corrupt fill record", id);
        return TS_EBACKEND;
    }
    int64_t times [5];
    uint32_t counts [4];
    memcpy (times, p + 1, sizeof times);
    memcpy (counts, p + 1 + sizeof times, sizeof counts);
    *fill = (ts_fill_t) { times [0], times [1], times [2], times [3],
                          times [4], counts [0], counts [1], counts [2],
                          counts [3] };
    return 0;
}
