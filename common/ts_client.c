/*  ts_client - request and reply over ZeroMQ with a timeout and a retry
    policy. See ts_client.h.

    A DEALER connected to the server carries every request as
    [correlation id][empty][body]; the server (a gateway's ROUTER, the
    broker's control socket) echoes the envelope, so the answer comes
    back as [correlation id][empty][reply] and finds its request. The
    correlation id is 8 bytes, big endian, counting up from 0 for each
    client (each has its own connection, so ids never meet).

    Pending requests live in a ring indexed by correlation id. A request
    keeps its encoded body until it completes, so that an attempt that
    times out can be sent again (same id: whichever attempt's answer
    comes first completes it, later ones are dropped). An answer whose
    slot no longer holds its request (timed out, cancelled) is dropped.
    The deadline check walks the pending requests from the oldest (at
    most TS_CLIENT_MAX, usually a handful).

    The DEALER is ZMQ_IMMEDIATE: while the server is not connected a send
    fails at once instead of queueing inside libzmq, and the request waits
    unsent in the ring (sent, oldest first, when the connection comes up)
    until its deadline; a request that got 503 because the server was
    down is thus never delivered to it later.

    The judgement of an answer is here too, once for every caller: one
    frame after the envelope, a msgpack reply of the client dialogue, and
    for a 200 to an op that must carry something (stats, dlq_ls,
    job_state) that something; 502 bad_gateway otherwise. Completions are
    called with the slot already free, so a callback may send or cancel
    on the same client. */

#include "ts_client.h"
#include "ts_envelope.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_DRAIN_MAX         256     //  answers read per ts_client_process

//  A request sent to the server, waiting for its answer.
typedef struct {
    bool      used;             //  slot holds a request
    bool      sent;             //  its current attempt went out
    uint64_t  corr;             //  its correlation id
    ts_op_t   op;               //  its op, to judge the answer
    int64_t   deadline_ms;      //  monotonic: this attempt ends
    int       attempts_left;    //  attempts after this one
    void     *ctx;              //  the caller's context
    char     *body;             //  encoded request, owned
    size_t    body_size;        //  bytes in body
} s_pending_t;

struct _ts_client_t {
    zsock_t  *sock;             //  DEALER to the server
    ts_curve_watch_t *watch;    //  logs the server refusing our key
    char     *endpoint;         //  the server's endpoint, for logs
    ts_client_policy_t policy;  //  timeout, retries, peer, max reply
    ts_client_done_fn *done;   //  completion callback
    void     *arg;              //  its first argument
    ts_msg_t *reply;            //  scratch reply handed to done
    s_pending_t *ring;          //  TS_CLIENT_MAX slots, by corr id
    uint64_t  head;             //  oldest corr id that may be pending
    uint64_t  next_send;        //  first corr id not sent yet
    uint64_t  next_corr;        //  corr id of the next request
    size_t    pending;          //  slots in use
    bool      stopping;         //  in ts_client_destroy: refuse sends
};

ts_client_t *
ts_client_new (const char *endpoint, const ts_client_policy_t *policy,
               ts_client_done_fn *done, void *arg, char *err)
{
    ts_client_t *self = calloc (1, sizeof (ts_client_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->policy = *policy;
    if (!self->policy.peer)
        self->policy.peer = "server";
    if (self->policy.retries < 0)
        self->policy.retries = 0;
    self->done = done;
    self->arg = arg;
    self->endpoint = strdup (endpoint);
    self->reply = ts_msg_new (TS_OP_REPLY);
    self->ring = calloc (TS_CLIENT_MAX, sizeof (s_pending_t));
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->endpoint || !self->reply || !self->ring || !self->sock) {
        ts_errf (err, "out of memory");
        ts_client_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_immediate (self->sock, 1);
    if (self->policy.max_reply > 0
    &&  self->policy.max_reply <= (size_t) INT64_MAX)
        zsock_set_maxmsgsize (self->sock, (int64_t) self->policy.max_reply);
    ts_curve_id_apply (self->policy.curve, self->sock);
    self->watch = ts_curve_watch_new (self->policy.curve, self->sock,
                                      self->policy.peer);
    if (zsock_connect (self->sock, "%s", endpoint) < 0) {
        ts_errf (err, "cannot connect %s: %s", endpoint,
                 zmq_strerror (zmq_errno ()));
        ts_client_destroy (&self);
        return NULL;
    }
    return self;
}

static s_pending_t *
s_slot (ts_client_t *self, uint64_t corr)
{
    return &self->ring [corr % TS_CLIENT_MAX];
}

//  Frees what a slot owns and marks it free.
static void
s_clear (ts_client_t *self, s_pending_t *entry)
{
    free (entry->body);
    entry->body = NULL;
    entry->ctx = NULL;
    entry->used = false;
    self->pending--;
}

//  Frees the slot of entry, then hands self->reply to the callback.
static void
s_complete (ts_client_t *self, s_pending_t *entry, int rc)
{
    void *ctx = entry->ctx;
    ts_op_t op = entry->op;
    ts_debug ("%s %s -> %d", self->policy.peer, ts_op_name (op),
              self->reply->status);
    s_clear (self, entry);
    self->done (self->arg, ctx, op, rc, self->reply);
}

void
ts_client_destroy (ts_client_t **self_p)
{
    if (self_p && *self_p) {
        ts_client_t *self = *self_p;
        self->stopping = true;
        for (; self->ring && self->head < self->next_corr; self->head++) {
            s_pending_t *entry = s_slot (self, self->head);
            if (!entry->used)
                continue;
            ts_msg_set_error (self->reply, 503, "unavailable",
                              "client is stopping");
            s_complete (self, entry, TS_EINVAL);
        }
        free (self->ring);
        ts_curve_watch_destroy (&self->watch);
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
s_failed (ts_client_t *self, ts_op_t op, int code, const char *detail,
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

//  Judges the body frame of the server's answer to a request of op into
//  self->reply: the server's reply as it is (returns 0), or 502 (returns
//  TS_EPROTO, or TS_ENOMEM with 500).
static int
s_judge (ts_client_t *self, ts_op_t op, zframe_t *frame)
{
    char err [TS_ERRLEN] = "";
    char detail [TS_ERRLEN] = "";
    ts_msg_t *reply = self->reply;
    size_t max = self->policy.max_reply? self->policy.max_reply: SIZE_MAX;
    int rc = ts_msg_decode_in (reply, TS_DIALOGUE_REPLIES,
                               zframe_data (frame), zframe_size (frame),
                               max, detail);
    const char *missing = rc == 0? s_required_key (op, reply): NULL;
    if (rc == 0 && reply->status == 200 && missing)
        ts_errf (err, "bad reply from %s: %s answer without '%s'",
                 self->policy.peer, ts_op_name (op), missing);
    else
    if (rc != 0)
        ts_errf (err, "bad reply from %s: %s", self->policy.peer, detail);
    else
        return 0;
    rc = rc == TS_ENOMEM? rc: TS_EPROTO;
    s_failed (self, op, rc, err, reply);
    return rc;
}

//  One message from the server: [corr][empty][reply]. An answer whose
//  request is no longer pending (timed out, cancelled) is dropped.
static void
s_answer (ts_client_t *self, zmsg_t *msg)
{
    zmsg_t *envelope = NULL;
    char err [TS_ERRLEN] = "";
    int rc = ts_envelope_split (msg, false, &envelope, err);
    zframe_t *id = envelope? zmsg_first (envelope): NULL;
    if (!id || zframe_size (id) != 8) {
        ts_warn ("%s %s: answer without a correlation id: dropped",
                 self->policy.peer, self->endpoint);
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
        ts_debug ("%s answer to request %" PRIu64 ", no longer pending: "
                  "dropped", self->policy.peer, corr);
        return;
    }
    if (rc == 0)
        rc = s_judge (self, entry->op, zmsg_first (msg));
    else {
        char detail [TS_ERRLEN];
        ts_errf (detail, "bad reply from %s: %s", self->policy.peer, err);
        s_failed (self, entry->op, TS_EPROTO, detail, self->reply);
        rc = TS_EPROTO;
    }
    s_complete (self, entry, rc);
}

//  Moves the head past free slots.
static void
s_skip_free (ts_client_t *self)
{
    while (self->head < self->next_corr
       &&  !s_slot (self, self->head)->used)
        self->head++;
}

//  Ends attempts past their deadline: sends the request again if it has
//  attempts left, else answers 503. Returns ms until the next deadline,
//  or -1 if nothing is pending.
static int64_t
s_expire (ts_client_t *self)
{
    int64_t now = ts_mono_ms ();
    int64_t wait = -1;
    s_skip_free (self);
    for (uint64_t corr = self->head; corr < self->next_corr; corr++) {
        s_pending_t *entry = s_slot (self, corr);
        if (!entry->used)
            continue;
        if (entry->deadline_ms <= now && entry->attempts_left > 0) {
            ts_debug ("%s %s: no answer in %d ms, sent again",
                      self->policy.peer, ts_op_name (entry->op),
                      self->policy.timeout_ms);
            entry->attempts_left--;
            entry->deadline_ms = now + self->policy.timeout_ms;
            entry->sent = false;
            if (self->next_send > corr)
                self->next_send = corr;
        }
        if (entry->deadline_ms <= now) {
            char detail [TS_ERRLEN];
            ts_errf (detail, "%s did not answer", self->policy.peer);
            s_failed (self, entry->op, TS_ETIMEOUT, detail, self->reply);
            s_complete (self, entry, TS_ETIMEOUT);
            continue;
        }
        int64_t left = entry->deadline_ms - now;
        if (wait < 0 || left < wait)
            wait = left;
    }
    s_skip_free (self);
    return wait;
}

//  True if a pending request waits to be sent; moves next_send past
//  requests sent or settled.
static bool
s_unsent (ts_client_t *self)
{
    if (self->next_send < self->head)
        self->next_send = self->head;
    for (; self->next_send < self->next_corr; self->next_send++) {
        s_pending_t *entry = s_slot (self, self->next_send);
        if (entry->used && !entry->sent)
            return true;
    }
    return false;
}

//  Sends the requests not sent yet, oldest first, until the DEALER
//  refuses one (no server connected, or its pipe is full).
static void
s_flush (ts_client_t *self)
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
        entry->sent = true;
    }
}

int
ts_client_send (ts_client_t *self, const ts_msg_t *req, void *ctx,
                ts_msg_t *reply)
{
    s_skip_free (self);
    if (self->stopping) {
        ts_msg_set_error (reply, 503, "unavailable", "client is stopping");
        return reply->status;
    }
    if (self->next_corr - self->head >= TS_CLIENT_MAX) {
        char detail [TS_ERRLEN];
        ts_errf (detail, "too many requests waiting for the %s",
                 self->policy.peer);
        s_failed (self, req->op, TS_ETIMEOUT, detail, reply);
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
    entry->sent = false;
    entry->corr = self->next_corr++;
    entry->op = req->op;
    entry->ctx = ctx;
    entry->deadline_ms = ts_mono_ms () + self->policy.timeout_ms;
    entry->attempts_left = self->policy.retries;
    self->pending++;
    s_flush (self);
    return 0;
}

size_t
ts_client_cancel (ts_client_t *self, void *ctx)
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
ts_client_process (ts_client_t *self)
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
ts_client_pending (const ts_client_t *self)
{
    return self->pending;
}

zsock_t *
ts_client_sock (ts_client_t *self)
{
    return self->sock;
}

short
ts_client_poll_events (ts_client_t *self)
{
    return ZMQ_POLLIN | (s_unsent (self)? ZMQ_POLLOUT: 0);
}

int
ts_client_fd (ts_client_t *self)
{
    return zsock_fd (self->sock);
}

//  ---------------------------------------------------------------------
//  A blocking round trip

typedef struct {
    bool done;                  //  the completion came
    int  rc;                    //  its rc
} s_call_t;

static void
s_call_done (void *arg, void *ctx, ts_op_t op, int rc, ts_msg_t *reply)
{
    s_call_t *call = arg;
    call->done = true;
    call->rc = rc;
}

int
ts_client_call (const char *endpoint, const ts_client_policy_t *policy,
                const ts_msg_t *req, ts_msg_t *reply)
{
    s_call_t call = { false, 0 };
    char err [TS_ERRLEN] = "";
    ts_client_t *self = ts_client_new (endpoint, policy, s_call_done, &call,
                                       err);
    if (!self) {
        ts_warn ("%s: %s", ts_op_name (req->op), err);
        ts_msg_set_error (reply, 503, "unavailable", err);
        return TS_EINVAL;
    }
    //  The completion is written straight into the caller's reply.
    ts_msg_t *scratch = self->reply;
    self->reply = reply;
    if (ts_client_send (self, req, NULL, reply) != 0)
        call.rc = reply->status == 500? TS_ENOMEM: TS_ETIMEOUT;
    else
        while (!call.done) {
            int64_t wait = ts_client_process (self);
            if (call.done || wait == 0)
                continue;
            zmq_pollitem_t item = { zsock_resolve (self->sock), 0,
                                    ts_client_poll_events (self), 0 };
            if (zmq_poll (&item, 1, (long) wait) == -1 && zsys_interrupted) {
                ts_msg_set_error (reply, 503, "unavailable", "interrupted");
                ts_client_cancel (self, NULL);
                call.rc = EINTR;
                break;
            }
        }
    self->reply = scratch;
    ts_client_destroy (&self);
    return call.rc;
}
