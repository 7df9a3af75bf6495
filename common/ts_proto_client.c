/*  ts_proto_client - the client dialogue of the wire codec: the requests
    of clients to a gateway or the broker's control socket (ping, query,
    ids_add, ids_rm, ids_ls, hydrate, stats, dlq_ls, dlq_redrive,
    dlq_purge, job_state) and every reply, with the stats, dead-letter
    entries and job states replies carry (a query reply's points are
    ts_proto_points'). See ts_proto_codec.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_proto_codec.h"
#include "ts_query.h"


//  Writes "staleness": {at, registered, never, max_age_ms, le_ms, counts}.
static int
s_encode_staleness (msgpack_packer *pk, const ts_staleness_t *st)
{
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "staleness"));
    TS_PROTO_TRY (msgpack_pack_map (pk, 6));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "at"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, st->at_ms));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "registered", st->registered));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "never", st->never));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "max_age_ms"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, st->max_age_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "le_ms"));
    TS_PROTO_TRY (msgpack_pack_array (pk, st->n));
    for (size_t i = 0; i < st->n; i++)
        TS_PROTO_TRY (msgpack_pack_int64 (pk, st->le_ms [i]));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "counts"));
    TS_PROTO_TRY (msgpack_pack_array (pk, st->n));
    for (size_t i = 0; i < st->n; i++)
        TS_PROTO_TRY (msgpack_pack_uint64 (pk, st->counts [i]));
    return 0;
nomem:
    return -1;
}

//  Writes "stats": {counters..., "workers": [{name, credit, leased}]}.
static int
s_encode_stats (msgpack_packer *pk, const ts_stats_t *stats)
{
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "stats"));
    TS_PROTO_TRY (msgpack_pack_map (pk, stats->has_staleness? 11: 10));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "queued", stats->queued));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "delayed", stats->delayed));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "leased", stats->leased));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "dlq", stats->dlq));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "done", stats->done));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "failed", stats->failed));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "retried", stats->retried));
    TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "dead_lettered",
                                            stats->dead_lettered));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "oldest_age_ms"));
    TS_PROTO_TRY (msgpack_pack_int64 (pk, stats->oldest_age_ms));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "workers"));
    TS_PROTO_TRY (msgpack_pack_array (pk, stats->workers_n));
    for (size_t i = 0; i < stats->workers_n; i++) {
        const ts_worker_stat_t *worker = &stats->workers [i];
        TS_PROTO_TRY (msgpack_pack_map (pk, 3));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "name"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, worker->name));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "credit", worker->credit));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "leased", worker->leased));
    }
    if (stats->has_staleness)
        TS_PROTO_TRY (s_encode_staleness (pk, &stats->staleness));
    return 0;
nomem:
    return -1;
}

//  Writes "states": [{job, state, receives, error}...].
static int
s_encode_states (msgpack_packer *pk, const ts_msg_t *self)
{
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "states"));
    TS_PROTO_TRY (msgpack_pack_array (pk, self->states_n));
    for (size_t i = 0; i < self->states_n; i++) {
        const ts_job_info_t *info = &self->states [i];
        TS_PROTO_TRY (msgpack_pack_map (pk, 4));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "job", info->job));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "state"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk,
                                          ts_job_status_name (info->status)));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "receives",
                                                info->receives));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "error"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, info->error));
    }
    return 0;
nomem:
    return -1;
}

//  Writes "dlq": [{job, ids, receives, dead_at, error}...].
static int
s_encode_dlq (msgpack_packer *pk, const ts_msg_t *self)
{
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "dlq"));
    TS_PROTO_TRY (msgpack_pack_array (pk, self->dlq_n));
    for (size_t i = 0; i < self->dlq_n; i++) {
        const ts_dlq_entry_t *entry = &self->dlq [i];
        TS_PROTO_TRY (msgpack_pack_map (pk, 5));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "job", entry->job));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
        TS_PROTO_TRY (ts_proto_pack_ids (pk, entry->ids));
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "receives",
                                                entry->receives));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "dead_at"));
        TS_PROTO_TRY (msgpack_pack_int64 (pk, entry->dead_at_ms));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "error"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, entry->error));
    }
    return 0;
nomem:
    return -1;
}

int
ts_proto_encode_reply (msgpack_packer *pk, const ts_msg_t *self,
                       ts_enc_t enc)
{
    size_t fields = 2
                  + (self->error [0]? 1: 0)
                  + (self->detail [0]? 1: 0)
                  + (self->count? 1: 0)
                  + (self->ids->n? 1: 0) + (self->sources->n? 1: 0)
                  + (self->next [0]? 1: 0)
                  + (self->jobs_n? 1: 0)
                  + (self->has_series? ts_proto_series_fields (enc): 0)
                  + (self->has_series && self->step_ms? 3: 0)
                  + (self->has_stats? 1: 0)
                  + (self->has_dlq? 1: 0)
                  + (self->has_states? 1: 0)
                  + (self->has_fresh? ts_proto_fresh_fields (self): 0)
                  + ts_proto_ids_fields (self)
                  + (self->rid [0]? 1: 0)
                  + (self->retry_after_ms? 1: 0);
    TS_PROTO_TRY (msgpack_pack_map (pk, fields));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "v"));
    TS_PROTO_TRY (msgpack_pack_int (pk, TS_PROTO_VERSION));
    TS_PROTO_TRY (ts_proto_pack_cstr (pk, "status"));
    TS_PROTO_TRY (msgpack_pack_int (pk, self->status));
    TS_PROTO_TRY (ts_proto_pack_rid (pk, self));
    if (self->error [0]) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "error"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->error));
    }
    if (self->detail [0]) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "detail"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->detail));
    }
    if (self->count) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "count"));
        TS_PROTO_TRY (msgpack_pack_uint64 (pk, self->count));
    }
    if (self->ids->n) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
        TS_PROTO_TRY (ts_proto_pack_ids (pk, self->ids));
    }
    if (self->sources->n) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "sources"));
        TS_PROTO_TRY (ts_proto_pack_ids (pk, self->sources));
    }
    if (self->next [0]) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "next"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->next));
    }
    if (self->jobs_n) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "jobs"));
        TS_PROTO_TRY (ts_proto_pack_jobs (pk, self));
    }
    if (self->has_series)
        TS_PROTO_TRY (ts_proto_encode_series (pk, self, enc));
    if (self->has_series && self->step_ms) {
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "step_ms"));
        TS_PROTO_TRY (msgpack_pack_int64 (pk, self->step_ms));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "agg"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, ts_agg_name (self->agg)));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, "fill"));
        TS_PROTO_TRY (ts_proto_pack_cstr (pk, ts_fill_name (self->fill)));
    }
    if (self->retry_after_ms)
        TS_PROTO_TRY (ts_proto_pack_uint_field (pk, "retry_after_ms",
                                                self->retry_after_ms));
    if (self->has_stats)
        TS_PROTO_TRY (s_encode_stats (pk, &self->stats));
    if (self->has_dlq)
        TS_PROTO_TRY (s_encode_dlq (pk, self));
    if (self->has_states)
        TS_PROTO_TRY (s_encode_states (pk, self));
    TS_PROTO_TRY (ts_proto_encode_ids (pk, self));
    //  Last: "age" ends the reply (ts_msg_patch_age).
    if (self->has_fresh)
        TS_PROTO_TRY (ts_proto_encode_fresh (pk, self));
    return 0;
nomem:
    return -1;
}

static int
s_decode_worker (ts_proto_dec_t *dec, uint32_t index,
                 const msgpack_object *obj, ts_worker_stat_t *worker)
{
    static const char *const keys [] = { "name", "credit", "leased" };
    const msgpack_object *val [3];
    char name [64], field [80];
    snprintf (name, sizeof (name), "stats.workers[%u]", (unsigned) index);
    int rc = ts_proto_get_record (dec, name, obj, keys, 3, val);
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
    if ((rc = ts_proto_get_uint32 (dec, field, val [1], &worker->credit)))
        return rc;
    snprintf (field, sizeof (field), "%s.leased", name);
    return ts_proto_get_uint32 (dec, field, val [2], &worker->leased);
}

//  "staleness" (optional in stats): every key required; le_ms ascending
//  and positive, counts as many, never going down, at most the fetched
//  ids (registered - never).
static int
s_decode_staleness (ts_proto_dec_t *dec, const msgpack_object *obj,
                    ts_staleness_t *st)
{
    static const char *const keys [] = {
        "at", "registered", "never", "max_age_ms", "le_ms", "counts"
    };
    const msgpack_object *val [6];
    int rc = ts_proto_get_record (dec, "stats.staleness", obj, keys, 6, val);
    if (rc == 0)
        rc = ts_proto_get_int64 (dec, "stats.staleness.at", val [0],
                                 &st->at_ms);
    if (rc == 0)
        rc = ts_proto_get_uint64 (dec, "stats.staleness.registered",
                                  val [1], &st->registered);
    if (rc == 0)
        rc = ts_proto_get_uint64 (dec, "stats.staleness.never", val [2],
                                  &st->never);
    if (rc == 0)
        rc = ts_proto_get_int64 (dec, "stats.staleness.max_age_ms", val [3],
                                 &st->max_age_ms);
    const msgpack_object_array *le = NULL, *counts = NULL;
    if (rc == 0)
        rc = ts_proto_get_array (dec, "stats.staleness.le_ms", val [4],
                                 TS_PROTO_MAX_BOUNDS, &le);
    if (rc == 0)
        rc = ts_proto_get_array (dec, "stats.staleness.counts", val [5],
                                 TS_PROTO_MAX_BOUNDS, &counts);
    if (rc)
        return rc;
    if (le->size == 0 || le->size != counts->size || st->never > st->registered
    ||  st->max_age_ms < 0) {
        ts_errf (dec->err, "field 'stats.staleness': le_ms and counts must "
                 "be 1 to %d items each, as many, never <= registered, "
                 "max_age_ms >= 0", TS_PROTO_MAX_BOUNDS);
        return TS_EPROTO;
    }
    st->n = le->size;
    for (uint32_t i = 0; i < le->size; i++) {
        if ((rc = ts_proto_get_int64 (dec, "stats.staleness.le_ms[]",
                                      &le->ptr [i], &st->le_ms [i]))
        ||  (rc = ts_proto_get_uint64 (dec, "stats.staleness.counts[]",
                                       &counts->ptr [i], &st->counts [i])))
            return rc;
        if (st->le_ms [i] <= (i? st->le_ms [i - 1]: 0)
        ||  st->counts [i] < (i? st->counts [i - 1]: 0)
        ||  st->counts [i] > st->registered - st->never) {
            ts_errf (dec->err, "field 'stats.staleness': item %u: le_ms must "
                     "go up from above 0, counts never go down nor pass "
                     "registered - never", (unsigned) i);
            return TS_EPROTO;
        }
    }
    return 0;
}

//  "stats": every counter and "workers" are required.
static int
s_decode_stats (ts_proto_dec_t *dec, const msgpack_object *obj, ts_msg_t *self)
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
    int rc = ts_proto_get_record (dec, "stats", obj, keys, 10, val);
    if (rc)
        return rc;
    char field [64];
    for (int i = 0; i < 8; i++) {
        snprintf (field, sizeof (field), "stats.%s", keys [i]);
        if ((rc = ts_proto_get_uint64 (dec, field, val [i], counters [i])))
            return rc;
    }
    if ((rc = ts_proto_get_int64 (dec, "stats.oldest_age_ms", val [8],
                           &stats->oldest_age_ms)))
        return rc;
    const msgpack_object_array *array = NULL;
    if ((rc = ts_proto_get_array (dec, "stats.workers", val [9],
                           TS_PROTO_MAX_WORKERS, &array)))
        return rc;
    stats->workers = calloc (ts_proto_capacity (array->size),
                             sizeof (ts_worker_stat_t));
    if (!stats->workers)
        return TS_ENOMEM;
    for (uint32_t i = 0; i < array->size; i++) {
        if ((rc = s_decode_worker (dec, i, &array->ptr [i],
                                   &stats->workers [i])))
            return rc;
        stats->workers_n = i + 1;
    }
    //  Optional: its own record, so a duplicate is refused there too.
    static const char *const more [] = { "staleness" };
    const msgpack_object *staleness = NULL;
    for (uint32_t i = 0; i < obj->via.map.size && rc == 0; i++) {
        const msgpack_object *key = &obj->via.map.ptr [i].key;
        if (key->type == MSGPACK_OBJECT_STR
        &&  key->via.str.size == strlen (more [0])
        &&  memcmp (key->via.str.ptr, more [0], key->via.str.size) == 0) {
            if (staleness) {
                ts_errf (dec->err, "field 'stats': duplicate key '%s'",
                         more [0]);
                return TS_EPROTO;
            }
            staleness = &obj->via.map.ptr [i].val;
        }
    }
    if (staleness) {
        if ((rc = s_decode_staleness (dec, staleness, &stats->staleness)))
            return rc;
        stats->has_staleness = true;
    }
    self->has_stats = true;
    return 0;
}

static int
s_decode_dlq_entry (ts_proto_dec_t *dec, uint32_t index,
                    const msgpack_object *obj, ts_dlq_entry_t *entry)
{
    static const char *const keys [] = {
        "job", "ids", "receives", "dead_at", "error"
    };
    const msgpack_object *val [5];
    char name [32], field [48];
    snprintf (name, sizeof (name), "dlq[%u]", (unsigned) index);
    int rc = ts_proto_get_record (dec, name, obj, keys, 5, val);
    if (rc)
        return rc;
    snprintf (field, sizeof (field), "%s.job", name);
    if ((rc = ts_proto_get_uint64 (dec, field, val [0], &entry->job)))
        return rc;
    entry->ids = ts_strlist_new ();
    if (!entry->ids)
        return TS_ENOMEM;
    snprintf (field, sizeof (field), "%s.ids", name);
    if ((rc = ts_proto_get_ids (dec, field, val [1], 1, entry->ids)))
        return rc;
    snprintf (field, sizeof (field), "%s.receives", name);
    if ((rc = ts_proto_get_uint32 (dec, field, val [2], &entry->receives)))
        return rc;
    snprintf (field, sizeof (field), "%s.dead_at", name);
    if ((rc = ts_proto_get_int64 (dec, field, val [3], &entry->dead_at_ms)))
        return rc;
    snprintf (field, sizeof (field), "%s.error", name);
    return ts_proto_get_text (dec, field, val [4], entry->error,
                       sizeof (entry->error), true);
}

//  "dlq": an array of entries, each with every field.
static int
s_decode_dlq (ts_proto_dec_t *dec, const msgpack_object *obj, ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = ts_proto_get_array (dec, "dlq", obj, TS_PROTO_MAX_DLQ, &array);
    if (rc)
        return rc;
    self->dlq = calloc (ts_proto_capacity (array->size),
                        sizeof (ts_dlq_entry_t));
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

static int
s_decode_state (ts_proto_dec_t *dec, uint32_t index, const msgpack_object *obj,
                ts_job_info_t *info)
{
    static const char *const keys [] = {
        "job", "state", "receives", "error"
    };
    const msgpack_object *val [4];
    char name [32], field [48];
    snprintf (name, sizeof (name), "states[%u]", (unsigned) index);
    int rc = ts_proto_get_record (dec, name, obj, keys, 4, val);
    if (rc)
        return rc;
    snprintf (field, sizeof (field), "%s.job", name);
    if ((rc = ts_proto_get_uint64 (dec, field, val [0], &info->job)))
        return rc;
    snprintf (field, sizeof (field), "%s.state", name);
    char state [16];
    if ((rc = ts_proto_get_text (dec, field, val [1], state, sizeof (state),
                          true)))
        return rc;
    int found = -1;
    for (int i = 0; i < TS_JOB_STATUS_COUNT_; i++)
        if (strcmp (state, ts_proto_status_names [i]) == 0)
            found = i;
    if (found < 0) {
        ts_errf (dec->err, "field '%s': unknown state", field);
        return TS_EPROTO;
    }
    info->status = (ts_job_status_t) found;
    snprintf (field, sizeof (field), "%s.receives", name);
    if ((rc = ts_proto_get_uint32 (dec, field, val [2], &info->receives)))
        return rc;
    snprintf (field, sizeof (field), "%s.error", name);
    return ts_proto_get_text (dec, field, val [3], info->error,
                       sizeof (info->error), true);
}

//  "states": an array of job states, each with every field.
static int
s_decode_states (ts_proto_dec_t *dec, const msgpack_object *obj,
                 ts_msg_t *self)
{
    const msgpack_object_array *array = NULL;
    int rc = ts_proto_get_array (dec, "states", obj, TS_PROTO_MAX_JOBS,
                                 &array);
    if (rc)
        return rc;
    self->states = calloc (ts_proto_capacity (array->size),
                           sizeof (ts_job_info_t));
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

int
ts_proto_decode_reply (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc;
    int64_t status;
    if ((rc = ts_proto_get_int64 (dec, "status", dec->field [F_STATUS],
                                  &status)))
        return rc;
    if (status < TS_PROTO_MIN_STATUS || status > TS_PROTO_MAX_STATUS) {
        ts_errf (dec->err, "field 'status': %lld is not in %d..%d",
                 (long long) status, TS_PROTO_MIN_STATUS, TS_PROTO_MAX_STATUS);
        return TS_EPROTO;
    }
    self->status = (int) status;
    const msgpack_object *obj;
    if ((obj = dec->field [F_ERROR])
    &&  (rc = ts_proto_get_text (dec, "error", obj, self->error,
                          sizeof (self->error), false)))
        return rc;
    if ((obj = dec->field [F_DETAIL])
    &&  (rc = ts_proto_get_text (dec, "detail", obj, self->detail,
                          sizeof (self->detail), true)))
        return rc;
    if ((obj = dec->field [F_COUNT])
    &&  (rc = ts_proto_get_uint64 (dec, "count", obj, &self->count)))
        return rc;
    if ((obj = dec->field [F_RETRY_AFTER])
    &&  (rc = ts_proto_get_uint64 (dec, "retry_after_ms", obj,
                                   &self->retry_after_ms)))
        return rc;
    if ((obj = dec->field [F_IDS])
    &&  (rc = ts_proto_get_ids (dec, "ids", obj, 0, self->ids)))
        return rc;
    if ((obj = dec->field [F_SOURCES])
    &&  (rc = ts_proto_get_ids (dec, "sources", obj, 0, self->sources)))
        return rc;
    if (self->sources->n && self->sources->n != self->ids->n) {
        ts_errf (dec->err, "field 'sources': %zu names for %zu ids",
                 self->sources->n, self->ids->n);
        return TS_EPROTO;
    }
    if ((obj = dec->field [F_STATS])
    &&  (rc = s_decode_stats (dec, obj, self)))
        return rc;
    if ((obj = dec->field [F_DLQ])
    &&  (rc = s_decode_dlq (dec, obj, self)))
        return rc;
    if ((obj = dec->field [F_NEXT])
    &&  (rc = ts_proto_get_name (dec, "next", obj, self->next)))
        return rc;
    if ((obj = dec->field [F_JOBS])
    &&  (rc = ts_proto_get_jobs (dec, "jobs", obj, 0, self)))
        return rc;
    if ((obj = dec->field [F_STATES])
    &&  (rc = s_decode_states (dec, obj, self)))
        return rc;
    if ((rc = ts_proto_decode_ids (dec, self)))
        return rc;
    if ((obj = dec->field [F_STEP_MS])
    &&  (rc = ts_proto_get_int64 (dec, "step_ms", obj, &self->step_ms)))
        return rc;
    if ((rc = ts_proto_decode_agg_fill (dec, self)))
        return rc;
    if ((rc = ts_proto_decode_fresh (dec, self)))
        return rc;
    if (dec->field [F_MEASURES] || dec->field [F_HISTORY]
    ||  dec->field [F_FORECAST] || dec->field [F_BASELINE]
    ||  dec->field [F_ENC])
        return ts_proto_decode_series (dec, self);
    return 0;
}

//  ---------------------------------------------------------------------
//  Client requests

size_t
ts_proto_client_fields (const ts_msg_t *self)
{
    switch (self->op) {
        case TS_OP_QUERY:
            return 1 + (self->has_from? 1: 0) + (self->has_to? 1: 0)
                     + (self->measure [0] || self->measures->n > 1? 1: 0)
                     + (self->step_ms? 1: 0) + (self->agg? 1: 0)
                     + (self->max_points? 1: 0) + (self->fill? 1: 0)
                     + (self->limit? 1: 0) + (self->next [0]? 1: 0)
                     + (self->enc != TS_ENC_COLUMNS? 1: 0);
        case TS_OP_IDS_ADD:
            return 1 + (self->source [0]? 1: 0);
        case TS_OP_HYDRATE:
            return 1 + (self->priority? 1: 0)
                     + (self->skip_fetched_since_ms > 0? 1: 0);
        case TS_OP_IDS_RM:
        case TS_OP_IDS_SHOW:
        case TS_OP_JOB_STATE:
            return 1;
        case TS_OP_DLQ_REDRIVE:
            return (self->ids->n? 1: 0) + (self->jobs_n? 1: 0);
        case TS_OP_IDS_LS:
            return (self->after [0]? 1: 0) + (self->limit? 1: 0)
                 + (self->with_fetch? 1: 0);
        default:
            return 0;           //  ping, stats, dlq_ls, dlq_purge
    }
}

int
ts_proto_client_pack (msgpack_packer *pk, const ts_msg_t *self)
{
    switch (self->op) {
        case TS_OP_QUERY:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "id"));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->id));
            if (self->has_from)
                TS_PROTO_TRY (ts_proto_pack_time (pk, "from", self->from_ms,
                                           self->from_rel));
            if (self->has_to)
                TS_PROTO_TRY (ts_proto_pack_time (pk, "to", self->to_ms,
                                           self->to_rel));
            if (self->measures->n > 1) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "measure"));
                TS_PROTO_TRY (ts_proto_pack_ids (pk, self->measures));
            }
            else
            if (self->measure [0]) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "measure"));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->measure));
            }
            TS_PROTO_TRY (ts_proto_pack_query_options (pk, self));
            if (self->enc != TS_ENC_COLUMNS) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "enc"));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk,
                                                  ts_enc_name (self->enc)));
            }
            break;
        case TS_OP_IDS_ADD:
        case TS_OP_HYDRATE:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
            TS_PROTO_TRY (ts_proto_pack_ids (pk, self->ids));
            if (self->op == TS_OP_IDS_ADD && self->source [0]) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "source"));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->source));
            }
            if (self->op == TS_OP_HYDRATE && self->priority) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "priority"));
                TS_PROTO_TRY (msgpack_pack_true (pk));
            }
            if (self->op == TS_OP_HYDRATE && self->skip_fetched_since_ms > 0) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "skip_fetched_since"));
                TS_PROTO_TRY (msgpack_pack_int64 (pk,
                                                  self->skip_fetched_since_ms));
            }
            break;
        case TS_OP_DLQ_REDRIVE:
            if (self->ids->n) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "ids"));
                TS_PROTO_TRY (ts_proto_pack_ids (pk, self->ids));
            }
            if (self->jobs_n) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "jobs"));
                TS_PROTO_TRY (ts_proto_pack_jobs (pk, self));
            }
            break;
        case TS_OP_IDS_RM:
        case TS_OP_IDS_SHOW:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "id"));
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->id));
            break;
        case TS_OP_IDS_LS:
            if (self->after [0]) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "after"));
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, self->after));
            }
            if (self->limit) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "limit"));
                TS_PROTO_TRY (msgpack_pack_uint32 (pk, self->limit));
            }
            if (self->with_fetch) {
                TS_PROTO_TRY (ts_proto_pack_cstr (pk, "fetch"));
                TS_PROTO_TRY (msgpack_pack_true (pk));
            }
            break;
        case TS_OP_JOB_STATE:
            TS_PROTO_TRY (ts_proto_pack_cstr (pk, "jobs"));
            TS_PROTO_TRY (ts_proto_pack_jobs (pk, self));
            break;
        default:
            break;
    }
    return 0;
nomem:
    return -1;
}

int
ts_proto_client_decode (ts_proto_dec_t *dec, ts_msg_t *self)
{
    int rc = 0;
    const msgpack_object *obj;
    switch (self->op) {
        case TS_OP_QUERY:
            if (!(obj = ts_proto_field (dec, F_ID, true, &rc)))
                return rc;
            if ((rc = ts_proto_get_name (dec, "id", obj, self->id)))
                return rc;
            if ((rc = ts_proto_decode_query (dec, self)))
                return rc;
            if ((obj = dec->field [F_ENC]))
                rc = ts_proto_get_enc (dec, obj, &self->enc);
            return rc;
        case TS_OP_IDS_ADD:
        case TS_OP_HYDRATE:
            if (!(obj = ts_proto_field (dec, F_IDS, true, &rc)))
                return rc;
            if ((rc = ts_proto_get_ids (dec, "ids", obj, 1, self->ids)))
                return rc;
            if (self->op == TS_OP_IDS_ADD && (obj = dec->field [F_SOURCE]))
                rc = ts_proto_get_name (dec, "source", obj, self->source);
            if (self->op == TS_OP_HYDRATE && (obj = dec->field [F_PRIORITY])) {
                if (obj->type != MSGPACK_OBJECT_BOOLEAN)
                    return ts_proto_type_error (dec, "priority", "a boolean",
                                                obj);
                self->priority = obj->via.boolean;
            }
            if (self->op == TS_OP_HYDRATE
            &&  (obj = dec->field [F_SKIP_FETCHED_SINCE])) {
                //  Epoch ms; 0 means none, as when absent.
                if ((rc = ts_proto_get_int64 (dec, "skip_fetched_since", obj,
                                              &self->skip_fetched_since_ms)))
                    return rc;
                if (self->skip_fetched_since_ms < 0) {
                    ts_errf (dec->err, "field 'skip_fetched_since': epoch "
                             "ms, not negative");
                    return TS_EPROTO;
                }
            }
            return rc;
        case TS_OP_IDS_RM:
        case TS_OP_IDS_SHOW:
            if (!(obj = ts_proto_field (dec, F_ID, true, &rc)))
                return rc;
            return ts_proto_get_name (dec, "id", obj, self->id);
        case TS_OP_DLQ_REDRIVE:
            //  ids, or jobs (numbers), or neither (every entry).
            if ((obj = dec->field [F_IDS])
            &&  (rc = ts_proto_get_ids (dec, "ids", obj, 0, self->ids)))
                return rc;
            if ((obj = dec->field [F_JOBS])
            &&  (rc = ts_proto_get_jobs (dec, "jobs", obj, 0, self)))
                return rc;
            if (self->ids->n && self->jobs_n) {
                ts_errf (dec->err, "fields 'ids' and 'jobs': give one of "
                         "them, not both");
                return TS_EPROTO;
            }
            return 0;
        case TS_OP_IDS_LS:
            if ((obj = dec->field [F_AFTER])
            &&  (rc = ts_proto_get_name (dec, "after", obj, self->after)))
                return rc;
            if ((obj = dec->field [F_LIMIT])) {
                if ((rc = ts_proto_get_uint32 (dec, "limit", obj,
                                               &self->limit)))
                    return rc;
                if (self->limit < 1 || self->limit > TS_PROTO_IDS_PAGE) {
                    ts_errf (dec->err, "field 'limit': %u is not in 1..%d",
                             (unsigned) self->limit, TS_PROTO_IDS_PAGE);
                    return TS_EPROTO;
                }
            }
            if ((obj = dec->field [F_FETCH])) {
                if (obj->type != MSGPACK_OBJECT_BOOLEAN)
                    return ts_proto_type_error (dec, "fetch", "a boolean",
                                                obj);
                self->with_fetch = obj->via.boolean;
            }
            return 0;
        case TS_OP_JOB_STATE:
            if (!(obj = ts_proto_field (dec, F_JOBS, true, &rc)))
                return rc;
            return ts_proto_get_jobs (dec, "jobs", obj, 1, self);
        default:
            return 0;           //  ping, stats, dlq_ls, dlq_purge: no
                                //  fields
    }
}
