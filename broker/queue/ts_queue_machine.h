/*  ts_queue_machine - the job state machine of the queue, inside one
    backend batch: the steps every public call of ts_queue.h is made of.
    Internal to broker/queue: ts_queue.c (the public calls) is its only
    user; a backend never sees it. It holds the retry policy and its
    jitter generator, the clock-step and restart rules, dedup of a push,
    the dead-letter decision, and the argument checks. See ts_queue.c for
    the life cycle as a whole. Functions return 0 (or a count) or a TS_E*
    code and fill err (TS_ERRLEN bytes, may be NULL). */

#ifndef TS_QUEUE_MACHINE_H_INCLUDED
#define TS_QUEUE_MACHINE_H_INCLUDED

#include "ts_queue.h"
#include "ts_queue_backend.h"

//  The totals of ts_queue_stats_t, stored with the queue (meta values).
typedef struct {
    uint64_t done;
    uint64_t failed;
    uint64_t retried;
    uint64_t dead_lettered;
} ts_queue_totals_t;

//  Copies of jobs, reused from call to call.
typedef struct {
    ts_job_t **jobs;                //  made jobs; the first n are in use
    size_t     n;
    size_t     made;
} ts_queue_list_t;

//  The queue: the backend, the policy, totals and scratch space.
struct _ts_queue_t {
    const ts_queue_backend_t *be;   //  the chosen backend
    void    *state;                 //  the backend's own state
    ts_queue_policy_t policy;       //  retry settings and PRNG
    bool     dirty;                 //  written since the last sync
    bool     changed;               //  the open write batch changed a job
    uint64_t census;                //  jobs held when it began (s_census)
    int64_t  clock_ms;              //  latest wall-clock time seen
    int64_t  clock_stored_ms;       //  clock_ms as the backend holds it
    ts_queue_totals_t totals;       //  totals as stored (committed)
    ts_queue_totals_t pending;      //  counted in the open write batch,
                                    //  stored with it by end_write
    uint64_t *acked;                //  TS_QUEUE_ACKED_MEMORY slots: job
                                    //  id acked, at id % size
    ts_job_t *job;                  //  scratch: job being changed
    ts_queue_list_t list;           //  scratch: jobs of a scan
    ts_queue_list_t moves;          //  scratch: failed jobs to report
    ts_strset_t dedup;              //  scratch: a push's ids seen
    uint32_t *credit;               //  scratch: a lease call's grants,
    uint64_t *served;               //  credit left and order served
    size_t   grants_cap;
};

//  What a collecting scan keeps: jobs of owner (any if NULL).
typedef struct {
    ts_queue_list_t *list;          //  where the jobs go
    const char *owner;              //  jobs of this owner; any if NULL
    const char *const *ids;         //  with n > 0: jobs holding one of them
    size_t      n;                  //  ids given
} ts_queue_filter_t;

//  Frees the jobs of list and its array; list is empty afterwards.
void ts_queue_machine_list_free (ts_queue_list_t *list);

//  Appends a copy of job. Returns 0 or TS_ENOMEM.
int ts_queue_machine_list_add (ts_queue_list_t *list, const ts_job_t *job);

//  Collects into list the jobs in state up to until_ms that c (may be
//  NULL: all) accepts, in the backend's time order.
int ts_queue_machine_scan (ts_queue_t *self, ts_job_state_t state,
                           int64_t until_ms, ts_queue_list_t *list,
                           ts_queue_filter_t *c, char *err);

//  A seed for the jitter generator, never 0.
uint64_t ts_queue_machine_seed (void);

//  Opens a batch (a write batch if write); a write batch starts with
//  nothing changed.
int ts_queue_machine_begin (ts_queue_t *self, bool write, char *err);

//  Ends a read batch.
void ts_queue_machine_end_read (ts_queue_t *self);

//  Ends a write batch: aborts it on an error or if it changed nothing,
//  else stores the clock and the totals counted in the batch and commits
//  (the totals then include them). Stale or corrupt entries the backend
//  dropped on its way are a change (the count of all jobs moved), so the
//  drop is stored. Returns result or the commit's error.
int ts_queue_machine_end_write (ts_queue_t *self, int result, char *err);

//  Stores job, read in this batch at was, as it is now.
int ts_queue_machine_update (ts_queue_t *self, const ts_job_t *job,
                             ts_queue_place_t was, char *err);

//  Notes the wall-clock time now_ms of a call; if the clock stepped back
//  further than TS_QUEUE_CLOCK_SLACK_MS, moves the stored times back with
//  it first. A failed move is logged and not tried again: the call goes
//  on, the jobs then wait for the clock to catch up.
void ts_queue_machine_clock (ts_queue_t *self, int64_t now_ms);

//  At open: the clock is behind what the queue saw before (it stepped
//  back while the broker was down): moves the jobs' times back with it.
//  A failure is logged only: the jobs then wait for the clock, which is
//  better than a broker that cannot start.
void ts_queue_machine_follow_clock (ts_queue_t *self, int64_t now_ms);

//  At open: reads the stored totals (a queue written before they were
//  stored has none: they start at 0). Returns 0 or TS_EBACKEND.
int ts_queue_machine_load_totals (ts_queue_t *self, char *err);

//  At open: leases held before end within TS_QUEUE_RESTART_LEASE_MS.
int ts_queue_machine_cap_leases (ts_queue_t *self, int64_t now_ms, char *err);

//  Checks n ids (n == 0 only if allow_none) against ts_name_existing and
//  TS_QUEUE_MAX_IDS. Returns 0 or TS_EINVAL with err naming the bad id.
int ts_queue_machine_check_ids (const char *const *ids, size_t n,
                                bool allow_none, char *err);

//  Checks an owner tag: 1 to TS_QUEUE_OWNER_MAX bytes. 0 or TS_EINVAL.
int ts_queue_machine_check_owner (const char *owner, char *err);

//  Puts a job of those of the n ids that no live job holds, visible at
//  now_ms, carrying attrs (checked by the caller, never NULL).
//  Returns how many ids it holds (0: none, nothing stored).
int ts_queue_machine_push (ts_queue_t *self, const char *const *ids, size_t n,
                           const ts_queue_attrs_t *attrs, int64_t now_ms,
                           uint64_t *job_id, char *err);

//  Inside an ack's write batch: id was fetched. Stores the clock as its
//  last fetch; if it had none before (its first fetch ever), marks its
//  fill record TS_FILL_NEW (made if missing) for the backfill planner.
int ts_queue_machine_fetched (ts_queue_t *self, const char *id, char *err);

//  A leased job failed with error: to the DLQ if it may not be retried
//  or was received max_receives times, else visible after delay_ms.
int ts_queue_machine_fail_leased (ts_queue_t *self, ts_job_t *job,
                                  int64_t now_ms, const char *error,
                                  bool retry, int64_t delay_ms, char *err);

//  Reads job_id into self->job and checks that it is leased.
int ts_queue_machine_get_leased (ts_queue_t *self, uint64_t job_id,
                                 char *err);

//  Fails the collected leased jobs with error, visible at once or dead;
//  counts each failure and appends the job to self->moves. Returns how
//  many.
int ts_queue_machine_fail_collected (ts_queue_t *self, int64_t now_ms,
                                     const char *error, char *err);

//  Counts a failure that ended in job's state, in the open write batch.
void ts_queue_machine_count_failure (ts_queue_t *self, const ts_job_t *job);

//  Reports the moves of a committed batch.
void ts_queue_machine_report_moves (ts_queue_t *self,
                                    ts_queue_report_fn *report, void *arg);

#endif
