/*  ts_api - the gateway's request handler, shared by the ZeroMQ and HTTP
    front ends. See ts_api.h for the rules and status codes.

    Reads go straight to the store: a query is one ts_store_read
    (existence, history and forecast; one snapshot where the store has
    them). For the ops the broker serves, this file holds the gateway's
    side of the rules, written once for both front ends: which ops are forwarded (the
    s_forward entries of s_handler) and what the gateway checks before
    forwarding (ts_api_forward_check). Sending, waiting and judging the
    broker's answer are ts_client's: the front ends forward
    asynchronously from their loops with a forwarder each, and
    ts_api_handle, for callers without a loop (unit tests), makes one
    blocking round trip on a forwarder of its own (ts_client_call).
    Nothing here is shared between threads but the store and the answer
    cache, which are thread-safe. */

#include "ts_api.h"
#include "ts_client.h"
#include "ts_fresh.h"
#include "ts_hydrator.h"
#include "ts_log.h"
#include "ts_query.h"
#include "ts_query_run.h"

#include <assert.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>


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

//  The broker refused a read-through fetch (ts_hydrator's thread): its
//  flight ends, so its waiting queries answer now and a later query may
//  ask again.
static void
s_fetch_refused (void *arg, const char *id, int status, const char *detail)
{
    ts_api_t *self = arg;
    (void) status;
    (void) detail;
    ts_flight_end (self->flights, id);
}

//  gateway.read_through and its pattern; the flight table and the
//  hydrator unless it is off. Returns 0 or -1 with err.
static int
s_read_through_new (ts_api_t *self, const ts_config_t *cfg, char *err)
{
    const char *mode = ts_config_str (cfg, "gateway.read_through");
    self->read_through = strcmp (mode, "off") == 0? TS_API_RT_OFF
                       : strcmp (mode, "any") == 0? TS_API_RT_ANY
                                                  : TS_API_RT_REGISTERED;
    self->wait_ms = ts_config_int (cfg, "gateway.read_through_wait_ms");
    const char *pattern = ts_config_str (cfg, "gateway.read_through_pattern");
    if (self->read_through == TS_API_RT_ANY && pattern [0]) {
        //  Anchored: the whole id must match, whatever the pattern says.
        size_t size = strlen (pattern) + 5;
        char *anchored = malloc (size);
        if (!anchored) {
            ts_errf (err, "out of memory");
            return -1;
        }
        snprintf (anchored, size, "^(%s)$", pattern);
        int rc = regcomp (&self->pattern, anchored,
                          REG_EXTENDED | REG_NOSUB);
        free (anchored);
        if (rc) {
            ts_errf (err, "gateway.read_through_pattern: not a POSIX "
                     "extended regular expression");
            return -1;
        }
        self->has_pattern = true;
    }
    if (self->read_through == TS_API_RT_OFF)
        return 0;
    self->flights = ts_flight_new (TS_API_FLIGHT_MS);
    if (!self->flights) {
        ts_errf (err, "out of memory");
        return -1;
    }
    self->hydrator = ts_hydrator_new (self->broker_endpoint,
                                      &self->broker_policy, s_fetch_refused,
                                      self, err);
    return self->hydrator? 0: -1;
}

ts_api_t *
ts_api_new (const ts_config_t *cfg, ts_store_t *store, char *err)
{
    ts_api_t *self = calloc (1, sizeof (ts_api_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->store = store;
    self->max_points = ts_config_int (cfg, "gateway.max_points");
    //  "ignore" answers as a store without stamps would (tests).
    self->stamps = (ts_store_caps (store) & TS_STORE_CAP_STAMPS)
                && strcmp (ts_config_str (cfg, "gateway.cache_stamps"),
                           "use") == 0;
    self->stale_ms = ts_config_int (cfg, "gateway.cache_stale_ms");
    self->ttl_ms = ts_config_int (cfg, "gateway.cache_ttl_s") * 1000;
    self->broker_endpoint = strdup (ts_config_str (cfg,
                                                   "gateway.broker_endpoint"));
    //  The gateway's own key pair is its client key toward the broker
    //  (control and notice sockets) too.
    ts_curve_t *security = ts_curve_new (cfg, "tscache-gateway", err);
    int rc = security? ts_curve_client (security, "security.gateway_cert",
                                        "security.broker_cert", &self->curve,
                                        err)
                     : TS_ENOMEM;
    ts_curve_destroy (&security);
    if (rc) {
        ts_api_destroy (&self);
        return NULL;
    }
    self->broker_policy = (ts_client_policy_t) {
        .peer = "broker",
        .timeout_ms = (int) ts_config_int (cfg, "gateway.broker_timeout_ms"),
        .retries = 0,
        .max_reply = TS_API_MAX_BROKER_REPLY,
        .curve = self->curve
    };
    int64_t cache_mb = ts_config_int (cfg, "gateway.cache_mb");
    if (cache_mb > 0)
        self->cache = ts_cache_new ((size_t) cache_mb << 20);
    if (!(self->fresh = ts_fresh_new (cfg, err))) {
        ts_api_destroy (&self);
        return NULL;
    }
    self->ready = ts_ready_new (cfg, store);
    self->metrics = ts_metrics_new ();
    self->sources = ts_strlist_new ();
    for (size_t i = 0; self->sources && i < ts_config_source_count (cfg); i++)
        if (ts_strlist_append (self->sources, ts_config_source_name (
                                   ts_config_source_at (cfg, i))))
            ts_strlist_destroy (&self->sources);
    ts_config_source_names (cfg, self->source_names,
                            sizeof self->source_names);
    if (!self->broker_endpoint || (cache_mb > 0 && !self->cache)
    ||  !self->ready || !self->metrics || !self->sources) {
        ts_api_destroy (&self);
        ts_errf (err, "out of memory");
        return NULL;
    }
    if (s_read_through_new (self, cfg, err)) {
        ts_api_destroy (&self);
        return NULL;
    }
    if (self->cache && !self->stamps)
        ts_info ("answer cache: without change stamps an answer is reused "
                 "until a change notice of its id, for at most %" PRId64
                 " s (gateway.cache_ttl_s) while notices are heard, else "
                 "%" PRId64 " ms (gateway.cache_stale_ms)",
                 self->ttl_ms / 1000, self->stale_ms);
    return self;
}

void
ts_api_destroy (ts_api_t **self_p)
{
    if (self_p && *self_p) {
        ts_api_t *self = *self_p;
        //  Its refusals end flights: before the table goes.
        ts_hydrator_destroy (&self->hydrator);
        ts_flight_destroy (&self->flights);
        if (self->has_pattern)
            regfree (&self->pattern);
        ts_cache_destroy (&self->cache);
        ts_ready_destroy (&self->ready);
        ts_curve_id_destroy (&self->curve);
        ts_metrics_destroy (&self->metrics);
        ts_fresh_destroy (&self->fresh);
        ts_strlist_destroy (&self->sources);
        free (self->broker_endpoint);
        free (self);
        *self_p = NULL;
    }
}

void
ts_api_set_broker_timeout (ts_api_t *self, int timeout_ms)
{
    self->broker_policy.timeout_ms = timeout_ms;
}

int
ts_api_broker_timeout (const ts_api_t *self)
{
    return self->broker_policy.timeout_ms;
}

const ts_client_policy_t *
ts_api_broker_policy (const ts_api_t *self)
{
    return &self->broker_policy;
}

const char *
ts_api_broker_endpoint (const ts_api_t *self)
{
    return self->broker_endpoint;
}

//  Fills reply with a store failure.
static int
s_store_failed (ts_msg_t *reply, int rc, const char *detail)
{
    if (rc == TS_EINVAL)
        ts_msg_set_error (reply, 400, "bad_request", detail);
    else
    if (rc == TS_ENOTFOUND)
        ts_msg_set_error (reply, 404, "not_found", detail);
    else {
        ts_error ("store: %s", detail);
        ts_msg_set_error (reply, 500, "internal", detail);
    }
    return reply->status;
}

//  Fills reply with 400 for an invalid id; returns its status.
static int
s_invalid_id (const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN];
    ts_name_errf (err, "id", id, strnlen (id, TS_NAME_MAX + 1));
    ts_msg_set_error (reply, 400, "bad_request", err);
    return reply->status;
}

//  Fills reply with 400 for an id that is not registered and not valid
//  any more, else 404; returns its status.
static int
s_not_registered (const char *id, ts_msg_t *reply)
{
    if (!ts_name_valid (id))
        return s_invalid_id (id, reply);
    char err [TS_ERRLEN];
    ts_errf (err, "unknown id '%s'", id);
    ts_msg_set_error (reply, 404, "not_found", err);
    return reply->status;
}

//  Checks that id is a valid name and registered. A name that is not
//  valid any more (a leading '-') passes only if it is registered: it
//  was registered before the rule, and stays usable. Returns 0, or fills
//  reply with 400/404/500 and returns its status.
static int
s_check_registered (ts_api_t *self, const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (!ts_name_existing (id))
        return s_invalid_id (id, reply);
    bool exists = false;
    int rc = ts_store_ids_exists (self->store, id, &exists, err);
    if (rc)
        return s_store_failed (reply, rc, err);
    if (!exists)
        return s_not_registered (id, reply);
    return 0;
}

//  A bad measure or range is answered after the id's own check, as it
//  always was (an unknown id is 404 whatever else is wrong); the good
//  request reads everything in one ts_store_read.
static int
s_query_refused (ts_api_t *self, const ts_msg_t *req, int status,
                 const char *error, const char *detail, ts_msg_t *reply)
{
    if (s_check_registered (self, req->id, reply) == 0)
        ts_msg_set_error (reply, status, error, detail);
    return reply->status;
}

static int
s_too_big (size_t max, ts_msg_t *reply)
{
    char err [TS_ERRLEN];
    ts_errf (err, "more than %zu points in range (gateway.max_points); "
             "ask for a shorter range", max);
    ts_msg_set_error (reply, 413, "too_big", err);
    return reply->status;
}

//  An upstream 404 negative-cached for id until st->not_found_until_ms:
//  answers 404 upstream_not_found and returns its status; 0 otherwise.
static int
s_not_found_cached (ts_api_t *self, const char *id,
                    const ts_store_status_t *st, int64_t now,
                    ts_msg_t *reply)
{
    if (st->not_found_until_ms <= now)
        return 0;
    char err [TS_ERRLEN], until [40];
    ts_errf (err, "the upstream answered 404 for '%s' (%s); not asked "
             "again before %s (upstream.not_found_ttl_s)", id,
             st->error [0]? st->error: st->kind,
             ts_time_format (st->not_found_until_ms, until, sizeof until));
    ts_msg_set_error (reply, 404, "upstream_not_found", err);
    //  The 404 ended whatever fetch of the id read-through started (a
    //  failure sends no change notice): once the TTL is over the next
    //  query may fetch it again.
    ts_api_noticed (self, id);
    return reply->status;
}

//  The freshness of a query answer just read (q, ans): a negative cached
//  upstream 404 answers 404 upstream_not_found (returns its status, reply
//  filled); a failing id with stale-if-error on is read again as of
//  ts_fresh_read_ms (forecast points expired within the window come
//  back); reply->fresh is filled (ts_fresh_fill), and a stale id within
//  stale-while-revalidate gets one refresh asked for. Returns 0, or the
//  status of the error reply holds (404, or 413 / 500 from the second
//  read).
static int
s_freshness (ts_api_t *self, const ts_msg_t *req, ts_store_query_t *q,
             ts_store_answer_t *ans, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    const ts_store_status_t *st = &ans->status;
    if (s_not_found_cached (self, req->id, st, q->now_ms, reply))
        return reply->status;
    ts_fresh_verdict_t verdict;
    ts_fresh_judge (self->fresh, st->ok_ms, st->error_ms, q->now_ms,
                    &verdict);
    int64_t read_ms = ts_fresh_read_ms (self->fresh, &verdict, q->now_ms);
    if (read_ms != q->now_ms) {
        ts_points_clear (ans->history);
        ts_points_clear (ans->forecast);
        int64_t now = q->now_ms;
        q->now_ms = read_ms;
        int rc = ts_store_read (self->store, q, ans, err);
        q->now_ms = now;
        if (rc == TS_ETOOBIG)
            return s_too_big (q->max, reply);
        if (rc)
            return s_store_failed (reply, rc, err);
    }
    ts_fresh_fill (self->fresh, -1, st->ok_ms, st->error_ms, st->kind,
                   st->error, q->now_ms, reply, &verdict);
    if (ts_fresh_revalidate (self->fresh, &verdict, q->now_ms))
        ts_api_revalidate (self, req->id);
    return 0;
}

//  A query with options (ts_query_run): its codes as answers, and the
//  id's freshness as s_freshness says it (the stale-if-error second read
//  as of an earlier instant is not made: an aggregated or paged answer
//  reads the forecast as of now).
static int
s_query_options (ts_api_t *self, const ts_msg_t *req, int64_t now,
                 int64_t from, int64_t to, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    ts_store_status_t st;
    int rc = ts_store_ids_status (self->store, req->id, &st, err);
    if (rc == TS_ENOTFOUND)
        return s_not_registered (req->id, reply);
    if (rc)
        return s_store_failed (reply, rc, err);
    if (s_not_found_cached (self, req->id, &st, now, reply))
        return reply->status;
    rc = ts_query_run (self->store, req, now, from, to,
                       (size_t) self->max_points, reply, err);
    if (rc == TS_ENOTFOUND)
        return s_not_registered (req->id, reply);
    if (rc == TS_ETOOBIG) {
        ts_msg_set_error (reply, 413, "too_big", err);
        return reply->status;
    }
    if (rc)
        return s_store_failed (reply, rc, err);
    ts_fresh_verdict_t verdict;
    ts_fresh_judge (self->fresh, st.ok_ms, st.error_ms, now, &verdict);
    ts_fresh_fill (self->fresh, -1, st.ok_ms, st.error_ms, st.kind,
                   st.error, now, reply, &verdict);
    if (ts_fresh_revalidate (self->fresh, &verdict, now))
        ts_api_revalidate (self, req->id);
    return reply->status;
}

static int
s_query_at (ts_api_t *self, const ts_msg_t *req, int64_t now,
            ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (!ts_name_existing (req->id))
        return s_invalid_id (req->id, reply);
    const char *measure = req->measure [0]? req->measure: NULL;
    if (measure && !ts_name_existing (measure)) {
        ts_name_errf (err, "measure", measure,
                      strnlen (measure, TS_NAME_MAX + 1));
        return s_query_refused (self, req, 400, "bad_request", err, reply);
    }
    int64_t from = req->has_from? ts_query_instant (req->from_ms,
                                                    req->from_rel, now)
                                : now - TS_API_DEFAULT_SPAN_MS;
    int64_t to = req->has_to? ts_query_instant (req->to_ms, req->to_rel, now)
                            : now + TS_API_DEFAULT_SPAN_MS;
    if (from > to) {
        ts_errf (err, "from (%" PRId64 ") is after to (%" PRId64 ")",
                 from, to);
        return s_query_refused (self, req, 400, "bad_range", err, reply);
    }
    if (ts_query_check (req, err))
        return s_query_refused (self, req, 400, "bad_request", err, reply);
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    if (measure)
        ts_strlcpy (reply->measure, measure, sizeof reply->measure);
    reply->has_from = reply->has_to = true;
    reply->from_ms = from;
    reply->to_ms = to;
    reply->has_series = true;
    if (ts_query_run_needed (req))
        return s_query_options (self, req, now, from, to, reply);
    //  One read: existence, history and forecast. History is read up to
    //  the limit, never past it: a range of years is refused after
    //  max_points + 1 points, not after reading them all. A forecast is
    //  one fetch's worth and is read whole, then merged.
    size_t max = (size_t) self->max_points;
    ts_store_query_t q = {
        .id = req->id, .measure = measure, .from_ms = from, .to_ms = to,
        .now_ms = now, .max = max };
    ts_store_answer_t ans = {
        .history = reply->series.history, .forecast = reply->series.forecast };
    int rc = ts_store_read (self->store, &q, &ans, err);
    bool too_big = rc == TS_ETOOBIG;
    if (rc && !too_big)
        return s_store_failed (reply, rc, err);
    if (!too_big && !ans.exists)
        return s_not_registered (req->id, reply);
    if (!too_big && s_freshness (self, req, &q, &ans, reply))
        return reply->status;
    if (!too_big) {
        ts_series_merge (&reply->series);
        too_big = reply->series.history->n + reply->series.forecast->n
                > max;
    }
    if (too_big)
        return s_too_big (max, reply);
    return reply->status;
}

static int
s_query (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    return s_query_at (self, req, ts_now_ms (), reply);
}

//  Index of the configured source called name, or -1.
static int
s_source_index (const ts_api_t *self, const char *name)
{
    for (size_t i = 0; i < self->sources->n; i++)
        if (strcmp (self->sources->items [i], name) == 0)
            return (int) i;
    return -1;
}

static int
s_ids_add (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (req->ids->n == 0) {
        ts_msg_set_error (reply, 400, "bad_request", "ids: empty list");
        return reply->status;
    }
    for (size_t i = 0; i < req->ids->n; i++)
        if (!ts_name_valid (req->ids->items [i]))
            return s_invalid_id (req->ids->items [i], reply);
    //  No source: the first; the registry keeps "" so that the ids
    //  follow whichever source is listed first.
    if (req->source [0] && s_source_index (self, req->source) < 0) {
        ts_errf (err, "unknown source '%s' (configured: %s)", req->source,
                 self->source_names);
        ts_msg_set_error (reply, 400, "unknown_source", err);
        return reply->status;
    }
    size_t added = 0;
    int rc = ts_store_ids_add_to (self->store,
                                  (const char *const *) req->ids->items,
                                  req->ids->n, req->source, &added, err);
    if (rc)
        return s_store_failed (reply, rc, err);
    ts_msg_set_ok (reply, 200);
    reply->count = added;
    return reply->status;
}

static int
s_ids_rm (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    //  An id registered before the first-character rule can be removed.
    if (!ts_name_existing (req->id))
        return s_invalid_id (req->id, reply);
    int rc = ts_store_ids_remove (self->store, req->id, err);
    if (rc == TS_ENOTFOUND && !ts_name_valid (req->id))
        return s_invalid_id (req->id, reply);
    if (rc == TS_ENOTFOUND) {
        ts_errf (err, "unknown id '%s'", req->id);
        ts_msg_set_error (reply, 404, "not_found", err);
        return reply->status;
    }
    if (rc)
        return s_store_failed (reply, rc, err);
    //  Other gateways hear of no removal: their answers of the id go
    //  when gateway.cache_ttl_s runs out (docs/protocol.md 5.18).
    if (self->cache)
        ts_cache_drop_id (self->cache, req->id);
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    reply->count = 1;
    return reply->status;
}

//  One id: the source it is registered to (the first source's name for
//  one registered without) and its fetch status (ts_store_ids_status):
//  what GET /v1/ids/{id} and `tscache ids show` answer. 404 for an id
//  not registered.
static int
s_ids_show (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (!ts_name_existing (req->id))
        return s_invalid_id (req->id, reply);
    char source [TS_NAME_MAX + 1] = "";
    ts_store_status_t status;
    int rc = ts_store_ids_source (self->store, req->id, source, err);
    if (rc == 0)
        rc = ts_store_ids_status (self->store, req->id, &status, err);
    if (rc == TS_ENOTFOUND)
        return s_not_registered (req->id, reply);
    if (rc)
        return s_store_failed (reply, rc, err);
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    ts_strlcpy (reply->source, source [0]? source: self->sources->items [0],
                sizeof reply->source);
    reply->has_fetch = true;
    reply->fetch.ok_ms = status.ok_ms;
    reply->fetch.attempt_ms = status.attempt_ms;
    reply->fetch.error_ms = status.error_ms;
    reply->fetch.not_found_until_ms = status.not_found_until_ms;
    ts_strlcpy (reply->fetch.error, status.error, sizeof reply->fetch.error);
    ts_strlcpy (reply->fetch.kind, status.kind, sizeof reply->fetch.kind);
    //  Its freshness, by its own source's schedule (ts_fresh).
    ts_fresh_fill (self->fresh, s_source_index (self, reply->source),
                   status.ok_ms, status.error_ms, status.kind, status.error,
                   ts_now_ms (), reply, NULL);
    return reply->status;
}

//  One page of ids: at most limit (default and most TS_PROTO_IDS_PAGE)
//  after the cursor, and the next cursor if more follow. A request with
//  neither after nor limit comes from a client that predates paging and
//  expects the whole registry in one answer: it gets it if it fits in
//  one page, else 413, never a silently partial list.
static int
s_ids_ls (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (req->limit > TS_PROTO_IDS_PAGE) {
        ts_errf (err, "limit: %u is not in 1..%d", (unsigned) req->limit,
                 TS_PROTO_IDS_PAGE);
        ts_msg_set_error (reply, 400, "bad_request", err);
        return reply->status;
    }
    bool paging = req->after [0] || req->limit;
    size_t limit = req->limit? req->limit: TS_PROTO_IDS_PAGE;
    ts_msg_set_ok (reply, 200);
    bool more = false;
    int rc = ts_store_ids_page_sources (self->store, req->after, limit,
                                        reply->ids, reply->sources, &more,
                                        err);
    if (rc)
        return s_store_failed (reply, rc, err);
    //  "" (registered without a source): the first source, by name.
    for (size_t i = 0; i < reply->sources->n; i++)
        if (!reply->sources->items [i][0]) {
            char *name = strdup (self->sources->items [0]);
            if (!name) {
                ts_msg_set_error (reply, 500, "internal", "out of memory");
                return reply->status;
            }
            free (reply->sources->items [i]);
            reply->sources->items [i] = name;
        }
    if (more && !paging) {
        ts_errf (err, "more than %d ids are registered: ask for them a page "
                 "at a time (after, limit)", TS_PROTO_IDS_PAGE);
        ts_msg_set_error (reply, 413, "too_big", err);
        return reply->status;
    }
    if (more)
        ts_strlcpy (reply->next, reply->ids->items [reply->ids->n - 1],
                    sizeof reply->next);
    reply->count = reply->ids->n;
    return reply->status;
}

//  ---------------------------------------------------------------------
//  Forwarding to the broker

//  hydrate: a non-empty list of registered ids (404 naming the first
//  unknown one).
static int
s_hydrate_check (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    if (req->ids->n == 0) {
        ts_msg_set_error (reply, 400, "bad_request", "ids: empty list");
        return reply->status;
    }
    for (size_t i = 0; i < req->ids->n; i++)
        if (s_check_registered (self, req->ids->items [i], reply))
            return reply->status;
    return 0;
}

//  dlq_redrive: ids are optional (none: every entry) and need not be
//  registered any more, but must be valid names.
static int
s_dlq_redrive_check (const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (req->ids->n > TS_PROTO_MAX_IDS) {
        ts_errf (err, "ids: %zu ids, over the limit of %d", req->ids->n,
                 TS_PROTO_MAX_IDS);
        ts_msg_set_error (reply, 400, "bad_request", err);
        return reply->status;
    }
    for (size_t i = 0; i < req->ids->n; i++)
        if (!ts_name_existing (req->ids->items [i]))
            return s_invalid_id (req->ids->items [i], reply);
    return 0;
}

int
ts_api_forward_check (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    switch (req->op) {
        case TS_OP_HYDRATE:
            return s_hydrate_check (self, req, reply);
        case TS_OP_DLQ_REDRIVE:
            return s_dlq_redrive_check (req, reply);
        default:
            return 0;               //  nothing the gateway can check
    }
}

//  A forwarded op: the gateway's checks, then the broker's answer.
static int
s_forward (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    if (ts_api_forward_check (self, req, reply))
        return reply->status;
    ts_client_call (self->broker_endpoint, &self->broker_policy, req, reply);
    return reply->status;
}

//  Writes the cache key of a query at buf (S_KEY_MAX bytes): the format
//  byte, id, measures, the range resolved at now_ms, and every option of
//  the answer (step, agg, max_points, fill, limit, next). Returns its
//  length.
#define S_KEY_MAX  (1 + (2 + TS_PROTO_MAX_QUERY_MEASURES) * (TS_NAME_MAX + 1) \
                    + 8 * sizeof (int64_t))
static size_t
s_cache_key (const ts_msg_t *req, char format, int64_t now_ms,
             unsigned char *buf)
{
    size_t len = 0;
    buf [len++] = (unsigned char) format;
    const char *names [2 + TS_PROTO_MAX_QUERY_MEASURES];
    size_t n = 0;
    names [n++] = req->id;
    names [n++] = req->next;
    if (req->measures->n == 0)
        names [n++] = req->measure;
    for (size_t i = 0; i < req->measures->n
                    && i < TS_PROTO_MAX_QUERY_MEASURES; i++)
        names [n++] = req->measures->items [i];
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strnlen (names [i], TS_NAME_MAX);
        memcpy (buf + len, names [i], name_len);
        len += name_len;
        buf [len++] = 0;
    }
    int64_t fields [] = {
        ts_query_instant (req->from_ms, req->from_rel, now_ms),
        ts_query_instant (req->to_ms, req->to_rel, now_ms),
        req->step_ms, req->agg, req->max_points, req->fill, req->limit };
    memcpy (buf + len, fields, sizeof fields);
    len += sizeof fields;
    return len;
}

//  An answer reused from the cache (data, *size bytes with its seal):
//  the seal's freshness into reply (ts_fresh_unseal; *size loses it),
//  judged now, its "age" set for an encoding that carries one (msgpack:
//  ts_msg_patch_age; JSON carries none), and a refresh asked for as for
//  a read answer (stale-while-revalidate).
static void
s_reused (ts_api_t *self, const ts_msg_t *req, char format, int64_t now,
          ts_msg_t *reply, char *data, size_t *size)
{
    if (ts_fresh_unseal (data, size, reply) || !reply->has_fresh)
        return;
    ts_fresh_verdict_t verdict;
    uint64_t etag = reply->fresh.etag;
    ts_fresh_fill (self->fresh, -1, reply->fresh.fetched_ms,
                   reply->fresh.error_ms, NULL, NULL, now, reply, &verdict);
    reply->fresh.etag = etag;
    if (format != 'j' && verdict.fetched_ms)
        ts_msg_patch_age (data, *size, verdict.age_s);
    if (ts_fresh_revalidate (self->fresh, &verdict, now))
        ts_api_revalidate (self, req->id);
}

ts_fresh_t *
ts_api_fresh (ts_api_t *self)
{
    return self->fresh;
}

//  ts_api_query; *empty (may be NULL) tells a 200 read from the store
//  that holds no point, which is then never cached while read-through is
//  on: a cached answer is so never one that read-through acts on.
static int
s_query_cached (ts_api_t *self, const ts_msg_t *req, char format,
                ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                size_t *size, bool *empty)
{
    assert (req->op == TS_OP_QUERY);
    if (empty)
        *empty = false;
    *data = NULL;
    *size = 0;
    //  Only a query that names its whole range has an answer that does
    //  not move with the clock; the checks below come before the cache
    //  so that a bad request never reaches it.
    //  A relative range ("now-1h") resolves to new bounds nearly every
    //  millisecond: its answers would only crowd the cache.
    bool cacheable = self->cache && req->has_from && req->has_to
                  && !req->from_rel && !req->to_rel
                  && ts_name_existing (req->id)
                  && (!req->measure [0] || ts_name_existing (req->measure));
    unsigned char key [S_KEY_MAX];
    size_t key_size = 0;
    ts_store_stamp_t stamp;
    ts_cache_tag_t tag;
    int64_t until = 0;
    //  One clock reading resolves relative times for the key and the
    //  answer alike.
    int64_t now = ts_now_ms ();
    if (cacheable) {
        char err [TS_ERRLEN];
        //  The tag, the stamp and the clock are read before the answer:
        //  a write or a notice in between makes the entry stale at once
        //  instead of hiding the write, and the bounds count from the
        //  read. Without stamps an answer is reused until a notice of
        //  its id, for at most ttl_ms while notices are heard in order,
        //  else stale_ms (0: never); with stamps, while the stamp holds,
        //  for at most ttl_ms.
        ts_cache_tag (self->cache, req->id, &tag);
        int64_t bound = self->stamps || tag.heard? self->ttl_ms
                                                 : self->stale_ms;
        until = now > INT64_MAX - bound? INT64_MAX: now + bound;
        if (self->stamps)
            cacheable = ts_store_stamp (self->store, req->id, &stamp,
                                        err) == 0;
        else
            cacheable = bound > 0;
        key_size = s_cache_key (req, format, now, key);
        if (cacheable && ts_cache_get (self->cache, key, key_size,
                                       self->stamps? &stamp: NULL, now,
                                       data, size)) {
            ts_msg_set_ok (reply, 200);
            s_reused (self, req, format, now, reply, *data, size);
            return 200;
        }
    }
    if (s_query_at (self, req, now, reply) != 200)
        return reply->status;
    bool none = reply->series.history->n + reply->series.forecast->n == 0;
    if (empty)
        *empty = none;
    if (none && self->flights)
        cacheable = false;
    //  A CSV page's token rides in a header (X-Next), not in the body the
    //  cache keeps: CSV pages are answered from the store.
    if (format == 'c' && reply->next [0])
        cacheable = false;
    int rc = encode (reply, data, size);
    if (rc == TS_ETOOBIG)
        return 200;             //  the caller encodes it in parts
    if (rc != 0) {
        ts_msg_set_error (reply, 500, "internal",
                          "out of memory encoding the answer");
        return reply->status;
    }
    reply->fresh.etag = ts_fresh_hash (*data, *size);
    //  The seal rides behind the body: *size stays the body's.
    if (cacheable && ts_fresh_seal (reply, data, *size) == 0)
        ts_cache_put (self->cache, key, key_size, &tag,
                      self->stamps? &stamp: NULL,
                      ts_fresh_until (self->fresh, reply, until), *data,
                      *size + TS_FRESH_SEAL_SIZE);
    return 200;
}

int
ts_api_query (ts_api_t *self, const ts_msg_t *req, char format,
              ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
              size_t *size)
{
    return s_query_cached (self, req, format, encode, reply, data, size,
                           NULL);
}

//  ---------------------------------------------------------------------
//  Read-through

//  True if read-through may register id, unknown so far: mode any, a
//  valid name, matching the pattern.
static bool
s_may_register (ts_api_t *self, const char *id)
{
    return self->read_through == TS_API_RT_ANY && self->has_pattern
        && ts_name_valid (id) && regexec (&self->pattern, id, 0, NULL, 0) == 0;
}

//  Registers id to the first source, for read-through. Returns 0, or
//  fills reply with the error and returns its status.
static int
s_register (ts_api_t *self, const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    const char *ids [] = { id };
    size_t added = 0;
    int rc = ts_store_ids_add_to (self->store, ids, 1, "", &added, err);
    if (rc)
        return s_store_failed (reply, rc, err);
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_STR ("id", id)),
               "read-through: %s registered (gateway.read_through: any)",
               id);
    return 0;
}

//  Starts (or joins) the fetch of id: a new flight hands id to the
//  hydrator. Returns 0 (started), 1 (joined) with *flight set, or a
//  TS_E* code: no fetch is in flight.
static int
s_fetch (ts_api_t *self, const char *id, uint64_t *flight)
{
    int rc = ts_flight_start (self->flights, id, ts_mono_ms (), flight);
    if (rc == 0) {
        int asked = ts_hydrator_ask (self->hydrator, id);
        if (asked) {
            ts_warn ("read-through: fetch of %s not sent: %s", id,
                     ts_strerror (asked));
            ts_flight_end (self->flights, id);
            return asked;
        }
    }
    return rc;
}

//  The 202 answer of a query whose fetch is pending, from the (empty)
//  answer in reply: status 202 and retry_after_ms, encoded again.
static int
s_pending (ts_api_t *self, ts_api_encode_fn *encode, ts_msg_t *reply,
           char **data, size_t *size)
{
    (void) self;
    free (*data);
    *data = NULL;
    *size = 0;
    reply->status = 202;
    reply->retry_after_ms = TS_API_RETRY_AFTER_MS;
    if (encode (reply, data, size)) {
        free (*data);
        *data = NULL;
        ts_msg_set_error (reply, 500, "internal",
                          "out of memory encoding the answer");
        return 500;
    }
    return 202;
}

int
ts_api_query_rt (ts_api_t *self, const ts_msg_t *req, char format,
                 ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                 size_t *size, ts_api_wait_t *wait)
{
    if (!wait || !self->flights)
        return ts_api_query (self, req, format, encode, reply, data, size);
    bool empty = false;
    int status = s_query_cached (self, req, format, encode, reply, data,
                                 size, &empty);
    if (status == 404 && strcmp (reply->error, "not_found") == 0
    &&  !wait->resumed && s_may_register (self, req->id)) {
        if (s_register (self, req->id, reply))
            return reply->status;
        status = s_query_cached (self, req, format, encode, reply, data,
                                 size, &empty);
    }
    //  No point at all: never fetched (the fetch status of the store will
    //  say it better: ok_ms == 0, and not while a 404 is negatively
    //  cached), or fetched empty.
    if (status != 200 || !empty)
        return status;
    if (wait->resumed)
        return s_pending (self, encode, reply, data, size);
    int rc = s_fetch (self, req->id, &wait->flight);
    if (rc < 0 || !wait->may_wait || self->wait_ms == 0)
        return s_pending (self, encode, reply, data, size);
    free (*data);
    *data = NULL;
    *size = 0;
    wait->until_ms = ts_mono_ms () + self->wait_ms;
    ts_strlcpy (wait->id, req->id, sizeof wait->id);
    return TS_API_PARK;
}

bool
ts_api_waiting (ts_api_t *self, const ts_api_wait_t *wait, int64_t now_ms)
{
    return self->flights && now_ms < wait->until_ms
        && ts_flight_active (self->flights, wait->id, wait->flight, now_ms);
}

ts_flight_t *
ts_api_flights (ts_api_t *self)
{
    return self->flights;
}

void
ts_api_noticed (ts_api_t *self, const char *id)
{
    if (self->flights)
        ts_flight_end (self->flights, id);
}

ts_cache_t *
ts_api_cache (ts_api_t *self)
{
    return self->cache;
}

ts_ready_t *
ts_api_ready (ts_api_t *self)
{
    return self->ready;
}

ts_metrics_t *
ts_api_metrics (ts_api_t *self)
{
    return self->metrics;
}

void
ts_api_cache_stats (ts_api_t *self, ts_cache_stats_t *stats)
{
    if (self->cache)
        ts_cache_stats (self->cache, stats);
    else
        memset (stats, 0, sizeof *stats);
}

static int
s_ping (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    ts_msg_set_ok (reply, 200);
    return reply->status;
}

typedef int (s_handler_fn) (ts_api_t *self, const ts_msg_t *req,
                            ts_msg_t *reply);

//  Who answers op: the one list of the ops the gateway serves. Those
//  the broker answers are the s_forward entries.
static s_handler_fn *
s_handler (ts_op_t op)
{
    switch (op) {
        case TS_OP_PING:        return s_ping;
        case TS_OP_QUERY:       return s_query;
        case TS_OP_IDS_ADD:     return s_ids_add;
        case TS_OP_IDS_RM:      return s_ids_rm;
        case TS_OP_IDS_LS:      return s_ids_ls;
        case TS_OP_IDS_SHOW:    return s_ids_show;
        case TS_OP_HYDRATE:
        case TS_OP_STATS:
        case TS_OP_JOB_STATE:
        case TS_OP_DLQ_LS:
        case TS_OP_DLQ_REDRIVE:
        case TS_OP_DLQ_PURGE:   return s_forward;
        default:                return NULL;
    }
}

ts_role_t
ts_api_op_role (ts_op_t op)
{
    switch (op) {
        case TS_OP_IDS_ADD:
        case TS_OP_IDS_RM:
        case TS_OP_HYDRATE:
        case TS_OP_DLQ_REDRIVE:
        case TS_OP_DLQ_PURGE:   return TS_ROLE_ADMIN;
        default:                return TS_ROLE_READ;
    }
}

int
ts_api_forbidden (ts_role_t role, const char *name, ts_op_t op,
                  ts_msg_t *reply)
{
    ts_role_t need = ts_api_op_role (op);
    if (role >= need)
        return 0;
    char detail [TS_ERRLEN];
    ts_errf (detail, "key '%s' (%s) may not %s: it needs an %s key", name,
             ts_role_name (role), ts_op_name (op), ts_role_name (need));
    ts_msg_set_error (reply, 403, "forbidden", detail);
    return 403;
}

bool
ts_api_forwarded (ts_op_t op)
{
    return s_handler (op) == s_forward;
}

int
ts_api_handle (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    s_handler_fn *handler = s_handler (req->op);
    if (handler)
        return handler (self, req, reply);
    char err [TS_ERRLEN];
    ts_errf (err, "op '%s' is not served by the gateway",
             ts_op_name (req->op));
    ts_msg_set_error (reply, 400, "bad_request", err);
    return reply->status;
}

int
ts_api_revalidate (ts_api_t *self, const char *id)
{
    if (!self->flights || !ts_name_existing (id))
        return TS_EINVAL;
    uint64_t flight;
    return s_fetch (self, id, &flight);
}
