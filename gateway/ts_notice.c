/*  ts_notice - the gateway's subscriber to change notices. See
    ts_notice.h; docs/protocol.md 5.18 specifies the messages.

    One thread: a SUB socket, subscribed to everything, polled a quarter
    of a second at a time so that silence is noticed and a stop request
    is heard promptly. Each message is decoded as a notice only
    (TS_DIALOGUE_NOTICE) and judged by the rules of order; then each of
    its ids is dropped from the cache, which is thread-safe. */

#include "ts_notice.h"
#include "ts_log.h"
#include "ts_proto.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define S_POLL_MS       250
#define S_MAX_MSG_BYTES (4 * TS_PROTO_MAX_REQUEST)
#define S_DRAIN_MAX     256         //  messages read per wake

//  ---------------------------------------------------------------------
//  The rules of order

void
ts_notice_sync_init (ts_notice_sync_t *self)
{
    memset (self, 0, sizeof *self);
}

ts_notice_order_t
ts_notice_sync_message (ts_notice_sync_t *self, uint64_t boot, uint64_t seq,
                        size_t n, int64_t now_ms)
{
    ts_notice_order_t order = !self->heard? TS_NOTICE_FIRST
                            : boot == self->boot && seq == self->next_seq
                            ? TS_NOTICE_IN_ORDER: TS_NOTICE_GAP;
    self->heard = true;
    self->boot = boot;
    self->next_seq = seq + n;
    self->last_ms = now_ms;
    return order;
}

bool
ts_notice_sync_lost (ts_notice_sync_t *self, int64_t now_ms)
{
    bool was = self->heard;
    self->heard = false;
    self->last_ms = now_ms;
    return was;
}

bool
ts_notice_sync_silence (ts_notice_sync_t *self, int64_t now_ms)
{
    if (!self->heard || now_ms - self->last_ms < TS_NOTICE_SILENCE_MS)
        return false;
    self->heard = false;
    return true;
}

//  ---------------------------------------------------------------------
//  The subscriber

struct _ts_notice_t {
    char        *endpoint;          //  gateway.notice_endpoint
    ts_cache_t  *cache;             //  borrowed; NULL: none
    ts_notice_fn *noticed;          //  told each id written; NULL: none
    void        *noticed_arg;
    zsock_t     *sub;               //  SUB, used by the thread only
    ts_curve_watch_t *watch;        //  logs the broker refusing our key
    pthread_t    thread;
    bool         started;           //  thread is running
    atomic_bool  stop;              //  set by ts_notice_destroy
};

static void
s_set_heard (ts_notice_t *self, bool heard)
{
    if (self->cache)
        ts_cache_set_heard (self->cache, heard);
}

//  Drops the whole cache and says why.
static void
s_drop_all (ts_notice_t *self, const char *why)
{
    if (self->cache)
        ts_cache_drop_all (self->cache);
    ts_warn ("change notices from %s: %s: answer cache dropped",
             self->endpoint, why);
}

static void
s_message (ts_notice_t *self, ts_notice_sync_t *sync, ts_msg_t *msg,
           const void *data, size_t size)
{
    char err [TS_ERRLEN];
    int64_t now = ts_mono_ms ();
    if (ts_msg_decode_in (msg, TS_DIALOGUE_NOTICE, data, size,
                          S_MAX_MSG_BYTES, err)) {
        if (ts_notice_sync_lost (sync, now)) {
            s_set_heard (self, false);
            s_drop_all (self, err);
        }
        return;
    }
    uint64_t expected = sync->next_seq;
    uint64_t boot = sync->boot;
    ts_notice_order_t order = ts_notice_sync_message (sync, msg->boot,
        msg->seq, msg->ids->n, now);
    if (order == TS_NOTICE_GAP) {
        char why [TS_ERRLEN];
        if (msg->boot != boot)
            ts_errf (why, "another broker process");
        else
            ts_errf (why, "missed notices %" PRIu64 " to %" PRIu64,
                     expected, msg->seq - 1);
        s_drop_all (self, why);
    }
    else
    if (order == TS_NOTICE_FIRST) {
        s_set_heard (self, true);
        ts_info ("change notices heard from %s (broker %016" PRIx64
                 ", next %" PRIu64 ")", self->endpoint, msg->boot,
                 sync->next_seq);
    }
    for (size_t i = 0; i < msg->ids->n; i++) {
        if (self->cache)
            ts_cache_drop_id (self->cache, msg->ids->items [i]);
        if (self->noticed)
            self->noticed (self->noticed_arg, msg->ids->items [i]);
    }
}

static void *
s_run (void *arg)
{
    ts_notice_t *self = arg;
    ts_notice_sync_t sync;
    ts_notice_sync_init (&sync);
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    void *handle = zsock_resolve (self->sub);
    while (msg && !atomic_load (&self->stop)) {
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, S_POLL_MS) == -1 && zmq_errno () != EINTR)
            break;
        for (int i = 0; i < S_DRAIN_MAX
                     && (zsock_events (self->sub) & ZMQ_POLLIN); i++) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) == -1) {
                zmq_msg_close (&part);
                break;
            }
            if (!zmq_msg_more (&part))
                s_message (self, &sync, msg, zmq_msg_data (&part),
                           zmq_msg_size (&part));
            zmq_msg_close (&part);
        }
        if (ts_notice_sync_silence (&sync, ts_mono_ms ())) {
            s_set_heard (self, false);
            s_drop_all (self, "no heartbeat for 3 s");
        }
    }
    if (!msg)
        ts_error ("change notices: out of memory: subscriber stopped");
    s_set_heard (self, false);
    ts_msg_destroy (&msg);
    return NULL;
}

ts_notice_t *
ts_notice_new (const char *endpoint, const ts_curve_id_t *curve,
               ts_cache_t *cache, char *err)
{
    assert (cache);
    return ts_notice_new_for (endpoint, curve, cache, NULL, NULL, err);
}

ts_notice_t *
ts_notice_new_for (const char *endpoint, const ts_curve_id_t *curve,
                   ts_cache_t *cache, ts_notice_fn *noticed, void *arg,
                   char *err)
{
    assert (endpoint && (cache || noticed));
    ts_notice_t *self = calloc (1, sizeof (ts_notice_t));
    if (!self || !(self->endpoint = strdup (endpoint))) {
        free (self);
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->cache = cache;
    self->noticed = noticed;
    self->noticed_arg = arg;
    atomic_init (&self->stop, false);
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->sub) {
        ts_errf (err, "gateway.notice_endpoint: cannot create socket");
        ts_notice_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sub, 0);
    zsock_set_maxmsgsize (self->sub, S_MAX_MSG_BYTES);
    zsock_set_subscribe (self->sub, "");
    ts_curve_id_apply (curve, self->sub);
    //  Set up here, before the thread, and stopped after its join.
    self->watch = ts_curve_watch_new (curve, self->sub, "broker");
    if (zsock_connect (self->sub, "%s", endpoint) == -1) {
        ts_errf (err, "gateway.notice_endpoint: cannot connect %s: %s",
                 endpoint, zmq_strerror (zmq_errno ()));
        ts_notice_destroy (&self);
        return NULL;
    }
    //  The socket is made here and used by the thread only from now on
    //  (the thread start orders the two).
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        ts_errf (err, "cannot start the change notice thread");
        ts_notice_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
ts_notice_destroy (ts_notice_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_notice_t *self = *self_p;
        if (self->started) {
            atomic_store (&self->stop, true);
            pthread_join (self->thread, NULL);
        }
        ts_curve_watch_destroy (&self->watch);
        zsock_destroy (&self->sub);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}
