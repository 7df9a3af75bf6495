/*  ts_forward - an asynchronous client of the broker's control socket for
    one thread's event loop. See ts_forward.h.

    A DEALER connected to gateway.broker_endpoint carries every request
    as [correlation id][empty][body]; the broker's control socket echoes
    the envelope, so the answer comes back as [correlation id][empty]
    [reply] and finds its request. The correlation id is 8 bytes, big
    endian, counting up from 0 for each forwarder (each has its own
    connection, so ids never meet).

    Pending requests live in a ring indexed by correlation id: ids are
    handed out in order and every request waits the same time, so
    deadlines fall in id order and the oldest request is always at the
    head; the deadline check looks at the head only. A request cancelled
    or answered leaves a free slot behind, which the head skips. An
    answer whose slot no longer holds its request (timed out, cancelled)
    is dropped.

    The DEALER is ZMQ_IMMEDIATE: while the broker is not connected a send
    fails at once instead of queueing inside libzmq, and the request waits
    unsent in the ring (sent, oldest first, when the connection comes up)
    until its deadline; a request that got 503 because the broker was
    down is thus never delivered to it later.

    The judgement of an answer is here too, once for every front end: one
    frame after the envelope, a msgpack reply, and for a 200 to an op that
    must carry something (stats, dlq_ls, job_state) that something; 502
    bad_gateway otherwise. Completions are called with the slot already
    free, so a callback may send or cancel on the same forwarder. */

#include "ts_forward.h"
#include "ts_envelope.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  Largest broker answer: a dlq_ls reply can list many entries.
#define S_MAX_BROKER_MSG    (256 << 20)
#define S_DRAIN_MAX         256     //  answers read per ts_forward_process

//  A request forwarded to the broker, waiting for its answer.
typedef struct {
    bool      used;             //  slot holds a request
    uint64_t  corr;             //  its correlation id
    ts_op_t   op;               //  its op, to judge the answer
    int64_t   deadline_ms;      //  monotonic: 503 after this
    void     *ctx;              //  the caller's context
    char     *body;             //  encoded request until sent, owned
    size_t    body_size;        //  bytes in body
} s_pending_t;

struct _ts_forward_t {
    zsock_t  *sock;             //  DEALER to the broker
    char     *endpoint;         //  gateway.broker_endpoint, for logs
    int       timeout_ms;       //  how long a request waits
    ts_forward_done_fn *done;   //  completion callback
    void     *arg;              //  its first argument
    ts_msg_t *reply;            //  scratch reply handed to done
    s_pending_t *ring;          //  TS_FORWARD_MAX slots, by corr id
    uint64_t  head;             //  oldest corr id that may be pending
    uint64_t  next_send;        //  first corr id not sent yet
    uint64_t  next_corr;        //  corr id of the next request
    size_t    pending;          //  slots in use
    bool      stopping;         //  in ts_forward_destroy: refuse sends
};

ts_forward_t *
ts_forward_new (const char *endpoint, int timeout_ms,
                ts_forward_done_fn *done, void *arg, char *err)
{
    ts_forward_t *self = calloc (1, sizeof (ts_forward_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    self->done = done;
    self->arg = arg;
    self->endpoint = strdup (endpoint);
    self->reply = ts_msg_new (TS_OP_REPLY);
    self->ring = calloc (TS_FORWARD_MAX, sizeof (s_pending_t));
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->endpoint || !self->reply || !self->ring || !self->sock) {
        ts_errf (err, "out of memory");
        ts_forward_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_immediate (self->sock, 1);
    zsock_set_maxmsgsize (self->sock, S_MAX_BROKER_MSG);
    if (zsock_connect (self->sock, "%s", endpoint) < 0) {
        ts_errf (err, "gateway.broker_endpoint: cannot connect %s: %s",
                 endpoint, zmq_strerror (zmq_errno ()));
        ts_forward_destroy (&self);
        return NULL;
    }
    return self;
}

static s_pending_t *
s_slot (ts_forward_t *self, uint64_t corr)
{
    return &self->ring [corr % TS_FORWARD_MAX];
}

//  Frees what a slot owns and marks it free.
static void
s_clear (ts_forward_t *self, s_pending_t *entry)
{
    free (entry->body);
    entry->body = NULL;
    entry->ctx = NULL;
    entry->used = false;
    self->pending--;
}

//  Frees the slot of entry, then hands self->reply to the callback.
static void
s_complete (ts_forward_t *self, s_pending_t *entry)
{
    void *ctx = entry->ctx;
    ts_op_t op = entry->op;
    ts_debug ("broker %s -> %d", ts_op_name (op), self->reply->status);
    s_clear (self, entry);
    self->done (self->arg, ctx, op, self->reply);
}

void
ts_forward_destroy (ts_forward_t **self_p)
{
    if (self_p && *self_p) {
        ts_forward_t *self = *self_p;
        self->stopping = true;
        for (; self->ring && self->head < self->next_corr; self->head++) {
            s_pending_t *entry = s_slot (self, self->head);
            if (!entry->used)
                continue;
            ts_msg_set_error (self->reply, 503, "unavailable",
                              "gateway is stopping");
            s_complete (self, entry);
        }
        free (self->ring);
        zsock_destroy (&self->sock);
        ts_msg_destroy (&self->reply);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

//  Fills reply (reset) with the error of a request of op that got no
//  usable answer, and logs it at warn: TS_ETIMEOUT gives 503
//  unavailable, TS_ENOMEM 500 internal, anything else 502 bad_gateway.
static void
s_failed (ts_forward_t *self, ts_op_t op, int code, const char *detail,
          ts_msg_t *reply)
{
    if (code == TS_ETIMEOUT) {
        ts_warn ("%s: %s (%s)", ts_op_name (op), detail, self->endpoint);
        ts_msg_set_error (reply, 503, "unavailable", detail);
    }
    else {
        ts_warn ("%s: %s", ts_op_name (op), detail);
        ts_msg_set_error (reply, code == TS_ENOMEM? 500: 502,
                          code == TS_ENOMEM? "internal": "bad_gateway",
                          detail);
    }
}

//  The key a 200 answer to op must carry, or NULL if it needs none.
static const char *
s_required_key (ts_op_t op, const ts_msg_t *reply)
{
    if (op == TS_OP_STATS && !reply->has_stats)
        return "stats";
    if (op == TS_OP_DLQ_LS && !reply->has_dlq)
        return "dlq";
    if (op == TS_OP_JOB_STATE && !reply->has_states)
        return "states";
    return NULL;
}

//  Judges the body frame of the broker's answer to a request of op into
//  self->reply: the broker's reply as it is, or 502.
static void
s_judge (ts_forward_t *self, ts_op_t op, zframe_t *frame)
{
    char err [TS_ERRLEN] = "";
    char detail [TS_ERRLEN] = "";
    ts_msg_t *reply = self->reply;
    int rc = ts_msg_decode (reply, zframe_data (frame), zframe_size (frame),
                            S_MAX_BROKER_MSG, detail);
    const char *missing = rc == 0? s_required_key (op, reply): NULL;
    if (rc == 0 && reply->op != TS_OP_REPLY)
        ts_errf (err, "bad reply from broker: not a reply");
    else
    if (rc == 0 && reply->status == 200 && missing)
        ts_errf (err, "bad reply from broker: %s answer without '%s'",
                 ts_op_name (op), missing);
    else
    if (rc != 0)
        ts_errf (err, "bad reply from broker: %s", detail);
    else
        return;
    s_failed (self, op, rc == TS_ENOMEM? rc: TS_EPROTO, err, reply);
}

//  One message from the broker: [corr][empty][reply]. An answer whose
//  request is no longer pending (timed out, cancelled) is dropped.
static void
s_answer (ts_forward_t *self, zmsg_t *msg)
{
    zmsg_t *envelope = NULL;
    char err [TS_ERRLEN] = "";
    int rc = ts_envelope_split (msg, false, &envelope, err);
    zframe_t *id = envelope? zmsg_first (envelope): NULL;
    if (!id || zframe_size (id) != 8) {
        ts_warn ("broker %s: answer without a correlation id: dropped",
                 self->endpoint);
        zmsg_destroy (&envelope);
        return;
    }
    uint64_t corr = 0;
    for (int i = 0; i < 8; i++)
        corr = (corr << 8) | zframe_data (id) [i];
    zmsg_destroy (&envelope);
    s_pending_t *entry = s_slot (self, corr);
    if (corr < self->head || corr >= self->next_corr || !entry->used
    ||  entry->corr != corr) {
        ts_debug ("broker answer to request %" PRIu64 ", no longer "
                  "pending: dropped", corr);
        return;
    }
    if (rc == 0)
        s_judge (self, entry->op, zmsg_first (msg));
    else {
        char detail [TS_ERRLEN];
        ts_errf (detail, "bad reply from broker: %s", err);
        s_failed (self, entry->op, TS_EPROTO, detail, self->reply);
    }
    s_complete (self, entry);
}

//  Moves the head past free slots.
static void
s_skip_free (ts_forward_t *self)
{
    while (self->head < self->next_corr
       &&  !s_slot (self, self->head)->used)
        self->head++;
}

//  Answers 503 to requests past their deadline. Returns ms until the next
//  deadline, or -1 if nothing is pending.
static int64_t
s_expire (ts_forward_t *self)
{
    int64_t now = ts_mono_ms ();
    for (s_skip_free (self); self->head < self->next_corr;
         s_skip_free (self)) {
        s_pending_t *entry = s_slot (self, self->head);
        if (entry->deadline_ms > now)
            return entry->deadline_ms - now;
        s_failed (self, entry->op, TS_ETIMEOUT, "broker did not answer",
                  self->reply);
        s_complete (self, entry);
    }
    return -1;
}

//  True if a pending request waits to be sent; moves next_send past
//  requests settled before they could be.
static bool
s_unsent (ts_forward_t *self)
{
    if (self->next_send < self->head)
        self->next_send = self->head;
    for (; self->next_send < self->next_corr; self->next_send++) {
        s_pending_t *entry = s_slot (self, self->next_send);
        if (entry->used && entry->body)
            return true;
    }
    return false;
}

//  Sends the requests not sent yet, oldest first, until the DEALER
//  refuses one (no broker connected, or its pipe is full).
static void
s_flush (ts_forward_t *self)
{
    void *handle = zsock_resolve (self->sock);
    for (; s_unsent (self); self->next_send++) {
        s_pending_t *entry = s_slot (self, self->next_send);
        byte corr [8];
        for (int i = 0; i < 8; i++)
            corr [i] = (byte) (entry->corr >> (56 - 8 * i));
        //  Only the first frame can fail: the rest of a message follows.
        if (zmq_send (handle, corr, sizeof corr, ZMQ_SNDMORE | ZMQ_DONTWAIT)
            == -1)
            return;
        zmq_send (handle, "", 0, ZMQ_SNDMORE);
        zmq_send (handle, entry->body, entry->body_size, 0);
        free (entry->body);
        entry->body = NULL;
    }
}

int
ts_forward_send (ts_forward_t *self, const ts_msg_t *req, void *ctx,
                 ts_msg_t *reply)
{
    s_skip_free (self);
    if (self->stopping) {
        ts_msg_set_error (reply, 503, "unavailable", "gateway is stopping");
        return reply->status;
    }
    if (self->next_corr - self->head >= TS_FORWARD_MAX) {
        s_failed (self, req->op, TS_ETIMEOUT,
                  "too many requests waiting for the broker", reply);
        return reply->status;
    }
    s_pending_t *entry = s_slot (self, self->next_corr);
    assert (!entry->used);
    if (ts_msg_encode (req, &entry->body, &entry->body_size)) {
        entry->body = NULL;
        s_failed (self, req->op, TS_ENOMEM, "out of memory", reply);
        return reply->status;
    }
    entry->used = true;
    entry->corr = self->next_corr++;
    entry->op = req->op;
    entry->ctx = ctx;
    entry->deadline_ms = ts_mono_ms () + self->timeout_ms;
    self->pending++;
    s_flush (self);
    return 0;
}

size_t
ts_forward_cancel (ts_forward_t *self, void *ctx)
{
    size_t n = 0;
    for (uint64_t corr = self->head; corr < self->next_corr; corr++) {
        s_pending_t *entry = s_slot (self, corr);
        if (entry->used && entry->ctx == ctx) {
            s_clear (self, entry);
            n++;
        }
    }
    return n;
}

int64_t
ts_forward_process (ts_forward_t *self)
{
    for (int n = 0; n < S_DRAIN_MAX
                 && (zsock_events (self->sock) & ZMQ_POLLIN); n++) {
        zmsg_t *msg = zmsg_recv (self->sock);
        if (!msg)
            break;
        s_answer (self, msg);
        zmsg_destroy (&msg);
    }
    int64_t wait = s_expire (self);
    s_flush (self);
    //  Reading and sending consume the fd's edge: look again.
    if (zsock_events (self->sock) & ZMQ_POLLIN)
        return 0;
    return wait;
}

size_t
ts_forward_pending (const ts_forward_t *self)
{
    return self->pending;
}

zsock_t *
ts_forward_sock (ts_forward_t *self)
{
    return self->sock;
}

short
ts_forward_poll_events (ts_forward_t *self)
{
    return ZMQ_POLLIN | (s_unsent (self)? ZMQ_POLLOUT: 0);
}

int
ts_forward_fd (ts_forward_t *self)
{
    return zsock_fd (self->sock);
}

//  ---------------------------------------------------------------------
//  A blocking round trip

static void
s_call_done (void *arg, void *ctx, ts_op_t op, ts_msg_t *reply)
{
    *(bool *) arg = true;
}

int
ts_forward_call (const char *endpoint, int timeout_ms, const ts_msg_t *req,
                 ts_msg_t *reply)
{
    bool done = false;
    char err [TS_ERRLEN] = "";
    ts_forward_t *self = ts_forward_new (endpoint, timeout_ms, s_call_done,
                                         &done, err);
    if (!self) {
        ts_warn ("%s: %s", ts_op_name (req->op), err);
        ts_msg_set_error (reply, 503, "unavailable", err);
        return reply->status;
    }
    //  The completion is written straight into the caller's reply.
    ts_msg_t *scratch = self->reply;
    self->reply = reply;
    if (ts_forward_send (self, req, NULL, reply) == 0)
        while (!done) {
            int64_t wait = ts_forward_process (self);
            if (done || wait == 0)
                continue;
            zmq_pollitem_t item = { zsock_resolve (self->sock), 0,
                                    ts_forward_poll_events (self), 0 };
            zmq_poll (&item, 1, (long) wait);
        }
    self->reply = scratch;
    ts_forward_destroy (&self);
    return reply->status;
}
