/*  ts_fresh - how fresh a query answer is: the stale rule and the HTTP
    caching headers that follow from it.

    The stale rule. An id's data is fresh until the first fire of its
    source's schedule after its last successful fetch, plus a grace
    (gateway.stale_grace_s) for the queue and the fetch itself:

        stale_at = next_fire (ok_ms) + grace

    where next_fire is the source's schedule (upstream.schedule, else
    broker.schedule) moved by its shift (schedule offset plus the per-
    source spread), exactly as the broker's scheduler fires it (ts_cron).
    So an id fetched by the 10:00 tick of a rate(5 minutes) source stays
    fresh until 10:05 + grace, and one hydrated at 10:03 until 10:05 +
    grace as well: the 10:05 tick is the refresh it waits for. The
    period between two fires is never needed, nor a search backwards.

    An id is stale when
      - it was never fetched successfully (ok_ms 0), or
      - now >= stale_at (the refresh its schedule promised is overdue), or
      - the last attempt failed after the last success (error_ms >
        ok_ms): the cache cannot vouch that it holds what the upstream
        has (stale-if-error serves it marked, with the error).
    A source whose schedule is off (or has no fire left) never goes stale
    by age: its data changes only when someone hydrates it.

    Which source: a query reads no source of its id, so with several
    sources stale_at is the latest over all of them (an upper bound:
    never stale too early); with one source it is exact.

    Header values (ts_fresh_headers): Age is the whole seconds since the
    last success; Cache-Control's max-age is the freshness lifetime
    counted from that same moment (stale_at - ok_ms), so that a
    downstream cache, which subtracts Age (RFC 9111 4.2), keeps the
    answer exactly until stale_at; a stale or never fetched answer is
    "max-age=0, no-cache". ETag is a strong validator: a 64-bit XXH3
    hash of the answer's bytes, quoted (ts_fresh_etag).

    Pure but for ts_fresh_new (reads the config): no clock, no I/O; the
    caller passes now_ms. Thread-safe once built (read only). */

#ifndef TS_FRESH_H_INCLUDED
#define TS_FRESH_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_cron.h"
#include "ts_proto.h"

#define TS_FRESH_ETAG_MAX   24      //  bytes of an ETag: '"' 16 hex '"' NUL
#define TS_FRESH_CC_MAX     128     //  bytes of a Cache-Control value
#define TS_FRESH_MAX_AGE_S  86400   //  the most max-age said (a source
                                    //  without schedule: no stale_at)

typedef struct _ts_fresh_t ts_fresh_t;

//  One source's schedule for the rule: on, the parsed expression and the
//  shift (offset + spread, ms) the broker fires it with.
typedef struct {
    bool      on;
    ts_cron_t cron;
    int64_t   shift_ms;
} ts_fresh_schedule_t;

//  Builds the rule from cfg: every source's schedule (upstream.schedule,
//  "" meaning broker.schedule, "off" none; upstream.schedule_offset_s
//  and upstream.schedule_jitter_s, -1 meaning the broker.* key), and
//  gateway.stale_grace_s, gateway.stale_while_revalidate_s,
//  gateway.stale_if_error_s. Returns NULL with the reason in err if a
//  schedule does not parse or out of memory.
ts_fresh_t *ts_fresh_new (const ts_config_t *cfg, char *err);

//  Builds the rule from n schedules (copied) and the three settings in
//  seconds. For tests and callers without a config. Returns NULL if out
//  of memory.
ts_fresh_t *ts_fresh_new_with (const ts_fresh_schedule_t *schedules,
                               size_t n, int64_t grace_s, int64_t swr_s,
                               int64_t sie_s);

//  Frees the rule; sets *self_p to NULL. Safe on NULL.
void ts_fresh_destroy (ts_fresh_t **self_p);

//  gateway.stale_while_revalidate_s and gateway.stale_if_error_s, in
//  seconds (0: off).
int64_t ts_fresh_swr_s (const ts_fresh_t *self);
int64_t ts_fresh_sie_s (const ts_fresh_t *self);

//  When data last fetched at ok_ms (> 0) goes stale by age: the latest
//  over the sources of the first fire after ok_ms plus the grace.
//  INT64_MAX if no source has a fire left (schedules off).
int64_t ts_fresh_stale_at (const ts_fresh_t *self, int64_t ok_ms);

//  The same for the source of index source (the config's order), when
//  the id's source is known; -1 (or out of range): every source, as
//  ts_fresh_stale_at.
int64_t ts_fresh_stale_at_source (const ts_fresh_t *self, int source,
                                  int64_t ok_ms);

//  The rule's verdict on one id at now_ms.
typedef struct {
    int64_t fetched_ms;     //  last successful fetch; 0 never
    int64_t age_s;          //  whole seconds since then (>= 0); -1 never
    int64_t stale_at_ms;    //  ts_fresh_stale_at; 0 never fetched
    bool    stale;          //  see the rule above
    bool    failed;         //  the last attempt failed after fetched_ms
                            //  (or with none): last_error applies
    bool    overdue;        //  stale by age (now >= stale_at_ms)
} ts_fresh_verdict_t;

//  Judges an id whose last success was ok_ms and last failure after it
//  error_ms (0 for none; ts_store_status_t's fields) at now_ms.
void ts_fresh_judge (const ts_fresh_t *self, int64_t ok_ms,
                     int64_t error_ms, int64_t now_ms,
                     ts_fresh_verdict_t *verdict);

//  ts_fresh_judge by the schedule of the source of index source only (-1:
//  every source).
void ts_fresh_judge_source (const ts_fresh_t *self, int source,
                            int64_t ok_ms, int64_t error_ms, int64_t now_ms,
                            ts_fresh_verdict_t *verdict);

//  True if a query answered now should trigger a refresh
//  (stale-while-revalidate on): stale by age, for less than
//  gateway.stale_while_revalidate_s, and not failing (retrying a failing
//  upstream is the broker's job). A never fetched id is read-through's.
bool ts_fresh_revalidate (const ts_fresh_t *self,
                          const ts_fresh_verdict_t *verdict,
                          int64_t now_ms);

//  The read time for the forecast's expiry (ts_store_query_t.now_ms): now_ms,
//  or with stale-if-error on and the id failing (verdict->failed with a
//  past success) now_ms - gateway.stale_if_error_s, so that forecast
//  points expired within that window are still served, marked stale.
int64_t ts_fresh_read_ms (const ts_fresh_t *self,
                          const ts_fresh_verdict_t *verdict, int64_t now_ms);

//  The Age and Cache-Control values of an answer whose freshness is
//  fresh (ts_fresh_fill): age (whole seconds as text; "" when never
//  fetched: no Age header) and cc (TS_FRESH_CC_MAX bytes): fresh
//  "max-age=L" (L the lifetime from the fetch, at most
//  TS_FRESH_MAX_AGE_S) then ", stale-while-revalidate=N" and
//  ", stale-if-error=N" when those are on; stale or never fetched
//  "max-age=0, no-cache".
void ts_fresh_headers (const ts_fresh_t *self, const ts_freshness_t *fresh,
                       char *age, size_t age_size, char *cc);

//  Fills reply->fresh from the verdict (ts_fresh_judge) of an id whose
//  last failure was error_ms with kind and error (ts_store_status_t's
//  fields; kind and error may be NULL), and sets has_fresh. Judged once,
//  the answer carries it on (stale_at_ms for ts_fresh_until and the
//  headers: nothing judges it again).
void ts_fresh_fill (const ts_fresh_verdict_t *verdict, int64_t error_ms,
                    const char *kind, const char *error, ts_msg_t *reply);

//  ---------------------------------------------------------------------
//  Freshness in the answer cache. A cached answer is the encoded body
//  followed by a seal: the fetch times it was judged by and its ETag.
//  The body holds fetched_at, stale and last_error, which change only
//  with a write of the id (which changes its stamp, or sends a change
//  notice) - except stale, which the clock turns: an answer that says
//  "stale": false is cached only until its stale_at (ts_fresh_until).
//  What the clock changes on every request (Age, max-age, ZeroMQ "age")
//  is computed from the seal when the answer is reused.

#define TS_FRESH_SEAL_SIZE  32      //  bytes after the body

//  Appends the seal of reply->fresh to the encoded answer (*data, *size
//  bytes, from malloc; it may move): *size is unchanged, the buffer holds
//  *size + TS_FRESH_SEAL_SIZE bytes. Returns 0 or TS_ENOMEM (*data left
//  as it was).
int ts_fresh_seal (const ts_msg_t *reply, char **data, size_t size);

//  Reads the seal of a cached answer (*size bytes, seal included) into
//  reply->fresh and sets has_fresh if it had freshness; *size loses the
//  seal. Returns 0, or TS_EINVAL if size is too short for a seal.
int ts_fresh_unseal (const char *data, size_t *size, ts_msg_t *reply);

//  Until when an answer with reply->fresh may be reused from the cache,
//  given the bound the cache would use (until_ms): no later than the
//  moment a fresh answer goes stale.
int64_t ts_fresh_until (const ts_msg_t *reply, int64_t until_ms);

//  XXH3 64-bit (libxxhash) of size bytes at data.
uint64_t ts_fresh_hash (const void *data, size_t size);

//  Writes the strong ETag of hash, "\"%016llx\"" (quotes included), into
//  etag (TS_FRESH_ETAG_MAX bytes). Returns etag.
char *ts_fresh_etag (uint64_t hash, char *etag);

//  True if an If-None-Match value (len bytes, a comma list of entity
//  tags, weak ones W/"..." included, or "*") matches etag: the weak
//  comparison RFC 9110 13.1.2 asks of If-None-Match.
bool ts_fresh_etag_matches (const char *if_none_match, size_t len,
                            const char *etag);

#endif
