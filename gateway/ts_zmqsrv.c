/*  ts_zmqsrv - the gateway's ZeroMQ front end. See ts_zmqsrv.h.

    One thread, one loop over two sockets: the ROUTER clients talk to,
    and the DEALER of a forwarder (ts_client) to the broker's control
    socket. The envelope of a request is every frame up to the first
    empty one (ts_envelope); it goes back unchanged in front of the
    reply, so REQ clients, DEALER clients and proxies all get their
    answers.

    Requests the gateway answers itself (ping, query, ids_*) are answered
    at once. A request the broker answers (ts_api_forwarded) never holds
    the loop: after the gateway's own checks (ts_api_forward_check) it
    goes to the forwarder with the client's envelope as its context, and
    the forwarder's completion (the broker's answer, or 502/503 as
    ts_client judges) is sent behind that envelope.

    Under load the loop reads every message already queued (up to
    S_DRAIN_MAX) before it polls again (ZMQ_EVENTS costs no system call,
    a poll does), decodes into the same two messages each time, and hands
    encoded replies to libzmq without copying them. It polls with a short
    timeout so a signal delivered to another thread (the HTTP pool)
    still stops it promptly. */

#include "ts_zmqsrv.h"
#include "ts_daemon.h"
#include "ts_envelope.h"
#include "ts_client.h"
#include "ts_log.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

//  Messages larger than this make libzmq drop the peer; between
//  TS_PROTO_MAX_REQUEST and this, the client gets a 413 reply.
#define S_MAX_MSG_SIZE  (4 * TS_PROTO_MAX_REQUEST)
#define S_POLL_MS       250
#define S_DRAIN_MAX     256     //  client messages read per wake
#define S_RESUME_MS     50      //  parked queries' deadlines checked

struct _ts_zmqsrv_t {
    ts_api_t *api;              //  borrowed request handler
    ts_curve_t *curve;          //  the ZAP handler: clients' keys, roles
    zsock_t  *router;           //  bound to gateway.zmq_bind
    ts_client_t *forward;      //  to the broker; contexts: envelopes
    char     *endpoint;         //  endpoint actually bound
    ts_msg_t *request;          //  scratch, reused for every request
    ts_msg_t *reply;            //  scratch, reused for every reply
    ts_ready_t *ready;          //  borrowed: told when the broker answers
    ts_msg_t *probe;            //  the readiness ping to the broker
    bool      probe_off;        //  no readiness pings (tests)
    bool      probe_pending;    //  the ping waits for its answer
    int64_t   next_probe_ms;    //  monotonic: when to ping next
    struct s_parked_t *parked;  //  queries waiting for their read-through
                                //  fetch, newest first
    int       wake_fd;          //  eventfd: a fetch ended, -1 if off
    int64_t   next_resume_ms;   //  monotonic: when to look at parked
};

//  A query parked for its read-through fetch: its client's envelope, the
//  request as it came (decoded again to answer it) and its wait.
typedef struct s_parked_t {
    struct s_parked_t *next;
    zmsg_t   *envelope;
    zframe_t *body;
    char      rid [TS_RID_MAX + 1];
    ts_api_wait_t wait;
} s_parked_t;

static ts_client_done_fn s_forwarded;
static void s_resume (ts_zmqsrv_t *self, int64_t now_ms);

//  The context of the readiness ping: no client waits for it.
static char s_probe_tag;

ts_zmqsrv_t *
ts_zmqsrv_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    ts_zmqsrv_t *self = calloc (1, sizeof (ts_zmqsrv_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->api = api;
    self->wake_fd = -1;
    self->ready = ts_api_ready (api);
    self->request = ts_msg_new (TS_OP_REPLY);
    self->reply = ts_msg_new (TS_OP_REPLY);
    self->probe = ts_msg_new (TS_OP_PING);
    if (!self->request || !self->reply || !self->probe) {
        ts_errf (err, "out of memory");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    const char *bind = ts_config_str (cfg, "gateway.zmq_bind");
    self->router = zsock_new (ZMQ_ROUTER);
    self->curve = ts_curve_new (cfg, "tscache-gateway", err);
    if (!self->router || !self->curve) {
        ts_errf (err, "cannot create ZeroMQ socket");
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, S_MAX_MSG_SIZE);
    ts_curve_check_bind (self->curve, "gateway.zmq_bind");
    if (ts_curve_allow (self->curve, TS_ZAP_CLIENTS,
                        "security.read_clients_dir", TS_ROLE_READ, err)
    ||  ts_curve_allow (self->curve, TS_ZAP_CLIENTS,
                        "security.admin_clients_dir", TS_ROLE_ADMIN, err)
    ||  ts_curve_server (self->curve, self->router, "security.gateway_cert",
                         TS_ZAP_CLIENTS, err)) {
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    if (zsock_bind (self->router, "%s", bind) < 0) {
        ts_errf (err, "gateway.zmq_bind: cannot bind %s: %s", bind,
                 zmq_strerror (zmq_errno ()));
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    self->forward = ts_client_new (ts_api_broker_endpoint (api),
                                   ts_api_broker_policy (api), s_forwarded,
                                   self, err);
    if (!self->forward) {
        ts_zmqsrv_destroy (&self);
        return NULL;
    }
    if (ts_api_flights (api)) {
        self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (self->wake_fd < 0
        ||  ts_flight_watch (ts_api_flights (api), self->wake_fd)) {
            ts_errf (err, "cannot start: read-through wake-up");
            ts_zmqsrv_destroy (&self);
            return NULL;
        }
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
        //  Parked queries are answered (202 if still without data), and
        //  clients still waiting for the broker get 503, while the
        //  ROUTER is there to send it.
        s_resume (self, INT64_MAX);
        if (self->wake_fd >= 0) {
            ts_flight_unwatch (ts_api_flights (self->api), self->wake_fd);
            close (self->wake_fd);
        }
        ts_client_destroy (&self->forward);
        zsock_destroy (&self->router);
        ts_curve_destroy (&self->curve);
        ts_msg_destroy (&self->request);
        ts_msg_destroy (&self->reply);
        ts_msg_destroy (&self->probe);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

void
ts_zmqsrv_set_probe (ts_zmqsrv_t *self, bool on)
{
    self->probe_off = !on;
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
    int rc = ts_msg_decode_in (request, TS_DIALOGUE_CLIENT, data, size,
                               TS_PROTO_MAX_REQUEST, err);
    if (rc == 0)
        return 0;
    ts_debug ("zmq: malformed request: %s", err);
    if (rc == TS_ETOOBIG)
        ts_msg_set_error (reply, 413, "too_big", err);
    else
    if (rc == TS_EDIALOGUE)
        ts_msg_set_error (reply, 400, TS_PROTO_NOT_CLIENT_OP, err);
    else
        ts_msg_set_error (reply, 400, "bad_request",
                          err [0]? err: ts_strerror (rc));
    return reply->status;
}

//  Answers a decoded request the synchronous way (ts_api_handle; a query
//  through ts_api_query_rt and the answer cache) and encodes the reply.
//  A query with wait (read-through; NULL: none) may be parked instead:
//  returns TS_API_PARK, nothing encoded.
static int
s_answer_decoded (ts_api_t *api, ts_msg_t *request, ts_msg_t *reply,
                  char **reply_data, size_t *reply_size, ts_api_wait_t *wait)
{
    double start = ts_metrics_now ();
    //  A query's answer in the encoding it asked for ("enc"), cached
    //  apart: format 'm' columns, 'k' compact.
    bool compact = request->op == TS_OP_QUERY
                && request->enc == TS_ENC_COMPACT;
    ts_api_encode_fn *encode = compact? ts_msg_encode_compact: ts_msg_encode;
    if (request->op == TS_OP_QUERY) {
        //  Encoded here, or taken from the answer cache: a query's
        //  answer does not echo the request id.
        if (ts_api_query_rt (api, request, compact? 'k': 'm', encode, reply,
                             reply_data, reply_size, wait) == TS_API_PARK)
            return TS_API_PARK;
    }
    else {
        ts_api_handle (api, request, reply);
        ts_strlcpy (reply->rid, request->rid, sizeof reply->rid);
    }
    ts_metrics_request (ts_api_metrics (api), "zmq",
                        ts_op_name (request->op), ts_metrics_now () - start);
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
               TS_LF_STR ("op", ts_op_name (request->op)),
               TS_LF_INT ("status", reply->status),
               TS_LF_OPT ("rid", request->rid)), "zmq %s -> %d",
               ts_op_name (request->op), reply->status);
    if (*reply_data)
        return 0;
    return encode (reply, reply_data, reply_size);
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
                                   reply_size, NULL);
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

//  Completion of a forwarded request: its client (ctx, the envelope)
//  gets the reply.
static void
s_forwarded (void *arg, void *ctx, ts_op_t op, int outcome,
             ts_msg_t *reply)
{
    ts_zmqsrv_t *self = arg;
    if (outcome == 0)
        ts_ready_broker_answered (self->ready, ts_mono_ms ());
    if (ctx == &s_probe_tag) {
        self->probe_pending = false;
        return;
    }
    zmsg_t *envelope = ctx;
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_STR ("op", ts_op_name (op)),
               TS_LF_INT ("status", reply->status),
               TS_LF_OPT ("rid", reply->rid)), "zmq %s -> %d (broker)",
               ts_op_name (op), reply->status);
    s_send_reply (self, &envelope, reply, NULL, 0);
}

//  Pings the broker for readiness every ts_ready_ping_ms, one ping at a
//  time (one that times out ends at the broker timeout).
static void
s_probe (ts_zmqsrv_t *self)
{
    int64_t now = ts_mono_ms ();
    if (self->probe_off || self->probe_pending || now < self->next_probe_ms)
        return;
    self->next_probe_ms = now + ts_ready_ping_ms (self->ready);
    if (ts_client_send (self->forward, self->probe, &s_probe_tag,
                        self->reply) == 0)
        self->probe_pending = true;
}

//  Hands a checked request to the forwarder; the client is answered on
//  its completion, or now if the forwarder refuses it. Takes the
//  envelope.
static void
s_forward (ts_zmqsrv_t *self, zmsg_t **envelope, const ts_msg_t *request)
{
    if (ts_client_send (self->forward, request, *envelope, self->reply))
        s_send_reply (self, envelope, self->reply, NULL, 0);
    else
        *envelope = NULL;
}

//  ---------------------------------------------------------------------
//  Queries parked for their read-through fetch

//  Parks the query in self->request (its body as it came): answered by
//  s_resume. Takes the envelope. Out of memory: answered now.
static void
s_park (ts_zmqsrv_t *self, zmsg_t **envelope, zframe_t *body,
        const ts_api_wait_t *wait)
{
    s_parked_t *parked = calloc (1, sizeof *parked);
    if (parked && !(parked->body = zframe_dup (body))) {
        free (parked);
        parked = NULL;
    }
    if (!parked) {
        ts_msg_set_error (self->reply, 500, "internal", "out of memory");
        s_send_reply (self, envelope, self->reply, NULL, 0);
        return;
    }
    parked->envelope = *envelope;
    *envelope = NULL;
    ts_strlcpy (parked->rid, self->request->rid, sizeof parked->rid);
    parked->wait = *wait;
    parked->next = self->parked;
    self->parked = parked;
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("rid", parked->rid)),
               "zmq query: waits for the fetch of %s", wait->id);
}

//  Answers the parked queries whose fetch ended or whose wait is up at
//  now_ms (INT64_MAX: every one).
static void
s_resume (ts_zmqsrv_t *self, int64_t now_ms)
{
    s_parked_t **link = &self->parked;
    while (*link) {
        s_parked_t *parked = *link;
        if (now_ms != INT64_MAX
        &&  ts_api_waiting (self->api, &parked->wait, now_ms)) {
            link = &parked->next;
            continue;
        }
        *link = parked->next;
        char *data = NULL;
        size_t size = 0;
        parked->wait.resumed = true;
        if (s_decode (self->request, self->reply, zframe_data (parked->body),
                      zframe_size (parked->body)) == 0) {
            ts_strlcpy (self->request->rid, parked->rid,
                        sizeof self->request->rid);
            if (s_answer_decoded (self->api, self->request, self->reply,
                                  &data, &size, &parked->wait))
                ts_msg_set_error (self->reply, 500, "internal",
                                  "out of memory");
        }
        s_send_reply (self, &parked->envelope, self->reply, data, size);
        zframe_destroy (&parked->body);
        free (parked);
    }
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
    const char *name;
    ts_role_t role = ts_curve_peer (self->curve, body, &name);
    if (s_decode (self->request, self->reply, zframe_data (body),
                  zframe_size (body)) == 0) {
        //  The client's rid if it sent one, else one of ours.
        if (!self->request->rid [0])
            ts_rid_new (self->request->rid);
        if (ts_api_forbidden (role, name, self->request->op, self->reply)) {
            ts_strlcpy (self->reply->rid, self->request->rid,
                        sizeof self->reply->rid);
            ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (
                       TS_LF_STR ("op", ts_op_name (self->request->op)),
                       TS_LF_INT ("status", 403), TS_LF_STR ("key", name),
                       TS_LF_STR ("rid", self->request->rid)),
                       "zmq %s -> 403 (key %s)",
                       ts_op_name (self->request->op), name);
        }
        else
        if (ts_api_forwarded (self->request->op)) {
            if (ts_api_forward_check (self->api, self->request,
                                      self->reply) == 0) {
                ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (
                           TS_LF_STR ("op", ts_op_name (self->request->op)),
                           TS_LF_STR ("rid", self->request->rid)),
                           "zmq %s -> broker",
                           ts_op_name (self->request->op));
                s_forward (self, &envelope, self->request);
                return;
            }
            ts_strlcpy (self->reply->rid, self->request->rid,
                        sizeof self->reply->rid);
        }
        else {
            ts_api_wait_t wait = { .may_wait = true };
            int rc = s_answer_decoded (self->api, self->request, self->reply,
                                       &data, &size, &wait);
            if (rc == TS_API_PARK) {
                s_park (self, &envelope, body, &wait);
                return;
            }
            if (rc) {
                ts_error ("zmq: out of memory building a reply");
                zmsg_destroy (&envelope);
                return;
            }
        }
    }
    s_send_reply (self, &envelope, self->reply, data, size);
}

int
ts_zmqsrv_run (ts_zmqsrv_t *self)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->router), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (ts_client_sock (self->forward)), 0, 0, 0 },
        { NULL, self->wake_fd, ZMQ_POLLIN, 0 }
    };
    int polled = self->wake_fd >= 0? 3: 2;
    int64_t wait = -1;
    while (!zsys_interrupted) {
        if (wait < 0 || wait > S_POLL_MS)
            wait = S_POLL_MS;
        if (self->parked && wait > S_RESUME_MS)
            wait = S_RESUME_MS;
        items [1].events = ts_client_poll_events (self->forward);
        items [1].revents = 0;
        //  Poll only when no client message is queued: a signal or a
        //  timeout end the poll, and the loop looks at the flag.
        if (wait > 0 && !(zsock_events (self->router) & ZMQ_POLLIN)
        &&  zmq_poll (items, polled, (long) wait) == -1
        &&  zmq_errno () != EINTR)
            return -1;
        for (int n = 0; n < S_DRAIN_MAX
                     && (zsock_events (self->router) & ZMQ_POLLIN); n++) {
            zmsg_t *msg = zmsg_recv (self->router);
            if (!msg)
                break;
            s_handle (self, msg);
            zmsg_destroy (&msg);
        }
        //  Parked queries: at a fetch's end, and every S_RESUME_MS for
        //  their deadlines.
        int64_t now = ts_mono_ms ();
        bool woke = false;
        if (polled == 3 && (items [2].revents & ZMQ_POLLIN)) {
            uint64_t count;
            woke = read (self->wake_fd, &count, sizeof count) > 0;
            items [2].revents = 0;
        }
        if (self->parked && (woke || now >= self->next_resume_ms)) {
            s_resume (self, now);
            self->next_resume_ms = now + S_RESUME_MS;
        }
        s_probe (self);
        ts_daemon_tick ();
        //  Answers, deadlines, and what waits to be sent; a query alone
        //  leaves the forwarder alone.
        wait = ts_client_pending (self->forward) || items [1].revents
             ? ts_client_process (self->forward): -1;
    }
    return 0;
}

void
ts_zmqsrv_drain (ts_zmqsrv_t *self, int64_t until_ms)
{
    zmq_pollitem_t item = { zsock_resolve (ts_client_sock (self->forward)),
                            0, 0, 0 };
    size_t ping = self->probe_pending? 1: 0;
    while (!zsys_interrupted
       &&  ts_client_pending (self->forward) > ping) {
        int64_t wait = ts_client_process (self->forward);
        int64_t left = until_ms - ts_mono_ms ();
        ping = self->probe_pending? 1: 0;
        if (left <= 0 || ts_client_pending (self->forward) <= ping)
            break;
        if (wait < 0 || wait > left)
            wait = left;
        if (wait > S_POLL_MS)
            wait = S_POLL_MS;
        item.events = ts_client_poll_events (self->forward);
        if (wait > 0 && zmq_poll (&item, 1, (long) wait) == -1
        &&  zmq_errno () != EINTR)
            break;
    }
}
