/*  ts_broker_schedule - the broker's scheduler: one schedule per source,
    each with its next fire time; a source's tick queues that source's
    ids. Part of ts_broker (ts_broker_internal.h).

    A source's schedule is its upstream.schedule, or broker.schedule when
    that is "" ("off" in either: never); its shift is an offset
    (upstream.schedule_offset_s, -1 meaning broker.schedule_offset_s)
    plus a spread of up to upstream.schedule_jitter_s (-1: the broker's)
    that is a hash of the source's name (ts_cron_spread_ms). Fire times
    are the expression's times plus the shift (ts_cron_next_shifted), so
    every broker and every restart agrees on them, and sources on one
    schedule fire apart. The forms of an expression are in ts_cron.h.

    The schedules are an array, one per source, read from the config at
    start and again on a reload that changed any schedule key (a
    schedule that fails to parse keeps the old array whole; a change of
    sources: itself needs a restart, ts_config.h). The config's sources
    are views (ts_config_source_at) whose upstream.* keys are the
    source's: with upstream: alone, one source "default".

    A source's tick reads the registry a page at a time
    (ts_store_ids_page_status) and queues the ids registered to that
    source (the first source's: those registered without one), but those
    whose upstream 404 is negatively cached (not_found_until in their
    fetch status, upstream.not_found_ttl_s; read with the page),
    broker.ids_per_job per job, the jobs sharing one request id
    "tick-<hex>" and carrying the source. If the broker was busy past
    several fire times of a source, it ticks once and goes on from now.
    Without any schedule on, the broker opens no store.

    For tests only: TSCACHE_TEST_SCHEDULE_SPEEDUP=N (2-3600) runs the
    scheduler's clock N times faster than the wall clock, from the whole
    minute before the broker started (logged at warn), so that a test
    sees minutes of schedule in seconds. Everything else (leases,
    retries, heartbeats) keeps the wall clock. */

#include "ts_broker_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TICK_PAGE       1000        //  ids read from the store at a time
                                    //  by a tick (rounded to whole jobs)
#define SPEEDUP_ENV     "TSCACHE_TEST_SCHEDULE_SPEEDUP"
#define SPEEDUP_MAX     3600

//  ---------------------------------------------------------------------
//  The scheduler's clock (sped up for tests only)

static int64_t
s_clock (const ts_broker_t *self, int64_t wall_ms)
{
    if (self->sched_speedup <= 1)
        return wall_ms;
    return self->sched_anchor_ms
         + (wall_ms - self->sched_anchor_ms) * self->sched_speedup;
}

//  The wall time at which the scheduler's clock reaches at_ms (rounded
//  up, so that the clock has got there when the broker wakes).
static int64_t
s_wall (const ts_broker_t *self, int64_t at_ms)
{
    if (self->sched_speedup <= 1 || at_ms < 0)
        return at_ms;
    int64_t since = at_ms - self->sched_anchor_ms;
    return self->sched_anchor_ms
         + (since + self->sched_speedup - 1) / self->sched_speedup;
}

static void
s_speedup_read (ts_broker_t *self)
{
    self->sched_speedup = 1;
    const char *text = getenv (SPEEDUP_ENV);
    if (!text || !*text)
        return;
    char *end = NULL;
    long n = strtol (text, &end, 10);
    if (*end || n < 2 || n > SPEEDUP_MAX) {
        ts_warn ("%s=%s: not 2-%d, ignored", SPEEDUP_ENV, text, SPEEDUP_MAX);
        return;
    }
    self->sched_speedup = n;
    self->sched_anchor_ms = ts_now_ms () / 60000 * 60000;
    char when [40];
    ts_warn ("%s=%ld: FOR TESTS ONLY, the scheduler's clock runs %ld times "
             "as fast from %s", SPEEDUP_ENV, n, n,
             ts_time_format (self->sched_anchor_ms, when, sizeof when));
}

//  ---------------------------------------------------------------------
//  Reading the schedules from the config

//  A source's schedule from its view (upstream.* keys: the source's),
//  the broker.* keys as defaults. Returns 0, or TS_ECONFIG with the key
//  and reason in err.
static int
s_resolve (const ts_config_t *source, ts_broker_schedule_t *out, char *err)
{
    const char *name = ts_config_source_name (source);
    memset (out, 0, sizeof *out);
    ts_strlcpy (out->source, name, sizeof out->source);
    const char *key = NULL;
    const char *expr = ts_config_source_schedule (source, &key);
    ts_strlcpy (out->expr, expr, sizeof out->expr);
    out->on = *expr && strcmp (expr, "off") != 0;
    out->next_ms = -1;
    char detail [TS_ERRLEN];
    if (out->on && ts_cron_parse (&out->cron, expr, detail)) {
        ts_errf (err, "source %s: %s: %s", name, key, detail);
        return TS_ECONFIG;
    }
    out->shift_ms = ts_config_source_shift_ms (source);
    return 0;
}

//  Reads every source's schedule into a new array (*list, *n). Returns
//  0, or a TS_E* code with err filled (nothing allocated).
static int
s_read (const ts_config_t *cfg, ts_broker_schedule_t **list, size_t *n,
        char *err)
{
    size_t count = ts_config_source_count (cfg);
    ts_broker_schedule_t *array = calloc (count? count: 1, sizeof *array);
    if (!array) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        int rc = s_resolve (ts_config_source_at (cfg, i), &array [i], err);
        if (rc) {
            free (array);
            return rc;
        }
    }
    *list = array;
    *n = count;
    return 0;
}

static bool
s_any_on (const ts_broker_schedule_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list [i].on)
            return true;
    return false;
}

//  The next fire times from now, each schedule on, logged with prefix.
static void
s_plan (ts_broker_t *self, const char *prefix)
{
    int64_t now = s_clock (self, ts_now_ms ());
    for (size_t i = 0; i < self->schedules_n; i++) {
        ts_broker_schedule_t *sched = &self->schedules [i];
        sched->next_ms = sched->on? ts_cron_next_shifted (&sched->cron, now,
                                                          sched->shift_ms)
                                  : -1;
        char when [40];
        if (sched->on)
            ts_info ("%sscheduler on, next tick at %s (source %s, "
                     "schedule %s, shift %" PRId64 " ms)", prefix,
                     sched->next_ms < 0? "(never)"
                     : ts_time_format (sched->next_ms, when, sizeof when),
                     sched->source, sched->expr, sched->shift_ms);
        else
            ts_info ("%sscheduler off (source %s)", prefix, sched->source);
    }
}

int
ts_broker_schedule_open (ts_broker_t *self, char *err)
{
    s_speedup_read (self);
    char detail [TS_ERRLEN];
    if (s_read (self->cfg, &self->schedules, &self->schedules_n, detail)) {
        ts_errf (err, "%s", detail);
        return TS_ECONFIG;
    }
    s_plan (self, "");
    //  The registry: the ticks and the staleness sweep read it.
    if (s_any_on (self->schedules, self->schedules_n)
    &&  !(self->store = ts_store_new (self->cfg, err)))
        return TS_EBACKEND;
    return 0;
}

void
ts_broker_schedule_close (ts_broker_t *self)
{
    free (self->schedules);
    self->schedules = NULL;
    self->schedules_n = 0;
}

void
ts_broker_schedule_describe (ts_broker_t *self, char *buf, size_t size)
{
    size_t used = 0;
    buf [0] = '\0';
    for (size_t i = 0; i < self->schedules_n && used < size; i++) {
        const ts_broker_schedule_t *sched = &self->schedules [i];
        int n = snprintf (buf + used, size - used, "%s%s: %s", i? ", ": "",
                          sched->source, sched->on? sched->expr: "off");
        if (n < 0)
            break;
        used += (size_t) n;
    }
}

//  ---------------------------------------------------------------------
//  Ticks

//  Keeps the k-th listed id's not_found_until (ts_store_ids_page_status).
static int
s_not_found_of (void *arg, size_t k, const ts_store_status_t *status,
                char *err)
{
    int64_t *not_found = arg;
    (void) err;
    not_found [k] = status->not_found_until_ms;
    return 0;
}

//  Queues every id registered to the source at index, reading the
//  registry a page at a time so that neither the read nor the memory
//  grows with the registry. The jobs carry the source ("" for the
//  first, as a hydrate's). An id whose upstream answered 404 is left
//  out until its not_found_until (wall clock, whatever the test
//  speed-up): a hydrate still fetches it.
static void
s_tick (ts_broker_t *self, size_t index)
{
    const ts_broker_schedule_t *sched = &self->schedules [index];
    char due [40];
    ts_time_format (sched->next_ms, due, sizeof due);
    ts_strlist_t *ids = ts_strlist_new ();
    ts_strlist_t *sources = ts_strlist_new ();
    ts_strlist_t *mine = ts_strlist_new ();
    char err [TS_ERRLEN];
    size_t page = self->ids_per_job >= TICK_PAGE? self->ids_per_job
                : TICK_PAGE / self->ids_per_job * self->ids_per_job;
    int64_t *not_found = malloc (page * sizeof *not_found);
    if (!ids || !sources || !mine || !not_found) {
        ts_error ("tick: source %s: cannot list ids: out of memory",
                  sched->source);
        goto done;
    }
    char after [TS_NAME_MAX + 1] = "";
    //  The tick's jobs share a request id, as a hydrate's do.
    char rid [5 + TS_RID_MAX + 1] = "tick-";
    ts_rid_new (rid + 5);
    ts_queue_attrs_t attrs = { .rid = rid,
                               .source = index? sched->source: "" };
    size_t total = 0, skipped = 0;
    int jobs = 0;
    bool more = true;
    int64_t now = ts_now_ms ();
    while (more) {
        ts_strlist_clear (ids);
        ts_strlist_clear (sources);
        ts_strlist_clear (mine);
        if (ts_store_ids_page_status (self->store, after, page, ids,
                                      sources, s_not_found_of, not_found,
                                      &more, err)) {
            ts_error ("tick: source %s: cannot list ids after '%s': %s",
                      sched->source, after, err);
            break;
        }
        for (size_t k = 0; k < ids->n; k++) {
            if (!ts_broker_source_is (self, k < sources->n
                                            ? sources->items [k]: NULL,
                                      index? sched->source: NULL))
                continue;
            if (not_found [k] > now) {
                skipped++;
                continue;
            }
            if (ts_strlist_append (mine, ids->items [k])) {
                ts_error ("tick: source %s: out of memory", sched->source);
                more = false;
                break;
            }
        }
        int queued = ts_broker_enqueue_attrs (self, mine, &attrs, err);
        if (queued < 0) {
            ts_error ("tick: source %s: cannot queue jobs: %s",
                      sched->source, err);
            break;
        }
        jobs += queued;
        total += mine->n;
        if (ids->n)
            ts_strlcpy (after, ids->items [ids->n - 1], sizeof after);
    }
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_STR ("source", sched->source),
               TS_LF_STR ("due", due), TS_LF_UINT ("ids", total),
               TS_LF_INT ("jobs", jobs), TS_LF_UINT ("not_found", skipped),
               TS_LF_STR ("rid", rid)),
               "tick: %zu ids, %d jobs queued%s", total, jobs,
               skipped? ", ids with a cached upstream 404 left out": "");
done:
    ts_strlist_destroy (&ids);
    ts_strlist_destroy (&sources);
    ts_strlist_destroy (&mine);
    free (not_found);
}

void
ts_broker_schedule_step (ts_broker_t *self, int64_t wall_ms)
{
    int64_t now = s_clock (self, wall_ms);
    for (size_t i = 0; i < self->schedules_n; i++) {
        ts_broker_schedule_t *sched = &self->schedules [i];
        if (!sched->on || sched->next_ms < 0 || now < sched->next_ms)
            continue;
        s_tick (self, i);
        sched->next_ms = ts_cron_next_shifted (&sched->cron, now,
                                               sched->shift_ms);
    }
}

int64_t
ts_broker_schedule_due (ts_broker_t *self)
{
    int64_t first = -1;
    for (size_t i = 0; i < self->schedules_n; i++) {
        const ts_broker_schedule_t *sched = &self->schedules [i];
        if (sched->on && sched->next_ms >= 0
        &&  (first < 0 || sched->next_ms < first))
            first = sched->next_ms;
    }
    return s_wall (self, first);
}

//  ---------------------------------------------------------------------
//  Reload

bool
ts_broker_schedule_key (const char *key)
{
    return strncmp (key, "broker.schedule", 15) == 0
        || strncmp (key, "upstream.schedule", 17) == 0;
}

int
ts_broker_schedule_apply (ts_broker_t *self, const ts_strlist_t *applied)
{
    bool changed = false;
    for (size_t i = 0; i < applied->n; i++)
        changed |= ts_broker_schedule_key (applied->items [i]);
    if (!changed)
        return 0;
    char err [TS_ERRLEN];
    ts_broker_schedule_t *list = NULL;
    size_t n = 0;
    //  The config was checked as a whole; a schedule that still fails
    //  here keeps the old ones.
    if (s_read (self->cfg, &list, &n, err)) {
        ts_error ("reload: %s; keeping the old schedules", err);
        return TS_ECONFIG;
    }
    if (s_any_on (list, n) && !self->store
    &&  !(self->store = ts_store_new (self->cfg, err))) {
        ts_error ("reload: schedule: cannot open the registry: %s; the "
                  "scheduler stays off", err);
        free (list);
        return TS_EBACKEND;
    }
    free (self->schedules);
    self->schedules = list;
    self->schedules_n = n;
    s_plan (self, "reload: ");
    return 0;
}
