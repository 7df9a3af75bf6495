/*  ts_forward - an asynchronous client of the broker's control socket for
    one thread's event loop.

    The gateway answers hydrate, stats, job_state and the dlq_* ops by
    asking the broker (ts_api_forwarded). A front end must never wait for
    that answer in its loop: while the broker is silent, every other
    client of the loop would wait too. So each event loop owns one
    forwarder (the ZeroMQ front end's loop one, each HTTP thread one): a
    request goes out with an opaque context of the caller (a ZeroMQ
    client's envelope, an HTTP connection) and comes back later, through
    the completion callback, with that context and its reply:

        - the broker's answer, if it is one frame holding a reply (and a
          200 to stats / dlq_ls / job_state carries its stats / dlq /
          states), passed on as it is;
        - 502 bad_gateway if the answer is malformed (logged at warn);
        - 503 unavailable if no answer came within the timeout
          (gateway.broker_timeout_ms). An answer that arrives later is
          dropped: it can never be taken for another request's answer.

    Every request sent gets exactly one completion, unless its caller
    cancels it first (an HTTP connection that closed). A request is sent
    when the broker is connected: while it is not, the request waits
    unsent until the connection comes up or its deadline passes, so a
    request answered 503 is never delivered to the broker afterwards.

    Integration with a loop: poll ts_forward_sock (zmq_poll or zpoller,
    with ts_forward_poll_events), or watch ts_forward_fd (ZMQ_FD) in an
    epoll loop. ZMQ_FD signals edges, not levels: it does not stay
    readable while answers wait. So call ts_forward_process when the fd is
    readable, after any ts_forward_send, and when the time it returned has
    passed; it reads what waits, judges, completes, expires and sends.

    Threads: an instance is used by one thread at a time (a ZeroMQ socket
    moves between threads only with a memory barrier, e.g. a thread's
    creation or join). ts_forward_call is a blocking round trip for
    callers without a loop (unit tests): it has a forwarder of its own. */

#ifndef TS_FORWARD_H_INCLUDED
#define TS_FORWARD_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"

#include <czmq.h>

//  Requests one forwarder holds at once, counted from the oldest one
//  pending: a request cancelled behind it frees its place once the
//  requests before it are done.
#define TS_FORWARD_MAX  1024

typedef struct _ts_forward_t ts_forward_t;

//  Completion of one request. arg is the forwarder's (ts_forward_new),
//  ctx the request's (ts_forward_send), op its op. reply holds the answer
//  or the error; it is borrowed for the call (the callee may change it,
//  not keep it). Called from ts_forward_process or ts_forward_destroy,
//  never from ts_forward_send or ts_forward_cancel. The callee may call
//  ts_forward_send and ts_forward_cancel on the same forwarder, not
//  ts_forward_destroy.
typedef void (ts_forward_done_fn) (void *arg, void *ctx, ts_op_t op,
                                   ts_msg_t *reply);

//  Creates a forwarder with a DEALER connected to endpoint (the broker's
//  control socket, gateway.broker_endpoint), answering 503 to a request
//  not answered within timeout_ms; done is called with arg for every
//  completion. Returns NULL with the reason in err if out of memory or
//  the endpoint is not valid.
ts_forward_t *ts_forward_new (const char *endpoint, int timeout_ms,
                              ts_forward_done_fn *done, void *arg,
                              char *err);

//  Completes every request still pending with 503 unavailable ("gateway
//  is stopping"), closes the socket and frees; sets *self_p to NULL.
//  Safe on NULL. So destroy it while the contexts of pending requests
//  are still valid, or cancel them first.
void ts_forward_destroy (ts_forward_t **self_p);

//  Sends req (encoded here; the caller keeps req) to the broker, or
//  keeps it until the broker is connected. Returns 0: ctx will get one
//  completion (unless cancelled). Otherwise the request is refused, done
//  will not be called, and reply (reset) holds the answer the caller
//  gives instead, whose status is returned: 503 unavailable if
//  TS_FORWARD_MAX requests are pending, 500 internal if out of memory.
//  Touches the socket: call ts_forward_process before waiting on the fd.
int ts_forward_send (ts_forward_t *self, const ts_msg_t *req, void *ctx,
                     ts_msg_t *reply);

//  Forgets every pending request of ctx: no completion, and its answer
//  is dropped when it comes (a request not sent yet is never sent).
//  Returns how many were forgotten.
size_t ts_forward_cancel (ts_forward_t *self, void *ctx);

//  Reads the answers that wait (up to a batch) and completes their
//  requests, completes with 503 those past their deadline, and sends
//  what waits unsent if the broker can take it. Returns how long the
//  caller may wait before calling it again, unless the fd (or socket)
//  signals first: 0 if answers still wait (call again at once), the ms
//  until the next deadline, or -1 if nothing is pending.
int64_t ts_forward_process (ts_forward_t *self);

//  Requests pending: sent or waiting to be, not yet completed.
size_t ts_forward_pending (const ts_forward_t *self);

//  The DEALER, to poll with zmq_poll or zpoller (borrowed). Only
//  ts_forward_process reads from it.
zsock_t *ts_forward_sock (ts_forward_t *self);

//  What to poll the DEALER for: ZMQ_POLLIN, and ZMQ_POLLOUT while a
//  request waits unsent (so the loop wakes when the broker connects).
short ts_forward_poll_events (ts_forward_t *self);

//  The DEALER's ZMQ_FD, for epoll or poll (readable: call
//  ts_forward_process; see above).
int ts_forward_fd (ts_forward_t *self);

//  One blocking round trip for callers without an event loop: sends req
//  to endpoint on a forwarder of its own and waits up to timeout_ms.
//  reply (reset) gets the answer or the error, as a completion would.
//  Returns reply->status.
int ts_forward_call (const char *endpoint, int timeout_ms,
                     const ts_msg_t *req, ts_msg_t *reply);

#endif
