/*  ts_store_timestream - the Timestream for LiveAnalytics backend of the
    history role (ts_store_timestream_ops in ts_store_backend.h), and what
    its files share. Internal to common/store/; docs/timestream.md is the
    whole of it.

    ts_store_timestream.c: the backend's operations (puts in batches of
    100 records, queries paged by NextToken); ts_store_timestream_call.c:
    the client (endpoint discovery and its cache, one call of an op);
    ts_store_timestream_text.c: pure text work, no I/O (the SQL of a
    range, the WriteRecords bodies, rejected records into an error text,
    scalars parsed by their type, a Query page into points);
    ts_store_timestream_init.c: the database and table (store init).

    Record layout: one record per point, dimension identifier = the id,
    MeasureName = the measure, MeasureValueType DOUBLE, TimeUnit
    MILLISECONDS, Version = microseconds since the epoch of the put
    (strictly increasing in a process, one per put): a re-fetch upserts.

    What Timestream cannot do: delete (forget deletes nothing: removing an
    id from the registry leaves its history until the table's retention
    ages it out), keep change stamps, hold times outside its retention
    window or more than 15 minutes ahead (such records are rejected and
    the put fails naming them), land a put of more than 100 points at
    once (a reader may see its first requests before the last). */

#ifndef TS_STORE_TIMESTREAM_H_INCLUDED
#define TS_STORE_TIMESTREAM_H_INCLUDED

#include <jansson.h>

#include "ts_aws.h"
#include "ts_store_backend.h"

#define TS_TMS_BATCH        100     //  records per WriteRecords
#define TS_TMS_DIMENSION    "identifier"
//  The widest millisecond range Timestream's nanosecond times hold.
#define TS_TMS_MIN_MS       (-INT64_C (9223372036854))
#define TS_TMS_MAX_MS       INT64_C (9223372036854)
//  Longest SQL text of a range query (names are at most 256 bytes, ids
//  and measures TS_NAME_MAX, doubled quotes at most twice that).
#define TS_TMS_SQL_MAX      2048
//  Longest text of a value (shortest round-trip decimal of a double).
#define TS_TMS_NUMLEN       32

//  TS_ECONFIG with the key in err if cfg puts the registry or the
//  forecast role on timestream (it serves history only).
int ts_tms_roles_check (const ts_config_t *cfg, char *err);

//  ---------------------------------------------------------------------
//  The client (ts_store_timestream_call.c)

typedef struct _ts_tms_t ts_tms_t;

//  Which endpoint a call goes to: writes and the database and table ops
//  to the ingest endpoint, Query to the query endpoint.
typedef enum { TS_TMS_INGEST = 0, TS_TMS_QUERY = 1 } ts_tms_side_t;

//  A client of the Timestream that cfg's store.timestream.* keys name
//  (region, endpoint, discovery, timeout_ms, retries); NULL with the
//  reason in err.
ts_tms_t *ts_tms_new (const ts_config_t *cfg, char *err);

//  Frees the client; sets *self_p to NULL. Safe on NULL.
void ts_tms_destroy (ts_tms_t **self_p);

//  One call of op (e.g. "WriteRecords") with request req (stolen) on
//  side's endpoint: discovered first (DescribeEndpoints) when discovery
//  is on and the cached endpoint's CachePeriodInMinutes is over, and
//  discovered again, the call sent once more, after a network error or
//  an InvalidEndpointException. On success the answer (a JSON object) in
//  *reply if reply is not NULL. On a service error, error (may be NULL)
//  gets its status, type and message, and *error_body (if error_body is
//  not NULL) the answer's body (the caller frees it). Returns 0 or a
//  TS_E* code with "store.timestream: Op: ..." in err.
int ts_tms_call (ts_tms_t *self, ts_tms_side_t side, const char *op,
                 json_t *req, json_t **reply, ts_aws_error_t *error,
                 char **error_body, char *err);

//  How many DescribeEndpoints calls the client made (for tests).
size_t ts_tms_discoveries (const ts_tms_t *self);

//  Parses a DescribeEndpoints answer: the first endpoint's Address
//  (HOST[:PORT], nothing else) as SCHEME://Address into url (size
//  bytes) and its CachePeriodInMinutes (>= 1, else 1) as milliseconds
//  into *period_ms. scheme is "http" or "https". TS_EPROTO with the
//  reason in err if the answer holds no usable endpoint.
int ts_tms_endpoint_parse (const char *text, size_t len, const char *scheme,
                           char *url, size_t size, int64_t *period_ms,
                           char *err);

//  ---------------------------------------------------------------------
//  Text (ts_store_timestream_text.c, pure)

//  Clamps a millisecond range to what Timestream holds
//  (TS_TMS_MIN_MS .. TS_TMS_MAX_MS); from <= to stays true.
void ts_tms_clamp (int64_t *from_ms, int64_t *to_ms);

//  Writes the SQL of a range query into buf (TS_TMS_SQL_MAX bytes):
//  SELECT measure_name, to_milliseconds(time) AS time_ms,
//  coalesce(measure_value::double, try_cast(measure_value::varchar AS
//  double)) AS value FROM "DB"."TABLE" WHERE identifier = 'ID' AND time
//  BETWEEN from_milliseconds(A) AND from_milliseconds(B)[ AND
//  measure_name = 'M'] ORDER BY time, measure_name[ LIMIT N]
//  with the range clamped (ts_tms_clamp), ' doubled in id and measure
//  (NULL: every measure), " doubled in db and table, LIMIT only if limit
//  is not 0. TS_ETOOBIG if it does not fit, else 0.
int ts_tms_sql (const char *db, const char *table, const char *id,
                const char *measure, int64_t from_ms, int64_t to_ms,
                size_t limit, char *buf);

//  Writes value as the shortest decimal text that reads back to the same
//  double into buf (TS_TMS_NUMLEN bytes). TS_EINVAL if it is NaN or
//  infinite (a DOUBLE measure holds neither).
int ts_tms_value_text (double value, char *buf);

//  The records of one put: indexes into pts of the points to send, one
//  per (measure, time), the last of equal points; ascending by time then
//  measure index. *n gets their number; the caller frees the array.
//  NULL if out of memory (or pts is empty, *n then 0).
size_t *ts_tms_records (const ts_points_t *pts, size_t *n);

//  The body of one WriteRecords of id's points idx[0 .. n) (n <=
//  TS_TMS_BATCH) with version. TS_EINVAL names a value a DOUBLE cannot
//  hold; NULL body then. NULL and TS_ENOMEM if out of memory.
json_t *ts_tms_write_body (const char *db, const char *table, const char *id,
                           int64_t version, const ts_points_t *pts,
                           const size_t *idx, size_t n, int *rc, char *err);

//  Reads a RejectedRecordsException body (len bytes) of a WriteRecords
//  of id's points idx[0 .. n) and appends one line per rejected record
//  to lines: "id 'ID' measure 'M' time T: REASON[ (existing version V)]".
//  Returns how many it appended, or TS_EPROTO if the body lists none (or
//  an index out of the request), TS_ENOMEM.
int ts_tms_rejected_parse (const char *body, size_t len, const char *id,
                           const ts_points_t *pts, const size_t *idx,
                           size_t n, ts_strlist_t *lines);

//  Fills err with "store.timestream: R of N records rejected: LINE; LINE
//  ..." naming as many of lines as fit and "(and K more)" for the rest.
void ts_tms_rejected_errf (char *err, const ts_strlist_t *lines,
                           size_t records);

//  Timestream's scalar types (ColumnInfo Type.ScalarType).
typedef enum {
    TS_TMS_UNKNOWN_TYPE = 0, TS_TMS_VARCHAR, TS_TMS_BOOLEAN, TS_TMS_BIGINT,
    TS_TMS_INTEGER, TS_TMS_DOUBLE, TS_TMS_TIMESTAMP, TS_TMS_DATE,
    TS_TMS_TIME, TS_TMS_INTERVAL_DAY_TO_SECOND,
    TS_TMS_INTERVAL_YEAR_TO_MONTH, TS_TMS_UNKNOWN
} ts_tms_type_t;

//  The type named name ("VARCHAR", ...); TS_TMS_UNKNOWN_TYPE if none.
ts_tms_type_t ts_tms_type (const char *name);

//  A scalar read by its type.
typedef struct {
    ts_tms_type_t type;
    bool          null;         //  {"NullValue":true}
    const char   *text;         //  VARCHAR: the text (borrowed)
    bool          boolean;      //  BOOLEAN
    int64_t       integer;      //  BIGINT, INTEGER; DATE: days since
                                //  1970-01-01; INTERVAL_YEAR_TO_MONTH:
                                //  months; TIMESTAMP: ns since the
                                //  epoch; TIME, INTERVAL_DAY_TO_SECOND: ns
    double        real;         //  DOUBLE (also NaN, Infinity, -Infinity)
} ts_tms_scalar_t;

//  Parses text (a ScalarValue) as a scalar of type: VARCHAR any text;
//  BOOLEAN true/false; BIGINT a 64-bit, INTEGER a 32-bit decimal
//  integer; DOUBLE a decimal number, NaN, Infinity or -Infinity;
//  TIMESTAMP "YYYY-MM-DD HH:MM:SS[.fffffffff]"; DATE "YYYY-MM-DD"; TIME
//  "HH:MM:SS[.fffffffff]"; INTERVAL_DAY_TO_SECOND "[-]D
//  HH:MM:SS[.fffffffff]"; INTERVAL_YEAR_TO_MONTH "[-]Y-M"; UNKNOWN only
//  as null (text NULL). text NULL means NullValue (out->null). TS_EPROTO
//  if text is not of the type.
int ts_tms_scalar_parse (ts_tms_type_t type, const char *text,
                         ts_tms_scalar_t *out);

//  Appends the points of one Query answer page (a JSON object) to out:
//  columns found by ColumnInfo Name (measure_name VARCHAR, time_ms BIGINT
//  or TIMESTAMP, value DOUBLE, BIGINT or INTEGER), a row whose value is
//  null skipped. Stops at max points in out: TS_ETOOBIG if the page held
//  another. *next gets the page's NextToken (borrowed from page) or NULL.
//  TS_EPROTO (with the reason in err) for an answer not of that shape.
int ts_tms_page_points (const json_t *page, size_t max, ts_points_t *out,
                        const char **next, char *err);

//  The version of a put at now_us (microseconds since the epoch):
//  now_us, or one more than the last version given if that is not
//  less; thread-safe, strictly increasing in a process.
int64_t ts_tms_version (int64_t now_us);

#endif
