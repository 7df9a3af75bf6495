/*  ts_params - a gateway HTTP request's parameters and JSON body, read
    into the ts_msg_t the routes hand to ts_api or the broker.

    Pure: no I/O, no clock, no state. ts_route calls it once it knows the
    route; each function checks what the client sent and says what is
    wrong in err (TS_ERRLEN bytes), which the route answers as 400
    bad_request (TS_ENOMEM: 500). Names (ids, measures, cursors) are
    checked with ts_name_existing, times are epoch milliseconds or RFC
    3339 (ts_time_parse). It does not check keys, methods or paths
    (ts_route), nor decode the target (ts_target). */

#ifndef TS_PARAMS_H_INCLUDED
#define TS_PARAMS_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"
#include "ts_target.h"

#include <jansson.h>

//  GET /v1/series/{id}?from=&to=&measure=&step=&agg=&max_points=&fill=
//  &limit=&next=: sets query's id to id (a segment of url, decoded) and
//  reads every parameter with ts_query_param (common/ts_query.h), in the
//  order given: measure may repeat, another parameter given twice is an
//  error, an empty value is as if absent, unknown names are ignored;
//  then ts_query_check. Returns 0, or TS_EINVAL with the detail in err
//  ("id: ...", "from: expected epoch milliseconds, an RFC 3339 time or
//  now[+-]DURATION ..., got '...'", "step: ..."); query may then be
//  partly filled.
int ts_params_query (const ts_target_t *url, const char *id,
                     ts_msg_t *query, char *err);

//  Reads text, the value of parameter name, as epoch milliseconds or an
//  RFC 3339 time into *ms. Returns 0, or TS_EINVAL with "NAME: expected
//  epoch milliseconds or an RFC 3339 time, got '...'" in err. The
//  replaced service's startDate and endDate (ts_seed) read the same way.
int ts_params_time (const char *name, const char *text, int64_t *ms,
                    char *err);

//  GET /v1/ids?after=&limit=&fetch=: sets msg's after and limit (1 to
//  TS_PROTO_IDS_PAGE, digits only) when given and not empty, and
//  with_fetch for fetch=true (false or empty: not). Returns 0, or
//  TS_EINVAL with the detail in err ("after: ...", "limit: expected 1 to
//  10000, got '...'", "fetch: expected true or false, got '...'").
int ts_params_page (const ts_target_t *url, ts_msg_t *msg, char *err);

//  Reads {"ids":["a",...]} from body (size bytes, need not end in NUL;
//  NULL when there is none) and appends the ids to ids, in order: at
//  least one (at most TS_PROTO_MAX_IDS), each a string and a valid name,
//  duplicate object keys refused. If optional, no body (or only white
//  space), {} and an empty list are fine and add nothing. Returns 0, or
//  TS_EINVAL or TS_ENOMEM with the detail in err ("bad JSON body: ...
//  (line L, column C)", "ids[2]: expected a string", ...); the ids read
//  before the fault are then left in ids. If root is not NULL, *root
//  gets the parsed body for the other keys (below; the caller
//  json_decrefs it; NULL for an optional body that was empty), on
//  success only.
int ts_params_ids (const char *body, size_t size, bool optional,
                   ts_strlist_t *ids, json_t **root, char *err);

//  The other keys of a body ts_params_ids has read, from its root (NULL:
//  none given): the body is parsed once.

//  The optional "source": a valid name, copied into source (TS_NAME_MAX
//  + 1 bytes; "" if there is none or it is null). Returns 0, or
//  TS_EINVAL with the detail in err.
int ts_params_source (const json_t *root, char *source, char *err);

//  Parses body (size bytes; NULL or blank: {}) into *root, a JSON object
//  the caller json_decrefs (duplicate keys refused). Returns 0, TS_EINVAL
//  with the detail in err ("bad JSON body: ... (line L, column C)",
//  "body must be a JSON object"), or TS_ENOMEM.
int ts_params_object (const char *body, size_t size, json_t **root,
                      char *err);

//  The optional boolean key (POST /v1/hydrate's "priority"): *value
//  gets it, false if there is none or it is null. Returns 0, or
//  TS_EINVAL with the detail in err ("priority: expected true or
//  false").
int ts_params_flag (const json_t *root, const char *key, bool *value,
                    char *err);

//  The optional time key (POST /v1/hydrate's "skip_fetched_since"):
//  epoch milliseconds (an integer, not negative) or an RFC 3339 time (a
//  string, not before 1970) into *ms; 0 if there is none or it is null.
//  Returns 0, or TS_EINVAL with the detail in err ("skip_fetched_since:
//  expected epoch milliseconds (not negative) or an RFC 3339 time").
int ts_params_body_time (const json_t *root, const char *key, int64_t *ms,
                         char *err);

//  The optional "jobs" (POST /v1/dlq/redrive): an array of
//  1..TS_PROTO_MAX_JOBS job numbers (integers >= 1), appended to msg's
//  jobs; none or null adds nothing. Returns 0, or TS_EINVAL ("jobs[1]:
//  expected a job number") or TS_ENOMEM with the detail in err.
int ts_params_jobs (const json_t *root, ts_msg_t *msg, char *err);

//  GET /v1/jobs?jobs=N,N,...: the job numbers (1 or more, digits only,
//  >= 1, at most TS_PROTO_MAX_JOBS), appended to msg's jobs. Returns 0,
//  or TS_EINVAL ("jobs: give job numbers, e.g. jobs=12,13", "jobs: 'x'
//  is not a job number") or TS_ENOMEM with the detail in err.
int ts_params_job_list (const ts_target_t *url, ts_msg_t *msg, char *err);

#endif
