/*  ts_queue_lmdb - what the three files of the LMDB queue backend share:
    its state, the record codec (ts_queue_lmdb_record.c) and the tables
    kept per series id (ts_queue_lmdb_ids.c). Internal to broker/queue:
    the backend itself is ts_queue_lmdb (ts_queue_backend.h), opened and
    driven by ts_queue_lmdb.c, whose top comment has the tables. Every
    function here runs inside the open batch (self->txn) and returns 0
    or a TS_E* code with the detail in err (TS_ERRLEN bytes). */

#ifndef TS_QUEUE_LMDB_H_INCLUDED
#define TS_QUEUE_LMDB_H_INCLUDED

#include "ts_queue_backend.h"
#include "ts_lmdb.h"

#define TS_QUEUE_LMDB_DBS 16        //  named databases at most (11 used)

//  An index key, decoded.
typedef struct {
    int64_t  time_ms;
    uint64_t job_id;
} ts_queue_lmdb_key_t;

//  The backend's state (the void *state of its primitives).
typedef struct {
    ts_lmdb_t lmdb;                 //  the environment
    MDB_dbi  jobs, dead, ready, ready_low, ready_high, leases, dead_at, dedup, meta,
             fetched, filled;
    int      lock_fd;               //  holds the flock on broker.lock
    MDB_txn *txn;                   //  the open batch, or NULL
    bool     write;                 //  it is a write batch
    ts_job_t *job;                  //  scratch: record read
    unsigned char *buf;             //  scratch: encoded record
    size_t   buf_size;
    ts_queue_lmdb_key_t *keys;      //  scratch: collected index keys
    size_t   keys_n, keys_cap;
    MDB_cursor *cursors [TS_QUEUE_LMDB_DBS + 2];    //  of the open batch,
                                    //  by dbi (ts_queue_lmdb_cursor)
} ts_queue_lmdb_t;

//  Turns an LMDB error rc into a TS_E* code with its text in err.
static inline int
ts_queue_lmdb_fail (ts_queue_lmdb_t *self, int rc, char *err)
{
    return ts_lmdb_fail (&self->lmdb, rc, err);
}

//  A cursor on dbi in the open batch, opened at its first use and kept
//  until the batch ends (a lease walks its indexes once per worker it
//  serves: a cursor opened each time was a malloc each). Never close it:
//  the batch does. Returns 0 or an error.
int ts_queue_lmdb_cursor (ts_queue_lmdb_t *self, MDB_dbi dbi,
                          MDB_cursor **cursor, char *err);

//  ---------------------------------------------------------------------
//  Records (ts_queue_lmdb_record.c)

//  Decodes a record (val) of job_id into job. Returns 0, TS_EBACKEND
//  (corrupt) or TS_ENOMEM.
int ts_queue_lmdb_decode (const MDB_val *val, uint64_t job_id,
                          ts_job_t *job, char *err);

//  Reads job_id from dbi (jobs or dead) into job. Returns 0,
//  TS_ENOTFOUND, TS_EBACKEND (also for a corrupt record), TS_ENOMEM.
int ts_queue_lmdb_read (ts_queue_lmdb_t *self, MDB_dbi dbi,
                        uint64_t job_id, ts_job_t *job, char *err);

//  Writes job (put) into dbi under job_id, or deletes its record (put
//  false, job may be NULL; a record already gone is not an error).
int ts_queue_lmdb_write (ts_queue_lmdb_t *self, MDB_dbi dbi, bool put,
                         uint64_t job_id, const ts_job_t *job, char *err);

//  ---------------------------------------------------------------------
//  Tables per series id (ts_queue_lmdb_ids.c)

#define TS_QUEUE_LMDB_DEDUP_KEY_MAX (TS_NAME_MAX + 1 + 16)

//  The dedup key of id for the window [from_ms, to_ms] in buf (of
//  TS_QUEUE_LMDB_DEDUP_KEY_MAX bytes).
MDB_val ts_queue_lmdb_dedup_key (unsigned char *buf, const char *id,
                                 int64_t from_ms, int64_t to_ms);

//  Removes the dedup entries that point at job.
int ts_queue_lmdb_dedup_drop (ts_queue_lmdb_t *self, const ts_job_t *job,
                              char *err);

//  The primitives holder, fetched_put, fetched_get, fill_put and
//  fill_get of ts_queue_backend.h.
int ts_queue_lmdb_holder (void *state, const char *id, int64_t from_ms,
                          int64_t to_ms, uint64_t *job_id, char *err);
int ts_queue_lmdb_fetched_put (void *state, const char *id,
                               int64_t time_ms, char *err);
int ts_queue_lmdb_fetched_get (void *state, const char *id,
                               int64_t *time_ms, char *err);
int ts_queue_lmdb_fill_put (void *state, const char *id,
                            const ts_fill_t *fill, char *err);
int ts_queue_lmdb_fill_get (void *state, const char *id, ts_fill_t *fill,
                            char *err);

#endif
