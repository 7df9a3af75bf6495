/*  ts_query - the parameters of a query (docs/protocol.md 5.2,
    docs/http-api.md), read into a ts_msg_t the same way whoever sent
    them: HTTP query parameters (gateway/ts_params), ZeroMQ request keys
    given as strings (common/ts_proto_client), and any other front end
    (the Grafana routes) that has a parameter's name and its text.

    Parameters: from, to (epoch ms, RFC 3339, or "now", "now-24h",
    "now+2d": units ms s m h d w y), measure (repeatable), step (a
    duration "5m" or ms), agg, max_points, fill, limit, next (a page
    token). Also the page token itself: what it holds and how it is
    checked, so that the engine and the tests share one definition.

    Pure: no I/O, no clock (ts_query_resolve takes now_ms). Every error
    names the parameter, the value and what is expected, in err
    (TS_ERRLEN bytes): "step: expected a duration (5m, 1h) or
    milliseconds > 0, got 'x'". */

#ifndef TS_QUERY_H_INCLUDED
#define TS_QUERY_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"

//  Largest limit and max_points (TS_PROTO_MAX_POINTS).
#define TS_QUERY_MAX_LIMIT  TS_PROTO_MAX_POINTS

//  Reads text, the value of the time parameter name ("from", "to"):
//  epoch ms, RFC 3339, "now", or "now" followed by + or - and a duration
//  (ts_duration_parse: "now-24h"). Sets *ms to the instant, or to the
//  offset from now and *relative to true. Returns 0 or TS_EINVAL.
int ts_query_time (const char *name, const char *text, int64_t *ms,
                   bool *relative, char *err);

//  Reads a step: a duration ("5m", "1h", "500ms") or whole milliseconds
//  ("300000"), > 0 and at most TS_DURATION_MAX_MS. Returns 0 or
//  TS_EINVAL.
int ts_query_step (const char *text, int64_t *ms, char *err);

//  Reads an aggregate name (avg, min, max, sum, count, first, last).
int ts_query_agg (const char *text, ts_agg_t *agg, char *err);

//  Reads a fill mode (none, null, previous).
int ts_query_fill (const char *text, ts_fill_mode_t *fill, char *err);

//  Wire names: "avg", ..., "none" for TS_AGG_NONE; "none", "null",
//  "previous". "?" for an unknown value.
const char *ts_agg_name (ts_agg_t agg);
const char *ts_fill_name (ts_fill_mode_t fill);

//  Reads parameter name with value text into msg, whichever it is:
//  from, to, measure (appended; at most TS_PROTO_MAX_QUERY_MEASURES),
//  step, agg, max_points, fill, limit, next. An empty text leaves msg as
//  it is. Returns 0, 1 if name is not a query parameter (msg untouched:
//  the caller may ignore it), TS_EINVAL or TS_ENOMEM with the detail.
int ts_query_param (ts_msg_t *msg, const char *name, const char *text,
                    char *err);

//  Appends measure (a name passing ts_name_existing) to msg->measures,
//  keeping msg->measure equal to it when it is the only one. A measure
//  given twice is kept once. Returns 0, TS_EINVAL or TS_ENOMEM.
int ts_query_add_measure (ts_msg_t *msg, const char *measure, size_t len,
                          char *err);

//  Checks what only the whole request shows: agg or fill without step
//  or max_points. Returns 0 or TS_EINVAL.
int ts_query_check (const ts_msg_t *msg, char *err);

//  Turns relative from/to into instants at now_ms (clamped to the int64
//  range), so that a query is resolved once, when it arrives.
void ts_query_resolve (ts_msg_t *msg, int64_t now_ms);

//  The instant of a time read by ts_query_time at now_ms: ms itself, or
//  now_ms + ms if relative (clamped to the int64 range).
int64_t ts_query_instant (int64_t ms, bool relative, int64_t now_ms);

//  The step a query uses over [from_ms, to_ms]: the larger of step_ms
//  and, if max_points is set, the smallest "nice" step (1, 2, 5 x 10^k
//  ms up to 1 s; then 1, 2, 5, 10, 15, 30 s and min; 1, 2, 3, 6, 12 h;
//  1, 2, 7 d; then whole weeks) for which the range holds at most
//  max_points buckets aligned on multiples of the step. 0: no step.
int64_t ts_query_auto_step (int64_t step_ms, uint32_t max_points,
                            int64_t from_ms, int64_t to_ms);

//  Whether a query asks for aggregation (a step or max_points).
bool ts_query_aggregated (const ts_msg_t *msg);

//  --- page tokens -------------------------------------------------------

//  What a page token holds: which query it belongs to (a hash of the
//  query's parameters but limit and next), the resolved range of the
//  first page (later pages keep it, so a relative range does not move
//  while it is paged), and the position: the time of the last item
//  answered and how many items at that time were answered up to it.
typedef struct {
    uint64_t hash;
    int64_t  from_ms;
    int64_t  to_ms;
    int64_t  time_ms;
    uint32_t at_time;
} ts_query_token_t;

//  The hash of what makes a query's answer (id, measures, step, agg,
//  max_points, fill, and from and to when relative: their offsets). Of
//  a request as received, before ts_query_resolve. Instants are not in
//  it: the token holds them and ts_query_token_parse compares them.
uint64_t ts_query_hash (const ts_msg_t *msg);

//  Writes token as text into buf (TS_NAME_MAX + 1 bytes):
//  "q1.HASH.FROM.TO.TIME.N", characters a name may hold.
void ts_query_token_format (const ts_query_token_t *token, char *buf);

//  Reads a token msg->next of the query msg: its text, its hash against
//  msg's, and msg's instants (from or to given as instants must equal
//  the token's). Returns 0, or TS_EINVAL with "next: ..." in err.
int ts_query_token_parse (const ts_msg_t *msg, ts_query_token_t *token,
                          char *err);

#endif
