/*  ts_queue_backend - what a queue backend provides to ts_queue.

    Internal to broker/: ts_queue.c holds a table of backends by name
    (broker.queue_backend) and forwards every ts_queue_* call to the
    chosen one's operations after checking its arguments. It also owns the
    retry policy (ts_queue_policy_t): a backend asks it for a retry delay
    and never draws random numbers itself. A backend keeps no totals:
    ts_queue.c counts from what the operations report. A new backend
    (Redis Streams, SQS) adds one ts_queue_ops_t and one line in that
    table; nothing outside broker/ changes.

    Each operation is one backend transaction: it changes everything or
    nothing. Return codes and err as in ts_queue.h. */

#ifndef TS_QUEUE_BACKEND_H_INCLUDED
#define TS_QUEUE_BACKEND_H_INCLUDED

#include "ts_queue.h"

//  A step back of the wall clock longer than this moves the queue's times
//  back with it (see the shift operation); shorter ones are ignored.
#define TS_QUEUE_CLOCK_SLACK_MS 1000

//  The broker.* settings a backend applies, and the jitter generator.
typedef struct {
    int64_t  visibility_ms;     //  broker.visibility_timeout_s, in ms
    uint32_t max_receives;      //  broker.max_receives
    int64_t  retry_base_ms;     //  broker.retry_base_ms
    int64_t  retry_max_ms;      //  broker.retry_max_ms
    int64_t  dlq_retention_ms;  //  broker.dlq_retention_s, in ms
    uint64_t rng;               //  PRNG state (xorshift64*), never 0
} ts_queue_policy_t;

//  How long a job that failed on its receives-th receive waits before it
//  is visible again: the jittered backoff, or retry_after_ms if longer.
int64_t ts_queue_policy_delay_ms (ts_queue_policy_t *policy,
                                  uint32_t receives, int64_t retry_after_ms);

//  A list of jobs an operation moved; ts_queue.c reports and frees them.
typedef struct {
    ts_job_t **jobs;            //  n owned jobs
    size_t     n;
    size_t     cap;
} ts_queue_moves_t;

//  Appends a copy of job. Returns 0 or TS_ENOMEM.
int ts_queue_moves_add (ts_queue_moves_t *moves, const ts_job_t *job);

typedef struct {
    const char *name;   //  value of broker.queue_backend, e.g. "lmdb"
    //  Opens the backend (applying the restart rule for leases at now_ms);
    //  policy is borrowed and outlives the state. NULL with err on error.
    void *(*open) (const ts_config_t *cfg, ts_queue_policy_t *policy,
                   int64_t now_ms, char *err);
    void  (*close) (void *state);
    int (*push) (void *state, const char *const *ids, size_t n,
                 int64_t now_ms, uint64_t *job_id, char *err);
    int (*lease) (void *state, const char *owner, int64_t now_ms,
                  ts_job_t *job, char *err);
    int (*ack) (void *state, uint64_t job_id, ts_job_t *job, char *err);
    //  job is never NULL here.
    int (*nack) (void *state, uint64_t job_id, const char *detail,
                 bool retry, int64_t retry_after_ms, int64_t now_ms,
                 ts_job_t *job, char *err);
    int (*unlease) (void *state, uint64_t job_id, char *err);
    //  Appends each moved job (state after the move) to moves.
    int (*release_owner) (void *state, const char *owner, int64_t now_ms,
                          ts_queue_moves_t *moves, char *err);
    int (*expire) (void *state, int64_t now_ms, ts_queue_moves_t *moves,
                   size_t *purged, char *err);
    int (*lookup) (void *state, uint64_t job_id, ts_job_t *job, char *err);
    //  For each id, the live (queued or leased) job holding it, else 0.
    int (*holders) (void *state, const char *const *ids, size_t n,
                    uint64_t *jobs, char *err);
    int64_t (*next_wakeup) (void *state, int64_t now_ms);
    //  Fills the sizes and oldest_age_ms; leaves the totals alone.
    int (*stats) (void *state, int64_t now_ms, ts_queue_stats_t *stats,
                  char *err);
    int (*dlq_each) (void *state, ts_queue_each_fn *fn, void *arg,
                     char *err);
    int (*dlq_redrive) (void *state, const char *const *ids, size_t n,
                        int64_t now_ms, char *err);
    int (*dlq_purge) (void *state, char *err);
    int (*sync) (void *state, char *err);
    //  The wall clock stepped back by -delta_ms (delta_ms < 0): moves the
    //  enqueue, visibility, lease and death times of every job by
    //  delta_ms, so that visible jobs stay visible and delays and
    //  leases keep their length instead of waiting for the clock to catch
    //  up. Returns how many jobs moved, or an error.
    int (*shift) (void *state, int64_t delta_ms, char *err);
} ts_queue_ops_t;

//  The embedded LMDB backend (ts_queue_lmdb.c).
extern const ts_queue_ops_t ts_queue_lmdb_ops;

#endif
