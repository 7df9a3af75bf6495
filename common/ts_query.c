/*  ts_query - reads a query's parameters into a ts_msg_t, one parser for
    every front end, and the page token. See ts_query.h. */

#include "ts_query.h"
#include "ts_duration.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_agg_names [TS_AGG_COUNT_] = {
    "none", "avg", "min", "max", "sum", "count", "first", "last"
};

static const char *s_fill_names [TS_FILL_COUNT_] = {
    "none", "null", "previous"
};

const char *
ts_agg_name (ts_agg_t agg)
{
    return (unsigned) agg < TS_AGG_COUNT_? s_agg_names [agg]: "?";
}

const char *
ts_fill_name (ts_fill_mode_t fill)
{
    return (unsigned) fill < TS_FILL_COUNT_? s_fill_names [fill]: "?";
}

//  Whole decimal number, optionally signed: 0 and *value, or -1.
static int
s_integer (const char *text, bool sign, int64_t *value)
{
    const char *p = text;
    if (sign && *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || *end)
        return -1;
    *value = n;
    return 0;
}

int
ts_query_time (const char *name, const char *text, int64_t *ms,
               bool *relative, char *err)
{
    *relative = false;
    if (strncmp (text, "now", 3) == 0) {
        const char *rest = text + 3;
        int64_t offset = 0;
        if (*rest && ((*rest != '+' && *rest != '-')
                  ||  ts_duration_parse (rest + 1, &offset, NULL)))
            goto bad;
        *ms = *rest == '-'? -offset: offset;
        *relative = true;
        return 0;
    }
    if (ts_time_parse (text, ms) == 0)
        return 0;
bad:
    ts_errf (err, "%s: expected epoch milliseconds, an RFC 3339 time or "
             "now[+-]DURATION (now-24h; units ms s m h d w y), got '%.40s'",
             name, text);
    return TS_EINVAL;
}

int
ts_query_step (const char *text, int64_t *ms, char *err)
{
    int64_t value = 0;
    if (s_integer (text, false, &value)
    &&  ts_duration_parse (text, &value, NULL))
        value = 0;
    if (value <= 0 || value > TS_DURATION_MAX_MS) {
        ts_errf (err, "step: expected a duration (30s, 5m, 1h, 1d) or "
                 "milliseconds, > 0 and at most 100 years, got '%.40s'",
                 text);
        return TS_EINVAL;
    }
    *ms = value;
    return 0;
}

int
ts_query_agg (const char *text, ts_agg_t *agg, char *err)
{
    for (int i = TS_AGG_AVG; i < TS_AGG_COUNT_; i++)
        if (strcmp (text, s_agg_names [i]) == 0) {
            *agg = (ts_agg_t) i;
            return 0;
        }
    ts_errf (err, "agg: expected avg, min, max, sum, count, first or last, "
             "got '%.40s'", text);
    return TS_EINVAL;
}

int
ts_query_fill (const char *text, ts_fill_mode_t *fill, char *err)
{
    for (int i = 0; i < TS_FILL_COUNT_; i++)
        if (strcmp (text, s_fill_names [i]) == 0) {
            *fill = (ts_fill_mode_t) i;
            return 0;
        }
    ts_errf (err, "fill: expected none, null or previous, got '%.40s'",
             text);
    return TS_EINVAL;
}

int
ts_query_add_measure (ts_msg_t *msg, const char *measure, size_t len,
                      char *err)
{
    if (!ts_name_existing_n (measure, len)) {
        ts_name_errf (err, "measure", measure, len);
        return TS_EINVAL;
    }
    for (size_t i = 0; i < msg->measures->n; i++)
        if (strlen (msg->measures->items [i]) == len
        &&  memcmp (msg->measures->items [i], measure, len) == 0)
            return 0;
    if (msg->measures->n >= TS_PROTO_MAX_QUERY_MEASURES) {
        ts_errf (err, "measure: more than %d measures",
                 TS_PROTO_MAX_QUERY_MEASURES);
        return TS_EINVAL;
    }
    if (ts_strlist_append_n (msg->measures, measure, len)) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    if (msg->measures->n == 1)
        ts_strlcpy (msg->measure, msg->measures->items [0],
                    sizeof msg->measure);
    else
        msg->measure [0] = '\0';
    return 0;
}

//  A count parameter: 1 to max, digits only.
static int
s_count (const char *name, const char *text, uint32_t max, uint32_t *value,
         char *err)
{
    int64_t n = 0;
    if (s_integer (text, false, &n) || n < 1 || n > max) {
        ts_errf (err, "%s: expected a whole number from 1 to %u, got "
                 "'%.40s'", name, (unsigned) max, text);
        return TS_EINVAL;
    }
    *value = (uint32_t) n;
    return 0;
}

int
ts_query_param (ts_msg_t *msg, const char *name, const char *text,
                char *err)
{
    if (!text || !*text)
        return strcmp (name, "from") && strcmp (name, "to")
            && strcmp (name, "measure") && strcmp (name, "step")
            && strcmp (name, "agg") && strcmp (name, "max_points")
            && strcmp (name, "fill") && strcmp (name, "limit")
            && strcmp (name, "next")? 1: 0;
    if (strcmp (name, "from") == 0) {
        int rc = ts_query_time (name, text, &msg->from_ms, &msg->from_rel,
                                err);
        msg->has_from = rc == 0;
        return rc;
    }
    if (strcmp (name, "to") == 0) {
        int rc = ts_query_time (name, text, &msg->to_ms, &msg->to_rel, err);
        msg->has_to = rc == 0;
        return rc;
    }
    if (strcmp (name, "measure") == 0)
        return ts_query_add_measure (msg, text, strlen (text), err);
    if (strcmp (name, "step") == 0)
        return ts_query_step (text, &msg->step_ms, err);
    if (strcmp (name, "agg") == 0)
        return ts_query_agg (text, &msg->agg, err);
    if (strcmp (name, "fill") == 0)
        return ts_query_fill (text, &msg->fill, err);
    if (strcmp (name, "max_points") == 0)
        return s_count (name, text, TS_QUERY_MAX_LIMIT, &msg->max_points,
                        err);
    if (strcmp (name, "limit") == 0)
        return s_count (name, text, TS_QUERY_MAX_LIMIT, &msg->limit, err);
    if (strcmp (name, "next") == 0) {
        if (!ts_name_existing (text)) {
            ts_errf (err, "next: expected the 'next' value of the previous "
                     "page, got '%.40s'", text);
            return TS_EINVAL;
        }
        ts_strlcpy (msg->next, text, sizeof msg->next);
        return 0;
    }
    return 1;
}

bool
ts_query_aggregated (const ts_msg_t *msg)
{
    return msg->step_ms > 0 || msg->max_points > 0;
}

int
ts_query_check (const ts_msg_t *msg, char *err)
{
    if (msg->agg != TS_AGG_NONE && !ts_query_aggregated (msg)) {
        ts_errf (err, "agg: '%s' needs step or max_points",
                 ts_agg_name (msg->agg));
        return TS_EINVAL;
    }
    if (msg->fill != TS_FILL_NONE && !ts_query_aggregated (msg)) {
        ts_errf (err, "fill: '%s' needs step or max_points",
                 ts_fill_name (msg->fill));
        return TS_EINVAL;
    }
    return 0;
}

//  now + offset, clamped to the int64 range.
static int64_t
s_at (int64_t now_ms, int64_t offset)
{
    if (offset > 0 && now_ms > INT64_MAX - offset)
        return INT64_MAX;
    if (offset < 0 && now_ms < INT64_MIN - offset)
        return INT64_MIN;
    return now_ms + offset;
}

int64_t
ts_query_instant (int64_t ms, bool relative, int64_t now_ms)
{
    return relative? s_at (now_ms, ms): ms;
}

void
ts_query_resolve (ts_msg_t *msg, int64_t now_ms)
{
    if (msg->has_from && msg->from_rel) {
        msg->from_ms = s_at (now_ms, msg->from_ms);
        msg->from_rel = false;
    }
    if (msg->has_to && msg->to_rel) {
        msg->to_ms = s_at (now_ms, msg->to_ms);
        msg->to_rel = false;
    }
}

//  Buckets of width step aligned on multiples of it over [from, to].
static uint64_t
s_buckets (int64_t step, int64_t from, int64_t to)
{
    int64_t first = from / step - (from % step < 0? 1: 0);
    int64_t last = to / step - (to % step < 0? 1: 0);
    return (uint64_t) (last - first) + 1;
}

int64_t
ts_query_auto_step (int64_t step_ms, uint32_t max_points, int64_t from_ms,
                    int64_t to_ms)
{
    if (max_points == 0 || from_ms > to_ms)
        return step_ms;
    static const int64_t nice [] = {
        1, 2, 5, 10, 20, 50, 100, 200, 500,
        1000, 2000, 5000, 10000, 15000, 30000,
        60000, 120000, 300000, 600000, 900000, 1800000,
        3600000, 7200000, 10800000, 21600000, 43200000,
        86400000, 172800000, 604800000
    };
    int64_t step = 0;
    for (size_t i = 0; i < sizeof nice / sizeof nice [0] && !step; i++)
        if (s_buckets (nice [i], from_ms, to_ms) <= max_points)
            step = nice [i];
    for (int64_t weeks = 2; !step; weeks *= 2) {
        int64_t candidate = weeks * 604800000LL;
        if (candidate > INT64_MAX / 4
        ||  s_buckets (candidate, from_ms, to_ms) <= max_points)
            step = candidate;
    }
    return step > step_ms? step: step_ms;
}

//  FNV-1a over len bytes, continuing hash.
static uint64_t
s_fnv (uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hash ^= p [i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

uint64_t
ts_query_hash (const ts_msg_t *msg)
{
    uint64_t hash = 14695981039346656037ULL;
    hash = s_fnv (hash, msg->id, strlen (msg->id) + 1);
    if (msg->measures->n == 0)
        hash = s_fnv (hash, msg->measure, strlen (msg->measure) + 1);
    for (size_t i = 0; i < msg->measures->n; i++)
        hash = s_fnv (hash, msg->measures->items [i],
                      strlen (msg->measures->items [i]) + 1);
    int64_t fields [] = {
        msg->step_ms, msg->agg, msg->max_points, msg->fill,
        msg->from_rel, msg->from_rel? msg->from_ms: 0,
        msg->to_rel, msg->to_rel? msg->to_ms: 0
    };
    return s_fnv (hash, fields, sizeof fields);
}

void
ts_query_token_format (const ts_query_token_t *token, char *buf)
{
    snprintf (buf, TS_NAME_MAX + 1, "q1.%016" PRIx64 ".%" PRId64 ".%" PRId64
              ".%" PRId64 ".%u", token->hash, token->from_ms, token->to_ms,
              token->time_ms, (unsigned) token->at_time);
}

int
ts_query_token_parse (const ts_msg_t *msg, ts_query_token_t *token,
                      char *err)
{
    char tail;
    unsigned long long hash;
    long long from, to, time;
    unsigned at;
    if (sscanf (msg->next, "q1.%16llx.%lld.%lld.%lld.%u%c", &hash, &from,
                &to, &time, &at, &tail) != 5 || from > to) {
        ts_errf (err, "next: '%.60s' is not a page token of this gateway "
                 "(pass back the 'next' value of the previous page)",
                 msg->next);
        return TS_EINVAL;
    }
    token->hash = hash;
    token->from_ms = from;
    token->to_ms = to;
    token->time_ms = time;
    token->at_time = at;
    //  The hash covers instants as the first page had them; a later page
    //  may resend them or leave them out.
    if (token->hash != ts_query_hash (msg)
    ||  (msg->has_from && !msg->from_rel && msg->from_ms != from)
    ||  (msg->has_to && !msg->to_rel && msg->to_ms != to)) {
        ts_errf (err, "next: the token belongs to another query (id, "
                 "measure, from, to, step, agg, max_points and fill must "
                 "stay those of the first page)");
        return TS_EINVAL;
    }
    return 0;
}
