/*  ts_queue - the broker's durable job queue: jobs of series ids waiting
    for a worker, leased to a worker, or dead-lettered.

    Semantics are those of an SQS queue:

    - push:   a job is a short list of series ids. An id already queued or
              leased for the same fetch window is not queued again
              (dedup, by id and window), so a scheduler tick and a
              hydrate for the same id (both the default window) make one
              fetch, while the backfill chunks of one id (each its own
              window) are queued side by side. Dead-lettered ids do not
              count: they can be queued again.
    - lease:  the oldest visible job goes to one owner (a worker) for
              broker.visibility_timeout_s; each lease counts one receive.
              The caller may pass over jobs (ts_queue_lease_filtered):
              those keep their place and later ones are leased past
              them; the broker so holds back the jobs of a source over
              its rate limit without holding up the other sources.
              Jobs with a window of their own (backfill chunks) have the
              lower priority: one is leased only when no job of the
              default window is visible, so a backfill never holds back
              the scheduled fetches (it waits for spare capacity). Jobs
              pushed with priority (a query's read-through fetch) have
              the higher one: leased before every other visible job.
              Three lanes, each in time order: high, default, low.
    - bump:   a priority push of an id that a queued (or delayed) job
              holds already for the same window makes that job a
              priority job (its whole job: the other ids it holds go
              first with it); a leased job is being fetched already and
              stays as it is. A job redriven from the DLQ is pushed at
              default priority.
    - ack:    the job is done and forgotten. Acks go by job id and are
              accepted from any owner, for a leased or a queued job (a
              worker that reconnected, or a broker restart, still acks).
              Each of its ids is then marked fetched (ts_queue_last_fetch)
              at the latest wall-clock time the queue was given, unless
              the job had a window of its own (a backfill chunk fetches
              the past: the last fetch is that of the default window).
    - nack:   the job failed. It moves to the dead-letter queue (DLQ) when
              the failure is not worth retrying or it was received
              broker.max_receives times; otherwise it becomes visible again
              after a backoff: min(retry_max_ms, retry_base_ms * 2^(r-1))
              for its r-th receive, scaled by a random factor in [0.5, 1]
              (equal jitter), or the upstream's Retry-After if longer.
    - expiry: a lease past its deadline, and every lease of a lost owner,
              makes the job visible at once, or moves it to the DLQ if it
              was received max_receives times already.
    - DLQ:    dead jobs keep their ids, receives, last error and when they
              died; they can be listed, redriven (queued again as a new
              job with receives reset) or purged, and are deleted
              broker.dlq_retention_s after they died.

    Durable: jobs live in a backend chosen by broker.queue_backend (only
    "lmdb" today: the broker's own LMDB environment at broker.queue_path);
    this life cycle is written once above the backends, which only store jobs
    (ts_queue_backend.h). Every call is one backend batch (one transaction):
    ts_queue_lease_many leases the credit of several owners and
    ts_queue_ack_many acks many jobs, each in one batch. Writes reach the
    operating system at once, so a broker killed with SIGKILL loses nothing;
    they reach the disk at ts_queue_sync, which the broker calls at most
    broker.queue_sync_ms after a change (a power loss loses at most the
    changes not yet synced). When a queue is opened, leases that were held
    before get a deadline of at most now + 10 s: workers still fetching can
    report them after they reconnect, and jobs of workers that died with the
    broker come back quickly.

    Times are wall-clock epoch milliseconds passed in by the caller (they
    must survive a restart, which a monotonic clock does not). When the
    clock steps back by more than a second (an NTP correction, a resumed
    virtual machine), between two calls or while the queue was closed,
    the stored times of every job move back with it: queued jobs stay
    visible, and retry delays, leases and the DLQ retention keep their
    length, instead of every job waiting for the clock to catch up.

    Not thread-safe: one broker loop owns it, and only one process may
    open a queue directory at a time. Every function that can fail returns
    0 (or a count) or a TS_E* code, and fills err (TS_ERRLEN bytes, may be
    NULL) with the detail. */

#ifndef TS_QUEUE_H_INCLUDED
#define TS_QUEUE_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

#define TS_QUEUE_OWNER_MAX      511     //  longest owner tag, in bytes
#define TS_QUEUE_MAX_IDS        10000   //  most ids in one push
#define TS_QUEUE_RESTART_LEASE_MS 10000 //  lease left at most after open
#define TS_QUEUE_RETRY_AFTER_MAX_MS 86400000    //  longest Retry-After
#define TS_QUEUE_ACKED_MEMORY   65536   //  job ids whose ack is remembered

typedef struct _ts_queue_t ts_queue_t;

typedef enum {
    TS_JOB_QUEUED = 0,          //  waiting; visible from visible_at_ms
    TS_JOB_LEASED = 1,          //  held by owner until deadline_ms
    TS_JOB_DEAD   = 2           //  in the dead-letter queue
} ts_job_state_t;

//  A job as the queue reports it. The caller owns it: make one with
//  ts_job_new, pass it to calls that fill it, free it with ts_job_destroy.
//  A filled job is a copy; it stays as it is when the queue changes.
typedef struct {
    uint64_t       id;              //  job id, unique in this queue, from 1
    ts_job_state_t state;           //  see above
    ts_strlist_t  *ids;             //  series ids to fetch; never NULL
    uint32_t       receives;        //  times leased, the current included
    int64_t        enqueued_at_ms;  //  when it was pushed (or redriven)
    int64_t        visible_at_ms;   //  queued: when it may be leased
    int64_t        deadline_ms;     //  leased: when the lease runs out
    int64_t        dead_at_ms;      //  dead: when it moved to the DLQ
    char           owner [TS_QUEUE_OWNER_MAX + 1];
                                    //  leased: its owner; else the last
                                    //  owner, "" if never leased
    char           error [TS_ERRLEN];   //  last failure, "" if none
    char           rid [TS_RID_MAX + 1];    //  request that queued it
                                    //  (ts_queue_push_rid), "" if none:
                                    //  for log lines and the job message
    char           source [TS_NAME_MAX + 1];
                                    //  the upstream source its ids are
                                    //  fetched from, "" the first one
    int64_t        from_ms;         //  the window fetched, epoch ms; both
    int64_t        to_ms;           //  0: the source's default window
                                    //  (now - past_s .. now + future_s)
    bool           priority;        //  a priority fetch (read-through):
                                    //  leased before every other job
} ts_job_t;

//  What a pushed job carries besides its ids; kept when the job is
//  retried and when it is redriven from the DLQ, and handed to the
//  worker with it. All zero: no request id, the first source, the
//  default window.
typedef struct {
    const char *rid;            //  request id: NULL or "", or
                                //  ts_rid_valid_n
    const char *source;         //  NULL or "", or ts_name_valid
    int64_t     from_ms;        //  window: both 0, or from_ms < to_ms
    int64_t     to_ms;
    bool        priority;       //  the high lane; bumps a queued job that
                                //  holds one of the ids already
} ts_queue_attrs_t;

//  Counters. Sizes are current. Totals count since the queue was
//  created: they are stored with the queue, in the batch of the change
//  they count, so they survive a close or a crash exactly as that change
//  does (a power loss before ts_queue_sync loses both). A queue written
//  before totals were stored starts them at 0. They never go down.
typedef struct {
    uint64_t queued;            //  visible jobs, ready for a worker now
    uint64_t delayed;           //  jobs waiting out a retry backoff
    uint64_t leased;            //  jobs held by owners
    uint64_t dlq;               //  dead-lettered jobs
    uint64_t done;              //  total: acks
    uint64_t failed;            //  total: nacks, expired leases, jobs of
                                //  lost owners
    uint64_t retried;           //  total: failed jobs made visible again
    uint64_t dead_lettered;     //  total: jobs moved to the DLQ
    int64_t  oldest_age_ms;     //  age of the oldest queued, delayed or
                                //  leased job; 0 if there is none
} ts_queue_stats_t;

//  Called once for each job a ts_queue_expire or ts_queue_release_owner
//  moved, after the change was committed. job is the job after the move
//  (state TS_JOB_QUEUED or TS_JOB_DEAD, owner the one that lost it) and
//  is valid only during the call. The callback must not call the queue.
typedef void (ts_queue_report_fn) (const ts_job_t *job, void *arg);

//  Called once per dead-lettered job by ts_queue_dlq_each; job is valid
//  only during the call, which must not call the queue. Return 0 to go
//  on, anything else to stop (ts_queue_dlq_each then returns it).
typedef int (ts_queue_each_fn) (const ts_job_t *job, void *arg);

//  --- jobs --------------------------------------------------------------

//  Returns an empty job (ids an empty list), or NULL if out of memory.
ts_job_t *ts_job_new (void);

//  Frees the job and its ids; sets *self_p to NULL. Safe on NULL.
void ts_job_destroy (ts_job_t **self_p);

//  Copies src into dst (ids included). Returns 0 or TS_ENOMEM.
int ts_job_copy (ts_job_t *dst, const ts_job_t *src);

//  Writes the job's ids comma-separated into buf (size bytes, always
//  terminated, "..." at the end if cut). For log lines. Returns buf.
char *ts_job_ids_text (const ts_job_t *self, char *buf, size_t size);

//  --- queue -------------------------------------------------------------

//  Opens the backend named by broker.queue_backend with the broker.* keys
//  of cfg (read once; cfg may be freed afterwards). now_ms is the time the
//  restart rule for leases uses. Returns NULL with the reason in err, e.g.
//  "broker.queue_path: cannot create /x: Permission denied".
ts_queue_t *ts_queue_new (const ts_config_t *cfg, int64_t now_ms, char *err);

//  Closes the backend (after a final sync); sets *self_p to NULL. Safe on
//  NULL.
void ts_queue_destroy (ts_queue_t **self_p);

//  Name of the backend in use, e.g. "lmdb".
const char *ts_queue_backend (const ts_queue_t *self);

//  Queues one job holding those of the n ids (1..TS_QUEUE_MAX_IDS, each
//  must pass ts_name_existing) that are not queued or leased already;
//  duplicates within ids count once. The job is visible at once. Returns
//  how many ids the new job holds (0: nothing was queued, *job_id is then
//  0), or TS_EINVAL (bad ids), TS_EBACKEND (e.g. the queue is full:
//  err names broker.queue_map_size_mb). job_id may be NULL.
int ts_queue_push (ts_queue_t *self, const char *const *ids, size_t n,
                   int64_t now_ms, uint64_t *job_id, char *err);

//  ts_queue_push, the new job tagged with the request id rid (NULL or ""
//  for none; else ts_rid_valid_n, else TS_EINVAL): it is stored with the
//  job, kept when the job is retried and when it is redriven from the
//  DLQ, and handed to the worker with it.
int ts_queue_push_rid (ts_queue_t *self, const char *const *ids, size_t n,
                       const char *rid, int64_t now_ms, uint64_t *job_id,
                       char *err);

//  ts_queue_push, the new job carrying attrs (may be NULL: all zero).
//  Returns TS_EINVAL for an invalid rid, source or window.
int ts_queue_push_attrs (ts_queue_t *self, const char *const *ids, size_t n,
                         const ts_queue_attrs_t *attrs, int64_t now_ms,
                         uint64_t *job_id, char *err);

//  Queues the n ids (1..TS_QUEUE_MAX_IDS) as jobs of at most per_job ids
//  each, in one batch: as ts_queue_push_attrs called on each run of
//  per_job ids in turn (ids [0 .. per_job), then the next run, ...), so
//  an id a run holds is not queued again by a later run, but in one
//  backend transaction, all or nothing (the broker's hydrate and tick;
//  a transaction per job was most of their cost). per_job >= 1. job_ids
//  (may be NULL; else of ceil (n / per_job) slots) gets each run's new
//  job, 0 where a run queued none; after an error it holds nothing of
//  use. Returns how many jobs were queued, or an error as
//  ts_queue_push_attrs (nothing queued then).
int ts_queue_push_many (ts_queue_t *self, const char *const *ids, size_t n,
                        size_t per_job, const ts_queue_attrs_t *attrs,
                        int64_t now_ms, uint64_t *job_ids, char *err);

//  Leases the oldest job visible at now_ms to owner (1 to
//  TS_QUEUE_OWNER_MAX bytes) until now_ms + broker.visibility_timeout_s
//  and counts a receive. job (may be NULL) gets the leased job. Returns
//  0, TS_ENOTFOUND if no job is visible, TS_EINVAL, TS_EBACKEND.
int ts_queue_lease (ts_queue_t *self, const char *owner, int64_t now_ms,
                    ts_job_t *job, char *err);

//  What an owner may take in ts_queue_lease_many.
typedef struct {
    const char *owner;          //  owner tag, 1..TS_QUEUE_OWNER_MAX bytes
    uint32_t    credit;         //  most jobs it may take now
    uint64_t    served;         //  when it was last served: lower first
} ts_queue_grant_t;

//  Leases visible jobs, oldest first, to the n owners of grants (each
//  job's owner field says whose it is), in one backend batch. The owner
//  with the most credit left takes the next job; on a tie, the one
//  served least recently (lowest served; a grant that took a job counts
//  as served last). Stops when no job is visible, all credit is taken or
//  max jobs are leased. jobs holds max jobs made with ts_job_new; they
//  get the leased jobs, in the order they were handed out. Returns how
//  many were leased (0: none visible), TS_EINVAL, TS_EBACKEND (then
//  none was).
int ts_queue_lease_many (ts_queue_t *self, const ts_queue_grant_t *grants,
                         size_t n, int64_t now_ms, ts_job_t **jobs,
                         size_t max, char *err);

//  What the accept function of ts_queue_lease_filtered says of a job.
typedef enum {
    TS_QUEUE_TAKE = 0,          //  lease it
    TS_QUEUE_SKIP = 1,          //  leave it queued, look at the next one
    TS_QUEUE_STOP = 2           //  leave it and every later one: no more
                                //  job is leased in this call
} ts_queue_accept_t;

//  Asked of each visible job, oldest first, before it is leased. job is
//  valid only during the call, which must not call the queue.
typedef ts_queue_accept_t (ts_queue_accept_fn) (const ts_job_t *job,
                                                void *arg);

//  ts_queue_lease_many, leasing only the jobs accept takes: a job it
//  skips stays queued where it was (it keeps its place, and later jobs
//  are leased past it: no head-of-line blocking), and STOP ends the call
//  with what was leased so far. accept is asked about visible jobs only,
//  oldest first; a job it skipped may be asked about again in the same
//  call (the call walks the queue once per owner's share), so its answer
//  should depend only on the job and on what it took before. A job it
//  takes is leased, unless the call fails (TS_EBACKEND: then none is).
//  accept NULL takes every job.
int ts_queue_lease_filtered (ts_queue_t *self, const ts_queue_grant_t *grants,
                             size_t n, ts_queue_accept_fn *accept, void *arg,
                             int64_t now_ms, ts_job_t **jobs, size_t max,
                             char *err);

//  ts_queue_ack of each of the n job ids, in one backend batch. For each
//  i, rcs [i] (rcs may be NULL) gets 0 or TS_ENOTFOUND (not queued or
//  leased: unknown, acked already, also earlier in ids, or dead) and
//  jobs [i] (jobs may be NULL, else n jobs from ts_job_new) the job as it
//  was. Returns how many were acked, or TS_EBACKEND (then none was).
int ts_queue_ack_many (ts_queue_t *self, const uint64_t *job_ids, size_t n,
                       ts_job_t **jobs, int *rcs, char *err);

//  Gives the queue the wall-clock time now_ms, as every call that takes
//  one does, and changes nothing else: the acks after it mark their ids
//  fetched at now_ms at the earliest (ts_queue_last_fetch). The broker
//  calls it before it acks a wake's dones, so that a fetch's time is its
//  ack's, not that of the last lease or tick before it.
void ts_queue_clock (ts_queue_t *self, int64_t now_ms);

//  The job is done: forgets it, whatever its owner, leased or queued (its
//  ids can be queued again). job (may be NULL) gets the job as it was.
//  Returns 0, TS_ENOTFOUND if no such job is queued or leased (a dead job
//  stays dead), TS_EBACKEND.
int ts_queue_ack (ts_queue_t *self, uint64_t job_id, ts_job_t *job,
                  char *err);

//  The leased job failed with detail (may be NULL). If retry is false or
//  the job was received broker.max_receives times, it moves to the DLQ
//  with detail as its error; otherwise it becomes visible again after the
//  backoff (see above), or after retry_after_ms (capped at
//  TS_QUEUE_RETRY_AFTER_MAX_MS) if that is longer. job (may be NULL) gets
//  the job after the change: state TS_JOB_DEAD, or TS_JOB_QUEUED with
//  visible_at_ms set. Returns 0, TS_ENOTFOUND if the job is not leased,
//  TS_EBACKEND.
int ts_queue_nack (ts_queue_t *self, uint64_t job_id, const char *detail,
                   bool retry, int64_t retry_after_ms, int64_t now_ms,
                   ts_job_t *job, char *err);

//  The leased job never reached its owner (e.g. the send failed): puts it
//  back where it was in the queue, without counting a receive. Returns 0,
//  TS_ENOTFOUND if the job is not leased, TS_EBACKEND.
int ts_queue_unlease (ts_queue_t *self, uint64_t job_id, char *err);

//  The owner hands back a leased job it will not finish (a worker that
//  is stopping): the job is queued again where it was, visible at once
//  (its visible_at_ms is kept, so it comes before jobs pushed after it),
//  and the receive its lease counted is taken back, as by
//  ts_queue_unlease: a hand-back is not a failure, so a job handed back
//  on every rolling restart never reaches the DLQ for it. Only owner may
//  hand it back: a job leased to another owner (it expired and was
//  leased again) stays with that one. job (may be NULL) gets the job
//  after the change. Returns 0, TS_ENOTFOUND if the job is not leased
//  to owner, TS_EINVAL (bad owner), TS_EBACKEND.
int ts_queue_release (ts_queue_t *self, uint64_t job_id, const char *owner,
                      ts_job_t *job, char *err);

//  The owner is gone: every job it holds becomes visible at once, or
//  moves to the DLQ ("worker lost") if received max_receives times.
//  report (may be NULL) is called per job. Returns how many jobs it held,
//  or TS_EINVAL, TS_EBACKEND.
int ts_queue_release_owner (ts_queue_t *self, const char *owner,
                            int64_t now_ms, ts_queue_report_fn *report,
                            void *arg, char *err);

//  Every lease whose deadline is <= now_ms ends: the job becomes visible
//  at once, or moves to the DLQ ("visibility timeout expired") if it was
//  received max_receives times. report (may be NULL) is called per job.
//  Also deletes DLQ entries older than broker.dlq_retention_s; *purged
//  (may be NULL) gets how many. Returns how many leases ended, or
//  TS_EBACKEND.
int ts_queue_expire (ts_queue_t *self, int64_t now_ms,
                     ts_queue_report_fn *report, void *arg, size_t *purged,
                     char *err);

//  Fills job with the job of that id, in any state. Returns 0,
//  TS_ENOTFOUND, TS_EBACKEND.
int ts_queue_lookup (ts_queue_t *self, uint64_t job_id, ts_job_t *job,
                     char *err);

//  True if job_id was acked (ts_queue_ack returned 0) since this queue
//  was opened. A job leaves the queue when it is acked, and also when it
//  was dead-lettered and is then purged, redriven (as a new job) or aged
//  out; only this tells an ack apart. The memory is a table of
//  TS_QUEUE_ACKED_MEMORY slots indexed by job id modulo its size, in
//  memory only: an ack is remembered until a job whose id is
//  TS_QUEUE_ACKED_MEMORY (or a multiple) higher is acked, and forgotten
//  when the queue is closed.
bool ts_queue_acked (const ts_queue_t *self, uint64_t job_id);

//  For each of the n ids (each must pass ts_name_existing), sets jobs [i]
//  to the id of the queued, delayed or leased job that holds it for the
//  default window (the job a push of it skipped it for), or 0 if none
//  does. Returns 0, TS_EINVAL,
//  TS_EBACKEND.
int ts_queue_holders (ts_queue_t *self, const char *const *ids, size_t n,
                      uint64_t *jobs, char *err);

//  When the queue next needs its owner after now_ms: the earliest lease
//  deadline or the earliest time a delayed job becomes visible, whichever
//  is first. Returns -1 if there is none (or on a backend error).
int64_t ts_queue_next_wakeup (ts_queue_t *self, int64_t now_ms);

//  For each of the n ids (each must pass ts_name_existing), times_ms [i]
//  gets when a job holding it was last acked: its last successful fetch,
//  as the latest wall-clock time the queue had been given by then (the
//  broker gives it one at least every second); 0 if none was acked
//  since the queue was created (or since it kept these times). Kept with
//  the queue, in the ack's batch. One read batch. Returns 0, TS_EINVAL,
//  TS_EBACKEND.
int ts_queue_last_fetch (ts_queue_t *self, const char *const *ids, size_t n,
                         int64_t *times_ms, char *err);

//  --- how far history is filled (gap tracking, backfill) ----------------

//  One id's fill record: how far its history is filled and the backfill
//  in progress. The queue only keeps it, per series id beside its last
//  fetch, durable as the jobs are; the broker's backfill planner
//  (broker/ts_backfill.h) decides the values. Times are epoch ms.
typedef struct {
    int64_t  filled_from_ms;    //  oldest time history covers once the
                                //  pending backfill is done; 0 unknown
    int64_t  filled_to_ms;      //  newest time a fetch covered; 0 never
    int64_t  gap_from_ms;       //  pending backfill: [gap_from, gap_to),
    int64_t  gap_to_ms;         //  oldest first; equal: none pending
    int64_t  next_ms;           //  its next chunk to queue starts here
    uint32_t queued;            //  its chunks queued or leased now
    uint32_t done;              //  chunks of the last backfill done
    uint32_t failed;            //  and dead-lettered (left unfilled)
    uint32_t flags;             //  TS_FILL_* bits
} ts_fill_t;

#define TS_FILL_NEW     1u      //  set by an ack of the id's first fetch
                                //  ever (no last fetch before), for the
                                //  planner to backfill a new id

//  For each of the n ids (each must pass ts_name_existing), fills [i]
//  gets its fill record and found [i] (found may be NULL) whether it has
//  one (if not, fills [i] is all 0). One read batch. Returns 0,
//  TS_EINVAL, TS_EBACKEND.
int ts_queue_fill_get (ts_queue_t *self, const char *const *ids, size_t n,
                       ts_fill_t *fills, bool *found, char *err);

//  Stores fills [i] as the fill record of ids [i], for the n ids, in one
//  write batch. Returns 0, TS_EINVAL, TS_EBACKEND.
int ts_queue_fill_put (ts_queue_t *self, const char *const *ids, size_t n,
                       const ts_fill_t *fills, char *err);

//  Fills *stats; queued/delayed split at now_ms. Returns 0, TS_EBACKEND.
int ts_queue_stats (ts_queue_t *self, int64_t now_ms,
                    ts_queue_stats_t *stats, char *err);

//  Calls fn for every dead-lettered job, oldest death first. Returns 0,
//  fn's non-zero value if it stopped, TS_EBACKEND.
int ts_queue_dlq_each (ts_queue_t *self, ts_queue_each_fn *fn, void *arg,
                       char *err);

//  Queues dead-lettered jobs again, each as a new job (new id, receives 0,
//  visible at once) holding those of its ids not queued or leased by now;
//  a job whose ids are all queued again is just removed from the DLQ.
//  With n > 0 only dead jobs holding one of the n ids are redriven; with
//  ids NULL or n == 0 every dead job is. Returns how many jobs were
//  queued, TS_EINVAL, TS_EBACKEND.
int ts_queue_dlq_redrive (ts_queue_t *self, const char *const *ids,
                          size_t n, int64_t now_ms, char *err);

//  Queues the n dead-lettered jobs job_ids again, as ts_queue_dlq_redrive
//  does, in one batch; a job that is not in the DLQ (acked, purged,
//  live, unknown) is passed over. Returns how many jobs were queued,
//  TS_ENOMEM, TS_EBACKEND.
int ts_queue_dlq_redrive_jobs (ts_queue_t *self, const uint64_t *job_ids,
                               size_t n, int64_t now_ms, char *err);

//  Deletes every dead-lettered job. Returns how many, TS_EBACKEND.
int ts_queue_dlq_purge (ts_queue_t *self, char *err);

//  Flushes changes made since the last sync to disk (nothing to do if
//  there were none). Returns 0, TS_EBACKEND.
int ts_queue_sync (ts_queue_t *self, char *err);

//  True if changes were made since the last sync.
bool ts_queue_dirty (const ts_queue_t *self);

#endif
