/*  ts_zmqsrv - the gateway's ZeroMQ front end. See ts_zmqsrv.h.

    One ROUTER in the main thread, polled with a short timeout so a signal
    delivered to another thread (the HTTP pool) still stops the loop
    promptly. The envelope is every frame up to the first empty one; it is
    sent back unchanged in front of the reply, so REQ clients, DEALER
    clients and proxies all get their answers.

    Under load the loop reads every message already queued before it
    polls again (ZMQ_EVENTS costs no system call, a poll does), decodes
    into the same two messages each time, and hands the encoded reply to
    libzmq without copying it (zmq_msg_init_data with free). */

#include "ts_zmqsrv.h"
#include "ts_log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  Messages larger than this make libzmq drop the peer; between
//  TS_PROTO_MAX_REQUEST and this, the client gets a 413 reply.
#define S_MAX_MSG_SIZE  (4 * TS_PROTO_MAX_REQUEST)
#define S_POLL_MS       250

struct _ts_zmqsrv_t {
    ts_api_t *api;          //  borrowed request handler
    zsock_t  *router;       //  bound to gateway.zmq_bind
    char     *endpoint;     //  endpoint actually bound
    ts_msg_t *request;      //  scratch, reused for every request
    ts_msg_t *reply;        //  scratch, reused for every reply
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
    if (!self->request || !self->reply) {
        ts_errf (err, "out of memory");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    const char *bind = ts_config_str (cfg, "gateway.zmq_bind");
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
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
    char *last = zsock_last_endpoint (self->router);
    self->endpoint = last? last: strdup (bind);
    if (!self->endpoint) {
        ts_errf (err, "out of memory");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    return self;
}

void
ts_zmqsrv_destroy (ts_zmqsrv_t **self_p)
{
    if (self_p && *self_p) {
        ts_zmqsrv_t *self = *self_p;
        zsock_destroy (&self->router);
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

//  Encodes an error reply. Returns 0 or TS_ENOMEM.
static int
s_encode_error (int status, const char *error, const char *detail,
                char **out, size_t *out_size)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    if (!msg)
        return TS_ENOMEM;
    ts_msg_set_error (msg, status, error, detail);
    int rc = ts_msg_encode (msg, out, out_size);
    ts_msg_destroy (&msg);
    return rc;
}

//  Answers one request body with the given scratch messages; see
//  ts_zmqsrv_answer.
static int
s_answer (ts_api_t *api, ts_msg_t *request, ts_msg_t *reply,
          const void *data, size_t size, char **reply_data,
          size_t *reply_size)
{
    *reply_data = NULL;
    *reply_size = 0;
    ts_msg_reset (request, TS_OP_REPLY);
    ts_msg_reset (reply, TS_OP_REPLY);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (request, data, size, TS_PROTO_MAX_REQUEST, err);
    if (rc == 0 && request->op == TS_OP_REPLY) {
        rc = TS_EPROTO;
        ts_errf (err, "a reply is not a request");
    }
    if (rc == TS_ETOOBIG)
        ts_msg_set_error (reply, 413, "too_big", err);
    else
    if (rc)
        ts_msg_set_error (reply, 400, "bad_request",
                          err [0]? err: ts_strerror (rc));
    else
    if (request->op == TS_OP_QUERY)
        //  Encoded here, or taken from the answer cache.
        ts_api_query (api, request, 'm', ts_msg_encode, reply, reply_data,
                      reply_size);
    else
        ts_api_handle (api, request, reply);
    if (rc)
        ts_debug ("zmq: malformed request: %s", err);
    else
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
    if (request && reply)
        rc = s_answer (api, request, reply, data, size, reply_data,
                       reply_size);
    ts_msg_destroy (&request);
    ts_msg_destroy (&reply);
    return rc;
}

//  Frees a reply body once libzmq has sent it.
static void
s_free_body (void *data, void *hint)
{
    free (data);
}

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
    //  The envelope ends at the first empty frame.
    size_t delimiter = 0;
    size_t index = 0;
    for (zframe_t *frame = zmsg_first (msg); frame;
         frame = zmsg_next (msg), index++)
        if (index > 0 && zframe_size (frame) == 0) {
            delimiter = index;
            break;
        }
    char *data = NULL;
    size_t size = 0;
    int rc;
    zmsg_t *answer = zmsg_new ();
    if (!answer)
        return;
    if (delimiter == 0) {
        //  No delimiter: answer the routing id alone, as sent.
        zframe_t *id = zmsg_pop (msg);
        zmsg_append (answer, &id);
        rc = s_encode_error (400, "bad_request", "expected an empty "
                             "delimiter frame before the body", &data, &size);
    }
    else {
        for (size_t i = 0; i <= delimiter; i++) {
            zframe_t *frame = zmsg_pop (msg);
            zmsg_append (answer, &frame);
        }
        size_t bodies = zmsg_size (msg);
        if (bodies == 1) {
            zframe_t *body = zmsg_first (msg);
            rc = s_answer (self->api, self->request, self->reply,
                           zframe_data (body), zframe_size (body), &data,
                           &size);
        }
        else {
            char detail [TS_ERRLEN];
            ts_errf (detail, "expected one body frame after the delimiter, "
                     "got %zu", bodies);
            rc = s_encode_error (400, "bad_request", detail, &data, &size);
        }
    }
    if (rc != 0) {
        ts_error ("zmq: out of memory building a reply");
        zmsg_destroy (&answer);
        return;
    }
    //  The envelope, then the body handed over without a copy.
    zframe_t *frame;
    bool sent = true;
    while (sent && (frame = zmsg_pop (answer)))
        sent = zframe_send (&frame, self->router, ZFRAME_MORE) == 0;
    zmsg_destroy (&answer);
    zmq_msg_t body;
    if (!sent || zmq_msg_init_data (&body, data, size, s_free_body, NULL)) {
        free (data);
        ts_debug ("zmq: reply not sent: %s", zmq_strerror (zmq_errno ()));
        return;
    }
    if (zmq_msg_send (&body, zsock_resolve (self->router), 0) == -1) {
        ts_debug ("zmq: reply not sent: %s", zmq_strerror (zmq_errno ()));
        zmq_msg_close (&body);          //  frees data
    }
}

int
ts_zmqsrv_run (ts_zmqsrv_t *self)
{
    zpoller_t *poller = zpoller_new (self->router, NULL);
    if (!poller)
        return -1;
    while (!zsys_interrupted) {
        //  Poll only when nothing is queued; NULL on timeout or on a
        //  signal: either way look at the flag.
        if (!(zsock_events (self->router) & ZMQ_POLLIN)
        &&  !zpoller_wait (poller, S_POLL_MS))
            continue;
        zmsg_t *msg = zmsg_recv (self->router);
        if (!msg)
            continue;
        s_handle (self, msg);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return 0;
}
