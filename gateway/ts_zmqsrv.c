/*  ts_zmqsrv - the gateway's ZeroMQ front end. See ts_zmqsrv.h.

    One thread, one loop over two sockets: the ROUTER clients talk to,
    and a DEALER to the broker's control socket. The envelope of a
    request is every frame up to the first empty one (ts_envelope); it
    goes back unchanged in front of the reply, so REQ clients, DEALER
    clients and proxies all get their answers.

    Requests the gateway answers itself (ping, query, ids_*) are answered
    at once. A request the broker answers (ts_api_forwarded) never holds
    the loop: after the gateway's own checks (ts_api_forward_check) it
    is parked in a table of pending requests and sent on the DEALER as
    [correlation id][empty][body]; the broker's control socket echoes the
    envelope, so its answer comes back as [correlation id][empty][reply]
    and finds its request, whose client then gets the answer as
    ts_api_broker_reply judges it (502 if malformed). A request not
    answered by its deadline (gateway.broker_timeout_ms) gets 503, and
    an answer arriving after that finds no request and is dropped, so it
    can never be taken for the answer to another request.

    The table is a ring indexed by correlation id: ids are handed out in
    order and every request waits the same time, so deadlines fall in id
    order and the oldest request is always at the head. The DEALER is
    ZMQ_IMMEDIATE: while the broker is not connected a send fails at once
    instead of queueing, and the request waits unsent in the ring (sent
    when the connection comes up) until its deadline; a request that got
    503 because the broker was down is thus never delivered to it later.

    Under load the loop reads every message already queued (up to
    S_DRAIN_MAX per socket) before it polls again (ZMQ_EVENTS costs no
    system call, a poll does), decodes into the same two messages each
    time, and hands encoded replies to libzmq without copying them. It
    polls with a short timeout so a signal delivered to another thread
    (the HTTP pool) still stops it promptly. */

#include "ts_zmqsrv.h"
#include "ts_envelope.h"
#include "ts_log.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  Messages larger than this make libzmq drop the peer; between
//  TS_PROTO_MAX_REQUEST and this, the client gets a 413 reply.
#define S_MAX_MSG_SIZE  (4 * TS_PROTO_MAX_REQUEST)
//  Largest broker answer: a dlq_ls reply can be long.
#define S_MAX_BROKER_MSG (256 << 20)
#define S_POLL_MS       250
#define S_DRAIN_MAX     256     //  messages read per socket per wake
#define S_PENDING_MAX   1024    //  requests waiting for the broker

//  A request forwarded to the broker, waiting for its answer.
typedef struct {
    bool      used;             //  slot holds a request
    uint64_t  corr;             //  its correlation id
    ts_op_t   op;               //  its op, to judge the answer
    int64_t   deadline_ms;      //  monotonic: 503 after this
    zmsg_t   *envelope;         //  the client's envelope, owned
    char     *body;             //  encoded request until sent, owned
    size_t    body_size;
} s_pending_t;

struct _ts_zmqsrv_t {
    ts_api_t *api;              //  borrowed request handler
    zsock_t  *router;           //  bound to gateway.zmq_bind
    zsock_t  *broker;           //  DEALER to gateway.broker_endpoint
    char     *endpoint;         //  endpoint actually bound
    ts_msg_t *request;          //  scratch, reused for every request
    ts_msg_t *reply;            //  scratch, reused for every reply
    s_pending_t *pending;       //  ring of S_PENDING_MAX, by corr id
    uint64_t  head;             //  oldest corr id that may be pending
    uint64_t  next_send;        //  first corr id not sent yet
    uint64_t  next_corr;        //  corr id of the next request
};

ts_zmqsrv_t *
ts_zmqsrv_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    ts_zmqsrv_t *self = calloc (1, sizeof (ts_zmqsrv_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->api = api;
    self->request = ts_msg_new (TS_OP_REPLY);
    self->reply = ts_msg_new (TS_OP_REPLY);
    self->pending = calloc (S_PENDING_MAX, sizeof (s_pending_t));
    if (!self->request || !self->reply || !self->pending) {
        ts_errf (err, "out of memory");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    const char *bind = ts_config_str (cfg, "gateway.zmq_bind");
    self->router = zsock_new (ZMQ_ROUTER);
    self->broker = zsock_new (ZMQ_DEALER);
    if (!self->router || !self->broker) {
        ts_errf (err, "cannot create ZeroMQ socket");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, S_MAX_MSG_SIZE);
    if (zsock_bind (self->router, "%s", bind) < 0) {
        ts_errf (err, "gateway.zmq_bind: cannot bind %s: %s", bind,
                 zmq_strerror (zmq_errno ()));
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->broker, 0);
    zsock_set_immediate (self->broker, 1);
    zsock_set_maxmsgsize (self->broker, S_MAX_BROKER_MSG);
    const char *broker = ts_api_broker_endpoint (api);
    if (zsock_connect (self->broker, "%s", broker) < 0) {
        ts_errf (err, "gateway.broker_endpoint: cannot connect %s: %s",
                 broker, zmq_strerror (zmq_errno ()));
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    char *last = zsock_last_endpoint (self->router);
    self->endpoint = last? last: strdup (bind);
    if (!self->endpoint) {
        ts_errf (err, "out of memory");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    return self;
}

//  Frees what a slot owns and marks it free.
static void
s_pending_clear (s_pending_t *entry)
{
    zmsg_destroy (&entry->envelope);
    free (entry->body);
    entry->body = NULL;
    entry->used = false;
}

void
ts_zmqsrv_destroy (ts_zmqsrv_t **self_p)
{
    if (self_p && *self_p) {
        ts_zmqsrv_t *self = *self_p;
        for (size_t i = 0; self->pending && i < S_PENDING_MAX; i++)
            s_pending_clear (&self->pending [i]);
        free (self->pending);
        zsock_destroy (&self->router);
        zsock_destroy (&self->broker);
        ts_msg_destroy (&self->request);
        ts_msg_destroy (&self->reply);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_zmqsrv_endpoint (const ts_zmqsrv_t *self)
{
    return self->endpoint;
}

//  Decodes a request body into request; on failure fills reply with the
//  error (400, 413) and returns its status, else returns 0.
static int
s_decode (ts_msg_t *request, ts_msg_t *reply, const void *data, size_t size)
{
    ts_msg_reset (request, TS_OP_REPLY);
    ts_msg_reset (reply, TS_OP_REPLY);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (request, data, size, TS_PROTO_MAX_REQUEST, err);
    if (rc == 0 && request->op == TS_OP_REPLY) {
        rc = TS_EPROTO;
        ts_errf (err, "a reply is not a request");
    }
    if (rc == 0)
        return 0;
    ts_debug ("zmq: malformed request: %s", err);
    if (rc == TS_ETOOBIG)
        ts_msg_set_error (reply, 413, "too_big", err);
    else
        ts_msg_set_error (reply, 400, "bad_request",
                          err [0]? err: ts_strerror (rc));
    return reply->status;
}

//  Answers a decoded request the synchronous way (ts_api_handle; a query
//  through ts_api_query and the answer cache) and encodes the reply.
static int
s_answer_decoded (ts_api_t *api, ts_msg_t *request, ts_msg_t *reply,
                  char **reply_data, size_t *reply_size)
{
    if (request->op == TS_OP_QUERY)
        //  Encoded here, or taken from the answer cache.
        ts_api_query (api, request, 'm', ts_msg_encode, reply, reply_data,
                      reply_size);
    else
        ts_api_handle (api, request, reply);
    ts_debug ("zmq %s -> %d", ts_op_name (request->op), reply->status);
    if (*reply_data)
        return 0;
    return ts_msg_encode (reply, reply_data, reply_size);
}

int
ts_zmqsrv_answer (ts_api_t *api, const void *data, size_t size,
                  char **reply_data, size_t *reply_size)
{
    *reply_data = NULL;
    *reply_size = 0;
    ts_msg_t *request = ts_msg_new (TS_OP_REPLY);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    int rc = TS_ENOMEM;
    if (request && reply) {
        if (s_decode (request, reply, data, size))
            rc = ts_msg_encode (reply, reply_data, reply_size);
        else
            rc = s_answer_decoded (api, request, reply, reply_data,
                                   reply_size);
    }
    ts_msg_destroy (&request);
    ts_msg_destroy (&reply);
    return rc;
}

//  Sends reply (or the already encoded data, if not NULL) to the client
//  behind envelope, which is destroyed.
static void
s_send_reply (ts_zmqsrv_t *self, zmsg_t **envelope, const ts_msg_t *reply,
              char *data, size_t size)
{
    if (!data && ts_msg_encode (reply, &data, &size)) {
        ts_error ("zmq: out of memory building a reply");
        zmsg_destroy (envelope);
        return;
    }
    int rc = ts_envelope_send (envelope, self->router, data, size);
    if (rc)
        ts_debug ("zmq: reply not sent: %s", zmq_strerror (rc));
}

//  ---------------------------------------------------------------------
//  Requests forwarded to the broker

static s_pending_t *
s_slot (ts_zmqsrv_t *self, uint64_t corr)
{
    return &self->pending [corr % S_PENDING_MAX];
}

//  True if a pending request waits to be sent; moves next_send past
//  requests settled (timed out) before they could be.
static bool
s_unsent (ts_zmqsrv_t *self)
{
    if (self->next_send < self->head)
        self->next_send = self->head;
    for (; self->next_send < self->next_corr; self->next_send++) {
        s_pending_t *entry = s_slot (self, self->next_send);
        if (entry->used && entry->corr == self->next_send && entry->body)
            return true;
    }
    return false;
}

//  Sends the requests not sent yet, oldest first, until the DEALER
//  refuses one (no broker connected, or its pipe is full).
static void
s_flush (ts_zmqsrv_t *self)
{
    void *handle = zsock_resolve (self->broker);
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

//  Parks a checked request for the broker; the client is answered when
//  the broker answers or the deadline passes. Takes the envelope.
static void
s_forward (ts_zmqsrv_t *self, zmsg_t **envelope, const ts_msg_t *request)
{
    if (self->next_corr - self->head >= S_PENDING_MAX) {
        ts_api_broker_failed (self->api, request->op, TS_ETIMEOUT,
                              "too many requests waiting for the broker",
                              self->reply);
        s_send_reply (self, envelope, self->reply, NULL, 0);
        return;
    }
    s_pending_t *entry = s_slot (self, self->next_corr);
    assert (!entry->used);
    if (ts_msg_encode (request, &entry->body, &entry->body_size)) {
        ts_api_broker_failed (self->api, request->op, TS_ENOMEM,
                              "out of memory", self->reply);
        s_send_reply (self, envelope, self->reply, NULL, 0);
        return;
    }
    entry->used = true;
    entry->corr = self->next_corr++;
    entry->op = request->op;
    entry->deadline_ms = ts_mono_ms () + ts_api_broker_timeout (self->api);
    entry->envelope = *envelope;
    *envelope = NULL;
    s_flush (self);
}

//  Answers the client of entry with self->reply and frees the slot.
static void
s_settle (ts_zmqsrv_t *self, s_pending_t *entry)
{
    ts_debug ("zmq %s -> %d (broker)", ts_op_name (entry->op),
              self->reply->status);
    s_send_reply (self, &entry->envelope, self->reply, NULL, 0);
    s_pending_clear (entry);
}

//  One message from the broker: [corr][empty][reply]. An answer whose
//  request is no longer pending (it timed out) is dropped.
static void
s_broker_message (ts_zmqsrv_t *self, zmsg_t *msg)
{
    zmsg_t *envelope = NULL;
    char err [TS_ERRLEN] = "";
    int rc = ts_envelope_split (msg, false, &envelope, err);
    zframe_t *id = envelope? zmsg_first (envelope): NULL;
    if (!id || zframe_size (id) != 8) {
        ts_warn ("broker %s: answer without a correlation id: dropped",
                 ts_api_broker_endpoint (self->api));
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
        ts_debug ("broker answer to request %" PRIu64 " after its "
                  "deadline: dropped", corr);
        return;
    }
    if (rc == 0)
        ts_api_broker_reply (self->api, entry->op, msg, self->reply);
    else {
        char detail [TS_ERRLEN];
        ts_errf (detail, "bad reply from broker: %s", err);
        ts_api_broker_failed (self->api, entry->op, TS_EPROTO, detail,
                              self->reply);
    }
    s_settle (self, entry);
}

//  Answers 503 to requests past their deadline; moves the head past
//  settled slots. Returns ms until the next deadline, or -1 if none.
static int64_t
s_expire (ts_zmqsrv_t *self)
{
    int64_t now = ts_mono_ms ();
    for (; self->head < self->next_corr; self->head++) {
        s_pending_t *entry = s_slot (self, self->head);
        if (!entry->used || entry->corr != self->head)
            continue;
        if (entry->deadline_ms > now)
            return entry->deadline_ms - now;
        ts_api_broker_failed (self->api, entry->op, TS_ETIMEOUT,
                              "broker did not answer", self->reply);
        s_settle (self, entry);
    }
    return -1;
}

//  ---------------------------------------------------------------------
//  Requests from clients

//  Handles one message from the ROUTER: [envelope...][empty][body].
static void
s_handle (ts_zmqsrv_t *self, zmsg_t *msg)
{
    size_t frames = zmsg_size (msg);
    if (frames < 2) {
        ts_debug ("zmq: dropped a message of %zu frame(s): no reply "
                  "address", frames);
        return;
    }
    zmsg_t *envelope = NULL;
    char err [TS_ERRLEN] = "";
    if (ts_envelope_split (msg, false, &envelope, err)) {
        if (envelope) {
            ts_msg_set_error (self->reply, 400, "bad_request", err);
            s_send_reply (self, &envelope, self->reply, NULL, 0);
        }
        return;
    }
    zframe_t *body = zmsg_first (msg);
    char *data = NULL;
    size_t size = 0;
    if (s_decode (self->request, self->reply, zframe_data (body),
                  zframe_size (body)) == 0) {
        if (ts_api_forwarded (self->request->op)) {
            if (ts_api_forward_check (self->api, self->request,
                                      self->reply) == 0) {
                s_forward (self, &envelope, self->request);
                return;
            }
        }
        else
        if (s_answer_decoded (self->api, self->request, self->reply, &data,
                              &size)) {
            ts_error ("zmq: out of memory building a reply");
            zmsg_destroy (&envelope);
            return;
        }
    }
    s_send_reply (self, &envelope, self->reply, data, size);
}

//  Reads up to S_DRAIN_MAX messages waiting on sock. Returns how many.
static int
s_drain (ts_zmqsrv_t *self, zsock_t *sock,
         void (*handle) (ts_zmqsrv_t *, zmsg_t *))
{
    int n = 0;
    while (n < S_DRAIN_MAX && (zsock_events (sock) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (sock);
        if (!msg)
            break;
        handle (self, msg);
        zmsg_destroy (&msg);
        n++;
    }
    return n;
}

int
ts_zmqsrv_run (ts_zmqsrv_t *self)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->router), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->broker), 0, ZMQ_POLLIN, 0 }
    };
    while (!zsys_interrupted) {
        int64_t wait = s_expire (self);
        if (wait < 0 || wait > S_POLL_MS)
            wait = S_POLL_MS;
        //  Wake when the broker can take what waits unsent.
        items [1].events = ZMQ_POLLIN | (s_unsent (self)? ZMQ_POLLOUT: 0);
        //  Poll only when nothing is queued: a signal or a timeout end
        //  the poll, and the loop looks at the flag.
        if (!(zsock_events (self->router) & ZMQ_POLLIN)
        &&  !(zsock_events (self->broker) & ZMQ_POLLIN)
        &&  zmq_poll (items, 2, (long) wait) == -1 && zmq_errno () != EINTR)
            return -1;
        s_drain (self, self->router, s_handle);
        s_drain (self, self->broker, s_broker_message);
        s_flush (self);
    }
    return 0;
}
