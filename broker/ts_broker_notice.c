/*  ts_broker_notice - the broker's change notices: every id a worker
    reports written, and every id of a job reported failed (its fetch
    status changed; docs/protocol.md 5.9, 5.10 and 5.18), is published on
    a PUB socket (broker.notice_bind), so every gateway can drop its
    cached answers of that id and end a read-through wait on it. Part of
    ts_broker (ts_broker_internal.h).

    Ids are numbered in publishing order, from 1 in each broker process
    (named by its boot id): a notice carries the number of its first id,
    so a subscriber that counts finds any gap. The ids reported in one
    wake's batch of dones (or one failed) go out together, at most
    NOTICE_IDS_MAX to a message, right after the batch is acked; every
    second a notice without ids (a heartbeat) carries the next number.

    Cheap on the job path: ids are copied into one buffer that grows to
    the largest batch and is then reused, and encoded into another
    (ts_msg_encode_notice); nothing is allocated per job once warm. A
    subscriber that cannot keep up loses messages at the socket's high
    water mark and sees the gap; the broker never waits for it. */

#include "ts_broker_internal.h"

#include <inttypes.h>
#include <string.h>

#define NOTICE_IDS_MAX  1000        //  ids in one notice message

//  Grows *buf (of *cap bytes) to hold need bytes. Returns 0 or -1.
static int
s_reserve (void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t cap_new = *cap? *cap: 256;
    while (cap_new < need)
        cap_new *= 2;
    void *grown = realloc (*buf, cap_new);
    if (!grown)
        return -1;
    *buf = grown;
    *cap = cap_new;
    return 0;
}

int
ts_broker_notice_open (ts_broker_t *self, char *err)
{
    const char *bind = ts_config_str (self->cfg, "broker.notice_bind");
    if (!*bind)
        return 0;                   //  notices off
    self->notice_seq = 1;
    self->notice_sock = zsock_new (ZMQ_PUB);
    if (!self->notice_sock) {
        ts_errf (err, "broker.notice_bind: cannot create socket");
        return TS_ENOMEM;
    }
    zsock_set_linger (self->notice_sock, 0);
    ts_curve_check_bind (self->curve, "broker.notice_bind");
    if (ts_curve_server (self->curve, self->notice_sock,
                         "security.broker_cert", TS_ZAP_NOTICE, err)) {
        zsock_destroy (&self->notice_sock);
        return TS_ECONFIG;
    }
    if (zsock_bind (self->notice_sock, "%s", bind) == -1) {
        ts_errf (err, "broker.notice_bind: cannot bind %s: %s", bind,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&self->notice_sock);
        return TS_ECONFIG;
    }
    return 0;
}

void
ts_broker_notice_close (ts_broker_t *self)
{
    zsock_destroy (&self->notice_sock);
    free (self->notice_text);
    free (self->notice_at);
    free (self->notice_ptrs);
    free (self->notice_buf);
}

void
ts_broker_notice_add (ts_broker_t *self, const char *id)
{
    if (!self->notice_sock)
        return;
    size_t len = strlen (id) + 1;
    size_t n = self->notice_n;
    if (s_reserve ((void **) &self->notice_text, &self->notice_text_cap,
                   self->notice_text_size + len)
    ||  s_reserve ((void **) &self->notice_at, &self->notice_at_cap,
                   (n + 1) * sizeof *self->notice_at)) {
        //  The gateways would miss it: a lost notice must show as a gap.
        ts_error ("change notice of id %s: out of memory: numbering it "
                  "unsent, so subscribers see a gap", id);
        self->notice_seq++;
        return;
    }
    memcpy (self->notice_text + self->notice_text_size, id, len);
    self->notice_at [n] = self->notice_text_size;
    self->notice_text_size += len;
    self->notice_n = n + 1;
}

void
ts_broker_notice_add_list (ts_broker_t *self, const ts_strlist_t *ids)
{
    for (size_t i = 0; ids && i < ids->n; i++)
        ts_broker_notice_add (self, ids->items [i]);
}

//  Sends one notice of the n ids at ids (n may be 0: a heartbeat).
static void
s_send (ts_broker_t *self, const char *const *ids, size_t n)
{
    size_t size;
    if (ts_msg_encode_notice (&self->notice_buf, &self->notice_buf_cap,
                              &size, self->boot, self->notice_seq, ids, n)) {
        ts_error ("change notice: out of memory: %zu ids unsent, so "
                  "subscribers see a gap", n);
        self->notice_seq += n;
        return;
    }
    self->notice_seq += n;
    //  A PUB socket never blocks; a subscriber over its high water mark
    //  loses the message and sees the gap.
    if (zmq_send (zsock_resolve (self->notice_sock), self->notice_buf, size,
                  ZMQ_DONTWAIT) == -1)
        ts_debug ("change notice: %s", zmq_strerror (zmq_errno ()));
}

void
ts_broker_notice_publish (ts_broker_t *self)
{
    size_t n = self->notice_n;
    if (!self->notice_sock || n == 0)
        return;
    if (s_reserve ((void **) &self->notice_ptrs, &self->notice_ptrs_cap,
                   n * sizeof *self->notice_ptrs)) {
        ts_error ("change notice: out of memory: %zu ids unsent, so "
                  "subscribers see a gap", n);
        self->notice_seq += n;
    }
    else {
        for (size_t i = 0; i < n; i++)
            self->notice_ptrs [i] = self->notice_text + self->notice_at [i];
        for (size_t at = 0; at < n; at += NOTICE_IDS_MAX)
            s_send (self, self->notice_ptrs + at,
                    n - at < NOTICE_IDS_MAX? n - at: NOTICE_IDS_MAX);
    }
    self->notice_n = 0;
    self->notice_text_size = 0;
}

void
ts_broker_notice_beat (ts_broker_t *self)
{
    if (!self->notice_sock)
        return;
    ts_broker_notice_publish (self);
    s_send (self, NULL, 0);
}
