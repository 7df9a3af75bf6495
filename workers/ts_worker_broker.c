/*  ts_worker_broker - the worker's side of the worker dialogue
    (docs/protocol.md): the DEALER to the broker and its reconnect, ready
    and release, heartbeats both ways, reading the socket, and the "done"
    reports remembered until a heartbeat of the same broker process
    confirms them, resent after a reconnect or to a restarted broker (the
    reasons are in ts_worker.c's opening comment). Part of ts_worker
    (ts_worker_internal.h): jobs that arrive go to ts_worker_jobs.c; when
    to reconnect and beat is the loop's (ts_worker.c). */

#include "ts_worker_internal.h"
#include "ts_log.h"

#define MAX_MSG_BYTES   (4 * TS_PROTO_MAX_REQUEST)
#define REPORT_CONFIRM_MS (2 * HEARTBEAT_MS)  //  heard after: delivered

void
ts_worker_broker_send (ts_worker_t *self, const ts_msg_t *msg)
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
void
ts_worker_broker_remember (ts_worker_t *self, uint64_t job)
{
    if (self->reports_n == REPORTS_MAX) {
        self->reports_head = (self->reports_head + 1) % REPORTS_MAX;
        self->reports_n--;
    }
    ts_worker_report_t *report =
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
            ts_worker_broker_resend (self);
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
void
ts_worker_broker_resend (ts_worker_t *self)
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
        ts_worker_broker_send (self, self->out);
        ts_worker_broker_remember (self, job);
    }
}

void
ts_worker_broker_ready (ts_worker_t *self, size_t credit)
{
    ts_msg_reset (self->out, TS_OP_READY);
    self->out->credit = (uint32_t) credit;
    ts_worker_broker_send (self, self->out);
}

//  (Re)creates the DEALER and introduces the worker with a ready for its
//  free slots, even none: the broker ignores reports from a peer that
//  has not sent ready, and the resent "done" reports follow at once.
int
ts_worker_broker_connect (ts_worker_t *self, char *err)
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
    ts_worker_broker_ready (self, self->draining
                                  ? 0: self->concurrency - self->busy);
    return 0;
}

//  Hands the n jobs back to the broker (docs/protocol.md 5.19); with
//  none it says only "no more jobs". The broker queues them again at
//  once.
void
ts_worker_broker_release (ts_worker_t *self, const uint64_t *jobs,
                          size_t n)
{
    ts_msg_reset (self->out, TS_OP_RELEASE);
    for (size_t i = 0; i < n; i++)
        if (ts_msg_add_job (self->out, jobs [i])) {
            ts_error ("cannot hand jobs back: out of memory");
            return;
        }
    ts_worker_broker_send (self, self->out);
}

//  ---------------------------------------------------------------------
//  Reading the socket

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
        ts_worker_job_start (self, self->msg);
    else
    if (self->msg->op == TS_OP_HEARTBEAT)
        s_broker_heartbeat (self, self->msg->boot);
    else
        ts_debug ("unexpected op '%s' from broker: ignored",
                  ts_op_name (self->msg->op));
}

//  Reads every waiting message; single-frame messages only.
void
ts_worker_broker_read (ts_worker_t *self)
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
