/*  ts_fresh - the stale rule and the caching headers of query answers.
    See ts_fresh.h for the rule and why max-age counts from the fetch. */

#include "ts_fresh.h"

#include <xxhash.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ts_fresh_t {
    ts_fresh_schedule_t *schedules;     //  one per source
    size_t   n;
    int64_t  grace_ms;                  //  gateway.stale_grace_s
    int64_t  swr_s;                     //  gateway.stale_while_revalidate_s
    int64_t  sie_s;                     //  gateway.stale_if_error_s
};

ts_fresh_t *
ts_fresh_new_with (const ts_fresh_schedule_t *schedules, size_t n,
                   int64_t grace_s, int64_t swr_s, int64_t sie_s)
{
    ts_fresh_t *self = calloc (1, sizeof (ts_fresh_t));
    if (!self || !(self->schedules = calloc (n? n: 1, sizeof *schedules))) {
        free (self);
        return NULL;
    }
    if (n)
        memcpy (self->schedules, schedules, n * sizeof *schedules);
    self->n = n;
    self->grace_ms = grace_s * 1000;
    self->swr_s = swr_s;
    self->sie_s = sie_s;
    return self;
}

//  A source's schedule as the broker fires it (broker/ts_broker_schedule.c
//  reads the same keys): upstream.* of the source's view, broker.* where
//  they say so.
static int
s_schedule_of (const ts_config_t *source, ts_fresh_schedule_t *out,
               char *err)
{
    memset (out, 0, sizeof *out);
    const char *key = NULL;
    const char *expr = ts_config_source_schedule (source, &key);
    out->on = *expr && strcmp (expr, "off") != 0;
    char detail [TS_ERRLEN];
    if (out->on && ts_cron_parse (&out->cron, expr, detail)) {
        ts_errf (err, "source %s: %s: %s", ts_config_source_name (source),
                 key, detail);
        return TS_ECONFIG;
    }
    out->shift_ms = ts_config_source_shift_ms (source);
    return 0;
}

ts_fresh_t *
ts_fresh_new (const ts_config_t *cfg, char *err)
{
    size_t n = ts_config_source_count (cfg);
    ts_fresh_schedule_t *schedules = calloc (n? n: 1, sizeof *schedules);
    if (!schedules) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (s_schedule_of (ts_config_source_at (cfg, i), &schedules [i],
                           err)) {
            free (schedules);
            return NULL;
        }
    ts_fresh_t *self = ts_fresh_new_with (
        schedules, n, ts_config_int (cfg, "gateway.stale_grace_s"),
        ts_config_int (cfg, "gateway.stale_while_revalidate_s"),
        ts_config_int (cfg, "gateway.stale_if_error_s"));
    free (schedules);
    if (!self)
        ts_errf (err, "out of memory");
    return self;
}

void
ts_fresh_destroy (ts_fresh_t **self_p)
{
    if (self_p && *self_p) {
        ts_fresh_t *self = *self_p;
        free (self->schedules);
        free (self);
        *self_p = NULL;
    }
}

int64_t
ts_fresh_swr_s (const ts_fresh_t *self)
{
    return self->swr_s;
}

int64_t
ts_fresh_sie_s (const ts_fresh_t *self)
{
    return self->sie_s;
}

int64_t
ts_fresh_stale_at (const ts_fresh_t *self, int64_t ok_ms)
{
    return ts_fresh_stale_at_source (self, -1, ok_ms);
}

int64_t
ts_fresh_stale_at_source (const ts_fresh_t *self, int source, int64_t ok_ms)
{
    bool one = source >= 0 && (size_t) source < self->n;
    int64_t latest = -1;
    for (size_t i = one? (size_t) source: 0;
         i < (one? (size_t) source + 1: self->n); i++) {
        const ts_fresh_schedule_t *s = &self->schedules [i];
        if (!s->on)
            return INT64_MAX;       //  one source never refreshes
        int64_t next = ts_cron_next_shifted (&s->cron, ok_ms, s->shift_ms);
        if (next < 0)
            return INT64_MAX;
        if (next > latest)
            latest = next;
    }
    if (latest < 0 || latest > INT64_MAX - self->grace_ms)
        return INT64_MAX;
    return latest + self->grace_ms;
}

void
ts_fresh_judge (const ts_fresh_t *self, int64_t ok_ms, int64_t error_ms,
                int64_t now_ms, ts_fresh_verdict_t *verdict)
{
    ts_fresh_judge_source (self, -1, ok_ms, error_ms, now_ms, verdict);
}

void
ts_fresh_judge_source (const ts_fresh_t *self, int source, int64_t ok_ms,
                       int64_t error_ms, int64_t now_ms,
                       ts_fresh_verdict_t *verdict)
{
    memset (verdict, 0, sizeof *verdict);
    verdict->fetched_ms = ok_ms > 0? ok_ms: 0;
    verdict->failed = error_ms > 0 && error_ms > verdict->fetched_ms;
    if (!verdict->fetched_ms) {
        verdict->age_s = -1;
        verdict->stale = true;
        return;
    }
    //  A clock that went back shows age 0, never a negative one.
    verdict->age_s = now_ms > ok_ms? (now_ms - ok_ms) / 1000: 0;
    verdict->stale_at_ms = ts_fresh_stale_at_source (self, source, ok_ms);
    verdict->overdue = now_ms >= verdict->stale_at_ms;
    verdict->stale = verdict->overdue || verdict->failed;
}

bool
ts_fresh_revalidate (const ts_fresh_t *self,
                     const ts_fresh_verdict_t *verdict, int64_t now_ms)
{
    if (self->swr_s <= 0 || !verdict->overdue || verdict->failed)
        return false;
    return now_ms - verdict->stale_at_ms < self->swr_s * 1000;
}

int64_t
ts_fresh_read_ms (const ts_fresh_t *self, const ts_fresh_verdict_t *verdict,
                  int64_t now_ms)
{
    if (self->sie_s <= 0 || !verdict->failed || !verdict->fetched_ms)
        return now_ms;
    return now_ms - self->sie_s * 1000;
}

void
ts_fresh_headers (const ts_fresh_t *self, const ts_freshness_t *fresh,
                  char *age, size_t age_size, char *cc)
{
    age [0] = 0;
    if (fresh->fetched_ms)
        snprintf (age, age_size, "%" PRId64, fresh->age_s);
    if (fresh->stale) {
        snprintf (cc, TS_FRESH_CC_MAX, "max-age=0, no-cache");
        return;
    }
    int64_t lifetime_s = TS_FRESH_MAX_AGE_S;
    if (fresh->stale_at_ms != INT64_MAX
    &&  (fresh->stale_at_ms - fresh->fetched_ms) / 1000 < lifetime_s)
        lifetime_s = (fresh->stale_at_ms - fresh->fetched_ms) / 1000;
    size_t used = (size_t) snprintf (cc, TS_FRESH_CC_MAX, "max-age=%" PRId64,
                                     lifetime_s);
    if (self->swr_s > 0 && used < TS_FRESH_CC_MAX)
        used += (size_t) snprintf (cc + used, TS_FRESH_CC_MAX - used,
                                   ", stale-while-revalidate=%" PRId64,
                                   self->swr_s);
    if (self->sie_s > 0 && used < TS_FRESH_CC_MAX)
        snprintf (cc + used, TS_FRESH_CC_MAX - used,
                  ", stale-if-error=%" PRId64, self->sie_s);
}

void
ts_fresh_fill (const ts_fresh_verdict_t *verdict, int64_t error_ms,
               const char *kind, const char *error, ts_msg_t *reply)
{
    ts_freshness_t *fresh = &reply->fresh;
    memset (fresh, 0, sizeof *fresh);
    fresh->fetched_ms = verdict->fetched_ms;
    fresh->stale = verdict->stale;
    fresh->age_s = verdict->age_s;
    fresh->stale_at_ms = verdict->stale_at_ms;
    if (verdict->failed) {
        fresh->error_ms = error_ms;
        ts_strlcpy (fresh->error_kind, kind? kind: "",
                    sizeof fresh->error_kind);
        ts_strlcpy (fresh->error, error? error: "", sizeof fresh->error);
    }
    reply->has_fresh = true;
}

//  The seal: has_fresh, fetched_ms, error_ms, etag, little-endian.
static void
s_put64 (unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p [i] = (unsigned char) (v >> (8 * i));
}

static uint64_t
s_get64 (const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t) p [i] << (8 * i);
    return v;
}

int
ts_fresh_seal (const ts_msg_t *reply, char **data, size_t size)
{
    char *grown = realloc (*data, size + TS_FRESH_SEAL_SIZE);
    if (!grown)
        return TS_ENOMEM;
    *data = grown;
    unsigned char *seal = (unsigned char *) grown + size;
    s_put64 (seal, reply->has_fresh);
    s_put64 (seal + 8, (uint64_t) reply->fresh.fetched_ms);
    s_put64 (seal + 16, (uint64_t) reply->fresh.error_ms);
    s_put64 (seal + 24, reply->fresh.etag);
    return 0;
}

int
ts_fresh_unseal (const char *data, size_t *size, ts_msg_t *reply)
{
    if (*size < TS_FRESH_SEAL_SIZE)
        return TS_EINVAL;
    *size -= TS_FRESH_SEAL_SIZE;
    const unsigned char *seal = (const unsigned char *) data + *size;
    reply->has_fresh = s_get64 (seal) != 0;
    reply->fresh.fetched_ms = (int64_t) s_get64 (seal + 8);
    reply->fresh.error_ms = (int64_t) s_get64 (seal + 16);
    reply->fresh.etag = s_get64 (seal + 24);
    return 0;
}

int64_t
ts_fresh_until (const ts_msg_t *reply, int64_t until_ms)
{
    if (!reply->has_fresh || reply->fresh.stale || !reply->fresh.fetched_ms)
        return until_ms;
    int64_t stale_at = reply->fresh.stale_at_ms;
    return stale_at < until_ms? stale_at: until_ms;
}

uint64_t
ts_fresh_hash (const void *data, size_t size)
{
    //  XXH3: about 20 GB/s where a byte-wise FNV-1a makes 1 (a 40 KB
    //  answer hashed in 2 us instead of 38: the hash is on every answer
    //  read from the store).
    return XXH3_64bits (data, size);
}

char *
ts_fresh_etag (uint64_t hash, char *etag)
{
    snprintf (etag, TS_FRESH_ETAG_MAX, "\"%016" PRIx64 "\"", hash);
    return etag;
}

bool
ts_fresh_etag_matches (const char *value, size_t len, const char *etag)
{
    size_t etag_len = strlen (etag);
    const char *p = value, *end = value + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p < end && *p == '*')
            return true;
        if (end - p >= 2 && p [0] == 'W' && p [1] == '/')
            p += 2;                 //  weak comparison: W/ is ignored
        const char *tag = p;
        if (p < end && *p == '"') {
            p++;
            while (p < end && *p != '"')
                p++;
            if (p < end)
                p++;                //  the closing quote
        }
        else
            while (p < end && *p != ',')
                p++;
        if ((size_t) (p - tag) == etag_len
        &&  memcmp (tag, etag, etag_len) == 0)
            return true;
        if (p == tag)
            p++;                    //  garbage: step over it
    }
    return false;
}
