/*  ts_http_internal - what the files of the HTTP front end share; not
    for callers (the contract is ts_http.h).

    ts_http is one module written as two files, one job each:

      ts_http.c       the server: the listening socket, the API keys and
                      the routes (again on reload), the threads, the
                      drain and the stop
      ts_http_loop.c  one thread's loop: accepting, reading, answering
                      and forwarding the connection's requests, timeouts,
                      lingering close, the drain of its connections

    Only gateway/ts_http*.c include this header (ts_http_conn, ts_http_key
    and ts_http_peers are modules of their own, with their own headers). */

#ifndef TS_HTTP_INTERNAL_H_INCLUDED
#define TS_HTTP_INTERNAL_H_INCLUDED

#include "ts_http.h"
#include "ts_client.h"
#include "ts_h1.h"
#include "ts_http_conn.h"
#include "ts_http_peers.h"
#include "ts_reply.h"
#include "ts_route.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define HTTP_REFUSALS   64      //  connections over the limit answered 503

//  One HTTP thread: its epoll loop and the connections it accepted.
typedef struct {
    ts_http_t  *http;           //  the server
    pthread_t   thread;         //  the loop's thread
    bool        running;        //  thread was started
    int         epoll_fd;       //  this loop's epoll
    ts_http_conn_t *conns;      //  open connections of this loop
    ts_reply_t *out;            //  answer, reused
    ts_client_t *forward;       //  this loop's requests to the broker
    ts_api_t   *api;            //  the request handler (borrowed)
    int         wake_fd;        //  eventfd: a read-through fetch ended
                                //  (ts_flight_watch), -1 if off
    ts_msg_t   *reply;          //  scratch: a refused forward's answer
    ts_msg_t   *scratch [2];    //  the routes' request and reply, kept
                                //  between requests (ts_route_req_t)
    bool        forward_sent;   //  sent since the forwarder's last process
    int64_t     forward_due_ms; //  when to process it anyway, 0: never
    time_t      date_s;         //  second of the cached Date header
    char        date [40];      //  "Date: ...\r\n" for date_s
    int64_t     next_sweep_ms;  //  when timeouts are next checked
    int64_t     listen_off_ms;  //  accept paused until (fd limit hit)
    bool        draining;       //  accepts no more, closes when answered
    atomic_bool ended;          //  the thread has returned
} ts_http_loop_t;

struct _ts_http_t {
    ts_route_t     *route;          //  the routes and the API keys
    int             port;           //  port bound
    int             listen_fd;      //  listening socket
    int             stop_fd;        //  eventfd, readable when stopping
    int             drain_fd;       //  eventfd, readable when draining
    atomic_llong    drain_until_ms; //  monotonic end of the drain
    atomic_size_t   unlistened;     //  loops that dropped the listener
    ts_ready_t     *ready;          //  told when the broker answers
    size_t          threads;        //  loops in use
    ts_http_loop_t *loops;          //  one per thread
    ts_h1_limits_t  limits;         //  request limits
    int64_t         idle_ms;        //  gateway.http_idle_timeout_s
    int64_t         request_ms;     //  gateway.http_request_timeout_s
    size_t          max_conns;      //  gateway.http_max_connections
    ts_http_peers_t *peers;         //  open per client address, or NULL
                                    //  (..._per_client 0: no limit)
    atomic_size_t   conns;          //  connections open, all loops
};

//  ---------------------------------------------------------------------
//  ts_http_loop.c: one thread's loop

//  Sets up loop, one of http's: its epoll set (the stop and drain
//  eventfds, the listening socket, its forwarder's fd, whose completions
//  it answers), its forwarder to api's broker and its scratch objects.
//  Returns 0, or -1 with the reason in err (then ts_http_loop_destroy).
int ts_http_loop_new (ts_http_loop_t *loop, ts_http_t *http, ts_api_t *api,
                      char *err);

//  The thread of loop (a ts_http_loop_t *): runs until the stop eventfd
//  is readable or, after the drain eventfd, until its connections are
//  closed or the drain's time is up; then closes what is left, sets
//  ended and returns NULL.
void *ts_http_loop_run (void *arg);

//  Frees what ts_http_loop_new made (its thread joined or never started):
//  the epoll, the scratch objects, the forwarder. Safe on a loop set up
//  in part.
void ts_http_loop_destroy (ts_http_loop_t *loop);

#endif
