/*  ts_queue - the broker's job queue: jobs of series ids waiting for a
    worker, and jobs leased to a worker until it reports them.

    A job is a short list of ids. It is queued (FIFO), then leased to one
    owner (a worker) until now + lease_ms. The owner acks it (done) or
    nacks it (failed); a nacked job, a job whose lease ran out and a job
    whose owner was lost go back to the tail of the queue, unless it was
    leased max_attempts times already: then it is dropped with an error
    log line. An id already queued or leased is not queued again (dedup),
    so a scheduler tick and a hydrate for the same id make one fetch.

    This interface is the seam for durable backends (LMDB leases, Redis
    Streams, SQS): the broker uses only these calls. This implementation
    keeps everything in memory; a broker restart forgets the queue, which
    the next scheduler tick refills. Times are whatever clock the caller
    uses consistently (the broker passes monotonic milliseconds).

    Not thread-safe: one broker loop owns it. */

#ifndef TS_QUEUE_H_INCLUDED
#define TS_QUEUE_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_queue_t ts_queue_t;

//  What callers see of a job. Owned by the queue: valid until the job is
//  acked, nacked, released, expired, unleased or the queue destroyed.
typedef struct {
    uint64_t      id;           //  job id, unique in this queue, from 1
    ts_strlist_t *ids;          //  series ids to fetch
    uint32_t      attempts;     //  times leased, the current lease included
    int64_t       deadline_ms;  //  leased: when the lease runs out
    const char   *owner;        //  leased: owner tag; NULL when queued
} ts_job_t;

//  Counters: queued and leased are current sizes, the rest totals since
//  the queue was created.
typedef struct {
    size_t   queued;            //  jobs waiting for a worker
    size_t   leased;            //  jobs held by workers
    uint64_t done;              //  jobs acked
    uint64_t failed;            //  nacks, expired leases and lost owners
    uint64_t dropped;           //  jobs given up after max_attempts
} ts_queue_stats_t;

//  Returns an empty queue, or NULL if out of memory. max_attempts >= 1
//  is how many times a job is leased before it is dropped; lease_ms > 0
//  is how long a lease lasts.
ts_queue_t *ts_queue_new (uint32_t max_attempts, int64_t lease_ms);

//  Frees the queue and every job; sets *self_p to NULL. Safe on NULL.
void ts_queue_destroy (ts_queue_t **self_p);

//  Queues one job holding those of the n ids that are not queued or leased
//  already (duplicates within ids count once). Returns how many ids the
//  new job holds (0: nothing was queued, *job_id is then 0), or TS_ENOMEM.
//  job_id may be NULL.
int ts_queue_push (ts_queue_t *self, const char *const *ids, size_t n,
                   int64_t now_ms, uint64_t *job_id);

//  Leases the oldest queued job to owner (copied) until now_ms + lease_ms
//  and sets *job. Returns 0, or TS_ENOTFOUND if no job is queued.
int ts_queue_lease (ts_queue_t *self, const char *owner, int64_t now_ms,
                    const ts_job_t **job);

//  The job is done: forgets it (its ids can be queued again). Returns 0,
//  or TS_ENOTFOUND if no job with that id is leased (harmless).
int ts_queue_ack (ts_queue_t *self, uint64_t job_id);

//  The job failed with detail (may be NULL): requeues it at the tail, or
//  drops it (error log naming job, ids, attempts and detail) if it was
//  leased max_attempts times. Returns 0, or TS_ENOTFOUND if no job with
//  that id is leased.
int ts_queue_nack (ts_queue_t *self, uint64_t job_id, const char *detail,
                   int64_t now_ms);

//  The job never reached its owner (e.g. the worker vanished as it was
//  sent): puts it back at the head of the queue and does not count the
//  lease as an attempt. Returns 0, or TS_ENOTFOUND if not leased.
int ts_queue_unlease (ts_queue_t *self, uint64_t job_id);

//  The owner is gone: nacks every job it holds ("worker lost"). Returns
//  how many jobs it held.
size_t ts_queue_release_owner (ts_queue_t *self, const char *owner,
                               int64_t now_ms);

//  Nacks every job whose lease ran out at now_ms ("lease expired").
//  Returns how many.
size_t ts_queue_expire (ts_queue_t *self, int64_t now_ms);

//  Returns the job with that id, queued or leased, or NULL.
const ts_job_t *ts_queue_lookup (ts_queue_t *self, uint64_t job_id);

//  Earliest lease deadline, or -1 if nothing is leased.
int64_t ts_queue_next_deadline (ts_queue_t *self);

//  Fills *stats with the counters.
void ts_queue_stats (ts_queue_t *self, ts_queue_stats_t *stats);

#endif
