/*  ts_reply - one HTTP answer as a route gives it: status, content type,
    extra headers and body.

    Routes answer into a ts_reply_t and the front end (ts_http) writes it
    out; neither knows the other's insides. The content type is any static
    text, so JSON, CSV, HTML, Prometheus text or an event stream all fit
    (TS_REPLY_* below are the usual ones). Extra headers (Allow, Cache-
    Control, ...) are kept as ready "Name: value\r\n" lines; the front
    end adds the status line, Date, Content-Type, Content-Length and
    Connection itself.

    The body is written through the reply's JSON writer (ts_reply_json:
    the common case), or adopted whole from a buffer the caller allocated
    (ts_reply_adopt: an encoded answer, e.g. one out of the answer cache,
    goes out without being copied again), or produced in parts
    (ts_reply_set_producer: an answer too large to hold encoded whole,
    such as a million points, is encoded a part at a time as the client
    takes it; the front end sends it with chunked transfer coding, or
    closes the connection after it for an HTTP/1.0 client).

    Event streams (Server-Sent Events): a reply marked as a stream
    (ts_reply_set_stream) is sent with its head and its body so far but
    without Content-Length; the front end then keeps the connection and
    hands the route's open callback a sink through which it writes later
    events and ends the stream. The HTTP front end does not serve streams
    yet: it answers a stream reply 500 until a route needs one.

    Allocation failure is sticky, as in ts_json: ts_reply_failed says
    whether anything written since the last reset was lost. */

#ifndef TS_REPLY_H_INCLUDED
#define TS_REPLY_H_INCLUDED

#include "ts_common.h"
#include "ts_json.h"

#define TS_REPLY_JSON       "application/json"
#define TS_REPLY_TEXT       "text/plain; charset=utf-8"
#define TS_REPLY_CSV        "text/csv; charset=utf-8"
#define TS_REPLY_HTML       "text/html; charset=utf-8"
#define TS_REPLY_EVENTS     "text/event-stream"
#define TS_REPLY_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

typedef struct _ts_reply_t ts_reply_t;

//  Where a stream reply writes its later events (see above): send
//  appends bytes (0, or -1 once the client is gone), close ends the
//  stream. Given by the front end; valid until close or until the
//  front end reports the client gone (send returns -1).
typedef struct {
    void *conn;                                         //  the front end's
    int  (*send) (void *conn, const char *data, size_t size);
    void (*close) (void *conn);
} ts_reply_sink_t;

//  Called by the front end once a stream reply's head went out.
typedef void (ts_reply_open_fn) (void *arg, const ts_reply_sink_t *sink);

//  Appends the next part of a produced body to part (a writer the front
//  end empties between calls). Returns 1 once the part written ends the
//  body, 0 if more follows, or a TS_E* code: the head is out by then, so
//  the front end cuts the connection and the client sees a truncated
//  answer, never a complete-looking wrong one.
typedef int (ts_reply_produce_fn) (void *arg, ts_json_t *part);

//  Frees a producer's argument.
typedef void (ts_reply_free_fn) (void *arg);

//  A produced body: the producer, its argument and how to free it.
typedef struct {
    ts_reply_produce_fn *produce;
    ts_reply_free_fn    *free;
    void                *arg;
} ts_reply_producer_t;

//  Returns an empty reply (as after ts_reply_reset), or NULL if out of
//  memory.
ts_reply_t *ts_reply_new (void);

//  Frees the reply and its body; sets *self_p to NULL. Safe on NULL.
void ts_reply_destroy (ts_reply_t **self_p);

//  Back to status 200, TS_REPLY_JSON, no extra headers, an empty body,
//  not a stream, not failed. Keeps the writer's allocation.
void ts_reply_reset (ts_reply_t *self);

//  The HTTP status (200 after a reset).
int ts_reply_status (const ts_reply_t *self);
void ts_reply_set_status (ts_reply_t *self, int status);

//  The content type: static text, borrowed (TS_REPLY_JSON after a
//  reset).
const char *ts_reply_type (const ts_reply_t *self);
void ts_reply_set_type (ts_reply_t *self, const char *content_type);

//  Adds the header "name: value" (both copied). Returns 0, TS_EINVAL if
//  name is empty or holds anything but letters, digits and '-', or value
//  holds a CR, LF or NUL (no header injection), or TS_ENOMEM (sticky).
int ts_reply_header (ts_reply_t *self, const char *name, const char *value);

//  The extra header lines, each "Name: value\r\n" (borrowed, valid until
//  the next change), and their length in *size.
const char *ts_reply_headers (const ts_reply_t *self, size_t *size);

//  The value of the extra header name (case-insensitive; borrowed, valid
//  until the next change) with its length in *len, or NULL.
const char *ts_reply_header_value (const ts_reply_t *self, const char *name,
                                   size_t *len);

//  The body writer. Writing through it drops a body taken with
//  ts_reply_adopt. Borrowed: valid for the reply's life.
ts_json_t *ts_reply_json (ts_reply_t *self);

//  Takes data (size bytes, from malloc; the reply frees it) as the whole
//  body, in place of whatever was written. Never fails.
void ts_reply_adopt (ts_reply_t *self, char *data, size_t size);

//  Makes the body a produced one (see above), in place of whatever was
//  written or adopted. The reply owns arg, freed with free_fn on the next
//  reset or on destroy, until the front end takes it. Never fails.
void ts_reply_set_producer (ts_reply_t *self, ts_reply_produce_fn *produce,
                            ts_reply_free_fn *free_fn, void *arg);

//  True if the body is produced.
bool ts_reply_is_produced (const ts_reply_t *self);

//  Moves the producer into *producer (the caller then owns its argument);
//  the reply's body is then empty. False if the body is not produced.
bool ts_reply_take_producer (ts_reply_t *self, ts_reply_producer_t *producer);

//  The body (borrowed, valid until the next change) and its size; empty
//  for a produced body.
const char *ts_reply_body (const ts_reply_t *self, size_t *size);

//  The body as NUL-terminated text (for tests and logs; may move an
//  adopted body to add the NUL). "" if out of memory.
const char *ts_reply_text (ts_reply_t *self);

//  Sets the whole answer to a JSON error {"error","detail"} with status
//  (content type JSON, body rewritten, extra headers kept) and returns
//  status, so a route can write "return ts_reply_error (r, 400, ...);".
int ts_reply_error (ts_reply_t *self, int status, const char *error,
                    const char *detail);

//  Sets the whole answer to text (static or copied: it is copied) with
//  status and content type, and returns status.
int ts_reply_set_text (ts_reply_t *self, int status, const char *type,
                      const char *text);

//  Marks the reply as an event stream (see above): open is called with
//  arg once the head went out. Sets the content type to TS_REPLY_EVENTS.
void ts_reply_set_stream (ts_reply_t *self, ts_reply_open_fn *open,
                          void *arg);

//  True if the reply is a stream; *open and *arg (if not NULL) get the
//  callback.
bool ts_reply_is_stream (const ts_reply_t *self, ts_reply_open_fn **open,
                         void **arg);

//  True if a write (body or header) ran out of memory since the last
//  reset.
bool ts_reply_failed (const ts_reply_t *self);

#endif
