/*  ts_http_conn - one connection of the HTTP front end: buffers and
    socket I/O. See ts_http_conn.h.

    An answer goes out with one sendmsg of header and body when nothing
    waits before it; only what the socket does not take is copied, into
    the connection's output buffer, which grows as needed and is freed
    once drained if it grew past TS_HTTP_CONN_OUT_HIGH (a large answer
    does not pin its memory to an idle keep-alive connection). A produced
    body is asked for its next part only once the buffer is drained, so a
    connection holds one part at a time, however large the answer and
    however slow the client. Requests are read into a fixed buffer inside
    the connection. */

#include "ts_http_conn.h"
#include "ts_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

ts_http_conn_t *
ts_http_conn_new (int fd, const ts_h1_limits_t *limits)
{
    ts_http_conn_t *self = malloc (sizeof (ts_http_conn_t));
    if (!self)
        return NULL;
    memset (self, 0, offsetof (ts_http_conn_t, in));
    self->fd = fd;
    self->h1 = ts_h1_new (limits);
    if (!self->h1) {
        free (self);
        return NULL;
    }
    self->events = EPOLLIN;
    self->last_ms = ts_mono_ms ();
    return self;
}

void
ts_http_conn_destroy (ts_http_conn_t **self_p)
{
    if (self_p && *self_p) {
        ts_http_conn_t *self = *self_p;
        close (self->fd);
        ts_h1_destroy (&self->h1);
        ts_msg_destroy (&self->forward);
        if (self->producer.free)
            self->producer.free (self->producer.arg);
        ts_json_destroy (&self->part);
        free (self->out);
        free (self);
        *self_p = NULL;
    }
}

bool
ts_http_conn_waiting (const ts_http_conn_t *self)
{
    return self->out_sent < self->out_len || self->producer.produce;
}

//  Keeps len bytes of data to send later. Returns 0 or TS_ENOMEM.
static int
s_keep (ts_http_conn_t *self, const char *data, size_t len)
{
    if (self->out_sent == self->out_len)
        self->out_sent = self->out_len = 0;
    if (self->out_len + len > self->out_cap) {
        size_t cap = self->out_cap? self->out_cap: 4096;
        while (cap < self->out_len + len)
            cap *= 2;
        char *grown = realloc (self->out, cap);
        if (!grown)
            return TS_ENOMEM;
        self->out = grown;
        self->out_cap = cap;
    }
    memcpy (self->out + self->out_len, data, len);
    self->out_len += len;
    return 0;
}

int
ts_http_conn_send (ts_http_conn_t *self, struct iovec *iov, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += iov [i].iov_len;
    size_t sent = 0;
    if (self->out_sent == self->out_len) {
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t) count };
        ssize_t n = sendmsg (self->fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
        &&  errno != EINTR)
            return -1;
        sent = n > 0? (size_t) n: 0;
        if (n > 0)
            self->last_ms = ts_mono_ms ();
    }
    for (int i = 0; i < count && sent < total; i++) {
        size_t len = iov [i].iov_len;
        if (sent >= len) {
            sent -= len;
            total -= len;
            continue;
        }
        if (s_keep (self, (const char *) iov [i].iov_base + sent,
                    len - sent))
            return -1;
        total -= len;
        sent = 0;
    }
    return 0;
}

//  Ends a produced body: frees its producer.
static void
s_produced (ts_http_conn_t *self)
{
    if (self->producer.free)
        self->producer.free (self->producer.arg);
    memset (&self->producer, 0, sizeof self->producer);
}

//  Keeps the next part of the produced body (chunk-framed if chunked),
//  and the last chunk once the producer is done. Returns 0 or -1.
static int
s_produce (ts_http_conn_t *self)
{
    if (!self->part && !(self->part = ts_json_new ()))
        return -1;
    ts_json_reset (self->part);
    int rc = self->producer.produce (self->producer.arg, self->part);
    if (rc < 0 || ts_json_failed (self->part)) {
        ts_error ("http: producing an answer failed (%s); connection cut",
                  ts_strerror (rc < 0? rc: TS_ENOMEM));
        s_produced (self);
        return -1;
    }
    size_t size = ts_json_size (self->part);
    if (size && self->chunked) {
        char line [24];
        int len = snprintf (line, sizeof line, "%zx\r\n", size);
        if (s_keep (self, line, (size_t) len)
        ||  s_keep (self, ts_json_data (self->part), size)
        ||  s_keep (self, "\r\n", 2))
            return -1;
    }
    else
    if (size && s_keep (self, ts_json_data (self->part), size))
        return -1;
    if (rc == 1) {
        s_produced (self);
        if (self->chunked && s_keep (self, "0\r\n\r\n", 5))
            return -1;
        ts_json_destroy (&self->part);     //  not kept while idle
    }
    return 0;
}

int
ts_http_conn_flush (ts_http_conn_t *self)
{
    for (;;) {
        while (self->out_sent < self->out_len) {
            ssize_t n = send (self->fd, self->out + self->out_sent,
                              self->out_len - self->out_sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return errno == EAGAIN || errno == EWOULDBLOCK? 0: -1;
            }
            self->out_sent += (size_t) n;
            self->last_ms = ts_mono_ms ();
        }
        self->out_sent = self->out_len = 0;
        if (!self->producer.produce)
            break;
        if (s_produce (self))
            return -1;
    }
    if (self->out_cap > TS_HTTP_CONN_OUT_HIGH) {
        free (self->out);
        self->out = NULL;
        self->out_cap = 0;
    }
    return 0;
}

int
ts_http_conn_answer (ts_http_conn_t *self, const char *date,
                     ts_reply_t *reply, bool head, bool close,
                     bool http10)
{
    int status = ts_reply_status (reply);
    size_t size = 0, headers_len = 0;
    const char *body = ts_reply_body (reply, &size);
    const char *headers = ts_reply_headers (reply, &headers_len);
    char length [64];
    if (ts_reply_take_producer (reply, &self->producer)) {
        //  An HTTP/1.0 client knows no chunks: the end of the body is the
        //  end of the connection.
        self->chunked = !http10;
        close = close || http10;
        ts_strlcpy (length, self->chunked? "Transfer-Encoding: chunked\r\n":
                    "", sizeof length);
        if (head)
            s_produced (self);
    }
    else if (status == 304)
        length [0] = 0;         //  no body, and no length of one
    else
        snprintf (length, sizeof length, "Content-Length: %zu\r\n", size);
    char head_line [512];
    int len = snprintf (head_line, sizeof head_line,
        "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\n%s",
        status, ts_h1_reason (status), date, ts_reply_type (reply), length);
    const char *tail = close? "Connection: close\r\n\r\n":
                       http10? "Connection: keep-alive\r\n\r\n": "\r\n";
    if (len < 0 || (size_t) len >= sizeof head_line)
        return -1;
    struct iovec iov [4] = {
        { .iov_base = head_line, .iov_len = (size_t) len },
        { .iov_base = (void *) headers, .iov_len = headers_len },
        { .iov_base = (void *) tail, .iov_len = strlen (tail) },
        { .iov_base = (void *) body, .iov_len = head? 0: size }
    };
    if (close)
        self->state = TS_HTTP_CONN_CLOSING;
    if (ts_http_conn_send (self, iov, 4))
        return -1;
    //  The first parts go out at once, as far as the socket takes them.
    return self->producer.produce? ts_http_conn_flush (self): 0;
}

ssize_t
ts_http_conn_read (ts_http_conn_t *self)
{
    ssize_t n = recv (self->fd, self->in + self->in_end,
                      TS_HTTP_CONN_IN - self->in_end, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
               ? TS_HTTP_CONN_AGAIN: -1;
    if (n > 0) {
        self->last_ms = ts_mono_ms ();
        self->in_end += (size_t) n;
    }
    return n;
}

int
ts_http_conn_linger (ts_http_conn_t *self)
{
    char sink [4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv (self->fd, sink, sizeof sink, 0);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? 0: -1;
        self->last_ms = ts_mono_ms ();
    }
    return 0;
}
