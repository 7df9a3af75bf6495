/*  ts_broker_control - the broker's dialogue with clients on the control
    socket: hydrate, ping, stats, job_state and the DLQ operations (ls,
    redrive, purge). Part of ts_broker (ts_broker_internal.h); see
    docs/protocol.md for the messages.

    The control socket answers each request with its whole envelope
    (ts_envelope): a REQ client, a DEALER that puts frames of its own
    before the delimiter (the gateway's correlation ids) and a DEALER
    without a delimiter all get their reply routed back. Only the
    client dialogue is decoded here: a worker's message (job, done...)
    gets a 400 "not_client_op". */

#include "ts_broker_internal.h"
#include "ts_envelope.h"

#include <assert.h>

#include <inttypes.h>
#include <string.h>

#define DLQ_LS_MAX      TS_PROTO_MAX_DLQ    //  entries in one dlq_ls reply

//  Sends self->reply back with the request's envelope (destroyed).
static void
s_reply (ts_broker_t *self, zmsg_t **envelope)
{
    char *data;
    size_t size;
    int rc = ts_msg_encode (self->reply, &data, &size);
    if (rc == 0)
        rc = ts_envelope_send (envelope, self->control, data, size);
    else
        zmsg_destroy (envelope);
    if (rc != 0)
        ts_debug ("control: cannot reply: %s", rc == TS_ENOMEM
                  ? "out of memory": zmq_strerror (rc));
}

//  Queues ids, broker.ids_per_job per job. Returns the number of jobs
//  queued, or a TS_E* code with err filled.
int
ts_broker_enqueue (ts_broker_t *self, const ts_strlist_t *ids,
                   const char *rid, char *err)
{
    ts_queue_attrs_t attrs = { .rid = rid };
    return ts_broker_enqueue_attrs (self, ids, &attrs, err);
}

int
ts_broker_enqueue_attrs (ts_broker_t *self, const ts_strlist_t *ids,
                         const ts_queue_attrs_t *attrs, char *err)
{
    //  One queue batch per slice of at most TS_QUEUE_MAX_IDS ids, cut
    //  between jobs.
    size_t per_job = self->ids_per_job;
    assert (per_job >= 1 && per_job <= TS_QUEUE_MAX_IDS);
    size_t slice = TS_QUEUE_MAX_IDS / per_job * per_job;
    size_t runs = (slice + per_job - 1) / per_job;
    if (runs > self->push_jobs_cap) {
        uint64_t *jobs = realloc (self->push_jobs, runs * sizeof *jobs);
        if (!jobs) {
            ts_errf (err, "out of memory");
            return TS_ENOMEM;
        }
        self->push_jobs = jobs;
        self->push_jobs_cap = runs;
    }
    int jobs = 0;
    for (size_t i = 0; i < ids->n; i += slice) {
        size_t n = ids->n - i < slice? ids->n - i: slice;
        int rc = ts_queue_push_many (self->queue, (const char *const *)
                                     ids->items + i, n, per_job, attrs,
                                     ts_now_ms (), self->push_jobs, err);
        if (rc < 0)
            return rc;
        jobs += rc;
        for (size_t k = 0; k * per_job < n; k++)
            if (self->push_jobs [k])
                ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                           TS_LF_UINT ("job", self->push_jobs [k]),
                           TS_LF_OPT ("rid", attrs->rid),
                           TS_LF_OPT ("source", attrs->source)),
                           "job queued");
    }
    return jobs;
}

//  Sets an error reply for a failed queue call.
static void
s_queue_error (ts_broker_t *self, int rc, const char *err)
{
    if (rc == TS_EINVAL)
        ts_msg_set_error (self->reply, 400, "bad_request", err);
    else {
        ts_error ("control: %s", err);
        ts_msg_set_error (self->reply, 500, "internal", err);
    }
}

//  Puts into wanted the ids of all that were not fetched at or after
//  since_ms (their last ack, as the queue keeps it). Returns 0 or a TS_E*
//  code (err filled).
static int
s_not_fetched_since (ts_broker_t *self, const ts_strlist_t *all,
                     int64_t since_ms, ts_strlist_t *wanted, char *err)
{
    int64_t *times = calloc (all->n? all->n: 1, sizeof (int64_t));
    int rc = times? ts_queue_last_fetch (self->queue,
                                         (const char *const *) all->items,
                                         all->n, times, err)
                  : TS_ENOMEM;
    for (size_t i = 0; rc == 0 && i < all->n; i++)
        if (times [i] < since_ms && ts_strlist_append (wanted, all->items [i]))
            rc = TS_ENOMEM;
    if (rc == TS_ENOMEM)
        ts_errf (err, "out of memory");
    free (times);
    return rc;
}

//  "hydrate": queues the ids (with skip_fetched_since, those not fetched
//  since then) and answers 202 with the number of jobs queued and, for
//  each id, the job that will fetch it (a new one, or the queued or
//  leased job it already was in; 0 for an id skipped and held by none).
static void
s_hydrate (ts_broker_t *self, const ts_msg_t *req)
{
    char err [TS_ERRLEN];
    const ts_strlist_t *ids = req->ids;
    const char *rid = req->rid;
    bool priority = req->priority;
    //  Each id is fetched from the source it is registered to.
    ts_strlist_t *sources = ts_strlist_new ();
    ts_strlist_t *wanted = NULL;
    int jobs = sources? 0: TS_ENOMEM;
    if (jobs == 0 && req->skip_fetched_since_ms > 0) {
        wanted = ts_strlist_new ();
        jobs = wanted? s_not_fetched_since (self, ids,
                                            req->skip_fetched_since_ms,
                                            wanted, err)
                     : TS_ENOMEM;
        if (wanted)
            ids = wanted;
    }
    if (jobs == TS_ENOMEM)
        ts_errf (err, "out of memory");
    if (jobs == 0 && ids->n)
        jobs = ts_broker_sources_of (self, ids, sources, err);
    if (jobs == 0 && ids->n)
        jobs = ts_broker_enqueue_sources (self, ids, sources, rid, priority,
                                          err);
    ts_strlist_destroy (&sources);
    size_t skipped = req->ids->n - ids->n;
    ts_strlist_destroy (&wanted);
    ids = req->ids;
    if (jobs < 0) {
        s_queue_error (self, jobs, err);
        return;
    }
    char skips [96] = "";
    if (skipped)
        snprintf (skips, sizeof skips, ", %zu skipped (fetched since "
                  "skip_fetched_since)", skipped);
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_UINT ("ids", ids->n),
               TS_LF_INT ("jobs", jobs), TS_LF_UINT ("skipped", skipped),
               TS_LF_OPT ("rid", rid)),
               "hydrate: %zu ids, %d jobs queued%s%s", ids->n, jobs,
               priority? " (priority)": "", skips);
    ts_msg_set_ok (self->reply, 202);
    self->reply->count = (uint64_t) jobs;
    ts_msg_t *reply = self->reply;
    for (size_t i = 0; i < ids->n; i++)
        if (ts_msg_add_job (reply, 0)) {
            ts_msg_set_error (reply, 500, "internal", "out of memory");
            return;
        }
    int rc = ts_queue_holders (self->queue, (const char *const *) ids->items,
                               ids->n, reply->jobs, err);
    if (rc)
        s_queue_error (self, rc, err);
}

//  "job_state": where each job asked about is. A job that is no longer
//  in the queue was acked if the queue remembers the ack, else it is
//  unknown (never queued, or dead-lettered and then purged, redriven or
//  aged out, or acked before the broker restarted).
static void
s_job_state (ts_broker_t *self, const ts_msg_t *req)
{
    char err [TS_ERRLEN];
    int64_t now = ts_now_ms ();
    ts_msg_set_ok (self->reply, 200);
    self->reply->has_states = true;
    for (size_t i = 0; i < req->jobs_n; i++) {
        uint64_t id = req->jobs [i];
        ts_job_t *job = self->job;
        ts_job_status_t status = TS_JOB_STATUS_UNKNOWN;
        int rc = ts_queue_lookup (self->queue, id, job, err);
        if (rc == TS_ENOTFOUND) {
            rc = 0;
            status = ts_queue_acked (self->queue, id)? TS_JOB_STATUS_DONE
                                                     : TS_JOB_STATUS_UNKNOWN;
            job->receives = 0;
            job->error [0] = 0;
        }
        else
        if (rc == 0)
            status = job->state == TS_JOB_LEASED? TS_JOB_STATUS_LEASED
                   : job->state == TS_JOB_DEAD? TS_JOB_STATUS_DEAD
                   : job->visible_at_ms > now? TS_JOB_STATUS_DELAYED
                   : TS_JOB_STATUS_QUEUED;
        if (rc == 0)
            rc = ts_msg_add_state (self->reply, id, status, job->receives,
                                   job->error);
        if (rc == TS_ENOMEM) {
            ts_msg_set_error (self->reply, 500, "internal", "out of memory");
            return;
        }
        if (rc) {
            s_queue_error (self, rc, err);
            return;
        }
    }
}

int
ts_broker_stats (ts_broker_t *self, ts_msg_t *reply, char *err)
{
    ts_queue_stats_t qs;
    int rc = ts_queue_stats (self->queue, ts_now_ms (), &qs, err);
    if (rc != 0) {
        ts_msg_set_error (reply, 500, "internal", err);
        return rc;
    }
    ts_msg_set_ok (reply, 200);
    ts_stats_t *stats = &reply->stats;
    reply->has_stats = true;
    stats->queued = qs.queued;
    stats->delayed = qs.delayed;
    stats->leased = qs.leased;
    stats->dlq = qs.dlq;
    stats->done = qs.done;
    stats->failed = qs.failed;
    stats->retried = qs.retried;
    stats->dead_lettered = qs.dead_lettered;
    stats->oldest_age_ms = qs.oldest_age_ms;
    stats->has_staleness = self->has_staleness;
    stats->staleness = self->staleness;
    for (ts_broker_worker_t *w = zhashx_first (self->workers); w && rc == 0;
         w = zhashx_next (self->workers))
        rc = ts_msg_add_worker (reply, w->key, w->credit, w->leased);
    if (rc != 0) {
        ts_errf (err, "%s", ts_strerror (rc));
        ts_msg_set_error (reply, 500, "internal", err);
    }
    return rc;
}

static void
s_stats (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    int rc = ts_broker_stats (self, self->reply, err);
    if (rc == TS_EBACKEND)
        ts_error ("control: %s", err);
}

static int
s_add_dlq (const ts_job_t *job, void *arg)
{
    ts_msg_t *reply = arg;
    if (reply->dlq_n >= DLQ_LS_MAX)
        return 1;                   //  enough: stop
    return ts_msg_add_dlq (reply, job->id, job->ids, job->receives,
                           job->dead_at_ms, job->error);
}

static void
s_dlq_ls (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    ts_msg_set_ok (self->reply, 200);
    self->reply->has_dlq = true;
    int rc = ts_queue_dlq_each (self->queue, s_add_dlq, self->reply, err);
    if (rc < 0)
        s_queue_error (self, rc, err);
}

//  "dlq_redrive": the dead jobs holding one of the ids, the jobs named by
//  number, or every dead job.
static void
s_dlq_redrive (ts_broker_t *self, const ts_msg_t *req, const char *rid)
{
    char err [TS_ERRLEN];
    const ts_strlist_t *ids = req->ids;
    int jobs = req->jobs_n
             ? ts_queue_dlq_redrive_jobs (self->queue, req->jobs, req->jobs_n,
                                          ts_now_ms (), err)
             : ts_queue_dlq_redrive (self->queue,
                                     (const char *const *) ids->items,
                                     ids->n, ts_now_ms (), err);
    if (jobs < 0) {
        s_queue_error (self, jobs, err);
        return;
    }
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_INT ("jobs", jobs),
               TS_LF_OPT ("rid", rid)), "dlq redrive (%s): %d jobs queued",
               req->jobs_n? "by job": ids->n? "by id": "all", jobs);
    ts_msg_set_ok (self->reply, 200);
    self->reply->count = (uint64_t) jobs;
}

static void
s_dlq_purge (ts_broker_t *self, const char *rid)
{
    char err [TS_ERRLEN];
    int purged = ts_queue_dlq_purge (self->queue, err);
    if (purged < 0) {
        s_queue_error (self, purged, err);
        return;
    }
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_INT ("jobs", purged),
               TS_LF_OPT ("rid", rid)), "dlq purge: %d jobs deleted",
               purged);
    ts_msg_set_ok (self->reply, 200);
    self->reply->count = (uint64_t) purged;
}

//  One request on the control socket: [envelope][body] as a REQ or a
//  DEALER with a delimiter sends it, or [routing id][body] from a DEALER
//  without one; answered with the same envelope (ts_envelope).
void
ts_broker_control_message (ts_broker_t *self, zmsg_t *zmsg)
{
    zmsg_t *envelope;
    char err [TS_ERRLEN];
    int rc = ts_envelope_split (zmsg, true, &envelope, err);
    if (!envelope)
        return;                     //  out of memory
    if (rc != 0) {
        ts_msg_set_error (self->reply, 400, "bad_request", err);
        s_reply (self, &envelope);
        return;
    }
    zframe_t *body = zmsg_first (zmsg);
    rc = ts_msg_decode_in (self->msg, TS_DIALOGUE_CLIENT, zframe_data (body),
                           zframe_size (body), TS_PROTO_MAX_REQUEST, err);
    ts_op_t op = rc == 0? self->msg->op: TS_OP_REPLY;
    if (rc != 0) {
        ts_debug ("control: bad request: %s", err);
        if (rc == TS_ETOOBIG)
            ts_msg_set_error (self->reply, 413, "too_big", err);
        else
        if (rc == TS_EDIALOGUE)
            ts_msg_set_error (self->reply, 400, TS_PROTO_NOT_CLIENT_OP, err);
        else
            ts_msg_set_error (self->reply, 400, "bad_request", err);
    }
    else
    if (op == TS_OP_HYDRATE)
        s_hydrate (self, self->msg);
    else
    if (op == TS_OP_PING)
        ts_msg_set_ok (self->reply, 200);
    else
    if (op == TS_OP_STATS)
        s_stats (self);
    else
    if (op == TS_OP_DLQ_LS)
        s_dlq_ls (self);
    else
    if (op == TS_OP_DLQ_REDRIVE)
        s_dlq_redrive (self, self->msg, self->msg->rid);
    else
    if (op == TS_OP_DLQ_PURGE)
        s_dlq_purge (self, self->msg->rid);
    else
    if (op == TS_OP_JOB_STATE)
        s_job_state (self, self->msg);
    else {
        ts_errf (err, "op '%s' is not served by the broker",
                 ts_op_name (op));
        ts_msg_set_error (self->reply, 400, "bad_request", err);
    }
    //  The reply echoes the request's id; every request gets a line.
    if (rc == 0)
        ts_strlcpy (self->reply->rid, self->msg->rid,
                    sizeof self->reply->rid);
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("op", ts_op_name (op)),
               TS_LF_INT ("status", self->reply->status),
               TS_LF_OPT ("rid", self->reply->rid)), "control request");
    s_reply (self, &envelope);
}
