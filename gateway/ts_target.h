/*  ts_target - splits an HTTP request target into decoded path segments and
    query parameters, for the gateway's HTTP routes.

    "/v1/series/a%2Eb?from=1&measure=value" gives the segments "v1",
    "series", "a.b" and the parameters from=1, measure=value. Each path
    segment is percent-decoded on its own, so an encoded '/' never makes a
    new segment. Query names and values are form-decoded ('+' is a space).
    Malformed escapes and encoded NUL bytes are errors: the caller answers
    400 with the detail. Pure: no sockets, so routes are testable. */

#ifndef TS_TARGET_H_INCLUDED
#define TS_TARGET_H_INCLUDED

#include "ts_common.h"

#define TS_TARGET_MAX 8192  //  longest request target accepted, in bytes

typedef struct _ts_target_t ts_target_t;

//  Parses target (the raw request target, "/path?query"). Returns 0 and a
//  new ts_target_t in *out (caller destroys it); TS_EINVAL with the reason in
//  err if the target does not start with '/', is longer than TS_TARGET_MAX
//  or holds a bad percent escape; TS_ENOMEM.
int ts_target_parse (const char *target, ts_target_t **out, char *err);

//  Frees the parsed URL; sets *self_p to NULL. Safe on NULL.
void ts_target_destroy (ts_target_t **self_p);

//  Number of path segments: "/" has 0, "/v1/ids" 2, "/v1/ids/" 2 (one
//  trailing slash is ignored), "/v1//ids" 3 (the middle one empty).
size_t ts_target_segments (const ts_target_t *self);

//  Decoded segment i (borrowed), or NULL if i is out of range.
const char *ts_target_segment (const ts_target_t *self, size_t i);

//  Decoded value of the first query parameter called name (borrowed;
//  "" for "?name" or "?name="), or NULL if there is none.
const char *ts_target_param (const ts_target_t *self, const char *name);

//  Decoded value of the last query parameter called name (borrowed), or
//  NULL if there is none: "?a=1&a=2" gives "2", as AWS API Gateway's
//  queryStringParameters does.
const char *ts_target_param_last (const ts_target_t *self, const char *name);

//  Number of query parameters ("?a=1&a=2&b" has 3; "?" and "?&" have 0).
size_t ts_target_params (const ts_target_t *self);

//  Decoded value of query parameter i (< ts_target_params), in the order
//  given, and its decoded name in *name (both borrowed).
const char *ts_target_param_at (const ts_target_t *self, size_t i,
                                const char **name);

//  True if the path ended in a '/' after at least one segment ("/v1/ids/"),
//  the slash ts_target_segments ignores.
bool ts_target_trailing_slash (const ts_target_t *self);

//  Percent-decodes len bytes of s into a new NUL-terminated string in
//  *out (caller frees). form true also turns '+' into a space. Returns 0,
//  TS_EINVAL for a bad or NUL escape, TS_ENOMEM.
int ts_target_decode (const char *s, size_t len, bool form, char **out);

#endif
