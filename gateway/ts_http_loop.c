/*  ts_http_loop - one thread of the gateway's HTTP front end: its epoll
    loop accepts connections, reads and answers their requests through
    the routes, forwards those the broker answers (ts_client), checks
    timeouts and closes connections; while draining, it closes each
    connection once nothing is in progress on it. Part of ts_http
    (ts_http_internal.h); the why of the design is at the top of
    ts_http.c.

    A connection ends in one of two ways: the client closes (we close), or
    we decide to (an error, "Connection: close", a timeout). Then the last
    answer is flushed, the socket is shut down for writing and read until
    the client closes, for at most S_LINGER_MS without data, so that
    unread request bytes do not make the kernel reset the connection
    before the client has read the answer (what nginx calls a lingering
    close).

    Timeouts are checked by a sweep of the thread's connections every
    S_SWEEP_MS, not per-connection timers: the cost is one pass over a
    list a few times a second. */

#include "ts_http_internal.h"
#include "ts_log.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_LINGER_MS   2000      //  lingering close: wait for data, ms
#define S_LINGER_MAX_MS 10000   //  lingering close: at most, ms
#define S_SWEEP_MS    250       //  timeout sweep interval, ms
#define S_ACCEPTS     16        //  connections accepted per wake-up
#define S_EVENTS      128       //  epoll events per wait

typedef ts_http_conn_t s_conn_t;
typedef ts_http_loop_t s_loop_t;

//  epoll tags for the descriptors that are not connections.
static char s_listen_tag;
static char s_stop_tag;
static char s_drain_tag;
static char s_forward_tag;
static char s_wake_tag;

//  ---------------------------------------------------------------------
//  Connections

static s_conn_t *
s_conn_new (s_loop_t *loop, int fd)
{
    s_conn_t *conn = ts_http_conn_new (fd, &loop->http->limits);
    if (!conn)
        return NULL;
    struct epoll_event event = { .events = conn->events, .data.ptr = conn };
    if (epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, fd, &event)) {
        conn->fd = -1;          //  the caller closes it
        ts_http_conn_destroy (&conn);
        return NULL;
    }
    conn->next = loop->conns;
    if (loop->conns)
        loop->conns->prev = conn;
    loop->conns = conn;
    atomic_fetch_add (&loop->http->conns, 1);
    return conn;
}

static void
s_conn_close (s_loop_t *loop, s_conn_t *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        loop->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    if (conn->forward && ts_client_cancel (loop->forward, conn))
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("rid", conn->rid)),
                   "http %s: connection closed while the broker had it: "
                   "cancelled", ts_op_name (conn->forward->op));
    if (conn->peer_counted)
        ts_http_peers_give (loop->http->peers, &conn->peer);
    ts_http_conn_destroy (&conn);
    atomic_fetch_sub (&loop->http->conns, 1);
}

//  Registers the events the connection waits for, if they changed.
static void
s_conn_watch (s_loop_t *loop, s_conn_t *conn, unsigned events)
{
    if (events != conn->events) {
        struct epoll_event event = { .events = events, .data.ptr = conn };
        epoll_ctl (loop->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event);
        conn->events = events;
    }
}

//  ---------------------------------------------------------------------
//  Answers

//  The Date header line, refreshed once a second.
static const char *
s_loop_date (s_loop_t *loop)
{
    time_t now = time (NULL);
    if (now != loop->date_s) {
        struct tm tm;
        gmtime_r (&now, &tm);
        strftime (loop->date, sizeof loop->date,
                  "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        loop->date_s = now;
    }
    return loop->date;
}

//  Writes the loop's answer (a 500 if writing it ran out of memory, or if
//  it is a stream: this front end serves none yet); see
//  ts_http_conn_answer.
static int
s_answer_out (s_loop_t *loop, s_conn_t *conn, bool head, bool close,
              bool http10)
{
    ts_reply_t *out = loop->out;
    size_t size = 0;
    ts_reply_body (out, &size);
    if (ts_reply_is_stream (out, NULL, NULL)) {
        ts_error ("http: a route answered an event stream, not served");
        ts_reply_reset (out);
        ts_reply_error (out, 500, "internal", "event streams not served");
    }
    if (ts_reply_failed (out) || (size == 0 && ts_reply_status (out) >= 400)) {
        ts_reply_reset (out);
        ts_reply_error (out, 500, "internal", "out of memory");
    }
    //  Every answer names its request (a rid is never refused here: its
    //  characters were checked).
    if (conn->rid [0])
        ts_reply_header (out, "X-Request-Id", conn->rid);
    return ts_http_conn_answer (conn, s_loop_date (loop), out, head, close,
                                http10);
}

//  Answers an error the front end found itself, and closes after it.
static int
s_answer_error (s_loop_t *loop, s_conn_t *conn, int status,
                const char *error, const char *detail)
{
    ts_rid_new (conn->rid);
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_INT ("status", status),
               TS_LF_STR ("rid", conn->rid)), "http -> %d %s", status,
               detail);
    ts_reply_reset (loop->out);
    ts_reply_error (loop->out, status, error, detail);
    return s_answer_out (loop, conn, false, true, false);
}

//  Answers the request ts_h1 holds with the loop's answer.
static int
s_answer_route (s_loop_t *loop, s_conn_t *conn)
{
    ts_h1_t *h1 = conn->h1;
    //  While draining, every answer is the connection's last.
    return s_answer_out (loop, conn, ts_h1_is_head (h1),
                         !ts_h1_keep_alive (h1) || loop->draining,
                         ts_h1_is_http10 (h1));
}

//  Answers the whole request ts_h1 holds, through the routes.
//  The request id of the request h1 holds: the client's X-Request-Id
//  if it is a well-formed rid (ts_rid_valid_n), else a new one.
static void
s_request_id (const ts_h1_t *h1, char *rid)
{
    size_t len = 0;
    const char *given = ts_h1_request_id (h1, &len);
    if (given && ts_rid_valid_n (given, len)) {
        memcpy (rid, given, len);
        rid [len] = 0;
    }
    else
        ts_rid_new (rid);
}

static int
s_answer_request (s_loop_t *loop, s_conn_t *conn)
{
    ts_route_req_t req;
    ts_route_req_of (&req, conn->h1);
    bool resumed = conn->wait.resumed;
    if (!resumed) {
        s_request_id (conn->h1, conn->rid);
        //  A query may wait for its read-through fetch, parked, unless
        //  the loop is draining.
        memset (&conn->wait, 0, sizeof conn->wait);
        conn->wait.may_wait = !loop->draining;
    }
    req.wait = &conn->wait;
    req.scratch = loop->scratch;
    ts_msg_t *forward = NULL;
    int status = ts_route_start (loop->http->route, &req, loop->out,
                                 &forward);
    conn->wait.resumed = false;
    if (status == TS_ROUTE_PARK) {
        //  Answered when its fetch ends or its wait is up (s_loop_resume);
        //  reading stops until then.
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_STR ("rid", conn->rid)),
                   "http %s %.200s: waits for the fetch of %s", req.method,
                   req.target, conn->wait.id);
        conn->parked = true;
        return 0;
    }
    if (forward) {
        ts_strlcpy (forward->rid, conn->rid, sizeof forward->rid);
        status = ts_client_send (loop->forward, forward, conn, loop->reply);
        if (status == 0) {
            //  Answered in s_forwarded; reading stops until then.
            ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (
                       TS_LF_STR ("op", ts_op_name (forward->op)),
                       TS_LF_STR ("rid", conn->rid)),
                       "http %s %.200s -> broker", req.method, req.target);
            conn->forward = forward;
            loop->forward_sent = true;
            return 0;
        }
        status = ts_route_finish (loop->http->route, req.target, forward,
                                  loop->reply, loop->out);
        ts_msg_destroy (&forward);
    }
    if (ts_log_enabled (TS_LOG_DEBUG)) {
        char key [TS_ROUTE_KEY_NAME] = "-";
        if (!ts_route_key_name (loop->http->route, &req, key, sizeof key))
            strcpy (key, "-");
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_INT ("status", status),
                   TS_LF_STR ("key", key), TS_LF_STR ("rid", conn->rid)),
                   "http %s %.200s -> %d", req.method, req.target, status);
    }
    return s_answer_route (loop, conn);
}

//  ---------------------------------------------------------------------
//  Reading

//  Done with the request ts_h1 holds: the parser moves on, and the
//  request timeout starts again if bytes of the next one are there.
static void
s_conn_next (s_conn_t *conn)
{
    ts_h1_next (conn->h1);
    conn->request_ms = conn->in_start < conn->in_end? ts_mono_ms (): 0;
}

//  Parses and answers the requests in the read buffer, in order, until
//  it is empty, an answer waits to be sent or for the broker, or the
//  connection must end. Returns 0, or -1 if the connection failed.
static int
s_conn_process (s_loop_t *loop, s_conn_t *conn)
{
    while (conn->state == TS_HTTP_CONN_OPEN && !conn->forward
       &&  !conn->parked && conn->in_start < conn->in_end) {
        //  Answers queue up behind one another up to a limit, but none
        //  goes behind a body still being produced.
        if (conn->out_len - conn->out_sent > TS_HTTP_CONN_OUT_HIGH
        ||  conn->producer.produce)
            break;
        size_t used = 0;
        ts_h1_event_t event = ts_h1_feed (conn->h1, conn->in + conn->in_start,
                                          conn->in_end - conn->in_start,
                                          &used);
        conn->in_start += used;
        if (event == TS_H1_MORE) {
            if (ts_h1_take_continue (conn->h1)) {
                static const char go [] = "HTTP/1.1 100 Continue\r\n\r\n";
                struct iovec iov = { .iov_base = (void *) go,
                                     .iov_len = sizeof go - 1 };
                if (ts_http_conn_send (conn, &iov, 1))
                    return -1;
            }
            break;
        }
        int rc = event == TS_H1_ERROR
            ? s_answer_error (loop, conn, ts_h1_status (conn->h1),
                              ts_h1_error (conn->h1), ts_h1_detail (conn->h1))
            : s_answer_request (loop, conn);
        if (rc)
            return -1;
        if (conn->forward || conn->parked)
            break;              //  s_forwarded, s_loop_resume move on
        s_conn_next (conn);
    }
    if (conn->in_start == conn->in_end)
        conn->in_start = conn->in_end = 0;
    return 0;
}

//  Brings the epoll registration and the closing steps up to date after
//  reading or writing. Returns 0, or -1 if the connection should close.
static int
s_conn_settle (s_loop_t *loop, s_conn_t *conn)
{
    if (conn->eof && conn->state == TS_HTTP_CONN_OPEN && !conn->forward
    &&  !conn->parked && conn->in_start == conn->in_end) {
        //  Every request the client sent is answered (or waits to be
        //  sent); a request cut by the close gets its error.
        if (ts_h1_eof (conn->h1) == TS_H1_ERROR
        &&  s_answer_error (loop, conn, ts_h1_status (conn->h1),
                            ts_h1_error (conn->h1), ts_h1_detail (conn->h1)))
            return -1;
        conn->state = TS_HTTP_CONN_CLOSING;
    }
    bool waiting = ts_http_conn_waiting (conn);
    if (conn->state == TS_HTTP_CONN_CLOSING && !waiting) {
        shutdown (conn->fd, SHUT_WR);
        conn->state = TS_HTTP_CONN_LINGER;
        conn->linger_ms = conn->last_ms = ts_mono_ms ();
    }
    unsigned events = 0;
    if (waiting)
        events |= EPOLLOUT;
    //  Read unless an answer (or the broker's) holds further requests
    //  back, or the buffer still holds a request that waits for it.
    if (conn->state == TS_HTTP_CONN_LINGER
    ||  (conn->state == TS_HTTP_CONN_OPEN && !conn->eof && !waiting
         && !conn->forward && !conn->parked
         && conn->in_end < TS_HTTP_CONN_IN))
        events |= EPOLLIN;
    s_conn_watch (loop, conn, events);
    return 0;
}

//  Handles readiness of one connection. Returns -1 to close it.
static int
s_conn_ready (s_loop_t *loop, s_conn_t *conn, unsigned events)
{
    if ((events & EPOLLERR)
    ||  ((events & EPOLLHUP) && conn->state == TS_HTTP_CONN_CLOSING))
        return -1;          //  nobody left to answer
    if (events & EPOLLOUT) {
        if (ts_http_conn_flush (conn))
            return -1;
        //  Requests held back by the answer just sent go on now.
        if (!ts_http_conn_waiting (conn) && s_conn_process (loop, conn))
            return -1;
    }
    if (conn->state == TS_HTTP_CONN_LINGER
    &&  (events & (EPOLLIN | EPOLLHUP)))
        return ts_http_conn_linger (conn);
    bool readable = conn->state == TS_HTTP_CONN_OPEN && !conn->eof
                 && !conn->forward && !conn->parked
                 && conn->in_end < TS_HTTP_CONN_IN;
    if ((events & EPOLLHUP) && !readable)
        return -1;          //  both directions are shut
    if ((events & (EPOLLIN | EPOLLHUP)) && readable) {
        ssize_t n = ts_http_conn_read (conn);
        if (n == TS_HTTP_CONN_AGAIN)
            return s_conn_settle (loop, conn);
        if (n < 0)
            return -1;
        if (n == 0) {
            //  The client is done sending; answers may still be due.
            conn->eof = true;
            return s_conn_settle (loop, conn);
        }
        if (conn->request_ms == 0)
            conn->request_ms = conn->last_ms;
        if (s_conn_process (loop, conn))
            return -1;
        if (!ts_h1_started (conn->h1) && conn->in_start == conn->in_end)
            conn->request_ms = 0;
    }
    return s_conn_settle (loop, conn);
}

//  ---------------------------------------------------------------------
//  Requests forwarded to the broker

//  Completion of a connection's forwarded request (ts_client_done_fn):
//  its answer goes out, then the requests behind it.
static void
s_forwarded (void *arg, void *ctx, ts_op_t op, int outcome,
             ts_msg_t *reply)
{
    s_loop_t *loop = arg;
    s_conn_t *conn = ctx;
    if (outcome == 0)
        ts_ready_broker_answered (loop->http->ready, ts_mono_ms ());
    //  The request is still in the parser: ts_h1_next comes after.
    int status = ts_route_finish (loop->http->route, ts_h1_target (conn->h1),
                                  conn->forward, reply, loop->out);
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_STR ("op", ts_op_name (op)),
               TS_LF_INT ("status", status), TS_LF_STR ("rid", conn->rid)),
               "http %s -> %d (broker)", ts_op_name (op), status);
    ts_msg_destroy (&conn->forward);
    int rc = s_answer_route (loop, conn);
    if (rc == 0) {
        s_conn_next (conn);
        rc = s_conn_process (loop, conn);
    }
    if (rc || s_conn_settle (loop, conn))
        s_conn_close (loop, conn);
}

//  Lets the forwarder read answers, expire deadlines and send, and notes
//  when it wants to be called again.
static void
s_loop_forward (s_loop_t *loop)
{
    int64_t wait = ts_client_process (loop->forward);
    //  Its last look at the socket came after any send made inside.
    loop->forward_sent = false;
    loop->forward_due_ms = wait < 0? 0: ts_mono_ms () + wait;
}

//  ---------------------------------------------------------------------
//  Queries parked for their read-through fetch

//  Answers the parked queries whose fetch ended or whose wait is up,
//  then the requests behind them.
static void
s_loop_resume (s_loop_t *loop, int64_t now)
{
    s_conn_t *conn = loop->conns;
    while (conn) {
        s_conn_t *next = conn->next;
        if (conn->parked && !ts_api_waiting (loop->api, &conn->wait, now)) {
            conn->parked = false;
            conn->wait.resumed = true;
            int rc = s_answer_request (loop, conn);
            if (rc == 0) {
                s_conn_next (conn);
                rc = s_conn_process (loop, conn);
            }
            if (rc || s_conn_settle (loop, conn))
                s_conn_close (loop, conn);
        }
        conn = next;
    }
}

//  ---------------------------------------------------------------------
//  The loop

static void
s_loop_accept (s_loop_t *loop)
{
    ts_http_t *http = loop->http;
    for (int i = 0; i < S_ACCEPTS; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        int fd = accept4 (http->listen_fd, (struct sockaddr *) &from,
                          &from_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
            ||  errno == ENOMEM) {
                //  Out of descriptors: stop accepting for a moment
                //  instead of spinning on a listener that stays ready.
                ts_warn ("http: accept: %s", strerror (errno));
                epoll_ctl (loop->epoll_fd, EPOLL_CTL_DEL, http->listen_fd,
                           NULL);
                loop->listen_off_ms = ts_mono_ms () + 100;
            }
            return;
        }
        size_t open = atomic_load (&http->conns);
        if (open >= http->max_conns + HTTP_REFUSALS) {
            close (fd);
            continue;
        }
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s_conn_t *conn = s_conn_new (loop, fd);
        if (!conn)
            close (fd);
        else
        if (open >= http->max_conns) {
            //  Over the limit: answered, then closed like any error, so
            //  the client reads the answer.
            if (s_answer_error (loop, conn, 503, "unavailable",
                                "too many open connections")
            ||  s_conn_settle (loop, conn))
                s_conn_close (loop, conn);
        }
        else
        if (http->peers && ts_http_peer_of ((struct sockaddr *) &from,
                                            from_len, &conn->peer)) {
            ts_http_peer_take_t took =
                ts_http_peers_take (http->peers, &conn->peer);
            conn->peer_counted = took == TS_HTTP_PEER_COUNTED;
            if (took == TS_HTTP_PEER_OVER
            &&  (s_answer_error (loop, conn, 429, "too_many_connections",
                                 "too many open connections from your "
                                 "address (gateway.http_max_connections_"
                                 "per_client)")
                 || s_conn_settle (loop, conn)))
                s_conn_close (loop, conn);
        }
    }
}

//  Adds the listening socket to the loop's epoll.
static int
s_loop_listen (s_loop_t *loop)
{
    struct epoll_event event = { .events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.ptr = &s_listen_tag };
    return epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, loop->http->listen_fd,
                      &event);
}

//  Closes or answers connections whose time is up.
static void
s_loop_sweep (s_loop_t *loop, int64_t now)
{
    ts_http_t *http = loop->http;
    s_conn_t *conn = loop->conns;
    while (conn) {
        s_conn_t *next = conn->next;
        bool waiting = ts_http_conn_waiting (conn);
        bool expired = false;
        if (conn->state == TS_HTTP_CONN_LINGER)
            expired = now - conn->last_ms > S_LINGER_MS
                   || now - conn->linger_ms > S_LINGER_MAX_MS;
        else
        if (waiting)
            //  The client does not read its answer.
            expired = now - conn->last_ms > http->idle_ms;
        else
        if (conn->forward || conn->parked)
            ;                   //  the forwarder's deadline, or the
                                //  read-through wait's, answers first
        else
        if (conn->request_ms && ts_h1_started (conn->h1)) {
            if (now - conn->request_ms > http->request_ms) {
                char detail [TS_ERRLEN];
                ts_errf (detail, "request not complete within %lld s",
                         (long long) (http->request_ms / 1000));
                expired = s_answer_error (loop, conn, 408,
                                          "request_timeout", detail) != 0
                       || s_conn_settle (loop, conn) != 0;
            }
        }
        else
            expired = now - conn->last_ms > http->idle_ms;
        if (expired)
            s_conn_close (loop, conn);
        conn = next;
    }
}

//  Starts the loop's drain: drops the listener (the last loop to drop
//  it closes it, so new connections are refused at once) and the drain
//  event (level-triggered, it would wake the loop for ever).
static void
s_loop_drain (s_loop_t *loop)
{
    ts_http_t *http = loop->http;
    loop->draining = true;
    epoll_ctl (loop->epoll_fd, EPOLL_CTL_DEL, http->drain_fd, NULL);
    if (!loop->listen_off_ms)
        epoll_ctl (loop->epoll_fd, EPOLL_CTL_DEL, http->listen_fd, NULL);
    loop->listen_off_ms = 0;
    if (atomic_fetch_add (&http->unlistened, 1) + 1 == http->threads) {
        close (http->listen_fd);
        http->listen_fd = -1;
    }
}

//  While draining: closes the connections with nothing in progress (no
//  request begun, none with the broker, no answer to send). True when
//  the loop may end: no connection left, or the drain's time is up.
static bool
s_loop_drained (s_loop_t *loop, int64_t now)
{
    s_conn_t *conn = loop->conns;
    while (conn) {
        s_conn_t *next = conn->next;
        if (conn->state == TS_HTTP_CONN_OPEN && !conn->forward
        &&  !conn->parked
        &&  !ts_http_conn_waiting (conn) && !conn->producer.produce
        &&  !ts_h1_started (conn->h1) && conn->in_start == conn->in_end)
            s_conn_close (loop, conn);
        conn = next;
    }
    return !loop->conns
        || now >= atomic_load (&loop->http->drain_until_ms);
}

void *
ts_http_loop_run (void *arg)
{
    s_loop_t *loop = arg;
    struct epoll_event events [S_EVENTS];
    bool stopping = false;
    while (!stopping) {
        bool forward_ready = false;
        bool wake = false;
        int timeout = loop->conns || loop->listen_off_ms? S_SWEEP_MS: -1;
        if (loop->forward_due_ms) {
            int64_t until = loop->forward_due_ms - ts_mono_ms ();
            if (until < 0)
                until = 0;
            if (timeout < 0 || until < timeout)
                timeout = (int) until;
        }
        int n = epoll_wait (loop->epoll_fd, events, S_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            ts_warn ("http: epoll_wait: %s", strerror (errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events [i].data.ptr;
            if (tag == &s_stop_tag)
                stopping = true;
            else
            if (tag == &s_drain_tag)
                s_loop_drain (loop);
            else
            if (tag == &s_forward_tag)
                forward_ready = true;
            else
            if (tag == &s_wake_tag) {
                uint64_t count;
                if (read (loop->wake_fd, &count, sizeof count) > 0)
                    wake = true;
            }
            else
            if (tag == &s_listen_tag)
                s_loop_accept (loop);
            else {
                s_conn_t *conn = tag;
                if (s_conn_ready (loop, conn, events [i].events))
                    s_conn_close (loop, conn);
            }
        }
        int64_t now = ts_mono_ms ();
        if (forward_ready || loop->forward_sent
        ||  (loop->forward_due_ms && now >= loop->forward_due_ms))
            s_loop_forward (loop);
        if (loop->listen_off_ms && now >= loop->listen_off_ms) {
            loop->listen_off_ms = 0;
            s_loop_listen (loop);
        }
        if (wake || now >= loop->next_sweep_ms)
            s_loop_resume (loop, now);
        if (now >= loop->next_sweep_ms) {
            s_loop_sweep (loop, now);
            loop->next_sweep_ms = now + S_SWEEP_MS;
        }
        if (loop->draining && s_loop_drained (loop, now))
            stopping = true;
    }
    size_t left = 0;
    while (loop->conns) {
        s_conn_close (loop, loop->conns);
        left++;
    }
    if (left && loop->draining)
        ts_warn ("http: drain time up: %zu connections still open closed",
                 left);
    atomic_store (&loop->ended, true);
    return NULL;
}

//  ---------------------------------------------------------------------
//  Set-up

int
ts_http_loop_new (s_loop_t *loop, ts_http_t *http, ts_api_t *api, char *err)
{
    loop->http = http;
    loop->api = api;
    loop->wake_fd = -1;
    loop->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    loop->forward = ts_client_new (ts_api_broker_endpoint (api),
                                   ts_api_broker_policy (api), s_forwarded,
                                   loop, err);
    if (!loop->forward)
        return -1;
    struct epoll_event stop = { .events = EPOLLIN, .data.ptr = &s_stop_tag };
    struct epoll_event drain = { .events = EPOLLIN,
                                 .data.ptr = &s_drain_tag };
    struct epoll_event forward = { .events = EPOLLIN,
                                   .data.ptr = &s_forward_tag };
    if (loop->epoll_fd < 0
    ||  !(loop->out = ts_reply_new ())
    ||  !(loop->reply = ts_msg_new (TS_OP_REPLY))
    ||  epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, http->stop_fd, &stop)
    ||  epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, http->drain_fd, &drain)
    ||  epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD,
                   ts_client_fd (loop->forward), &forward)
    ||  s_loop_listen (loop)) {
        ts_errf (err, "cannot start HTTP thread: %s", strerror (errno));
        return -1;
    }
    ts_flight_t *flights = ts_api_flights (api);
    if (flights) {
        struct epoll_event wake = { .events = EPOLLIN,
                                    .data.ptr = &s_wake_tag };
        loop->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (loop->wake_fd < 0
        ||  epoll_ctl (loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &wake)
        ||  ts_flight_watch (flights, loop->wake_fd)) {
            ts_errf (err, "cannot start HTTP thread: read-through wake-up");
            return -1;
        }
    }
    return 0;
}

void
ts_http_loop_destroy (s_loop_t *loop)
{
    if (loop->wake_fd >= 0) {
        ts_flight_unwatch (ts_api_flights (loop->api), loop->wake_fd);
        close (loop->wake_fd);
        loop->wake_fd = -1;
    }
    if (loop->epoll_fd >= 0)
        close (loop->epoll_fd);
    ts_reply_destroy (&loop->out);
    ts_msg_destroy (&loop->reply);
    ts_msg_destroy (&loop->scratch [0]);
    ts_msg_destroy (&loop->scratch [1]);
    //  Its requests were cancelled as the thread closed their
    //  connections: nothing is pending.
    ts_client_destroy (&loop->forward);
}
