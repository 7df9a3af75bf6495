/*  ts_api_query - the gateway's answer to a query (ts_api.h): one store
    read (existence, history and forecast; one snapshot where the store
    has them) or, for a query with options (step, agg, paging, several
    measures), the query engine (ts_query_run.h); the id's freshness
    (ts_fresh.h: stale marking, stale-while-revalidate, stale-if-error,
    the negative cache of an upstream 404); and the answer cache in front
    of both (ts_cache.h), its key and the freshness sealed behind each
    entry. Part of ts_api (ts_api_private.h). */

#include "ts_api_private.h"
#include "ts_log.h"
#include "ts_query.h"
#include "ts_query_run.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  A bad measure or range is answered after the id's own check, as it
//  always was (an unknown id is 404 whatever else is wrong); the good
//  request reads everything in one ts_store_read.
static int
s_query_refused (ts_api_t *self, const ts_msg_t *req, int status,
                 const char *error, const char *detail, ts_msg_t *reply)
{
    if (ts_api_check_registered (self, req->id, reply) == 0)
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
    //  The 404 ended whatever fetch of the id read-through started (its
    //  change notice says so too, if this gateway hears notices): once
    //  the TTL is over the next query may fetch it again.
    ts_api_noticed (self, id);
    return reply->status;
}

//  Whether read-through should fetch an id of status st: never fetched
//  with success, and no failure on record but an upstream 404 whose
//  negative cache ran out (a 404 within it is answered 404 before this
//  is asked). Other failures are left to the broker's retries, as
//  stale-while-revalidate leaves them: queries never multiply the
//  fetches of a failing upstream.
static bool
s_unfetched (const ts_store_status_t *st)
{
    return st->ok_ms == 0 && (st->error_ms == 0 || st->not_found_until_ms);
}

//  The freshness of an answer of id whose status st was judged verdict
//  at now_ms into reply (ts_fresh_fill), and the refresh stale-while-
//  revalidate asks for.
static void
s_fresh_answer (ts_api_t *self, const char *id, const ts_store_status_t *st,
                ts_fresh_verdict_t *verdict, int64_t now_ms, ts_msg_t *reply)
{
    ts_fresh_fill (verdict, st->error_ms, st->kind, st->error, reply);
    if (ts_fresh_revalidate (self->fresh, verdict, now_ms))
        ts_api_revalidate (self, id);
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
             ts_store_answer_t *ans, ts_msg_t *reply, bool *unfetched)
{
    *unfetched = s_unfetched (&ans->status);
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
            return ts_api_store_failed (reply, rc, err);
    }
    s_fresh_answer (self, req->id, st, &verdict, q->now_ms, reply);
    return 0;
}

//  A query with options (ts_query_run): its codes as answers, and the
//  id's freshness as s_freshness says it (the stale-if-error second read
//  as of an earlier instant is not made: an aggregated or paged answer
//  reads the forecast as of now).
static int
s_query_options (ts_api_t *self, const ts_msg_t *req, int64_t now,
                 int64_t from, int64_t to, ts_msg_t *reply, bool *unfetched)
{
    char err [TS_ERRLEN] = "";
    ts_store_status_t st;
    int rc = ts_store_ids_status (self->store, req->id, &st, err);
    if (rc == TS_ENOTFOUND)
        return ts_api_not_registered (req->id, reply);
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    if (s_not_found_cached (self, req->id, &st, now, reply))
        return reply->status;
    *unfetched = s_unfetched (&st);
    rc = ts_query_run (self->store, req, now, from, to,
                       (size_t) self->max_points, reply, err);
    if (rc == TS_ETOOBIG) {
        ts_msg_set_error (reply, 413, "too_big", err);
        return reply->status;
    }
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    ts_fresh_verdict_t verdict;
    ts_fresh_judge (self->fresh, st.ok_ms, st.error_ms, now, &verdict);
    s_fresh_answer (self, req->id, &st, &verdict, now, reply);
    return reply->status;
}

//  The query req as of now into reply; returns its status. *unfetched:
//  whether read-through should fetch the id (s_unfetched), for a 200.
static int
s_query_at (ts_api_t *self, const ts_msg_t *req, int64_t now,
            ts_msg_t *reply, bool *unfetched)
{
    char err [TS_ERRLEN] = "";
    *unfetched = false;
    if (!ts_name_existing (req->id))
        return ts_api_invalid_id (req->id, reply);
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
        return s_query_options (self, req, now, from, to, reply, unfetched);
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
        return ts_api_store_failed (reply, rc, err);
    if (!too_big && !ans.exists)
        return ts_api_not_registered (req->id, reply);
    if (!too_big && s_freshness (self, req, &q, &ans, reply, unfetched))
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

int
ts_api_query_now (ts_api_t *self, const ts_msg_t *req, ts_msg_t *reply)
{
    bool unfetched;
    return s_query_at (self, req, ts_now_ms (), reply, &unfetched);
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
    ts_fresh_judge (self->fresh, reply->fresh.fetched_ms,
                    reply->fresh.error_ms, now, &verdict);
    ts_fresh_fill (&verdict, reply->fresh.error_ms, NULL, NULL, reply);
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

//  See ts_api_private.h.
int
ts_api_query_cached (ts_api_t *self, const ts_msg_t *req, char format,
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
    bool unfetched;
    if (s_query_at (self, req, now, reply, &unfetched) != 200)
        return reply->status;
    //  No point, of an id read-through should fetch (s_unfetched). A
    //  fetched id may hold none: that is an answer like any other.
    bool none = reply->series.history->n + reply->series.forecast->n == 0
             && unfetched;
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
    //  The seal rides behind the body: *size stays the body's. An answer
    //  the cache declines (gateway.cache_admit) costs neither.
    if (cacheable && ts_cache_admit (self->cache, key, key_size)
    &&  ts_fresh_seal (reply, data, *size) == 0)
        ts_cache_put (self->cache, key, key_size, &tag,
                      self->stamps? &stamp: NULL,
                      ts_fresh_until (reply, until), *data,
                      *size + TS_FRESH_SEAL_SIZE);
    return 200;
}

int
ts_api_query (ts_api_t *self, const ts_msg_t *req, char format,
              ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
              size_t *size)
{
    return ts_api_query_cached (self, req, format, encode, reply, data, size,
                           NULL);
}
