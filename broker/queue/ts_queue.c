/*  ts_queue - the queue interface: argument checks, retry policy and
    totals, then the backend. See ts_queue.h for the semantics and
    ts_queue_backend.h for what a backend does.

    This file picks the backend named by broker.queue_backend from a
    static table, checks every argument that could come from the network
    (series ids, owner tags, counts), holds the retry policy with its
    jitter generator, counts the totals reported by ts_queue_stats from
    what each call did, and remembers whether anything was written since
    the last sync. It stores no jobs.

    It also watches the wall clock it is told: when that steps back (an
    NTP correction, a resumed virtual machine), the backend moves the
    stored times back with it, or every queued job would wait until the
    clock caught up again. */

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

//  Every backend tscache knows, by broker.queue_backend name.
static const ts_queue_ops_t *s_backends [] = {
    &ts_queue_lmdb_ops,
};

struct _ts_queue_t {
    const ts_queue_ops_t *ops;      //  the chosen backend
    void    *state;                 //  the backend's own state
    ts_queue_policy_t policy;       //  retry settings and PRNG
    bool     dirty;                 //  written since the last sync
    int64_t  clock_ms;              //  latest wall-clock time seen
    uint64_t done;                  //  totals, see ts_queue_stats_t
    uint64_t failed;
    uint64_t retried;
    uint64_t dead_lettered;
    uint64_t *acked;                //  TS_QUEUE_ACKED_MEMORY slots: job
                                    //  id acked, at id % size
};

//  ---------------------------------------------------------------------
//  Jobs

ts_job_t *
ts_job_new (void)
{
    ts_job_t *self = calloc (1, sizeof *self);
    if (self && !(self->ids = ts_strlist_new ())) {
        free (self);
        self = NULL;
    }
    return self;
}

void
ts_job_destroy (ts_job_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_job_t *self = *self_p;
        ts_strlist_destroy (&self->ids);
        free (self);
        *self_p = NULL;
    }
}

int
ts_job_copy (ts_job_t *dst, const ts_job_t *src)
{
    assert (dst && dst->ids);
    assert (src && src->ids);
    if (dst == src)
        return 0;
    ts_strlist_t *ids = dst->ids;
    ts_strlist_clear (ids);
    for (size_t i = 0; i < src->ids->n; i++)
        if (ts_strlist_append (ids, src->ids->items [i]) != 0)
            return TS_ENOMEM;
    *dst = *src;
    dst->ids = ids;
    return 0;
}

char *
ts_job_ids_text (const ts_job_t *self, char *buf, size_t size)
{
    assert (self && buf && size >= 4);
    size_t used = 0;
    buf [0] = 0;
    for (size_t i = 0; i < self->ids->n; i++) {
        int rc = snprintf (buf + used, size - used, "%s%s", i? ",": "",
                           self->ids->items [i]);
        if (rc < 0 || (size_t) rc >= size - used) {
            memcpy (buf + size - 4, "...", 4);
            break;
        }
        used += (size_t) rc;
    }
    return buf;
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

int
ts_queue_moves_add (ts_queue_moves_t *moves, const ts_job_t *job)
{
    assert (moves && job);
    if (moves->n == moves->cap) {
        size_t cap = moves->cap? moves->cap * 2: 16;
        ts_job_t **jobs = realloc (moves->jobs, cap * sizeof *jobs);
        if (!jobs)
            return TS_ENOMEM;
        moves->jobs = jobs;
        moves->cap = cap;
    }
    ts_job_t *copy = ts_job_new ();
    if (!copy || ts_job_copy (copy, job) != 0) {
        ts_job_destroy (&copy);
        return TS_ENOMEM;
    }
    moves->jobs [moves->n++] = copy;
    return 0;
}

static void
s_moves_free (ts_queue_moves_t *moves)
{
    for (size_t i = 0; i < moves->n; i++)
        ts_job_destroy (&moves->jobs [i]);
    free (moves->jobs);
    memset (moves, 0, sizeof *moves);
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

//  Counts and reports the moves of a successful call, then frees them.
static void
s_report_moves (ts_queue_t *self, ts_queue_moves_t *moves,
                ts_queue_report_fn *report, void *arg)
{
    for (size_t i = 0; i < moves->n; i++) {
        s_count_failure (self, moves->jobs [i]);
        if (report)
            report (moves->jobs [i], arg);
    }
    s_moves_free (moves);
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
    int rc = self->ops->shift (self->state, -step, err);
    if (rc < 0)
        ts_error ("queue: the clock went back %" PRId64 " ms; cannot move "
                  "the jobs' times back: %s", step, err);
    else {
        ts_warn ("queue: the clock went back %" PRId64 " ms; %d jobs moved "
                 "back with it", step, rc);
        if (rc > 0)
            self->dirty = true;
    }
    self->clock_ms = now_ms;
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
//  Queue

ts_queue_t *
ts_queue_new (const ts_config_t *cfg, int64_t now_ms, char *err)
{
    assert (cfg);
    const char *name = ts_config_str (cfg, "broker.queue_backend");
    const ts_queue_ops_t *ops = NULL;
    for (size_t i = 0; i < sizeof s_backends / sizeof s_backends [0]; i++)
        if (name && strcmp (s_backends [i]->name, name) == 0)
            ops = s_backends [i];
    if (!ops) {
        ts_errf (err, "broker.queue_backend: unknown backend '%s'",
                 name? name: "");
        return NULL;
    }
    ts_queue_t *self = calloc (1, sizeof *self);
    if (self && !(self->acked = calloc (TS_QUEUE_ACKED_MEMORY,
                                        sizeof (uint64_t)))) {
        free (self);
        self = NULL;
    }
    if (!self) {
        ts_errf (err, "queue: out of memory");
        return NULL;
    }
    self->ops = ops;
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
    self->state = ops->open (cfg, policy, now_ms, err);
    if (!self->state) {
        free (self->acked);
        free (self);
        return NULL;
    }
    return self;
}

void
ts_queue_destroy (ts_queue_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_queue_t *self = *self_p;
        ts_queue_sync (self, NULL);
        self->ops->close (self->state);
        free (self->acked);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_queue_backend (const ts_queue_t *self)
{
    assert (self);
    return self->ops->name;
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
    rc = self->ops->push (self->state, ids, n, now_ms, job_id, err);
    if (rc > 0)
        self->dirty = true;
    return rc;
}

int
ts_queue_lease (ts_queue_t *self, const char *owner, int64_t now_ms,
                ts_job_t *job, char *err)
{
    assert (self);
    int rc = s_check_owner (owner, err);
    if (rc)
        return rc;
    s_clock (self, now_ms);
    rc = self->ops->lease (self->state, owner, now_ms, job, err);
    if (rc == 0)
        self->dirty = true;
    return rc;
}

int
ts_queue_ack (ts_queue_t *self, uint64_t job_id, ts_job_t *job, char *err)
{
    assert (self);
    int rc = self->ops->ack (self->state, job_id, job, err);
    if (rc == 0) {
        self->dirty = true;
        self->done++;
        self->acked [job_id % TS_QUEUE_ACKED_MEMORY] = job_id;
    }
    return rc;
}

int
ts_queue_nack (ts_queue_t *self, uint64_t job_id, const char *detail,
               bool retry, int64_t retry_after_ms, int64_t now_ms,
               ts_job_t *job, char *err)
{
    assert (self);
    ts_job_t *scratch = NULL;
    if (!job && !(job = scratch = ts_job_new ())) {
        ts_errf (err, "queue: out of memory");
        return TS_ENOMEM;
    }
    if (retry_after_ms < 0)
        retry_after_ms = 0;
    s_clock (self, now_ms);
    int rc = self->ops->nack (self->state, job_id, detail? detail: "",
                              retry, retry_after_ms, now_ms, job, err);
    if (rc == 0) {
        self->dirty = true;
        s_count_failure (self, job);
    }
    ts_job_destroy (&scratch);
    return rc;
}

int
ts_queue_unlease (ts_queue_t *self, uint64_t job_id, char *err)
{
    assert (self);
    int rc = self->ops->unlease (self->state, job_id, err);
    if (rc == 0)
        self->dirty = true;
    return rc;
}

int
ts_queue_release_owner (ts_queue_t *self, const char *owner, int64_t now_ms,
                        ts_queue_report_fn *report, void *arg, char *err)
{
    assert (self);
    int rc = s_check_owner (owner, err);
    if (rc)
        return rc;
    ts_queue_moves_t moves = { NULL, 0, 0 };
    s_clock (self, now_ms);
    rc = self->ops->release_owner (self->state, owner, now_ms, &moves, err);
    if (rc < 0) {
        s_moves_free (&moves);
        return rc;
    }
    if (moves.n)
        self->dirty = true;
    s_report_moves (self, &moves, report, arg);
    return rc;
}

int
ts_queue_expire (ts_queue_t *self, int64_t now_ms,
                 ts_queue_report_fn *report, void *arg, size_t *purged,
                 char *err)
{
    assert (self);
    size_t dropped = 0;
    if (purged)
        *purged = 0;
    ts_queue_moves_t moves = { NULL, 0, 0 };
    s_clock (self, now_ms);
    int rc = self->ops->expire (self->state, now_ms, &moves, &dropped, err);
    if (rc < 0) {
        s_moves_free (&moves);
        return rc;
    }
    if (moves.n || dropped)
        self->dirty = true;
    if (purged)
        *purged = dropped;
    s_report_moves (self, &moves, report, arg);
    return rc;
}

int
ts_queue_lookup (ts_queue_t *self, uint64_t job_id, ts_job_t *job,
                 char *err)
{
    assert (self);
    assert (job);
    return self->ops->lookup (self->state, job_id, job, err);
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
    return self->ops->holders (self->state, ids, n, jobs, err);
}

int64_t
ts_queue_next_wakeup (ts_queue_t *self, int64_t now_ms)
{
    assert (self);
    s_clock (self, now_ms);
    return self->ops->next_wakeup (self->state, now_ms);
}

int
ts_queue_stats (ts_queue_t *self, int64_t now_ms, ts_queue_stats_t *stats,
                char *err)
{
    assert (self);
    assert (stats);
    memset (stats, 0, sizeof *stats);
    s_clock (self, now_ms);
    int rc = self->ops->stats (self->state, now_ms, stats, err);
    stats->done = self->done;
    stats->failed = self->failed;
    stats->retried = self->retried;
    stats->dead_lettered = self->dead_lettered;
    return rc;
}

int
ts_queue_dlq_each (ts_queue_t *self, ts_queue_each_fn *fn, void *arg,
                   char *err)
{
    assert (self);
    assert (fn);
    return self->ops->dlq_each (self->state, fn, arg, err);
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
    rc = self->ops->dlq_redrive (self->state, ids, n, now_ms, err);
    if (rc >= 0)
        self->dirty = true;
    return rc;
}

int
ts_queue_dlq_purge (ts_queue_t *self, char *err)
{
    assert (self);
    int rc = self->ops->dlq_purge (self->state, err);
    if (rc > 0)
        self->dirty = true;
    return rc;
}

int
ts_queue_sync (ts_queue_t *self, char *err)
{
    assert (self);
    if (!self->dirty)
        return 0;
    int rc = self->ops->sync (self->state, err);
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
