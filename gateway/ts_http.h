/*  ts_http - the gateway's HTTP/1.1 front end: sockets, threads, limits.

    gateway.http_threads threads, each an epoll loop over its own
    connections, share one listening socket on
    gateway.http_bind:gateway.http_port. Bytes read are framed into
    requests by ts_h1 (limits on target, headers and body) and each whole
    request is handed to ts_route, whose status and JSON become the
    answer; keep-alive and pipelining (answers in request order) are
    supported. Nothing here knows the routes. A request the broker answers
    is forwarded without holding the thread (ts_client, one per thread):
    its connection waits, the thread's other connections are served.

    Every answer, errors included, is application/json with a
    {"error","detail"} body for errors. A request that breaks a limit or
    the syntax gets its status and "Connection: close"; the connection is
    then half-closed and drained briefly so the client reads the answer.
    Timeouts: a request must arrive whole within
    gateway.http_request_timeout_s of its first byte (else 408 and close);
    a connection with no request in progress, or whose client does not
    read its answer, is closed after gateway.http_idle_timeout_s; a
    request with the broker is answered 503 after
    gateway.broker_timeout_ms, whatever the other timeouts. At most
    gateway.http_max_connections connections are open; one more is
    answered 503 and closed. docs/http-api.md lists every limit.

    API keys come from ts_http_key (the variable named by
    gateway.api_key_env, else gateway.api_key_file): a comma- or
    newline-separated list. With no key the front end does not start,
    unless gateway.api_key_generate is on: then one random key is made
    for the run and shown once in a WARN line of the log. */

#ifndef TS_HTTP_H_INCLUDED
#define TS_HTTP_H_INCLUDED

#include "ts_api.h"
#include "ts_config.h"

typedef struct _ts_http_t ts_http_t;

//  Reads the API keys and starts serving api over HTTP, forwarding to
//  the broker at ts_api_broker_endpoint with ts_api_broker_timeout.
//  Returns NULL with the reason in err: no API key ("no API key: set
//  TSCACHE_API_KEY or gateway.api_key_file"), unreadable key file, bad
//  bind address, the port cannot be bound, or a thread cannot start. Do not call when
//  gateway.http_port is 0.
ts_http_t *ts_http_new (const ts_config_t *cfg, ts_api_t *api, char *err);

//  A reload (SIGHUP): reads the API keys again from cfg
//  (gateway.api_key_env, gateway.api_key_file) and, if they changed,
//  the requests checked from now on use them (ts_route_set_keys). Logs
//  "reload: gateway API keys: changed (N keys)", never a key. A key made
//  at start (gateway.api_key_generate) stays while none is set. Returns
//  0, or a TS_E* code (logged; the running keys are kept).
int ts_http_apply (ts_http_t *self, const ts_config_t *cfg);

//  Stops the threads (an answer being computed finishes first; answers
//  not yet written are dropped, requests with the broker are cancelled),
//  closes every connection and frees; sets *self_p to NULL. Safe on
//  NULL.
void ts_http_destroy (ts_http_t **self_p);

//  Starts a graceful stop and returns at once: the listening socket is
//  closed (new connections are refused), each open connection is closed
//  as soon as nothing is in progress on it, every answer from now on
//  says "Connection: close", and requests in progress (being received,
//  with the broker, or with an answer being sent) are finished. Each
//  thread ends when its last connection is closed, or at monotonic
//  until_ms (ts_mono_ms) with what is left closed. Then call
//  ts_http_destroy (which ends a drain still going at once).
void ts_http_drain (ts_http_t *self, int64_t until_ms);

//  True when every thread has ended (after ts_http_drain).
bool ts_http_drained (ts_http_t *self);

//  The port actually bound.
int ts_http_port (const ts_http_t *self);

#endif
