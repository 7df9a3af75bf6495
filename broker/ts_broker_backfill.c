/*  ts_broker_backfill - gap tracking and backfill in the broker: after
    the acks of each wake and after every job that is dead-lettered, the
    fill records of the job's ids (ts_queue_fill_get) go through the
    planner (ts_backfill) and the chunks it plans are queued as window
    jobs, then the records are stored back (ts_queue_fill_put). Part of
    ts_broker (ts_broker_internal.h); the design is in
    docs/architecture.md, "Gaps and backfill".

    What a fetch covered is worked out here, from the job as the queue
    gives it back: a job of the default window fetched history from
    fetch time - past_s to fetch time, and the broker knows the fetch
    time only between when the job was queued and when it was acked. It
    counts the narrower range, [ack - past_s, queued]: a gap is never
    missed, at worst a few seconds are fetched twice. A job with a window
    of its own covered that window.

    Order, for crash safety: the chunks are queued before the records
    that count them are stored. A broker that dies in between plans the
    same chunks again after its restart, and the queue's dedup by (id,
    window) makes them one job each.

    Chunks have the lower priority: the queue leases a job with a window
    of its own only when no job of the default window is visible
    (ts_queue.h), so a backfill uses spare capacity and never delays a
    tick. Each id has at most upstream.backfill_queued chunks queued at
    once, so a million ids with a 30-chunk gap each hold a few jobs per
    id in the queue, not thirty. Chunks pass the same dispatch as every
    job, so the source's rate limit, where there is one, covers them. */

#include "ts_broker_internal.h"
#include "ts_backfill.h"

#include <inttypes.h>
#include <string.h>

#define S_CHUNKS_MAX    TS_BACKFILL_QUEUED_MAX  //  chunks planned at once

int
ts_broker_backfill_open (ts_broker_t *self, char *err)
{
    size_t n = ts_config_source_count (self->cfg);
    self->backfill = calloc (n, sizeof *self->backfill);
    if (!self->backfill) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    self->backfill_n = n;
    for (size_t i = 0; i < n; i++) {
        const ts_config_t *source = ts_config_source_at (self->cfg, i);
        ts_backfill_conf_read (source, &self->backfill [i]);
        if (self->backfill [i].backfill_ms > 0)
            ts_info ("backfill of source %s: new ids and gaps back to %s, "
                     "in chunks of %s, at most %u of an id at once",
                     ts_config_source_name (source),
                     ts_config_str (source, "upstream.backfill"),
                     ts_config_str (source, "upstream.backfill_window"),
                     self->backfill [i].queued_max);
    }
    return 0;
}

void
ts_broker_backfill_close (ts_broker_t *self)
{
    free (self->backfill);
    self->backfill = NULL;
    self->backfill_n = 0;
    free (self->fill_ids);
    free (self->fill_recs);
    free (self->fill_keep);
    free (self->fill_slot);
    self->fill_cap = 0;
    ts_strset_free (&self->fill_seen);
}

//  The backfill settings of the job's source (an unknown one, whose
//  jobs the workers fail, counts as the first).
static const ts_backfill_conf_t *
s_conf (ts_broker_t *self, const ts_job_t *job)
{
    int index = ts_config_source_find (self->cfg, job->source);
    return &self->backfill [index > 0 && (size_t) index < self->backfill_n
                            ? index: 0];
}

//  Queues the chunks planned for id, oldest first. Returns 0, or a TS_E*
//  code (then the ones not queued are planned again next time: the
//  caller does not store the record).
static int
s_queue_chunks (ts_broker_t *self, const ts_job_t *job, const char *id,
                const ts_backfill_window_t *chunks, size_t n)
{
    char err [TS_ERRLEN];
    for (size_t i = 0; i < n; i++) {
        ts_queue_attrs_t attrs = { .rid = self->backfill_rid,
            .source = job->source, .from_ms = chunks [i].from_ms,
            .to_ms = chunks [i].to_ms };
        uint64_t chunk = 0;
        int rc = ts_queue_push_attrs (self->queue, &id, 1, &attrs,
                                      ts_now_ms (), &chunk, err);
        if (rc < 0) {
            ts_error ("backfill of %s: cannot queue a chunk: %s", id, err);
            return rc;
        }
        self->backfill_queued++;
        char a [40], b [40];
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("id", id),
                   TS_LF_UINT ("job", chunk), TS_LF_OPT ("rid", attrs.rid)),
                   "backfill chunk %s .. %s queued%s",
                   ts_time_format (chunks [i].from_ms, a, sizeof a),
                   ts_time_format (chunks [i].to_ms, b, sizeof b),
                   rc == 0? " (already queued)": "");
    }
    return 0;
}

//  Logs the backfill id now has to do: a new gap, or one grown. At
//  debug, as every line per id: after a broker's downtime every id has
//  a gap (the metrics page has the totals).
static void
s_log_gap (const ts_backfill_conf_t *conf, const ts_fill_t *fill,
           const char *id)
{
    char a [40], b [40];
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("id", id),
               TS_LF_UINT ("chunks", ts_backfill_total (conf, fill))),
               "backfill of %s: history %s .. %s missing, %u chunks",
               id, ts_time_format (fill->gap_from_ms, a, sizeof a),
               ts_time_format (fill->gap_to_ms, b, sizeof b),
               ts_backfill_total (conf, fill));
}

//  The job ended, done (ok) or dead-lettered: updates id's record fill
//  and queues the chunks now due. Returns 0, or a TS_E* code if a chunk
//  could not be queued (the record must not be stored then: its chunks
//  are planned again next time).
static int
s_apply (ts_broker_t *self, const ts_job_t *job, bool ok, const char *id,
         ts_fill_t *fill, int64_t now)
{
    const ts_backfill_conf_t *conf = s_conf (self, job);
    bool chunk = false;
    if (!job->from_ms && !job->to_ms) {
        int64_t gap_to = fill->gap_to_ms;
        ts_backfill_fetched (conf, fill, now - conf->past_ms,
                             job->enqueued_at_ms, now);
        if (fill->gap_to_ms != gap_to)
            s_log_gap (conf, fill, id);
    }
    else
    if ((chunk = ts_backfill_window_ended (fill, job->from_ms, job->to_ms,
                                           ok))) {
        if (ok)
            self->backfill_done++;
        else
            self->backfill_failed++;
    }
    ts_backfill_window_t chunks [S_CHUNKS_MAX];
    size_t n = ts_backfill_next (conf, fill, chunks, S_CHUNKS_MAX);
    if (chunk && n == 0 && fill->gap_from_ms == fill->gap_to_ms)
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("id", id),
                   TS_LF_UINT ("done", fill->done),
                   TS_LF_UINT ("failed", fill->failed)),
                   "backfill of %s ended: %u chunks done, %u failed",
                   id, fill->done, fill->failed);
    return s_queue_chunks (self, job, id, chunks, n);
}

//  A dead-lettered window job: its ids' records, one by one (rare).
static void
s_job_died (ts_broker_t *self, const ts_job_t *job)
{
    char err [TS_ERRLEN];
    int64_t now = ts_now_ms ();
    for (size_t i = 0; i < job->ids->n; i++) {
        const char *id = job->ids->items [i];
        ts_fill_t fill;
        if (ts_queue_fill_get (self->queue, &id, 1, &fill, NULL, err))
            ts_error ("backfill of %s: %s", id, err);
        else
        if (s_apply (self, job, false, id, &fill, now) == 0
        &&  ts_queue_fill_put (self->queue, &id, 1, &fill, err))
            ts_error ("backfill of %s: %s", id, err);
    }
}

//  The records of one ack call's ids, read and stored in batches of at
//  most TS_QUEUE_MAX_IDS. An id in two of the jobs (a chunk and a fetch
//  of the default window) has one record, updated by both in order.
typedef struct {
    const char **ids;               //  each id once, in first-seen order
    ts_fill_t   *fills;             //  and its record
    bool        *keep;              //  false: not to be stored
    size_t       n;
} s_batch_t;

//  Reads (put false) or stores the records of batch, those to keep.
//  Returns 0 or an error (logged).
static int
s_batch_io (ts_broker_t *self, s_batch_t *batch, bool put)
{
    char err [TS_ERRLEN];
    size_t i = 0;
    int rc = 0;
    while (rc == 0 && i < batch->n) {
        size_t run = 0;
        while (i + run < batch->n && run < TS_QUEUE_MAX_IDS
           &&  (!put || batch->keep [i + run]))
            run++;
        if (run && !put)
            rc = ts_queue_fill_get (self->queue, batch->ids + i, run,
                                    batch->fills + i, NULL, err);
        else
        if (run)
            rc = ts_queue_fill_put (self->queue, batch->ids + i, run,
                                    batch->fills + i, err);
        i += run? run: 1;           //  past a record not kept
    }
    if (rc)
        ts_error ("backfill: cannot %s fill records: %s",
                  put? "store": "read", err);
    return rc;
}

//  Makes the ack call's scratch hold total ids (kept for the broker's
//  life: an ack call allocates nothing once they have grown). Returns 0
//  or TS_ENOMEM.
static int
s_scratch (ts_broker_t *self, size_t total)
{
    if (ts_strset_reset (&self->fill_seen, total))
        return TS_ENOMEM;
    if (total <= self->fill_cap)
        return 0;
    size_t cap = self->fill_cap? self->fill_cap: 64;
    while (cap < total)
        cap *= 2;
    const char **ids = realloc (self->fill_ids, cap * sizeof *ids);
    if (ids)
        self->fill_ids = ids;
    ts_fill_t *recs = realloc (self->fill_recs, cap * sizeof *recs);
    if (recs)
        self->fill_recs = recs;
    bool *keep = realloc (self->fill_keep, cap * sizeof *keep);
    if (keep)
        self->fill_keep = keep;
    size_t *slot = realloc (self->fill_slot, cap * sizeof *slot);
    if (slot)
        self->fill_slot = slot;
    if (!ids || !recs || !keep || !slot)
        return TS_ENOMEM;
    self->fill_cap = cap;
    return 0;
}

void
ts_broker_backfill_acked (ts_broker_t *self, ts_job_t *const *jobs,
                          const int *rcs, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (rcs [i] == 0)
            total += jobs [i]->ids->n;
    if (total == 0)
        return;
    if (s_scratch (self, total)) {
        ts_error ("backfill: out of memory: the fill records of %zu ids "
                  "are not updated", total);
        return;
    }
    s_batch_t batch = { self->fill_ids, self->fill_recs, self->fill_keep,
                        0 };
    size_t *slot = self->fill_slot;         //  entry -> record
    size_t entry = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; rcs [i] == 0 && k < jobs [i]->ids->n; k++) {
            batch.ids [batch.n] = jobs [i]->ids->items [k];
            size_t first = ts_strset_add (&self->fill_seen, batch.ids,
                                          batch.n);
            slot [entry++] = first;
            if (first == batch.n)
                batch.keep [batch.n++] = true;
        }
    if (s_batch_io (self, &batch, false))
        return;
    int64_t now = ts_now_ms ();
    entry = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; rcs [i] == 0 && k < jobs [i]->ids->n; k++) {
            size_t at = slot [entry++];
            if (batch.keep [at]
            &&  s_apply (self, jobs [i], true, batch.ids [at],
                         &batch.fills [at], now))
                batch.keep [at] = false;
        }
    s_batch_io (self, &batch, true);
}

void
ts_broker_backfill_dead (ts_broker_t *self, const ts_job_t *job)
{
    if (job->state == TS_JOB_DEAD && (job->from_ms || job->to_ms))
        s_job_died (self, job);
}

void
ts_broker_backfill_sweep (ts_broker_t *self, const ts_fill_t *fills,
                          size_t n, bool done)
{
    //  The registry does not say an id's source here: chunks are
    //  counted at the first source's window.
    for (size_t i = 0; i < n; i++) {
        uint32_t left = ts_backfill_total (&self->backfill [0], &fills [i]);
        if (left) {
            left -= fills [i].done + fills [i].failed;
            self->backfill_sweep [0]++;
            self->backfill_sweep [1] += left;
        }
    }
    if (done) {
        memcpy (self->backfill_pending, self->backfill_sweep,
                sizeof self->backfill_pending);
        memset (self->backfill_sweep, 0, sizeof self->backfill_sweep);
    }
}

void
ts_broker_backfill_metrics (ts_broker_t *self, ts_prom_t *prom)
{
    const char *name = "tscache_broker_backfill_chunks_total";
    ts_prom_family (prom, name, "counter", "Backfill chunk jobs since the "
                    "broker started, by what became of them: queued, done "
                    "(acked) or failed (dead-lettered).");
    const char *queued [] = { "state", "queued" };
    const char *done [] = { "state", "done" };
    const char *failed [] = { "state", "failed" };
    ts_prom_sample (prom, name, queued, 1, (double) self->backfill_queued);
    ts_prom_sample (prom, name, done, 1, (double) self->backfill_done);
    ts_prom_sample (prom, name, failed, 1, (double) self->backfill_failed);
    if (self->stale_page == 0 || !self->store)
        return;                     //  no sweep of the registry
    ts_prom_family (prom, "tscache_broker_backfill_pending_ids", "gauge",
                    "Registered ids with a backfill in progress, as the "
                    "last sweep of the registry found them.");
    ts_prom_sample (prom, "tscache_broker_backfill_pending_ids", NULL, 0,
                    (double) self->backfill_pending [0]);
    ts_prom_family (prom, "tscache_broker_backfill_pending_chunks", "gauge",
                    "Chunks those backfills have still to fetch (queued "
                    "or not yet planned).");
    ts_prom_sample (prom, "tscache_broker_backfill_pending_chunks", NULL, 0,
                    (double) self->backfill_pending [1]);
}
