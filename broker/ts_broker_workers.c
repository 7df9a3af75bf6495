/*  ts_broker_workers - the broker's dialogue with workers: ready and
    credit, job dispatch, done and failed, jobs handed back (release),
    heartbeats, lost workers and expired leases. Part of ts_broker (ts_broker_internal.h); see
    docs/protocol.md for the messages.

    Workers are known by their ZeroMQ routing id (hex in logs and as the
    queue's owner tag). The worker socket is ROUTER_MANDATORY, so a send
    to a worker that has gone fails with EHOSTUNREACH instead of being
    dropped silently: the worker is then forgotten and its jobs requeued.
    All sends are non-blocking; a worker whose pipe is full simply gets
    no more jobs until it drains. A peer is a worker once it has sent
    ready (credit 0 only introduces it); its done, failed and heartbeat
    are ignored before that, as are invalid messages, each with a warning
    that a flooding peer cannot turn into a flood of log lines
    (ts_log_limited).

    The queue is called in batches, one backend transaction each: a
    dispatch leases the credit of every worker in one call, and the dones
    of one wake are acked in one call (before any failed report or
    control request of that wake is handled, so the order of reports is
    kept). The ids a done or failed reports written go to the change
    notices (ts_broker_notice.c), published after each batch.

    The path of a job (lease, send, done, ack) allocates nothing of its
    own once warm: messages are read into frames the broker keeps
    (ts_broker.c), decoded into a kept message and zone, encoded into a
    kept buffer; id lists keep their strings' buffers; the queue keeps
    its cursors per batch. Figure 9 of make bench counts what is left
    (libzmq's copy of each message it sends, LMDB's page list per write
    batch). */

#include "ts_broker_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define WORKER_DEAD_MS  5000        //  silence after which a worker is lost
#define CREDIT_MAX      1024        //  most credit one worker may hold
#define NO_DETAIL       "worker gave no detail"   //  failed without one

static void
s_hex (const byte *data, size_t size, char *out, size_t out_size)
{
    static const char digits [] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < size && 2 * i + 2 < out_size; i++) {
        out [2 * i] = digits [data [i] >> 4];
        out [2 * i + 1] = digits [data [i] & 15];
    }
    out [2 * i] = 0;
}

//  ---------------------------------------------------------------------
//  Sending

//  Sends [rid][body] to a worker without blocking. Returns 0 or the
//  errno (EHOSTUNREACH: peer gone; EAGAIN: pipe full).
static int
s_send (zsock_t *sock, const byte *rid, size_t rid_len, const void *body,
        size_t size)
{
    void *handle = zsock_resolve (sock);
    if (zmq_send (handle, rid, rid_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) == -1)
        return zmq_errno ();
    if (zmq_send (handle, body, size, ZMQ_DONTWAIT) == -1)
        return zmq_errno ();
    return 0;
}

//  Sends msg to worker, encoded into the broker's kept buffer.
static int
s_send_msg (ts_broker_t *self, const ts_broker_worker_t *worker,
            const ts_msg_t *msg)
{
    size_t size;
    if (ts_msg_encode_into (msg, &self->send_buf, &self->send_cap, &size))
        return ENOMEM;
    return s_send (self->workers_sock, worker->rid, worker->rid_len,
                   self->send_buf, size);
}

//  ---------------------------------------------------------------------
//  Workers and job reports

//  The job's owner no longer holds it: one lease less in its stats.
static void
s_owner_lost (ts_broker_t *self, const ts_job_t *job)
{
    ts_broker_worker_t *owner = *job->owner? zhashx_lookup (self->workers,
                                                    job->owner): NULL;
    if (owner && owner->leased > 0)
        owner->leased--;
}

//  Logs a job that failed and was put back (info) or dead-lettered (warn).
static void
s_log_failure (const ts_job_t *job, int64_t now_ms)
{
    char ids [256];
    ts_job_ids_text (job, ids, sizeof ids);
    if (job->state == TS_JOB_DEAD)
        ts_log_kv (TS_LOG_WARN, TS_LOG_FIELDS (TS_LF_OPT ("rid", job->rid)),
                   "job %" PRIu64 " ids=%s moved to the DLQ after %u "
                   "receives: %s", job->id, ids, job->receives, job->error);
    else {
        int64_t delay = job->visible_at_ms - now_ms;
        ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_OPT ("rid", job->rid)),
                   "job %" PRIu64 " ids=%s failed (receive %u): %s; retry "
                   "in %" PRId64 " ms", job->id, ids, job->receives,
                   job->error, delay > 0? delay: 0);
    }
}

//  ts_queue_report_fn for expired leases and lost workers.
static void
s_report_move (const ts_job_t *job, void *arg)
{
    ts_broker_t *self = arg;
    s_owner_lost (self, job);
    s_log_failure (job, job->visible_at_ms);
    ts_broker_backfill_dead (self, job);
}

static void
s_worker_forget (ts_broker_t *self, ts_broker_worker_t *worker, const char *why)
{
    char err [TS_ERRLEN];
    int jobs = ts_queue_release_owner (self->queue, worker->key, ts_now_ms (),
                                       s_report_move, self, err);
    if (jobs < 0)
        ts_error ("worker %s lost (%s): cannot requeue its jobs: %s",
                  worker->key, why, err);
    else
    if (jobs == 0 && worker->released)
        ts_info ("worker %s gone (%s) after its release", worker->key, why);
    else
        ts_warn ("worker %s lost (%s), %d jobs requeued", worker->key, why,
                 jobs);
    zhashx_delete (self->workers, worker->key);
}

//  Fills self->grants with every worker that has credit. Returns how
//  many, with their credit in *total.
static size_t
s_grants (ts_broker_t *self, size_t *total)
{
    size_t need = zhashx_size (self->workers);
    if (need > self->grants_cap) {
        ts_queue_grant_t *grants = realloc (self->grants,
                                            need * sizeof *grants);
        if (!grants) {
            ts_error ("cannot dispatch: out of memory");
            return 0;
        }
        self->grants = grants;
        self->grants_cap = need;
    }
    size_t n = 0;
    *total = 0;
    for (ts_broker_worker_t *w = zhashx_first (self->workers); w;
         w = zhashx_next (self->workers))
        if (w->credit > 0) {
            self->grants [n++] = (ts_queue_grant_t) {
                w->key, w->credit, w->last_job_seq };
            *total += w->credit;
        }
    return n;
}

//  Puts back the leased jobs from the at-th on whose owner is key: they
//  were leased in the same call as one that could not be sent to it.
static void
s_unlease_rest (ts_broker_t *self, size_t at, size_t n, const char *key)
{
    char err [TS_ERRLEN];
    for (size_t i = at; i < n; i++) {
        ts_job_t *job = self->leased [i];
        if (job->id == 0 || strcmp (job->owner, key) != 0)
            continue;
        if (ts_queue_unlease (self->queue, job->id, err) != 0)
            ts_error ("job %" PRIu64 ": cannot unlease: %s", job->id, err);
        job->id = 0;                //  handled
    }
}

//  Sends the n leased jobs to their owners. A job whose send fails goes
//  back to the queue with the other jobs of that worker still unsent.
static void
s_send_leased (ts_broker_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ts_job_t *job = self->leased [i];
        if (job->id == 0)
            continue;
        ts_broker_worker_t *worker = zhashx_lookup (self->workers, job->owner);
        int rc = 0;
        ts_msg_reset (self->reply, TS_OP_JOB);
        self->reply->job = job->id;
        ts_strlcpy (self->reply->rid, job->rid, sizeof self->reply->rid);
        ts_strlcpy (self->reply->source, job->source,
                    sizeof self->reply->source);
        if (job->from_ms || job->to_ms) {
            self->reply->has_from = self->reply->has_to = true;
            self->reply->from_ms = job->from_ms;
            self->reply->to_ms = job->to_ms;
        }
        for (size_t k = 0; k < job->ids->n && rc == 0; k++)
            rc = ts_strlist_append (self->reply->ids, job->ids->items [k]);
        if (rc == 0 && worker)
            rc = s_send_msg (self, worker, self->reply);
        if (rc == 0 && worker) {
            worker->credit--;
            worker->leased++;
            worker->last_job_seq = ++self->job_seq;
            ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                       TS_LF_UINT ("job", job->id),
                       TS_LF_STR ("worker", worker->key),
                       TS_LF_UINT ("ids", job->ids->n),
                       TS_LF_UINT ("receive", job->receives),
                       TS_LF_OPT ("rid", job->rid)), "job leased");
            continue;
        }
        char key [512];
        ts_strlcpy (key, job->owner, sizeof key);
        s_unlease_rest (self, i, n, key);
        if (!worker)
            continue;
        if (rc == EHOSTUNREACH)
            s_worker_forget (self, worker, "unreachable");
        else {
            //  Pipe full or out of memory: stop feeding it for now.
            ts_warn ("worker %s: cannot send job: %s", worker->key,
                     zmq_strerror (rc));
            worker->credit = 0;
        }
    }
}

//  Hands visible jobs to workers with credit: the most credit first,
//  the least recently served on ties, leased in one queue call, each
//  job only if its source's rate limit lets it go now
//  (ts_broker_rate.c); the others stay queued in their place.
void
ts_broker_dispatch (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    ts_broker_rate_begin (self);
    while (true) {
        size_t total = 0;
        size_t n = s_grants (self, &total);
        if (n == 0)
            return;
        size_t max = total < LEASE_MAX? total: LEASE_MAX;
        int got = ts_queue_lease_filtered (self->queue, self->grants, n,
                                           ts_broker_rate_accept, self->rate,
                                           ts_now_ms (), self->leased, max,
                                           err);
        if (got < 0)
            ts_error ("cannot lease jobs: %s", err);
        if (got <= 0)
            return;
        s_send_leased (self, (size_t) got);
        if ((size_t) got < max)
            return;                 //  no more visible jobs
    }
}

//  Acks the dones reported since the last flush, in one queue call.
void
ts_broker_flush_dones (ts_broker_t *self)
{
    size_t n = self->dones_n;
    if (n == 0)
        return;
    self->dones_n = 0;
    char err [TS_ERRLEN];
    //  The fetches are marked at this time (ts_queue_last_fetch): a
    //  read-through hydrate that read the store before it is skipped.
    ts_queue_clock (self->queue, ts_now_ms ());
    int rc = ts_queue_ack_many (self->queue, self->dones, n, self->acked,
                                self->ack_rcs, err);
    for (size_t i = 0; i < n; i++) {
        //  A done that listed no ids written: all of the job's.
        if (rc >= 0 && self->ack_rcs [i] == 0 && self->done_all [i])
            ts_broker_notice_add_list (self, self->acked [i]->ids);
        uint64_t job_id = self->dones [i];
        const char *key = self->done_keys [i];
        if (rc < 0)
            ts_error ("done for job %" PRIu64 ": %s", job_id, err);
        else
        if (self->ack_rcs [i] == 0) {
            if (self->acked [i]->state == TS_JOB_LEASED)
                s_owner_lost (self, self->acked [i]);
            ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                       TS_LF_UINT ("job", job_id), TS_LF_STR ("worker", key),
                       TS_LF_OPT ("rid", self->acked [i]->rid)), "job done");
        }
        else
            ts_debug ("done for job %" PRIu64 " from worker %s: not queued "
                      "or leased: ignored", job_id, key);
    }
    if (rc >= 0)
        ts_broker_backfill_acked (self, self->acked, self->ack_rcs, n);
    ts_broker_notice_publish (self);
}

//  "done": acked by job id, whoever reports it, with the other dones of
//  this wake (ts_broker_flush_dones). The ids it lists written are
//  noticed whether or not the job is still queued (another run of it
//  may have been acked first: this one wrote too); without a list, the
//  job's ids once acked.
static void
s_done (ts_broker_t *self, const char *key, const ts_msg_t *msg)
{
    if (self->dones_n == DRAIN_MAX)
        ts_broker_flush_dones (self);
    ts_strlcpy (self->done_keys [self->dones_n], key, 512);
    if (msg->has_written)
        ts_broker_notice_add_list (self, msg->written);
    self->done_all [self->dones_n] = !msg->has_written;
    self->dones [self->dones_n++] = msg->job;
}

//  "failed": retried with backoff, or dead-lettered.
static void
s_failed (ts_broker_t *self, const char *key, const ts_msg_t *msg)
{
    char err [TS_ERRLEN];
    int64_t now = ts_now_ms ();
    int64_t retry_after = msg->retry_after_ms > INT64_MAX / 2
                        ? INT64_MAX / 2: (int64_t) msg->retry_after_ms;
    const char *detail = msg->detail;
    if (!*detail) {
        ts_log_limited (&self->invalid_log, TS_LOG_WARN, "worker %s: "
                        "failed for job %" PRIu64 " without a detail: "
                        "failing it as '" NO_DETAIL "'", key, msg->job);
        detail = NO_DETAIL;
    }
    ts_broker_flush_dones (self);           //  reports in the order they came
    int rc = ts_queue_nack (self->queue, msg->job, detail, msg->retry,
                            retry_after, now, self->job, err);
    if (rc == 0) {
        s_owner_lost (self, self->job);
        s_log_failure (self->job, now);
        ts_broker_backfill_dead (self, self->job);
    }
    //  Upstream pushback slows the job's whole source, even when this
    //  report came late (the job was leased again meanwhile).
    if (rc == 0 || (rc == TS_ENOTFOUND
                    && ts_queue_lookup (self->queue, msg->job, self->job,
                                        NULL) == 0))
        ts_broker_rate_pushback (self, self->job->source, msg);
    //  Every id of the job changed: what the run wrote before it failed
    //  has new data, and the others a new fetch status (the worker
    //  marks failures before it reports), which query answers show
    //  ("stale", "last_error") and read-through waits on. A report of a
    //  job no longer queued: what it says it wrote.
    if (rc == 0)
        ts_broker_notice_add_list (self, self->job->ids);
    else
    if (msg->has_written)
        ts_broker_notice_add_list (self, msg->written);
    ts_broker_notice_publish (self);
    if (rc == TS_ENOTFOUND)
        ts_debug ("failed for job %" PRIu64 " from worker %s: %s: ignored",
                  msg->job, key, err);
    else
    if (rc != 0)
        ts_error ("failed for job %" PRIu64 ": %s", msg->job, err);
}

//  "release": the worker is stopping. It takes no more jobs (credit 0)
//  and hands back the listed jobs it holds: each is queued again at
//  once, its receive not counted (ts_queue_release), and goes to the
//  next worker with credit in this wake's dispatch. A job it no longer
//  holds (expired, leased to another) is left alone.
static void
s_release (ts_broker_t *self, ts_broker_worker_t *worker,
           const ts_msg_t *msg)
{
    char err [TS_ERRLEN];
    ts_broker_flush_dones (self);           //  reports in the order they came
    worker->credit = 0;
    worker->released = true;
    size_t back = 0;
    for (size_t i = 0; i < msg->jobs_n; i++) {
        int rc = ts_queue_release (self->queue, msg->jobs [i], worker->key,
                                   self->job, err);
        if (rc == 0) {
            s_owner_lost (self, self->job);
            back++;
        }
        else
        if (rc == TS_ENOTFOUND)
            ts_debug ("release of job %" PRIu64 " from worker %s: %s: "
                      "ignored", msg->jobs [i], worker->key, err);
        else
            ts_error ("release of job %" PRIu64 ": %s", msg->jobs [i], err);
    }
    ts_info ("worker %s takes no more jobs; %zu of %zu jobs handed back "
             "queued again", worker->key, back, msg->jobs_n);
}

//  Warns, rate-limited, of a report from a peer that has not sent ready
//  since it connected or was declared lost (docs/protocol.md 5.7:
//  ignored).
static void
s_stranger (ts_broker_t *self, const char *key, const ts_msg_t *msg)
{
    char job [40] = "";
    if (msg->op != TS_OP_HEARTBEAT)
        ts_errf (job, " for job %" PRIu64, msg->job);
    ts_log_limited (&self->stranger_log, TS_LOG_WARN, "worker %s: '%s'%s "
                    "from a peer that has not sent ready: ignored", key,
                    ts_op_name (msg->op), job);
}

//  A new worker, introduced by its first ready. NULL if out of memory.
static ts_broker_worker_t *
s_worker_new (ts_broker_t *self, const byte *rid, size_t rid_len,
              const char *key)
{
    ts_broker_worker_t *worker = calloc (1, sizeof (ts_broker_worker_t));
    if (!worker) {
        ts_error ("worker %s: out of memory", key);
        return NULL;
    }
    if (rid_len > sizeof worker->rid)
        rid_len = sizeof worker->rid;   //  libzmq's are at most 255
    memcpy (worker->rid, rid, rid_len);
    worker->rid_len = rid_len;
    ts_strlcpy (worker->key, key, sizeof worker->key);
    zhashx_insert (self->workers, key, worker);
    ts_info ("worker %s connected", key);
    return worker;
}

//  One message from a worker: [routing id][body]. The first ready
//  introduces a peer; anything else from a peer not introduced is
//  ignored, so is an invalid message: both with a rate-limited warning.
void
ts_broker_worker_message (ts_broker_t *self, const byte *rid,
                          size_t rid_len, const byte *body, size_t body_size,
                          size_t frames)
{
    char key [512];
    s_hex (rid, rid_len, key, sizeof key);
    if (frames != 1) {
        ts_log_limited (&self->invalid_log, TS_LOG_WARN, "worker %s: "
                        "message of %zu frames, expected 1: ignored", key,
                        frames);
        return;
    }
    char err [TS_ERRLEN];
    //  Only the worker dialogue: a client's request or a reply here is
    //  refused by the decoder, unread.
    int rc = ts_msg_decode_in (self->msg, TS_DIALOGUE_WORKER, body,
                               body_size, TS_PROTO_MAX_REQUEST, err);
    if (rc != 0) {
        ts_log_limited (&self->invalid_log, TS_LOG_WARN, "worker %s: %s%s: "
                        "ignored", key, rc == TS_EDIALOGUE? "":
                        "invalid message: ", err);
        return;
    }
    ts_msg_t *msg = self->msg;
    ts_broker_worker_t *worker = zhashx_lookup (self->workers, key);
    if (!worker && msg->op != TS_OP_READY) {
        s_stranger (self, key, msg);
        return;
    }
    if (!worker && !(worker = s_worker_new (self, rid, rid_len, key)))
        return;
    worker->last_seen_ms = ts_mono_ms ();
    if (msg->op == TS_OP_READY) {
        uint64_t credit = (uint64_t) worker->credit + msg->credit;
        worker->credit = credit > CREDIT_MAX? CREDIT_MAX: (uint32_t) credit;
        if (msg->credit)
            worker->released = false;       //  at work again
        ts_debug ("worker %s ready +%u credit=%u", key, msg->credit,
                  worker->credit);
    }
    else
    if (msg->op == TS_OP_DONE)
        s_done (self, key, msg);
    else
    if (msg->op == TS_OP_FAILED)
        s_failed (self, key, msg);
    else
    if (msg->op == TS_OP_RELEASE)
        s_release (self, worker, msg);
}

//  ---------------------------------------------------------------------
//  Timers: lost workers and expired leases

//  Heartbeats to workers; forgets the silent and the unreachable.
void
ts_broker_heartbeat (ts_broker_t *self, int64_t now)
{
    //  Collect first: forgetting a worker changes the table.
    zlistx_t *lost = zlistx_new ();
    if (!lost)
        return;
    for (ts_broker_worker_t *w = zhashx_first (self->workers); w;
         w = zhashx_next (self->workers)) {
        if (now - w->last_seen_ms > WORKER_DEAD_MS
        ||  s_send (self->workers_sock, w->rid, w->rid_len, self->beat,
                    self->beat_size) == EHOSTUNREACH)
            zlistx_add_end (lost, w);
    }
    for (ts_broker_worker_t *w = zlistx_first (lost); w; w = zlistx_next (lost))
        s_worker_forget (self, w, now - w->last_seen_ms > WORKER_DEAD_MS
                                  ? "silent": "unreachable");
    zlistx_destroy (&lost);
}

//  Ends leases past their deadline and ages out the DLQ.
void
ts_broker_expire (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    size_t purged = 0;
    int expired = ts_queue_expire (self->queue, ts_now_ms (), s_report_move,
                                   self, &purged, err);
    if (expired < 0)
        ts_error ("cannot expire leases: %s", err);
    else
    if (expired > 0)
        ts_warn ("%d jobs past broker.visibility_timeout_s", expired);
    if (purged > 0)
        ts_info ("%zu DLQ entries past broker.dlq_retention_s deleted",
                 purged);
}
