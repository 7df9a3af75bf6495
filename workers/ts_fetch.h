/*  ts_fetch - concurrent HTTP GETs for a worker, over libcurl's multi
    interface.

    The caller adds requests (URL + a tag of its own), waits on ts_fetch_wait
    - which also watches one extra file descriptor, the worker's ZeroMQ
    socket - and collects completed requests with ts_fetch_next. At most
    max_active transfers run at once; more are queued in order. Easy
    handles are kept and reused, and the multi handle keeps connections
    alive between requests to the same host.

    Every transfer: GET, no redirects followed, http and https only, any
    Accept-Encoding curl supports, connect and total timeouts, the
    configured headers, and a cap on the (decoded) body size: a larger
    body aborts the transfer. Headers may hold a secret (an API key): they
    are never logged and are wiped when the fetcher is destroyed.

    Not thread-safe: one worker loop owns it. */

#ifndef TS_FETCH_H_INCLUDED
#define TS_FETCH_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_fetch_t ts_fetch_t;

typedef struct {
    size_t              max_active;         //  transfers at once, >= 1
    long                connect_timeout_ms; //  CURLOPT_CONNECTTIMEOUT_MS
    long                timeout_ms;         //  whole transfer
    size_t              max_body_bytes;     //  larger bodies fail
    const ts_strlist_t *headers;            //  "Name: value", may be NULL
} ts_fetch_opts_t;

//  One completed request. body and error are borrowed: valid until the
//  next ts_fetch_next or ts_fetch_destroy.
typedef struct {
    uint64_t    tag;            //  as given to ts_fetch_add
    int         rc;             //  0: a response arrived (any status);
                                //  TS_ETOOBIG: body over max_body_bytes;
                                //  TS_ETIMEOUT, TS_EUPSTREAM: no response
    long        status;         //  HTTP status if rc == 0
    const char *body;           //  response body (NUL-terminated)
    size_t      size;           //  body bytes
    const char *error;          //  rc != 0: what went wrong
    int64_t     elapsed_ms;     //  from ts_fetch_add to completion
} ts_fetch_result_t;

//  Returns a fetcher (headers are copied), or NULL with the reason in err.
ts_fetch_t *ts_fetch_new (const ts_fetch_opts_t *opts, char *err);

//  Aborts running transfers and frees everything; sets *self_p to NULL.
//  Safe on NULL.
void ts_fetch_destroy (ts_fetch_t **self_p);

//  Queues a GET of url (copied). Returns 0 or TS_ENOMEM.
int ts_fetch_add (ts_fetch_t *self, const char *url, uint64_t tag);

//  Waits up to timeout_ms for network activity or for extra_fd (if >= 0)
//  to be readable, then advances transfers. Returns early on either.
//  Returns 0, or TS_EUPSTREAM if libcurl failed (detail in err).
int ts_fetch_wait (ts_fetch_t *self, int extra_fd, int timeout_ms,
                   char *err);

//  Takes the next completed request into *result. Returns true if there
//  was one.
bool ts_fetch_next (ts_fetch_t *self, ts_fetch_result_t *result);

//  Requests not yet completed (running + queued).
size_t ts_fetch_pending (ts_fetch_t *self);

#endif
