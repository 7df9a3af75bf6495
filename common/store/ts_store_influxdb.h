/*  ts_store_influxdb - the InfluxDB backend of the history role
    (ts_store_influxdb_ops in ts_store_backend.h), and what its files
    share. Internal to common/store/; docs/influxdb.md is the whole of it.

    ts_store_influxdb.c: the backend's operations (puts in line protocol
    batches, range reads by InfluxQL, forget); ts_store_influxdb_http.c:
    the client (one HTTP request with retries, gzip, auth, connection
    reuse); ts_store_influxdb_text.c: pure text work, no I/O (escaping,
    line building, InfluxQL, answers into points, partial writes);
    ts_store_influxdb_init.c: the database or bucket (store init).

    Layout: one measurement (store.influxdb.measurement, default
    "history"), tag id = the id, one float field per measure, time in
    milliseconds. A point of one (id, time, measure) is one field of one
    series at one time: a re-fetch overwrites it (an upsert).

    Two APIs: v1 (/write?db=, /query?db=; InfluxDB 1.x, and 3.x through
    its v1 compatibility) when store.influxdb.bucket is empty, else v2
    writes (/api/v2/write?org=&bucket=) with v1-compatible queries
    (/query?db=BUCKET; InfluxDB 2.x, Timestream for InfluxDB). */

#ifndef TS_STORE_INFLUXDB_H_INCLUDED
#define TS_STORE_INFLUXDB_H_INCLUDED

#include <jansson.h>

#include "ts_store_backend.h"

//  The widest millisecond range InfluxDB's nanosecond times hold.
#define TS_IFX_MIN_MS       (-INT64_C (9223372036853))
#define TS_IFX_MAX_MS       INT64_C (9223372036853)
//  Longest InfluxQL text the backend builds.
#define TS_IFX_QUERY_MAX    2048
//  Longest name (measurement, database, bucket) in the config.
#define TS_IFX_NAME_MAX     256
//  Rejected points named in one error text at most.
#define TS_IFX_REJECTED_MAX 8

//  TS_ECONFIG with the key in err if cfg puts the registry or the
//  forecast role on influxdb (it serves history only).
int ts_ifx_roles_check (const ts_config_t *cfg, char *err);

//  ---------------------------------------------------------------------
//  The client (ts_store_influxdb_http.c)

typedef struct _ts_ifx_t ts_ifx_t;

//  A server's answer to a request that did not succeed.
typedef struct {
    int  http_status;           //  0 if no answer came
    char message [256];         //  the server's "error" (or body start)
} ts_ifx_error_t;

//  A client of the server cfg's store.influxdb.* keys name (url, auth,
//  timeout_ms, retries, gzip); NULL with the reason in err (a secret
//  source that holds nothing, a bad url). Secrets are read here and
//  never logged nor put into err.
ts_ifx_t *ts_ifx_new (const ts_config_t *cfg, char *err);

//  Frees the client; sets *self_p to NULL. Safe on NULL.
void ts_ifx_destroy (ts_ifx_t **self_p);

//  True if the client writes through the v2 API (a bucket is set).
bool ts_ifx_v2 (const ts_ifx_t *self);

//  One write of body (len bytes of line protocol), gzipped if the config
//  says so, to the v1 or v2 write endpoint with precision ms. Retries no
//  answer, 429 and 5xx up to store.influxdb.retries times with backoff
//  and jitter. Returns 0 (HTTP 204 or 200), or TS_EBACKEND with error
//  filled (may be NULL) and "store.influxdb: write: ..." in err.
int ts_ifx_write (ts_ifx_t *self, const char *body, size_t len,
                  ts_ifx_error_t *error, char *err);

//  One InfluxQL request q (POSTed as a form, epoch=ms, to /query?db=)
//  with the same retries; on 200 the answer (a JSON object) in *reply,
//  the caller frees it. Errors as ts_ifx_write, "store.influxdb: query:".
int ts_ifx_query (ts_ifx_t *self, const char *q, json_t **reply,
                  ts_ifx_error_t *error, char *err);

//  One request of the v2 management API: method ("GET", "POST") of path
//  (from the url's root, query string included, already encoded) with a
//  JSON body (may be NULL). Same retries; on 2xx the answer in *reply
//  (may be NULL). Used by store init and forget on v2.
int ts_ifx_api (ts_ifx_t *self, const char *method, const char *path,
                const char *body, json_t **reply, ts_ifx_error_t *error,
                char *err);

//  The libraries the client uses ("libcurl X, zlib Y"), for --version.
const char *ts_ifx_libraries (void);

//  ---------------------------------------------------------------------
//  Text (ts_store_influxdb_text.c, pure)

//  Which part of a line a name is escaped for.
typedef enum {
    TS_IFX_MEASUREMENT = 0,     //  ',' ' ' escaped
    TS_IFX_KEY,                 //  tag key, tag value, field key:
                                //  ',' '=' ' ' escaped
} ts_ifx_part_t;

//  Appends name escaped for part to buf (size bytes, NUL kept) at *at,
//  advancing *at. TS_EINVAL if name is empty or holds a control
//  character (line protocol cannot carry a newline) or a backslash
//  (1.x and 2.x read it back differently), TS_ETOOBIG if it
//  does not fit; buf is then unchanged past *at.
int ts_ifx_escape (ts_ifx_part_t part, const char *name, char *buf,
                   size_t size, size_t *at);

//  Writes name as an InfluxQL identifier ("..." with '"' and '\'
//  escaped by '\') or string literal ('...' with '\'' and '\' escaped)
//  into buf (size bytes). TS_ETOOBIG if it does not fit, TS_EINVAL for a
//  control character.
int ts_ifx_ident (const char *name, char *buf, size_t size);
int ts_ifx_literal (const char *name, char *buf, size_t size);

//  Clamps a millisecond range to what InfluxDB holds; from <= to stays.
void ts_ifx_clamp (int64_t *from_ms, int64_t *to_ms);

//  The InfluxQL of a range read into buf (TS_IFX_QUERY_MAX bytes):
//  SELECT *::field (or "M"::field) FROM "MEASUREMENT" WHERE "id" = 'ID'
//  AND time >= Ams AND time <= Bms ORDER BY time ASC[ LIMIT N], LIMIT
//  only if limit is not 0. TS_ETOOBIG / TS_EINVAL as ts_ifx_ident.
int ts_ifx_select (const char *measurement, const char *id,
                   const char *measure, int64_t from_ms, int64_t to_ms,
                   size_t limit, char *buf);

//  DROP SERIES FROM "MEASUREMENT" WHERE "id" = 'ID' into buf
//  (TS_IFX_QUERY_MAX bytes).
int ts_ifx_drop (const char *measurement, const char *id, char *buf);

//  The lines of one put: pts grouped by time (ascending), one line per
//  time with one field per measure (the last of equal points wins).
typedef struct {
    size_t   n;                 //  lines
    int64_t *time_ms;           //  n times
    size_t  *fields;            //  n counts of fields (points) per line
    size_t  *start;             //  n + 1 offsets into text: line i is
                                //  text[start[i] .. start[i+1]) with its
                                //  '\n'
    char    *text;              //  every line, NUL-terminated
} ts_ifx_lines_t;

//  Builds the lines of id's points. TS_EINVAL names (in err) a value
//  that is not finite or a name line protocol cannot carry, TS_EBACKEND
//  a time outside TS_IFX_MIN_MS .. TS_IFX_MAX_MS; TS_ENOMEM. *out is
//  then NULL.
int ts_ifx_lines (const char *measurement, const char *id,
                  const ts_points_t *pts, ts_ifx_lines_t **out, char *err);

//  Frees lines; sets *self_p to NULL. Safe on NULL.
void ts_ifx_lines_destroy (ts_ifx_lines_t **self_p);

//  The measures of line i of lines (borrowed from pts), "m1,m2" into buf
//  (size bytes, cut if it does not fit).
void ts_ifx_line_measures (const ts_ifx_lines_t *lines, size_t i,
                           const ts_points_t *pts, char *buf, size_t size);

//  Appends the points of one /query answer (a JSON object) to out:
//  results[0].series[0] columns "time" then fields, values rows of
//  [time, v1, v2, ...]; a null or missing value is skipped, a JSON
//  number (integer or real) is a point, anything else TS_EPROTO. Stops at
//  max points in out: TS_ETOOBIG if the answer held another. TS_EBACKEND
//  with the server's text for results[].error or a top "error";
//  TS_EPROTO (reason in err) for an answer not of that shape. An answer
//  without series holds no points.
int ts_ifx_answer_points (const json_t *answer, size_t max,
                          ts_points_t *out, char *err);

//  The statement error of an answer (results[].error or "error"),
//  borrowed, or NULL.
const char *ts_ifx_answer_error (const json_t *answer);

//  The message of an error answer body (len bytes): its JSON "error" (or
//  "message", as 2.x says it), else its printable start; into buf (size
//  bytes).
void ts_ifx_error_text (const char *body, size_t len, char *buf,
                        size_t size);

//  True if status and message say part of a write was refused and the
//  rest may have been written or could be (1.x "partial write", a 2.x 422
//  or 400 with a line error): the put then sends its lines one by one.
bool ts_ifx_partial (int http_status, const char *message);

//  ---------------------------------------------------------------------
//  Store init (ts_store_influxdb_init.c)

//  Finds or creates what the backend writes into: v1, the database
//  store.influxdb.database (SHOW DATABASES, then CREATE DATABASE); v2,
//  the bucket store.influxdb.bucket of the org store.influxdb.org
//  (/api/v2/orgs?org=, /api/v2/buckets?orgID=&name=, then POST
//  /api/v2/buckets). Appends one line to report (may be NULL), e.g.
//  "influxdb: database tscache created" or "... found". TS_ECONFIG if
//  cfg puts another role than history on influxdb; else 0 or a TS_E*
//  code with the reason in err.
int ts_store_influxdb_init (const ts_config_t *cfg, ts_strlist_t *report,
                            char *err);

#endif
