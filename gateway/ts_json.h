/*  ts_json - a JSON text writer for the gateway's HTTP answers and the
    CLI's --json output.

    Answers are written as text straight into one growable buffer, with no
    intermediate tree: a query answer can hold a million points and is the
    hot path of the HTTP front end. Request bodies are parsed elsewhere
    (with jansson); this module only writes.

    The writer does not check structure: the caller writes "{", keys,
    commas and values in order. What it guarantees is the leaves: strings
    are escaped, doubles are printed shortest-round-trip and non-finite
    doubles become null.

    The answers whose shape HTTP and the CLI share (a series, broker
    stats, the dead-letter queue, and every other answer through
    ts_json_answer) are written by one function each here, so the two
    can never drift apart.

    Allocation failure is sticky: after one failed append every later
    append does nothing and ts_json_failed() is true, so a caller can write
    a whole document and check once at the end. */

#ifndef TS_JSON_H_INCLUDED
#define TS_JSON_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"

typedef struct _ts_json_t ts_json_t;

//  Returns an empty writer, or NULL if out of memory.
ts_json_t *ts_json_new (void);

//  Frees the writer and its buffer; sets *self_p to NULL. Safe on NULL.
void ts_json_destroy (ts_json_t **self_p);

//  Empties the buffer (keeps the allocation) and clears the failed flag.
void ts_json_reset (ts_json_t *self);

//  Appends len bytes of text verbatim. Returns 0 or TS_ENOMEM.
int ts_json_raw_n (ts_json_t *self, const char *text, size_t len);

//  Appends the NUL-terminated text verbatim. Returns 0 or TS_ENOMEM.
int ts_json_raw (ts_json_t *self, const char *text);

//  Appends s as a quoted JSON string: '"' and '\' escaped, control
//  characters as \n, \t, ... or \u00XX. Well-formed UTF-8 is copied as
//  it is; each byte that is not part of one becomes \ufffd, so the text
//  stays valid JSON whatever bytes a detail echoes. NULL is written as
//  null.
//  Returns 0 or TS_ENOMEM.
int ts_json_str (ts_json_t *self, const char *s);

//  Appends an integer. Returns 0 or TS_ENOMEM.
int ts_json_int (ts_json_t *self, int64_t value);

//  Appends an unsigned integer (counters). Returns 0 or TS_ENOMEM.
int ts_json_uint (ts_json_t *self, uint64_t value);

//  Appends a double with the fewest digits that read back to the same
//  value, or null if it is NaN or infinite. Returns 0 or TS_ENOMEM.
int ts_json_double (ts_json_t *self, double value);

//  Formats value shortest-round-trip ("%.15g", else "%.17g") into buf
//  (at least 32 bytes). Returns false (and writes "null") if value is not
//  finite. Used for JSON numbers and for values written as strings.
bool ts_json_format_double (double value, char *buf, size_t size);

//  Appends a query answer as GET /v1/series returns it: {"id", "from",
//  "to", "baseline" (ms or null), "points": [{"time", "measure", "value",
//  "source": "history"|"forecast"}, ...]}, history then forecast; a
//  reply of status 202 (read-through: its fetch is still pending) also
//  has "pending": true and "retry_after_ms" before "points".
//  Returns 0 or TS_ENOMEM.
int ts_json_series (ts_json_t *self, const ts_msg_t *reply);

//  Appends the same answer in parts, for an answer too large to hold
//  encoded whole: the part that starts at *at (0 for the first call) and
//  holds at most max_points (>= 1) points, and moves *at on. Returns 1
//  once the part written ends the answer, 0 if more follows, or
//  TS_ENOMEM. The parts of one answer, in order, are byte for byte what
//  ts_json_series writes.
int ts_json_series_part (ts_json_t *self, const ts_msg_t *reply,
                         size_t *at, size_t max_points);

//  Appends broker stats as GET /v1/stats returns them: the counters,
//  "oldest_age_ms" and "workers": [{"name", "credit", "leased"}, ...].
//  Returns 0 or TS_ENOMEM.
int ts_json_stats (ts_json_t *self, const ts_stats_t *stats);

//  Appends a dlq_ls answer as GET /v1/dlq returns it: {"jobs": [{"job",
//  "ids", "receives", "dead_at", "error"}, ...]}. Returns 0 or TS_ENOMEM.
int ts_json_dlq (ts_json_t *self, const ts_msg_t *reply);

//  Appends the JSON answer the HTTP API gives to a 2xx reply to req,
//  whatever front end asked, so that the CLI's --json and HTTP cannot
//  drift apart (by req->op; ids_rm names req->id):
//      ping          {"status":"ok"}       (as GET /healthz)
//      query         ts_json_series
//      ids_add       {"added":n}
//      ids_rm        {"id":"..","removed":true}
//      ids_ls        {"ids":[..],"next":"<cursor>"|null}
//      hydrate       {"queued":n,"jobs":[<job of each id>,..]}
//      stats         ts_json_stats
//      dlq_ls        ts_json_dlq
//      dlq_redrive   {"requeued":n}
//      dlq_purge     {"purged":n}
//      job_state     {"jobs":[{"job","state","receives","error"},..]}
//      ids_show      {"id":"..","source":"..","registered":true,
//                     "fetched_at":T|null,"last_attempt":T|null,
//                     "last_error":{"at":T,"kind":"..","detail":".."}
//                     |null,"not_found_until":T|null}, T an RFC 3339
//                     UTC time with milliseconds
//  Returns 0, TS_ENOMEM, or TS_EINVAL for an op with no answer of its
//  own (ready, job, ...).
int ts_json_answer (ts_json_t *self, const ts_msg_t *req,
                    const ts_msg_t *reply);

//  Appends the fields of one job state, without braces, as job_state
//  answers write them: "job":n,"state":"..","receives":n,"error":"..".
//  Returns 0 or TS_ENOMEM.
int ts_json_job_fields (ts_json_t *self, const ts_job_info_t *info);

//  Replaces the text with an HTTP error answer {"error": error,
//  "detail": detail} and returns status, so a route can write
//  "return ts_json_error (body, 400, "bad_request", err);".
int ts_json_error (ts_json_t *self, int status, const char *error,
                   const char *detail);

//  The text written so far (NUL-terminated; borrowed, valid until the
//  next append) and its length in bytes.
const char *ts_json_data (const ts_json_t *self);
size_t ts_json_size (const ts_json_t *self);

//  True if an append ran out of memory since the last reset.
bool ts_json_failed (const ts_json_t *self);

//  Hands the buffer over: returns it (caller frees with free()) and its
//  length in *size, and leaves the writer empty. Returns NULL if out of
//  memory or if an append failed.
char *ts_json_detach (ts_json_t *self, size_t *size);

#endif
