/*  ts_proto - msgpack codec for the tscache wire protocol.

    The gateway, the broker, the workers and the CLI exchange ts_msg_t
    values; this file is the only one that knows they travel as one msgpack
    map per ZeroMQ frame (docs/protocol.md is the specification).

    Encoding writes into a msgpack_sbuffer. A query reply is columnar: the
    distinct measure names are written once and every point refers to its
    measure by index, so a reply of a million points costs no allocation
    per point (the measure table is a small linear array).

    Decoding never trusts the bytes. Before msgpack-c sees them, s_scan
    walks the message once, checking that every length and count fits in
    what is left and that nesting stays shallow. That bounds the memory
    msgpack-c may allocate to a small multiple of the message size, and
    tells "truncated" from "trailing bytes" precisely. Then every field is
    checked for presence, type and limits; the first problem becomes a
    TS_EPROTO or TS_ETOOBIG with a detail for the error reply.

    It does not apply query semantics (defaults for from/to, from > to):
    those belong to the gateway. */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>

#include "ts_proto.h"

#define S_MAX_DEPTH     16      //  nested maps/arrays in one message
#define S_MAX_MEASURES  1024    //  distinct measures in one query reply
#define S_MAX_CREDIT    10000   //  ready: largest credit
#define S_MIN_STATUS    100
#define S_MAX_STATUS    599

static const char *s_op_names [TS_OP_COUNT_] = {
    "reply", "ping", "query", "ids_add", "ids_rm", "ids_ls", "hydrate",
    "ready", "job", "done", "failed", "heartbeat", "stats", "dlq_ls",
    "dlq_redrive", "dlq_purge", "job_state"
};

static const char *s_status_names [TS_JOB_STATUS_COUNT_] = {
    "unknown", "queued", "delayed", "leased", "done", "dead"
};

//  Keys the decoder knows. Any other key is ignored.
typedef enum {
    F_V, F_OP, F_STATUS, F_ERROR, F_DETAIL, F_ID, F_FROM, F_TO, F_MEASURE,
    F_IDS, F_JOB, F_CREDIT, F_COUNT, F_BASELINE, F_MEASURES, F_HISTORY,
    F_FORECAST, F_RETRY, F_RETRY_AFTER, F_STATS, F_DLQ, F_AFTER, F_LIMIT,
    F_NEXT, F_JOBS, F_STATES, F_BOOT, F_COUNT_
} s_field_t;

static const char *s_field_names [F_COUNT_] = {
    "v", "op", "status", "error", "detail", "id", "from", "to", "measure",
    "ids", "job", "credit", "count", "baseline", "measures", "history",
    "forecast", "retry", "retry_after_ms", "stats", "dlq", "after", "limit",
    "next", "jobs", "states", "boot"
};

//  ---------------------------------------------------------------------
//  Messages

//  Slots allocated for an owned array of n items (workers, dlq): at least
//  8, else the next power of two. Appending one at a time therefore costs
//  amortised O(1) without a capacity field in the public struct.
static size_t
s_capacity (size_t n)
{
    size_t cap = 8;
    while (cap < n)
        cap *= 2;
    return cap;
}

//  Makes room for item n of an array of n items sized by s_capacity.
//  Returns the array (perhaps moved), or NULL if out of memory (the array
//  is then unchanged).
static void *
s_grow (void *array, size_t n, size_t item_size)
{
    if (array && n + 1 <= s_capacity (n))
        return array;
    return realloc (array, s_capacity (n + 1) * item_size);
}

//  Frees the stats workers, the dlq entries, the jobs and the job states
//  (owned arrays).
static void
s_free_arrays (ts_msg_t *self)
{
    free (self->jobs);
    self->jobs = NULL;
    self->jobs_n = 0;
    free (self->states);
    self->states = NULL;
    self->states_n = 0;
    free (self->stats.workers);
    self->stats.workers = NULL;
    self->stats.workers_n = 0;
    for (size_t i = 0; i < self->dlq_n; i++)
        ts_strlist_destroy (&self->dlq [i].ids);
    free (self->dlq);
    self->dlq = NULL;
    self->dlq_n = 0;
}

ts_msg_t *
ts_msg_new (ts_op_t op)
{
    ts_msg_t *self = calloc (1, sizeof (ts_msg_t));
    if (!self)
        return NULL;
    self->ids = ts_strlist_new ();
    self->series.history = ts_points_new ();
    self->series.forecast = ts_points_new ();
    if (!self->ids || !self->series.history || !self->series.forecast) {
        ts_msg_destroy (&self);
        return NULL;
    }
    self->op = op;
    self->retry = true;
    return self;
}

void
ts_msg_destroy (ts_msg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_msg_t *self = *self_p;
        ts_strlist_destroy (&self->ids);
        ts_points_destroy (&self->series.history);
        ts_points_destroy (&self->series.forecast);
        s_free_arrays (self);
        free (self);
        *self_p = NULL;
    }
}

void
ts_msg_reset (ts_msg_t *self, ts_op_t op)
{
    assert (self);
    ts_strlist_t *ids = self->ids;
    ts_points_t *history = self->series.history;
    ts_points_t *forecast = self->series.forecast;
    s_free_arrays (self);
    memset (self, 0, sizeof (ts_msg_t));
    self->op = op;
    self->retry = true;
    self->ids = ids;
    self->series.history = history;
    self->series.forecast = forecast;
    ts_strlist_clear (ids);
    ts_points_clear (history);
    ts_points_clear (forecast);
}

int
ts_msg_add_worker (ts_msg_t *self, const char *name, uint32_t credit,
                   uint32_t leased)
{
    assert (self);
    assert (name);
    size_t n = self->stats.workers_n;
    ts_worker_stat_t *workers = s_grow (self->stats.workers, n,
                                        sizeof (ts_worker_stat_t));
    if (!workers)
        return TS_ENOMEM;
    self->stats.workers = workers;
    ts_worker_stat_t *worker = &workers [n];
    memset (worker, 0, sizeof (*worker));
    ts_strlcpy (worker->name, name, sizeof (worker->name));
    worker->credit = credit;
    worker->leased = leased;
    self->stats.workers_n = n + 1;
    self->has_stats = true;
    return 0;
}

int
ts_msg_add_dlq (ts_msg_t *self, uint64_t job, const ts_strlist_t *ids,
                uint32_t receives, int64_t dead_at_ms, const char *error)
{
    assert (self);
    ts_strlist_t *copy = ts_strlist_new ();
    if (!copy)
        return TS_ENOMEM;
    for (size_t i = 0; ids && i < ids->n; i++)
        if (ts_strlist_append (copy, ids->items [i])) {
            ts_strlist_destroy (&copy);
            return TS_ENOMEM;
        }
    ts_dlq_entry_t *dlq = s_grow (self->dlq, self->dlq_n,
                                  sizeof (ts_dlq_entry_t));
    if (!dlq) {
        ts_strlist_destroy (&copy);
        return TS_ENOMEM;
    }
    self->dlq = dlq;
    ts_dlq_entry_t *entry = &dlq [self->dlq_n++];
    memset (entry, 0, sizeof (*entry));
    entry->job = job;
    entry->ids = copy;
    entry->receives = receives;
    entry->dead_at_ms = dead_at_ms;
    ts_strlcpy (entry->error, error? error: "", sizeof (entry->error));
    self->has_dlq = true;
    return 0;
}

int
ts_msg_add_job (ts_msg_t *self, uint64_t job)
{
    assert (self);
    uint64_t *jobs = s_grow (self->jobs, self->jobs_n, sizeof (uint64_t));
    if (!jobs)
        return TS_ENOMEM;
    self->jobs = jobs;
    self->jobs [self->jobs_n++] = job;
    return 0;
}

int
ts_msg_add_state (ts_msg_t *self, uint64_t job, ts_job_status_t status,
                  uint32_t receives, const char *error)
{
    assert (self);
    assert ((int) status >= 0 && status < TS_JOB_STATUS_COUNT_);
    ts_job_info_t *states = s_grow (self->states, self->states_n,
                                    sizeof (ts_job_info_t));
    if (!states)
        return TS_ENOMEM;
    self->states = states;
    ts_job_info_t *info = &states [self->states_n++];
    memset (info, 0, sizeof (*info));
    info->job = job;
    info->status = status;
    info->receives = receives;
    ts_strlcpy (info->error, error? error: "", sizeof (info->error));
    self->has_states = true;
    return 0;
}

const char *
ts_job_status_name (ts_job_status_t status)
{
    if ((int) status < 0 || status >= TS_JOB_STATUS_COUNT_)
        return "?";
    return s_status_names [status];
}

const char *
ts_op_name (ts_op_t op)
{
    if ((int) op < 0 || op >= TS_OP_COUNT_)
        return "?";
    return s_op_names [op];
}

void
ts_msg_set_error (ts_msg_t *self, int status, const char *error,
                  const char *detail)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    self->status = status;
    ts_strlcpy (self->error, error? error: "", sizeof (self->error));
    ts_strlcpy (self->detail, detail? detail: "", sizeof (self->detail));
}

void
ts_msg_set_ok (ts_msg_t *self, int status)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    self->status = status;
}

//  ---------------------------------------------------------------------
//  Encoding

//  Distinct measure names of a reply, in order of first appearance
//  across history and then forecast, and for each list the wire index of
//  each of its own measure indices. The names point into the lists;
//  nothing is copied. A list's table may hold names no point of it uses
//  any more (after the merge rule dropped points): only used ones are
//  sent.
typedef struct {
    const char **names;         //  n names sent, in wire order
    size_t       n;
    uint32_t    *map [2];       //  per list: its index -> wire index + 1
} s_mtable_t;

static void
s_mtable_fini (s_mtable_t *self)
{
    free (self->names);
    free (self->map [0]);
    free (self->map [1]);
    memset (self, 0, sizeof *self);
}

//  Builds the table for history (list 0) and forecast (list 1).
static int
s_mtable_init (s_mtable_t *self, const ts_points_t *lists [2])
{
    memset (self, 0, sizeof *self);
    size_t total = lists [0]->n_measures + lists [1]->n_measures;
    self->names = malloc ((total? total: 1) * sizeof (char *));
    if (!self->names)
        return TS_ENOMEM;
    for (int l = 0; l < 2; l++) {
        const ts_points_t *points = lists [l];
        self->map [l] = calloc (points->n_measures? points->n_measures: 1,
                                sizeof (uint32_t));
        if (!self->map [l]) {
            s_mtable_fini (self);
            return TS_ENOMEM;
        }
        size_t seen = 0;
        for (size_t i = 0; i < points->n && seen < points->n_measures; i++) {
            uint16_t m = points->measure [i];
            if (self->map [l][m])
                continue;
            seen++;
            const char *name = points->measures [m];
            size_t wire = self->n;
            for (size_t k = 0; k < self->n; k++)
                if (strcmp (self->names [k], name) == 0) {
                    wire = k;
                    break;
                }
            if (wire == self->n)
                self->names [self->n++] = name;
            self->map [l][m] = (uint32_t) wire + 1;
        }
    }
    return 0;
}

//  msgpack_pack_* return 0 or -1 (the sbuffer could not grow).
#define S_TRY(expr) do { if ((expr) != 0) goto nomem; } while (0)

static int
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body (pk, s, strlen (s));
}

static int
s_pack_ids (msgpack_packer *pk, const ts_strlist_t *ids)
{
    if (msgpack_pack_array (pk, ids->n))
        return -1;
    for (size_t i = 0; i < ids->n; i++)
        if (s_pack_cstr (pk, ids->items [i]))
            return -1;
    return 0;
}

static int
s_pack_jobs (msgpack_packer *pk, const ts_msg_t *self)
{
    if (msgpack_pack_array (pk, self->jobs_n))
        return -1;
    for (size_t i = 0; i < self->jobs_n; i++)
        if (msgpack_pack_uint64 (pk, self->jobs [i]))
            return -1;
    return 0;
}

//  Writes {"t": [...], "m": [...], "v": [...]} for one point list.
static int
s_pack_points (msgpack_packer *pk, const ts_points_t *points,
               const uint32_t *map)
{
    if (msgpack_pack_map (pk, 3)
    ||  s_pack_cstr (pk, "t") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++)
        if (msgpack_pack_int64 (pk, points->time_ms [i]))
            return -1;
    if (s_pack_cstr (pk, "m") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++) {
        assert (map [points->measure [i]]);
        if (msgpack_pack_uint32 (pk, map [points->measure [i]] - 1))
            return -1;
    }
    if (s_pack_cstr (pk, "v") || msgpack_pack_array (pk, points->n))
        return -1;
    for (size_t i = 0; i < points->n; i++)
        if (msgpack_pack_double (pk, points->value [i]))
            return -1;
    return 0;
}

static int
s_encode_series (msgpack_packer *pk, const ts_msg_t *self)
{
    const ts_series_t *series = &self->series;
    s_mtable_t mtable;
    const ts_points_t *lists [2] = { series->history, series->forecast };
    if (s_mtable_init (&mtable, lists))
        return -1;
    int rc = -1;
    S_TRY (s_pack_cstr (pk, "id"));
    S_TRY (s_pack_cstr (pk, self->id));
    S_TRY (s_pack_cstr (pk, "from"));
    S_TRY (msgpack_pack_int64 (pk, self->from_ms));
    S_TRY (s_pack_cstr (pk, "to"));
    S_TRY (msgpack_pack_int64 (pk, self->to_ms));
    S_TRY (s_pack_cstr (pk, "baseline"));
    if (series->has_baseline)
        S_TRY (msgpack_pack_int64 (pk, series->baseline_ms));
    else
        S_TRY (msgpack_pack_nil (pk));
    S_TRY (s_pack_cstr (pk, "measures"));
    S_TRY (msgpack_pack_array (pk, mtable.n));
    for (size_t i = 0; i < mtable.n; i++)
        S_TRY (s_pack_cstr (pk, mtable.names [i]));
    S_TRY (s_pack_cstr (pk, "history"));
    S_TRY (s_pack_points (pk, series->history, mtable.map [0]));
    S_TRY (s_pack_cstr (pk, "forecast"));
    S_TRY (s_pack_points (pk, series->forecast, mtable.map [1]));
    rc = 0;
nomem:
    s_mtable_fini (&mtable);
    return rc;
}

static int
s_pack_uint_field (msgpack_packer *pk, const char *key, uint64_t value)
{
    return s_pack_cstr (pk, key) || msgpack_pack_uint64 (pk, value);
}

//  Writes "stats": {counters..., "workers": [{name, credit, leased}]}.
static int
s_encode_stats (msgpack_packer *pk, const ts_stats_t *stats)
{
    S_TRY (s_pack_cstr (pk, "stats"));
    S_TRY (msgpack_pack_map (pk, 10));
    S_TRY (s_pack_uint_field (pk, "queued", stats->queued));
    S_TRY (s_pack_uint_field (pk, "delayed", stats->delayed));
    S_TRY (s_pack_uint_field (pk, "leased", stats->leased));
    S_TRY (s_pack_uint_field (pk, "dlq", stats->dlq));
    S_TRY (s_pack_uint_field (pk, "done", stats->done));
    S_TRY (s_pack_uint_field (pk, "failed", stats->failed));
    S_TRY (s_pack_uint_field (pk, "retried", stats->retried));
    S_TRY (s_pack_uint_field (pk, "dead_lettered", stats->dead_lettered));
    S_TRY (s_pack_cstr (pk, "oldest_age_ms"));
    S_TRY (msgpack_pack_int64 (pk, stats->oldest_age_ms));
    S_TRY (s_pack_cstr (pk, "workers"));
    S_TRY (msgpack_pack_array (pk, stats->workers_n));
    for (size_t i = 0; i < stats->workers_n; i++) {
        const ts_worker_stat_t *worker = &stats->workers [i];
        S_TRY (msgpack_pack_map (pk, 3));
        S_TRY (s_pack_cstr (pk, "name"));
        S_TRY (s_pack_cstr (pk, worker->name));
        S_TRY (s_pack_uint_field (pk, "credit", worker->credit));
        S_TRY (s_pack_uint_field (pk, "leased", worker->leased));
    }
    return 0;
nomem:
    return -1;
}

//  Writes "states": [{job, state, receives, error}...].
static int
s_encode_states (msgpack_packer *pk, const ts_msg_t *self)
{
    S_TRY (s_pack_cstr (pk, "states"));
    S_TRY (msgpack_pack_array (pk, self->states_n));
    for (size_t i = 0; i < self->states_n; i++) {
        const ts_job_info_t *info = &self->states [i];
        S_TRY (msgpack_pack_map (pk, 4));
        S_TRY (s_pack_uint_field (pk, "job", info->job));
        S_TRY (s_pack_cstr (pk, "state"));
        S_TRY (s_pack_cstr (pk, ts_job_status_name (info->status)));
        S_TRY (s_pack_uint_field (pk, "receives", info->receives));
        S_TRY (s_pack_cstr (pk, "error"));
        S_TRY (s_pack_cstr (pk, info->error));
    }
    return 0;
nomem:
    return -1;
}

//  Writes "dlq": [{job, ids, receives, dead_at, error}...].
static int
s_encode_dlq (msgpack_packer *pk, const ts_msg_t *self)
{
    S_TRY (s_pack_cstr (pk, "dlq"));
    S_TRY (msgpack_pack_array (pk, self->dlq_n));
    for (size_t i = 0; i < self->dlq_n; i++) {
        const ts_dlq_entry_t *entry = &self->dlq [i];
        S_TRY (msgpack_pack_map (pk, 5));
        S_TRY (s_pack_uint_field (pk, "job", entry->job));
        S_TRY (s_pack_cstr (pk, "ids"));
        S_TRY (s_pack_ids (pk, entry->ids));
        S_TRY (s_pack_uint_field (pk, "receives", entry->receives));
        S_TRY (s_pack_cstr (pk, "dead_at"));
        S_TRY (msgpack_pack_int64 (pk, entry->dead_at_ms));
        S_TRY (s_pack_cstr (pk, "error"));
        S_TRY (s_pack_cstr (pk, entry->error));
    }
    return 0;
nomem:
    return -1;
}

static int
s_encode_reply (msgpack_packer *pk, const ts_msg_t *self)
{
    size_t fields = 2
                  + (self->error [0]? 1: 0)
                  + (self->detail [0]? 1: 0)
                  + (self->count? 1: 0)
                  + (self->ids->n? 1: 0)
                  + (self->next [0]? 1: 0)
                  + (self->jobs_n? 1: 0)
                  + (self->has_series? 7: 0)
                  + (self->has_stats? 1: 0)
                  + (self->has_dlq? 1: 0)
                  + (self->has_states? 1: 0);
    S_TRY (msgpack_pack_map (pk, fields));
    S_TRY (s_pack_cstr (pk, "v"));
    S_TRY (msgpack_pack_int (pk, TS_PROTO_VERSION));
    S_TRY (s_pack_cstr (pk, "status"));
    S_TRY (msgpack_pack_int (pk, self->status));
    if (self->error [0]) {
        S_TRY (s_pack_cstr (pk, "error"));
        S_TRY (s_pack_cstr (pk, self->error));
    }
    if (self->detail [0]) {
        S_TRY (s_pack_cstr (pk, "detail"));
        S_TRY (s_pack_cstr (pk, self->detail));
    }
    if (self->count) {
        S_TRY (s_pack_cstr (pk, "count"));
        S_TRY (msgpack_pack_uint64 (pk, self->count));
    }
    if (self->ids->n) {
        S_TRY (s_pack_cstr (pk, "ids"));
        S_TRY (s_pack_ids (pk, self->ids));
    }
    if (self->next [0]) {
        S_TRY (s_pack_cstr (pk, "next"));
        S_TRY (s_pack_cstr (pk, self->next));
    }
    if (self->jobs_n) {
        S_TRY (s_pack_cstr (pk, "jobs"));
        S_TRY (s_pack_jobs (pk, self));
    }
    if (self->has_series)
        S_TRY (s_encode_series (pk, self));
    if (self->has_stats)
        S_TRY (s_encode_stats (pk, &self->stats));
    if (self->has_dlq)
        S_TRY (s_encode_dlq (pk, self));
    if (self->has_states)
        S_TRY (s_encode_states (pk, self));
    return 0;
nomem:
    return -1;
}

static int
s_encode_request (msgpack_packer *pk, const ts_msg_t *self)
{
    size_t fields = 2;
    switch (self->op) {
        case TS_OP_QUERY:
            fields += 1 + (self->has_from? 1: 0) + (self->has_to? 1: 0)
                        + (self->measure [0]? 1: 0);
            break;
        case TS_OP_IDS_ADD:
        case TS_OP_IDS_RM:
        case TS_OP_HYDRATE:
        case TS_OP_READY:
        case TS_OP_DONE:
            fields += 1;
            break;
        case TS_OP_JOB:
            fields += 2;
            break;
        case TS_OP_FAILED:
            fields += 3 + (self->retry_after_ms? 1: 0);
            break;
        case TS_OP_DLQ_REDRIVE:
            fields += self->ids->n? 1: 0;
            break;
        case TS_OP_IDS_LS:
            fields += (self->after [0]? 1: 0) + (self->limit? 1: 0);
            break;
        case TS_OP_JOB_STATE:
            fields += 1;
            break;
        case TS_OP_HEARTBEAT:
            fields += self->boot? 1: 0;
            break;
        default:
            break;
    }
    S_TRY (msgpack_pack_map (pk, fields));
    S_TRY (s_pack_cstr (pk, "v"));
    S_TRY (msgpack_pack_int (pk, TS_PROTO_VERSION));
    S_TRY (s_pack_cstr (pk, "op"));
    S_TRY (s_pack_cstr (pk, ts_op_name (self->op)));
    switch (self->op) {
        case TS_OP_QUERY:
            S_TRY (s_pack_cstr (pk, "id"));
            S_TRY (s_pack_cstr (pk, self->id));
            if (self->has_from) {
                S_TRY (s_pack_cstr (pk, "from"));
                S_TRY (msgpack_pack_int64 (pk, self->from_ms));
            }
            if (self->has_to) {
                S_TRY (s_pack_cstr (pk, "to"));
                S_TRY (msgpack_pack_int64 (pk, self->to_ms));
            }
            if (self->measure [0]) {
                S_TRY (s_pack_cstr (pk, "measure"));
                S_TRY (s_pack_cstr (pk, self->measure));
            }
            break;
        case TS_OP_IDS_ADD:
        case TS_OP_HYDRATE:
            S_TRY (s_pack_cstr (pk, "ids"));
            S_TRY (s_pack_ids (pk, self->ids));
            break;
        case TS_OP_DLQ_REDRIVE:
            if (self->ids->n) {
                S_TRY (s_pack_cstr (pk, "ids"));
                S_TRY (s_pack_ids (pk, self->ids));
            }
            break;
        case TS_OP_IDS_RM:
            S_TRY (s_pack_cstr (pk, "id"));
            S_TRY (s_pack_cstr (pk, self->id));
            break;
        case TS_OP_IDS_LS:
            if (self->after [0]) {
                S_TRY (s_pack_cstr (pk, "after"));
                S_TRY (s_pack_cstr (pk, self->after));
            }
            if (self->limit) {
                S_TRY (s_pack_cstr (pk, "limit"));
                S_TRY (msgpack_pack_uint32 (pk, self->limit));
            }
            break;
        case TS_OP_JOB_STATE:
            S_TRY (s_pack_cstr (pk, "jobs"));
            S_TRY (s_pack_jobs (pk, self));
            break;
        case TS_OP_READY:
            S_TRY (s_pack_cstr (pk, "credit"));
            S_TRY (msgpack_pack_uint32 (pk, self->credit));
            break;
        case TS_OP_JOB:
            S_TRY (s_pack_cstr (pk, "job"));
            S_TRY (msgpack_pack_uint64 (pk, self->job));
            S_TRY (s_pack_cstr (pk, "ids"));
            S_TRY (s_pack_ids (pk, self->ids));
            break;
        case TS_OP_DONE:
            S_TRY (s_pack_cstr (pk, "job"));
            S_TRY (msgpack_pack_uint64 (pk, self->job));
            break;
        case TS_OP_FAILED:
            S_TRY (s_pack_cstr (pk, "job"));
            S_TRY (msgpack_pack_uint64 (pk, self->job));
            S_TRY (s_pack_cstr (pk, "detail"));
            S_TRY (s_pack_cstr (pk, self->detail));
            S_TRY (s_pack_cstr (pk, "retry"));
            S_TRY (self->retry? msgpack_pack_true (pk)
                              : msgpack_pack_false (pk));
            if (self->retry_after_ms) {
                S_TRY (s_pack_cstr (pk, "retry_after_ms"));
                S_TRY (msgpack_pack_uint64 (pk, self->retry_after_ms));
            }
            break;
        case TS_OP_HEARTBEAT:
            if (self->boot) {
                S_TRY (s_pack_cstr (pk, "boot"));
                S_TRY (msgpack_pack_uint64 (pk, self->boot));
            }
            break;
        default:
            break;
    }
    return 0;
nomem:
    return -1;
}

int
ts_msg_encode (const ts_msg_t *self, char **data, size_t *size)
{
    assert (self);
    assert (data && size);
    assert ((int) self->op >= 0 && self->op < TS_OP_COUNT_);
    *data = NULL;
    *size = 0;

    //  Size the buffer once for a query reply (about 19 bytes a point)
    //  instead of letting it double its way up to many megabytes.
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    if (self->has_series) {
        size_t points = self->series.history->n + self->series.forecast->n;
        size_t estimate = 256 + 20 * points;
        sbuf.data = malloc (estimate);
        if (!sbuf.data)
            return TS_ENOMEM;
        sbuf.alloc = estimate;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = self->op == TS_OP_REPLY? s_encode_reply (&pk, self)
                                    : s_encode_request (&pk, self);
    if (rc != 0) {
        msgpack_sbuffer_destroy (&sbuf);
        return TS_ENOMEM;
    }
    *size = sbuf.size;
    *data = msgpack_sbuffer_release (&sbuf);
    return 0;
}

//  ---------------------------------------------------------------------
//  Decoding: structural pre-scan

//  Reads a big-endian unsigned integer of width bytes at p.
static uint64_t
s_be (const uint8_t *p, size_t width)
{
    uint64_t value = 0;
    for (size_t i = 0; i < width; i++)
        value = (value << 8) | p [i];
    return value;
}

//  Walks one msgpack object from the start of data without building it.
//  Sets *end to the offset just after it. Returns 0 or TS_EPROTO
//  (truncated, invalid byte, nested too deep).
static int
s_scan (const uint8_t *data, size_t size, size_t *end, char *err)
{
    uint64_t left [S_MAX_DEPTH + 1];    //  items still to read per level
    int depth = 0;
    left [0] = 1;
    size_t pos = 0;
    while (true) {
        while (depth >= 0 && left [depth] == 0)
            depth--;
        if (depth < 0)
            break;
        left [depth]--;
        if (pos >= size)
            goto truncated;
        uint8_t byte = data [pos++];
        size_t width = 0;           //  bytes of the length/count field
        uint64_t skip = 0;          //  payload bytes after it
        uint64_t items = 0;         //  items of a container
        bool container = false;
        if (byte <= 0x7f || byte >= 0xe0 || byte == 0xc0
        ||  byte == 0xc2 || byte == 0xc3)
            ;                       //  fixint, nil, bool
        else
        if (byte <= 0x8f) {
            container = true;
            items = 2 * (uint64_t) (byte & 0x0f);
        }
        else
        if (byte <= 0x9f) {
            container = true;
            items = byte & 0x0f;
        }
        else
        if (byte <= 0xbf)
            skip = byte & 0x1f;
        else
        switch (byte) {
            case 0xc4: case 0xd9: width = 1; break;         //  bin8, str8
            case 0xc5: case 0xda: width = 2; break;
            case 0xc6: case 0xdb: width = 4; break;
            case 0xc7: width = 1; skip = 1; break;          //  ext8 + type
            case 0xc8: width = 2; skip = 1; break;
            case 0xc9: width = 4; skip = 1; break;
            case 0xca: skip = 4; break;                     //  float32
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;          //  (u)int8
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                     //  fixext 1
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: container = true; width = 2; break;  //  array16
            case 0xdd: container = true; width = 4; break;
            case 0xde: container = true; width = 2; break;  //  map16
            case 0xdf: container = true; width = 4; break;
            default:
                ts_errf (err, "invalid msgpack byte 0x%02x at offset %zu",
                         byte, pos - 1);
                return TS_EPROTO;
        }
        if (width) {
            if (width > size - pos)
                goto truncated;
            uint64_t length = s_be (data + pos, width);
            pos += width;
            if (!container)
                skip += length;
            else
                items = (byte == 0xde || byte == 0xdf)? 2 * length: length;
        }
        if (skip > size - pos)
            goto truncated;
        pos += skip;
        //  The top-level map is level 1; a container at level depth + 1
        //  counts even when empty.
        if (container && depth == S_MAX_DEPTH) {
            ts_errf (err, "message nested deeper than %d levels",
                     S_MAX_DEPTH);
            return TS_EPROTO;
        }
        if (container && items > 0) {
            //  Each item takes at least one byte: a count beyond what is
            //  left can only be a cut message (or garbage).
            if (items > size - pos)
                goto truncated;
            left [++depth] = items;
        }
    }
    *end = pos;
    return 0;

truncated:
    ts_errf (err, "truncated message");
    return TS_EPROTO;
}

//  ---------------------------------------------------------------------
//  Decoding: fields

static const char *
s_type_name (msgpack_object_type type)
{
    switch (type) {
        case MSGPACK_OBJECT_NIL:              return "nil";
        case MSGPACK_OBJECT_BOOLEAN:          return "a boolean";
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return "an integer";
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
        case MSGPACK_OBJECT_FLOAT32:          return "a float";
        case MSGPACK_OBJECT_FLOAT64:          return "a float";
        case MSGPACK_OBJECT_STR:              return "a string";
        case MSGPACK_OBJECT_ARRAY:            return "an array";
        case MSGPACK_OBJECT_MAP:              return "a map";
        case MSGPACK_OBJECT_BIN:              return "binary";
        case MSGPACK_OBJECT_EXT:              return "an extension";
    }
    return "unknown";
}

//  Decoder state: the fields found in the top-level map, and err.
typedef struct {
    const msgpack_object *field [F_COUNT_];
    char *err;
    bool any;                       //  any dialogue's message
    ts_dialogue_t dialogue;         //  else only this one's
} s_decoder_t;

static int
s_type_error (s_decoder_t *dec, const char *name, const char *expected,
              const msgpack_object *obj)
{
    ts_errf (dec->err, "field '%s': expected %s, got %s",
             name, expected, s_type_name (obj->type));
    return TS_EPROTO;
}

//  Returns the field, or NULL. A missing required field sets *rc and err
//  unless an earlier one did (the first missing field is reported).
static const msgpack_object *
s_field (s_decoder_t *dec, s_field_t field, bool required, int *rc)
{
    const msgpack_object *obj = dec->field [field];
    if (!obj && required && *rc == 0) {
        ts_errf (dec->err, "missing field '%s'", s_field_names [field]);
        *rc = TS_EPROTO;
    }
    return obj;
}

static int
s_get_int64 (s_decoder_t *dec, const char *name, const msgpack_object *obj,
             int64_t *value)
{
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = obj->via.i64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX) {
            ts_errf (dec->err, "field '%s': integer out of range", name);
            return TS_EPROTO;
        }
        *value = (int64_t) obj->via.u64;
        return 0;
    }
    return s_type_error (dec, name, "an integer", obj);
}

static int
s_get_uint64 (s_decoder_t *dec, const char *name, const msgpack_object *obj,
              uint64_t *value)
{
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *value = obj->via.u64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        ts_errf (dec->err, "field '%s': expected a non-negative integer",
                 name);
        return TS_EPROTO;
    }
    return s_type_error (dec, name, "a non-negative integer", obj);
}

//  A name (id or measure): a string that passes ts_name_existing. The
//  stricter ts_name_valid (no leading '-') is the server's to apply where
//  a name is created: the codec also carries ids stored before that rule.
static int
s_check_name (s_decoder_t *dec, const char *name, const msgpack_object *obj)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return s_type_error (dec, name, "a string", obj);
    if (!ts_name_existing_n (obj->via.str.ptr, obj->via.str.size)) {
        ts_errf (dec->err, "field '%s': not a valid name (use "
                 TS_NAME_RULE ")", name);
        return TS_EPROTO;
    }
    return 0;
}

static int
s_get_name (s_decoder_t *dec, const char *name, const msgpack_object *obj,
            char *dest)
{
    int rc = s_check_name (dec, name, obj);
    if (rc == 0) {
        memcpy (dest, obj->via.str.ptr, obj->via.str.size);
        dest [obj->via.str.size] = 0;
    }
    return rc;
}

//  Copies a free-text string. If truncate is false, a string that does
//  not fit is an error; else it is cut.
static int
s_get_text (s_decoder_t *dec, const char *name, const msgpack_object *obj,
            char *dest, size_t size, bool truncate)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return s_type_error (dec, name, "a string", obj);
    size_t len = obj->via.str.size;
    if (len >= size) {
        if (!truncate) {
            ts_errf (dec->err, "field '%s': longer than %zu bytes",
                     name, size - 1);
            return TS_EPROTO;
        }
        len = size - 1;
    }
    memcpy (dest, obj->via.str.ptr, len);
    dest [len] = 0;
    return 0;
}

//  A list of ids under name ("ids", "dlq[2].ids"), min..TS_PROTO_MAX_IDS
//  items, each a valid name.
static int
s_get_ids (s_decoder_t *dec, const char *name, const msgpack_object *obj,
           size_t min, ts_strlist_t *ids)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return s_type_error (dec, name, "an array", obj);
    const msgpack_object_array *array = &obj->via.array;
    if (array->size > TS_PROTO_MAX_IDS) {
        ts_errf (dec->err, "field '%s': %u ids, over the limit of %d",
                 name, (unsigned) array->size, TS_PROTO_MAX_IDS);
        return TS_ETOOBIG;
    }
    if (array->size < min) {
        ts_errf (dec->err, "field '%s': expected at least %zu id",
                 name, min);
        return TS_EPROTO;
    }
    for (uint32_t i = 0; i < array->size; i++) {
        const msgpack_object *item = &array->ptr [i];
        if (item->type != MSGPACK_OBJECT_STR) {
            ts_errf (dec->err, "field '%s': item %u: expected a string, "
                     "got %s", name, (unsigned) i,
                     s_type_name (item->type));
            return TS_EPROTO;
        }
        if (!ts_name_existing_n (item->via.str.ptr, item->via.str.size)) {
            ts_errf (dec->err, "field '%s': item %u: not a valid name "
                     "(use " TS_NAME_RULE ")", name, (unsigned) i);
            return TS_EPROTO;
        }
        if (ts_strlist_append_n (ids, item->via.str.ptr, item->via.str.size))
            return TS_ENOMEM;
    }
    return 0;
}

//  Finds key in a map; NULL if absent.
static const msgpack_object *
s_map_get (const msgpack_object *map, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len
        &&  memcmp (k->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}

//  One of "history" / "forecast": checks shape and counts its points.
static int
s_check_points (s_decoder_t *dec, const char *name, const msgpack_object *obj,
                const msgpack_object_array *col [3])
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_type_error (dec, name, "a map", obj);
    static const char *keys [3] = { "t", "m", "v" };
    for (int i = 0; i < 3; i++) {
        const msgpack_object *array = s_map_get (obj, keys [i]);
        if (!array) {
            ts_errf (dec->err, "missing field '%s.%s'", name, keys [i]);
            return TS_EPROTO;
        }
        if (array->type != MSGPACK_OBJECT_ARRAY) {
            ts_errf (dec->err, "field '%s.%s': expected an array, got %s",
                     name, keys [i], s_type_name (array->type));
            return TS_EPROTO;
        }
        col [i] = &array->via.array;
    }
    if (col [0]->size != col [1]->size || col [0]->size != col [2]->size) {
        ts_errf (dec->err, "field '%s': 't', 'm' and 'v' have different "
                 "lengths (%u, %u, %u)", name, (unsigned) col [0]->size,
                 (unsigned) col [1]->size, (unsigned) col [2]->size);
        return TS_EPROTO;
    }
    return 0;
}

static int
s_get_points (s_decoder_t *dec, const char *name,
              const msgpack_object_array *col [3],
              const msgpack_object_array *measures, ts_points_t *points)
{
    uint32_t n = col [0]->size;
    ts_points_clear (points);
    if (ts_points_reserve (points, n))
        return TS_ENOMEM;
    //  Wire index -> the list's own index + 1, filled on first use.
    uint32_t map [S_MAX_MEASURES] = { 0 };
    char tname [16], mname [16];
    snprintf (tname, sizeof (tname), "%s.t", name);
    snprintf (mname, sizeof (mname), "%s.m", name);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *t = &col [0]->ptr [i];
        const msgpack_object *m = &col [1]->ptr [i];
        const msgpack_object *v = &col [2]->ptr [i];

        if (s_get_int64 (dec, tname, t, &points->time_ms [i]))
            return TS_EPROTO;

        uint64_t index;
        if (s_get_uint64 (dec, mname, m, &index))
            return TS_EPROTO;
        if (index >= measures->size) {
            ts_errf (dec->err, "field '%s': index %llu out of range "
                     "(%u measures)", mname, (unsigned long long) index,
                     (unsigned) measures->size);
            return TS_EPROTO;
        }
        if (!map [index]) {
            const msgpack_object *measure = &measures->ptr [index];
            uint16_t own;
            int rc = ts_points_measure_index (points, measure->via.str.ptr,
                                              measure->via.str.size, &own);
            if (rc)
                return rc;
            map [index] = (uint32_t) own + 1;
        }
        points->measure [i] = (uint16_t) (map [index] - 1);
        double *value = &points->value [i];

        switch (v->type) {
            case MSGPACK_OBJECT_FLOAT32:
            case MSGPACK_OBJECT_FLOAT64:
                *value = v->via.f64;
                break;
            case MSGPACK_OBJECT_POSITIVE_INTEGER:
                *value = (double) v->via.u64;
                break;
            case MSGPACK_OBJECT_NEGATIVE_INTEGER:
                *value = (double) v->via.i64;
                break;
            default:
                ts_errf (dec->err, "field '%s.v': expected a number, got %s",
                         name, s_type_name (v->type));
                return TS_EPROTO;
        }
    }
    points->n = n;
    return 0;
}

//  The query answer part of a reply: id, from, to, baseline, measures,
//  history, forecast (all required once any of them is present).
static int
s_decode_series (s_decoder_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *id = s_field (dec, F_ID, true, &rc);
    const msgpack_object *from = s_field (dec, F_FROM, true, &rc);
    const msgpack_object *to = s_field (dec, F_TO, true, &rc);
    const msgpack_object *baseline = s_field (dec, F_BASELINE, true, &rc);
    const msgpack_object *measures = s_field (dec, F_MEASURES, true, &rc);
    const msgpack_object *history = s_field (dec, F_HISTORY, true, &rc);
    const msgpack_object *forecast = s_field (dec, F_FORECAST, true, &rc);
    if (rc)
        return rc;
    if ((rc = s_get_name (dec, "id", id, self->id))
    ||  (rc = s_get_int64 (dec, "from", from, &self->from_ms))
    ||  (rc = s_get_int64 (dec, "to", to, &self->to_ms)))
        return rc;
    self->has_from = self->has_to = true;
    if (baseline->type != MSGPACK_OBJECT_NIL) {
        if ((rc = s_get_int64 (dec, "baseline", baseline,
                               &self->series.baseline_ms)))
            return rc;
        self->series.has_baseline = true;
    }

    if (measures->type != MSGPACK_OBJECT_ARRAY)
        return s_type_error (dec, "measures", "an array", measures);
    const msgpack_object_array *table = &measures->via.array;
    if (table->size > S_MAX_MEASURES) {
        ts_errf (dec->err, "field 'measures': %u measures, over the limit "
                 "of %d", (unsigned) table->size, S_MAX_MEASURES);
        return TS_ETOOBIG;
    }
    for (uint32_t i = 0; i < table->size; i++) {
        const msgpack_object *name = &table->ptr [i];
        if (name->type != MSGPACK_OBJECT_STR
        ||  !ts_name_existing_n (name->via.str.ptr, name->via.str.size)) {
            ts_errf (dec->err, "field 'measures': item %u: not a valid "
                     "name (use " TS_NAME_RULE ")", (unsigned) i);
            return TS_EPROTO;
        }
        for (uint32_t j = 0; j < i; j++)
            if (table->ptr [j].via.str.size == name->via.str.size
            &&  memcmp (table->ptr [j].via.str.ptr, name->via.str.ptr,
                        name->via.str.size) == 0) {
                ts_errf (dec->err, "field 'measures': item %u repeats "
                         "item %u", (unsigned) i, (unsigned) j);
                return TS_EPROTO;
            }
    }

    const msgpack_object_array *hcol [3], *fcol [3];
    if ((rc = s_check_points (dec, "history", history, hcol))
    ||  (rc = s_check_points (dec, "forecast", forecast, fcol)))
        return rc;
    uint64_t total = (uint64_t) hcol [0]->size + fcol [0]->size;
    if (total > TS_PROTO_MAX_POINTS) {
        ts_errf (dec->err, "reply holds %llu points, over the limit of %d",
                 (unsigned long long) total, TS_PROTO_MAX_POINTS);
        return TS_ETOOBIG;
    }
    if ((rc = s_get_points (dec, "history", hcol, table,
                            self->series.history))
    ||  (rc = s_get_points (dec, "forecast", fcol, table,
                            self->series.forecast)))
        return rc;
    self->has_series = true;
    return 0;
}

static int
s_get_uint32 (s_decoder_t *dec, const char *name, const msgpack_object *obj,
              uint32_t *value)
{
    uint64_t wide;
    int rc = s_get_uint64 (dec, name, obj, &wide);
    if (rc == 0 && wide > UINT32_MAX) {
        ts_errf (dec->err, "field '%s': %llu is over %lu", name,
                 (unsigned long long) wide, (unsigned long) UINT32_MAX);
        rc = TS_EPROTO;
    }
    if (rc == 0)
        *value = (uint32_t) wide;
    return rc;
}

//  A nested map (name for errors) whose n keys are all required: fills
//  vals in the order of keys. Unknown keys are ignored; a key given twice
//  is an error.
static int
s_get_record (s_decoder_t *dec, const char *name, const msgpack_object *obj,
              const char *const *keys, size_t n, const msgpack_object **vals)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_type_error (dec, name, "a map", obj);
    for (size_t k = 0; k < n; k++)
        vals [k] = NULL;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *key = &obj->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        for (size_t k = 0; k < n; k++)
            if (strlen (keys [k]) == key->via.str.size
            &&  memcmp (keys [k], key->via.str.ptr, key->via.str.size) == 0) {
                if (vals [k]) {
                    ts_errf (dec->err, "field '%s': duplicate key '%s'",
                             name, keys [k]);
                    return TS_EPROTO;
                }
                vals [k] = &obj->via.map.ptr [i].val;
                break;
            }
    }
    for (size_t k = 0; k < n; k++)
        if (!vals [k]) {
            ts_errf (dec->err, "missing field '%s.%s'", name, keys [k]);
            return TS_EPROTO;
        }
    return 0;
}

//  An array under name of at most max items: sets *array, or fails.
static int
s_get_array (s_decoder_t *dec, const char *name, const msgpack_object *obj,
             uint32_t max, const msgpack_object_array **array)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return s_type_error (dec, name, "an array", obj);
    if (obj->via.array.size > max) {
        ts_errf (dec->err, "field '%s': %u items, over the limit of %u",
                 name, (unsigned) obj->via.array.size, (unsigned) max);
        return TS_ETOOBIG;
    }
    *array = &obj->via.array;
    return 0;
}

static int
s_decode_worker (s_decoder_t *dec, uint32_t index, const msgpack_object *obj,
                 ts_worker_stat_t *worker)
{
    static const char *const keys [] = { "name", "credit", "leased" };
    const msgpack_object *val [3];
    char name [64], field [80];
    snprintf (name, sizeof (name), "stats.workers[%u]", (unsigned) index);
    int rc = s_get_record (dec, name, obj, keys, 3, val);
    if (rc)
        return rc;
    const msgpack_object *wname = val [0];
    if (wname->type != MSGPACK_OBJECT_STR
    ||  wname->via.str.size >= sizeof (worker->name)
    ||  !ts_name_existing_n (wname->via.str.ptr, wname->via.str.size)) {
        ts_errf (dec->err, "field '%s.name': not a valid name (1 to %zu "
                 "characters of [A-Za-z0-9._:-])", name,
                 sizeof (worker->name) - 1);
        return TS_EPROTO;
    }
    memcpy (worker->name, wname->via.str.ptr, wname->via.str.size);
    worker->name [wname->via.str.size] = 0;
    snprintf (field, sizeof (field), "%s.credit", name);
    if ((rc = s_get_uint32 (dec, field, val [1], &worker->credit)))
        return rc;
    snprintf (field, sizeof (field), "%s.leased", name);
    return s_get_uint32 (dec, field, val [2], &worker->leased);
}

//  "stats": every counter and "workers" are required.
static int
s_decode_stats (s_decoder_t *dec, const msgpack_object *obj, ts_msg_t *self)
{
    static const char *const keys [] = {
        "queued", "delayed", "leased", "dlq", "done", "failed", "retried",
        "dead_lettered", "oldest_age_ms", "workers"
    };
    ts_stats_t *stats = &self->stats;
    uint64_t *counters [] = {
        &stats->queued, &stats->delayed, &stats->leased, &stats->dlq,
        &stats->done, &stats->failed, &stats->retried, &stats->dead_lettered
    };
    const msgpack_object *val [10];
    int rc = s_get_record (dec, "stats", obj, keys, 10, val);
    if (rc)
        return rc;
    char field [64];
    for (int i = 0; i < 8; i++) {
        snprintf (field, sizeof (field), "stats.%s", keys [i]);
        if ((rc = s_get_uint64 (dec, field, val [i], counters [i])))
            return rc;
    }
    if ((rc = s_get_int64 (dec, "stats.oldest_age_ms", val [8],
                           &stats->oldest_age_ms)))
        return rc;
    const msgpack_object_array *array = NULL;
    if ((rc = s_get_array (dec, "stats.workers", val [9],
                           TS_PROTO_MAX_WORKERS, &array)))
        return rc;
    stats->workers = calloc (s_capacity (array->size),
                             sizeof (ts_worker_stat_t));
    if (!stats->workers)
        return TS_ENOMEM;
    for (uint32_t i = 0; i < array->size; i++) {
        if ((rc = s_decode_worker (dec, i, &array->ptr [i],
                                   &stats->workers [i])))
            return rc;
        stats->workers_n = i + 1;
    }
    self->has_stats = true;
    return 0;
}

static int
s_decode_dlq_entry (s_decoder_t *dec, uint32_t index,
                    const msgpack_object *obj, ts_dlq_entry_t *entry)
{
    static const char *const keys [] = {
        "job", "ids", "receives", "dead_at", "error"
    };
    const msgpack_object *val [5];
    char name [32], field [48];
    snprintf (name, sizeof (name), "dlq[%u]", (unsigned) index);
    int rc = s_get_record (dec, name, obj, keys, 5, val);
    if (rc)
        return rc;
    snprintf (field, sizeof (field), "%s.job", name);
    if ((rc = s_get_uint64 (dec, field, val [0], &entry->job)))
        return rc;
    entry->ids = ts_strlist_new ();
    if (!entry->ids)
        return TS_ENOMEM;
    snprintf (field, sizeof (field), "%s.ids", name);
    if ((rc = s_get_ids (dec, field, val [1], 1, entry->ids)))
        return rc;
    snprintf (field, sizeof (field), "%s.receives", name);
    if ((rc = s_get_uint32 (dec, field, val [2], &entry->receives)))
        return rc;
    snprintf (field, sizeof (field), "%s.dead_at", name);
    if ((rc = s_get_int64 (dec, field, val [3], &entry->dead_at_ms)))
        return rc;
    snprintf (field, sizeof (field), "%s.error", name);
    return s_get_text (dec, field, val [4], entry->error,
                       sizeof (entry->error), true);
}

//  "dlq": an array of entries, each with every field.
static int
s_decode_dlq (s_decoder_t *dec, const msgpack_object *obj, ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = s_get_array (dec, "dlq", obj, TS_PROTO_MAX_DLQ, &array);
    if (rc)
        return rc;
    self->dlq = calloc (s_capacity (array->size), sizeof (ts_dlq_entry_t));
    if (!self->dlq)
        return TS_ENOMEM;
    for (uint32_t i = 0; i < array->size; i++) {
        //  Counted before it is filled, so a failure frees its ids
        self->dlq_n = i + 1;
        if ((rc = s_decode_dlq_entry (dec, i, &array->ptr [i],
                                      &self->dlq [i])))
            return rc;
    }
    self->has_dlq = true;
    return 0;
}

//  A list of job ids under name: min..TS_PROTO_MAX_JOBS uints.
static int
s_get_jobs (s_decoder_t *dec, const char *name, const msgpack_object *obj,
            size_t min, ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = s_get_array (dec, name, obj, TS_PROTO_MAX_JOBS, &array);
    if (rc)
        return rc;
    if (array->size < min) {
        ts_errf (dec->err, "field '%s': expected at least %zu job id",
                 name, min);
        return TS_EPROTO;
    }
    self->jobs = malloc (s_capacity (array->size) * sizeof (uint64_t));
    if (!self->jobs)
        return TS_ENOMEM;
    char field [48];
    for (uint32_t i = 0; i < array->size; i++) {
        snprintf (field, sizeof (field), "%s[%u]", name, (unsigned) i);
        if ((rc = s_get_uint64 (dec, field, &array->ptr [i],
                                &self->jobs [i])))
            return rc;
        self->jobs_n = i + 1;
    }
    return 0;
}

static int
s_decode_state (s_decoder_t *dec, uint32_t index, const msgpack_object *obj,
                ts_job_info_t *info)
{
    static const char *const keys [] = {
        "job", "state", "receives", "error"
    };
    const msgpack_object *val [4];
    char name [32], field [48];
    snprintf (name, sizeof (name), "states[%u]", (unsigned) index);
    int rc = s_get_record (dec, name, obj, keys, 4, val);
    if (rc)
        return rc;
    snprintf (field, sizeof (field), "%s.job", name);
    if ((rc = s_get_uint64 (dec, field, val [0], &info->job)))
        return rc;
    snprintf (field, sizeof (field), "%s.state", name);
    char state [16];
    if ((rc = s_get_text (dec, field, val [1], state, sizeof (state),
                          true)))
        return rc;
    int found = -1;
    for (int i = 0; i < TS_JOB_STATUS_COUNT_; i++)
        if (strcmp (state, s_status_names [i]) == 0)
            found = i;
    if (found < 0) {
        ts_errf (dec->err, "field '%s': unknown state", field);
        return TS_EPROTO;
    }
    info->status = (ts_job_status_t) found;
    snprintf (field, sizeof (field), "%s.receives", name);
    if ((rc = s_get_uint32 (dec, field, val [2], &info->receives)))
        return rc;
    snprintf (field, sizeof (field), "%s.error", name);
    return s_get_text (dec, field, val [3], info->error,
                       sizeof (info->error), true);
}

//  "states": an array of job states, each with every field.
static int
s_decode_states (s_decoder_t *dec, const msgpack_object *obj, ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = s_get_array (dec, "states", obj, TS_PROTO_MAX_JOBS, &array);
    if (rc)
        return rc;
    self->states = calloc (s_capacity (array->size), sizeof (ts_job_info_t));
    if (!self->states)
        return TS_ENOMEM;
    for (uint32_t i = 0; i < array->size; i++) {
        if ((rc = s_decode_state (dec, i, &array->ptr [i],
                                  &self->states [i])))
            return rc;
        self->states_n = i + 1;
    }
    self->has_states = true;
    return 0;
}

static int
s_decode_reply (s_decoder_t *dec, ts_msg_t *self)
{
    int rc;
    int64_t status;
    if ((rc = s_get_int64 (dec, "status", dec->field [F_STATUS], &status)))
        return rc;
    if (status < S_MIN_STATUS || status > S_MAX_STATUS) {
        ts_errf (dec->err, "field 'status': %lld is not in %d..%d",
                 (long long) status, S_MIN_STATUS, S_MAX_STATUS);
        return TS_EPROTO;
    }
    self->status = (int) status;
    const msgpack_object *obj;
    if ((obj = dec->field [F_ERROR])
    &&  (rc = s_get_text (dec, "error", obj, self->error,
                          sizeof (self->error), false)))
        return rc;
    if ((obj = dec->field [F_DETAIL])
    &&  (rc = s_get_text (dec, "detail", obj, self->detail,
                          sizeof (self->detail), true)))
        return rc;
    if ((obj = dec->field [F_COUNT])
    &&  (rc = s_get_uint64 (dec, "count", obj, &self->count)))
        return rc;
    if ((obj = dec->field [F_IDS])
    &&  (rc = s_get_ids (dec, "ids", obj, 0, self->ids)))
        return rc;
    if ((obj = dec->field [F_STATS])
    &&  (rc = s_decode_stats (dec, obj, self)))
        return rc;
    if ((obj = dec->field [F_DLQ])
    &&  (rc = s_decode_dlq (dec, obj, self)))
        return rc;
    if ((obj = dec->field [F_NEXT])
    &&  (rc = s_get_name (dec, "next", obj, self->next)))
        return rc;
    if ((obj = dec->field [F_JOBS])
    &&  (rc = s_get_jobs (dec, "jobs", obj, 0, self)))
        return rc;
    if ((obj = dec->field [F_STATES])
    &&  (rc = s_decode_states (dec, obj, self)))
        return rc;
    if (dec->field [F_MEASURES] || dec->field [F_HISTORY]
    ||  dec->field [F_FORECAST] || dec->field [F_BASELINE])
        return s_decode_series (dec, self);
    return 0;
}

bool
ts_dialogue_accepts (ts_dialogue_t dialogue, ts_op_t op)
{
    switch (op) {
        case TS_OP_REPLY:
            return dialogue == TS_DIALOGUE_REPLIES;
        case TS_OP_READY:
        case TS_OP_DONE:
        case TS_OP_FAILED:
            return dialogue == TS_DIALOGUE_WORKER;
        case TS_OP_JOB:
            return dialogue == TS_DIALOGUE_BROKER;
        case TS_OP_HEARTBEAT:
            return dialogue == TS_DIALOGUE_WORKER
                || dialogue == TS_DIALOGUE_BROKER;
        default:
            return dialogue == TS_DIALOGUE_CLIENT && op > TS_OP_REPLY
                && op < TS_OP_COUNT_;
    }
}

//  Refuses a message of another dialogue than the decoder's: what (an
//  op name, or "reply") is named in the detail, as the dialogue calls
//  its messages.
static int
s_refuse (s_decoder_t *dec, const char *what)
{
    static const char *kinds [] = {
        [TS_DIALOGUE_CLIENT] = "a client operation",
        [TS_DIALOGUE_REPLIES] = "a reply",
        [TS_DIALOGUE_WORKER] = "a worker message",
        [TS_DIALOGUE_BROKER] = "a message of the broker to a worker"
    };
    if (strcmp (what, "reply") == 0)
        ts_errf (dec->err, "a reply is not %s", kinds [dec->dialogue]);
    else
        ts_errf (dec->err, "op '%s' is not %s", what, kinds [dec->dialogue]);
    return TS_EDIALOGUE;
}

static int
s_decode_request (s_decoder_t *dec, ts_msg_t *self)
{
    const msgpack_object *op = dec->field [F_OP];
    if (op->type != MSGPACK_OBJECT_STR)
        return s_type_error (dec, "op", "a string", op);
    ts_op_t found = TS_OP_REPLY;
    for (int i = TS_OP_REPLY + 1; i < TS_OP_COUNT_; i++)
        if (strlen (s_op_names [i]) == op->via.str.size
        &&  memcmp (s_op_names [i], op->via.str.ptr, op->via.str.size) == 0)
            found = (ts_op_t) i;
    if (found == TS_OP_REPLY) {
        //  Echo a printable, bounded form of what was sent
        char name [33];
        size_t len = op->via.str.size < 32? op->via.str.size: 32;
        for (size_t i = 0; i < len; i++) {
            char c = op->via.str.ptr [i];
            name [i] = (c >= 0x20 && c < 0x7f && c != '\'')? c: '?';
        }
        name [len] = 0;
        ts_errf (dec->err, "unknown op '%s'", name);
        return TS_EPROTO;
    }
    if (!dec->any && !ts_dialogue_accepts (dec->dialogue, found))
        return s_refuse (dec, s_op_names [found]);
    self->op = found;

    int rc = 0;
    const msgpack_object *obj;
    uint64_t credit;
    switch (found) {
        case TS_OP_QUERY:
            if (!(obj = s_field (dec, F_ID, true, &rc)))
                return rc;
            if ((rc = s_get_name (dec, "id", obj, self->id)))
                return rc;
            if ((obj = dec->field [F_FROM])) {
                if ((rc = s_get_int64 (dec, "from", obj, &self->from_ms)))
                    return rc;
                self->has_from = true;
            }
            if ((obj = dec->field [F_TO])) {
                if ((rc = s_get_int64 (dec, "to", obj, &self->to_ms)))
                    return rc;
                self->has_to = true;
            }
            if ((obj = dec->field [F_MEASURE]))
                rc = s_get_name (dec, "measure", obj, self->measure);
            return rc;
        case TS_OP_IDS_ADD:
        case TS_OP_HYDRATE:
        case TS_OP_JOB:
            if (found == TS_OP_JOB) {
                if (!(obj = s_field (dec, F_JOB, true, &rc)))
                    return rc;
                if ((rc = s_get_uint64 (dec, "job", obj, &self->job)))
                    return rc;
            }
            if (!(obj = s_field (dec, F_IDS, true, &rc)))
                return rc;
            return s_get_ids (dec, "ids", obj, 1, self->ids);
        case TS_OP_IDS_RM:
            if (!(obj = s_field (dec, F_ID, true, &rc)))
                return rc;
            return s_get_name (dec, "id", obj, self->id);
        case TS_OP_READY:
            if (!(obj = s_field (dec, F_CREDIT, true, &rc)))
                return rc;
            if ((rc = s_get_uint64 (dec, "credit", obj, &credit)))
                return rc;
            //  0 introduces a worker without granting credit.
            if (credit > S_MAX_CREDIT) {
                ts_errf (dec->err, "field 'credit': %llu is not in 0..%d",
                         (unsigned long long) credit, S_MAX_CREDIT);
                return TS_EPROTO;
            }
            self->credit = (uint32_t) credit;
            return 0;
        case TS_OP_DONE:
        case TS_OP_FAILED:
            if (!(obj = s_field (dec, F_JOB, true, &rc)))
                return rc;
            if ((rc = s_get_uint64 (dec, "job", obj, &self->job)))
                return rc;
            if (found == TS_OP_DONE)
                return 0;
            //  Optional: the broker fills in a detail of its own.
            if ((obj = dec->field [F_DETAIL])
            &&  (rc = s_get_text (dec, "detail", obj, self->detail,
                                  sizeof (self->detail), true)))
                return rc;
            if ((obj = dec->field [F_RETRY])) {
                if (obj->type != MSGPACK_OBJECT_BOOLEAN)
                    return s_type_error (dec, "retry", "a boolean", obj);
                self->retry = obj->via.boolean;
            }
            if ((obj = dec->field [F_RETRY_AFTER])) {
                if ((rc = s_get_uint64 (dec, "retry_after_ms", obj,
                                        &self->retry_after_ms)))
                    return rc;
                if (self->retry_after_ms
                    > (uint64_t) TS_PROTO_MAX_RETRY_AFTER_MS) {
                    ts_errf (dec->err, "field 'retry_after_ms': %llu is "
                             "over %lld (one year)",
                             (unsigned long long) self->retry_after_ms,
                             (long long) TS_PROTO_MAX_RETRY_AFTER_MS);
                    return TS_EPROTO;
                }
            }
            return 0;
        case TS_OP_DLQ_REDRIVE:
            if ((obj = dec->field [F_IDS]))
                return s_get_ids (dec, "ids", obj, 0, self->ids);
            return 0;
        case TS_OP_HEARTBEAT:
            //  Optional: which broker process sent it (section 8.2).
            if ((obj = dec->field [F_BOOT]))
                return s_get_uint64 (dec, "boot", obj, &self->boot);
            return 0;
        case TS_OP_IDS_LS:
            if ((obj = dec->field [F_AFTER])
            &&  (rc = s_get_name (dec, "after", obj, self->after)))
                return rc;
            if ((obj = dec->field [F_LIMIT])) {
                if ((rc = s_get_uint32 (dec, "limit", obj, &self->limit)))
                    return rc;
                if (self->limit < 1 || self->limit > TS_PROTO_IDS_PAGE) {
                    ts_errf (dec->err, "field 'limit': %u is not in 1..%d",
                             (unsigned) self->limit, TS_PROTO_IDS_PAGE);
                    return TS_EPROTO;
                }
            }
            return 0;
        case TS_OP_JOB_STATE:
            if (!(obj = s_field (dec, F_JOBS, true, &rc)))
                return rc;
            return s_get_jobs (dec, "jobs", obj, 1, self);
        default:
            return 0;           //  ping, heartbeat, stats, dlq_ls,
                                //  dlq_purge: no fields
    }
}

static int
s_decode_map (s_decoder_t *dec, const msgpack_object *root, ts_msg_t *self)
{
    if (root->type != MSGPACK_OBJECT_MAP) {
        ts_errf (dec->err, "message is not a map (got %s)",
                 s_type_name (root->type));
        return TS_EPROTO;
    }
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        for (int f = 0; f < F_COUNT_; f++)
            if (strlen (s_field_names [f]) == key->via.str.size
            &&  memcmp (s_field_names [f], key->via.str.ptr,
                        key->via.str.size) == 0) {
                if (dec->field [f]) {
                    ts_errf (dec->err, "duplicate key '%s'",
                             s_field_names [f]);
                    return TS_EPROTO;
                }
                dec->field [f] = &root->via.map.ptr [i].val;
                break;
            }
    }
    int rc = 0;
    const msgpack_object *version = s_field (dec, F_V, true, &rc);
    if (!version)
        return rc;
    int64_t v;
    if ((rc = s_get_int64 (dec, "v", version, &v)))
        return rc;
    if (v != TS_PROTO_VERSION) {
        ts_errf (dec->err, "unsupported protocol version %lld (this side "
                 "speaks %d)", (long long) v, TS_PROTO_VERSION);
        return TS_EPROTO;
    }
    if (dec->field [F_OP] && dec->field [F_STATUS]) {
        ts_errf (dec->err, "message has both 'op' and 'status'");
        return TS_EPROTO;
    }
    if (dec->field [F_OP])
        return s_decode_request (dec, self);
    if (dec->field [F_STATUS] && !dec->any
    &&  dec->dialogue != TS_DIALOGUE_REPLIES)
        return s_refuse (dec, "reply");
    if (dec->field [F_STATUS])
        return s_decode_reply (dec, self);
    ts_errf (dec->err, "message has neither 'op' nor 'status'");
    return TS_EPROTO;
}

//  Decodes a message of dialogue, or of any if any.
static int
s_decode (ts_msg_t *self, bool any, ts_dialogue_t dialogue, const void *data,
          size_t size, size_t max_size, char *err)
{
    assert (self);
    ts_msg_reset (self, TS_OP_REPLY);
    if (size > max_size) {
        ts_errf (err, "message of %zu bytes, over the limit of %zu bytes",
                 size, max_size);
        return TS_ETOOBIG;
    }
    if (size == 0 || !data) {
        ts_errf (err, "empty message");
        return TS_EPROTO;
    }
    size_t end = 0;
    int rc = s_scan ((const uint8_t *) data, size, &end, err);
    if (rc)
        return rc;
    if (end < size) {
        ts_errf (err, "%zu trailing bytes after the message", size - end);
        return TS_EPROTO;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack_next (&unpacked, data, size,
                                                     &offset);
    if (ret == MSGPACK_UNPACK_SUCCESS && offset == size) {
        s_decoder_t dec;
        memset (&dec, 0, sizeof (dec));
        dec.err = err;
        dec.any = any;
        dec.dialogue = dialogue;
        rc = s_decode_map (&dec, &unpacked.data, self);
    }
    else
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
        ts_errf (err, "out of memory decoding the message");
        rc = TS_ENOMEM;
    }
    else {
        ts_errf (err, "malformed msgpack");
        rc = TS_EPROTO;
    }
    msgpack_unpacked_destroy (&unpacked);
    if (rc)
        ts_msg_reset (self, TS_OP_REPLY);
    return rc;
}

int
ts_msg_decode (ts_msg_t *self, const void *data, size_t size,
               size_t max_size, char *err)
{
    return s_decode (self, true, TS_DIALOGUE_CLIENT, data, size, max_size,
                     err);
}

int
ts_msg_decode_in (ts_msg_t *self, ts_dialogue_t dialogue, const void *data,
                  size_t size, size_t max_size, char *err)
{
    return s_decode (self, false, dialogue, data, size, max_size, err);
}
