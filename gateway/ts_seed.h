/*  ts_seed - the replaced service's HTTP API, answered as it answered.

    tscache replaces an AWS sample: an API Gateway REST API (one greedy
    {proxy+} resource with method ANY under a stage such as /prod; the
    root resource has no method) in front of one Lambda that reads
    Timestream and DynamoDB. Its clients call GET /timeSeries-data. This
    module gives them the same status codes and bodies, byte for byte,
    wherever the seed's answer did not come from AWS internals. Every
    answer goes out with Content-Type: application/json, as API Gateway
    sends when the Lambda sets no content type.

    Paths owned (ts_seed_owns): every path whose first segment is
    timeSeries-data, and with gateway.seed_path_prefix P, P and every
    path under it (P/x is answered as the seed answered /x).

    Answers, in the seed's order (KEY: an accepted x-security-token):
        P or P/ (any method)                403 {"message":"Missing
                                                Authentication Token"}
        no KEY (any method, any path)       400 "{}"  (4 bytes, quotes
                                                included)
        not GET, or a path other than
        /timeSeries-data (a trailing '/'
        is another path)                    400 We only accept GET
                                                /timeSeries-data  (text)
        no query parameter at all           400 "{}"
        identifier, startDate or endDate
        missing or empty                    400 "Some query string params
                                                missing: [object Object]"
        otherwise                           200 {"historicalRows":[ROW..],
                                                "futureRows":[ROW..]}
    ROW is {"identifier":ID,"cpu":"VALUE","time":MS}: history newest
    first, then the forecast after the newest history point, ascending.
    A repeated parameter counts by its last value (API Gateway's
    queryStringParameters). An id that is not registered answers 200 with
    both lists empty, as the seed did for an id it had no data for.

    Where the seed's answer came from Timestream or DynamoDB, tscache
    keeps its own rules and answers {"error","detail"} JSON: 400
    bad_request for an invalid id, a date that is neither epoch ms nor
    RFC 3339, or an unknown measure; 400 bad_range for startDate after
    endDate; 413 too_big; 500 internal. measure=NAME picks one measure of
    upstream.format.measures (default: the first one configured).
    docs/seed-compat.md lists every remaining difference.

    Authorization is the caller's (ts_route holds the keys): this module
    only gets whether the key matched. */

#ifndef TS_SEED_H_INCLUDED
#define TS_SEED_H_INCLUDED

#include "ts_api.h"
#include "ts_reply.h"
#include "ts_target.h"

//  The exact bodies the seed sent, for callers and tests.
#define TS_SEED_BODY_NO_KEY     "\"{}\""
#define TS_SEED_BODY_ONLY_GET   "We only accept GET /timeSeries-data"
#define TS_SEED_BODY_MISSING    "\"Some query string params missing: " \
                                "[object Object]\""
#define TS_SEED_BODY_NO_METHOD  "{\"message\":\"Missing Authentication " \
                                "Token\"}"

typedef struct _ts_seed_t ts_seed_t;

//  Creates the seed's API over api (borrowed: must outlive it), with
//  gateway.seed_path_prefix and the measures of upstream.format.measures
//  from cfg (copied). Returns NULL with the reason in err if out of
//  memory.
ts_seed_t *ts_seed_new (ts_api_t *api, const ts_config_t *cfg, char *err);

//  Frees the seed's API; sets *self_p to NULL. Safe on NULL.
void ts_seed_destroy (ts_seed_t **self_p);

//  True if url is one of the seed's paths (see above).
bool ts_seed_owns (const ts_seed_t *self, const ts_target_t *url);

//  Answers method on url, a path ts_seed_owns. authorized: the request's
//  x-security-token was an accepted key. Writes the answer into out
//  (status, body; content type application/json) and returns the HTTP
//  status; 500 with a JSON error if out of memory.
int ts_seed_handle (ts_seed_t *self, const ts_target_t *url,
                    const char *method, bool authorized, ts_reply_t *out);

#endif
