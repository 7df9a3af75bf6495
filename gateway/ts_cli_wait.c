/*  ts_cli_wait - the account "tscache hydrate --wait" keeps of its ids and
    their jobs. See ts_cli_wait.h.

    The ids are sorted and made unique once; the distinct jobs are kept
    sorted by job id with their last known state, and each id points at
    its job, so an answer about m jobs costs m binary searches and an id
    becomes stored exactly once, when its job first reads "done". */

#include "ts_cli_wait.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *id;             //  borrowed from the request's list
    size_t      job;            //  index into jobs
} s_id_t;

struct _ts_cli_wait_t {
    s_id_t        *ids;         //  distinct ids, ascending
    size_t         ids_n;
    ts_job_info_t *jobs;        //  distinct jobs, ascending by job id,
                                //  with their last known state
    size_t         jobs_n;
    size_t         stored;      //  ids whose job is done
    const ts_job_info_t *failed;    //  first job dead or unknown, or NULL
};

static int
s_id_order (const void *a, const void *b)
{
    return strcmp (((const s_id_t *) a)->id, ((const s_id_t *) b)->id);
}

static int
s_job_order (const void *a, const void *b)
{
    uint64_t x = ((const ts_job_info_t *) a)->job;
    uint64_t y = ((const ts_job_info_t *) b)->job;
    return x < y? -1: x > y;
}

//  Index of job in self->jobs, or jobs_n if it is not there.
static size_t
s_find (const ts_cli_wait_t *self, uint64_t job)
{
    ts_job_info_t key = { .job = job };
    const ts_job_info_t *found = bsearch (&key, self->jobs, self->jobs_n,
                                          sizeof key, s_job_order);
    return found? (size_t) (found - self->jobs): self->jobs_n;
}

ts_cli_wait_t *
ts_cli_wait_new (const ts_strlist_t *ids, const ts_msg_t *reply, char *err)
{
    assert (ids && reply);
    if (reply->jobs_n != ids->n) {
        ts_errf (err, "the hydrate answer names %zu jobs for %zu ids (a "
                 "broker that does not report jobs cannot be waited for)",
                 reply->jobs_n, ids->n);
        return NULL;
    }
    for (size_t i = 0; i < ids->n; i++)
        if (reply->jobs [i] == 0) {
            ts_errf (err, "the hydrate answer names no job for id '%s'",
                     ids->items [i]);
            return NULL;
        }
    ts_cli_wait_t *self = calloc (1, sizeof *self);
    s_id_t *pairs = calloc (ids->n + 1, sizeof (s_id_t));
    if (self) {
        self->ids = calloc (ids->n + 1, sizeof (s_id_t));
        self->jobs = calloc (ids->n + 1, sizeof (ts_job_info_t));
    }
    if (!self || !pairs || !self->ids || !self->jobs) {
        free (pairs);
        ts_cli_wait_destroy (&self);
        ts_errf (err, "out of memory");
        return NULL;
    }
    //  Distinct jobs, each first taken as queued.
    for (size_t i = 0; i < ids->n; i++) {
        self->jobs [i].job = reply->jobs [i];
        self->jobs [i].status = TS_JOB_STATUS_QUEUED;
    }
    qsort (self->jobs, ids->n, sizeof (ts_job_info_t), s_job_order);
    for (size_t i = 0; i < ids->n; i++)
        if (self->jobs_n == 0
        ||  self->jobs [self->jobs_n - 1].job != self->jobs [i].job)
            self->jobs [self->jobs_n++] = self->jobs [i];
    //  Distinct ids, each pointing at its job.
    for (size_t i = 0; i < ids->n; i++) {
        pairs [i].id = ids->items [i];
        pairs [i].job = s_find (self, reply->jobs [i]);
    }
    qsort (pairs, ids->n, sizeof (s_id_t), s_id_order);
    for (size_t i = 0; i < ids->n; i++)
        if (self->ids_n == 0
        ||  strcmp (self->ids [self->ids_n - 1].id, pairs [i].id) != 0)
            self->ids [self->ids_n++] = pairs [i];
    free (pairs);
    return self;
}

void
ts_cli_wait_destroy (ts_cli_wait_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_cli_wait_t *self = *self_p;
        free (self->ids);
        free (self->jobs);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_finished (ts_job_status_t status)
{
    return status == TS_JOB_STATUS_DONE || status == TS_JOB_STATUS_DEAD
        || status == TS_JOB_STATUS_UNKNOWN;
}

int
ts_cli_wait_request (ts_cli_wait_t *self, ts_msg_t *req)
{
    assert (self && req);
    ts_msg_reset (req, TS_OP_JOB_STATE);
    for (size_t j = 0; j < self->jobs_n; j++)
        if (!s_finished (self->jobs [j].status)
        &&  ts_msg_add_job (req, self->jobs [j].job))
            return TS_ENOMEM;
    return 0;
}

int
ts_cli_wait_update (ts_cli_wait_t *self, const ts_msg_t *reply,
                    ts_cli_wait_fn *stored, void *arg, char *err)
{
    assert (self && reply);
    if (!reply->has_states) {
        ts_errf (err, "the job_state answer carries no states");
        return TS_EPROTO;
    }
    for (size_t s = 0; s < reply->states_n; s++) {
        const ts_job_info_t *info = &reply->states [s];
        size_t j = s_find (self, info->job);
        if (j == self->jobs_n || s_finished (self->jobs [j].status))
            continue;               //  not ours, or settled already
        self->jobs [j] = *info;
        if (info->status == TS_JOB_STATUS_DONE) {
            for (size_t i = 0; i < self->ids_n; i++)
                if (self->ids [i].job == j) {
                    self->stored++;
                    if (stored)
                        stored (self->ids [i].id, arg);
                }
        }
        else
        if (s_finished (info->status) && !self->failed)
            self->failed = &self->jobs [j];
    }
    return 0;
}

size_t
ts_cli_wait_total (const ts_cli_wait_t *self)
{
    return self->ids_n;
}

size_t
ts_cli_wait_stored (const ts_cli_wait_t *self)
{
    return self->stored;
}

const ts_job_info_t *
ts_cli_wait_failed (const ts_cli_wait_t *self)
{
    return self->failed;
}

char *
ts_cli_wait_ids (const ts_cli_wait_t *self, uint64_t job, char *buf,
                 size_t size)
{
    assert (size >= 32);
    size_t used = 0;
    size_t listed = 0, wanted = 0;
    buf [0] = 0;
    for (size_t i = 0; i < self->ids_n; i++) {
        const ts_job_info_t *info = &self->jobs [self->ids [i].job];
        bool pending = job == 0 && info->status != TS_JOB_STATUS_DONE;
        if (!pending && info->job != job)
            continue;
        wanted++;
        char item [TS_NAME_MAX + 64];
        if (job)
            snprintf (item, sizeof item, "%s", self->ids [i].id);
        else
            snprintf (item, sizeof item, "%s (job %llu %s)",
                      self->ids [i].id, (unsigned long long) info->job,
                      ts_job_status_name (info->status));
        //  Room for this item, its separator and a "+N more" tail
        size_t len = strlen (item);
        if (listed == wanted - 1 && used + len + 2 + 24 < size) {
            used += (size_t) snprintf (buf + used, size - used, "%s%s",
                                       used? ", ": "", item);
            listed++;
        }
    }
    if (listed < wanted)
        snprintf (buf + used, size - used, "%s+%zu more", used? ", ": "",
                  wanted - listed);
    return buf;
}

int
ts_cli_wait_json (const ts_cli_wait_t *self, ts_json_t *json)
{
    ts_json_raw (json, "{\"total\":");
    ts_json_uint (json, self->ids_n);
    ts_json_raw (json, ",\"stored\":");
    ts_json_uint (json, self->stored);
    ts_json_raw (json, ",\"ids\":[");
    for (size_t i = 0; i < self->ids_n; i++) {
        ts_json_raw (json, i? ",{\"id\":": "{\"id\":");
        ts_json_str (json, self->ids [i].id);
        ts_json_raw (json, ",");
        ts_json_job_fields (json, &self->jobs [self->ids [i].job]);
        ts_json_raw (json, "}");
    }
    ts_json_raw (json, "]}");
    return ts_json_failed (json)? TS_ENOMEM: 0;
}
