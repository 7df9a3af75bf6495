/*  ts_worker_jobs - the worker's jobs: each job in flight holds a slot;
    its ids are fetched (ts_fetch, requests by ts_worker_request.c), each
    fetched document
    goes into the ingest's batch (ts_ingest: map, split at now, write in
    one store transaction; a job with a window of its own, a backfill
    chunk, writes history only and leaves the forecast as it is), each id
    is stored or failed, and the job is reported "done" or "failed" once
    its last id is settled. Every failure detail passes s_slot_fail,
    which scrubs the upstream key from it and keeps the id's failure
    mark for its fetch status (ts_worker_status.c). The reasons (batches,
    idempotent writes, the key) are in ts_worker.c's opening comment. Part of ts_worker (ts_worker_internal.h). */

#include "ts_worker_internal.h"
#include "ts_log.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

//  Records the failure of one id of the slot's job. Every failure
//  detail passes here on its way to the log and to the broker (which
//  keeps it in the DLQ), so here every source's API key is scrubbed from
//  it, whoever wrote it: libcurl (which may quote a URL with a key), the
//  upstream's body, the map or the store.
static void
s_slot_fail (ts_worker_t *self, ts_worker_slot_t *slot, const char *id,
             const ts_fetch_verdict_t *one)
{
    ts_fetch_verdict_t shown = *one;
    ts_worker_keys_redact (self, shown.detail, sizeof shown.detail);
    ts_tally_failed (&self->tally, one->kind);
    //  The detail says "not retried" when the failure is final.
    ts_log_kv (TS_LOG_WARN, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
               TS_LF_STR ("id", id), TS_LF_OPT ("rid", slot->rid)),
               "job %" PRIu64 " id=%s failed: %s", slot->job, id,
               shown.detail);
    ts_worker_metrics_failed (self->metrics, one->kind);
    ts_worker_status_failed (self, slot->src, id, &shown);
    ts_fetch_verdict_merge (&slot->verdict, &shown);
}

//  Same, for a failure of kind (one of ts_fetch_kinds) found by the
//  worker itself.
static void
s_slot_fail_with (ts_worker_t *self, ts_worker_slot_t *slot, const char *id,
                  const char *kind, bool retry, const char *what,
                  const char *why)
{
    ts_fetch_verdict_t one;
    ts_fetch_verdict_fail (&one, id, retry, what, why);
    one.kind = kind;
    s_slot_fail (self, slot, id, &one);
}

//  Logs what the mapping of a stored document skipped: points dropped
//  out of bounds (data an operator asked to lose, so a warning), null
//  markers (gaps the upstream marks, at debug).
static void
s_mapping_warnings (ts_worker_slot_t *slot, const char *id,
                    const ts_map_report_t *report)
{
    if (report->dropped_times > 0)
        ts_log_kv (TS_LOG_WARN, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
                   TS_LF_STR ("id", id), TS_LF_UINT ("dropped",
                   report->dropped), TS_LF_OPT ("rid", slot->rid)),
                   "job %" PRIu64 " id=%s: %zu points at %zu times out of "
                   "bounds dropped (upstream.format.out_of_bounds), e.g. %s",
                   slot->job, id, report->dropped, report->dropped_times,
                   report->kept? report->warning [0]: "");
    if (report->null_markers > 0)
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
                   TS_LF_STR ("id", id), TS_LF_UINT ("null_markers",
                   report->null_markers), TS_LF_OPT ("rid", slot->rid)),
                   "job %" PRIu64 " id=%s: %zu values were null markers "
                   "(upstream.format.null_values)", slot->job, id,
                   report->null_markers);
}

void
ts_worker_job_fail (ts_worker_t *self, ts_worker_slot_t *slot,
                    const char *id, const char *kind, bool retry,
                    const char *what, const char *why)
{
    s_slot_fail_with (self, slot, id, kind, retry, what, why);
}

//  Gives the slot back with ready, then reports the job: a broker that
//  restarted since this connection began learns of the worker from the
//  ready, and so accepts the report.
static void
s_finish (ts_worker_t *self, ts_worker_slot_t *slot)
{
    ts_worker_broker_ready (self, self->draining? 0: 1);
    //  The ids' failures are in the registry before the report.
    ts_worker_status_flush (self);
    const ts_fetch_verdict_t *verdict = &slot->verdict;
    if (verdict->failed) {
        ts_msg_reset (self->out, TS_OP_FAILED);
        if (verdict->failures > 1 && slot->ids->n > 1)
            ts_errf (self->out->detail, "%s (%zu of %zu ids failed)",
                     verdict->detail, verdict->failures, slot->ids->n);
        else
            ts_strlcpy (self->out->detail, verdict->detail,
                        sizeof self->out->detail);
        self->out->retry = verdict->retry;
        self->out->retry_after_ms = verdict->retry_after_ms;
        ts_strlcpy (self->out->kind, verdict->kind? verdict->kind: "",
                    sizeof self->out->kind);
    }
    else
        ts_msg_reset (self->out, TS_OP_DONE);
    self->out->job = slot->job;
    //  The ids stored, even of a failed job: the broker publishes a
    //  change notice for each (docs/protocol.md 5.9). The lists are
    //  swapped, not copied; ts_msg_reset empties the one out takes.
    ts_strlist_t *written = self->out->written;
    self->out->written = slot->written;
    self->out->has_written = !slot->written_lost;
    slot->written = written;
    ts_worker_broker_send (self, self->out);
    if (!verdict->failed)
        ts_worker_broker_remember (self, slot->job);
    if (verdict->failed) {
        self->tally.jobs_failed++;
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
                   TS_LF_OPT ("rid", slot->rid)), "job failed, %s: %s",
                   verdict->retry? "retry": "final", self->out->detail);
    }
    else {
        self->tally.jobs_done++;
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
                   TS_LF_OPT ("rid", slot->rid)), "job done");
    }
    ts_worker_pages_clear (slot);
    ts_strlist_clear (slot->ids);
    slot->used = false;
    self->busy--;
}

//  One fetch of the slot's job ended; finishes the job after its last.
static void
s_fetch_ended (ts_worker_t *self, ts_worker_slot_t *slot)
{
    assert (slot->pending > 0);
    if (--slot->pending == 0)
        s_finish (self, slot);
}

void
ts_worker_job_ended (ts_worker_t *self, ts_worker_slot_t *slot)
{
    s_fetch_ended (self, slot);
}

void
ts_worker_job_start (ts_worker_t *self, const ts_msg_t *msg)
{
    if (self->draining) {
        //  Sent before the broker read our release: straight back.
        ts_info ("job %" PRIu64 " arrived while draining: handed back",
                 msg->job);
        ts_worker_broker_release (self, &msg->job, 1);
        return;
    }
    ts_worker_slot_t *slot = NULL;
    size_t index;
    for (index = 0; index < self->concurrency; index++)
        if (!self->slots [index].used) {
            slot = &self->slots [index];
            break;
        }
    if (!slot) {
        ts_warn ("job %" PRIu64 ": no free slot, refused", msg->job);
        ts_msg_reset (self->out, TS_OP_FAILED);
        self->out->job = msg->job;
        ts_strlcpy (self->out->detail, "worker has no free slot",
                    sizeof self->out->detail);
        self->out->retry = true;
        self->out->has_written = true;      //  none: it never ran
        ts_worker_broker_send (self, self->out);
        return;
    }
    slot->used = true;
    slot->job = msg->job;
    ts_strlcpy (slot->rid, msg->rid, sizeof slot->rid);
    ts_strlcpy (slot->source, msg->source, sizeof slot->source);
    slot->has_window = msg->has_from && msg->has_to;
    slot->from_ms = msg->from_ms;
    slot->to_ms = msg->to_ms;
    slot->pending = 0;
    slot->written_lost = false;
    memset (&slot->verdict, 0, sizeof slot->verdict);
    self->busy++;
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", msg->job),
               TS_LF_UINT ("ids", msg->ids->n), TS_LF_OPT ("rid", msg->rid)),
               "job started");

    const ts_worker_source_t *src = ts_worker_source_find (self,
                                                           slot->source);
    slot->src = src;
    char unknown [TS_ERRLEN] = "";
    if (!src)
        ts_errf (unknown, "'%s' is not a source of this worker (its "
                 "sources: %s)", slot->source, self->source_names);
    //  An id fetched in pages keeps its pages' state (ts_worker_pages.c).
    bool no_memory = src && src->pages.mode != TS_PAGES_NONE
                  && !(slot->paged = calloc (msg->ids->n,
                                             sizeof *slot->paged));
    //  One pending fetch stands for the loop itself: an id failed in it
    //  (a token request that cannot start fails the ids held for it)
    //  must not finish the job while its ids are still being added.
    slot->pending = 1;
    for (size_t i = 0; i < msg->ids->n; i++) {
        const char *id = msg->ids->items [i];
        if (ts_strlist_append (slot->ids, id) != 0) {
            s_slot_fail_with (self, slot, id, "memory", true, "out of memory",
                              NULL);
            break;
        }
        if (!src) {
            s_slot_fail_with (self, slot, id, "worker", false,
                              "unknown source", unknown);
            continue;
        }
        if (no_memory) {
            s_slot_fail_with (self, slot, id, "memory", true, "out of memory",
                              NULL);
            continue;
        }
        uint64_t tag = ((uint64_t) index << 32) | (uint64_t) i;
        if (ts_worker_request_send (self, tag) != 0)
            continue;
        slot->pending++;
    }
    s_fetch_ended (self, slot);
}

//  The ingest stored (or could not store) one document of the batch:
//  logs it, or fails its id, and settles the fetch.
static void
s_stored (void *arg, const ts_ingest_result_t *result)
{
    ts_worker_t *self = arg;
    const ts_worker_pending_t *doc = &self->batch [result->index];
    ts_worker_slot_t *slot = &self->slots [doc->slot];
    if (result->rc == 0 && !slot->written_lost
    &&  ts_strlist_append (slot->written, result->id)) {
        ts_warn ("job %" PRIu64 " id=%s: out of memory: its report names "
                 "no written ids, which means all", slot->job, result->id);
        slot->written_lost = true;
    }
    if (result->rc == 0) {
        self->tally.fetched++;
        self->tally.points += result->history + result->forecast;
        //  The summary line is at info (ts_tally); this one at debug.
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                   TS_LF_STR ("id", result->id),
                   TS_LF_UINT ("history", result->history),
                   TS_LF_UINT ("forecast", result->forecast),
                   TS_LF_UINT ("skipped", result->skipped),
                   TS_LF_INT ("ms", doc->fetch_ms + ts_mono_ms ()
                                    - doc->started_ms),
                   TS_LF_UINT ("job", slot->job),
                   TS_LF_OPT ("rid", slot->rid)), "fetched");
    }
    else
        //  Store errors may pass: the job is retried.
        s_slot_fail_with (self, slot, result->id, "store", true, "store",
                          result->err);
    s_fetch_ended (self, slot);
}

//  Stores the batch - in one transaction, else document by document -
//  then settles each document's job. Leaves the batch empty.
void
ts_worker_job_flush (ts_worker_t *self)
{
    ts_ingest_flush (self->batch_source->ingest, ts_now_ms (), s_stored,
                     self);
}

ts_ingest_t *
ts_worker_job_batch (ts_worker_t *self, ts_worker_slot_t *slot)
{
    //  A batch is of one source (its ingest maps by the source's spec):
    //  a document of another source first stores the batch in hand.
    ts_worker_source_t *src = (ts_worker_source_t *) slot->src;
    assert (src);
    if (src != self->batch_source) {
        if (ts_ingest_pending (self->batch_source->ingest))
            ts_worker_job_flush (self);
        self->batch_source = src;
    }
    return src->ingest;
}

void
ts_worker_job_fetched (ts_worker_t *self, const ts_fetch_result_t *res)
{
    if (ts_worker_request_fetched (self, res))
        return;
    size_t index = TAG_SLOT (res->tag);
    size_t i = TAG_INDEX (res->tag);
    assert (index < self->concurrency);
    ts_worker_slot_t *slot = &self->slots [index];
    assert (slot->used && i < slot->ids->n && slot->pending > 0);
    const char *id = slot->ids->items [i];
    ts_fetch_verdict_t verdict;
    char err [TS_ERRLEN] = "";
    const char *what = NULL;
    ts_worker_metrics_fetched (self->metrics, res->elapsed_ms);
    if (slot->paged) {
        ts_worker_pages_fetched (self, slot, i, res);
        return;
    }
    if (ts_worker_keys_classify (self, slot->src, res, id, &verdict)) {
        s_slot_fail (self, slot, id, &verdict);
        s_fetch_ended (self, slot);
        return;
    }
    const ts_worker_source_t *src = slot->src;
    ts_worker_job_batch (self, slot);
    ts_worker_pending_t *doc = &self->batch [ts_ingest_pending (src->ingest)];
    doc->started_ms = ts_mono_ms ();
    doc->fetch_ms = res->elapsed_ms;
    doc->slot = index;
    //  A job with a window of its own (a backfill chunk) writes history
    //  only: the id's forecast is the default window's to replace.
    int (*add) (ts_ingest_t *, const char *, const char *, size_t, int64_t,
                const char **, char *) = slot->has_window
        ? ts_ingest_add_history: ts_ingest_add;
    if (add (src->ingest, id, res->body, res->size, ts_now_ms (), &what,
             err) != 0) {
        //  A body that is not JSON may have been cut or garbled on the
        //  way: the job is retried. JSON the mapping cannot read (its
        //  shape) is read the same next time: the job fails for good and
        //  goes to the DLQ at once, with the mapping's detail.
        bool shape = ts_ingest_report (src->ingest)->shape;
        s_slot_fail_with (self, slot, id, strcmp (what, "out of memory")
                          ? "document": "memory", !shape, what, err);
        s_fetch_ended (self, slot);
        return;
    }
    s_mapping_warnings (slot, id, ts_ingest_report (src->ingest));
    if (ts_ingest_full (src->ingest))
        ts_worker_job_flush (self);
}

void
ts_worker_job_fail_verdict (ts_worker_t *self, ts_worker_slot_t *slot,
                            const char *id, const ts_fetch_verdict_t *one)
{
    s_slot_fail (self, slot, id, one);
}
