/*  ts_queue - in-memory job queue with leases, dedup and attempts.
    See ts_queue.h.

    Jobs live in one hash by job id. Queued jobs also sit on a doubly
    linked FIFO list, leased jobs on a second list (in lease order). A
    second hash maps every queued or leased series id to its job, which
    is what makes dedup O(1). */

#include "ts_queue.h"
#include "ts_log.h"

#include <czmq.h>
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct _s_entry_t s_entry_t;
struct _s_entry_t {
    ts_job_t   job;             //  what callers see (first member)
    char      *owner;           //  owned copy of the owner tag, or NULL
    bool       leased;          //  on the leased list, else queued list
    s_entry_t *prev;            //  neighbours on its list
    s_entry_t *next;
};

typedef struct {
    s_entry_t *head;            //  oldest
    s_entry_t *tail;            //  newest
    size_t     size;
} s_list_t;

struct _ts_queue_t {
    uint32_t   max_attempts;    //  leases before a job is dropped
    int64_t    lease_ms;        //  length of a lease
    uint64_t   next_id;         //  id of the next job pushed
    zhashx_t  *jobs;            //  "job id" -> s_entry_t, owns entries
    zhashx_t  *ids;             //  series id -> s_entry_t (borrowed)
    s_list_t   queued;          //  FIFO of queued jobs
    s_list_t   leased;          //  leased jobs, oldest lease first
    uint64_t   done;            //  counters, see ts_queue_stats_t
    uint64_t   failed;
    uint64_t   dropped;
};

static void
s_entry_free (s_entry_t **self_p)
{
    if (*self_p) {
        s_entry_t *self = *self_p;
        ts_strlist_destroy (&self->job.ids);
        free (self->owner);
        free (self);
        *self_p = NULL;
    }
}

static void
s_entry_destructor (void **item)
{
    s_entry_free ((s_entry_t **) item);
}

static void
s_key (uint64_t job_id, char *buf, size_t size)
{
    snprintf (buf, size, "%" PRIu64, job_id);
}

static void
s_list_append (s_list_t *list, s_entry_t *e)
{
    e->next = NULL;
    e->prev = list->tail;
    if (list->tail)
        list->tail->next = e;
    else
        list->head = e;
    list->tail = e;
    list->size++;
}

static void
s_list_prepend (s_list_t *list, s_entry_t *e)
{
    e->prev = NULL;
    e->next = list->head;
    if (list->head)
        list->head->prev = e;
    else
        list->tail = e;
    list->head = e;
    list->size++;
}

static void
s_list_remove (s_list_t *list, s_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        list->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        list->tail = e->prev;
    e->prev = e->next = NULL;
    list->size--;
}

ts_queue_t *
ts_queue_new (uint32_t max_attempts, int64_t lease_ms)
{
    assert (max_attempts >= 1);
    assert (lease_ms > 0);
    ts_queue_t *self = calloc (1, sizeof (ts_queue_t));
    if (!self)
        return NULL;
    self->max_attempts = max_attempts;
    self->lease_ms = lease_ms;
    self->next_id = 1;
    self->jobs = zhashx_new ();
    self->ids = zhashx_new ();
    if (!self->jobs || !self->ids) {
        ts_queue_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->jobs, s_entry_destructor);
    return self;
}

void
ts_queue_destroy (ts_queue_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_queue_t *self = *self_p;
        zhashx_destroy (&self->ids);
        zhashx_destroy (&self->jobs);
        free (self);
        *self_p = NULL;
    }
}

static s_entry_t *
s_find (ts_queue_t *self, uint64_t job_id)
{
    char key [24];
    s_key (job_id, key, sizeof key);
    return (s_entry_t *) zhashx_lookup (self->jobs, key);
}

//  Forgets the job: unlinks it, frees its ids from the dedup set.
static void
s_forget (ts_queue_t *self, s_entry_t *e)
{
    s_list_remove (e->leased? &self->leased: &self->queued, e);
    for (size_t i = 0; i < e->job.ids->n; i++)
        zhashx_delete (self->ids, e->job.ids->items [i]);
    char key [24];
    s_key (e->job.id, key, sizeof key);
    zhashx_delete (self->jobs, key);        //  frees e
}

int
ts_queue_push (ts_queue_t *self, const char *const *ids, size_t n,
               int64_t now_ms, uint64_t *job_id)
{
    assert (self);
    if (job_id)
        *job_id = 0;
    s_entry_t *e = calloc (1, sizeof (s_entry_t));
    if (!e || !(e->job.ids = ts_strlist_new ())) {
        free (e);
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (zhashx_lookup (self->ids, ids [i])
        ||  ts_strlist_contains (e->job.ids, ids [i]))
            continue;
        if (ts_strlist_append (e->job.ids, ids [i]) != 0) {
            s_entry_free (&e);
            return TS_ENOMEM;
        }
    }
    size_t count = e->job.ids->n;
    if (count == 0) {
        s_entry_free (&e);
        return 0;
    }
    e->job.id = self->next_id++;
    char key [24];
    s_key (e->job.id, key, sizeof key);
    if (zhashx_insert (self->jobs, key, e) != 0) {
        s_entry_free (&e);
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < count; i++)
        zhashx_insert (self->ids, e->job.ids->items [i], e);
    s_list_append (&self->queued, e);
    if (job_id)
        *job_id = e->job.id;
    return (int) count;
}

int
ts_queue_lease (ts_queue_t *self, const char *owner, int64_t now_ms,
                const ts_job_t **job)
{
    assert (self);
    assert (owner);
    s_entry_t *e = self->queued.head;
    if (!e)
        return TS_ENOTFOUND;
    char *copy = strdup (owner);
    if (!copy)
        return TS_ENOMEM;
    s_list_remove (&self->queued, e);
    free (e->owner);
    e->owner = copy;
    e->job.owner = copy;
    e->job.attempts++;
    e->job.deadline_ms = now_ms + self->lease_ms;
    e->leased = true;
    s_list_append (&self->leased, e);
    if (job)
        *job = &e->job;
    return 0;
}

//  Takes a leased job back to the queued state, at the tail or head.
static void
s_requeue (ts_queue_t *self, s_entry_t *e, bool at_head)
{
    s_list_remove (&self->leased, e);
    free (e->owner);
    e->owner = NULL;
    e->job.owner = NULL;
    e->job.deadline_ms = 0;
    e->leased = false;
    if (at_head)
        s_list_prepend (&self->queued, e);
    else
        s_list_append (&self->queued, e);
}

static void
s_fail (ts_queue_t *self, s_entry_t *e, const char *detail)
{
    self->failed++;
    if (e->job.attempts < self->max_attempts) {
        ts_debug ("job %" PRIu64 " attempt %u failed: %s", e->job.id,
                  e->job.attempts, detail? detail: "");
        s_requeue (self, e, false);
        return;
    }
    char list [512] = "";
    size_t used = 0;
    for (size_t i = 0; i < e->job.ids->n && used < sizeof list - 1; i++) {
        int rc = snprintf (list + used, sizeof list - used, "%s%s",
                           i? ",": "", e->job.ids->items [i]);
        if (rc < 0)
            break;
        used += (size_t) rc;
    }
    ts_error ("job %" PRIu64 " ids=%s dropped after %u attempts: %s",
              e->job.id, list, e->job.attempts, detail? detail: "");
    self->dropped++;
    s_forget (self, e);
}

int
ts_queue_ack (ts_queue_t *self, uint64_t job_id)
{
    assert (self);
    s_entry_t *e = s_find (self, job_id);
    if (!e || !e->leased)
        return TS_ENOTFOUND;
    self->done++;
    s_forget (self, e);
    return 0;
}

int
ts_queue_nack (ts_queue_t *self, uint64_t job_id, const char *detail,
               int64_t now_ms)
{
    assert (self);
    s_entry_t *e = s_find (self, job_id);
    if (!e || !e->leased)
        return TS_ENOTFOUND;
    s_fail (self, e, detail);
    return 0;
}

int
ts_queue_unlease (ts_queue_t *self, uint64_t job_id)
{
    assert (self);
    s_entry_t *e = s_find (self, job_id);
    if (!e || !e->leased)
        return TS_ENOTFOUND;
    if (e->job.attempts > 0)
        e->job.attempts--;
    s_requeue (self, e, true);
    return 0;
}

size_t
ts_queue_release_owner (ts_queue_t *self, const char *owner, int64_t now_ms)
{
    assert (self);
    assert (owner);
    size_t count = 0;
    s_entry_t *e = self->leased.head;
    while (e) {
        s_entry_t *next = e->next;
        if (strcmp (e->owner, owner) == 0) {
            s_fail (self, e, "worker lost");
            count++;
        }
        e = next;
    }
    return count;
}

size_t
ts_queue_expire (ts_queue_t *self, int64_t now_ms)
{
    assert (self);
    size_t count = 0;
    s_entry_t *e = self->leased.head;
    while (e) {
        s_entry_t *next = e->next;
        if (e->job.deadline_ms <= now_ms) {
            s_fail (self, e, "lease expired");
            count++;
        }
        e = next;
    }
    return count;
}

const ts_job_t *
ts_queue_lookup (ts_queue_t *self, uint64_t job_id)
{
    assert (self);
    s_entry_t *e = s_find (self, job_id);
    return e? &e->job: NULL;
}

int64_t
ts_queue_next_deadline (ts_queue_t *self)
{
    assert (self);
    int64_t next = -1;
    for (s_entry_t *e = self->leased.head; e; e = e->next)
        if (next < 0 || e->job.deadline_ms < next)
            next = e->job.deadline_ms;
    return next;
}

void
ts_queue_stats (ts_queue_t *self, ts_queue_stats_t *stats)
{
    assert (self);
    assert (stats);
    stats->queued = self->queued.size;
    stats->leased = self->leased.size;
    stats->done = self->done;
    stats->failed = self->failed;
    stats->dropped = self->dropped;
}
