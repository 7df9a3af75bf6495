/*  ts_broker - the broker's reactor: scheduler, control socket and the
    job dialogue with workers, over one ts_queue.

    - Scheduler: on each broker.schedule tick (cron, UTC) every registered
      id is queued, broker.ids_per_job ids per job.
    - Control (ROUTER on broker.control_bind, REQ clients such as the
      gateway): "hydrate" queues ids now and answers 202 with the number
      of jobs queued; "ping" answers 200; anything else gets an error reply.
    - Workers (ROUTER on broker.worker_bind, DEALER workers): "ready" adds
      credit, the broker sends at most that many "job" messages, "done"
      acks and "failed" nacks a job. Heartbeats go both ways every second;
      a worker silent for 5 s is lost and its jobs are requeued. A job not
      reported within broker.job_timeout_s is requeued.

    One thread, one poll loop; the poll timeout is the next timer, so an
    idle broker sleeps. Stops when zsys_interrupted is set (SIGINT or
    SIGTERM through czmq's handler). */

#ifndef TS_BROKER_H_INCLUDED
#define TS_BROKER_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

typedef struct _ts_broker_t ts_broker_t;

//  Binds the sockets and opens the store (only if the scheduler is on).
//  cfg is borrowed and must outlive the broker. Returns NULL with the
//  reason in err (TS_ERRLEN), e.g. "broker.worker_bind: cannot bind
//  tcp://127.0.0.1:5557: Address already in use".
ts_broker_t *ts_broker_new (const ts_config_t *cfg, char *err);

//  Closes sockets and store; sets *self_p to NULL. Safe on NULL.
void ts_broker_destroy (ts_broker_t **self_p);

//  Runs the loop until interrupted. Returns 0.
int ts_broker_run (ts_broker_t *self);

#endif
