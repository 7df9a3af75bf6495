/*  ts_broker - the broker's reactor: scheduler, control socket and the
    job dialogue with workers, over one durable ts_queue.

    - Scheduler: one schedule per source (its upstream.schedule, else
      broker.schedule; cron, EventBridge cron() and rate(), @daily ...,
      UTC; see ts_cron.h), each fire time shifted by the source's offset
      and spread; on a source's tick its registered ids are queued,
      broker.ids_per_job ids per job, the registry read a page at a time
      (ts_broker_schedule.c). Ids already queued or leased are skipped
      (dedup).
    - Control (ROUTER on broker.control_bind, REQ clients such as the
      gateway and the CLI): "hydrate" queues ids now and answers 202 with
      the number of jobs queued; "ping" answers 200; "stats" answers the
      queue's sizes and totals and the connected workers; "dlq_ls" lists
      the dead-letter queue (oldest first, at most 1000 entries);
      "dlq_redrive" queues dead jobs again (those holding the given ids,
      or all); "dlq_purge" empties the DLQ; "job_state" tells where each
      of the given jobs is (a hydrate's answer names the job of each id,
      so a client can wait for them). Anything else gets an error.
    - Workers (ROUTER on broker.worker_bind, DEALER workers): "ready" adds
      credit, the broker leases at most that many jobs and sends them as
      "job" messages, "done" acks and "failed" nacks a job (by job id,
      from any worker). A failed job is retried with exponential backoff
      and jitter, or moved to the DLQ (not retryable, or received
      broker.max_receives times). Heartbeats go both ways every second; a
      worker silent for 5 s is lost and its jobs become visible at once.
      A job not reported within broker.visibility_timeout_s becomes
      visible again.
    - Change notices (PUB on broker.notice_bind, "" for none): every id a
      done or failed reports written (all the job's ids when it lists
      none) is published, numbered in order from 1 in each broker process,
      with a heartbeat notice every second (docs/protocol.md 5.18), so
      that gateways drop their cached answers of it.

    The queue lives in broker.queue_path and survives a restart or a
    SIGKILL (see ts_queue.h); it is flushed to disk once per loop wake.
    One thread, one poll loop; the poll timeout is the next timer
    (heartbeat, lease deadline, retry, schedule tick), so an idle broker
    sleeps. Stops when zsys_interrupted is set (SIGINT or SIGTERM through
    czmq's handler). Every DLQ move is logged at warn, every retry at
    info. */

#ifndef TS_BROKER_H_INCLUDED
#define TS_BROKER_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

typedef struct _ts_broker_t ts_broker_t;

//  Binds the sockets, then opens the queue (broker.queue_path) and the
//  store (only if a schedule is on). cfg is borrowed and must outlive
//  the broker. Returns NULL with the reason in err (TS_ERRLEN), e.g.
//  "broker.worker_bind: cannot bind tcp://127.0.0.1:5557: Address already
//  in use", "broker.queue_path: cannot lock ./var/queue/broker.lock: in
//  use by another broker".
ts_broker_t *ts_broker_new (const ts_config_t *cfg, char *err);

//  Closes sockets and store; sets *self_p to NULL. Safe on NULL.
void ts_broker_destroy (ts_broker_t **self_p);

//  Applies the keys of a reload (ts_daemon_reload) that the broker can
//  change while it runs, read again from its cfg: the schedule keys
//  (broker.schedule*, upstream.schedule*: every source's schedule is read
//  again and its next tick computed anew; a schedule turned on opens the
//  registry) and upstream.rate_limit.* (each source's bucket starts
//  again, full). Other keys in applied are ignored. Returns 0, or
//  TS_ECONFIG or TS_EBACKEND (logged; the old schedules or limits stay).
int ts_broker_apply (ts_broker_t *self, const ts_strlist_t *applied);

//  Runs the loop until interrupted; calls ts_daemon_tick once per wake,
//  so a SIGHUP runs the reload main registered. Returns 0.
int ts_broker_run (ts_broker_t *self);

#endif
