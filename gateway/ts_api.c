/*  ts_api - the gateway's request handler, shared by the ZeroMQ and HTTP
    front ends. See ts_api.h for the rules and status codes.

    Reads go straight to the store (one read transaction per range). The
    ops the broker serves go through one forwarding path, whose rules are
    written once here and used by both front ends: which ops are
    forwarded (the s_forward entries of s_handler), what the gateway
    checks before forwarding (ts_api_forward_check), and how a broker
    answer is judged (ts_api_broker_reply: 502 unless it is one frame
    holding a reply, with what a 200 to that op must carry).

    Synchronous callers (the HTTP threads, ts_api_handle) borrow a REQ
    socket from a small pool for one round trip: the mutex guards only
    the pool, never a call, so threads do not wait behind one another
    and a silent broker costs each call its own timeout, not the sum of
    everyone's. A socket moves between threads only through the pool,
    whose mutex is the memory barrier libzmq asks for. A REQ socket that
    got its whole answer is in step and goes back to the pool; one whose
    request went unanswered is stuck in its send/receive lockstep and is
    destroyed (its late answer goes nowhere). The ZeroMQ front end does
    not use the pool: it forwards asynchronously over its own DEALER
    (ts_zmqsrv.c) with the same checks. */

#include "ts_api.h"
#include "ts_log.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

//  Largest broker reply accepted: a dlq_ls answer can list many entries.
#define S_MAX_BROKER_REPLY  ((size_t) 256 << 20)
#define S_POOL_MAX          16      //  idle REQ sockets kept for reuse

struct _ts_api_t {
    ts_store_t     *store;              //  borrowed
    int64_t         max_points;         //  gateway.max_points
    char           *broker_endpoint;    //  gateway.broker_endpoint
    int             broker_timeout_ms;  //  gateway.broker_timeout_ms
    zsock_t        *pool [S_POOL_MAX];  //  idle REQ sockets to the broker
    size_t          pool_n;             //  how many are idle
    pthread_mutex_t pool_lock;          //  guards pool and pool_n only
    ts_cache_t     *cache;              //  answers; NULL if cache_mb is 0
};

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
    self->broker_endpoint = strdup (ts_config_str (cfg,
                                                   "gateway.broker_endpoint"));
    self->broker_timeout_ms =
        (int) ts_config_int (cfg, "gateway.broker_timeout_ms");
    int64_t cache_mb = ts_config_int (cfg, "gateway.cache_mb");
    if (cache_mb > 0)
        self->cache = ts_cache_new ((size_t) cache_mb << 20);
    if (!self->broker_endpoint || (cache_mb > 0 && !self->cache)) {
        ts_cache_destroy (&self->cache);
        free (self->broker_endpoint);
        free (self);
        ts_errf (err, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&self->pool_lock, NULL);
    return self;
}

void
ts_api_destroy (ts_api_t **self_p)
{
    if (self_p && *self_p) {
        ts_api_t *self = *self_p;
        for (size_t i = 0; i < self->pool_n; i++)
            zsock_destroy (&self->pool [i]);
        ts_cache_destroy (&self->cache);
        pthread_mutex_destroy (&self->pool_lock);
        free (self->broker_endpoint);
        free (self);
        *self_p = NULL;
    }
}

void
ts_api_set_broker_timeout (ts_api_t *self, int timeout_ms)
{
    self->broker_timeout_ms = timeout_ms;
}

int
ts_api_broker_timeout (const ts_api_t *self)
{
    return self->broker_timeout_ms;
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
    if (!exists && !ts_name_valid (id))
        return s_invalid_id (id, reply);
    if (!exists) {
        ts_errf (err, "unknown id '%s'", id);
        ts_msg_set_error (reply, 404, "not_found", err);
        return reply->status;
    }
    return 0;
}

static int
s_query (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    if (s_check_registered (self, req->id, reply))
        return reply->status;
    const char *measure = req->measure [0]? req->measure: NULL;
    if (measure && !ts_name_existing (measure)) {
        ts_name_errf (err, "measure", measure,
                      strnlen (measure, TS_NAME_MAX + 1));
        ts_msg_set_error (reply, 400, "bad_request", err);
        return reply->status;
    }
    int64_t now = ts_now_ms ();
    int64_t from = req->has_from? req->from_ms: now - TS_API_DEFAULT_SPAN_MS;
    int64_t to = req->has_to? req->to_ms: now + TS_API_DEFAULT_SPAN_MS;
    if (from > to) {
        ts_errf (err, "from (%" PRId64 ") is after to (%" PRId64 ")",
                 from, to);
        ts_msg_set_error (reply, 400, "bad_range", err);
        return reply->status;
    }
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    if (measure)
        ts_strlcpy (reply->measure, measure, sizeof reply->measure);
    reply->has_from = reply->has_to = true;
    reply->from_ms = from;
    reply->to_ms = to;
    reply->has_series = true;
    //  History is read up to the limit, never past it: a range of years
    //  is refused after max_points + 1 points, not after reading them all.
    //  A forecast is one fetch's worth and is read whole, then merged.
    size_t max = (size_t) self->max_points;
    int rc = ts_store_history_range_max (self->store, req->id, measure, from,
                                         to, max, reply->series.history, err);
    if (rc == 0)
        rc = ts_store_forecast_range (self->store, req->id, measure, from,
                                      to, now, reply->series.forecast, err);
    bool too_big = rc == TS_ETOOBIG;
    if (rc && !too_big)
        return s_store_failed (reply, rc, err);
    if (!too_big) {
        ts_series_merge (&reply->series);
        too_big = reply->series.history->n + reply->series.forecast->n
                > max;
    }
    if (too_big) {
        ts_errf (err, "more than %zu points in range (gateway.max_points); "
                 "ask for a shorter range", max);
        ts_msg_set_error (reply, 413, "too_big", err);
    }
    return reply->status;
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
    size_t added = 0;
    int rc = ts_store_ids_add (self->store,
                               (const char *const *) req->ids->items,
                               req->ids->n, &added, err);
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
    ts_msg_set_ok (reply, 200);
    ts_strlcpy (reply->id, req->id, sizeof reply->id);
    reply->count = 1;
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
    int rc = ts_store_ids_page (self->store, req->after, limit, reply->ids,
                                &more, err);
    if (rc)
        return s_store_failed (reply, rc, err);
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

//  The key a 200 answer to op must carry, or NULL if it needs none.
static const char *
s_required_key (ts_op_t op, const ts_msg_t *reply)
{
    if (op == TS_OP_STATS && !reply->has_stats)
        return "stats";
    if (op == TS_OP_DLQ_LS && !reply->has_dlq)
        return "dlq";
    if (op == TS_OP_JOB_STATE && !reply->has_states)
        return "states";
    return NULL;
}

int
ts_api_broker_failed (ts_api_t *self, ts_op_t op, int code,
                      const char *detail, ts_msg_t *reply)
{
    if (code == TS_ETIMEOUT) {
        ts_warn ("%s: %s (%s)", ts_op_name (op), detail,
                 self->broker_endpoint);
        ts_msg_set_error (reply, 503, "unavailable", detail);
    }
    else {
        ts_warn ("%s: %s", ts_op_name (op), detail);
        ts_msg_set_error (reply, code == TS_ENOMEM? 500: 502,
                          code == TS_ENOMEM? "internal": "bad_gateway",
                          detail);
    }
    return reply->status;
}

int
ts_api_broker_reply (ts_api_t *self, ts_op_t op, zmsg_t *body,
                     ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    char detail [TS_ERRLEN] = "";
    size_t frames = zmsg_size (body);
    if (frames != 1) {
        ts_errf (err, "bad reply from broker: %zu frames, expected 1",
                 frames);
        return ts_api_broker_failed (self, op, TS_EPROTO, err, reply);
    }
    zframe_t *frame = zmsg_first (body);
    int rc = ts_msg_decode (reply, zframe_data (frame), zframe_size (frame),
                            S_MAX_BROKER_REPLY, detail);
    const char *missing = rc == 0? s_required_key (op, reply): NULL;
    if (rc == 0 && reply->op != TS_OP_REPLY)
        ts_errf (err, "bad reply from broker: not a reply");
    else
    if (rc == 0 && reply->status == 200 && missing)
        ts_errf (err, "bad reply from broker: %s answer without '%s'",
                 ts_op_name (op), missing);
    else
    if (rc != 0)
        ts_errf (err, "bad reply from broker: %s", detail);
    else
        return reply->status;
    return ts_api_broker_failed (self, op, rc == TS_ENOMEM? rc: TS_EPROTO,
                                 err, reply);
}

//  A REQ socket to the broker: an idle one from the pool, or a new one.
//  NULL if none can be made.
static zsock_t *
s_pool_take (ts_api_t *self)
{
    zsock_t *sock = NULL;
    pthread_mutex_lock (&self->pool_lock);
    if (self->pool_n > 0)
        sock = self->pool [--self->pool_n];
    pthread_mutex_unlock (&self->pool_lock);
    if (sock)
        return sock;
    sock = zsock_new (ZMQ_REQ);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 0);
    zsock_set_sndtimeo (sock, self->broker_timeout_ms);
    if (zsock_connect (sock, "%s", self->broker_endpoint))
        zsock_destroy (&sock);
    return sock;
}

//  Puts a socket that is in step back in the pool (destroyed if full).
static void
s_pool_give (ts_api_t *self, zsock_t **sock_p)
{
    pthread_mutex_lock (&self->pool_lock);
    if (self->pool_n < S_POOL_MAX) {
        self->pool [self->pool_n++] = *sock_p;
        *sock_p = NULL;
    }
    pthread_mutex_unlock (&self->pool_lock);
    zsock_destroy (sock_p);
}

//  One round trip to the broker on a pooled REQ socket; the answer is
//  judged by ts_api_broker_reply. Returns reply->status.
static int
s_broker_call (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    char *data = NULL;
    size_t size = 0;
    if (ts_msg_encode (req, &data, &size))
        return ts_api_broker_failed (self, req->op, TS_ENOMEM,
                                     "out of memory", reply);
    zsock_t *sock = s_pool_take (self);
    int rc = sock? zmq_send (zsock_resolve (sock), data, size, 0): -1;
    free (data);
    zmsg_t *answer = NULL;
    if (rc != -1) {
        zpoller_t *poller = zpoller_new (sock, NULL);
        if (poller && zpoller_wait (poller, self->broker_timeout_ms))
            answer = zmsg_recv (sock);
        zpoller_destroy (&poller);
    }
    if (!answer) {
        //  A REQ socket without its answer cannot send again.
        zsock_destroy (&sock);
        return ts_api_broker_failed (self, req->op, TS_ETIMEOUT,
                                     "broker did not answer", reply);
    }
    s_pool_give (self, &sock);
    ts_api_broker_reply (self, req->op, answer, reply);
    zmsg_destroy (&answer);
    return reply->status;
}

//  A forwarded op: the gateway's checks, then the broker's answer.
static int
s_forward (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    if (ts_api_forward_check (self, req, reply))
        return reply->status;
    return s_broker_call (self, req, reply);
}

//  Writes the cache key of a query at buf (S_KEY_MAX bytes): the format
//  byte, id, measure and range. Returns its length.
#define S_KEY_MAX  (1 + 2 * (TS_NAME_MAX + 1) + 2 * sizeof (int64_t))
static size_t
s_cache_key (const ts_msg_t *req, char format, unsigned char *buf)
{
    size_t len = 0;
    buf [len++] = (unsigned char) format;
    size_t id_len = strnlen (req->id, TS_NAME_MAX);
    memcpy (buf + len, req->id, id_len);
    len += id_len;
    buf [len++] = 0;
    size_t measure_len = strnlen (req->measure, TS_NAME_MAX);
    memcpy (buf + len, req->measure, measure_len);
    len += measure_len;
    buf [len++] = 0;
    memcpy (buf + len, &req->from_ms, sizeof req->from_ms);
    len += sizeof req->from_ms;
    memcpy (buf + len, &req->to_ms, sizeof req->to_ms);
    len += sizeof req->to_ms;
    return len;
}

int
ts_api_query (ts_api_t *self, const ts_msg_t *req, char format,
              ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
              size_t *size)
{
    assert (req->op == TS_OP_QUERY);
    *data = NULL;
    *size = 0;
    //  Only a query that names its whole range has an answer that does
    //  not move with the clock; the checks below come before the cache
    //  so that a bad request never reaches it.
    bool cacheable = self->cache && req->has_from && req->has_to
                  && ts_name_existing (req->id)
                  && (!req->measure [0] || ts_name_existing (req->measure));
    unsigned char key [S_KEY_MAX];
    size_t key_size = 0;
    ts_store_stamp_t stamp;
    if (cacheable) {
        char err [TS_ERRLEN];
        //  The stamp is read before the answer: a write in between makes
        //  the entry stale at once instead of hiding the write.
        cacheable = ts_store_stamp (self->store, req->id, &stamp, err) == 0;
        key_size = s_cache_key (req, format, key);
        if (cacheable && ts_cache_get (self->cache, key, key_size, &stamp,
                                       ts_now_ms (), data, size)) {
            ts_msg_set_ok (reply, 200);
            return 200;
        }
    }
    if (s_query (self, req, reply) != 200)
        return reply->status;
    if (encode (reply, data, size) != 0) {
        ts_msg_set_error (reply, 500, "internal",
                          "out of memory encoding the answer");
        return reply->status;
    }
    if (cacheable)
        ts_cache_put (self->cache, key, key_size, &stamp, *data, *size);
    return 200;
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
        case TS_OP_HYDRATE:
        case TS_OP_STATS:
        case TS_OP_JOB_STATE:
        case TS_OP_DLQ_LS:
        case TS_OP_DLQ_REDRIVE:
        case TS_OP_DLQ_PURGE:   return s_forward;
        default:                return NULL;
    }
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
