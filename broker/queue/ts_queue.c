/*  ts_queue - the job life cycle of the broker's queue, above its
    backends. See ts_queue.h for the semantics and ts_queue_backend.h for
    the storage primitives a backend provides.

    Every decision about a job is taken here and in ts_queue_machine.c,
    once for all backends: which ids a push takes (dedup), when a leased
    job is due back (visibility), how long a failed one waits (backoff
    with equal jitter, Retry-After), when it goes to the dead-letter queue
    (not worth retrying, or max_receives), when the DLQ forgets it
    (retention), how far leases reach after a restart, how stored times
    follow a clock that stepped back, and which acks are remembered. This
    file picks the backend, checks every argument that could come from
    the network (series ids, owner tags, counts) and counts the totals of
    ts_queue_stats, in the batch of the change they count (stored with
    it by ts_queue_machine_end_write).

    Each public call is one backend batch. A write batch that turns out to
    change nothing is aborted, so that an idle broker does not touch its
    store. Walks that change what they walk first collect copies of the
    jobs (a scan), then change each. */

#include "ts_queue_machine.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  Every backend tscache knows, by broker.queue_backend name.
static const ts_queue_backend_t *s_backends [] = {
    &ts_queue_lmdb,
};

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
    policy->rng = ts_queue_machine_seed ();
    self->clock_ms = now_ms;
    self->state = be->open (cfg, err);
    if (self->state) {
        ts_queue_machine_follow_clock (self, now_ms);
        if (ts_queue_machine_load_totals (self, err) == 0
        &&  ts_queue_machine_cap_leases (self, now_ms, err) == 0
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
        ts_queue_machine_list_free (&self->list);
        ts_queue_machine_list_free (&self->moves);
        ts_job_destroy (&self->job);
        ts_strset_free (&self->dedup);
        free (self->credit);
        free (self->served);
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
    return ts_queue_push_rid (self, ids, n, NULL, now_ms, job_id, err);
}

int
ts_queue_push_rid (ts_queue_t *self, const char *const *ids, size_t n,
                   const char *rid, int64_t now_ms, uint64_t *job_id,
                   char *err)
{
    ts_queue_attrs_t attrs = { .rid = rid };
    return ts_queue_push_attrs (self, ids, n, &attrs, now_ms, job_id, err);
}

//  Checks a push's ids and attributes. Returns 0 or TS_EINVAL.
static int
s_check_push (const char *const *ids, size_t n,
              const ts_queue_attrs_t *attrs, char *err)
{
    int rc = ts_queue_machine_check_ids (ids, n, false, err);
    if (rc)
        return rc;
    const char *rid = attrs->rid, *source = attrs->source;
    if (rid && *rid && !ts_rid_valid_n (rid, strlen (rid))) {
        ts_errf (err, "queue: invalid request id");
        return TS_EINVAL;
    }
    if (source && *source && !ts_name_valid (source)) {
        ts_errf (err, "queue: invalid source name");
        return TS_EINVAL;
    }
    if ((attrs->from_ms || attrs->to_ms) && attrs->from_ms >= attrs->to_ms) {
        ts_errf (err, "queue: window: from %" PRId64 " is not before to %"
                 PRId64, attrs->from_ms, attrs->to_ms);
        return TS_EINVAL;
    }
    return 0;
}

//  Queues the n ids in runs of per_job in one batch (ts_queue_push_many);
//  *held (may be NULL) gets how many ids the new jobs hold. Returns the
//  jobs queued or an error.
static int
s_push (ts_queue_t *self, const char *const *ids, size_t n, size_t per_job,
        const ts_queue_attrs_t *attrs, int64_t now_ms, uint64_t *job_ids,
        size_t *held, char *err)
{
    assert (self);
    assert (per_job > 0);
    static const ts_queue_attrs_t none;
    if (!attrs)
        attrs = &none;
    int rc = s_check_push (ids, n, attrs, err);
    if (rc)
        return rc;
    ts_queue_machine_clock (self, now_ms);
    rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    int jobs = 0;
    size_t ids_held = 0;
    for (size_t i = 0, run = 0; i < n && rc >= 0; i += per_job, run++) {
        size_t size = n - i < per_job? n - i: per_job;
        uint64_t id = 0;
        rc = ts_queue_machine_push (self, ids + i, size, attrs, now_ms, &id,
                                    err);
        if (rc > 0) {
            jobs++;
            ids_held += (size_t) rc;
        }
        if (job_ids)
            job_ids [run] = rc > 0? id: 0;
    }
    if (held)
        *held = ids_held;
    return ts_queue_machine_end_write (self, rc < 0? rc: jobs, err);
}

int
ts_queue_push_attrs (ts_queue_t *self, const char *const *ids, size_t n,
                     const ts_queue_attrs_t *attrs, int64_t now_ms,
                     uint64_t *job_id, char *err)
{
    uint64_t id = 0;
    size_t held = 0;
    int rc = s_push (self, ids, n, n? n: 1, attrs, now_ms, &id, &held, err);
    if (job_id)
        *job_id = rc > 0? id: 0;
    return rc < 0? rc: (int) held;
}

int
ts_queue_push_many (ts_queue_t *self, const char *const *ids, size_t n,
                    size_t per_job, const ts_queue_attrs_t *attrs,
                    int64_t now_ms, uint64_t *job_ids, char *err)
{
    return s_push (self, ids, n, per_job, attrs, now_ms, job_ids, NULL, err);
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
    return ts_queue_lease_filtered (self, grants, n, NULL, NULL, now_ms,
                                    jobs, max, err);
}

//  A lease walk that the accept function stopped: no owner takes more.
typedef struct {
    ts_queue_accept_fn *accept;
    void *arg;
    bool  stopped;
} s_accept_t;

static ts_queue_accept_t
s_accept (const ts_job_t *job, void *arg)
{
    s_accept_t *walk = arg;
    ts_queue_accept_t verdict = walk->accept (job, walk->arg);
    if (verdict == TS_QUEUE_STOP)
        walk->stopped = true;
    return verdict;
}

int
ts_queue_lease_filtered (ts_queue_t *self, const ts_queue_grant_t *grants,
                         size_t n, ts_queue_accept_fn *accept, void *arg,
                         int64_t now_ms, ts_job_t **jobs, size_t max,
                         char *err)
{
    assert (self);
    assert (grants || n == 0);
    assert (jobs || max == 0);
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = ts_queue_machine_check_owner (grants [i].owner, err);
        if (rc)
            return rc;
        if (grants [i].served > last)
            last = grants [i].served;
    }
    if (n + 1 > self->grants_cap) {
        uint32_t *credit = realloc (self->credit, (n + 1) * sizeof *credit);
        if (credit)
            self->credit = credit;
        uint64_t *served = realloc (self->served, (n + 1) * sizeof *served);
        if (served)
            self->served = served;
        if (!credit || !served) {
            ts_errf (err, "queue: out of memory");
            return TS_ENOMEM;
        }
        self->grants_cap = n + 1;
    }
    uint32_t *credit = self->credit;
    uint64_t *served = self->served;
    for (size_t i = 0; i < n; i++) {
        credit [i] = grants [i].credit;
        served [i] = grants [i].served;
    }
    s_accept_t walk = { accept, arg, false };
    ts_queue_machine_clock (self, now_ms);
    int rc = ts_queue_machine_begin (self, true, err);
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
                                   chunk, accept? s_accept: NULL, &walk,
                                   jobs + leased, err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got > 0)
            self->changed = true;
        leased += (size_t) got;
        credit [best] -= (uint32_t) got;
        served [best] = ++last;
        if ((size_t) got < chunk || walk.stopped)
            break;                  //  no more visible (or wanted) jobs
    }
    return ts_queue_machine_end_write (self, rc? rc: (int) leased, err);
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

void
ts_queue_clock (ts_queue_t *self, int64_t now_ms)
{
    assert (self);
    ts_queue_machine_clock (self, now_ms);
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
    int rc = ts_queue_machine_begin (self, true, err);
    int acked = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ts_job_t *job = jobs? jobs [i]: self->job;
        int one = self->be->get (self->state, job_ids [i], job, err);
        if (one == 0 && job->state == TS_JOB_DEAD)
            one = TS_ENOTFOUND;     //  a dead job stays dead
        if (one == 0) {
            self->changed = true;
            one = self->be->remove (self->state, job, err);
            //  The last fetch is that of the default window: a window
            //  job (a backfill chunk) fetched the past, not the present.
            bool window = job->from_ms || job->to_ms;
            for (size_t k = 0; !window && one == 0 && k < job->ids->n; k++)
                one = ts_queue_machine_fetched (self, job->ids->items [k],
                                                err);
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
    self->pending.done += (uint64_t) acked;
    rc = ts_queue_machine_end_write (self, rc? rc: acked, err);
    for (size_t i = 0; i < n && rc >= 0; i++)
        if (codes [i] == 0)
            self->acked [job_ids [i] % TS_QUEUE_ACKED_MEMORY] = job_ids [i];
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
    ts_queue_machine_clock (self, now_ms);
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    rc = ts_queue_machine_get_leased (self, job_id, err);
    if (rc == 0) {
        int64_t delay = ts_queue_policy_delay_ms (&self->policy,
                                                  self->job->receives,
                                                  retry_after_ms);
        rc = ts_queue_machine_fail_leased (self, self->job, now_ms,
                                           detail? detail: "", retry, delay,
                                           err);
        if (rc == 0)
            ts_queue_machine_count_failure (self, self->job);
    }
    rc = ts_queue_machine_end_write (self, rc, err);
    if (rc == 0) {
        if (job && ts_job_copy (job, self->job) != 0) {
            ts_errf (err, "queue: out of memory");
            rc = TS_ENOMEM;
        }
    }
    return rc;
}

//  Puts the leased job job_id back where it was, without its receive;
//  with owner, only if leased to owner. job (may be NULL) gets it.
static int
s_unlease (ts_queue_t *self, uint64_t job_id, const char *owner,
           ts_job_t *job, char *err)
{
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    rc = ts_queue_machine_get_leased (self, job_id, err);
    ts_job_t *got = self->job;
    if (rc == 0 && owner && strcmp (got->owner, owner) != 0) {
        ts_errf (err, "job %" PRIu64 " is not leased to %s", job_id, owner);
        rc = TS_ENOTFOUND;
    }
    if (rc == 0) {
        ts_queue_place_t was = ts_queue_place (got);
        if (got->receives > 0)
            got->receives--;
        got->state = TS_JOB_QUEUED;
        got->deadline_ms = 0;       //  visible_at_ms: where it was
        rc = ts_queue_machine_update (self, got, was, err);
    }
    rc = ts_queue_machine_end_write (self, rc, err);
    if (rc == 0 && job && ts_job_copy (job, got) != 0) {
        ts_errf (err, "queue: out of memory");
        rc = TS_ENOMEM;
    }
    return rc;
}

int
ts_queue_unlease (ts_queue_t *self, uint64_t job_id, char *err)
{
    assert (self);
    return s_unlease (self, job_id, NULL, NULL, err);
}

int
ts_queue_release (ts_queue_t *self, uint64_t job_id, const char *owner,
                  ts_job_t *job, char *err)
{
    assert (self);
    int rc = ts_queue_machine_check_owner (owner, err);
    return rc? rc: s_unlease (self, job_id, owner, job, err);
}

int
ts_queue_release_owner (ts_queue_t *self, const char *owner, int64_t now_ms,
                        ts_queue_report_fn *report, void *arg, char *err)
{
    assert (self);
    int rc = ts_queue_machine_check_owner (owner, err);
    if (rc)
        return rc;
    ts_queue_machine_clock (self, now_ms);
    rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    self->moves.n = 0;
    ts_queue_filter_t mine = { NULL, owner, NULL, 0 };
    rc = ts_queue_machine_scan (self, TS_JOB_LEASED, INT64_MAX, &self->list,
                                &mine, err);
    if (rc == 0)
        rc = ts_queue_machine_fail_collected (self, now_ms, "worker lost",
                                              err);
    rc = ts_queue_machine_end_write (self, rc, err);
    if (rc < 0)
        self->moves.n = 0;
    ts_queue_machine_report_moves (self, report, arg);
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
    ts_queue_machine_clock (self, now_ms);
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    self->moves.n = 0;
    rc = ts_queue_machine_scan (self, TS_JOB_LEASED, now_ms, &self->list,
                                NULL, err);
    int expired = rc? rc: ts_queue_machine_fail_collected (
        self, now_ms, "visibility timeout expired", err);
    rc = expired < 0? expired: 0;
    if (rc == 0)
        rc = ts_queue_machine_scan (self, TS_JOB_DEAD,
                                    now_ms - self->policy.dlq_retention_ms,
                                    &self->list, NULL, err);
    size_t dropped = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        self->changed = true;
        rc = self->be->remove (self->state, self->list.jobs [i], err);
        dropped++;
    }
    rc = ts_queue_machine_end_write (self, rc? rc: expired, err);
    if (rc < 0)
        self->moves.n = 0;
    else
    if (purged)
        *purged = dropped;
    ts_queue_machine_report_moves (self, report, arg);
    return rc;
}

int
ts_queue_lookup (ts_queue_t *self, uint64_t job_id, ts_job_t *job,
                 char *err)
{
    assert (self);
    assert (job);
    int rc = ts_queue_machine_begin (self, false, err);
    if (rc)
        return rc;
    rc = self->be->get (self->state, job_id, job, err);
    if (rc == TS_ENOTFOUND)
        ts_errf (err, "job %" PRIu64 " not found", job_id);
    ts_queue_machine_end_read (self);
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
    int rc = ts_queue_machine_check_ids (ids, n, true, err);
    if (rc || n == 0)
        return rc;
    rc = ts_queue_machine_begin (self, false, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = self->be->holder (self->state, ids [i], 0, 0, &jobs [i], err);
    ts_queue_machine_end_read (self);
    return rc;
}

int64_t
ts_queue_next_wakeup (ts_queue_t *self, int64_t now_ms)
{
    assert (self);
    ts_queue_machine_clock (self, now_ms);
    if (ts_queue_machine_begin (self, false, NULL))
        return -1;
    int64_t deadline, visible;
    if (self->be->first (self->state, TS_JOB_LEASED, INT64_MIN, &deadline,
                         NULL))
        deadline = -1;
    if (self->be->first (self->state, TS_JOB_QUEUED, now_ms + 1, &visible,
                         NULL))
        visible = -1;
    ts_queue_machine_end_read (self);
    if (deadline < 0 || (visible >= 0 && visible < deadline))
        return visible;
    return deadline;
}

int
ts_queue_last_fetch (ts_queue_t *self, const char *const *ids, size_t n,
                     int64_t *times_ms, char *err)
{
    assert (self);
    assert (times_ms || n == 0);
    int rc = ts_queue_machine_check_ids (ids, n, true, err);
    if (rc == 0)
        rc = ts_queue_machine_begin (self, false, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        times_ms [i] = 0;
        rc = self->be->fetched_get (self->state, ids [i], &times_ms [i], err);
        if (rc == TS_ENOTFOUND)
            rc = 0;
    }
    ts_queue_machine_end_read (self);
    return rc;
}

int
ts_queue_fill_get (ts_queue_t *self, const char *const *ids, size_t n,
                   ts_fill_t *fills, bool *found, char *err)
{
    assert (self);
    assert (fills || n == 0);
    int rc = ts_queue_machine_check_ids (ids, n, true, err);
    if (rc == 0 && n > 0)
        rc = ts_queue_machine_begin (self, false, err);
    if (rc || n == 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        memset (&fills [i], 0, sizeof fills [i]);
        rc = self->be->fill_get (self->state, ids [i], &fills [i], err);
        if (found)
            found [i] = rc == 0;
        if (rc == TS_ENOTFOUND) {
            memset (&fills [i], 0, sizeof fills [i]);
            rc = 0;
        }
    }
    ts_queue_machine_end_read (self);
    return rc;
}

int
ts_queue_fill_put (ts_queue_t *self, const char *const *ids, size_t n,
                   const ts_fill_t *fills, char *err)
{
    assert (self);
    assert (fills || n == 0);
    int rc = ts_queue_machine_check_ids (ids, n, true, err);
    if (rc == 0 && n > 0)
        rc = ts_queue_machine_begin (self, true, err);
    if (rc || n == 0)
        return rc;
    self->changed = true;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = self->be->fill_put (self->state, ids [i], &fills [i], err);
    return ts_queue_machine_end_write (self, rc, err);
}

int
ts_queue_stats (ts_queue_t *self, int64_t now_ms, ts_queue_stats_t *stats,
                char *err)
{
    assert (self);
    assert (stats);
    memset (stats, 0, sizeof *stats);
    ts_queue_machine_clock (self, now_ms);
    int rc = ts_queue_machine_begin (self, false, err);
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
        ts_queue_machine_end_read (self);
    }
    stats->done = self->totals.done;
    stats->failed = self->totals.failed;
    stats->retried = self->totals.retried;
    stats->dead_lettered = self->totals.dead_lettered;
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
    int rc = ts_queue_machine_begin (self, false, err);
    if (rc)
        return rc;
    s_each_t each = { fn, arg };
    rc = self->be->scan (self->state, TS_JOB_DEAD, INT64_MAX, s_each, &each,
                         err);
    ts_queue_machine_end_read (self);
    return rc;
}

//  Inside a write batch: the dead job leaves the DLQ and its ids not
//  live by now make a new job. Returns the ids that job holds (0: none,
//  nothing queued) or an error.
static int
s_redrive_one (ts_queue_t *self, const ts_job_t *dead, int64_t now_ms,
               char *err)
{
    self->changed = true;
    int rc = self->be->remove (self->state, dead, err);
    if (rc == 0)
        rc = ts_queue_machine_push (self, (const char *const *)
                                    dead->ids->items, dead->ids->n,
                                    &(ts_queue_attrs_t) {
                                        dead->rid, dead->source,
                                        dead->from_ms, dead->to_ms, false },
                                    now_ms, NULL, err);
    return rc;
}

int
ts_queue_dlq_redrive (ts_queue_t *self, const char *const *ids, size_t n,
                      int64_t now_ms, char *err)
{
    assert (self);
    if (!ids)
        n = 0;
    int rc = ts_queue_machine_check_ids (ids, n, true, err);
    if (rc)
        return rc;
    ts_queue_machine_clock (self, now_ms);
    rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    ts_queue_filter_t holding = { NULL, NULL, ids, n };
    rc = ts_queue_machine_scan (self, TS_JOB_DEAD, INT64_MAX, &self->list,
                                &holding, err);
    int requeued = 0;
    for (size_t i = 0; i < self->list.n && rc == 0; i++) {
        rc = s_redrive_one (self, self->list.jobs [i], now_ms, err);
        if (rc > 0) {
            requeued++;
            rc = 0;
        }
    }
    return ts_queue_machine_end_write (self, rc? rc: requeued, err);
}

int
ts_queue_dlq_redrive_jobs (ts_queue_t *self, const uint64_t *job_ids,
                           size_t n, int64_t now_ms, char *err)
{
    assert (self);
    assert (job_ids || n == 0);
    //  Not self->job: the push that requeues uses it.
    ts_job_t *dead = ts_job_new ();
    if (!dead) {
        ts_errf (err, "queue: out of memory");
        return TS_ENOMEM;
    }
    ts_queue_machine_clock (self, now_ms);
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc) {
        ts_job_destroy (&dead);
        return rc;
    }
    int requeued = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = self->be->get (self->state, job_ids [i], dead, err);
        if (rc == TS_ENOTFOUND || (rc == 0 && dead->state != TS_JOB_DEAD)) {
            rc = 0;                 //  not in the DLQ: passed over
            continue;
        }
        if (rc == 0)
            rc = s_redrive_one (self, dead, now_ms, err);
        if (rc > 0) {
            requeued++;
            rc = 0;
        }
    }
    ts_job_destroy (&dead);
    return ts_queue_machine_end_write (self, rc? rc: requeued, err);
}

int
ts_queue_dlq_purge (ts_queue_t *self, char *err)
{
    assert (self);
    int rc = ts_queue_machine_begin (self, true, err);
    if (rc)
        return rc;
    rc = self->be->purge (self->state, err);
    if (rc > 0)
        self->changed = true;
    return ts_queue_machine_end_write (self, rc, err);
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
