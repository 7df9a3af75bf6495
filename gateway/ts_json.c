/*  ts_json - a JSON text writer for the gateway's HTTP answers.

    One growable buffer, doubled when full, always NUL-terminated so the
    text can be logged or compared in tests. See ts_json.h. */

#include "ts_json.h"
#include "ts_json_number.h"
#include "ts_query.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ts_json_t {
    char   *data;       //  text written so far, NUL-terminated
    size_t  size;       //  bytes of text (without the NUL)
    size_t  cap;        //  allocated bytes
    bool    failed;     //  an append ran out of memory
    int     decimals;   //  the decimals that held the last value
    ts_json_number_prefix_t time;   //  the last time's leading digits
};

#define S_INITIAL_CAP 1024

ts_json_t *
ts_json_new (void)
{
    ts_json_t *self = calloc (1, sizeof (ts_json_t));
    if (!self)
        return NULL;
    self->data = malloc (S_INITIAL_CAP);
    if (!self->data) {
        free (self);
        return NULL;
    }
    self->cap = S_INITIAL_CAP;
    self->data [0] = 0;
    return self;
}

void
ts_json_destroy (ts_json_t **self_p)
{
    if (self_p && *self_p) {
        ts_json_t *self = *self_p;
        free (self->data);
        free (self);
        *self_p = NULL;
    }
}

void
ts_json_reset (ts_json_t *self)
{
    self->size = 0;
    self->failed = false;
    if (self->data)
        self->data [0] = 0;
}

//  s_reserve when the room is not there already.
static int
s_grow (ts_json_t *self, size_t extra)
{
    if (self->failed)
        return TS_ENOMEM;
    if (extra > SIZE_MAX / 2 - self->size - 1) {
        self->failed = true;
        return TS_ENOMEM;
    }
    size_t need = self->size + extra + 1;
    if (need <= self->cap && self->data)
        return 0;
    size_t cap = self->cap? self->cap: S_INITIAL_CAP;
    while (cap < need)
        cap *= 2;
    char *data = realloc (self->data, cap);
    if (!data) {
        self->failed = true;
        return TS_ENOMEM;
    }
    self->data = data;
    self->cap = cap;
    return 0;
}

//  Makes room for extra more bytes plus the NUL. Returns 0 or TS_ENOMEM.
//  Inline where the room is there (every point of an answer asks).
static inline int
s_reserve (ts_json_t *self, size_t extra)
{
    if (!self->failed && self->data && extra <= self->cap - self->size - 1)
        return 0;
    return s_grow (self, extra);
}

int
ts_json_raw_n (ts_json_t *self, const char *text, size_t len)
{
    if (s_reserve (self, len))
        return TS_ENOMEM;
    memcpy (self->data + self->size, text, len);
    self->size += len;
    self->data [self->size] = 0;
    return 0;
}

int
ts_json_raw (ts_json_t *self, const char *text)
{
    return ts_json_raw_n (self, text, strlen (text));
}

//  Length of the well-formed UTF-8 sequence at p (first byte >= 0x80),
//  or 0 if it is not one (bad lead or continuation byte, overlong form,
//  surrogate, over U+10FFFF, cut by the end of the string).
static size_t
s_utf8_length (const unsigned char *p)
{
    size_t len;
    uint32_t code;
    if (p [0] >= 0xc2 && p [0] <= 0xdf) {
        len = 2;
        code = p [0] & 0x1f;
    }
    else
    if (p [0] >= 0xe0 && p [0] <= 0xef) {
        len = 3;
        code = p [0] & 0x0f;
    }
    else
    if (p [0] >= 0xf0 && p [0] <= 0xf4) {
        len = 4;
        code = p [0] & 0x07;
    }
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p [i] & 0xc0) != 0x80)
            return 0;           //  also stops at the NUL
        code = (code << 6) | (p [i] & 0x3f);
    }
    if ((len == 3 && code < 0x800) || (len == 4 && code < 0x10000)
    ||  (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
        return 0;
    return len;
}

int
ts_json_str (ts_json_t *self, const char *s)
{
    if (!s)
        return ts_json_raw_n (self, "null", 4);
    //  Worst case every byte becomes \u00XX (6 bytes), plus the quotes.
    size_t len = strlen (s);
    if (len > (SIZE_MAX - 2) / 6 || s_reserve (self, len * 6 + 2)) {
        self->failed = true;
        return TS_ENOMEM;
    }
    static const char hex [] = "0123456789abcdef";
    char *out = self->data + self->size;
    *out++ = '"';
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char) c;
        }
        else
        if (c >= 0x80) {
            size_t seq = s_utf8_length (p);
            if (seq == 0) {
                //  Not UTF-8: keep the document valid, mark the spot.
                memcpy (out, "\\ufffd", 6);
                out += 6;
            }
            else {
                memcpy (out, p, seq);
                out += seq;
                p += seq - 1;
            }
        }
        else
        if (c >= 0x20 && c != 0x7f)
            *out++ = (char) c;
        else
        if (c == '\n') { *out++ = '\\'; *out++ = 'n'; }
        else
        if (c == '\r') { *out++ = '\\'; *out++ = 'r'; }
        else
        if (c == '\t') { *out++ = '\\'; *out++ = 't'; }
        else
        if (c == '\b') { *out++ = '\\'; *out++ = 'b'; }
        else
        if (c == '\f') { *out++ = '\\'; *out++ = 'f'; }
        else {
            *out++ = '\\';
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = hex [c >> 4];
            *out++ = hex [c & 15];
        }
    }
    *out++ = '"';
    self->size = (size_t) (out - self->data);
    self->data [self->size] = 0;
    return 0;
}

int
ts_json_int (ts_json_t *self, int64_t value)
{
    char buf [24];
    return ts_json_raw_n (self, buf, ts_json_number_int (value, buf));
}

int
ts_json_uint (ts_json_t *self, uint64_t value)
{
    char buf [24];
    return ts_json_raw_n (self, buf, ts_json_number_uint (value, buf));
}

//  Powers of ten up to 10^15: exact as doubles and as integers.
int
ts_json_double (ts_json_t *self, double value)
{
    char buf [40];
    ts_json_format_double (value, buf, sizeof buf);
    return ts_json_raw (self, buf);
}

const char *
ts_json_data (const ts_json_t *self)
{
    return self->data? self->data: "";
}

size_t
ts_json_size (const ts_json_t *self)
{
    return self->size;
}

bool
ts_json_failed (const ts_json_t *self)
{
    return self->failed;
}

char *
ts_json_detach (ts_json_t *self, size_t *size)
{
    if (self->failed || !self->data)
        return NULL;
    char *data = self->data;
    *size = self->size;
    self->data = NULL;
    self->size = 0;
    self->cap = 0;
    return data;
}

//  ---------------------------------------------------------------------
//  The answers HTTP and the CLI share

//  Appends a string literal without measuring it at run time.
#define S_RAW(self, literal) \
    ts_json_raw_n ((self), (literal), sizeof (literal) - 1)

//  A measure name as JSON text, kept while consecutive points share it
//  (most do: one measure, or a few in turn), so that it is escaped once.
typedef struct {
    const ts_points_t *pts;     //  list of index; NULL: nothing kept
    uint16_t index;
    size_t   len;
    char     text [TS_NAME_MAX * 6 + 3];
} s_measure_t;

//  Appends a literal (its size known when compiling) at out.
#define S_PUT(out, literal) \
    (memcpy ((out), (literal), sizeof (literal) - 1), \
     (out) += sizeof (literal) - 1)

//  Writes one point with a single reserve: this loop is most of an
//  answer's encoding (a cache miss writes every point of it).
static void
s_point (ts_json_t *self, const ts_points_t *pts, size_t i, bool history,
         s_measure_t *measure)
{
    if (measure->pts != pts || measure->index != pts->measure [i]) {
        //  Escape it once through ts_json_str and keep the bytes.
        size_t at = self->size;
        if (ts_json_str (self, ts_points_measure (pts, i)))
            return;
        measure->len = self->size - at;
        measure->pts = measure->len <= sizeof measure->text? pts: NULL;
        if (measure->pts) {
            memcpy (measure->text, self->data + at, measure->len);
            measure->index = pts->measure [i];
        }
        self->size = at;
    }
    //  {"time":T,"measure":M,"value":V,"source":"forecast"}: 49 bytes of
    //  literals, T (at most 20), M, V (printf's buffer: 40) and the NUL.
    if (s_reserve (self, 112 + measure->len))
        return;
    char *out = self->data + self->size;
    S_PUT (out, "{\"time\":");
    out += ts_json_number_time (pts->time_ms [i], out, &self->time);
    S_PUT (out, ",\"measure\":");
    if (measure->pts) {
        memcpy (out, measure->text, measure->len);
        out += measure->len;
    }
    else {
        self->size = (size_t) (out - self->data);
        ts_json_str (self, ts_points_measure (pts, i));
        if (s_reserve (self, 80))
            return;
        out = self->data + self->size;
    }
    S_PUT (out, ",\"value\":");
    size_t len = ts_json_number_decimal (pts->value [i], out, &self->decimals);
    if (!len) {
        if (isfinite (pts->value [i]))
            ts_json_number_printf (pts->value [i], out, 40);
        else
            memcpy (out, "null", 5);
        len = strlen (out);
    }
    out += len;
    if (history)
        S_PUT (out, ",\"source\":\"history\"}");
    else
        S_PUT (out, ",\"source\":\"forecast\"}");
    self->size = (size_t) (out - self->data);
    self->data [self->size] = 0;
}

//  Appends ,"key":T (RFC 3339 with ms) or ,"key":null for 0.
static void
s_time_or_null (ts_json_t *self, const char *key, int64_t ms)
{
    S_RAW (self, ",\"");
    ts_json_raw (self, key);
    S_RAW (self, "\":");
    char text [40];
    if (ms)
        ts_json_str (self, ts_time_format (ms, text, sizeof text));
    else
        S_RAW (self, "null");
}

//  ,"fetched_at":RFC 3339|null,"fetched_ms":N|null,"stale":B and, if the
//  last attempt failed after the last success, ,"last_error":{"at",
//  "at_ms","kind","detail"}. No age: it changes every second, and the
//  body must not (ETag, answer cache); HTTP says it in the Age header.
static void
s_fresh (ts_json_t *self, const ts_freshness_t *fresh)
{
    char when [40];
    s_time_or_null (self, "fetched_at", fresh->fetched_ms);
    S_RAW (self, ",\"fetched_ms\":");
    if (fresh->fetched_ms)
        ts_json_int (self, fresh->fetched_ms);
    else
        S_RAW (self, "null");
    if (fresh->stale)
        S_RAW (self, ",\"stale\":true");
    else
        S_RAW (self, ",\"stale\":false");
    if (fresh->error_ms) {
        S_RAW (self, ",\"last_error\":{\"at\":");
        ts_json_str (self, ts_time_format (fresh->error_ms, when,
                                           sizeof when));
        S_RAW (self, ",\"at_ms\":");
        ts_json_int (self, fresh->error_ms);
        S_RAW (self, ",\"kind\":");
        ts_json_str (self, fresh->error_kind);
        S_RAW (self, ",\"detail\":");
        ts_json_str (self, fresh->error);
        S_RAW (self, "}");
    }
}

int
ts_json_series_part (ts_json_t *self, const ts_msg_t *reply, size_t *at,
                     size_t max_points)
{
    assert (max_points >= 1);
    const ts_points_t *history = reply->series.history;
    const ts_points_t *forecast = reply->series.forecast;
    size_t total = history->n + forecast->n;
    //  *at: 0 before the head, then 1 + the points written so far, and
    //  SIZE_MAX once the answer is complete.
    if (*at == SIZE_MAX)
        return 1;
    if (*at == 0) {
        S_RAW (self, "{\"id\":");
        ts_json_str (self, reply->id);
        S_RAW (self, ",\"from\":");
        ts_json_int (self, reply->from_ms);
        S_RAW (self, ",\"to\":");
        ts_json_int (self, reply->to_ms);
        S_RAW (self, ",\"baseline\":");
        if (reply->series.has_baseline)
            ts_json_int (self, reply->series.baseline_ms);
        else
            S_RAW (self, "null");
        if (reply->step_ms) {
            S_RAW (self, ",\"step_ms\":");
            ts_json_int (self, reply->step_ms);
            S_RAW (self, ",\"agg\":");
            ts_json_str (self, ts_agg_name (reply->agg));
            S_RAW (self, ",\"fill\":");
            ts_json_str (self, ts_fill_name (reply->fill));
        }
        if (reply->next [0]) {
            S_RAW (self, ",\"next\":");
            ts_json_str (self, reply->next);
        }
        if (reply->has_fresh)
            s_fresh (self, &reply->fresh);
        //  A read-through answer still waiting for its fetch (202).
        if (reply->status == 202) {
            S_RAW (self, ",\"pending\":true,\"retry_after_ms\":");
            ts_json_uint (self, reply->retry_after_ms);
        }
        S_RAW (self, ",\"points\":[");
        *at = 1;
    }
    size_t k = *at - 1;
    size_t end = total - k > max_points? k + max_points: total;
    s_measure_t measure = { NULL, 0, 0, "" };
    for (; k < end; k++) {
        if (k)
            S_RAW (self, ",");
        if (k < history->n)
            s_point (self, history, k, true, &measure);
        else
            s_point (self, forecast, k - history->n, false, &measure);
    }
    *at = k == total? SIZE_MAX: k + 1;
    if (k == total)
        S_RAW (self, "]}");
    if (ts_json_failed (self))
        return TS_ENOMEM;
    return k == total? 1: 0;
}

int
ts_json_series (ts_json_t *self, const ts_msg_t *reply)
{
    //  Room for the whole answer at once rather than doubling from 1 KB
    //  (a 22 KB answer was five reallocs, each a copy): a point is 49
    //  bytes of literals, its measure name and quotes, a 13-digit time
    //  and a value of mostly a few digits, so 80 bytes and the longest
    //  name hold nearly every answer; a longer one grows once.
    const ts_points_t *lists [] = { reply->series.history,
                                    reply->series.forecast };
    size_t points = 0, longest = 0;
    for (size_t l = 0; l < 2; l++) {
        points += lists [l]->n;
        for (size_t m = 0; m < lists [l]->n_measures; m++) {
            size_t len = strlen (lists [l]->measures [m]);
            longest = len > longest? len: longest;
        }
    }
    if (points < SIZE_MAX / 1024)
        s_reserve (self, 512 + points * (80 + longest));
    size_t at = 0;
    int rc = ts_json_series_part (self, reply, &at, SIZE_MAX);
    return rc == 1? 0: TS_ENOMEM;
}

int
ts_json_stats (ts_json_t *self, const ts_stats_t *stats)
{
    const struct { const char *key; uint64_t value; } counters [] = {
        { "queued", stats->queued }, { "delayed", stats->delayed },
        { "leased", stats->leased }, { "dlq", stats->dlq },
        { "done", stats->done }, { "failed", stats->failed },
        { "retried", stats->retried },
        { "dead_lettered", stats->dead_lettered }
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters [0]; i++) {
        ts_json_raw (self, i? ",": "{");
        ts_json_str (self, counters [i].key);
        S_RAW (self, ":");
        ts_json_uint (self, counters [i].value);
    }
    S_RAW (self, ",\"oldest_age_ms\":");
    ts_json_int (self, stats->oldest_age_ms);
    S_RAW (self, ",\"workers\":[");
    for (size_t i = 0; i < stats->workers_n; i++) {
        const ts_worker_stat_t *worker = &stats->workers [i];
        ts_json_raw (self, i? ",{\"name\":": "{\"name\":");
        ts_json_str (self, worker->name);
        S_RAW (self, ",\"credit\":");
        ts_json_uint (self, worker->credit);
        S_RAW (self, ",\"leased\":");
        ts_json_uint (self, worker->leased);
        S_RAW (self, "}");
    }
    S_RAW (self, "]}");
    return ts_json_failed (self)? TS_ENOMEM: 0;
}

//  ["a","b",...]
static void
s_ids (ts_json_t *self, const ts_strlist_t *ids)
{
    S_RAW (self, "[");
    for (size_t i = 0; i < ids->n; i++) {
        if (i)
            S_RAW (self, ",");
        ts_json_str (self, ids->items [i]);
    }
    S_RAW (self, "]");
}

int
ts_json_dlq (ts_json_t *self, const ts_msg_t *reply)
{
    S_RAW (self, "{\"jobs\":[");
    for (size_t i = 0; i < reply->dlq_n; i++) {
        const ts_dlq_entry_t *entry = &reply->dlq [i];
        ts_json_raw (self, i? ",{\"job\":": "{\"job\":");
        ts_json_uint (self, entry->job);
        S_RAW (self, ",\"ids\":");
        s_ids (self, entry->ids);
        S_RAW (self, ",\"receives\":");
        ts_json_uint (self, entry->receives);
        S_RAW (self, ",\"dead_at\":");
        ts_json_int (self, entry->dead_at_ms);
        S_RAW (self, ",\"error\":");
        ts_json_str (self, entry->error);
        S_RAW (self, "}");
    }
    S_RAW (self, "]}");
    return ts_json_failed (self)? TS_ENOMEM: 0;
}

//  {"key":n}
static int
s_count (ts_json_t *self, const char *key, uint64_t n)
{
    S_RAW (self, "{");
    ts_json_str (self, key);
    S_RAW (self, ":");
    ts_json_uint (self, n);
    S_RAW (self, "}");
    return ts_json_failed (self)? TS_ENOMEM: 0;
}

static void
s_jobs (ts_json_t *self, const ts_msg_t *reply)
{
    S_RAW (self, "[");
    for (size_t i = 0; i < reply->jobs_n; i++) {
        if (i)
            S_RAW (self, ",");
        ts_json_uint (self, reply->jobs [i]);
    }
    S_RAW (self, "]");
}

int
ts_json_job_fields (ts_json_t *self, const ts_job_info_t *info)
{
    S_RAW (self, "\"job\":");
    ts_json_uint (self, info->job);
    S_RAW (self, ",\"state\":");
    ts_json_str (self, ts_job_status_name (info->status));
    S_RAW (self, ",\"receives\":");
    ts_json_uint (self, info->receives);
    S_RAW (self, ",\"error\":");
    ts_json_str (self, info->error);
    return ts_json_failed (self)? TS_ENOMEM: 0;
}

static void
s_states (ts_json_t *self, const ts_msg_t *reply)
{
    S_RAW (self, "{\"jobs\":[");
    for (size_t i = 0; i < reply->states_n; i++) {
        ts_json_raw (self, i? ",{": "{");
        ts_json_job_fields (self, &reply->states [i]);
        S_RAW (self, "}");
    }
    S_RAW (self, "]}");
}

//  ,"fetched_at":T|null,"last_attempt":T|null,"last_error":{"at","kind",
//  "detail"}|null,"not_found_until":T|null: an id's fetch status.
static void
s_fetch_fields (ts_json_t *self, const ts_id_status_t *fetch)
{
    s_time_or_null (self, "fetched_at", fetch->ok_ms);
    s_time_or_null (self, "last_attempt", fetch->attempt_ms);
    S_RAW (self, ",\"last_error\":");
    if (fetch->error_ms) {
        char text [40];
        S_RAW (self, "{\"at\":");
        ts_json_str (self, ts_time_format (fetch->error_ms, text,
                                           sizeof text));
        S_RAW (self, ",\"kind\":");
        ts_json_str (self, fetch->kind);
        S_RAW (self, ",\"detail\":");
        ts_json_str (self, fetch->error);
        S_RAW (self, "}");
    }
    else
        S_RAW (self, "null");
    s_time_or_null (self, "not_found_until", fetch->not_found_until_ms);
}

//  The ids_show answer (GET /v1/ids/{id}): the id's source and fetch
//  status.
static void
s_id_show (ts_json_t *self, const ts_msg_t *reply)
{
    S_RAW (self, "{\"id\":");
    ts_json_str (self, reply->id);
    S_RAW (self, ",\"source\":");
    ts_json_str (self, reply->source);
    S_RAW (self, ",\"registered\":true");
    s_fetch_fields (self, &reply->fetch);
    //  Its freshness (ts_fresh): stale, and its age now (not cached).
    if (reply->has_fresh) {
        if (reply->fresh.stale)
            S_RAW (self, ",\"stale\":true,\"age\":");
        else
            S_RAW (self, ",\"stale\":false,\"age\":");
        if (reply->fresh.fetched_ms)
            ts_json_int (self, reply->fresh.age_s);
        else
            S_RAW (self, "null");
    }
    S_RAW (self, "}");
}

int
ts_json_answer (ts_json_t *self, const ts_msg_t *req, const ts_msg_t *reply)
{
    switch (req->op) {
        case TS_OP_PING:
            S_RAW (self, "{\"status\":\"ok\"}");
            break;
        case TS_OP_QUERY:
            return ts_json_series (self, reply);
        case TS_OP_IDS_ADD:
            return s_count (self, "added", reply->count);
        case TS_OP_IDS_RM:
            S_RAW (self, "{\"id\":");
            ts_json_str (self, req->id);
            S_RAW (self, ",\"removed\":true}");
            break;
        case TS_OP_IDS_LS:
            S_RAW (self, "{\"ids\":");
            s_ids (self, reply->ids);
            if (reply->sources->n) {
                S_RAW (self, ",\"sources\":");
                s_ids (self, reply->sources);
            }
            //  fetch=true: each id's status, stale by its source.
            if (reply->has_fetches) {
                S_RAW (self, ",\"fetches\":[");
                for (size_t i = 0; i < reply->fetches_n; i++) {
                    ts_json_raw (self, i? ",{\"stale\":": "{\"stale\":");
                    ts_json_raw (self, reply->fetches [i].stale? "true"
                                                               : "false");
                    s_fetch_fields (self, &reply->fetches [i]);
                    S_RAW (self, "}");
                }
                S_RAW (self, "]");
            }
            S_RAW (self, ",\"next\":");
            if (reply->next [0])
                ts_json_str (self, reply->next);
            else
                S_RAW (self, "null");
            S_RAW (self, "}");
            break;
        case TS_OP_HYDRATE:
            S_RAW (self, "{\"queued\":");
            ts_json_uint (self, reply->count);
            S_RAW (self, ",\"jobs\":");
            s_jobs (self, reply);
            S_RAW (self, "}");
            break;
        case TS_OP_STATS:
            return ts_json_stats (self, &reply->stats);
        case TS_OP_DLQ_LS:
            return ts_json_dlq (self, reply);
        case TS_OP_DLQ_REDRIVE:
            return s_count (self, "requeued", reply->count);
        case TS_OP_DLQ_PURGE:
            return s_count (self, "purged", reply->count);
        case TS_OP_JOB_STATE:
            s_states (self, reply);
            break;
        case TS_OP_IDS_SHOW:
            s_id_show (self, reply);
            break;
        default:
            return TS_EINVAL;
    }
    return ts_json_failed (self)? TS_ENOMEM: 0;
}

int
ts_json_error (ts_json_t *self, int status, const char *error,
               const char *detail)
{
    ts_json_reset (self);
    ts_json_raw (self, "{\"error\":");
    ts_json_str (self, error);
    ts_json_raw (self, ",\"detail\":");
    ts_json_str (self, detail);
    ts_json_raw (self, "}");
    return status;
}
