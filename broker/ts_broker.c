/*  ts_broker - scheduler, control socket and worker dialogue of
    tscache-broker. See ts_broker.h for the behaviour, docs/protocol.md
    for the messages and docs/architecture.md for the job flow.

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

    The control socket answers each request with its whole envelope
    (ts_envelope): a REQ client, a DEALER that puts frames of its own
    before the delimiter (the gateway's correlation ids) and a DEALER
    without a delimiter all get their reply routed back.

    Jobs live in the durable queue (ts_queue), which is told the wall
    clock; heartbeats use the monotonic clock. The queue is called in
    batches, one backend transaction each: a dispatch leases the credit
    of every worker in one call, and the dones of one wake are acked in
    one call (before any failed report or control request of that wake
    is handled, so the order of reports is kept). Every loop wake ends with
    one ts_queue_sync if anything was written (group commit), then asks
    the queue when it next needs the broker: the poll timeout is the
    earliest of the next heartbeat, lease deadline, retry becoming
    visible and cron tick. */

#include "ts_broker.h"
#include "ts_envelope.h"
#include "ts_queue.h"
#include "ts_cron.h"
#include "ts_log.h"
#include "ts_proto.h"
#include "ts_store.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS    1000        //  heartbeat and housekeeping period
#define WORKER_DEAD_MS  5000        //  silence after which a worker is lost
#define CREDIT_MAX      1024        //  most credit one worker may hold
#define DRAIN_MAX       256         //  messages read per socket per wake
#define DLQ_LS_MAX      TS_PROTO_MAX_DLQ    //  entries in one dlq_ls reply
#define TICK_PAGE       1000        //  ids read from the store at a time
                                    //  by a tick (rounded to whole jobs)
#define MAX_MSG_BYTES   (4 * TS_PROTO_MAX_REQUEST)  //  transport cap
#define LOG_PERIOD_MS   10000       //  rate limit of warnings peers cause:
#define LOG_LINES       5           //  lines per period, per kind
#define NO_DETAIL       "worker gave no detail"   //  failed without one
#define LEASE_MAX       1024        //  jobs leased in one queue call

typedef struct {
    byte      rid [256];            //  routing id
    size_t    rid_len;
    char      key [512];            //  rid as hex: owner tag, log name
    uint32_t  credit;               //  jobs it can take now
    uint32_t  leased;               //  jobs it holds (for stats)
    int64_t   last_seen_ms;         //  monotonic, any message
    uint64_t  last_job_seq;         //  dispatch order, for round-robin
} s_worker_t;

struct _ts_broker_t {
    const ts_config_t *cfg;         //  borrowed
    zsock_t    *workers_sock;       //  ROUTER, DEALER workers
    zsock_t    *control;            //  ROUTER, REQ clients
    zpoller_t  *poller;             //  both sockets
    ts_queue_t *queue;              //  jobs, durable
    ts_job_t   *job;                //  scratch: job a queue call reports
    ts_job_t   *leased [LEASE_MAX]; //  scratch: jobs of one lease call
    ts_queue_grant_t *grants;       //  scratch: workers with credit
    size_t      grants_cap;
    uint64_t    dones [DRAIN_MAX];  //  done job ids not acked yet
    char        done_keys [DRAIN_MAX][512];     //  and who reported them
    ts_job_t   *acked [DRAIN_MAX];  //  scratch: jobs of one ack call
    int         ack_rcs [DRAIN_MAX];
    size_t      dones_n;
    int64_t     next_queue_ms;      //  wall clock the queue needs us, -1
    ts_store_t *store;              //  registry; NULL if no scheduler
    bool        cron_on;            //  scheduler enabled
    ts_cron_t   cron;               //  broker.schedule
    int64_t     next_tick_ms;       //  wall clock of next tick, -1 none
    size_t      ids_per_job;        //  broker.ids_per_job
    zhashx_t   *workers;            //  key -> s_worker_t, owned
    uint64_t    job_seq;            //  jobs dispatched so far
    int64_t     next_beat_ms;       //  monotonic time of housekeeping
    ts_msg_t   *msg;                //  scratch: decoded request
    ts_msg_t   *reply;              //  scratch: outgoing message
    char       *beat;               //  encoded heartbeat
    size_t      beat_size;
    ts_log_limit_t stranger_log;    //  reports from peers not introduced
    ts_log_limit_t invalid_log;     //  invalid worker messages
};

static void
s_worker_destructor (void **item)
{
    free (*item);
    *item = NULL;
}

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

//  A random non-zero id for this broker process.
static uint64_t
s_boot_id (void)
{
    uint64_t id = 0;
    if (getrandom (&id, sizeof id, 0) != (ssize_t) sizeof id)
        id = 0;
    if (id == 0) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        id = ((uint64_t) ts.tv_sec << 32) ^ (uint64_t) ts.tv_nsec
           ^ ((uint64_t) getpid () << 16);
    }
    return id? id: 1;
}

static zsock_t *
s_bind_router (const char *key, const char *endpoint, bool mandatory,
               char *err)
{
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        ts_errf (err, "%s: cannot create socket", key);
        return NULL;
    }
    if (mandatory)
        zsock_set_router_mandatory (sock, 1);
    zsock_set_maxmsgsize (sock, MAX_MSG_BYTES);
    zsock_set_linger (sock, 0);
    if (zsock_bind (sock, "%s", endpoint) == -1) {
        ts_errf (err, "%s: cannot bind %s: %s", key, endpoint,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

ts_broker_t *
ts_broker_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    ts_broker_t *self = calloc (1, sizeof (ts_broker_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    self->stranger_log = (ts_log_limit_t) TS_LOG_LIMIT (LOG_PERIOD_MS,
                                                        LOG_LINES);
    self->invalid_log = (ts_log_limit_t) TS_LOG_LIMIT (LOG_PERIOD_MS,
                                                       LOG_LINES);
    self->ids_per_job = (size_t) ts_config_int (cfg, "broker.ids_per_job");
    self->next_tick_ms = -1;
    const char *schedule = ts_config_str (cfg, "broker.schedule");
    self->cron_on = *schedule && strcmp (schedule, "off") != 0;
    if (self->cron_on) {
        char detail [TS_ERRLEN];
        if (ts_cron_parse (&self->cron, schedule, detail) != 0) {
            ts_errf (err, "broker.schedule: %s", detail);
            goto fail;
        }
        self->store = ts_store_new (cfg, err);
        if (!self->store)
            goto fail;
        self->next_tick_ms = ts_cron_next (&self->cron, ts_now_ms ());
    }
    self->workers = zhashx_new ();
    self->job = ts_job_new ();
    bool jobs_ok = self->job != NULL;
    for (size_t i = 0; i < LEASE_MAX; i++)
        jobs_ok = jobs_ok && (self->leased [i] = ts_job_new ());
    for (size_t i = 0; i < DRAIN_MAX; i++)
        jobs_ok = jobs_ok && (self->acked [i] = ts_job_new ());
    self->msg = ts_msg_new (TS_OP_REPLY);
    self->reply = ts_msg_new (TS_OP_REPLY);
    //  Heartbeats name this process (boot), so a worker can tell a
    //  restarted broker from the one its reports went to.
    ts_msg_t *beat = ts_msg_new (TS_OP_HEARTBEAT);
    if (beat)
        beat->boot = s_boot_id ();
    int rc = beat? ts_msg_encode (beat, &self->beat, &self->beat_size)
                 : TS_ENOMEM;
    ts_msg_destroy (&beat);
    if (!self->workers || !jobs_ok || !self->msg || !self->reply
    ||  rc != 0) {
        ts_errf (err, "out of memory");
        goto fail;
    }
    zhashx_set_destructor (self->workers, s_worker_destructor);

    self->workers_sock = s_bind_router ("broker.worker_bind",
        ts_config_str (cfg, "broker.worker_bind"), true, err);
    if (!self->workers_sock)
        goto fail;
    self->control = s_bind_router ("broker.control_bind",
        ts_config_str (cfg, "broker.control_bind"), false, err);
    if (!self->control)
        goto fail;
    self->poller = zpoller_new (self->workers_sock, self->control, NULL);
    if (!self->poller) {
        ts_errf (err, "cannot create poller");
        goto fail;
    }
    //  After the binds: a second broker on the same ports fails there,
    //  before it could touch the queue of the first.
    self->queue = ts_queue_new (cfg, ts_now_ms (), err);
    if (!self->queue)
        goto fail;
    self->next_queue_ms = ts_queue_next_wakeup (self->queue, ts_now_ms ());
    self->next_beat_ms = ts_mono_ms () + HEARTBEAT_MS;
    return self;
fail:
    ts_broker_destroy (&self);
    return NULL;
}

void
ts_broker_destroy (ts_broker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_broker_t *self = *self_p;
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->control);
        zsock_destroy (&self->workers_sock);
        zhashx_destroy (&self->workers);
        ts_queue_destroy (&self->queue);
        ts_job_destroy (&self->job);
        for (size_t i = 0; i < LEASE_MAX; i++)
            ts_job_destroy (&self->leased [i]);
        for (size_t i = 0; i < DRAIN_MAX; i++)
            ts_job_destroy (&self->acked [i]);
        free (self->grants);
        ts_store_destroy (&self->store);
        ts_msg_destroy (&self->msg);
        ts_msg_destroy (&self->reply);
        free (self->beat);
        free (self);
        *self_p = NULL;
    }
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

static int
s_send_msg (zsock_t *sock, const byte *rid, size_t rid_len,
            const ts_msg_t *msg)
{
    char *data;
    size_t size;
    if (ts_msg_encode (msg, &data, &size) != 0)
        return ENOMEM;
    int rc = s_send (sock, rid, rid_len, data, size);
    free (data);
    return rc;
}

//  ---------------------------------------------------------------------
//  Workers and job reports

//  The job's owner no longer holds it: one lease less in its stats.
static void
s_owner_lost (ts_broker_t *self, const ts_job_t *job)
{
    s_worker_t *owner = *job->owner? zhashx_lookup (self->workers,
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
        ts_warn ("job %" PRIu64 " ids=%s moved to the DLQ after %u "
                 "receives: %s", job->id, ids, job->receives, job->error);
    else {
        int64_t delay = job->visible_at_ms - now_ms;
        ts_info ("job %" PRIu64 " ids=%s failed (receive %u): %s; retry in "
                 "%" PRId64 " ms", job->id, ids, job->receives, job->error,
                 delay > 0? delay: 0);
    }
}

//  ts_queue_report_fn for expired leases and lost workers.
static void
s_report_move (const ts_job_t *job, void *arg)
{
    ts_broker_t *self = arg;
    s_owner_lost (self, job);
    s_log_failure (job, job->visible_at_ms);
}

static void
s_worker_forget (ts_broker_t *self, s_worker_t *worker, const char *why)
{
    char err [TS_ERRLEN];
    int jobs = ts_queue_release_owner (self->queue, worker->key, ts_now_ms (),
                                       s_report_move, self, err);
    if (jobs < 0)
        ts_error ("worker %s lost (%s): cannot requeue its jobs: %s",
                  worker->key, why, err);
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
    for (s_worker_t *w = zhashx_first (self->workers); w;
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
        s_worker_t *worker = zhashx_lookup (self->workers, job->owner);
        int rc = 0;
        ts_msg_reset (self->reply, TS_OP_JOB);
        self->reply->job = job->id;
        for (size_t k = 0; k < job->ids->n && rc == 0; k++)
            rc = ts_strlist_append (self->reply->ids, job->ids->items [k]);
        if (rc == 0 && worker)
            rc = s_send_msg (self->workers_sock, worker->rid,
                             worker->rid_len, self->reply);
        if (rc == 0 && worker) {
            worker->credit--;
            worker->leased++;
            worker->last_job_seq = ++self->job_seq;
            ts_debug ("job %" PRIu64 " -> worker %s (%zu ids, receive %u)",
                      job->id, worker->key, job->ids->n, job->receives);
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
//  the least recently served on ties, leased in one queue call.
static void
s_dispatch (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    while (true) {
        size_t total = 0;
        size_t n = s_grants (self, &total);
        if (n == 0)
            return;
        size_t max = total < LEASE_MAX? total: LEASE_MAX;
        int got = ts_queue_lease_many (self->queue, self->grants, n,
                                       ts_now_ms (), self->leased, max, err);
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
static void
s_flush_dones (ts_broker_t *self)
{
    size_t n = self->dones_n;
    if (n == 0)
        return;
    self->dones_n = 0;
    char err [TS_ERRLEN];
    int rc = ts_queue_ack_many (self->queue, self->dones, n, self->acked,
                                self->ack_rcs, err);
    for (size_t i = 0; i < n; i++) {
        uint64_t job_id = self->dones [i];
        const char *key = self->done_keys [i];
        if (rc < 0)
            ts_error ("done for job %" PRIu64 ": %s", job_id, err);
        else
        if (self->ack_rcs [i] == 0) {
            if (self->acked [i]->state == TS_JOB_LEASED)
                s_owner_lost (self, self->acked [i]);
            ts_debug ("job %" PRIu64 " done by worker %s", job_id, key);
        }
        else
            ts_debug ("done for job %" PRIu64 " from worker %s: not queued "
                      "or leased: ignored", job_id, key);
    }
}

//  "done": acked by job id, whoever reports it, with the other dones of
//  this wake (s_flush_dones).
static void
s_done (ts_broker_t *self, const char *key, uint64_t job_id)
{
    if (self->dones_n == DRAIN_MAX)
        s_flush_dones (self);
    ts_strlcpy (self->done_keys [self->dones_n], key, 512);
    self->dones [self->dones_n++] = job_id;
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
    s_flush_dones (self);           //  reports in the order they came
    int rc = ts_queue_nack (self->queue, msg->job, detail, msg->retry,
                            retry_after, now, self->job, err);
    if (rc == 0) {
        s_owner_lost (self, self->job);
        s_log_failure (self->job, now);
    }
    else
    if (rc == TS_ENOTFOUND)
        ts_debug ("failed for job %" PRIu64 " from worker %s: %s: ignored",
                  msg->job, key, err);
    else
        ts_error ("failed for job %" PRIu64 ": %s", msg->job, err);
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
static s_worker_t *
s_worker_new (ts_broker_t *self, zframe_t *rid, const char *key)
{
    s_worker_t *worker = calloc (1, sizeof (s_worker_t));
    if (!worker) {
        ts_error ("worker %s: out of memory", key);
        return NULL;
    }
    memcpy (worker->rid, zframe_data (rid), zframe_size (rid));
    worker->rid_len = zframe_size (rid);
    ts_strlcpy (worker->key, key, sizeof worker->key);
    zhashx_insert (self->workers, key, worker);
    ts_info ("worker %s connected", key);
    return worker;
}

//  One message from a worker: [routing id][body]. The first ready
//  introduces a peer; anything else from a peer not introduced is
//  ignored, so is an invalid message: both with a rate-limited warning.
static void
s_worker_message (ts_broker_t *self, zmsg_t *zmsg)
{
    zframe_t *rid = zmsg_first (zmsg);
    zframe_t *body = zmsg_next (zmsg);
    char key [512];
    s_hex (zframe_data (rid), zframe_size (rid), key, sizeof key);
    if (!body || zmsg_size (zmsg) != 2) {
        ts_log_limited (&self->invalid_log, TS_LOG_WARN, "worker %s: "
                        "message of %zu frames, expected 1: ignored", key,
                        zmsg_size (zmsg) - 1);
        return;
    }
    char err [TS_ERRLEN];
    //  Only the worker dialogue: a client's request or a reply here is
    //  refused by the decoder, unread.
    int rc = ts_msg_decode_in (self->msg, TS_DIALOGUE_WORKER,
                               zframe_data (body), zframe_size (body),
                               TS_PROTO_MAX_REQUEST, err);
    if (rc != 0) {
        ts_log_limited (&self->invalid_log, TS_LOG_WARN, "worker %s: %s%s: "
                        "ignored", key, rc == TS_EDIALOGUE? "":
                        "invalid message: ", err);
        return;
    }
    ts_msg_t *msg = self->msg;
    s_worker_t *worker = zhashx_lookup (self->workers, key);
    if (!worker && msg->op != TS_OP_READY) {
        s_stranger (self, key, msg);
        return;
    }
    if (!worker && !(worker = s_worker_new (self, rid, key)))
        return;
    worker->last_seen_ms = ts_mono_ms ();
    if (msg->op == TS_OP_READY) {
        uint64_t credit = (uint64_t) worker->credit + msg->credit;
        worker->credit = credit > CREDIT_MAX? CREDIT_MAX: (uint32_t) credit;
        ts_debug ("worker %s ready +%u credit=%u", key, msg->credit,
                  worker->credit);
    }
    else
    if (msg->op == TS_OP_DONE)
        s_done (self, key, msg->job);
    else
    if (msg->op == TS_OP_FAILED)
        s_failed (self, key, msg);
}

//  ---------------------------------------------------------------------
//  Control

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
static int
s_enqueue (ts_broker_t *self, const ts_strlist_t *ids, char *err)
{
    int jobs = 0;
    for (size_t i = 0; i < ids->n; i += self->ids_per_job) {
        size_t n = ids->n - i < self->ids_per_job? ids->n - i
                                                 : self->ids_per_job;
        int rc = ts_queue_push (self->queue, (const char *const *)
                                ids->items + i, n, ts_now_ms (), NULL, err);
        if (rc < 0)
            return rc;
        if (rc > 0)
            jobs++;
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

//  "hydrate": queues the ids and answers 202 with the number of jobs
//  queued and, for each id, the job that will fetch it (a new one, or
//  the queued or leased job it already was in).
static void
s_hydrate (ts_broker_t *self, const ts_strlist_t *ids)
{
    char err [TS_ERRLEN];
    int jobs = s_enqueue (self, ids, err);
    if (jobs < 0) {
        s_queue_error (self, jobs, err);
        return;
    }
    ts_info ("hydrate: %zu ids, %d jobs queued", ids->n, jobs);
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

static void
s_stats (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    ts_queue_stats_t qs;
    int rc = ts_queue_stats (self->queue, ts_now_ms (), &qs, err);
    if (rc != 0) {
        s_queue_error (self, rc, err);
        return;
    }
    ts_msg_set_ok (self->reply, 200);
    ts_stats_t *stats = &self->reply->stats;
    self->reply->has_stats = true;
    stats->queued = qs.queued;
    stats->delayed = qs.delayed;
    stats->leased = qs.leased;
    stats->dlq = qs.dlq;
    stats->done = qs.done;
    stats->failed = qs.failed;
    stats->retried = qs.retried;
    stats->dead_lettered = qs.dead_lettered;
    stats->oldest_age_ms = qs.oldest_age_ms;
    for (s_worker_t *w = zhashx_first (self->workers); w && rc == 0;
         w = zhashx_next (self->workers))
        rc = ts_msg_add_worker (self->reply, w->key, w->credit, w->leased);
    if (rc != 0)
        ts_msg_set_error (self->reply, 500, "internal", ts_strerror (rc));
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

static void
s_dlq_redrive (ts_broker_t *self, const ts_strlist_t *ids)
{
    char err [TS_ERRLEN];
    int jobs = ts_queue_dlq_redrive (self->queue,
                                     (const char *const *) ids->items,
                                     ids->n, ts_now_ms (), err);
    if (jobs < 0) {
        s_queue_error (self, jobs, err);
        return;
    }
    ts_info ("dlq redrive (%s): %d jobs queued", ids->n? "by id": "all",
             jobs);
    ts_msg_set_ok (self->reply, 200);
    self->reply->count = (uint64_t) jobs;
}

static void
s_dlq_purge (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    int purged = ts_queue_dlq_purge (self->queue, err);
    if (purged < 0) {
        s_queue_error (self, purged, err);
        return;
    }
    ts_info ("dlq purge: %d jobs deleted", purged);
    ts_msg_set_ok (self->reply, 200);
    self->reply->count = (uint64_t) purged;
}

//  One request on the control socket: [envelope][body] as a REQ or a
//  DEALER with a delimiter sends it, or [routing id][body] from a DEALER
//  without one; answered with the same envelope (ts_envelope).
static void
s_control_message (ts_broker_t *self, zmsg_t *zmsg)
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
        s_hydrate (self, self->msg->ids);
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
        s_dlq_redrive (self, self->msg->ids);
    else
    if (op == TS_OP_DLQ_PURGE)
        s_dlq_purge (self);
    else
    if (op == TS_OP_JOB_STATE)
        s_job_state (self, self->msg);
    else {
        ts_errf (err, "op '%s' is not served by the broker",
                 ts_op_name (op));
        ts_msg_set_error (self->reply, 400, "bad_request", err);
    }
    s_reply (self, &envelope);
}

//  Reads what is waiting on sock, at most DRAIN_MAX messages.
static void
s_drain (ts_broker_t *self, zsock_t *sock,
         void (*handle) (ts_broker_t *, zmsg_t *))
{
    for (int i = 0; i < DRAIN_MAX && (zsock_events (sock) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (sock);
        if (!zmsg)
            return;
        if (zmsg_size (zmsg) > 0)
            handle (self, zmsg);
        zmsg_destroy (&zmsg);
    }
}

//  ---------------------------------------------------------------------
//  Timers

//  Queues every registered id, reading the registry a page at a time so
//  that neither the read nor the memory grows with the registry.
static void
s_tick (ts_broker_t *self)
{
    ts_strlist_t *ids = ts_strlist_new ();
    char err [TS_ERRLEN];
    if (!ids) {
        ts_error ("tick: cannot list ids: out of memory");
        return;
    }
    size_t page = self->ids_per_job >= TICK_PAGE? self->ids_per_job
                : TICK_PAGE / self->ids_per_job * self->ids_per_job;
    char after [TS_NAME_MAX + 1] = "";
    size_t total = 0;
    int jobs = 0;
    bool more = true;
    while (more) {
        ts_strlist_clear (ids);
        if (ts_store_ids_page (self->store, after, page, ids, &more, err)) {
            ts_error ("tick: cannot list ids after '%s': %s", after, err);
            break;
        }
        int queued = s_enqueue (self, ids, err);
        if (queued < 0) {
            ts_error ("tick: cannot queue jobs: %s", err);
            break;
        }
        jobs += queued;
        total += ids->n;
        if (ids->n)
            ts_strlcpy (after, ids->items [ids->n - 1], sizeof after);
    }
    ts_info ("tick: %zu ids, %d jobs queued", total, jobs);
    ts_strlist_destroy (&ids);
}

//  Heartbeats to workers; forgets the silent and the unreachable.
static void
s_heartbeat (ts_broker_t *self, int64_t now)
{
    //  Collect first: forgetting a worker changes the table.
    zlistx_t *lost = zlistx_new ();
    if (!lost)
        return;
    for (s_worker_t *w = zhashx_first (self->workers); w;
         w = zhashx_next (self->workers)) {
        if (now - w->last_seen_ms > WORKER_DEAD_MS
        ||  s_send (self->workers_sock, w->rid, w->rid_len, self->beat,
                    self->beat_size) == EHOSTUNREACH)
            zlistx_add_end (lost, w);
    }
    for (s_worker_t *w = zlistx_first (lost); w; w = zlistx_next (lost))
        s_worker_forget (self, w, now - w->last_seen_ms > WORKER_DEAD_MS
                                  ? "silent": "unreachable");
    zlistx_destroy (&lost);
}

//  Ends leases past their deadline and ages out the DLQ.
static void
s_expire (ts_broker_t *self)
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

static void
s_timers (ts_broker_t *self)
{
    int64_t mono = ts_mono_ms ();
    bool beat = mono >= self->next_beat_ms;
    if (beat) {
        s_heartbeat (self, mono);
        self->next_beat_ms = mono + HEARTBEAT_MS;
    }
    int64_t wall = ts_now_ms ();
    if (beat || (self->next_queue_ms >= 0 && wall >= self->next_queue_ms))
        s_expire (self);
    if (self->cron_on && self->next_tick_ms >= 0
    &&  wall >= self->next_tick_ms) {
        s_tick (self);
        self->next_tick_ms = ts_cron_next (&self->cron, wall);
    }
}

//  Poll timeout: the next heartbeat, queue wakeup or cron tick.
static int
s_timeout (ts_broker_t *self)
{
    int64_t wait = self->next_beat_ms - ts_mono_ms ();
    int64_t wall = ts_now_ms ();
    //  At least 1 ms: a wakeup stuck in the past must not spin the loop.
    if (self->next_queue_ms >= 0 && self->next_queue_ms - wall < wait)
        wait = self->next_queue_ms - wall < 1? 1: self->next_queue_ms - wall;
    if (self->cron_on && self->next_tick_ms >= 0
    &&  self->next_tick_ms - wall < wait)
        wait = self->next_tick_ms - wall;
    return wait < 0? 0: wait > HEARTBEAT_MS? HEARTBEAT_MS: (int) wait;
}

//  Group commit: one disk flush per wake, if anything was written.
static void
s_sync (ts_broker_t *self)
{
    char err [TS_ERRLEN];
    if (ts_queue_dirty (self->queue) && ts_queue_sync (self->queue, err))
        ts_error ("cannot sync the queue: %s", err);
}

int
ts_broker_run (ts_broker_t *self)
{
    assert (self);
    ts_queue_stats_t stats;
    ts_queue_stats (self->queue, ts_now_ms (), &stats, NULL);
    ts_info ("broker up: workers on %s, control on %s, schedule %s; queue "
             "(%s, %s): %" PRIu64 " queued, %" PRIu64 " delayed, %" PRIu64
             " leased, %" PRIu64 " in the DLQ",
             ts_config_str (self->cfg, "broker.worker_bind"),
             ts_config_str (self->cfg, "broker.control_bind"),
             self->cron_on? ts_config_str (self->cfg, "broker.schedule")
                          : "off",
             ts_queue_backend (self->queue),
             ts_config_str (self->cfg, "broker.queue_path"),
             stats.queued, stats.delayed, stats.leased, stats.dlq);
    while (!zsys_interrupted) {
        zpoller_wait (self->poller, s_timeout (self));
        if (zpoller_terminated (self->poller))
            break;
        s_drain (self, self->workers_sock, s_worker_message);
        s_flush_dones (self);
        s_drain (self, self->control, s_control_message);
        s_timers (self);
        s_dispatch (self);
        //  Before the sync: it may write too (after a clock step).
        self->next_queue_ms = ts_queue_next_wakeup (self->queue,
                                                    ts_now_ms ());
        s_sync (self);
    }
    ts_queue_stats (self->queue, ts_now_ms (), &stats, NULL);
    ts_info ("broker stopping: %" PRIu64 " queued, %" PRIu64 " delayed, %"
             PRIu64 " leased, %" PRIu64 " in the DLQ; since start %" PRIu64
             " done, %" PRIu64 " failed, %" PRIu64 " retried, %" PRIu64
             " dead-lettered", stats.queued, stats.delayed, stats.leased,
             stats.dlq, stats.done, stats.failed, stats.retried,
             stats.dead_lettered);
    return 0;
}
