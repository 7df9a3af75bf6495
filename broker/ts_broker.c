/*  ts_broker - the broker's reactor: setup and teardown, the poll loop,
    the timers. See ts_broker.h for the behaviour, docs/protocol.md for
    the messages and docs/architecture.md for the job flow; the worker
    dialogue is in ts_broker_workers.c, the control dialogue in
    ts_broker_control.c, the scheduler in ts_broker_schedule.c
    (ts_broker_internal.h).

    Each wake reads the worker socket (the dones of the wake are acked in one
    queue call before any control request is handled, so the order of reports
    is kept), then the control socket, runs the timers that are due and
    dispatches. The queue's changes are flushed to disk (ts_queue_sync) at
    most broker.queue_sync_ms after the first of them (group commit over
    wakes; 0: at the end of each wake that wrote). Then the broker asks the
    queue when it next needs the broker: the poll timeout is the earliest of
    the next heartbeat, lease deadline, retry becoming visible, tick of a
    schedule and the pending sync. Jobs live in the durable queue (ts_queue),
    which is told the wall clock; heartbeats use the monotonic clock. */

#include "ts_broker_internal.h"
#include "ts_daemon.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS    1000        //  heartbeat and housekeeping period
#define MAX_MSG_BYTES   (4 * TS_PROTO_MAX_REQUEST)  //  transport cap
#define LOG_PERIOD_MS   10000       //  rate limit of warnings peers cause:
#define LOG_LINES       5           //  lines per period, per kind

static void
s_worker_destructor (void **item)
{
    free (*item);
    *item = NULL;
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

//  A ROUTER on the endpoint of config key, a CURVE server of ZAP domain
//  (unless in plain mode).
static zsock_t *
s_bind_router (ts_broker_t *self, const char *key, const char *domain,
               bool mandatory, char *err)
{
    const char *endpoint = ts_config_str (self->cfg, key);
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    if (!sock) {
        ts_errf (err, "%s: cannot create socket", key);
        return NULL;
    }
    if (mandatory)
        zsock_set_router_mandatory (sock, 1);
    zsock_set_maxmsgsize (sock, MAX_MSG_BYTES);
    zsock_set_linger (sock, 0);
    ts_curve_check_bind (self->curve, key);
    if (ts_curve_server (self->curve, sock, "security.broker_cert", domain,
                         err)) {
        zsock_destroy (&sock);
        return NULL;
    }
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
    for (size_t i = 0; i < 3; i++)
        zmq_msg_init (&self->frames [i]);
    self->stranger_log = (ts_log_limit_t) TS_LOG_LIMIT (LOG_PERIOD_MS,
                                                        LOG_LINES);
    self->invalid_log = (ts_log_limit_t) TS_LOG_LIMIT (LOG_PERIOD_MS,
                                                       LOG_LINES);
    self->sync_log = (ts_log_limit_t) TS_LOG_LIMIT (LOG_PERIOD_MS,
                                                    LOG_LINES);
    self->ids_per_job = (size_t) ts_config_int (cfg, "broker.ids_per_job");
    self->sync_ms = ts_config_int (cfg, "broker.queue_sync_ms");
    self->sync_due_ms = -1;
    //  The schedules open the registry, which the staleness sweep reads
    //  too; with several sources a hydrate reads each id's source in it.
    //  Without a schedule and with one source the broker opens no store,
    //  and has no staleness to show.
    if (ts_broker_schedule_open (self, err))
        goto fail;
    if (!self->store && ts_config_source_count (cfg) > 1
    &&  !(self->store = ts_store_new (cfg, err)))
        goto fail;
    if (self->store && ts_broker_staleness_open (self, err))
        goto fail;
    ts_strlcpy (self->backfill_rid, "backfill-", sizeof self->backfill_rid);
    ts_rid_new (self->backfill_rid + 9);
    if (ts_broker_backfill_open (self, err))
        goto fail;
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
    self->boot = s_boot_id ();
    ts_msg_t *beat = ts_msg_new (TS_OP_HEARTBEAT);
    if (beat)
        beat->boot = self->boot;
    int rc = beat? ts_msg_encode (beat, &self->beat, &self->beat_size)
                 : TS_ENOMEM;
    ts_msg_destroy (&beat);
    if (!self->workers || !jobs_ok || !self->msg || !self->reply
    ||  rc != 0) {
        ts_errf (err, "out of memory");
        goto fail;
    }
    zhashx_set_destructor (self->workers, s_worker_destructor);

    //  Workers on their socket; gateways and admin CLIs on control and
    //  notices.
    self->curve = ts_curve_new (cfg, "tscache-broker", err);
    if (!self->curve
    ||  ts_curve_allow (self->curve, TS_ZAP_WORKERS, "security.workers_dir",
                        TS_ROLE_ADMIN, err)
    ||  ts_curve_allow (self->curve, TS_ZAP_CONTROL,
                        "security.broker_clients_dir", TS_ROLE_ADMIN, err)
    ||  ts_curve_allow (self->curve, TS_ZAP_NOTICE,
                        "security.broker_clients_dir", TS_ROLE_ADMIN, err))
        goto fail;
    self->workers_sock = s_bind_router (self, "broker.worker_bind",
                                        TS_ZAP_WORKERS, true, err);
    if (!self->workers_sock)
        goto fail;
    self->control = s_bind_router (self, "broker.control_bind",
                                   TS_ZAP_CONTROL, false, err);
    if (!self->control)
        goto fail;
    if (ts_broker_notice_open (self, err))
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
    if (ts_broker_rate_open (self, err))
        goto fail;
    if (ts_broker_metrics_open (self, err))
        goto fail;
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
        ts_broker_metrics_close (self);
        ts_broker_rate_close (self);
        ts_broker_staleness_close (self);
        ts_broker_backfill_close (self);
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->control);
        zsock_destroy (&self->workers_sock);
        ts_broker_notice_close (self);
        ts_curve_destroy (&self->curve);
        zhashx_destroy (&self->workers);
        ts_queue_destroy (&self->queue);
        ts_job_destroy (&self->job);
        for (size_t i = 0; i < LEASE_MAX; i++)
            ts_job_destroy (&self->leased [i]);
        for (size_t i = 0; i < DRAIN_MAX; i++)
            ts_job_destroy (&self->acked [i]);
        free (self->grants);
        ts_broker_schedule_close (self);
        ts_store_destroy (&self->store);
        ts_msg_destroy (&self->msg);
        ts_msg_destroy (&self->reply);
        free (self->send_buf);
        free (self->push_jobs);
        for (size_t i = 0; i < 3; i++)
            zmq_msg_close (&self->frames [i]);
        free (self->beat);
        free (self);
        *self_p = NULL;
    }
}

//  Reads what is waiting on the control socket, at most DRAIN_MAX
//  messages.
static void
s_drain_control (ts_broker_t *self)
{
    zsock_t *sock = self->control;
    for (int i = 0; i < DRAIN_MAX && (zsock_events (sock) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (sock);
        if (!zmsg)
            return;
        if (zmsg_size (zmsg) > 0)
            ts_broker_control_message (self, zmsg);
        zmsg_destroy (&zmsg);
    }
}

//  Reads what is waiting on the worker socket, at most DRAIN_MAX
//  messages, into frames kept for the broker's life: the hot path of
//  dispatch allocates nothing here (zmsg_recv would make a message, a
//  list and a frame per part, each time; a zmq_msg_t takes a short
//  message in place and a longer one by reference to what libzmq's I/O
//  thread received).
static void
s_drain_workers (ts_broker_t *self)
{
    void *handle = zsock_resolve (self->workers_sock);
    zmq_msg_t *rid = &self->frames [0];
    zmq_msg_t *body = &self->frames [1];
    zmq_msg_t *extra = &self->frames [2];
    for (int i = 0; i < DRAIN_MAX; i++) {
        if (zmq_msg_recv (rid, handle, ZMQ_DONTWAIT) == -1)
            break;                  //  nothing more (EAGAIN) or stopping
        //  The parts of a message arrive together: no waiting below but
        //  a signal's, which is retried. A message a part of which cannot
        //  be read (the context is ending) is dropped.
        size_t frames = 0;
        bool more = zmq_msg_more (rid), whole = true;
        while (more) {
            zmq_msg_t *part = frames? extra: body;
            int rc;
            do
                rc = zmq_msg_recv (part, handle, 0);
            while (rc == -1 && zmq_errno () == EINTR);
            if (rc == -1) {
                whole = false;
                break;
            }
            frames++;
            more = zmq_msg_more (part);
        }
        if (whole)
            ts_broker_worker_message (self, zmq_msg_data (rid),
                                      zmq_msg_size (rid),
                                      frames? zmq_msg_data (body): NULL,
                                      frames? zmq_msg_size (body): 0,
                                      frames);
    }
    //  Let go of what the last message referenced: a frame taken without
    //  a copy holds libzmq's receive buffer until then.
    for (size_t i = 0; i < 3; i++) {
        zmq_msg_close (&self->frames [i]);
        zmq_msg_init (&self->frames [i]);
    }
}

//  ---------------------------------------------------------------------
//  Timers

static void
s_timers (ts_broker_t *self)
{
    int64_t mono = ts_mono_ms ();
    bool beat = mono >= self->next_beat_ms;
    if (beat) {
        ts_broker_heartbeat (self, mono);
        ts_broker_notice_beat (self);
        self->next_beat_ms = mono + HEARTBEAT_MS;
    }
    int64_t wall = ts_now_ms ();
    if (beat || (self->next_queue_ms >= 0 && wall >= self->next_queue_ms))
        ts_broker_expire (self);
    if (beat) {
        ts_broker_staleness_step (self);
        ts_broker_metrics_publish (self);
    }
    ts_broker_schedule_step (self, wall);
}

int
ts_broker_apply (ts_broker_t *self, const ts_strlist_t *applied)
{
    assert (self);
    int limits = 0;
    for (size_t i = 0; i < applied->n; i++)
        if (strncmp (applied->items [i], "upstream.rate_limit.", 20) == 0)
            limits = 1;
    if (limits)
        limits = ts_broker_rate_apply (self);
    int rc = ts_broker_schedule_apply (self, applied);
    return rc? rc: limits;
}

//  Poll timeout: the next heartbeat, queue wakeup, schedule tick or the
//  time a source held back by its rate limit may go on.
static int
s_timeout (ts_broker_t *self)
{
    int64_t mono = ts_mono_ms ();
    int64_t wait = self->next_beat_ms - mono;
    int64_t rate = ts_broker_rate_next_ms (self);
    if (rate >= 0 && rate - mono < wait)
        wait = rate - mono < 1? 1: rate - mono;
    int64_t wall = ts_now_ms ();
    //  At least 1 ms: a wakeup stuck in the past must not spin the loop.
    if (self->next_queue_ms >= 0 && self->next_queue_ms - wall < wait)
        wait = self->next_queue_ms - wall < 1? 1: self->next_queue_ms - wall;
    int64_t tick = ts_broker_schedule_due (self);
    if (tick >= 0 && tick - wall < wait)
        wait = tick - wall;
    if (self->sync_due_ms >= 0 && self->sync_due_ms - mono < wait)
        wait = self->sync_due_ms - mono;
    return wait < 0? 0: wait > HEARTBEAT_MS? HEARTBEAT_MS: (int) wait;
}

//  Group commit: the changes of every wake within broker.queue_sync_ms
//  of the first one not yet on disk are flushed together (0: at the end
//  of each wake that wrote). They are in the OS page cache meanwhile, so
//  only a power loss can lose them.
static void
s_sync (ts_broker_t *self)
{
    if (!ts_queue_dirty (self->queue))
        return;
    int64_t mono = ts_mono_ms ();
    if (self->sync_due_ms < 0)
        self->sync_due_ms = mono + self->sync_ms;
    if (mono < self->sync_due_ms)
        return;
    char err [TS_ERRLEN];
    if (ts_queue_sync (self->queue, err))
        ts_log_limited (&self->sync_log, TS_LOG_ERROR,
                        "cannot sync the queue: %s", err);
    self->sync_due_ms = -1;
}

int
ts_broker_run (ts_broker_t *self)
{
    assert (self);
    ts_queue_stats_t stats;
    ts_queue_stats (self->queue, ts_now_ms (), &stats, NULL);
    const char *notices = ts_config_str (self->cfg, "broker.notice_bind");
    char schedules [512];
    ts_broker_schedule_describe (self, schedules, sizeof schedules);
    ts_info ("broker up: workers on %s, control on %s, notices on %s, "
             "schedules (%s); queue "
             "(%s, %s): %" PRIu64 " queued, %" PRIu64 " delayed, %" PRIu64
             " leased, %" PRIu64 " in the DLQ",
             ts_config_str (self->cfg, "broker.worker_bind"),
             ts_config_str (self->cfg, "broker.control_bind"),
             *notices? notices: "(off)",
             schedules,
             ts_queue_backend (self->queue),
             ts_config_str (self->cfg, "broker.queue_path"),
             stats.queued, stats.delayed, stats.leased, stats.dlq);
    while (!zsys_interrupted) {
        zpoller_wait (self->poller, s_timeout (self));
        if (zpoller_terminated (self->poller))
            break;
        s_drain_workers (self);
        ts_broker_flush_dones (self);
        s_drain_control (self);
        s_timers (self);
        ts_daemon_tick ();
        ts_broker_dispatch (self);
        //  Before the sync: it may write too (after a clock step).
        self->next_queue_ms = ts_queue_next_wakeup (self->queue,
                                                    ts_now_ms ());
        s_sync (self);
    }
    ts_queue_stats (self->queue, ts_now_ms (), &stats, NULL);
    ts_info ("broker stopping: %" PRIu64 " queued, %" PRIu64 " delayed, %"
             PRIu64 " leased, %" PRIu64 " in the DLQ; in all %" PRIu64
             " done, %" PRIu64 " failed, %" PRIu64 " retried, %" PRIu64
             " dead-lettered", stats.queued, stats.delayed, stats.leased,
             stats.dlq, stats.done, stats.failed, stats.retried,
             stats.dead_lettered);
    return 0;
}
