/*  ts_queue_backend - the storage primitives a queue backend provides.

    ts_queue.c holds the job life cycle (ts_queue.h, docs/protocol.md §8):
    visibility and receive counts, the retry backoff with its jitter, the
    dead-letter decision, dedup, DLQ retention, clock steps, the restart
    rule for leases and the memory of acks. A backend only stores jobs
    and finds them again; it never decides what happens to one. A new
    backend (Redis Streams, SQS) fills one ts_queue_backend_t, adds one
    line to the table in ts_queue.c, and passes the contract suite
    (tests/contract/test_queue_contract.c) unchanged.

    Batches. Every primitive below except open, close and sync runs
    inside one batch, opened by begin and ended by commit or abort. A
    write batch is atomic: after commit every change of the batch is
    stored, after abort (or a failed commit, or a crash before commit)
    none is, and a later batch sees the store as it was. A read batch
    sees one consistent state of the store (a snapshot where the backend
    has them; otherwise it must at least never show a job in two states
    or a half-written job). ts_queue.c opens at most one batch at a time,
    from one thread. A committed batch survives the process being
    killed; it survives a power loss once sync returned.

    Jobs. A stored job is a ts_job_t: its id, state, ids, receives, times,
    owner and error. The backend keeps every field as given and gives it
    back unchanged; it sets fields itself only where a primitive says so.
    Each state has a time that orders it: queued jobs by visible_at_ms,
    leased jobs by deadline_ms, dead jobs by dead_at_ms; ties go by job
    id. The time-ordered primitives (lease, scan, first, count) use that
    order, with one rule more for queued jobs: those with a window of
    their own (from_ms or to_ms not 0: backfill chunks) come after every
    queued job without one (two lanes, each in time order; first gives
    the earlier of the two). A job is live while queued or leased.

    Dedup. For each series id and fetch window (a job's from_ms and
    to_ms; both 0 for the default window), the backend remembers the live
    job that holds it (set by put, dropped when that job leaves the live
    states by update to TS_JOB_DEAD or by remove). holder looks it up;
    which ids a new job takes is ts_queue.c's decision. So the chunks of
    one id's backfill, each its own window, are queued side by side,
    while a scheduled fetch and a hydrate of that id (both the default
    window) still make one job.

    Return codes: 0 (or a count), TS_ENOTFOUND where said, TS_ENOMEM,
    TS_EBACKEND for any storage failure (err, TS_ERRLEN bytes, may be
    NULL, says what; a full store names the config key to raise). After
    an error inside a write batch ts_queue.c aborts it. Jobs handed to a
    callback are borrowed for the call; jobs filled for the caller are
    copies it owns. */

#ifndef TS_QUEUE_BACKEND_H_INCLUDED
#define TS_QUEUE_BACKEND_H_INCLUDED

#include "ts_queue.h"

//  A step back of the wall clock longer than this moves the queue's times
//  back with it; shorter ones are ignored.
#define TS_QUEUE_CLOCK_SLACK_MS 1000

//  Called by scan once per job, in order; must not call the backend.
//  Return 0 to go on, anything else to stop (scan returns it).
typedef int (ts_queue_scan_fn) (const ts_job_t *job, void *arg);

//  A stored job's place before a change: its state and that state's time.
typedef struct {
    ts_job_state_t state;
    int64_t        time_ms;
} ts_queue_place_t;

typedef struct {
    const char *name;   //  value of broker.queue_backend, e.g. "lmdb"

    //  --- life ---------------------------------------------------------
    //  Opens (creates) the store described by the broker.* keys of cfg
    //  (read once). Only one process may have a store open; a second
    //  open fails with err saying so. Returns the backend's state, or
    //  NULL with err.
    void *(*open) (const ts_config_t *cfg, char *err);
    //  Closes (after a sync). Safe on NULL.
    void  (*close) (void *self);
    //  Makes every committed batch survive a power loss. Outside batches.
    int   (*sync) (void *self, char *err);

    //  --- batches ------------------------------------------------------
    //  Opens a batch, a write batch if write. Returns 0 or TS_EBACKEND.
    int   (*begin) (void *self, bool write, char *err);
    //  Ends the batch, storing all its changes or, on an error, none.
    int   (*commit) (void *self, char *err);
    //  Ends the batch, dropping its changes.
    void  (*abort) (void *self);

    //  --- small named values (write batch for meta_put) ---------------
    //  ts_queue.c keeps its clock ("clock_ms") and the totals of
    //  ts_queue_stats ("total_done", "total_failed", "total_retried",
    //  "total_dead_lettered") here, written in the batch they belong to.
    //  *value gets the value stored under name. Returns 0, TS_ENOTFOUND.
    int   (*meta_get) (void *self, const char *name, int64_t *value,
                       char *err);
    int   (*meta_put) (void *self, const char *name, int64_t value,
                       char *err);

    //  --- jobs (write batch unless said) -------------------------------
    //  Stores job, which must be TS_JOB_QUEUED with its ids, as a new job:
    //  sets job->id to a new id, greater than every id this store ever
    //  gave (ids never come back, across a close too), and makes job the
    //  holder of each of its ids (replacing any holder).
    int   (*put) (void *self, ts_job_t *job, char *err);
    //  Leases up to max queued jobs with visible_at_ms <= now_ms, first in
    //  time order: each becomes TS_JOB_LEASED with owner, deadline_ms and
    //  receives + 1 (visible_at_ms is kept), and a copy lands in jobs [i]
    //  (max jobs made by the caller with ts_job_new). With accept (may be
    //  NULL: take all), each such job is first handed to accept, in time
    //  order, and only those it takes are leased: a skipped job stays as
    //  it is and the walk goes on past it; STOP ends the walk. Returns
    //  how many were leased (0: none visible, or none taken). The whole
    //  call is one step of the batch: no job is leased twice, none half.
    int   (*lease) (void *self, const char *owner, int64_t now_ms,
                    int64_t deadline_ms, size_t max,
                    ts_queue_accept_fn *accept, void *arg, ts_job_t **jobs,
                    char *err);
    //  Any batch. Fills job with the stored job job_id, in any state.
    //  Returns 0 or TS_ENOTFOUND.
    int   (*get) (void *self, uint64_t job_id, ts_job_t *job, char *err);
    //  Stores job (same id, any state) over the stored one, which was at
    //  was (ts_queue_place of the job as read in this batch; the caller
    //  never updates a job it did not read in the same batch). To
    //  TS_JOB_DEAD (the move to the DLQ) it also drops the job's dedup
    //  entries. A dead job never becomes live again (redrive puts a new
    //  job).
    int   (*update) (void *self, const ts_job_t *job,
                     const ts_queue_place_t *was, char *err);
    //  Deletes the job (ack, DLQ retention) and its dedup entries. job is
    //  as read in this batch. A job already gone is not an error.
    int   (*remove) (void *self, const ts_job_t *job, char *err);
    //  Deletes every dead job. Returns how many.
    int   (*purge) (void *self, char *err);

    //  --- lookups (any batch) -----------------------------------------
    //  *job_id gets the live job holding series id for the window
    //  [from_ms, to_ms] (both 0: the default window), 0 if none.
    int   (*holder) (void *self, const char *id, int64_t from_ms,
                     int64_t to_ms, uint64_t *job_id, char *err);
    //  Calls fn for each job in state with time <= until_ms, in time
    //  order. Returns 0, or fn's non-zero value if it stopped.
    int   (*scan) (void *self, ts_job_state_t state, int64_t until_ms,
                   ts_queue_scan_fn *fn, void *arg, char *err);
    //  *time_ms gets the earliest time of state at or after from_ms.
    //  Returns 0 or TS_ENOTFOUND if there is none.
    int   (*first) (void *self, ts_job_state_t state, int64_t from_ms,
                    int64_t *time_ms, char *err);
    //  *count gets how many jobs are in state with time >= from_ms
    //  (INT64_MIN: all of them; a backend should answer that one fast).
    //  A backend that drops stale or corrupt entries met by a walk must
    //  show it in the counts of all: ts_queue.c stores a write batch
    //  whose counts moved even if it changed no job (else the drop is
    //  thrown away and made again on every call).
    int   (*count) (void *self, ts_job_state_t state, int64_t from_ms,
                    uint64_t *count, char *err);
    //  *enqueued_at_ms gets the enqueue time of the live job with the
    //  lowest id. Returns 0 or TS_ENOTFOUND if no job is live.
    int   (*oldest) (void *self, int64_t *enqueued_at_ms, char *err);

    //  --- last fetches (write batch for fetched_put) -------------------
    //  One time per series id, kept apart from the jobs: when a job
    //  holding it was last acked. Never removed (an id no longer
    //  registered keeps its time: a few dozen bytes).
    //  Stores time_ms as id's, replacing what was stored.
    int   (*fetched_put) (void *self, const char *id, int64_t time_ms,
                          char *err);
    //  Any batch. *time_ms gets id's. Returns 0 or TS_ENOTFOUND.
    int   (*fetched_get) (void *self, const char *id, int64_t *time_ms,
                          char *err);

    //  --- fill records (write batch for fill_put) ---------------------
    //  One ts_fill_t per series id, kept apart from the jobs like the
    //  last fetches, never removed. Stores fill as id's, replacing it.
    int   (*fill_put) (void *self, const char *id, const ts_fill_t *fill,
                       char *err);
    //  Any batch. *fill gets id's. Returns 0 or TS_ENOTFOUND.
    int   (*fill_get) (void *self, const char *id, ts_fill_t *fill,
                       char *err);
} ts_queue_backend_t;

//  The place of job as stored (its state and that state's time).
ts_queue_place_t ts_queue_place (const ts_job_t *job);

//  The retry policy: the broker.* settings ts_queue.c applies and its
//  jitter generator. Not a backend's business; declared here for the
//  unit test of the backoff.
typedef struct {
    int64_t  visibility_ms;     //  broker.visibility_timeout_s, in ms
    uint32_t max_receives;      //  broker.max_receives
    int64_t  retry_base_ms;     //  broker.retry_base_ms
    int64_t  retry_max_ms;      //  broker.retry_max_ms
    int64_t  dlq_retention_ms;  //  broker.dlq_retention_s, in ms
    uint64_t rng;               //  PRNG state (xorshift64*), never 0
} ts_queue_policy_t;

//  How long a job that failed on its receives-th receive waits before it
//  is visible again: the jittered backoff, or retry_after_ms (capped at
//  TS_QUEUE_RETRY_AFTER_MAX_MS) if longer.
int64_t ts_queue_policy_delay_ms (ts_queue_policy_t *policy,
                                  uint32_t receives, int64_t retry_after_ms);

//  The embedded LMDB backend (ts_queue_lmdb.c).
extern const ts_queue_backend_t ts_queue_lmdb;

#endif
