/*  ts_worker - loop and broker dialogue of tscache-worker. See ts_worker.h,
    docs/protocol.md for the messages and docs/architecture.md for the
    job flow.

    Each job in flight holds one slot (s_slot_t). A fetch is tagged with
    its slot and the index of its id in the job, so a completion finds
    its job without a lookup. ZMQ_FD is edge-triggered: the socket is
    drained (while ZMQ_EVENTS says POLLIN) right before every wait, after
    anything that may have sent on it.

    Completed transfers are processed one at a time, and after each the
    socket is drained and the requests of new jobs are sent at once
    (ts_fetch_start): the broker answers a job's done and ready with the
    next job while the worker maps and stores the rest of a wave of
    completions, so fetching overlaps that work instead of waiting for
    the whole wave (docs/benchmarks.md).

    Failures are classified by ts_fetch_classify (retry or not, the
    upstream's Retry-After) and folded per job; "failed" carries the
    verdict so the broker can back off, retry or dead-letter. Both "done"
    and "failed" list the ids the job stored ("written"), from which the
    broker publishes change notices to gateways; a "done" resent after a
    reconnect lists none, which means every id of the job.

    The upstream API key is read once at start and lives in the worker
    (wiped on destroy) and in the fetcher's headers; ts_url puts it where
    {api_key} is written. It never leaves in text: URLs and headers are
    logged only in their display form (ts_redact_url, ts_redact_header),
    and every failure detail - on its way to the log and to the broker,
    which keeps it in the DLQ - passes s_slot_fail, which scrubs the key
    from it whoever wrote it (libcurl, the upstream's body, the map, the
    store).

    A fetched document goes through the ingest path (ts_ingest: map by
    the spec built from upstream.format.*, split at now, write), in
    batches (group commit): the completions in hand when the worker wakes
    are mapped and split one by one into the batch, then stored with one
    store transaction - one sync to disk, which is what bounds a store's
    writes per second - and only then reported. If the batch fails, its
    documents are written one at a time, so one that cannot be stored
    fails only its own job. At most BATCH_MAX documents wait in a batch,
    so a long wave of completions is still reported in steps.

    Writes are idempotent, so a job run twice (a retry, a lease that
    expired while the first run was still going) leaves what one run
    leaves: history is an upsert keyed by (id, measure, time) and the
    forecast of an id is replaced as a whole. Both writes of an id are one
    store transaction (ts_store_write): a fetched document lands whole or
    not at all, so a run that dies part way leaves each id either as the
    previous run left it or fully updated, and the job, not reported
    done, runs again.

    Reports sent while the broker is down are lost with the socket when
    the worker reconnects, and a report sent just before the broker dies
    is lost with it. So the worker remembers each "done" until a
    heartbeat of the same broker process (its boot id) arrives well after
    it (REPORT_CONFIRM_MS), and sends the remembered ones again after a
    reconnect, or as soon as a heartbeat shows another broker process (one
    restarted quickly enough that the worker never noticed silence: libzmq
    reconnected underneath, and that broker's heartbeats must not confirm
    reports its predecessor never read). A restarted broker then acks
    those jobs at once instead of fetching them again when their shortened
    leases run out. A duplicate "done" is harmless (acks are by
    job id; unknown ids are ignored). "failed" is not resent: a lost one
    only means the lease runs out and the job is retried, as it would be.
    The broker ignores reports from a peer that has not sent "ready", so
    every connection starts with one, with credit 0 if every slot is
    busy: it introduces the worker before the resent reports.

    SIGTERM (or SIGINT) drains: the worker tells the broker it takes no
    more jobs ("release" of no job: credit 0), hands back at once any job
    that still arrives, lets the jobs in flight finish for up to
    worker.drain_timeout_ms, then hands back the unfinished ones
    ("release" listing them: queued again at once, not after the
    visibility timeout) and returns. Meanwhile a slot freed is given back
    with ready credit 0 (the report still needs a broker that knows us).
    A second signal ends the drain at once; the jobs still leased then
    come back when their leases run out, as after a crash. */

#include "ts_worker.h"
#include "ts_curve.h"
#include "ts_daemon.h"
#include "ts_fetch.h"
#include "ts_tally.h"
#include "ts_url.h"
#include "ts_ingest.h"
#include "ts_worker_metrics.h"
#include "ts_log.h"
#include "ts_proto.h"
#include "ts_redact.h"
#include "ts_store.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define HEARTBEAT_MS    1000        //  heartbeat period
#define BROKER_DEAD_MS  5000        //  silence before reconnecting
#define EXPIRE_MS       60000       //  forecast expiry sweep period
#define URL_MAX         4096        //  longest upstream URL
#define MAX_MSG_BYTES   (4 * TS_PROTO_MAX_REQUEST)
#define REPORTS_MAX     8192        //  "done" reports remembered at most
#define REPORT_CONFIRM_MS (2 * HEARTBEAT_MS)  //  heard after: delivered
#define BATCH_MAX       8           //  documents per store transaction

//  A "done" the broker may not have received yet.
typedef struct {
    uint64_t      job;              //  job id
    int64_t       sent_ms;          //  monotonic time it was sent
    uint64_t      boot;             //  broker process it went to (as far
                                    //  as the worker knew; 0 unknown)
} s_report_t;

//  A document in the ingest's batch, at the same index there.
typedef struct {
    size_t        slot;             //  the job's slot
    int64_t       fetch_ms;         //  how long the fetch took
    int64_t       started_ms;       //  monotonic: when mapping began
} s_pending_t;

typedef struct {
    bool          used;             //  a job holds this slot
    uint64_t      job;              //  job id from the broker
    char          rid [TS_RID_MAX + 1];     //  its request id, "" none
    ts_strlist_t *ids;              //  ids of the job, owned
    ts_strlist_t *written;          //  ids of it stored so far, owned
    bool          written_lost;     //  one could not be listed: report
                                    //  none, which means every id
    size_t        pending;          //  fetches not completed yet
    ts_fetch_verdict_t verdict;     //  failures so far, merged
} s_slot_t;

struct _ts_worker_t {
    const ts_config_t *cfg;         //  borrowed
    ts_curve_id_t *curve;           //  own key pair, the broker's public
                                    //  key; NULL in plain mode
    ts_curve_watch_t *watch;        //  logs the broker refusing our key
    ts_store_t    *store;
    ts_ingest_t   *ingest;          //  map (upstream.format), split,
                                    //  write in batches
    ts_fetch_t    *fetch;
    ts_fetch_opts_t fetch_opts;     //  limits, for failure details
    zsock_t       *dealer;          //  to the broker, recreated on silence
    const char    *endpoint;        //  worker.broker_endpoint
    const char    *url_tmpl;        //  upstream.url
    char          *api_key;         //  upstream API key, owned and wiped
                                    //  on destroy; NULL if none
    char          *old_key;         //  the key before the last reload,
                                    //  for transfers that started with
                                    //  it; same care, NULL if none
    ts_url_time_t  time_unit;       //  upstream.time_param
    int64_t        past_ms;         //  {from} = now - past_ms
    int64_t        future_ms;       //  {to} = now + future_ms
    size_t         concurrency;     //  slots
    s_slot_t      *slots;
    size_t         busy;            //  slots in use
    int64_t        last_heard_ms;   //  monotonic: last message from broker
    uint64_t       broker_boot;     //  boot id of its last heartbeat
    s_report_t    *reports;         //  ring of unconfirmed "done" reports
    size_t         reports_head;    //  index of the oldest
    size_t         reports_n;       //  how many are remembered
    int64_t        next_beat_ms;    //  monotonic: next heartbeat
    int64_t        next_expire_ms;  //  monotonic: next expiry sweep
    ts_msg_t      *msg;             //  scratch: incoming
    ts_msg_t      *out;             //  scratch: outgoing
    s_pending_t   *batch;           //  the ingest's batch: our part
    size_t         batch_max;       //  min (BATCH_MAX, concurrency)
    int64_t        drain_ms;        //  worker.drain_timeout_ms
    bool           draining;        //  stopping: no more jobs taken
    int64_t        drain_until_ms;  //  monotonic: hand back the rest then
    ts_worker_metrics_t *metrics;   //  fetch figures, worker.metrics_port
    ts_tally_t     tally;           //  counts of the INFO summary line
    int64_t        next_tally_ms;   //  monotonic: next summary line
};

//  ---------------------------------------------------------------------
//  Broker dialogue

static void
s_send (ts_worker_t *self, const ts_msg_t *msg)
{
    char *data;
    size_t size;
    if (ts_msg_encode (msg, &data, &size) != 0) {
        ts_error ("cannot encode '%s': out of memory", ts_op_name (msg->op));
        return;
    }
    if (zmq_send (zsock_resolve (self->dealer), data, size, ZMQ_DONTWAIT) == -1)
        ts_warn ("cannot send '%s' to broker: %s", ts_op_name (msg->op),
                 zmq_strerror (zmq_errno ()));
    free (data);
}

//  Remembers a "done" just sent; the oldest is forgotten when full.
static void
s_report_remember (ts_worker_t *self, uint64_t job)
{
    if (self->reports_n == REPORTS_MAX) {
        self->reports_head = (self->reports_head + 1) % REPORTS_MAX;
        self->reports_n--;
    }
    s_report_t *report =
        &self->reports [(self->reports_head + self->reports_n) % REPORTS_MAX];
    report->job = job;
    report->sent_ms = ts_mono_ms ();
    report->boot = self->broker_boot;
    self->reports_n++;
}

//  Forgets the reports sent to this broker process well before its
//  heartbeat: it has read them. Reports are in send order.
static void
s_report_confirm (ts_worker_t *self)
{
    int64_t before = ts_mono_ms () - REPORT_CONFIRM_MS;
    while (self->reports_n > 0
       &&  self->reports [self->reports_head].boot == self->broker_boot
       &&  self->reports [self->reports_head].sent_ms < before) {
        self->reports_head = (self->reports_head + 1) % REPORTS_MAX;
        self->reports_n--;
    }
}

static void s_report_resend (ts_worker_t *self);

//  A heartbeat from the broker process boot (0 if it gives none): a
//  process other than the one the reports went to gets them again
//  before any of them counts as read.
static void
s_broker_heartbeat (ts_worker_t *self, uint64_t boot)
{
    if (boot != self->broker_boot) {
        uint64_t was = self->broker_boot;
        self->broker_boot = boot;
        if (was != 0) {
            ts_info ("broker %s restarted", self->endpoint);
            s_report_resend (self);
        }
        else
            //  The first boot id heard: what went before went to it.
            for (size_t i = 0; i < self->reports_n; i++)
                self->reports [(self->reports_head + i) % REPORTS_MAX].boot
                    = boot;
    }
    s_report_confirm (self);
}

//  After a reconnect: sends every remembered "done" again.
static void
s_report_resend (ts_worker_t *self)
{
    if (self->reports_n == 0)
        return;
    ts_info ("resending %zu done reports the broker may have missed",
             self->reports_n);
    size_t n = self->reports_n;
    size_t head = self->reports_head;
    self->reports_n = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t job = self->reports [(head + i) % REPORTS_MAX].job;
        ts_msg_reset (self->out, TS_OP_DONE);
        self->out->job = job;
        s_send (self, self->out);
        s_report_remember (self, job);
    }
}

static void
s_send_ready (ts_worker_t *self, size_t credit)
{
    ts_msg_reset (self->out, TS_OP_READY);
    self->out->credit = (uint32_t) credit;
    s_send (self, self->out);
}

//  (Re)creates the DEALER and introduces the worker with a ready for its
//  free slots, even none: the broker ignores reports from a peer that
//  has not sent ready, and the resent "done" reports follow at once.
static int
s_connect (ts_worker_t *self, char *err)
{
    ts_curve_watch_destroy (&self->watch);
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer) {
        ts_errf (err, "cannot create socket");
        return TS_ENOMEM;
    }
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, MAX_MSG_BYTES);
    ts_curve_id_apply (self->curve, self->dealer);
    self->watch = ts_curve_watch_new (self->curve, self->dealer, "broker");
    if (zsock_connect (self->dealer, "%s", self->endpoint) == -1) {
        ts_errf (err, "worker.broker_endpoint: cannot connect %s: %s",
                 self->endpoint, zmq_strerror (zmq_errno ()));
        ts_curve_watch_destroy (&self->watch);
        zsock_destroy (&self->dealer);
        return TS_ECONFIG;
    }
    self->last_heard_ms = ts_mono_ms ();
    //  The next heartbeat names the broker this connection reached; the
    //  reports resent on it count as sent to that one.
    self->broker_boot = 0;
    s_send_ready (self, self->draining? 0: self->concurrency - self->busy);
    return 0;
}

//  Hands the n jobs back to the broker (docs/protocol.md 5.19); with
//  none it says only "no more jobs". The broker queues them again at
//  once.
static void
s_release (ts_worker_t *self, const uint64_t *jobs, size_t n)
{
    ts_msg_reset (self->out, TS_OP_RELEASE);
    for (size_t i = 0; i < n; i++)
        if (ts_msg_add_job (self->out, jobs [i])) {
            ts_error ("cannot hand jobs back: out of memory");
            return;
        }
    s_send (self, self->out);
}

//  ---------------------------------------------------------------------
//  Jobs

//  Records the failure of one id of the slot's job. Every failure
//  detail passes here on its way to the log and to the broker (which
//  keeps it in the DLQ), so here the API key is scrubbed from it, whoever
//  wrote it: libcurl, the upstream's body, the map or the store.
static void
s_slot_fail (ts_worker_t *self, s_slot_t *slot, const char *id,
             const ts_fetch_verdict_t *one)
{
    ts_fetch_verdict_t shown = *one;
    ts_redact_text (shown.detail, sizeof shown.detail, self->api_key);
    ts_redact_text (shown.detail, sizeof shown.detail, self->old_key);
    ts_tally_failed (&self->tally, one->kind);
    //  The detail says "not retried" when the failure is final.
    ts_log_kv (TS_LOG_WARN, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
               TS_LF_STR ("id", id), TS_LF_OPT ("rid", slot->rid)),
               "job %" PRIu64 " id=%s failed: %s", slot->job, id,
               shown.detail);
    ts_worker_metrics_failed (self->metrics, one->kind);
    ts_fetch_verdict_merge (&slot->verdict, &shown);
}

//  Same, for a failure of kind (one of ts_fetch_kinds) found by the
//  worker itself.
static void
s_slot_fail_with (ts_worker_t *self, s_slot_t *slot, const char *id,
                  const char *kind, bool retry, const char *what,
                  const char *why)
{
    ts_fetch_verdict_t one;
    ts_fetch_verdict_fail (&one, id, retry, what, why);
    one.kind = kind;
    s_slot_fail (self, slot, id, &one);
}

//  Gives the slot back with ready, then reports the job: a broker that
//  restarted since this connection began learns of the worker from the
//  ready, and so accepts the report.
static void
s_finish (ts_worker_t *self, s_slot_t *slot)
{
    s_send_ready (self, self->draining? 0: 1);
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
    s_send (self, self->out);
    if (!verdict->failed)
        s_report_remember (self, slot->job);
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
    ts_strlist_clear (slot->ids);
    slot->used = false;
    self->busy--;
}

static void
s_start_job (ts_worker_t *self, const ts_msg_t *msg)
{
    if (self->draining) {
        //  Sent before the broker read our release: straight back.
        ts_info ("job %" PRIu64 " arrived while draining: handed back",
                 msg->job);
        s_release (self, &msg->job, 1);
        return;
    }
    s_slot_t *slot = NULL;
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
        s_send (self, self->out);
        return;
    }
    slot->used = true;
    slot->job = msg->job;
    ts_strlcpy (slot->rid, msg->rid, sizeof slot->rid);
    slot->pending = 0;
    slot->written_lost = false;
    memset (&slot->verdict, 0, sizeof slot->verdict);
    self->busy++;
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", msg->job),
               TS_LF_UINT ("ids", msg->ids->n), TS_LF_OPT ("rid", msg->rid)),
               "job started");

    int64_t now = ts_now_ms ();
    for (size_t i = 0; i < msg->ids->n; i++) {
        const char *id = msg->ids->items [i];
        if (ts_strlist_append (slot->ids, id) != 0) {
            s_slot_fail_with (self, slot, id, "memory", true, "out of memory",
                              NULL);
            break;
        }
        char url [URL_MAX], err [TS_ERRLEN];
        ts_url_args_t args = {
            .id = id, .from_ms = now - self->past_ms,
            .to_ms = now + self->future_ms, .unit = self->time_unit,
            .api_key = self->api_key };
        if (ts_url_build (self->url_tmpl, &args, url, sizeof url, err) != 0) {
            s_slot_fail_with (self, slot, id, "url", false, "cannot build "
                              "the upstream URL from upstream.url", err);
            continue;
        }
        uint64_t tag = ((uint64_t) index << 32) | (uint64_t) i;
        int rc = ts_fetch_add (self->fetch, url, tag);
        if (rc == 0 && ts_log_enabled (TS_LOG_DEBUG)) {
            char shown [URL_MAX];
            ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                       TS_LF_UINT ("job", msg->job), TS_LF_STR ("id", id),
                       TS_LF_OPT ("rid", msg->rid)), "job %" PRIu64
                       " id=%s: GET %s", msg->job, id,
                       ts_redact_url (url, self->api_key, shown,
                                      sizeof shown));
        }
        explicit_bzero (url, sizeof url);
        if (rc != 0) {
            s_slot_fail_with (self, slot, id, "memory", true, "out of memory",
                              NULL);
            continue;
        }
        slot->pending++;
    }
    if (slot->pending == 0)
        s_finish (self, slot);
}

//  One fetch of the slot's job ended; finishes the job after its last.
static void
s_fetch_ended (ts_worker_t *self, s_slot_t *slot)
{
    assert (slot->pending > 0);
    if (--slot->pending == 0)
        s_finish (self, slot);
}

//  The ingest stored (or could not store) one document of the batch:
//  logs it, or fails its id, and settles the fetch.
static void
s_stored (void *arg, const ts_ingest_result_t *result)
{
    ts_worker_t *self = arg;
    const s_pending_t *doc = &self->batch [result->index];
    s_slot_t *slot = &self->slots [doc->slot];
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
static void
s_flush (ts_worker_t *self)
{
    ts_ingest_flush (self->ingest, ts_now_ms (), s_stored, self);
}

static void
s_fetched (ts_worker_t *self, const ts_fetch_result_t *res)
{
    size_t index = (size_t) (res->tag >> 32);
    size_t i = (size_t) (res->tag & 0xffffffffu);
    assert (index < self->concurrency);
    s_slot_t *slot = &self->slots [index];
    assert (slot->used && i < slot->ids->n && slot->pending > 0);
    const char *id = slot->ids->items [i];
    ts_fetch_verdict_t verdict;
    char err [TS_ERRLEN] = "";
    const char *what = NULL;
    ts_worker_metrics_fetched (self->metrics, res->elapsed_ms);
    if (ts_fetch_classify (&self->fetch_opts, res, id, &verdict)) {
        s_slot_fail (self, slot, id, &verdict);
        s_fetch_ended (self, slot);
        return;
    }
    s_pending_t *doc = &self->batch [ts_ingest_pending (self->ingest)];
    doc->started_ms = ts_mono_ms ();
    doc->fetch_ms = res->elapsed_ms;
    doc->slot = index;
    if (ts_ingest_add (self->ingest, id, res->body, res->size, ts_now_ms (),
                       &what, err) != 0) {
        //  Invalid or truncated documents may pass: the job is retried.
        s_slot_fail_with (self, slot, id, strcmp (what, "out of memory")
                          ? "document": "memory", true, what, err);
        s_fetch_ended (self, slot);
        return;
    }
    if (ts_ingest_full (self->ingest))
        s_flush (self);
}

//  ---------------------------------------------------------------------
//  Loop

static void
s_message (ts_worker_t *self, const void *data, size_t size)
{
    char err [TS_ERRLEN];
    if (ts_msg_decode_in (self->msg, TS_DIALOGUE_BROKER, data, size,
                          TS_PROTO_MAX_REQUEST, err)) {
        ts_warn ("bad message from broker: %s", err);
        return;
    }
    if (self->msg->op == TS_OP_JOB)
        s_start_job (self, self->msg);
    else
    if (self->msg->op == TS_OP_HEARTBEAT)
        s_broker_heartbeat (self, self->msg->boot);
    else
        ts_debug ("unexpected op '%s' from broker: ignored",
                  ts_op_name (self->msg->op));
}

//  Reads every waiting message; single-frame messages only.
static void
s_drain (ts_worker_t *self)
{
    void *handle = zsock_resolve (self->dealer);
    while (zsock_events (self->dealer) & ZMQ_POLLIN) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&part);
            return;
        }
        self->last_heard_ms = ts_mono_ms ();
        //  A broker that names no process (no boot id yet, or an older
        //  broker) confirms reports by any message, as it may skip
        //  heartbeats while it sends jobs; one that names it, by its
        //  heartbeats only (s_broker_heartbeat).
        if (self->broker_boot == 0)
            s_report_confirm (self);
        if (zmq_msg_more (&part)) {
            //  Not ours: skip the rest of the message.
            ts_debug ("multi-frame message from broker: ignored");
            while (zmq_msg_more (&part)
               &&  zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) != -1)
                ;
        }
        else
            s_message (self, zmq_msg_data (&part), zmq_msg_size (&part));
        zmq_msg_close (&part);
    }
}

static void
s_timers (ts_worker_t *self)
{
    int64_t now = ts_mono_ms ();
    if (now - self->last_heard_ms > BROKER_DEAD_MS) {
        ts_warn ("broker %s silent for %d s: reconnecting", self->endpoint,
                 BROKER_DEAD_MS / 1000);
        char err [TS_ERRLEN];
        if (s_connect (self, err) != 0)
            ts_error ("%s", err);
        else
            s_report_resend (self);
        self->next_beat_ms = now;
    }
    if (now >= self->next_beat_ms && self->dealer) {
        ts_msg_reset (self->out, TS_OP_HEARTBEAT);
        s_send (self, self->out);
        self->next_beat_ms = now + HEARTBEAT_MS;
        ts_worker_metrics_publish (self->metrics, self->store);
    }
    //  A forecast backend that deletes expired points itself (DynamoDB's
    //  TTL) is not swept: its sweep reads the whole table.
    if (now >= self->next_expire_ms
    &&  (ts_store_caps (self->store) & TS_STORE_CAP_TTL))
        self->next_expire_ms = now + EXPIRE_MS;
    if (now >= self->next_tally_ms)
        self->next_tally_ms = ts_tally_tick (&self->tally, now);
    ts_daemon_tick ();
    if (now >= self->next_expire_ms) {
        size_t removed = 0;
        char err [TS_ERRLEN];
        if (ts_store_expire (self->store, ts_now_ms (), &removed, err) != 0)
            ts_warn ("forecast expiry failed: %s", err);
        else
        if (removed)
            ts_info ("expired %zu forecast points", removed);
        self->next_expire_ms = now + EXPIRE_MS;
    }
}

static int
s_timeout (ts_worker_t *self)
{
    int64_t now = ts_mono_ms ();
    int64_t next = self->next_beat_ms;
    if (self->last_heard_ms + BROKER_DEAD_MS + 1 < next)
        next = self->last_heard_ms + BROKER_DEAD_MS + 1;
    if (self->next_expire_ms < next)
        next = self->next_expire_ms;
    if (self->next_tally_ms < next)
        next = self->next_tally_ms;
    if (self->draining && self->drain_until_ms < next)
        next = self->drain_until_ms;
    int64_t wait = next - now;
    return wait < 0? 0: wait > HEARTBEAT_MS? HEARTBEAT_MS: (int) wait;
}

//  Processes the completed transfers one at a time into the batch,
//  which is stored when full and when no completion is left. After each,
//  the broker's socket is read - a finished job has just sent done and
//  ready, so the next jobs may be waiting - and the requests of new jobs
//  go out at once: the next fetches overlap the rest of a wave of
//  completions instead of waiting for all of it. Timers run in between,
//  so a long stream of completions does not hold back heartbeats.
//  Returns 0, or -1 if libcurl failed.
static int
s_completions (ts_worker_t *self)
{
    ts_fetch_result_t res;
    int rc = 0;
    while (rc == 0 && ts_fetch_next (self->fetch, &res)) {
        s_fetched (self, &res);
        if (self->dealer)
            s_drain (self);
        char err [TS_ERRLEN];
        if (ts_fetch_start (self->fetch, err) != 0) {
            ts_error ("%s", err);
            rc = -1;
        }
        s_timers (self);
    }
    s_flush (self);
    return rc;
}

//  One turn of the loop: read the broker, wait for sockets or a timer,
//  process completions, run timers. Returns 0, or -1 if libcurl failed.
static int
s_turn (ts_worker_t *self)
{
    if (self->dealer)
        s_drain (self);
    char err [TS_ERRLEN];
    int fd = self->dealer? zsock_fd (self->dealer): -1;
    if (ts_fetch_wait (self->fetch, fd, s_timeout (self), err) != 0) {
        ts_error ("%s", err);
        return -1;
    }
    if (s_completions (self) != 0)
        return -1;
    s_timers (self);
    return 0;
}

//  The first signal: takes no more jobs, lets those in flight finish
//  until worker.drain_timeout_ms, hands back the rest. A second signal
//  cuts it short. Returns 0, or -1 if libcurl failed.
static int
s_stop (ts_worker_t *self)
{
    zsys_interrupted = 0;           //  so that a second signal shows
    self->draining = true;
    self->drain_until_ms = ts_mono_ms () + self->drain_ms;
    ts_info ("worker draining: %zu jobs in flight, handed back after %"
             PRId64 " ms if not done", self->busy, self->drain_ms);
    if (self->dealer)
        s_release (self, NULL, 0);
    int rc = 0;
    while (rc == 0 && self->busy > 0 && !zsys_interrupted
       &&  ts_mono_ms () < self->drain_until_ms)
        rc = s_turn (self);
    if (zsys_interrupted) {
        ts_info ("worker interrupted again: %zu jobs in flight abandoned "
                 "(back when their leases run out)", self->busy);
        return rc;
    }
    uint64_t *jobs = calloc (self->busy + 1, sizeof (uint64_t));
    size_t n = 0;
    for (size_t i = 0; jobs && i < self->concurrency; i++)
        if (self->slots [i].used)
            jobs [n++] = self->slots [i].job;
    if (self->dealer && jobs) {
        s_release (self, jobs, n);
        //  The release and the last reports must leave before we exit.
        zsock_set_linger (self->dealer, 1000);
    }
    else
    if (self->busy > 0)
        ts_warn ("cannot hand back %zu jobs: they come back when their "
                 "leases run out", self->busy);
    ts_info ("worker drained: %zu jobs handed back", jobs? n: 0);
    free (jobs);
    return rc;
}

int
ts_worker_run (ts_worker_t *self)
{
    assert (self);
    char shown [URL_MAX];
    ts_info ("worker up: broker %s, %zu slots, upstream %s", self->endpoint,
             self->concurrency, ts_redact_url (self->url_tmpl, self->api_key,
                                               shown, sizeof shown));
    int rc = 0;
    while (rc == 0 && !zsys_interrupted)
        rc = s_turn (self);
    if (rc == 0)
        rc = s_stop (self);
    return rc;
}

//  ---------------------------------------------------------------------
//  Construction

//  Wipes and frees a key; sets *key_p to NULL.
static void
s_key_free (char **key_p)
{
    if (*key_p) {
        explicit_bzero (*key_p, strlen (*key_p));
        free (*key_p);
        *key_p = NULL;
    }
}

//  Reads the upstream API key into *key (NULL if none), if
//  upstream.api_key_env or upstream.api_key_file names one. The key never
//  appears in err.
static int
s_read_key (const ts_config_t *cfg, char **key, char *err)
{
    const char *env = ts_config_str (cfg, "upstream.api_key_env");
    const char *file = ts_config_str (cfg, "upstream.api_key_file");
    *key = NULL;
    if (!*env && !*file)
        return 0;
    char detail [TS_ERRLEN];
    int rc = ts_config_secret (env, file, key, detail);
    if (rc == TS_ENOTFOUND)
        ts_errf (err, "upstream API key missing: environment variable "
                 "'%s' unset or empty and upstream.api_key_file '%s' "
                 "gives none", env, file);
    else
    if (rc != 0)
        ts_errf (err, "upstream.api_key_file: %s", detail);
    return rc;
}

//  Logs, at debug level, the request headers as they are shown.
static void
s_log_headers (const ts_strlist_t *headers, const char *key)
{
    if (!ts_log_enabled (TS_LOG_DEBUG))
        return;
    for (size_t i = 0; i < headers->n; i++) {
        char shown [TS_ERRLEN];
        ts_debug ("upstream header %s", ts_redact_header (headers->items [i],
                  key, shown, sizeof shown));
    }
}

//  The request headers of cfg with key (NULL: none) put in: *headers,
//  which the caller frees with ts_url_headers_destroy. Returns 0 or a
//  TS_E* code with err filled.
static int
s_headers (const ts_config_t *cfg, const char *key, ts_strlist_t **headers,
           char *err)
{
    int rc = ts_url_headers (ts_config_list (cfg, "upstream.headers"),
                             ts_config_str (cfg, "upstream.url"), key,
                             ts_config_str (cfg, "upstream.api_key_header"),
                             headers, err);
    if (rc == 0)
        s_log_headers (*headers, key);
    return rc;
}

int
ts_worker_apply (ts_worker_t *self, const ts_strlist_t *applied)
{
    assert (self);
    //  The key is read again whatever changed: its file may have.
    char *key = NULL;
    char err [TS_ERRLEN];
    ts_strlist_t *headers = NULL;
    int rc = s_read_key (self->cfg, &key, err);
    if (rc == 0)
        rc = s_headers (self->cfg, key, &headers, err);
    if (rc) {
        ts_error ("reload: upstream: %s; keeping the running headers and "
                  "key", err);
        s_key_free (&key);
        return rc;
    }
    bool same = (!key && !self->api_key)
             || (key && self->api_key && strcmp (key, self->api_key) == 0);
    bool changed = !same;
    for (size_t i = 0; i < applied->n; i++)
        changed |= strncmp (applied->items [i], "upstream.", 9) == 0;
    if (changed) {
        rc = ts_fetch_set_headers (self->fetch, headers, key);
        if (rc == 0) {
            //  Transfers still running may quote the key they were sent
            //  with: it is kept, to scrub their errors, until the next
            //  reload.
            s_key_free (&self->old_key);
            self->old_key = self->api_key;
            self->api_key = key;
            self->fetch_opts.secret = key;
            key = NULL;
            if (!same)
                ts_info ("reload: upstream API key: changed");
        }
        else
            ts_error ("reload: upstream: out of memory; keeping the "
                      "running headers and key");
    }
    s_key_free (&key);
    ts_url_headers_destroy (&headers);
    return rc;
}

ts_worker_t *
ts_worker_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    ts_worker_t *self = calloc (1, sizeof (ts_worker_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    self->endpoint = ts_config_str (cfg, "worker.broker_endpoint");
    self->url_tmpl = ts_config_str (cfg, "upstream.url");
    self->past_ms = ts_config_int (cfg, "upstream.past_s") * 1000;
    self->future_ms = ts_config_int (cfg, "upstream.future_s") * 1000;
    self->concurrency = (size_t) ts_config_int (cfg, "worker.concurrency");
    self->drain_ms = ts_config_int (cfg, "worker.drain_timeout_ms");
    const char *unit = ts_config_str (cfg, "upstream.time_param");
    if (ts_url_time_parse (unit, &self->time_unit) != 0) {
        ts_errf (err, "upstream.time_param: unknown unit '%s'", unit);
        goto fail;
    }
    ts_curve_t *security = ts_curve_new (cfg, "tscache-worker", err);
    int rc = security? ts_curve_client (security, "security.worker_cert",
                                        "security.broker_cert", &self->curve,
                                        err)
                     : TS_ENOMEM;
    ts_curve_destroy (&security);
    if (rc)
        goto fail;
    ts_strlist_t *headers = NULL;
    if (s_read_key (cfg, &self->api_key, err) != 0
    ||  s_headers (cfg, self->api_key, &headers, err) != 0)
        goto fail;
    ts_fetch_opts_t opts = {
        .max_active = self->concurrency,
        .connect_timeout_ms = (long) ts_config_int (cfg,
                                                    "upstream.connect_timeout_ms"),
        .timeout_ms = (long) ts_config_int (cfg, "upstream.timeout_ms"),
        .max_body_bytes = (size_t) ts_config_int (cfg, "upstream.max_body_bytes"),
        .headers = headers,
        .secret = self->api_key
    };
    self->fetch = ts_fetch_new (&opts, err);
    ts_url_headers_destroy (&headers);
    self->fetch_opts = opts;
    self->fetch_opts.headers = NULL;
    if (!self->fetch)
        goto fail;
    if (!(self->store = ts_store_new (cfg, err))
    ||  !(self->metrics = ts_worker_metrics_new (cfg, err)))
        goto fail;
    self->batch_max = self->concurrency < BATCH_MAX? self->concurrency
                                                   : BATCH_MAX;
    ts_map_spec_t spec;
    if (ts_map_spec_from_config (&spec, cfg, err) != 0
    ||  !(self->ingest = ts_ingest_new (&spec, self->store, self->batch_max,
                                        err)))
        goto fail;
    self->slots = calloc (self->concurrency, sizeof (s_slot_t));
    self->reports = calloc (REPORTS_MAX, sizeof (s_report_t));
    self->msg = ts_msg_new (TS_OP_REPLY);
    self->out = ts_msg_new (TS_OP_REPLY);
    self->batch = calloc (self->batch_max, sizeof (s_pending_t));
    bool ok = self->slots && self->reports && self->msg && self->out
           && self->batch;
    for (size_t i = 0; ok && i < self->concurrency; i++)
        ok = (self->slots [i].ids = ts_strlist_new ()) != NULL
          && (self->slots [i].written = ts_strlist_new ()) != NULL;
    if (!ok) {
        ts_errf (err, "out of memory");
        goto fail;
    }
    if (s_connect (self, err) != 0)
        goto fail;
    int64_t now = ts_mono_ms ();
    self->next_beat_ms = now + HEARTBEAT_MS;
    self->next_expire_ms = now + EXPIRE_MS;
    ts_tally_start (&self->tally, now);
    self->next_tally_ms = now + TS_TALLY_PERIOD_MS;
    return self;
fail:
    ts_worker_destroy (&self);
    return NULL;
}

void
ts_worker_destroy (ts_worker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_worker_t *self = *self_p;
        ts_curve_watch_destroy (&self->watch);
        zsock_destroy (&self->dealer);
        ts_curve_id_destroy (&self->curve);
        ts_fetch_destroy (&self->fetch);
        for (size_t i = 0; self->slots && i < self->concurrency; i++)
        {
            ts_strlist_destroy (&self->slots [i].ids);
            ts_strlist_destroy (&self->slots [i].written);
        }
        free (self->slots);
        free (self->reports);
        ts_ingest_destroy (&self->ingest);
        ts_worker_metrics_destroy (&self->metrics);
        ts_store_destroy (&self->store);
        ts_msg_destroy (&self->msg);
        ts_msg_destroy (&self->out);
        free (self->batch);
        s_key_free (&self->api_key);
        s_key_free (&self->old_key);
        free (self);
        *self_p = NULL;
    }
}
