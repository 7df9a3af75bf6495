/*  ts_api_private - the insides of ts_api_t, shared by its three files:
    ts_api.c (the object, the registry ops, who answers each op),
    ts_api_query.c (queries: the store read, options, freshness, the
    answer cache) and ts_api_rt.c (read-through: single flight, priority
    fetches). Internal to gateway/ts_api*.c. */

#ifndef TS_API_PRIVATE_H_INCLUDED
#define TS_API_PRIVATE_H_INCLUDED

#include "ts_api.h"
#include "ts_fresh.h"
#include "ts_hydrator.h"

#include <regex.h>

struct _ts_api_t {
    ts_store_t     *store;              //  borrowed
    int64_t         max_points;         //  gateway.max_points
    char           *broker_endpoint;    //  gateway.broker_endpoint
    ts_client_policy_t broker_policy;   //  gateway.broker_timeout_ms, no
                                        //  retries
    ts_cache_t     *cache;              //  answers; NULL if cache_mb is 0
    bool            stamps;             //  the store keeps change stamps
                                        //  and gateway.cache_stamps is use
    int64_t         stale_ms;           //  gateway.cache_stale_ms: reuse
                                        //  bound without stamps, deaf
    int64_t         ttl_ms;             //  gateway.cache_ttl_s: reuse
                                        //  bound whatever happens
    ts_ready_t     *ready;              //  readiness (GET /readyz)
    ts_curve_id_t  *curve;              //  the gateway's keys toward the
                                        //  broker; NULL in plain mode
    ts_fresh_t     *fresh;              //  the stale rule (ts_fresh.h)
    ts_metrics_t   *metrics;            //  request figures (GET /metrics)
    ts_strlist_t   *sources;            //  names of the configured
                                        //  sources, the first first
    char            source_names [TS_ERRLEN / 2];   //  "a, b"
    ts_api_rt_t     read_through;       //  gateway.read_through
    bool            has_pattern;        //  gateway.read_through_pattern
    regex_t         pattern;            //  set (anchored), if has_pattern
    int64_t         wait_ms;            //  gateway.read_through_wait_ms
    ts_flight_t    *flights;            //  fetches in flight (read-
                                        //  through); NULL if off
    ts_hydrator_t  *hydrator;           //  sends them; NULL if off
};

//  ---------------------------------------------------------------------
//  ts_api.c: the answers every part gives

//  Fills reply with a store failure (rc: TS_EINVAL 400, TS_ENOTFOUND 404,
//  else 500, logged); returns its status.
int ts_api_store_failed (ts_msg_t *reply, int rc, const char *detail);
//  Fills reply with 400 for an invalid id; returns its status.
int ts_api_invalid_id (const char *id, ts_msg_t *reply);
//  Fills reply with 400 for an id that is not registered and not valid
//  any more, else 404; returns its status.
int ts_api_not_registered (const char *id, ts_msg_t *reply);
//  0 if id is a valid name and registered (a name no longer valid passes
//  if registered); else fills reply with 400/404/500, returns its status.
int ts_api_check_registered (ts_api_t *self, const char *id,
                             ts_msg_t *reply);

//  ---------------------------------------------------------------------
//  ts_api_query.c

//  A query read from the store as of now (no answer cache): the TS_OP_QUERY
//  handler of ts_api_handle. Returns reply's status.
int ts_api_query_now (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply);
//  ts_api_query; *empty (may be NULL) is set when a 200 read from the
//  store holds no point of an id never fetched with success, with no
//  failure on record but an upstream 404 whose negative cache ran out:
//  read-through acts on it, and such an answer is never cached while
//  read-through is on.
int ts_api_query_cached (ts_api_t *self, const ts_msg_t *req, char format,
                         ts_api_encode_fn *encode, ts_msg_t *reply,
                         char **data, size_t *size, bool *empty);

//  ---------------------------------------------------------------------
//  ts_api_rt.c

//  gateway.read_through and its pattern; the flight table and the
//  hydrator unless it is off. Returns 0 or -1 with err.
int ts_api_rt_new (ts_api_t *self, const ts_config_t *cfg, char *err);

#endif
