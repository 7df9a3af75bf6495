/*  ts_queue_machine - the steps of the job life cycle inside one backend
    batch (see ts_queue_machine.h): scratch lists of jobs, the retry
    policy, batches that store nothing when nothing changed (a drop of
    unreadable entries by the backend is a change), clock steps,
    the restart rule for leases, argument checks, push with dedup, and
    failing a leased job (retry or dead-letter). Each write batch that
    changes something also stores the latest wall-clock time seen
    ("clock_ms"), which the next open compares with its own clock, and
    the totals it counted ("total_done", ...), so that they survive a
    restart exactly as the jobs they count do. */

#include "ts_queue_machine.h"
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

//  The totals and their meta names, in ts_queue_totals_t's order.
static const char *s_total_keys [] = {
    "total_done", "total_failed", "total_retried", "total_dead_lettered"
};
#define S_TOTALS (sizeof s_total_keys / sizeof s_total_keys [0])

static uint64_t *
s_total (ts_queue_totals_t *totals, size_t i)
{
    uint64_t *all [] = { &totals->done, &totals->failed, &totals->retried,
                         &totals->dead_lettered };
    return all [i];
}


//  ---------------------------------------------------------------------
//  Scratch lists

void
ts_queue_machine_list_free (ts_queue_list_t *list)
{
    for (size_t i = 0; i < list->made; i++)
        ts_job_destroy (&list->jobs [i]);
    free (list->jobs);
    memset (list, 0, sizeof *list);
}

//  Appends a copy of job. Returns 0 or TS_ENOMEM.
int
ts_queue_machine_list_add (ts_queue_list_t *list, const ts_job_t *job)
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


static int
s_collect (const ts_job_t *job, void *arg)
{
    ts_queue_filter_t *c = arg;
    if (c->owner && strcmp (job->owner, c->owner) != 0)
        return 0;
    if (c->n > 0) {
        size_t i = 0;
        while (i < c->n && !ts_strlist_contains (job->ids, c->ids [i]))
            i++;
        if (i == c->n)
            return 0;
    }
    return ts_queue_machine_list_add (c->list, job);
}

//  Collects into list the jobs in state up to until_ms that c accepts.
int
ts_queue_machine_scan (ts_queue_t *self, ts_job_state_t state,
                       int64_t until_ms, ts_queue_list_t *list,
                       ts_queue_filter_t *c, char *err)
{
    ts_queue_filter_t all = { list, NULL, NULL, 0 };
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

uint64_t
ts_queue_machine_seed (void)
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

//  How many jobs the backend holds, in all states (counts of all are
//  fast). A backend drops the stale and corrupt entries its walks meet: a
//  write batch that did only that changed no job, but the drop must be
//  stored all the same, else it is made (and logged) again on every
//  call, and a corrupt lease keeps waking the broker. This count, taken
//  when a write batch begins and again at its end, tells.
static int
s_census (ts_queue_t *self, uint64_t *total, char *err)
{
    ts_job_state_t states [] = { TS_JOB_QUEUED, TS_JOB_LEASED, TS_JOB_DEAD };
    *total = 0;
    for (size_t i = 0; i < 3; i++) {
        uint64_t n = 0;
        int rc = self->be->count (self->state, states [i], INT64_MIN, &n,
                                  err);
        if (rc)
            return rc;
        *total += n;
    }
    return 0;
}

int
ts_queue_machine_begin (ts_queue_t *self, bool write, char *err)
{
    self->changed = false;
    memset (&self->pending, 0, sizeof self->pending);
    int rc = self->be->begin (self->state, write, err);
    if (rc == 0 && write && (rc = s_census (self, &self->census, err)))
        self->be->abort (self->state);
    return rc;
}

void
ts_queue_machine_end_read (ts_queue_t *self)
{
    self->be->abort (self->state);
}

//  Ends a write batch: aborts it on an error or if it changed nothing,
//  else stores the clock and the totals counted in the batch and commits.
//  Returns result or the commit's error.
int
ts_queue_machine_end_write (ts_queue_t *self, int result, char *err)
{
    ts_queue_totals_t sum = self->totals;
    ts_queue_totals_t pending = self->pending;
    memset (&self->pending, 0, sizeof self->pending);
    uint64_t census = self->census;
    if (result >= 0 && !self->changed
    &&  s_census (self, &census, NULL) == 0 && census != self->census)
        self->changed = true;       //  entries dropped on the way
    if (result < 0 || !self->changed) {
        self->be->abort (self->state);
        return result;
    }
    int rc = 0;
    if (self->clock_ms != self->clock_stored_ms)
        rc = self->be->meta_put (self->state, S_CLOCK_KEY, self->clock_ms,
                                 err);
    for (size_t i = 0; i < S_TOTALS && rc == 0; i++) {
        uint64_t add = *s_total (&pending, i);
        uint64_t *total = s_total (&sum, i);
        if (add == 0)
            continue;
        *total += add;
        //  Stored as int64: a total wraps past 2^63, which no queue sees.
        rc = self->be->meta_put (self->state, s_total_keys [i],
                                 (int64_t) (*total & INT64_MAX), err);
    }
    if (rc) {
        self->be->abort (self->state);
        return rc;
    }
    rc = self->be->commit (self->state, err);
    if (rc)
        return rc;
    self->dirty = true;
    self->clock_stored_ms = self->clock_ms;
    self->totals = sum;
    return result;
}

//  At open: reads the stored totals (none in a queue written before they
//  were stored: they start at 0).
int
ts_queue_machine_load_totals (ts_queue_t *self, char *err)
{
    int rc = ts_queue_machine_begin (self, false, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < S_TOTALS && rc == 0; i++) {
        int64_t value = 0;
        rc = self->be->meta_get (self->state, s_total_keys [i], &value, err);
        if (rc == TS_ENOTFOUND)
            rc = 0;
        else
        if (rc == 0)
            *s_total (&self->totals, i) = value > 0? (uint64_t) value: 0;
    }
    ts_queue_machine_end_read (self);
    return rc;
}

//  Stores job, read in this batch at was, as it is now.
int
ts_queue_machine_update (ts_queue_t *self, const ts_job_t *job,
                         ts_queue_place_t was, char *err)
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
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    self->changed = true;           //  the new clock is stored even so
    int count = 0;
    ts_job_state_t states [] = { TS_JOB_QUEUED, TS_JOB_LEASED, TS_JOB_DEAD };
    for (size_t s = 0; s < 3 && rc == 0; s++) {
        rc = ts_queue_machine_scan (self, states [s], INT64_MAX, &self->list,
                                    NULL, err);
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
            rc = ts_queue_machine_update (self, job, was, err);
            count++;
        }
    }
    return ts_queue_machine_end_write (self, rc? rc: count, err);
}

//  Notes the wall-clock time now_ms of a call; if the clock stepped back
//  further than TS_QUEUE_CLOCK_SLACK_MS, moves the stored times back with
//  it first. A failed move is logged and not tried again: the call goes
//  on, the jobs then wait for the clock to catch up.
void
ts_queue_machine_clock (ts_queue_t *self, int64_t now_ms)
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

//  ts_queue_scan_fn: the latest enqueue or death time into *arg.
static int
s_latest (const ts_job_t *job, void *arg)
{
    int64_t *seen = arg;
    if (job->enqueued_at_ms > *seen)
        *seen = job->enqueued_at_ms;
    if (job->state == TS_JOB_DEAD && job->dead_at_ms > *seen)
        *seen = job->dead_at_ms;
    return 0;
}

//  At open: the clock is behind what the queue saw before (it stepped
//  back while the broker was down): moves the jobs' times back with it.
//  A failure is logged only: the jobs then wait for the clock, which is
//  better than a broker that cannot start.
void
ts_queue_machine_follow_clock (ts_queue_t *self, int64_t now_ms)
{
    int64_t seen = INT64_MIN;
    if (ts_queue_machine_begin (self, false, NULL) == 0) {
        if (self->be->meta_get (self->state, S_CLOCK_KEY, &seen, NULL)) {
            //  A queue written before the clock was stored: its newest
            //  enqueue or death time is the latest clock it saw.
            seen = INT64_MIN;
            ts_job_state_t states [] = { TS_JOB_QUEUED, TS_JOB_LEASED,
                                         TS_JOB_DEAD };
            for (size_t s = 0; s < 3; s++)
                self->be->scan (self->state, states [s], INT64_MAX,
                                s_latest, &seen, NULL);
        }
        ts_queue_machine_end_read (self);
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
int
ts_queue_machine_cap_leases (ts_queue_t *self, int64_t now_ms, char *err)
{
    int64_t limit = now_ms + TS_QUEUE_RESTART_LEASE_MS;
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc == 0)
        rc = ts_queue_machine_scan (self, TS_JOB_LEASED, INT64_MAX,
                                    &self->list, NULL, err);
    int count = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        ts_job_t *job = self->list.jobs [i];
        if (job->deadline_ms <= limit)
            continue;
        ts_queue_place_t was = ts_queue_place (job);
        job->deadline_ms = limit;
        rc = ts_queue_machine_update (self, job, was, err);
        count++;
    }
    rc = ts_queue_machine_end_write (self, rc, err);
    if (rc == 0 && count)
        ts_info ("queue: %d leases from before the restart end within "
                 "%d s", count, TS_QUEUE_RESTART_LEASE_MS / 1000);
    return rc;
}

//  ---------------------------------------------------------------------
//  Argument checks

int
ts_queue_machine_check_ids (const char *const *ids, size_t n,
                            bool allow_none, char *err)
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

int
ts_queue_machine_check_owner (const char *owner, char *err)
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

//  True if ids [i] came earlier in ids (the set is reset by the push).
static bool
s_dedup_seen (ts_queue_t *self, const char *const *ids, size_t i)
{
    return ts_strset_add (&self->dedup, ids, i) != i;
}

//  Puts a job of those of the n ids that no live job holds for its
//  window (attrs), visible at now_ms. Returns how many ids it holds (0: none, nothing stored).
//  A priority push met job_id holding one of its ids: a queued job not
//  yet priority becomes one (moved to the high lane, in place in time).
static int
s_bump (ts_queue_t *self, uint64_t job_id, char *err)
{
    ts_job_t *held = ts_job_new ();
    if (!held) {
        ts_errf (err, "queue: out of memory");
        return TS_ENOMEM;
    }
    int rc = self->be->get (self->state, job_id, held, err);
    if (rc == 0 && held->state == TS_JOB_QUEUED && !held->priority) {
        ts_queue_place_t was = ts_queue_place (held);
        held->priority = true;
        self->changed = true;
        rc = self->be->update (self->state, held, &was, err);
    }
    ts_job_destroy (&held);
    return rc == TS_ENOTFOUND? 0: rc;
}

int
ts_queue_machine_push (ts_queue_t *self, const char *const *ids, size_t n,
                       const ts_queue_attrs_t *attrs, int64_t now_ms, uint64_t *job_id,
                       char *err)
{
    ts_job_t *job = self->job;
    ts_strlist_clear (job->ids);
    int rc = 0;
    if (ts_strset_reset (&self->dedup, n)) {
        ts_errf (err, "queue: out of memory");
        rc = TS_ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t holder = 0;
        if (s_dedup_seen (self, ids, i))
            continue;
        rc = self->be->holder (self->state, ids [i], attrs->from_ms,
                               attrs->to_ms, &holder, err);
        if (rc == 0 && holder == 0 && ts_strlist_append (job->ids, ids [i])) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
        if (rc == 0 && holder && attrs->priority)
            rc = s_bump (self, holder, err);
    }
    if (rc || job->ids->n == 0)
        return rc;
    job->id = 0;
    job->state = TS_JOB_QUEUED;
    job->receives = 0;
    job->enqueued_at_ms = job->visible_at_ms = now_ms;
    job->deadline_ms = job->dead_at_ms = 0;
    job->owner [0] = job->error [0] = 0;
    ts_strlcpy (job->rid, attrs->rid? attrs->rid: "", sizeof job->rid);
    ts_strlcpy (job->source, attrs->source? attrs->source: "",
                sizeof job->source);
    job->from_ms = attrs->from_ms;
    job->to_ms = attrs->to_ms;
    job->priority = attrs->priority;
    self->changed = true;
    rc = self->be->put (self->state, job, err);
    if (rc)
        return rc;
    if (job_id)
        *job_id = job->id;
    return (int) job->ids->n;
}

//  Inside an ack's write batch: id was fetched (see the header).
int
ts_queue_machine_fetched (ts_queue_t *self, const char *id, char *err)
{
    int64_t before = 0;
    int rc = self->be->fetched_get (self->state, id, &before, err);
    if (rc == TS_ENOTFOUND) {
        ts_fill_t fill;
        memset (&fill, 0, sizeof fill);
        rc = self->be->fill_get (self->state, id, &fill, err);
        if (rc == 0 || rc == TS_ENOTFOUND) {
            fill.flags |= TS_FILL_NEW;
            rc = self->be->fill_put (self->state, id, &fill, err);
        }
    }
    return rc? rc: self->be->fetched_put (self->state, id, self->clock_ms,
                                          err);
}

//  A leased job failed with error: to the DLQ if it may not be retried
//  or was received max_receives times, else visible after delay_ms.
int
ts_queue_machine_fail_leased (ts_queue_t *self, ts_job_t *job,
                              int64_t now_ms, const char *error, bool retry,
                              int64_t delay_ms, char *err)
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
    return ts_queue_machine_update (self, job, was, err);
}

//  Reads job_id into self->job and checks that it is leased.
int
ts_queue_machine_get_leased (ts_queue_t *self, uint64_t job_id, char *err)
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
int
ts_queue_machine_fail_collected (ts_queue_t *self, int64_t now_ms,
                                 const char *error, char *err)
{
    int rc = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        ts_job_t *job = self->list.jobs [i];
        rc = ts_queue_machine_fail_leased (self, job, now_ms, error, true, 0,
                                           err);
        if (rc == 0)
            ts_queue_machine_count_failure (self, job);
        if (rc == 0 && ts_queue_machine_list_add (&self->moves, job)) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
    }
    return rc? rc: (int) self->list.n;
}

//  Counts a failure that ended in job's state.
void
ts_queue_machine_count_failure (ts_queue_t *self, const ts_job_t *job)
{
    self->pending.failed++;
    if (job->state == TS_JOB_DEAD)
        self->pending.dead_lettered++;
    else
        self->pending.retried++;
}

//  Reports the moves of a committed batch.
void
ts_queue_machine_report_moves (ts_queue_t *self, ts_queue_report_fn *report,
                               void *arg)
{
    for (size_t i = 0; i < self->moves.n && report; i++)
        report (self->moves.jobs [i], arg);
    self->moves.n = 0;
}

