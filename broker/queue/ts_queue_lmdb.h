/*  ts_queue_lmdb - internals of the LMDB queue backend, shared by its two
    files: ts_queue_lmdb.c (the environment, the record format and the
    storage primitives below) and ts_queue_lmdb_ops.c (the queue
    operations built on them, and the ts_queue_lmdb_ops table). Nothing
    else includes this header; the broker sees only ts_queue.h.

    Named databases (BE = big-endian, so byte order is numeric order):

        jobs     job id (8 BE)              -> record   queued and leased
        dead     job id (8 BE)              -> record   dead-lettered
        ready    visible_at (8) | job id    -> ""       queued jobs
        leases   deadline (8) | job id      -> ""       leased jobs
        dead_at  dead_at (8) | job id       -> ""       dead jobs
        dedup    series id                  -> job id (8 BE), queued and
                                               leased jobs' ids
        meta     "next_job_id"              -> uint64 (host order)

    Index times are epoch ms, 8 bytes BE with the sign bit flipped. The
    first ready key visible at now is the job to lease next: FIFO by
    visibility time, then by job id. A leased job keeps its visible_at, so
    unleasing puts it back exactly where it was. The first leases key is
    the next deadline; the first dead_at key the next DLQ entry to age
    out. Job ids grow with time and a redrive makes a new job, so the first
    jobs key is the oldest live job.

    Primitives that take a txn work inside the caller's write (or read)
    transaction, return 0 or a TS_E* code and fill err; the caller ends
    the transaction with ts_queue_lmdb_end, which aborts it on an error,
    so a failed operation changes nothing. */

#ifndef TS_QUEUE_LMDB_H_INCLUDED
#define TS_QUEUE_LMDB_H_INCLUDED

#include "ts_queue_backend.h"

#include <lmdb.h>

//  An index key (ready, leases, dead_at), decoded.
typedef struct {
    int64_t  time_ms;               //  visible_at, deadline or dead_at
    uint64_t job_id;
} ts_queue_lmdb_key_t;

typedef struct {
    MDB_env *env;                   //  broker.queue_path
    MDB_dbi  jobs, dead, ready, leases, dead_at, dedup, meta;
    ts_queue_policy_t *policy;      //  borrowed from ts_queue
    int64_t  map_size_mb;           //  broker.queue_map_size_mb, for errors
    int      lock_fd;               //  holds the flock on broker.lock
    ts_job_t *job;                  //  scratch: record being changed
    ts_job_t *other;                //  scratch: second record (redrive)
    unsigned char *buf;             //  scratch: encoded record
    size_t   buf_size;
    ts_queue_lmdb_key_t *keys;      //  scratch: collected index keys
    size_t   keys_n, keys_cap;
} ts_queue_lmdb_t;

//  --- environment -------------------------------------------------------

//  Opens (creates) broker.queue_path, takes its lock file, opens the
//  databases and shortens leases held before now_ms (ts_queue.h).
void *ts_queue_lmdb_open (const ts_config_t *cfg, ts_queue_policy_t *policy,
                          int64_t now_ms, char *err);

//  Moves the stored times of every job by delta_ms (the shift
//  operation of ts_queue_backend.h; open applies it too when the clock is
//  behind the newest job's enqueue or death time). Returns how many jobs
//  moved, or an error.
int ts_queue_lmdb_shift (void *state, int64_t delta_ms, char *err);

//  Syncs and closes the environment, releases the lock. Safe on NULL.
void ts_queue_lmdb_close (void *state);

//  Fills err from an LMDB or errno code (naming broker.queue_map_size_mb
//  when the map is full); returns TS_EBACKEND.
int ts_queue_lmdb_fail (ts_queue_lmdb_t *self, int rc, char *err);

//  Begins a transaction. Returns 0 or TS_EBACKEND.
int ts_queue_lmdb_begin (ts_queue_lmdb_t *self, bool write, MDB_txn **txn,
                         char *err);

//  Commits txn if result >= 0, else aborts it. Returns result, or
//  TS_EBACKEND if the commit failed.
int ts_queue_lmdb_end (ts_queue_lmdb_t *self, MDB_txn *txn, int result,
                       char *err);

//  --- indexes -----------------------------------------------------------

//  Puts (put) or deletes the index key time | job id in dbi. A key
//  already gone is not an error.
int ts_queue_lmdb_index (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                         bool put, int64_t time_ms, uint64_t job_id,
                         char *err);

//  Collects into self->keys the keys of index dbi with time <= until_ms,
//  in order.
int ts_queue_lmdb_collect (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                           int64_t until_ms, char *err);

//  The first key of index dbi at or after from_ms (INT64_MIN: the first).
//  Returns 0, TS_ENOTFOUND or TS_EBACKEND.
int ts_queue_lmdb_first_key (ts_queue_lmdb_t *self, MDB_txn *txn,
                             MDB_dbi dbi, int64_t from_ms,
                             ts_queue_lmdb_key_t *key, char *err);

//  Counts the keys of index dbi at or after from_ms into *count.
int ts_queue_lmdb_count_from (ts_queue_lmdb_t *self, MDB_txn *txn,
                              MDB_dbi dbi, int64_t from_ms, uint64_t *count,
                              char *err);

//  --- records -----------------------------------------------------------

//  Reads job_id from dbi (jobs or dead) into job. Returns 0,
//  TS_ENOTFOUND, TS_EBACKEND (also for a corrupt record), TS_ENOMEM.
int ts_queue_lmdb_read (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                        uint64_t job_id, ts_job_t *job, char *err);

//  Reads the record with the lowest job id of dbi into job. Returns 0,
//  TS_ENOTFOUND if dbi is empty, TS_EBACKEND, TS_ENOMEM.
int ts_queue_lmdb_read_first (ts_queue_lmdb_t *self, MDB_txn *txn,
                              MDB_dbi dbi, ts_job_t *job, char *err);

//  Writes job (put) into dbi, or deletes its record (a record already
//  gone is not an error).
int ts_queue_lmdb_write (ts_queue_lmdb_t *self, MDB_txn *txn, MDB_dbi dbi,
                         bool put, const ts_job_t *job, char *err);

//  The job an index key points at is gone or unreadable (rc, from
//  ts_queue_lmdb_read): drops the key and any record left in records,
//  so that one bad record cannot block the queue; logs unless rc is
//  TS_ENOTFOUND.
int ts_queue_lmdb_drop_broken (ts_queue_lmdb_t *self, MDB_txn *txn,
                               MDB_dbi index, MDB_dbi records,
                               const ts_queue_lmdb_key_t *key, int rc,
                               char *err);

//  --- state changes -----------------------------------------------------

//  Removes a live job's index key (ready or leases, by its state).
int ts_queue_lmdb_unindex (ts_queue_lmdb_t *self, MDB_txn *txn,
                           const ts_job_t *job, char *err);

//  Sets *job_id to the live (queued or leased) job whose dedup entry
//  holds id, 0 if none.
int ts_queue_lmdb_holder (ts_queue_lmdb_t *self, MDB_txn *txn,
                          const char *id, uint64_t *job_id, char *err);

//  Removes the dedup entries that point at job.
int ts_queue_lmdb_dedup_drop (ts_queue_lmdb_t *self, MDB_txn *txn,
                              const ts_job_t *job, char *err);

//  A live job becomes queued, visible at visible_at_ms.
int ts_queue_lmdb_to_ready (ts_queue_lmdb_t *self, MDB_txn *txn,
                            ts_job_t *job, int64_t visible_at_ms, char *err);

//  A leased job failed with error: to the DLQ if !retry or it was received
//  max_receives times, else visible at now_ms + delay_ms.
int ts_queue_lmdb_fail_leased (ts_queue_lmdb_t *self, MDB_txn *txn,
                               ts_job_t *job, int64_t now_ms,
                               const char *error, bool retry,
                               int64_t delay_ms, char *err);

//  Queues a job of those of the n ids not queued or leased, visible at
//  now_ms; it is left in self->job. Returns how many ids it holds (0:
//  none, nothing written, *job_id 0) or an error.
int ts_queue_lmdb_push_txn (ts_queue_lmdb_t *self, MDB_txn *txn,
                            const char *const *ids, size_t n, int64_t now_ms,
                            uint64_t *job_id, char *err);

#endif
