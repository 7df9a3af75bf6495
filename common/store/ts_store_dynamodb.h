/*  ts_store_dynamodb - the DynamoDB backend of the registry and forecast
    roles (ts_store_dynamodb_ops in ts_store_backend.h), and what its
    files share. Internal to common/store/.

    ts_store_dynamodb.c: the backend's operations (requests, paging,
    batches, generations of a forecast); ts_store_dynamodb_status.c: the
    fetch status on registry items; ts_store_dynamodb_init.c: its
    tables (store init); ts_store_dynamodb_item.c: the
    item layout (docs/dynamodb.md): DynamoDB numbers to and from
    tscache's times and values, a forecast's points to items and back.

    Forecast table item layout (docs/dynamodb.md has the whole of it):
    - point items: identifier (S), time (N, epoch seconds with the
      milliseconds as 3 decimals and a 4th decimal, the slot of the
      generation: 0 or 1), expiry (N, epoch seconds, the table's TTL
      attribute), expiry_ms (N), gen (N), and one attribute per measure:
      value (N) for the measure "value", m_NAME (N) for any other.
    - a head item per id at time S_HEAD_TIME: head_gen (N), the
      generation readers take; expiry as the points'.
    An item without gen (the seed's: identifier, time, value, expiry) is
    read as measure "value" at time * 1000 while the id has no head. */

#ifndef TS_STORE_DYNAMODB_H_INCLUDED
#define TS_STORE_DYNAMODB_H_INCLUDED

#include <jansson.h>

#include "ts_aws.h"
#include "ts_store_backend.h"

//  Sort key of an id's head item: below any time tscache stores.
#define TS_DYN_HEAD_TIME    "-1E+100"
//  Prefix of the attribute of a measure other than "value".
#define TS_DYN_MEASURE      "m_"

//  Longest text of a DynamoDB number this backend writes, with its NUL.
#define TS_DYN_NUMLEN       48

//  The backend's state (ts_store_dynamodb.c opens it).
typedef struct {
    ts_aws_t *aws;
    char      registry [256];       //  table names
    char      forecast [256];
    unsigned  roles;                //  TS_STORE_* bits it serves
} ts_dyn_t;

//  The ops ids_status and ids_mark (ts_store_backend.h): the fetch
//  status as attributes of the id's registry item
//  (ts_store_dynamodb_status.c).
int ts_dyn_ids_status (void *state, const char *id, bool *exists,
                       ts_store_status_t *status, char *err);
int ts_dyn_ids_mark (void *state, const ts_store_mark_t *marks, size_t n,
                     char *err);

//  Reads the fetch status attributes of a registry item (as DynamoDB
//  JSON) into status (0 and "" for absent ones).
void ts_dyn_status_of (const json_t *item, ts_store_status_t *status);

//  Adds the status attributes to a request's ProjectionExpression (which
//  must be there) and their names to its ExpressionAttributeNames.
//  Returns 0, or TS_ENOMEM.
int ts_dyn_status_project (json_t *req);

//  The roles (TS_STORE_* bits) cfg puts on dynamodb; TS_ECONFIG if the
//  history role is one of them.
int ts_dyn_roles (const ts_config_t *cfg, unsigned *roles, char *err);

//  A client of the DynamoDB that cfg's store.dynamodb.* keys name; NULL
//  with the reason in err.
ts_aws_t *ts_dyn_client (const ts_config_t *cfg, char *err);

//  One DynamoDB call: op (e.g. "PutItem") with request req (stolen),
//  the answer (a JSON object) in *reply if reply is not NULL. On a
//  service error, type (type_size bytes, may be NULL) gets its type, e.g.
//  "ConditionalCheckFailedException". Returns 0 or a TS_E* code.
int ts_dyn_call (ts_aws_t *aws, const char *op, json_t *req, json_t **reply,
                 char *type, size_t type_size, char *err);

//  Writes the sort key of time_ms in slot (0 or 1) into buf.
void ts_dyn_time_text (int64_t time_ms, int slot, char *buf);

//  Writes a bound of a time range, widened by one millisecond outward
//  (lower: !upper) so that both slots of the edge times fall inside.
void ts_dyn_bound_text (int64_t time_ms, bool upper, char *buf);

//  Parses a DynamoDB number (as DynamoDB returns it: optional sign,
//  digits, optional fraction and exponent) as seconds into milliseconds,
//  truncated toward zero. False if it is not a number or out of int64
//  range (the head's sort key).
bool ts_dyn_time_ms (const char *text, int64_t *time_ms);

//  Writes a canonical form of a DynamoDB number into buf (TS_DYN_NUMLEN +
//  16 bytes), equal for equal numbers however they are written. False if
//  text is not a number.
bool ts_dyn_number_canon (const char *text, char *buf, size_t size);

//  Writes value as a DynamoDB number, the shortest text that reads back
//  to the same double. TS_EINVAL if DynamoDB cannot hold it (NaN,
//  infinite, magnitude outside 1E-130 .. 9.99E+125, but 0).
int ts_dyn_value_text (double value, char *buf);

//  The items of one forecast of id: one per distinct time of pts, holding
//  every measure of that time (the last of equal points), in slot gen % 2.
//  Appends {"PutRequest":{"Item":...}} to requests and each item's sort
//  key text to keys (a JSON array of strings). TS_EINVAL names the value
//  DynamoDB cannot hold; TS_ENOMEM.
int ts_dyn_forecast_items (const char *id, const ts_points_t *pts,
                           int64_t gen, int64_t expires_ms,
                           json_t *requests, json_t *keys, char *err);

//  The PutRequest of id's head item: head_gen gen, expiring at
//  expires_ms as its points. NULL if out of memory.
json_t *ts_dyn_head_request (const char *id, int64_t gen,
                             int64_t expires_ms);

//  An integer attribute ({"N": ...}) of item, or fallback.
int64_t ts_dyn_attr_int (const json_t *item, const char *name,
                         int64_t fallback);

//  Appends the points of one item read from the forecast table to out:
//  skipped if the item is a head, not of generation gen (gen 0: the items
//  without gen), expired at now_ms, or outside [from_ms, to_ms]; only
//  measure if not NULL. Returns 0, TS_ENOMEM or TS_ETOOBIG.
int ts_dyn_item_points (const json_t *item, int64_t gen, const char *measure,
                        int64_t from_ms, int64_t to_ms, int64_t now_ms,
                        ts_points_t *out);

//  How many points an item holds (measure attributes), 0 for a head.
size_t ts_dyn_item_count (const json_t *item);

//  Whether an item has expired at now_ms (expiry_ms, else expiry * 1000;
//  an item with neither never expires).
bool ts_dyn_item_expired (const json_t *item, int64_t now_ms);

#endif
