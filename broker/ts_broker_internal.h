/*  ts_broker_internal - what the files of the broker share; not for
    callers (the contract is ts_broker.h).

    ts_broker is one module written as three files, one job each:

      ts_broker.c          the reactor: setup and teardown, the poll loop,
                           the timers (heartbeat, lease expiry, schedules)
      ts_broker_schedule.c the scheduler: one schedule per source, its
                           next fire time and its tick
      ts_broker_workers.c  the worker dialogue: ready and credit, dispatch
                           (leased in batches), done (acked in batches),
                           failed and release, heartbeats, lost workers
                           and expired leases
      ts_broker_control.c  the control dialogue with clients: hydrate,
                           ping, stats, job_state and the DLQ operations
      ts_broker_notice.c   the change notices: ids workers wrote,
                           published to gateways, and their heartbeat
      ts_broker_metrics.c  the optional metrics page (broker.metrics_port)
      ts_broker_staleness.c  how long ago the registered ids were last
                           fetched, a registry page per wake
      ts_broker_rate.c     the rate limit of each source, metered at
                           dispatch, and upstream pushback
      ts_broker_backfill.c gap tracking and backfill: fill records after
                           each ack, chunk jobs (ts_backfill plans them)

    Only broker/ts_broker*.c include this header. */

#ifndef TS_BROKER_INTERNAL_H_INCLUDED
#define TS_BROKER_INTERNAL_H_INCLUDED

#include "ts_backfill.h"
#include "ts_broker.h"
#include "ts_cron.h"
#include "ts_curve.h"
#include "ts_log.h"
#include "ts_prom.h"
#include "ts_prom_http.h"
#include "ts_proto.h"
#include "ts_queue.h"
#include "ts_store.h"

#include <czmq.h>

#define DRAIN_MAX       256         //  messages read per socket per wake
#define LEASE_MAX       1024        //  jobs leased in one queue call

//  One source's schedule (ts_broker_schedule.c).
typedef struct {
    char      source [TS_NAME_MAX + 1];     //  the source's name
    char      expr [256];           //  its expression, for the logs
    bool      on;                   //  false: "off" (or "" everywhere)
    ts_cron_t cron;                 //  the parsed expression
    int64_t   shift_ms;             //  offset + spread of fire times
    int64_t   next_ms;              //  next fire, scheduler clock; -1
} ts_broker_schedule_t;

//  The rate limits of the sources (ts_broker_rate.c).
typedef struct _ts_broker_rate_t ts_broker_rate_t;

//  A worker, known by its routing id.
typedef struct {
    byte      rid [256];            //  routing id
    size_t    rid_len;
    char      key [512];            //  rid as hex: owner tag, log name
    uint32_t  credit;               //  jobs it can take now
    uint32_t  leased;               //  jobs it holds (for stats)
    int64_t   last_seen_ms;         //  monotonic, any message
    uint64_t  last_job_seq;         //  dispatch order, for round-robin
    bool      released;             //  sent release and no credit since:
                                    //  its going is a stop, not a loss
} ts_broker_worker_t;

struct _ts_broker_t {
    const ts_config_t *cfg;         //  borrowed
    ts_curve_t *curve;              //  CURVE keys and ZAP handler
    zsock_t    *workers_sock;       //  ROUTER, DEALER workers
    zsock_t    *control;            //  ROUTER, REQ clients
    zpoller_t  *poller;             //  both sockets
    zmq_msg_t   frames [3];         //  scratch: a worker message's routing
                                    //  id, body and any extra frame
    ts_queue_t *queue;              //  jobs, durable
    ts_job_t   *job;                //  scratch: job a queue call reports
    ts_job_t   *leased [LEASE_MAX]; //  scratch: jobs of one lease call
    ts_queue_grant_t *grants;       //  scratch: workers with credit
    ts_broker_rate_t *rate;         //  rate limit of each source
    size_t      grants_cap;
    uint64_t    dones [DRAIN_MAX];  //  done job ids not acked yet
    bool        done_all [DRAIN_MAX];   //  and whether the done listed
                                    //  no ids written: notice the job's
    char        done_keys [DRAIN_MAX][512];     //  and who reported them
    ts_job_t   *acked [DRAIN_MAX];  //  scratch: jobs of one ack call
    int         ack_rcs [DRAIN_MAX];
    size_t      dones_n;
    int64_t     next_queue_ms;      //  wall clock the queue needs us, -1
    ts_store_t *store;              //  registry; NULL if no scheduler
    ts_broker_schedule_t *schedules;    //  one per source, owned
    size_t      schedules_n;
    int64_t     sched_speedup;      //  test clock: scheduler runs N x
    int64_t     sched_anchor_ms;    //  as fast as the wall clock, from
                                    //  this wall time (ts_broker_schedule)
    size_t      ids_per_job;        //  broker.ids_per_job
    zhashx_t   *workers;            //  key -> ts_broker_worker_t, owned
    uint64_t    job_seq;            //  jobs dispatched so far
    int64_t     next_beat_ms;       //  monotonic time of housekeeping
    int64_t     sync_ms;            //  broker.queue_sync_ms
    int64_t     sync_due_ms;        //  monotonic time of the next queue
                                    //  sync; -1 while nothing waits
    ts_msg_t   *msg;                //  scratch: decoded request
    ts_msg_t   *reply;              //  scratch: outgoing message
    char       *send_buf;           //  scratch: an encoded job
    size_t      send_cap;
    uint64_t   *push_jobs;          //  scratch: the jobs of one push
    size_t      push_jobs_cap;      //  (ts_broker_enqueue_attrs)
    char       *beat;               //  encoded heartbeat
    uint64_t    boot;               //  this process's id (heartbeats,
                                    //  notices)
    zsock_t    *notice_sock;        //  PUB, change notices; NULL if off
    uint64_t    notice_seq;         //  number of the next id published
    char       *notice_text;        //  ids waiting: NUL-terminated, one
    size_t      notice_text_size;   //  after the other (reused buffer)
    size_t      notice_text_cap;
    size_t     *notice_at;          //  offset of each waiting id
    size_t      notice_at_cap;      //  (bytes)
    size_t      notice_n;           //  ids waiting
    const char **notice_ptrs;       //  scratch: the waiting ids
    size_t      notice_ptrs_cap;    //  (bytes)
    char       *notice_buf;         //  scratch: an encoded notice
    size_t      notice_buf_cap;
    size_t      beat_size;
    ts_log_limit_t stranger_log;    //  reports from peers not introduced
    ts_log_limit_t invalid_log;     //  invalid worker messages
    ts_log_limit_t sync_log;        //  failed queue syncs (retried every
                                    //  broker.queue_sync_ms)
    ts_prom_http_t *metrics_http;   //  broker.metrics_port; NULL if off
    ts_prom_t  *metrics_prom;       //  scratch: the page being written
    ts_msg_t   *metrics_msg;        //  scratch: the stats it is made of
    size_t      stale_page;         //  broker.staleness_ids_per_s; 0 off
    char        stale_after [TS_NAME_MAX + 1];  //  the sweep's cursor
    ts_staleness_t stale_sweep;     //  the sweep in progress
    ts_strlist_t *stale_ids;        //  scratch: a page of the registry
    int64_t    *stale_times;        //  scratch: their last fetches
    bool        has_staleness;      //  a sweep has finished
    ts_staleness_t staleness;       //  the last finished sweep
    ts_backfill_conf_t *backfill;   //  upstream.backfill* of each source
    size_t      backfill_n;         //  (ts_config_source_at order)
    char        backfill_rid [TS_RID_MAX + 1];  //  request id of chunks
    uint64_t    backfill_queued;    //  chunk jobs queued since start
    uint64_t    backfill_done;      //  chunk jobs acked since start
    uint64_t    backfill_failed;    //  chunk jobs dead-lettered
    ts_fill_t  *stale_fills;        //  scratch: the page's fill records
    const char **fill_ids;          //  scratch: the ids of one ack call,
    ts_fill_t  *fill_recs;          //  each once, their fill records,
    bool       *fill_keep;          //  whether to store each, and the
    size_t     *fill_slot;          //  record of each job's id
    size_t      fill_cap;           //  (ts_broker_backfill_acked)
    ts_strset_t fill_seen;
    uint64_t    backfill_sweep [2]; //  sweep in progress: ids with a
                                    //  backfill pending, chunks left
    uint64_t    backfill_pending [2];   //  the same, last finished sweep
};

//  ---------------------------------------------------------------------
//  The worker dialogue (ts_broker_workers.c)

//  One message from a worker: its routing id (rid_len bytes at rid) and
//  the frames after it, frames of them, the first at body (body_size
//  bytes; NULL if none). A worker sends one frame. Dones are collected
//  for ts_broker_flush_dones; ready, failed, release and heartbeat are
//  handled at once.
void ts_broker_worker_message (ts_broker_t *self, const byte *rid,
                               size_t rid_len, const byte *body,
                               size_t body_size, size_t frames);

//  Acks the dones reported since the last flush, in one queue call.
void ts_broker_flush_dones (ts_broker_t *self);

//  Hands visible jobs to workers with credit, leased in batches.
void ts_broker_dispatch (ts_broker_t *self);

//  Heartbeats to workers (now: monotonic clock); forgets the silent and
//  the unreachable, their jobs requeued.
void ts_broker_heartbeat (ts_broker_t *self, int64_t now);

//  Ends leases past their deadline and ages out the DLQ.
void ts_broker_expire (ts_broker_t *self);

//  ---------------------------------------------------------------------
//  Change notices (ts_broker_notice.c); every call does nothing while
//  broker.notice_bind is ""

//  Binds the PUB socket on broker.notice_bind ("" leaves notices off).
//  Returns 0, or a TS_E* code with err filled.
int ts_broker_notice_open (ts_broker_t *self, char *err);

//  Closes the socket and frees the buffers.
void ts_broker_notice_close (ts_broker_t *self);

//  Adds ids written to the next notice (copied).
void ts_broker_notice_add (ts_broker_t *self, const char *id);
void ts_broker_notice_add_list (ts_broker_t *self, const ts_strlist_t *ids);

//  Publishes the ids added since the last call, numbered in order.
void ts_broker_notice_publish (ts_broker_t *self);

//  Publishes what waits, then a heartbeat (a notice of no ids).
void ts_broker_notice_beat (ts_broker_t *self);

//  ---------------------------------------------------------------------
//  The control dialogue (ts_broker_control.c)

//  One request on the control socket, answered with its envelope.
void ts_broker_control_message (ts_broker_t *self, zmsg_t *zmsg);

//  Fills reply (reset) with a 200 stats answer: the queue's figures and
//  the connected workers. Returns 0, or a TS_E* code with err filled
//  (reply then holds the error answer).
int ts_broker_stats (ts_broker_t *self, ts_msg_t *reply, char *err);

//  ---------------------------------------------------------------------
//  The metrics page (ts_broker_metrics.c); every call does nothing while
//  broker.metrics_port is 0

//  Starts serving on broker.metrics_bind:metrics_port. Returns 0, or a
//  TS_E* code with err filled.
int ts_broker_metrics_open (ts_broker_t *self, char *err);

//  Stops serving and frees the page.
void ts_broker_metrics_close (ts_broker_t *self);

//  Renews the page from the queue and the workers as they are now.
void ts_broker_metrics_publish (ts_broker_t *self);

//  ---------------------------------------------------------------------
//  Staleness (ts_broker_staleness.c); every call does nothing while
//  broker.staleness_ids_per_s is 0 or the broker has no store (no
//  schedule)

//  Reads broker.staleness_ids_per_s and makes the scratch space.
//  Returns 0 or TS_ENOMEM with err filled.
int ts_broker_staleness_open (ts_broker_t *self, char *err);

//  Frees the scratch space.
void ts_broker_staleness_close (ts_broker_t *self);

//  Walks the next page of the registry; at its end, the sweep becomes
//  self->staleness.
void ts_broker_staleness_step (ts_broker_t *self);

//  ---------------------------------------------------------------------
//  The scheduler (ts_broker_schedule.c)

//  Reads every source's schedule and, if any is on, opens the registry
//  (self->store). Returns 0, or TS_ECONFIG or TS_EBACKEND with err
//  filled.
int ts_broker_schedule_open (ts_broker_t *self, char *err);

//  Frees the schedules (not the store).
void ts_broker_schedule_close (ts_broker_t *self);

//  Runs the tick of every source whose fire time has come (wall_ms: the
//  wall clock now) and plans its next.
void ts_broker_schedule_step (ts_broker_t *self, int64_t wall_ms);

//  Wall clock of the earliest next tick, or -1 if none.
int64_t ts_broker_schedule_due (ts_broker_t *self);

//  "source: expression, ..." for the start line, into buf.
void ts_broker_schedule_describe (ts_broker_t *self, char *buf,
                                  size_t size);

//  True for the keys the schedules are read from (broker.schedule*,
//  upstream.schedule*).
bool ts_broker_schedule_key (const char *key);

//  After a reload: if applied holds a schedule key, reads the schedules
//  again and plans them from now (logged). Returns 0, or TS_ECONFIG or
//  TS_EBACKEND (logged; the old schedules stay).
int ts_broker_schedule_apply (ts_broker_t *self,
                              const ts_strlist_t *applied);
//  Gap tracking and backfill (ts_broker_backfill.c)

//  Reads the backfill settings of every source. Returns 0 or TS_ENOMEM.
int ts_broker_backfill_open (ts_broker_t *self, char *err);

//  Frees them.
void ts_broker_backfill_close (ts_broker_t *self);

//  The n jobs of an ack call (rcs [i] == 0: jobs [i] was acked): updates
//  the fill records of their ids and queues the backfill chunks due.
void ts_broker_backfill_acked (ts_broker_t *self, ts_job_t *const *jobs,
                               const int *rcs, size_t n);

//  A job failed; if it was dead-lettered, counts a backfill chunk that
//  failed and queues the next chunks due.
void ts_broker_backfill_dead (ts_broker_t *self, const ts_job_t *job);

//  The backfill counters on the metrics page.
void ts_broker_backfill_metrics (ts_broker_t *self, ts_prom_t *prom);

//  Counts the pending backfills of the n ids of a staleness page into
//  the sweep (fills: their records); at the end of a sweep (done), they
//  become the figures of the metrics page.
void ts_broker_backfill_sweep (ts_broker_t *self, const ts_fill_t *fills,
                               size_t n, bool done);

//  Queues ids, broker.ids_per_job per job, each job tagged with the
//  request id rid ("" for none). Returns the number of jobs queued, or a
//  TS_E* code with err filled.
int ts_broker_enqueue (ts_broker_t *self, const ts_strlist_t *ids,
                       const char *rid, char *err);

//  ts_broker_enqueue, each job carrying attrs (its request id, source and
//  window; see ts_queue_push_attrs). The ids go to the queue in batches
//  of at most TS_QUEUE_MAX_IDS (ts_queue_push_many), each all or
//  nothing: after an error the batches before it stay queued.
int ts_broker_enqueue_attrs (ts_broker_t *self, const ts_strlist_t *ids,
                             const ts_queue_attrs_t *attrs, char *err);

//  ---------------------------------------------------------------------
//  Rate limits per source (ts_broker_rate.c)

//  Makes the limit of each source from the config. Returns 0, or a TS_E*
//  code with err filled.
int ts_broker_rate_open (ts_broker_t *self, char *err);

//  Frees the limits.
void ts_broker_rate_close (ts_broker_t *self);

//  A reload changed upstream.rate_limit.*: each source gets a new, full
//  bucket (its figures stay). Returns 0, or TS_ECONFIG if a source kept
//  its old limit (logged).
int ts_broker_rate_apply (ts_broker_t *self);

//  Starts a dispatch pass at the monotonic clock's now: counts the time
//  sources were held back since the last pass, and forgets which were.
void ts_broker_rate_begin (ts_broker_t *self);

//  ts_queue_accept_fn of a dispatch pass (arg: self->rate): takes a
//  job's cost (its ids) from its source's bucket, or holds it back.
ts_queue_accept_t ts_broker_rate_accept (const ts_job_t *job, void *arg);

//  When (monotonic ms) a source held back in the last pass may go on;
//  -1 if none was held back.
int64_t ts_broker_rate_next_ms (const ts_broker_t *self);

//  A worker's failed report (msg) of a job of source: a 429 or a
//  Retry-After pauses and slows the whole source (logged at INFO).
void ts_broker_rate_pushback (ts_broker_t *self, const char *source,
                              const ts_msg_t *msg);

//  Writes the tscache_source_* families into prom.
void ts_broker_rate_metrics (ts_broker_t *self, ts_prom_t *prom);

//  ---------------------------------------------------------------------
//  ts_broker_sources.c: which ids belong to which source

//  True if an id registered to registered ("" the first source) belongs
//  to the configured source called source ("" or NULL: the first).
bool ts_broker_source_is (const ts_broker_t *self, const char *registered,
                          const char *source);

//  Appends to sources the registered source of each of ids, in order
//  ("" for the first source, and for an id that is not registered).
//  Returns 0 or a TS_E* code with err filled.
int ts_broker_sources_of (ts_broker_t *self, const ts_strlist_t *ids,
                          ts_strlist_t *sources, char *err);

//  Queues ids, sources [i] the source of ids [i] (as the registry keeps
//  it), so that each job holds ids of one source and names it:
//  ts_broker_enqueue_attrs per source, in the order the sources first
//  appear; priority: in the queue's high lane, bumping queued jobs that
//  hold the ids already (a read-through fetch). Returns the number of
//  jobs queued, or < 0 (err filled).
int ts_broker_enqueue_sources (ts_broker_t *self, const ts_strlist_t *ids,
                               const ts_strlist_t *sources, const char *rid,
                               bool priority, char *err);

#endif
