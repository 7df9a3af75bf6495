/*  ts_h1 - reads HTTP/1.1 requests out of a byte stream, within limits.

    One ts_h1_t per connection. The server feeds it whatever arrived on the
    socket; it frames requests with http-parser (Debian's libhttp-parser:
    request line, headers, Content-Length and chunked bodies), keeps what
    the routes need (method, raw target, the x-security-token,
    Authorization, Accept and X-Request-Id values with their exact lengths, the
    body) and enforces
    the gateway's limits with an HTTP status and a JSON error code:

        request target over limits.max_target bytes        414 uri_too_long
        a header line over max_header_line bytes, header
        fields over max_header_bytes in all or more than
        max_headers of them                                431 headers_too_large
        body over max_body (announced or sent)             413 too_big
        more than max_blank empty-line bytes (CR or LF)
        before a request line                              400 bad_request
        bad Content-Length, both Content-Length and
        Transfer-Encoding, malformed chunk, bad syntax     400 bad_request
        Transfer-Encoding other than exactly "chunked"     501 not_implemented
        CONNECT                                            501 not_implemented
        HTTP major version other than 1                    505 http_version_not_supported

    After an error the connection cannot continue: the caller answers the
    status and closes. Pipelining is the caller's loop: feed, get
    TS_H1_REQUEST with the bytes used, answer, ts_h1_next, feed the rest.
    Pure: no sockets, no clock, no allocation beyond its own buffers. */

#ifndef TS_H1_H_INCLUDED
#define TS_H1_H_INCLUDED

#include "ts_common.h"

//  Limits of one request; every field must be > 0.
typedef struct {
    size_t max_target;          //  request target, bytes (414)
    size_t max_header_line;     //  one header's name + value, bytes (431)
    size_t max_header_bytes;    //  all header names + values, bytes (431)
    size_t max_headers;         //  header fields (431)
    size_t max_body;            //  body after de-chunking, bytes (413)
    size_t max_blank;           //  CR/LF bytes tolerated before a request
} ts_h1_limits_t;

//  The gateway's limits, also documented in docs/http-api.md.
#define TS_H1_MAX_TARGET        8192
#define TS_H1_MAX_HEADER_LINE   8192
#define TS_H1_MAX_HEADER_BYTES  32768
#define TS_H1_MAX_HEADERS       100
#define TS_H1_MAX_BLANK         4

//  The gateway's limits above, with a body of at most max_body bytes.
ts_h1_limits_t ts_h1_limits_default (size_t max_body);

//  What ts_h1_feed found.
typedef enum {
    TS_H1_MORE,         //  every byte used; the request is not complete
    TS_H1_REQUEST,      //  a whole request is ready (ts_h1_method ...)
    TS_H1_ERROR         //  bad request: answer ts_h1_status and close
} ts_h1_event_t;

typedef struct _ts_h1_t ts_h1_t;

//  Creates a reader with a copy of limits. Returns NULL if out of memory.
ts_h1_t *ts_h1_new (const ts_h1_limits_t *limits);

//  Frees the reader; sets *self_p to NULL. Safe on NULL.
void ts_h1_destroy (ts_h1_t **self_p);

//  Feeds len bytes. Sets *used to the bytes consumed: all of them for
//  TS_H1_MORE; up to the end of the request for TS_H1_REQUEST (the rest
//  belongs to the next request: call ts_h1_next, then feed it again);
//  anything for TS_H1_ERROR. After TS_H1_REQUEST or TS_H1_ERROR, feeding
//  again without ts_h1_next returns the same event and uses nothing.
ts_h1_event_t ts_h1_feed (ts_h1_t *self, const char *data, size_t len,
                          size_t *used);

//  The peer closed its side. Returns TS_H1_ERROR (400, incomplete
//  request) if a request had started, else TS_H1_MORE.
ts_h1_event_t ts_h1_eof (ts_h1_t *self);

//  Forgets the request just answered and gets ready for the next one;
//  keeps buffers (a large body buffer is released).
void ts_h1_next (ts_h1_t *self);

//  True once bytes of a request (other than tolerated empty lines) have
//  been fed since the last ts_h1_next: an idle connection is not mid-request.
bool ts_h1_started (const ts_h1_t *self);

//  True once, when the request's headers asked "Expect: 100-continue" for
//  a body that is still to come and no error was found: the caller sends
//  "HTTP/1.1 100 Continue" then. Clears the flag.
bool ts_h1_take_continue (ts_h1_t *self);

//  Request accessors, valid after TS_H1_REQUEST until ts_h1_next. Strings
//  are borrowed and NUL-terminated; lengths are exact (a value may hold
//  bytes the parser let through; the routes compare with the length).
const char *ts_h1_method (const ts_h1_t *self);          //  "GET" ...
const char *ts_h1_target (const ts_h1_t *self);          //  raw target
//  x-security-token value (trailing blanks removed) or NULL; *len its length.
const char *ts_h1_token (const ts_h1_t *self, size_t *len);
//  Authorization value (trailing blanks removed) or NULL; *len its length.
const char *ts_h1_authorization (const ts_h1_t *self, size_t *len);
//  If-None-Match value (trailing blanks removed; several header lines
//  joined with ",") or NULL; *len its length.
const char *ts_h1_if_none_match (const ts_h1_t *self, size_t *len);
//  X-Request-Id value (trailing blanks removed; the first if sent twice)
//  or NULL; *len its length. Not checked here: see ts_rid_valid_n.
const char *ts_h1_request_id (const ts_h1_t *self, size_t *len);
//  Accept value (trailing blanks removed; several Accept fields joined
//  by ", ", as RFC 9110 reads them) or NULL; *len its length.
const char *ts_h1_accept (const ts_h1_t *self, size_t *len);
const char *ts_h1_body (const ts_h1_t *self, size_t *size);
//  True if the connection may carry another request (HTTP/1.1 without
//  "Connection: close", or HTTP/1.0 with "Connection: keep-alive").
bool ts_h1_keep_alive (const ts_h1_t *self);
//  True for HEAD: the answer carries no body.
bool ts_h1_is_head (const ts_h1_t *self);
//  True for an HTTP/1.0 request (a kept-alive answer says so).
bool ts_h1_is_http10 (const ts_h1_t *self);

//  Error accessors, valid after TS_H1_ERROR: the HTTP status, the JSON
//  "error" code ("bad_request", "uri_too_long" ...) and the detail text.
int         ts_h1_status (const ts_h1_t *self);
const char *ts_h1_error (const ts_h1_t *self);
const char *ts_h1_detail (const ts_h1_t *self);

//  Standard reason phrase of an HTTP status ("Not Found"); "Unknown" for
//  a status it does not know.
const char *ts_h1_reason (int status);

//  "http-parser VERSION" as loaded at run time (static text), for
//  ts_version_use.
const char *ts_h1_libraries (void);

#endif
