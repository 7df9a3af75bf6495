/*  ts_queue - the job life cycle of the broker's queue, above its
    backends. See ts_queue.h for the semantics and ts_queue_backend.h for
    the storage primitives a backend provides.

    Every decision about a job is taken here, once for all backends:
    which ids a push takes (dedup), when a leased job is due back
    (visibility), how long a failed one waits (backoff with equal jitter,
    Retry-After), when it goes to the dead-letter queue (not worth
    retrying, or max_receives), when the DLQ forgets it (retention), how
    far leases reach after a restart, how stored times follow a clock
    that stepped back, and which acks are remembered. This file also
    checks every argument that could come from the network (series ids,
    owner tags, counts) and counts the totals of ts_queue_stats.

    Each public call is one backend batch. A write batch that turns out to
    change nothing is aborted, so that an idle broker does not touch its
    store; one that changes something also stores the latest wall-clock
    time seen ("clock_ms"), which the next open compares with its own
    clock. Walks that change what they walk first collect copies of the
    jobs (a scan), then change each. */

#include "ts_queue.h"
#include "ts_queue_backend.h"
#include "ts_log.h"

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_CLOCK_KEY     "clock_ms"  //  meta: latest clock of a change

//  Every backend tscache knows, by broker.queue_backend name.
static const ts_queue_backend_t *s_backends [] = {
    &ts_queue_lmdb,
};

//  Copies of jobs, reused from call to call.
typedef struct {
    ts_job_t **jobs;                //  made jobs; the first n are in use
    size_t     n;
    size_t     made;
} s_list_t;

struct _ts_queue_t {
    const ts_queue_backend_t *be;   //  the chosen backend
    void    *state;                 //  the backend's own state
    ts_queue_policy_t policy;       //  retry settings and PRNG
    bool     dirty;                 //  written since the last sync
    bool     changed;               //  the open write batch changed a job
    int64_t  clock_ms;              //  latest wall-clock time seen
    int64_t  clock_stored_ms;       //  clock_ms as the backend holds it
    uint64_t done;                  //  totals, see ts_queue_stats_t
    uint64_t failed;
    uint64_t retried;
    uint64_t dead_lettered;
    uint64_t *acked;                //  TS_QUEUE_ACKED_MEMORY slots: job
                                    //  id acked, at id % size
    ts_job_t *job;                  //  scratch: job being changed
    s_list_t list;                  //  scratch: jobs of a scan
    s_list_t moves;                 //  scratch: failed jobs to report
    uint32_t *dedup;                //  scratch: hash set of a push's ids
    size_t   dedup_size;
};

//  ---------------------------------------------------------------------
//  Scratch lists

static void
s_list_free (s_list_t *list)
{
    for (size_t i = 0; i < list->made; i++)
        ts_job_destroy (&list->jobs [i]);
    free (list->jobs);
    memset (list, 0, sizeof *list);
}

//  Appends a copy of job. Returns 0 or TS_ENOMEM.
static int
s_list_add (s_list_t *list, const ts_job_t *job)
{
    if (list->n == list->made) {
        ts_job_t **jobs = realloc (list->jobs,
                                   (list->made + 1) * sizeof *jobs);
        if (!jobs)
            return TS_ENOMEM;
        list->jobs = jobs;
        if (!(jobs [list->made] = ts_job_new ()))
            return TS_ENOMEM;
        list->made++;
    }
    if (ts_job_copy (list->jobs [list->n], job) != 0)
        return TS_ENOMEM;
    list->n++;
    return 0;
}

//  What a collecting scan keeps: jobs of owner (any if NULL).
typedef struct {
    s_list_t   *list;
    const char *owner;
    const char *const *ids;         //  with n > 0: jobs holding one of them
    size_t      n;
} s_collect_t;

static int
s_collect (const ts_job_t *job, void *arg)
{
    s_collect_t *c = arg;
    if (c->owner && strcmp (job->owner, c->owner) != 0)
        return 0;
    if (c->n > 0) {
        size_t i = 0;
        while (i < c->n && !ts_strlist_contains (job->ids, c->ids [i]))
            i++;
        if (i == c->n)
            return 0;
    }
    return s_list_add (c->list, job);
}

//  Collects into list the jobs in state up to until_ms that c accepts.
static int
s_scan (ts_queue_t *self, ts_job_state_t state, int64_t until_ms,
        s_list_t *list, s_collect_t *c, char *err)
{
    s_collect_t all = { list, NULL, NULL, 0 };
    if (!c)
        c = &all;
    c->list = list;
    list->n = 0;
    int rc = self->be->scan (self->state, state, until_ms, s_collect, c,
                             err);
    if (rc == TS_ENOMEM)
        ts_errf (err, "queue: out of memory");
    return rc;
}

//  ---------------------------------------------------------------------
//  Retry policy

static uint64_t
s_rng_next (ts_queue_policy_t *policy)
{
    //  xorshift64* (Marsaglia, Vigna): plenty for jitter, never security.
    uint64_t x = policy->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    policy->rng = x;
    return x * UINT64_C (2685821657736338717);
}

static uint64_t
s_rng_seed (void)
{
    uint64_t seed = 0;
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read (fd, &seed, sizeof seed) != (ssize_t) sizeof seed)
            seed = 0;
        close (fd);
    }
    if (seed == 0) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        seed = ((uint64_t) ts.tv_sec << 32) ^ (uint64_t) ts.tv_nsec
             ^ ((uint64_t) getpid () << 16);
    }
    return seed? seed: UINT64_C (0x9e3779b97f4a7c15);
}

int64_t
ts_queue_policy_delay_ms (ts_queue_policy_t *policy, uint32_t receives,
                          int64_t retry_after_ms)
{
    assert (policy);
    //  min (retry_max_ms, retry_base_ms * 2^(receives-1)), without
    //  overflowing on the doubling.
    int64_t backoff = policy->retry_base_ms;
    for (uint32_t i = 1; i < receives && backoff < policy->retry_max_ms; i++)
        backoff *= 2;
    if (backoff > policy->retry_max_ms)
        backoff = policy->retry_max_ms;
    //  Equal jitter: half fixed, half random, so [0.5, 1] * backoff.
    int64_t half = backoff / 2;
    int64_t delay = (backoff - half)
                  + (int64_t) (s_rng_next (policy) % (uint64_t) (half + 1));
    if (retry_after_ms > TS_QUEUE_RETRY_AFTER_MAX_MS)
        retry_after_ms = TS_QUEUE_RETRY_AFTER_MAX_MS;
    return retry_after_ms > delay? retry_after_ms: delay;
}

//  ---------------------------------------------------------------------
//  Batches

static int
s_begin (ts_queue_t *self, bool write, char *err)
{
    self->changed = false;
    return self->be->begin (self->state, write, err);
}

static void
s_end_read (ts_queue_t *self)
{
    self->be->abort (self->state);
}

//  Ends a write batch: aborts it on an error or if it changed nothing,
//  else stores the clock and commits. Returns result or the commit's
//  error.
static int
s_end_write (ts_queue_t *self, int result, char *err)
{
    if (result < 0 || !self->changed) {
        self->be->abort (self->state);
        return result;
    }
    int rc = 0;
    if (self->clock_ms != self->clock_stored_ms)
        rc = self->be->meta_put (self->state, S_CLOCK_KEY, self->clock_ms,
                                 err);
    if (rc) {
        self->be->abort (self->state);
        return rc;
    }
    rc = self->be->commit (self->state, err);
    if (rc)
        return rc;
    self->dirty = true;
    self->clock_stored_ms = self->clock_ms;
    return result;
}

//  Stores job, read in this batch at was, as it is now.
static int
s_update (ts_queue_t *self, const ts_job_t *job, ts_queue_place_t was,
          char *err)
{
    self->changed = true;
    return self->be->update (self->state, job, &was, err);
}

//  ---------------------------------------------------------------------
//  Clock steps

//  Moves the stored times of every job by delta_ms (< 0), in one batch,
//  so that visible jobs stay visible and delays, leases and the DLQ
//  retention keep their length. Returns how many jobs moved.
static int
s_shift (ts_queue_t *self, int64_t delta_ms, char *err)
{
    int rc = s_begin (self, true, err);
    if (rc)
        return rc;
    self->changed = true;           //  the new clock is stored even so
    int count = 0;
    ts_job_state_t states [] = { TS_JOB_QUEUED, TS_JOB_LEASED, TS_JOB_DEAD };
    for (size_t s = 0; s < 3 && rc == 0; s++) {
        rc = s_scan (self, states [s], INT64_MAX, &self->list, NULL, err);
        for (size_t i = 0; i < self->list.n && rc == 0; i++) {
            ts_job_t *job = self->list.jobs [i];
            ts_queue_place_t was = ts_queue_place (job);
            job->enqueued_at_ms += delta_ms;
            if (job->state != TS_JOB_DEAD)
                job->visible_at_ms += delta_ms;
            if (job->state == TS_JOB_LEASED)
                job->deadline_ms += delta_ms;
            if (job->state == TS_JOB_DEAD)
                job->dead_at_ms += delta_ms;
            rc = s_update (self, job, was, err);
            count++;
        }
    }
    return s_end_write (self, rc? rc: count, err);
}

//  Notes the wall-clock time now_ms of a call; if the clock stepped back
//  further than TS_QUEUE_CLOCK_SLACK_MS, moves the stored times back with
//  it first. A failed move is logged and not tried again: the call goes
//  on, the jobs then wait for the clock to catch up.
static void
s_clock (ts_queue_t *self, int64_t now_ms)
{
    if (now_ms >= self->clock_ms - TS_QUEUE_CLOCK_SLACK_MS) {
        if (now_ms > self->clock_ms)
            self->clock_ms = now_ms;
        return;
    }
    char err [TS_ERRLEN];
    int64_t step = self->clock_ms - now_ms;
    self->clock_ms = now_ms;
    int rc = s_shift (self, -step, err);
    if (rc < 0)
        ts_error ("queue: the clock went back %" PRId64 " ms; cannot move "
                  "the jobs' times back: %s", step, err);
    else
        ts_warn ("queue: the clock went back %" PRId64 " ms; %d jobs moved "
                 "back with it", step, rc);
}

//  At open: the clock is behind what the queue saw before (it stepped
//  back while the broker was down): moves the jobs' times back with it.
//  A failure is logged only: the jobs then wait for the clock, which is
//  better than a broker that cannot start.
static void
s_follow_clock (ts_queue_t *self, int64_t now_ms)
{
    int64_t seen = INT64_MIN;
    if (s_begin (self, false, NULL) == 0) {
        if (self->be->meta_get (self->state, S_CLOCK_KEY, &seen, NULL))
            seen = INT64_MIN;
        s_end_read (self);
    }
    self->clock_stored_ms = seen;
    self->clock_ms = now_ms;
    if (seen == INT64_MIN || now_ms >= seen - TS_QUEUE_CLOCK_SLACK_MS)
        return;
    char err [TS_ERRLEN];
    int rc = s_shift (self, now_ms - seen, err);
    if (rc < 0)
        ts_error ("queue: the clock is %" PRId64 " ms behind the newest "
                  "change; cannot move the jobs' times back: %s",
                  seen - now_ms, err);
    else
        ts_warn ("queue: the clock is %" PRId64 " ms behind the newest "
                 "change; %d jobs moved back with it", seen - now_ms, rc);
}

//  At open: leases held before end within TS_QUEUE_RESTART_LEASE_MS.
static int
s_cap_leases (ts_queue_t *self, int64_t now_ms, char *err)
{
    int64_t limit = now_ms + TS_QUEUE_RESTART_LEASE_MS;
    int rc = s_begin (self, true, err);
    if (rc == 0)
        rc = s_scan (self, TS_JOB_LEASED, INT64_MAX, &self->list, NULL, err);
    int count = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        ts_job_t *job = self->list.jobs [i];
        if (job->deadline_ms <= limit)
            continue;
        ts_queue_place_t was = ts_queue_place (job);
        job->deadline_ms = limit;
        rc = s_update (self, job, was, err);
        count++;
    }
    rc = s_end_write (self, rc, err);
    if (rc == 0 && count)
        ts_info ("queue: %d leases from before the restart end within "
                 "%d s", count, TS_QUEUE_RESTART_LEASE_MS / 1000);
    return rc;
}

//  ---------------------------------------------------------------------
//  Argument checks

static int
s_check_ids (const char *const *ids, size_t n, bool allow_none, char *err)
{
    if (n == 0 && !allow_none) {
        ts_errf (err, "no ids given");
        return TS_EINVAL;
    }
    if (n > TS_QUEUE_MAX_IDS) {
        ts_errf (err, "%zu ids in one call, at most %d", n,
                 TS_QUEUE_MAX_IDS);
        return TS_EINVAL;
    }
    if (n > 0 && !ids) {
        ts_errf (err, "no id list");
        return TS_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (!ids [i] || !ts_name_existing (ids [i])) {
            ts_name_errf (err, "id", ids [i],
                          ids [i]? strnlen (ids [i], TS_NAME_MAX + 1): 0);
            return TS_EINVAL;
        }
    return 0;
}

static int
s_check_owner (const char *owner, char *err)
{
    size_t len = owner? strnlen (owner, TS_QUEUE_OWNER_MAX + 1): 0;
    if (len == 0 || len > TS_QUEUE_OWNER_MAX) {
        ts_errf (err, "owner tag must be 1 to %d bytes",
                 TS_QUEUE_OWNER_MAX);
        return TS_EINVAL;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Life cycle steps inside a write batch

//  True if ids [i] came earlier in ids: an open-addressing set of
//  indexes, cleared by s_dedup_reset.
static bool
s_dedup_seen (ts_queue_t *self, const char *const *ids, size_t i)
{
    uint64_t h = UINT64_C (1469598103934665603);
    for (const char *p = ids [i]; *p; p++)
        h = (h ^ (unsigned char) *p) * UINT64_C (1099511628211);
    size_t mask = self->dedup_size - 1;
    for (size_t at = (size_t) h & mask; ; at = (at + 1) & mask) {
        uint32_t slot = self->dedup [at];
        if (slot == 0) {
            self->dedup [at] = (uint32_t) i + 1;
            return false;
        }
        if (strcmp (ids [slot - 1], ids [i]) == 0)
            return true;
    }
}

static int
s_dedup_reset (ts_queue_t *self, size_t n, char *err)
{
    size_t size = 64;
    while (size < 2 * n)
        size *= 2;
    if (size > self->dedup_size) {
        uint32_t *set = realloc (self->dedup, size * sizeof *set);
        if (!set) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
        self->dedup = set;
        self->dedup_size = size;
    }
    memset (self->dedup, 0, self->dedup_size * sizeof *self->dedup);
    return 0;
}

//  Puts a job of those of the n ids that no live job holds, visible at
//  now_ms. Returns how many ids it holds (0: none, nothing stored).
static int
s_push (ts_queue_t *self, const char *const *ids, size_t n, int64_t now_ms,
        uint64_t *job_id, char *err)
{
    ts_job_t *job = self->job;
    ts_strlist_clear (job->ids);
    int rc = s_dedup_reset (self, n, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t holder = 0;
        if (s_dedup_seen (self, ids, i))
            continue;
        rc = self->be->holder (self->state, ids [i], &holder, err);
        if (rc == 0 && holder == 0 && ts_strlist_append (job->ids, ids [i])) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
    }
    if (rc || job->ids->n == 0)
        return rc;
    job->id = 0;
    job->state = TS_JOB_QUEUED;
    job->receives = 0;
    job->enqueued_at_ms = job->visible_at_ms = now_ms;
    job->deadline_ms = job->dead_at_ms = 0;
    job->owner [0] = job->error [0] = 0;
    self->changed = true;
    rc = self->be->put (self->state, job, err);
    if (rc)
        return rc;
    if (job_id)
        *job_id = job->id;
    return (int) job->ids->n;
}

//  A leased job failed with error: to the DLQ if it may not be retried
//  or was received max_receives times, else visible after delay_ms.
static int
s_fail_leased (ts_queue_t *self, ts_job_t *job, int64_t now_ms,
               const char *error, bool retry, int64_t delay_ms, char *err)
{
    ts_queue_place_t was = ts_queue_place (job);
    ts_strlcpy (job->error, error, sizeof job->error);
    job->deadline_ms = 0;
    if (!retry || job->receives >= self->policy.max_receives) {
        job->state = TS_JOB_DEAD;
        job->dead_at_ms = now_ms;
    }
    else {
        job->state = TS_JOB_QUEUED;
        job->visible_at_ms = now_ms + delay_ms;
    }
    return s_update (self, job, was, err);
}

//  Reads job_id into self->job and checks that it is leased.
static int
s_get_leased (ts_queue_t *self, uint64_t job_id, char *err)
{
    int rc = self->be->get (self->state, job_id, self->job, err);
    if (rc == 0 && self->job->state != TS_JOB_LEASED) {
        ts_errf (err, "job %" PRIu64 " is not leased", job_id);
        rc = TS_ENOTFOUND;
    }
    return rc;
}

//  Fails the collected leased jobs with error, visible at once or dead;
//  appends each to self->moves. Returns how many.
static int
s_fail_collected (ts_queue_t *self, int64_t now_ms, const char *error,
                  char *err)
{
    int rc = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        ts_job_t *job = self->list.jobs [i];
        rc = s_fail_leased (self, job, now_ms, error, true, 0, err);
        if (rc == 0 && s_list_add (&self->moves, job)) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
    }
    return rc? rc: (int) self->list.n;
}

//  Counts a failure that ended in job's state.
static void
s_count_failure (ts_queue_t *self, const ts_job_t *job)
{
    self->failed++;
    if (job->state == TS_JOB_DEAD)
        self->dead_lettered++;
    else
        self->retried++;
}

//  Counts and reports the moves of a committed batch.
static void
s_report_moves (ts_queue_t *self, ts_queue_report_fn *report, void *arg)
{
    for (size_t i = 0; i < self->moves.n; i++) {
        s_count_failure (self, self->moves.jobs [i]);
        if (report)
            report (self->moves.jobs [i], arg);
    }
    self->moves.n = 0;
}

//  ---------------------------------------------------------------------
//  Queue

ts_queue_t *
ts_queue_new (const ts_config_t *cfg, int64_t now_ms, char *err)
{
    assert (cfg);
    const char *name = ts_config_str (cfg, "broker.queue_backend");
    const ts_queue_backend_t *be = NULL;
    for (size_t i = 0; i < sizeof s_backends / sizeof s_backends [0]; i++)
        if (name && strcmp (s_backends [i]->name, name) == 0)
            be = s_backends [i];
    if (!be) {
        ts_errf (err, "broker.queue_backend: unknown backend '%s'",
                 name? name: "");
        return NULL;
    }
    ts_queue_t *self = calloc (1, sizeof *self);
    if (!self || !(self->acked = calloc (TS_QUEUE_ACKED_MEMORY,
                                         sizeof (uint64_t)))
    ||  !(self->job = ts_job_new ())) {
        ts_errf (err, "queue: out of memory");
        if (self)
            free (self->acked);
        free (self);
        return NULL;
    }
    self->be = be;
    ts_queue_policy_t *policy = &self->policy;
    policy->visibility_ms =
        ts_config_int (cfg, "broker.visibility_timeout_s") * 1000;
    policy->max_receives =
        (uint32_t) ts_config_int (cfg, "broker.max_receives");
    policy->retry_base_ms = ts_config_int (cfg, "broker.retry_base_ms");
    policy->retry_max_ms = ts_config_int (cfg, "broker.retry_max_ms");
    policy->dlq_retention_ms =
        ts_config_int (cfg, "broker.dlq_retention_s") * 1000;
    policy->rng = s_rng_seed ();
    self->clock_ms = now_ms;
    self->state = be->open (cfg, err);
    if (self->state) {
        s_follow_clock (self, now_ms);
        if (s_cap_leases (self, now_ms, err) == 0
        &&  ts_queue_sync (self, err) == 0)
            return self;
    }
    ts_queue_destroy (&self);
    return NULL;
}

void
ts_queue_destroy (ts_queue_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_queue_t *self = *self_p;
        if (self->state) {
            ts_queue_sync (self, NULL);
            self->be->close (self->state);
        }
        s_list_free (&self->list);
        s_list_free (&self->moves);
        ts_job_destroy (&self->job);
        free (self->dedup);
        free (self->acked);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_queue_backend (const ts_queue_t *self)
{
    assert (self);
    return self->be->name;
}

int
ts_queue_push (ts_queue_t *self, const char *const *ids, size_t n,
               int64_t now_ms, uint64_t *job_id, char *err)
{
    assert (self);
    if (job_id)
        *job_id = 0;
    int rc = s_check_ids (ids, n, false, err);
    if (rc)
        return rc;
    s_clock (self, now_ms);
    rc = s_begin (self, true, err);
    if (rc)
        return rc;
    uint64_t id = 0;
    rc = s_end_write (self, s_push (self, ids, n, now_ms, &id, err), err);
    if (rc > 0 && job_id)
        *job_id = id;
    return rc;
}

//  The grant that takes the next job (most credit left, then least
//  recently served), or n if no credit is left.
static size_t
s_pick (const uint32_t *credit, const uint64_t *served, size_t n)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (credit [i] > 0
        &&  (best == n || credit [i] > credit [best]
             || (credit [i] == credit [best] && served [i] < served [best])))
            best = i;
    return best;
}

int
ts_queue_lease_many (ts_queue_t *self, const ts_queue_grant_t *grants,
                     size_t n, int64_t now_ms, ts_job_t **jobs, size_t max,
                     char *err)
{
    assert (self);
    assert (grants || n == 0);
    assert (jobs || max == 0);
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = s_check_owner (grants [i].owner, err);
        if (rc)
            return rc;
        if (grants [i].served > last)
            last = grants [i].served;
    }
    uint32_t *credit = calloc (n + 1, sizeof *credit);
    uint64_t *served = calloc (n + 1, sizeof *served);
    if (!credit || !served) {
        free (credit);
        free (served);
        ts_errf (err, "queue: out of memory");
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        credit [i] = grants [i].credit;
        served [i] = grants [i].served;
    }
    s_clock (self, now_ms);
    int rc = s_begin (self, true, err);
    size_t leased = 0;
    while (rc == 0 && leased < max) {
        size_t best = s_pick (credit, served, n);
        if (best == n)
            break;
        //  The chosen one takes jobs until its credit meets the next
        //  one's, as many picks of one job each would give it.
        uint32_t next = 0;
        for (size_t i = 0; i < n; i++)
            if (i != best && credit [i] > next)
                next = credit [i];
        size_t chunk = credit [best] > next? credit [best] - next: 1;
        if (chunk > max - leased)
            chunk = max - leased;
        int got = self->be->lease (self->state, grants [best].owner, now_ms,
                                   now_ms + self->policy.visibility_ms,
                                   chunk, jobs + leased, err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got > 0)
            self->changed = true;
        leased += (size_t) got;
        credit [best] -= (uint32_t) got;
        served [best] = ++last;
        if ((size_t) got < chunk)
            break;                  //  no more visible jobs
    }
    free (credit);
    free (served);
    return s_end_write (self, rc? rc: (int) leased, err);
}

int
ts_queue_lease (ts_queue_t *self, const char *owner, int64_t now_ms,
                ts_job_t *job, char *err)
{
    assert (self);
    ts_queue_grant_t grant = { owner, 1, 0 };
    ts_job_t *out = job? job: self->job;
    int rc = ts_queue_lease_many (self, &grant, 1, now_ms, &out, 1, err);
    if (rc == 0) {
        ts_errf (err, "no job visible");
        return TS_ENOTFOUND;
    }
    return rc < 0? rc: 0;
}

int
ts_queue_ack_many (ts_queue_t *self, const uint64_t *job_ids, size_t n,
                   ts_job_t **jobs, int *rcs, char *err)
{
    assert (self);
    assert (job_ids || n == 0);
    int *codes = rcs? rcs: calloc (n + 1, sizeof *codes);
    if (!codes) {
        ts_errf (err, "queue: out of memory");
        return TS_ENOMEM;
    }
    int rc = s_begin (self, true, err);
    int acked = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ts_job_t *job = jobs? jobs [i]: self->job;
        int one = self->be->get (self->state, job_ids [i], job, err);
        if (one == 0 && job->state == TS_JOB_DEAD)
            one = TS_ENOTFOUND;     //  a dead job stays dead
        if (one == 0) {
            self->changed = true;
            one = self->be->remove (self->state, job, err);
            if (one == 0)
                acked++;
        }
        if (one == TS_ENOTFOUND)
            ts_errf (err, "job %" PRIu64 " not found", job_ids [i]);
        else
        if (one)
            rc = one;
        codes [i] = one;
    }
    rc = s_end_write (self, rc? rc: acked, err);
    for (size_t i = 0; i < n && rc >= 0; i++)
        if (codes [i] == 0) {
            self->done++;
            self->acked [job_ids [i] % TS_QUEUE_ACKED_MEMORY] = job_ids [i];
        }
    if (codes != rcs)
        free (codes);
    return rc;
}

int
ts_queue_ack (ts_queue_t *self, uint64_t job_id, ts_job_t *job, char *err)
{
    assert (self);
    int one = 0;
    int rc = ts_queue_ack_many (self, &job_id, 1, job? &job: NULL, &one,
                                err);
    return rc < 0? rc: one;
}

int
ts_queue_nack (ts_queue_t *self, uint64_t job_id, const char *detail,
               bool retry, int64_t retry_after_ms, int64_t now_ms,
               ts_job_t *job, char *err)
{
    assert (self);
    if (retry_after_ms < 0)
        retry_after_ms = 0;
    s_clock (self, now_ms);
    int rc = s_begin (self, true, err);
    if (rc)
        return rc;
    rc = s_get_leased (self, job_id, err);
    if (rc == 0) {
        int64_t delay = ts_queue_policy_delay_ms (&self->policy,
                                                  self->job->receives,
                                                  retry_after_ms);
        rc = s_fail_leased (self, self->job, now_ms, detail? detail: "",
                            retry, delay, err);
    }
    rc = s_end_write (self, rc, err);
    if (rc == 0) {
        s_count_failure (self, self->job);
        if (job && ts_job_copy (job, self->job) != 0) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
    }
    return rc;
}

int
ts_queue_unlease (ts_queue_t *self, uint64_t job_id, char *err)
{
    assert (self);
    int rc = s_begin (self, true, err);
    if (rc)
        return rc;
    rc = s_get_leased (self, job_id, err);
    if (rc == 0) {
        ts_job_t *job = self->job;
        ts_queue_place_t was = ts_queue_place (job);
        if (job->receives > 0)
            job->receives--;
        job->state = TS_JOB_QUEUED;
        job->deadline_ms = 0;       //  visible_at_ms: where it was
        rc = s_update (self, job, was, err);
    }
    return s_end_write (self, rc, err);
}

int
ts_queue_release_owner (ts_queue_t *self, const char *owner, int64_t now_ms,
                        ts_queue_report_fn *report, void *arg, char *err)
{
    assert (self);
    int rc = s_check_owner (owner, err);
    if (rc)
        return rc;
    s_clock (self, now_ms);
    rc = s_begin (self, true, err);
    if (rc)
        return rc;
    self->moves.n = 0;
    s_collect_t mine = { NULL, owner, NULL, 0 };
    rc = s_scan (self, TS_JOB_LEASED, INT64_MAX, &self->list, &mine, err);
    if (rc == 0)
        rc = s_fail_collected (self, now_ms, "worker lost", err);
    rc = s_end_write (self, rc, err);
    if (rc < 0)
        self->moves.n = 0;
    s_report_moves (self, report, arg);
    return rc;
}

int
ts_queue_expire (ts_queue_t *self, int64_t now_ms,
                 ts_queue_report_fn *report, void *arg, size_t *purged,
                 char *err)
{
    assert (self);
    if (purged)
        *purged = 0;
    s_clock (self, now_ms);
    int rc = s_begin (self, true, err);
    if (rc)
        return rc;
    self->moves.n = 0;
    rc = s_scan (self, TS_JOB_LEASED, now_ms, &self->list, NULL, err);
    int expired = rc? rc: s_fail_collected (self, now_ms,
                                            "visibility timeout expired",
                                            err);
    rc = expired < 0? expired: 0;
    if (rc == 0)
        rc = s_scan (self, TS_JOB_DEAD,
                     now_ms - self->policy.dlq_retention_ms, &self->list,
                     NULL, err);
    size_t dropped = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        self->changed = true;
        rc = self->be->remove (self->state, self->list.jobs [i], err);
        dropped++;
    }
    rc = s_end_write (self, rc? rc: expired, err);
    if (rc < 0)
        self->moves.n = 0;
    else
    if (purged)
        *purged = dropped;
    s_report_moves (self, report, arg);
    return rc;
}

int
ts_queue_lookup (ts_queue_t *self, uint64_t job_id, ts_job_t *job,
                 char *err)
{
    assert (self);
    assert (job);
    int rc = s_begin (self, false, err);
    if (rc)
        return rc;
    rc = self->be->get (self->state, job_id, job, err);
    if (rc == TS_ENOTFOUND)
        ts_errf (err, "job %" PRIu64 " not found", job_id);
    s_end_read (self);
    return rc;
}

bool
ts_queue_acked (const ts_queue_t *self, uint64_t job_id)
{
    assert (self);
    return job_id && self->acked [job_id % TS_QUEUE_ACKED_MEMORY] == job_id;
}

int
ts_queue_holders (ts_queue_t *self, const char *const *ids, size_t n,
                  uint64_t *jobs, char *err)
{
    assert (self);
    assert (jobs || n == 0);
    int rc = s_check_ids (ids, n, true, err);
    if (rc || n == 0)
        return rc;
    rc = s_begin (self, false, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = self->be->holder (self->state, ids [i], &jobs [i], err);
    s_end_read (self);
    return rc;
}

int64_t
ts_queue_next_wakeup (ts_queue_t *self, int64_t now_ms)
{
    assert (self);
    s_clock (self, now_ms);
    if (s_begin (self, false, NULL))
        return -1;
    int64_t deadline, visible;
    if (self->be->first (self->state, TS_JOB_LEASED, INT64_MIN, &deadline,
                         NULL))
        deadline = -1;
    if (self->be->first (self->state, TS_JOB_QUEUED, now_ms + 1, &visible,
                         NULL))
        visible = -1;
    s_end_read (self);
    if (deadline < 0 || (visible >= 0 && visible < deadline))
        return visible;
    return deadline;
}

int
ts_queue_stats (ts_queue_t *self, int64_t now_ms, ts_queue_stats_t *stats,
                char *err)
{
    assert (self);
    assert (stats);
    memset (stats, 0, sizeof *stats);
    s_clock (self, now_ms);
    int rc = s_begin (self, false, err);
    if (rc == 0) {
        uint64_t ready = 0, delayed = 0;
        int64_t oldest = 0;
        void *st = self->state;
        rc = self->be->count (st, TS_JOB_QUEUED, INT64_MIN, &ready, err);
        if (rc == 0)
            rc = self->be->count (st, TS_JOB_QUEUED, now_ms + 1, &delayed,
                                  err);
        if (rc == 0)
            rc = self->be->count (st, TS_JOB_LEASED, INT64_MIN,
                                  &stats->leased, err);
        if (rc == 0)
            rc = self->be->count (st, TS_JOB_DEAD, INT64_MIN, &stats->dlq,
                                  err);
        if (rc == 0) {
            rc = self->be->oldest (st, &oldest, err);
            if (rc == 0 && now_ms > oldest)
                stats->oldest_age_ms = now_ms - oldest;
            if (rc == TS_ENOTFOUND)
                rc = 0;
        }
        stats->delayed = delayed;
        stats->queued = ready > delayed? ready - delayed: 0;
        s_end_read (self);
    }
    stats->done = self->done;
    stats->failed = self->failed;
    stats->retried = self->retried;
    stats->dead_lettered = self->dead_lettered;
    return rc;
}

//  Hands a dead job to the caller's ts_queue_each_fn.
typedef struct {
    ts_queue_each_fn *fn;
    void *arg;
} s_each_t;

static int
s_each (const ts_job_t *job, void *arg)
{
    s_each_t *each = arg;
    return each->fn (job, each->arg);
}

int
ts_queue_dlq_each (ts_queue_t *self, ts_queue_each_fn *fn, void *arg,
                   char *err)
{
    assert (self);
    assert (fn);
    int rc = s_begin (self, false, err);
    if (rc)
        return rc;
    s_each_t each = { fn, arg };
    rc = self->be->scan (self->state, TS_JOB_DEAD, INT64_MAX, s_each, &each,
                         err);
    s_end_read (self);
    return rc;
}

int
ts_queue_dlq_redrive (ts_queue_t *self, const char *const *ids, size_t n,
                      int64_t now_ms, char *err)
{
    assert (self);
    if (!ids)
        n = 0;
    int rc = s_check_ids (ids, n, true, err);
    if (rc)
        return rc;
    s_clock (self, now_ms);
    rc = s_begin (self, true, err);
    if (rc)
        return rc;
    s_collect_t holding = { NULL, NULL, ids, n };
    rc = s_scan (self, TS_JOB_DEAD, INT64_MAX, &self->list, &holding, err);
    int requeued = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        //  Leaves the DLQ; its ids not live by now make a new job.
        const ts_job_t *dead = self->list.jobs [i];
        self->changed = true;
        rc = self->be->remove (self->state, dead, err);
        if (rc == 0)
            rc = s_push (self, (const char *const *) dead->ids->items,
                         dead->ids->n, now_ms, NULL, err);
        if (rc > 0) {
            requeued++;
            rc = 0;
        }
    }
    return s_end_write (self, rc? rc: requeued, err);
}

int
ts_queue_dlq_purge (ts_queue_t *self, char *err)
{
    assert (self);
    int rc = s_begin (self, true, err);
    if (rc)
        return rc;
    rc = self->be->purge (self->state, err);
    if (rc > 0)
        self->changed = true;
    return s_end_write (self, rc, err);
}

int
ts_queue_sync (ts_queue_t *self, char *err)
{
    assert (self);
    if (!self->dirty)
        return 0;
    int rc = self->be->sync (self->state, err);
    if (rc == 0)
        self->dirty = false;
    return rc;
}

bool
ts_queue_dirty (const ts_queue_t *self)
{
    assert (self);
    return self->dirty;
}
