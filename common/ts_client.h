/*  ts_client - request and reply over ZeroMQ, with a timeout and a retry
    policy: the one client of the request-reply sockets (docs/protocol.md
    3.2), for the gateway (forwarding to the broker's control socket) and
    the CLI (asking the gateway).

    Asynchronous core: each event loop owns one client. A request goes
    out with an opaque context of the caller (a ZeroMQ client's envelope,
    an HTTP connection) and comes back later, through the completion
    callback, with that context and its reply; while the server is
    silent the loop serves everyone else. The completion carries

        - the server's answer, if it is one frame holding a reply (decoded
          as a reply of the client dialogue: a message of the worker
          dialogue, or a request, is no answer) and a 200 to stats /
          dlq_ls / job_state carries its stats / dlq / states: passed on
          as it is (rc 0);
        - 502 bad_gateway if the answer is malformed (rc TS_EPROTO;
          logged at warn);
        - 503 unavailable if no answer came in time (rc TS_ETIMEOUT). An
          answer that arrives later is dropped: it can never be taken for
          another request's answer.

    Policy (ts_client_policy_t): each attempt waits timeout_ms; after a
    silent attempt the request is sent again, up to retries times, with
    the same correlation id, so an answer to any attempt completes it
    (once). Retry only requests that may be done twice (reads, and
    hydrate, which the broker dedupes): the server may have done the
    first attempt and lost only its answer.

    Every request sent gets exactly one completion, unless its caller
    cancels it first (an HTTP connection that closed). A request is sent
    when the server is connected: while it is not, the request waits
    unsent until the connection comes up or its deadline passes, so a
    request answered 503 is never delivered afterwards.

    Integration with a loop: poll ts_client_sock (zmq_poll or zpoller,
    with ts_client_poll_events), or watch ts_client_fd (ZMQ_FD) in an
    epoll loop. ZMQ_FD signals edges, not levels: it does not stay
    readable while answers wait. So call ts_client_process when the fd is
    readable, after any ts_client_send, and when the time it returned has
    passed; it reads what waits, judges, completes, expires and sends.

    Blocking: ts_client_call is one round trip (with the policy's
    retries) for callers without a loop: the CLI, unit tests.

    Security: with policy.curve the DEALER is a CURVE client with those
    keys (ts_curve.h), and a handshake the server refuses is logged at
    WARN (ts_curve_watch); the request then waits and times out as if
    the server were silent, which, to this client, it is.

    Threads: an instance is used by one thread at a time (a ZeroMQ socket
    moves between threads only with a memory barrier, e.g. a thread's
    creation or join). */

#ifndef TS_CLIENT_H_INCLUDED
#define TS_CLIENT_H_INCLUDED

#include "ts_common.h"
#include "ts_curve.h"
#include "ts_proto.h"

#include <czmq.h>

//  Requests one client holds at once, counted from the oldest one
//  pending: a request cancelled behind it frees its place once the
//  requests before it are done.
#define TS_CLIENT_MAX  1024

typedef struct _ts_client_t ts_client_t;

//  How a client waits and retries.
typedef struct {
    const char *peer;           //  the server's name in errors and logs:
                                //  "broker", "gateway"
    int         timeout_ms;     //  one attempt's wait for its answer
    int         retries;        //  attempts after the first (0: none)
    size_t      max_reply;      //  largest answer taken, bytes
    const ts_curve_id_t *curve; //  CURVE keys (borrowed; must outlive
                                //  the client), NULL: plain
} ts_client_policy_t;

//  Completion of one request. arg is the client's (ts_client_new), ctx
//  the request's (ts_client_send), op its op. rc says where the reply
//  came from: 0 the server's answer (any status), TS_ETIMEOUT no answer
//  in time (503), TS_EPROTO a malformed answer (502), TS_ENOMEM (500),
//  TS_EINVAL the client is stopping (503). reply is borrowed for the
//  call (the callee may change it, not keep it). Called from
//  ts_client_process or ts_client_destroy, never from ts_client_send or
//  ts_client_cancel. The callee may call ts_client_send and
//  ts_client_cancel on the same client, not ts_client_destroy.
typedef void (ts_client_done_fn) (void *arg, void *ctx, ts_op_t op, int rc,
                                  ts_msg_t *reply);

//  Creates a client with a DEALER connected to endpoint (a gateway's or
//  the broker's control socket), waiting and retrying as policy says
//  (copied; peer must be static text); done is called with arg for every
//  completion. Returns NULL with the reason in err if out of memory or
//  the endpoint is not valid.
ts_client_t *ts_client_new (const char *endpoint,
                            const ts_client_policy_t *policy,
                            ts_client_done_fn *done, void *arg, char *err);

//  Completes every request still pending with 503 unavailable ("client
//  is stopping"), closes the socket and frees; sets *self_p to NULL.
//  Safe on NULL. So destroy it while the contexts of pending requests
//  are still valid, or cancel them first.
void ts_client_destroy (ts_client_t **self_p);

//  Sends req (encoded here; the caller keeps req) to the server, or
//  keeps it until the server is connected. Returns 0: ctx will get one
//  completion (unless cancelled). Otherwise the request is refused, done
//  will not be called, and reply (reset) holds the answer the caller
//  gives instead, whose status is returned: 503 unavailable if
//  TS_CLIENT_MAX requests are pending, 500 internal if out of memory.
//  Touches the socket: call ts_client_process before waiting on the fd.
int ts_client_send (ts_client_t *self, const ts_msg_t *req, void *ctx,
                    ts_msg_t *reply);

//  Forgets every pending request of ctx: no completion, and its answer
//  is dropped when it comes (a request not sent yet is never sent).
//  Returns how many were forgotten.
size_t ts_client_cancel (ts_client_t *self, void *ctx);

//  Reads the answers that wait (up to a batch) and completes their
//  requests, completes with 503 those past their deadline, and sends
//  what waits unsent if the server can take it. Returns how long the
//  caller may wait before calling it again, unless the fd (or socket)
//  signals first: 0 if answers still wait (call again at once), the ms
//  until the next deadline, or -1 if nothing is pending.
int64_t ts_client_process (ts_client_t *self);

//  Requests pending: sent or waiting to be, not yet completed.
size_t ts_client_pending (const ts_client_t *self);

//  The DEALER, to poll with zmq_poll or zpoller (borrowed). Only
//  ts_client_process reads from it.
zsock_t *ts_client_sock (ts_client_t *self);

//  What to poll the DEALER for: ZMQ_POLLIN, and ZMQ_POLLOUT while a
//  request waits unsent (so the loop wakes when the server connects).
short ts_client_poll_events (ts_client_t *self);

//  The DEALER's ZMQ_FD, for epoll or poll (readable: call
//  ts_client_process; see above).
int ts_client_fd (ts_client_t *self);

//  One blocking round trip for callers without an event loop: sends req
//  to endpoint on a client of its own and waits as policy says (every
//  attempt, so up to timeout_ms * (1 + retries)). reply (reset) gets the
//  answer or the error, as a completion would. Returns the completion's
//  rc: 0 (an answer, whatever its status), TS_ETIMEOUT, TS_EPROTO,
//  TS_ENOMEM, TS_EINVAL (bad endpoint: reply 503 with the reason), or
//  EINTR if the process was interrupted (SIGINT: zsys_interrupted)
//  while waiting (reply 503).
int ts_client_call (const char *endpoint, const ts_client_policy_t *policy,
                    const ts_msg_t *req, ts_msg_t *reply);

#endif
