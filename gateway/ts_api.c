/*  ts_api - the gateway's request handler, shared by the ZeroMQ and HTTP
    front ends. See ts_api.h for the rules and status codes.

    This file holds the object, the registry ops (ids_add, ids_rm,
    ids_show, ids_ls) and the table of who answers each op. Queries are
    ts_api_query.c's (the store read, its options, freshness and the
    answer cache) and read-through is ts_api_rt.c's; the three share
    ts_api_private.h. For the ops the broker serves, this file holds the
    gateway's side of the rules, written once for both front ends: which
    ops are forwarded (the s_forward entries of s_handler) and what the
    gateway checks before forwarding (ts_api_forward_check). Sending,
    waiting and judging the broker's answer are ts_client's: the front
    ends forward asynchronously from their loops with a forwarder each,
    and ts_api_handle, for callers without a loop (unit tests), makes one
    blocking round trip on a forwarder of its own (ts_client_call).
    Nothing here is shared between threads but the store and the answer
    cache, which are thread-safe. */

#include "ts_api_private.h"
#include "ts_client.h"
#include "ts_fresh.h"
#include "ts_hydrator.h"
#include "ts_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


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
    if (self->cache)
        ts_cache_set_admit (self->cache, strcmp (ts_config_str (cfg,
                            "gateway.cache_admit"), "second") == 0);
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
    if (ts_api_rt_new (self, cfg, err)) {
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
int
ts_api_store_failed (ts_msg_t *reply, int rc, const char *detail)
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
int
ts_api_invalid_id (const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN];
    ts_name_errf (err, "id", id, strnlen (id, TS_NAME_MAX + 1));
    ts_msg_set_error (reply, 400, "bad_request", err);
    return reply->status;
}

//  Fills reply with 400 for an id that is not registered and not valid
//  any more, else 404; returns its status.
int
ts_api_not_registered (const char *id, ts_msg_t *reply)
{
    if (!ts_name_valid (id))
        return ts_api_invalid_id (id, reply);
    char err [TS_ERRLEN];
    ts_errf (err, "unknown id '%s'", id);
    ts_msg_set_error (reply, 404, "not_found", err);
    return reply->status;
}

//  Checks that id is a valid name and registered. A name that is not
//  valid any more (a leading '-', "." or "..") passes only if it is
//  registered: it was registered before the rule, and stays usable. Returns 0, or fills
//  reply with 400/404/500 and returns its status.
int
ts_api_check_registered (ts_api_t *self, const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (!ts_name_existing (id))
        return ts_api_invalid_id (id, reply);
    bool exists = false;
    int rc = ts_store_ids_exists (self->store, id, &exists, err);
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    if (!exists)
        return ts_api_not_registered (id, reply);
    return 0;
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
            return ts_api_invalid_id (req->ids->items [i], reply);
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
        return ts_api_store_failed (reply, rc, err);
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
        return ts_api_invalid_id (req->id, reply);
    int rc = ts_store_ids_remove (self->store, req->id, err);
    if (rc == TS_ENOTFOUND && !ts_name_valid (req->id))
        return ts_api_invalid_id (req->id, reply);
    if (rc == TS_ENOTFOUND) {
        ts_errf (err, "unknown id '%s'", req->id);
        ts_msg_set_error (reply, 404, "not_found", err);
        return reply->status;
    }
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    //  Other gateways hear of no removal: their answers of the id go
    //  when gateway.cache_ttl_s runs out (docs/protocol.md 5.18).
    if (self->cache)
        ts_cache_drop_id (self->cache, req->id);
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    reply->count = 1;
    return reply->status;
}

//  The wire's form of a registry fetch status.
static void
s_fetch_of (const ts_store_status_t *status, ts_id_status_t *fetch)
{
    memset (fetch, 0, sizeof *fetch);
    fetch->ok_ms = status->ok_ms;
    fetch->attempt_ms = status->attempt_ms;
    fetch->error_ms = status->error_ms;
    fetch->not_found_until_ms = status->not_found_until_ms;
    ts_strlcpy (fetch->error, status->error, sizeof fetch->error);
    ts_strlcpy (fetch->kind, status->kind, sizeof fetch->kind);
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
        return ts_api_invalid_id (req->id, reply);
    char source [TS_NAME_MAX + 1] = "";
    ts_store_status_t status;
    int rc = ts_store_ids_source (self->store, req->id, source, err);
    if (rc == 0)
        rc = ts_store_ids_status (self->store, req->id, &status, err);
    if (rc == TS_ENOTFOUND)
        return ts_api_not_registered (req->id, reply);
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    ts_strlcpy (reply->source, source [0]? source: self->sources->items [0],
                sizeof reply->source);
    reply->has_fetch = true;
    s_fetch_of (&status, &reply->fetch);
    //  Its freshness, by its own source's schedule (ts_fresh).
    ts_fresh_verdict_t verdict;
    ts_fresh_judge_source (self->fresh, s_source_index (self, reply->source),
                           status.ok_ms, status.error_ms, ts_now_ms (),
                           &verdict);
    ts_fresh_fill (&verdict, status.error_ms, status.kind, status.error,
                   reply);
    return reply->status;
}

//  ids_ls with fetch: the k-th id's fetch status, read with the page
//  (ts_store_ids_page_status), judged stale or not by its own source's
//  schedule ("": the first) and added to the reply's fetches.
typedef struct {
    ts_api_t *self;
    ts_msg_t *reply;
    int64_t   now_ms;
} s_fetches_t;

static int
s_fetch_add (void *arg, size_t k, const ts_store_status_t *status, char *err)
{
    s_fetches_t *page = arg;
    const char *source = page->reply->sources->items [k];
    ts_id_status_t fetch;
    s_fetch_of (status, &fetch);
    ts_fresh_verdict_t verdict;
    ts_fresh_judge_source (page->self->fresh,
                           source [0]? s_source_index (page->self, source): 0,
                           status->ok_ms, status->error_ms, page->now_ms,
                           &verdict);
    fetch.stale = verdict.stale;
    if (ts_msg_add_fetch (page->reply, &fetch)) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    return 0;
}

//  One page of ids: at most limit (default and most TS_PROTO_IDS_PAGE)
//  after the cursor, and the next cursor if more follow; with fetch,
//  each id's fetch status. A request with
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
    //  With fetch, each id's status comes with the page: one read.
    s_fetches_t fetches = { self, reply, ts_now_ms () };
    reply->has_fetches = req->with_fetch;
    int rc = ts_store_ids_page_status (self->store, req->after, limit,
                                       reply->ids, reply->sources,
                                       req->with_fetch? s_fetch_add: NULL,
                                       &fetches, &more, err);
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    //  "" (registered without a source): the first source, by name.
    for (size_t i = 0; i < reply->sources->n; i++)
        if (!reply->sources->items [i][0]
        &&  ts_strlist_set (reply->sources, i, self->sources->items [0])) {
            ts_msg_set_error (reply, 500, "internal", "out of memory");
            return reply->status;
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
        if (ts_api_check_registered (self, req->ids->items [i], reply))
            return reply->status;
    return 0;
}

//  dlq_redrive: ids are optional (none: every entry, unless jobs names
//  some) and need not be registered any more, but must be valid names;
//  ids and jobs are not given together.
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
            return ts_api_invalid_id (req->ids->items [i], reply);
    if (req->ids->n && req->jobs_n) {
        ts_msg_set_error (reply, 400, "bad_request",
                          "give ids or jobs, not both");
        return reply->status;
    }
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
        case TS_OP_QUERY:       return ts_api_query_now;
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
