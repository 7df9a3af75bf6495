/*  ts_h1 - reads HTTP/1.1 requests out of a byte stream, within limits.
    See ts_h1.h.

    http-parser does the framing (request line, header syntax, Content-
    Length, chunked bodies, keep-alive rules) and calls back with pieces of
    the target, header names and values and body, possibly split across
    reads. The callbacks copy only what the routes need and count bytes
    against the limits; a callback that finds a limit crossed records the
    status and stops the parser. on_message_complete pauses the parser, so
    one feed never runs past the end of a request: pipelined requests are
    answered one at a time, in order.

    http-parser skips any number of empty lines before a request line; the
    feed loop counts them first, so a stream of only CR/LF bytes is an
    error instead of a connection that waits for ever. */

#include "ts_h1.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  A growable byte buffer, kept NUL-terminated.
typedef struct {
    char   *data;       //  bytes, NUL after the last
    size_t  len;        //  bytes held
    size_t  cap;        //  bytes allocated
} s_buf_t;

//  The headers the routes and the framing read; every other is counted
//  against the limits and dropped.
typedef enum {
    S_OTHER, S_TOKEN, S_AUTHORIZATION, S_TRANSFER_ENCODING, S_EXPECT,
    S_REQUEST_ID, S_IF_NONE_MATCH, S_ACCEPT, S_HEADERS_
} s_header_t;

#define S_BODY_KEEP (64 * 1024)     //  body buffer kept between requests

struct _ts_h1_t {
    ts_h1_limits_t limits;      //  copy of the caller's limits
    http_parser    parser;      //  http-parser state; parser.data = self
    s_buf_t        target;      //  raw request target
    s_buf_t        token;       //  x-security-token value
    s_buf_t        authorization;   //  Authorization value
    s_buf_t        encoding;    //  Transfer-Encoding value
    s_buf_t        expect;      //  Expect value
    s_buf_t        request_id;  //  X-Request-Id value (the first one)
    s_buf_t        if_none_match;   //  If-None-Match value(s), joined
    s_buf_t        accept;      //  Accept values, joined by ", "
    s_buf_t        body;        //  body, de-chunked
    char           field [24];  //  current header name, lower case
    size_t         field_len;   //  bytes in field (may exceed sizeof)
    s_header_t     header;      //  which header the current value is
    bool           in_field;    //  last callback was a header name
    bool           seen [S_HEADERS_];   //  headers met, by s_header_t
    size_t         line_bytes;  //  name + value bytes of this header
    size_t         header_bytes;    //  name + value bytes of all headers
    size_t         headers;     //  header fields so far
    size_t         blank;       //  CR/LF bytes before the request line
    bool           started;     //  a request line has begun
    bool           complete;    //  the request is whole
    bool           failed;      //  an error was found
    bool           want_continue;   //  send "100 Continue"
    bool           keep_alive;  //  the connection may go on
    int            status;      //  HTTP status of the error
    const char    *error;       //  JSON error code of the error
    char           detail [TS_ERRLEN];  //  error detail
};

static int
s_buf_append (s_buf_t *buf, const char *data, size_t len)
{
    if (buf->len + len + 1 > buf->cap) {
        size_t cap = buf->cap? buf->cap: 256;
        while (cap < buf->len + len + 1)
            cap *= 2;
        char *grown = realloc (buf->data, cap);
        if (!grown)
            return TS_ENOMEM;
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy (buf->data + buf->len, data, len);
    buf->len += len;
    buf->data [buf->len] = 0;
    return 0;
}

static void
s_buf_free (s_buf_t *buf)
{
    free (buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

//  Removes trailing blanks (OWS is not part of a header value).
static void
s_buf_trim (s_buf_t *buf)
{
    while (buf->len > 0 && (buf->data [buf->len - 1] == ' '
                            || buf->data [buf->len - 1] == '\t'))
        buf->data [--buf->len] = 0;
}

//  Records an error (the first one wins); returns -1 for http-parser.
static int
s_fail (ts_h1_t *self, int status, const char *error, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail (ts_h1_t *self, int status, const char *error, const char *fmt, ...)
{
    if (!self->failed) {
        self->failed = true;
        self->status = status;
        self->error = error;
        va_list args;
        va_start (args, fmt);
        vsnprintf (self->detail, sizeof self->detail, fmt, args);
        va_end (args);
    }
    return -1;
}

static int
s_no_memory (ts_h1_t *self)
{
    return s_fail (self, 500, "internal", "out of memory");
}

static int
s_on_message_begin (http_parser *parser)
{
    ts_h1_t *self = parser->data;
    self->started = true;
    return 0;
}

static int
s_on_url (http_parser *parser, const char *at, size_t len)
{
    ts_h1_t *self = parser->data;
    if (len > self->limits.max_target - self->target.len)
        return s_fail (self, 414, "uri_too_long",
                       "request target over %zu bytes",
                       self->limits.max_target);
    return s_buf_append (&self->target, at, len)? s_no_memory (self): 0;
}

//  Counts len header bytes against the limits. Returns 0 or -1 (failed).
static int
s_count_header (ts_h1_t *self, size_t len)
{
    self->line_bytes += len;
    self->header_bytes += len;
    if (self->line_bytes > self->limits.max_header_line)
        return s_fail (self, 431, "headers_too_large",
                       "a header line over %zu bytes",
                       self->limits.max_header_line);
    if (self->header_bytes > self->limits.max_header_bytes)
        return s_fail (self, 431, "headers_too_large",
                       "header fields over %zu bytes in all",
                       self->limits.max_header_bytes);
    return 0;
}

static int
s_on_header_field (http_parser *parser, const char *at, size_t len)
{
    ts_h1_t *self = parser->data;
    if (!self->in_field) {
        //  A new header: the previous value (if any) is complete.
        if (++self->headers > self->limits.max_headers)
            return s_fail (self, 431, "headers_too_large",
                           "more than %zu header fields",
                           self->limits.max_headers);
        self->in_field = true;
        self->field_len = 0;
        self->line_bytes = 0;
    }
    if (s_count_header (self, len))
        return -1;
    for (size_t i = 0; i < len; i++, self->field_len++)
        if (self->field_len < sizeof self->field - 1) {
            char c = at [i];
            self->field [self->field_len] =
                c >= 'A' && c <= 'Z'? (char) (c - 'A' + 'a'): c;
        }
    return 0;
}

//  Names the header whose name was just read; fails on a duplicate of a
//  header that must appear once.
static int
s_header_begins (ts_h1_t *self)
{
    static const struct {
        const char *name;
        s_header_t  header;
    } known [] = {
        { "x-security-token", S_TOKEN },
        { "authorization", S_AUTHORIZATION },
        { "transfer-encoding", S_TRANSFER_ENCODING },
        { "expect", S_EXPECT },
        { "x-request-id", S_REQUEST_ID },
        { "if-none-match", S_IF_NONE_MATCH },
        { "accept", S_ACCEPT }
    };
    self->in_field = false;
    self->header = S_OTHER;
    if (self->field_len >= sizeof self->field)
        return 0;
    self->field [self->field_len] = 0;
    for (size_t i = 0; i < sizeof known / sizeof known [0]; i++)
        if (strcmp (self->field, known [i].name) == 0)
            self->header = known [i].header;
    //  A request id given twice (a proxy added one): the first counts.
    if (self->header == S_REQUEST_ID && self->seen [S_REQUEST_ID])
        self->header = S_OTHER;
    //  If-None-Match is a list: several lines are one list (RFC 9110
    //  5.3), joined with commas.
    if (self->header == S_IF_NONE_MATCH && self->seen [S_IF_NONE_MATCH]) {
        if (s_buf_append (&self->if_none_match, ",", 1))
            return s_no_memory (self);
        return 0;
    }
    //  Accept is a list: several fields are one, joined by commas
    //  (RFC 9110, 5.3).
    if (self->header == S_ACCEPT && self->seen [S_ACCEPT]) {
        s_buf_trim (&self->accept);
        return s_buf_append (&self->accept, ", ", 2)? s_no_memory (self): 0;
    }
    if (self->header != S_OTHER && self->seen [self->header])
        return s_fail (self, 400, "bad_request", "more than one %s header",
                       self->field);
    self->seen [self->header] = true;
    return 0;
}

static s_buf_t *
s_header_buf (ts_h1_t *self)
{
    switch (self->header) {
        case S_TOKEN:             return &self->token;
        case S_AUTHORIZATION:     return &self->authorization;
        case S_TRANSFER_ENCODING: return &self->encoding;
        case S_EXPECT:            return &self->expect;
        case S_REQUEST_ID:        return &self->request_id;
        case S_IF_NONE_MATCH:     return &self->if_none_match;
        case S_ACCEPT:            return &self->accept;
        default:                  return NULL;
    }
}

static int
s_on_header_value (http_parser *parser, const char *at, size_t len)
{
    ts_h1_t *self = parser->data;
    if (self->in_field && s_header_begins (self))
        return -1;
    if (s_count_header (self, len))
        return -1;
    s_buf_t *buf = s_header_buf (self);
    if (buf && s_buf_append (buf, at, len))
        return s_no_memory (self);
    return 0;
}

static int
s_on_headers_complete (http_parser *parser)
{
    ts_h1_t *self = parser->data;
    //  A header with an empty value gets no value callback.
    if (self->in_field && s_header_begins (self))
        return -1;
    s_buf_trim (&self->token);
    s_buf_trim (&self->authorization);
    s_buf_trim (&self->encoding);
    s_buf_trim (&self->expect);
    s_buf_trim (&self->request_id);
    s_buf_trim (&self->if_none_match);
    s_buf_trim (&self->accept);
    if (parser->http_major != 1)
        return s_fail (self, 505, "http_version_not_supported",
                       "HTTP/%u.%u is not supported: use HTTP/1.1",
                       parser->http_major, parser->http_minor);
    if (parser->method == HTTP_CONNECT)
        return s_fail (self, 501, "not_implemented",
                       "method CONNECT is not supported");
    if (self->seen [S_TRANSFER_ENCODING]
    &&  strcasecmp (self->encoding.data? self->encoding.data: "",
                    "chunked") != 0)
        return s_fail (self, 501, "not_implemented",
                       "Transfer-Encoding '%.40s' is not supported: send "
                       "Content-Length or Transfer-Encoding: chunked",
                       self->encoding.data? self->encoding.data: "");
    bool has_length = parser->flags & F_CONTENTLENGTH;
    if (has_length && parser->content_length > self->limits.max_body)
        return s_fail (self, 413, "too_big",
                       "request body over %zu bytes (Content-Length %llu)",
                       self->limits.max_body,
                       (unsigned long long) parser->content_length);
    bool has_body = (parser->flags & F_CHUNKED)
                 || (has_length && parser->content_length > 0);
    if (self->seen [S_EXPECT] && has_body
    &&  strcasecmp (self->expect.data? self->expect.data: "",
                    "100-continue") == 0)
        self->want_continue = true;
    return 0;
}

static int
s_on_body (http_parser *parser, const char *at, size_t len)
{
    ts_h1_t *self = parser->data;
    if (len > self->limits.max_body - self->body.len)
        return s_fail (self, 413, "too_big", "request body over %zu bytes",
                       self->limits.max_body);
    return s_buf_append (&self->body, at, len)? s_no_memory (self): 0;
}

static int
s_on_message_complete (http_parser *parser)
{
    ts_h1_t *self = parser->data;
    self->complete = true;
    self->want_continue = false;
    self->keep_alive = http_should_keep_alive (parser) != 0;
    //  Stop right after this request: the caller answers it first.
    http_parser_pause (parser, 1);
    return 0;
}

static const http_parser_settings s_settings = {
    .on_message_begin = s_on_message_begin,
    .on_url = s_on_url,
    .on_header_field = s_on_header_field,
    .on_header_value = s_on_header_value,
    .on_headers_complete = s_on_headers_complete,
    .on_body = s_on_body,
    .on_message_complete = s_on_message_complete
};

ts_h1_limits_t
ts_h1_limits_default (size_t max_body)
{
    return (ts_h1_limits_t) {
        .max_target = TS_H1_MAX_TARGET,
        .max_header_line = TS_H1_MAX_HEADER_LINE,
        .max_header_bytes = TS_H1_MAX_HEADER_BYTES,
        .max_headers = TS_H1_MAX_HEADERS,
        .max_body = max_body,
        .max_blank = TS_H1_MAX_BLANK
    };
}

ts_h1_t *
ts_h1_new (const ts_h1_limits_t *limits)
{
    ts_h1_t *self = calloc (1, sizeof (ts_h1_t));
    if (!self)
        return NULL;
    self->limits = *limits;
    http_parser_init (&self->parser, HTTP_REQUEST);
    self->parser.data = self;
    return self;
}

void
ts_h1_destroy (ts_h1_t **self_p)
{
    if (self_p && *self_p) {
        ts_h1_t *self = *self_p;
        s_buf_free (&self->target);
        s_buf_free (&self->token);
        s_buf_free (&self->authorization);
        s_buf_free (&self->accept);
        s_buf_free (&self->encoding);
        s_buf_free (&self->expect);
        s_buf_free (&self->request_id);
        s_buf_free (&self->if_none_match);
        s_buf_free (&self->body);
        free (self);
        *self_p = NULL;
    }
}

//  Records the parser's own error as a status and detail.
static void
s_parser_error (ts_h1_t *self, enum http_errno code)
{
    const char *what = http_errno_description (code);
    switch (code) {
        case HPE_HEADER_OVERFLOW:
            if (self->headers == 0)
                s_fail (self, 414, "uri_too_long",
                        "request line too long");
            else
                s_fail (self, 431, "headers_too_large",
                        "header section too large");
            break;
        case HPE_INVALID_CONTENT_LENGTH:
            s_fail (self, 400, "bad_request",
                    "bad Content-Length: expected one decimal number");
            break;
        case HPE_UNEXPECTED_CONTENT_LENGTH:
            s_fail (self, 400, "bad_request", "Content-Length given twice "
                    "or together with Transfer-Encoding");
            break;
        case HPE_INVALID_TRANSFER_ENCODING:
            s_fail (self, 501, "not_implemented",
                    "unsupported Transfer-Encoding");
            break;
        default:
            s_fail (self, 400, "bad_request", "malformed request: %s", what);
    }
}

ts_h1_event_t
ts_h1_feed (ts_h1_t *self, const char *data, size_t len, size_t *used)
{
    *used = 0;
    if (self->failed)
        return TS_H1_ERROR;
    if (self->complete)
        return TS_H1_REQUEST;
    size_t pos = 0;
    if (!self->started)
        while (pos < len && (data [pos] == '\r' || data [pos] == '\n')) {
            if (++self->blank > self->limits.max_blank) {
                *used = pos;
                s_fail (self, 400, "bad_request",
                        "more than %zu bytes of empty lines before the "
                        "request line", self->limits.max_blank);
                return TS_H1_ERROR;
            }
            pos++;
        }
    size_t n = http_parser_execute (&self->parser, &s_settings, data + pos,
                                    len - pos);
    *used = pos + n;
    enum http_errno code = HTTP_PARSER_ERRNO (&self->parser);
    if (self->failed)
        return TS_H1_ERROR;
    if (code == HPE_PAUSED && self->complete) {
        http_parser_pause (&self->parser, 0);
        return TS_H1_REQUEST;
    }
    if (code != HPE_OK) {
        s_parser_error (self, code);
        return TS_H1_ERROR;
    }
    return TS_H1_MORE;
}

ts_h1_event_t
ts_h1_eof (ts_h1_t *self)
{
    if (self->failed)
        return TS_H1_ERROR;
    if (self->complete)
        return TS_H1_REQUEST;
    if (!self->started)
        return TS_H1_MORE;
    s_fail (self, 400, "bad_request",
            "connection closed before the request was complete");
    return TS_H1_ERROR;
}

void
ts_h1_next (ts_h1_t *self)
{
    self->target.len = 0;
    self->token.len = 0;
    self->authorization.len = 0;
    self->encoding.len = 0;
    self->expect.len = 0;
    self->request_id.len = 0;
    self->if_none_match.len = 0;
    self->accept.len = 0;
    if (self->body.cap > S_BODY_KEEP)
        s_buf_free (&self->body);
    self->body.len = 0;
    memset (self->seen, 0, sizeof self->seen);
    self->in_field = false;
    self->field_len = 0;
    self->line_bytes = self->header_bytes = self->headers = 0;
    self->blank = 0;
    self->started = self->complete = self->want_continue = false;
    self->keep_alive = false;
}

bool
ts_h1_started (const ts_h1_t *self)
{
    return self->started;
}

bool
ts_h1_take_continue (ts_h1_t *self)
{
    bool want = self->want_continue && !self->failed;
    self->want_continue = false;
    return want;
}

const char *
ts_h1_method (const ts_h1_t *self)
{
    return http_method_str ((enum http_method) self->parser.method);
}

const char *
ts_h1_target (const ts_h1_t *self)
{
    return self->target.len? self->target.data: "";
}

//  The value of a header seen in this request, or NULL.
static const char *
s_value (const ts_h1_t *self, s_header_t header, const s_buf_t *buf,
         size_t *len)
{
    *len = self->seen [header]? buf->len: 0;
    if (!self->seen [header])
        return NULL;
    return buf->len? buf->data: "";
}

const char *
ts_h1_token (const ts_h1_t *self, size_t *len)
{
    return s_value (self, S_TOKEN, &self->token, len);
}

const char *
ts_h1_authorization (const ts_h1_t *self, size_t *len)
{
    return s_value (self, S_AUTHORIZATION, &self->authorization, len);
}

const char *
ts_h1_if_none_match (const ts_h1_t *self, size_t *len)
{
    return s_value (self, S_IF_NONE_MATCH, &self->if_none_match, len);
}

const char *
ts_h1_request_id (const ts_h1_t *self, size_t *len)
{
    return s_value (self, S_REQUEST_ID, &self->request_id, len);
}

const char *
ts_h1_accept (const ts_h1_t *self, size_t *len)
{
    return s_value (self, S_ACCEPT, &self->accept, len);
}

const char *
ts_h1_body (const ts_h1_t *self, size_t *size)
{
    *size = self->body.len;
    return self->body.len? self->body.data: NULL;
}

bool
ts_h1_keep_alive (const ts_h1_t *self)
{
    return self->keep_alive;
}

bool
ts_h1_is_head (const ts_h1_t *self)
{
    return self->parser.method == HTTP_HEAD;
}

bool
ts_h1_is_http10 (const ts_h1_t *self)
{
    return self->parser.http_major == 1 && self->parser.http_minor == 0;
}

int
ts_h1_status (const ts_h1_t *self)
{
    return self->failed? self->status: 0;
}

const char *
ts_h1_error (const ts_h1_t *self)
{
    return self->failed? self->error: "";
}

const char *
ts_h1_detail (const ts_h1_t *self)
{
    return self->failed? self->detail: "";
}

const char *
ts_h1_reason (int status)
{
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default:  return "Unknown";
    }
}

const char *
ts_h1_libraries (void)
{
    static char text [32];
    if (!*text) {
        unsigned long v = http_parser_version ();
        snprintf (text, sizeof text, "http-parser %lu.%lu.%lu",
                  (v >> 16) & 255, (v >> 8) & 255, v & 255);
    }
    return text;
}
