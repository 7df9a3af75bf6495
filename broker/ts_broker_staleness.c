/*  ts_broker_staleness - how long ago each registered id was last
    fetched, as a histogram of ages for stats (docs/protocol.md 5.17,
    docs/metrics.md). Part of ts_broker (ts_broker_internal.h).

    A sweep walks the registry a page at a time, one page per
    housekeeping wake (every second): broker.staleness_ids_per_s ids read
    from the store (ts_store_ids_page) and looked up in the queue's table
    of last fetches (ts_queue_last_fetch, kept by every ack). When the
    walk reaches the end, the histogram it built becomes the one stats
    answers, and a new sweep starts. So the cost per wake is bounded
    whatever the registry holds (10,000 ids: a few milliseconds with
    LMDB), memory is one histogram, and with 1,000,000 ids a figure is at
    most about 100 s old at the default. 0 turns it off. It needs the
    registry, which the broker opens for its scheduler: with
    broker.schedule "off" there is no sweep. The same walk counts the
    registered ids with a backfill pending and the chunks they have left
    (their fill records, ts_broker_backfill_sweep). */

#include "ts_broker_internal.h"

#include <string.h>

//  Upper bounds of the ages, ms: 1 min, 5 min, 15 min, 1 h, 6 h, 1 d,
//  7 d.
static const int64_t s_bounds_ms [] = {
    60000, 300000, 900000, 3600000, 21600000, 86400000, 604800000
};
#define S_BOUNDS (sizeof s_bounds_ms / sizeof s_bounds_ms [0])

int
ts_broker_staleness_open (ts_broker_t *self, char *err)
{
    self->stale_page = (size_t) ts_config_int (self->cfg,
                                               "broker.staleness_ids_per_s");
    if (self->stale_page == 0)
        return 0;
    self->stale_ids = ts_strlist_new ();
    self->stale_times = calloc (self->stale_page, sizeof (int64_t));
    self->stale_fills = calloc (self->stale_page, sizeof (ts_fill_t));
    if (!self->stale_ids || !self->stale_times || !self->stale_fills) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    return 0;
}

void
ts_broker_staleness_close (ts_broker_t *self)
{
    ts_strlist_destroy (&self->stale_ids);
    free (self->stale_times);
    self->stale_times = NULL;
    free (self->stale_fills);
    self->stale_fills = NULL;
}

//  Counts the ages of the page's ids into the sweep's histogram (counts
//  per bucket, made cumulative at the end).
static void
s_count (ts_broker_t *self, int64_t now_ms)
{
    ts_staleness_t *sweep = &self->stale_sweep;
    for (size_t i = 0; i < self->stale_ids->n; i++) {
        int64_t at = self->stale_times [i];
        sweep->registered++;
        if (at <= 0) {
            sweep->never++;
            continue;
        }
        int64_t age = now_ms > at? now_ms - at: 0;
        if (age > sweep->max_age_ms)
            sweep->max_age_ms = age;
        for (size_t b = 0; b < S_BOUNDS; b++)
            if (age <= s_bounds_ms [b]) {
                sweep->counts [b]++;
                break;
            }
    }
}

void
ts_broker_staleness_step (ts_broker_t *self)
{
    if (self->stale_page == 0 || !self->store)
        return;
    char err [TS_ERRLEN];
    bool more = false;
    int64_t now = ts_now_ms ();
    ts_strlist_clear (self->stale_ids);
    int rc = ts_store_ids_page (self->store, self->stale_after,
                                self->stale_page, self->stale_ids, &more,
                                err);
    if (rc == 0)
        rc = ts_queue_last_fetch (self->queue, (const char *const *)
                                  self->stale_ids->items, self->stale_ids->n,
                                  self->stale_times, err);
    if (rc == 0)
        rc = ts_queue_fill_get (self->queue, (const char *const *)
                                self->stale_ids->items, self->stale_ids->n,
                                self->stale_fills, NULL, err);
    if (rc) {
        //  Start again next time; the last finished sweep stays.
        ts_warn ("staleness: cannot read the registry, the last fetches "
                 "or the fill records after '%s': %s", self->stale_after,
                 err);
        self->stale_after [0] = 0;
        memset (&self->stale_sweep, 0, sizeof self->stale_sweep);
        memset (self->backfill_sweep, 0, sizeof self->backfill_sweep);
        return;
    }
    s_count (self, now);
    ts_broker_backfill_sweep (self, self->stale_fills, self->stale_ids->n,
                              !more);
    if (self->stale_ids->n)
        ts_strlcpy (self->stale_after,
                    self->stale_ids->items [self->stale_ids->n - 1],
                    sizeof self->stale_after);
    if (more)
        return;
    ts_staleness_t *sweep = &self->stale_sweep;
    sweep->at_ms = now;
    sweep->n = S_BOUNDS;
    for (size_t b = 0; b < S_BOUNDS; b++) {
        sweep->le_ms [b] = s_bounds_ms [b];
        if (b > 0)
            sweep->counts [b] += sweep->counts [b - 1];
    }
    self->staleness = *sweep;
    self->has_staleness = true;
    memset (sweep, 0, sizeof *sweep);
    self->stale_after [0] = 0;
}
