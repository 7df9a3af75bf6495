/*  ts_ready - the gateway's readiness: can it do its job now? Answers
    GET /readyz (ts_route); /healthz only says the process is alive.

    Checks, each named in the answer:
    - registry, history, forecast: the store role is open, with its
      backend's name. The gateway opens every role at start and does not
      run without them, so these are ok while it runs; they say which
      backend serves what. Remote backends (DynamoDB, Timestream,
      InfluxDB) are not probed here: a probe would put their latency and
      timeouts on every readiness request, and their failures already
      show as 500 answers.
    - broker: the broker answered the gateway within
      gateway.broker_ready_ms. The broker is not asked per readiness
      request: the gateway's ZeroMQ loop pings it every third of that
      bound (ts_ready_ping_ms), and every answer it gives a forwarded
      request counts too (ts_ready_broker_answered). So a readiness
      request never waits on the broker, however many probes call it,
      and costs the broker one ping a second per gateway at the default;
      the price is that a stopped broker shows within the bound, not at
      once. Until the broker first answers, the gateway is not ready.

    Threads: ts_ready_broker_answered and ts_ready_json may be called
    from any thread at once (the time is one atomic). Times are
    monotonic milliseconds (ts_mono_ms), passed in so tests can pin
    them. */

#ifndef TS_READY_H_INCLUDED
#define TS_READY_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_json.h"
#include "ts_store.h"

typedef struct _ts_ready_t ts_ready_t;

//  Readiness over store (borrowed: must outlive it) with
//  gateway.broker_ready_ms from cfg. Returns NULL if out of memory.
ts_ready_t *ts_ready_new (const ts_config_t *cfg, ts_store_t *store);

//  Frees it; sets *self_p to NULL. Safe on NULL.
void ts_ready_destroy (ts_ready_t **self_p);

//  The broker answered a request (any status: it is there) at now_ms.
void ts_ready_broker_answered (ts_ready_t *self, int64_t now_ms);

//  How often the gateway should ping the broker, in ms: a third of
//  gateway.broker_ready_ms.
int64_t ts_ready_ping_ms (const ts_ready_t *self);

//  Writes the readiness answer at now_ms into out (appended) and returns
//  its status: 200 if every check is ok, else 503. The body:
//      {"status":"ready"|"not_ready","not_ready":[NAME..],
//       "checks":{NAME:{"ok":BOOL,"detail":TEXT}..}}
//  with NAME registry, history, forecast and broker, in that order;
//  broker also has "answered_ms_ago": ms since its last answer, null if
//  it never answered. not_ready lists the failing checks ([] if none).
int ts_ready_json (ts_ready_t *self, int64_t now_ms, ts_json_t *out);

#endif
