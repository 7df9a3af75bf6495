/*  ts_http_conn - one connection of the HTTP front end: its socket, the
    bytes read and not yet parsed, the answer bytes the socket has not
    taken yet, and the writing of an answer (status line, headers, body
    in one writev).

    Internal to ts_http: ts_http.c owns the loops, the epoll
    registration, the parsing and answering of requests, forwarding and
    timeouts, and reads and writes the fields below directly. A
    connection belongs to one loop thread for its whole life: no locks. */

#ifndef TS_HTTP_CONN_H_INCLUDED
#define TS_HTTP_CONN_H_INCLUDED

#include "ts_common.h"
#include "ts_h1.h"
#include "ts_http_peers.h"
#include "ts_proto.h"
#include "ts_reply.h"
#include "ts_api.h"

#include <sys/uio.h>

#define TS_HTTP_CONN_IN         16384   //  read buffer, bytes
#define TS_HTTP_CONN_OUT_HIGH   65536   //  unsent answer bytes that stop
                                        //  reading; a larger buffer is
                                        //  freed once drained

typedef enum {
    TS_HTTP_CONN_OPEN,      //  reading and answering requests
    TS_HTTP_CONN_CLOSING,   //  last answer queued: flush, then linger
    TS_HTTP_CONN_LINGER     //  shut down for writing: read, drop until EOF
} ts_http_conn_state_t;

typedef struct _ts_http_conn_t ts_http_conn_t;
struct _ts_http_conn_t {
    ts_http_conn_t *prev, *next;    //  the loop's list of connections
    int         fd;             //  socket
    ts_http_conn_state_t state; //  see ts_http_conn_state_t
    bool        eof;            //  the client has closed its side
    ts_h1_t    *h1;             //  request reader
    ts_msg_t   *forward;        //  request with the broker, or NULL
    bool        parked;         //  a query waits for its read-through
                                //  fetch (wait), reading stops
    ts_api_wait_t wait;         //  while parked: what for, until when
    char        rid [TS_RID_MAX + 1];   //  id of the request being
                                //  answered (X-Request-Id), "" none
    char       *out;            //  answer bytes not yet sent
    size_t      out_len;        //  bytes in out
    size_t      out_sent;       //  bytes of out already sent
    size_t      out_cap;        //  bytes allocated in out
    ts_reply_producer_t producer;   //  rest of a produced body, or NULL
    bool        chunked;        //  producer's parts go out as chunks
    ts_json_t  *part;           //  a produced part, or NULL
    unsigned    events;         //  epoll events registered
    int64_t     last_ms;        //  last read or write progress
    int64_t     request_ms;     //  first byte of the request, 0 if idle
    int64_t     linger_ms;      //  when the lingering close began
    ts_http_peer_t peer;        //  the client's address
    bool        peer_counted;   //  counted in ts_http_peers: give back
    size_t      in_start;       //  first unparsed byte in in
    size_t      in_end;         //  end of the bytes read into in
    char        in [TS_HTTP_CONN_IN];   //  bytes read, not yet parsed
};

//  A connection on socket fd (taken over), reading requests within
//  limits (borrowed: must outlive it), with events EPOLLIN and
//  last_ms now. NULL if out of memory (fd is then not closed).
ts_http_conn_t *ts_http_conn_new (int fd, const ts_h1_limits_t *limits);

//  Closes the socket (which also leaves any epoll set), frees the
//  connection and its request with the broker (the caller cancels that
//  first); sets *self_p to NULL. Safe on NULL.
void ts_http_conn_destroy (ts_http_conn_t **self_p);

//  True if answer bytes wait for the socket, or a produced body is not
//  all written yet.
bool ts_http_conn_waiting (const ts_http_conn_t *self);

//  Writes one answer: the status line of reply's status, date (a whole
//  "Date: ...\r\n" line), Content-Type (reply's), Content-Length, the
//  reply's extra headers, "Connection: close" if close (and the state
//  becomes CLOSING) or "Connection: keep-alive" for a kept HTTP/1.0
//  connection, then the body (none if head). Sent now if nothing waits
//  before it; the rest is kept. A produced body (ts_reply_set_producer)
//  is taken from reply and written a part at a time as the socket takes
//  it (ts_http_conn_flush): with "Transfer-Encoding: chunked", or for an
//  HTTP/1.0 client without a length and with "Connection: close". A
//  stream reply is the caller's to refuse. Returns 0, or -1 if the
//  connection failed.
int ts_http_conn_answer (ts_http_conn_t *self, const char *date,
                         ts_reply_t *reply, bool head, bool close,
                         bool http10);

//  Sends iov now if nothing waits before it; keeps what the socket does
//  not take. Returns 0, or -1 if the connection failed.
int ts_http_conn_send (ts_http_conn_t *self, struct iovec *iov, int count);

//  Writes waiting answer bytes, and the parts of a produced body while
//  the socket takes them (one part in memory at a time). Returns 0 (all
//  sent, or the socket is full), or -1 if the connection failed or the
//  producer did (the client then sees a cut answer, not a wrong one).
int ts_http_conn_flush (ts_http_conn_t *self);

#define TS_HTTP_CONN_AGAIN  (-2)     //  ts_http_conn_read: nothing to read

//  Reads what the socket holds into the free end of in (the caller
//  checks there is room). Returns the bytes read (and sets last_ms), 0
//  at the client's end of stream, TS_HTTP_CONN_AGAIN if nothing is there
//  now, or -1 if the connection failed.
ssize_t ts_http_conn_read (ts_http_conn_t *self);

//  Reads and drops data during a lingering close. Returns -1 when the
//  connection should be closed now (end of stream or error), else 0.
int ts_http_conn_linger (ts_http_conn_t *self);

#endif
