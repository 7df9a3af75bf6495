/*  ts_queue_job - the job value of the queue (ts_job_t in ts_queue.h):
    making, copying, freeing and printing one, and its place in a
    backend's time order (ts_queue_place). Pure: no backend, no clock. */

#include "ts_queue.h"
#include "ts_queue_backend.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_job_t *
ts_job_new (void)
{
    ts_job_t *self = calloc (1, sizeof *self);
    if (self && !(self->ids = ts_strlist_new ())) {
        free (self);
        self = NULL;
    }
    return self;
}

void
ts_job_destroy (ts_job_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_job_t *self = *self_p;
        ts_strlist_destroy (&self->ids);
        free (self);
        *self_p = NULL;
    }
}

int
ts_job_copy (ts_job_t *dst, const ts_job_t *src)
{
    assert (dst && dst->ids);
    assert (src && src->ids);
    if (dst == src)
        return 0;
    ts_strlist_t *ids = dst->ids;
    ts_strlist_clear (ids);
    for (size_t i = 0; i < src->ids->n; i++)
        if (ts_strlist_append (ids, src->ids->items [i]) != 0)
            return TS_ENOMEM;
    *dst = *src;
    dst->ids = ids;
    return 0;
}

char *
ts_job_ids_text (const ts_job_t *self, char *buf, size_t size)
{
    assert (self && buf && size >= 4);
    size_t used = 0;
    buf [0] = 0;
    for (size_t i = 0; i < self->ids->n; i++) {
        int rc = snprintf (buf + used, size - used, "%s%s", i? ",": "",
                           self->ids->items [i]);
        if (rc < 0 || (size_t) rc >= size - used) {
            memcpy (buf + size - 4, "...", 4);
            break;
        }
        used += (size_t) rc;
    }
    return buf;
}

ts_queue_place_t
ts_queue_place (const ts_job_t *job)
{
    ts_queue_place_t place = { job->state, job->visible_at_ms };
    if (job->state == TS_JOB_LEASED)
        place.time_ms = job->deadline_ms;
    else
    if (job->state == TS_JOB_DEAD)
        place.time_ms = job->dead_at_ms;
    return place;
}
