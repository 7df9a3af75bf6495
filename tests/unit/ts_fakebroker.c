/*  ts_fakebroker - a broker control socket played by a thread, for the
    gateway's unit tests. See ts_fakebroker.h for the canned answers.

    A czmq actor: the thread polls its pipe (to stop, to hold) and the
    ROUTER (to answer), which echoes each request's envelope as the real
    broker does (ts_envelope). What it saw is kept under a mutex for the
    test to read. */

#include "ts_fakebroker.h"
#include "ts_envelope.h"

#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ts_fakebroker_t {
    zactor_t            *actor;     //  the answering thread
    zsock_t             *router;    //  bound ROUTER, used by the thread
    char                *endpoint;  //  where it is bound
    pthread_mutex_t      lock;      //  guards the fields below
    ts_fakebroker_mode_t mode;      //  how to answer
    size_t               requests;  //  answered so far
    ts_op_t              last_op;   //  op of the last request
    size_t               last_ids;  //  ids in the last request
    int64_t              last_skip; //  its skip_fetched_since (hydrate)
};

void
ts_fakebroker_stats (ts_msg_t *reply)
{
    ts_msg_set_ok (reply, 200);
    reply->has_stats = true;
    ts_stats_t *stats = &reply->stats;
    stats->queued = 3;
    stats->delayed = 1;
    stats->leased = 2;
    stats->dlq = 2;
    stats->done = 40;
    stats->failed = 6;
    stats->retried = 4;
    stats->dead_lettered = 2;
    stats->oldest_age_ms = 1500;
    ts_msg_add_worker (reply, "0a1b", 15, 1);
    ts_msg_add_worker (reply, "0a1c", 16, 1);
}

void
ts_fakebroker_dlq (ts_msg_t *reply)
{
    ts_msg_set_ok (reply, 200);
    reply->has_dlq = true;
    ts_strlist_t *ids = ts_strlist_new ();
    if (!ids)
        return;
    ts_strlist_append (ids, "a");
    ts_msg_add_dlq (reply, 7, ids, 3, 1732406400000, "HTTP 500");
    ts_strlist_clear (ids);
    ts_strlist_append (ids, "b");
    ts_strlist_append (ids, "c");
    ts_msg_add_dlq (reply, 9, ids, 1, 1732406460000, "HTTP 404: \"no\"");
    ts_strlist_destroy (&ids);
}

//  Builds the answer to one request frame into data/size (malloc'd).
static void
s_answer (ts_fakebroker_t *self, zframe_t *frame, char **data, size_t *size)
{
    ts_msg_t *req = ts_msg_new (TS_OP_PING);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    char err [TS_ERRLEN] = "";
    int rc = ts_msg_decode (req, zframe_data (frame), zframe_size (frame),
                            TS_PROTO_MAX_REQUEST, err);
    pthread_mutex_lock (&self->lock);
    ts_fakebroker_mode_t mode = self->mode;
    pthread_mutex_unlock (&self->lock);

    if (rc)
        ts_msg_set_error (reply, 400, "bad_request", err);
    else
    if (mode == TS_FAKEBROKER_BARE)
        ts_msg_set_ok (reply, 200);
    else
    switch (req->op) {
        case TS_OP_HYDRATE:
            //  SKIPPED: every id fetched since, held by no job.
            ts_msg_set_ok (reply, 202);
            reply->count = mode == TS_FAKEBROKER_SKIPPED? 0: req->ids->n;
            for (size_t i = 0; i < req->ids->n; i++)
                ts_msg_add_job (reply, mode == TS_FAKEBROKER_SKIPPED
                                       ? 0: 100 + i);
            break;
        case TS_OP_JOB_STATE:
            ts_msg_set_ok (reply, 200);
            reply->has_states = true;
            for (size_t i = 0; i < req->jobs_n; i++)
                ts_msg_add_state (reply, req->jobs [i],
                                  i % 2? TS_JOB_STATUS_DEAD
                                       : TS_JOB_STATUS_DONE,
                                  (uint32_t) i + 1, i % 2? "HTTP 404": "");
            break;
        case TS_OP_STATS:
            ts_fakebroker_stats (reply);
            break;
        case TS_OP_DLQ_LS:
            ts_fakebroker_dlq (reply);
            break;
        case TS_OP_DLQ_REDRIVE:
            ts_msg_set_ok (reply, 200);
            reply->count = req->ids->n? req->ids->n: 2;
            break;
        case TS_OP_DLQ_PURGE:
            ts_msg_set_ok (reply, 200);
            reply->count = 2;
            break;
        default:
            ts_msg_set_error (reply, 400, "bad_request", "not served here");
            break;
    }
    if (mode == TS_FAKEBROKER_JOB) {
        ts_msg_reset (reply, TS_OP_JOB);
        reply->job = 1;
        ts_strlist_append (reply->ids, "a");
    }
    if (mode == TS_FAKEBROKER_GARBAGE) {
        *data = strdup ("\xc1 not msgpack");
        *size = *data? strlen (*data): 0;
    }
    else
    if (ts_msg_encode (reply, data, size)) {
        *data = NULL;
        *size = 0;
    }
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
}

//  Counts a request and notes its op and ids.
static void
s_count (ts_fakebroker_t *self, zmsg_t *msg)
{
    ts_msg_t *req = ts_msg_new (TS_OP_PING);
    zframe_t *body = zmsg_last (msg);
    char err [TS_ERRLEN];
    int rc = req && body? ts_msg_decode (req, zframe_data (body),
                                         zframe_size (body),
                                         TS_PROTO_MAX_REQUEST, err): -1;
    pthread_mutex_lock (&self->lock);
    self->requests++;
    self->last_op = rc == 0? req->op: TS_OP_REPLY;
    self->last_ids = rc == 0? req->ids->n: 0;
    self->last_skip = rc == 0? req->skip_fetched_since_ms: 0;
    pthread_mutex_unlock (&self->lock);
    ts_msg_destroy (&req);
}

//  Answers one request as the ROUTER received it, as the mode says.
static void
s_respond (ts_fakebroker_t *self, zmsg_t *msg)
{
    pthread_mutex_lock (&self->lock);
    ts_fakebroker_mode_t mode = self->mode;
    pthread_mutex_unlock (&self->lock);
    zmsg_t *envelope = NULL;
    char err [TS_ERRLEN];
    if (mode == TS_FAKEBROKER_SILENT
    ||  ts_envelope_split (msg, true, &envelope, err) != 0) {
        zmsg_destroy (&envelope);
        return;
    }
    char *data = NULL;
    size_t size = 0;
    s_answer (self, zmsg_first (msg), &data, &size);
    zmsg_addmem (envelope, data? data: "", size);
    free (data);
    if (mode == TS_FAKEBROKER_TWO_FRAMES)
        zmsg_addstr (envelope, "a second frame");
    zmsg_send (&envelope, self->router);
}

//  Answers every held request, oldest first.
static void
s_release (ts_fakebroker_t *self, zlistx_t *held)
{
    zmsg_t *msg;
    while ((msg = zlistx_detach (held, NULL))) {
        s_respond (self, msg);
        zmsg_destroy (&msg);
    }
}

static void
s_actor (zsock_t *pipe, void *args)
{
    ts_fakebroker_t *self = args;
    zlistx_t *held = zlistx_new ();
    size_t hold = 0;                    //  requests to hold, 0: none
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->router, NULL);
    while (poller && held) {
        void *which = zpoller_wait (poller, -1);
        if (!which)
            break;                      //  interrupted
        if (which == pipe) {
            zmsg_t *cmd = zmsg_recv (pipe);
            char *name = cmd? zmsg_popstr (cmd): NULL;
            bool term = !name || streq (name, "$TERM");
            if (!term) {
                zframe_t *n = zmsg_first (cmd);
                hold = 0;
                if (n && zframe_size (n) == sizeof hold)
                    memcpy (&hold, zframe_data (n), sizeof hold);
                if (hold == 0 || zlistx_size (held) >= hold) {
                    hold = 0;
                    s_release (self, held);
                }
                zsock_signal (pipe, 0);
            }
            free (name);
            zmsg_destroy (&cmd);
            if (term)
                break;
            continue;
        }
        zmsg_t *msg = zmsg_recv (self->router);
        if (!msg)
            continue;
        s_count (self, msg);
        if (hold > 0) {
            zlistx_add_end (held, msg);
            if (zlistx_size (held) >= hold) {
                hold = 0;
                s_release (self, held);
            }
            continue;
        }
        s_respond (self, msg);
        zmsg_destroy (&msg);
    }
    zmsg_t *msg;
    while (held && (msg = zlistx_detach (held, NULL)))
        zmsg_destroy (&msg);
    zlistx_destroy (&held);
    zpoller_destroy (&poller);
}

ts_fakebroker_t *
ts_fakebroker_new (const char *endpoint)
{
    ts_fakebroker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->router = zsock_new (ZMQ_ROUTER);
    self->endpoint = strdup (endpoint);
    if (!self->router || !self->endpoint
    ||  zsock_bind (self->router, "%s", endpoint) < 0) {
        fprintf (stderr, "fake broker: cannot bind %s\n", endpoint);
        ts_fakebroker_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->router, 0);
    self->actor = zactor_new (s_actor, self);
    if (!self->actor)
        ts_fakebroker_destroy (&self);
    return self;
}

void
ts_fakebroker_destroy (ts_fakebroker_t **self_p)
{
    if (self_p && *self_p) {
        ts_fakebroker_t *self = *self_p;
        zactor_destroy (&self->actor);
        //  An inproc endpoint is released when the socket is reaped, in
        //  the background; an unbind releases it now, for the next test.
        if (self->router && self->endpoint)
            zsock_unbind (self->router, "%s", self->endpoint);
        zsock_destroy (&self->router);
        free (self->endpoint);
        pthread_mutex_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

void
ts_fakebroker_set_mode (ts_fakebroker_t *self, ts_fakebroker_mode_t mode)
{
    pthread_mutex_lock (&self->lock);
    self->mode = mode;
    pthread_mutex_unlock (&self->lock);
}

void
ts_fakebroker_hold (ts_fakebroker_t *self, size_t n)
{
    zmsg_t *cmd = zmsg_new ();
    zmsg_addstr (cmd, "HOLD");
    zmsg_addmem (cmd, &n, sizeof n);
    zmsg_send (&cmd, self->actor);
    zsock_wait (self->actor);
}

size_t
ts_fakebroker_requests (ts_fakebroker_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->requests;
    pthread_mutex_unlock (&self->lock);
    return n;
}

size_t
ts_fakebroker_wait_requests (ts_fakebroker_t *self, size_t n, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    while (ts_fakebroker_requests (self) < n && zclock_mono () < end)
        zclock_sleep (10);
    return ts_fakebroker_requests (self);
}

ts_op_t
ts_fakebroker_last_op (ts_fakebroker_t *self)
{
    pthread_mutex_lock (&self->lock);
    ts_op_t op = self->last_op;
    pthread_mutex_unlock (&self->lock);
    return op;
}

size_t
ts_fakebroker_last_ids (ts_fakebroker_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->last_ids;
    pthread_mutex_unlock (&self->lock);
    return n;
}

int64_t
ts_fakebroker_last_skip (ts_fakebroker_t *self)
{
    pthread_mutex_lock (&self->lock);
    int64_t ms = self->last_skip;
    pthread_mutex_unlock (&self->lock);
    return ms;
}
