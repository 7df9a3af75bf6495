/*  ts_zmqsrv - the gateway's ZeroMQ front end: a ROUTER on
    gateway.zmq_bind speaking the msgpack protocol (docs/protocol.md).

    Clients are REQ sockets, or DEALER sockets that send the same framing:
    an empty delimiter frame, then one body frame. The ROUTER sees
    [routing id...][empty][body] and answers [routing id...][empty][reply].
    A body that does not decode gets an error reply (400 with the decoder's
    detail, 413 if over TS_PROTO_MAX_REQUEST); a message of the wrong shape
    gets a 400 reply when it can be routed, and is dropped with a debug
    log when it cannot. Serves in the calling thread until interrupted.

    Requests the broker answers (ts_api_forwarded) are forwarded
    asynchronously (ts_client, a DEALER to gateway.broker_endpoint), with
    the same checks and the same judgement of the answer as ts_api_handle:
    while they wait (up to gateway.broker_timeout_ms, then 503) every
    other client is served. The same forwarder pings the broker for the
    gateway's readiness (ts_ready.h). */

#ifndef TS_ZMQSRV_H_INCLUDED
#define TS_ZMQSRV_H_INCLUDED

#include "ts_api.h"
#include "ts_config.h"

typedef struct _ts_zmqsrv_t ts_zmqsrv_t;

//  Binds a ROUTER to gateway.zmq_bind, serving api (borrowed), and makes
//  a forwarder to the broker (ts_api_broker_endpoint, waiting up to
//  ts_api_broker_timeout). Returns NULL with the reason in err if the
//  endpoint cannot be bound or the forwarder cannot be made.
ts_zmqsrv_t *ts_zmqsrv_new (const ts_config_t *cfg, ts_api_t *api,
                            char *err);

//  Answers 503 to requests still waiting for the broker, closes the
//  sockets and frees; sets *self_p to NULL. Safe on NULL.
void ts_zmqsrv_destroy (ts_zmqsrv_t **self_p);

//  The endpoint actually bound (e.g. with the port chosen for "*").
const char *ts_zmqsrv_endpoint (const ts_zmqsrv_t *self);

//  Serves requests until zsys_interrupted is set (SIGINT, SIGTERM), and
//  pings the broker every ts_ready_ping_ms for the gateway's readiness
//  (ts_api_ready; every answer of the broker counts). Returns 0, or -1
//  if the socket failed.
int ts_zmqsrv_run (ts_zmqsrv_t *self);

//  Turns the readiness pings off (on by default). For tests that count
//  the requests the broker gets; call before ts_zmqsrv_run.
void ts_zmqsrv_set_probe (ts_zmqsrv_t *self, bool on);

//  After ts_zmqsrv_run: reads no new request, and waits for the
//  broker's answers to the requests forwarded already (sending each to
//  its client) until none is left, monotonic until_ms passes or
//  zsys_interrupted is set. Those still waiting get 503 from
//  ts_zmqsrv_destroy.
void ts_zmqsrv_drain (ts_zmqsrv_t *self, int64_t until_ms);

//  Answers one request body: decodes size bytes of data, lets api handle
//  it (ts_api_handle: a forwarded op waits for the broker in the calling
//  thread), and encodes the reply (malformed input gives an error reply).
//  On return *reply (caller frees with free()) holds *reply_size bytes.
//  Returns 0 or TS_ENOMEM. Used by the loop; public for tests.
int ts_zmqsrv_answer (ts_api_t *api, const void *data, size_t size,
                      char **reply, size_t *reply_size);

#endif
